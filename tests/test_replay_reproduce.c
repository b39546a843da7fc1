/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay reproduce, end to end on the simulated bus: each field
 * failure that lies with the tester, sent again frame by frame against
 * udsecu, raises the rules of the field capture at the same steps; the
 * same run records the same bytes; a divergence stops the run or is
 * followed; against the ECU of the capture itself every frame comes back
 * as recorded.
 */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct run {
    int status;
    char *dir, *recording, *out, *err;
    JsonObject *report;
    JsonParser *parser;
} run;

/* udsreplay reproduce SAMPLE against a simulated udsecu (or the ECU of
 * `recorded_ecu`), recorded, with more arguments. */
static void reproduce(run *r, const char *sample, const char *recorded_ecu, ...)
{
    memset(r, 0, sizeof(*r));
    r->dir = th_tmpdir();
    r->recording = g_build_filename(r->dir, "reproduced.pcapng", NULL);
    char *path = th_sample(sample), *ecu = g_build_filename(r->dir, "ecu.bin", NULL);
    char *recorded = recorded_ecu ? th_sample(recorded_ecu) : NULL;
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = {UF_UDSREPLAY, "reproduce", path, "--record", r->recording,
                           "--format", "json", "--quiet", "--seedkey", UF_SEEDKEY_LIB};
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    g_ptr_array_add(argv, recorded ? "--sim-recorded" : "--sim");
    g_ptr_array_add(argv, recorded ? recorded : ecu);
    va_list ap;
    va_start(ap, recorded_ecu);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    r->status = th_run((const char *const *)argv->pdata, &r->out, &r->err);
    g_ptr_array_free(argv, TRUE);
    r->parser = json_parser_new();
    cr_assert(json_parser_load_from_data(r->parser, r->out, -1, NULL), "%s%s", r->out, r->err);
    r->report = json_node_get_object(json_parser_get_root(r->parser));
    g_free(path);
    g_free(ecu);
    g_free(recorded);
}

static void run_free(run *r)
{
    g_object_unref(r->parser);
    g_free(r->dir);
    g_free(r->recording);
    g_free(r->out);
    g_free(r->err);
}

/* ---- the tester's faults ---------------------------------------------------------------*/

