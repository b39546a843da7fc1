/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A node of the simulated bus as a CAN medium: writing queues the frame
 * and runs the bus until it is through (arbitration and the frame's own
 * bit time included); reading runs the bus until a frame for this node
 * arrives or the deadline. Everything else on the bus (a simulated ECU)
 * runs meanwhile, on the same virtual clock.
 *
 * Several testers may share one bus, each in its own thread (udsreplay
 * flashing ECUs in parallel). The virtual clock must then not move while
 * any of them still computes: a tester that works at time t may still put
 * a frame on the bus at t. So the bus runs only while every tester waits,
 * up to the earliest deadline among them or until one of them is served;
 * that one goes on, the others stay asleep. Which thread happens to run
 * the bus does not matter: the order of events is the bus's alone, so the
 * result is the same on every run.
 */
#include "uf_transport.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>

/* pthread rather than GMutex: ThreadSanitizer sees these. */
struct uf_simbus_group {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uf_simbus *bus;
    GPtrArray *members;  /* sim_medium, those that have not left */
    guint waiting;       /* members inside sim_write / sim_read */
    bool running;        /* one of them runs the bus */
    bool stalled;        /* the bus has nothing left to do and nobody sends */
};

typedef struct sim_medium {
    uf_can_medium base;
    uf_simbus_group *group;
    bool own_group;
    uf_sim_node *node;
    GQueue rx;           /* frames received, with their times */
    bool sent;
    uf_time sent_at;
    /* While waiting: for what, and until when. */
    bool wants_sent;
    uf_time deadline;
} sim_medium;

typedef struct rx_frame {
    uf_can_frame f;
    uf_time t;
} rx_frame;

uf_simbus_group *uf_simbus_group_new(uf_simbus *bus)
{
    uf_simbus_group *g = g_new0(uf_simbus_group, 1);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    g->bus = bus;
    g->members = g_ptr_array_new();
    return g;
}

void uf_simbus_group_free(uf_simbus_group *g)
{
    if (!g)
        return;
    g_ptr_array_free(g->members, TRUE);
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
    g_free(g);
}

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

/* ---- the conductor -------------------------------------------------------------*/

/* Served: what it waits for came, or its deadline passed. */
static bool served(sim_medium *s, uf_time now)
{
    if (s->wants_sent ? s->sent : !g_queue_is_empty(&s->rx))
        return true;
    return s->deadline != UF_TIME_NONE && now >= s->deadline;
}

static bool any_served(void *ctx)
{
    uf_simbus_group *g = ctx;
    uf_time now = uf_simbus_now(g->bus);
    for (guint i = 0; i < g->members->len; i++) {
        sim_medium *m = g_ptr_array_index(g->members, i);
        if (served(m, now))
            return true;
    }
    return false;
}

/* Every member waits and none is served: run the bus to the earliest
 * deadline, or until someone is served. Called with the lock held; the
 * others sleep on it, so the bus and every member's queue are ours. */
static void run_bus(uf_simbus_group *g)
{
    uf_time until = INT64_MAX;
    for (guint i = 0; i < g->members->len; i++) {
        sim_medium *m = g_ptr_array_index(g->members, i);
        if (m->deadline != UF_TIME_NONE && m->deadline < until)
            until = m->deadline;
    }
    g->running = true;
    if (!uf_simbus_run(g->bus, until, any_served, g) && until == INT64_MAX)
        g->stalled = true;
    g->running = false;
    pthread_cond_broadcast(&g->changed);
}

/* Waits (lock held) until s is served or the bus stalls; false: stalled. */
static bool wait_served(sim_medium *s)
{
    uf_simbus_group *g = s->group;
    g->waiting++;
    bool ok = true;
    for (;;) {
        if (served(s, uf_simbus_now(g->bus)))
            break;
        if (g->stalled && s->deadline == UF_TIME_NONE) {
            ok = false;
            break;
        }
        if (g->waiting == g->members->len && !g->running && !any_served(g))
            run_bus(g);
        else
            pthread_cond_wait(&g->changed, &g->lock);
    }
    g->waiting--;
    return ok;
}

/* ---- the medium ------------------------------------------------------------------*/

static bool sim_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    sim_medium *s = (sim_medium *)m;
    uf_simbus_group *g = s->group;
    pthread_mutex_lock(&g->lock);
    g->stalled = false;
    s->sent = false;
    uf_simbus_transmit(s->node, f);
    /* N_As: 1000 ms to win the bus and send (ISO 15765-2:2016 Table 16). */
    s->wants_sent = true;
    s->deadline = uf_simbus_now(g->bus) + 1000 * UF_NS_PER_MS;
    wait_served(s);
    bool ok = s->sent;
    *sent = s->sent_at;
    s->wants_sent = false;
    s->deadline = UF_TIME_NONE;
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        uf_error_set(err, "%s: frame 0x%X not sent within N_As (1000 ms): the bus is busy",
                     m->name, f->id);
    return ok;
}

static int sim_read(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline, uf_error *err)
{
    sim_medium *s = (sim_medium *)m;
    uf_simbus_group *g = s->group;
    pthread_mutex_lock(&g->lock);
    /* Without a deadline the bus runs until a frame comes or nothing is
     * left to happen. */
    s->deadline = deadline;
    bool alive = wait_served(s);
    s->deadline = UF_TIME_NONE;
    rx_frame *r = g_queue_pop_head(&s->rx);
    pthread_mutex_unlock(&g->lock);
    if (!r) {
        if (alive)
            return 0;
        uf_error_set(err, "%s: nothing more happens on the simulated bus: no frame will come",
                     m->name);
        return -1;
    }
    *f = r->f;
    *t = r->t;
    g_free(r);
    return 1;
}

static uf_time sim_now(uf_can_medium *m)
{
    uf_simbus_group *g = ((sim_medium *)m)->group;
    pthread_mutex_lock(&g->lock);
    uf_time now = uf_simbus_now(g->bus);
    pthread_mutex_unlock(&g->lock);
    return now;
}

/* Leaves the group, so the others need not wait for it any more, and the
 * bus, which will not call it again. */
static void sim_free(uf_can_medium *m)
{
    sim_medium *s = (sim_medium *)m;
    uf_simbus_group *g = s->group;
    pthread_mutex_lock(&g->lock);
    g_ptr_array_remove(g->members, s);
    uf_simbus_detach(s->node);
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    if (s->own_group)
        uf_simbus_group_free(g);
    g_queue_clear_full(&s->rx, g_free);
    g_free(s);
}

/* No burst: the simulated bus runs frame by frame. */
static const uf_can_medium_ops sim_ops = {sim_write, sim_read, sim_now, sim_free, NULL};

uf_can_medium *uf_can_medium_sim_shared(uf_simbus_group *g, const char *name)
{
    sim_medium *s = g_new0(sim_medium, 1);
    s->base.ops = &sim_ops;
    g_strlcpy(s->base.name, name ? name : "sim", sizeof(s->base.name));
    s->group = g;
    s->deadline = UF_TIME_NONE;
    g_queue_init(&s->rx);
    uf_sim_node_ops ops = {.ctx = s, .frame = on_frame, .sent = on_sent};
    pthread_mutex_lock(&g->lock);
    s->node = uf_simbus_attach(g->bus, &ops);
    g_ptr_array_add(g->members, s);
    pthread_mutex_unlock(&g->lock);
    return &s->base;
}

uf_can_medium *uf_can_medium_sim(uf_simbus *bus, const char *name)
{
    sim_medium *s = (sim_medium *)uf_can_medium_sim_shared(uf_simbus_group_new(bus), name);
    s->own_group = true;
    return &s->base;
}
