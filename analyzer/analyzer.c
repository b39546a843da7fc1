/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Wires the layers: CAN records -> ISO-TP reassembly, and IP packets -> TCP
 * reassembly -> DoIP; both -> UDS decode and pairing -> flash sessions and
 * their rules -> the sink. Every finding goes through the session layer,
 * which attributes it and applies the profile. CAN records that could not
 * be decoded become capture.malformed findings; IP packets that are not
 * sound are skipped without one, because a shared network carries traffic
 * that is none of our business.
 */
#include "uf_analyzer.h"

#include <glib.h>

struct uf_analyzer {
    uf_isotp *isotp;
    uf_uds *uds;
    uf_sessions *sessions;
    uf_tcp *tcp;
    uf_doip *doip;
    uf_analyzer_sink sink;
    uint16_t ports[UF_ANALYZER_MAX_DOIP_PORTS + 2];
    size_t n_ports;
    uint64_t last_frame;
    uf_time last_time;
};

void uf_analyzer_config_defaults(uf_analyzer_config *c)
{
    uf_isotp_config_defaults(&c->isotp);
    c->isotp.is_request = uf_uds_looks_like_request;
    c->isotp.answers = uf_uds_answers;
    c->profile = NULL;
    c->ignore = NULL;
    c->max_sessions = 0;  /* the session layer's bounds */
    c->max_downloads = 0;
    c->spill_sessions = false; /* sessions stay readable until the analyzer is freed */
    c->hash_thread = false;
    c->helper = NULL;
    uf_doip_config_defaults(&c->doip);
    c->n_doip_ports = 0;
    c->max_connections = 4096;
}

void uf_analyzer_config_profile(uf_analyzer_config *c, const uf_profile *p)
{
    c->profile = p;
    if (!p)
        return;
    c->isotp.n_bs = p->n_bs;
    c->isotp.n_cr = p->n_cr;
    c->isotp.stmin_tolerance = p->stmin_tolerance;
}

static void on_isotp_message(void *ctx, const uf_isotp_message *m)
{
    uf_analyzer *a = ctx;
    uf_uds_message_in(a->uds, m);
}

static void on_isotp_frame(void *ctx, uint64_t frame, const uf_isotp_endpoint *sender)
{
    uf_analyzer *a = ctx;
    a->sink.isotp_frame(a->sink.ctx, frame, sender);
}

static void on_finding(void *ctx, const uf_finding *f)
{
    uf_analyzer *a = ctx;
    uf_sessions_finding(a->sessions, f);
}

static void on_message(void *ctx, const uf_uds_message *m)
{
    uf_analyzer *a = ctx;
    /* The session layer writes its labels into the message it passes on. */
    uf_sessions_message(a->sessions, (uf_uds_message *)m);
}

static void on_unanswered(void *ctx, const uf_uds_request_ref *r)
{
    uf_analyzer *a = ctx;
    uf_sessions_unanswered(a->sessions, r);
}

/* ---- the DoIP path ------------------------------------------------------------*/

static void on_doip_pdu(void *ctx, const uf_doip_pdu *p)
{
    uf_analyzer *a = ctx;
    if (a->sink.doip)
        a->sink.doip(a->sink.ctx, p);
}

static void on_tcp_open(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    uf_doip_tcp_open(((uf_analyzer *)ctx)->doip, s, frame, t);
}

static void on_tcp_data(void *ctx, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                        uint64_t frame, uf_time t)
{
    uf_doip_tcp_data(((uf_analyzer *)ctx)->doip, s, dir, p, n, frame, t);
}

static void on_tcp_gap(void *ctx, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame,
                       uf_time t)
{
    uf_doip_tcp_gap(((uf_analyzer *)ctx)->doip, s, dir, missing, frame, t);
}

static void on_tcp_close(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    uf_doip_tcp_close(((uf_analyzer *)ctx)->doip, s, frame, t);
}

static bool doip_port(const uf_analyzer *a, uint16_t port)
{
    for (size_t i = 0; i < a->n_ports; i++)
        if (a->ports[i] == port && port != UF_DOIP_TLS_PORT)
            return true;
    return false;
}

