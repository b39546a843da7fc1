/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Progress, log and report of udsreplay flash (flash_view.h). The jobs of
 * a parallel run call in from their threads: one lock keeps the bar and
 * the log lines whole.
 */
#include "flash_view.h"
#include "udsreplay.h"

#include <string.h>

struct ur_view {
    GMutex lock;
    const ur_run *run;
    bool bar, quiet;
    bool bar_shown;
    uf_time last_draw;
};

ur_view *ur_view_new(const ur_run *r, bool bar, bool quiet)
{
    ur_view *v = g_new0(ur_view, 1);
    g_mutex_init(&v->lock);
    v->run = r;
    v->bar = bar && !quiet;
    v->quiet = quiet;
    return v;
}

static void clear_bar(ur_view *v)
{
    if (v->bar_shown) {
        fprintf(stderr, "\r\033[K");
        v->bar_shown = false;
    }
}

void ur_view_free(ur_view *v)
{
    if (!v)
        return;
    clear_bar(v);
    g_mutex_clear(&v->lock);
    g_free(v);
}

static bool several(const ur_run *r)
{
    return r->jobs->len > 1;
}

void ur_view_log(void *job, const char *line)
{
    ur_job *j = job;
    ur_view *v = j->run->view;
    if (v->quiet)
        return;
    g_mutex_lock(&v->lock);
    clear_bar(v);
    if (several(j->run))
        fprintf(stderr, "udsreplay: [%u] %s\n", j->index, line);
    else
        fprintf(stderr, "udsreplay: %s\n", line);
    g_mutex_unlock(&v->lock);
}

/* [#####.....]  45%  1.2 of 2.6 KiB  48.1 KiB/s  ETA 31 s  programming/transfer
 * and with several ECUs, each one's share after the totals:  #1 60%  #2 31% */
static void draw(ur_view *v)
{
    const ur_run *r = v->run;
    uint64_t done = 0, total = 0;
    uf_time elapsed = 0;
    for (guint i = 0; i < r->jobs->len; i++) {
        const ur_job *j = g_ptr_array_index(r->jobs, i);
        done += j->progress.done;
        total += j->progress.total;
        if (j->progress.elapsed > elapsed)
            elapsed = j->progress.elapsed;
    }
    double frac = total ? (double)done / (double)total : 0;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    double secs = (double)elapsed / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0;
    char eta[32] = "";
    if (rate > 0 && done < total)
        snprintf(eta, sizeof(eta), "  ETA %.0f s", (double)(total - done) / rate);
    fprintf(stderr, "\r\033[K[%s] %3.0f%%  %.1f of %.1f KiB  %.1f KiB/s%s", bar, frac * 100,
            (double)done / 1024, (double)total / 1024, rate / 1024, eta);
    for (guint i = 0; i < r->jobs->len; i++) {
        const ur_job *j = g_ptr_array_index(r->jobs, i);
        const uf_replay_progress *p = &j->progress;
        if (several(r))
            fprintf(stderr, "  #%u %.0f%%", j->index,
                    p->total ? 100.0 * (double)p->done / (double)p->total : 0.0);
        else
            fprintf(stderr, "  %s%s%s", p->phase ? p->phase : "",
                    p->phase && p->step ? "/" : "", p->step ? p->step : "");
    }
    v->bar_shown = true;
}

void ur_view_progress(void *job, const uf_replay_progress *p)
{
    ur_job *j = job;
    ur_view *v = j->run->view;
    if (!v->bar)
        return;
    g_mutex_lock(&v->lock);
    j->progress = *p;
    uf_time now = uf_clock_monotonic();
    if (!v->bar_shown || now - v->last_draw >= 100 * UF_NS_PER_MS || p->done == p->total) {
        v->last_draw = now;
        draw(v);
    }
    g_mutex_unlock(&v->lock);
}

/* ---- the report ----------------------------------------------------------------------*/

