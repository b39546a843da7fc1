/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link-layer decoding: SocketCAN records in both byte orders, CAN FD by flag
 * and by record size, remote and error frames, Linux cooked captures and
 * Wireshark's exported PDUs, and malformed records.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static int decode(uint32_t linktype, const char *hex, uf_link_state *st, uf_record *rec,
                  uint32_t *ifindex, const char **why)
{
    static uint8_t buf[256];
    size_t n = th_hex(hex, buf, sizeof(buf));
    memset(rec, 0, sizeof(*rec));
    return uf_decode_link(linktype, buf, n, st, rec, ifindex, why);
}

Test(link, socketcan_big_endian)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    cr_assert_eq(decode(227, "00 00 07 E0 08 00 00 00 02 10 03 CC CC CC CC CC", &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.kind, UF_REC_CAN);
    cr_assert_eq(r.can.id, 0x7E0);
    cr_assert_eq(r.can.len, 8);
    cr_assert_eq(r.can.data[1], 0x10);
    cr_assert_eq(st.socketcan_order, UF_ID_ORDER_BIG);
    cr_assert_eq(decode(227, "98 DA 10 F1 03 00 00 00 02 10 03 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert(r.can.flags & UF_CAN_EFF);
    cr_assert_eq(r.can.id, 0x18DA10F1);
}

Test(link, socketcan_little_endian_is_detected_per_file)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    /* Written by scapy on x86: the id word in host order. */
    cr_assert_eq(decode(227, "E0 07 00 00 08 00 00 00 02 10 03 CC CC CC CC CC", &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.can.id, 0x7E0);
    cr_assert_eq(st.socketcan_order, UF_ID_ORDER_LITTLE);
    /* Locked: a later ambiguous word follows the file's order. */
    cr_assert_eq(decode(227, "00 01 00 00 01 00 00 00 11 00 00 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.can.id, 0x100);
    cr_assert_eq(decode(227, "F1 10 DA 98 01 00 00 00 11 00 00 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.can.id, 0x18DA10F1);
    cr_assert(r.can.flags & UF_CAN_EFF);
}

Test(link, palindromic_ids_do_not_lock)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    cr_assert_eq(decode(227, "00 00 00 00 01 00 00 00 11 00 00 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert_eq(st.socketcan_order, UF_ID_ORDER_UNDECIDED);
}

Test(link, can_fd_by_flag_and_by_record_size)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    char hex[400] = "00 00 07 E0 0C 07 00 00";
    for (int i = 0; i < 64; i++)
        strcat(hex, " 11");
    cr_assert_eq(decode(227, hex, &st, &r, &ifi, &why), 0);
    cr_assert(r.can.flags & UF_CAN_FD);
    cr_assert(r.can.flags & UF_CAN_BRS);
    cr_assert(r.can.flags & UF_CAN_ESI);
    cr_assert_eq(r.can.len, 12);
    /* An older writer: no FDF flag, but the 72-byte canfd_frame record. */
    memcpy(hex + 15, "00", 2); /* flags byte -> 00 */
    hex[12] = '0';
    hex[13] = '8';
    cr_assert_eq(decode(227, hex, &st, &r, &ifi, &why), 0);
    cr_assert(r.can.flags & UF_CAN_FD);
    cr_assert_eq(r.can.len, 8);
}

Test(link, remote_and_error_frames)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    cr_assert_eq(decode(227, "40 00 07 E0 03 00 00 00 00 00 00 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert(r.can.flags & UF_CAN_RTR);
    cr_assert_eq(r.can.len, 3);
    cr_assert_eq(decode(227, "20 00 00 04 08 00 00 00 00 04 00 00 00 00 00 00", &st, &r, &ifi, &why), 0);
    cr_assert(r.can.flags & UF_CAN_ERR);
    cr_assert_eq(r.can.id, 0x004);
}

Test(link, malformed_records)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why = NULL;
    cr_assert_eq(decode(227, "00 00 07", &st, &r, &ifi, &why), -1);
    cr_assert_not_null(why);
    cr_assert_eq(decode(227, "00 00 07 E0 08 00 00 00 02 10", &st, &r, &ifi, &why), -1);
    cr_assert_eq(decode(227, "00 00 07 E0 0D 04 00 00 00", &st, &r, &ifi, &why), -1); /* FD len 13 */
    cr_assert_eq(decode(113, "00 00", &st, &r, &ifi, &why), -1);
    cr_assert_eq(decode(276, "00 0C 00 00 00 00 00 01", &st, &r, &ifi, &why), -1);
}

Test(link, linux_cooked_captures)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    /* SLL: pkttype, ARPHRD_CAN (280), addr len, addr, protocol 0x000C; id in host order. */
    cr_assert_eq(decode(113, "00 00 01 18 00 00 00 00 00 00 00 00 00 00 00 0C "
                             "E8 07 00 00 02 00 00 00 51 01 00 00 00 00 00 00",
                        &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.kind, UF_REC_CAN);
    cr_assert_eq(r.can.id, 0x7E8);
    cr_assert_eq(ifi, 0);
    /* SLL2: protocol 0x000D (CAN FD), ifindex 3. */
    char hex[400] = "00 0D 00 00 00 00 00 03 01 18 00 00 00 00 00 00 00 00 00 00 "
                    "E8 07 00 00 08 04 00 00";
    for (int i = 0; i < 64; i++)
        strcat(hex, " 22");
    cr_assert_eq(decode(276, hex, &st, &r, &ifi, &why), 0);
    cr_assert_eq(ifi, 3);
    cr_assert(r.can.flags & UF_CAN_FD);
    /* SLL carrying IPv4 is a packet for the DoIP path. */
    cr_assert_eq(decode(113, "00 00 00 01 00 06 00 00 00 00 00 00 00 00 08 00 45 00", &st, &r,
                        &ifi, &why), 0);
    cr_assert_eq(r.kind, UF_REC_PACKET);
    cr_assert_eq(r.packet.linktype, 113);
}

Test(link, exported_pdu_from_wiretap)
{
    uf_link_state st = {0};
    uf_record r;
    uint32_t ifi;
    const char *why;
    /* tag 12 "can-hostendian" (padded to 16), end tag, then the frame. */
    cr_assert_eq(decode(252, "00 0C 00 10 63 61 6E 2D 68 6F 73 74 65 6E 64 69 61 6E 00 00 "
                             "00 00 00 00 E0 07 00 00 02 00 00 00 10 03 00 00 00 00 00 00",
                        &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.kind, UF_REC_CAN);
    cr_assert_eq(r.can.id, 0x7E0);
    cr_assert_eq(decode(252, "00 0C 00 20 63 61", &st, &r, &ifi, &why), -1);
    /* Another protocol passes through as a packet. */
    cr_assert_eq(decode(252, "00 0C 00 04 69 70 00 00 00 00 00 00 45 00", &st, &r, &ifi, &why), 0);
    cr_assert_eq(r.kind, UF_REC_PACKET);
}

Test(link, fd_lengths)
{
    cr_assert_eq(uf_can_dlc_to_len(15), 64);
    cr_assert_eq(uf_can_len_to_dlc(13), 10);
    cr_assert(uf_can_len_is_valid_fd(48));
    cr_assert_not(uf_can_len_is_valid_fd(13));
    /* Every length against the definition: the smallest DLC that holds it. */
    for (unsigned len = 0; len <= 255; len++) {
        uint8_t dlc = 0;
        while (dlc < 15 && uf_can_dlc_to_len(dlc) < len)
            dlc++;
        cr_assert_eq(uf_can_len_to_dlc((uint8_t)len), dlc, "length %u", len);
    }
}
