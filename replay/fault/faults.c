/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The injector of one link: counts what crosses it (frames, messages,
 * flow control, TransferData blocks, each way), decides which fault acts
 * on each, and logs what it did. The wrappers (medium.c, channel.c,
 * responder.c) carry the decisions out. Random choices (p=, a corrupted
 * byte and its mask) come from one generator seeded by --seed, drawn in
 * the order the traffic comes, so the same traffic gives the same faults.
 */
#include "uf_fault.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Messages being received or sent on CAN at once: one per id and way
 * is plenty (a tester and its ECU, functional requests). */
#define OPEN_MESSAGES 16

typedef struct open_message {
    uint32_t id;
    uf_link_dir dir;
    bool used, dropped;
} open_message;

struct uf_faults {
    uf_link_fault *specs;
    size_t n;
    uint32_t *hits;
    uint64_t rng, seed;
    uf_time origin;
    GArray *events;
    void (*cb)(void *ctx, const uf_fault_event *e);
    void *cb_ctx;
    /* Counts by uf_link_dir: [UF_DIR_TX], [UF_DIR_RX], both in [UF_DIR_ANY]. */
    uint64_t frames[4], messages[4], fcs[4];
    uint32_t blocks;
    open_message open[OPEN_MESSAGES];
    /* A link loss or bus-off under way. */
    bool outage;
    unsigned outage_fault;
    uf_time outage_start, outage_end; /* UF_TIME_NONE: for good */
    uint64_t outage_lost;
};

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t next_random(uf_faults *f)
{
    uint64_t z = (f->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double random_unit(uf_faults *f)
{
    return (double)(next_random(f) >> 11) / 9007199254740992.0;
}

uf_faults *uf_faults_new(const uf_link_fault *faults, size_t n, uint64_t seed)
{
    uf_faults *f = g_new0(uf_faults, 1);
    f->specs = g_memdup2(faults, n * sizeof(*faults));
    f->n = n;
    f->hits = g_new0(uint32_t, n ? n : 1);
    f->rng = f->seed = seed;
    f->events = g_array_new(FALSE, TRUE, sizeof(uf_fault_event));
    return f;
}

void uf_faults_free(uf_faults *f)
{
    if (!f)
        return;
    g_free(f->specs);
    g_free(f->hits);
    g_array_free(f->events, TRUE);
    g_free(f);
}

static bool needs_frames(const uf_link_fault *s)
{
    return s->unit == UF_ON_FRAME || s->kind == UF_LINK_FC || s->kind == UF_LINK_BUS_OFF;
}

bool uf_faults_check(const uf_faults *f, unsigned caps, const char *link, uf_error *err)
{
    return uf_link_faults_check(f->specs, f->n, caps, link, err);
}

bool uf_link_faults_check(const uf_link_fault *specs, size_t n, unsigned caps, const char *link,
                          uf_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const uf_link_fault *s = &specs[i];
        if (needs_frames(s) && !(caps & UF_LINK_CAN_FRAMES)) {
            uf_error_set(err, "fault \"%s\" acts on CAN frames, which %s does not show: give "
                              "msg= or block=, or a raw CAN link (--can, --sim)", s->text, link);
            return false;
        }
        if (s->kind == UF_LINK_DISCONNECT && !(caps & UF_LINK_DOIP)) {
            uf_error_set(err, "fault \"%s\" cuts a DoIP connection, and %s is not one: use "
                              "link-loss or bus-off", s->text, link);
            return false;
        }
    }
    return true;
}

void uf_faults_on_event(uf_faults *f, void (*cb)(void *ctx, const uf_fault_event *e), void *ctx)
{
    f->cb = cb;
    f->cb_ctx = ctx;
}

const GArray *uf_faults_events(const uf_faults *f)
{
    return f->events;
}

size_t uf_faults_count(const uf_faults *f)
{
    return f->n;
}

const uf_link_fault *uf_faults_spec(const uf_faults *f, size_t i)
{
    return &f->specs[i];
}

uint32_t uf_faults_hits(const uf_faults *f, size_t i)
{
    return f->hits[i];
}

uint64_t uf_faults_seed(const uf_faults *f)
{
    return f->seed;
}

void uf_faults_set_origin(uf_faults *f, uf_time t)
{
    f->origin = t;
}

uf_time uf_faults_origin(const uf_faults *f)
{
    return f->origin;
}

/* ---- the log ---------------------------------------------------------------------*/

static void G_GNUC_PRINTF(4, 0) vlog(uf_faults *f, unsigned fault, uf_time t, const char *fmt,
                                    va_list ap)
{
    uf_fault_event e = {.time = t, .fault = fault};
    vsnprintf(e.what, sizeof(e.what), fmt, ap);
    g_array_append_val(f->events, e);
    if (f->cb)
        f->cb(f->cb_ctx, &e);
}

static void G_GNUC_PRINTF(4, 5) log_event(uf_faults *f, unsigned fault, uf_time t,
                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(f, fault, t, fmt, ap);
    va_end(ap);
}

void uf_faults_note(uf_faults *f, uf_time t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(f, (unsigned)f->n, t, fmt, ap);
    va_end(ap);
}

static const char *dir_name(uf_link_dir d)
{
    return d == UF_DIR_TX ? "sent" : "received";
}

/* "7E0 [02 10 02 AA ...]": enough bytes to recognise it. */
static const char *bytes_text(char *buf, size_t size, const uint8_t *p, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 12 && at + 4 < size; i++)
        at += (size_t)snprintf(buf + at, size - at, i ? " %02X" : "%02X", p[i]);
    if (n > 12 && at + 5 < size)
        g_strlcat(buf, " ...", size);
    return buf;
}