static void packet(uf_analyzer *a, const uf_record *rec)
{
    uf_net_packet p;
    const char *why;
    if (uf_net_decode(rec->packet.linktype, rec->packet.data, rec->packet.len, &p, &why) != 1)
        return;
    if (p.proto == UF_NET_TCP)
        uf_tcp_packet(a->tcp, rec->bus, &p, rec->number, rec->time);
    else if (doip_port(a, p.sport) || doip_port(a, p.dport))
        uf_doip_datagram(a->doip, rec->bus, &p, rec->number, rec->time);
}

/* ---- lifecycle --------------------------------------------------------------------*/

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink)
{
    uf_analyzer *a = g_new0(uf_analyzer, 1);
    a->sink = *sink;
    uf_sessions_config sc = {config->profile, config->isotp.timing, config->ignore,
                             config->max_sessions, config->max_downloads,
                             config->spill_sessions, config->hash_thread, config->helper};
    uf_sessions_sink ss = {sink->ctx,          sink->message,      sink->finding,
                           sink->download_data, sink->download_end, sink->session_end};
    a->sessions = uf_sessions_new(&sc, &ss);
    uf_isotp_sink is = {.ctx = a, .message = on_isotp_message, .finding = on_finding,
                        .frame = sink->isotp_frame ? on_isotp_frame : NULL};
    a->isotp = uf_isotp_new(&config->isotp, &is);
    uf_uds_names names = uf_profile_names(config->profile);
    uf_uds_sink us = {a, on_message, on_unanswered, on_finding};
    a->uds = uf_uds_new(a->isotp, &names, &us);

    uf_doip_config dc = config->doip;
    dc.max_message = config->isotp.max_message;
    dc.timing = config->isotp.timing;
    uf_doip_sink ds = {a, on_doip_pdu, on_isotp_message, on_finding};
    a->doip = uf_doip_new(&dc, &ds);
    a->ports[a->n_ports++] = UF_DOIP_PORT;
    a->ports[a->n_ports++] = UF_DOIP_TLS_PORT;
    for (size_t i = 0; i < config->n_doip_ports && i < UF_ANALYZER_MAX_DOIP_PORTS; i++)
        a->ports[a->n_ports++] = config->doip_ports[i];
    uf_tcp_config tc;
    uf_tcp_config_defaults(&tc);
    tc.ports = a->ports;
    tc.n_ports = a->n_ports;
    tc.max_connections = config->max_connections;
    uf_tcp_sink ts = {a, on_tcp_open, on_tcp_data, on_tcp_gap, on_tcp_close};
    a->tcp = uf_tcp_new(&tc, &ts);
    a->last_time = UF_TIME_NONE;
    return a;
}

void uf_analyzer_free(uf_analyzer *a)
{
    if (!a)
        return;
    uf_tcp_free(a->tcp);
    uf_doip_free(a->doip);
    uf_uds_free(a->uds);
    uf_isotp_free(a->isotp);
    uf_sessions_free(a->sessions);
    g_free(a);
}

void uf_analyzer_record(uf_analyzer *a, const uf_record *rec)
{
    a->last_frame = rec->number;
    if (rec->time != UF_TIME_NONE)
        a->last_time = rec->time;
    switch (rec->kind) {
    case UF_REC_CAN:
        uf_isotp_frame(a->isotp, rec->number, rec->time, rec->bus, &rec->can);
        break;
    case UF_REC_SKIPPED:
        if (rec->problem) {
            uf_finding f;
            uf_finding_init(&f, "capture.malformed", rec->number, rec->time, rec->bus,
                            "record at byte %" G_GUINT64_FORMAT ": %s", rec->offset,
                            rec->problem);
            uf_sessions_finding(a->sessions, &f);
        }
        break;
    case UF_REC_PACKET:
        packet(a, rec);
        break;
    }
}

void uf_analyzer_finish(uf_analyzer *a)
{
    uf_tcp_finish(a->tcp, a->last_frame, a->last_time);
    uf_isotp_finish(a->isotp);
    uf_uds_finish(a->uds);
    uf_sessions_finish(a->sessions);
}

const uf_sessions *uf_analyzer_sessions(const uf_analyzer *a)
{
    return a->sessions;
}

const uf_isotp *uf_analyzer_isotp(const uf_analyzer *a)
{
    return a->isotp;
}

uf_tcp_stats uf_analyzer_tcp_stats(const uf_analyzer *a)
{
    return uf_tcp_get_stats(a->tcp);
}
