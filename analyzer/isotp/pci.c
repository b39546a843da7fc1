/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ISO-TP protocol control information (ISO 15765-2:2016 9.6) and the
 * segmenter that turns a message into frames (9.2, 9.3), with the CAN FD
 * escapes of 9.6.2.1 (SF_DL in byte 1) and 9.6.3.1 (32-bit FF_DL).
 *
 *   byte 0 (after the address byte of extended / mixed addressing)
 *   0x0L        SingleFrame, SF_DL = L (1..7)     0x00 LL   SF escape (CAN_DL > 8)
 *   0x1H LL     FirstFrame, FF_DL = HLL (8..4095) 0x10 00 + 4 bytes: FF_DL > 4095
 *   0x2N        ConsecutiveFrame, SN = N
 *   0x3S BS ST  FlowControl: S = 0 CTS, 1 WAIT, 2 OVFLW
 */
#include "uf_isotp.h"

#include <string.h>

static const char *const addressing_names[] = {
    [UF_ADDR_AUTO] = "auto",         [UF_ADDR_NORMAL] = "normal",
    [UF_ADDR_NORMAL_FIXED] = "fixed", [UF_ADDR_EXTENDED] = "extended",
    [UF_ADDR_MIXED] = "mixed",
};

const char *uf_addressing_name(uf_addressing a)
{
    return (unsigned)a < UF_ARRAY_LEN(addressing_names) ? addressing_names[a] : "?";
}

bool uf_addressing_parse(const char *name, uf_addressing *out)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(addressing_names); i++) {
        if (strcmp(name, addressing_names[i]) == 0) {
            *out = (uf_addressing)i;
            return true;
        }
    }
    return false;
}

