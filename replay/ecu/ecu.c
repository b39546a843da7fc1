/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's core: requests in, responses out at the times a real
 * bootloader would give them. One request is served at a time; a long one
 * (the erase) is answered with response pending (NRC 0x78) before P2 and
 * then again well within P2* until its final answer (ISO 14229-1:2020 7.5,
 * 10.2.2: P2 / P2* announced by DiagnosticSessionControl). The session
 * falls back to the default one after S3 without requests (ISO 14229-2:2013
 * 7.5). Negative answers that a functional request must not get are not
 * sent (ISO 14229-1:2020 7.5.2); neither are positive answers with the
 * suppressPosRspMsgIndicationBit set (7.5.1).
 */
#include "ecu_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t ecu_random(uf_ecu *e)
{
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return e->rng * UINT64_C(2685821657736338717);
}

static void clear_volatile(uf_ecu *e)
{
    e->session = SESSION_DEFAULT;
    e->unlocked = 0;
    e->seed_valid = false;
    e->dtc_off = e->comm_off = false;
    e->busy_until = UF_TIME_NONE;
    e->dl_active = false;
    e->flashing = false;
    g_array_set_size(e->erased, 0);
    g_array_set_size(e->written, 0);
    memset(e->routine_status, 0xFF, sizeof(e->routine_status));
}

uf_ecu *uf_ecu_new(const uf_ecu_config *c, const uf_ecu_store *store, const uint8_t *flash,
                   const uf_ecu_persistent *persistent, uf_time now)
{
    uf_ecu *e = g_new0(uf_ecu, 1);
    e->c = *c;
    if (store)
        e->store = *store;
    e->flash_size = uf_ecu_flash_size(c);
    e->flash = g_malloc(e->flash_size ? e->flash_size : 1);
    if (flash)
        memcpy(e->flash, flash, e->flash_size);
    else
        memset(e->flash, 0xFF, e->flash_size);
    if (persistent)
        e->p = *persistent;
    e->erased = g_array_new(FALSE, FALSE, sizeof(uf_ecu_region));
    e->written = g_array_new(FALSE, FALSE, sizeof(ecu_written));
    /* xorshift must not start at 0. */
    e->rng = c->seed ? c->seed : UINT64_C(0x9E3779B97F4A7C15);
    e->locked_until = UF_TIME_NONE;
    e->last_request = now;
    g_queue_init(&e->responses);
    clear_volatile(e);
    e->st.app_valid = e->p.app_valid;
    return e;
}

void uf_ecu_free(uf_ecu *e)
{
    if (!e)
        return;
    g_queue_clear_full(&e->responses, g_free);
    g_array_free(e->erased, TRUE);
    g_array_free(e->written, TRUE);
    g_free(e->flash);
    g_free(e);
}

/* ---- faults -----------------------------------------------------------------*/

typedef struct fault_effects {
    bool drop, nrc, doip_nack, doip_close;
    uint8_t nrc_code, nack_code;
    uf_time late;
} fault_effects;

static void match_faults(uf_ecu *e, uint8_t sid, fault_effects *fx)
{
    memset(fx, 0, sizeof(*fx));
    for (unsigned i = 0; i < e->c.n_faults; i++) {
        const uf_ecu_fault *f = &e->c.faults[i];
        if (f->kind == UF_FAULT_STOP || f->kind == UF_FAULT_FC)
            continue; /* at a block, or in the flow control */
        if (f->sid && f->sid != sid)
            continue;
        uint32_t n = ++e->fault_matches[i];
        bool hit;
        if (f->nth)
            hit = n == f->nth;
        else
            hit = (double)(ecu_random(e) >> 11) / 9007199254740992.0 < f->probability;
        if (!hit)
            continue;
        switch (f->kind) {
        case UF_FAULT_LATE:
            fx->late += (uf_time)f->ms * UF_NS_PER_MS;
            break;
        case UF_FAULT_DROP:
            fx->drop = true;
            break;
        case UF_FAULT_NRC:
            fx->nrc = true;
            fx->nrc_code = f->nrc;
            break;
        case UF_FAULT_DOIP_NACK:
            fx->doip_nack = true;
            fx->nack_code = f->nrc;
            break;
        case UF_FAULT_DOIP_CLOSE:
            fx->doip_close = true;
            break;
        default:
            break;
        }
    }
}

/* ---- responses ----------------------------------------------------------------*/

static void queue_response(uf_ecu *e, uf_time due, const uint8_t *p, size_t n, bool reset)
{
    ecu_response *r = g_malloc(sizeof(*r) + n);
    r->due = due;
    r->reset = reset;
    r->len = n;
    memcpy(r->data, p, n);
    /* By due time; equal times keep their order. */
    GList *l = e->responses.tail;
    while (l && ((ecu_response *)l->data)->due > due)
        l = l->prev;
    if (l)
        g_queue_insert_after(&e->responses, l, r);
    else
        g_queue_push_head(&e->responses, r);
}

