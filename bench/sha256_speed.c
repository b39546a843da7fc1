/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SHA-256 side by side in one run, over two messages of MiB mebibytes
 * each (64 by default), the median of RUNS runs (5): libgcrypt, one
 * message after the other; ours (common/sha256.c) the same way; ours with
 * the two side by side (uf_sha256_update2). Every digest is checked
 * against libgcrypt's, and a mismatch exits 1.
 *
 *   uf-bench-sha256 [MiB [RUNS]]
 */
#include "uf_sha256.h"

#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_RUNS = 99 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return v[n / 2];
}

static long number(const char *s, long min, long max, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "uf-bench-sha256: %s must be a number from %ld to %ld, not '%s'\n", what,
                min, max, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 3) {
        fprintf(stderr, "usage: uf-bench-sha256 [MiB [RUNS]]\n");
        return 2;
    }
    size_t mib = argc > 1 ? (size_t)number(argv[1], 1, 4096, "MiB") : 64;
    int runs = argc > 2 ? (int)number(argv[2], 1, MAX_RUNS, "RUNS") : 5;
    if (!uf_sha256_available()) {
        fprintf(stderr, "uf-bench-sha256: this CPU has no SHA extensions: nothing to compare\n");
        return 1;
    }
    gcry_check_version(NULL);
    /* The two lengths differ, and neither is a whole number of blocks. */
    size_t len[2] = {(mib << 20) - 5, (mib << 20) - 77};
    uint8_t *msg[2], want[2][32];
    for (int m = 0; m < 2; m++) {
        msg[m] = malloc(len[m]);
        if (!msg[m]) {
            fprintf(stderr, "uf-bench-sha256: no memory for %zu MiB\n", mib);
            return 1;
        }
        for (size_t i = 0; i < len[m]; i++)
            msg[m][i] = (uint8_t)(i * (7 + 6 * m) + (i >> 9));
        gcry_md_hash_buffer(GCRY_MD_SHA256, want[m], msg[m], len[m]);
    }
    double t_gcrypt[MAX_RUNS], t_one[MAX_RUNS], t_two[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        uint8_t got[2][32];
        double t0 = now();
        for (int m = 0; m < 2; m++)
            gcry_md_hash_buffer(GCRY_MD_SHA256, got[m], msg[m], len[m]);
        t_gcrypt[r] = now() - t0;

        uf_sha256 c[2];
        t0 = now();
        for (int m = 0; m < 2; m++) {
            uf_sha256_init(&c[m]);
            uf_sha256_update(&c[m], msg[m], len[m]);
            uf_sha256_final(&c[m], got[m]);
        }
        t_one[r] = now() - t0;
        if (memcmp(got, want, sizeof(got)) != 0) {
            fprintf(stderr, "uf-bench-sha256: one at a time: not libgcrypt's digests\n");
            return 1;
        }

        t0 = now();
        uf_sha256_init(&c[0]);
        uf_sha256_init(&c[1]);
        uf_sha256_update2(&c[0], msg[0], len[0], &c[1], msg[1], len[1]);
        uf_sha256_final(&c[0], got[0]);
        uf_sha256_final(&c[1], got[1]);
        t_two[r] = now() - t0;
        if (memcmp(got, want, sizeof(got)) != 0) {
            fprintf(stderr, "uf-bench-sha256: side by side: not libgcrypt's digests\n");
            return 1;
        }
    }
    double bytes = (double)(len[0] + len[1]);
    double g = median(t_gcrypt, runs), one = median(t_one, runs), two = median(t_two, runs);
    printf("SHA-256 of 2 x %zu MiB, median of %d runs:\n", mib, runs);
    printf("  libgcrypt, one at a time   %7.3f s %6.2f GB/s\n", g, bytes / g / 1e9);
    printf("  ours, one at a time        %7.3f s %6.2f GB/s\n", one, bytes / one / 1e9);
    printf("  ours, two side by side     %7.3f s %6.2f GB/s  (%.2fx libgcrypt)\n", two,
           bytes / two / 1e9, g / two);
    for (int m = 0; m < 2; m++)
        free(msg[m]);
    return 0;
}
