/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The downloads' SHA-256 (analyzer/session/hasher.c), in its thread and
 * without, with the CPU's SHA extensions (where it has them) and with
 * libgcrypt: digests as GLib computes them, for hashes written in turns, of
 * any length (empty, one byte, more than the whole queue, so that the
 * writer waits for the thread); a hash in the thread is ready only once
 * it has ended, and taking it waits for it; bytes given with their
 * buffer digest alike, and the buffers come back to be filled again;
 * through the analyzer, the sessions and a download_end sink see the
 * digests computed inline.
 */
#include "hasher.h"
#include "helpers.h"
#include "uf_sha256.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#define HASHES 5

/* Pieces written, and with `give` pieces given with their buffer, as the
 * sessions give TransferData blocks (uf_hash_give), the two mixed. */
static void digests_as_glib_using(bool threaded, bool give, bool cpu_sha)
{
    /* 4 MiB of bytes, more than the 8 x 256 KiB the queue holds. */
    size_t sizes[HASHES] = {0, 1, 4095, 300 * 1024, 4u << 20};
    uint8_t *data[HASHES];
    uf_hasher *h = uf_hasher_new_using(threaded, cpu_sha);
    cr_assert_eq(uf_hasher_threaded(h), threaded);
    cr_assert_eq(uf_hasher_uses_cpu_sha(h), cpu_sha && uf_sha256_available());
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
    uint8_t *buf = NULL;
    uint32_t cap = 0;
    for (bool more = true; more;) {
        more = false;
        for (int i = 0; i < HASHES; i++) {
            /* Up to more than a chunk, so that a given buffer may fill one. */
            size_t piece = g_rand_int_range(rand, 0, give ? 300000 : 70000);
            if (piece > sizes[i] - done[i])
                piece = sizes[i] - done[i];
            if (give && g_rand_boolean(rand)) {
                if (piece > cap) {
                    cap = (uint32_t)piece;
                    buf = g_realloc(buf, cap);
                }
                if (piece)
                    memcpy(buf, data[i] + done[i], piece);
                buf = uf_hash_give(h, x[i], buf, (uint32_t)piece, &cap);
            } else {
                uf_hash_write(h, x[i], data[i] + done[i], piece);
            }
            done[i] += piece;
            more |= done[i] < sizes[i];
        }
    }
    g_free(buf);
    for (int i = 0; i < HASHES; i++) {
        uf_hash_end(h, x[i]);
        if (!threaded)
            cr_expect(uf_hash_ready(x[i]), "without a thread, ready when ended");
        char hex[65];
        uf_hash_take(h, x[i], hex);
        char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data[i], sizes[i]);
        cr_expect_str_eq(hex, want, "hash %d of %zu bytes (%s, %s)", i, sizes[i],
                         threaded ? "thread" : "inline", cpu_sha ? "CPU" : "libgcrypt");
        g_free(want);
        g_free(data[i]);
    }
    g_rand_free(rand);
    uf_hasher_free(h);
}

/* With the CPU's SHA extensions where it has them, and with libgcrypt. */
static void digests_as_glib(bool threaded, bool give)
{
    digests_as_glib_using(threaded, give, true);
    digests_as_glib_using(threaded, give, false);
}

Test(hasher, digests_as_glib_in_its_thread)
{
    digests_as_glib(true, false);
}

Test(hasher, digests_as_glib_without_a_thread)
{
    digests_as_glib(false, false);
}

Test(hasher, given_buffers_digest_as_glib_in_its_thread)
{
    digests_as_glib(true, true);
}

Test(hasher, given_buffers_digest_as_glib_without_a_thread)
{
    digests_as_glib(false, true);
}

/* 16 MiB in 4 KiB blocks, each given in the buffer the last give returned:
 * the thread's buffers come back, so that a flash of any size needs about
 * as many as the queue holds (2 MiB, 512 blocks), not one a block. */
