/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP: the generic header checks, payload decoding and names; framing a
 * byte stream (messages across and within segments, resynchronisation after
 * a broken header or a gap); and whole flashes over TCP made by the
 * generator, where every doip.* rule fires on its fault and stays quiet on
 * its near miss, functional requests reach several ECUs, one tester address
 * flashes two ECUs at once, and P2 is measured between diagnostic messages.
 */
#include "helpers.h"
#include "uf_doip.h"
#include "uf_profile.h"

#include <criterion/criterion.h>
#include <string.h>

#define T0 (INT64_C(1795255200) * UF_NS_PER_S)

/* ---- header and payloads ---------------------------------------------------*/

static void header(uint8_t h[8], uint8_t version, uint16_t type, uint32_t len)
{
    h[0] = version;
    h[1] = (uint8_t)(version ^ 0xFF);
    uf_store_be16(h + 2, type);
    uf_store_be32(h + 4, len);
}

Test(doip_header, sound_and_unsound_headers)
{
    uint8_t h[8];
    const struct {
        uint8_t version;
        uint16_t type;
        uint32_t len;
        const char *why; /* NULL: sound */
    } cases[] = {
        {0x02, UF_DOIP_DIAGNOSTIC_MESSAGE, 6, NULL},
        {0x03, UF_DOIP_ROUTING_ACTIVATION_REQUEST, 7, NULL},
        {0x03, UF_DOIP_ROUTING_ACTIVATION_REQUEST, 11, NULL},
        {0x01, UF_DOIP_ROUTING_ACTIVATION_REQUEST, 8, NULL}, /* 2010: 2-byte type */
        {0x03, UF_DOIP_ROUTING_ACTIVATION_REQUEST, 8, "wrong for its payload type"},
        {0xFF, UF_DOIP_VEHICLE_ID_REQUEST, 0, NULL},
        {0xFF, UF_DOIP_ROUTING_ACTIVATION_REQUEST, 7, "unknown protocol version"},
        {0x05, UF_DOIP_DIAGNOSTIC_MESSAGE, 6, "unknown protocol version"},
        {0x03, 0x1234, 0, "reserved"},
        {0x03, UF_DOIP_ALIVE_CHECK_REQUEST, 1, "wrong for its payload type"},
        {0x03, UF_DOIP_DIAGNOSTIC_MESSAGE, 4, "wrong for its payload type"},
        {0x03, UF_DOIP_VEHICLE_ANNOUNCEMENT, 33, NULL},
        {0x03, UF_DOIP_ENTITY_STATUS_RESPONSE, 7, NULL},
        {0x03, UF_DOIP_DIAGNOSTIC_MESSAGE, 70000000, "beyond"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        header(h, cases[i].version, cases[i].type, cases[i].len);
        const char *why = uf_doip_check_header(h, 64u * 1024 * 1024);
        if (!cases[i].why)
            cr_assert_null(why, "case %zu: %s", i, why);
        else
            cr_assert(why && strstr(why, cases[i].why), "case %zu: %s", i, why ? why : "sound");
    }
    header(h, 0x03, UF_DOIP_DIAGNOSTIC_MESSAGE, 6);
    h[1] = 0xFD;
    cr_assert(strstr(uf_doip_check_header(h, UINT32_MAX), "inverse"));
}

Test(doip_header, payloads_decode_and_read)
{
    uint8_t m[8 + 13];
    header(m, 0x03, UF_DOIP_ROUTING_ACTIVATION_RESPONSE, 9);
    const uint8_t rar[9] = {0x0E, 0x80, 0x10, 0x00, 0x10, 0, 0, 0, 0};
    memcpy(m + 8, rar, sizeof(rar));
    uf_doip_decoded d;
    uf_doip_decode(m, 9, &d);
    cr_assert_null(d.malformed);
    cr_assert_eq(d.sa, 0x0E80);
    cr_assert_eq(d.ta, 0x1000);
    cr_assert_eq(d.code, 0x10);
    char text[256];
    uf_doip_describe(&d, text, sizeof(text));
    cr_assert_str_eq(text, "RoutingActivationResponse tester=0x0E80 entity=0x1000 code=0x10 "
                           "(successfullyActivated)");

    header(m, 0x02, UF_DOIP_DIAGNOSTIC_NACK, 5);
    const uint8_t nack[5] = {0x00, 0x10, 0x0E, 0x80, 0x03};
    memcpy(m + 8, nack, sizeof(nack));
    uf_doip_decode(m, 5, &d);
    uf_doip_describe(&d, text, sizeof(text));
    cr_assert_str_eq(text, "DiagnosticMessageNACK 0x0010 -> 0x0E80 code=0x03 (unknownTargetAddress)");

    header(m, 0x02, UF_DOIP_DIAGNOSTIC_MESSAGE, 7);
    const uint8_t diag[7] = {0x0E, 0x80, 0xE4, 0x00, 0x3E, 0x80, 0x00};
    memcpy(m + 8, diag, sizeof(diag));
    uf_doip_decode(m, 7, &d);
    cr_assert_eq(d.user_len, 3);
    cr_assert_arr_eq(d.user_data, "\x3E\x80\x00", 3);
    cr_assert(uf_doip_is_functional(d.ta));
    cr_assert(!uf_doip_is_functional(0x0010));

    /* A VIN with bytes that are not text is shown safely. */
    uint8_t ann[8 + 32];
    header(ann, 0x03, UF_DOIP_VEHICLE_ANNOUNCEMENT, 32);
    memset(ann + 8, 'A', 32);
    ann[8 + 3] = 0x1B; /* an escape: never to a terminal */
    uf_doip_decode(ann, 32, &d);
    uf_doip_describe(&d, text, sizeof(text));
    cr_assert(strstr(text, "vin=AAA.AAAAAAAAAAAAA"), "%s", text);
    cr_assert_null(strchr(text, 0x1B));

    cr_assert_str_eq(uf_doip_type_name(UF_DOIP_ALIVE_CHECK_REQUEST), "AliveCheckRequest");
    cr_assert_null(uf_doip_type_name(0x9999));
    cr_assert_str_eq(uf_doip_routing_code_name(0x07), "deniedTLSRequired");
    cr_assert_str_eq(uf_doip_generic_nack_name(0x04), "invalidPayloadLength");
}

/* ---- framing -------------------------------------------------------------------*/

typedef struct framed {
    GArray *types;   /* uint16_t of each message */
    GArray *lengths; /* uint32_t held */
    unsigned bad, resynced;
    uint64_t skipped;
    uint64_t first_frame, last_frame;
    uint32_t segments;
    uint64_t offset; /* the last message's, in the stream */
} framed;

static void fr_message(void *ctx, const uf_doip_frame *m)
{
    framed *f = ctx;
    uint16_t type = uf_load_be16(m->data + 2);
    g_array_append_val(f->types, type);
    g_array_append_val(f->lengths, m->held);
    f->first_frame = m->first_frame;
    f->last_frame = m->last_frame;
    f->segments = m->segments;
    f->offset = m->offset;
}

static void fr_bad(void *ctx, const uint8_t h[8], const char *why, uint64_t offset, uint64_t frame,
                   uf_time t)
{
    (void)h, (void)why, (void)offset, (void)frame, (void)t;
    ((framed *)ctx)->bad++;
}

static void fr_resynced(void *ctx, uint64_t skipped, uint64_t offset, uint64_t frame, uf_time t)
{
    (void)offset, (void)frame, (void)t;
    framed *f = ctx;
    f->resynced++;
    f->skipped += skipped;
}

static size_t put(uint8_t *out, uint16_t type, const char *payload_hex)
{
    uint8_t payload[256];
    size_t n = th_hex(payload_hex, payload, sizeof(payload));
    header(out, 0x03, type, (uint32_t)n);
    memcpy(out + 8, payload, n);
    return 8 + n;
}

Test(doip_framer, messages_across_and_within_segments)
{
    framed f = {g_array_new(FALSE, FALSE, 2), g_array_new(FALSE, FALSE, 4), 0, 0, 0, 0, 0, 0, 0};
    uf_doip_framer_sink sink = {&f, fr_message, fr_bad, fr_resynced};
    uf_doip_framer fr;
    uf_doip_framer_init(&fr, 1024);
    uint8_t stream[256];
    size_t n = put(stream, UF_DOIP_ALIVE_CHECK_REQUEST, "");
    n += put(stream + n, UF_DOIP_DIAGNOSTIC_MESSAGE, "0E80 0010 22F190");
    n += put(stream + n, UF_DOIP_DIAGNOSTIC_ACK, "0010 0E80 00");
    /* The first two in one segment with the first byte of the third... */
    uf_doip_framer_data(&fr, stream, 8 + 15 + 1, 1, T0, &sink);
    cr_assert_eq(f.types->len, 2);
    /* ... the rest a byte a segment. */
    for (size_t i = 8 + 15 + 1; i < n; i++)
        uf_doip_framer_data(&fr, stream + i, 1, 100 + i, T0, &sink);
    cr_assert_eq(f.types->len, 3);
    cr_assert_eq(g_array_index(f.types, uint16_t, 2), UF_DOIP_DIAGNOSTIC_ACK);
    cr_assert_eq(f.first_frame, 1, "the message starts where its first byte came");
    cr_assert_eq(f.offset, 8 + 15, "and at its first byte in the stream");
    cr_assert_eq(f.segments, 13);
    cr_assert_eq(f.bad, 0);
    cr_assert_eq(uf_doip_framer_pending(&fr), 0);
    uf_doip_framer_free(&fr);
    g_array_free(f.types, TRUE);
    g_array_free(f.lengths, TRUE);
}

Test(doip_framer, resynchronises_after_a_bad_header_and_a_gap)
{
    framed f = {g_array_new(FALSE, FALSE, 2), g_array_new(FALSE, FALSE, 4), 0, 0, 0, 0, 0, 0, 0};
    uf_doip_framer_sink sink = {&f, fr_message, fr_bad, fr_resynced};
    uf_doip_framer fr;
    uf_doip_framer_init(&fr, 1024);
    uint8_t stream[256];
    const uint8_t junk[5] = {0x03, 0xFD, 0x12, 0x34, 0x00};
    memcpy(stream, junk, sizeof(junk));
    size_t n = sizeof(junk);
    n += put(stream + n, UF_DOIP_DIAGNOSTIC_MESSAGE, "0E80 0010 3E00");
    uf_doip_framer_data(&fr, stream, (uint32_t)n, 1, T0, &sink);
    cr_assert_eq(f.bad, 1);
    cr_assert_eq(f.resynced, 1);
    cr_assert_eq(f.skipped, 5);
    cr_assert_eq(f.types->len, 1);
    cr_assert_eq(f.offset, 5, "the sound header after 5 bytes of junk");
    /* Half a message, then bytes lost: the half is gone, the next one read. */
    n = put(stream, UF_DOIP_DIAGNOSTIC_MESSAGE, "0E80 0010 2EF184 01020304");
    uf_doip_framer_data(&fr, stream, 10, 2, T0, &sink);
    cr_assert_eq(uf_doip_framer_gap(&fr, 20), 10);
    n = put(stream, UF_DOIP_DIAGNOSTIC_ACK, "0010 0E80 00");
    uf_doip_framer_data(&fr, stream, (uint32_t)n, 3, T0, &sink);
    cr_assert_eq(f.types->len, 2);
    cr_assert_eq(g_array_index(f.types, uint16_t, 1), UF_DOIP_DIAGNOSTIC_ACK);
    cr_assert_eq(f.bad, 1, "a gap is not a bad header");
    uf_doip_framer_free(&fr);
    g_array_free(f.types, TRUE);
    g_array_free(f.lengths, TRUE);
}

Test(doip_framer, long_messages_are_stored_up_to_the_maximum)
{
    framed f = {g_array_new(FALSE, FALSE, 2), g_array_new(FALSE, FALSE, 4), 0, 0, 0, 0, 0, 0, 0};
    uf_doip_framer_sink sink = {&f, fr_message, fr_bad, fr_resynced};
    uf_doip_framer fr;
    uf_doip_framer_init(&fr, 16);
    uint8_t msg[8 + 100];
    header(msg, 0x03, UF_DOIP_DIAGNOSTIC_MESSAGE, 100);
    memset(msg + 8, 0x36, 100);
    uf_doip_framer_data(&fr, msg, sizeof(msg), 1, T0, &sink);
    cr_assert_eq(f.types->len, 1);
    cr_assert_eq(g_array_index(f.lengths, uint32_t, 0), 16);
    uf_doip_framer_free(&fr);
    g_array_free(f.types, TRUE);
    g_array_free(f.lengths, TRUE);
}

/* ---- whole flashes over DoIP ------------------------------------------------------*/

static uf_profile *profile;

static void setup(void)
{
    uf_error err;
    profile = uf_profile_open(UF_PROFILE_DEFAULT, &err);
    cr_assert_not_null(profile, "%s", err.msg);
}

static void teardown(void)
{
    uf_profile_free(profile);
}

TestSuite(doip, .init = setup, .fini = teardown);

static const sg_flash flash = {.image_size = 16384, .address = 0x00080000, .max_block = 0x1002,
                               .seed = 0xD01D01, .erase_pending = 2, .functional_pre = true};

static void analyze(th_analysis *a, sg_trace *t)
{
    sg_trace_finish(t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, profile);
    th_analysis_init(a);
    th_analyze_trace(a, t, &cfg);
}

static void doip_flash(th_analysis *a, uint32_t faults, bool v6)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d = sg_doip_gateway(sg_trace_eth_bus(&t, "eth0"), v6);
    d.faults = faults;
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = d.bus;
    l.rng = 4;
    l.doip = &d;
    sg_flash_session(&t, &l, &flash, T0);
    analyze(a, &t);
    sg_trace_free(&t);
}

