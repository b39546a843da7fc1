/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Internal state of the passive ISO-TP reassembler, shared by:
 *   isotp.c       configuration, lifetime, the entry point for each frame
 *   flows.c       id classes, conventions, the flow table and partner links
 *   discovery.c   the hold window that finds diagnostic pairs on unknown ids
 *   reassembly.c  the per-flow state machine and its findings
 */
#ifndef UF_ISOTP_INTERNAL_H
#define UF_ISOTP_INTERNAL_H

#include "uf_isotp.h"

#include <assert.h>
#include <glib.h>

/* What we know of a CAN id on a bus. */
typedef enum id_class {
    ID_UNKNOWN, /* not (yet) seen to carry ISO-TP: frames wait in the hold window */
    ID_DIAG,    /* analyzed as ISO-TP */
} id_class;

typedef struct id_info {
    uint64_t key; /* id_key(bus, id) */
    id_class cls;
    uf_addressing addressing; /* for ID_DIAG */
    bool functional;
    bool pinned;      /* from configuration or a convention: never evicted */
    bool has_partner; /* partner_id is valid */
    uint32_t partner_id;
    /* The flow of this id without an address byte (normal and normal fixed
     * addressing, nearly every flow): found without a table lookup. Cleared
     * when that flow is evicted. */
    struct flow *plain_flow;
} id_info;

/* Receiver-side view of one sender's flow. */
typedef enum rx_state {
    RX_IDLE,
    RX_WAIT_FC, /* FF or a full block seen; the partner's FC is due */
    RX_CF,      /* consecutive frames due */
    RX_DISCARD, /* rest of a message aborted by a sequence error: ignore CFs */
} rx_state;

typedef enum pad_state {
    PAD_UNKNOWN,
    PAD_NONE,  /* frames are cut to their data (CAN frame data optimisation) */
    PAD_VALUE, /* frames are padded to 8 bytes with pad_value */
} pad_state;

typedef struct flow {
    uint64_t key; /* ep_key(ep) */
    uf_isotp_endpoint ep;
    uf_addressing addressing;
    bool functional;
    uf_time last_seen;

    /* Message being reassembled. */
    rx_state state;
    bool fd;
    uint8_t frame_len; /* length of the FF: every CF but the last must match */
    uint8_t next_sn;
    uint32_t declared, received, stored;
    uint8_t *buf;
    uint32_t cap;
    bool truncated;
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    uint32_t frames;
    uf_time t_block_end;  /* FF or last CF of a block: N_Bs runs from here */
    uf_time t_last_event; /* last CF or FC: N_Cr runs from here */

    /* Flow control in force. */
    uint8_t bs;
    uint8_t stmin_raw;
    uint32_t stmin_us;
    uint16_t cf_in_block;
    uint16_t fc_count, fc_wait_count, wait_run;
    bool in_block;        /* a CF of the current block was seen (for gaps) */
    uf_time t_prev_cf;
    uint32_t cf_gaps;
    uf_time gap_min, gap_max;
    uint32_t stmin_violations;
    uint64_t stmin_first_frame;
    uf_time stmin_first_time, stmin_smallest;
    bool bs_reported, wait_reported, short_cf_reported;

    /* Padding learnt from the flow's frames. */
    pad_state pad;
    uint8_t pad_value;
    bool pad_reported;
} flow;

/* A frame held while its id's class is undecided. */
typedef struct held_frame {
    uint64_t number;
    uf_time time;
    uint32_t bus;
    uf_can_frame f;
} held_frame;

#define DISCOVERY_SLOTS 32

typedef struct cand_request { /* a SF that looked like a UDS request */
    uf_isotp_endpoint ep;
    uf_addressing interp;
    uf_time time;
    uint64_t seq;
    uint8_t len;
    uint8_t payload[8];
} cand_request;

typedef struct cand_ff { /* a FF, waiting for a FC on some other id */
    uf_isotp_endpoint ep;
    uf_addressing interp;
    uf_time time;
    uint64_t seq;
} cand_ff;

typedef struct cand_fc { /* FF then FC: a CF with SN 1 on the FF's id confirms */
    uf_isotp_endpoint ff_ep, fc_ep;
    uf_addressing ff_interp, fc_interp;
    uf_time time;
    uint64_t seq;
} cand_fc;

/* A direct-mapped cache in front of the id table: every frame looks up its
 * id, a capture has a handful of them, and the GLib table's lookup (hash
 * and compare through function pointers) was a tenth of a whole check. */
#define ID_CACHE_SLOTS 64
typedef struct id_cache_slot {
    uint64_t key;
    id_info *ii; /* NULL: empty */
} id_cache_slot;

