/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * See hasher.h. SHA-256 with the CPU's SHA extensions where it has them
 * (common/uf_sha256.h), which the thread runs on two hashes at once, and
 * by libgcrypt elsewhere (GChecksum made the hash a fifth of a whole check
 * of a CAN capture).
 *
 * The queue is a ring of CHUNKS chunks: the analyzer appends operations
 * (bytes of a hash, or its end) to the chunk it fills and hands the chunk
 * over when it is full or when it waits for a digest; the helper thread
 * hashes chunks in order and gives them back. One thread hashes at a time
 * (`hashing`): the helper, or the analyzer when it would wait. The lock is
 * taken once per chunk; the helper is woken at each chunk, the analyzer
 * only when it sleeps.
 *
 * Bytes given with their buffer (uf_hash_give) stay in it: the chunk holds
 * the operation and the buffer, and counts the bytes against its size, so
 * the queue's bound holds for them too. When the analyzer takes a chunk
 * back to fill it again, the thread has hashed it, and its buffers become
 * the analyzer's spares, given back by the next uf_hash_give: a buffer
 * goes round, not through malloc and free.
 */
#include "hasher.h"
#include "uf_helper.h"
#include "uf_sha256.h"
#include "uf_spares.h"

#include <gcrypt.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#define CHUNKS 8
#define CHUNK_BYTES (256u * 1024u)
/* Smaller pieces are copied: a buffer's round costs more than they do. */
#define GIVE_MIN 1024u
#define GIVEN_MAX (CHUNK_BYTES / GIVE_MIN) /* given buffers a chunk may hold */
/* Spares kept: a chunk's buffers, that the next chunk's blocks go into. */
#define SPARES_MAX GIVEN_MAX
#define SPARE_BYTES (2 * CHUNK_BYTES)

/* Operations the thread looks ahead for one of another hash to pair with
 * the oldest (hash_chunk). */
#define LOOKAHEAD 32

/* The analysis polls `ready` after every message while the thread writes
 * `sha` for every block: the two are kept in different cache lines, or
 * each poll takes the line from the core that is hashing (2.5% of the
 * analysis thread's samples, perf). */
#define CACHE_LINE 64

struct uf_hash {
    bool cpu_sha; /* sha, by the CPU's SHA extensions; else md, libgcrypt's */
    gcry_md_hd_t md;
    bool ended;
    gint ready; /* atomic: the thread has written hex */
    char hex[65];
    _Alignas(CACHE_LINE) uf_sha256 sha;
};

/* An operation in a chunk, its bytes after it, or in a given buffer. */
typedef struct op {
    uf_hash *x;
    const uint8_t *given; /* NULL: the bytes follow the operation */
    uint32_t len;
    uint32_t end; /* the hash ends after these bytes */
} op;

typedef struct chunk {
    uint8_t *bytes;
    size_t used;        /* of bytes */
    size_t given_bytes; /* in given buffers, counted against CHUNK_BYTES too */
    uf_spare given[GIVEN_MAX];
    unsigned n_given;
} chunk;

/* An operation of a chunk as the thread reads it. */
typedef struct work {
    uf_hash *x;
    const uint8_t *bytes;
    uint32_t len;
    bool end, done;
} work;

typedef struct work_list {
    work *items;
    size_t n, cap;
} work_list;

struct uf_hasher {
    bool cpu_sha; /* hashes begun here use the CPU's SHA extensions */
    uf_helper *helper; /* the thread that hashes the chunks; NULL: at once */
    bool own_helper;
    GMutex lock;
    GCond changed;
    chunk chunks[CHUNKS];
    /* A ring: [head, head + filled) are handed over, oldest first; the
     * analyzer fills the one after them, fill (its own copy of that index,
     * read without the lock). */
    unsigned head, filled, fill;
    bool hashing; /* a thread hashes the chunk at head */
    bool analyzer_sleeps; /* for room, or for a digest */
    /* The analyzer's own: buffers the thread is done with. */
    uf_spares spares;
    work_list ops; /* the hashing thread's own: the chunk it hashes */
};

/* libgcrypt wants its version checked before any use; Wireshark, which
 * loads the plugin, has done it already. */
