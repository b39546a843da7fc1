/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * TCP stream reassembly (RFC 9293 3.4 sequence numbers, 3.10.7.4 segment
 * arrival) for a passive observer: the bytes of each direction come out in
 * sequence order, once. A segment ahead of the next expected byte waits
 * (bounded per direction and in total); a segment at or before it is a
 * retransmission, and only what it adds beyond the next byte is used. Bytes
 * the capture never holds become a gap when
 *   - the other side acknowledges past them (it received them, the capture
 *     lost them),
 *   - the bytes waiting behind them exceed the bound, or
 *   - the connection ends (FIN, RST, eviction, end of input).
 * Sequence numbers compare modulo 2^32. Memory: at most max_connections
 * connections (the least recently active is evicted) and max_pending bytes
 * waiting per direction, PENDING_TOTAL in all.
 */
#include "uf_net.h"

#include <glib.h>
#include <string.h>

#define PENDING_TOTAL (64u * 1024 * 1024)
#define KEY_LEN 44 /* bus (4), family (1), two (address, port) ends (18 each), pad */
G_STATIC_ASSERT(KEY_LEN % 8 == 4); /* key_hash(): words, then four bytes */

typedef struct segment {
    uint32_t seq;
    uint32_t len;
    uint64_t frame;
    uf_time time;
    uint8_t data[]; /* len bytes */
} segment;

typedef struct direction {
    bool have_next;
    uint32_t next;       /* the next byte expected */
    bool fin;            /* a FIN taken in order */
    bool fin_seen;
    uint32_t fin_seq;    /* the sequence number the FIN occupies */
    GList *waiting;      /* segment *, sorted by seq */
    uint32_t pending;    /* bytes in waiting */
} direction;

typedef struct conn {
    uf_tcp_stream s;
    uint8_t key[KEY_LEN];
    direction dir[2];
    GList *lru;          /* this connection's link in uf_tcp.lru */
    bool client_syn;
    uint32_t client_isn; /* the SYN's sequence number: tells a new connection */
} conn;

struct uf_tcp {
    uf_tcp_config cfg;
    uint16_t *ports;
    uf_tcp_sink sink;
    GHashTable *conns;   /* key -> conn * */
    conn *last;          /* the last packet's: the next one's, most often */
    GQueue lru;          /* conn *, least recently active at the head */
    uint64_t pending_total;
    uf_tcp_stats stats;
};

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool seq_leq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

void uf_tcp_config_defaults(uf_tcp_config *c)
{
    c->max_connections = 4096;
    c->max_pending = 1024 * 1024;
    c->ports = NULL;
    c->n_ports = 0;
}

/* ---- the connection table --------------------------------------------------*/

static guint key_hash(gconstpointer k)
{
    /* Eight bytes a step (a byte at a time, FNV-1a took 8% of a DoIP
     * check), each word mixed in by a multiply and a fold. */
    const uint8_t *p = k;
    uint64_t h = 0;
    for (size_t i = 0; i + 8 <= KEY_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    uint32_t tail;
    memcpy(&tail, p + KEY_LEN - 4, 4);
    h = (h ^ tail) * 0x9E3779B97F4A7C15ull;
    return (guint)(h ^ (h >> 32));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, KEY_LEN) == 0;
}

/* One key for both directions: the two (address, port) ends in a fixed order. */
static void make_key(uint8_t key[KEY_LEN], uint32_t bus, const uf_net_packet *p)
{
    uint8_t a[18], b[18];
    memcpy(a, p->src.a, 16);
    uf_store_be16(a + 16, p->sport);
    memcpy(b, p->dst.a, 16);
    uf_store_be16(b + 16, p->dport);
    bool swap = memcmp(a, b, sizeof(a)) > 0;
    memset(key, 0, KEY_LEN);
    uf_store_be32(key, bus);
    key[4] = p->src.family;
    memcpy(key + 5, swap ? b : a, 18);
    memcpy(key + 23, swap ? a : b, 18);
}

static bool is_port_of_interest(const uf_tcp *t, uint16_t port)
{
    for (size_t i = 0; i < t->cfg.n_ports; i++)
        if (t->ports[i] == port)
            return true;
    return false;
}

