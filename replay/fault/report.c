/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The faults of a run in its report, the same in udsreplay flash,
 * reproduce and ecu: the seed, every fault injected with its time since
 * the link opened, and the specs that never acted (a fault at block 900
 * of a 300-block flash is a mistake worth saying).
 */
#include "uf_fault.h"

#include <inttypes.h>
#include <stdio.h>

void uf_faults_report_text(FILE *out, const uf_faults *f, const char *indent)
{
    if (!f)
        return;
    const GArray *ev = uf_faults_events(f);
    fprintf(out, "%sfaults injected (seed %" PRIu64 "): %u\n", indent, uf_faults_seed(f), ev->len);
    for (guint i = 0; i < ev->len; i++) {
        const uf_fault_event *e = &g_array_index(ev, uf_fault_event, i);
        char at[32];
        fprintf(out, "%s  %s s  %s%s%s\n", indent,
                uf_format_seconds(at, sizeof(at), e->time - uf_faults_origin(f)),
                e->fault < uf_faults_count(f) ? uf_faults_spec(f, e->fault)->text : "",
                e->fault < uf_faults_count(f) ? ": " : "", e->what);
    }
    for (size_t i = 0; i < uf_faults_count(f); i++)
        if (!uf_faults_hits(f, i))
            fprintf(out, "%s  fault \"%s\" never acted\n", indent, uf_faults_spec(f, i)->text);
}

void uf_faults_report_json(uf_json *j, const uf_faults *f)
{
    uf_json_begin_object(j);
    uf_json_member_uint(j, "seed", uf_faults_seed(f));
    uf_json_key(j, "specs");
    uf_json_begin_array(j);
    for (size_t i = 0; i < uf_faults_count(f); i++) {
        uf_json_begin_object(j);
        uf_json_member_string(j, "spec", uf_faults_spec(f, i)->text);
        uf_json_member_uint(j, "acted", uf_faults_hits(f, i));
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
    uf_json_key(j, "injected");
    uf_json_begin_array(j);
    const GArray *ev = uf_faults_events(f);
    for (guint i = 0; i < ev->len; i++) {
        const uf_fault_event *e = &g_array_index(ev, uf_fault_event, i);
        uf_json_begin_object(j);
        uf_json_member_time(j, "time", e->time - uf_faults_origin(f));
        uf_json_key(j, "spec");
        if (e->fault < uf_faults_count(f))
            uf_json_string(j, uf_faults_spec(f, e->fault)->text);
        else
            uf_json_null(j);
        uf_json_member_string(j, "what", e->what);
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
    uf_json_end_object(j);
}
