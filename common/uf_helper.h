/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A helper thread: one thread that does, for another, whichever of several
 * jobs has work, the first job first. `udsflash check` runs the analysis
 * in its own thread and gives the helper the two jobs that can run beside
 * it: hashing the downloads (analyzer/session/hasher.c) and reading the
 * capture ahead (capture/read_ahead.c).
 *
 * Why one thread for both: with a thread for each job, three threads share
 * two cores. The scheduler then often runs the analysis and another on one
 * core while the third waits for work on the other, idle (perf sched: the
 * analysis waited 80 ms a run for a core, while a core idled 0.2 s). Two
 * threads on two cores do not queue for one, and the analysis reads a
 * batch itself when the helper has not read one ahead.
 *
 * A job is a step function that does one piece of work (a chunk hashed, a
 * batch read) and returns true, or returns false at once when it has none.
 * The helper goes round the jobs from the first after every piece, and
 * sleeps when none had work until uf_helper_wake. A job's owner wakes the
 * helper after it makes work (a chunk to hash, room to read into); a wake
 * that comes while the helper is looking is not lost.
 */
#ifndef UF_HELPER_H
#define UF_HELPER_H

#include <stdbool.h>

typedef struct uf_helper uf_helper;

/* One piece of the job's work; false, at once, when it has none. */
typedef bool (*uf_helper_step)(void *ctx);

/* Starts the thread, named `name` (at most 15 bytes are shown by ps). */
uf_helper *uf_helper_new(const char *name);
/* Adds a job after those added before it (UF_HELPER_MAX_JOBS at most). */
#define UF_HELPER_MAX_JOBS 4
void uf_helper_add(uf_helper *h, uf_helper_step step, void *ctx);
/* Removes the job of ctx; when it returns, its step is not running and
 * will not run again. */
void uf_helper_remove(uf_helper *h, void *ctx);
/* There may be work: the helper looks again before it sleeps. */
void uf_helper_wake(uf_helper *h);
/* The caller, which would otherwise wait, does a piece of the first job
 * that has one, in its own thread: true if it did. A step may so run in
 * two threads at once, and must do its piece only if it has it alone. The
 * caller must not remove a job while another thread assists. */
bool uf_helper_assist(uf_helper *h);
/* Stops and joins the thread; the jobs must have been removed. */
void uf_helper_free(uf_helper *h);

#endif /* UF_HELPER_H */
