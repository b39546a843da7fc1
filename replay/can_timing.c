/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * How long a CAN frame holds the bus: its bit stream built as ISO
 * 11898-1:2015 lays it out (10.4.2 classic data frame, 10.4.3 CAN FD), with
 * bit stuffing counted on the real bits (10.5): after five equal bits a
 * complement is inserted, from start of frame through the CRC of a classic
 * frame (whose CRC-15 is therefore computed), through the data of an FD
 * frame, whose stuff count and CRC carry fixed stuff bits instead.
 */
#include "uf_simbus.h"

#include <string.h>

typedef struct bitstream {
    uint8_t bit[1024];
    unsigned n;
} bitstream;

static void put(bitstream *s, uint32_t value, unsigned nbits)
{
    for (unsigned i = nbits; i-- > 0;)
        s->bit[s->n++] = (uint8_t)((value >> i) & 1u);
}

/* Dynamic stuff bits over bits [from, to) of s, with the run state carried
 * in *prev / *run from the bits before. */
static unsigned stuff_bits(const bitstream *s, unsigned from, unsigned to, int *prev, unsigned *run)
{
    unsigned stuffed = 0;
    for (unsigned i = from; i < to; i++) {
        int b = s->bit[i];
        if (b == *prev) {
            (*run)++;
        } else {
            *prev = b;
            *run = 1;
        }
        if (*run == 5) { /* the complement goes in, and starts the next run */
            stuffed++;
            *prev = !b;
            *run = 1;
        }
    }
    return stuffed;
}

/* CRC-15 of a classic frame (x^15 + x^14 + x^10 + x^8 + x^7 + x^4 + x^3 + 1). */
static uint16_t crc15(const bitstream *s)
{
    uint16_t crc = 0;
    for (unsigned i = 0; i < s->n; i++) {
        unsigned next = s->bit[i] ^ ((crc >> 14) & 1u);
        crc = (uint16_t)((crc << 1) & 0x7FFF);
        if (next)
            crc ^= 0x4599;
    }
    return crc;
}

/* SOF and the arbitration field. */
static void put_arbitration(bitstream *s, const uf_can_frame *f, bool fd)
{
    put(s, 0, 1); /* SOF */
    if (f->flags & UF_CAN_EFF) {
        put(s, (f->id >> 18) & 0x7FF, 11);
        put(s, 1, 1); /* SRR */
        put(s, 1, 1); /* IDE */
        put(s, f->id & 0x3FFFF, 18);
        put(s, 0, 1); /* RTR (classic) / RRS (FD), dominant for data frames */
        if (!fd)
            put(s, 0, 2); /* r1, r0 */
    } else {
        put(s, f->id & 0x7FF, 11);
        put(s, 0, 1); /* RTR / RRS */
        put(s, 0, 1); /* IDE */
        if (!fd)
            put(s, 0, 1); /* r0 */
    }
}

/* CRC delimiter, ACK slot and delimiter, end of frame, intermission. */
enum { TAIL_BITS = 1 + 1 + 1 + 7 + 3 };

void uf_can_frame_bits(const uf_can_frame *f, uf_can_bits *out)
{
    bitstream s;
    s.n = 0;
    memset(out, 0, sizeof(*out));
    bool fd = (f->flags & UF_CAN_FD) != 0;
    int prev = -1;
    unsigned run = 0;
    if (!fd) {
        uint8_t len = f->len > 8 ? 8 : f->len;
        put_arbitration(&s, f, false);
        put(&s, len, 4);
        for (unsigned i = 0; i < len; i++)
            put(&s, f->data[i], 8);
        put(&s, crc15(&s), 15);
        out->stuff = stuff_bits(&s, 0, s.n, &prev, &run);
        out->nominal = s.n + out->stuff + TAIL_BITS;
        return;
    }
    uint8_t dlc = uf_can_len_to_dlc(f->len);
    uint8_t len = uf_can_dlc_to_len(dlc);
    bool brs = (f->flags & UF_CAN_BRS) != 0;
    put_arbitration(&s, f, true);
    put(&s, 1, 1); /* FDF */
    put(&s, 0, 1); /* res */
    put(&s, brs, 1);
    unsigned switch_at = s.n; /* the data phase starts after BRS */
    put(&s, (f->flags & UF_CAN_ESI) ? 1 : 0, 1);
    put(&s, dlc, 4);
    for (unsigned i = 0; i < len; i++)
        put(&s, f->data[i], 8);
    unsigned arb_stuff = stuff_bits(&s, 0, switch_at, &prev, &run);
    unsigned data_stuff = stuff_bits(&s, switch_at, s.n, &prev, &run);
    /* Stuff count (4) and CRC (17 up to 16 data bytes, else 21), with a
     * fixed stuff bit before the stuff count and after every 4 bits. */
    unsigned crc_bits = len <= 16 ? 17 : 21;
    unsigned field = 4 + crc_bits;
    unsigned fixed = 1 + field / 4;
    out->stuff = arb_stuff + data_stuff + fixed;
    unsigned arbitration_phase = switch_at + arb_stuff;
    unsigned data_phase = (s.n - switch_at) + data_stuff + field + fixed;
    if (brs) {
        out->nominal = arbitration_phase + TAIL_BITS;
        out->data = data_phase;
    } else {
        out->nominal = arbitration_phase + data_phase + TAIL_BITS;
    }
}

uf_time uf_can_frame_duration(const uf_can_frame *f, uint32_t bitrate, uint32_t data_bitrate)
{
    uf_can_bits b;
    uf_can_frame_bits(f, &b);
    if (bitrate == 0)
        return 0;
    uint32_t dr = data_bitrate ? data_bitrate : bitrate;
    /* Whole nanoseconds, rounded up: a bit is never shorter than it is. */
    uint64_t ns = ((uint64_t)b.nominal * UF_NS_PER_S + bitrate - 1) / bitrate +
                  ((uint64_t)b.data * UF_NS_PER_S + dr - 1) / dr;
    return (uf_time)ns;
}

uint32_t uf_can_arbitration_key(const uf_can_frame *f)
{
    if (f->flags & UF_CAN_EFF)
        return ((f->id >> 18) & 0x7FFu) << 20 | 1u << 19 | 1u << 18 | (f->id & 0x3FFFFu);
    return (f->id & 0x7FFu) << 20;
}
