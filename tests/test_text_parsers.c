/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * candump and Vector ASC line parsers, with the examples of their headers.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static uf_line_result cd(const char *line, uf_candump_line *out)
{
    const char *why = NULL;
    uf_line_result r = uf_candump_parse_line(line, strlen(line), out, &why);
    if (r == UF_LINE_BAD)
        cr_assert_not_null(why);
    return r;
}

Test(candump, log_lines)
{
    uf_candump_line l;
    cr_assert_eq(cd("(1436509052.249713) can0 7E0#0210030000000000", &l), UF_LINE_FRAME);
    cr_assert_eq(l.time, INT64_C(1436509052249713000));
    cr_assert_str_eq(l.iface, "can0");
    cr_assert_eq(l.frame.id, 0x7E0);
    cr_assert_eq(l.frame.len, 8);
    cr_assert_eq(cd("(1436509052.249713) can0 18DA10F1#021003", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_EFF);
    cr_assert_eq(l.frame.len, 3);
    cr_assert_eq(cd("(1.5) vcan0 7E0#R3", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_RTR);
    cr_assert_eq(l.frame.len, 3);
    cr_assert_eq(cd("(1.5) vcan0 7E0##3021003", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_FD);
    cr_assert(l.frame.flags & UF_CAN_BRS);
    cr_assert(l.frame.flags & UF_CAN_ESI);
    cr_assert_eq(l.frame.len, 3);
    cr_assert_eq(cd("(1.5) can0 7E0#1122334455667788_C", &l), UF_LINE_FRAME);
    cr_assert_eq(l.frame.len, 8);
    cr_assert_eq(cd("(1.5) can0 20000080#0000000000000000", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_ERR);
    cr_assert_eq(l.frame.id, 0x80);
    cr_assert_eq(cd("(1.5) can0 7E0#021003 T", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_DIR_TX);
    cr_assert_eq(cd("(1.5) can0 7E0#02.10.03 R", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_DIR_RX);
    cr_assert_eq(l.frame.len, 3);
}

Test(candump, console_lines)
{
    uf_candump_line l;
    cr_assert_eq(cd("  can0  7E0   [8]  02 10 03 00 00 00 00 00", &l), UF_LINE_FRAME);
    cr_assert_eq(l.time, UF_TIME_NONE);
    cr_assert_eq(l.frame.len, 8);
    cr_assert_eq(l.frame.data[1], 0x10);
    cr_assert_eq(cd("  can0  18DAF110  [12]  02 50 01 00 00 00 00 00 00 00 00 00", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_FD);
    cr_assert(l.frame.flags & UF_CAN_EFF);
    cr_assert_eq(cd("(1436509052.249713)  can0  7E0   [3]  02 10 03", &l), UF_LINE_FRAME);
    cr_assert_neq(l.time, UF_TIME_NONE);
    cr_assert_eq(cd("  can0  7E0   [3]  remote request", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_RTR);
    cr_assert_eq(cd("  vcan0  TX B -  7E0  [08]  02 10 03 00 00 00 00 00", &l), UF_LINE_FRAME);
    cr_assert(l.frame.flags & UF_CAN_BRS);
    cr_assert_eq(cd("\tcontroller-problem{rx-error-warning}", &l), UF_LINE_IGNORED);
    cr_assert_eq(cd("", &l), UF_LINE_IGNORED);
}

Test(candump, bad_lines)
{
    uf_candump_line l;
    cr_assert_eq(cd("(1.5) can0 7E0#02100", &l), UF_LINE_BAD);          /* odd hex */
    cr_assert_eq(cd("(1.5) can0 7E#0210", &l), UF_LINE_BAD);            /* 2-digit id */
    cr_assert_eq(cd("(1.5) can0 800#0210", &l), UF_LINE_BAD);           /* > 0x7FF */
    cr_assert_eq(cd("(1.5) can0 7E0#112233445566778899", &l), UF_LINE_BAD); /* 9 bytes */
    cr_assert_eq(cd("(1.5) can0 7E0##31122334455667788990011", &l), UF_LINE_BAD); /* FD len 11 */
    cr_assert_eq(cd("(abc) can0 7E0#00", &l), UF_LINE_BAD);
    cr_assert_eq(cd("can0 7E0#00", &l), UF_LINE_BAD);                     /* log without time */
    cr_assert_eq(cd("  can0  7E0   [8]  02 10", &l), UF_LINE_BAD);       /* missing bytes */
    cr_assert_eq(cd("(1.5) can0 7E0#0210 X", &l), UF_LINE_BAD);
}

static uf_line_result asc(uf_asc_state *st, const char *line, uf_can_frame *f, uf_time *t)
{
    const char *why = NULL;
    uf_line_result r = uf_asc_parse_line(st, line, strlen(line), f, t, &why);
    if (r == UF_LINE_BAD)
        cr_assert_not_null(why);
    return r;
}

Test(asc, header_and_classic_frames)
{
    uf_asc_state st;
    uf_asc_init(&st);
    uf_can_frame f;
    uf_time t;
    cr_assert_eq(asc(&st, "date Wed Jun 15 10:13:46.250 am 2022", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(st.start, INT64_C(1655288026250) * UF_NS_PER_MS);
    cr_assert_eq(asc(&st, "base hex  timestamps absolute", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(asc(&st, "   0.000000 Start of measurement", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(asc(&st, "   0.010200 1  7E0             Rx   d 8 02 10 03 00 00 00 00 00  "
                          "Length = 227910 BitCount = 118 ID = 2016", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(f.id, 0x7E0);
    cr_assert_eq(f.len, 8);
    cr_assert_eq(t, st.start + 10200 * UF_NS_PER_US);
    cr_assert(f.flags & UF_CAN_DIR_RX);
    cr_assert_eq(asc(&st, "   0.010400 2  18DA10F1x       Tx   d 3 02 10 03", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_EFF);
    cr_assert_eq(st.channel, 2);
    cr_assert_eq(asc(&st, "   0.010500 1  7E0             Rx   r 8", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_RTR);
    cr_assert_eq(asc(&st, "   0.010600 1  ErrorFrame", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_ERR);
    cr_assert_eq(asc(&st, "   0.5 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%", &f, &t),
                 UF_LINE_IGNORED);
    cr_assert_eq(asc(&st, "   0.6 1  7E0             Rx   d 8 02 10", &f, &t), UF_LINE_BAD);
}

Test(asc, can_fd_lines)
{
    uf_asc_state st;
    uf_asc_init(&st);
    uf_can_frame f;
    uf_time t;
    cr_assert_eq(asc(&st, "   0.020000 CANFD   1 Rx        7e8                 1 0 9 12 "
                          "02 50 02 00 32 01 F4 AA AA AA AA AA   130000  130  303000 b0000200 "
                          "46500250 4b280150 20011736 2001040d", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_FD);
    cr_assert(f.flags & UF_CAN_BRS);
    cr_assert_eq(f.len, 12);
    cr_assert_eq(f.data[1], 0x50);
    cr_assert_eq(asc(&st, "   0.020000 CANFD   2 Tx  18daf110x  EngineData  0 1 8 8 "
                          "02 50 02 00 32 01 F4 AA 0 0", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_ESI);
    cr_assert(f.flags & UF_CAN_EFF);
    cr_assert_eq(asc(&st, "   0.02 CANFD   1 Rx  7e8  1 0 9 13 00", &f, &t), UF_LINE_BAD);
}

Test(asc, decimal_base_and_relative_timestamps)
{
    uf_asc_state st;
    uf_asc_init(&st);
    uf_can_frame f;
    uf_time t;
    asc(&st, "base dec  timestamps relative", &f, &t);
    cr_assert(st.base_dec);
    cr_assert(st.relative);
    cr_assert_eq(asc(&st, "   1.000000 1  2016  Tx   d 2 2 16", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(f.id, 2016);
    cr_assert_eq(f.data[1], 16);
    cr_assert_eq(t, 1 * UF_NS_PER_S);
    cr_assert_eq(asc(&st, "   0.250000 1  2024  Rx   d 1 81", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(t, 1250 * UF_NS_PER_MS);
}

static uf_line_result bm(uf_busmaster_state *st, const char *line, uf_can_frame *f, uf_time *t)
{
    const char *why = NULL;
    uf_line_result r = uf_busmaster_parse_line(st, line, strlen(line), f, t, &why);
    if (r == UF_LINE_BAD)
        cr_assert_not_null(why);
    return r;
}

Test(busmaster, header_and_messages)
{
    uf_busmaster_state st;
    uf_busmaster_init(&st);
    uf_can_frame f;
    uf_time t;
    cr_assert_eq(bm(&st, "***BUSMASTER Ver 3.2.2***", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(bm(&st, "***START DATE AND TIME 21:11:2026 10:0:0:000***", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(st.start, INT64_C(1795255200) * UF_NS_PER_S);
    cr_assert_eq(bm(&st, "***HEX***", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(bm(&st, "***SYSTEM MODE***", &f, &t), UF_LINE_IGNORED);
    cr_assert_eq(bm(&st, "10:0:0:1200 Tx 1 0x7E0 s 8 02 10 03 CC CC CC CC CC", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(f.id, 0x7E0);
    cr_assert_eq(f.len, 8);
    cr_assert_eq(f.data[1], 0x10);
    cr_assert(f.flags & UF_CAN_DIR_TX);
    cr_assert_eq(t, st.start + 120 * UF_NS_PER_MS);
    cr_assert_eq(bm(&st, "10:0:0:1254 Rx 2 0x18DAF110 x-fd 12 02 50 01 00 00 00 00 00 00 00 00 00",
                    &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_EFF);
    cr_assert(f.flags & UF_CAN_FD);
    cr_assert_eq(f.len, 12);
    cr_assert_eq(st.channel, 2);
    cr_assert_eq(bm(&st, "10:0:0:1300 Rx 1 0x7E8 sr 3", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_RTR);
    cr_assert_eq(bm(&st, "10:0:0:1301 Rx 1 0 ERROR_FRAME", &f, &t), UF_LINE_FRAME);
    cr_assert(f.flags & UF_CAN_ERR);
    /* Past midnight, the time of day starts again. */
    cr_assert_eq(bm(&st, "23:59:59:9999 Rx 1 0x7E8 s 1 01", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(bm(&st, "0:0:0:0001 Rx 1 0x7E8 s 1 01", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(t, st.start + 14 * 3600 * UF_NS_PER_S + 100 * UF_NS_PER_US);
}

Test(busmaster, decimal_and_relative_modes)
{
    uf_busmaster_state st;
    uf_busmaster_init(&st);
    uf_can_frame f;
    uf_time t;
    bm(&st, "***START DATE AND TIME 1:1:2024 0:0:0:000***", &f, &t);
    bm(&st, "***DEC***", &f, &t);
    bm(&st, "***RELATIVE MODE***", &f, &t);
    cr_assert_eq(bm(&st, "0:0:1:0000 Rx 1 2016 s 2 2 16", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(f.id, 2016);
    cr_assert_eq(f.data[1], 16);
    cr_assert_eq(t, st.start + UF_NS_PER_S);
    cr_assert_eq(bm(&st, "0:0:0:0005 Rx 1 2024 s 1 81", &f, &t), UF_LINE_FRAME);
    cr_assert_eq(t, st.start + UF_NS_PER_S + 500 * UF_NS_PER_US);
}

Test(busmaster, bad_lines)
{
    uf_busmaster_state st;
    uf_busmaster_init(&st);
    uf_can_frame f;
    uf_time t;
    /* This one made wiretap 4.0 end the process. */
    cr_assert_eq(bm(&st, "***BUSMASTERRx 1 0x7E8 s 8 30 10 01 AA AA AA AA AA", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "***START DATE AND TIME 32:13:2026 10:0:0:000***", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0 Tx 1 0x7E0 s 8", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 Tx 1 0x7E0 q 1 00", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 Tx 1 0x800 s 1 00", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 Tx 1 0x7E0 s 9 00", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 Tx 1 0x7E0 s-fd 13 00", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 Tx 1 0x7E0 s 2 00", &f, &t), UF_LINE_BAD);
    cr_assert_eq(bm(&st, "10:0:0:1 1 0x7E0 61184 DATA 1 2 3 Tx 1 00", &f, &t), UF_LINE_IGNORED);
}
