/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Busmaster log files (Busmaster 3.x). We read them ourselves: wiretap 4.0's
 * Busmaster scanner ends the whole process on some malformed header lines
 * (found by fuzz_reader; tshark dies the same way). tests/test_crosscheck.c
 * holds this parser to wiretap's reading of a valid log. Examples:
 *
 *   ***BUSMASTER Ver 3.2.2***
 *   ***PROTOCOL CAN***
 *   ***START DATE AND TIME 21:11:2026 10:0:0:000***    day:month:year h:m:s:ms
 *   ***HEX***                                          or ***DEC***
 *   ***SYSTEM MODE***              time of day; ABSOLUTE: since start; RELATIVE: delta
 *   10:0:0:1200 Tx 1 0x7E0 s 8 02 10 03 CC CC CC CC CC
 *   10:0:0:1254 Rx 1 0x18DAF110 x-fd 12 02 50 ...     types s, x, sr, xr, s-fd, x-fd
 *   10:0:0:1300 Rx 1 0 ERROR_FRAME                    an error frame
 *
 * The last time field counts tenths of a millisecond. The DLC is always
 * decimal; ids and data bytes follow HEX / DEC.
 */
#include "lexer.h"
#include "uf_capture.h"

#include <ctype.h>
#include <string.h>

/* A decimal or hex number, with an optional 0x prefix (which forces hex). */
static bool number(const char *t, size_t n, unsigned base, uint64_t max, uint64_t *out)
{
    if (n >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        return lex_number(t + 2, n - 2, 16, max, out);
    return lex_number(t, n, base, max, out);
}

/* "a:b:c:d" with `parts` decimal fields. */
static bool colon_fields(const char *t, size_t n, uint64_t *out, int parts)
{
    int k = 0;
    const char *start = t, *end = t + n;
    for (const char *p = t; p <= end; p++) {
        if (p == end || *p == ':') {
            if (k == parts || !number(start, (size_t)(p - start), 10, 99999999, &out[k]))
                return false;
            k++;
            start = p + 1;
        }
    }
    return k == parts;
}

void uf_busmaster_init(uf_busmaster_state *st)
{
    memset(st, 0, sizeof(*st));
    st->last = UF_TIME_NONE;
}

/* The text between "***" and "***". */
static uf_line_result parse_header(uf_busmaster_state *st, const char *t, size_t n,
                                   const char **why)
{
    while (n > 0 && isspace((unsigned char)t[n - 1]))
        n--;
    if (n < 6 || memcmp(t + n - 3, "***", 3) != 0) {
        *why = "header line (\"***...\") that does not end with \"***\"";
        return UF_LINE_BAD;
    }
    const char *body = t + 3;
    size_t len = n - 6;
#define IS(s) (len == sizeof(s) - 1 && memcmp(body, s, len) == 0)
    if (IS("HEX"))
        st->dec = false;
    else if (IS("DEC"))
        st->dec = true;
    else if (IS("SYSTEM MODE"))
        st->mode = UF_BUSMASTER_SYSTEM;
    else if (IS("ABSOLUTE MODE"))
        st->mode = UF_BUSMASTER_ABSOLUTE;
    else if (IS("RELATIVE MODE"))
        st->mode = UF_BUSMASTER_RELATIVE;
#undef IS
    static const char start[] = "START DATE AND TIME ";
    if (len > sizeof(start) - 1 && memcmp(body, start, sizeof(start) - 1) == 0) {
        lex_cursor c = {body + sizeof(start) - 1, body + len};
        const char *d, *h;
        size_t dn = lex_token(&c, &d), hn = lex_token(&c, &h);
        uint64_t date[3], tod[4];
        if (!colon_fields(d, dn, date, 3) || !colon_fields(h, hn, tod, 4) || date[1] < 1 ||
            date[1] > 12 || date[0] < 1 || date[0] > 31 || date[2] < 1970 || date[2] > 2261 ||
            tod[0] > 23 || tod[1] > 59 || tod[2] > 60 || tod[3] > 999) {
            *why = "START DATE AND TIME is not \"day:month:year h:m:s:ms\"";
            return UF_LINE_BAD;
        }
        int64_t days = lex_days_from_civil((int64_t)date[2], (unsigned)date[1], (unsigned)date[0]);
        st->day = days * 86400 * UF_NS_PER_S;
        st->start = st->day + (int64_t)((tod[0] * 3600 + tod[1] * 60 + tod[2]) * 1000 + tod[3]) *
                                  UF_NS_PER_MS;
    }
    return UF_LINE_IGNORED;
}

static uf_time message_time(uf_busmaster_state *st, const uint64_t f[4])
{
    uf_time t = (uf_time)((f[0] * 3600 + f[1] * 60 + f[2]) * 10000 + f[3]) * 100 * UF_NS_PER_US;
    switch (st->mode) {
    case UF_BUSMASTER_SYSTEM: {
        uf_time abs = uf_time_add(st->day, t);
        /* Time of day: a logging session may run past midnight. */
        while (st->last != UF_TIME_NONE && abs < st->last - 12 * 3600 * UF_NS_PER_S)
            abs = uf_time_add(abs, 86400 * UF_NS_PER_S);
        return abs;
    }
    case UF_BUSMASTER_ABSOLUTE:
        return uf_time_add(st->start, t);
    case UF_BUSMASTER_RELATIVE:
        return uf_time_add(st->last == UF_TIME_NONE ? st->start : st->last, t);
    }
    return t;
}

uf_line_result uf_busmaster_parse_line(uf_busmaster_state *st, const char *line, size_t len,
                                       uf_can_frame *frame, uf_time *time, const char **why)
{
    memset(frame, 0, sizeof(*frame));
    *time = UF_TIME_NONE;
    lex_cursor c = lex_line(line, len);
    lex_skip_space(&c);
    if (c.p == c.end)
        return UF_LINE_IGNORED;
    if ((size_t)(c.end - c.p) >= 3 && memcmp(c.p, "***", 3) == 0)
        return parse_header(st, c.p, (size_t)(c.end - c.p), why);

    const char *t;
    size_t n = lex_token(&c, &t);
    uint64_t tf[4];
    if (!colon_fields(t, n, tf, 4) || tf[0] > 23 || tf[1] > 59 || tf[2] > 60 || tf[3] > 9999) {
        *why = "line does not start with a time \"h:m:s:tenths-of-ms\"";
        return UF_LINE_BAD;
    }
    n = lex_token(&c, &t);
    if (n == 2 && (t[0] == 'R' || t[0] == 'T') && t[1] == 'x')
        frame->flags |= t[0] == 'T' ? UF_CAN_DIR_TX : UF_CAN_DIR_RX;
    else
        return UF_LINE_IGNORED; /* J1939 and LIN lines put other fields here */
    uint64_t ch, id;
    n = lex_token(&c, &t);
    if (!number(t, n, 10, 0xFFFF, &ch)) {
        *why = "channel is not a number";
        return UF_LINE_BAD;
    }
    st->channel = (uint32_t)ch;
    n = lex_token(&c, &t);
    if (!number(t, n, st->dec ? 10 : 16, UF_CAN_EFF_MASK, &id)) {
        *why = "CAN id is not a number";
        return UF_LINE_BAD;
    }
    frame->id = (uint32_t)id;
    n = lex_token(&c, &t);
    if (n >= 3 && memcmp(t, "ERR", 3) == 0) {
        frame->flags |= UF_CAN_ERR;
        frame->id = 0;
        *time = message_time(st, tf);
        st->last = *time;
        return UF_LINE_FRAME;
    }
    static const struct {
        const char *name;
        uint32_t flags;
    } types[] = {{"s", 0},
                 {"x", UF_CAN_EFF},
                 {"sr", UF_CAN_RTR},
                 {"xr", UF_CAN_EFF | UF_CAN_RTR},
                 {"s-fd", UF_CAN_FD},
                 {"x-fd", UF_CAN_EFF | UF_CAN_FD}};
    size_t k = 0;
    while (k < UF_ARRAY_LEN(types) && !(strlen(types[k].name) == n && memcmp(types[k].name, t, n) == 0))
        k++;
    if (k == UF_ARRAY_LEN(types)) {
        *why = "message type is not s, x, sr, xr, s-fd or x-fd";
        return UF_LINE_BAD;
    }
    frame->flags |= types[k].flags;
    if (!(frame->flags & UF_CAN_EFF) && id > UF_CAN_SFF_MASK) {
        *why = "an 11-bit (\"s\") message with an id above 0x7FF";
        return UF_LINE_BAD;
    }
    uint64_t dlc;
    n = lex_token(&c, &t);
    bool fd = (frame->flags & UF_CAN_FD) != 0;
    if (!number(t, n, 10, 64, &dlc) || (!fd && dlc > 8) ||
        (fd && !uf_can_len_is_valid_fd((uint8_t)dlc))) {
        *why = "data length is not a valid CAN / CAN FD length";
        return UF_LINE_BAD;
    }
    frame->len = (uint8_t)dlc;
    if (!(frame->flags & UF_CAN_RTR)) {
        for (uint64_t i = 0; i < dlc; i++) {
            uint64_t b;
            n = lex_token(&c, &t);
            if (!number(t, n, st->dec ? 10 : 16, 0xFF, &b)) {
                *why = n ? "data byte is not a number" : "fewer data bytes than the length";
                return UF_LINE_BAD;
            }
            frame->data[i] = (uint8_t)b;
        }
    }
    *time = message_time(st, tf);
    st->last = *time;
    return UF_LINE_FRAME;
}
