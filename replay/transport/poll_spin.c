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

int uf_poll_spinning(struct pollfd *p, nfds_t n, uf_time deadline)
{
    uf_time now = uf_clock_monotonic();
    uf_time spin_end = now + uf_poll_spin_budget(now);
    if (deadline != UF_TIME_NONE && deadline < spin_end)
        spin_end = deadline;
    const struct timespec zero = {0, 0};
    do {
        int r = ppoll(p, n, &zero, NULL);
        if (r != 0)
            return r; /* ready, or an error (EINTR too) for the caller */
        now = uf_clock_monotonic();
    } while (now < spin_end);
    if (deadline == UF_TIME_NONE)
        return ppoll(p, n, NULL, NULL);
    if (now >= deadline)
        return 0;
    /* ppoll, not poll: a deadline in ns, for the gaps of timed sends. */
    uf_time left = deadline - now;
    struct timespec ts = {left / UF_NS_PER_S, left % UF_NS_PER_S};
    return ppoll(p, n, &ts, NULL);
}