/* ---- delivery ------------------------------------------------------------------*/

static void gap(uf_tcp *t, conn *c, int d, uint32_t to, uint64_t frame, uf_time time)
{
    direction *dr = &c->dir[d];
    uint32_t missing = to - dr->next;
    if (!missing)
        return;
    t->stats.gaps++;
    t->stats.gap_bytes += missing;
    dr->next = to;
    if (t->sink.gap)
        t->sink.gap(t->sink.ctx, &c->s, d, missing, frame, time);
}

/* Bytes [seq, seq + len) of a segment: what lies beyond next goes out. */
static void deliver(uf_tcp *t, conn *c, int d, uint32_t seq, const uint8_t *p, uint32_t len,
                    uint64_t frame, uf_time time)
{
    direction *dr = &c->dir[d];
    uint32_t skip = dr->next - seq; /* seq <= next here */
    if (skip >= len)
        return;
    dr->next += len - skip;
    if (t->sink.data)
        t->sink.data(t->sink.ctx, &c->s, d, p + skip, len - skip, frame, time);
}

static void drop_segment(uf_tcp *t, direction *dr, GList *l)
{
    segment *sg = l->data;
    dr->pending -= sg->len;
    t->pending_total -= sg->len;
    dr->waiting = g_list_delete_link(dr->waiting, l);
    g_free(sg);
}

/* Sends on every waiting segment that now continues the stream. */
static void drain(uf_tcp *t, conn *c, int d)
{
    direction *dr = &c->dir[d];
    for (;;) {
        segment *sg = dr->waiting ? dr->waiting->data : NULL;
        if (sg && !seq_lt(dr->next, sg->seq)) {
            deliver(t, c, d, sg->seq, sg->data, sg->len, sg->frame, sg->time);
            drop_segment(t, dr, dr->waiting);
        } else if (dr->fin_seen && !dr->fin && dr->next == dr->fin_seq) {
            dr->fin = true; /* the FIN takes a sequence number of its own */
            dr->next++;
        } else {
            break;
        }
    }
}

/* Gives up on the bytes missing before the first waiting segment. */
static bool skip_to_waiting(uf_tcp *t, conn *c, int d)
{
    direction *dr = &c->dir[d];
    if (!dr->waiting)
        return false;
    segment *sg = dr->waiting->data;
    gap(t, c, d, sg->seq, sg->frame, sg->time);
    drain(t, c, d);
    return true;
}

/* The other side acknowledged up to `ack`: it has those bytes. */
static void acknowledged(uf_tcp *t, conn *c, int d, uint32_t ack, uint64_t frame, uf_time time)
{
    direction *dr = &c->dir[d];
    if (dr->fin_seen && seq_lt(dr->fin_seq, ack))
        ack = dr->fin_seq; /* the ACK of the FIN itself: data ends before it */
    if (!dr->have_next || dr->fin || seq_leq(ack, dr->next))
        return;
    while (seq_lt(dr->next, ack)) {
        if (dr->waiting && seq_lt(((segment *)dr->waiting->data)->seq, ack)) {
            skip_to_waiting(t, c, d);
        } else {
            gap(t, c, d, ack, frame, time);
            drain(t, c, d);
        }
    }
}

static void hold(uf_tcp *t, conn *c, int d, const uf_net_packet *p, uint64_t frame, uf_time time)
{
    direction *dr = &c->dir[d];
    /* Room first: the bound per direction, then the bound over all. */
    while ((dr->pending + p->len > t->cfg.max_pending ||
            t->pending_total + p->len > PENDING_TOTAL) &&
           skip_to_waiting(t, c, d)) {
    }
    if (!seq_lt(dr->next, p->seq)) { /* the skip reached this segment */
        deliver(t, c, d, p->seq, p->payload, p->len, frame, time);
        drain(t, c, d);
        return;
    }
    if (p->len > t->cfg.max_pending) { /* cannot wait at all */
        gap(t, c, d, p->seq, frame, time);
        deliver(t, c, d, p->seq, p->payload, p->len, frame, time);
        drain(t, c, d);
        return;
    }
    segment *sg = g_malloc(sizeof(segment) + p->len);
    sg->seq = p->seq;
    sg->len = p->len;
    sg->frame = frame;
    sg->time = time;
    memcpy(sg->data, p->payload, p->len);
    GList *l = dr->waiting;
    while (l && seq_leq(((segment *)l->data)->seq, p->seq))
        l = l->next;
    dr->waiting = g_list_insert_before(dr->waiting, l, sg);
    dr->pending += p->len;
    t->pending_total += p->len;
    t->stats.out_of_order++;
}