static void init_library(void)
{
    static gsize done;
    if (g_once_init_enter(&done)) {
        if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
            gcry_check_version(NULL);
            gcry_control(GCRYCTL_DISABLE_SECMEM, 0); /* nothing secret is hashed */
            gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
        }
        g_once_init_leave(&done, 1);
    }
}

static void hash_bytes(uf_hash *x, const uint8_t *p, size_t len)
{
    if (x->cpu_sha)
        uf_sha256_update(&x->sha, p, len);
    else
        gcry_md_write(x->md, p, len);
}

/* The digest in lowercase hex, as GChecksum wrote it; frees the handle. */
static void finish(uf_hash *x)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t digest[32];
    if (x->cpu_sha) {
        uf_sha256_final(&x->sha, digest);
    } else {
        memcpy(digest, gcry_md_read(x->md, GCRY_MD_SHA256), sizeof(digest));
        gcry_md_close(x->md);
        x->md = NULL;
    }
    for (size_t i = 0; i < 32; i++) {
        x->hex[2 * i] = digits[digest[i] >> 4];
        x->hex[2 * i + 1] = digits[digest[i] & 0x0F];
    }
    x->hex[64] = '\0';
    g_atomic_int_set(&x->ready, 1);
}

static size_t op_size(uint32_t len)
{
    return (sizeof(op) + len + 7u) & ~(size_t)7u;
}

static void read_chunk(const chunk *c, work_list *l)
{
    l->n = 0;
    for (size_t at = 0; at < c->used;) {
        op o;
        memcpy(&o, c->bytes + at, sizeof(o));
        if (l->n == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 256;
            l->items = g_renew(work, l->items, l->cap);
        }
        const uint8_t *bytes = o.given ? o.given : c->bytes + at + sizeof(o);
        l->items[l->n++] = (work){o.x, bytes, o.len, o.end != 0, false};
        at += op_size(o.given ? 0 : o.len);
    }
}

/* The operation to hash beside w[i]: the first one after it, LOOKAHEAD at
 * most, of another hash that has no operation before it still to do, so
 * that each hash's bytes still go in in order. Both must have a whole
 * block, or there is nothing to hash side by side. */
static work *partner(work *w, size_t i, size_t n)
{
    const uf_hash *waiting[LOOKAHEAD]; /* hashes with an operation to do */
    unsigned n_waiting = 0;
    if (w[i].len < 64)
        return NULL;
    size_t last = n - i - 1 < LOOKAHEAD ? n : i + 1 + LOOKAHEAD;
    for (size_t j = i + 1; j < last; j++) {
        if (w[j].done)
            continue;
        bool waits = w[j].x == w[i].x;
        for (unsigned k = 0; k < n_waiting && !waits; k++)
            waits = waiting[k] == w[j].x;
        if (!waits && w[j].len >= 64)
            return &w[j];
        if (!waits)
            waiting[n_waiting++] = w[j].x;
    }
    return NULL;
}

/* An operation whose bytes are in: its hash ends after it, or goes on. */
static void work_done(work *w)
{
    w->done = true;
    if (w->end)
        finish(w->x);
}

/* A chunk's operations, each hash's in order. With the CPU's SHA
 * extensions, two hashes at once where the chunk holds two: one hash's
 * blocks are a chain of instructions, each waiting for the one before
 * (common/uf_sha256.h), and the thread is a check's bound on DoIP. */
static void hash_chunk(const chunk *c, work_list *l)
{
    read_chunk(c, l);
    work *w = l->items;
    for (size_t i = 0; i < l->n; i++) {
        if (w[i].done)
            continue;
        work *b = w[i].x->cpu_sha ? partner(w, i, l->n) : NULL;
        if (b) {
            uf_sha256_update2(&w[i].x->sha, w[i].bytes, w[i].len, &b->x->sha, b->bytes, b->len);
            work_done(b);
        } else {
            hash_bytes(w[i].x, w[i].bytes, w[i].len);
        }
        work_done(&w[i]);
    }
}

/* The helper's job: the oldest chunk handed over, if any and if no other
 * thread hashes. The analyzer runs it too, when it would wait (below):
 * one thread at a time, chunk after chunk, so each hash's bytes go in in
 * order. */