Test(hasher, given_buffers_go_round)
{
    enum { BLOCK = 4096, BLOCKS = 4096 };
    uf_hasher *h = uf_hasher_new(true);
    uf_hash *x = uf_hash_begin(h);
    GChecksum *want = g_checksum_new(G_CHECKSUM_SHA256);
    GHashTable *seen = g_hash_table_new(NULL, NULL);
    uint8_t *buf = NULL;
    uint32_t cap = 0;
    unsigned fresh = 0, again = 0;
    for (unsigned b = 0; b < BLOCKS; b++) {
        if (!buf) {
            buf = g_malloc(BLOCK);
            cap = BLOCK;
            fresh++;
        } else if (g_hash_table_contains(seen, buf)) {
            again++;
        }
        g_hash_table_add(seen, buf);
        cr_assert_geq(cap, BLOCK);
        memset(buf, (int)(b * 7), BLOCK);
        g_checksum_update(want, buf, BLOCK);
        buf = uf_hash_give(h, x, buf, BLOCK, &cap);
    }
    g_free(buf);
    char hex[65];
    uf_hash_take(h, x, hex);
    cr_expect_str_eq(hex, g_checksum_get_string(want));
    cr_expect_gt(again, 0, "no buffer came back");
    cr_expect_lt(fresh, BLOCKS / 4, "%u buffers for %u blocks", fresh, BLOCKS);
    g_hash_table_destroy(seen);
    g_checksum_free(want);
    uf_hasher_free(h);
}

/* Writes a piece of random bytes to x, given in a buffer or copied, and to
 * the checksum it is held to. */
static void write_piece(uf_hasher *h, uf_hash *x, GChecksum *want, size_t len, GRand *rand,
                        uint8_t **buf, uint32_t *cap)
{
    uint8_t piece[4000];
    for (size_t k = 0; k < len; k++)
        piece[k] = (uint8_t)g_rand_int(rand);
    g_checksum_update(want, piece, (gssize)len);
    if (len >= 1024 && g_rand_boolean(rand)) {
        if (len > *cap) {
            *cap = (uint32_t)len;
            *buf = g_realloc(*buf, *cap);
        }
        memcpy(*buf, piece, len);
        *buf = uf_hash_give(h, x, *buf, (uint32_t)len, cap);
    } else {
        uf_hash_write(h, x, piece, len);
    }
}

/* The thread hashes two hashes at once where the CPU has SHA extensions:
 * an operation goes beside an older one of another hash only if its own
 * hash has none older still to do. Here, in turns, the first of three
 * hashes writes a long piece, and each other one a piece too short to
 * pair (under a block) and then a long one, which must wait for it; then
 * short hashes begin and end back to back, as the downloads of a DoIP
 * capture's flashes one after another. */
Test(hasher, each_hash_in_order_when_two_are_hashed_at_once)
{
    enum { STREAMS = 3, PIECES = 40 };
    uf_hasher *h = uf_hasher_new(true);
    GRand *rand = g_rand_new_with_seed(64);
    uf_hash *x[STREAMS];
    GChecksum *want[STREAMS];
    for (int i = 0; i < STREAMS; i++) {
        x[i] = uf_hash_begin(h);
        want[i] = g_checksum_new(G_CHECKSUM_SHA256);
    }
    uint8_t *buf = NULL;
    uint32_t cap = 0;
    for (int p = 0; p < PIECES; p++) {
        for (int i = 0; i < STREAMS; i++) {
            if (i > 0)
                write_piece(h, x[i], want[i], (size_t)g_rand_int_range(rand, 1, 64), rand, &buf,
                            &cap);
            write_piece(h, x[i], want[i], (size_t)g_rand_int_range(rand, 64, 4000), rand, &buf,
                        &cap);
        }
    }
    g_free(buf);
    /* Short hashes, one after another, each ended before the next begins. */
    enum { SHORT_HASHES = 64 };
    uf_hash *y[SHORT_HASHES];
    char *want_y[SHORT_HASHES];
    for (int k = 0; k < SHORT_HASHES; k++) {
        size_t len = (size_t)g_rand_int_range(rand, 0, 3000);
        uint8_t *data = g_malloc(len + 1);
        for (size_t b = 0; b < len; b++)
            data[b] = (uint8_t)g_rand_int(rand);
        y[k] = uf_hash_begin(h);
        uf_hash_write(h, y[k], data, len);
        uf_hash_end(h, y[k]);
        want_y[k] = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
        g_free(data);
    }
    for (int i = 0; i < STREAMS; i++) {
        char hex[65];
        uf_hash_take(h, x[i], hex);
        cr_expect_str_eq(hex, g_checksum_get_string(want[i]), "interleaved hash %d", i);
        g_checksum_free(want[i]);
    }
    for (int k = 0; k < SHORT_HASHES; k++) {
        char hex[65];
        uf_hash_take(h, y[k], hex);
        cr_expect_str_eq(hex, want_y[k], "short hash %d", k);
        g_free(want_y[k]);
    }
    g_rand_free(rand);
    uf_hasher_free(h);
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
