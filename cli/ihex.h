/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A streaming Intel HEX writer (I32HEX): data records of up to 16 bytes that
 * never cross a 64 KiB boundary, an extended linear address record (type 04)
 * whenever the upper 16 address bits change, and the end-of-file record.
 */
#ifndef UF_IHEX_H
#define UF_IHEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct uf_ihex {
    FILE *f;
    bool have_upper;
    uint16_t upper;
    uint32_t line_address;
    uint8_t line[16];
    uint8_t line_len;
} uf_ihex;

void uf_ihex_init(uf_ihex *h, FILE *f);
/* Bytes at a 32-bit address; false if they do not fit below 4 GiB. */
bool uf_ihex_write(uf_ihex *h, uint64_t address, const uint8_t *data, size_t len);
/* Flushes and writes the end-of-file record. */
void uf_ihex_finish(uf_ihex *h);

#endif /* UF_IHEX_H */
