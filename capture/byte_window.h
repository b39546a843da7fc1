/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A window onto a file read front to back in large chunks, for the binary
 * readers that take their records in place (pcap_file.c, pcapng_file.c):
 * one read() per chunk instead of stdio's copies, and a record's bytes
 * stay valid, where they are, until the reader asks for more.
 */
#ifndef UF_BYTE_WINDOW_H
#define UF_BYTE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Where a lending window's buffers come from and where they go
 * (byte_window_lend). */
typedef struct byte_window_lender {
    /* A buffer of at least *cap bytes, *cap set to its size. */
    uint8_t *(*take)(void *ctx, size_t *cap);
    /* The window is done with buf, of cap bytes; bytes taken from it may
     * still be read. */
    void (*retire)(void *ctx, uint8_t *buf, size_t cap);
    void *ctx;
} byte_window_lender;

typedef struct byte_window {
    int fd;
    uint8_t *buf;
    size_t cap;
    size_t start, end;   /* the bytes not yet taken: buf[start, end) */
    uint64_t buf_offset; /* the file offset of buf[0] */
    /* Lending (byte_window_lend), when lender.retire is set: the bytes
     * taken are never moved or overwritten; a buffer they are in is given
     * to retire, not reused. */
    byte_window_lender lender;
} byte_window;

/* 0, or -1 with errno. */
int byte_window_open(byte_window *w, const char *path);
/* With lending, the buffer goes to retire. */
void byte_window_close(byte_window *w);

/* From now on, the bytes taken stay where they are for as long as the
 * caller wants (lender NULL: until the next refill, as by default). When
 * the window needs a buffer's room again, it goes on in a new buffer from
 * the lender's take and hands the old one to its retire, which keeps it
 * until nothing points into it any more: the read-ahead queue keeps
 * records' packets in place this way, not copied, and reuses the buffers
 * (read_ahead.c). Buffers are from g_malloc both ways. */
void byte_window_lend(byte_window *w, const byte_window_lender *lender);

/* Whether len bytes at p are in the window's buffer. */
static inline bool byte_window_holds(const byte_window *w, const uint8_t *p, size_t len)
{
    uintptr_t at = (uintptr_t)p, buf = (uintptr_t)w->buf;
    return at >= buf && at - buf <= w->end && len <= w->end - (at - buf);
}

/* Makes at least `need` bytes available from buf[start], growing the
 * buffer if a record is larger than it (the caller bounds `need`).
 * 1: there; 0: the file ends first (what is left stays); -1: a read error
 * (errno). */
int byte_window_refill(byte_window *w, size_t need);

/* The same; inline for the bytes already there, which is nearly every
 * call (twice a record: a call each was a tenth of the reading thread). */
static inline int byte_window_fill(byte_window *w, size_t need)
{
    return w->end - w->start >= need ? 1 : byte_window_refill(w, need);
}

/* Integers of a file in either byte order: `swapped` when the writer's is
 * not ours. */
static inline uint16_t load16(bool swapped, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swapped ? __builtin_bswap16(v) : v;
}

static inline uint32_t load32(bool swapped, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

static inline uint64_t load64(bool swapped, const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return swapped ? __builtin_bswap64(v) : v;
}

static inline const uint8_t *byte_window_at(const byte_window *w)
{
    return w->buf + w->start;
}

/* The file offset of the next byte not yet taken. */
static inline uint64_t byte_window_offset(const byte_window *w)
{
    return w->buf_offset + w->start;
}

static inline size_t byte_window_left(const byte_window *w)
{
    return w->end - w->start;
}

static inline void byte_window_take(byte_window *w, size_t n)
{
    w->start += n;
}

#endif /* UF_BYTE_WINDOW_H */