const char *uf_isotp_endpoint_name(const uf_isotp_endpoint *ep, char *buf, size_t size)
{
    /* By hand rather than snprintf: reports name thousands of endpoints. */
    char name[24];
    size_t n;
    if (ep->id & UF_ISOTP_DOIP) {
        n = uf_format_hex(name, ep->id & 0xFFFFu, 4);
    } else {
        bool eff = ep->id & UF_ISOTP_EFF;
        n = uf_format_hex(name, ep->id & ~UF_ISOTP_EFF, eff ? 8 : 3);
        if (ep->addr >= 0) {
            name[n++] = ':';
            uf_put_hex_byte(name + n, (uint8_t)ep->addr);
            n += 2;
        }
    }
    if (size == 0)
        return buf;
    if (n >= size)
        n = size - 1; /* cut, as snprintf would */
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

uint32_t uf_stmin_us(uint8_t raw)
{
    if (raw <= 0x7F)
        return raw * 1000u;
    if (raw >= 0xF1 && raw <= 0xF9)
        return (raw - 0xF0u) * 100u;
    return 127000u; /* reserved: 9.6.5.4 tells the sender to use 0x7F */
}

bool uf_stmin_is_reserved(uint8_t raw)
{
    return !(raw <= 0x7F || (raw >= 0xF1 && raw <= 0xF9));
}

/* Largest SF_DL a frame of this length can carry after `prefix` bytes. */
static uint32_t sf_max_for(size_t frame_len, unsigned prefix)
{
    return frame_len <= 8 ? 7u - prefix : (uint32_t)frame_len - 2u - prefix;
}

void uf_pci_decode(const uint8_t *frame, size_t frame_len, unsigned prefix, uf_pci *out)
{
    memset(out, 0, sizeof(*out));
    if (frame_len < prefix + 1u) {
        out->type = UF_PCI_INVALID;
        out->problem = "frame too short to hold a PCI";
        return;
    }
    const uint8_t *p = frame + prefix;
    size_t n = frame_len - prefix;
    switch (p[0] >> 4) {
    case 0: { /* SingleFrame, 9.6.2 */
        out->type = UF_PCI_SF;
        size_t hdr = 1;
        uint32_t dl = p[0] & 0x0F;
        if (dl == 0 && frame_len > 8) {
            if (n < 2) { /* unreachable: frame_len > 8 */
                out->problem = "SF escape without its SF_DL byte";
                out->type = UF_PCI_INVALID;
                return;
            }
            out->escape = true;
            dl = p[1];
            hdr = 2;
        }
        out->length = dl;
        if (dl == 0)
            out->problem = "SF_DL is 0";
        else if (dl > n - hdr)
            out->problem = "SF_DL is longer than the frame";
        else if (frame_len > 8 && !out->escape)
            out->problem = "a CAN FD frame longer than 8 bytes must carry SF_DL in byte 1";
        out->payload = p + hdr;
        out->payload_len = (uint8_t)(dl < n - hdr ? dl : n - hdr);
        out->used = (uint8_t)(prefix + hdr + out->payload_len);
        return;
    }
    case 1: { /* FirstFrame, 9.6.3 */
        out->type = UF_PCI_FF;
        if (n < 2) {
            out->type = UF_PCI_INVALID;
            out->problem = "first frame shorter than its PCI";
            return;
        }
        size_t hdr = 2;
        uint32_t dl = (uint32_t)(p[0] & 0x0F) << 8 | p[1];
        if (dl == 0) {
            if (n < 6) {
                out->type = UF_PCI_INVALID;
                out->problem = "escaped first frame shorter than its 32-bit FF_DL";
                return;
            }
            out->escape = true;
            dl = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
            hdr = 6;
        }
        out->length = dl;
        if (frame_len < 8)
            out->problem = "first frame does not fill an 8-byte frame";
        else if (out->escape && dl <= 4095)
            out->problem = "32-bit FF_DL used for a length that fits 12 bits";
        else if (dl <= sf_max_for(frame_len, prefix))
            out->problem = "FF_DL is small enough for a single frame";
        out->payload = p + hdr;
        out->payload_len = (uint8_t)(n - hdr);
        out->used = (uint8_t)frame_len;
        return;
    }
    case 2: /* ConsecutiveFrame, 9.6.4 */
        out->type = UF_PCI_CF;
        out->sn = p[0] & 0x0F;
        out->payload = p + 1;
        out->payload_len = (uint8_t)(n - 1);
        out->used = (uint8_t)frame_len;
        return;
    case 3: /* FlowControl, 9.6.5 */
        if (n < 3) {
            out->type = UF_PCI_INVALID;
            out->problem = "flow control shorter than 3 bytes";
            return;
        }
        out->type = UF_PCI_FC;
        out->fs = p[0] & 0x0F;
        out->bs = p[1];
        out->stmin = p[2];
        out->used = (uint8_t)(prefix + 3);
        return;
    default:
        out->type = UF_PCI_INVALID;
        out->problem = "reserved PCI type";
        return;
    }
}

/* ---- Segmenter ------------------------------------------------------------*/

uint32_t uf_isotp_sf_max(const uf_isotp_tx_params *p)
{
    return sf_max_for(p->tx_dl, uf_addressing_prefix(p->addressing));
}

static void finish_frame(const uf_isotp_tx_params *p, uf_can_frame *out, uint8_t len)
{
    uint8_t target = len;
    if (p->pad)
        target = len <= 8 ? 8 : uf_can_dlc_to_len(uf_can_len_to_dlc(len));
    else if (p->fd)
        target = uf_can_dlc_to_len(uf_can_len_to_dlc(len)); /* FD lengths are quantised */
    memset(out->data + len, p->pad_byte, (size_t)(target - len));
    out->len = target;
    out->flags = p->fd ? (UF_CAN_FD | UF_CAN_BRS) : 0;
}

static unsigned put_prefix(const uf_isotp_tx_params *p, uf_can_frame *out)
{
    unsigned prefix = uf_addressing_prefix(p->addressing);
    if (prefix)
        out->data[0] = p->addr;
    return prefix;
}

void uf_isotp_tx_start(uf_isotp_tx *tx, const uf_isotp_tx_params *p, const uint8_t *data,
                       uint32_t len)
{
    memset(tx, 0, sizeof(*tx));
    tx->p = *p;
    if (tx->p.tx_dl < 8)
        tx->p.tx_dl = 8;
    tx->data = data;
    tx->len = len;
    tx->sn = 1;
}

bool uf_isotp_tx_next(uf_isotp_tx *tx, uf_can_frame *out)
{
    const uf_isotp_tx_params *p = &tx->p;
    unsigned prefix = put_prefix(p, out);
    if (!tx->first_done) {
        tx->first_done = true;
        if (tx->len <= uf_isotp_sf_max(p)) {
            unsigned hdr;
            if (tx->len <= 7u - prefix) { /* fits the classic SF even on CAN FD */
                out->data[prefix] = (uint8_t)tx->len;
                hdr = 1;
            } else {
                out->data[prefix] = 0;
                out->data[prefix + 1] = (uint8_t)tx->len;
                hdr = 2;
            }
            memcpy(out->data + prefix + hdr, tx->data, tx->len);
            tx->sent = tx->len;
            finish_frame(p, out, (uint8_t)(prefix + hdr + tx->len));
            return true;
        }
        unsigned hdr;
        if (tx->len <= 4095) {
            out->data[prefix] = (uint8_t)(0x10 | tx->len >> 8);
            out->data[prefix + 1] = (uint8_t)tx->len;
            hdr = 2;
        } else {
            out->data[prefix] = 0x10;
            out->data[prefix + 1] = 0;
            out->data[prefix + 2] = (uint8_t)(tx->len >> 24);
            out->data[prefix + 3] = (uint8_t)(tx->len >> 16);
            out->data[prefix + 4] = (uint8_t)(tx->len >> 8);
            out->data[prefix + 5] = (uint8_t)tx->len;
            hdr = 6;
        }
        uint32_t n = p->tx_dl - prefix - hdr;
        memcpy(out->data + prefix + hdr, tx->data, n);
        tx->sent = n;
        finish_frame(p, out, p->tx_dl);
        return true;
    }
    if (tx->sent >= tx->len)
        return false;
    out->data[prefix] = (uint8_t)(0x20 | tx->sn);
    tx->sn = (tx->sn + 1) & 0x0F;
    uint32_t room = p->tx_dl - prefix - 1u;
    uint32_t n = tx->len - tx->sent < room ? tx->len - tx->sent : room;
    memcpy(out->data + prefix + 1, tx->data + tx->sent, n);
    tx->sent += n;
    finish_frame(p, out, (uint8_t)(prefix + 1 + n));
    return true;
}

void uf_isotp_fc_frame(const uf_isotp_tx_params *p, uf_flow_status fs, uint8_t bs, uint8_t stmin,
                       uf_can_frame *out)
{
    unsigned prefix = put_prefix(p, out);
    out->data[prefix] = (uint8_t)(0x30 | fs);
    out->data[prefix + 1] = bs;
    out->data[prefix + 2] = stmin;
    finish_frame(p, out, (uint8_t)(prefix + 3));
}
