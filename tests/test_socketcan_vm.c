/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SocketCAN on a real Linux kernel: tests/vm/run.sh boots Debian's kernel
 * under qemu (this machine's kernel may have no AF_CAN) and runs
 * tests/vm/scenarios.sh on vcan0 / vcan1 against the kernel's ISO-TP and
 * can-utils. Each scenario below must report PASS; one that is missing
 * from the VM's output fails too. Skipped, with the reason, where qemu,
 * busybox-static, can-utils or the kernel package cannot be had.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *const scenarios[] = {
    /* our userspace ISO-TP sender, the kernel's receiver (isotprecv) */
    "tp_ours_to_kernel_bs0",
    "tp_ours_to_kernel_bs4_stmin5ms",
    "tp_ours_to_kernel_bs1_stmin300us",
    "tp_ours_to_kernel_4095",
    "tp_ours_to_kernel_extended",
    "tp_ours_to_kernel_fd",
    "tp_ours_to_kernel_fd_escape",
    /* the kernel's sender (isotpsend), our receiver */
    "tp_kernel_to_ours_bs0",
    "tp_kernel_to_ours_bs2_stmin5ms",
    "tp_kernel_to_ours_stmin500us",
    "tp_kernel_to_ours_4095",
    "tp_kernel_to_ours_extended",
    "tp_kernel_to_ours_fd",
    "tp_kernel_to_ours_fd_escape",
    /* flashes of udsecu, recorded by candump -l and udsflash check -i */
    "uds_raw_can",
    "uds_kernel_isotp",
    "uds_ours_to_kernel_ecu",
    "uds_kernel_to_our_ecu",
    "uds_fd_extended",
    "uds_two_buses",
    /* udsreplay flash of golden captures into udsecu, recorded and checked */
    "replay_raw_can",
    "replay_kernel_isotp",
    "replay_fd_29bit",
    "replay_parallel_one_bus",
    "replay_parallel_two_buses",
    /* field failures again: the tester's frames reproduced into udsecu (the
     * scheduling error within 1 ms p99), the ECU of a capture answering
     * udsreplay flash */
    "reproduce_vcan",
    "ecu_vcan",
    /* faults injected on a real bus: a bus-off and a lost frame ridden out */
    "faults_vcan",
    /* in a sanitizer build: no report from ASan / UBSan in any program */
    "sanitizers",
};

/* The RESULT line of a scenario in the VM's output, or NULL. */
static const char *result_of(char **lines, const char *name)
{
    size_t n = strlen(name);
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, "RESULT ") && strncmp(*l + 7, name, n) == 0 && (*l)[7 + n] == ' ')
            return *l + 7 + n + 1;
    return NULL;
}

Test(socketcan_vm, every_scenario_passes_on_a_real_kernel, .timeout = 1500)
{
    char *dir = th_tmpdir(), *results = g_build_filename(dir, "results.txt", NULL);
    char *script = g_build_filename(UF_SOURCE_DIR, "tests", "vm", "run.sh", NULL);
    const char *argv[] = {"bash", script, UF_BUILD_DIR, results, NULL};
    char *err = NULL;
    int rc = th_run(argv, NULL, &err);
    char *text = NULL;
    if (rc != 0 || !g_file_get_contents(results, &text, NULL, NULL)) {
        /* Freed before the test ends here, so that LeakSanitizer has
         * nothing to add to the reason. */
        char why[1024];
        g_strlcpy(why, g_strstrip(err), sizeof(why));
        if (rc != 77)
            cr_log_error("the VM's log:\n%s", err);
        g_free(err);
        g_free(script);
        g_free(results);
        g_free(dir);
        if (rc == 77)
            cr_skip_test("%s", why);
        cr_assert_fail("the VM did not run to its end (exit %d): its log is above", rc);
    }
    char **lines = g_strsplit(text, "\n", -1);
    unsigned failed = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
        const char *r = result_of(lines, scenarios[i]);
        if (r && g_str_has_prefix(r, "PASS")) {
            cr_log_info("%s: %s", scenarios[i], r);
            continue;
        }
        cr_log_error("%s: %s", scenarios[i], r ? r : "did not report");
        failed++;
    }
    for (char **l = lines; *l; l++) /* a scenario this list does not know */
        if (g_str_has_prefix(*l, "RESULT ") && !strstr(*l, " PASS ")) {
            bool known = false;
            for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++)
                known |= result_of(lines, scenarios[i]) == *l + 7 + strlen(scenarios[i]) + 1;
            if (!known) {
                cr_log_error("%s", *l);
                failed++;
            }
        }
    if (failed)
        cr_log_error("the VM's log:\n%s", err);
    /* Freed before the verdict: a failed assertion ends the test here. */
    g_strfreev(lines);
    g_free(text);
    g_free(err);
    g_free(script);
    g_free(results);
    g_free(dir);
    cr_assert_eq(failed, 0, "%u of %zu SocketCAN scenarios failed", failed,
                 G_N_ELEMENTS(scenarios));
}
