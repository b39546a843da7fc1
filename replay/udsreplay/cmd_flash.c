/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay flash FILE...: flashes ECUs the way golden sessions did, from
 * captures or scripts, reacting to each live ECU (uf_replay.h); several
 * at once (fleet.h), each from its own script over its own link.
 * Exit status: 0 every ECU confirmed the flash; 1 one failed or was not
 * confirmed; 2 usage; 3 unreadable input, a transport or file that cannot
 * be opened; 4 refused: a different ECU, or the user said no.
 */
#include "flash_view.h"
#include "udsreplay.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef struct options {
    char **sessions;
    char **can, **kernel_isotp, **doip, **sim, **sim_recorded;
    char **sim_faults, **faults;
    gint64 sim_seed, seed;
    gint sim_erase_ms;
    char *seedkey, *variant, *seedkey_cmd;
    char *identify;
    gboolean force, dry_run, yes, quiet, sequential;
    char *recovery, *on_mismatch, *timing, *format, *record, *progress;
    gint retries, margin_ms;
} options;

static void options_free(options *o)
{
    g_strfreev(o->sessions);
    g_strfreev(o->can);
    g_strfreev(o->kernel_isotp);
    g_strfreev(o->doip);
    g_strfreev(o->sim);
    g_strfreev(o->sim_recorded);
    g_strfreev(o->sim_faults);
    g_strfreev(o->faults);
    g_free(o->seedkey);
    g_free(o->variant);
    g_free(o->seedkey_cmd);
    g_free(o->identify);
    g_free(o->recovery);
    g_free(o->on_mismatch);
    g_free(o->timing);
    g_free(o->format);
    g_free(o->record);
    g_free(o->progress);
}

/* ---- what would be sent ------------------------------------------------------------*/

static void dry_run(const uf_script *s)
{
    const uf_script_link *l = &s->link;
    char a[32], b[32];
    if (l->doip)
        printf("DoIP: tester 0x%04X -> ECU 0x%04X\n", l->tester_la, l->ecu_la);
    else
        printf("%s: tester %s -> ECU %s, %s addressing\n", l->fd ? "CAN FD" : "CAN",
               uf_isotp_endpoint_name(&(uf_isotp_endpoint){0, l->tester_id, -1}, a, sizeof(a)),
               uf_isotp_endpoint_name(&(uf_isotp_endpoint){0, l->ecu_id, -1}, b, sizeof(b)),
               uf_addressing_name(l->addressing));
    for (guint i = 0; i < s->steps->len; i++) {
        const uf_script_step *st = uf_script_step_at(s, i);
        char what[200];
        printf("%3u  %-20s ", i + 1, st->name ? st->name : "");
        if (st->download) {
            const uf_script_download *d = uf_script_download_at(s, st->download);
            printf("TransferData: %" G_GUINT64_FORMAT " bytes to 0x%08" G_GINT64_MODIFIER
                   "X in blocks of the length the ECU announces (recorded: %u blocks)\n",
                   d->size, d->address, d->blocks);
            continue;
        }
        printf("%s", uf_script_step_describe(st, what, sizeof(what)));
        if (st->request[0] == 0x27 && st->request_len >= 2 && !(st->request[1] & 1))
            printf("  [key computed from the live seed]");
        printf("\n");
    }
}

/* ---- asking ------------------------------------------------------------------------*/

static bool parse_identify(const char *text, GArray *out, uf_error *err)
{
    if (strcmp(text, "none") == 0)
        return true;
    char **parts = g_strsplit(text, ",", -1);
    bool ok = true;
    for (char **p = parts; ok && *p; p++) {
        const char *t = g_str_has_prefix(*p, "0x") || g_str_has_prefix(*p, "0X") ? *p + 2 : *p;
        guint64 v;
        ok = g_ascii_string_to_unsigned(t, 16, 0, 0xFFFF, &v, NULL);
        if (!ok) {
            uf_error_set(err, "--identify: \"%s\" is not a DID (hex, such as F190)", *p);
            break;
        }
        uint16_t did = (uint16_t)v;
        g_array_append_val(out, did);
    }
    g_strfreev(parts);
    return ok;
}

