/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The pcapng recorder of uf_recorder.h: a Section Header Block, an
 * Interface Description Block per bus (if_name, if_tsresol 9), then an
 * Enhanced Packet Block per frame, written as they come. Blocks are in
 * the machine's byte order, as the format allows (the SHB's magic says
 * which); the SocketCAN id is big-endian, as LINKTYPE_CAN_SOCKETCAN says.
 */
#include "uf_recorder.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_CAN_SOCKETCAN 227
#define SOCKETCAN_EFF 0x80000000u

struct uf_recorder {
    GMutex lock;         /* the links of a parallel flash record from their threads */
    FILE *f;
    char *path, *part;
    GPtrArray *interfaces; /* names, by index */
    bool failed;
    int error;
};

static void put(uf_recorder *r, const void *p, size_t n)
{
    if (!r->failed && fwrite(p, 1, n, r->f) != n) {
        r->failed = true;
        r->error = errno;
    }
}

/* A block: type, total length, body padded to 32 bits, total length. */
static void block(uf_recorder *r, uint32_t type, const void *body, uint32_t n)
{
    static const uint8_t zero[4];
    uint32_t pad = (4 - n % 4) % 4, total = 12 + n + pad;
    put(r, &type, 4);
    put(r, &total, 4);
    put(r, body, n);
    put(r, zero, pad);
    put(r, &total, 4);
}

static size_t option(uint8_t *out, uint16_t code, const void *value, uint16_t len)
{
    memcpy(out, &code, 2);
    memcpy(out + 2, &len, 2);
    if (len)
        memcpy(out + 4, value, len);
    size_t n = 4 + len;
    while (n % 4)
        out[n++] = 0;
    return n;
}

uf_recorder *uf_recorder_open(const char *path, uf_error *err)
{
    char *part = g_strconcat(path, ".part", NULL);
    FILE *f = fopen(part, "wb");
    if (!f) {
        uf_error_set(err, "%s: cannot create: %s", part, g_strerror(errno));
        g_free(part);
        return NULL;
    }
    uf_recorder *r = g_new0(uf_recorder, 1);
    g_mutex_init(&r->lock);
    r->interfaces = g_ptr_array_new_with_free_func(g_free);
    r->f = f;
    r->path = g_strdup(path);
    r->part = part;
    uint8_t shb[16];
    uint32_t magic = 0x1A2B3C4D;
    uint16_t major = 1, minor = 0;
    memcpy(shb, &magic, 4);
    memcpy(shb + 4, &major, 2);
    memcpy(shb + 6, &minor, 2);
    memset(shb + 8, 0xFF, 8); /* section length: not given */
    block(r, 0x0A0D0D0A, shb, sizeof(shb));
    return r;
}

/* Interfaces are told apart by name: one bus, one interface. */
static uint32_t interface(uf_recorder *r, const char *name, uint16_t linktype)
{
    g_mutex_lock(&r->lock);
    for (guint i = 0; i < r->interfaces->len; i++)
        if (strcmp(g_ptr_array_index(r->interfaces, i), name) == 0) {
            g_mutex_unlock(&r->lock);
            return i;
        }
    uint8_t idb[8 + 8 + 68 + 8 + 4];
    uint16_t reserved = 0;
    uint32_t snaplen = 0;
    memcpy(idb, &linktype, 2);
    memcpy(idb + 2, &reserved, 2);
    memcpy(idb + 4, &snaplen, 4);
    size_t n = 8;
    size_t len = strlen(name) < 64 ? strlen(name) : 64;
    n += option(idb + n, 2, name, (uint16_t)len); /* if_name */
    uint8_t tsresol = 9;                           /* nanoseconds */
    n += option(idb + n, 9, &tsresol, 1);
    n += option(idb + n, 0, NULL, 0);
    block(r, 1, idb, (uint32_t)n);
    g_ptr_array_add(r->interfaces, g_strdup(name));
    uint32_t index = r->interfaces->len - 1;
    g_mutex_unlock(&r->lock);
    return index;
}

uint32_t uf_recorder_can_interface(uf_recorder *r, const char *name)
{
    return interface(r, name, LINKTYPE_CAN_SOCKETCAN);
}

uint32_t uf_recorder_ethernet_interface(uf_recorder *r, const char *name)
{
    return interface(r, name, LINKTYPE_ETHERNET);
}

