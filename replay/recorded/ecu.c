/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The recorded ECU as a responder: a request picks the recorded exchange
 * that answers it (uf_recorded_ecu.h says how), whose answers are queued
 * with their recorded delays; the bootloader's state follows the answers
 * given, and refusals out of turn are the ones ISO 14229-1:2020 names.
 */
#include "uf_recorded_ecu.h"

#include <stdio.h>
#include <string.h>

/* NRCs (ISO 14229-1:2020 Table A.1). */
enum {
    NRC_REQUEST_SEQUENCE_ERROR = 0x24,
    NRC_SECURITY_ACCESS_DENIED = 0x33,
    NRC_INVALID_KEY = 0x35,
    NRC_WRONG_BLOCK_SEQUENCE_COUNTER = 0x73,
    NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION = 0x7F,
};

#define EVENT_BYTES 16

typedef struct queued {
    uf_time due;
    uint8_t *data;
    size_t len;
} queued;

struct uf_recorded_ecu {
    const uf_recording *r;
    uf_recorded_ecu_config c;
    bool *used;                  /* per exchange */
    bool seen_sid[256];
    uf_time typical_delay;       /* the median first-answer delay: for answers of our own */
    /* The bootloader's state. */
    uint8_t session, security;
    bool downloading, any_block;
    uint8_t next_counter, last_counter;
    guint last_block;            /* exchange index + 1 of the last block answered */
    GQueue *queue;               /* queued, by due time */
    GArray *events;              /* uf_recorded_event */
    uf_recorded_ecu_stats st;
};

void uf_recorded_ecu_config_defaults(uf_recorded_ecu_config *c)
{
    c->unseen_service_nrc = 0x11; /* serviceNotSupported */
    c->unseen_request_nrc = 0x31; /* requestOutOfRange */
    c->speed = 1.0;
}

static const uf_recorded_exchange *exchange(const uf_recorded_ecu *e, guint i)
{
    return &g_array_index(e->r->exchanges, uf_recorded_exchange, i);
}

static gint by_delay(gconstpointer a, gconstpointer b)
{
    uf_time x = *(const uf_time *)a, y = *(const uf_time *)b;
    return x < y ? -1 : x > y;
}

uf_recorded_ecu *uf_recorded_ecu_new(const uf_recording *r, const uf_recorded_ecu_config *c)
{
    uf_recorded_ecu *e = g_new0(uf_recorded_ecu, 1);
    e->r = r;
    if (c)
        e->c = *c;
    else
        uf_recorded_ecu_config_defaults(&e->c);
    if (!(e->c.speed > 0))
        e->c.speed = 1.0;
    guint n = r->exchanges->len;
    e->used = g_new0(bool, n ? n : 1);
    GArray *delays = g_array_new(FALSE, FALSE, sizeof(uf_time));
    for (guint i = 0; i < n; i++) {
        const uf_recorded_exchange *x = exchange(e, i);
        e->seen_sid[x->request[0]] = true;
        if (x->answers->len)
            g_array_append_val(delays, g_array_index(x->answers, uf_recorded_answer, 0).delay);
    }
    g_array_sort(delays, by_delay);
    e->typical_delay = delays->len ? g_array_index(delays, uf_time, delays->len / 2)
                                   : 5 * UF_NS_PER_MS;
    g_array_free(delays, TRUE);
    e->session = 0x01;
    e->queue = g_queue_new();
    e->events = g_array_new(FALSE, TRUE, sizeof(uf_recorded_event));
    e->st.exchanges = n;
    return e;
}

static void queued_free(gpointer p)
{
    queued *q = p;
    g_free(q->data);
    g_free(q);
}

void uf_recorded_ecu_free(uf_recorded_ecu *e)
{
    if (!e)
        return;
    g_queue_free_full(e->queue, queued_free);
    for (guint i = 0; i < e->events->len; i++)
        g_free(g_array_index(e->events, uf_recorded_event, i).request);
    g_array_free(e->events, TRUE);
    g_free(e->used);
    g_free(e);
}

/* ---- what the ECU says --------------------------------------------------------------*/

static gint by_due(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    uf_time x = ((const queued *)a)->due, y = ((const queued *)b)->due;
    return x < y ? -1 : x > y;
}

static uf_time scaled(const uf_recorded_ecu *e, uf_time d)
{
    return e->c.speed == 1.0 ? d : (uf_time)((double)d / e->c.speed);
}