static bool hash_step(void *ctx)
{
    uf_hasher *h = ctx;
    g_mutex_lock(&h->lock);
    bool mine = h->filled > 0 && !h->hashing;
    h->hashing |= mine;
    chunk *c = &h->chunks[h->head];
    g_mutex_unlock(&h->lock);
    if (!mine)
        return false;
    hash_chunk(c, &h->ops);
    c->used = 0;
    g_mutex_lock(&h->lock);
    h->head = (h->head + 1) % CHUNKS;
    h->filled--;
    h->hashing = false;
    if (h->analyzer_sleeps)
        g_cond_broadcast(&h->changed);
    g_mutex_unlock(&h->lock);
    return true;
}

/* Waits until done(h) holds, read under the lock. Meanwhile the analyzer
 * does the helper's work where it can, this chunk's or the read-ahead's:
 * a thread that sleeps while there is work leaves a core idle. */
static void wait_until(uf_hasher *h, bool (*done)(const uf_hasher *h, const void *arg),
                       const void *arg)
{
    for (;;) {
        g_mutex_lock(&h->lock);
        bool ok = done(h, arg);
        g_mutex_unlock(&h->lock);
        if (ok || !uf_helper_assist(h->helper))
            break;
    }
    g_mutex_lock(&h->lock);
    h->analyzer_sleeps = true;
    while (!done(h, arg))
        g_cond_wait(&h->changed, &h->lock);
    h->analyzer_sleeps = false;
    g_mutex_unlock(&h->lock);
}

static bool chunks_at_most(const uf_hasher *h, const void *most)
{
    return h->filled <= *(const unsigned *)most;
}

/* Waits until at most `most` chunks are still to hash. */
static void wait_for_helper(uf_hasher *h, unsigned most)
{
    wait_until(h, chunks_at_most, &most);
}

static chunk *filling(uf_hasher *h)
{
    return &h->chunks[h->fill];
}

/* The given buffers of a chunk the thread has hashed: spares, as many as
 * are kept, the rest freed. */
static void recycle(uf_hasher *h, chunk *c)
{
    for (unsigned i = 0; i < c->n_given; i++)
        uf_spares_give(&h->spares, c->given[i].p, c->given[i].cap);
    c->n_given = 0;
    c->given_bytes = 0;
}

/* Hands the chunk being filled to the helper, and waits until the next
 * one is free. */
static void hand_over(uf_hasher *h)
{
    if (filling(h)->used == 0)
        return;
    g_mutex_lock(&h->lock);
    h->filled++;
    h->fill = (h->fill + 1) % CHUNKS;
    g_mutex_unlock(&h->lock);
    uf_helper_wake(h->helper);
    wait_for_helper(h, CHUNKS - 1);
    recycle(h, filling(h)); /* hashed, or never filled */
}

/* Appends an operation with up to len of its bytes; returns how many. */
static uint32_t append(uf_hasher *h, uf_hash *x, const uint8_t *data, uint32_t len, bool end)
{
    chunk *c = filling(h);
    if (c->used + c->given_bytes + op_size(1) > CHUNK_BYTES) {
        hand_over(h);
        c = filling(h);
    }
    size_t room = CHUNK_BYTES - c->used - c->given_bytes - sizeof(op);
    uint32_t take = len < room ? len : (uint32_t)room;
    op o = {x, NULL, take, end && take == len};
    memcpy(c->bytes + c->used, &o, sizeof(o));
    memcpy(c->bytes + c->used + sizeof(o), data, take);
    c->used += op_size(take);
    return take;
}

/* Appends an operation on the bytes of a buffer, which the chunk keeps. A
 * buffer larger than a chunk goes alone into one. */
static void append_given(uf_hasher *h, uf_hash *x, uint8_t *buf, uint32_t len, uint32_t cap)
{
    chunk *c = filling(h);
    if (c->n_given == GIVEN_MAX ||
        (c->used + c->given_bytes + sizeof(op) + len > CHUNK_BYTES && c->used > 0)) {
        hand_over(h);
        c = filling(h);
    }
    op o = {x, buf, len, false};
    memcpy(c->bytes + c->used, &o, sizeof(o));
    c->used += op_size(0);
    c->given_bytes += len;
    c->given[c->n_given++] = (uf_spare){buf, cap};
}

