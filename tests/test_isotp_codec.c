/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ISO-TP PCI codec and segmenter (ISO 15765-2:2016 9.6): every frame
 * type, the CAN FD escapes, STmin codes, and segment -> decode round trips.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static uf_pci decode(const char *hex, unsigned prefix)
{
    uint8_t b[64];
    size_t n = th_hex(hex, b, sizeof(b));
    static uint8_t keep[64];
    memcpy(keep, b, n);
    uf_pci p;
    uf_pci_decode(keep, n, prefix, &p);
    return p;
}

Test(pci, single_frame)
{
    uf_pci p = decode("02 10 03 CC CC CC CC CC", 0);
    cr_assert_eq(p.type, UF_PCI_SF);
    cr_assert_eq(p.length, 2);
    cr_assert_eq(p.payload[0], 0x10);
    cr_assert_eq(p.used, 3);
    cr_assert_null(p.problem);
}

Test(pci, single_frame_length_problems)
{
    cr_assert_not_null(decode("00 10 03", 0).problem);           /* SF_DL 0 */
    cr_assert_not_null(decode("07 10 03", 0).problem);           /* longer than the frame */
    uf_pci p = decode("12 06 50 03 00 32 01 F4", 1);             /* extended: TA 0x12 */
    cr_assert_eq(p.type, UF_PCI_SF);
    cr_assert_eq(p.length, 6);
    cr_assert_null(p.problem);
}

Test(pci, fd_single_frame_escape)
{
    char hex[200] = "00 0A";
    for (int i = 0; i < 10; i++)
        strcat(hex, " 11");
    strcat(hex, " CC CC CC CC CC CC CC CC CC CC CC CC"); /* 24-byte frame */
    uf_pci p = decode(hex, 0);
    cr_assert_eq(p.type, UF_PCI_SF);
    cr_assert(p.escape);
    cr_assert_eq(p.length, 10);
    cr_assert_null(p.problem);
    /* A frame longer than 8 bytes without the escape is invalid. */
    uf_pci q = decode("05 11 22 33 44 55 CC CC CC CC CC CC", 0);
    cr_assert_not_null(q.problem);
}

Test(pci, first_frame_and_escape)
{
    uf_pci p = decode("10 14 62 F1 90 57 56 57", 0);
    cr_assert_eq(p.type, UF_PCI_FF);
    cr_assert_eq(p.length, 20);
    cr_assert_eq(p.payload_len, 6);
    cr_assert_null(p.problem);
    uf_pci e = decode("10 00 00 01 00 00 36 01", 0); /* FF_DL 65536 */
    cr_assert(e.escape);
    cr_assert_eq(e.length, 65536);
    cr_assert_null(e.problem);
    cr_assert_not_null(decode("10 00 00 00 0F FF 36 01", 0).problem); /* escape for 4095 */
    cr_assert_not_null(decode("10 07 01 02 03 04 05 06", 0).problem); /* fits a SF */
    cr_assert_not_null(decode("10 14 62 F1 90", 0).problem);          /* short frame */
}

Test(pci, consecutive_and_flow_control)
{
    uf_pci c = decode("2F 01 02 03 04 05 06 07", 0);
    cr_assert_eq(c.type, UF_PCI_CF);
    cr_assert_eq(c.sn, 15);
    cr_assert_eq(c.payload_len, 7);
    uf_pci f = decode("31 08 F5", 0);
    cr_assert_eq(f.type, UF_PCI_FC);
    cr_assert_eq(f.fs, UF_FS_WAIT);
    cr_assert_eq(f.bs, 8);
    cr_assert_eq(f.stmin, 0xF5);
    cr_assert_eq(decode("30 08", 0).type, UF_PCI_INVALID); /* too short */
    cr_assert_eq(decode("45 00", 0).type, UF_PCI_INVALID); /* reserved type */
    cr_assert_eq(decode("", 1).type, UF_PCI_INVALID);
}

Test(pci, stmin_codes)
{
    cr_assert_eq(uf_stmin_us(0x00), 0);
    cr_assert_eq(uf_stmin_us(0x7F), 127000);
    cr_assert_eq(uf_stmin_us(0xF1), 100);
    cr_assert_eq(uf_stmin_us(0xF9), 900);
    cr_assert_eq(uf_stmin_us(0x80), 127000); /* reserved: read as 127 ms */
    cr_assert(uf_stmin_is_reserved(0xFA));
    cr_assert_not(uf_stmin_is_reserved(0xF5));
}

