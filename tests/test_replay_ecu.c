/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay ecu, end to end: the ECU of a field capture answers
 * udsreplay flash on the simulated bus (flash --sim-recorded) and over
 * DoIP on loopback TCP (udsreplay ecu --doip, a process of its own). The
 * capture of the replay raises the same rules at the same steps as the
 * field capture: the ECU's faults are reproduced.
 */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* rh_rules_at_steps, one per line (g_free). */
static char *rules_at_steps(const char *file, const char *doip_port)
{
    char **rules = rh_rules_at_steps(file, doip_port);
    char *joined = g_strjoinv("\n", rules);
    g_strfreev(rules);
    return joined;
}

/* udsreplay flash SAMPLE --sim-recorded SAMPLE: the tester of the field
 * capture against its ECU, recorded; the exit status. */
static int replay_against_recorded(const char *sample, const char *margin, char **recording,
                                   char **out)
{
    char *path = th_sample(sample), *dir = th_tmpdir();
    *recording = g_build_filename(dir, "replay.pcapng", NULL);
    const char *argv[] = {UF_UDSREPLAY, "flash", path, "--sim-recorded", path, "--record",
                          *recording, "--margin", margin, "--format", "json", "--quiet", NULL};
    char *err = NULL;
    int status = th_run(argv, out, &err);
    g_free(err);
    g_free(path);
    g_free(dir);
    return status;
}

/* ---- on the simulated bus -------------------------------------------------------*/

Test(sim, replay_against_replay_completes_a_flash)
{
    char *recording, *out;
    int status = replay_against_recorded("flash-11bit.pcap", "0", &recording, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "\"verdict\" : \"success\"") || strstr(out, "\"verdict\": \"success\""),
              "%s", out);
    cr_assert(strstr(out, "\"ecu_unforeseen\""), "%s", out);
    char *rules = rules_at_steps(recording, NULL);
    cr_assert_str_eq(rules, "", "the replay of a conformant flash is conformant");
    g_free(rules);
    g_free(recording);
    g_free(out);
}

/* Each field failure that lies with the ECU: its capture and the capture
 * of the replay raise the same rules at the same steps. The tester's
 * --margin lets it wait out the late answers, as a patient tool would. */
Test(sim, the_ecus_faults_are_reproduced)
{
    static const char *const samples[] = {"fault-p2.pcap", "fault-p2star.pcap", "fault-nrc.pcap"};
    static const char *const expected[] = {"timing.p2@preconditions", "timing.p2star@erase",
                                           "uds.nrc@fingerprint"};
    for (size_t i = 0; i < G_N_ELEMENTS(samples); i++) {
        char *recording, *out;
        int status = replay_against_recorded(samples[i], "1500", &recording, &out);
        cr_assert_eq(status, 0, "%s: %s", samples[i], out);
        char *field = th_sample(samples[i]);
        char *want = rules_at_steps(field, NULL), *got = rules_at_steps(recording, NULL);
        cr_assert_str_eq(want, expected[i], "the sample itself");
        cr_assert_str_eq(got, want, "%s: reproduced", samples[i]);
        g_free(want);
        g_free(got);
        g_free(field);
        g_free(recording);
        g_free(out);
    }
}

/* ---- DoIP on loopback ---------------------------------------------------------------*/

typedef struct ecu_process {
    GPid pid;
    int out_fd, err_fd;
    uint16_t port;
} ecu_process;

