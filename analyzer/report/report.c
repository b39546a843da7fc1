/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What every report writer shares: verdicts, bus names, relative times,
 * throughput.
 */
#include "uf_report.h"

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