Test(doip, a_clean_flash_raises_nothing)
{
    const bool v6[] = {false, true};
    for (size_t k = 0; k < 2; k++) {
        th_analysis a;
        doip_flash(&a, 0, v6[k]);
        cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
        cr_assert_gt(a.msgs->len, 40);
        unsigned requests = 0;
        for (guint i = 0; i < a.msgs->len; i++) {
            const th_uds_msg *m = g_ptr_array_index(a.msgs, i);
            cr_assert(m->doip);
            cr_assert_eq(m->session, 1, "message %u", i);
            if (m->kind == UF_UDS_REQUEST) {
                cr_assert(m->acked, "request %u not acknowledged", i);
                cr_assert_lt(m->ack_latency, UF_NS_PER_MS);
                requests++;
            } else {
                cr_assert_str_eq(m->ecu, "0x0010");
                cr_assert_str_eq(m->tester, "0x0E80");
            }
        }
        cr_assert_gt(requests, 20);
        /* Discovery, routing and alive check came through as DoIP messages. */
        bool announced = false, routed = false, alive = false;
        for (guint i = 0; i < a.doip->len; i++) {
            const th_doip_pdu *p = &g_array_index(a.doip, th_doip_pdu, i);
            announced |= p->type == UF_DOIP_VEHICLE_ANNOUNCEMENT && p->udp;
            routed |= p->type == UF_DOIP_ROUTING_ACTIVATION_RESPONSE && p->code == 0x10;
            alive |= p->type == UF_DOIP_ALIVE_CHECK_RESPONSE;
        }
        cr_assert(announced && routed && alive);
        th_analysis_free(&a);
    }
}