/* A final positive answer moves the bootloader's state. */
static void follow_state(uf_recorded_ecu *e, const uint8_t *p, size_t n)
{
    if (uf_recorded_follow_session(p, n, &e->session, &e->security)) {
        if (p[0] != 0x67)
            e->downloading = false; /* a session change or reset ends a download */
    } else if (n >= 1 && p[0] == 0x74) {
        e->downloading = true;
        e->any_block = false;
        e->next_counter = 0x01; /* ISO 14229-1:2020 15.4.2.1: the first block is 0x01 */
    } else if (n >= 2 && p[0] == 0x76) {
        e->any_block = true;
        e->last_counter = p[1];
        e->next_counter = (uint8_t)(p[1] + 1); /* wraps 0xFF -> 0x00 */
    } else if (n >= 1 && p[0] == 0x77) {
        e->downloading = false;
    }
}

static void queue_answer(uf_recorded_ecu *e, uf_time due, const uint8_t *p, size_t n)
{
    queued *q = g_new(queued, 1);
    q->due = due;
    q->data = g_memdup2(p, n);
    q->len = n;
    g_queue_insert_sorted(e->queue, q, by_due, NULL);
    if (n && p[0] != 0x7F)
        follow_state(e, p, n);
}

/* The recorded answers of x, after their delays; a positive answer the
 * request suppresses is not sent (ISO 14229-1:2020 8.2.2). */
static void queue_exchange(uf_recorded_ecu *e, const uf_recorded_exchange *x, bool suppress,
                           uf_time now, int counter)
{
    uf_time due = now;
    for (guint k = 0; k < x->answers->len; k++) {
        const uf_recorded_answer *a = &g_array_index(x->answers, uf_recorded_answer, k);
        due += scaled(e, a->delay);
        if (suppress && a->len && a->data[0] != 0x7F)
            continue;
        if (counter >= 0 && a->len >= 2 && a->data[0] == 0x76) {
            /* A block the recording numbered otherwise: its counter. */
            uint8_t *copy = g_memdup2(a->data, a->len);
            copy[1] = (uint8_t)counter;
            queue_answer(e, due, copy, a->len);
            g_free(copy);
        } else {
            queue_answer(e, due, a->data, a->len);
        }
    }
}

static void event(uf_recorded_ecu *e, uf_recorded_event_kind kind, const uint8_t *q, size_t n,
                  int nrc, uf_time now)
{
    uf_recorded_event ev = {kind, now, g_memdup2(q, n < EVENT_BYTES ? n : EVENT_BYTES), n, nrc};
    g_array_append_val(e->events, ev);
}

/* A negative answer of our own, after the recording's typical delay. */
static void refuse(uf_recorded_ecu *e, uf_recorded_event_kind kind, const uint8_t *q, size_t n,
                   int nrc, uf_time now)
{
    event(e, kind, q, n, nrc, now);
    if (nrc < 0)
        return;
    uint8_t neg[3] = {0x7F, q[0], (uint8_t)nrc};
    queue_answer(e, now + scaled(e, e->typical_delay), neg, sizeof(neg));
}

/* ---- which exchange answers -------------------------------------------------------------*/

/* The bytes that name what a request asks for: the service and its
 * sub-function, DID, routine or block counter. */
static size_t identifier_len(uint8_t sid)
{
    switch (sid) {
    case 0x22: case 0x2E: case 0x2F:
        return 3;
    case 0x31:
        return 4;
    case 0x10: case 0x11: case 0x19: case 0x27: case 0x28: case 0x29: case 0x36: case 0x3E:
    case 0x85: case 0x87:
        return 2;
    default:
        return 1;
    }
}

/* Services with a sub-function whose bit 7 suppresses the positive answer. */
static bool has_subfunction(uint8_t sid)
{
    return sid == 0x10 || sid == 0x11 || sid == 0x19 || sid == 0x27 || sid == 0x28 ||
           sid == 0x29 || sid == 0x31 || sid == 0x3E || sid == 0x85 || sid == 0x87;
}

/* Services a bootloader serves in its programming session only, or
 * unlocked only: the recording's state is enforced for them. */
static bool session_bound(uint8_t sid)
{
    return sid == 0x27 || sid == 0x2E || sid == 0x2F || sid == 0x31 || sid == 0x34 ||
           sid == 0x36 || sid == 0x37;
}

