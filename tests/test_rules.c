/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every session rule both ways, on captures generated in the project: a
 * flash with one fault where the rule must fire (and point at the right
 * step), and a near miss where it must not. A clean flash raises nothing.
 * ISO-TP rules are held to frames directly in test_isotp_reassembly.c;
 * capture.* in test_readers.c and test_cli.c.
 */
#include "helpers.h"
#include "uf_profile.h"
#include "uf_report.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <string.h>

#define T0 (INT64_C(1795255200) * UF_NS_PER_S)

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

TestSuite(rules, .init = setup, .fini = teardown);

/* Simulates a flash with these faults and analyzes it with a profile. */
static void run_with(th_analysis *a, uint32_t faults, const uf_profile *p, const sg_flash *variant)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = th_link(&t, "can0", 0x7E0, 0x7E8);
    sg_flash f = {.image_size = 2048, .address = 0x00010000, .max_block = 0x102,
                  .seed = 0x12345678, .erase_pending = 2, .functional_pre = true};
    if (variant)
        f = *variant;
    f.faults = faults;
    sg_flash_session(&t, &l, &f, T0);
    sg_trace_finish(&t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, p);
    th_analysis_init(a);
    th_analyze_trace(a, &t, &cfg);
    sg_trace_free(&t);
}

/* Two ECUs of one bus flashed one after the other, each tester sending
 * its pre-programming functionally (0x7DF reaches both ECUs): the second
 * flash's DTC setting off and communication control belong to no step of
 * the first, which was over (reset, back in the default session). */
Test(rules, a_finished_flash_is_not_judged_by_the_next_ones_functional_requests)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link first = th_link(&t, "can0", 0x7E0, 0x7E8), second = th_link(&t, "can0", 0x7E1, 0x7E9);
    sg_flash f = {.image_size = 2048, .address = 0x00010000, .max_block = 0x102,
                  .seed = 0x12345678, .erase_pending = 2, .functional_pre = true};
    uf_time end = sg_flash_session(&t, &first, &f, T0);
    sg_flash_session(&t, &second, &f, end + UF_NS_PER_S);
    th_analysis a;
    uf_analyzer_free(th_analyze_with_profile(&a, &t, profile));
    cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
    th_analysis_free(&a);
    sg_trace_free(&t);
}

Test(rules, clean_flash_raises_nothing)
{
    th_analysis a;
    run_with(&a, 0, profile, NULL);
    cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
    cr_assert_gt(a.msgs->len, 40);
    th_analysis_free(&a);
}

typedef struct fault_case {
    uint32_t fault;
    const char *rule;
    const char *step; /* the step the finding is attributed to, or NULL */
    const char *text; /* a piece of the message */
} fault_case;

static const fault_case fires[] = {
    {SG_LATE_RESPONSE, "timing.p2", "preconditions", "> P2_server_max 50 ms"},
    {SG_LATE_FINAL, "timing.p2star", "erase", "> P2*_server_max 5000 ms"},
    {SG_PENDING_GAP, "timing.pending_spacing", "erase", "after the previous one"},
    {SG_TESTER_SILENT, "timing.s3", NULL, "> S3_server 5000 ms in programmingSession"},
    {SG_NRC, "uds.nrc", "fingerprint", "NRC 0x22 conditionsNotCorrect"},
    {SG_NO_RESPONSE, "uds.no_response", NULL, "no response to ReadDataByIdentifier"},
    {SG_EXTRA_RESPONSE, "uds.unexpected_response", NULL, "answers no waiting request"},
    {SG_MALFORMED, "uds.malformed", "read-data", "without its dataIdentifier"},
    {SG_SKIP_DEPENDENCIES, "flash.sequence.missing", NULL, "check-dependencies"},
    {SG_NO_RESET, "flash.sequence.missing", NULL, "step reset (ECUReset) of programming never happened"},
    {SG_STAY_PROGRAMMING, "flash.sequence.missing", NULL, "default-session"},
    {SG_FINGERPRINT_LATE, "flash.sequence.order", "fingerprint", "after step erase"},
    {SG_EXTRA_SERVICE, "flash.sequence.unexpected", NULL, "InputOutputControlByIdentifier is not a step"},
    {SG_NO_PROGRAMMING, "flash.session", "erase", "in extendedDiagnosticSession (0x03)"},
    {SG_NO_SECURITY, "flash.security", "fingerprint", "without security access granted"},
    {SG_COUNTER_SKIP, "flash.transfer.block_counter", "transfer-data", "0x04 after 0x02 (expected 0x03)"},
    {SG_SHORT_TRANSFER, "flash.transfer.size", "transfer-exit", "2038 bytes transferred, RequestDownload announced 2048"},
    {SG_LONG_BLOCK, "flash.transfer.block_length", "transfer-data", "259 bytes > maxNumberOfBlockLength 258"},
    {SG_NO_EXIT, "flash.transfer.incomplete", NULL, "no positive RequestTransferExit"},
    {SG_CUT, "flash.transfer.incomplete", NULL, "the session ended after 1280 bytes in 5 blocks"},
    {SG_STMIN, "isotp.stmin", "transfer-data", "below STmin 1.000 ms"},
};

