/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reports of a check: the flash sessions, their findings and verdicts, as
 * text a person reads in ten seconds, as the JSON object of DESIGN.md, or as
 * JUnit XML for CI (a testsuite per session, a testcase per profile step and
 * per rule family). Writers take a FILE; what they write is all in the
 * result they are given.
 */
#ifndef UF_REPORT_H
#define UF_REPORT_H

#include "uf_session.h"
#include "uf_spill.h"

#include <stdio.h>

typedef struct uf_report_input {
    const char *file;
    const char *format;   /* "pcap", "asc", ... */
    bool timestamps;
    uf_time start;        /* first record, or UF_TIME_NONE */
    uint64_t frames, messages;
    const char *damage;   /* NULL, or the reader's sentence */
    const char *const *buses; /* names by index */
    uint32_t n_buses;
} uf_report_input;

typedef struct uf_check_result {
    uf_report_input input;
    const uf_profile *profile;
    const uf_sessions *sessions;
    /* As reported, in order; at most UF_REPORT_MAX_FINDINGS: in an array,
     * or, when finding_store is set, in that store of uf_finding records
     * (uf_spill.h: the CLI's, for flat memory). Read with uf_report_finding. */
    const uf_finding *findings;
    uf_spill *finding_store;
    size_t n_findings;
    uint64_t findings_not_listed;
    uint64_t by_severity[3];    /* all findings, listed or not */
    uf_severity fail_on;
} uf_check_result;

#define UF_REPORT_MAX_FINDINGS 100000

/* "pass" or "fail": a session fails with a finding at or above fail_on. */
bool uf_session_passed(const uf_session *s, uf_severity fail_on);
/* The whole check fails with any finding at or above fail_on. */
bool uf_check_passed(const uf_check_result *r);

typedef struct uf_text_style {
    bool color; /* ANSI colours (a terminal, and NO_COLOR unset) */
} uf_text_style;

void uf_report_text(FILE *out, const uf_check_result *r, const uf_text_style *style);
void uf_report_json(FILE *out, const uf_check_result *r);
/* The same, the sessions rendered by two threads `block` at a time (0:
 * by this thread alone); uf_report_json takes 64. */
void uf_report_json_blocks(FILE *out, const uf_check_result *r, uint32_t block);
void uf_report_junit(FILE *out, const uf_check_result *r);

/* Shared by the writers. */

/* Finding i; with a store, valid until the next call, and NULL if the
 * store could not be read back (uf_spill_degraded says why). */
const uf_finding *uf_report_finding(const uf_check_result *r, size_t i);

/* The findings of each session, for writers that list them by session:
 * built in one pass, 4 bytes a finding and a session. */
typedef struct uf_findings_by_session {
    uint32_t *order;      /* finding indices, by session, in report order within one */
    uint32_t *start;      /* session s's: order[start[s]] .. order[start[s + 1] - 1];
                           * s = 0: outside any session */
    uint32_t n_sessions;
} uf_findings_by_session;
void uf_findings_by_session_init(uf_findings_by_session *ix, const uf_check_result *r);
void uf_findings_by_session_free(uf_findings_by_session *ix);
static inline uint32_t uf_findings_of_session(const uf_findings_by_session *ix, uint32_t s)
{
    return ix->start[s + 1] - ix->start[s];
}

const char *uf_report_bus(const uf_check_result *r, uint32_t bus);
/* Seconds from the capture start, or UF_TIME_NONE. */
uf_time uf_report_rel(const uf_check_result *r, uf_time t);
/* Bytes per second over a download, or -1 if it has no duration. */
double uf_download_throughput(const uf_download *d);

#endif /* UF_REPORT_H */
