/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Wires the layers: records -> ISO-TP reassembly -> UDS decode and pairing
 * -> flash sessions and their rules -> the sink. Every finding goes through
 * the session layer, which attributes it and applies the profile. Records
 * that could not be decoded become capture.malformed findings; packets
 * (Ethernet, IP) are left for the DoIP path.
 */
#include "uf_analyzer.h"

#include <glib.h>

struct uf_analyzer {
    uf_isotp *isotp;
    uf_uds *uds;
    uf_sessions *sessions;
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

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink)
{
    uf_analyzer *a = g_new0(uf_analyzer, 1);
    uf_sessions_config sc = {config->profile, config->isotp.timing, config->ignore,
                             config->max_sessions, config->max_downloads};
    a->sessions = uf_sessions_new(&sc, sink);
    uf_isotp_sink is = {a, on_isotp_message, on_finding};
    a->isotp = uf_isotp_new(&config->isotp, &is);
    uf_uds_names names = uf_profile_names(config->profile);
    uf_uds_sink us = {a, on_message, on_unanswered, on_finding};
    a->uds = uf_uds_new(a->isotp, &names, &us);
    return a;
}

void uf_analyzer_free(uf_analyzer *a)
{
    if (!a)
        return;
    uf_uds_free(a->uds);
    uf_isotp_free(a->isotp);
    uf_sessions_free(a->sessions);
    g_free(a);
}

void uf_analyzer_record(uf_analyzer *a, const uf_record *rec)
{
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
        break;
    }
}

void uf_analyzer_finish(uf_analyzer *a)
{
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
