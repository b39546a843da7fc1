/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The recorded ECU of udsreplay ecu over arbitrary requests from a live
 * tester. The recording is a bootloader's flash made here (sessions,
 * seed and key, a download of three blocks, an erase with two 0x78, a DID
 * read, a refusal then its retry).
 * Input: byte 0 flags (bit 0: silence for unseen requests; bit 1: speed
 * 4), then records [time step in ms][length][request bytes]. Every answer
 * due is drained before the next request.
 * Invariants: each answer answers the request asked (its SID + 0x40, or
 * 0x7F with its SID); an unseen request is reported with the NRC it got;
 * the bootloader's state stays one a bootloader can be in.
 */
#include "fuzz.h"
#include "uf_recorded_ecu.h"

#include <assert.h>
#include <string.h>

#define MS UF_NS_PER_MS

static void exchange(uf_recording *r, const char *q, const char *const *answers,
                     uf_time delay_ms)
{
    uf_recorded_exchange x = {0};
    x.request = g_malloc(64);
    for (const char *p = q; *p; p += 2)
        x.request[x.request_len++] = (uint8_t)g_ascii_strtoull((char[]){p[0], p[1], 0}, NULL, 16);
    x.answers = g_array_new(FALSE, TRUE, sizeof(uf_recorded_answer));
    for (; answers && *answers; answers++) {
        uf_recorded_answer a = {delay_ms * MS, g_malloc(64), 0};
        for (const char *p = *answers; *p; p += 2)
            a.data[a.len++] = (uint8_t)g_ascii_strtoull((char[]){p[0], p[1], 0}, NULL, 16);
        g_array_append_val(x.answers, a);
    }
    g_array_append_val(r->exchanges, x);
}

/* The recorded ECU's state when each request came is set by hand as the
 * collector would: the session and level the answers before it set. */
static uf_recording *recording(void)
{
    uf_recording *r = g_new0(uf_recording, 1);
    r->source = g_strdup("fuzz");
    r->session = 1;
    r->exchanges = g_array_new(FALSE, TRUE, sizeof(uf_recorded_exchange));
    exchange(r, "1003", (const char *const[]){"5003003201F4", NULL}, 5);
    exchange(r, "22F195", (const char *const[]){"62F19530312E30302E3030", NULL}, 5);
    exchange(r, "1002", (const char *const[]){"5002003201F4", NULL}, 30);
    exchange(r, "2711", (const char *const[]){"67111F2E3D4C", NULL}, 8);
    exchange(r, "27124512FEE9", (const char *const[]){"6712", NULL}, 15);
    exchange(r, "2EF184261121", (const char *const[]){"7F2E22", NULL}, 10);
    exchange(r, "2EF184261121", (const char *const[]){"6EF184", NULL}, 25);
    exchange(r, "3101FF00", (const char *const[]){"7F3178", "7F3178", "7101FF0000", NULL}, 500);
    exchange(r, "3400440001000000000300", (const char *const[]){"74200102", NULL}, 10);
    exchange(r, "3601AA", (const char *const[]){"7601", NULL}, 4);
    exchange(r, "3602BB", (const char *const[]){"7602", NULL}, 4);
    exchange(r, "3603CC", (const char *const[]){"7603", NULL}, 4);
    exchange(r, "37", (const char *const[]){"77", NULL}, 6);
    exchange(r, "1101", (const char *const[]){"5101", NULL}, 5);
    exchange(r, "3E80", NULL, 0);
    uint8_t states[][2] = {{1, 0}, {3, 0}, {3, 0}, {2, 0}, {2, 0}, {2, 0x11}, {2, 0x11},
                           {2, 0x11}, {2, 0x11}, {2, 0x11}, {2, 0x11}, {2, 0x11}, {2, 0x11},
                           {2, 0x11}, {1, 0}};
    for (guint i = 0; i < r->exchanges->len; i++) {
        uf_recorded_exchange *x = &g_array_index(r->exchanges, uf_recorded_exchange, i);
        x->session = states[i][0];
        x->security = states[i][1];
        /* "5003003201F4": the space keeps the line short; drop it. */
        for (guint k = 0; k < x->answers->len; k++) {
            uf_recorded_answer *a = &g_array_index(x->answers, uf_recorded_answer, k);
            (void)a;
        }
    }
    r->link.tester_id = 0x7E0;
    r->link.ecu_id = 0x7E8;
    r->fc_known = true;
    r->fc_bs = 16;
    r->fc_stmin = 1;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static uf_recording *rec;
    if (!rec)
        rec = recording();
    uf_recorded_ecu_config c;
    uf_recorded_ecu_config_defaults(&c);
    if (data[0] & 1)
        c.unseen_service_nrc = c.unseen_request_nrc = -1;
    if (data[0] & 2)
        c.speed = 4.0;
    uf_recorded_ecu *e = uf_recorded_ecu_new(rec, &c);
    uf_responder r = uf_recorded_ecu_responder(e);
    uf_time now = 0;
    size_t at = 1;
    guint events = 0;
    while (at + 2 <= size) {
        now += (uf_time)data[at] * MS;
        size_t n = data[at + 1];
        at += 2;
        if (n == 0 || n > size - at)
            break;
        uint8_t sid = data[at];
        uf_responder_request(r, data + at, n, false, now);
        at += n;
        /* Drain: every answer due, the wake-ups bounded. */
        uint8_t out[256];
        for (int steps = 0; steps < 64; steps++) {
            size_t k;
            while ((k = uf_responder_response(r, now, out, sizeof(out))) > 0)
                assert(out[0] == (uint8_t)(sid + 0x40) || (k >= 3 && out[0] == 0x7F &&
                                                           out[1] == sid));
            uf_time w = uf_responder_wakeup(r);
            if (w == UF_TIME_NONE)
                break;
            now = w > now ? w : now;
        }
        assert(uf_responder_wakeup(r) == UF_TIME_NONE);
        const GArray *ev = uf_recorded_ecu_events(e);
        for (; events < ev->len; events++) {
            const uf_recorded_event *x = &g_array_index(ev, uf_recorded_event, events);
            assert(x->request_len == n && x->request[0] == sid);
            char line[160];
            assert(uf_recorded_event_describe(x, line, sizeof(line))[0] == 'r');
        }
    }
    uf_recorded_ecu_stats st;
    uf_recorded_ecu_stats_get(e, &st);
    assert(st.exchanges_used <= st.exchanges);
    assert(st.security == 0 || st.session == 0x02);
    uf_recorded_ecu_free(e);
    return 0;
}
