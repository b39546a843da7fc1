/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Request / response pairing (ISO 14229-1:2020 7.5 and 8.7):
 *   - a physical request waits on its tester channel until a final
 *     response: positive, or negative other than 0x78; any number of 0x78
 *     (requestCorrectlyReceivedResponsePending) may come first;
 *   - a functional request (0x7DF, 0x18DB..) may be answered by several ECUs,
 *     each with its own chain of 0x78 (response time and P2* per ECU);
 *   - suppressPosRspMsgIndicationBit: no positive response is due, but a
 *     negative one may still come;
 *   - a request a DoIP entity refused (diagnostic message NACK) is owed none;
 *   - a response that matches no waiting request is reported as such, and
 *     a request still waiting when the next one starts had no response.
 * Responses on ids whose partner is unknown pair with a waiting request of
 * the same service on the same bus; the pair is then taught to ISO-TP.
 */
#include "uf_uds.h"

#include <glib.h>
#include <string.h>

#define NRC_RESPONSE_PENDING 0x78
#define MAX_FUNCTIONAL 64
#define MAX_RESPONDERS 16

/* The 0x78 chain of one ECU answering a request. */
typedef struct pending_chain {
    uint64_t ecu;          /* endpoint key of the answering ECU */
    uint32_t count;        /* 0x78 received */
    uf_time last;          /* time of the last one */
} pending_chain;

typedef struct channel {
    uint64_t key;
    uf_uds_request_ref req;
    bool waiting;          /* a request waits for its final response */
    uf_time last_pending;  /* time of the last 0x78 (a physical request) */
    /* A functional request: every ECU that answers runs its own 0x78 chain,
     * and P2* runs from that ECU's last 0x78, not another's. */
    pending_chain chains[MAX_RESPONDERS];
    uint32_t n_chains;
} channel;

#define RECENT_BITS 3
#define RECENT_CHANNELS (1u << RECENT_BITS)

struct uf_uds {
    uf_isotp *isotp;
    uf_uds_names names;
    uf_uds_sink sink;
    GHashTable *channels; /* tester endpoint key -> channel; never removed */
    /* Channels looked up lately, by their key's hash: a flash is one
     * conversation, and a bus of parallel flashes a few. */
    channel *recent[RECENT_CHANNELS];
    channel functional[MAX_FUNCTIONAL]; /* latest functional request per id */
    size_t n_functional;
    uint64_t next_index;
};

uf_uds *uf_uds_new(uf_isotp *isotp, const uf_uds_names *names, const uf_uds_sink *sink)
{
    uf_uds *u = g_new0(uf_uds, 1);
    u->isotp = isotp;
    if (names)
        u->names = *names;
    u->sink = *sink;
    u->channels = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    return u;
}

void uf_uds_free(uf_uds *u)
{
    if (!u)
        return;
    g_hash_table_destroy(u->channels);
    g_free(u);
}

static void close_request(uf_uds *u, channel *c)
{
    if (c->waiting && c->req.responses == 0 && !c->req.suppress && u->sink.unanswered)
        u->sink.unanswered(u->sink.ctx, &c->req);
    c->waiting = false;
}

static channel *channel_for(uf_uds *u, const uf_isotp_endpoint *tester,
                            const uf_isotp_endpoint *ecu, bool create)
{
    uint64_t k = uf_conversation_key(tester, ecu);
    channel **slot = &u->recent[uf_hash_slot(k, RECENT_BITS)];
    if (*slot && (*slot)->key == k)
        return *slot;
    channel *c = g_hash_table_lookup(u->channels, &k);
    if (!c && create) {
        c = g_new0(channel, 1);
        c->key = k;
        g_hash_table_insert(u->channels, &c->key, c);
    }
    if (c)
        *slot = c;
    return c;
}

