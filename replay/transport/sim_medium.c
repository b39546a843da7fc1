/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A node of the simulated bus as a CAN medium: writing queues the frame
 * and runs the bus until it is through (arbitration and the frame's own
 * bit time included); reading runs the bus until a frame for this node
 * arrives or the deadline. Everything else on the bus (a simulated ECU)
 * runs meanwhile, on the same virtual clock.
 */
#include "uf_transport.h"

#include <glib.h>
#include <string.h>

typedef struct sim_medium {
    uf_can_medium base;
    uf_simbus *bus;
    uf_sim_node *node;
    GQueue rx;           /* frames received, with their times */
    bool sent;
    uf_time sent_at;
} sim_medium;

typedef struct rx_frame {
    uf_can_frame f;
    uf_time t;
} rx_frame;

static void on_frame(void *ctx, const uf_can_frame *f, uf_time t)
{
    sim_medium *s = ctx;
    rx_frame *r = g_new(rx_frame, 1);
    r->f = *f;
    r->t = t;
    g_queue_push_tail(&s->rx, r);
}

static void on_sent(void *ctx, uf_time t)
{
    sim_medium *s = ctx;
    s->sent = true;
    s->sent_at = t;
}

static bool is_sent(void *ctx)
{
    return ((sim_medium *)ctx)->sent;
}

static bool has_rx(void *ctx)
{
    return !g_queue_is_empty(&((sim_medium *)ctx)->rx);
}

static bool sim_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    sim_medium *s = (sim_medium *)m;
    s->sent = false;
    uf_simbus_transmit(s->node, f);
    /* N_As: 1000 ms to win the bus and send (ISO 15765-2:2016 Table 16). */
    uf_time limit = uf_simbus_now(s->bus) + 1000 * UF_NS_PER_MS;
    if (!uf_simbus_run(s->bus, limit, is_sent, s)) {
        uf_error_set(err, "%s: frame 0x%X not sent within N_As (1000 ms): the bus is busy",
                     m->name, f->id);
        return false;
    }
    *sent = s->sent_at;
    return true;
}

static int sim_read(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline, uf_error *err)
{
    sim_medium *s = (sim_medium *)m;
    /* Without a deadline the bus runs until a frame comes or nothing is
     * left to happen. */
    uf_time until = deadline == UF_TIME_NONE ? INT64_MAX : deadline;
    if (g_queue_is_empty(&s->rx) && !uf_simbus_run(s->bus, until, has_rx, s)) {
        if (deadline != UF_TIME_NONE)
            return 0;
        uf_error_set(err, "%s: nothing more happens on the simulated bus: no frame will come",
                     m->name);
        return -1;
    }
    rx_frame *r = g_queue_pop_head(&s->rx);
    *f = r->f;
    *t = r->t;
    g_free(r);
    return 1;
}

static uf_time sim_now(uf_can_medium *m)
{
    return uf_simbus_now(((sim_medium *)m)->bus);
}

static void sim_free(uf_can_medium *m)
{
    sim_medium *s = (sim_medium *)m;
    g_queue_clear_full(&s->rx, g_free);
    g_free(s);
}

static const uf_can_medium_ops sim_ops = {sim_write, sim_read, sim_now, sim_free};

uf_can_medium *uf_can_medium_sim(uf_simbus *bus, const char *name)
{
    sim_medium *s = g_new0(sim_medium, 1);
    s->base.ops = &sim_ops;
    g_strlcpy(s->base.name, name ? name : "sim", sizeof(s->base.name));
    s->bus = bus;
    g_queue_init(&s->rx);
    uf_sim_node_ops ops = {.ctx = s, .frame = on_frame, .sent = on_sent};
    s->node = uf_simbus_attach(bus, &ops);
    return &s->base;
}
