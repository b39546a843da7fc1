/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay script and flash, end to end: each sample golden session
 * reflashes udsecu's core (on the simulated bus on its virtual clock, and
 * through a DoIP entity on loopback TCP); the flash then holds the golden
 * image byte for byte and the recorded reflash passes udsflash check.
 * Under each udsecu fault the recovery policy either brings the right
 * image or a clear failure, never a false success. Security access with
 * the sample GenerateKeyEx library and with a command; identification;
 * dry run; usage.
 */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

#define SEEDKEY UF_SEEDKEY_LIB

typedef struct flash_run {
    int status;
    char *out, *err;
    char *dir, *ecu, *record;
} flash_run;

static void flash_run_free(flash_run *f)
{
    g_free(f->out);
    g_free(f->err);
    g_free(f->dir);
    g_free(f->ecu);
    g_free(f->record);
}

/* udsreplay flash INPUT --sim <tmp>/ecu.bin --record <tmp>/reflash.pcapng
 * --seedkey the sample library, then the extra arguments (NULL-ended). */
static void flash(flash_run *f, const char *input, ...)
{
    memset(f, 0, sizeof(*f));
    f->dir = th_tmpdir();
    f->ecu = g_build_filename(f->dir, "ecu.bin", NULL);
    f->record = g_build_filename(f->dir, "reflash.pcapng", NULL);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)UF_UDSREPLAY);
    g_ptr_array_add(argv, (gpointer) "flash");
    g_ptr_array_add(argv, (gpointer)input);
    g_ptr_array_add(argv, (gpointer) "--sim");
    g_ptr_array_add(argv, f->ecu);
    va_list ap;
    va_start(ap, input);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    f->status = th_run((const char *const *)argv->pdata, &f->out, &f->err);
    g_ptr_array_free(argv, TRUE);
}

/* flash() makes its own folder; the recording's path must be known
 * before, so it goes in a folder of its own. */
static void flash_recorded(flash_run *f, const char *input, const char *extra)
{
    char *dir = th_tmpdir();
    char *record = g_build_filename(dir, "reflash.pcapng", NULL);
    flash(f, input, "--seedkey", SEEDKEY, "--record", record, extra, NULL);
    g_free(f->record);
    f->record = record;
    g_free(dir);
}

static void assert_reflash_recorded(const char *sample, const char *profile)
{
    char *golden = th_sample(sample);
    flash_run f;
    flash_recorded(&f, golden, NULL);
    cr_assert_eq(f.status, 0, "%s: %s%s", sample, f.out, f.err);
    cr_assert(g_str_has_prefix(f.out, "success: the ECU confirmed routine"), "%s", f.out);
    rh_assert_ecu_holds_golden(f.ecu, golden, 0);
    int status;
    JsonParser *p;
    JsonArray *d = rh_check_downloads(f.record, profile, 0, &status, &p);
    cr_assert_eq(status, 0, "udsflash check %s fails", f.record);
    cr_assert_eq(json_array_get_length(d), 1);
    g_object_unref(p);
    flash_run_free(&f);
    g_free(golden);
}

Test(reflash, classic_can_11bit) { assert_reflash_recorded("flash-11bit.pcap", NULL); }
Test(reflash, can_fd_29bit) { assert_reflash_recorded("flash-29bit-fd.pcap", NULL); }
Test(reflash, extended_addressing) { assert_reflash_recorded("flash-extended.pcap", NULL); }
Test(reflash, erase_first_order)
{
    assert_reflash_recorded("flash-erase-first.pcap", "erase-first");
}
Test(reflash, each_of_two_ecus)
{
    char *golden = th_sample("flash-two-ecus.pcap");
    for (int s = 1; s <= 2; s++) {
        flash_run f;
        char session[4];
        snprintf(session, sizeof(session), "%d", s);
        flash(&f, golden, "--seedkey", SEEDKEY, "--session", session, NULL);
        cr_assert_eq(f.status, 0, "session %d: %s%s", s, f.out, f.err);
        flash_run_free(&f);
    }
    flash_run f;
    flash(&f, golden, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 3);
    cr_assert(strstr(f.err, "choose one with --session"), "%s", f.err);
    flash_run_free(&f);
    g_free(golden);
}

