/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Intel HEX records ":LLAAAATT<data>CC", CC the two's complement of the sum
 * of the other bytes; see ihex.h.
 */
#include "ihex.h"

#include "uf_common.h"

/* One record, built in a buffer and written at once: an fprintf a byte
 * was three quarters of an extract's time in user space (perf). */
static void record(FILE *f, uint8_t type, uint16_t address, const uint8_t *data, uint8_t len)
{
    char line[1 + 2 + 4 + 2 + 2 * 255 + 2 + 1];
    uint8_t sum = (uint8_t)(len + (address >> 8) + (address & 0xFF) + type);
    char *p = line;
    *p++ = ':';
    p = uf_put_hex_byte(p, len);
    p = uf_put_hex_byte(p, (uint8_t)(address >> 8));
    p = uf_put_hex_byte(p, (uint8_t)address);
    p = uf_put_hex_byte(p, type);
    for (uint8_t i = 0; i < len; i++) {
        p = uf_put_hex_byte(p, data[i]);
        sum = (uint8_t)(sum + data[i]);
    }
    p = uf_put_hex_byte(p, (uint8_t)(0x100 - sum));
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), f);
}

void uf_ihex_init(uf_ihex *h, FILE *f)
{
    h->f = f;
    h->have_upper = false;
    h->upper = 0;
    h->line_len = 0;
}

static void flush_line(uf_ihex *h)
{
    if (!h->line_len)
        return;
    uint16_t upper = (uint16_t)(h->line_address >> 16);
    if (!h->have_upper || upper != h->upper) {
        uint8_t u[2] = {(uint8_t)(upper >> 8), (uint8_t)upper};
        record(h->f, 0x04, 0, u, 2);
        h->upper = upper;
        h->have_upper = true;
    }
    record(h->f, 0x00, (uint16_t)h->line_address, h->line, h->line_len);
    h->line_len = 0;
}

bool uf_ihex_write(uf_ihex *h, uint64_t address, const uint8_t *data, size_t len)
{
    if (address > UINT32_MAX || len > UINT32_MAX - address + 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint32_t a = (uint32_t)(address + i);
        bool contiguous = h->line_len && a == h->line_address + h->line_len;
        if (h->line_len && (!contiguous || h->line_len == sizeof(h->line) || (a & 0xFFFF) == 0))
            flush_line(h);
        if (!h->line_len)
            h->line_address = a;
        h->line[h->line_len++] = data[i];
    }
    return true;
}

void uf_ihex_finish(uf_ihex *h)
{
    flush_line(h);
    record(h->f, 0x01, 0, NULL, 0);
}
