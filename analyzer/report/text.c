/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The text report: per session, what a person needs in ten seconds (ECU,
 * verdict, phases with their durations, downloads with size, throughput and
 * SHA-256, the security level, sessions entered, versions before and after,
 * routine results, NRCs), then the findings grouped by rule, each with its
 * frame and time. Colours only when asked (a terminal, and NO_COLOR unset).
 */
#include "uf_report.h"

#include <glib.h>
#include <inttypes.h>
#include <string.h>

#define SHOWN_PER_RULE 5

typedef struct out {
    FILE *f;
    bool color;
    const uf_check_result *r;
    uf_findings_by_session by_session;
} out;

static const char *paint(const out *o, const char *code)
{
    return o->color ? code : "";
}
#define RED "\033[1;31m"
#define GREEN "\033[1;32m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *severity_color(uf_severity s)
{
    return s == UF_SEV_ERROR ? RED : s == UF_SEV_WARNING ? YELLOW : DIM;
}

static const char *seconds(char *buf, size_t size, uf_time ns)
{
    return uf_format_seconds(buf, size, ns);
}

/* Printable DID values as text, others as hex. */
static void value(FILE *f, const uint8_t *v, uint8_t n)
{
    bool text = n > 0;
    for (uint8_t i = 0; i < n && text; i++)
        text = v[i] >= 0x20 && v[i] < 0x7F;
    if (text) {
        fprintf(f, "\"%.*s\"", n, (const char *)v);
        return;
    }
    fputs("0x", f);
    for (uint8_t i = 0; i < n; i++)
        fprintf(f, "%02x", v[i]);
}

/* What the listing orders findings by, without the findings themselves:
 * with a store, one finding at a time is in memory. */
typedef struct sort_key {
    uf_severity severity;
    const uf_rule *rule;
    uint64_t frame;
    uint32_t index;
} sort_key;