static channel *functional_for(uf_uds *u, const uf_isotp_endpoint *ep)
{
    for (size_t i = 0; i < u->n_functional; i++) {
        uf_isotp_endpoint *e = &u->functional[i].req.tester;
        if (e->bus == ep->bus && e->id == ep->id && e->addr == ep->addr)
            return &u->functional[i];
    }
    if (u->n_functional == MAX_FUNCTIONAL)
        return &u->functional[MAX_FUNCTIONAL - 1];
    channel *c = &u->functional[u->n_functional++];
    memset(c, 0, sizeof(*c));
    return c;
}

/* Who is who, from the ISO-TP endpoints: a request comes from the tester,
 * a response from the ECU; the other side is the partner if it is known. */
static void assign_roles(uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    bool request = m->d.kind == UF_UDS_REQUEST;
    m->tester = request ? tp->src : tp->dst;
    m->tester_known = request || tp->dst_known;
    m->ecu = request ? tp->dst : tp->src;
    m->ecu_known = !request || tp->dst_known;
    m->functional = tp->functional;
}

static void on_request(uf_uds *u, uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    channel *c = tp->functional ? functional_for(u, &tp->src)
                                : channel_for(u, &tp->src, tp->dst_known ? &tp->dst : NULL, true);
    close_request(u, c);
    memset(&c->req, 0, sizeof(c->req));
    c->req.index = m->index;
    c->req.sid = m->d.sid;
    c->req.has_subfunction = m->d.has_subfunction;
    c->req.subfunction = m->d.subfunction;
    c->req.suppress = m->d.suppress;
    c->req.functional = tp->functional;
    c->req.first_frame = tp->first_frame;
    c->req.last_frame = tp->last_frame;
    c->req.t_end = tp->t_last;
    c->req.tester = tp->src;
    c->req.ecu = tp->dst;
    c->req.ecu_known = tp->dst_known;
    /* A DoIP entity that refused the message (NACK) never passed it on:
     * no response is owed. */
    c->waiting = !tp->nacked;
    c->last_pending = UF_TIME_NONE;
    c->n_chains = 0;
}

/* The 0x78 chain of this ECU for a functional request; NULL when more ECUs
 * answered than are tracked (the request's shared chain stands in). */
static pending_chain *chain_for(channel *c, const uf_isotp_endpoint *ecu)
{
    uint64_t k = uf_isotp_endpoint_key(ecu);
    for (uint32_t i = 0; i < c->n_chains; i++)
        if (c->chains[i].ecu == k)
            return &c->chains[i];
    if (c->n_chains == MAX_RESPONDERS)
        return NULL;
    pending_chain *p = &c->chains[c->n_chains++];
    p->ecu = k;
    p->count = 0;
    p->last = UF_TIME_NONE;
    return p;
}

static bool matches(const channel *c, const uf_uds_decoded *d)
{
    if (!c->waiting || c->req.sid != d->sid)
        return false;
    /* A positive response echoes the sub-function (7.5). */
    if (d->kind == UF_UDS_POSITIVE && c->req.has_subfunction && d->has_subfunction)
        return c->req.subfunction == d->subfunction;
    return true;
}

/* The request a response answers: the partner's channel, a functional
 * request on the bus, or a waiting request on an id without partner. */
static channel *find_request(uf_uds *u, const uf_isotp_message *tp, const uf_uds_decoded *d)
{
    uf_isotp_endpoint tester;
    if (tp->dst_known) {
        channel *c = channel_for(u, &tp->dst, &tp->src, false);
        if (c && matches(c, d))
            return c;
    }
    channel *best = NULL;
    for (size_t i = 0; i < u->n_functional; i++) {
        channel *c = &u->functional[i];
        if (c->req.tester.bus == tp->src.bus && matches(c, d) &&
            (!best || c->req.index > best->req.index))
            best = c;
    }
    if (best || tp->transport == UF_TRANSPORT_DOIP)
        return best; /* DoIP names both ends: nothing to guess */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, u->channels);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        channel *c = v;
        if (c->req.tester.bus == tp->src.bus && matches(c, d) &&
            !uf_isotp_partner(u->isotp, &c->req.tester, &tester) &&
            (!best || c->req.index > best->req.index))
            best = c;
    }
    if (best)
        uf_isotp_learn_pair(u->isotp, &best->req.tester, &tp->src);
    return best;
}

