/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SHA-256 (FIPS 180-4) with the x86 SHA extensions, one message at a time
 * or two side by side.
 *
 * Why not only a library: a block's 64 rounds are one chain of
 * sha256rnds2 instructions, each waiting for the one before, so one
 * message runs at the instruction's latency, not at its throughput.
 * libgcrypt and OpenSSL both hash 2.1 GB/s on the benchmark machine, and
 * neither can take two messages at once. Two independent messages
 * interleaved, round by round, keep the unit busy while either chain
 * waits: 3.0 GB/s there (docs/performance.md). Linux hashes dm-verity's
 * blocks two at a time for the same reason (sha256_ni_finup2x).
 *
 * Where the CPU has no SHA extensions (uf_sha256_available() false) none
 * of the other functions may be called; callers use libgcrypt there.
 */
#ifndef UF_SHA256_H
#define UF_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uf_sha256 {
    uint32_t state[8];
    uint8_t partial[64]; /* bytes of an incomplete block */
    uint32_t n_partial;
    uint64_t total; /* bytes written */
} uf_sha256;

/* The CPU has the SHA extensions (and SSSE3 / SSE4.1, which come with
 * them on every CPU that has them). */
bool uf_sha256_available(void);

void uf_sha256_init(uf_sha256 *c);
void uf_sha256_update(uf_sha256 *c, const void *data, size_t len);
/* The same as uf_sha256_update(a, ...) then uf_sha256_update(b, ...), a
 * and b distinct: the blocks the two have at once are hashed side by side. */
void uf_sha256_update2(uf_sha256 *a, const void *data_a, size_t len_a, uf_sha256 *b,
                       const void *data_b, size_t len_b);
void uf_sha256_final(uf_sha256 *c, uint8_t digest[32]);

#endif /* UF_SHA256_H */
