/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Spare buffers (uf_spares.h).
 */
#include "uf_spares.h"

#include <stdlib.h>

void uf_spares_init(uf_spares *s, unsigned max, size_t max_bytes, uint32_t max_cap)
{
    s->items = calloc(max, sizeof(*s->items));
    s->max = s->items ? max : 0; /* no memory for the list: nothing is kept */
    s->n = 0;
    s->bytes = 0;
    s->max_bytes = max_bytes;
    s->max_cap = max_cap;
}

uint8_t *uf_spares_take(uf_spares *s, uint32_t *cap)
{
    if (s->n == 0) {
        *cap = 0;
        return NULL;
    }
    uf_spare sp = s->items[--s->n];
    s->bytes -= sp.cap;
    *cap = sp.cap;
    return sp.p;
}

void uf_spares_give(uf_spares *s, uint8_t *p, uint32_t cap)
{
    if (p && s->n < s->max && cap <= s->max_cap && s->bytes + cap <= s->max_bytes) {
        s->items[s->n++] = (uf_spare){p, cap};
        s->bytes += cap;
    } else {
        free(p);
    }
}

void uf_spares_free(uf_spares *s)
{
    while (s->n > 0)
        free(s->items[--s->n].p);
    free(s->items);
    s->items = NULL;
    s->max = 0;
    s->bytes = 0;
}
