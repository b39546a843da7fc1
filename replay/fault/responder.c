/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults on an ECU's side of a transport that hands it whole messages
 * (the DoIP entity, a kernel ISO-TP channel): a request dropped, corrupted
 * or held before the ECU sees it, an answer dropped, corrupted or held
 * before it goes, the DoIP connection closed when a request comes. Pure,
 * like the responder it wraps: time is given, never read.
 */
#include "uf_fault.h"

#include <string.h>

typedef struct held_message {
    uf_time release;
    bool functional;
    size_t len;
    uint8_t data[];
} held_message;

struct uf_faulty_responder {
    uf_responder inner;
    uf_faults *faults;
    GQueue requests, answers;  /* held_message, in release order */
};

static held_message *hold(GQueue *q, const uint8_t *p, size_t n, bool functional,
                          uf_time release)
{
    /* Behind what is held already: the order stays the link's. */
    held_message *last = g_queue_peek_tail(q);
    if (last && last->release > release)
        release = last->release;
    held_message *h = g_malloc(sizeof(*h) + n);
    *h = (held_message){release, functional, n};
    memcpy(h->data, p, n);
    g_queue_push_tail(q, h);
    return h;
}

static void pass_requests(uf_faulty_responder *r, uf_time now)
{
    held_message *h;
    while ((h = g_queue_peek_head(&r->requests)) && h->release <= now) {
        g_queue_pop_head(&r->requests);
        uf_responder_request(r->inner, h->data, h->len, h->functional, h->release);
        g_free(h);
    }
}

static uf_ecu_action on_request(void *self, const uint8_t *req, size_t len, bool functional,
                                uf_time now)
{
    uf_faulty_responder *r = self;
    pass_requests(r, now);
    uint8_t *copy = g_memdup2(req, len);
    uf_fault_verdict v;
    uf_faults_message(r->faults, UF_DIR_RX, copy, len, now, &v);
    uf_ecu_action a = UF_ECU_ANSWER;
    if (v.disconnect)
        a = UF_ECU_DOIP_CLOSE;
    else if (v.delay || !g_queue_is_empty(&r->requests))
        hold(&r->requests, copy, len, functional, now + v.delay);
    else if (!v.drop)
        a = uf_responder_request(r->inner, copy, len, functional, now);
    g_free(copy);
    return a;
}

static void on_started(void *self, uf_time now)
{
    uf_faulty_responder *r = self;
    uf_responder_started(r->inner, now);
}

static void on_aborted(void *self, uf_time now)
{
    uf_faulty_responder *r = self;
    uf_responder_aborted(r->inner, now);
}

static size_t on_response(void *self, uf_time now, uint8_t *out, size_t cap)
{
    uf_faulty_responder *r = self;
    pass_requests(r, now);
    held_message *h = g_queue_peek_head(&r->answers);
    if (h && h->release <= now) {
        g_queue_pop_head(&r->answers);
        size_t n = h->len < cap ? h->len : cap;
        memcpy(out, h->data, n);
        g_free(h);
        return n;
    }
    for (;;) {
        size_t n = uf_responder_response(r->inner, now, out, cap);
        if (!n)
            return 0;
        uf_fault_verdict v;
        uf_faults_message(r->faults, UF_DIR_TX, out, n, now, &v);
        if (v.drop)
            continue;
        if (v.delay || !g_queue_is_empty(&r->answers)) {
            hold(&r->answers, out, n, false, now + v.delay);
            return 0;
        }
        return n;
    }
}

static void on_tick(void *self, uf_time now)
{
    uf_faulty_responder *r = self;
    pass_requests(r, now);
    uf_responder_tick(r->inner, now);
}

static uf_time earliest(uf_time a, const GQueue *q)
{
    const held_message *h = g_queue_peek_head((GQueue *)q);
    if (h && (a == UF_TIME_NONE || h->release < a))
        return h->release;
    return a;
}

static uf_time on_wakeup(const void *self)
{
    const uf_faulty_responder *r = self;
    return earliest(earliest(uf_responder_wakeup(r->inner), &r->requests), &r->answers);
}

static bool on_fc_override(const void *self, uint8_t *bs, uint8_t *stmin)
{
    const uf_faulty_responder *r = self;
    return uf_responder_fc_override(r->inner, bs, stmin);
}

static bool on_stopped(const void *self)
{
    const uf_faulty_responder *r = self;
    return uf_responder_stopped(r->inner);
}

static uint8_t on_nack_code(const void *self)
{
    const uf_faulty_responder *r = self;
    return uf_responder_doip_nack_code(r->inner);
}

static const uf_responder_ops faulty_ops = {
    on_request, on_started, on_aborted, on_response, on_tick,
    on_wakeup,  on_fc_override, on_stopped, on_nack_code,
};

uf_faulty_responder *uf_faulty_responder_new(uf_responder inner, uf_faults *f)
{
    uf_faulty_responder *r = g_new0(uf_faulty_responder, 1);
    r->inner = inner;
    r->faults = f;
    g_queue_init(&r->requests);
    g_queue_init(&r->answers);
    return r;
}

uf_responder uf_faulty_responder_get(uf_faulty_responder *r)
{
    return (uf_responder){&faulty_ops, r};
}

void uf_faulty_responder_free(uf_faulty_responder *r)
{
    if (!r)
        return;
    g_queue_clear_full(&r->requests, g_free);
    g_queue_clear_full(&r->answers, g_free);
    g_free(r);
}