static int by_importance(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = strcmp(x->rule->id, y->rule->id);
    if (c)
        return c;
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void finding_line(const out *o, const uf_finding *f, const char *indent)
{
    char t[32];
    bool located = false;
    fprintf(o->f, "%s        ", indent);
    /* Capture-wide findings (no timestamps, damaged file) have no frame. */
    if (f->frame > 0) {
        fprintf(o->f, " frame %" PRIu64, f->frame);
        located = true;
    }
    if (f->time != UF_TIME_NONE) {
        fprintf(o->f, " at %s s", seconds(t, sizeof(t), uf_report_rel(o->r, f->time)));
        located = true;
    }
    if (f->step || f->phase) {
        fprintf(o->f, " [%s%s%s]", f->phase ? f->phase : "", f->step ? "/" : "",
                f->step ? f->step : "");
        located = true;
    }
    fprintf(o->f, "%s %s\n", located ? ":" : "", f->message);
}

/* The findings of one session (0: outside sessions), grouped by rule. */
static void findings(const out *o, uint32_t session, const char *indent)
{
    const uf_findings_by_session *ix = &o->by_session;
    uint32_t n_keys = uf_findings_of_session(ix, session);
    sort_key *keys = g_new(sort_key, n_keys ? n_keys : 1);
    uint32_t n = 0;
    for (uint32_t k = 0; k < n_keys; k++) {
        uint32_t i = ix->order[ix->start[session] + k];
        const uf_finding *f = uf_report_finding(o->r, i);
        if (f)
            keys[n++] = (sort_key){f->severity, f->rule, f->frame, i};
    }
    qsort(keys, n, sizeof(*keys), by_importance);
    for (uint32_t i = 0; i < n;) {
        const sort_key *head = &keys[i];
        uint32_t same = 0;
        while (i + same < n && keys[i + same].rule == head->rule &&
               keys[i + same].severity == head->severity)
            same++;
        fprintf(o->f, "%s%s%-8s%s %s%s%s (%u)  %s\n", indent, paint(o, severity_color(head->severity)),
                uf_severity_name(head->severity), paint(o, RESET), paint(o, BOLD), head->rule->id,
                paint(o, RESET), same, head->rule->clause);
        for (uint32_t k = 0; k < same && k < SHOWN_PER_RULE; k++) {
            const uf_finding *f = uf_report_finding(o->r, keys[i + k].index);
            if (f)
                finding_line(o, f, indent);
        }
        if (same > SHOWN_PER_RULE)
            fprintf(o->f, "%s         ... and %u more\n", indent, same - SHOWN_PER_RULE);
        i += same;
    }
    g_free(keys);
}

static void session_block(const out *o, const uf_session *s)
{
    const uf_check_result *r = o->r;
    const uf_profile *p = r->profile;
    FILE *f = o->f;
    char a[32], b[32], c[32], tester[32], ecu[32];
    bool pass = uf_session_passed(s, r->fail_on);
    uf_isotp_endpoint_name(&s->tester, tester, sizeof(tester));
    if (s->ecu_known)
        uf_isotp_endpoint_name(&s->ecu, ecu, sizeof(ecu));
    else
        snprintf(ecu, sizeof(ecu), "?");
    fprintf(f, "%sSession %u%s  %s  tester %s -> ECU %s  %s  %s%s%s\n", paint(o, BOLD), s->index,
            paint(o, RESET), uf_report_bus(r, s->bus), tester, ecu, uf_session_transport(s),
            paint(o, pass ? GREEN : RED), pass ? "PASS" : "FAIL", paint(o, RESET));
    fprintf(f, "  time       %s .. %s s (%s), frames %" PRIu64 "..%" PRIu64 ", %u requests\n",
            seconds(a, sizeof(a), uf_report_rel(r, s->t_start)),
            seconds(b, sizeof(b), uf_report_rel(r, s->t_end)),
            uf_format_duration(c, sizeof(c), uf_time_diff(s->t_end, s->t_start)), s->first_frame,
            s->last_frame, s->requests);
    if (p && p->n_phases) {
        fprintf(f, "  phases    ");
        for (uint32_t i = 0; i < p->n_phases; i++) {
            const uf_session_phase *ph = &s->phases[i];
            if (ph->seen)
                fprintf(f, " %s %s", p->phases[i].name,
                        uf_format_duration(a, sizeof(a), uf_time_diff(ph->t_end, ph->t_start)));
            else
                fprintf(f, " %s (none)", p->phases[i].name);
            fputs(i + 1 < p->n_phases ? " |" : "\n", f);
        }
    }
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_download *d = &g_array_index(s->downloads, uf_download, i);
        double tp = uf_download_throughput(d);
        fprintf(f, "  download %u 0x%08" PRIX64 "  %" PRIu64 " of %" PRIu64 " bytes in %u blocks", d->index,
                d->address, d->bytes, d->size, d->blocks);
        if (d->retries)
            fprintf(f, " (%u retried)", d->retries);
        fprintf(f, "  %s", uf_format_duration(a, sizeof(a), uf_time_diff(d->t_end, d->t_start)));
        if (tp >= 0)
            fprintf(f, "  %.2f kB/s", tp / 1000.0);
        if (d->dfi)
            fprintf(f, "  dfi 0x%02X%s%s", d->dfi, (d->dfi & 0xF0) ? " compressed" : "",
                    (d->dfi & 0x0F) ? " encrypted" : "");
        fprintf(f, "%s\n             sha256 %s\n", d->complete ? "" : "  INCOMPLETE", d->sha256);
    }
    if (s->downloads_not_analyzed)
        fprintf(f, "  downloads  %u more after the first %u, not analyzed\n",
                s->downloads_not_analyzed, s->downloads->len);
    if (s->doip_acks || s->doip_nacks) {
        char lo[32], avg[32], hi[32];
        fprintf(f, "  doip       %u ACK%s %s / %s / %s ms (min / avg / max)", s->doip_acks,
                s->doip_acks == 1 ? "" : "s", uf_format_ms(lo, sizeof(lo), s->ack_min),
                uf_format_ms(avg, sizeof(avg),
                             s->doip_acks ? s->ack_sum / (uf_time)s->doip_acks : UF_TIME_NONE),
                uf_format_ms(hi, sizeof(hi), s->ack_max));
        if (s->doip_nacks)
            fprintf(f, ", %u NACK%s", s->doip_nacks, s->doip_nacks == 1 ? "" : "s");
        fputc('\n', f);
    }
    if (s->security_level)
        fprintf(f, "  security   level %u unlocked\n", s->security_level);
    if (s->n_sessions_entered) {
        fprintf(f, "  sessions  ");
        for (uint8_t i = 0; i < s->n_sessions_entered; i++) {
            const char *n = uf_uds_session_name(s->sessions_entered[i]);
            fprintf(f, "%s%s", i ? ", " : " ", n ? n : "?");
        }
        fputc('\n', f);
    }
    for (guint i = 0; i < s->dids->len; i++) {
        const uf_did_value *v = &g_array_index(s->dids, uf_did_value, i);
        bool changed = v->first_len != v->last_len || memcmp(v->first, v->last, v->first_len) != 0;
        if (!v->written && !changed)
            continue; /* an identification read that did not change */
        const char *name = uf_uds_did_name(v->did);
        fprintf(f, "  %-10s 0x%04X%s%s ", v->written ? "written" : "read", v->did, name ? " " : "",
                name ? name : "");
        value(f, v->first, v->first_len);
        if (changed) {
            fputs(" -> ", f);
            value(f, v->last, v->last_len);
        }
        fputc('\n', f);
    }
    if (s->routines->len) {
        fprintf(f, "  routines  ");
        for (guint i = 0; i < s->routines->len; i++) {
            const uf_routine_result *rr = &g_array_index(s->routines, uf_routine_result, i);
            const char *name = uf_profile_routine_name(p, rr->routine);
            if (!name)
                name = uf_uds_routine_name(rr->routine);
            if (name)
                fprintf(f, " %s", name);
            else
                fprintf(f, " 0x%04X", rr->routine);
            if (rr->positive)
                fprintf(f, " ok");
            else
                fprintf(f, " NRC 0x%02X", rr->nrc);
            fputs(i + 1 < s->routines->len ? "," : "", f);
        }
        fputc('\n', f);
    }
    for (guint i = 0; i < s->nrcs->len; i++) {
        const uf_nrc_seen *n = &g_array_index(s->nrcs, uf_nrc_seen, i);
        const char *name = uf_uds_nrc_name(n->nrc);
        fprintf(f, "  NRC        %s 0x%02X %s (frame %" PRIu64 ")\n",
                uf_uds_display_service(n->sid, a, sizeof(a)), n->nrc, name ? name : "", n->frame);
    }
    uint32_t total = s->findings[0] + s->findings[1] + s->findings[2];
    if (!total) {
        fprintf(f, "  findings   none\n");
    } else {
        fprintf(f, "  findings   %u errors, %u warnings, %u info\n", s->findings[UF_SEV_ERROR],
                s->findings[UF_SEV_WARNING], s->findings[UF_SEV_INFO]);
        findings(o, s->index, "    ");
    }
    fputc('\n', f);
}