static const char *frame_text(char *buf, size_t size, const uf_can_frame *fr)
{
    char data[64];
    snprintf(buf, size, "%X [%s]", fr->id, bytes_text(data, sizeof(data), fr->data, fr->len));
    return buf;
}

/* ---- outages -----------------------------------------------------------------------*/

static void end_outage(uf_faults *f, uf_time now)
{
    if (!f->outage || f->outage_end == UF_TIME_NONE || now < f->outage_end)
        return;
    const uf_link_fault *s = &f->specs[f->outage_fault];
    log_event(f, f->outage_fault, f->outage_end, "%s over after %u ms: %" PRIu64 " %s lost",
              s->kind == UF_LINK_BUS_OFF ? "bus-off" : "link loss", s->ms, f->outage_lost,
              s->kind == UF_LINK_BUS_OFF ? "frames" : "frames or messages");
    f->outage = false;
}

/* A TransferData request starts: an outage due at this block begins. */
static void start_outage(uf_faults *f, uf_link_dir dir, uf_time now)
{
    for (size_t i = 0; i < f->n && !f->outage; i++) {
        const uf_link_fault *s = &f->specs[i];
        if ((s->kind != UF_LINK_LOSS && s->kind != UF_LINK_BUS_OFF) || !(s->dir & dir) ||
            s->nth != f->blocks)
            continue;
        f->outage = true;
        f->outage_fault = (unsigned)i;
        f->outage_start = now;
        f->outage_end = s->ms ? now + (uf_time)s->ms * UF_NS_PER_MS : UF_TIME_NONE;
        f->outage_lost = 0;
        f->hits[i]++;
        char dur[32] = "for good";
        if (s->ms)
            snprintf(dur, sizeof(dur), "for %u ms", s->ms);
        log_event(f, (unsigned)i, now, "%s at block %u (%s)",
                  s->kind == UF_LINK_BUS_OFF ? "bus-off: writes fail, nothing is received"
                                             : "link lost: nothing passes either way",
                  f->blocks, dur);
    }
}

/* During an outage: true if the frame or message is lost (or, sent on a
 * bus-off controller, fails). */
static bool in_outage(uf_faults *f, uf_link_dir dir, uf_fault_verdict *v)
{
    if (!f->outage)
        return false;
    const uf_link_fault *s = &f->specs[f->outage_fault];
    f->outage_lost++;
    v->why = s->text;
    if (s->kind == UF_LINK_BUS_OFF && dir == UF_DIR_TX)
        v->fail = true;
    else
        v->drop = true;
    return true;
}

/* ---- matching --------------------------------------------------------------------*/

typedef struct crossing {
    uf_link_dir dir;
    bool message_start;   /* a whole message, or its first frame */
    bool block;           /* ... of a TransferData request */
    bool fc;
    bool frame;           /* a CAN frame (else a whole message) */
} crossing;

static bool matches(uf_faults *f, const uf_link_fault *s, const crossing *c)
{
    if (!(s->dir & c->dir))
        return false;
    switch (s->unit) {
    case UF_ON_FRAME:
        return c->frame && f->frames[s->dir] == s->nth;
    case UF_ON_MESSAGE:
        return c->message_start && f->messages[s->dir] == s->nth;
    case UF_ON_BLOCK:
        return c->block && f->blocks == s->nth;
    case UF_ON_CHANCE:
        /* Drawn for every candidate, hit or not: the sequence of draws
         * depends on the traffic only. */
        return random_unit(f) < s->p;
    case UF_ON_FC:
        return c->fc && (s->nth == 0 || f->fcs[s->dir] == s->nth);
    }
    return false;
}

/* The next spec from *i on that acts on this crossing (*i is set to it),
 * counted as acting and named in the verdict; NULL when none is left. */
