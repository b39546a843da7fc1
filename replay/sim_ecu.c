/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An ECU (a responder: udsecu's, or a recording's) as a node of the simulated bus: frames go to its ISO-TP
 * endpoint, complete requests to the ECU core, and the core's responses,
 * when they fall due, back through the endpoint, one at a time.
 */
#include "uf_sim_ecu.h"

#include <glib.h>

struct uf_sim_ecu {
    uf_simbus *bus;
    uf_sim_node *node;
    uf_isotp_ep *ep;
    uf_responder ecu;
    uint8_t out[4096];
};

static void on_request(void *ctx, const uint8_t *p, size_t n, bool functional, uf_time t)
{
    uf_sim_ecu *s = ctx;
    uf_responder_request(s->ecu, p, n, functional, t);
}

static void on_started(void *ctx, uint32_t len, uf_time t)
{
    (void)len;
    uf_responder_started(((uf_sim_ecu *)ctx)->ecu, t);
}

static void on_failed(void *ctx, bool tx, const char *why, uf_time t)
{
    (void)why;
    if (!tx)
        uf_responder_aborted(((uf_sim_ecu *)ctx)->ecu, t);
}

/* Frames due go on the bus (the endpoint hands out one at a time); a
 * response that fell due starts when the endpoint is free. */
static void pump(uf_sim_ecu *s, uf_time now)
{
    if (!uf_isotp_ep_sending(s->ep)) {
        size_t n = uf_responder_response(s->ecu, now, s->out, sizeof(s->out));
        uf_error err;
        if (n && !uf_isotp_ep_send(s->ep, s->out, n, false, now, &err))
            g_warning("simulated ECU: %s", err.msg);
    }
    uf_can_frame f;
    if (uf_isotp_ep_output(s->ep, now, &f))
        uf_simbus_transmit(s->node, &f);
}

static void on_frame(void *ctx, const uf_can_frame *f, uf_time t)
{
    uf_sim_ecu *s = ctx;
    uf_isotp_ep_input(s->ep, f, t);
    pump(s, t);
}

static void on_sent(void *ctx, uf_time t)
{
    uf_sim_ecu *s = ctx;
    uf_isotp_ep_sent(s->ep, t);
    pump(s, t);
}

static uf_time on_wakeup(void *ctx)
{
    uf_sim_ecu *s = ctx;
    uf_time t = uf_isotp_ep_wakeup(s->ep);
    /* A response due while the endpoint sends waits for `sent`. */
    if (!uf_isotp_ep_sending(s->ep)) {
        uf_time e = uf_responder_wakeup(s->ecu);
        if (e != UF_TIME_NONE && (t == UF_TIME_NONE || e < t))
            t = e;
    }
    return t;
}

static void on_tick(void *ctx, uf_time t)
{
    uf_sim_ecu *s = ctx;
    uf_isotp_ep_tick(s->ep, t);
    uf_responder_tick(s->ecu, t);
    pump(s, t);
}

uf_sim_ecu *uf_sim_ecu_attach(uf_simbus *bus, const uf_isotp_ep_config *c, uf_responder ecu)
{
    uf_sim_ecu *s = g_new0(uf_sim_ecu, 1);
    s->bus = bus;
    s->ecu = ecu;
    uf_isotp_ep_config cfg = *c;
    uf_responder_fc_override(ecu, &cfg.bs, &cfg.stmin);
    uf_isotp_ep_sink sink = {.ctx = s, .received = on_request, .failed = on_failed,
                             .started = on_started};
    s->ep = uf_isotp_ep_new(&cfg, &sink);
    uf_sim_node_ops ops = {s, on_frame, on_sent, on_wakeup, on_tick};
    s->node = uf_simbus_attach(bus, &ops);
    return s;
}

void uf_sim_ecu_free(uf_sim_ecu *s)
{
    if (!s)
        return;
    uf_simbus_detach(s->node);
    uf_isotp_ep_free(s->ep);
    g_free(s);
}