/* NRCs a functionally addressed request never gets (ISO 14229-1:2020 7.5.2). */
static bool silent_for_functional(uint8_t nrc)
{
    return nrc == NRC_SERVICE_NOT_SUPPORTED || nrc == NRC_SUBFUNCTION_NOT_SUPPORTED ||
           nrc == NRC_OUT_OF_RANGE || nrc == NRC_SUBFUNCTION_NOT_IN_SESSION ||
           nrc == NRC_SERVICE_NOT_IN_SESSION;
}

static void dispatch(uf_ecu *e, const uint8_t *q, size_t n, uf_time now, ecu_reply *r)
{
    switch (q[0]) {
    case 0x10: ecu_session_control(e, q, n, r); break;
    case 0x11: ecu_reset(e, q, n, r); break;
    case 0x14: ecu_clear_dtc(e, q, n, r); break;
    case 0x22: ecu_read_did(e, q, n, r); break;
    case 0x27: ecu_security(e, q, n, now, r); break;
    case 0x28: ecu_communication_control(e, q, n, r); break;
    case 0x2E: ecu_write_did(e, q, n, r); break;
    case 0x31: ecu_routine(e, q, n, r); break;
    case 0x34: ecu_request_download(e, q, n, r); break;
    case 0x36: ecu_transfer_data(e, q, n, r); break;
    case 0x37: ecu_transfer_exit(e, q, n, r); break;
    case 0x3E: ecu_tester_present(e, q, n, r); break;
    case 0x85: ecu_dtc_setting(e, q, n, r); break;
    default: ecu_nrc(r, NRC_SERVICE_NOT_SUPPORTED); break;
    }
}

uf_ecu_action uf_ecu_request(uf_ecu *e, const uint8_t *q, size_t n, bool functional,
                             uf_time now)
{
    if (e->stopped || n == 0)
        return UF_ECU_ANSWER;
    if (e->resetting) {
        if (now < e->reset_until)
            return UF_ECU_ANSWER; /* booting: deaf */
        e->resetting = false;
    }
    e->st.requests++;
    e->last_request = now; /* S3 restarts with every request */
    e->receiving = false;
    fault_effects fx;
    match_faults(e, q[0], &fx);
    if (fx.doip_close)
        return UF_ECU_DOIP_CLOSE;
    if (fx.doip_nack) {
        e->doip_nack_code = fx.nack_code;
        return UF_ECU_DOIP_NACK;
    }

    ecu_reply r;
    memset(&r, 0, sizeof(r));
    bool busy = e->busy_until != UF_TIME_NONE && now < e->busy_until;
    if (fx.nrc)
        ecu_nrc(&r, fx.nrc_code);
    else if (busy && q[0] != 0x3E)
        ecu_nrc(&r, NRC_BUSY_REPEAT); /* 7.5: one request at a time */
    else
        dispatch(e, q, n, now, &r);
    if (e->stopped)
        return UF_ECU_ANSWER; /* the power went during the request */

    uf_time answer = now + e->c.response_time;
    if (r.busy > 0) {
        /* 0x78 before P2 runs out, then every half P2* until the end. */
        uint8_t pending[3] = {0x7F, q[0], NRC_PENDING};
        uf_time interval = (uf_time)e->c.p2star_ms * UF_NS_PER_MS / 2;
        uf_time end = now + r.busy;
        e->busy_until = end;
        if (!fx.drop)
            for (uf_time t = answer; t < end; t += interval)
                queue_response(e, t, pending, sizeof(pending), false);
        answer = end;
    }
    answer += fx.late;
    if (fx.drop)
        return UF_ECU_ANSWER;
    if (r.nrc) {
        if (functional && silent_for_functional(r.nrc))
            return UF_ECU_ANSWER;
        uint8_t neg[3] = {0x7F, q[0], r.nrc};
        queue_response(e, answer, neg, sizeof(neg), false);
    } else if (!r.suppress) {
        queue_response(e, answer, r.buf, r.len, r.reset);
    } else if (r.reset) {
        queue_response(e, answer, NULL, 0, true); /* no answer, but the reset */
    }
    return UF_ECU_ANSWER;
}

uint8_t uf_ecu_doip_nack_code(const uf_ecu *e)
{
    return e->doip_nack_code;
}

void uf_ecu_request_started(uf_ecu *e, uf_time now)
{
    e->receiving = true;
    e->last_request = now;
}

void uf_ecu_request_aborted(uf_ecu *e, uf_time now)
{
    e->receiving = false;
    e->last_request = now;
}

static void do_reset(uf_ecu *e, uf_time now)
{
    clear_volatile(e);
    g_queue_clear_full(&e->responses, g_free);
    e->resetting = true;
    e->reset_until = now + e->c.reset_time;
    e->last_request = now;
    e->st.resets++;
}

