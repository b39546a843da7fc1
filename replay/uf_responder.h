/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What answers a tester: the server side of UDS (ISO 14229-1) as the
 * transports host it. The simulated bus (uf_sim_ecu), a channel on a real
 * bus (uf_serve_channel) and the DoIP entity (uf_doip_server) drive any
 * responder the same way: a request in, answers out when they fall due.
 * Two implement it: udsecu's virtual bootloader (uf_ecu_responder) and the
 * ECU of a recording (uf_recorded_ecu_responder, udsreplay ecu).
 *
 * Pure like the ECU: the time is always given, never read.
 */
#ifndef UF_RESPONDER_H
#define UF_RESPONDER_H

#include "uf_common.h"

#include <stdbool.h>
#include <stddef.h>

/* What the transport must do with a request besides answering it. */
typedef enum uf_ecu_action {
    UF_ECU_ANSWER = 0,       /* take it (DoIP: ACK it) */
    UF_ECU_DOIP_NACK,        /* DoIP: NACK it with the code from doip_nack_code */
    UF_ECU_DOIP_CLOSE,       /* DoIP: close the connection */
} uf_ecu_action;

typedef struct uf_responder_ops {
    /* A request arrived (functional: to the functional address). */
    uf_ecu_action (*request)(void *self, const uint8_t *req, size_t len, bool functional,
                             uf_time now);
    /* A segmented request started arriving (ISO-TP first frame), or
     * broke off; either may be NULL. */
    void (*request_started)(void *self, uf_time now);
    void (*request_aborted)(void *self, uf_time now);
    /* An answer due by now, copied to out; its length, 0 if none. */
    size_t (*response)(void *self, uf_time now, uint8_t *out, size_t cap);
    /* Timers due by now. */
    void (*tick)(void *self, uf_time now);
    /* When it next needs the caller; UF_TIME_NONE: not before a request. */
    uf_time (*wakeup)(const void *self);
    /* The flow control its transport sends: false if the transport's own. */
    bool (*fc_override)(const void *self, uint8_t *bs, uint8_t *stmin);
    /* Gone silent for good (a power cut): the transport stops serving. */
    bool (*stopped)(const void *self);
    uint8_t (*doip_nack_code)(const void *self);
} uf_responder_ops;

typedef struct uf_responder {
    const uf_responder_ops *ops;
    void *self;
} uf_responder;

static inline uf_ecu_action uf_responder_request(uf_responder r, const uint8_t *req, size_t len,
                                                 bool functional, uf_time now)
{
    return r.ops->request(r.self, req, len, functional, now);
}
static inline void uf_responder_started(uf_responder r, uf_time now)
{
    if (r.ops->request_started)
        r.ops->request_started(r.self, now);
}
static inline void uf_responder_aborted(uf_responder r, uf_time now)
{
    if (r.ops->request_aborted)
        r.ops->request_aborted(r.self, now);
}
static inline size_t uf_responder_response(uf_responder r, uf_time now, uint8_t *out, size_t cap)
{
    return r.ops->response(r.self, now, out, cap);
}
static inline void uf_responder_tick(uf_responder r, uf_time now)
{
    r.ops->tick(r.self, now);
}
static inline uf_time uf_responder_wakeup(uf_responder r)
{
    return r.ops->wakeup(r.self);
}
static inline bool uf_responder_fc_override(uf_responder r, uint8_t *bs, uint8_t *stmin)
{
    return r.ops->fc_override && r.ops->fc_override(r.self, bs, stmin);
}
static inline bool uf_responder_stopped(uf_responder r)
{
    return r.ops->stopped && r.ops->stopped(r.self);
}
static inline uint8_t uf_responder_doip_nack_code(uf_responder r)
{
    return r.ops->doip_nack_code ? r.ops->doip_nack_code(r.self) : 0;
}

#endif /* UF_RESPONDER_H */
