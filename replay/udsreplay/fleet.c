/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The jobs of a udsreplay flash run (fleet.h). In parallel, every replay
 * runs in its own thread over its own channel; testers on the one
 * simulated bus take turns on its virtual clock through uf_simbus_group,
 * so a parallel flash on it is as deterministic as a single one. A job
 * that ends leaves at once, so the others need not wait for it; links
 * are closed only when every thread is done, as the simulated ECUs share
 * the bus.
 */
#include "fleet.h"
#include "flash_view.h"
#include "udsreplay.h"

#include <string.h>

ur_job *ur_job_new(guint index, const char *label, uf_script *script)
{
    ur_job *j = g_new0(ur_job, 1);
    j->index = index;
    j->label = g_strdup(label);
    j->script = script;
    return j;
}

void ur_job_free(ur_job *j)
{
    if (!j)
        return;
    uf_script_free(j->script);
    uf_recording_free(j->recording);
    if (j->ecu_notes)
        g_ptr_array_free(j->ecu_notes, TRUE);
    uf_faults_free(j->faults);
    g_free(j->label);
    g_free(j);
}

/* Each fault in the log as it is injected. */
static void fault_logged(void *job, const uf_fault_event *e)
{
    char line[256];
    g_snprintf(line, sizeof(line), "fault injected: %s", e->what);
    ur_view_log(job, line);
}

static bool open_job(ur_run *r, ur_job *j, uf_error *err)
{
    uf_error e;
    j->opened = ur_link_open(&j->link, j->script, &j->link_options, &r->shared, &e);
    if (j->opened && j->link.faults)
        uf_faults_on_event(j->link.faults, fault_logged, j);
    if (!j->opened) {
        g_strlcpy(j->error, e.msg, sizeof(j->error));
        uf_error_set(err, "%s%s%s", r->jobs->len > 1 ? j->label : "",
                     r->jobs->len > 1 ? ": " : "", e.msg);
        ur_link_close(&j->link, &e);
    }
    return j->opened;
}

static bool close_job(ur_job *j, uf_error *err)
{
    if (!j->opened)
        return true;
    j->opened = false;
    /* The report comes after the links are closed. */
    j->faults = j->link.faults;
    j->link.faults = NULL;
    if (j->link.recorded) {
        const GArray *ev = uf_recorded_ecu_events(j->link.recorded);
        j->ecu_notes = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < ev->len; i++) {
            char what[160];
            g_ptr_array_add(j->ecu_notes,
                            g_strdup(uf_recorded_event_describe(
                                &g_array_index(ev, uf_recorded_event, i), what, sizeof(what))));
        }
    }
    return ur_link_close(&j->link, err);
}

static void run_job(ur_job *j)
{
    ur_run *r = j->run;
    uf_replay_options o = r->options;
    const uf_script_link *l = &j->script->link;
    /* A simulated bus to itself has no delays to allow for; shared, an
     * answer waits for the others' frames that win arbitration. */
    bool alone_on_sim = ur_link_simulated(&j->link_options) && !l->doip && r->sim_ecus == 1;
    o.margin = (r->margin_ms >= 0 ? r->margin_ms : alone_on_sim ? 0 : 20) * UF_NS_PER_MS;
    o.reconnect = l->doip ? ur_link_reconnect : NULL;
    o.reconnect_ctx = &j->link;
    o.progress = ur_view_progress;
    o.progress_ctx = j;
    o.log = ur_view_log;
    o.log_ctx = j;
    uf_replay_run(&j->link.channel, j->script, &o, &j->res);
    g_strlcpy(j->channel, j->link.channel->name, sizeof(j->channel));
    /* Leaves the simulated bus's group now, so the others go on alone. */
    uf_channel_free(j->link.channel);
    j->link.channel = NULL;
    j->ran = true;
}

static gpointer job_thread(gpointer data)
{
    run_job(data);
    return NULL;
}

static bool run_parallel(ur_run *r, uf_error *err)
{
    bool ok = true;
    for (guint i = 0; ok && i < r->jobs->len; i++)
        ok = open_job(r, g_ptr_array_index(r->jobs, i), err);
    if (ok) {
        for (guint i = 0; i < r->jobs->len; i++) {
            ur_job *j = g_ptr_array_index(r->jobs, i);
            char name[16];
            g_snprintf(name, sizeof(name), "flash-%u", j->index);
            j->thread = g_thread_new(name, job_thread, j);
        }
        for (guint i = 0; i < r->jobs->len; i++) {
            ur_job *j = g_ptr_array_index(r->jobs, i);
            g_thread_join(j->thread);
            j->thread = NULL;
        }
    }
    for (guint i = 0; i < r->jobs->len; i++) {
        uf_error e;
        if (!close_job(g_ptr_array_index(r->jobs, i), &e) && ok) {
            *err = e;
            ok = false;
        }
    }
    return ok;
}

static bool run_sequential(ur_run *r, uf_error *err)
{
    for (guint i = 0; i < r->jobs->len; i++) {
        ur_job *j = g_ptr_array_index(r->jobs, i);
        if (!open_job(r, j, err))
            return false;
        run_job(j);
        if (!close_job(j, err))
            return false;
    }
    return true;
}

bool ur_run_jobs(ur_run *r, const char *record, uf_error *err)
{
    bool sim_can = false, fd = false;
    for (guint i = 0; i < r->jobs->len; i++) {
        ur_job *j = g_ptr_array_index(r->jobs, i);
        j->run = r;
        if (ur_link_simulated(&j->link_options) && !j->script->link.doip) {
            sim_can = true;
            r->sim_ecus++;
            fd |= j->script->link.fd;
        }
    }
    if (!ur_shared_open(&r->shared, sim_can, fd, record, err))
        return false;
    bool ok = r->sequential ? run_sequential(r, err) : run_parallel(r, err);
    uf_error e;
    if (!ur_shared_close(&r->shared, &e) && ok) {
        *err = e;
        ok = false;
    }
    return ok;
}

void ur_run_times(const ur_run *r, uf_time *started, uf_time *ended, uf_time *sum)
{
    *started = *ended = *sum = 0;
    bool first = true;
    for (guint i = 0; i < r->jobs->len; i++) {
        const ur_job *j = g_ptr_array_index(r->jobs, i);
        if (!j->ran)
            continue;
        if (first || j->res.started < *started)
            *started = j->res.started;
        if (first || j->res.ended > *ended)
            *ended = j->res.ended;
        *sum += j->res.ended - j->res.started;
        first = false;
    }
}

int ur_run_status(const ur_run *r)
{
    bool failed = false, unstarted = false, refused = false;
    for (guint i = 0; i < r->jobs->len; i++) {
        const ur_job *j = g_ptr_array_index(r->jobs, i);
        if (!j->ran)
            unstarted = true;
        else if (j->res.verdict == UF_REPLAY_REFUSED)
            refused = true;
        else if (j->res.verdict != UF_REPLAY_SUCCESS)
            failed = true;
    }
    return failed      ? UF_EXIT_FINDINGS
           : unstarted ? UF_EXIT_INPUT
           : refused   ? UR_EXIT_REFUSED
                       : UF_EXIT_OK;
}
