/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The simulated bus: a discrete-event loop on a virtual clock. Each node
 * has a FIFO of frames; whenever the bus is idle the queued heads
 * arbitrate (ISO 11898-1:2015 10.6: the lowest arbitration field wins), the
 * winner holds the bus for its frame's duration, and at its end every other
 * node receives it and the sender is told. Between frames, nodes are woken
 * at the times they ask for (STmin, timeouts, an ECU's delayed answer).
 */
#include "uf_simbus.h"

#include <glib.h>
#include <string.h>

struct uf_sim_node {
    uf_simbus *bus;
    uf_sim_node_ops ops;
    GQueue queue; /* uf_can_frame * */
};

struct uf_simbus {
    uint32_t bitrate, data_bitrate;
    uf_time now;
    GPtrArray *nodes;          /* uf_sim_node * */
    uf_sim_node *sender;       /* the node whose frame is on the bus, or NULL */
    uf_can_frame on_bus;
    uf_time busy_until;
    void (*tap)(void *ctx, const uf_can_frame *f, uf_time t);
    void *tap_ctx;
    uf_simbus_stats stats;
};

uf_simbus *uf_simbus_new(uint32_t bitrate, uint32_t data_bitrate, uf_time start)
{
    uf_simbus *b = g_new0(uf_simbus, 1);
    b->bitrate = bitrate;
    b->data_bitrate = data_bitrate;
    b->now = start;
    b->nodes = g_ptr_array_new();
    return b;
}

void uf_simbus_free(uf_simbus *b)
{
    if (!b)
        return;
    for (guint i = 0; i < b->nodes->len; i++) {
        uf_sim_node *n = g_ptr_array_index(b->nodes, i);
        g_queue_clear_full(&n->queue, g_free);
        g_free(n);
    }
    g_ptr_array_free(b->nodes, TRUE);
    g_free(b);
}

uf_sim_node *uf_simbus_attach(uf_simbus *b, const uf_sim_node_ops *ops)
{
    uf_sim_node *n = g_new0(uf_sim_node, 1);
    n->bus = b;
    n->ops = *ops;
    g_queue_init(&n->queue);
    g_ptr_array_add(b->nodes, n);
    return n;
}

void uf_simbus_detach(uf_sim_node *n)
{
    /* The node itself stays until the bus is freed: a frame of its may be
     * on the bus now, and arbitration keeps its place in the order. */
    memset(&n->ops, 0, sizeof(n->ops));
    g_queue_clear_full(&n->queue, g_free);
}

void uf_simbus_transmit(uf_sim_node *n, const uf_can_frame *f)
{
    g_queue_push_tail(&n->queue, g_memdup2(f, sizeof(*f)));
    if (n->queue.length > n->bus->stats.max_queue)
        n->bus->stats.max_queue = n->queue.length;
}

uf_time uf_simbus_now(const uf_simbus *b)
{
    return b->now;
}

void uf_simbus_tap(uf_simbus *b, void (*tap)(void *ctx, const uf_can_frame *f, uf_time t),
                   void *ctx)
{
    b->tap = tap;
    b->tap_ctx = ctx;
}

void uf_simbus_get_stats(const uf_simbus *b, uf_simbus_stats *out)
{
    *out = b->stats;
}

/* The bus is idle: the queued heads arbitrate; ties (two nodes sending the
 * same id, an error on a real bus) go to the node attached first. */
static void arbitrate(uf_simbus *b)
{
    uf_sim_node *winner = NULL;
    uint32_t best = 0;
    for (guint i = 0; i < b->nodes->len; i++) {
        uf_sim_node *n = g_ptr_array_index(b->nodes, i);
        const uf_can_frame *f = g_queue_peek_head(&n->queue);
        if (!f)
            continue;
        uint32_t key = uf_can_arbitration_key(f);
        if (!winner || key < best) {
            winner = n;
            best = key;
        }
    }
    if (!winner)
        return;
    uf_can_frame *f = g_queue_pop_head(&winner->queue);
    b->on_bus = *f;
    g_free(f);
    b->sender = winner;
    uf_time d = uf_can_frame_duration(&b->on_bus, b->bitrate, b->data_bitrate);
    b->busy_until = b->now + d;
    b->stats.busy += d;
}

/* The frame on the bus ends now. */
static void complete(uf_simbus *b)
{
    uf_sim_node *sender = b->sender;
    uf_can_frame f = b->on_bus;
    b->sender = NULL;
    b->stats.frames++;
    if (b->tap)
        b->tap(b->tap_ctx, &f, b->now);
    for (guint i = 0; i < b->nodes->len; i++) {
        uf_sim_node *n = g_ptr_array_index(b->nodes, i);
        if (n != sender && n->ops.frame)
            n->ops.frame(n->ops.ctx, &f, b->now);
    }
    if (sender->ops.sent)
        sender->ops.sent(sender->ops.ctx, b->now);
}

static uf_time next_wakeup(const uf_simbus *b)
{
    uf_time t = UF_TIME_NONE;
    for (guint i = 0; i < b->nodes->len; i++) {
        uf_sim_node *n = g_ptr_array_index(b->nodes, i);
        if (!n->ops.wakeup)
            continue;
        uf_time w = n->ops.wakeup(n->ops.ctx);
        if (w != UF_TIME_NONE && (t == UF_TIME_NONE || w < t))
            t = w;
    }
    return t;
}

static void tick_due(uf_simbus *b)
{
    for (guint i = 0; i < b->nodes->len; i++) {
        uf_sim_node *n = g_ptr_array_index(b->nodes, i);
        if (!n->ops.wakeup || !n->ops.tick)
            continue;
        uf_time w = n->ops.wakeup(n->ops.ctx);
        if (w != UF_TIME_NONE && w <= b->now)
            n->ops.tick(n->ops.ctx, b->now);
    }
}

bool uf_simbus_run(uf_simbus *b, uf_time until, bool (*done)(void *ctx), void *ctx)
{
    /* A node that keeps asking for the present moment without acting would
     * spin here: after this many events at one instant the run ends. */
    enum { STALL_LIMIT = 100000 };
    unsigned stalled = 0;
    for (;;) {
        if (done && done(ctx))
            return true;
        if (!b->sender)
            arbitrate(b);
        uf_time next = next_wakeup(b);
        if (b->sender && (next == UF_TIME_NONE || b->busy_until <= next))
            next = b->busy_until;
        if (next == UF_TIME_NONE || next > until || stalled > STALL_LIMIT) {
            /* Nothing left to happen and no end asked for: the clock stays. */
            if (until > b->now && until != INT64_MAX)
                b->now = until;
            return done && done(ctx);
        }
        if (next > b->now) {
            b->now = next;
            stalled = 0;
        } else {
            stalled++;
        }
        if (b->sender && b->busy_until <= b->now) {
            complete(b);
            stalled = 0;
        }
        tick_due(b);
    }
}