struct uf_isotp {
    uf_isotp_config cfg;
    uf_isotp_pair *pairs;       /* owned copy */
    uint32_t *functional_ids;   /* owned copy */
    uf_isotp_sink sink;

    GHashTable *ids;   /* uint64 id_key -> id_info */
    id_cache_slot id_cache[ID_CACHE_SLOTS]; /* in front of ids, see ids_get() */
    GHashTable *flows; /* uint64 ep_key -> flow */
    GHashTable *links; /* uint64 ep_key -> uint64 ep_key (learnt endpoint pairs) */
    GPtrArray *waiting; /* flows in RX_WAIT_FC whose partner is unknown */
    uint64_t held_bytes; /* reassembly buffer bytes held by all flows */

    /* Hold window (discovery.c). */
    held_frame *ring;
    size_t ring_cap, ring_head, ring_count;
    cand_request requests[DISCOVERY_SLOTS];
    cand_ff ffs[DISCOVERY_SLOTS];
    cand_fc fcs[DISCOVERY_SLOTS];
    uint64_t seq;

    uf_time last_time;
    uf_isotp_stats stats;
};

/* ---- keys -----------------------------------------------------------------*/

static inline uint64_t id_key(uint32_t bus, uint32_t id)
{
    return (uint64_t)bus << 32 | id;
}

static inline uint64_t ep_key(const uf_isotp_endpoint *e)
{
    return uf_isotp_endpoint_key(e);
}

/* ---- flows.c ----------------------------------------------------------------*/

id_info *ids_get_slow(uf_isotp *t, uint32_t bus, uint32_t id);
id_info *ids_find_slow(const uf_isotp *t, uint32_t bus, uint32_t id);

/* The id's slot in the cache (64 slots: the key's top 6 bits). */
static inline size_t id_cache_index(uint64_t key)
{
    static_assert(ID_CACHE_SLOTS == 64, "the cache index takes the top 6 bits");
    return uf_hash_slot(key, 6);
}

/* The id's info if the cache holds it, else NULL. */
static inline id_info *id_cache_get(const uf_isotp *t, uint32_t bus, uint32_t id)
{
    uint64_t key = id_key(bus, id);
    const id_cache_slot *slot = &t->id_cache[id_cache_index(key)];
    return slot->key == key ? slot->ii : NULL;
}

/* The id's info, classified on first sight (config, convention, or
 * unknown); NULL only if the table is full of pinned ids. Every frame
 * asks, nearly always for an id in the cache: that answer is inline, the
 * rest in flows.c. */
static inline id_info *ids_get(uf_isotp *t, uint32_t bus, uint32_t id)
{
    id_info *ii = id_cache_get(t, bus, id);
    return ii ? ii : ids_get_slow(t, bus, id);
}

/* The id's state if it has any: through the cache too, since every
 * frame's id was just looked up by ids_get, and a partner is asked for
 * twice a message (uf_isotp_partner). */
static inline id_info *ids_find(const uf_isotp *t, uint32_t bus, uint32_t id)
{
    id_info *ii = id_cache_get(t, bus, id);
    return ii ? ii : ids_find_slow(t, bus, id);
}

/* Marks an id as diagnostic with this addressing (discovery, learning). */
id_info *ids_promote(uf_isotp *t, uint32_t bus, uint32_t id, uf_addressing addressing);

void flows_init(uf_isotp *t);
void flows_free(uf_isotp *t);
flow *flows_get(uf_isotp *t, id_info *ii, uint32_t bus, int16_t addr);
flow *flows_find(const uf_isotp *t, const uf_isotp_endpoint *ep);

void links_add(uf_isotp *t, const uf_isotp_endpoint *a, const uf_isotp_endpoint *b);

/* ---- discovery.c ------------------------------------------------------------*/

void discovery_init(uf_isotp *t);
void discovery_free(uf_isotp *t);
/* Looks for evidence in a frame of an id without a known partner. */
void discovery_observe(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus,
                       const uf_can_frame *f);
void hold_push(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus, const uf_can_frame *f);
/* Releases held frames whose id is decided, or that are too old. */
void hold_drain(uf_isotp *t, uf_time now, bool force);

/* ---- reassembly.c -----------------------------------------------------------*/

void reassembly_frame(uf_isotp *t, id_info *ii, uint64_t number, uf_time time, uint32_t bus,
                      const uf_can_frame *f);
void reassembly_finish(uf_isotp *t);
void flow_release_buffer(uf_isotp *t, flow *f);

#endif /* UF_ISOTP_INTERNAL_H */
