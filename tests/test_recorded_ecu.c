/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ECU of a recording (replay/uf_recorded_ecu.h) on virtual time: the
 * recorded answers after the recorded delays, 0x78 chains, the state a
 * bootloader keeps and the refusals out of turn, unseen requests.
 */
#include "helpers.h"
#include "uf_recorded_ecu.h"

#include <criterion/criterion.h>
#include <string.h>

#define MS UF_NS_PER_MS

static uf_recording *record(const char *sample, uint32_t session)
{
    char *path = th_sample(sample);
    uf_error err;
    uf_reader *r = uf_reader_open(path, &err);
    cr_assert(r, "%s", err.msg);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    cfg.isotp.timing = uf_reader_has_time(r);
    uf_recording_collector *c = uf_recording_collector_new(session);
    uf_analyzer_sink sink;
    uf_recording_collector_sink(c, &sink);
    uf_analyzer *a = uf_analyzer_new(&cfg, &sink);
    uf_record rec;
    while (uf_reader_next(r, &rec, &err) == 1)
        uf_analyzer_record(a, &rec);
    uf_analyzer_finish(a);
    uf_recording *out = uf_recording_collector_finish(c, uf_analyzer_sessions(a), path, &err);
    cr_assert(out, "%s", err.msg);
    uf_analyzer_free(a);
    uf_reader_close(r);
    uf_recording_collector_free(c);
    g_free(path);
    return out;
}

/* A tester on virtual time against the ECU. */
typedef struct bench {
    uf_recording *rec;
    uf_recorded_ecu *e;
    uf_responder r;
    uf_time now;
    uint8_t answer[4096];
    size_t len;
    uf_time at;              /* when the last answer came */
} bench;

static void bench_open(bench *b, const char *sample, const uf_recorded_ecu_config *c)
{
    memset(b, 0, sizeof(*b));
    b->rec = record(sample, 1);
    b->e = uf_recorded_ecu_new(b->rec, c);
    b->r = uf_recorded_ecu_responder(b->e);
    b->now = 1000 * MS;
}

static void bench_close(bench *b)
{
    uf_recorded_ecu_free(b->e);
    uf_recording_free(b->rec);
}

/* The next answer within `wait` of now (false: none), time advancing to it. */
static bool next_answer(bench *b, uf_time wait)
{
    uf_time w = uf_responder_wakeup(b->r);
    if (w == UF_TIME_NONE || w > b->now + wait)
        return false;
    if (w > b->now)
        b->now = w;
    b->len = uf_responder_response(b->r, b->now, b->answer, sizeof(b->answer));
    b->at = b->now;
    return b->len > 0;
}

/* Sends a request (hex) and returns its final answer (after any 0x78)
 * in b->answer; false if none came within 10 s. */
static bool ask(bench *b, const char *hex)
{
    uint8_t q[64];
    size_t n = 0;
    for (const char *p = hex; *p && n < sizeof(q);) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        q[n++] = (uint8_t)strtoul((char[]){p[0], p[1], 0}, NULL, 16);
        p += 2;
    }
    b->now += 5 * MS;
    uf_responder_request(b->r, q, n, false, b->now);
    while (next_answer(b, 10000 * MS))
        if (!(b->len == 3 && b->answer[0] == 0x7F && b->answer[2] == 0x78))
            return true;
    return false;
}

static void assert_answer(const bench *b, const char *hex)
{
    char *got = th_to_hex(b->answer, b->len);
    cr_assert_str_eq(got, hex);
    g_free(got);
}

/* Through the programming session of the 11-bit sample, unlocked. */
static void unlock(bench *b)
{
    cr_assert(ask(b, "10 03"));
    cr_assert(ask(b, "10 02"));
    cr_assert(ask(b, "27 11"));
    cr_assert_eq(b->answer[0], 0x67);
    /* The sample's key: the seed xor 0x5A3CC3A5 (samples/gen). */
    uint32_t seed = (uint32_t)b->answer[2] << 24 | b->answer[3] << 16 | b->answer[4] << 8 |
                    b->answer[5];
    uint32_t key = seed ^ 0x5A3CC3A5u;
    char hex[32];
    g_snprintf(hex, sizeof(hex), "27 12 %02X %02X %02X %02X", key >> 24, (key >> 16) & 0xFF,
               (key >> 8) & 0xFF, key & 0xFF);
    cr_assert(ask(b, hex));
    assert_answer(b, "6712");
}

