/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * JUnit XML, as CI servers read it: a <testsuite> per flash session with a
 * <testcase> per profile step (failed when a required step was not done or a
 * finding at or above --fail-on points at it; skipped when an optional step
 * did not happen; steps allowed in any phase are named "anytime/STEP") and per rule family (capture, isotp, timing, uds, flash,
 * doip; failed with the findings of that family). Findings outside sessions
 * get a suite of their own. Text is escaped for XML 1.0, whose character set
 * has no place for most control characters: they become U+FFFD.
 */
#include "uf_report.h"

#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const families[] = {"capture", "isotp", "timing", "uds", "flash", "doip"};

static void xml(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                fputs("\xEF\xBF\xBD", f);
            else
                fputc(*p, f);
        }
    }
}

static double secs(uf_time ns)
{
    return ns == UF_TIME_NONE || ns < 0 ? 0.0 : (double)ns / 1e9;
}

static bool counts(const uf_check_result *r, const uf_finding *f)
{
    return f->severity >= r->fail_on;
}

/* Writes "<failure ...>" listing the findings selected by `pick`. */
typedef bool (*pick_fn)(const uf_finding *f, const void *arg);

static size_t failure(FILE *f, const uf_check_result *r, const uf_findings_by_session *ix,
                      uint32_t session, pick_fn pick, const void *arg, const char *extra)
{
    size_t n = 0;
    const uf_rule *first = NULL; /* a finding from a store lasts until the next one is read */
    const uint32_t *of = ix->order + ix->start[session];
    uint32_t n_of = uf_findings_of_session(ix, session);
    for (uint32_t k = 0; k < n_of; k++) {
        const uf_finding *x = uf_report_finding(r, of[k]);
        if (x && counts(r, x) && pick(x, arg)) {
            if (!first)
                first = x->rule;
            n++;
        }
    }
    if (!n && !extra)
        return 0;
    fputs("      <failure message=\"", f);
    if (extra)
        xml(f, extra);
    else
        fprintf(f, "%zu finding%s", n, n == 1 ? "" : "s");
    fputs("\" type=\"", f);
    xml(f, first ? first->id : "flash.sequence.missing");
    fputs("\">", f);
    if (extra) {
        xml(f, extra);
        fputc('\n', f);
    }
    for (uint32_t k = 0; k < n_of; k++) {
        const uf_finding *x = uf_report_finding(r, of[k]);
        if (x && counts(r, x) && pick(x, arg)) {
            char t[32];
            fprintf(f, "%s %s", uf_severity_name(x->severity), x->rule->id);
            if (x->frame > 0)
                fprintf(f, " frame %" PRIu64, x->frame);
            if (x->time != UF_TIME_NONE)
                fprintf(f, " at %s s", uf_format_seconds(t, sizeof(t), uf_report_rel(r, x->time)));
            fputs(": ", f);
            xml(f, x->message);
            fputc('\n', f);
        }
    }
    fputs("</failure>\n", f);
    return n ? n : 1;
}

static bool in_family(const uf_finding *f, const void *arg)
{
    return uf_rule_matches(f->rule->id, arg);
}

static bool at_step(const uf_finding *f, const void *arg)
{
    return f->step && strcmp(f->step, arg) == 0;
}

static void family_cases(FILE *f, const uf_check_result *r, const uf_findings_by_session *ix,
                         uint32_t session, const char *cls, uint32_t *failures)
{
    for (size_t k = 0; k < G_N_ELEMENTS(families); k++) {
        fprintf(f, "    <testcase classname=\"%s.rules\" name=\"%s\">\n", cls, families[k]);
        if (failure(f, r, ix, session, in_family, families[k], NULL))
            (*failures)++;
        fputs("    </testcase>\n", f);
    }
}

