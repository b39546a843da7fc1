/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SHA-256 of the downloads, in a helper thread when the caller asks
 * (uf_sessions_config.hash_thread; common/uf_helper.h). Hashing the images
 * is the largest single cost of a check of a DoIP capture (a third of it,
 * with the CPU's SHA extensions): in the helper it runs beside the
 * analysis.
 *
 * A hash is begun, written and ended in the analyzer's thread; its digest
 * is ready some time after the end (uf_hash_ready), and uf_hash_take waits
 * for it. Without a thread every call hashes at once and a hash is ready
 * when it ends. Bytes written are copied into a queue of bounded size, or
 * given with their buffer (uf_hash_give), which counts in the same bound:
 * when the helper falls behind, the writer hashes the oldest chunk itself,
 * or, if the helper is hashing it, does the helper's other work, or
 * waits.
 */
#ifndef UF_HASHER_H
#define UF_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uf_helper.h"

typedef struct uf_hasher uf_hasher;
typedef struct uf_hash uf_hash;

uf_hasher *uf_hasher_new(bool threaded);
/* With cpu_sha false, libgcrypt hashes even where the CPU has SHA
 * extensions (uf_hasher_new: true), so that tests compare the two. */
uf_hasher *uf_hasher_new_using(bool threaded, bool cpu_sha);
/* Hashes in a helper thread the caller shares with other jobs
 * (common/uf_helper.h); the hasher's job is removed by uf_hasher_free. */
uf_hasher *uf_hasher_new_on(uf_helper *helper);
bool uf_hasher_uses_cpu_sha(const uf_hasher *h);
/* Waits for the thread to finish what it was given. Hashes not taken yet
 * must be taken first (uf_hash_take). */
void uf_hasher_free(uf_hasher *h);
bool uf_hasher_threaded(const uf_hasher *h);

uf_hash *uf_hash_begin(uf_hasher *h);
void uf_hash_write(uf_hasher *h, uf_hash *x, const void *data, size_t len);
/* The same for bytes in a buffer of the caller's from g_malloc, *cap
 * bytes long, which the hasher may keep instead of copying: a
 * TransferData block goes to the thread as it is. Returns the buffer the
 * caller fills next, *cap set to its size: the same one, one the thread
 * is done with, or NULL (*cap 0). The caller frees what it holds last. */
uint8_t *uf_hash_give(uf_hasher *h, uf_hash *x, uint8_t *buf, uint32_t len, uint32_t *cap);
void uf_hash_end(uf_hasher *h, uf_hash *x);
/* Ended and computed: uf_hash_take will not wait. */
bool uf_hash_ready(const uf_hash *x);
/* Ends x if it was not, waits for its digest, writes it as 64 lowercase
 * hex digits and a NUL into hex, and frees x. */
void uf_hash_take(uf_hasher *h, uf_hash *x, char hex[65]);

#endif /* UF_HASHER_H */
