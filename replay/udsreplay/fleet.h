/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Flashing several ECUs in one run of udsreplay flash, each from its own
 * script over its own link: at once, each replay in its own thread (one
 * bus or several, several DoIP connections), or one after another. What
 * the user sees of it (progress, log, report) is in flash_view.c.
 */
#ifndef UR_FLEET_H
#define UR_FLEET_H

#include "links.h"

typedef struct ur_run ur_run;

typedef struct ur_job {
    guint index;                /* 1-based, in the order given */
    char *label;                /* "two-ecus.pcap#2", "golden.json" */
    uf_script *script;
    uf_recording *recording;    /* --sim-recorded: the simulated ECU's */
    GPtrArray *ecu_notes;       /* what that ECU met that its recording did not foresee */
    uf_faults *faults;          /* what --fault injected on its link; NULL: none */
    ur_link_options link_options;
    ur_link link;
    bool opened;
    bool ran;                   /* res holds its result */
    char error[512];            /* why its link could not be opened */
    char channel[160];
    uf_replay_result res;
    uf_replay_progress progress;
    GThread *thread;
    ur_run *run;
} ur_job;

typedef struct ur_view ur_view;

struct ur_run {
    GPtrArray *jobs;            /* ur_job, owned */
    ur_shared shared;
    uf_replay_options options;  /* common to every job: keys and policies */
    gint margin_ms;             /* -1: by link (0 on the simulated bus, 20 ms else) */
    bool sequential;
    guint sim_ecus;             /* jobs on the simulated bus */
    ur_view *view;
};

ur_job *ur_job_new(guint index, const char *label, uf_script *script);
void ur_job_free(ur_job *j);

/* Opens the shared bus and recording, then runs every job: in parallel,
 * all links opened first so that nothing is flashed unless every link
 * opens; or one after another, each link opened when its turn comes.
 * False with err when the recording or a link could not be opened, or a
 * flash file not be written (the jobs that ran keep their results). */
bool ur_run_jobs(ur_run *r, const char *record, uf_error *err);

/* Over every job that ran: the first start, the last end, the sum of the
 * durations. */
void ur_run_times(const ur_run *r, uf_time *started, uf_time *ended, uf_time *sum);

/* 0 every ECU confirmed; 1 one failed or is unconfirmed; 3 one could not
 * be started; 4 one was refused (in that order of precedence). */
int ur_run_status(const ur_run *r);

#endif /* UR_FLEET_H */