Test(recorded_ecu, answers_after_the_recorded_delay)
{
    bench b;
    bench_open(&b, "fault-p2.pcap", NULL);
    cr_assert(ask(&b, "10 03"));
    uf_time asked = b.now;
    cr_assert(ask(&b, "31 01 02 03"));
    assert_answer(&b, "7101020300");
    /* The recorded 80 ms, past the ECU's own P2 of 50 ms. */
    uf_time took = b.at - (asked + 5 * MS);
    cr_assert(took >= 79 * MS && took <= 81 * MS, "%" G_GINT64_FORMAT " ns", took);
    bench_close(&b);
}

Test(recorded_ecu, response_pending_chain_as_recorded)
{
    bench b;
    bench_open(&b, "flash-11bit.pcap", NULL);
    unlock(&b);
    cr_assert(ask(&b, "2E F1 84 26 11 21 54 53 54 30 30 31"));
    b.now += 5 * MS;
    uf_time asked = b.now;
    uint8_t erase[] = {0x31, 0x01, 0xFF, 0x00, 0x44, 0x00, 0x01, 0x00, 0x00,
                       0x00, 0x00, 0x10, 0x00};
    uf_responder_request(b.r, erase, sizeof(erase), false, b.now);
    unsigned pending = 0;
    while (next_answer(&b, 10000 * MS) && b.answer[0] == 0x7F) {
        cr_assert_eq(b.answer[2], 0x78);
        pending++;
    }
    cr_assert_eq(pending, 2, "the sample's erase sends two 0x78");
    assert_answer(&b, "7101ff0000");
    cr_assert_gt(b.at - asked, 1000 * MS, "the recorded erase takes over a second");
    bench_close(&b);
}

Test(recorded_ecu, a_refusal_then_the_retry_as_recorded)
{
    bench b;
    bench_open(&b, "fault-nrc.pcap", NULL);
    unlock(&b);
    cr_assert(ask(&b, "2E F1 84 26 11 21 54 53 54 30 30 31"));
    assert_answer(&b, "7f2e22");
    cr_assert(ask(&b, "2E F1 84 26 11 21 54 53 54 30 30 31"));
    assert_answer(&b, "6ef184");
    /* Used up: the last answer again, as an ECU would. */
    cr_assert(ask(&b, "2E F1 84 26 11 21 54 53 54 30 30 31"));
    assert_answer(&b, "6ef184");
    bench_close(&b);
}

Test(recorded_ecu, state_of_a_bootloader)
{
    bench b;
    bench_open(&b, "flash-11bit.pcap", NULL);
    /* Programming services in the default session. */
    cr_assert(ask(&b, "34 00 44 00 01 00 00 00 00 10 00"));
    assert_answer(&b, "7f347f");
    cr_assert(ask(&b, "36 01 00 00"));
    assert_answer(&b, "7f3624");
    cr_assert(ask(&b, "10 02"));
    /* Locked. */
    cr_assert(ask(&b, "34 00 44 00 01 00 00 00 00 10 00"));
    assert_answer(&b, "7f3433");
    /* A wrong key. */
    cr_assert(ask(&b, "27 11"));
    cr_assert(ask(&b, "27 12 00 00 00 00"));
    assert_answer(&b, "7f2735");
    bench_close(&b);

    bench_open(&b, "flash-11bit.pcap", NULL);
    unlock(&b);
    cr_assert(ask(&b, "34 00 44 00 01 00 00 00 00 10 00"));
    cr_assert_eq(b.answer[0], 0x74);
    uf_recorded_ecu_stats st;
    uf_recorded_ecu_stats_get(b.e, &st);
    cr_assert(st.downloading);
    cr_assert_eq(st.session, 0x02);
    cr_assert_eq(st.security, 0x11);
    /* Block 2 before block 1; then 1, 1 again (acknowledged), 2. */
    cr_assert(ask(&b, "36 02 AA"));
    assert_answer(&b, "7f3673");
    cr_assert(ask(&b, "36 01 AA"));
    assert_answer(&b, "7601");
    cr_assert(ask(&b, "36 01 AA"));
    assert_answer(&b, "7601");
    cr_assert(ask(&b, "36 02 BB"));
    assert_answer(&b, "7602");
    cr_assert(ask(&b, "37"));
    assert_answer(&b, "77");
    cr_assert(ask(&b, "36 03 BB"));
    assert_answer(&b, "7f3624");
    const GArray *ev = uf_recorded_ecu_events(b.e);
    cr_assert_eq(ev->len, 2, "the refused blocks are reported");
    cr_assert_eq(g_array_index(ev, uf_recorded_event, 0).kind, UF_RECORDED_REFUSED);
    bench_close(&b);
}