/* ---- the ECUs of the run -------------------------------------------------------------*/

/* Each transport option is given once (every ECU on that bus or entity)
 * or once per ECU, in the order of the ECUs; the simulated ECUs' options
 * (each_one names what one ECU needs) once per ECU, as each simulated ECU
 * keeps its own flash or plays its own recording. */
static bool pick(char **values, const char *option, const char *each_one, guint jobs, guint i,
                 const char **out, uf_error *err)
{
    guint n = values ? g_strv_length(values) : 0;
    *out = NULL;
    if (!n)
        return true;
    if (n != 1 && n != jobs) {
        uf_error_set(err, "%s is given %u times for %u ECUs: give it once (the same for every "
                     "ECU) or once per ECU", option, n, jobs);
        return false;
    }
    if (n == 1 && jobs > 1 && each_one) {
        uf_error_set(err, "%s: give one %s per ECU (%u)", option, each_one, jobs);
        return false;
    }
    *out = values[n == 1 ? 0 : i];
    return true;
}

static bool parse_sessions(char **texts, GArray *out, uf_error *err)
{
    for (char **t = texts; t && *t; t++) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(*t, 10, 1, G_MAXUINT32, &v, NULL)) {
            uf_error_set(err, "--session: \"%s\" is not a session number (1, 2, ...)", *t);
            return false;
        }
        uint32_t n = (uint32_t)v;
        g_array_append_val(out, n);
    }
    return true;
}

/* The runs of the files and sessions given: one file with several
 * sessions (the ECUs of one capture), or files each with its session. */
static GPtrArray *load_jobs(const options *o, int files, char **paths, uf_cli_analysis *an,
                            int *status, uf_error *err)
{
    GArray *sessions = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GPtrArray *jobs = g_ptr_array_new_with_free_func((GDestroyNotify)ur_job_free);
    *status = UF_EXIT_USAGE;
    if (!parse_sessions(o->sessions, sessions, err))
        goto fail;
    guint n_sessions = sessions->len;
    if (n_sessions > 1 && files > 1 && n_sessions != (guint)files) {
        uf_error_set(err, "--session is given %u times for %d files: give it once per file, "
                     "or give one file and a session per ECU", n_sessions, files);
        goto fail;
    }
    guint n = (files == 1 && n_sessions > 1) ? n_sessions : (guint)files;
    for (guint i = 0; i < n; i++) {
        const char *path = paths[files == 1 ? 0 : i];
        uint32_t session = n_sessions == 0   ? 0
                           : n_sessions == 1 ? g_array_index(sessions, uint32_t, 0)
                                             : g_array_index(sessions, uint32_t, i);
        uf_script *s = ur_load_script(path, session, an, status);
        if (!s) {
            err->msg[0] = 0; /* ur_load_script said why */
            goto fail;
        }
        char *base = g_path_get_basename(path);
        char *label = session ? g_strdup_printf("%s#%u", base, session) : g_strdup(base);
        g_ptr_array_add(jobs, ur_job_new(i + 1, label, s));
        g_free(label);
        g_free(base);
    }
    g_array_free(sessions, TRUE);
    *status = UF_EXIT_OK;
    return jobs;
fail:
    g_array_free(sessions, TRUE);
    g_ptr_array_free(jobs, TRUE);
    return NULL;
}

/* --sim-recorded FILE[#N]: the simulated ECU answers as session N of FILE
 * did. */
