/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Which ids carry ISO-TP, with which addressing, and who talks to whom.
 * Conventions recognised without configuration (ISO 15765-4:2021 and
 * ISO 15765-2:2016 10.3):
 *   11-bit  0x7DF functional, 0x7E0..0x7E7 physical requests, answers at +8
 *   29-bit  0x18DA<TA><SA> physical, 0x18DB<TA><SA> functional  (normal fixed)
 *           0x18CE<TA><SA> physical, 0x18CD<TA><SA> functional  (mixed, AE byte)
 * Explicit pairs and functional ids from the configuration come first.
 */
#include "isotp_internal.h"

#include <assert.h>
#include <string.h>

#define MAX_IDS 65536u

static bool is_eff(uint32_t id)
{
    return (id & UF_ISOTP_EFF) != 0;
}

/* Classifies an id by configuration, then by convention. */
static void classify(const uf_isotp *t, uint32_t id, id_info *ii)
{
    const uf_isotp_config *c = &t->cfg;
    for (size_t i = 0; i < c->n_pairs; i++) {
        const uf_isotp_pair *p = &t->pairs[i];
        if (p->tester_id == id || p->ecu_id == id) {
            ii->cls = ID_DIAG;
            ii->pinned = true;
            ii->has_partner = true;
            ii->partner_id = p->tester_id == id ? p->ecu_id : p->tester_id;
            ii->addressing = p->addressing != UF_ADDR_AUTO ? p->addressing : UF_ADDR_AUTO;
            break;
        }
    }
    for (size_t i = 0; i < c->n_functional; i++) {
        if (t->functional_ids[i] == id) {
            ii->cls = ID_DIAG;
            ii->pinned = true;
            ii->functional = true;
        }
    }

    /* Conventions: they also fill in the addressing of configured ids. */
    uf_addressing conv = UF_ADDR_AUTO;
    bool conv_functional = false, conv_partner = false;
    uint32_t partner = 0;
    if (!is_eff(id)) {
        if (id == 0x7DF) {
            conv = UF_ADDR_NORMAL;
            conv_functional = true;
        } else if (id >= 0x7E0 && id <= 0x7EF) {
            conv = UF_ADDR_NORMAL;
            conv_partner = true;
            partner = id < 0x7E8 ? id + 8 : id - 8;
        }
    } else {
        uint32_t raw = id & ~UF_ISOTP_EFF;
        uint32_t pf = (raw >> 16) & 0xFF, ta = (raw >> 8) & 0xFF, sa = raw & 0xFF;
        uint32_t swapped = UF_ISOTP_EFF | (raw & 0x1FFF0000u) | sa << 8 | ta;
        switch (pf) {
        case 0xDA: conv = UF_ADDR_NORMAL_FIXED; conv_partner = true; partner = swapped; break;
        case 0xDB: conv = UF_ADDR_NORMAL_FIXED; conv_functional = true; break;
        case 0xCE: conv = UF_ADDR_MIXED; conv_partner = true; partner = swapped; break;
        case 0xCD: conv = UF_ADDR_MIXED; conv_functional = true; break;
        default: break;
        }
    }
    if (conv != UF_ADDR_AUTO) {
        ii->cls = ID_DIAG;
        ii->pinned = true;
        ii->functional |= conv_functional;
        if (ii->addressing == UF_ADDR_AUTO)
            ii->addressing = conv;
        if (!ii->has_partner && conv_partner) {
            ii->has_partner = true;
            ii->partner_id = partner;
        }
    }
    if (ii->cls == ID_UNKNOWN && c->all_ids)
        ii->cls = ID_DIAG;
    if (ii->cls == ID_DIAG && ii->addressing == UF_ADDR_AUTO)
        ii->addressing = c->default_addressing != UF_ADDR_AUTO ? c->default_addressing
                                                               : UF_ADDR_NORMAL;
}

static gboolean is_unpinned_unknown(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    (void)user;
    const id_info *ii = value;
    return !ii->pinned && ii->cls == ID_UNKNOWN;
}

/* ids_find past the cache (isotp_internal.h). */
id_info *ids_find_slow(const uf_isotp *t, uint32_t bus, uint32_t id)
{
    uint64_t key = id_key(bus, id);
    return g_hash_table_lookup(t->ids, &key);
}

/* ids_get past the cache: the table, or a new id; either goes into the
 * cache. */
id_info *ids_get_slow(uf_isotp *t, uint32_t bus, uint32_t id)
{
    uint64_t key = id_key(bus, id);
    id_cache_slot *slot = &t->id_cache[id_cache_index(key)];
    id_info *ii = g_hash_table_lookup(t->ids, &key);
    if (!ii) {
        if (g_hash_table_size(t->ids) >= MAX_IDS) {
            /* Ids never seen to carry ISO-TP hold no state worth keeping. */
            g_hash_table_foreach_remove(t->ids, is_unpinned_unknown, NULL);
            memset(t->id_cache, 0, sizeof(t->id_cache));
            if (g_hash_table_size(t->ids) >= MAX_IDS)
                return NULL;
        }
        ii = g_new0(id_info, 1);
        ii->key = key;
        classify(t, id, ii);
        g_hash_table_insert(t->ids, &ii->key, ii);
    }
    slot->key = key;
    slot->ii = ii;
    return ii;
}

