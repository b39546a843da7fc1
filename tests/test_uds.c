/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UDS names, decode of the flashing services and request/response pairing:
 * functional requests with several answers, suppressPosRsp, 0x78 chains,
 * negative responses, responses without requests, requests without answers.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static uf_uds_decoded dec(const char *hex)
{
    static uint8_t buf[256];
    size_t n = th_hex(hex, buf, sizeof(buf));
    uf_uds_decoded d;
    uf_uds_decode(buf, n, &d);
    return d;
}

static const char *describe(const char *hex)
{
    static char out[512];
    uf_uds_decoded d = dec(hex);
    uf_uds_describe(&d, NULL, out, sizeof(out));
    return out;
}

Test(uds_names, services_and_nrcs)
{
    static const uint8_t sids[] = {0x10, 0x11, 0x14, 0x19, 0x22, 0x23, 0x24, 0x27, 0x28,
                                   0x29, 0x2A, 0x2C, 0x2E, 0x2F, 0x31, 0x34, 0x35, 0x36,
                                   0x37, 0x38, 0x3D, 0x3E, 0x83, 0x84, 0x85, 0x86, 0x87};
    for (size_t i = 0; i < sizeof(sids); i++)
        cr_assert_not_null(uf_uds_service_name(sids[i]), "0x%02X", sids[i]);
    cr_assert_str_eq(uf_uds_service_name(0x34), "RequestDownload");
    cr_assert_null(uf_uds_service_name(0xBA));
    cr_assert_str_eq(uf_uds_nrc_name(0x78), "requestCorrectlyReceivedResponsePending");
    cr_assert_str_eq(uf_uds_nrc_name(0x73), "wrongBlockSequenceCounter");
    cr_assert_str_eq(uf_uds_nrc_name(0x35), "invalidKey");
    cr_assert_str_eq(uf_uds_session_name(0x02), "programmingSession");
    cr_assert_str_eq(uf_uds_did_name(0xF190), "VIN");
    cr_assert_str_eq(uf_uds_routine_name(0xFF00), "eraseMemory");
    char b[16];
    cr_assert_str_eq(uf_uds_display_service(0xBA, b, sizeof(b)), "Service0xBA");
}

Test(uds_decode, session_control_timing)
{
    uf_uds_decoded d = dec("50 02 00 32 01 F4");
    cr_assert_eq(d.kind, UF_UDS_POSITIVE);
    cr_assert_eq(d.sid, 0x10);
    cr_assert_eq(d.subfunction, 2);
    cr_assert(d.has_timing);
    cr_assert_eq(d.p2_ms, 50);
    cr_assert_eq(d.p2star_ms, 5000);
    cr_assert_str_eq(describe("10 02"), "session=programmingSession (0x02)");
}

Test(uds_decode, reset_security_comm_dtc_tester_present)
{
    cr_assert_str_eq(describe("11 01"), "resetType=hardReset (0x01)");
    uf_uds_decoded s = dec("67 11 12 34 56 78");
    cr_assert(s.is_seed);
    cr_assert_eq(s.security_level, 9);
    cr_assert_eq(s.record_len, 4);
    cr_assert_str_eq(describe("27 12 AA BB CC DD"), "sendKey level=9 key=4 bytes");
    cr_assert_str_eq(describe("28 83 01"),
                     "controlType=disableRxAndTx (0x03) communicationType=0x01 suppressPosRsp");
    cr_assert(dec("3E 80").suppress);
    cr_assert_str_eq(describe("85 02"), "DTCSettingType=off (0x02)");
    cr_assert_str_eq(describe("14 FF FF FF"), "group=0xFFFFFF");
}

Test(uds_decode, data_identifiers)
{
    uf_uds_decoded r = dec("22 F1 90 F1 95");
    cr_assert_eq(r.did, 0xF190);
    cr_assert_eq(r.did_count, 2);
    cr_assert_str_eq(describe("62 F1 90 57 56 57"), "did=VIN (0xF190) data=3 bytes \"WVW\"");
    cr_assert_str_eq(describe("2E F1 84 01 02"),
                     "did=applicationSoftwareFingerprint (0xF184) data=2 bytes 0x0102");
    cr_assert_not_null(dec("22 F1").malformed);
}

Test(uds_decode, routine_control)
{
    uf_uds_decoded d = dec("31 01 FF 00 44 00 01 00 00 00 00 10 00");
    cr_assert(d.has_routine);
    cr_assert_eq(d.routine, 0xFF00);
    cr_assert_eq(d.record_len, 9);
    cr_assert_str_eq(describe("71 01 02 02 00"), "startRoutine routine=0x0202 status=0x00");
    cr_assert_not_null(dec("31 01 FF").malformed);
}