/* An Enhanced Packet Block (section 4.3). */
void uf_recorder_packet(uf_recorder *r, uint32_t iface, const uint8_t *data, uint32_t len,
                        uf_time t)
{
    uint8_t head[20];
    uint64_t ts = t < 0 ? 0 : (uint64_t)t;
    uint32_t hi = (uint32_t)(ts >> 32), lo = (uint32_t)ts;
    memcpy(head, &iface, 4);
    memcpy(head + 4, &hi, 4);
    memcpy(head + 8, &lo, 4);
    memcpy(head + 12, &len, 4);
    memcpy(head + 16, &len, 4);
    static const uint8_t zero[4];
    uint32_t type = 6, pad = (4 - len % 4) % 4, total = 12 + 20 + len + pad;
    g_mutex_lock(&r->lock);
    put(r, &type, 4);
    put(r, &total, 4);
    put(r, head, sizeof(head));
    put(r, data, len);
    put(r, zero, pad);
    put(r, &total, 4);
    g_mutex_unlock(&r->lock);
}

void uf_recorder_can(uf_recorder *r, uint32_t iface, const uf_can_frame *f, uf_time t)
{
    uint8_t c[72];
    bool fd = (f->flags & UF_CAN_FD) != 0;
    uint32_t len = fd ? 72 : 16;
    memset(c, 0, len);
    uf_store_be32(c, f->id | ((f->flags & UF_CAN_EFF) ? SOCKETCAN_EFF : 0));
    c[4] = f->len;
    if (fd) /* CANFD_FDF, and BRS / ESI */
        c[5] = 0x04 | ((f->flags & UF_CAN_BRS) ? 0x01 : 0) | ((f->flags & UF_CAN_ESI) ? 0x02 : 0);
    memcpy(c + 8, f->data, f->len);
    uf_recorder_packet(r, iface, c, len, t);
}

bool uf_recorder_close(uf_recorder *r, uf_error *err)
{
    if (!r)
        return true;
    if (fflush(r->f) != 0 && !r->failed) {
        r->failed = true;
        r->error = errno;
    }
    if (fclose(r->f) != 0 && !r->failed) {
        r->failed = true;
        r->error = errno;
    }
    bool ok = !r->failed;
    if (ok && rename(r->part, r->path) != 0) {
        ok = false;
        r->error = errno;
    }
    if (!ok) {
        uf_error_set(err, "%s: write failed: %s", r->path, g_strerror(r->error));
        remove(r->part);
    }
    g_ptr_array_free(r->interfaces, TRUE);
    g_mutex_clear(&r->lock);
    g_free(r->path);
    g_free(r->part);
    g_free(r);
    return ok;
}

/* ---- the tapping medium ----------------------------------------------------------*/

typedef struct tap_medium {
    uf_can_medium base;
    uf_can_medium *inner;
    void (*tap)(void *ctx, const uf_can_frame *f, uf_time t, bool tx);
    void *ctx;
} tap_medium;

static bool tap_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    tap_medium *t = (tap_medium *)m;
    if (!t->inner->ops->write(t->inner, f, sent, err))
        return false;
    t->tap(t->ctx, f, *sent, true);
    return true;
}

/* A burst is recorded as its frames left, each at its own time. */
static bool tap_write_burst(uf_can_medium *m, const uf_can_frame *f, size_t n, uf_time *sent,
                            uf_error *err)
{
    tap_medium *t = (tap_medium *)m;
    const uf_can_medium_ops *inner = t->inner->ops;
    if (inner->write_burst) {
        if (!inner->write_burst(t->inner, f, n, sent, err))
            return false;
        for (size_t i = 0; i < n; i++)
            t->tap(t->ctx, &f[i], sent[i], true);
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!tap_write(m, &f[i], &sent[i], err))
            return false;
    return true;
}

static int tap_read(uf_can_medium *m, uf_can_frame *f, uf_time *at, uf_time deadline,
                    uf_error *err)
{
    tap_medium *t = (tap_medium *)m;
    int k = t->inner->ops->read(t->inner, f, at, deadline, err);
    if (k > 0)
        t->tap(t->ctx, f, *at, false);
    return k;
}

static uf_time tap_now(uf_can_medium *m)
{
    tap_medium *t = (tap_medium *)m;
    return t->inner->ops->now(t->inner);
}

static void tap_free(uf_can_medium *m)
{
    tap_medium *t = (tap_medium *)m;
    t->inner->ops->free(t->inner);
    g_free(t);
}

static const uf_can_medium_ops tap_ops = {tap_write, tap_read, tap_now, tap_free,
                                          tap_write_burst};

uf_can_medium *uf_can_medium_tap(uf_can_medium *inner,
                                 void (*tap)(void *ctx, const uf_can_frame *f, uf_time t, bool tx),
                                 void *ctx)
{
    tap_medium *t = g_new0(tap_medium, 1);
    t->base.ops = &tap_ops;
    g_strlcpy(t->base.name, inner->name, sizeof(t->base.name));
    t->inner = inner;
    t->tap = tap;
    t->ctx = ctx;
    return &t->base;
}
