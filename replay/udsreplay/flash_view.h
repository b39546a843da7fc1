/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the user of udsreplay flash sees: a progress bar on a terminal
 * (bytes, rate, ETA, phase; one line for every ECU of the run), log lines
 * on stderr, and the final report on stdout in text or JSON
 * (docs/replay.md describes both).
 */
#ifndef UR_FLASH_VIEW_H
#define UR_FLASH_VIEW_H

#include "fleet.h"

#include <stdio.h>

/* bar: draw the progress bar; quiet: no log lines either. */
ur_view *ur_view_new(const ur_run *r, bool bar, bool quiet);
/* Clears the bar. */
void ur_view_free(ur_view *v);

/* uf_replay_options callbacks, with the job as ctx; safe from the jobs'
 * threads. */
void ur_view_log(void *job, const char *line);
void ur_view_progress(void *job, const uf_replay_progress *p);

/* The report of the run: one job's as it always was; several, each
 * job's and how the total time compares with one after another. */
void ur_report_text(FILE *out, const ur_run *r);
void ur_report_json(FILE *out, const ur_run *r);

#endif /* UR_FLASH_VIEW_H */
