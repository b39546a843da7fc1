/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * See byte_window.h. Chunks of a mebibyte: on a capture in the page cache
 * the read() copies cost less than a tenth of a check, and the buffer
 * stays in the L2 cache with the records being taken from it.
 */
#include "byte_window.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

int byte_window_open(byte_window *w, const char *path)
{
    *w = (byte_window){.fd = -1};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    w->fd = fd;
    w->cap = READ_CHUNK;
    w->buf = g_malloc(w->cap);
    return 0;
}

void byte_window_close(byte_window *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->lender.retire && w->buf)
        w->lender.retire(w->lender.ctx, w->buf, w->cap);
    else
        g_free(w->buf);
    *w = (byte_window){.fd = -1};
}

void byte_window_lend(byte_window *w, const byte_window_lender *lender)
{
    w->lender = lender ? *lender : (byte_window_lender){0};
}

static size_t grown(size_t cap, size_t need)
{
    while (cap < need)
        cap *= 2;
    return cap;
}

/* Lending: the bytes not yet taken go on in a new buffer of cap bytes, and
 * the old one, which taken bytes may still be read from, is retired. */
static void move_to_new_buffer(byte_window *w, size_t cap)
{
    uint8_t *buf = w->lender.take(w->lender.ctx, &cap);
    memcpy(buf, w->buf + w->start, w->end - w->start);
    w->lender.retire(w->lender.ctx, w->buf, w->cap);
    w->buf = buf;
    w->cap = cap;
    w->buf_offset += w->start;
    w->end -= w->start;
    w->start = 0;
}

int byte_window_refill(byte_window *w, size_t need)
{
    if (w->end - w->start >= need)
        return 1;
    if (w->lender.retire) {
        /* The taken bytes stay: read on after them, or in a new buffer. */
        if (w->start > 0 && w->cap - w->start < need)
            move_to_new_buffer(w, grown(w->cap, need));
    } else if (w->start > 0) {
        memmove(w->buf, w->buf + w->start, w->end - w->start);
        w->buf_offset += w->start;
        w->end -= w->start;
        w->start = 0;
    }
    if (w->start + need > w->cap) { /* here start is 0: nothing was taken */
        w->cap = grown(w->cap, need);
        w->buf = g_realloc(w->buf, w->cap);
    }
    while (w->end - w->start < need) {
        size_t want = w->cap - w->end;
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        ssize_t n = read(w->fd, w->buf + w->end, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        w->end += (size_t)n;
    }
    return 1;
}
