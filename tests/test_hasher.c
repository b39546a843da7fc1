/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The downloads' SHA-256 (analyzer/session/hasher.c), in its thread and
 * without: digests as GLib computes them, for hashes written in turns, of
 * any length (empty, one byte, more than the whole queue, so that the
 * writer waits for the thread); a hash in the thread is ready only once
 * it has ended, and taking it waits for it; through the analyzer, the
 * sessions and a download_end sink see the digests computed inline.
 */
#include "hasher.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#define HASHES 5

static void digests_as_glib(bool threaded)
{
    /* 4 MiB of bytes, more than the 8 x 256 KiB the queue holds. */
    size_t sizes[HASHES] = {0, 1, 4095, 300 * 1024, 4u << 20};
    uint8_t *data[HASHES];
    uf_hasher *h = uf_hasher_new(threaded);
    cr_assert_eq(uf_hasher_threaded(h), threaded);
    uf_hash *x[HASHES];
    GRand *rand = g_rand_new_with_seed(7);
    for (int i = 0; i < HASHES; i++) {
        data[i] = g_malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++)
            data[i][k] = (uint8_t)g_rand_int(rand);
        x[i] = uf_hash_begin(h);
    }
    /* In turns, a random piece of each, as interleaved downloads write. */
    size_t done[HASHES] = {0};
    for (bool more = true; more;) {
        more = false;
        for (int i = 0; i < HASHES; i++) {
            size_t piece = g_rand_int_range(rand, 0, 70000);
            if (piece > sizes[i] - done[i])
                piece = sizes[i] - done[i];
            uf_hash_write(h, x[i], data[i] + done[i], piece);
            done[i] += piece;
            more |= done[i] < sizes[i];
        }
    }
    for (int i = 0; i < HASHES; i++) {
        uf_hash_end(h, x[i]);
        if (!threaded)
            cr_expect(uf_hash_ready(x[i]), "without a thread, ready when ended");
        char hex[65];
        uf_hash_take(h, x[i], hex);
        char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data[i], sizes[i]);
        cr_expect_str_eq(hex, want, "hash %d of %zu bytes (%s)", i, sizes[i],
                         threaded ? "thread" : "inline");
        g_free(want);
        g_free(data[i]);
    }
    g_rand_free(rand);
    uf_hasher_free(h);
}

Test(hasher, digests_as_glib_in_its_thread)
{
    digests_as_glib(true);
}

Test(hasher, digests_as_glib_without_a_thread)
{
    digests_as_glib(false);
}

Test(hasher, ready_once_ended_and_computed)
{
    uf_hasher *h = uf_hasher_new(true);
    uf_hash *x = uf_hash_begin(h);
    uf_hash_write(h, x, "abc", 3);
    g_usleep(20000); /* time enough for the thread, had it been given the bytes */
    cr_expect_not(uf_hash_ready(x), "not ready before its end");
    char hex[65];
    uf_hash_take(h, x, hex); /* ends it, hands the bytes over and waits */
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uf_hasher_free(h);
}

/* ---- through the analyzer ----------------------------------------------------*/

static void on_download_end(void *ctx, const uf_session *s, const uf_download *d)
{
    (void)s;
    g_ptr_array_add(ctx, g_strdup(d->sha256));
}

/* The digests a download_end sink sees, and those the sessions keep. */
static GPtrArray *digests_of(const char *sample, bool hash_thread, bool with_sink)
{
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    cfg.spill_sessions = true;
    cfg.hash_thread = hash_thread;
    GPtrArray *seen = g_ptr_array_new_with_free_func(g_free);
    uf_analyzer_sink sink = {.ctx = seen, .download_end = with_sink ? on_download_end : NULL};
    uf_analyzer *a = uf_analyzer_new(&cfg, &sink);
    char *path = th_sample(sample);
    uf_error err;
    uf_reader *r = uf_reader_open(path, &err);
    cr_assert_not_null(r, "%s", err.msg);
    uf_record rec;
    while (uf_reader_next(r, &rec, &err) == 1)
        uf_analyzer_record(a, &rec);
    uf_analyzer_finish(a);
    const uf_sessions *ss = uf_analyzer_sessions(a);
    for (uint32_t i = 1; i <= uf_sessions_count(ss); i++) {
        const uf_session *s = uf_sessions_get(ss, i);
        for (guint k = 0; k < s->downloads->len; k++)
            g_ptr_array_add(seen, g_strdup(g_array_index(s->downloads, uf_download, k).sha256));
    }
    uf_reader_close(r);
    uf_analyzer_free(a);
    g_free(path);
    return seen;
}

/* The sink and the sessions see each download's digest, the thread's as
 * the one computed inline. */
Test(hasher, analyzer_digests_alike_with_and_without_the_thread)
{
    const char *samples[] = {"flash-two-ecus.pcap", "doip-flash.pcap"};
    const guint downloads[] = {2, 1};
    for (size_t i = 0; i < G_N_ELEMENTS(samples); i++) {
        for (int with_sink = 0; with_sink < 2; with_sink++) {
            GPtrArray *want = digests_of(samples[i], false, with_sink);
            GPtrArray *got = digests_of(samples[i], true, with_sink);
            cr_assert_eq(want->len, downloads[i] * (with_sink ? 2 : 1), "%s: downloads",
                         samples[i]);
            cr_assert_eq(got->len, want->len, "%s", samples[i]);
            for (guint k = 0; k < want->len; k++) {
                cr_expect_eq(strlen(want->pdata[k]), 64, "%s: a digest", samples[i]);
                cr_expect_str_eq(got->pdata[k], want->pdata[k], "%s, digest %u, sink %d",
                                 samples[i], k, with_sink);
            }
            g_ptr_array_free(want, TRUE);
            g_ptr_array_free(got, TRUE);
        }
    }
}