/* DoIP: udsecu's entity on loopback TCP, routing activation and all; the
 * recording is Ethernet, the TCP connection as a capture would show it. */
Test(reflash, doip_over_loopback_tcp) { assert_reflash_recorded("doip-flash.pcap", NULL); }
Test(reflash, doip_ipv6_capture) { assert_reflash_recorded("doip-flash-ipv6.pcapng", NULL); }

Test(reflash, unsupported_service_is_a_clear_failure)
{
    /* The HIS sample writes its fingerprint to 0xF15A, which udsecu
     * refuses: the replay stops there, before any erase. */
    char *golden = th_sample("flash-his.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 1);
    cr_assert(strstr(f.out, "failed:") && strstr(f.out, "NRC 0x31 requestOutOfRange"), "%s",
              f.out);
    flash_run_free(&f);
    g_free(golden);
}

/* ---- the script -------------------------------------------------------------------*/

Test(script, flashes_like_the_capture)
{
    char *dir;
    char *script = rh_write_script("flash-29bit-fd.pcap", 0, &dir);
    char *image = g_build_filename(dir, "golden.d1.bin", NULL);
    cr_assert(g_file_test(image, G_FILE_TEST_EXISTS), "%s", image);
    flash_run f;
    flash(&f, script, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    char *golden = th_sample("flash-29bit-fd.pcap");
    rh_assert_ecu_holds_golden(f.ecu, golden, 0);
    g_free(golden);
    flash_run_free(&f);
    g_free(image);
    g_free(script);
    g_free(dir);
}

Test(script, a_different_ecu_is_refused_before_the_erase)
{
    char *dir;
    char *script = rh_write_script("flash-11bit.pcap", 0, &dir);
    /* The golden ECU's VIN, one letter changed: "WVWZZZ1KZBW000042" -> ...043. */
    rh_edit(script, "30 30 30 30 34 32", "30 30 30 30 34 33");
    flash_run f;
    flash(&f, script, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 4, "%s%s", f.out, f.err);
    cr_assert(strstr(f.out, "a different ECU: DID 0xF190"), "%s", f.out);
    cr_assert(strstr(f.out, "nothing was erased"), "%s", f.out);
    flash_run_free(&f);
    flash(&f, script, "--seedkey", SEEDKEY, "--force", NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    flash_run_free(&f);
    flash(&f, script, "--seedkey", SEEDKEY, "--identify", "F187", NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    flash_run_free(&f);
    g_free(script);
    g_free(dir);
}

Test(script, a_damaged_script_is_refused_with_its_place)
{
    char *dir;
    char *script = rh_write_script("flash-11bit.pcap", 0, &dir);
    rh_edit(script, "\"request\": \"10 03\"", "\"request\": \"10 0G\"");
    flash_run f;
    flash(&f, script, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 3);
    cr_assert(strstr(f.err, "steps[0].request: not hex bytes"), "%s", f.err);
    flash_run_free(&f);
    g_free(dir);
    /* An image that is not the one the script names. */
    char *script2 = rh_write_script("flash-11bit.pcap", 0, &dir);
    char *image = g_build_filename(dir, "golden.d1.bin", NULL);
    cr_assert(g_file_set_contents(image, "junk", 4, NULL));
    flash(&f, script2, "--seedkey", SEEDKEY, NULL);
    cr_assert_eq(f.status, 3);
    cr_assert(strstr(f.err, "the script says 4096 bytes"), "%s", f.err);
    flash_run_free(&f);
    g_free(image);
    g_free(script2);
    g_free(script);
    g_free(dir);
}

/* ---- faults and recovery ------------------------------------------------------------*/

static void assert_fault(const char *fault, const char *recovery, bool recovers)
{
    char *golden = th_sample("flash-11bit.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey", SEEDKEY, "--sim-fault", fault, "--recovery", recovery, NULL);
    if (recovers) {
        cr_assert_eq(f.status, 0, "%s / %s: %s%s", fault, recovery, f.out, f.err);
        rh_assert_ecu_holds_golden(f.ecu, golden, 0);
    } else {
        cr_assert_eq(f.status, 1, "%s / %s: %s%s", fault, recovery, f.out, f.err);
        cr_assert(g_str_has_prefix(f.out, "failed:"), "%s", f.out);
        cr_assert(!strstr(f.out, "success"), "%s", f.out);
    }
    flash_run_free(&f);
    g_free(golden);
}

Test(recovery, lost_answer_repeats_the_block) { assert_fault("drop,sid=0x36,n=2", "repeat", true); }
Test(recovery, late_answer_repeats_the_block) { assert_fault("late,sid=0x36,n=2,ms=200", "repeat", true); }
Test(recovery, programming_failure_repeats_the_block)
{
    assert_fault("nrc,sid=0x36,n=2,nrc=0x72", "repeat", true);
}
Test(recovery, restart_from_request_download) { assert_fault("drop,sid=0x36,n=2", "restart", true); }
Test(recovery, random_losses) { assert_fault("drop,sid=0x36,p=0.3", "repeat", true); }
Test(recovery, slow_flow_control) { assert_fault("fc,bs=1,stmin=5", "none", true); }
Test(recovery, long_erase_with_response_pending)
{
    /* An erase of 12 s, answered 0x78 every P2* / 2: P2* restarted on
     * each, tester present meanwhile, no overall cap. */
    char *golden = th_sample("flash-11bit.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey", SEEDKEY, "--sim-erase-time", "12000", "--format", "json",
          NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, f.out, -1, NULL), "%s", f.out);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    cr_assert_geq(json_object_get_int_member(o, "response_pending"), 4, "%s", f.out);
    cr_assert_geq(json_object_get_int_member(o, "tester_present"), 5, "%s", f.out);
    g_object_unref(p);
    rh_assert_ecu_holds_golden(f.ecu, golden, 0);
    flash_run_free(&f);
    g_free(golden);
}
Test(recovery, policy_none_fails_cleanly) { assert_fault("drop,sid=0x36,n=2", "none", false); }
Test(recovery, power_cut_is_never_success)
{
    assert_fault("stop,block=2", "repeat", false);
    assert_fault("stop,block=2", "restart", false);
}
Test(recovery, out_of_range_is_not_retried) { assert_fault("nrc,sid=0x36,n=2,nrc=0x31", "repeat", false); }
Test(recovery, late_routine_answer_fails) { assert_fault("late,sid=0x31,n=1,ms=8000", "repeat", false); }

/* ---- security access -----------------------------------------------------------------*/

Test(keys, a_missing_library_is_named)
{
    char *golden = th_sample("flash-11bit.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey", "/nonexistent/libkeys.so", NULL);
    cr_assert_eq(f.status, 2);
    cr_assert(strstr(f.err, "--seedkey /nonexistent/libkeys.so: cannot load"), "%s", f.err);
    flash_run_free(&f);
    /* A library without GenerateKeyEx. */
    flash(&f, golden, "--seedkey", "libz.so.1", NULL);
    cr_assert_eq(f.status, 2);
    cr_assert(strstr(f.err, "no GenerateKeyEx"), "%s", f.err);
    flash_run_free(&f);
    g_free(golden);
}

Test(keys, no_key_source_stops_at_security_access)
{
    char *golden = th_sample("flash-11bit.pcap");
    flash_run f;
    flash(&f, golden, NULL);
    cr_assert_eq(f.status, 1);
    cr_assert(strstr(f.out, "give --seedkey LIB or --seedkey-cmd CMD"), "%s", f.out);
    flash_run_free(&f);
    g_free(golden);
}

Test(keys, a_key_command)
{
    /* udsecu's algorithm (docs/udsecu.md) in POSIX shell arithmetic. */
    char *dir = th_tmpdir();
    char *cmd = g_build_filename(dir, "keygen.sh", NULL);
    const char *sh =
        "#!/bin/sh\n"
        "l=$(($1)); s=$((0x$2))\n"
        "k=$(( s ^ 0x5A3CC3A5 )); r=$(( l % 32 ))\n"
        "[ $r -ne 0 ] && k=$(( ((k << r) | (k >> (32 - r))) & 0xFFFFFFFF ))\n"
        "k=$(( (k + 0x1021 * l) & 0xFFFFFFFF ))\n"
        "printf '%08X\\n' $(( k ^ (k >> 13) ))\n";
    cr_assert(g_file_set_contents(cmd, sh, -1, NULL));
    cr_assert_eq(chmod(cmd, 0755), 0);
    char *golden = th_sample("flash-11bit.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey-cmd", cmd, NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    flash_run_free(&f);
    /* A failing command: a clear failure at the key. */
    flash(&f, golden, "--seedkey-cmd", "false", NULL);
    cr_assert_eq(f.status, 1);
    cr_assert(strstr(f.out, "computing the key: --seedkey-cmd false: failed (exit status 1)"),
              "%s", f.out);
    flash_run_free(&f);
    g_free(golden);
    g_free(cmd);
    g_free(dir);
}

/* ---- the command line ------------------------------------------------------------------*/

Test(cli, dry_run_sends_nothing)
{
    char *golden = th_sample("flash-11bit.pcap"), *out = NULL;
    const char *argv[] = {UF_UDSREPLAY, "flash", golden, "--dry-run", NULL};
    cr_assert_eq(th_run(argv, &out, NULL), 0);
    cr_assert(strstr(out, "CAN: tester 0x7E0 -> ECU 0x7E8, normal addressing"), "%s", out);
    cr_assert(strstr(out, "[key computed from the live seed]"), "%s", out);
    cr_assert(strstr(out, "TransferData: 4096 bytes to 0x00010000"), "%s", out);
    g_free(out);
    g_free(golden);
}

Test(cli, usage_errors)
{
    char *golden = th_sample("flash-11bit.pcap"), *err = NULL;
    const char *none[] = {UF_UDSREPLAY, "flash", golden, NULL};
    cr_assert_eq(th_run(none, NULL, &err), 2);
    cr_assert(strstr(err, "one of --can, --kernel-isotp, --doip, --sim or --sim-recorded"), "%s",
              err);
    g_free(err);
    const char *both[] = {UF_UDSREPLAY, "flash", golden, "--sim", "/tmp/x", "--seedkey", "a",
                          "--seedkey-cmd", "b", NULL};
    cr_assert_eq(th_run(both, NULL, NULL), 2);
    const char *policy[] = {UF_UDSREPLAY, "flash", golden, "--sim", "/tmp/x", "--recovery",
                            "pray", NULL};
    cr_assert_eq(th_run(policy, NULL, NULL), 2);
    g_free(golden);
}

Test(cli, json_report)
{
    char *golden = th_sample("flash-extended.pcap");
    flash_run f;
    flash(&f, golden, "--seedkey", SEEDKEY, "--format", "json", NULL);
    cr_assert_eq(f.status, 0, "%s%s", f.out, f.err);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, f.out, -1, NULL), "%s", f.out);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    cr_assert_str_eq(json_object_get_string_member(o, "verdict"), "success");
    cr_assert(json_object_get_boolean_member(o, "check_confirmed"));
    cr_assert_eq(json_object_get_int_member(o, "bytes"), 2048);
    cr_assert_eq(json_object_get_int_member(o, "steps_done"), json_object_get_int_member(o, "steps"));
    /* The blocks' time: some of the flash, not all of it (the erase and
     * the reset are outside it). */
    double transfer = json_object_get_double_member(o, "transfer_time");
    cr_assert_gt(transfer, 0.0, "%s", f.out);
    cr_assert_lt(transfer, json_object_get_double_member(o, "duration") / 2, "%s", f.out);
    g_object_unref(p);
    flash_run_free(&f);
    g_free(golden);
}