static bool same_kind(const uf_recorded_exchange *x, const uint8_t *q, size_t n)
{
    size_t id = identifier_len(q[0]);
    if (n < id || x->request_len < id)
        return n == x->request_len && memcmp(x->request, q, n) == 0;
    uint8_t a = x->request[id - 1], b = q[id - 1];
    if (id == 2 && has_subfunction(q[0])) { /* the suppress bit is no part of the name */
        a &= 0x7F;
        b &= 0x7F;
    }
    return memcmp(x->request, q, id - 1) == 0 && a == b;
}

static bool state_fits(const uf_recorded_ecu *e, const uf_recorded_exchange *x)
{
    if (!session_bound(x->request[0]))
        return true;
    return x->session == e->session && (!x->security || x->security == e->security);
}

typedef enum match { MATCH_NONE, MATCH_EXACT, MATCH_KIND, MATCH_AGAIN } match;

/* The exchange that answers q: index, or -1. */
static gint pick(const uf_recorded_ecu *e, const uint8_t *q, size_t n, match *how)
{
    guint count = e->r->exchanges->len;
    gint kind = -1, again = -1;
    for (guint i = 0; i < count; i++) {
        const uf_recorded_exchange *x = exchange(e, i);
        if (!same_kind(x, q, n) || !state_fits(e, x))
            continue;
        bool exact = x->request_len == n && memcmp(x->request, q, n) == 0;
        if (!e->used[i] && exact) {
            *how = MATCH_EXACT;
            return (gint)i;
        }
        if (!e->used[i] && kind < 0)
            kind = (gint)i;
        if (e->used[i] && (again < 0 || exact))
            again = (gint)i; /* the last one used, an exact one rather */
    }
    *how = kind >= 0 ? MATCH_KIND : again >= 0 ? MATCH_AGAIN : MATCH_NONE;
    return kind >= 0 ? kind : again;
}

/* Why a request the recording answered in another state is refused now;
 * 0: it never saw the request at all. */
static int refusal_for_state(const uf_recorded_ecu *e, const uint8_t *q, size_t n)
{
    int nrc = 0;
    for (guint i = 0; i < e->r->exchanges->len; i++) {
        const uf_recorded_exchange *x = exchange(e, i);
        if (!same_kind(x, q, n))
            continue;
        if (x->session != e->session)
            nrc = nrc ? nrc : NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION;
        else
            return NRC_SECURITY_ACCESS_DENIED;
    }
    return nrc;
}

static void transfer_data(uf_recorded_ecu *e, const uint8_t *q, size_t n, uf_time now)
{
    if (!e->downloading) {
        refuse(e, UF_RECORDED_REFUSED, q, n, NRC_REQUEST_SEQUENCE_ERROR, now);
        return;
    }
    uint8_t counter = n >= 2 ? q[1] : 0;
    if (e->any_block && counter == e->last_counter && e->last_block) {
        /* The last block again: acknowledged, not written twice. */
        queue_exchange(e, exchange(e, e->last_block - 1), false, now, counter);
        return;
    }
    if (n < 2 || counter != e->next_counter) {
        refuse(e, UF_RECORDED_REFUSED, q, n, NRC_WRONG_BLOCK_SEQUENCE_COUNTER, now);
        return;
    }
    match how;
    gint i = pick(e, q, n, &how);
    if (how != MATCH_EXACT && how != MATCH_KIND) {
        /* More blocks than the recording had (another image): answered
         * like the last recorded block, with their own counter. */
        i = e->last_block ? (gint)e->last_block - 1 : -1;
        for (guint k = 0; i < 0 && k < e->r->exchanges->len; k++)
            if (exchange(e, k)->request[0] == 0x36)
                i = (gint)k;
    }
    if (i < 0) {
        refuse(e, UF_RECORDED_UNSEEN, q, n, e->c.unseen_request_nrc, now);
        return;
    }
    e->used[i] = true;
    e->last_block = (guint)i + 1;
    queue_exchange(e, exchange(e, (guint)i), false, now, counter);
}

static void send_key(uf_recorded_ecu *e, const uf_recorded_exchange *x, const uint8_t *q,
                     size_t n, uf_time now)
{
    bool same = x->request_len == n && memcmp(x->request, q, n) == 0;
    bool accepted = x->answers->len &&
                    g_array_index(x->answers, uf_recorded_answer, x->answers->len - 1).data[0] ==
                        0x67;
    if (!same && accepted) {
        refuse(e, UF_RECORDED_WRONG_KEY, q, n, NRC_INVALID_KEY, now);
        return;
    }
    queue_exchange(e, x, false, now, -1);
}

