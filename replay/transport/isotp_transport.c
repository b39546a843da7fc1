/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The userspace ISO-TP endpoint over a CAN medium (simulated bus or raw
 * SocketCAN) as a message transport: sending drives the endpoint frame by
 * frame through the sender's flow control, receiving feeds it the medium's
 * frames and sends its flow control, both until a message is complete, the
 * endpoint gives up (N_Bs, N_Cr, FC.OVFLW, ...) or the deadline passes.
 */
#include "uf_transport.h"

#include <glib.h>
#include <string.h>
#include <time.h>

typedef struct isotp_transport {
    uf_channel base;
    uf_can_medium *m;
    uf_isotp_ep *ep;
    GQueue inbox;        /* received messages, uf_channel_msg * with data after it */
    uf_channel_msg current;
    bool sent;
    bool failed_tx, failed_rx;
    char why[200];
} isotp_transport;

uf_time uf_clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uf_time_from_parts(ts.tv_sec, ts.tv_nsec);
}

static void on_received(void *ctx, const uint8_t *p, size_t n, bool functional, uf_time t)
{
    isotp_transport *x = ctx;
    uf_channel_msg *m = g_malloc(sizeof(*m) + n);
    m->data = (uint8_t *)(m + 1);
    memcpy(m->data, p, n);
    m->len = n;
    m->functional = functional;
    m->time = t;
    g_queue_push_tail(&x->inbox, m);
}

static void on_sent(void *ctx, uf_time t)
{
    (void)t;
    ((isotp_transport *)ctx)->sent = true;
}

static void on_failed(void *ctx, bool tx, const char *why, uf_time t)
{
    (void)t;
    isotp_transport *x = ctx;
    if (tx)
        x->failed_tx = true;
    else
        x->failed_rx = true;
    g_strlcpy(x->why, why, sizeof(x->why));
}

/* The most frames handed to the medium at once: at STmin 0 the rest of a
 * block goes as one burst, and a system call per frame was what bounded
 * a userspace endpoint on vcan. */
#define BURST_MAX 64

/* Sends what the endpoint has due now. */
static bool pump(isotp_transport *x, uf_error *err)
{
    uf_can_frame f[BURST_MAX];
    const uf_can_medium_ops *ops = x->m->ops;
    size_t max = ops->write_burst ? BURST_MAX : 1;
    uf_time now = ops->now(x->m);
    size_t n;
    while ((n = uf_isotp_ep_output_burst(x->ep, now, f, max)) > 0) {
        uf_time sent[BURST_MAX];
        bool ok = n == 1 ? ops->write(x->m, f, sent, err)
                         : ops->write_burst(x->m, f, n, sent, err);
        if (!ok) {
            uf_isotp_ep_unsent(x->ep, err->msg, ops->now(x->m));
            return false;
        }
        now = sent[n - 1];
        uf_isotp_ep_sent(x->ep, now);
    }
    return true;
}

/* Waits for one frame (or the earlier of the endpoint's wakeup and
 * `deadline`), feeds it, and lets the endpoint's timeouts run. -1 on
 * medium failure. */
static int wait_once(isotp_transport *x, uf_time deadline, uf_error *err)
{
    uf_time wake = uf_isotp_ep_wakeup(x->ep);
    uf_time until = deadline;
    if (wake != UF_TIME_NONE && (until == UF_TIME_NONE || wake < until))
        until = wake;
    uf_can_frame f;
    uf_time t;
    int r = x->m->ops->read(x->m, &f, &t, until, err);
    if (r < 0)
        return -1;
    if (r > 0)
        uf_isotp_ep_input(x->ep, &f, t);
    uf_isotp_ep_tick(x->ep, x->m->ops->now(x->m));
    return 0;
}

static bool isotp_send(uf_channel *t, const uint8_t *p, size_t n, bool functional,
                       uf_error *err)
{
    isotp_transport *x = (isotp_transport *)t;
    x->sent = x->failed_tx = false;
    if (!uf_isotp_ep_send(x->ep, p, n, functional, x->m->ops->now(x->m), err))
        return false;
    /* The endpoint's own timeouts (N_Bs after each FF or block, the
     * medium's N_As per frame) bound this loop. */
    for (;;) {
        if (!pump(x, err))
            return false;
        if (x->sent || x->failed_tx)
            break;
        if (wait_once(x, UF_TIME_NONE, err) < 0)
            return false;
    }
    if (x->failed_tx) {
        uf_error_set(err, "%s: sending failed: %s", t->name, x->why);
        return false;
    }
    return true;
}

static int isotp_recv(uf_channel *t, uf_channel_msg *m, uf_time deadline, uf_error *err)
{
    isotp_transport *x = (isotp_transport *)t;
    g_free(x->current.data);
    x->current.data = NULL;
    for (;;) {
        uf_channel_msg *in = g_queue_pop_head(&x->inbox);
        if (in) {
            x->current = *in;
            x->current.data = g_memdup2(in->data, in->len);
            g_free(in);
            *m = x->current;
            return 1;
        }
        if (x->failed_rx) {
            /* A message broke off (N_Cr, a wrong SN): as on a real bus,
             * the receiver drops it and waits for the next. */
            x->failed_rx = false;
        }
        if (!pump(x, err)) /* our flow control, as the sender waits for it */
            return -1;
        if (!g_queue_is_empty(&x->inbox))
            continue;
        if (deadline != UF_TIME_NONE && x->m->ops->now(x->m) >= deadline)
            return 0;
        if (wait_once(x, deadline, err) < 0)
            return -1;
    }
}

static uf_time isotp_now(uf_channel *t)
{
    isotp_transport *x = (isotp_transport *)t;
    return x->m->ops->now(x->m);
}

static void isotp_free(uf_channel *t)
{
    isotp_transport *x = (isotp_transport *)t;
    uf_isotp_ep_free(x->ep);
    x->m->ops->free(x->m);
    g_queue_clear_full(&x->inbox, g_free);
    g_free(x->current.data);
    g_free(x);
}

static const uf_channel_ops isotp_ops = {isotp_send, isotp_recv, isotp_now, isotp_free};

uf_channel *uf_channel_isotp(uf_can_medium *m, const uf_isotp_ep_config *c)
{
    isotp_transport *x = g_new0(isotp_transport, 1);
    x->base.ops = &isotp_ops;
    x->m = m;
    g_queue_init(&x->inbox);
    uf_isotp_ep_sink sink = {.ctx = x, .received = on_received, .sent = on_sent,
                             .failed = on_failed};
    x->ep = uf_isotp_ep_new(c, &sink);
    uf_isotp_endpoint tx = {0, c->tx_id, -1}, rx = {0, c->rx_id, -1};
    char a[24], b[24];
    snprintf(x->base.name, sizeof(x->base.name), "%s %s->%s", m->name,
             uf_isotp_endpoint_name(&tx, a, sizeof(a)), uf_isotp_endpoint_name(&rx, b, sizeof(b)));
    return &x->base;
}
