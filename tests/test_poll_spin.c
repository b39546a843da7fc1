/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transports' wait (transport/poll_spin.c): it spins first only where
 * the peer can run meanwhile (more than one CPU, no real-time priority),
 * and returns what poll would: ready at once, nothing at the deadline, the
 * peer's data when it comes.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_* */
#include "uf_transport.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* Each check runs in a thread of its own: what a thread found about its
 * CPUs is kept for a while, per thread. */
typedef struct budget_check {
    int cpus; /* affinity: the first this many CPUs; 0: leave it */
    int policy;
    uf_time budget;
    int error; /* errno of a refused setting */
} budget_check;

static gpointer check_budget(gpointer p)
{
    budget_check *c = p;
    if (c->cpus > 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = 0; i < c->cpus; i++)
            CPU_SET(i, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0) {
            c->error = errno;
            return NULL;
        }
    }
    if (c->policy != SCHED_OTHER) {
        struct sched_param sp = {.sched_priority = 1};
        if (sched_setscheduler(0, c->policy, &sp) != 0) {
            c->error = errno;
            return NULL;
        }
    }
    c->budget = uf_poll_spin_budget(uf_clock_monotonic());
    if (c->policy != SCHED_OTHER) { /* back, before the thread ends */
        struct sched_param sp = {.sched_priority = 0};
        sched_setscheduler(0, SCHED_OTHER, &sp);
    }
    return NULL;
}

static budget_check budget_of(int cpus, int policy)
{
    budget_check c = {.cpus = cpus, .policy = policy};
    g_thread_join(g_thread_new("budget", check_budget, &c));
    return c;
}

static int usable_cpus(void)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    /* The checks below take the first CPUs: they must be usable. */
    int n = 0;
    while (n < CPU_SETSIZE && CPU_ISSET(n, &set))
        n++;
    return n;
}

Test(poll_spin, spins_only_where_the_peer_can_run)
{
    int cpus = usable_cpus();
    budget_check one = budget_of(1, SCHED_OTHER);
    cr_assert_eq(one.error, 0, "sched_setaffinity: %s", strerror(one.error));
    cr_expect_eq(one.budget, 0, "bound to one CPU, it must not spin");
    if (cpus < 2)
        cr_skip_test("a single usable CPU here: the spinning case needs two");
    budget_check two = budget_of(2, SCHED_OTHER);
    cr_assert_eq(two.error, 0, "sched_setaffinity: %s", strerror(two.error));
    cr_expect_eq(two.budget, 200 * UF_NS_PER_US, "on two CPUs it spins for 200 us");
    budget_check fifo = budget_of(2, SCHED_FIFO);
    if (fifo.error == EPERM)
        cr_skip_test("SCHED_FIFO refused: the real-time case needs root or CAP_SYS_NICE");
    cr_assert_eq(fifo.error, 0, "sched_setscheduler: %s", strerror(fifo.error));
    cr_expect_eq(fifo.budget, 0, "at real-time priority it must not spin");
}

typedef struct late_writer {
    int fd;
    unsigned delay_us;
} late_writer;

static gpointer write_late(gpointer p)
{
    late_writer *w = p;
    g_usleep(w->delay_us);
    cr_assert_eq(write(w->fd, "x", 1), 1);
    return NULL;
}

Test(poll_spin, returns_what_poll_would)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    struct pollfd p = {fds[0], POLLIN, 0};

    /* Nothing comes: 0 at the deadline, not before it. */
    uf_time start = uf_clock_monotonic();
    cr_expect_eq(uf_poll_spinning(&p, 1, start + 30 * UF_NS_PER_MS), 0);
    cr_expect_geq(uf_clock_monotonic() - start, 30 * UF_NS_PER_MS);
    /* A deadline already past: 0 at once. */
    cr_expect_eq(uf_poll_spinning(&p, 1, start), 0);

    /* Ready before the wait: 1 with POLLIN. */
    cr_assert_eq(write(fds[1], "x", 1), 1);
    cr_expect_eq(uf_poll_spinning(&p, 1, UF_TIME_NONE), 1);
    cr_expect(p.revents & POLLIN);
    char c;
    cr_assert_eq(read(fds[0], &c, 1), 1);

    /* Data during the spin, then data after it, once asleep. */
    unsigned delays_us[] = {50, 20000};
    for (size_t i = 0; i < G_N_ELEMENTS(delays_us); i++) {
        late_writer w = {fds[1], delays_us[i]};
        GThread *t = g_thread_new("writer", write_late, &w);
        p.revents = 0;
        cr_expect_eq(uf_poll_spinning(&p, 1, UF_TIME_NONE), 1, "data after %u us", delays_us[i]);
        cr_expect(p.revents & POLLIN);
        g_thread_join(t);
        cr_assert_eq(read(fds[0], &c, 1), 1);
    }
    close(fds[0]);
    close(fds[1]);
}