static const uf_link_fault *next_acting(uf_faults *f, unsigned *i, const crossing *c,
                                        uf_fault_verdict *v)
{
    for (; *i < f->n; ++*i) {
        const uf_link_fault *s = &f->specs[*i];
        if (matches(f, s, c)) {
            f->hits[*i]++;
            v->why = s->text;
            return s;
        }
    }
    return NULL;
}

static void count(uint64_t *counts, uf_link_dir dir)
{
    counts[dir]++;
    counts[UF_DIR_ANY]++;
}

/* The byte to corrupt: the spec's, else one drawn among the data after
 * the header (so that the message stays well-formed and means something
 * else), or any when there is none. */
static size_t corrupt_index(uf_faults *f, const uf_link_fault *s, size_t header, size_t n)
{
    if (s->byte >= 0)
        return (size_t)s->byte;
    if (n > header)
        return header + (size_t)(next_random(f) % (n - header));
    return n ? (size_t)(next_random(f) % n) : SIZE_MAX; /* an empty frame: none */
}

static uint8_t corrupt_mask(uf_faults *f, const uf_link_fault *s)
{
    return s->mask ? s->mask : (uint8_t)(1 + next_random(f) % 255);
}

/* ---- CAN frames ------------------------------------------------------------------*/

static open_message *open_slot(uf_faults *f, uint32_t id, uf_link_dir dir, bool start)
{
    open_message *free_slot = NULL;
    for (size_t i = 0; i < OPEN_MESSAGES; i++) {
        open_message *m = &f->open[i];
        if (m->used && m->id == id && m->dir == dir) {
            if (start)
                m->dropped = false;
            return m;
        }
        if (!m->used && !free_slot)
            free_slot = m;
    }
    if (!start)
        return NULL;
    if (!free_slot)
        free_slot = &f->open[id % OPEN_MESSAGES];
    *free_slot = (open_message){.id = id, .dir = dir, .used = true};
    return free_slot;
}

/* The ISO-TP header of a frame and the first byte of its UDS message, if
 * it starts one (ISO 15765-2:2016 9.6: SF, FF with their escapes). */
static size_t isotp_header(const uint8_t *d, size_t n, int *type, int *sid)
{
    *type = n ? d[0] >> 4 : -1;
    *sid = -1;
    size_t h;
    switch (*type) {
    case 0: h = (d[0] & 0x0F) ? 1 : 2; break;
    case 1: h = (n >= 2 && (d[0] & 0x0F) == 0 && d[1] == 0) ? 6 : 2; break;
    case 2: return 1;
    case 3: return 3;
    default: return 0;
    }
    if (n > h)
        *sid = d[h];
    return h;
}

