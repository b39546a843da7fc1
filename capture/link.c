/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link-layer decoding of CAN records: LINKTYPE_CAN_SOCKETCAN (227, the
 * Linux struct can_frame / canfd_frame with a big-endian id), CAN inside
 * LINUX_SLL (113) / LINUX_SLL2 (276), where the id is in host byte order,
 * and LINKTYPE_WIRESHARK_UPPER_PDU (252), which wiretap's text readers
 * (Busmaster, candump) emit: TLV tags (tag 12 names the payload's dissector,
 * "can-hostendian", "can-bigendian" or "canfd"), tag 0 ends them.
 * CAN FD lengths follow ISO 11898-1:2015 table 5.
 *
 * Anomalies: a record shorter than its header or than its claimed payload,
 * a classic length above 8, an FD length that no DLC encodes.
 */
#include "uf_capture.h"

#include <string.h>

/* Flags in the 32-bit SocketCAN id word (linux/can.h). */
#define SOCKETCAN_EFF 0x80000000u
#define SOCKETCAN_RTR 0x40000000u
#define SOCKETCAN_ERR 0x20000000u
/* FD flags byte (linux/can.h: CANFD_BRS, CANFD_ESI, CANFD_FDF). */
#define CANFD_BRS 0x01u
#define CANFD_ESI 0x02u
#define CANFD_FDF 0x04u
#define CANXL_XLF 0x80u
#define CAN_MTU 16u
#define CANFD_MTU 72u
#define SOCKETCAN_HEADER 8u

#define ETH_P_CAN 0x000Cu
#define ETH_P_CANFD 0x000Du
#define ETH_P_CANXL 0x000Eu
#define ARPHRD_CAN 280u

static const uint8_t fd_len_of_dlc[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};

uint8_t uf_can_dlc_to_len(uint8_t dlc)
{
    return fd_len_of_dlc[dlc & 0x0F];
}

uint8_t uf_can_len_to_dlc(uint8_t len)
{
    /* The smallest DLC whose length holds len: table 5 read backwards, in
     * its steps of 4, 8 and 16 bytes past 8 (this runs on every CAN FD
     * frame, where a scan of the table showed in profiles). */
    if (len <= 8)
        return len;
    if (len <= 24)
        return (uint8_t)(9 + (len - 9) / 4);
    if (len <= 32)
        return 13;
    return len <= 48 ? 14 : 15;
}

bool uf_can_len_is_valid_fd(uint8_t len)
{
    return len <= 64 && fd_len_of_dlc[uf_can_len_to_dlc(len)] == len;
}

/* Could this 32-bit word be a SocketCAN id? An 11-bit id leaves bits 11..28
 * clear; an error frame carries only error-class bits (linux/can/error.h,
 * below 0x400) and neither EFF nor RTR. */
static bool id_word_plausible(uint32_t w)
{
    if (w & SOCKETCAN_ERR)
        return !(w & (SOCKETCAN_EFF | SOCKETCAN_RTR)) && (w & UF_CAN_EFF_MASK) < 0x400;
    if (w & SOCKETCAN_EFF)
        return true;
    return (w & 0x1FFFF800u) == 0;
}

static uint32_t pick_id_word(const uint8_t *p, uf_id_order *order, bool default_little)
{
    uint32_t be = uf_load_be32(p), le = uf_load_le32(p);
    if (*order == UF_ID_ORDER_BIG)
        return be;
    if (*order == UF_ID_ORDER_LITTLE)
        return le;
    bool be_ok = id_word_plausible(be), le_ok = id_word_plausible(le);
    if (be_ok && !le_ok) {
        *order = UF_ID_ORDER_BIG;
        return be;
    }
    if (le_ok && !be_ok) {
        *order = UF_ID_ORDER_LITTLE;
        return le;
    }
    /* Both (a palindrome such as id 0) or neither: do not lock yet. */
    return default_little ? le : be;
}

int uf_decode_socketcan(const uint8_t *buf, size_t len, uf_id_order *order, bool default_little,
                        uf_can_frame *out, const char **why)
{
    if (len < SOCKETCAN_HEADER) {
        *why = "SocketCAN record shorter than its 8-byte header";
        return -1;
    }
    uint8_t fd_flags = buf[5];
    if (fd_flags & CANXL_XLF) {
        *why = "CAN XL frames are not analyzed";
        return -1;
    }
    uint32_t w = pick_id_word(buf, order, default_little);
    memset(out, 0, sizeof(*out));
    out->flags = 0;
    if (w & SOCKETCAN_ERR) {
        out->flags |= UF_CAN_ERR;
        out->id = w & UF_CAN_EFF_MASK;
    } else if (w & SOCKETCAN_EFF) {
        out->flags |= UF_CAN_EFF;
        out->id = w & UF_CAN_EFF_MASK;
    } else {
        out->id = w & UF_CAN_SFF_MASK;
    }
    if (w & SOCKETCAN_RTR)
        out->flags |= UF_CAN_RTR;

    uint8_t dlen = buf[4];
    /* Older writers mark FD only by the 72-byte canfd_frame record, and
     * wiretap's BLF reader only by BRS / ESI, which exist only in CAN FD. */
    bool fd = (fd_flags & (CANFD_FDF | CANFD_BRS | CANFD_ESI)) || len == CANFD_MTU || dlen > 8;
    if (fd) {
        out->flags |= UF_CAN_FD;
        if (fd_flags & CANFD_BRS)
            out->flags |= UF_CAN_BRS;
        if (fd_flags & CANFD_ESI)
            out->flags |= UF_CAN_ESI;
        if (!uf_can_len_is_valid_fd(dlen)) {
            *why = "CAN FD payload length that no DLC encodes";
            return -1;
        }
    }
    if (out->flags & UF_CAN_RTR) {
        out->len = dlen > 8 ? 8 : dlen; /* the requested length; no data follows */
        return 0;
    }
    if (len - SOCKETCAN_HEADER < dlen) {
        *why = "SocketCAN record shorter than its payload length";
        return -1;
    }
    out->len = dlen;
    memcpy(out->data, buf + SOCKETCAN_HEADER, dlen);
    return 0;
}