static void job_text(FILE *out, const ur_job *j)
{
    const uf_script *s = j->script;
    const uf_replay_result *r = &j->res;
    if (!j->ran) {
        fprintf(out, "not flashed: %s\n", j->error[0] ? j->error
                                                       : "another ECU's link could not be opened");
        return;
    }
    double secs = (double)(r->ended - r->started) / 1e9;
    fprintf(out, "%s: %s\n", uf_replay_verdict_name(r->verdict), r->message);
    if (r->failed_step >= 0) {
        char what[200];
        fprintf(out, "  at step %d: %s\n", r->failed_step + 1,
                uf_script_step_describe(uf_script_step_at(s, (guint)r->failed_step), what,
                                        sizeof(what)));
    }
    fprintf(out, "  %s, %u of %u steps in %.3f s\n", j->channel, r->steps_done, s->steps->len,
            secs);
    double transfer = (double)r->transfer_time / 1e9;
    fprintf(out, "  image of %" G_GUINT64_FORMAT " bytes: %" G_GUINT64_FORMAT " bytes sent in %u "
                 "blocks (max block length %u), %.1f KiB/s; %.1f KiB/s while the blocks went\n",
            r->total_bytes, r->bytes, r->blocks, r->max_block,
            secs > 0 ? (double)r->bytes / 1024 / secs : 0.0,
            transfer > 0 ? (double)r->bytes / 1024 / transfer : 0.0);
    fprintf(out, "  %u requests, %u response pending, %u tester present, %u identification "
                 "DIDs compared\n", r->requests, r->pending, r->tester_presents,
            r->identity_checked);
    if (r->repeats || r->restarts || r->reconnects || r->mismatches)
        fprintf(out, "  recovery: %u blocks repeated, %u downloads restarted, %u reconnections; "
                     "%u answers differed\n", r->repeats, r->restarts, r->reconnects,
                r->mismatches);
    for (guint i = 0; j->ecu_notes && i < j->ecu_notes->len; i++)
        fprintf(out, "  the recorded ECU: %s\n", (const char *)g_ptr_array_index(j->ecu_notes, i));
    uf_faults_report_text(out, j->faults, "  ");
}

void ur_report_text(FILE *out, const ur_run *r)
{
    if (!several(r)) {
        job_text(out, g_ptr_array_index(r->jobs, 0));
        return;
    }
    guint confirmed = 0, ran = 0;
    for (guint i = 0; i < r->jobs->len; i++) {
        const ur_job *j = g_ptr_array_index(r->jobs, i);
        fprintf(out, "[%u] %s\n", j->index, j->label);
        job_text(out, j);
        ran += j->ran;
        confirmed += j->ran && j->res.verdict == UF_REPLAY_SUCCESS;
    }
    uf_time started, ended, sum;
    ur_run_times(r, &started, &ended, &sum);
    double total = (double)(ended - started) / 1e9, one_by_one = (double)sum / 1e9;
    fprintf(out, "%u of %u ECUs flashed and confirmed", confirmed, r->jobs->len);
    if (!ran)
        fprintf(out, "\n");
    else if (r->sequential)
        fprintf(out, ", one after another: %.3f s in all\n", total);
    else
        fprintf(out, " in parallel: %.3f s in all; one after another they would take %.3f s "
                     "(the sum of their times): %.2fx\n",
                total, one_by_one, total > 0 ? one_by_one / total : 0.0);
}