size_t uf_ecu_response(uf_ecu *e, uf_time now, uint8_t *out, size_t cap)
{
    for (;;) {
        ecu_response *r = g_queue_peek_head(&e->responses);
        if (!r || r->due > now || e->stopped)
            return 0;
        g_queue_pop_head(&e->responses);
        size_t n = r->len < cap ? r->len : cap;
        memcpy(out, r->data, n);
        bool reset = r->reset;
        uf_time due = r->due;
        g_free(r);
        if (n)
            e->st.responses++;
        if (reset)
            do_reset(e, due);
        if (n)
            return n;
    }
}

void uf_ecu_tick(uf_ecu *e, uf_time now)
{
    if (e->resetting && now >= e->reset_until)
        e->resetting = false;
    if (e->busy_until != UF_TIME_NONE && now >= e->busy_until)
        e->busy_until = UF_TIME_NONE;
    /* S3 (ISO 14229-2:2013 7.5): back to the default session, locked. The
     * timer does not run while a request is being served. */
    if (e->session != SESSION_DEFAULT && e->busy_until == UF_TIME_NONE && !e->receiving &&
        g_queue_is_empty(&e->responses) && now - e->last_request >= e->c.s3) {
        e->session = SESSION_DEFAULT;
        e->unlocked = 0;
        e->seed_valid = false;
        e->dl_active = false;
        e->dtc_off = e->comm_off = false;
    }
}

uf_time uf_ecu_wakeup(const uf_ecu *e)
{
    if (e->stopped)
        return UF_TIME_NONE;
    uf_time t = UF_TIME_NONE;
    const ecu_response *r = g_queue_peek_head((GQueue *)&e->responses);
    if (r)
        t = r->due;
    uf_time other[3] = {UF_TIME_NONE, UF_TIME_NONE, UF_TIME_NONE};
    if (e->resetting)
        other[0] = e->reset_until;
    if (e->busy_until != UF_TIME_NONE)
        other[1] = e->busy_until;
    if (e->session != SESSION_DEFAULT && !r && !e->receiving)
        other[2] = e->last_request + e->c.s3;
    for (int i = 0; i < 3; i++)
        if (other[i] != UF_TIME_NONE && (t == UF_TIME_NONE || other[i] < t))
            t = other[i];
    return t;
}

bool uf_ecu_fc_override(const uf_ecu *e, uint8_t *bs, uint8_t *stmin)
{
    for (unsigned i = 0; i < e->c.n_faults; i++)
        if (e->c.faults[i].kind == UF_FAULT_FC) {
            *bs = e->c.faults[i].bs;
            *stmin = e->c.faults[i].stmin;
            return true;
        }
    return false;
}

bool uf_ecu_stopped(const uf_ecu *e)
{
    return e->stopped;
}

/* ---- as a responder ---------------------------------------------------------------*/

static uf_ecu_action r_request(void *self, const uint8_t *q, size_t n, bool functional, uf_time t)
{
    return uf_ecu_request(self, q, n, functional, t);
}
static void r_started(void *self, uf_time t)
{
    uf_ecu_request_started(self, t);
}
static void r_aborted(void *self, uf_time t)
{
    uf_ecu_request_aborted(self, t);
}
static size_t r_response(void *self, uf_time t, uint8_t *out, size_t cap)
{
    return uf_ecu_response(self, t, out, cap);
}
static void r_tick(void *self, uf_time t)
{
    uf_ecu_tick(self, t);
}
static uf_time r_wakeup(const void *self)
{
    return uf_ecu_wakeup(self);
}
static bool r_fc(const void *self, uint8_t *bs, uint8_t *stmin)
{
    return uf_ecu_fc_override(self, bs, stmin);
}
static bool r_stopped(const void *self)
{
    return uf_ecu_stopped(self);
}
static uint8_t r_nack(const void *self)
{
    return uf_ecu_doip_nack_code(self);
}

uf_responder uf_ecu_responder(uf_ecu *e)
{
    static const uf_responder_ops ops = {r_request, r_started, r_aborted, r_response, r_tick,
                                         r_wakeup, r_fc, r_stopped, r_nack};
    return (uf_responder){&ops, e};
}

void uf_ecu_get_status(const uf_ecu *e, uf_ecu_status *out)
{
    *out = e->st;
    out->session = e->session;
    out->security_level = e->unlocked;
    out->app_valid = e->p.app_valid;
    out->resetting = e->resetting;
    out->dtc_off = e->dtc_off;
    out->comm_off = e->comm_off;
}

const uint8_t *uf_ecu_flash(const uf_ecu *e)
{
    return e->flash;
}

const uf_ecu_persistent *uf_ecu_persistent_state(const uf_ecu *e)
{
    return &e->p;
}

void uf_ecu_software_version(const uf_ecu *e, uint8_t out[8])
{
    uint64_t off;
    /* The application's header: bytes 8..15 of what was flashed at its
     * lowest address hold its version (docs/udsecu.md). */
    if (e->p.app_valid && ecu_flash_offset(e, e->p.app_start + 8, 8, &off))
        memcpy(out, e->flash + off, 8);
    else
        memcpy(out, e->c.boot_version, 8);
}
