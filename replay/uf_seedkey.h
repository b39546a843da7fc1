/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The sample SecurityAccess (ISO 14229-1:2020 10.4) seed / key algorithm
 * of udsecu: documented on purpose (docs/udsecu.md), so that a tester,
 * udsreplay and the GenerateKeyEx library in samples/seedkey compute the
 * keys udsecu expects. Header only: every user compiles the same lines.
 *
 * key = f(seed, level) on 4 bytes, big-endian, where level is the
 * requestSeed sub-function (odd: 0x01, 0x03, ..., 0x11):
 *   k = seed XOR 0x5A3CC3A5
 *   k = rotate_left(k, level mod 32) + 0x1021 * level   (mod 2^32)
 *   key = k XOR (k >> 13)
 */
#ifndef UF_SEEDKEY_H
#define UF_SEEDKEY_H

#include <stdint.h>

#define UF_SEEDKEY_LEN 4

static inline uint32_t uf_seedkey(uint32_t seed, uint8_t level)
{
    uint32_t k = seed ^ 0x5A3CC3A5u;
    unsigned r = level % 32u;
    if (r)
        k = k << r | k >> (32u - r);
    k += 0x1021u * level;
    return k ^ (k >> 13);
}

#endif /* UF_SEEDKEY_H */
