/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A responder on a channel. The loop sleeps in the channel's receive until
 * the next of: a request, the responder's next timer (an answer falling
 * due, S3), the end, or 200 ms so that a stop request is seen.
 */
#include "uf_serve.h"

#include <glib.h>

#define STOP_CHECK (200 * UF_NS_PER_MS)
/* The longest answer taken from the responder: ISO-TP's 4095 bytes with
 * classic CAN, up to 4 GiB with CAN FD escapes, which no ECU answers. */
#define ANSWER_MAX 65536

bool uf_serve_channel(uf_channel *ch, uf_responder r, uf_time until,
                      volatile sig_atomic_t *stop, const uf_serve_hooks *hooks, uf_error *err)
{
    static const uf_serve_hooks none;
    const uf_serve_hooks *h = hooks ? hooks : &none;
    uint8_t *out = g_malloc(ANSWER_MAX);
    bool ok = true;
    while (!(stop && *stop) && !uf_responder_stopped(r)) {
        uf_time now = uf_channel_now(ch);
        if (until != UF_TIME_NONE && now >= until)
            break;
        uf_responder_tick(r, now);
        size_t n;
        while ((n = uf_responder_response(r, uf_channel_now(ch), out, ANSWER_MAX))) {
            if (h->answer)
                h->answer(h->ctx, out, n);
            uf_error serr;
            if (!uf_channel_send(ch, out, n, false, &serr) && h->warning)
                h->warning(h->ctx, serr.msg);
        }
        if (h->healthy && !h->healthy(h->ctx, err)) {
            ok = false;
            break;
        }
        uf_time deadline = uf_channel_now(ch) + STOP_CHECK;
        uf_time w = uf_responder_wakeup(r);
        if (w != UF_TIME_NONE && w < deadline)
            deadline = w;
        if (until != UF_TIME_NONE && until < deadline)
            deadline = until;
        uf_channel_msg m;
        int got = uf_channel_recv(ch, &m, deadline, err);
        if (got < 0) {
            ok = false;
            break;
        }
        if (got > 0) {
            if (h->request)
                h->request(h->ctx, &m);
            uf_responder_request(r, m.data, m.len, m.functional, m.time);
        }
    }
    g_free(out);
    return ok;
}