Test(rules, each_fault_fires_its_rule)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(fires); i++) {
        th_analysis a;
        run_with(&a, fires[i].fault, profile, NULL);
        const uf_finding *f = th_analysis_first(&a, fires[i].rule);
        cr_assert_not_null(f, "%s did not fire; findings:\n%s", fires[i].rule, th_analysis_text(&a));
        cr_assert(strstr(f->message, fires[i].text), "%s: \"%s\" lacks \"%s\"", fires[i].rule,
                  f->message, fires[i].text);
        cr_assert_eq(f->session, 1, "%s: session %u", fires[i].rule, f->session);
        if (fires[i].step)
            cr_assert(f->step && strcmp(f->step, fires[i].step) == 0, "%s: step %s, expected %s",
                      fires[i].rule, f->step ? f->step : "-", fires[i].step);
        th_analysis_free(&a);
    }
}

typedef struct near_case {
    uint32_t fault;
    const char *rule; /* must not fire */
} near_case;

static const near_case near_misses[] = {
    {SG_NEAR_P2, "timing.p2"},                   /* 45 ms, P2 50 ms */
    {SG_ANNOUNCE_P2_100, "timing.p2"},           /* 80 ms, the ECU announced 100 ms */
    {SG_NEAR_P2STAR, "timing.p2star"},           /* 4.9 s after the last 0x78 */
    {SG_NEAR_S3, "timing.s3"},                   /* 4.5 s of silence */
    {SG_RETRY_BLOCK, "flash.transfer.block_counter"}, /* the same block again */
    {SG_COMPRESSED, "flash.transfer.size"},      /* fewer bytes, but compressed */
    {SG_TWO_REGIONS, "flash.sequence.order"},    /* erase .. check twice */
    {SG_SKIP_OPTIONAL, "flash.sequence.missing"},/* optional steps left out */
};

Test(rules, near_misses_stay_quiet)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(near_misses); i++) {
        th_analysis a;
        run_with(&a, near_misses[i].fault, profile, NULL);
        cr_assert_eq(a.findings->len, 0, "near miss for %s raised:\n%s", near_misses[i].rule,
                     th_analysis_text(&a));
        th_analysis_free(&a);
    }
}

Test(rules, retried_block_counts_once)
{
    th_analysis plain, retried;
    run_with(&plain, 0, profile, NULL);
    run_with(&retried, SG_RETRY_BLOCK, profile, NULL);
    /* The retry adds a request and a response, but no data. */
    cr_assert_eq(retried.msgs->len, plain.msgs->len + 2);
    th_analysis_free(&plain);
    th_analysis_free(&retried);
}

Test(rules, the_announced_limit_is_what_counts)
{
    /* 80 ms is late against the profile's 50 ms ... */
    th_analysis a;
    run_with(&a, SG_LATE_RESPONSE, profile, NULL);
    cr_assert_not_null(th_analysis_first(&a, "timing.p2"));
    th_analysis_free(&a);
    /* ... but not once the ECU has announced 100 ms. */
    run_with(&a, SG_ANNOUNCE_P2_100, profile, NULL);
    cr_assert_null(th_analysis_first(&a, "timing.p2"), "%s", th_analysis_text(&a));
    th_analysis_free(&a);
}

Test(rules, profiles_decide_the_order)
{
    uf_error err;
    uf_profile *ef = uf_profile_open("erase-first", &err);
    sg_flash v = {.image_size = 2048, .address = 0x00010000, .max_block = 0x102,
                  .seed = 0x12345678, .erase_pending = 2, .functional_pre = true,
                  .erase_first = true};
    th_analysis a;
    run_with(&a, 0, ef, &v);
    cr_assert_eq(a.findings->len, 0, "erase-first flash under erase-first:\n%s", th_analysis_text(&a));
    th_analysis_free(&a);
    run_with(&a, 0, profile, &v);
    cr_assert_not_null(th_analysis_first(&a, "flash.sequence.order"), "%s", th_analysis_text(&a));
    th_analysis_free(&a);
    uf_profile_free(ef);
}