/* Segments a message and reassembles it with the decoder. */
static void round_trip(const uf_isotp_tx_params *p, uint32_t len)
{
    uint8_t *msg = g_malloc(len);
    for (uint32_t i = 0; i < len; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    uf_isotp_tx tx;
    uf_isotp_tx_start(&tx, p, msg, len);
    uint8_t *got = g_malloc0(len + 64);
    uint32_t have = 0, declared = 0;
    uf_can_frame f;
    unsigned prefix = uf_addressing_prefix(p->addressing);
    uint8_t sn = 1;
    while (uf_isotp_tx_next(&tx, &f)) {
        if (p->fd)
            cr_assert(uf_can_len_is_valid_fd(f.len), "length %u", f.len);
        else
            cr_assert_leq(f.len, 8);
        if (prefix)
            cr_assert_eq(f.data[0], p->addr);
        uf_pci pci;
        uf_pci_decode(f.data, f.len, prefix, &pci);
        cr_assert_null(pci.problem, "%s (len %u)", pci.problem, len);
        if (pci.type == UF_PCI_SF) {
            declared = pci.length;
            memcpy(got, pci.payload, pci.length);
            have = pci.length;
        } else if (pci.type == UF_PCI_FF) {
            declared = pci.length;
            memcpy(got, pci.payload, pci.payload_len);
            have = pci.payload_len;
        } else {
            cr_assert_eq(pci.type, UF_PCI_CF);
            cr_assert_eq(pci.sn, sn);
            sn = (sn + 1) & 0x0F;
            uint32_t take = declared - have < pci.payload_len ? declared - have : pci.payload_len;
            memcpy(got + have, pci.payload, take);
            have += take;
        }
    }
    cr_assert_eq(declared, len);
    cr_assert_eq(have, len);
    cr_assert_eq(memcmp(got, msg, len), 0);
    g_free(got);
    g_free(msg);
}

Test(segmenter, round_trips)
{
    uf_isotp_tx_params classic = {UF_ADDR_NORMAL, 0, 8, false, true, 0xCC};
    uf_isotp_tx_params ext = {UF_ADDR_EXTENDED, 0x12, 8, false, false, 0};
    uf_isotp_tx_params fd = {UF_ADDR_NORMAL_FIXED, 0, 64, true, true, 0xAA};
    uf_isotp_tx_params fd_mixed = {UF_ADDR_MIXED, 0x05, 32, true, false, 0};
    uint32_t lengths[] = {1, 6, 7, 8, 62, 63, 100, 4095, 4096, 70000};
    for (size_t i = 0; i < UF_ARRAY_LEN(lengths); i++) {
        round_trip(&classic, lengths[i]);
        round_trip(&ext, lengths[i]);
        round_trip(&fd, lengths[i]);
        round_trip(&fd_mixed, lengths[i]);
    }
}

Test(segmenter, padding_and_sf_limits)
{
    uf_isotp_tx_params classic = {UF_ADDR_NORMAL, 0, 8, false, true, 0x55};
    cr_assert_eq(uf_isotp_sf_max(&classic), 7);
    uf_isotp_tx_params fd = {UF_ADDR_NORMAL, 0, 64, true, true, 0xCC};
    cr_assert_eq(uf_isotp_sf_max(&fd), 62);
    uint8_t two[] = {0x10, 0x03};
    uf_isotp_tx tx;
    uf_can_frame f;
    uf_isotp_tx_start(&tx, &classic, two, 2);
    cr_assert(uf_isotp_tx_next(&tx, &f));
    cr_assert_eq(f.len, 8);
    cr_assert_eq(f.data[3], 0x55);
    cr_assert_not(uf_isotp_tx_next(&tx, &f));
    uf_isotp_fc_frame(&classic, UF_FS_CTS, 8, 0xF1, &f);
    cr_assert_eq(f.data[0], 0x30);
    cr_assert_eq(f.data[1], 8);
    cr_assert_eq(f.data[2], 0xF1);
    cr_assert_eq(f.len, 8);
}

Test(endpoint, names)
{
    char b[32];
    uf_isotp_endpoint a = {0, 0x7E0, -1}, e = {0, UF_ISOTP_EFF | 0x18DA10F1u, -1},
                      x = {0, 0x6F1, 0x12};
    cr_assert_str_eq(uf_isotp_endpoint_name(&a, b, sizeof(b)), "0x7E0");
    cr_assert_str_eq(uf_isotp_endpoint_name(&e, b, sizeof(b)), "0x18DA10F1");
    cr_assert_str_eq(uf_isotp_endpoint_name(&x, b, sizeof(b)), "0x6F1:12");
    uf_isotp_endpoint d = {0, UF_ISOTP_DOIP | 0x0E80u, -1}, m = {0, 0x7E0, 0xAB};
    cr_assert_str_eq(uf_isotp_endpoint_name(&d, b, sizeof(b)), "0x0E80");
    cr_assert_str_eq(uf_isotp_endpoint_name(&m, b, sizeof(b)), "0x7E0:AB");
    char cut[5] = "zzzz";
    cr_assert_str_eq(uf_isotp_endpoint_name(&x, cut, sizeof(cut)), "0x6F", "cut as snprintf cuts");
    cr_assert_neq(uf_isotp_endpoint_key(&a), uf_isotp_endpoint_key(&x));
}