void uf_report_text(FILE *f, const uf_check_result *r, const uf_text_style *style)
{
    out o = {f, style && style->color, r, {0}};
    uf_findings_by_session_init(&o.by_session, r);
    fprintf(f, "udsflash check: %s (%s, %" PRIu64 " frames, %" PRIu64 " UDS messages), profile %s\n\n",
            r->input.file, r->input.format, r->input.frames, r->input.messages,
            r->profile ? r->profile->name : "none");
    uint32_t n = uf_sessions_count(r->sessions), passed = 0;
    for (uint32_t i = 1; i <= n; i++) {
        const uf_session *s = uf_sessions_get(r->sessions, i);
        if (!s) /* a temporary file that could not be read back: the CLI says so */
            continue;
        session_block(&o, s);
        passed += uf_session_passed(s, r->fail_on);
    }
    if (n == 0)
        fprintf(f, "No flash session found (no diagnostic session change or flash service).\n\n");
    if (uf_findings_of_session(&o.by_session, 0)) {
        fprintf(f, "%sOutside any session%s\n", paint(&o, BOLD), paint(&o, RESET));
        findings(&o, 0, "  ");
        fputc('\n', f);
    }
    if (r->findings_not_listed)
        fprintf(f, "(%" PRIu64 " more findings were counted but not kept.)\n", r->findings_not_listed);
    if (uf_sessions_requests_not_analyzed(r->sessions))
        fprintf(f, "Note: only the first %u sessions were analyzed; %" PRIu64 " requests after "
                "them were not. Split the capture to check them.\n", n,
                uf_sessions_requests_not_analyzed(r->sessions));
    if (!r->input.timestamps)
        fprintf(f, "Note: the capture has no timestamps; timing rules were off.\n");
    bool pass = uf_check_passed(r);
    fprintf(f, "Result: %s%s%s - %u session%s (%u pass, %u fail); findings: %" PRIu64 " errors, %" PRIu64
            " warnings, %" PRIu64 " info (failing on %s and above)\n",
            paint(&o, pass ? GREEN : RED), pass ? "PASS" : "FAIL", paint(&o, RESET), n,
            n == 1 ? "" : "s", passed, n - passed, r->by_severity[UF_SEV_ERROR],
            r->by_severity[UF_SEV_WARNING], r->by_severity[UF_SEV_INFO],
            uf_severity_name(r->fail_on));
    uf_findings_by_session_free(&o.by_session);
}