/* P2 runs from the end of the request to the start of the response, both
 * diagnostic messages; the entity's ACK in between does not count. */
Test(doip, response_time_is_between_diagnostic_messages)
{
    th_analysis a;
    doip_flash(&a, 0, false);
    unsigned checked = 0;
    for (guint i = 0; i < a.msgs->len; i++) {
        const th_uds_msg *m = g_ptr_array_index(a.msgs, i);
        if (m->kind == UF_UDS_REQUEST || !m->request_index || m->since_pending != UF_TIME_NONE)
            continue;
        const th_uds_msg *req = NULL;
        for (guint k = 0; k < a.msgs->len && !req; k++) {
            const th_uds_msg *c = g_ptr_array_index(a.msgs, k);
            if (c->index == m->request_index)
                req = c;
        }
        cr_assert_not_null(req);
        cr_assert_eq(m->response_time, m->t_first - req->t_last);
        cr_assert_gt(m->response_time, req->ack_latency, "the ACK comes first");
        checked++;
    }
    cr_assert_gt(checked, 15);
    th_analysis_free(&a);
}

typedef struct doip_case {
    uint32_t fault;
    const char *rule; /* fires; NULL: nothing may fire */
    const char *text;
} doip_case;

Test(doip, each_fault_fires_its_rule)
{
    const doip_case fires[] = {
        {SG_DOIP_NACK, "doip.nack", "NACK 0x03 unknownTargetAddress"},
        {SG_DOIP_ROUTING_DENIED, "doip.routing", "code 0x00 deniedUnknownSourceAddress"},
        {SG_DOIP_LATE_ACK, "doip.ack_timeout", "ACK 80.000 ms after the diagnostic message > "
                                               "A_DoIP_Diagnostic_Message 50 ms"},
        {SG_DOIP_MALFORMED, "doip.malformed", "the inverse protocol version does not match"},
        {SG_DOIP_GAP, "doip.tcp_gap", "1460 bytes missing from the capture"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(fires); i++) {
        th_analysis a;
        doip_flash(&a, fires[i].fault, false);
        const uf_finding *f = th_analysis_first(&a, fires[i].rule);
        cr_assert_not_null(f, "%s did not fire:\n%s", fires[i].rule, th_analysis_text(&a));
        cr_assert(strstr(f->message, fires[i].text), "%s: %s", fires[i].rule, f->message);
        th_analysis_free(&a);
    }
}

Test(doip, near_misses_stay_quiet)
{
    /* TCP's everyday roughness and an ACK within the limit. */
    const uint32_t quiet[] = {SG_DOIP_NEAR_ACK, SG_DOIP_RETRANSMIT, SG_DOIP_REORDER,
                              SG_DOIP_COALESCE,
                              SG_DOIP_RETRANSMIT | SG_DOIP_REORDER | SG_DOIP_COALESCE};
    for (size_t i = 0; i < UF_ARRAY_LEN(quiet); i++) {
        for (int v6 = 0; v6 < 2; v6++) {
            th_analysis a;
            doip_flash(&a, quiet[i], v6);
            cr_assert_eq(a.findings->len, 0, "faults 0x%x: %s", quiet[i], th_analysis_text(&a));
            th_analysis_free(&a);
        }
    }
}

/* The NACKed message never reached the ECU: no session starts with it and
 * no response is owed. */
Test(doip, a_refused_message_is_owed_nothing)
{
    th_analysis a;
    doip_flash(&a, SG_DOIP_NACK, false);
    cr_assert_null(th_analysis_first(&a, "uds.no_response"), "%s", th_analysis_text(&a));
    cr_assert_null(th_analysis_first(&a, "flash.sequence.missing"), "%s", th_analysis_text(&a));
    const th_uds_msg *refused = NULL;
    for (guint i = 0; i < a.msgs->len && !refused; i++) {
        const th_uds_msg *m = g_ptr_array_index(a.msgs, i);
        if (m->nacked)
            refused = m;
    }
    cr_assert_not_null(refused);
    cr_assert_eq(refused->nack_code, 0x03);
    cr_assert_str_eq(refused->ecu, "0x1FFF");
    th_analysis_free(&a);
}

/* The tester's links to ECUs 0x0010 and 0x0011 of one gateway on eth0,
 * each on a connection of its own (the second from port 50200). */
static void two_ecus(sg_trace *t, sg_doip *d1, sg_doip *d2, sg_link *l1, sg_link *l2)
{
    uint32_t bus = sg_trace_eth_bus(t, "eth0");
    *d1 = sg_doip_gateway(bus, false);
    *d2 = sg_doip_gateway(bus, false);
    d2->ecu_la = 0x0011;
    d2->first_port = 50200;
    d2->discovery = false;
    memset(l1, 0, sizeof(*l1));
    memset(l2, 0, sizeof(*l2));
    l1->bus = l2->bus = bus;
    l1->rng = 1;
    l2->rng = 2;
    l1->doip = d1;
    l2->doip = d2;
}

/* One tester address flashing two ECUs at once through one gateway, on two
 * connections: two sessions, neither disturbed by the other. */
Test(doip, one_tester_two_ecus_in_parallel)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d1, d2;
    sg_link l1, l2;
    two_ecus(&t, &d1, &d2, &l1, &l2);
    /* A tester flashing in parallel sends its functional requests to all
     * ECUs at once, not once per flash: these two flashes send none. */
    sg_flash f1 = flash, f2 = flash;
    f1.functional_pre = f2.functional_pre = false;
    f2.seed = 0xBEEF;
    sg_flash_session(&t, &l1, &f1, T0);
    sg_flash_session(&t, &l2, &f2, T0 + 7 * UF_NS_PER_MS);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, profile);
    th_analysis a;
    th_analysis_init(&a);
    sg_trace_finish(&t);
    uf_analyzer *an = th_analyze_trace_keep(&a, &t, &cfg);
    const uf_sessions *ss = uf_analyzer_sessions(an);
    cr_assert_eq(uf_sessions_count(ss), 2);
    char ecu[2][32];
    for (uint32_t i = 1; i <= 2; i++) {
        const uf_session *s = uf_sessions_get(ss, i);
        cr_assert_str_eq(uf_session_transport(s), "doip");
        cr_assert_eq(s->downloads->len, 1);
        cr_assert(g_array_index(s->downloads, uf_download, 0).complete);
        uf_isotp_endpoint_name(&s->ecu, ecu[i - 1], sizeof(ecu[0]));
    }
    cr_assert_str_neq(ecu[0], ecu[1]);
    cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
    uf_analyzer_free(an);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* Every flash is a connection, reconnected after ECUReset, and each
 * connection's message buffers go to the next (doip.c, spare buffers):
 * three flashes of one ECU one after another, with TransferData blocks of
 * 1, 16 and 4 KiB, and a fourth in parallel with the third, all deliver
 * every image byte: the digest of each download is its image's. */
