/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay flash of several ECUs in one run, end to end: both ECUs of
 * the two-ECU capture on one simulated bus at once, each ending with its
 * golden image and a recording that passes udsflash check; the same run
 * twice gives the same recording byte for byte; one after another takes
 * about the sum of the times, in parallel less; two DoIP connections at
 * once; an ECU refused does not stop the other; usage errors.
 */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <string.h>

#define SEEDKEY UF_SEEDKEY_LIB

typedef struct parallel_run {
    int status;
    char *out, *err;
    char *dir, *ecu[2], *record;
    JsonParser *report; /* --format json */
} parallel_run;

static void parallel_free(parallel_run *r)
{
    g_free(r->out);
    g_free(r->err);
    g_free(r->dir);
    g_free(r->ecu[0]);
    g_free(r->ecu[1]);
    g_free(r->record);
    if (r->report)
        g_object_unref(r->report);
}

/* udsreplay flash with two simulated ECUs, a recording, a JSON report,
 * then the files, sessions and options given (NULL-ended). */
static void flash_two(parallel_run *r, const char *first, ...)
{
    memset(r, 0, sizeof(*r));
    r->dir = th_tmpdir();
    r->ecu[0] = g_build_filename(r->dir, "ecu1.bin", NULL);
    r->ecu[1] = g_build_filename(r->dir, "ecu2.bin", NULL);
    r->record = g_build_filename(r->dir, "reflash.pcapng", NULL);
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = {UF_UDSREPLAY, "flash", "--sim", r->ecu[0], "--sim", r->ecu[1],
                           "--seedkey", SEEDKEY, "--record", r->record, "--format", "json",
                           "--quiet"};
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    r->status = th_run((const char *const *)argv->pdata, &r->out, &r->err);
    g_ptr_array_free(argv, TRUE);
    if (r->out[0] == '{') {
        r->report = json_parser_new();
        cr_assert(json_parser_load_from_data(r->report, r->out, -1, NULL), "%s", r->out);
    }
}

static JsonObject *report(const parallel_run *r)
{
    cr_assert(r->report, "no JSON report: %s%s", r->out, r->err);
    return json_node_get_object(json_parser_get_root(r->report));
}

static JsonObject *job(const parallel_run *r, guint i)
{
    return json_array_get_object_element(json_object_get_array_member(report(r), "jobs"), i);
}

static double seconds(JsonObject *o, const char *member)
{
    return json_object_get_double_member(o, member);
}

/* udsflash check passes the recording, with a download in each of its two
 * sessions. */
static void assert_recording_passes(const parallel_run *r)
{
    int status;
    JsonParser *p;
    for (guint i = 0; i < 2; i++) {
        JsonArray *d = rh_check_downloads(r->record, NULL, i, &status, &p);
        cr_assert_eq(status, 0, "udsflash check %s fails", r->record);
        cr_assert_eq(json_array_get_length(d), 1);
        g_object_unref(p);
    }
}

/* ---- one bus ------------------------------------------------------------------------*/

