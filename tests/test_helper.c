/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The helper thread (common/uf_helper.h): jobs by order, no wake lost, and
 * a job removed only once its step is over. Every wait here has a deadline,
 * so that a helper that sleeps through work fails the test, not hangs it.
 */
#include "uf_helper.h"

#include <criterion/criterion.h>
#include <glib.h>

#define DEADLINE_US (10 * G_USEC_PER_SEC)

/* A job with `left` pieces of work; each piece done is logged with the
 * job's letter. */
typedef struct counted {
    char name;
    gint left;
    GString *log; /* shared, under log_lock */
    GMutex *log_lock;
} counted;

static bool counted_step(void *ctx)
{
    counted *c = ctx;
    if (g_atomic_int_get(&c->left) == 0)
        return false;
    g_mutex_lock(c->log_lock);
    g_string_append_c(c->log, c->name);
    g_mutex_unlock(c->log_lock);
    g_atomic_int_add(&c->left, -1);
    return true;
}

/* Waits, DEADLINE_US at most, until *v is want: true if it came to be. */
static bool wait_for(gint *v, gint want)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (g_atomic_int_get(v) != want)
        if (g_get_monotonic_time() > end)
            return false;
        else
            g_usleep(50);
    return true;
}

/* The first job added goes first: while it has work, the second waits. */
Test(helper, does_the_first_job_with_work_first)
{
    GMutex log_lock;
    g_mutex_init(&log_lock);
    GString *log = g_string_new(NULL);
    counted a = {'a', 50, log, &log_lock}, b = {'b', 50, log, &log_lock};
    uf_helper *h = uf_helper_new("test-helper");
    /* b's work is there before the helper could finish a's. */
    g_mutex_lock(&log_lock);
    uf_helper_add(h, counted_step, &a);
    uf_helper_add(h, counted_step, &b);
    g_mutex_unlock(&log_lock);
    cr_assert(wait_for(&a.left, 0), "a's work is done");
    cr_assert(wait_for(&b.left, 0), "b's work is done");
    uf_helper_remove(h, &a);
    uf_helper_remove(h, &b);
    uf_helper_free(h);
    const char *first_b = strchr(log->str, 'b');
    const char *last_a = strrchr(log->str, 'a');
    cr_assert_eq(log->len, 100);
    cr_assert(first_b && last_a && first_b > last_a, "a's pieces, then b's: %s", log->str);
    g_string_free(log, TRUE);
    g_mutex_clear(&log_lock);
}

/* Work made one piece at a time, each followed by a wake, at all moments
 * of the helper's round: the helper never sleeps through a piece. */
typedef struct trickle {
    gint made, done;
} trickle;

static bool trickle_step(void *ctx)
{
    trickle *t = ctx;
    if (g_atomic_int_get(&t->done) == g_atomic_int_get(&t->made))
        return false;
    g_atomic_int_inc(&t->done);
    return true;
}

Test(helper, a_wake_after_new_work_is_never_lost)
{
    trickle t = {0, 0};
    uf_helper *h = uf_helper_new("test-helper");
    uf_helper_add(h, trickle_step, &t);
    GRand *rand = g_rand_new_with_seed(7);
    for (int i = 0; i < 3000; i++) {
        g_atomic_int_inc(&t.made);
        uf_helper_wake(h);
        if (g_rand_int_range(rand, 0, 4) == 0)
            g_usleep((gulong)g_rand_int_range(rand, 0, 50));
        /* Now and then, the helper has caught up and sleeps. */
        if (i % 100 == 0) {
            wait_for(&t.done, i + 1);
            cr_assert_eq(g_atomic_int_get(&t.done), i + 1, "piece %d is done", i);
        }
    }
    wait_for(&t.done, 3000);
    cr_assert_eq(g_atomic_int_get(&t.done), 3000, "every piece is done");
    g_rand_free(rand);
    uf_helper_remove(h, &t);
    uf_helper_free(h);
}

/* A step that always has work and takes a while. */
typedef struct slow {
    gint in_step, steps;
} slow;

static bool slow_step(void *ctx)
{
    slow *s = ctx;
    g_atomic_int_set(&s->in_step, 1);
    g_usleep(20000);
    g_atomic_int_inc(&s->steps);
    g_atomic_int_set(&s->in_step, 0);
    return true;
}

Test(helper, a_job_is_removed_once_its_step_is_over)
{
    slow s = {0, 0};
    uf_helper *h = uf_helper_new("test-helper");
    uf_helper_add(h, slow_step, &s);
    wait_for(&s.in_step, 1);
    cr_assert(g_atomic_int_get(&s.in_step), "the step runs");
    uf_helper_remove(h, &s);
    cr_assert_eq(g_atomic_int_get(&s.in_step), 0, "removed while its step ran");
    gint steps = g_atomic_int_get(&s.steps);
    g_usleep(50000);
    cr_assert_eq(g_atomic_int_get(&s.steps), steps, "a removed job's step ran again");
    uf_helper_free(h);
}

/* A job that keeps the helper busy once, until released; at once false to
 * any other thread meanwhile, as a real job does when its piece is taken. */
typedef struct blocker {
    gint taken, released;
} blocker;

static bool blocker_step(void *ctx)
{
    blocker *b = ctx;
    if (!g_atomic_int_compare_and_exchange(&b->taken, 0, 1))
        return false;
    wait_for(&b->released, 1);
    return true;
}

/* A job's pieces, each noting the thread that did it. */
typedef struct noted {
    gint left;
    GThread *by[4];
} noted;

static bool noted_step(void *ctx)
{
    noted *n = ctx;
    gint left = g_atomic_int_get(&n->left);
    if (left == 0)
        return false;
    n->by[left - 1] = g_thread_self();
    g_atomic_int_add(&n->left, -1);
    return true;
}

/* While the helper is busy, a thread that would wait does the next job's
 * pieces itself; with none left, assist says so. */
Test(helper, assist_does_a_piece_in_the_callers_thread)
{
    blocker b = {0, 0};
    noted n = {2, {NULL}};
    uf_helper *h = uf_helper_new("test-helper");
    uf_helper_add(h, blocker_step, &b);
    wait_for(&b.taken, 1);
    cr_assert(g_atomic_int_get(&b.taken), "the helper runs the blocker");
    uf_helper_add(h, noted_step, &n);
    cr_assert(uf_helper_assist(h), "a piece of the second job");
    cr_assert(uf_helper_assist(h), "its other piece");
    cr_assert_not(uf_helper_assist(h), "nothing left to do");
    cr_assert_eq(n.by[1], g_thread_self());
    cr_assert_eq(n.by[0], g_thread_self());
    g_atomic_int_set(&b.released, 1);
    uf_helper_remove(h, &b);
    uf_helper_remove(h, &n);
    uf_helper_free(h);
}