static int decode_cooked_payload(uint16_t protocol, uint16_t arphrd, const uint8_t *payload,
                                 size_t len, uint32_t linktype, const uint8_t *whole,
                                 size_t whole_len, uf_link_state *st, uf_record *rec,
                                 const char **why)
{
    if (protocol == ETH_P_CAN || protocol == ETH_P_CANFD || protocol == ETH_P_CANXL ||
        arphrd == ARPHRD_CAN) {
        if (uf_decode_socketcan(payload, len, &st->cooked_order, true, &rec->can, why) < 0)
            return -1;
        if (protocol == ETH_P_CANFD)
            rec->can.flags |= UF_CAN_FD;
        rec->kind = UF_REC_CAN;
        return 0;
    }
    rec->kind = UF_REC_PACKET;
    rec->packet.linktype = linktype;
    rec->packet.data = whole;
    rec->packet.len = (uint32_t)whole_len;
    return 0;
}

#define EXP_PDU_TAG_END_OF_OPT 0
#define EXP_PDU_TAG_DISSECTOR_NAME 12

static int decode_exported_pdu(const uint8_t *buf, size_t len, uf_link_state *st, uf_record *rec,
                               const char **why)
{
    const uint8_t *name = NULL;
    size_t name_len = 0, at = 0;
    for (;;) {
        if (len - at < 4) {
            *why = "exported PDU record ends inside its tags";
            return -1;
        }
        uint16_t tag = uf_load_be16(buf + at), tag_len = uf_load_be16(buf + at + 2);
        at += 4;
        if (tag == EXP_PDU_TAG_END_OF_OPT)
            break;
        if (len - at < tag_len) {
            *why = "exported PDU tag longer than its record";
            return -1;
        }
        if (tag == EXP_PDU_TAG_DISSECTOR_NAME) {
            name = buf + at;
            name_len = strnlen((const char *)name, tag_len);
        }
        at += tag_len;
    }
    bool can = name && name_len >= 3 && memcmp(name, "can", 3) == 0;
    if (!can) {
        rec->kind = UF_REC_PACKET;
        rec->packet.linktype = UF_LINKTYPE_WIRESHARK_UPPER_PDU;
        rec->packet.data = buf;
        rec->packet.len = (uint32_t)len;
        return 0;
    }
    bool host = name_len == 14 && memcmp(name, "can-hostendian", 14) == 0;
    if (uf_decode_socketcan(buf + at, len - at, &st->exported_order, host, &rec->can, why) < 0)
        return -1;
    if (name_len == 5 && memcmp(name, "canfd", 5) == 0)
        rec->can.flags |= UF_CAN_FD;
    rec->kind = UF_REC_CAN;
    return 0;
}

int uf_decode_link(uint32_t linktype, const uint8_t *buf, size_t len, uf_link_state *st,
                   uf_record *rec, uint32_t *ifindex, const char **why)
{
    *ifindex = 0;
    switch (linktype) {
    case UF_LINKTYPE_CAN_SOCKETCAN:
        if (uf_decode_socketcan(buf, len, &st->socketcan_order, false, &rec->can, why) < 0)
            return -1;
        rec->kind = UF_REC_CAN;
        return 0;
    case UF_LINKTYPE_LINUX_SLL: /* cooked v1: 16-byte header, protocol last */
        if (len < 16) {
            *why = "Linux cooked (SLL) record shorter than its 16-byte header";
            return -1;
        }
        return decode_cooked_payload(uf_load_be16(buf + 14), uf_load_be16(buf + 2), buf + 16, len - 16,
                                     linktype, buf, len, st, rec, why);
    case UF_LINKTYPE_LINUX_SLL2: /* cooked v2: 20-byte header with ifindex */
        if (len < 20) {
            *why = "Linux cooked (SLL2) record shorter than its 20-byte header";
            return -1;
        }
        *ifindex = uf_load_be32(buf + 4);
        return decode_cooked_payload(uf_load_be16(buf), uf_load_be16(buf + 8), buf + 20, len - 20,
                                     linktype, buf, len, st, rec, why);
    case UF_LINKTYPE_WIRESHARK_UPPER_PDU:
        return decode_exported_pdu(buf, len, st, rec, why);
    default:
        rec->kind = UF_REC_PACKET;
        rec->packet.linktype = linktype;
        rec->packet.data = buf;
        rec->packet.len = (uint32_t)len;
        return 0;
    }
}