static bool load_recorded_ecu(ur_job *j, const char *text, uf_cli_analysis *an, int *status,
                              uf_error *err)
{
    j->recording = ur_load_recording_spec("--sim-recorded", text, an, status);
    if (!j->recording) {
        err->msg[0] = 0; /* ur_load_recording said why */
        return false;
    }
    if (j->recording->link.doip != j->script->link.doip) {
        uf_error_set(err, "--sim-recorded %s: its ECU answered on %s, the script runs on %s",
                     text, j->recording->link.doip ? "DoIP" : "CAN",
                     j->script->link.doip ? "DoIP" : "CAN");
        *status = UF_EXIT_USAGE;
        return false;
    }
    j->link_options.sim_recording = j->recording;
    uf_recorded_ecu_config_defaults(&j->link_options.sim_recorded);
    return true;
}

/* Where each job goes; two jobs on one bus must not share an id, nor two
 * DoIP connections to one entity a tester address (the entity would take
 * the second for the first, ISO 13400-2:2019 9.2.4). */
static bool assign_links(GPtrArray *jobs, const options *o, const uf_link_fault *faults,
                         size_t n_faults, uf_cli_analysis *an, int *status, uf_error *err)
{
    guint n = jobs->len;
    bool sim_can = false, sim_doip = false;
    for (guint i = 0; i < n; i++) {
        ur_job *j = g_ptr_array_index(jobs, i);
        ur_link_options *lo = &j->link_options;
        const char *recorded;
        if (!pick(o->can, "--can", NULL, n, i, &lo->can, err) ||
            !pick(o->kernel_isotp, "--kernel-isotp", NULL, n, i, &lo->kernel_isotp, err) ||
            !pick(o->doip, "--doip", NULL, n, i, &lo->doip, err) ||
            !pick(o->sim, "--sim", "flash file", n, i, &lo->sim, err) ||
            !pick(o->sim_recorded, "--sim-recorded", "capture", n, i, &recorded, err))
            return false;
        if (recorded && !load_recorded_ecu(j, recorded, an, status, err))
            return false;
        lo->sim_faults = o->sim_faults;
        /* --seed makes the whole run repeatable, the simulated ECU too. */
        lo->sim_seed = (uint64_t)(o->sim_seed ? o->sim_seed : o->seed);
        lo->faults = faults;
        lo->n_faults = n_faults;
        lo->fault_seed = (uint64_t)o->seed;
        if (n_faults && !ur_link_faults_check(lo, &j->script->link, err))
            return false;
        lo->sim_erase_ms = o->sim_erase_ms > 0 ? (uint32_t)o->sim_erase_ms : 0;
        if (ur_link_simulated(lo)) {
            sim_can |= !j->script->link.doip;
            sim_doip |= j->script->link.doip;
        }
    }
    if (sim_can && sim_doip) {
        uf_error_set(err, "--sim: the CAN sessions run on the simulated bus's clock and the DoIP "
                          "ones on the real clock: flash them in separate runs");
        return false;
    }
    for (guint a = 0; a < n; a++)
        for (guint b = a + 1; b < n; b++) {
            const ur_job *x = g_ptr_array_index(jobs, a), *y = g_ptr_array_index(jobs, b);
            const uf_script_link *lx = &x->script->link, *ly = &y->script->link;
            const ur_link_options *ox = &x->link_options, *oy = &y->link_options;
            if (lx->doip != ly->doip)
                continue;
            if (!lx->doip) {
                const char *bx = ur_link_simulated(ox) ? "the simulated bus"
                                 : ox->can             ? ox->can
                                                       : ox->kernel_isotp;
                const char *by = ur_link_simulated(oy) ? "the simulated bus"
                                 : oy->can             ? oy->can
                                                       : oy->kernel_isotp;
                if (bx && by && strcmp(bx, by) == 0 &&
                    (lx->ecu_id == ly->ecu_id || lx->tester_id == ly->tester_id)) {
                    uf_error_set(err, "[%u] %s and [%u] %s use the same CAN ids on %s: each ECU "
                                 "needs its own", x->index, x->label, y->index, y->label, bx);
                    return false;
                }
            } else if (ox->doip && oy->doip && strcmp(ox->doip, oy->doip) == 0 &&
                       lx->tester_la == ly->tester_la) {
                uf_error_set(err, "[%u] %s and [%u] %s connect to %s with the same tester address "
                             "0x%04X: the entity accepts one connection per tester address",
                             x->index, x->label, y->index, y->label, ox->doip, lx->tester_la);
                return false;
            }
        }
    return true;
}

