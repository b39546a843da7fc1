/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults injected by udsreplay flash, reproduce and ecu (--fault, --seed),
 * end to end: the same seed records the same capture byte for byte; each
 * fault is in the report; the tester recovers from what a tester should
 * recover from (a lost link, a bus-off, a DoIP connection cut); a flow
 * control altered on the way makes the tester break STmin as the field
 * tester of fault-stmin.pcap did.
 */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs udsreplay with the arguments after the program; stdout in *out,
 * stderr in *err (NULL: dropped); the exit status. */
static int run_udsreplay(const char *const *args, char **out, char **err)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)UF_UDSREPLAY);
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    char *dropped = NULL;
    int status = th_run((const char *const *)argv->pdata, out, err ? err : &dropped);
    g_free(dropped);
    g_ptr_array_free(argv, TRUE);
    return status;
}

static int udsreplay(char **out, const char *const *args)
{
    return run_udsreplay(args, out, NULL);
}

static JsonObject *parse(JsonParser *p, const char *json)
{
    cr_assert(json_parser_load_from_data(p, json, -1, NULL), "not JSON: %s", json);
    return json_node_get_object(json_parser_get_root(p));
}

/* The "what" of every fault injected, one per line (g_free). */
static char *injected(JsonObject *report)
{
    cr_assert(json_object_has_member(report, "faults"), "no faults in the report");
    JsonArray *a = json_object_get_array_member(json_object_get_object_member(report, "faults"),
                                                "injected");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(a); i++)
        g_string_append_printf(s, "%s\n", json_object_get_string_member(
                                              json_array_get_object_element(a, i), "what"));
    return g_string_free(s, FALSE);
}

static char *slurp(const char *path)
{
    char *data = NULL;
    gsize n = 0;
    cr_assert(g_file_get_contents(path, &data, &n, NULL), "%s", path);
    char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, n);
    g_free(data);
    return hex;
}

/* udsreplay flash SAMPLE --sim into a fresh flash file, recorded in the
 * folder `dir`; extra options after. */
static int flash_sim(const char *sample, const char *dir, char **out, const char *const *extra)
{
    char *path = th_sample(sample), *ecu = g_build_filename(dir, "ecu.bin", NULL);
    char *rec = g_build_filename(dir, "run.pcapng", NULL);
    GPtrArray *a = g_ptr_array_new();
    const char *base[] = {"flash", path, "--sim", ecu, "--seedkey", UF_SEEDKEY_LIB, "--record",
                          rec, "--format", "json", "--quiet"};
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(a, (char *)base[i]);
    for (; *extra; extra++)
        g_ptr_array_add(a, (char *)*extra);
    g_ptr_array_add(a, NULL);
    int status = udsreplay(out, (const char *const *)a->pdata);
    g_ptr_array_free(a, TRUE);
    g_free(path);
    g_free(ecu);
    g_free(rec);
    return status;
}

/* ---- determinism ------------------------------------------------------------------*/

/* Random drops and corruptions, chosen by the seed: two runs with one seed
 * inject the same faults and record the same capture byte for byte;
 * another seed other faults. */
Test(flash, one_seed_records_the_same_capture)
{
    static const char *const faults[] = {"--fault", "drop,p=0.003", "--fault", "corrupt,p=0.003",
                                         "--seed", NULL, NULL};
    char *digest[3], *log[3];
    const char *seeds[3] = {"7", "7", "8"};
    for (int i = 0; i < 3; i++) {
        const char *extra[G_N_ELEMENTS(faults)];
        memcpy(extra, faults, sizeof(faults));
        extra[5] = seeds[i];
        char *dir = th_tmpdir(), *out = NULL;
        flash_sim("flash-11bit.pcap", dir, &out, extra);
        JsonParser *p = json_parser_new();
        log[i] = injected(parse(p, out));
        char *rec = g_build_filename(dir, "run.pcapng", NULL);
        digest[i] = slurp(rec);
        g_object_unref(p);
        g_free(rec);
        g_free(out);
        g_free(dir);
    }
    cr_assert_neq(strlen(log[0]), 0, "p=0.003 over some 3000 frames injected nothing");
    cr_assert_str_eq(log[0], log[1], "the same seed, the same faults");
    cr_assert_str_eq(digest[0], digest[1], "the same seed, the same capture");
    cr_assert_str_neq(log[0], log[2], "another seed, other faults");
    for (int i = 0; i < 3; i++) {
        g_free(digest[i]);
        g_free(log[i]);
    }
}