Test(sim, the_testers_faults_are_reproduced)
{
    static const struct {
        const char *sample, *rule;
        bool same;      /* no other rule: the ECU's reaction adds none */
    } cases[] = {
        {"fault-stmin.pcap", "isotp.stmin@transfer-data", true},
        {"fault-abort.pcap", "isotp.n_cr@transfer-data", true},
        /* udsecu falls back to the default session after S3 and refuses
         * what follows: the same rules, and its refusals besides. */
        {"fault-s3.pcap", "timing.s3@security-access", false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        run r;
        reproduce(&r, cases[i].sample, NULL, "--on-divergence", "continue", NULL);
        cr_assert_eq(r.status, 1, "%s: udsecu is not the recorded ECU: %s%s", cases[i].sample,
                     r.out, r.err);
        cr_assert_eq(json_object_get_int_member(r.report, "sent"),
                     json_object_get_int_member(r.report, "tester_frames"), "%s", r.out);
        cr_assert_eq(json_object_get_int_member(r.report, "keys_computed"), 1,
                     "the key of udsecu's seed: %s", r.out);
        char *field = th_sample(cases[i].sample);
        char **want = rh_rules_at_steps(field, NULL), **got = rh_rules_at_steps(r.recording, NULL);
        cr_assert(rh_contains(want, cases[i].rule), "%s itself", cases[i].sample);
        for (char **w = want; *w; w++)
            cr_assert(rh_contains(got, *w), "%s: %s not reproduced", cases[i].sample, *w);
        if (cases[i].same)
            cr_assert_eq(g_strv_length(got), g_strv_length(want), "%s: more rules",
                         cases[i].sample);
        else
            cr_assert(rh_contains(got, "uds.nrc@fingerprint"), "%s: the refusal", cases[i].sample);
        g_strfreev(want);
        g_strfreev(got);
        g_free(field);
        run_free(&r);
    }
}

Test(sim, the_same_run_records_the_same_bytes)
{
    run a, b;
    reproduce(&a, "fault-stmin.pcap", NULL, "--on-divergence", "continue", NULL);
    reproduce(&b, "fault-stmin.pcap", NULL, "--on-divergence", "continue", NULL);
    gchar *x = NULL, *y = NULL;
    gsize nx = 0, ny = 0;
    cr_assert(g_file_get_contents(a.recording, &x, &nx, NULL));
    cr_assert(g_file_get_contents(b.recording, &y, &ny, NULL));
    cr_assert_gt(nx, 10000);
    cr_assert(nx == ny && memcmp(x, y, nx) == 0, "two runs, two recordings");
    g_free(x);
    g_free(y);
    run_free(&a);
    run_free(&b);
}

Test(sim, every_frame_as_recorded_against_the_recorded_ecu)
{
    run r;
    reproduce(&r, "flash-11bit.pcap", "flash-11bit.pcap", NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_str_eq(json_object_get_string_member(r.report, "verdict"), "reproduced");
    cr_assert_eq(json_object_get_int_member(r.report, "matched"),
                 json_object_get_int_member(r.report, "ecu_frames"));
    cr_assert_eq(json_array_get_length(json_object_get_array_member(r.report, "divergences")),
                 0);
    /* On the virtual clock, frames go out on time but when the bus is
     * busy: below a frame's length. */
    JsonObject *e = json_object_get_object_member(r.report, "scheduling_error_us");
    cr_assert_lt(json_object_get_double_member(e, "p99"), 300.0, "%s", r.out);
    char **got = rh_rules_at_steps(r.recording, NULL);
    cr_assert_eq(g_strv_length(got), 0, "a conformant flash again");
    g_strfreev(got);
    run_free(&r);
}

/* ---- policies and options ---------------------------------------------------------------*/

Test(sim, stops_at_the_first_divergence)
{
    run r;
    reproduce(&r, "flash-11bit.pcap", NULL, NULL);
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(json_object_get_boolean_member(r.report, "stopped"));
    JsonArray *d = json_object_get_array_member(r.report, "divergences");
    cr_assert_eq(json_array_get_length(d), 1);
    /* udsecu's software version is not the golden ECU's. */
    JsonObject *first = json_array_get_object_element(d, 0);
    cr_assert_eq(json_object_get_int_member(first, "frame"), 13);
    cr_assert_lt(json_object_get_int_member(r.report, "sent"),
                 json_object_get_int_member(r.report, "tester_frames"));
    run_free(&r);
}

Test(sim, until_and_speed)
{
    run all, part, fast;
    reproduce(&all, "flash-11bit.pcap", "flash-11bit.pcap", NULL);
    reproduce(&part, "flash-11bit.pcap", "flash-11bit.pcap", "--until", "100", NULL);
    reproduce(&fast, "flash-11bit.pcap", "flash-11bit.pcap", "--speed", "2", NULL);
    cr_assert_eq(part.status, 0, "%s%s", part.out, part.err);
    gint64 sent = json_object_get_int_member(part.report, "sent");
    cr_assert(sent > 10 && sent < json_object_get_int_member(all.report, "sent"), "%s",
              part.out);
    /* Twice as fast: both sides' recorded delays halved. */
    cr_assert_eq(fast.status, 0, "%s%s", fast.out, fast.err);
    double t1 = json_object_get_double_member(all.report, "duration");
    double t2 = json_object_get_double_member(fast.report, "duration");
    cr_assert(t2 > t1 * 0.45 && t2 < t1 * 0.6, "%.3f s at 2x against %.3f s", t2, t1);
    run_free(&all);
    run_free(&part);
    run_free(&fast);
}

/* --progress always: the bar on stderr, to 100% of the session's frames,
 * cleared before the log lines it would garble. */
Test(cli, progress_bar)
{
    char *sample = th_sample("flash-11bit.pcap");
    const char *argv[] = {UF_UDSREPLAY, "reproduce", sample, "--sim-recorded", sample,
                          "--progress", "always", NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(th_run(argv, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(err, "] 100%  710 of 710 frames  0 divergences"), "%s", err);
    cr_assert(strstr(err, "\r\033[K["), "the bar redraws in place: %s", err);
    cr_assert_null(strstr(out, "frames  0 divergences"), "the bar is not in the report");
    g_free(out);
    g_free(err);
    g_free(sample);
}

Test(cli, usage_errors)
{
    char *can = th_sample("flash-11bit.pcap"), *doip = th_sample("doip-flash.pcap");
    const char *const none[] = {UF_UDSREPLAY, "reproduce", can, NULL};
    const char *const policy[] = {UF_UDSREPLAY, "reproduce", can, "--sim", "/tmp/x",
                                  "--on-divergence", "maybe", NULL};
    const char *const on_doip[] = {UF_UDSREPLAY, "reproduce", doip, "--sim", "/tmp/x", NULL};
    const char *const realtime[] = {UF_UDSREPLAY, "reproduce", can, "--sim", "/tmp/x",
                                    "--realtime", NULL};
    const char *const progress[] = {UF_UDSREPLAY, "reproduce", can, "--sim", "/tmp/x",
                                    "--progress", "sometimes", NULL};
    const char *const *cases[] = {none, policy, on_doip, realtime, progress};
    const char *why[] = {"one of --can, --sim or --sim-recorded", "--on-divergence stop|continue",
                         "ran on DoIP", "--realtime with --can only", "--progress auto|always|never"};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *out = NULL, *err = NULL;
        cr_assert_eq(th_run(cases[i], &out, &err), 2, "%s", err);
        cr_assert(strstr(err, why[i]), "%s", err);
        g_free(out);
        g_free(err);
    }
    g_free(can);
    g_free(doip);
}
