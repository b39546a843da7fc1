/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The reassembler's front: configuration, lifetime, and the entry point for
 * each frame. A frame of a known diagnostic id goes straight to reassembly
 * (reassembly.c); a frame of an undecided id, or any frame while others are
 * held, waits in the hold window (discovery.c) so that capture order is kept.
 */
#include "isotp_internal.h"

#include <string.h>

void uf_isotp_config_defaults(uf_isotp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->default_addressing = UF_ADDR_AUTO;
    c->timing = true;
    c->max_message = 1u << 20;
    c->budget = UINT64_C(32) << 20;
    c->n_bs = 1000 * UF_NS_PER_MS;
    c->n_cr = 1000 * UF_NS_PER_MS;
    c->stmin_tolerance = 0;
    c->n_wft_max = 10;
    c->max_flows = 65536;
}

uf_isotp *uf_isotp_new(const uf_isotp_config *config, const uf_isotp_sink *sink)
{
    uf_isotp *t = g_new0(uf_isotp, 1);
    t->cfg = *config;
    if (config->n_pairs) {
        t->pairs = g_memdup2(config->pairs, config->n_pairs * sizeof(*config->pairs));
        t->cfg.pairs = t->pairs;
    }
    if (config->n_functional) {
        t->functional_ids = g_memdup2(config->functional_ids,
                                      config->n_functional * sizeof(*config->functional_ids));
        t->cfg.functional_ids = t->functional_ids;
    }
    if (t->cfg.max_flows == 0)
        t->cfg.max_flows = 1;
    t->sink = *sink;
    flows_init(t);
    t->last_time = UF_TIME_NONE;
    discovery_init(t);
    return t;
}

void uf_isotp_free(uf_isotp *t)
{
    if (!t)
        return;
    discovery_free(t);
    flows_free(t);
    g_free(t->pairs);
    g_free(t->functional_ids);
    g_free(t);
}

void uf_isotp_get_stats(const uf_isotp *t, uf_isotp_stats *out)
{
    *out = t->stats;
}

void uf_isotp_frame(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus,
                    const uf_can_frame *f)
{
    t->stats.frames++;
    if (time != UF_TIME_NONE && (t->last_time == UF_TIME_NONE || time > t->last_time))
        t->last_time = time;
    if (f->flags & (UF_CAN_RTR | UF_CAN_ERR))
        return; /* no ISO-TP in remote or error frames */
    id_info *ii = ids_get(t, bus, uf_isotp_id_of(f));
    if (!ii) {
        t->stats.dropped_frames++;
        return;
    }
    if (ii->cls == ID_DIAG && t->ring_count == 0) {
        reassembly_frame(t, ii, number, time, bus, f);
        if (!ii->has_partner && !ii->functional)
            discovery_observe(t, number, time, bus, f);
        return;
    }
    /* Keep capture order: once anything is held, everything queues. */
    if (ii->cls != ID_DIAG || (!ii->has_partner && !ii->functional))
        discovery_observe(t, number, time, bus, f);
    hold_push(t, number, time, bus, f);
    hold_drain(t, time, false);
}

void uf_isotp_finish(uf_isotp *t)
{
    hold_drain(t, t->last_time, true);
    reassembly_finish(t);
}