Test(doip, buffers_passed_from_connection_to_connection_keep_every_byte)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d1, d2;
    sg_link l1, l2;
    two_ecus(&t, &d1, &d2, &l1, &l2);
    const uint32_t blocks[] = {0x402, 0x4002, 0x1002};
    sg_flash f[4];
    uf_time at = T0;
    for (int i = 0; i < 3; i++) {
        f[i] = flash;
        f[i].functional_pre = false;
        f[i].max_block = blocks[i];
        f[i].seed = 0x5EED0 + (uint32_t)i;
        uf_time end = sg_flash_session(&t, &l1, &f[i], at);
        if (i < 2)
            at = end + UF_NS_PER_S;
    }
    f[3] = f[2];
    f[3].seed = 0xBEEF;
    sg_flash_session(&t, &l2, &f[3], at + 3 * UF_NS_PER_MS);
    th_analysis a;
    uf_analyzer *an = th_analyze_with_profile(&a, &t, profile);
    const uf_sessions *ss = uf_analyzer_sessions(an);
    cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
    cr_assert_eq(uf_sessions_count(ss), 4);
    int sequential = 0;
    for (uint32_t i = 1; i <= 4; i++) {
        const uf_session *s = uf_sessions_get(ss, i);
        cr_assert_eq(s->downloads->len, 1, "session %u", i);
        const uf_download *dl = &g_array_index(s->downloads, uf_download, 0);
        cr_assert(dl->complete, "session %u", i);
        /* ECU 0x0011's is the parallel flash; ECU 0x0010's come in order. */
        char ecu[32];
        uf_isotp_endpoint_name(&s->ecu, ecu, sizeof(ecu));
        const sg_flash *fl = strcmp(ecu, "0x0011") == 0 ? &f[3] : &f[sequential++];
        uint8_t *image = g_malloc(fl->image_size);
        sg_image(image, fl->image_size, fl->seed);
        gchar *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, image, fl->image_size);
        cr_assert_str_eq(dl->sha256, want, "session %u", i);
        g_free(want);
        g_free(image);
    }
    cr_assert_eq(sequential, 3);
    uf_analyzer_free(an);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* A functional request through the gateway answered by two ECUs. */
