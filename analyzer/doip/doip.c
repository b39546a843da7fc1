/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP connections (ISO 13400-2:2019): each direction of a TCP_DATA
 * connection framed into DoIP messages, the routing activations that open
 * it to diagnostic messages, and each diagnostic message from the tester
 * held until the entity acknowledges it, so that it goes up with its ACK
 * latency or NACK. The client of the connection is the tester.
 *   a header that is not sound                      doip.malformed
 *   bytes of the stream lost by the capture          doip.tcp_gap
 *   a diagnostic message before routing activation,
 *   or a routing activation denied                   doip.routing
 *   a diagnostic message NACK, a generic header NACK doip.nack
 *   an ACK later than A_DoIP_Diagnostic_Message, or
 *   none before the next message                     doip.ack_timeout
 *   TCP on the TLS port (3496)                       doip.tls
 */
#include "uf_doip.h"
#include "uf_spares.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_ACTIVATED 8

typedef struct held_message {
    bool active;
    uf_isotp_message tp; /* its data in buf */
    uint8_t *buf;        /* the buffer the message was framed in, owned; */
    uint32_t cap;        /* once released, the framer's next one */
    uint16_t sa, ta;
} held_message;

typedef struct connection connection;

typedef struct direction_ctx {
    uf_doip *d;
    connection *c;
    int dir;
} direction_ctx;

struct connection {
    uf_tcp_stream *s;
    bool tls;
    uf_doip_framer framer[2];
    direction_ctx ctx[2];
    uint16_t activated[MAX_ACTIVATED];     /* tester addresses routed on this connection */
    uint32_t n_activated;
    uint16_t reported[MAX_ACTIVATED];      /* ... reported for messages without routing */
    uint32_t n_reported;
    bool have_tester;
    uint16_t tester;                       /* the last source address the tester used */
    held_message held;
    char name[112]; /* "10.0.0.1:50123 -> 10.0.0.2:13400", once a finding needs it */
};

/* The message buffers of closed connections, for the next ones: every
 * flash is a connection of its own, and its framers would otherwise grow
 * their buffers again, message by message, to its TransferData blocks. A
 * few, of 64 KiB at most each. */
#define SPARE_BUFFERS 8
#define SPARE_MAX_CAP (64u * 1024u)

struct uf_doip {
    uf_doip_config cfg;
    uf_doip_sink sink;
    uf_spares spares;
};

void uf_doip_config_defaults(uf_doip_config *c)
{
    c->max_message = 1024 * 1024;
    c->ack_timeout = 50 * UF_NS_PER_MS;
    c->timing = true;
}

uf_doip *uf_doip_new(const uf_doip_config *config, const uf_doip_sink *sink)
{
    uf_doip *d = g_new0(uf_doip, 1);
    d->cfg = *config;
    d->sink = *sink;
    uf_spares_init(&d->spares, SPARE_BUFFERS, SIZE_MAX, SPARE_MAX_CAP);
    return d;
}

void uf_doip_free(uf_doip *d)
{
    if (!d)
        return;
    uf_spares_free(&d->spares);
    g_free(d);
}

/* ---- findings --------------------------------------------------------------------*/

/* A finding about a connection, attributed to its tester when known. */
static void report(uf_doip *d, const connection *c, bool has_tester, uint16_t tester,
                   const char *rule, uint64_t frame, uf_time t, const char *fmt, ...)
    UF_PRINTF(8, 9);

