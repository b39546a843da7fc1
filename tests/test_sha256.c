/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SHA-256 with the CPU's SHA extensions (common/sha256.c): FIPS 180-4's
 * examples, and digests as GLib computes them for messages of every
 * length around a block's, written in pieces of any size, one message at a
 * time and two side by side. Skipped where the CPU has no SHA extensions
 * (the hasher then uses libgcrypt, which test_hasher covers).
 */
#include "uf_sha256.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

static void need_sha_extensions(void)
{
    if (!uf_sha256_available())
        cr_skip_test("this CPU has no SHA extensions (x86 SHA-NI): nothing to test");
}

static void hex_of(const uint8_t digest[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void expect_digest(uf_sha256 *c, const uint8_t *msg, size_t len, const char *what)
{
    uint8_t digest[32];
    char hex[65];
    uf_sha256_final(c, digest);
    hex_of(digest, hex);
    char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, msg, len);
    cr_expect_str_eq(hex, want, "%s, %zu bytes", what, len);
    g_free(want);
}

static uint8_t *random_bytes(GRand *rand, size_t len)
{
    uint8_t *p = g_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)g_rand_int(rand);
    return p;
}

/* FIPS 180-4's examples (NIST, "SHA256.pdf" of the Cryptographic Standards
 * and Guidelines examples): one block, two blocks, and a million bytes. */
Test(sha256, fips_180_4_examples)
{
    need_sha_extensions();
    static const struct {
        const char *msg;
        const char *digest;
    } examples[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(examples); i++) {
        uf_sha256 c;
        uint8_t digest[32];
        char hex[65];
        uf_sha256_init(&c);
        uf_sha256_update(&c, examples[i].msg, strlen(examples[i].msg));
        uf_sha256_final(&c, digest);
        hex_of(digest, hex);
        cr_expect_str_eq(hex, examples[i].digest, "\"%s\"", examples[i].msg);
    }
    uf_sha256 c;
    uint8_t digest[32];
    char hex[65];
    uf_sha256_init(&c);
    char a[1000];
    memset(a, 'a', sizeof(a));
    for (int i = 0; i < 1000; i++)
        uf_sha256_update(&c, a, sizeof(a));
    uf_sha256_final(&c, digest);
    hex_of(digest, hex);
    cr_expect_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                     "a million 'a'");
}

/* Every length from 0 to 300 (the padding's cases: 55, 56, 63, 64 bytes
 * and their multiples), whole and a byte at a time. */
Test(sha256, every_length_around_a_block)
{
    need_sha_extensions();
    GRand *rand = g_rand_new_with_seed(180);
    for (size_t len = 0; len <= 300; len++) {
        uint8_t *msg = random_bytes(rand, len);
        uf_sha256 whole, bytewise;
        uf_sha256_init(&whole);
        uf_sha256_update(&whole, msg, len);
        expect_digest(&whole, msg, len, "whole");
        uf_sha256_init(&bytewise);
        for (size_t i = 0; i < len; i++)
            uf_sha256_update(&bytewise, msg + i, 1);
        expect_digest(&bytewise, msg, len, "a byte at a time");
        g_free(msg);
    }
    g_rand_free(rand);
}

/* Two messages side by side, in pieces of random sizes, each pair of
 * pieces of its own two sizes (empty, shorter than a block, a block and
 * some): the same digests as one at a time. */
Test(sha256, two_side_by_side_as_one_at_a_time)
{
    need_sha_extensions();
    GRand *rand = g_rand_new_with_seed(2);
    for (int round = 0; round < 200; round++) {
        size_t len[2];
        uint8_t *msg[2];
        uf_sha256 c[2];
        for (int m = 0; m < 2; m++) {
            len[m] = (size_t)g_rand_int_range(rand, 0, round < 100 ? 600 : 40000);
            msg[m] = random_bytes(rand, len[m]);
            uf_sha256_init(&c[m]);
        }
        size_t done[2] = {0, 0};
        while (done[0] < len[0] || done[1] < len[1]) {
            size_t piece[2];
            for (int m = 0; m < 2; m++) {
                size_t left = len[m] - done[m];
                size_t want = (size_t)g_rand_int_range(rand, 0, round < 100 ? 200 : 9000);
                piece[m] = want < left ? want : left;
            }
            uf_sha256_update2(&c[0], msg[0] + done[0], piece[0], &c[1], msg[1] + done[1],
                              piece[1]);
            done[0] += piece[0];
            done[1] += piece[1];
        }
        expect_digest(&c[0], msg[0], len[0], "first of two");
        expect_digest(&c[1], msg[1], len[1], "second of two");
        g_free(msg[0]);
        g_free(msg[1]);
    }
    g_rand_free(rand);
}