Test(doip, functional_request_answered_by_two_ecus)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d = sg_doip_gateway(sg_trace_eth_bus(&t, "eth0"), false);
    d.discovery = false;
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = d.bus;
    l.rng = 3;
    l.doip = &d;
    uf_time at = sg_doip_open(&t, &l, T0);
    const uint8_t req[] = {0x10, 0x03}, resp[] = {0x50, 0x03, 0x00, 0x32, 0x01, 0xF4};
    at = sg_send(&t, &l, true, true, at, req, sizeof(req));
    at = sg_send(&t, &l, false, false, at + 4 * UF_NS_PER_MS, resp, sizeof(resp));
    d.ecu_la = 0x0011; /* the second ECU answers through the same gateway */
    at = sg_send(&t, &l, false, false, at + 2 * UF_NS_PER_MS, resp, sizeof(resp));
    sg_doip_close(&t, &l, at + 5 * UF_NS_PER_MS);
    th_analysis a;
    analyze(&a, &t);
    cr_assert_eq(a.msgs->len, 3);
    const th_uds_msg *r1 = g_ptr_array_index(a.msgs, 1), *r2 = g_ptr_array_index(a.msgs, 2);
    cr_assert_eq(r1->request_index, 1);
    cr_assert_eq(r2->request_index, 1);
    cr_assert_str_eq(r1->ecu, "0x0010");
    cr_assert_str_eq(r2->ecu, "0x0011");
    cr_assert_neq(r1->session, r2->session, "a session per ECU");
    cr_assert_null(th_analysis_first(&a, "uds.unexpected_response"), "%s", th_analysis_text(&a));
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* DoIP over TLS (port 3496) is named, and nothing is decoded from it. */
Test(doip, tls_is_recognised)
{
    sg_trace t;
    sg_trace_init(&t);
    uint32_t bus = sg_trace_eth_bus(&t, "eth0");
    sg_doip d = sg_doip_gateway(bus, false);
    d.flow.port[0] = 50300;
    d.flow.port[1] = UF_DOIP_TLS_PORT;
    uint8_t frame[UF_NET_FRAME_MAX];
    const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00};
    size_t n = uf_net_build_tcp(frame, &d.flow, 0, UF_TCP_SYN, 1000, 0, NULL, 0);
    sg_trace_packet(&t, bus, T0, frame, n);
    n = uf_net_build_tcp(frame, &d.flow, 0, UF_TCP_ACK | UF_TCP_PSH, 1001, 1, hello, sizeof(hello));
    sg_trace_packet(&t, bus, T0 + UF_NS_PER_MS, frame, n);
    th_analysis a;
    analyze(&a, &t);
    unsigned doip_findings = 0;
    for (guint i = 0; i < a.findings->len; i++)
        doip_findings += uf_rule_matches(g_array_index(a.findings, uf_finding, i).rule->id, "doip");
    cr_assert_eq(doip_findings, 1, "%s", th_analysis_text(&a));
    const uf_finding *f = th_analysis_first(&a, "doip.tls");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, UF_SEV_INFO);
    cr_assert(strstr(f->message, ":3496"), "%s", f->message);
    cr_assert_eq(a.msgs->len, 0);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

Test(doip, a_broken_datagram_is_malformed)
{
    sg_trace t;
    sg_trace_init(&t);
    uint32_t bus = sg_trace_eth_bus(&t, "eth0");
    sg_doip d = sg_doip_gateway(bus, false);
    d.flow.port[0] = UF_DOIP_PORT;
    d.flow.port[1] = UF_DOIP_PORT;
    uint8_t frame[UF_NET_FRAME_MAX];
    const uint8_t short_one[] = {0x03, 0xFC, 0x00, 0x04, 0x00, 0x00, 0x00, 0x21, 'W'};
    size_t n = uf_net_build_udp(frame, &d.flow, 1, NULL, short_one, sizeof(short_one));
    sg_trace_packet(&t, bus, T0, frame, n);
    th_analysis a;
    analyze(&a, &t);
    const uf_finding *f = th_analysis_first(&a, "doip.malformed");
    cr_assert_not_null(f, "%s", th_analysis_text(&a));
    cr_assert(strstr(f->message, "longer than its UDP datagram"), "%s", f->message);
    th_analysis_free(&a);
    sg_trace_free(&t);
}