Test(recorded_ecu, unseen_requests_are_answered_and_reported)
{
    bench b;
    bench_open(&b, "flash-11bit.pcap", NULL);
    cr_assert(ask(&b, "2F F1 00 03 01"));
    assert_answer(&b, "7f2f11");
    cr_assert(ask(&b, "22 F1 99"));
    assert_answer(&b, "7f2231");
    const GArray *ev = uf_recorded_ecu_events(b.e);
    cr_assert_eq(ev->len, 2);
    char what[160];
    uf_recorded_event_describe(&g_array_index(ev, uf_recorded_event, 0), what, sizeof(what));
    cr_assert_str_eq(what, "request 2F F1 00 03 01 (5 bytes): never recorded, answered NRC 0x11");
    bench_close(&b);

    uf_recorded_ecu_config c;
    uf_recorded_ecu_config_defaults(&c);
    c.unseen_service_nrc = -1;
    c.unseen_request_nrc = 0x12;
    bench_open(&b, "flash-11bit.pcap", &c);
    cr_assert_not(ask(&b, "2F F1 00 03 01"), "silence");
    cr_assert(ask(&b, "22 F1 99"));
    assert_answer(&b, "7f2212");
    bench_close(&b);
}

Test(recorded_ecu, suppressed_answers_and_speed)
{
    uf_recorded_ecu_config c;
    uf_recorded_ecu_config_defaults(&c);
    c.speed = 4.0;
    bench b;
    bench_open(&b, "fault-p2.pcap", &c);
    /* 3E 80: no positive answer. */
    cr_assert_not(ask(&b, "3E 80"));
    cr_assert(ask(&b, "10 03"));
    uf_time asked = b.now + 5 * MS;
    cr_assert(ask(&b, "31 01 02 03"));
    uf_time took = b.at - asked;
    cr_assert(took >= 19 * MS && took <= 21 * MS, "80 ms at 4x: %" G_GINT64_FORMAT " ns", took);
    bench_close(&b);
}

Test(recorded_ecu, flow_control_and_link_of_the_recording)
{
    uf_recording *r = record("flash-29bit-fd.pcap", 1);
    cr_assert(r->fc_known);
    cr_assert_eq(r->fc_bs, 4);
    cr_assert_eq(r->fc_stmin, 0xF5);
    cr_assert(r->link.fd);
    cr_assert_eq(r->link.ecu_id, 0x18DAF110u | UF_ISOTP_EFF);
    uf_recorded_ecu *e = uf_recorded_ecu_new(r, NULL);
    uint8_t bs = 0, stmin = 0;
    cr_assert(uf_responder_fc_override(uf_recorded_ecu_responder(e), &bs, &stmin));
    cr_assert_eq(bs, 4);
    cr_assert_eq(stmin, 0xF5);
    uf_recorded_ecu_free(e);
    uf_recording_free(r);
}