Test(uds_decode, download_transfer_exit)
{
    uf_uds_decoded d = dec("34 00 44 00 01 00 00 00 00 0B B8");
    cr_assert(d.has_memory);
    cr_assert_eq(d.address, 0x00010000);
    cr_assert_eq(d.size, 3000);
    cr_assert_str_eq(describe("34 00 44 00 01 00 00 00 00 0B B8"),
                     "addr=0x00010000 size=3000 dfi=0x00");
    cr_assert_str_eq(describe("34 11 44 00 01 00 00 00 00 0B B8"),
                     "addr=0x00010000 size=3000 dfi=0x11 compressed encrypted");
    uf_uds_decoded r = dec("74 20 01 02");
    cr_assert(r.has_max_block);
    cr_assert_eq(r.max_block_len, 258);
    uf_uds_decoded t = dec("36 05 00 01 02");
    cr_assert(t.has_block);
    cr_assert_eq(t.block_counter, 5);
    cr_assert_eq(t.record_len, 3);
    cr_assert_str_eq(describe("76 05"), "block=5");
    cr_assert_eq(dec("37").sid, 0x37);
    cr_assert_eq(dec("77").kind, UF_UDS_POSITIVE);
    cr_assert_not_null(dec("34 00 44 00 01").malformed);
    cr_assert_not_null(dec("34 00 00").malformed);
    cr_assert_not_null(dec("74 50 01").malformed);
}

Test(uds_decode, negative_responses)
{
    uf_uds_decoded d = dec("7F 31 78");
    cr_assert_eq(d.kind, UF_UDS_NEGATIVE);
    cr_assert_eq(d.sid, 0x31);
    cr_assert_eq(d.nrc, 0x78);
    cr_assert_str_eq(describe("7F 36 73"), "NRC=0x73 wrongBlockSequenceCounter");
    cr_assert_not_null(dec("7F 31").malformed);
    cr_assert_not_null(dec("").malformed);
}

Test(uds_decode, discovery_hooks)
{
    uint8_t req[] = {0x22, 0xF1, 0x90}, ok[] = {0x62, 0xF1, 0x90, 0x41}, other[] = {0x62, 0xF1, 0x95},
            neg[] = {0x7F, 0x22, 0x31}, sess[] = {0x10, 0x02}, sess_r[] = {0x50, 0x03};
    cr_assert(uf_uds_looks_like_request(req, 3));
    cr_assert_not(uf_uds_looks_like_request(ok, 4));
    cr_assert(uf_uds_answers(req, 3, ok, 4));
    cr_assert_not(uf_uds_answers(req, 3, other, 3));
    cr_assert(uf_uds_answers(req, 3, neg, 3));
    cr_assert_not(uf_uds_answers(sess, 2, sess_r, 2));
}

/* ---- pairing, through the ISO-TP layer ---------------------------------*/

typedef struct pair_fixture {
    uf_isotp *t;
    uf_uds *u;
    GArray *msgs;       /* uf_uds_message copies (tp pointer not kept) */
    GArray *unanswered; /* uf_uds_request_ref */
    uint64_t frame;
} pair_fixture;

typedef struct kept {
    uf_uds_decoded d;
    uint64_t index, request_index;
    uf_time response_time, since_pending;
    uint32_t pending_before;
    bool functional;
    char ecu[32];
} kept;

static pair_fixture px;

static void keep(void *ctx, const uf_uds_message *m)
{
    (void)ctx;
    kept k;
    memset(&k, 0, sizeof(k));
    k.d = m->d;
    k.index = m->index;
    k.request_index = m->request ? m->request->index : 0;
    k.response_time = m->response_time;
    k.since_pending = m->since_pending;
    k.pending_before = m->pending_before;
    k.functional = m->functional;
    if (m->ecu_known)
        uf_isotp_endpoint_name(&m->ecu, k.ecu, sizeof(k.ecu));
    g_array_append_val(px.msgs, k);
}

static void keep_unanswered(void *ctx, const uf_uds_request_ref *r)
{
    (void)ctx;
    g_array_append_val(px.unanswered, *r);
}

static void to_uds(void *ctx, const uf_isotp_message *m)
{
    (void)ctx;
    uf_uds_message_in(px.u, m);
}

static void pair_setup(void)
{
    uf_analyzer_config ac;
    uf_analyzer_config_defaults(&ac);
    uf_isotp_sink is = {.message = to_uds};
    px.t = uf_isotp_new(&ac.isotp, &is);
    uf_uds_sink us = {NULL, keep, keep_unanswered, NULL};
    px.u = uf_uds_new(px.t, NULL, &us);
    px.msgs = g_array_new(FALSE, FALSE, sizeof(kept));
    px.unanswered = g_array_new(FALSE, FALSE, sizeof(uf_uds_request_ref));
    px.frame = 0;
}

static void pair_teardown(void)
{
    uf_uds_free(px.u);
    uf_isotp_free(px.t);
    g_array_free(px.msgs, TRUE);
    g_array_free(px.unanswered, TRUE);
}

static void send(double ms, uint32_t id, const char *hex)
{
    uf_can_frame f = th_frame(id, hex);
    uf_isotp_frame(px.t, ++px.frame, (uf_time)(ms * 1e6), 0, &f);
}