static void on_response(uf_uds *u, uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    channel *c = find_request(u, tp, &m->d);
    if (!c)
        return;
    m->request = &c->req;
    if (!m->tester_known) {
        /* The ECU's partner is unknown: the tester is who asked. An answer to
         * a functional request otherwise keeps the ECU's physical partner. */
        m->tester = c->req.tester;
        m->tester_known = true;
    }
    m->functional = c->req.functional;
    pending_chain *chain = c->req.functional ? chain_for(c, &tp->src) : NULL;
    uint32_t pending = chain ? chain->count : c->req.pending_count;
    uf_time last_pending = chain ? chain->last : c->last_pending;
    m->pending_before = pending;
    if (tp->t_first != UF_TIME_NONE && c->req.t_end != UF_TIME_NONE) {
        m->response_time = uf_time_diff(tp->t_first, c->req.t_end);
        if (last_pending != UF_TIME_NONE)
            m->since_pending = uf_time_diff(tp->t_first, last_pending);
    }
    if (m->d.kind == UF_UDS_NEGATIVE && m->d.nrc == NRC_RESPONSE_PENDING) {
        c->req.pending_count++;
        c->last_pending = tp->t_first;
        if (chain) {
            chain->count++;
            chain->last = tp->t_first;
        }
        return; /* the final response is still due */
    }
    c->req.responses++;
    if (!c->req.functional)
        c->waiting = false; /* functional requests stay open for other ECUs */
}

void uf_uds_message_in(uf_uds *u, const uf_isotp_message *tp)
{
    uf_uds_message m;
    memset(&m, 0, sizeof(m));
    m.index = ++u->next_index;
    m.tp = tp;
    m.response_time = UF_TIME_NONE;
    m.since_pending = UF_TIME_NONE;
    uf_uds_decode(tp->data, tp->len, &m.d);
    assign_roles(&m);
    if (!tp->complete || tp->truncated) {
        /* A partial payload decodes only as far as it goes; no pairing. */
        m.incomplete = !tp->complete;
        if (m.incomplete)
            m.d.malformed = NULL;
        if (u->sink.message)
            u->sink.message(u->sink.ctx, &m);
        return;
    }
    if (m.d.kind == UF_UDS_REQUEST)
        on_request(u, &m);
    else
        on_response(u, &m);
    if (m.d.malformed && u->sink.finding) {
        char svc[24], who[32];
        uf_finding f;
        uf_finding_init(&f, "uds.malformed", tp->last_frame, tp->t_last, tp->src.bus,
                        "%s: %s %s: %s", uf_isotp_endpoint_name(&tp->src, who, sizeof(who)),
                        uf_uds_display_service(m.d.sid, svc, sizeof(svc)),
                        uf_uds_kind_name(m.d.kind), m.d.malformed);
        f.has_id = true;
        f.id = tp->src.id;
        f.id_addr = tp->src.addr;
        u->sink.finding(u->sink.ctx, &f);
    }
    if (u->sink.message)
        u->sink.message(u->sink.ctx, &m);
}

static gint by_index(gconstpointer a, gconstpointer b)
{
    const channel *x = *(channel *const *)a, *y = *(channel *const *)b;
    return x->req.index < y->req.index ? -1 : x->req.index > y->req.index;
}

void uf_uds_finish(uf_uds *u)
{
    /* In request order, so that reports read like the capture. */
    GPtrArray *open = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, u->channels);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (((channel *)v)->waiting)
            g_ptr_array_add(open, v);
    for (size_t i = 0; i < u->n_functional; i++)
        if (u->functional[i].waiting)
            g_ptr_array_add(open, &u->functional[i]);
    g_ptr_array_sort(open, by_index);
    for (guint i = 0; i < open->len; i++)
        close_request(u, g_ptr_array_index(open, i));
    g_ptr_array_free(open, TRUE);
}
