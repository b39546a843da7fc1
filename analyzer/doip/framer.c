/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP messages out of one direction of a TCP stream: 8 header bytes, then
 * as many payload bytes as the header says, whatever the segment borders
 * (several messages in one segment, one message over many). A header that
 * is not sound (see uf_doip_check_header), or bytes lost by the capture,
 * put the framer into resynchronisation: it slides over the stream a byte
 * at a time until 8 bytes form a sound header again, so one bad byte never
 * costs the rest of the connection. Memory: max_message payload bytes.
 */
#include "uf_doip.h"

#include <glib.h>
#include <string.h>

/* The longest payload a sound header may announce: far above any ECU's
 * buffer, low enough that a false header found while resynchronising cannot
 * swallow the rest of a capture. */
#define MAX_LENGTH (64u * 1024 * 1024)

void uf_doip_framer_init(uf_doip_framer *f, uint32_t max_message)
{
    memset(f, 0, sizeof(*f));
    f->max_message = max_message;
}

void uf_doip_framer_free(uf_doip_framer *f)
{
    g_free(f->buf);
    f->buf = NULL;
    f->cap = 0;
}

static void start_payload(uf_doip_framer *f)
{
    f->length = uf_load_be32(f->header + 4);
    f->got = 0;
    f->in_payload = true;
    uint32_t want = UF_DOIP_HEADER_LEN + (f->length < f->max_message ? f->length : f->max_message);
    if (want > f->cap) {
        f->buf = g_realloc(f->buf, want);
        f->cap = want;
    }
    memcpy(f->buf, f->header, UF_DOIP_HEADER_LEN);
}

uint8_t *uf_doip_framer_swap_buffer(uf_doip_framer *f, uint8_t *spare, uint32_t *cap)
{
    uint8_t *taken = f->buf;
    uint32_t taken_cap = f->cap;
    f->buf = spare;
    f->cap = spare ? *cap : 0;
    *cap = taken_cap;
    return taken;
}

static void finish_message(uf_doip_framer *f, const uf_doip_framer_sink *sink)
{
    uf_doip_frame m = {f->buf,          f->got < f->max_message ? f->got : f->max_message,
                       f->length,       f->first_frame,
                       f->last_frame,   f->t_first,
                       f->t_last,       f->segments,
                       f->start};
    f->in_payload = false;
    f->have = 0;
    if (sink->message)
        sink->message(sink->ctx, &m);
}

void uf_doip_framer_data(uf_doip_framer *f, const uint8_t *p, uint32_t n, uint64_t frame,
                         uf_time t, const uf_doip_framer_sink *sink)
{
    bool counted = false; /* this segment already counted for the message */
    while (n > 0) {
        if (f->in_payload) {
            uint32_t take = f->length - f->got < n ? f->length - f->got : n;
            if (f->got < f->max_message) {
                uint32_t room = f->max_message - f->got;
                memcpy(f->buf + UF_DOIP_HEADER_LEN + f->got, p, take < room ? take : room);
            }
            f->got += take;
            f->offset += take;
            p += take;
            n -= take;
            f->last_frame = frame;
            f->t_last = t;
            if (!counted) {
                f->segments++;
                counted = true;
            }
            if (f->got == f->length) {
                finish_message(f, sink);
                counted = false;
            }
            continue;
        }
        if (f->have == 0) {
            f->start = f->offset;
            f->first_frame = frame;
            f->t_first = t;
            f->segments = 0;
            counted = false;
        }
        /* The rest of the header, as much as this segment holds. */
        uint32_t take = UF_DOIP_HEADER_LEN - f->have < n ? UF_DOIP_HEADER_LEN - f->have : n;
        memcpy(f->header + f->have, p, take);
        f->have += take;
        p += take;
        n -= take;
        f->offset += take;
        if (!counted) {
            f->segments++;
            counted = true;
        }
        if (f->have < UF_DOIP_HEADER_LEN)
            continue;
        const char *why = uf_doip_check_header(f->header, MAX_LENGTH);
        if (!why) {
            if (f->resync) {
                f->resync = false;
                if (sink->resynced)
                    sink->resynced(sink->ctx, f->skipped, f->start, frame, t);
                f->skipped = 0;
            }
            f->last_frame = frame;
            f->t_last = t;
            start_payload(f);
            if (f->length == 0) {
                finish_message(f, sink);
                counted = false;
            }
            continue;
        }
        if (!f->resync) {
            f->resync = true;
            f->skipped = 0;
            if (sink->bad_header)
                sink->bad_header(sink->ctx, f->header, why, f->start, frame, t);
        }
        /* Slide by one byte: the next candidate header starts one later. */
        memmove(f->header, f->header + 1, UF_DOIP_HEADER_LEN - 1);
        f->have = UF_DOIP_HEADER_LEN - 1;
        f->skipped++;
        f->start++;
        f->first_frame = frame;
        f->t_first = t;
        f->segments = 1;
    }
}

uint64_t uf_doip_framer_pending(const uf_doip_framer *f)
{
    if (f->resync)
        return 0;
    return f->in_payload ? UF_DOIP_HEADER_LEN + (uint64_t)f->got : f->have;
}

uint64_t uf_doip_framer_gap(uf_doip_framer *f, uint64_t missing)
{
    uint64_t lost = uf_doip_framer_pending(f);
    f->in_payload = false;
    f->have = 0;
    f->got = 0;
    f->resync = true;
    f->skipped = 0;
    f->offset += missing;
    return lost;
}