static void finish(void)
{
    uf_isotp_finish(px.t);
    uf_uds_finish(px.u);
}

static const kept *msg(guint i)
{
    cr_assert_lt(i, px.msgs->len, "message %u of %u", i, px.msgs->len);
    return &g_array_index(px.msgs, kept, i);
}

TestSuite(pairing, .init = pair_setup, .fini = pair_teardown);

Test(pairing, physical_request_response_time)
{
    send(0, 0x7E0, "02 10 03");
    send(4.5, 0x7E8, "06 50 03 00 32 01 F4");
    finish();
    cr_assert_eq(msg(1)->request_index, 1);
    cr_assert_eq(msg(1)->response_time, 4500 * UF_NS_PER_US);
    cr_assert_eq(px.unanswered->len, 0);
}

Test(pairing, functional_request_answered_by_two_ecus)
{
    send(0, 0x7DF, "02 10 03");
    send(3, 0x7E8, "06 50 03 00 32 01 F4");
    send(5, 0x7E9, "06 50 03 00 32 01 F4");
    finish();
    cr_assert_eq(msg(1)->request_index, 1);
    cr_assert_eq(msg(2)->request_index, 1);
    cr_assert(msg(2)->functional);
    cr_assert_str_eq(msg(2)->ecu, "0x7E9");
    cr_assert_eq(px.unanswered->len, 0);
}

/* Each ECU answering a functional request runs its own 0x78 chain: the one
 * that answers at once is timed against P2, the other against its own 0x78. */
Test(pairing, functional_response_pending_per_ecu)
{
    send(0, 0x7DF, "04 31 01 FF 00");
    send(10, 0x7E8, "03 7F 31 78");
    send(20, 0x7E9, "05 71 01 FF 00 00");
    send(900, 0x7E8, "05 71 01 FF 00 00");
    finish();
    cr_assert_str_eq(msg(2)->ecu, "0x7E9");
    cr_assert_eq(msg(2)->pending_before, 0);
    cr_assert_eq(msg(2)->since_pending, UF_TIME_NONE);
    cr_assert_eq(msg(2)->response_time, 20 * UF_NS_PER_MS);
    cr_assert_str_eq(msg(3)->ecu, "0x7E8");
    cr_assert_eq(msg(3)->pending_before, 1);
    cr_assert_eq(msg(3)->since_pending, 890 * UF_NS_PER_MS);
}

Test(pairing, suppressed_positive_response_is_not_missing)
{
    send(0, 0x7E0, "02 3E 80");
    send(2000, 0x7E0, "02 3E 80");
    send(4000, 0x7DF, "02 85 82");
    finish();
    cr_assert_eq(px.unanswered->len, 0);
}

Test(pairing, response_pending_chain)
{
    send(0, 0x7E0, "04 31 01 FF 00");
    send(15, 0x7E8, "03 7F 31 78");
    send(1015, 0x7E8, "03 7F 31 78");
    send(2020, 0x7E8, "05 71 01 FF 00 00");
    finish();
    cr_assert_eq(msg(1)->d.nrc, 0x78);
    cr_assert_eq(msg(2)->pending_before, 1);
    cr_assert_eq(msg(3)->request_index, 1);
    cr_assert_eq(msg(3)->pending_before, 2);
    cr_assert_eq(msg(3)->response_time, 2020 * UF_NS_PER_MS);
    cr_assert_eq(msg(3)->since_pending, 1005 * UF_NS_PER_MS);
    cr_assert_eq(px.unanswered->len, 0);
}

Test(pairing, negative_final_response)
{
    send(0, 0x7E0, "06 27 12 01 02 03 04");
    send(10, 0x7E8, "03 7F 27 35");
    send(20, 0x7E8, "03 7F 27 35"); /* a second answer: no request waits any more */
    finish();
    cr_assert_eq(msg(1)->request_index, 1);
    cr_assert_eq(msg(2)->request_index, 0);
}

Test(pairing, response_without_request)
{
    send(0, 0x7E8, "02 51 01");
    finish();
    cr_assert_eq(msg(0)->request_index, 0);
}

Test(pairing, request_without_response)
{
    send(0, 0x7E0, "03 22 F1 90");
    send(100, 0x7E0, "03 22 F1 95");
    send(104, 0x7E8, "04 62 F1 95 01");
    send(200, 0x7E0, "02 11 01");
    finish();
    cr_assert_eq(px.unanswered->len, 2);
    cr_assert_eq(g_array_index(px.unanswered, uf_uds_request_ref, 0).index, 1);
    cr_assert_eq(g_array_index(px.unanswered, uf_uds_request_ref, 1).sid, 0x11);
}

Test(pairing, sub_function_echo_must_match)
{
    send(0, 0x7E0, "02 10 02");
    send(5, 0x7E8, "06 50 03 00 32 01 F4");
    finish();
    cr_assert_eq(msg(1)->request_index, 0);
    cr_assert_eq(px.unanswered->len, 1);
}
