// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE /* O_TMPFILE */
#include "uf_spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Records are written in chunks of this size and read back in windows of
 * it: a report reads them in order, so each window serves many. */
#define CHUNK (64 * 1024)

struct uf_spill_cursor {
    unsigned char *rbuf;    /* a window of the file */
    uint64_t rstart;
    size_t rlen, rcap;
    char lost[256];         /* a read failed */
};

struct uf_spill {
    int fd;                 /* the file, or -1 */
    bool writable;          /* false once a write failed: memory from then on */
    uint64_t *offsets;      /* where each record starts */
    size_t n, cap;
    uint64_t flushed;       /* bytes in the file; later ones are in wbuf */
    unsigned char *wbuf;
    size_t wlen, wcap;
    uf_spill_cursor own;    /* uf_spill_get's window of the file */
    char why[256];          /* degraded */
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (!q)
        abort(); /* as GLib does: out of memory is not a state to carry on in */
    return q;
}

static int open_tmp(char *why, size_t size)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* A file system without O_TMPFILE: a named file, unlinked at once. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/udsflash-spill-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, size, "%s: %s", dir, strerror(errno));
        return -1;
    }
    unlink(path);
    return fd;
}

uf_spill *uf_spill_new(void)
{
    uf_spill *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->fd = open_tmp(s->why, sizeof(s->why));
    s->writable = s->fd >= 0;
    return s;
}

void uf_spill_free(uf_spill *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->offsets);
    free(s->wbuf);
    free(s->own.rbuf);
    free(s);
}

static bool write_all(int fd, const unsigned char *p, size_t n, uint64_t at)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
        at += (uint64_t)w;
    }
    return true;
}

/* The buffered records go to the file; if they cannot, they stay where
 * they are and so do all later ones. */
static void flush(uf_spill *s)
{
    if (!s->writable || !s->wlen)
        return;
    if (!write_all(s->fd, s->wbuf, s->wlen, s->flushed)) {
        snprintf(s->why, sizeof(s->why), "writing the temporary file: %s",
                 errno ? strerror(errno) : "short write");
        s->writable = false;
        return;
    }
    s->flushed += s->wlen;
    s->wlen = 0;
}

void uf_spill_append(uf_spill *s, const void *record, size_t len)
{
    /* A record is wholly in the file or wholly in the buffer. */
    if (s->wlen && s->wlen + len > CHUNK)
        flush(s);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->offsets = xrealloc(s->offsets, s->cap * sizeof(*s->offsets));
    }
    s->offsets[s->n++] = s->flushed + s->wlen;
    if (s->wlen + len > s->wcap) {
        size_t want = s->wcap ? s->wcap : CHUNK;
        while (want < s->wlen + len)
            want *= 2;
        s->wbuf = xrealloc(s->wbuf, want);
        s->wcap = want;
    }
    memcpy(s->wbuf + s->wlen, record, len);
    s->wlen += len;
}

size_t uf_spill_count(const uf_spill *s)
{
    return s->n;
}

const void *uf_spill_read(const uf_spill *s, uf_spill_cursor *c, size_t i, size_t *len)
{
    if (i >= s->n)
        return NULL;
    uint64_t start = s->offsets[i];
    uint64_t end = i + 1 < s->n ? s->offsets[i + 1] : s->flushed + s->wlen;
    *len = (size_t)(end - start);
    if (start >= s->flushed)
        return s->wbuf + (start - s->flushed);
    if (start >= c->rstart && end <= c->rstart + c->rlen)
        return c->rbuf + (start - c->rstart);
    /* A window from this record on: the next ones are likely read next. */
    size_t want = *len > CHUNK ? *len : CHUNK;
    if (want > s->flushed - start)
        want = (size_t)(s->flushed - start);
    if (want > c->rcap) {
        c->rbuf = xrealloc(c->rbuf, want);
        c->rcap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(s->fd, c->rbuf + got, want - got, (off_t)(start + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(c->lost, sizeof(c->lost), "reading the temporary file back: %s",
                     r < 0 ? strerror(errno) : "it is shorter than written");
            c->rlen = 0;
            return NULL;
        }
        got += (size_t)r;
    }
    c->rstart = start;
    c->rlen = got;
    return c->rbuf;
}

const void *uf_spill_get(uf_spill *s, size_t i, size_t *len)
{
    return uf_spill_read(s, &s->own, i, len);
}

uf_spill_cursor *uf_spill_cursor_new(void)
{
    uf_spill_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    return c;
}

void uf_spill_cursor_free(uf_spill *s, uf_spill_cursor *c)
{
    if (!c)
        return;
    if (s && c->lost[0] && !s->own.lost[0])
        memcpy(s->own.lost, c->lost, sizeof(c->lost));
    free(c->rbuf);
    free(c);
}

const char *uf_spill_degraded(const uf_spill *s)
{
    return s->why[0] ? s->why : NULL;
}

const char *uf_spill_lost(const uf_spill *s)
{
    return s->own.lost[0] ? s->own.lost : NULL;
}
