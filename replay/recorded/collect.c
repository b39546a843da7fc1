/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ECU's side of a recorded session, from the analyzer's labelled
 * messages: every request of the session with the answers the ECU gave it
 * and their delays (the analyzer's pairing ties 0x78 chains to their
 * request), the ECU's state as its answers show it, and the flow control
 * it sent.
 */
#include "uf_recorded_ecu.h"

#include <string.h>

struct uf_recording_collector {
    uint32_t session;
    uf_recording *r;
    bool have_link;
    GHashTable *exchange_of_request;  /* request message index -> exchange index + 1 */
    uint8_t session_now, security_now;
};

uf_recording_collector *uf_recording_collector_new(uint32_t session)
{
    uf_recording_collector *c = g_new0(uf_recording_collector, 1);
    c->session = session;
    c->r = g_new0(uf_recording, 1);
    c->r->session = session;
    c->r->exchanges = g_array_new(FALSE, TRUE, sizeof(uf_recorded_exchange));
    c->exchange_of_request = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->session_now = 0x01; /* an ECU starts in the default session (ISO 14229-1:2020 10.2) */
    return c;
}

void uf_recording_collector_free(uf_recording_collector *c)
{
    if (!c)
        return;
    uf_recording_free(c->r);
    g_hash_table_destroy(c->exchange_of_request);
    g_free(c);
}

void uf_recording_free(uf_recording *r)
{
    if (!r)
        return;
    for (guint i = 0; r->exchanges && i < r->exchanges->len; i++) {
        uf_recorded_exchange *x = &g_array_index(r->exchanges, uf_recorded_exchange, i);
        for (guint k = 0; k < x->answers->len; k++)
            g_free(g_array_index(x->answers, uf_recorded_answer, k).data);
        g_array_free(x->answers, TRUE);
        g_free(x->request);
        g_free(x->step);
    }
    if (r->exchanges)
        g_array_free(r->exchanges, TRUE);
    g_free(r->source);
    g_free(r);
}

/* The STmin byte of a separation time (ISO 15765-2:2016 Table 20). */
static uint8_t stmin_byte(uint32_t us)
{
    if (us >= 1000)
        return (uint8_t)(us / 1000 > 127 ? 127 : us / 1000);
    if (us >= 100)
        return (uint8_t)(0xF0 + us / 100);
    return 0;
}

static void request(uf_recording_collector *c, const uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    uf_script_link_learn(&c->r->link, &c->have_link, m);
    if (tp->fc_count && !c->r->fc_known) {
        c->r->fc_known = true;
        c->r->fc_bs = tp->fc_bs;
        c->r->fc_stmin = stmin_byte(tp->fc_stmin_us);
    }
    if (tp->truncated || !tp->len)
        return; /* not kept whole: never matched */
    uf_recorded_exchange x = {
        .frame = tp->first_frame,
        .step = g_strdup(m->step),
        .request = g_memdup2(tp->data, tp->len),
        .request_len = tp->len,
        .functional = m->functional,
        .answers = g_array_new(FALSE, TRUE, sizeof(uf_recorded_answer)),
        .session = c->session_now,
        .security = c->security_now,
    };
    g_array_append_val(c->r->exchanges, x);
    gint64 *key = g_new(gint64, 1);
    *key = (gint64)m->index;
    g_hash_table_insert(c->exchange_of_request, key, GUINT_TO_POINTER(c->r->exchanges->len));
}

bool uf_recorded_follow_session(const uint8_t *p, size_t n, uint8_t *session,
                                uint8_t *security)
{
    if (n >= 2 && p[0] == 0x50) {
        *session = p[1];
        *security = 0;
    } else if (n >= 1 && p[0] == 0x51) {
        *session = 0x01;
        *security = 0;
    } else if (n >= 2 && p[0] == 0x67 && (p[1] & 0x7F) % 2 == 0) {
        *security = (uint8_t)((p[1] & 0x7F) - 1);
        return true;
    } else {
        return false;
    }
    return true;
}

static void response(uf_recording_collector *c, const uf_uds_message *m)
{
    if (!m->request || m->tp->truncated || !m->tp->len)
        return;
    gint64 key = (gint64)m->request->index;
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(c->exchange_of_request, &key));
    if (!at)
        return;
    uf_recorded_exchange *x = &g_array_index(c->r->exchanges, uf_recorded_exchange, at - 1);
    uf_time delay = x->answers->len ? m->since_pending : m->response_time;
    if (delay == UF_TIME_NONE)
        delay = uf_time_diff(m->tp->t_first, m->request->t_end);
    uf_recorded_answer a = {delay < 0 ? 0 : delay, g_memdup2(m->tp->data, m->tp->len),
                            m->tp->len};
    g_array_append_val(x->answers, a);
    if (m->d.kind == UF_UDS_POSITIVE)
        uf_recorded_follow_session(m->tp->data, m->tp->len, &c->session_now,
                                   &c->security_now);
}

static void on_message(void *ctx, const uf_uds_message *m)
{
    uf_recording_collector *c = ctx;
    if (m->session != c->session)
        return;
    uf_recording *r = c->r;
    if (!r->first_frame || m->tp->first_frame < r->first_frame)
        r->first_frame = m->tp->first_frame;
    if (m->tp->last_frame > r->last_frame)
        r->last_frame = m->tp->last_frame;
    if (!m->functional)
        r->bus = m->tester.bus;
    if (m->incomplete)
        return;
    if (m->d.kind == UF_UDS_REQUEST)
        request(c, m);
    else
        response(c, m);
}

void uf_recording_collector_sink(uf_recording_collector *c, uf_analyzer_sink *sink)
{
    memset(sink, 0, sizeof(*sink));
    sink->ctx = c;
    sink->message = on_message;
}

uf_recording *uf_recording_collector_finish(uf_recording_collector *c,
                                            const uf_sessions *sessions, const char *source,
                                            uf_error *err)
{
    uint32_t n = uf_sessions_count(sessions);
    if (c->session < 1 || c->session > n) {
        uf_error_set(err, "%s: no flash session %u (it has %u; see udsreplay list)", source,
                     c->session, n);
        return NULL;
    }
    if (!c->r->exchanges->len || !c->have_link) {
        uf_error_set(err, "%s: session %u holds no request to a physical address", source,
                     c->session);
        return NULL;
    }
    uf_recording *out = c->r;
    out->source = g_strdup(source);
    c->r = NULL;
    return out;
}
