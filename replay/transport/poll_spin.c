/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Waiting for a socket the way a fast peer on the same machine wants it:
 * ask without sleeping for a short while, then sleep. A sleeping process
 * takes tens of microseconds to wake (the idle CPU halts; on a virtual
 * machine the wake-up is an emulated interrupt), as long as a TransferData
 * round trip on loopback or the echo of a CAN frame on vcan. Spinning for
 * the first 200 us took DoIP on loopback from 47 to 258 MiB/s and ISO-TP
 * on vcan with BS 8 from 0.14x to 0.29x the kernel's.
 *
 * For the same reason a wait with a deadline wakes a little before it and
 * spins up to it.
 *
 * Spinning only pays when the peer runs on another CPU. A process that may
 * use a single CPU, or runs at real-time priority, spins on the very CPU
 * its peer needs: the peer cannot run until the spin ends, which delays the
 * answer the spin waits for (udsecu at SCHED_FIFO on the tester's CPU put
 * the tester's frames off by up to 3 ms). Such a process sleeps at once.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, ppoll */
#include "uf_transport.h"

#include <sched.h>
#include <time.h>

#define SPIN_NS (200 * UF_NS_PER_US)
/* How much earlier than a deadline a spinning process wakes, to spin up
 * to it: a sleeper wakes late by its timer slack (50 us) and, in a VM,
 * an emulated timer interrupt. Each consecutive frame at STmin 1 ms left
 * about 0.1 ms late, which made a 64-byte message at STmin 1 ms take 9.4
 * ms instead of the kernel ISO-TP's 8.6. */
#define WAKE_EARLY_NS (100 * UF_NS_PER_US)
/* How long a thread trusts what it found about its CPUs and policy: long
 * against the cost of asking (two system calls), short against a process
 * that raises its priority (udsreplay --realtime) or is moved by taskset. */
#define RECHECK_NS (50 * UF_NS_PER_MS)

static bool spinning_pays(void)
{
    int policy = sched_getscheduler(0);
    if (policy == SCHED_FIFO || policy == SCHED_RR)
        return false;
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
        return false;
    return CPU_COUNT(&cpus) > 1;
}

/* Per thread: the medium of one thread and the ECU of another may live in
 * one process (udsreplay against a simulated or a local ECU). */
static __thread uf_time checked_at = UF_TIME_NONE;
static __thread bool may_spin;

uf_time uf_poll_spin_budget(uf_time now)
{
    if (checked_at == UF_TIME_NONE || now - checked_at >= RECHECK_NS) {
        may_spin = spinning_pays();
        checked_at = now;
    }
    return may_spin ? SPIN_NS : 0;
}

/* Asks without sleeping until `end`; the last time read in *now. */
static int spin(struct pollfd *p, nfds_t n, uf_time end, uf_time *now)
{
    const struct timespec zero = {0, 0};
    do {
        int r = ppoll(p, n, &zero, NULL);
        if (r != 0)
            return r; /* ready, or an error (EINTR too) for the caller */
        *now = uf_clock_monotonic();
    } while (*now < end);
    return 0;
}

int uf_poll_spinning(struct pollfd *p, nfds_t n, uf_time deadline)
{
    uf_time now = uf_clock_monotonic();
    uf_time budget = uf_poll_spin_budget(now);
    uf_time spin_end = now + budget;
    if (deadline != UF_TIME_NONE && deadline < spin_end)
        spin_end = deadline;
    int r = spin(p, n, spin_end, &now);
    if (r != 0 || (deadline != UF_TIME_NONE && now >= deadline))
        return r;
    if (deadline == UF_TIME_NONE)
        return ppoll(p, n, NULL, NULL);
    /* ppoll, not poll: a deadline in ns, for the gaps of timed sends. */
    uf_time wake = budget && deadline - now > WAKE_EARLY_NS ? deadline - WAKE_EARLY_NS : deadline;
    uf_time left = wake - now;
    struct timespec ts = {left / UF_NS_PER_S, left % UF_NS_PER_S};
    r = ppoll(p, n, &ts, NULL);
    if (r != 0 || wake == deadline)
        return r;
    return spin(p, n, deadline, &now);
}
