/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash check` and `udsflash profiles` as a CI pipeline runs them: the
 * verdict of every bundled sample, the JSON report's contract (DESIGN.md),
 * JUnit XML read back by libxml2, exit statuses 0 / 1 / 2 / 3, --fail-on,
 * --ignore, colours, and profiles picked by name or file.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <string.h>

/* ---- JSON -------------------------------------------------------------------*/

typedef struct report {
    JsonParser *parser;
    JsonObject *root;
} report;

static void report_parse(report *r, const char *json, const char *what)
{
    GError *e = NULL;
    r->parser = json_parser_new();
    cr_assert(json_parser_load_from_data(r->parser, json, -1, &e), "%s: %s", what,
              e ? e->message : "");
    r->root = json_node_get_object(json_parser_get_root(r->parser));
    cr_assert_not_null(r->root, "%s: not a JSON object", what);
}

static void report_free(report *r)
{
    g_object_unref(r->parser);
}

/* Runs check --format json; returns the exit status and the parsed report. */
static int check_json(report *r, const char *sample, const char *profile)
{
    char *path = g_strconcat("samples/", sample, NULL), *out = NULL;
    char *profile_arg = g_strconcat("--profile=", profile ? profile : "iso14229", NULL);
    int rc = th_udsflash(&out, NULL, "check", "--format=json", profile_arg, path, NULL);
    cr_assert(rc == 0 || rc == 1, "check %s: exit %d", path, rc);
    report_parse(r, out, path);
    g_free(out);
    g_free(profile_arg);
    g_free(path);
    return rc;
}

static JsonArray *array(JsonObject *o, const char *k)
{
    cr_assert(json_object_has_member(o, k), "no \"%s\"", k);
    return json_object_get_array_member(o, k);
}

static const char *str(JsonObject *o, const char *k)
{
    cr_assert(json_object_has_member(o, k), "no \"%s\"", k);
    return json_object_get_string_member(o, k);
}

static gint64 num(JsonObject *o, const char *k)
{
    cr_assert(json_object_has_member(o, k), "no \"%s\"", k);
    return json_object_get_int_member(o, k);
}

static bool has_rule(JsonObject *root, const char *rule)
{
    JsonArray *f = array(root, "findings");
    for (guint i = 0; i < json_array_get_length(f); i++)
        if (strcmp(str(json_array_get_object_element(f, i), "rule"), rule) == 0)
            return true;
    return false;
}

/* ---- verdicts ---------------------------------------------------------------*/

/* The samples that are not conformant sessions under the default profile,
 * with the profile to read them with and what must be found. `pass`: the
 * verdict passes, which warnings alone allow (exit 0 under --fail-on
 * error); `with_warnings`: not a conformant session all the same. */
static const struct expected {
    const char *sample, *profile;
    bool pass, with_warnings;
    const char *rules[6];
} expected[] = {
    {"flash-11bit-faults.pcap", NULL, false, false,
     {"timing.p2", "uds.no_response", "uds.nrc", "isotp.stmin", "flash.transfer.block_counter"}},
    {"flash-11bit-cut.pcap", NULL, false, false,
     {"flash.transfer.incomplete", "flash.sequence.missing"}},
    {"fault-stmin.pcap", NULL, true, true, {"isotp.stmin"}},
    {"fault-abort.pcap", NULL, false, false, {"isotp.n_cr", "flash.transfer.incomplete"}},
    {"fault-s3.pcap", NULL, false, false, {"timing.s3", "flash.security"}},
    {"fault-p2.pcap", NULL, false, false, {"timing.p2"}},
    {"fault-p2star.pcap", NULL, false, false, {"timing.p2star"}},
    {"fault-nrc.pcap", NULL, true, true, {"uds.nrc"}},
    {"flash-erase-first.pcap", NULL, false, false, {"flash.sequence.order"}},
    {"flash-erase-first.pcap", "erase-first", true, false, {NULL}},
    {"flash-his.pcap", "his", true, false, {NULL}},
    {"doip-faults.pcap", NULL, false, false,
     {"doip.nack", "doip.routing", "doip.ack_timeout", "doip.malformed"}},
    {"doip-gap.pcap", NULL, false, false,
     {"doip.tcp_gap", "flash.transfer.block_counter", "flash.transfer.size",
      "uds.unexpected_response"}},
};

/* Every regular file of samples/ but its README and build file is a capture;
 * the folders hold the generator and the seed / key library. */
static bool is_capture(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL);
    bool regular = g_file_test(path, G_FILE_TEST_IS_REGULAR);
    g_free(path);
    return regular && strcmp(name, "README.md") != 0 && strcmp(name, "CMakeLists.txt") != 0;
}

/* A conformant session: every session passes, nothing at warning or above,
 * every download complete with as many bytes as the 0x34 announced. */
static void assert_conformant(JsonObject *root, const char *what)
{
    cr_assert_str_eq(str(root, "verdict"), "pass", "%s", what);
    JsonArray *sessions = array(root, "sessions");
    cr_assert_geq(json_array_get_length(sessions), 1, "%s: no session", what);
    for (guint i = 0; i < json_array_get_length(sessions); i++) {
        JsonObject *s = json_array_get_object_element(sessions, i);
        cr_assert_str_eq(str(s, "verdict"), "pass", "%s session %u", what, i + 1);
        cr_assert(json_object_get_boolean_member(s, "complete"), "%s session %u", what, i + 1);
        JsonArray *d = array(s, "downloads");
        cr_assert_geq(json_array_get_length(d), 1, "%s session %u: no download", what, i + 1);
        for (guint k = 0; k < json_array_get_length(d); k++) {
            JsonObject *dl = json_array_get_object_element(d, k);
            cr_assert(json_object_get_boolean_member(dl, "complete"));
            cr_assert_eq(num(dl, "bytes"), num(dl, "size"), "%s", what);
        }
    }
    JsonArray *f = array(root, "findings");
    for (guint i = 0; i < json_array_get_length(f); i++) {
        JsonObject *x = json_array_get_object_element(f, i);
        cr_assert_str_eq(str(x, "severity"), "info", "%s: %s %s", what, str(x, "rule"),
                         str(x, "message"));
    }
}

Test(check, every_sample_gets_its_verdict)
{
    char *dir = th_sample("");
    GDir *d = g_dir_open(dir, 0, NULL);
    cr_assert_not_null(d);
    unsigned checked = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        if (!is_capture(dir, name))
            continue;
        bool listed = false;
        for (size_t i = 0; i < UF_ARRAY_LEN(expected); i++)
            listed |= strcmp(expected[i].sample, name) == 0;
        if (listed)
            continue;
        report r;
        cr_assert_eq(check_json(&r, name, NULL), 0, "%s", name);
        assert_conformant(r.root, name);
        report_free(&r);
        checked++;
    }
    g_dir_close(d);
    g_free(dir);
    cr_assert_geq(checked, 25);

    for (size_t i = 0; i < UF_ARRAY_LEN(expected); i++) {
        const struct expected *e = &expected[i];
        report r;
        int rc = check_json(&r, e->sample, e->profile);
        cr_assert_eq(rc, e->pass ? 0 : 1, "%s: exit %d", e->sample, rc);
        if (e->pass && !e->with_warnings)
            assert_conformant(r.root, e->sample);
        else if (e->pass)
            cr_assert_str_eq(str(r.root, "verdict"), "pass", "%s", e->sample);
        else
            cr_assert_str_eq(str(r.root, "verdict"), "fail", "%s", e->sample);
        for (size_t k = 0; e->rules[k]; k++)
            cr_assert(has_rule(r.root, e->rules[k]), "%s: no %s", e->sample, e->rules[k]);
        report_free(&r);
    }
}

/* Two ECUs flashed at once on one bus, and one ECU on each of two buses:
 * separate sessions with their own downloads. */
Test(check, concurrent_sessions_are_separate)
{
    const char *samples[] = {"flash-two-ecus.pcapng", "flash-two-buses.pcapng"};
    for (size_t i = 0; i < UF_ARRAY_LEN(samples); i++) {
        report r;
        cr_assert_eq(check_json(&r, samples[i], NULL), 0);
        JsonArray *sessions = array(r.root, "sessions");
        cr_assert_eq(json_array_get_length(sessions), 2, "%s", samples[i]);
        JsonObject *a = json_array_get_object_element(sessions, 0);
        JsonObject *b = json_array_get_object_element(sessions, 1);
        bool other_ecu = strcmp(str(a, "ecu"), str(b, "ecu")) != 0;
        bool other_bus = strcmp(str(a, "bus"), str(b, "bus")) != 0;
        cr_assert(i == 0 ? other_ecu && !other_bus : other_bus, "%s", samples[i]);
        const char *sha_a = str(json_array_get_object_element(array(a, "downloads"), 0), "sha256");
        const char *sha_b = str(json_array_get_object_element(array(b, "downloads"), 0), "sha256");
        cr_assert_str_neq(sha_a, sha_b, "%s: both sessions show one image", samples[i]);
        report_free(&r);
    }
}

/* ---- capture rules, both ways ----------------------------------------------*/

static bool run_has_rule(const char *path, const char *rule, int expect_rc)
{
    char *out = NULL;
    int rc = th_udsflash(&out, NULL, "check", "--format=json", "--fail-on=info", path, NULL);
    cr_assert_eq(rc, expect_rc, "%s: exit %d", path, rc);
    report r;
    report_parse(&r, out, path);
    bool found = has_rule(r.root, rule);
    report_free(&r);
    g_free(out);
    return found;
}

Test(check, capture_rules_both_ways)
{
    /* A log without timestamps says that timing was not checked. */
    cr_assert(run_has_rule("samples/flash-11bit-console.candump", "capture.no_timestamps", 1));
    cr_assert(!run_has_rule("samples/flash-11bit.candump", "capture.no_timestamps", 0));

    /* A SocketCAN record too short for a CAN header, slipped in after the
     * pcap file header: reported with its byte offset, the rest analyzed. */
    char *dir = th_tmpdir(), *src = th_sample("flash-11bit.pcap"), *data = NULL;
    gsize n;
    cr_assert(g_file_get_contents(src, &data, &n, NULL));
    cr_assert_eq(memcmp(data, "\xd4\xc3\xb2\xa1", 4), 0, "expected a little-endian pcap");
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)data, 24);
    g_byte_array_append(b, (const guint8 *)data + 24, 8); /* the first record's time */
    const guint8 lengths[8] = {3, 0, 0, 0, 3, 0, 0, 0}, stub[3] = {0x00, 0x00, 0x07};
    g_byte_array_append(b, lengths, sizeof(lengths));
    g_byte_array_append(b, stub, sizeof(stub));
    g_byte_array_append(b, (const guint8 *)data + 24, (guint)(n - 24));
    char *bad = g_build_filename(dir, "short-record.pcap", NULL);
    cr_assert(g_file_set_contents(bad, (const char *)b->data, b->len, NULL));
    char *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", bad, NULL), 0);
    report r;
    report_parse(&r, out, bad);
    JsonObject *f = json_array_get_object_element(array(r.root, "findings"), 0);
    cr_assert_not_null(f);
    cr_assert_str_eq(str(f, "rule"), "capture.malformed");
    cr_assert_eq(num(f, "frame"), 1);
    cr_assert(strstr(str(f, "message"), "byte 24"), "%s", str(f, "message"));
    cr_assert_str_eq(str(r.root, "verdict"), "pass", "the session after it is intact");
    report_free(&r);
    cr_assert(!run_has_rule("samples/flash-11bit.pcap", "capture.malformed", 0));
    g_free(out);
    g_free(bad);
    g_byte_array_free(b, TRUE);
    g_free(data);
    g_free(src);
    g_free(dir);
}

/* ---- DoIP options -------------------------------------------------------------*/

/* A DoIP flash on TCP port 13401: found only when --doip-port names it. */
Test(check, doip_port_and_ack_timeout_options)
{
    char *dir = th_tmpdir();
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d = sg_doip_gateway(sg_trace_eth_bus(&t, "eth0"), false);
    d.entity_port = 13401;
    d.discovery = false;
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = d.bus;
    l.rng = 9;
    l.doip = &d;
    sg_flash f = {.image_size = 8192, .address = 0x00080000, .max_block = 0x1002, .seed = 3,
                  .erase_pending = 1, .functional_pre = true};
    sg_flash_session(&t, &l, &f, INT64_C(1795255200) * UF_NS_PER_S);
    sg_trace_finish(&t);
    char *path = g_build_filename(dir, "doip-13401.pcap", NULL);
    uf_error err;
    cr_assert_eq(sg_write_pcap(&t, path, SG_PCAP_ETHERNET, &err), 0, "%s", err.msg);
    sg_trace_free(&t);

    char *out = NULL;
    report r;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", path, NULL), 1);
    report_parse(&r, out, path);
    cr_assert_eq(json_array_get_length(array(r.root, "sessions")), 0);
    report_free(&r);
    g_free(out);
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", "--doip-port=13401", path,
                             NULL), 0);
    report_parse(&r, out, path);
    JsonObject *s = json_array_get_object_element(array(r.root, "sessions"), 0);
    cr_assert_str_eq(str(s, "transport"), "doip");
    cr_assert_str_eq(str(s, "ecu"), "0x0010");
    JsonObject *doip = json_object_get_object_member(s, "doip");
    cr_assert_gt(num(doip, "acks"), 10);
    report_free(&r);
    g_free(out);
    /* Every ACK is late against a limit of 0 ms. */
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", "--doip-port=13401",
                             "--doip-ack-timeout=0", "--fail-on=warning", path, NULL), 1);
    report_parse(&r, out, path);
    cr_assert(has_rule(r.root, "doip.ack_timeout"));
    report_free(&r);
    g_free(out);
    char *err_text = NULL;
    cr_assert_eq(th_udsflash(NULL, &err_text, "check", "--doip-port=70000", path, NULL), 2);
    cr_assert(strstr(err_text, "--doip-port"), "%s", err_text);
    g_free(err_text);
    g_free(path);
    g_free(dir);
}

/* ---- the JSON contract ------------------------------------------------------*/

Test(check, json_report_has_the_documented_fields)
{
    report r;
    cr_assert_eq(check_json(&r, "flash-11bit-faults.pcap", NULL), 1);
    cr_assert_str_eq(str(r.root, "verdict"), "fail");
    JsonArray *sessions = array(r.root, "sessions");
    cr_assert_eq(json_array_get_length(sessions), 1);
    JsonObject *s = json_array_get_object_element(sessions, 0);
    cr_assert_str_eq(str(s, "ecu"), "0x7E8");
    cr_assert_str_eq(str(s, "tester"), "0x7E0");
    cr_assert_str_eq(str(s, "transport"), "can");
    cr_assert_str_eq(str(s, "verdict"), "fail");
    cr_assert_eq(num(s, "security_level"), 9);

    JsonArray *phases = array(s, "phases");
    cr_assert_eq(json_array_get_length(phases), 3);
    const char *names[] = {"pre-programming", "programming", "post-programming"};
    double previous_end = -1;
    for (guint i = 0; i < 3; i++) {
        JsonObject *ph = json_array_get_object_element(phases, i);
        cr_assert_str_eq(str(ph, "name"), names[i]);
        double start = json_object_get_double_member(ph, "start");
        double end = json_object_get_double_member(ph, "end");
        cr_assert(start >= previous_end && end >= start, "phase %s %f..%f", names[i], start, end);
        cr_assert_gt(num(ph, "messages"), 0);
        previous_end = end;
    }

    JsonObject *dl = json_array_get_object_element(array(s, "downloads"), 0);
    cr_assert_eq(num(dl, "address"), 0x10000);
    cr_assert_eq(num(dl, "size"), 4096);
    cr_assert_eq(num(dl, "bytes"), 4096);
    cr_assert_eq(num(dl, "blocks"), 16);
    cr_assert_eq(num(dl, "max_block_length"), 0x102);
    const char *sha = str(dl, "sha256");
    cr_assert_eq(strlen(sha), 64);
    cr_assert_eq(strspn(sha, "0123456789abcdef"), 64);
    /* The bytes the generator put in the image, hashed independently. */
    uint8_t image[4096];
    sg_image(image, sizeof(image), 0x1F2E3D4C);
    char *expected_sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, image, sizeof(image));
    cr_assert_str_eq(sha, expected_sha);
    g_free(expected_sha);

    /* Version read before and after; the fingerprint written. */
    JsonArray *dids = array(s, "dids");
    bool version = false, fingerprint = false;
    for (guint i = 0; i < json_array_get_length(dids); i++) {
        JsonObject *v = json_array_get_object_element(dids, i);
        if (strcmp(str(v, "did"), "0xF195") == 0) {
            cr_assert_str_eq(str(v, "first_text"), "01.00.00");
            cr_assert_str_eq(str(v, "last_text"), "02.00.00");
            version = true;
        }
        if (strcmp(str(v, "did"), "0xF184") == 0)
            fingerprint = json_object_get_boolean_member(v, "written");
    }
    cr_assert(version && fingerprint);
    JsonObject *nrc = json_array_get_object_element(array(s, "nrcs"), 0);
    cr_assert_str_eq(str(nrc, "nrc"), "0x22");
    cr_assert_str_eq(str(nrc, "name"), "conditionsNotCorrect");

    /* Every finding carries the documented fields; the timing one its figures. */
    JsonArray *findings = array(r.root, "findings");
    for (guint i = 0; i < json_array_get_length(findings); i++) {
        JsonObject *f = json_array_get_object_element(findings, i);
        str(f, "rule");
        str(f, "message");
        str(f, "clause");
        cr_assert_gt(num(f, "frame"), 0);
        cr_assert_gt(json_object_get_double_member(f, "time"), 0.0);
        cr_assert_eq(num(f, "session"), 1);
        const char *sev = str(f, "severity");
        cr_assert(!strcmp(sev, "error") || !strcmp(sev, "warning") || !strcmp(sev, "info"));
        if (strcmp(str(f, "rule"), "timing.p2") == 0) {
            cr_assert(strstr(str(f, "message"), "80.000 ms > P2_server_max 50 ms"), "%s",
                      str(f, "message"));
            cr_assert_str_eq(str(f, "phase"), "pre-programming");
            cr_assert_str_eq(str(f, "step"), "preconditions");
        }
    }
    JsonObject *summary = json_object_get_object_member(r.root, "summary");
    JsonObject *counts = json_object_get_object_member(summary, "findings");
    cr_assert_eq(num(counts, "error") + num(counts, "warning") + num(counts, "info"),
                 json_array_get_length(findings));
    cr_assert_eq(num(summary, "fail"), 1);
    report_free(&r);
}

/* ---- JUnit XML --------------------------------------------------------------*/

static xmlDocPtr junit(const char *path_in_tree, const char *extra, int expect_rc)
{
    char *out = NULL;
    int rc = th_udsflash(&out, NULL, "check", "--format=junit", extra ? extra : path_in_tree,
                         extra ? path_in_tree : NULL, NULL);
    cr_assert_eq(rc, expect_rc, "check --format=junit %s: exit %d", path_in_tree, rc);
    xmlDocPtr doc = xmlReadMemory(out, (int)strlen(out), "junit.xml", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    cr_assert_not_null(doc, "%s: the JUnit report is not well-formed XML:\n%s", path_in_tree, out);
    g_free(out);
    return doc;
}

static double xpath_number(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    cr_assert_not_null(o, "bad XPath %s", expr);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return v;
}

static char *xpath_string(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    cr_assert_not_null(o, "bad XPath %s", expr);
    xmlChar *s = xmlXPathCastToString(o);
    char *copy = g_strdup((const char *)s);
    xmlFree(s);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return copy;
}

/* Each suite's failures / tests / skipped attributes equal its cases. */
static void assert_suites_add_up(xmlDocPtr doc)
{
    double suites = xpath_number(doc, "count(/testsuites/testsuite)");
    for (int i = 1; i <= (int)suites; i++) {
        char *q[3];
        q[0] = g_strdup_printf("/testsuites/testsuite[%d]/@tests = "
                               "count(/testsuites/testsuite[%d]/testcase)", i, i);
        q[1] = g_strdup_printf("/testsuites/testsuite[%d]/@failures = "
                               "count(/testsuites/testsuite[%d]/testcase[failure])", i, i);
        q[2] = g_strdup_printf("count(/testsuites/testsuite[%d]/testcase[failure and skipped]) = 0",
                               i);
        for (int k = 0; k < 3; k++) {
            char *v = xpath_string(doc, q[k]);
            cr_assert_str_eq(v, "true", "suite %d: %s", i, q[k]);
            g_free(v);
            g_free(q[k]);
        }
    }
}

Test(check, junit_is_xml_with_a_suite_per_session)
{
    xmlDocPtr doc = junit("samples/flash-11bit-faults.pcap", NULL, 1);
    assert_suites_add_up(doc);
    cr_assert_eq(xpath_number(doc, "count(/testsuites/testsuite)"), 1);
    char *type = xpath_string(doc, "/testsuites/testsuite/testcase[@classname='udsflash.session1."
                                   "steps' and @name='programming/transfer-data']/failure/@type");
    cr_assert_str_eq(type, "flash.transfer.block_counter");
    g_free(type);
    char *text = xpath_string(doc, "/testsuites/testsuite/testcase[@name='timing']/failure");
    cr_assert(strstr(text, "80.000 ms > P2_server_max 50 ms"), "%s", text);
    g_free(text);
    /* Warnings do not fail a case unless --fail-on says so. */
    cr_assert_eq(xpath_number(doc, "count(//testcase[@name='isotp']/failure)"), 0);
    xmlFreeDoc(doc);
    doc = junit("samples/flash-11bit-faults.pcap", "--fail-on=warning", 1);
    cr_assert_eq(xpath_number(doc, "count(//testcase[@name='isotp']/failure)"), 1);
    xmlFreeDoc(doc);

    doc = junit("samples/flash-two-ecus.pcapng", NULL, 0);
    assert_suites_add_up(doc);
    cr_assert_eq(xpath_number(doc, "count(/testsuites/testsuite)"), 2);
    cr_assert_eq(xpath_number(doc, "count(//failure)"), 0);
    /* The default profile's optional clear-dtc step is skipped in none of them,
     * and each suite has a case per step. */
    cr_assert_geq(xpath_number(doc, "count(/testsuites/testsuite[1]/testcase)"), 20);
    xmlFreeDoc(doc);

    /* A missing step is a failure of its own case. */
    doc = junit("samples/flash-11bit-cut.pcap", NULL, 1);
    assert_suites_add_up(doc);
    char *why = xpath_string(doc, "//testcase[@name='programming/reset']/failure/@message");
    cr_assert_str_eq(why, "required step never happened");
    g_free(why);
    xmlFreeDoc(doc);
}

/* Names with XML's special characters stay text. */
Test(check, junit_escapes_what_it_quotes)
{
    char *dir = th_tmpdir();
    char *src = th_sample("flash-11bit.pcap");
    char *odd = g_build_filename(dir, "a&b<\"c\">'.pcap", NULL);
    char *data = NULL;
    gsize n;
    cr_assert(g_file_get_contents(src, &data, &n, NULL));
    cr_assert(g_file_set_contents(odd, data, (gssize)n, NULL));
    xmlDocPtr doc = junit(odd, NULL, 0);
    char *name = xpath_string(doc, "/testsuites/@name");
    cr_assert(g_str_has_suffix(name, "a&b<\"c\">'.pcap"), "%s", name);
    g_free(name);
    xmlFreeDoc(doc);
    g_free(data);
    g_free(odd);
    g_free(src);
    g_free(dir);
}

/* ---- exit statuses and options ----------------------------------------------*/

Test(check, exit_statuses)
{
    char *err = NULL;
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "samples/flash-11bit.pcap", NULL), 0);
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "samples/flash-11bit-faults.pcap", NULL), 1);
    /* 2: usage. */
    const char *bad[][2] = {{"--fail-on=fatal", "--fail-on"}, {"--format=yaml", "--format"},
                            {"--ignore=no.such.rule", "no.such.rule"},
                            {"--profile=no-such-profile", "no-such-profile"}};
    for (size_t i = 0; i < UF_ARRAY_LEN(bad); i++) {
        cr_assert_eq(th_udsflash(NULL, &err, "check", bad[i][0], "samples/flash-11bit.pcap", NULL),
                     2, "%s", bad[i][0]);
        cr_assert(strstr(err, bad[i][1]), "%s: %s", bad[i][0], err);
        g_free(err);
    }
    cr_assert_eq(th_udsflash(NULL, &err, "check", NULL), 2);
    g_free(err);
    /* 3: unreadable or damaged input, named with the offset. */
    cr_assert_eq(th_udsflash(NULL, &err, "check", "samples/no-such.pcap", NULL), 3);
    cr_assert(strstr(err, "samples/no-such.pcap"), "%s", err);
    g_free(err);
    char *dir = th_tmpdir(), *data = NULL;
    gsize n;
    char *src = th_sample("flash-11bit.pcap"), *cut = g_build_filename(dir, "cut.pcap", NULL);
    cr_assert(g_file_get_contents(src, &data, &n, NULL));
    cr_assert(g_file_set_contents(cut, data, 15007, NULL));
    char *out = NULL;
    cr_assert_eq(th_udsflash(&out, &err, "check", "--format=json", cut, NULL), 3);
    cr_assert(strstr(err, "cut.pcap") && strstr(err, "byte 15000"), "%s", err);
    report r;
    report_parse(&r, out, cut); /* the report is still written, and says why */
    cr_assert(has_rule(r.root, "capture.damaged"));
    report_free(&r);
    g_free(out);
    g_free(err);
    /* 3: an output file that cannot be written. */
    char *unwritable = g_build_filename(dir, "no-such-dir", "report.json", NULL);
    cr_assert_eq(th_udsflash(NULL, &err, "check", "-o", unwritable, "samples/flash-11bit.pcap",
                             NULL), 3);
    cr_assert(strstr(err, "report.json"), "%s", err);
    g_free(err);
    g_free(unwritable);
    g_free(cut);
    g_free(src);
    g_free(data);
    g_free(dir);
}

Test(check, fail_on_and_ignore)
{
    /* The faults sample with its errors ignored keeps two warnings. */
    const char *faults = "samples/flash-11bit-faults.pcap";
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "--ignore=timing.p2", "--ignore=uds.no_response",
                             "--ignore=flash", faults, NULL), 0);
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "--ignore=timing.p2", "--ignore=uds.no_response",
                             "--ignore=flash", "--fail-on=warning", faults, NULL), 1);
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "--ignore=timing.p2", "--ignore=uds.no_response",
                             "--ignore=flash", "--ignore=isotp.*", "--ignore=uds.nrc",
                             "--fail-on=warning", faults, NULL), 0);
    /* Info findings fail only with --fail-on info. */
    const char *no_times = "samples/flash-11bit-console.candump";
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "--fail-on=warning", no_times, NULL), 0);
    cr_assert_eq(th_udsflash(NULL, NULL, "check", "--fail-on=info", no_times, NULL), 1);

    char *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", "--ignore=isotp", faults, NULL),
                 1);
    report r;
    report_parse(&r, out, faults);
    cr_assert(!has_rule(r.root, "isotp.stmin"));
    cr_assert(has_rule(r.root, "timing.p2"));
    report_free(&r);
    g_free(out);
}

/* A profile file sets severities and limits; its findings follow. The P2 an
 * ECU announces in its 0x50 response still wins over the profile's. */
Test(check, profile_file_sets_severity_and_limits)
{
    char *dir = th_tmpdir(), *source = NULL;
    cr_assert_eq(th_udsflash(&source, NULL, "profiles", "--source", "iso14229", NULL), 0);
    GString *custom = g_string_new(source);
    cr_assert_eq(g_string_replace(custom, "p2 = 50 ms", "p2 = 100 ms", 1), 1);
    cr_assert_eq(g_string_replace(custom, "s3 = 5000 ms", "s3 = 100 ms", 1), 1);
    g_string_append(custom, "\n[severity]\nuds.nrc = error\n");
    char *path = g_build_filename(dir, "custom.ini", NULL);
    cr_assert(g_file_set_contents(path, custom->str, -1, NULL));
    char *arg = g_strconcat("--profile=", path, NULL), *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", arg,
                             "samples/flash-11bit-faults.pcap", NULL), 1);
    report r;
    report_parse(&r, out, path);
    JsonArray *f = array(r.root, "findings");
    bool nrc_error = false, p2_announced = false;
    for (guint i = 0; i < json_array_get_length(f); i++) {
        JsonObject *x = json_array_get_object_element(f, i);
        if (strcmp(str(x, "rule"), "uds.nrc") == 0)
            nrc_error = strcmp(str(x, "severity"), "error") == 0;
        if (strcmp(str(x, "rule"), "timing.p2") == 0)
            p2_announced = strstr(str(x, "message"), "P2_server_max 50 ms (announced by the ECU)");
    }
    cr_assert(nrc_error, "[severity] uds.nrc = error not applied");
    cr_assert(p2_announced, "the ECU's P2 of 50 ms did not win over the profile's 100 ms");
    cr_assert(has_rule(r.root, "timing.s3"), "the profile's S3 of 100 ms not applied");
    cr_assert(strstr(str(json_object_get_object_member(r.root, "profile"), "source"), "custom.ini"));
    report_free(&r);
    g_free(out);
    g_free(arg);
    g_free(path);
    g_string_free(custom, TRUE);
    g_free(source);
    g_free(dir);
}

Test(check, text_report)
{
    char *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "samples/flash-11bit-faults.pcap", NULL), 1);
    cr_assert_null(strchr(out, '\033'), "colours in a pipe:\n%s", out);
    const char *wanted[] = {"FAIL", "tester 0x7E0 -> ECU 0x7E8", "pre-programming", "4096 of 4096 bytes",
                            "kB/s", "c5c0db8c69916ece1235e4ff07cbeff3655ff731142e860801f6c128f04cbc1e",
                            "flash.transfer.block_counter (1)", "frame 124 at 2.590781 s",
                            "conditionsNotCorrect", "Result: FAIL"};
    for (size_t i = 0; i < UF_ARRAY_LEN(wanted); i++)
        cr_assert(strstr(out, wanted[i]), "no \"%s\" in:\n%s", wanted[i], out);
    g_free(out);
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--color=always", "samples/flash-11bit.pcap",
                             NULL), 0);
    cr_assert(strstr(out, "\033["), "--color=always without colours");
    cr_assert(strstr(out, "PASS"));
    g_free(out);
    char *err = NULL;
    cr_assert_eq(th_udsflash(NULL, &err, "check", "--color=sometimes", "samples/flash-11bit.pcap",
                             NULL), 2);
    g_free(err);
}

Test(check, output_file)
{
    char *dir = th_tmpdir();
    char *path = g_build_filename(dir, "report.xml", NULL), *data = NULL;
    char *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=junit", "-o", path,
                             "samples/flash-11bit.pcap", NULL), 0);
    cr_assert(g_file_get_contents(path, &data, NULL, NULL));
    cr_assert(g_str_has_prefix(data, "<?xml"));
    cr_assert_null(strstr(out, "<?xml"), "the report went to stdout too");
    g_free(data);
    g_free(out);
    g_free(path);
    g_free(dir);
}

/* ---- udsflash profiles ------------------------------------------------------*/

Test(profiles, list_summary_and_source)
{
    char *out = NULL, *err = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "profiles", NULL), 0);
    cr_assert(strstr(out, "iso14229") && strstr(out, "his") && strstr(out, "erase-first"), "%s",
              out);
    g_free(out);
    cr_assert_eq(th_udsflash(&out, NULL, "profiles", "his", NULL), 0);
    cr_assert(strstr(out, "routine 0x0202: checkMemory"), "%s", out);
    cr_assert(strstr(out, "fingerprint") && strstr(out, "0xF15A"), "%s", out);
    g_free(out);

    /* The source of a built-in profile is a profile file that reads back to
     * the same summary. */
    char *dir = th_tmpdir(), *source = NULL, *by_name = NULL, *by_file = NULL;
    cr_assert_eq(th_udsflash(&source, NULL, "profiles", "--source", "erase-first", NULL), 0);
    char *path = g_build_filename(dir, "erase-first.ini", NULL);
    cr_assert(g_file_set_contents(path, source, -1, NULL));
    cr_assert_eq(th_udsflash(&by_name, NULL, "profiles", "erase-first", NULL), 0);
    cr_assert_eq(th_udsflash(&by_file, NULL, "profiles", path, NULL), 0);
    /* Only the first line (which names the source) differs. */
    cr_assert_str_eq(strchr(by_file, '\n'), strchr(by_name, '\n'));
    g_free(by_name);
    g_free(by_file);

    /* A bad file: exit 2, the file and line named. */
    char *bad = g_build_filename(dir, "bad.ini", NULL);
    cr_assert(g_file_set_contents(bad, "[profile]\nname = bad\n[phase a]\nstep = Bogus 0x01\n", -1,
                                  NULL));
    cr_assert_eq(th_udsflash(NULL, &err, "profiles", bad, NULL), 2);
    char *where = g_strconcat(bad, ":4:", NULL);
    cr_assert(strstr(err, where) && strstr(err, "Bogus"), "%s", err);
    g_free(err);
    char *arg = g_strconcat("--profile=", bad, NULL);
    cr_assert_eq(th_udsflash(NULL, &err, "check", arg, "samples/flash-11bit.pcap", NULL), 2);
    cr_assert(strstr(err, where), "%s", err);
    g_free(err);
    g_free(arg);
    g_free(where);
    g_free(bad);
    g_free(path);
    g_free(source);
    g_free(dir);
}