/* The real targets of the run, for the question; NULL: none. */
static char *real_targets(GPtrArray *jobs)
{
    GString *t = NULL;
    for (guint i = 0; i < jobs->len; i++) {
        const ur_link_options *lo = &((ur_job *)g_ptr_array_index(jobs, i))->link_options;
        const char *name = lo->can ? lo->can : lo->kernel_isotp ? lo->kernel_isotp : lo->doip;
        bool real = (lo->can || lo->kernel_isotp) ? ur_real_interface(name)
                                                  : (lo->doip && !ur_loopback_host(name));
        if (!real || (t && strstr(t->str, name)))
            continue;
        if (!t)
            t = g_string_new(name);
        else
            g_string_append_printf(t, ", %s", name);
    }
    return t ? g_string_free(t, FALSE) : NULL;
}

/* ---- the command ---------------------------------------------------------------------*/

static bool one_of(const char *value, const char *const *allowed)
{
    if (!value)
        return true;
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

static bool check_choices(const options *o, uf_replay_options *ro)
{
    if ((o->recovery && !uf_recovery_parse(o->recovery, &ro->recovery)) ||
        !one_of(o->on_mismatch, (const char *const[]){"stop", "continue", NULL}) ||
        !one_of(o->timing, (const char *const[]){"fast", "recorded", NULL}) ||
        !one_of(o->format, (const char *const[]){"text", "json", NULL}) ||
        !one_of(o->progress, (const char *const[]){"auto", "always", "never", NULL}) ||
        (o->seedkey && o->seedkey_cmd)) {
        fprintf(stderr, "udsreplay flash: --recovery repeat|restart|none, --on-mismatch "
                        "stop|continue, --timing fast|recorded, --format text|json, --progress "
                        "auto|always|never; --seedkey or --seedkey-cmd, not both\n");
        return false;
    }
    ro->continue_on_mismatch = o->on_mismatch && strcmp(o->on_mismatch, "continue") == 0;
    ro->recorded_delays = o->timing && strcmp(o->timing, "recorded") == 0;
    ro->force = o->force;
    if (o->retries >= 0)
        ro->retries = (uint32_t)o->retries;
    return true;
}

int ur_cmd_flash(int argc, char **argv)
{
    options o = {.retries = -1, .margin_ms = -1};
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"session", 's', 0, G_OPTION_ARG_STRING_ARRAY, &o.sessions,
         "The capture's session (default: the only replayable one); once per file, or "
         "several for one file: its ECUs in parallel", "N"},
        {"can", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.can,
         "Flash on a SocketCAN interface (raw CAN, our ISO-TP); once, or once per ECU", "IFACE"},
        {"kernel-isotp", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.kernel_isotp,
         "Flash on a SocketCAN interface with the kernel's ISO-TP; once, or once per ECU",
         "IFACE"},
        {"doip", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.doip,
         "Flash over DoIP (port 13400 by default); once, or once per ECU", "HOST[:PORT]"},
        {"sim", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.sim,
         "Flash a simulated udsecu in this process, keeping its flash in FILE; once per ECU",
         "FILE"},
        {"sim-recorded", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.sim_recorded,
         "Flash a simulated ECU that answers as the ECU of a capture did (udsreplay ecu); "
         "once per ECU", "FILE[#N]"},
        {"sim-fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.sim_faults,
         "A fault of the simulated ECUs, as udsecu --fault (repeatable)", "SPEC"},
        {"sim-seed", 0, 0, G_OPTION_ARG_INT64, &o.sim_seed,
         "Seed of the simulated ECUs' seeds and random faults", "N"},
        {"fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.faults,
         "A fault on the tester's side of each link: drop / delay / corrupt a frame or "
         "message, alter flow control, link loss, bus-off, DoIP disconnect (repeatable; "
         "docs/replay.md)", "SPEC"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
         "Seed of the faults' random choices (and of the simulated ECUs without --sim-seed)",
         "N"},
        {"sim-erase-time", 0, 0, G_OPTION_ARG_INT, &o.sim_erase_ms,
         "How long the simulated ECUs erase, ms (default 1000)", "MS"},
        {"sequential", 0, 0, G_OPTION_ARG_NONE, &o.sequential,
         "Several ECUs one after another, not in parallel", NULL},
        {"seedkey", 0, 0, G_OPTION_ARG_FILENAME, &o.seedkey,
         "Security access keys from this library's GenerateKeyEx", "LIB.so"},
        {"variant", 0, 0, G_OPTION_ARG_STRING, &o.variant, "iVariant for GenerateKeyEx",
         "NAME"},
        {"seedkey-cmd", 0, 0, G_OPTION_ARG_STRING, &o.seedkey_cmd,
         "Security access keys from a command: CMD LEVEL SEED prints the key in hex", "CMD"},
        {"identify", 0, 0, G_OPTION_ARG_STRING, &o.identify,
         "Identification DIDs that must match the golden ECU (default "
         "F187,F18A,F190,F191,F192,F193,F197; none)", "DID,..."},
        {"force", 0, 0, G_OPTION_ARG_NONE, &o.force, "Flash even a different ECU", NULL},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run, "Print what would be sent; send nothing",
         NULL},
        {"yes", 'y', 0, G_OPTION_ARG_NONE, &o.yes,
         "Do not ask before flashing a real interface or a remote DoIP entity", NULL},
        {"recovery", 0, 0, G_OPTION_ARG_STRING, &o.recovery,
         "When a transfer breaks: repeat (the block, then the download), restart (the "
         "download) or none (default repeat)", "POLICY"},
        {"retries", 0, 0, G_OPTION_ARG_INT, &o.retries,
         "Attempts per block and per download (default 3)", "N"},
        {"on-mismatch", 0, 0, G_OPTION_ARG_STRING, &o.on_mismatch,
         "An answer unlike the recorded one: stop (default) or continue", "POLICY"},
        {"timing", 0, 0, G_OPTION_ARG_STRING, &o.timing,
         "fast (default: only the pause after a reset) or recorded (every recorded gap)",
         "MODE"},
        {"margin", 0, 0, G_OPTION_ARG_INT, &o.margin_ms,
         "Added to P2 / P2* for the transport's delays, ms (default 0 simulated, 20 else)",
         "MS"},
        {"record", 'w', 0, G_OPTION_ARG_FILENAME, &o.record,
         "Record what was driven as pcapng (every ECU of the run in one file)", "FILE"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format, "Report: text (default) or json",
         "FORMAT"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &o.progress,
         "Progress bar: auto (on a terminal; default), always, never", "WHEN"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No log lines, no progress bar", NULL},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE... - flash ECUs from golden captures or replay scripts",
        "Re-drives the tester's side of a recorded flash session against a live ECU:\n"
        "the key from the live seed, blocks cut to the ECU's block length, P2 / P2*\n"
        "as the ECU announces them, answers compared by meaning (docs/replay.md).\n"
        "Several files, or several --session of one capture, flash several ECUs at\n"
        "once, each with its own script (--sequential: one after another).\n"
        "Exit status: 0 flashed and confirmed, 1 failed or unconfirmed, 2 usage,\n"
        "3 unreadable input or a transport that cannot be opened, 4 refused.",
        entries, &an);
    int status = UF_EXIT_OK;
    GPtrArray *jobs = NULL;
    uf_key_source *keys = NULL;
    GArray *identify = g_array_new(FALSE, FALSE, sizeof(uint16_t));
    char *targets = NULL;
    uf_link_fault *faults = NULL;
    size_t n_faults = 0;
    uf_error err = {{0}};
    ur_run run = {0};
    uf_replay_options_defaults(&run.options);
    if (!uf_cli_parse(ctx, "flash", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    int media = !!o.can + !!o.kernel_isotp + !!o.doip + !!o.sim + !!o.sim_recorded;
    if (argc < 2 || (media != 1 && !o.dry_run)) {
        fprintf(stderr, "udsreplay flash: give FILE... and one of --can, --kernel-isotp, "
                        "--doip, --sim or --sim-recorded (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (!check_choices(&o, &run.options)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (o.identify && !parse_identify(o.identify, identify, &err)) {
        fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }
    jobs = load_jobs(&o, argc - 1, argv + 1, &an, &status, &err);
    if (!jobs) {
        if (err.msg[0])
            fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        goto done;
    }
    if (o.dry_run) {
        for (guint i = 0; i < jobs->len; i++) {
            ur_job *j = g_ptr_array_index(jobs, i);
            if (jobs->len > 1)
                printf("%s[%u] %s\n", i ? "\n" : "", j->index, j->label);
            dry_run(j->script);
        }
        goto done;
    }
    status = UF_EXIT_USAGE;
    if (!ur_faults_parse(o.faults, &faults, &n_faults, &err) ||
        !assign_links(jobs, &o, faults, n_faults, &an, &status, &err)) {
        if (err.msg[0])
            fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        goto done;
    }
    status = UF_EXIT_OK;
    if (o.seedkey || o.seedkey_cmd) {
        keys = o.seedkey ? uf_key_source_library(o.seedkey, o.variant, &err)
                         : uf_key_source_command(o.seedkey_cmd, &err);
        if (!keys) {
            fprintf(stderr, "udsreplay flash: %s\n", err.msg);
            status = UF_EXIT_USAGE;
            goto done;
        }
    }
    targets = real_targets(jobs);
    if (targets && !o.yes && !ur_confirm("flash", targets, "Flash the ECUs on", "This erases their memory.")) {
        fprintf(stderr, "udsreplay flash: not flashed\n");
        status = UR_EXIT_REFUSED;
        goto done;
    }
    run.jobs = jobs;
    run.options.keys = keys;
    if (o.identify) {
        run.options.identify = (const uint16_t *)(void *)identify->data;
        run.options.n_identify = identify->len;
    }
    run.margin_ms = o.margin_ms;
    run.sequential = o.sequential;
    bool bar = !o.quiet && (o.progress && strcmp(o.progress, "always") == 0
                                ? true
                                : (!o.progress || strcmp(o.progress, "auto") == 0) && isatty(2));
    run.view = ur_view_new(&run, bar, o.quiet);
    bool ok = ur_run_jobs(&run, o.record, &err);
    ur_view_free(run.view);
    if (!ok)
        fprintf(stderr, "udsreplay flash: %s\n", err.msg);
    status = ur_run_status(&run);
    if (!ok && status == UF_EXIT_OK)
        status = UF_EXIT_INPUT;
    bool any_ran = false;
    for (guint i = 0; i < jobs->len; i++)
        any_ran |= ((ur_job *)g_ptr_array_index(jobs, i))->ran;
    if (any_ran) {
        if (o.format && strcmp(o.format, "json") == 0)
            ur_report_json(stdout, &run);
        else
            ur_report_text(stdout, &run);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "udsreplay flash: stdout: write failed: %s\n", g_strerror(errno));
            status = UF_EXIT_INPUT;
        }
    }
done:
    g_free(targets);
    g_free(faults);
    uf_key_source_free(keys);
    g_array_free(identify, TRUE);
    if (jobs)
        g_ptr_array_free(jobs, TRUE);
    uf_cli_analysis_free(&an);
    options_free(&o);
    g_option_context_free(ctx);
    return status;
}
