/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Spare buffers: a few buffers a hot path is done with, kept to be filled
 * again instead of going through free and malloc. Bounded in number, in
 * bytes and in the size of one buffer; whatever is over a bound is freed.
 * The buffers come from malloc or g_malloc (the same allocator since GLib
 * 2.46) and are taken back last in, first out.
 */
#ifndef UF_SPARES_H
#define UF_SPARES_H

#include <stddef.h>
#include <stdint.h>

typedef struct uf_spare {
    uint8_t *p;
    uint32_t cap; /* bytes */
} uf_spare;

typedef struct uf_spares {
    uf_spare *items;
    unsigned n, max;
    size_t bytes, max_bytes; /* of all the spares kept */
    uint32_t max_cap;        /* a larger buffer is freed, not kept */
} uf_spares;

/* At most max buffers, max_bytes in all, of max_cap bytes each. */
void uf_spares_init(uf_spares *s, unsigned max, size_t max_bytes, uint32_t max_cap);
/* The last buffer kept, *cap set to its size; NULL (*cap 0) if none. */
uint8_t *uf_spares_take(uf_spares *s, uint32_t *cap);
/* Keeps a buffer of cap bytes (NULL: nothing), or frees it. */
void uf_spares_give(uf_spares *s, uint8_t *p, uint32_t cap);
/* Frees every buffer kept. */
void uf_spares_free(uf_spares *s);

#endif /* UF_SPARES_H */