/* helper NULL: hashes at once, in the caller's thread. */
static uf_hasher *hasher_new(uf_helper *helper, bool own_helper, bool cpu_sha)
{
    init_library();
    uf_hasher *h = g_new0(uf_hasher, 1);
    h->cpu_sha = cpu_sha && uf_sha256_available();
    if (helper) {
        h->helper = helper;
        h->own_helper = own_helper;
        g_mutex_init(&h->lock);
        g_cond_init(&h->changed);
        for (unsigned i = 0; i < CHUNKS; i++)
            h->chunks[i].bytes = g_malloc(CHUNK_BYTES);
        uf_spares_init(&h->spares, SPARES_MAX, SPARE_BYTES, UINT32_MAX);
        uf_helper_add(helper, hash_step, h);
    }
    return h;
}

uf_hasher *uf_hasher_new(bool threaded)
{
    return uf_hasher_new_using(threaded, true);
}

uf_hasher *uf_hasher_new_using(bool threaded, bool cpu_sha)
{
    return hasher_new(threaded ? uf_helper_new("udsflash-hash") : NULL, true, cpu_sha);
}

uf_hasher *uf_hasher_new_on(uf_helper *helper)
{
    return hasher_new(helper, false, true);
}

void uf_hasher_free(uf_hasher *h)
{
    if (!h)
        return;
    if (h->helper) {
        hand_over(h);
        wait_for_helper(h, 0);
        uf_helper_remove(h->helper, h);
        if (h->own_helper)
            uf_helper_free(h->helper);
        for (unsigned i = 0; i < CHUNKS; i++) {
            recycle(h, &h->chunks[i]);
            g_free(h->chunks[i].bytes);
        }
        uf_spares_free(&h->spares);
        g_free(h->ops.items);
        g_mutex_clear(&h->lock);
        g_cond_clear(&h->changed);
    }
    g_free(h);
}

bool uf_hasher_threaded(const uf_hasher *h)
{
    return h->helper != NULL;
}

bool uf_hasher_uses_cpu_sha(const uf_hasher *h)
{
    return h->cpu_sha;
}

uf_hash *uf_hash_begin(uf_hasher *h)
{
    uf_hash *x = g_aligned_alloc0(1, sizeof(uf_hash), _Alignof(uf_hash));
    x->cpu_sha = h->cpu_sha;
    if (x->cpu_sha)
        uf_sha256_init(&x->sha);
    else if (gcry_md_open(&x->md, GCRY_MD_SHA256, 0) != 0)
        g_error("libgcrypt: no SHA-256"); /* a broken installation */
    return x;
}

void uf_hash_write(uf_hasher *h, uf_hash *x, const void *data, size_t len)
{
    if (!h->helper) {
        hash_bytes(x, data, len);
        return;
    }
    const uint8_t *p = data;
    while (len > 0) {
        uint32_t part = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
        uint32_t took = append(h, x, p, part, false);
        p += took;
        len -= took;
    }
}

uint8_t *uf_hash_give(uf_hasher *h, uf_hash *x, uint8_t *buf, uint32_t len, uint32_t *cap)
{
    if (!h->helper || len < GIVE_MIN) {
        uf_hash_write(h, x, buf, len);
        return buf;
    }
    append_given(h, x, buf, len, *cap);
    return uf_spares_take(&h->spares, cap);
}

void uf_hash_end(uf_hasher *h, uf_hash *x)
{
    if (x->ended)
        return;
    x->ended = true;
    static const uint8_t no_bytes[1];
    if (h->helper)
        append(h, x, no_bytes, 0, true);
    else
        finish(x);
}

bool uf_hash_ready(const uf_hash *x)
{
    return g_atomic_int_get(&x->ready);
}

static bool digest_ready(const uf_hasher *h, const void *x)
{
    (void)h;
    return uf_hash_ready(x);
}

void uf_hash_take(uf_hasher *h, uf_hash *x, char hex[65])
{
    uf_hash_end(h, x);
    if (!uf_hash_ready(x)) {
        hand_over(h);
        wait_until(h, digest_ready, x);
    }
    memcpy(hex, x->hex, 65);
    g_aligned_free(x);
}
