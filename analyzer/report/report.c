/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What every report writer shares: verdicts, bus names, relative times,
 * throughput.
 */
#include "uf_report.h"

#include <glib.h>

bool uf_session_passed(const uf_session *s, uf_severity fail_on)
{
    for (int sev = fail_on; sev <= UF_SEV_ERROR; sev++)
        if (s->findings[sev])
            return false;
    return true;
}

bool uf_check_passed(const uf_check_result *r)
{
    for (int sev = r->fail_on; sev <= UF_SEV_ERROR; sev++)
        if (r->by_severity[sev])
            return false;
    return true;
}

const char *uf_report_bus(const uf_check_result *r, uint32_t bus)
{
    return bus < r->input.n_buses ? r->input.buses[bus] : "-";
}

uf_time uf_report_rel(const uf_check_result *r, uf_time t)
{
    return uf_time_diff(t, r->input.start);
}

double uf_download_throughput(const uf_download *d)
{
    uf_time span = uf_time_diff(d->t_end, d->t_start);
    if (span == UF_TIME_NONE || span <= 0)
        return -1;
    return (double)d->bytes * 1e9 / (double)span;
}

const uf_finding *uf_report_finding(const uf_check_result *r, size_t i)
{
    if (i >= r->n_findings)
        return NULL;
    if (!r->finding_store)
        return &r->findings[i];
    size_t len = 0;
    const uf_finding *f = uf_spill_get(r->finding_store, i, &len);
    return f && len == sizeof(*f) ? f : NULL;
}

/* The session a finding is listed under: 0 outside any, or one the
 * sessions do not have (none such is made, but a writer must not index
 * past its tables). */
static uint32_t listed_under(const uf_finding *f, uint32_t n_sessions)
{
    return f && f->session <= n_sessions ? f->session : 0;
}

void uf_findings_by_session_init(uf_findings_by_session *ix, const uf_check_result *r)
{
    /* A counting sort: a pass to count, a pass to place. Stable, so each
     * session's findings keep the order they were reported in. */
    uint32_t n = uf_sessions_count(r->sessions);
    ix->n_sessions = n;
    ix->start = g_new0(uint32_t, (gsize)n + 2);
    ix->order = g_new(uint32_t, r->n_findings ? r->n_findings : 1);
    for (size_t i = 0; i < r->n_findings; i++)
        ix->start[listed_under(uf_report_finding(r, i), n) + 1]++;
    for (uint32_t s = 0; s <= n; s++)
        ix->start[s + 1] += ix->start[s];
    uint32_t *next = g_memdup2(ix->start, ((gsize)n + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < r->n_findings; i++)
        ix->order[next[listed_under(uf_report_finding(r, i), n)]++] = (uint32_t)i;
    g_free(next);
}

void uf_findings_by_session_free(uf_findings_by_session *ix)
{
    g_free(ix->order);
    g_free(ix->start);
}
