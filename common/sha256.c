/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * See uf_sha256.h. The rounds are the SHA extensions' (Intel's "New
 * Instructions Supporting the Secure Hash Algorithm on Intel Architecture
 * Processors", 2013): sha256rnds2 does two rounds on the state held as
 * ABEF and CDGH, sha256msg1 / sha256msg2 the message schedule. The
 * padding and the byte order are FIPS 180-4's (sections 5.1.1, 6.2.2).
 */
#include "uf_sha256.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define UF_HAVE_SHA_NI 1
#endif

/* FIPS 180-4, 5.3.3: the initial hash value. */
static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#ifdef UF_HAVE_SHA_NI

/* FIPS 180-4, 4.2.2: the round constants. */
static const uint32_t K[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define SHA_NI __attribute__((target("sha,ssse3,sse4.1")))
#define SHA_NI_INLINE SHA_NI static inline __attribute__((always_inline))

/* A message's state as sha256rnds2 takes it: words A, B, E, F in one
 * register and C, D, G, H in the other. */
typedef struct lane {
    __m128i abef, cdgh;
} lane;

SHA_NI_INLINE lane load_state(const uint32_t s[8])
{
    __m128i dcba = _mm_loadu_si128((const __m128i *)&s[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&s[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    lane l = {_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
    return l;
}

SHA_NI_INLINE void store_state(lane l, uint32_t s[8])
{
    __m128i feba = _mm_shuffle_epi32(l.abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(l.cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&s[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&s[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* W[t..t+3] of FIPS 180-4 6.2.2 step 1, from the four words before each:
 * sha256msg1 adds sigma0(W[t-15]) to W[t-16], the add W[t-7], sha256msg2
 * sigma1(W[t-2]). */
SHA_NI_INLINE __m128i schedule(__m128i w16, __m128i w12, __m128i w8, __m128i w4)
{
    __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8(w4, w8, 4));
    return _mm_sha256msg2_epu32(t, w4);
}

/* Four rounds, with W[t] + K[t] for each: sha256rnds2 does two with the
 * low half, and returns the new ABEF; the old ABEF is the new CDGH. */
SHA_NI_INLINE void rounds4(lane *l, __m128i wk)
{
    __m128i abef = _mm_sha256rnds2_epu32(l->cdgh, l->abef, wk);
    l->abef = _mm_sha256rnds2_epu32(l->abef, abef, _mm_shuffle_epi32(wk, 0x0E));
    l->cdgh = abef;
}

/* One 64-byte block of each of n messages (n 1 or 2, a constant where
 * this is inlined), round by round: while one message's rounds wait for
 * the instruction before, the other's run. */
SHA_NI_INLINE void blocks(lane *l, const uint8_t *const *p, int n)
{
    const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    lane start[2];
    __m128i w[2][4];
    for (int i = 0; i < n; i++)
        start[i] = l[i];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        __m128i k = _mm_load_si128((const __m128i *)&K[4 * g]);
#pragma GCC unroll 2
        for (int i = 0; i < n; i++) {
            if (g < 4)
                w[i][g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p[i] + 16 * g)),
                                           big_endian);
            else
                w[i][g % 4] = schedule(w[i][g % 4], w[i][(g + 1) % 4], w[i][(g + 2) % 4],
                                       w[i][(g + 3) % 4]);
            rounds4(&l[i], _mm_add_epi32(w[i][g % 4], k));
        }
    }
    for (int i = 0; i < n; i++) {
        l[i].abef = _mm_add_epi32(l[i].abef, start[i].abef);
        l[i].cdgh = _mm_add_epi32(l[i].cdgh, start[i].cdgh);
    }
}

SHA_NI static void compress(uint32_t state[8], const uint8_t *p, size_t n_blocks)
{
    lane l = load_state(state);
    for (size_t b = 0; b < n_blocks; b++, p += 64)
        blocks(&l, &p, 1);
    store_state(l, state);
}

SHA_NI static void compress2(uint32_t state_a[8], const uint8_t *a, uint32_t state_b[8],
                             const uint8_t *b, size_t n_blocks)
{
    lane l[2] = {load_state(state_a), load_state(state_b)};
    for (size_t i = 0; i < n_blocks; i++, a += 64, b += 64) {
        const uint8_t *p[2] = {a, b};
        blocks(l, p, 2);
    }
    store_state(l[0], state_a);
    store_state(l[1], state_b);
}

/* CPUID (Intel SDM, vol. 2A): leaf 1 ECX bit 9 SSSE3, bit 19 SSE4.1;
 * leaf 7 EBX bit 29 SHA. (Clang 14's __builtin_cpu_supports knows no
 * "sha".) */
bool uf_sha256_available(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 9)) || !(ecx & (1u << 19)))
        return false;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & (1u << 29));
}

#else /* no x86: never available, never called */

static void compress(uint32_t state[8], const uint8_t *p, size_t n_blocks)
{
    (void)state, (void)p, (void)n_blocks;
    __builtin_trap();
}

static void compress2(uint32_t state_a[8], const uint8_t *a, uint32_t state_b[8],
                      const uint8_t *b, size_t n_blocks)
{
    (void)state_a, (void)a, (void)state_b, (void)b, (void)n_blocks;
    __builtin_trap();
}

bool uf_sha256_available(void)
{
    return false;
}

#endif

void uf_sha256_init(uf_sha256 *c)
{
    memcpy(c->state, initial, sizeof(initial));
    c->n_partial = 0;
    c->total = 0;
}

/* The start of an update: counts the bytes and completes the partial
 * block with them (compressing it once full); returns how many are left,
 * from *p on. */
static size_t fill_partial(uf_sha256 *c, const uint8_t **p, size_t len)
{
    c->total += len;
    if (c->n_partial == 0)
        return len;
    size_t take = 64 - c->n_partial;
    if (take > len)
        take = len;
    memcpy(c->partial + c->n_partial, *p, take);
    c->n_partial += (uint32_t)take;
    if (c->n_partial == 64) {
        compress(c->state, c->partial, 1);
        c->n_partial = 0;
    }
    *p += take;
    return len - take;
}

/* The rest of an update: its whole blocks, then the bytes after them kept.
 * Nothing left (len 0): a partial block still incomplete stays as it is. */
static void compress_rest(uf_sha256 *c, const uint8_t *p, size_t len)
{
    if (len == 0)
        return;
    compress(c->state, p, len / 64);
    memcpy(c->partial, p + len / 64 * 64, len % 64);
    c->n_partial = (uint32_t)(len % 64);
}

void uf_sha256_update(uf_sha256 *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    len = fill_partial(c, &p, len);
    compress_rest(c, p, len);
}

void uf_sha256_update2(uf_sha256 *a, const void *data_a, size_t len_a, uf_sha256 *b,
                       const void *data_b, size_t len_b)
{
    const uint8_t *pa = data_a, *pb = data_b;
    len_a = fill_partial(a, &pa, len_a);
    len_b = fill_partial(b, &pb, len_b);
    /* Whole blocks side by side; a partial block still incomplete took
     * all of its message's bytes, and left none to pair. */
    size_t both = (len_a < len_b ? len_a : len_b) / 64;
    compress2(a->state, pa, b->state, pb, both);
    compress_rest(a, pa + both * 64, len_a - both * 64);
    compress_rest(b, pb + both * 64, len_b - both * 64);
}

void uf_sha256_final(uf_sha256 *c, uint8_t digest[32])
{
    /* FIPS 180-4, 5.1.1: a 1 bit, zeros to 56 bytes of a block, and the
     * message's length in bits, big-endian, in the last 8. */
    uint64_t bits = c->total * 8;
    uint8_t pad[128] = {0x80};
    size_t n_pad = c->n_partial < 56 ? 56 - c->n_partial : 120 - c->n_partial;
    for (int i = 0; i < 8; i++)
        pad[n_pad + i] = (uint8_t)(bits >> (56 - 8 * i));
    uf_sha256_update(c, pad, n_pad + 8);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(c->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(c->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)c->state[i];
    }
}