id_info *ids_promote(uf_isotp *t, uint32_t bus, uint32_t id, uf_addressing addressing)
{
    id_info *ii = ids_get(t, bus, id);
    if (ii && ii->cls != ID_DIAG) {
        ii->cls = ID_DIAG;
        ii->addressing = addressing;
        ii->pinned = true;
    }
    return ii;
}

/* ---- flows ------------------------------------------------------------------*/

flow *flows_find(const uf_isotp *t, const uf_isotp_endpoint *ep)
{
    /* A flow control asks for its sender's flow: through the id cache
     * (ids_find), where an id keeps its flow without an address byte. */
    if (ep->addr < 0) {
        const id_info *ii = ids_find(t, ep->bus, ep->id);
        if (ii && ii->plain_flow)
            return ii->plain_flow;
    }
    uint64_t k = ep_key(ep);
    return g_hash_table_lookup(t->flows, &k);
}

static gboolean is_idle_flow(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    flow *f = value;
    uf_isotp *t = user;
    if (f->state != RX_IDLE)
        return FALSE;
    id_info *ii = ids_find(t, f->ep.bus, f->ep.id);
    if (ii && ii->plain_flow == f)
        ii->plain_flow = NULL;
    flow_release_buffer(t, f);
    return TRUE;
}

flow *flows_get(uf_isotp *t, id_info *ii, uint32_t bus, int16_t addr)
{
    if (addr < 0 && ii->plain_flow)
        return ii->plain_flow;
    uf_isotp_endpoint ep = {bus, (uint32_t)ii->key, addr};
    flow *f = flows_find(t, &ep);
    if (f) {
        if (addr < 0)
            ii->plain_flow = f;
        return f;
    }
    if (g_hash_table_size(t->flows) >= t->cfg.max_flows) {
        /* Idle flows lose only their learnt padding. */
        g_hash_table_foreach_remove(t->flows, is_idle_flow, t);
        if (g_hash_table_size(t->flows) >= t->cfg.max_flows)
            return NULL;
    }
    f = g_new0(flow, 1);
    f->ep = ep;
    f->key = ep_key(&ep);
    f->addressing = ii->addressing;
    f->functional = ii->functional;
    g_hash_table_insert(t->flows, &f->key, f);
    if (addr < 0)
        ii->plain_flow = f;
    t->stats.flows = g_hash_table_size(t->flows);
    return f;
}

static void flow_free(gpointer p)
{
    flow *f = p;
    g_free(f->buf);
    g_free(f);
}

void flows_init(uf_isotp *t)
{
    t->ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    t->flows = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, flow_free);
    t->links = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    t->waiting = g_ptr_array_new();
}

void flows_free(uf_isotp *t)
{
    g_hash_table_destroy(t->flows);
    g_hash_table_destroy(t->ids);
    g_hash_table_destroy(t->links);
    g_ptr_array_free(t->waiting, TRUE);
}

/* ---- partners ---------------------------------------------------------------*/

void links_add(uf_isotp *t, const uf_isotp_endpoint *a, const uf_isotp_endpoint *b)
{
    uint64_t *ka = g_new(uint64_t, 1), *kb = g_new(uint64_t, 1);
    uint64_t *va = g_new(uint64_t, 1), *vb = g_new(uint64_t, 1);
    *ka = *vb = ep_key(a);
    *kb = *va = ep_key(b);
    g_hash_table_replace(t->links, ka, va);
    g_hash_table_replace(t->links, kb, vb);
    /* Also at id level, so that other address bytes find their partner. */
    id_info *ia = ids_get(t, a->bus, a->id), *ib = ids_get(t, b->bus, b->id);
    if (ia && !ia->has_partner && a->id != b->id) {
        ia->has_partner = true;
        ia->partner_id = b->id;
    }
    if (ib && !ib->has_partner && a->id != b->id) {
        ib->has_partner = true;
        ib->partner_id = a->id;
    }
}

static uf_isotp_endpoint endpoint_of_key(uint64_t k)
{
    uf_isotp_endpoint e;
    e.bus = (uint32_t)(k >> 41);
    e.addr = (int16_t)((k >> 32) & 0x1FF) - 1;
    e.id = (uint32_t)k;
    return e;
}

bool uf_isotp_partner(const uf_isotp *t, const uf_isotp_endpoint *ep, uf_isotp_endpoint *out)
{
    uint64_t k = ep_key(ep);
    /* Most captures teach no pair (their ids are known or found by
     * discovery): the lookup, twice a message, is skipped then. */
    const uint64_t *v = g_hash_table_size(t->links) ? g_hash_table_lookup(t->links, &k) : NULL;
    if (v) {
        *out = endpoint_of_key(*v);
        return true;
    }
    const id_info *ii = ids_find(t, ep->bus, ep->id);
    if (!ii || !ii->has_partner || ii->functional)
        return false;
    out->bus = ep->bus;
    out->id = ii->partner_id;
    if (ep->addr < 0)
        out->addr = -1;
    else if (ii->addressing == UF_ADDR_MIXED)
        out->addr = ep->addr; /* N_AE is the same both ways */
    else
        /* Extended addressing: each side's N_TA names the other side, and
         * the common scheme derives the id from the address (0x6F1 <-> 0x612:
         * the tester 0xF1 sends "12 ..", ECU 0x12 answers "F1 .."). */
        out->addr = (int16_t)(ep->id & 0xFF);
    return true;
}

void uf_isotp_learn_pair(uf_isotp *t, const uf_isotp_endpoint *a, const uf_isotp_endpoint *b)
{
    links_add(t, a, b);
}