static void ecu_start(ecu_process *p, const char *sample)
{
    char *path = th_sample(sample);
    /* At twice the recorded pace: the capture's answers come up to 46 ms
     * after their requests (P2 50 ms), and on a real clock a loaded host
     * (a sanitizer build, tests in parallel) may add a few ms to that. */
    const char *argv[] = {UF_UDSREPLAY, "ecu", path, "--doip", "--listen", "127.0.0.1",
                          "--port", "0", "--format", "json", "--speed", "2", NULL};
    GError *error = NULL;
    cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                       NULL, &p->pid, NULL, &p->out_fd, &p->err_fd, &error),
              "%s", error ? error->message : "");
    g_free(path);
    /* Its first line names the port. */
    char line[512];
    size_t n = 0;
    while (n < sizeof(line) - 1 && read(p->out_fd, line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = 0;
    const char *at = strstr(line, " on port ");
    cr_assert(at, "no port in \"%s\"", line);
    p->port = (uint16_t)atoi(at + 9);
    cr_assert_gt(p->port, 0);
}

/* SIGTERM, then its exit status and the rest of its stdout (g_free). */
static int ecu_stop(ecu_process *p, char **report)
{
    kill(p->pid, SIGTERM);
    int status;
    cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
    GString *s = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = read(p->out_fd, buf, sizeof(buf))) > 0)
        g_string_append_len(s, buf, n);
    close(p->out_fd);
    close(p->err_fd);
    g_spawn_close_pid(p->pid);
    *report = g_string_free(s, FALSE);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(doip, flash_against_the_ecu_of_a_capture)
{
    ecu_process ecu;
    ecu_start(&ecu, "doip-flash.pcap");
    char *path = th_sample("doip-flash.pcap"), *dir = th_tmpdir();
    char *recording = g_build_filename(dir, "replay.pcapng", NULL);
    char *target = g_strdup_printf("127.0.0.1:%u", ecu.port);
    const char *argv[] = {UF_UDSREPLAY, "flash", path, "--doip", target, "--record", recording,
                          "--quiet", NULL};
    char *out = NULL, *err = NULL;
    int status = th_run(argv, &out, &err);
    char *report;
    int ecu_status = ecu_stop(&ecu, &report);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_assert_eq(ecu_status, 0, "%s", report);
    /* The ECU's summary: every request foreseen, each one answered by an
     * exchange of its own (a tester present the faster erase made
     * unneeded may stay unused). */
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, report, -1, NULL), "%s", report);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    cr_assert_gt(json_object_get_int_member(o, "requests"), 20);
    cr_assert_eq(json_object_get_int_member(o, "exchanges_used"),
                 json_object_get_int_member(o, "requests"), "%s", report);
    cr_assert_eq(json_array_get_length(json_object_get_array_member(o, "unforeseen")), 0);
    /* The entity listened on a free port: the recording shows it. */
    char port[8];
    g_snprintf(port, sizeof(port), "%u", ecu.port);
    char *rules = rules_at_steps(recording, port);
    cr_assert_str_eq(rules, "", "the replay over DoIP is a conformant flash");
    g_free(rules);
    g_object_unref(p);
    g_free(report);
    g_free(out);
    g_free(err);
    g_free(target);
    g_free(recording);
    g_free(dir);
    g_free(path);
}

/* ---- usage --------------------------------------------------------------------------*/

static void assert_status(int want, const char *why, const char *const *argv)
{
    char *out = NULL, *err = NULL;
    int status = th_run(argv, &out, &err);
    cr_assert_eq(status, want, "%s: %s%s", why, out, err);
    cr_assert(strstr(err, why), "expected \"%s\" in: %s", why, err);
    g_free(out);
    g_free(err);
}

Test(cli, usage_errors)
{
    char *can = th_sample("flash-11bit.pcap"), *doip = th_sample("doip-flash.pcap");
    assert_status(2, "one of --can, --kernel-isotp or --doip",
                  (const char *const[]){UF_UDSREPLAY, "ecu", can, NULL});
    assert_status(2, "an NRC from 0x10",
                  (const char *const[]){UF_UDSREPLAY, "ecu", can, "--can", "vcan0",
                                        "--unseen-service-nrc", "0x78", NULL});
    assert_status(2, "answer it with --can",
                  (const char *const[]){UF_UDSREPLAY, "ecu", can, "--doip", NULL});
    assert_status(2, "answer it with --doip",
                  (const char *const[]){UF_UDSREPLAY, "ecu", doip, "--can", "vcan0", NULL});
    assert_status(3, "no-such.pcap",
                  (const char *const[]){UF_UDSREPLAY, "ecu", "no-such.pcap", "--can", "vcan0",
                                        NULL});
    assert_status(2, "--sim-recorded: give one capture per ECU",
                  (const char *const[]){UF_UDSREPLAY, "flash", can, "--session", "1",
                                        "--session", "1", "--sim-recorded", can, NULL});
    g_free(can);
    g_free(doip);
}
