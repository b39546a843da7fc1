/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults on a tester's channel that carries whole messages (DoIP, the
 * kernel's ISO-TP): a request dropped or corrupted before it goes, held
 * before it goes, an answer dropped, corrupted or held before the tester
 * sees it, the DoIP connection closed for real (the entity sees the TCP
 * connection end) so the tester must open a new one. These channels run
 * on the monotonic clock.
 */
#include "uf_fault.h"

#include <string.h>

typedef struct faulty_channel {
    uf_channel base;
    uf_channel *inner;    /* NULL once a disconnect closed it */
    uf_faults *faults;
    const char *closed_by;
    GByteArray *msg;      /* what recv returned last, owned here */
    bool held;            /* msg is an answer held by a delay */
    bool held_functional;
    uf_time release;
} faulty_channel;

static uf_time channel_now(uf_channel *t)
{
    faulty_channel *fc = (faulty_channel *)t;
    return fc->inner ? uf_channel_now(fc->inner) : uf_clock_monotonic();
}

static bool closed(faulty_channel *fc, uf_error *err)
{
    uf_error_set(err, "%s: the connection was closed (fault \"%s\")", fc->base.name,
                 fc->closed_by);
    return false;
}

static void disconnect(faulty_channel *fc, const char *why)
{
    /* Freeing the DoIP client closes its socket: the entity sees the end. */
    uf_channel_free(fc->inner);
    fc->inner = NULL;
    fc->closed_by = why;
}

/* Real time passes (nothing is lost meanwhile: the socket keeps it). */
static void sleep_until(uf_time t)
{
    uf_time now = uf_clock_monotonic();
    if (t > now)
        g_usleep((gulong)((t - now) / 1000));
}

static bool channel_send(uf_channel *t, const uint8_t *p, size_t n, bool functional,
                         uf_error *err)
{
    faulty_channel *fc = (faulty_channel *)t;
    if (!fc->inner)
        return closed(fc, err);
    uint8_t *copy = g_memdup2(p, n);
    uf_fault_verdict v;
    uf_faults_message(fc->faults, UF_DIR_TX, copy, n, channel_now(t), &v);
    bool ok = true;
    if (v.disconnect) {
        disconnect(fc, v.why);
        ok = closed(fc, err);
    } else if (!v.drop) {
        if (v.delay)
            sleep_until(channel_now(t) + v.delay);
        ok = uf_channel_send(fc->inner, copy, n, functional, err);
    }
    g_free(copy);
    return ok;
}

/* The held answer once due; 0 while the deadline comes first. */
static int release_held(faulty_channel *fc, uf_channel_msg *m, uf_time deadline)
{
    if (fc->release > deadline) {
        sleep_until(deadline);
        return 0;
    }
    sleep_until(fc->release);
    fc->held = false;
    *m = (uf_channel_msg){fc->msg->data, fc->msg->len, fc->held_functional, fc->release};
    return 1;
}

static int channel_recv(uf_channel *t, uf_channel_msg *m, uf_time deadline, uf_error *err)
{
    faulty_channel *fc = (faulty_channel *)t;
    if (fc->held)
        return release_held(fc, m, deadline);
    for (;;) {
        if (!fc->inner) {
            closed(fc, err);
            return -1;
        }
        int got = uf_channel_recv(fc->inner, m, deadline, err);
        if (got <= 0)
            return got;
        g_byte_array_set_size(fc->msg, 0);
        g_byte_array_append(fc->msg, m->data, (guint)m->len);
        uf_fault_verdict v;
        uf_faults_message(fc->faults, UF_DIR_RX, fc->msg->data, fc->msg->len, m->time, &v);
        if (v.disconnect) {
            disconnect(fc, v.why);
            continue;
        }
        if (v.drop)
            continue;
        if (v.delay) {
            fc->held = true;
            fc->held_functional = m->functional;
            fc->release = m->time + v.delay;
            return release_held(fc, m, deadline);
        }
        m->data = fc->msg->data;
        return 1;
    }
}

static void channel_free(uf_channel *t)
{
    faulty_channel *fc = (faulty_channel *)t;
    uf_channel_free(fc->inner);
    g_byte_array_free(fc->msg, TRUE);
    g_free(fc);
}

static const uf_channel_ops faulty_ops = {channel_send, channel_recv, channel_now, channel_free};

uf_channel *uf_channel_faulty(uf_channel *inner, uf_faults *f)
{
    faulty_channel *fc = g_new0(faulty_channel, 1);
    fc->base.ops = &faulty_ops;
    g_strlcpy(fc->base.name, inner->name, sizeof(fc->base.name));
    fc->inner = inner;
    fc->faults = f;
    fc->msg = g_byte_array_new();
    return &fc->base;
}