Test(one_bus, both_ecus_of_a_capture_at_once)
{
    char *golden = th_sample("flash-two-ecus.pcap");
    parallel_run r;
    flash_two(&r, golden, "--session", "1", "--session", "2", NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    JsonObject *o = report(&r);
    cr_assert_str_eq(json_object_get_string_member(o, "verdict"), "success");
    cr_assert_str_eq(json_object_get_string_member(o, "mode"), "parallel");
    for (guint i = 0; i < 2; i++) {
        cr_assert_str_eq(json_object_get_string_member(job(&r, i), "verdict"), "success");
        cr_assert(json_object_get_boolean_member(job(&r, i), "check_confirmed"));
        rh_assert_ecu_holds_golden(r.ecu[i], golden, i);
    }
    /* Virtual time: the two flashes overlap, so the run takes less than
     * the sum of their times, though they share the bus. */
    double total = seconds(o, "duration"), sum = seconds(o, "sum_of_durations");
    cr_assert_lt(total, 0.75 * sum, "parallel %.3f s, sum %.3f s", total, sum);
    cr_assert_gt(seconds(o, "speedup"), 1.3);
    /* The recording of the bus holds both reflashes, and both pass. */
    assert_recording_passes(&r);
    parallel_free(&r);
    g_free(golden);
}

Test(one_bus, the_same_run_records_the_same_bytes)
{
    char *golden = th_sample("flash-two-ecus.pcap");
    parallel_run a, b;
    flash_two(&a, golden, "--session", "1", "--session", "2", NULL);
    flash_two(&b, golden, "--session", "1", "--session", "2", NULL);
    cr_assert_eq(a.status, 0, "%s%s", a.out, a.err);
    cr_assert_eq(b.status, 0, "%s%s", b.out, b.err);
    gchar *x = NULL, *y = NULL;
    gsize nx = 0, ny = 0;
    cr_assert(g_file_get_contents(a.record, &x, &nx, NULL));
    cr_assert(g_file_get_contents(b.record, &y, &ny, NULL));
    cr_assert_gt(nx, 10000);
    cr_assert(nx == ny && memcmp(x, y, nx) == 0, "%s and %s differ", a.record, b.record);
    g_free(x);
    g_free(y);
    parallel_free(&a);
    parallel_free(&b);
    g_free(golden);
}

Test(one_bus, one_after_another_takes_longer)
{
    char *golden = th_sample("flash-two-ecus.pcap");
    parallel_run par, seq;
    flash_two(&par, golden, "--session", "1", "--session", "2", NULL);
    flash_two(&seq, golden, "--session", "1", "--session", "2", "--sequential", NULL);
    cr_assert_eq(seq.status, 0, "%s%s", seq.out, seq.err);
    cr_assert_str_eq(json_object_get_string_member(report(&seq), "mode"), "sequential");
    for (guint i = 0; i < 2; i++)
        rh_assert_ecu_holds_golden(seq.ecu[i], golden, i);
    /* One after another: the second starts when the first has ended. */
    double end1 = seconds(job(&seq, 0), "started") + seconds(job(&seq, 0), "duration");
    cr_assert_geq(seconds(job(&seq, 1), "started"), end1);
    cr_assert_lt(seconds(report(&par), "duration"), seconds(report(&seq), "duration"));
    parallel_free(&par);
    parallel_free(&seq);
    g_free(golden);
}

Test(one_bus, a_refused_ecu_does_not_stop_the_other)
{
    char *dir;
    char *script = rh_write_script("flash-two-ecus.pcap", 1, &dir);
    rh_edit(script, "30 30 30 30 34 32", "30 30 30 30 34 33"); /* another VIN */
    char *golden = th_sample("flash-two-ecus.pcap");
    char *script2 = g_build_filename(dir, "second.json", NULL);
    const char *argv[] = {UF_UDSREPLAY, "script", golden, "--session", "2", "-o", script2, NULL};
    char *err = NULL;
    cr_assert_eq(th_run(argv, NULL, &err), 0, "%s", err);
    parallel_run r;
    flash_two(&r, script, script2, NULL);
    cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
    cr_assert_str_eq(json_object_get_string_member(job(&r, 0), "verdict"), "refused");
    cr_assert_str_eq(json_object_get_string_member(job(&r, 1), "verdict"), "success");
    rh_assert_ecu_holds_golden(r.ecu[1], golden, 1);
    parallel_free(&r);
    g_free(err);
    g_free(script2);
    g_free(golden);
    g_free(script);
    g_free(dir);
}

/* ---- DoIP ---------------------------------------------------------------------------*/

Test(doip, two_connections_at_once)
{
    char *a = th_sample("doip-flash.pcap"), *b = th_sample("doip-flash-ipv6.pcapng");
    parallel_run r;
    flash_two(&r, a, b, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    rh_assert_ecu_holds_golden(r.ecu[0], a, 0);
    rh_assert_ecu_holds_golden(r.ecu[1], b, 0);
    /* Two connections, two entities: the flashes overlap in time. */
    double s0 = seconds(job(&r, 0), "started"), s1 = seconds(job(&r, 1), "started");
    cr_assert_lt(s1, s0 + seconds(job(&r, 0), "duration"));
    cr_assert_lt(s0, s1 + seconds(job(&r, 1), "duration"));
    cr_assert(strstr(json_object_get_string_member(job(&r, 0), "channel"), "DoIP 127.0.0.1"));
    /* Both connections are in the recording, each passes. */
    assert_recording_passes(&r);
    parallel_free(&r);
    g_free(a);
    g_free(b);
}

/* ---- usage --------------------------------------------------------------------------*/

static void assert_usage(const char *why, const char *const *argv)
{
    char *out = NULL, *err = NULL;
    int status = th_run(argv, &out, &err);
    cr_assert_eq(status, 2, "%s: %s%s", why, out, err);
    cr_assert(strstr(err, why), "expected \"%s\" in: %s", why, err);
    g_free(out);
    g_free(err);
}

Test(cli, usage_errors)
{
    char *two = th_sample("flash-two-ecus.pcap"), *can = th_sample("flash-11bit.pcap");
    char *doip = th_sample("doip-flash.pcap");
    const char *sim = "/nonexistent/ecu.bin";
    assert_usage("give one flash file per ECU",
                 (const char *[]){UF_UDSREPLAY, "flash", two, "--session", "1", "--session",
                                  "2", "--sim", sim, NULL});
    assert_usage("--can is given 2 times for 3 ECUs",
                 (const char *[]){UF_UDSREPLAY, "flash", can, can, can, "--can", "vcan0", "--can",
                                  "vcan1", NULL});
    assert_usage("use the same CAN ids on vcan0",
                 (const char *[]){UF_UDSREPLAY, "flash", can, can, "--can", "vcan0", NULL});
    assert_usage("same tester address",
                 (const char *[]){UF_UDSREPLAY, "flash", doip, doip, "--doip", "192.0.2.1",
                                  NULL});
    assert_usage("flash them in separate runs",
                 (const char *[]){UF_UDSREPLAY, "flash", can, doip, "--sim", sim, "--sim", sim,
                                  NULL});
    assert_usage("--session is given 2 times for 3 files",
                 (const char *[]){UF_UDSREPLAY, "flash", can, can, can, "--session", "1",
                                  "--session", "1", "--sim", sim, NULL});
    g_free(two);
    g_free(can);
    g_free(doip);
}