/* ---- what a tester recovers from ----------------------------------------------------*/

/* Flashes with one fault; the report, checked to be a success with the
 * fault logged (`logged` found among the faults injected). */
static void assert_recovers(const char *sample, const char *fault, const char *logged,
                            const char *recovery_member)
{
    char *dir = th_tmpdir(), *out = NULL;
    int status = flash_sim(sample, dir, &out, (const char *const[]){"--fault", fault, NULL});
    cr_assert_eq(status, 0, "%s: %s", fault, out);
    JsonParser *p = json_parser_new();
    JsonObject *o = parse(p, out);
    char *log = injected(o);
    cr_assert(strstr(log, logged), "%s: expected \"%s\" among:\n%s", fault, logged, log);
    JsonObject *rec = json_object_get_object_member(o, "recovery");
    cr_assert_gt(json_object_get_int_member(rec, recovery_member), 0, "%s: %s", fault, out);
    g_free(log);
    g_object_unref(p);
    g_free(out);
    g_free(dir);
}

Test(flash, rides_out_a_link_loss)
{
    assert_recovers("flash-11bit.pcap", "link-loss,block=2,ms=300",
                    "link loss over after 300 ms", "repeats");
}

Test(flash, rides_out_a_bus_off)
{
    assert_recovers("flash-11bit.pcap", "bus-off,block=2,ms=120", "bus-off over after 120 ms",
                    "repeats");
}

Test(flash, reconnects_after_a_doip_disconnect)
{
    assert_recovers("doip-flash.pcap", "disconnect,block=2", "DoIP connection closed",
                    "reconnects");
}

/* The field ECU of fault-stmin.pcap asks for STmin 1 ms. Its flow control
 * altered to STmin 0 on the way to the tester, our tester sends as fast as
 * the bus goes: the capture raises the field capture's isotp.stmin at the
 * transfer, which the same flash without the fault does not. */
Test(flash, altered_flow_control_breaks_stmin_as_in_the_field)
{
    char *field = th_sample("fault-stmin.pcap");
    char **want = rh_rules_at_steps(field, NULL);
    cr_assert(rh_contains(want, "isotp.stmin@transfer-data"), "the sample itself");
    for (int faulty = 0; faulty < 2; faulty++) {
        char *dir = th_tmpdir(), *rec = g_build_filename(dir, "run.pcapng", NULL), *out = NULL;
        const char *args[] = {"flash", field, "--sim-recorded", field, "--record", rec,
                              "--quiet", faulty ? "--fault" : NULL, "fc,dir=rx,stmin=0", NULL};
        cr_assert_eq(udsreplay(&out, args), 0, "%s", out);
        char **got = rh_rules_at_steps(rec, NULL);
        cr_assert_eq(rh_contains(got, "isotp.stmin@transfer-data"), faulty, "%s",
                     faulty ? "the altered flow control was not followed"
                            : "our tester broke STmin by itself");
        if (faulty)
            cr_assert(strstr(out, "received flow control"), "%s", out);
        g_strfreev(got);
        g_free(out);
        g_free(rec);
        g_free(dir);
    }
    g_strfreev(want);
    g_free(field);
}

/* ---- reproduce ------------------------------------------------------------------------*/

Test(reproduce, a_dropped_frame_diverges_and_one_seed_repeats)
{
    char *field = th_sample("fault-stmin.pcap");
    /* One consecutive frame of the first block dropped: the ECU's ISO-TP
     * sees a wrong sequence number and never answers that block. */
    char *out = NULL;
    const char *drop[] = {"reproduce", field, "--sim-recorded", field, "--format", "json",
                          "--ecu-wait", "300", "--fault", "drop,frame=40", "--quiet", NULL};
    cr_assert_eq(udsreplay(&out, drop), 1, "%s", out);
    JsonParser *p = json_parser_new();
    JsonObject *o = parse(p, out);
    cr_assert_str_eq(json_object_get_string_member(o, "verdict"), "diverged");
    char *log = injected(o);
    cr_assert(strstr(log, "dropped sent frame 40"), "%s", log);
    g_free(log);
    g_object_unref(p);
    g_free(out);

    char *digest[2];
    for (int i = 0; i < 2; i++) {
        char *dir = th_tmpdir(), *rec = g_build_filename(dir, "run.pcapng", NULL);
        const char *args[] = {"reproduce", field, "--sim-recorded", field, "--record", rec,
                              "--on-divergence", "continue", "--fault", "corrupt,p=0.01",
                              "--seed", "5", "--quiet", NULL};
        cr_assert_eq(udsreplay(&out, args), 1, "the corruptions go unnoticed: %s", out);
        cr_assert(strstr(out, "corrupted sent frame"), "%s", out);
        digest[i] = slurp(rec);
        g_free(out);
        g_free(rec);
        g_free(dir);
    }
    cr_assert_str_eq(digest[0], digest[1], "the same seed, the same capture");
    g_free(digest[0]);
    g_free(digest[1]);
    g_free(field);
}

