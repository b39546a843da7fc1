/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * See uf_helper.h. The lock guards the job list and the sleep; a step runs
 * without it, and takes its own job's locks.
 */
#include "uf_helper.h"

#include <glib.h>
#include <string.h>

typedef struct job {
    uf_helper_step step;
    void *ctx;
} job;

struct uf_helper {
    GThread *thread;
    GMutex lock;
    GCond changed;
    job jobs[UF_HELPER_MAX_JOBS];
    unsigned n_jobs;
    void *running;   /* the ctx of the step running, or NULL */
    bool woken;      /* a wake since the helper last began to look */
    bool sleeps;     /* waiting for a wake */
    unsigned removers; /* threads waiting for a step to end */
    bool stopping;
};

/* Runs the first job, by order, that has work: true if one had. The lock
 * is held on entry and on return. */
static bool one_piece(uf_helper *h)
{
    for (unsigned i = 0; i < h->n_jobs && !h->stopping; i++) {
        job j = h->jobs[i];
        h->running = j.ctx;
        g_mutex_unlock(&h->lock);
        bool worked = j.step(j.ctx);
        g_mutex_lock(&h->lock);
        h->running = NULL;
        if (h->removers)
            g_cond_broadcast(&h->changed);
        if (worked)
            return true;
    }
    return false;
}

static gpointer help(gpointer data)
{
    uf_helper *h = data;
    g_mutex_lock(&h->lock);
    while (!h->stopping) {
        /* A wake from here on makes the helper look once more: the work it
         * announces may have come after its job was looked at. */
        h->woken = false;
        if (one_piece(h) || h->woken)
            continue;
        h->sleeps = true;
        while (!h->woken && !h->stopping)
            g_cond_wait(&h->changed, &h->lock);
        h->sleeps = false;
    }
    g_mutex_unlock(&h->lock);
    return NULL;
}

uf_helper *uf_helper_new(const char *name)
{
    uf_helper *h = g_new0(uf_helper, 1);
    g_mutex_init(&h->lock);
    g_cond_init(&h->changed);
    h->thread = g_thread_new(name, help, h);
    return h;
}

void uf_helper_add(uf_helper *h, uf_helper_step step, void *ctx)
{
    g_mutex_lock(&h->lock);
    g_assert(h->n_jobs < UF_HELPER_MAX_JOBS);
    h->jobs[h->n_jobs++] = (job){step, ctx};
    h->woken = true;
    g_cond_broadcast(&h->changed);
    g_mutex_unlock(&h->lock);
}

void uf_helper_remove(uf_helper *h, void *ctx)
{
    g_mutex_lock(&h->lock);
    unsigned kept = 0;
    for (unsigned i = 0; i < h->n_jobs; i++)
        if (h->jobs[i].ctx != ctx)
            h->jobs[kept++] = h->jobs[i];
    h->n_jobs = kept;
    /* A round under way may skip a job that moved down the list: the
     * helper goes round once more before it sleeps. */
    h->woken = true;
    h->removers++;
    while (h->running == ctx)
        g_cond_wait(&h->changed, &h->lock);
    h->removers--;
    g_mutex_unlock(&h->lock);
}

void uf_helper_wake(uf_helper *h)
{
    g_mutex_lock(&h->lock);
    h->woken = true;
    if (h->sleeps)
        g_cond_signal(&h->changed);
    g_mutex_unlock(&h->lock);
}

bool uf_helper_assist(uf_helper *h)
{
    g_mutex_lock(&h->lock);
    job jobs[UF_HELPER_MAX_JOBS];
    unsigned n = h->n_jobs;
    memcpy(jobs, h->jobs, n * sizeof(job));
    g_mutex_unlock(&h->lock);
    for (unsigned i = 0; i < n; i++)
        if (jobs[i].step(jobs[i].ctx))
            return true;
    return false;
}

void uf_helper_free(uf_helper *h)
{
    if (!h)
        return;
    g_mutex_lock(&h->lock);
    g_assert(h->n_jobs == 0);
    h->stopping = true;
    g_cond_broadcast(&h->changed);
    g_mutex_unlock(&h->lock);
    g_thread_join(h->thread);
    g_mutex_clear(&h->lock);
    g_cond_clear(&h->changed);
    g_free(h);
}