static void report(uf_doip *d, const connection *c, bool has_tester, uint16_t tester,
                   const char *rule, uint64_t frame, uf_time t, const char *fmt, ...)
{
    char text[UF_FINDING_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    uf_finding f;
    uf_finding_init(&f, rule, frame, t, c ? c->s->bus : 0, "%s", text);
    if (has_tester) {
        f.has_id = true;
        f.id = UF_ISOTP_DOIP | tester;
        f.id_addr = -1;
    }
    if (d->sink.finding)
        d->sink.finding(d->sink.ctx, &f);
}

/* The connection's name in findings. Written the first time one needs it:
 * most connections have none, and formatting two addresses and ports for
 * each was a twentieth of the analysis of a capture of many short
 * connections (callgrind). */
static const char *connection_name(connection *c)
{
    if (c->name[0] == '\0') {
        char a[48], b[48];
        snprintf(c->name, sizeof(c->name), "%s:%u -> %s:%u",
                 uf_ip_addr_name(&c->s->addr[0], a, sizeof(a)), c->s->port[0],
                 uf_ip_addr_name(&c->s->addr[1], b, sizeof(b)), c->s->port[1]);
    }
    return c->name;
}

/* ---- diagnostic messages -----------------------------------------------------------*/

static uf_isotp_endpoint endpoint(uint32_t bus, uint16_t la)
{
    uf_isotp_endpoint e = {bus, UF_ISOTP_DOIP | la, -1};
    return e;
}

/* The transport message of a diagnostic message's UDS payload. */
static void transport_message(const connection *c, const uf_doip_frame *fr,
                              const uf_doip_decoded *dd, uf_isotp_message *tp)
{
    memset(tp, 0, sizeof(*tp));
    tp->transport = UF_TRANSPORT_DOIP;
    tp->src = endpoint(c->s->bus, dd->sa);
    tp->functional = uf_doip_is_functional(dd->ta);
    tp->dst = endpoint(c->s->bus, dd->ta);
    tp->dst_known = !tp->functional;
    tp->addressing = UF_ADDR_NORMAL;
    tp->complete = true;
    tp->first_frame = fr->first_frame;
    tp->last_frame = fr->last_frame;
    tp->t_first = fr->t_first;
    tp->t_last = fr->t_last;
    tp->frames = fr->segments;
    tp->declared_len = dd->user_len;
    tp->received_len = dd->user_len;
    tp->data = dd->user_data;
    tp->len = dd->held > 4 ? dd->held - 4 : 0;
    tp->truncated = tp->len < dd->user_len;
    tp->connection = c->s->id;
    tp->ack_latency = UF_TIME_NONE;
}

static void release(uf_doip *d, connection *c)
{
    held_message *h = &c->held;
    if (!h->active)
        return;
    h->active = false;
    if (d->sink.message)
        d->sink.message(d->sink.ctx, &h->tp);
}

/* The held message gets no acknowledgement: say so, and let it go. */
static void release_unacknowledged(uf_doip *d, connection *c, const char *why, uint64_t frame,
                                   uf_time t)
{
    held_message *h = &c->held;
    if (!h->active)
        return;
    if (d->cfg.timing)
        report(d, c, true, h->sa, "doip.ack_timeout", frame, t,
               "0x%04X -> 0x%04X: diagnostic message of frame %" G_GUINT64_FORMAT
               " got no ACK within A_DoIP_Diagnostic_Message %.0f ms (%s)",
               h->sa, h->ta, h->tp.last_frame, (double)d->cfg.ack_timeout / 1e6, why);
    release(d, c);
}

static bool is_activated(const connection *c, uint16_t sa)
{
    for (uint32_t i = 0; i < c->n_activated; i++)
        if (c->activated[i] == sa)
            return true;
    return false;
}

static bool once(uint16_t *list, uint32_t *n, uint16_t v)
{
    for (uint32_t i = 0; i < *n; i++)
        if (list[i] == v)
            return false;
    if (*n < MAX_ACTIVATED)
        list[(*n)++] = v;
    return true;
}

static void diagnostic_from_tester(uf_doip *d, connection *c, const uf_doip_frame *fr,
                                   const uf_doip_decoded *dd)
{
    c->have_tester = true;
    c->tester = dd->sa;
    if (!is_activated(c, dd->sa) && once(c->reported, &c->n_reported, dd->sa))
        report(d, c, true, dd->sa, "doip.routing", fr->first_frame, fr->t_first,
               "diagnostic message from 0x%04X on %s without a successful routing activation",
               dd->sa, connection_name(c));
    release_unacknowledged(d, c, "the tester sent the next message", fr->first_frame,
                           fr->t_first);
    held_message *h = &c->held;
    transport_message(c, fr, dd, &h->tp);
    /* Held where the framer put it, not copied (a TransferData block is
     * most of a flash's bytes): the framer frames the next message in the
     * buffer the last held one had. */
    h->buf = uf_doip_framer_swap_buffer(&c->framer[0], h->buf, &h->cap);
    h->sa = dd->sa;
    h->ta = dd->ta;
    h->active = true;
}

static void diagnostic_from_entity(uf_doip *d, connection *c, const uf_doip_frame *fr,
                                   const uf_doip_decoded *dd)
{
    release_unacknowledged(d, c, "the entity answered without one", fr->first_frame,
                           fr->t_first);
    uf_isotp_message tp;
    transport_message(c, fr, dd, &tp);
    if (d->sink.message)
        d->sink.message(d->sink.ctx, &tp);
}

/* An ACK or NACK from the entity: the held message's outcome. */
static uf_time acknowledgement(uf_doip *d, connection *c, const uf_doip_frame *fr,
                               const uf_doip_decoded *dd)
{
    held_message *h = &c->held;
    if (!h->active || (dd->has_sa && (dd->sa != h->ta || dd->ta != h->sa) &&
                       !uf_doip_is_functional(h->ta)))
        return UF_TIME_NONE;
    uf_time latency = uf_time_diff(fr->t_first, h->tp.t_last);
    h->tp.ack_latency = latency;
    if (dd->type == UF_DOIP_DIAGNOSTIC_NACK) {
        const char *name = uf_doip_diag_nack_name(dd->code);
        h->tp.nacked = true;
        h->tp.nack_code = dd->code;
        report(d, c, true, h->sa, "doip.nack", fr->first_frame, fr->t_first,
               "0x%04X refused the diagnostic message from 0x%04X (frame %" G_GUINT64_FORMAT
               "): NACK 0x%02X %s", dd->sa, h->sa, h->tp.last_frame, dd->code,
               name ? name : "(reserved)");
    } else {
        h->tp.acked = true;
    }
    if (d->cfg.timing && latency != UF_TIME_NONE && latency > d->cfg.ack_timeout)
        report(d, c, true, h->sa, "doip.ack_timeout", fr->first_frame, fr->t_first,
               "0x%04X -> 0x%04X: %s %.3f ms after the diagnostic message > "
               "A_DoIP_Diagnostic_Message %.0f ms", h->sa, h->ta,
               dd->type == UF_DOIP_DIAGNOSTIC_NACK ? "NACK" : "ACK", (double)latency / 1e6,
               (double)d->cfg.ack_timeout / 1e6);
    release(d, c);
    return latency;
}

static void routing_response(uf_doip *d, connection *c, const uf_doip_frame *fr,
                             const uf_doip_decoded *dd)
{
    if (!dd->has_code)
        return;
    c->have_tester = true;
    c->tester = dd->sa;
    if (dd->code == UF_DOIP_ROUTING_SUCCESS) {
        if (!is_activated(c, dd->sa) && c->n_activated < MAX_ACTIVATED)
            c->activated[c->n_activated++] = dd->sa;
        return;
    }
    if (dd->code == UF_DOIP_ROUTING_CONFIRMATION)
        return; /* a further response will say */
    const char *name = uf_doip_routing_code_name(dd->code);
    report(d, c, true, dd->sa, "doip.routing", fr->first_frame, fr->t_first,
           "routing activation of 0x%04X on %s denied by 0x%04X: code 0x%02X %s", dd->sa,
           connection_name(c), dd->ta, dd->code, name ? name : "(reserved)");
}

/* ---- framing callbacks ---------------------------------------------------------------*/

static void pdu(uf_doip *d, const connection *c, int dir, const uf_doip_frame *fr,
                const uf_doip_decoded *dd, uf_time latency)
{
    if (!d->sink.pdu)
        return;
    uf_doip_pdu p = {c->s->bus,           c->s->id,        &c->s->addr[dir],
                     &c->s->addr[1 - dir], c->s->port[dir], c->s->port[1 - dir],
                     false,               fr->first_frame, fr->last_frame,
                     fr->t_first,         fr->t_last,      dd,
                     latency};
    d->sink.pdu(d->sink.ctx, &p);
}

static void on_message(void *ctx, const uf_doip_frame *fr)
{
    direction_ctx *x = ctx;
    uf_doip *d = x->d;
    connection *c = x->c;
    uf_doip_decoded dd;
    uf_doip_decode(fr->data, fr->held, &dd);
    held_message *h = &c->held;
    if (h->active && d->cfg.timing && fr->t_first != UF_TIME_NONE &&
        uf_time_diff(fr->t_first, h->tp.t_last) > d->cfg.ack_timeout &&
        !(x->dir == 1 && (dd.type == UF_DOIP_DIAGNOSTIC_ACK || dd.type == UF_DOIP_DIAGNOSTIC_NACK)))
        release_unacknowledged(d, c, "none came before later traffic", fr->first_frame,
                               fr->t_first);
    uf_time latency = UF_TIME_NONE;
    switch (dd.type) {
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
        if (!dd.has_sa)
            break;
        if (x->dir == 0)
            diagnostic_from_tester(d, c, fr, &dd);
        else
            diagnostic_from_entity(d, c, fr, &dd);
        return;
    case UF_DOIP_DIAGNOSTIC_ACK:
    case UF_DOIP_DIAGNOSTIC_NACK:
        if (x->dir == 1)
            latency = acknowledgement(d, c, fr, &dd);
        break;
    case UF_DOIP_ROUTING_ACTIVATION_REQUEST:
        if (dd.has_sa) {
            c->have_tester = true;
            c->tester = dd.sa;
        }
        break;
    case UF_DOIP_ROUTING_ACTIVATION_RESPONSE:
        routing_response(d, c, fr, &dd);
        break;
    case UF_DOIP_GENERIC_NACK: {
        const char *name = dd.has_code ? uf_doip_generic_nack_name(dd.code) : NULL;
        report(d, c, c->have_tester, c->tester, "doip.nack", fr->first_frame, fr->t_first,
               "%s refused a message on %s: generic header NACK 0x%02X %s",
               x->dir == 1 ? "the entity" : "the tester", connection_name(c), dd.code,
               name ? name : "(reserved)");
        break;
    }
    default:
        break;
    }
    pdu(d, c, x->dir, fr, &dd, latency);
}

static void on_bad_header(void *ctx, const uint8_t h[UF_DOIP_HEADER_LEN], const char *why,
                          uint64_t offset, uint64_t frame, uf_time t)
{
    direction_ctx *x = ctx;
    report(x->d, x->c, x->c->have_tester, x->c->tester, "doip.malformed", frame, t,
           "%s, %s byte %" G_GUINT64_FORMAT ": %s (header %02X %02X %02X%02X %02X%02X%02X%02X); "
           "resynchronising", connection_name(x->c), x->dir == 0 ? "tester" : "entity", offset,
           why, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
}

static const uf_doip_framer_sink framer_sink = {NULL, on_message, on_bad_header, NULL};

/* ---- the TCP side ----------------------------------------------------------------------*/

void uf_doip_tcp_open(uf_doip *d, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    connection *c = g_new0(connection, 1);
    c->s = s;
    s->user = c;
    c->tls = s->port[1] == UF_DOIP_TLS_PORT || s->port[0] == UF_DOIP_TLS_PORT;
    for (int dir = 0; dir < 2; dir++) {
        uf_doip_framer_init(&c->framer[dir], d->cfg.max_message + 4);
        c->ctx[dir] = (direction_ctx){d, c, dir};
    }
    /* In the order uf_doip_tcp_close gave them back: each buffer goes
     * where it grew, the tester's framer and its held message first. */
    uint32_t cap;
    uint8_t *buf = uf_spares_take(&d->spares, &cap);
    uf_doip_framer_swap_buffer(&c->framer[0], buf, &cap);
    c->held.buf = uf_spares_take(&d->spares, &c->held.cap);
    buf = uf_spares_take(&d->spares, &cap);
    uf_doip_framer_swap_buffer(&c->framer[1], buf, &cap);
    if (c->tls)
        report(d, c, false, 0, "doip.tls", frame, t,
               "%s is DoIP secured with TLS: its messages cannot be decoded", connection_name(c));
}

void uf_doip_tcp_data(uf_doip *d, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                      uint64_t frame, uf_time t)
{
    (void)d;
    connection *c = s->user;
    if (!c || c->tls)
        return;
    uf_doip_framer_sink sink = framer_sink;
    sink.ctx = &c->ctx[dir];
    uf_doip_framer_data(&c->framer[dir], p, n, frame, t, &sink);
}

void uf_doip_tcp_gap(uf_doip *d, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame,
                     uf_time t)
{
    connection *c = s->user;
    if (!c || c->tls)
        return;
    uint64_t lost = uf_doip_framer_gap(&c->framer[dir], missing);
    if (lost)
        report(d, c, c->have_tester, c->tester, "doip.tcp_gap", frame, t,
               "%s, %s: %" G_GUINT64_FORMAT " bytes missing from the capture, with the %"
               G_GUINT64_FORMAT " bytes of the DoIP message they cut; resynchronising",
               connection_name(c), dir == 0 ? "tester" : "entity", missing, lost);
    else
        report(d, c, c->have_tester, c->tester, "doip.tcp_gap", frame, t,
               "%s, %s: %" G_GUINT64_FORMAT " bytes missing from the capture; resynchronising",
               connection_name(c), dir == 0 ? "tester" : "entity", missing);
}

void uf_doip_tcp_close(uf_doip *d, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    connection *c = s->user;
    if (!c)
        return;
    release_unacknowledged(d, c, "the connection ended", frame, t);
    for (int dir = 0; dir < 2; dir++) {
        uint64_t pending = c->tls ? 0 : uf_doip_framer_pending(&c->framer[dir]);
        if (pending)
            report(d, c, c->have_tester, c->tester, "doip.tcp_gap", frame, t,
                   "%s, %s: the connection ended %" G_GUINT64_FORMAT
                   " bytes into a DoIP message", connection_name(c), dir == 0 ? "tester" : "entity",
                   pending);
    }
    uint32_t cap = 0;
    uint8_t *buf = uf_doip_framer_swap_buffer(&c->framer[1], NULL, &cap);
    uf_spares_give(&d->spares, buf, cap);
    uf_spares_give(&d->spares, c->held.buf, c->held.cap);
    cap = 0;
    buf = uf_doip_framer_swap_buffer(&c->framer[0], NULL, &cap);
    uf_spares_give(&d->spares, buf, cap);
    for (int dir = 0; dir < 2; dir++)
        uf_doip_framer_free(&c->framer[dir]);
    s->user = NULL;
    g_free(c);
}

/* ---- UDP (vehicle discovery) ------------------------------------------------------------*/

void uf_doip_datagram(uf_doip *d, uint32_t bus, const uf_net_packet *p, uint64_t frame,
                      uf_time t)
{
    const uint8_t *q = p->payload;
    uint32_t n = p->len;
    char a[48], b[48];
    while (n > 0) {
        const char *why = n < UF_DOIP_HEADER_LEN ? "datagram shorter than a DoIP header"
                                                 : uf_doip_check_header(q, UINT32_MAX);
        if (!why && uf_load_be32(q + 4) > n - UF_DOIP_HEADER_LEN)
            why = "DoIP payload longer than its UDP datagram";
        if (why) {
            uf_finding f;
            uf_finding_init(&f, "doip.malformed", frame, t, bus, "UDP %s:%u -> %s:%u: %s",
                            uf_ip_addr_name(&p->src, a, sizeof(a)), p->sport,
                            uf_ip_addr_name(&p->dst, b, sizeof(b)), p->dport, why);
            if (d->sink.finding)
                d->sink.finding(d->sink.ctx, &f);
            return;
        }
        uint32_t len = uf_load_be32(q + 4);
        uf_doip_decoded dd;
        uf_doip_decode(q, len, &dd);
        if (d->sink.pdu) {
            uf_doip_pdu u = {bus,   0,     &p->src, &p->dst, p->sport, p->dport, true,
                             frame, frame, t,       t,       &dd,      UF_TIME_NONE};
            d->sink.pdu(d->sink.ctx, &u);
        }
        q += UF_DOIP_HEADER_LEN + len;
        n -= UF_DOIP_HEADER_LEN + len;
    }
}