static void session_suite(FILE *f, const uf_check_result *r, const uf_findings_by_session *ix,
                          const uf_session *s)
{
    const uf_profile *p = r->profile;
    char tester[32], ecu[32], cls[32];
    uf_isotp_endpoint_name(&s->tester, tester, sizeof(tester));
    if (s->ecu_known)
        uf_isotp_endpoint_name(&s->ecu, ecu, sizeof(ecu));
    else
        g_strlcpy(ecu, "?", sizeof(ecu));
    snprintf(cls, sizeof(cls), "udsflash.session%u", s->index);

    /* Count first: the suite's attributes come before its cases. */
    uint32_t tests = (uint32_t)G_N_ELEMENTS(families) + (p ? p->n_steps + p->n_anytime : 0);
    uint32_t failures = 0, skipped = 0;
    GString *body = g_string_new("");
    char *buf = NULL;
    size_t len = 0;
    FILE *cases = open_memstream(&buf, &len);
    for (uint32_t i = 0; p && i < p->n_steps; i++) {
        const uf_step *st = &p->steps[i];
        uint8_t nrc = 0;
        uf_step_status status = uf_session_step_status(s, i, &nrc);
        fprintf(cases, "    <testcase classname=\"%s.steps\" name=\"", cls);
        xml(cases, p->phases[st->phase].name);
        fputc('/', cases);
        xml(cases, st->name);
        fputs("\">\n", cases);
        char why[160] = "";
        if (!st->optional && status != UF_STEP_DONE) {
            if (status == UF_STEP_REFUSED)
                snprintf(why, sizeof(why), "required step refused with NRC 0x%02X", nrc);
            else if (status == UF_STEP_UNANSWERED)
                snprintf(why, sizeof(why), "required step got no positive response");
            else
                snprintf(why, sizeof(why), "required step never happened");
        }
        if (failure(cases, r, ix, s->index, at_step, st->name, why[0] ? why : NULL)) {
            failures++;
        } else if (st->optional && status == UF_STEP_NOT_REQUESTED) {
            fputs("      <skipped message=\"optional step not done\"/>\n", cases);
            skipped++;
        }
        fputs("    </testcase>\n", cases);
    }
    /* Steps allowed anywhere (tester present, reads) only fail on findings. */
    for (uint32_t i = 0; p && i < p->n_anytime; i++) {
        fprintf(cases, "    <testcase classname=\"%s.steps\" name=\"anytime/", cls);
        xml(cases, p->anytime[i].name);
        fputs("\">\n", cases);
        if (failure(cases, r, ix, s->index, at_step, p->anytime[i].name, NULL))
            failures++;
        fputs("    </testcase>\n", cases);
    }
    family_cases(cases, r, ix, s->index, cls, &failures);
    fclose(cases);
    g_string_append_len(body, buf, (gssize)len);
    free(buf);

    fprintf(f, "  <testsuite name=\"session %u: %s -&gt; %s on ", s->index, tester, ecu);
    xml(f, uf_report_bus(r, s->bus));
    fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.6f\">\n", tests,
            failures, skipped, secs(uf_time_diff(s->t_end, s->t_start)));
    fputs("    <properties>\n", f);
    fprintf(f, "      <property name=\"ecu\" value=\"%s\"/>\n", ecu);
    fprintf(f, "      <property name=\"tester\" value=\"%s\"/>\n", tester);
    fprintf(f, "      <property name=\"verdict\" value=\"%s\"/>\n",
            uf_session_passed(s, r->fail_on) ? "pass" : "fail");
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_download *d = &g_array_index(s->downloads, uf_download, i);
        fprintf(f, "      <property name=\"download%u\" value=\"0x%08" PRIX64 " %" PRIu64
                " bytes sha256 %s%s\"/>\n", d->index, d->address, d->bytes, d->sha256,
                d->complete ? "" : " incomplete");
    }
    fputs("    </properties>\n", f);
    fputs(body->str, f);
    fputs("  </testsuite>\n", f);
    g_string_free(body, TRUE);
}

void uf_report_junit(FILE *f, const uf_check_result *r)
{
    uint32_t n = uf_sessions_count(r->sessions);
    uf_findings_by_session ix;
    uf_findings_by_session_init(&ix, r);
    bool outside = uf_findings_of_session(&ix, 0) > 0;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fputs("<testsuites name=\"udsflash check ", f);
    xml(f, r->input.file);
    fprintf(f, "\">\n");
    for (uint32_t i = 1; i <= n; i++) {
        const uf_session *s = uf_sessions_get(r->sessions, i);
        if (s) /* else a temporary file that could not be read back: the CLI says so */
            session_suite(f, r, &ix, s);
    }
    if (outside) {
        uint32_t failures = 0;
        char *buf = NULL;
        size_t len = 0;
        FILE *cases = open_memstream(&buf, &len);
        family_cases(cases, r, &ix, 0, "udsflash.capture", &failures);
        fclose(cases);
        fprintf(f, "  <testsuite name=\"outside sessions\" tests=\"%zu\" failures=\"%u\" errors=\"0\">\n",
                G_N_ELEMENTS(families), failures);
        fwrite(buf, 1, len, f);
        free(buf);
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    uf_findings_by_session_free(&ix);
}