/* ---- connections -------------------------------------------------------------------*/

static void flush(uf_tcp *t, conn *c, uint64_t frame, uf_time time)
{
    for (int d = 0; d < 2; d++) {
        while (skip_to_waiting(t, c, d)) {
        }
        /* A FIN known but never reached is the same loss. */
        direction *dr = &c->dir[d];
        if (dr->fin_seen && !dr->fin && dr->have_next && seq_lt(dr->next, dr->fin_seq))
            gap(t, c, d, dr->fin_seq, frame, time);
    }
}

static void conn_close(uf_tcp *t, conn *c, uint64_t frame, uf_time time)
{
    flush(t, c, frame, time);
    if (t->sink.close)
        t->sink.close(t->sink.ctx, &c->s, frame, time);
    for (int d = 0; d < 2; d++)
        while (c->dir[d].waiting)
            drop_segment(t, &c->dir[d], c->dir[d].waiting);
    g_queue_delete_link(&t->lru, c->lru);
    g_hash_table_remove(t->conns, c->key);
    if (t->last == c)
        t->last = NULL;
    g_free(c);
}

static conn *conn_open(uf_tcp *t, const uint8_t key[KEY_LEN], uint32_t bus,
                       const uf_net_packet *p, uint64_t frame, uf_time time)
{
    if (g_hash_table_size(t->conns) >= t->cfg.max_connections) {
        t->stats.evicted++;
        conn_close(t, g_queue_peek_head(&t->lru), frame, time);
    }
    conn *c = g_new0(conn, 1);
    memcpy(c->key, key, KEY_LEN);
    c->s.id = ++t->stats.connections;
    c->s.bus = bus;
    /* Who is the client: who sent a lone SYN; else who talks to the port
     * of interest; else who sent this first packet. */
    bool from_server = ((p->flags & (UF_TCP_SYN | UF_TCP_ACK)) == (UF_TCP_SYN | UF_TCP_ACK)) ||
                       (!(p->flags & UF_TCP_SYN) && is_port_of_interest(t, p->sport) &&
                        !is_port_of_interest(t, p->dport));
    c->s.addr[from_server ? 1 : 0] = p->src;
    c->s.addr[from_server ? 0 : 1] = p->dst;
    c->s.port[from_server ? 1 : 0] = p->sport;
    c->s.port[from_server ? 0 : 1] = p->dport;
    g_hash_table_insert(t->conns, c->key, c);
    g_queue_push_tail(&t->lru, c);
    c->lru = g_queue_peek_tail_link(&t->lru);
    if (t->sink.open)
        t->sink.open(t->sink.ctx, &c->s, frame, time);
    return c;
}

/* Two 16-byte addresses, in two loads each: this runs on every packet,
 * where memcmp() was a call. */
static inline bool same_address(const uint8_t *a, const uint8_t *b)
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* 0 if the packet goes from c's client to its server, 1 the other way,
 * -1 if it is not c's. */
static int direction_in(const conn *c, const uf_net_packet *p)
{
    if (p->src.family != c->s.addr[0].family)
        return -1;
    for (int d = 0; d < 2; d++)
        if (p->sport == c->s.port[d] && p->dport == c->s.port[1 - d] &&
            same_address(p->src.a, c->s.addr[d].a) && same_address(p->dst.a, c->s.addr[1 - d].a))
            return d;
    return -1;
}

uf_tcp *uf_tcp_new(const uf_tcp_config *config, const uf_tcp_sink *sink)
{
    uf_tcp *t = g_new0(uf_tcp, 1);
    t->cfg = *config;
    if (!t->cfg.max_connections)
        t->cfg.max_connections = 1;
    t->ports = g_memdup2(config->ports, config->n_ports * sizeof(uint16_t));
    t->cfg.ports = t->ports;
    t->sink = *sink;
    t->conns = g_hash_table_new(key_hash, key_equal);
    g_queue_init(&t->lru);
    return t;
}

