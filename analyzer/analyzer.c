/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Wires the layers: records -> ISO-TP reassembly -> UDS decode and pairing.
 * Records that could not be decoded become capture.malformed findings;
 * packets (Ethernet, IP) are left for the DoIP path.
 */
#include "uf_analyzer.h"

#include <glib.h>

struct uf_analyzer {
    uf_analyzer_sink sink;
    uf_isotp *isotp;
    uf_uds *uds;
};

void uf_analyzer_config_defaults(uf_analyzer_config *c)
{
    uf_isotp_config_defaults(&c->isotp);
    c->isotp.is_request = uf_uds_looks_like_request;
    c->isotp.answers = uf_uds_answers;
    c->names.routine = NULL;
    c->names.ctx = NULL;
}

static void on_isotp_message(void *ctx, const uf_isotp_message *m)
{
    uf_analyzer *a = ctx;
    uf_uds_message_in(a->uds, m);
}

static void on_finding(void *ctx, const uf_finding *f)
{
    uf_analyzer *a = ctx;
    if (a->sink.finding)
        a->sink.finding(a->sink.ctx, f);
}

static void on_message(void *ctx, const uf_uds_message *m)
{
    uf_analyzer *a = ctx;
    if (a->sink.message)
        a->sink.message(a->sink.ctx, m);
}

static void on_unanswered(void *ctx, const uf_uds_request_ref *r)
{
    uf_analyzer *a = ctx;
    if (a->sink.unanswered)
        a->sink.unanswered(a->sink.ctx, r);
}

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink)
{
    uf_analyzer *a = g_new0(uf_analyzer, 1);
    a->sink = *sink;
    uf_isotp_sink is = {a, on_isotp_message, on_finding};
    a->isotp = uf_isotp_new(&config->isotp, &is);
    uf_uds_sink us = {a, on_message, on_unanswered, on_finding};
    a->uds = uf_uds_new(a->isotp, &config->names, &us);
    return a;
}

void uf_analyzer_free(uf_analyzer *a)
{
    if (!a)
        return;
    uf_uds_free(a->uds);
    uf_isotp_free(a->isotp);
    g_free(a);
}

void uf_analyzer_record(uf_analyzer *a, const uf_record *rec)
{
    switch (rec->kind) {
    case UF_REC_CAN:
        uf_isotp_frame(a->isotp, rec->number, rec->time, rec->bus, &rec->can);
        break;
    case UF_REC_SKIPPED:
        if (rec->problem && a->sink.finding) {
            uf_finding f;
            uf_finding_init(&f, "capture.malformed", rec->number, rec->time, rec->bus,
                            "record at byte %" G_GUINT64_FORMAT ": %s", rec->offset,
                            rec->problem);
            a->sink.finding(a->sink.ctx, &f);
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
}

const uf_isotp *uf_analyzer_isotp(const uf_analyzer *a)
{
    return a->isotp;
}
