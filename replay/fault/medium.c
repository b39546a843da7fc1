/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults between an ISO-TP endpoint and its CAN medium. A frame sent and
 * dropped "leaves" at once but never reaches the bus; a delayed one waits
 * while what arrives meanwhile is kept; on a bus-off controller a write
 * fails. A frame received and dropped is never seen; a delayed one is
 * held, and what comes after it waits behind it, as in the store-and-
 * forward queue of a gateway, so the order stays the bus's.
 */
#include "uf_fault.h"

#include <string.h>

/* Frames held at once: a long delay on a busy bus must not grow memory
 * without bound (64 s of a 500 kbit/s bus at full load is ~260000). */
#define HELD_MAX 4096

typedef struct held_frame {
    uf_can_frame frame;
    uf_time release;
} held_frame;

typedef struct faulty_medium {
    uf_can_medium base;
    uf_can_medium *inner;
    uf_faults *faults;
    unsigned pci_offset;
    held_frame *held;     /* a ring of HELD_MAX */
    size_t head, count;
    uint64_t overflowed;
} faulty_medium;

static uf_time medium_now(uf_can_medium *m)
{
    faulty_medium *fm = (faulty_medium *)m;
    return fm->inner->ops->now(fm->inner);
}

/* A received frame through the faults, then behind what is held. */
static void take(faulty_medium *fm, uf_can_frame *f, uf_time t)
{
    uf_fault_verdict v;
    uf_faults_frame(fm->faults, UF_DIR_RX, f, fm->pci_offset, t, &v);
    if (v.drop)
        return;
    uf_time release = t + v.delay;
    if (fm->count) {
        uf_time last = fm->held[(fm->head + fm->count - 1) % HELD_MAX].release;
        if (last > release)
            release = last;
    }
    if (fm->count == HELD_MAX) {
        if (fm->overflowed++ == 0)
            uf_faults_note(fm->faults, t, "%s: more than %d frames held by delays: the newest "
                                          "are dropped", fm->base.name, HELD_MAX);
        return;
    }
    fm->held[(fm->head + fm->count) % HELD_MAX] = (held_frame){*f, release};
    fm->count++;
}

static int medium_read(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline,
                       uf_error *err)
{
    faulty_medium *fm = (faulty_medium *)m;
    for (;;) {
        uf_time now = medium_now(m);
        if (fm->count && fm->held[fm->head].release <= now) {
            *f = fm->held[fm->head].frame;
            *t = fm->held[fm->head].release;
            fm->head = (fm->head + 1) % HELD_MAX;
            fm->count--;
            return 1;
        }
        if (now >= deadline)
            return 0;
        uf_time wait = deadline;
        if (fm->count && fm->held[fm->head].release < wait)
            wait = fm->held[fm->head].release;
        uf_can_frame g;
        uf_time tg;
        int got = fm->inner->ops->read(fm->inner, &g, &tg, wait, err);
        if (got < 0)
            return got;
        if (got > 0)
            take(fm, &g, tg);
    }
}

/* Lets time pass on the medium until `until`, keeping what arrives. */
static bool wait_until(faulty_medium *fm, uf_time until, uf_error *err)
{
    while (medium_now(&fm->base) < until) {
        uf_can_frame g;
        uf_time tg;
        int got = fm->inner->ops->read(fm->inner, &g, &tg, until, err);
        if (got < 0)
            return false;
        if (got > 0)
            take(fm, &g, tg);
    }
    return true;
}

static bool medium_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    faulty_medium *fm = (faulty_medium *)m;
    uf_can_frame out = *f;
    uf_time now = medium_now(m);
    uf_fault_verdict v;
    uf_faults_frame(fm->faults, UF_DIR_TX, &out, fm->pci_offset, now, &v);
    if (v.fail) {
        uf_error_set(err, "%s: the CAN controller is bus-off (fault \"%s\")", m->name, v.why);
        return false;
    }
    if (v.drop) {
        *sent = now;
        return true;
    }
    if (v.delay && !wait_until(fm, now + v.delay, err))
        return false;
    return fm->inner->ops->write(fm->inner, &out, sent, err);
}

static void medium_free(uf_can_medium *m)
{
    faulty_medium *fm = (faulty_medium *)m;
    fm->inner->ops->free(fm->inner);
    g_free(fm->held);
    g_free(fm);
}

/* No burst: the faults act on each frame as it goes. */
static const uf_can_medium_ops faulty_ops = {medium_write, medium_read, medium_now, medium_free,
                                             NULL};

uf_can_medium *uf_can_medium_faulty(uf_can_medium *inner, uf_faults *f, unsigned pci_offset)
{
    faulty_medium *fm = g_new0(faulty_medium, 1);
    fm->base.ops = &faulty_ops;
    g_strlcpy(fm->base.name, inner->name, sizeof(fm->base.name));
    fm->inner = inner;
    fm->faults = f;
    fm->pci_offset = pci_offset;
    fm->held = g_new(held_frame, HELD_MAX);
    return &fm->base;
}