static uf_ecu_action on_request(void *self, const uint8_t *q, size_t n, bool functional,
                                uf_time now)
{
    (void)functional;
    uf_recorded_ecu *e = self;
    if (!n)
        return UF_ECU_ANSWER;
    e->st.requests++;
    if (q[0] == 0x36) {
        transfer_data(e, q, n, now);
        return UF_ECU_ANSWER;
    }
    match how;
    gint i = pick(e, q, n, &how);
    if (i < 0) {
        int nrc = refusal_for_state(e, q, n);
        if (nrc)
            refuse(e, UF_RECORDED_REFUSED, q, n, nrc, now);
        else
            refuse(e, UF_RECORDED_UNSEEN, q, n,
                   e->seen_sid[q[0]] ? e->c.unseen_request_nrc : e->c.unseen_service_nrc, now);
        return UF_ECU_ANSWER;
    }
    const uf_recorded_exchange *x = exchange(e, (guint)i);
    e->used[i] = true;
    bool suppress = has_subfunction(q[0]) && n >= 2 && (q[1] & 0x80);
    if (q[0] == 0x27 && n >= 2 && (q[1] & 0x7F) % 2 == 0)
        send_key(e, x, q, n, now);
    else
        queue_exchange(e, x, suppress, now, -1);
    return UF_ECU_ANSWER;
}

static size_t on_response(void *self, uf_time now, uint8_t *out, size_t cap)
{
    uf_recorded_ecu *e = self;
    queued *q = g_queue_peek_head(e->queue);
    if (!q || q->due > now)
        return 0;
    g_queue_pop_head(e->queue);
    size_t n = q->len < cap ? q->len : cap;
    memcpy(out, q->data, n);
    queued_free(q);
    e->st.answered++;
    return n;
}

static void on_tick(void *self, uf_time now)
{
    (void)self;
    (void)now; /* nothing runs out: the recording's own silences are its timers */
}

static uf_time on_wakeup(const void *self)
{
    const uf_recorded_ecu *e = self;
    const queued *q = g_queue_peek_head(e->queue);
    return q ? q->due : UF_TIME_NONE;
}

static bool on_fc(const void *self, uint8_t *bs, uint8_t *stmin)
{
    const uf_recorded_ecu *e = self;
    if (!e->r->fc_known)
        return false;
    *bs = e->r->fc_bs;
    *stmin = e->r->fc_stmin;
    return true;
}

uf_responder uf_recorded_ecu_responder(uf_recorded_ecu *e)
{
    static const uf_responder_ops ops = {
        .request = on_request, .response = on_response, .tick = on_tick,
        .wakeup = on_wakeup, .fc_override = on_fc,
    };
    return (uf_responder){&ops, e};
}

void uf_recorded_ecu_stats_get(const uf_recorded_ecu *e, uf_recorded_ecu_stats *out)
{
    *out = e->st;
    guint used = 0;
    for (guint i = 0; i < e->r->exchanges->len; i++)
        used += e->used[i];
    out->exchanges_used = used;
    out->session = e->session;
    out->security = e->security;
    out->downloading = e->downloading;
}

const GArray *uf_recorded_ecu_events(const uf_recorded_ecu *e)
{
    return e->events;
}

const char *uf_recorded_event_describe(const uf_recorded_event *ev, char *buf, size_t size)
{
    GString *s = g_string_new("request");
    size_t shown = ev->request_len < EVENT_BYTES ? ev->request_len : EVENT_BYTES;
    for (size_t i = 0; i < shown; i++)
        g_string_append_printf(s, " %02X", ev->request[i]);
    if (shown < ev->request_len)
        g_string_append(s, " ..");
    g_string_append_printf(s, " (%zu bytes): ", ev->request_len);
    g_string_append(s, ev->kind == UF_RECORDED_UNSEEN      ? "never recorded"
                       : ev->kind == UF_RECORDED_WRONG_KEY ? "not the recorded key"
                                                           : "recorded in another state");
    if (ev->nrc >= 0)
        g_string_append_printf(s, ", answered NRC 0x%02X", ev->nrc);
    else
        g_string_append(s, ", not answered");
    g_strlcpy(buf, s->str, size);
    g_string_free(s, TRUE);
    return buf;
}