Test(rules, his_profile_wants_its_fingerprint_did)
{
    uf_error err;
    uf_profile *his = uf_profile_open("his", &err);
    sg_flash v = {.image_size = 2048, .address = 0x00010000, .max_block = 0x102,
                  .seed = 0x12345678, .erase_pending = 2, .functional_pre = true,
                  .fingerprint_did = 0xF15A};
    th_analysis a;
    run_with(&a, 0, his, &v);
    cr_assert_eq(a.findings->len, 0, "HIS flash under his:\n%s", th_analysis_text(&a));
    th_analysis_free(&a);
    v.fingerprint_did = 0xF184; /* the generic DID: not HIS's fingerprint */
    run_with(&a, 0, his, &v);
    const uf_finding *m = th_analysis_first(&a, "flash.sequence.missing");
    cr_assert(m && strstr(m->message, "fingerprint"), "%s", th_analysis_text(&a));
    th_analysis_free(&a);
    /* HIS makes an unanswered request an error. */
    v.fingerprint_did = 0xF15A;
    run_with(&a, SG_NO_RESPONSE, his, &v);
    const uf_finding *n = th_analysis_first(&a, "uds.no_response");
    cr_assert(n && n->severity == UF_SEV_ERROR, "%s", th_analysis_text(&a));
    th_analysis_free(&a);
    uf_profile_free(his);
}

Test(rules, ignored_rules_are_not_reported)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = th_link(&t, "can0", 0x7E0, 0x7E8);
    sg_flash f = {.image_size = 2048, .address = 0x00010000, .max_block = 0x102,
                  .seed = 0x12345678, .erase_pending = 2, .functional_pre = true,
                  .faults = SG_LATE_RESPONSE | SG_NRC};
    sg_flash_session(&t, &l, &f, T0);
    sg_trace_finish(&t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, profile);
    const char *ignore[] = {"timing", NULL};
    cfg.ignore = ignore;
    th_analysis a;
    th_analysis_init(&a);
    th_analyze_trace(&a, &t, &cfg);
    cr_assert_null(th_analysis_first(&a, "timing.p2"));
    cr_assert_not_null(th_analysis_first(&a, "uds.nrc"));
    th_analysis_free(&a);
    sg_trace_free(&t);
}

Test(rules, rule_patterns)
{
    cr_assert(uf_rule_matches("timing.p2", "timing"));
    cr_assert(uf_rule_matches("timing.p2", "timing.*"));
    cr_assert(uf_rule_matches("timing.p2", "timing.p2"));
    cr_assert_not(uf_rule_matches("timing.p2star", "timing.p2"));
    cr_assert(uf_rule_matches("flash.transfer.size", "flash.transfer"));
    cr_assert_not(uf_rule_matches("flash.transfer.size", "flash.trans"));
}

/* ISO-TP timing belongs to the session and step it hit (the limits here are
 * set far below what the simulated links do, so that it fires). */
Test(rules, isotp_timing_is_attributed_to_session_and_step)
{
    size_t len;
    const char *builtin = uf_profile_builtin_text(0, &len);
    GString *text = g_string_new_len(builtin, (gssize)len);
    cr_assert_eq(g_string_replace(text, "n-bs = 1000 ms", "n-bs = 100 us", 1), 1);
    cr_assert_eq(g_string_replace(text, "n-cr = 1000 ms", "n-cr = 100 us", 1), 1);
    uf_error err;
    uf_profile *tight = uf_profile_parse(text->str, text->len, "tight", &err);
    cr_assert_not_null(tight, "%s", err.msg);
    th_analysis a;
    run_with(&a, 0, tight, NULL);
    const char *rules[] = {"isotp.n_bs", "isotp.n_cr"};
    for (size_t i = 0; i < UF_ARRAY_LEN(rules); i++) {
        bool in_transfer = false;
        for (guint k = 0; k < a.findings->len; k++) {
            const uf_finding *f = &g_array_index(a.findings, uf_finding, k);
            if (strcmp(f->rule->id, rules[i]) != 0)
                continue;
            cr_assert_eq(f->session, 1, "%s outside the session: %s", rules[i], f->message);
            cr_assert_not_null(f->step, "%s without a step: %s", rules[i], f->message);
            in_transfer |= strcmp(f->step, "transfer-data") == 0 &&
                           strcmp(f->phase, "programming") == 0;
        }
        cr_assert(in_transfer, "no %s in programming/transfer-data; findings:\n%s", rules[i],
                  th_analysis_text(&a));
    }
    th_analysis_free(&a);
    uf_profile_free(tight);
    g_string_free(text, TRUE);
}

