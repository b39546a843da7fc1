/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A responder (uf_responder.h) served on a channel: requests come in from
 * the bus, answers go out when they fall due. How udsecu and udsreplay ecu
 * stand on SocketCAN, raw or through the kernel's ISO-TP; DoIP has its own
 * entity (uf_doip_server.h), the simulated bus its node (uf_sim_ecu.h).
 */
#ifndef UF_SERVE_H
#define UF_SERVE_H

#include "uf_responder.h"
#include "uf_transport.h"

#include <signal.h>

/* What the program around it sees; every member may be NULL. */
typedef struct uf_serve_hooks {
    void *ctx;
    void (*request)(void *ctx, const uf_channel_msg *m);
    void (*answer)(void *ctx, const uint8_t *p, size_t n);
    /* An answer could not be sent (the tester may be gone): not fatal. */
    void (*warning)(void *ctx, const char *msg);
    /* Checked after every answer: false with err ends the serving (a
     * flash file that cannot be written). */
    bool (*healthy)(void *ctx, uf_error *err);
} uf_serve_hooks;

/* Serves until *stop is set (a signal handler; checked every 200 ms), the
 * responder stops, or `until` on the channel's clock (UF_TIME_NONE: no
 * end). False with err when the channel or `healthy` fails. */
bool uf_serve_channel(uf_channel *ch, uf_responder r, uf_time until,
                      volatile sig_atomic_t *stop, const uf_serve_hooks *hooks, uf_error *err);

#endif /* UF_SERVE_H */
