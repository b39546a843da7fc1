/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the two frame blasters share (can_blast.c, packet_blast.c): the
 * clock they time with and their COUNT argument.
 */
#ifndef UF_BENCH_BLAST_H
#define UF_BENCH_BLAST_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double blast_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* COUNT as a number of frames, 2 or more (the rate runs from the first
 * to the last); -1, said on stderr, otherwise. */
static inline long blast_count(const char *program, const char *arg)
{
    char *end;
    long count = strtol(arg, &end, 10);
    if (*end || count < 2) {
        fprintf(stderr, "%s: COUNT must be a number of frames, 2 or more\n", program);
        return -1;
    }
    return count;
}

#endif /* UF_BENCH_BLAST_H */