/* ECUs stay silent on functional requests they do not support (ISO
 * 14229-1:2020 7.5); only a physical request is owed an answer. */
Test(rules, functional_silence_is_no_fault)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = th_link(&t, "can0", 0x7E0, 0x7E8);
    const uint8_t dtc_off[] = {0x85, 0x02}, read_vin[] = {0x22, 0xF1, 0x90};
    uf_time at = sg_send(&t, &l, true, true, T0, dtc_off, sizeof(dtc_off));
    sg_send(&t, &l, true, false, at + 10 * UF_NS_PER_MS, read_vin, sizeof(read_vin));
    sg_trace_finish(&t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, profile);
    th_analysis a;
    th_analysis_init(&a);
    th_analyze_trace(&a, &t, &cfg);
    cr_assert_eq(th_analysis_count(&a, "uds.no_response"), 1, "%s", th_analysis_text(&a));
    const uf_finding *f = th_analysis_first(&a, "uds.no_response");
    cr_assert(strstr(f->message, "ReadDataByIdentifier"), "%s", f->message);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* Memory stays flat on any capture: sessions and downloads beyond the
 * bounds are counted, not kept (the bounds are small here to test them). */
Test(rules, sessions_and_downloads_are_bounded)
{
    sg_trace t;
    sg_trace_init(&t);
    uf_time at = T0;
    for (uint32_t ecu = 0; ecu < 5; ecu++) {
        sg_link l = th_link(&t, "can0", 0x7E0 + ecu, 0x7E8 + ecu);
        sg_flash f = {.image_size = 512, .address = 0x00010000, .max_block = 0x82,
                      .seed = ecu, .erase_pending = 0, .faults = SG_TWO_REGIONS};
        at = sg_flash_session(&t, &l, &f, at) + 10 * UF_NS_PER_MS;
    }
    sg_trace_finish(&t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, profile);
    cfg.max_sessions = 3;
    cfg.max_downloads = 1;
    th_analysis a;
    th_analysis_init(&a);
    uf_analyzer *an = th_analyze_trace_keep(&a, &t, &cfg);
    const uf_sessions *ss = uf_analyzer_sessions(an);
    cr_assert_eq(uf_sessions_count(ss), 3);
    /* The two flashes beyond the bound: every one of their requests. */
    cr_assert_geq(uf_sessions_requests_not_analyzed(ss), 2 * 20);
    for (uint32_t i = 1; i <= 3; i++) {
        const uf_session *s = uf_sessions_get(ss, i);
        cr_assert_eq(s->downloads->len, 1, "session %u", i);
        cr_assert_eq(s->downloads_not_analyzed, 1, "session %u", i);
    }
    uf_analyzer_free(an);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* One ECU flashed twice by the same tester, one flash after the other:
 * the second flash's requests open a second session and all go to it,
 * none to the first, which was over (reset, back in the default session)
 * and closed. */
Test(rules, one_ecu_flashed_twice_is_two_sessions)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = th_link(&t, "can0", 0x7E0, 0x7E8);
    sg_flash f = {.image_size = 512, .address = 0x00010000, .max_block = 0x82, .seed = 7};
    uf_time end = sg_flash_session(&t, &l, &f, T0);
    sg_flash_session(&t, &l, &f, end + UF_NS_PER_S);
    th_analysis a;
    uf_analyzer *an = th_analyze_with_profile(&a, &t, profile);
    const uf_sessions *ss = uf_analyzer_sessions(an);
    cr_assert_eq(a.findings->len, 0, "%s", th_analysis_text(&a));
    cr_assert_eq(uf_sessions_count(ss), 2);
    const uf_session *first = uf_sessions_get(ss, 1);
    uint64_t requests = first->requests;
    cr_assert_gt(requests, 20);
    cr_assert(first->reset_done && first->back_in_default);
    const uf_session *second = uf_sessions_get(ss, 2);
    cr_assert_eq(second->requests, requests, "the second flash's requests: %" PRIu64 " of %" PRIu64,
                 second->requests, requests);
    cr_assert(second->reset_done && second->back_in_default);
    cr_assert_eq(second->downloads->len, 1);
    uf_analyzer_free(an);
    th_analysis_free(&a);
    sg_trace_free(&t);
}