void uf_faults_frame(uf_faults *f, uf_link_dir dir, uf_can_frame *fr, unsigned pci_offset,
                     uf_time now, uf_fault_verdict *v)
{
    memset(v, 0, sizeof(*v));
    end_outage(f, now);
    crossing c = {.dir = dir, .frame = true};
    size_t n = fr->len > pci_offset ? fr->len - pci_offset : 0;
    int type, sid;
    size_t header = pci_offset + isotp_header(fr->data + pci_offset, n, &type, &sid);
    count(f->frames, dir);
    c.message_start = type == 0 || type == 1;
    c.fc = type == 3;
    if (c.message_start) {
        count(f->messages, dir);
        if (sid == 0x36) {
            c.block = true;
            f->blocks++;
            start_outage(f, dir, now);
        }
    }
    if (c.fc)
        count(f->fcs, dir);
    if (in_outage(f, dir, v))
        return;
    uint32_t id = fr->id | ((fr->flags & UF_CAN_EFF) ? 0x80000000u : 0);
    open_message *m = open_slot(f, id, dir, c.message_start);
    if (type == 2 && m && m->dropped) {
        v->drop = true; /* the rest of a dropped message */
        return;
    }
    char was[96], now_text[96];
    frame_text(was, sizeof(was), fr);
    const uf_link_fault *s;
    for (unsigned fi = 0; (s = next_acting(f, &fi, &c, v)); fi++) {
        switch (s->kind) {
        case UF_LINK_DROP:
            v->drop = true;
            if (s->unit != UF_ON_FRAME && s->unit != UF_ON_CHANCE && m)
                m->dropped = true;
            log_event(f, fi, now, "dropped %s frame %" PRIu64 "%s: %s", dir_name(dir),
                      f->frames[dir], m && m->dropped ? " and the rest of its message" : "",
                      was);
            break;
        case UF_LINK_DELAY:
            v->delay += (uf_time)s->ms * UF_NS_PER_MS;
            log_event(f, fi, now, "delayed %s frame %" PRIu64 " by %u ms: %s", dir_name(dir),
                      f->frames[dir], s->ms, was);
            break;
        case UF_LINK_CORRUPT: {
            /* A single frame's padding is not its message: its length says
             * where the data ends. */
            size_t end = fr->len;
            if (type == 0 && sid >= 0) {
                const uint8_t *d = fr->data + pci_offset;
                size_t sf_dl = (d[0] & 0x0F) ? (d[0] & 0x0F) : d[1];
                if (header + sf_dl < end)
                    end = header + sf_dl;
            }
            size_t at = corrupt_index(f, s, header, end);
            if (at == SIZE_MAX) {
                log_event(f, fi, now, "%s frame %" PRIu64 " is empty: nothing to corrupt: %s",
                          dir_name(dir), f->frames[dir], was);
                break;
            }
            if (at >= fr->len) {
                log_event(f, fi, now, "%s frame %" PRIu64 " has no byte %zu to corrupt: %s",
                          dir_name(dir), f->frames[dir], at, was);
                break;
            }
            uint8_t mask = corrupt_mask(f, s);
            fr->data[at] ^= mask;
            log_event(f, fi, now, "corrupted %s frame %" PRIu64 ": byte %zu %02X -> %02X: %s",
                      dir_name(dir), f->frames[dir], at, fr->data[at] ^ mask, fr->data[at],
                      frame_text(now_text, sizeof(now_text), fr));
            break;
        }
        case UF_LINK_FC: {
            uint8_t *d = fr->data + pci_offset;
            if (s->set_status)
                d[0] = (uint8_t)(0x30 | s->status);
            if (s->set_bs && n >= 2)
                d[1] = s->bs;
            if (s->set_stmin && n >= 3)
                d[2] = s->stmin;
            v->delay += (uf_time)s->ms * UF_NS_PER_MS;
            char delay[32] = "";
            if (s->ms)
                snprintf(delay, sizeof(delay), ", delayed %u ms", s->ms);
            log_event(f, fi, now, "%s flow control %" PRIu64 " %s -> %s%s", dir_name(dir),
                      f->fcs[dir], was, frame_text(now_text, sizeof(now_text), fr), delay);
            break;
        }
        case UF_LINK_LOSS:
        case UF_LINK_BUS_OFF:
        case UF_LINK_DISCONNECT:
            break; /* outages start above; disconnects are for DoIP */
        }
        if (v->drop)
            return;
    }
}

/* ---- whole messages --------------------------------------------------------------*/

void uf_faults_message(uf_faults *f, uf_link_dir dir, uint8_t *p, size_t n, uf_time now,
                       uf_fault_verdict *v)
{
    memset(v, 0, sizeof(*v));
    end_outage(f, now);
    crossing c = {.dir = dir, .message_start = true, .block = n && p[0] == 0x36};
    count(f->messages, dir);
    if (c.block) {
        f->blocks++;
        start_outage(f, dir, now);
    }
    if (in_outage(f, dir, v))
        return;
    char was[64], now_text[64];
    bytes_text(was, sizeof(was), p, n);
    uint64_t nth = f->messages[dir];
    const uf_link_fault *s;
    for (unsigned fi = 0; (s = next_acting(f, &fi, &c, v)); fi++) {
        switch (s->kind) {
        case UF_LINK_DROP:
            v->drop = true;
            log_event(f, fi, now, "dropped %s message %" PRIu64 ": [%s]", dir_name(dir), nth,
                      was);
            return;
        case UF_LINK_DELAY:
            v->delay += (uf_time)s->ms * UF_NS_PER_MS;
            log_event(f, fi, now, "delayed %s message %" PRIu64 " by %u ms: [%s]",
                      dir_name(dir), nth, s->ms, was);
            break;
        case UF_LINK_CORRUPT: {
            size_t at = n ? corrupt_index(f, s, 1, n) : 0;
            if (at >= n) {
                log_event(f, fi, now, "%s message %" PRIu64 " has no byte %zu to corrupt",
                          dir_name(dir), nth, at);
                break;
            }
            uint8_t mask = corrupt_mask(f, s);
            p[at] ^= mask;
            log_event(f, fi, now, "corrupted %s message %" PRIu64 ": byte %zu %02X -> %02X: [%s]",
                      dir_name(dir), nth, at, p[at] ^ mask, p[at],
                      bytes_text(now_text, sizeof(now_text), p, n));
            break;
        }
        case UF_LINK_DISCONNECT:
            v->disconnect = true;
            log_event(f, fi, now, "DoIP connection closed at %s message %" PRIu64 " [%s]",
                      dir_name(dir), nth, was);
            return;
        case UF_LINK_FC:
        case UF_LINK_LOSS:
        case UF_LINK_BUS_OFF:
            break; /* checked away (frames), or started above */
        }
    }
}