/* ---- udsreplay ecu over DoIP -------------------------------------------------------*/

Test(ecu, closes_the_doip_connection_and_the_tester_reconnects)
{
    char *path = th_sample("doip-flash.pcap");
    const char *argv[] = {UF_UDSREPLAY, "ecu", path, "--doip", "--listen", "127.0.0.1",
                          "--port", "0", "--format", "json", "--speed", "2", "--fault",
                          "disconnect,block=3", "--quiet", NULL};
    GPid pid;
    int out_fd;
    GError *error = NULL;
    cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                       NULL, &pid, NULL, &out_fd, NULL, &error),
              "%s", error ? error->message : "");
    char line[512];
    size_t n = 0;
    while (n < sizeof(line) - 1 && read(out_fd, line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = 0;
    const char *at = strstr(line, " on port ");
    cr_assert(at, "no port in \"%s\"", line);
    char *target = g_strdup_printf("127.0.0.1:%d", atoi(at + 9));
    char *out = NULL;
    const char *flash[] = {"flash", path, "--doip", target, "--format", "json", "--quiet", NULL};
    int status = udsreplay(&out, flash);
    kill(pid, SIGTERM);
    int ecu_status;
    cr_assert_eq(waitpid(pid, &ecu_status, 0), pid);
    GString *report = g_string_new(NULL);
    char buf[4096];
    ssize_t got;
    while ((got = read(out_fd, buf, sizeof(buf))) > 0)
        g_string_append_len(report, buf, got);
    close(out_fd);
    g_spawn_close_pid(pid);
    cr_assert_eq(status, 0, "%s", out);
    JsonParser *p = json_parser_new();
    JsonObject *o = parse(p, out);
    cr_assert_eq(json_object_get_int_member(json_object_get_object_member(o, "recovery"),
                                            "reconnects"), 1, "%s", out);
    JsonParser *q = json_parser_new();
    char *log = injected(parse(q, report->str));
    cr_assert(strstr(log, "DoIP connection closed at received message"), "%s", log);
    g_free(log);
    g_object_unref(p);
    g_object_unref(q);
    g_string_free(report, TRUE);
    g_free(out);
    g_free(target);
    g_free(path);
}

/* ---- usage ------------------------------------------------------------------------------*/

static void assert_refused(const char *why, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int status = run_udsreplay(args, &out, &err);
    cr_assert_eq(status, 2, "%s: %s%s", why, out, err);
    cr_assert(strstr(err, why), "expected \"%s\" in: %s", why, err);
    g_free(out);
    g_free(err);
}

Test(cli, bad_faults_are_refused_before_anything_is_sent)
{
    char *can = th_sample("flash-11bit.pcap"), *doip = th_sample("doip-flash.pcap");
    assert_refused("the kind is one of",
                   (const char *const[]){"flash", can, "--sim", "/nonexistent/ecu.bin", "--fault",
                                         "explode,frame=1", NULL});
    assert_refused("say when",
                   (const char *const[]){"flash", can, "--sim", "/nonexistent/ecu.bin", "--fault",
                                         "drop", NULL});
    assert_refused("one of frame=, msg=, block=, p= only",
                   (const char *const[]){"flash", can, "--sim", "/nonexistent/ecu.bin", "--fault",
                                         "drop,frame=1,msg=2", NULL});
    assert_refused("delay needs ms=",
                   (const char *const[]){"flash", can, "--sim", "/nonexistent/ecu.bin", "--fault",
                                         "delay,frame=3", NULL});
    assert_refused("acts on CAN frames",
                   (const char *const[]){"flash", doip, "--sim", "/nonexistent/ecu.bin", "--fault",
                                         "drop,frame=3", NULL});
    assert_refused("cuts a DoIP connection",
                   (const char *const[]){"reproduce", can, "--sim-recorded", can, "--fault",
                                         "disconnect,block=1", NULL});
    assert_refused("bad value",
                   (const char *const[]){"ecu", can, "--can", "vcan0", "--fault", "drop,p=2",
                                         NULL});
    g_free(can);
    g_free(doip);
}