/* ---- reports from temporary files ----------------------------------------------------*/

enum { AS_JSON, AS_TEXT, AS_JUNIT, FORMATS };

static char *render(const uf_check_result *r, int format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    uf_text_style plain = {false};
    if (format == AS_JSON)
        uf_report_json(f, r);
    else if (format == AS_TEXT)
        uf_report_text(f, r, &plain);
    else
        uf_report_junit(f, r);
    fclose(f);
    return buf;
}

/* udsflash check keeps closed sessions and findings in temporary files,
 * for flat memory (uf_spill.h): its reports must be the ones it would
 * write from memory, byte for byte, in every format. */
Test(rules, reports_from_temporary_files_are_the_ones_from_memory)
{
    sg_trace t;
    sg_trace_init(&t);
    const uint32_t faults[] = {0, SG_LATE_RESPONSE, SG_NRC | SG_NO_RESET, SG_EXTRA_SERVICE,
                               SG_NO_SECURITY, SG_MALFORMED};
    uf_time at = T0;
    for (uint32_t i = 0; i < UF_ARRAY_LEN(faults); i++) {
        sg_link l = th_link(&t, "can0", 0x7E0 + i, 0x7E8 + i);
        sg_flash f = {.image_size = 512, .address = 0x00010000, .max_block = 0x82,
                      .seed = i, .erase_pending = 1, .faults = faults[i]};
        at = sg_flash_session(&t, &l, &f, at) + 10 * UF_NS_PER_MS;
    }
    sg_trace_finish(&t);

    char *out[2][FORMATS];
    for (int spill = 0; spill < 2; spill++) {
        uf_analyzer_config cfg;
        uf_analyzer_config_defaults(&cfg);
        uf_analyzer_config_profile(&cfg, profile);
        cfg.spill_sessions = spill;
        th_analysis a;
        th_analysis_init(&a);
        uf_analyzer *an = th_analyze_trace_keep(&a, &t, &cfg);
        const uf_sessions *ss = uf_analyzer_sessions(an);
        const char *buses[] = {"can0"};
        uf_check_result r = {
            .input = {"generated.pcap", "pcap", true, T0, a.frames, a.msgs->len, NULL, buses, 1},
            .profile = profile,
            .sessions = ss,
            .n_findings = a.findings->len,
            .fail_on = UF_SEV_WARNING,
        };
        for (guint i = 0; i < a.findings->len; i++)
            r.by_severity[g_array_index(a.findings, uf_finding, i).severity]++;
        if (spill) {
            /* Every session went to the file as it closed. */
            cr_assert_not_null(uf_sessions_store(ss));
            cr_assert_eq(uf_spill_count(uf_sessions_store(ss)), UF_ARRAY_LEN(faults));
            r.finding_store = uf_spill_new();
            for (guint i = 0; i < a.findings->len; i++)
                uf_spill_append(r.finding_store, &g_array_index(a.findings, uf_finding, i),
                                sizeof(uf_finding));
        } else {
            cr_assert_null(uf_sessions_store(ss));
            r.findings = (const uf_finding *)a.findings->data;
        }
        for (int f = 0; f < FORMATS; f++)
            out[spill][f] = render(&r, f);
        /* Rendered by two threads, 1, 2, 4 and 5 sessions at a time (the
         * helper's blocks last, or this thread's; a helper with one block,
         * and with none): the same bytes. */
        for (uint32_t block = 1; block <= 5; block++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            uf_report_json_blocks(f, &r, block == 3 ? 6 : block);
            fclose(f);
            cr_assert_str_eq(buf, out[spill][AS_JSON], "spill %d, blocks of %u", spill, block);
            free(buf);
        }
        uf_spill_free(r.finding_store);
        uf_analyzer_free(an);
        th_analysis_free(&a);
    }
    /* Something to compare: every session, findings in several of them. */
    cr_assert(strstr(out[0][AS_JSON], "\"index\": 6"), "%s", out[0][AS_JSON]);
    cr_assert(strstr(out[0][AS_TEXT], "timing.p2"), "%s", out[0][AS_TEXT]);
    cr_assert(strstr(out[0][AS_JUNIT], "uds.nrc"), "%s", out[0][AS_JUNIT]);
    for (int f = 0; f < FORMATS; f++) {
        cr_assert_str_eq(out[1][f], out[0][f], "format %d differs", f);
        free(out[0][f]);
        free(out[1][f]);
    }
    sg_trace_free(&t);
}