void uf_tcp_free(uf_tcp *t)
{
    if (!t)
        return;
    while (!g_queue_is_empty(&t->lru)) {
        conn *c = g_queue_peek_head(&t->lru);
        for (int d = 0; d < 2; d++)
            while (c->dir[d].waiting)
                drop_segment(t, &c->dir[d], c->dir[d].waiting);
        g_queue_delete_link(&t->lru, c->lru);
        g_free(c);
    }
    g_hash_table_destroy(t->conns);
    g_free(t->ports);
    g_free(t);
}

void uf_tcp_packet(uf_tcp *t, uint32_t bus, const uf_net_packet *p, uint64_t frame, uf_time time)
{
    if (p->proto != UF_NET_TCP)
        return;
    if (t->cfg.n_ports && !is_port_of_interest(t, p->sport) && !is_port_of_interest(t, p->dport))
        return;
    t->stats.segments++;
    /* Most segments belong to the last one's connection: its ends are
     * compared as they are, without building and hashing a key. */
    uint8_t key[KEY_LEN];
    int d = t->last && t->last->s.bus == bus ? direction_in(t->last, p) : -1;
    conn *c = d >= 0 ? t->last : NULL;
    if (!c) {
        make_key(key, bus, p);
        c = g_hash_table_lookup(t->conns, key);
    }
    bool syn = p->flags & UF_TCP_SYN, lone_syn = syn && !(p->flags & UF_TCP_ACK);
    if (c && lone_syn && (!c->client_syn || c->client_isn != p->seq)) {
        if (d >= 0)
            memcpy(key, c->key, KEY_LEN); /* the key was not built */
        conn_close(t, c, frame, time); /* the same ports used again */
        c = NULL;
        d = -1;
    }
    if (!c) {
        /* A bare ACK, FIN or RST of a connection already closed (or never
         * seen) opens nothing. */
        if (!syn && p->len == 0)
            return;
        c = conn_open(t, key, bus, p, frame, time);
    }
    t->last = c;
    if (c->lru != t->lru.tail) {
        g_queue_unlink(&t->lru, c->lru);
        g_queue_push_tail_link(&t->lru, c->lru);
    }

    if (d < 0)
        d = direction_in(c, p); /* c is the packet's: its key matched, or it was opened by it */
    direction *dr = &c->dir[d];
    uint32_t seq = p->seq;
    if (syn) {
        if (d == 0 && lone_syn) {
            c->client_syn = true;
            c->client_isn = seq;
            c->s.syn_seen = true;
        }
        if (!dr->have_next) {
            dr->have_next = true;
            dr->next = seq + 1;
        }
        seq++;
    } else if (!dr->have_next && p->len) {
        dr->have_next = true; /* the capture starts inside the connection */
        dr->next = seq;
    }
    if (p->flags & UF_TCP_ACK)
        acknowledged(t, c, 1 - d, p->ack, frame, time);
    if (p->len) {
        uf_net_packet at = *p;
        at.seq = seq;
        if (seq_leq(seq + p->len, dr->next)) {
            t->stats.retransmitted++;
        } else if (seq_leq(seq, dr->next)) {
            if (seq_lt(seq, dr->next))
                t->stats.retransmitted++;
            deliver(t, c, d, seq, p->payload, p->len, frame, time);
            drain(t, c, d);
        } else {
            hold(t, c, d, &at, frame, time);
        }
    }
    if ((p->flags & UF_TCP_FIN) && !dr->fin_seen) {
        dr->fin_seen = true;
        dr->fin_seq = seq + p->len;
        drain(t, c, d);
    }
    if ((p->flags & UF_TCP_RST) || (c->dir[0].fin && c->dir[1].fin))
        conn_close(t, c, frame, time);
}

void uf_tcp_finish(uf_tcp *t, uint64_t frame, uf_time time)
{
    while (!g_queue_is_empty(&t->lru))
        conn_close(t, g_queue_peek_head(&t->lru), frame, time);
}

uf_tcp_stats uf_tcp_get_stats(const uf_tcp *t)
{
    return t->stats;
}