static void job_json(uf_json *j, const ur_job *job)
{
    const uf_script *s = job->script;
    const uf_replay_result *r = &job->res;
    uf_json_member_string(j, "source", s->source ? s->source : job->label);
    uf_json_member_uint(j, "session", s->session);
    if (!job->ran) {
        uf_json_member_string(j, "verdict", "not flashed");
        uf_json_member_string(j, "message", job->error[0] ? job->error : "another ECU's link could not be opened");
        return;
    }
    uf_json_member_string(j, "verdict", uf_replay_verdict_name(r->verdict));
    uf_json_member_string(j, "message", r->message);
    uf_json_member_string(j, "channel", job->channel);
    uf_json_key(j, "failed_step");
    if (r->failed_step >= 0)
        uf_json_uint(j, (uint64_t)r->failed_step + 1);
    else
        uf_json_null(j);
    uf_json_member_uint(j, "steps", s->steps->len);
    uf_json_member_uint(j, "steps_done", r->steps_done);
    uf_json_member_time(j, "started", r->started);
    uf_json_member_time(j, "duration", r->ended - r->started);
    uf_json_member_uint(j, "bytes", r->bytes);
    uf_json_member_uint(j, "total_bytes", r->total_bytes);
    uf_json_member_uint(j, "blocks", r->blocks);
    uf_json_member_time(j, "transfer_time", r->transfer_time);
    uf_json_member_uint(j, "max_block_length", r->max_block);
    uf_json_member_uint(j, "requests", r->requests);
    uf_json_member_uint(j, "response_pending", r->pending);
    uf_json_member_uint(j, "tester_present", r->tester_presents);
    uf_json_member_uint(j, "identification_checked", r->identity_checked);
    uf_json_member_bool(j, "check_confirmed", r->check_confirmed);
    uf_json_key(j, "recovery");
    uf_json_begin_object(j);
    uf_json_member_uint(j, "repeats", r->repeats);
    uf_json_member_uint(j, "restarts", r->restarts);
    uf_json_member_uint(j, "reconnects", r->reconnects);
    uf_json_member_uint(j, "mismatches", r->mismatches);
    uf_json_end_object(j);
    if (job->ecu_notes) {
        /* --sim-recorded: what the recorded ECU met that it never saw. */
        uf_json_key(j, "ecu_unforeseen");
        uf_json_begin_array(j);
        for (guint i = 0; i < job->ecu_notes->len; i++)
            uf_json_string(j, g_ptr_array_index(job->ecu_notes, i));
        uf_json_end_array(j);
    }
    if (job->faults) {
        uf_json_key(j, "faults");
        uf_faults_report_json(j, job->faults);
    }
}

static const char *run_verdict(int status)
{
    switch (status) {
    case UF_EXIT_OK:
        return "success";
    case UF_EXIT_FINDINGS:
        return "failed";
    case UF_EXIT_INPUT:
        return "not flashed";
    default:
        return "refused";
    }
}

void ur_report_json(FILE *out, const ur_run *r)
{
    uf_json j;
    uf_json_init(&j, out, true);
    uf_json_begin_object(&j);
    if (!several(r)) {
        job_json(&j, g_ptr_array_index(r->jobs, 0));
    } else {
        uf_time started, ended, sum;
        ur_run_times(r, &started, &ended, &sum);
        uf_json_key(&j, "verdict");
        uf_json_string(&j, run_verdict(ur_run_status(r)));
        uf_json_key(&j, "mode");
        uf_json_string(&j, r->sequential ? "sequential" : "parallel");
        uf_json_key(&j, "duration");
        uf_json_time(&j, ended - started);
        uf_json_key(&j, "sum_of_durations");
        uf_json_time(&j, sum);
        uf_json_key(&j, "speedup");
        uf_json_double(&j, ended > started ? (double)sum / (double)(ended - started) : 0, 3);
        uf_json_key(&j, "jobs");
        uf_json_begin_array(&j);
        for (guint i = 0; i < r->jobs->len; i++) {
            const ur_job *job = g_ptr_array_index(r->jobs, i);
            uf_json_begin_object(&j);
            uf_json_key(&j, "job");
            uf_json_uint(&j, job->index);
            uf_json_key(&j, "label");
            uf_json_string(&j, job->label);
            job_json(&j, job);
            uf_json_end_object(&j);
        }
        uf_json_end_array(&j);
    }
    uf_json_end_object(&j);
    fputc('\n', out);
}
