/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay reproduce FILE: the tester's side of a captured session sent
 * again frame by frame, with the recorded timing, against a live ECU on
 * SocketCAN (raw CAN) or a simulated udsecu (uf_reproduce.h). The report
 * gives the divergences of the live ECU from the recording and the
 * scheduling error of every frame against its recorded gap.
 * Exit status: 0 every frame as recorded; 1 the ECU diverged; 2 usage;
 * 3 unreadable input, a bus that cannot be opened or fails; 4 refused.
 */
#include "links.h"
#include "udsreplay.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct options {
    gint session;
    char *can, *sim, *sim_recorded, *on_divergence, *seedkey, *variant, *seedkey_cmd, *record, *format;
    char *progress;
    char **sim_faults, **faults;
    gint64 sim_seed, seed, until;
    gint ecu_wait_ms;
    gdouble speed;
    gboolean yes, quiet, realtime;
} options;

static void options_free(options *o)
{
    g_free(o->can);
    g_free(o->sim);
    g_free(o->sim_recorded);
    g_free(o->on_divergence);
    g_free(o->seedkey);
    g_free(o->variant);
    g_free(o->seedkey_cmd);
    g_free(o->record);
    g_free(o->format);
    g_free(o->progress);
    g_strfreev(o->sim_faults);
    g_strfreev(o->faults);
}

/* What the user sees while it runs: log lines on stderr and, on a
 * terminal, a progress bar under them. */
typedef struct view {
    bool quiet, bar, shown;
    uf_time last_draw, started;
    const uf_repro_result *res;
} view;

static void clear_bar(view *v)
{
    if (v->shown) {
        fprintf(stderr, "\r\033[K");
        v->shown = false;
    }
}

static void log_line(void *ctx, const char *line)
{
    view *v = ctx;
    if (v->quiet)
        return;
    clear_bar(v);
    fprintf(stderr, "udsreplay reproduce: %s\n", line);
}

static void log_fault(void *ctx, const uf_fault_event *e)
{
    char line[256];
    g_snprintf(line, sizeof(line), "fault injected: %s", e->what);
    log_line(ctx, line);
}

/* [#########.....................]  30%  187 of 619 frames  2 divergences  1.1 s
 * at most ten times a second of real time (the simulated bus's runs in
 * much less). */
static void show_progress(void *ctx, uint32_t done, uint32_t total)
{
    view *v = ctx;
    if (!v->bar)
        return;
    uf_time now = uf_clock_monotonic();
    if (v->shown && now - v->last_draw < 100 * UF_NS_PER_MS && done < total)
        return;
    v->last_draw = now;
    double frac = total ? (double)done / (double)total : 0;
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < (int)(frac * 30) ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r\033[K[%s] %3.0f%%  %u of %u frames  %u divergences  %.1f s", bar,
            frac * 100, done, total, v->res->divergences->len, (double)(now - v->started) / 1e9);
    v->shown = true;
}

static const char *verdict_name(const uf_repro_result *r)
{
    return r->verdict == UF_REPRO_REPRODUCED ? "reproduced"
           : r->verdict == UF_REPRO_DIVERGED ? "diverged"
                                             : "failed";
}

static void report_text(FILE *out, const uf_recording *rec, const char *where,
                        const uf_repro_result *r, const uf_faults *faults)
{
    fprintf(out, "%s: %s\n", verdict_name(r), r->message);
    fprintf(out, "  %s session %u on %s: %u of %u tester frames sent, %u of %u ECU frames as "
                 "recorded, in %.3f s\n", rec->source, rec->session, where, r->sent,
            r->tester_frames, r->matched, r->ecu_frames, (double)(r->ended - r->started) / 1e9);
    if (r->errors->len)
        fprintf(out, "  scheduling error against the recorded gaps: median %.1f us, p99 %.1f us, "
                     "max %.1f us\n", (double)r->error_median / 1e3, (double)r->error_p99 / 1e3,
                (double)r->error_max / 1e3);
    if (r->keys_computed)
        fprintf(out, "  %u keys computed from live seeds\n", r->keys_computed);
    for (guint i = 0; i < r->divergences->len; i++) {
        const uf_repro_divergence *d = &g_array_index(r->divergences, uf_repro_divergence, i);
        fprintf(out, "  divergence at frame %" G_GUINT64_FORMAT ": %s\n", d->frame, d->what);
    }
    uf_faults_report_text(out, faults, "  ");
}

static void report_json(FILE *out, const uf_recording *rec, const char *where,
                        const uf_repro_result *r, const uf_faults *faults)
{
    uf_json js, *j = &js;
    uf_json_init(j, out, true);
    uf_json_begin_object(j);
    uf_json_member_string(j, "verdict", verdict_name(r));
    uf_json_member_string(j, "message", r->message);
    uf_json_member_string(j, "source", rec->source);
    uf_json_member_uint(j, "session", rec->session);
    uf_json_member_string(j, "link", where);
    uf_json_member_bool(j, "stopped", r->stopped);
    uf_json_member_time(j, "duration", r->ended - r->started);
    uf_json_member_uint(j, "tester_frames", r->tester_frames);
    uf_json_member_uint(j, "sent", r->sent);
    uf_json_member_uint(j, "ecu_frames", r->ecu_frames);
    uf_json_member_uint(j, "matched", r->matched);
    uf_json_member_uint(j, "keys_computed", r->keys_computed);
    uf_json_key(j, "scheduling_error_us");
    uf_json_begin_object(j);
    uf_json_member_double(j, "median", (double)r->error_median / 1e3, 1);
    uf_json_member_double(j, "p99", (double)r->error_p99 / 1e3, 1);
    uf_json_member_double(j, "max", (double)r->error_max / 1e3, 1);
    uf_json_end_object(j);
    uf_json_key(j, "divergences");
    uf_json_begin_array(j);
    for (guint i = 0; i < r->divergences->len; i++) {
        const uf_repro_divergence *d = &g_array_index(r->divergences, uf_repro_divergence, i);
        uf_json_begin_object(j);
        uf_json_member_uint(j, "frame", d->frame);
        uf_json_member_string(j, "what", d->what);
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
    if (faults) {
        uf_json_key(j, "faults");
        uf_faults_report_json(j, faults);
    }
    uf_json_end_object(j);
    fputc('\n', out);
}

static bool check_options(const options *o, int argc)
{
    bool ok = argc == 2 && !!o->can + !!o->sim + !!o->sim_recorded == 1 && o->session >= 0 &&
              o->speed > 0 && (!o->realtime || o->can) &&
              o->until >= 0 && o->ecu_wait_ms >= -1 && !(o->seedkey && o->seedkey_cmd) &&
              (!o->on_divergence || strcmp(o->on_divergence, "stop") == 0 ||
               strcmp(o->on_divergence, "continue") == 0) &&
              (!o->format || strcmp(o->format, "text") == 0 || strcmp(o->format, "json") == 0) &&
              (!o->progress || strcmp(o->progress, "auto") == 0 ||
               strcmp(o->progress, "always") == 0 || strcmp(o->progress, "never") == 0);
    if (!ok)
        fprintf(stderr, "udsreplay reproduce: give one FILE and one of --can, --sim or "
                        "--sim-recorded; --realtime with --can only; --speed above 0, "
                        "--on-divergence stop|continue, --format text|json, --progress "
                        "auto|always|never, --seedkey or --seedkey-cmd (see --help)\n");
    return ok;
}

/* --realtime, as cyclictest does: a real-time priority above every
 * ordinary process, so a busy host's scheduler does not put a frame late
 * by a time slice, and memory locked, so no page fault does. */
static bool go_realtime(uf_error *err)
{
    struct sched_param sp = {.sched_priority = 50};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
        uf_error_set(err, "--realtime: SCHED_FIFO refused: %s (it needs root or CAP_SYS_NICE)",
                     g_strerror(errno));
        return false;
    }
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        uf_error_set(err, "--realtime: locking memory failed: %s (it needs root, "
                          "CAP_IPC_LOCK or a higher RLIMIT_MEMLOCK)", g_strerror(errno));
        return false;
    }
    return true;
}

/* Runs the reproduction over the opened link; the exit status. */
static int reproduce(const options *o, const uf_recording *rec, const GArray *frames,
                     const uf_recording *ecu, uf_key_source *keys)
{
    const uf_script_link *l = &rec->link;
    /* --seed makes the whole run repeatable, the simulated ECU too. */
    ur_link_options lo = {.can = o->can, .sim = o->sim, .sim_faults = o->sim_faults,
                          .sim_seed = (uint64_t)(o->sim_seed ? o->sim_seed : o->seed),
                          .frames = true, .sim_recording = ecu,
                          .fault_seed = (uint64_t)o->seed};
    uf_link_fault *faults = NULL;
    uf_error err;
    if (!ur_faults_parse(o->faults, &faults, &lo.n_faults, &err) ||
        (lo.n_faults && (lo.faults = faults, !ur_link_faults_check(&lo, l, &err)))) {
        fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
        g_free(faults);
        return UF_EXIT_USAGE;
    }
    uf_recorded_ecu_config_defaults(&lo.sim_recorded);
    lo.sim_recorded.speed = o->speed; /* a recorded ECU keeps pace with its tester */
    bool simulated = ur_link_simulated(&lo);
    /* The simulated ECU's flow control as the recorded ECU's: the tester's
     * frames were timed against it. */
    lo.sim_fc = rec->fc_known;
    lo.sim_bs = rec->fc_bs;
    lo.sim_stmin = rec->fc_stmin;
    ur_shared sh;
    if (!ur_shared_open(&sh, simulated, l->fd, o->record, &err)) {
        fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
        g_free(faults);
        return UF_EXIT_INPUT;
    }
    uf_script s = {.link = *l};
    ur_link k;
    int status = UF_EXIT_OK;
    if (!ur_link_open(&k, &s, &lo, &sh, &err)) {
        fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
        ur_link_close(&k, &err);
        ur_shared_close(&sh, &err);
        g_free(faults);
        return UF_EXIT_INPUT;
    }
    uf_repro_result res;
    uf_repro_result_init(&res);
    view v = {.quiet = o->quiet, .started = uf_clock_monotonic(), .res = &res};
    v.bar = !o->quiet && (o->progress && strcmp(o->progress, "always") == 0
                              ? true
                              : (!o->progress || strcmp(o->progress, "auto") == 0) && isatty(2));
    if (k.faults)
        uf_faults_on_event(k.faults, log_fault, &v);
    if (o->realtime && !go_realtime(&err)) {
        fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
        ur_link_close(&k, &err);
        ur_shared_close(&sh, &err);
        uf_repro_result_clear(&res);
        g_free(faults);
        return UF_EXIT_INPUT;
    }
    uf_repro_options ro;
    uf_repro_options_defaults(&ro);
    ro.speed = o->speed;
    ro.until = (uint64_t)o->until;
    ro.continue_on_divergence = o->on_divergence && strcmp(o->on_divergence, "continue") == 0;
    ro.keys = keys;
    if (o->ecu_wait_ms >= 0)
        ro.ecu_wait = (uf_time)o->ecu_wait_ms * UF_NS_PER_MS;
    if (simulated) { /* the simulated bus stamps a frame's end (links.c: 500 kbit/s, 2 Mbit/s) */
        ro.bitrate = 500000;
        ro.data_bitrate = l->fd ? 2000000 : 0;
    }
    if (!simulated)
        ro.spin = 500 * UF_NS_PER_US; /* above a loaded host's wake-up latency */
    ro.ctx = &v;
    ro.log = log_line;
    ro.progress = show_progress;
    char where[160];
    g_strlcpy(where, simulated ? "the simulated bus" : o->can, sizeof(where));
    int16_t ecu_addr = uf_addressing_prefix(l->addressing) ? l->tester_addr : -1;
    uf_repro_run(k.medium, frames, l->ecu_id, ecu_addr, &ro, &res);
    clear_bar(&v);
    uf_faults *injected = k.faults; /* for the report, after the link */
    k.faults = NULL;
    if (!ur_link_close(&k, &err) || !ur_shared_close(&sh, &err)) {
        fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
        status = UF_EXIT_INPUT;
    }
    if (o->format && strcmp(o->format, "json") == 0)
        report_json(stdout, rec, where, &res, injected);
    else
        report_text(stdout, rec, where, &res, injected);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "udsreplay reproduce: stdout: write failed: %s\n", g_strerror(errno));
        status = UF_EXIT_INPUT;
    }
    if (status == UF_EXIT_OK)
        status = res.verdict == UF_REPRO_REPRODUCED ? UF_EXIT_OK
                 : res.verdict == UF_REPRO_DIVERGED ? UF_EXIT_FINDINGS
                                                    : UF_EXIT_INPUT;
    uf_repro_result_clear(&res);
    uf_faults_free(injected);
    g_free(faults);
    return status;
}

int ur_cmd_reproduce(int argc, char **argv)
{
    options o = {.speed = 1.0, .ecu_wait_ms = -1};
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"session", 's', 0, G_OPTION_ARG_INT, &o.session,
         "The capture's session (default: its only one)", "N"},
        {"can", 0, 0, G_OPTION_ARG_STRING, &o.can, "Send on a SocketCAN interface (raw CAN)",
         "IFACE"},
        {"sim", 0, 0, G_OPTION_ARG_FILENAME, &o.sim,
         "Send to a simulated udsecu in this process, keeping its flash in FILE", "FILE"},
        {"sim-recorded", 0, 0, G_OPTION_ARG_FILENAME, &o.sim_recorded,
         "Send to a simulated ECU that answers as the ECU of a capture did (udsreplay ecu)",
         "FILE[#N]"},
        {"sim-fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.sim_faults,
         "A fault of the simulated ECU, as udsecu --fault (repeatable)", "SPEC"},
        {"sim-seed", 0, 0, G_OPTION_ARG_INT64, &o.sim_seed,
         "Seed of the simulated ECU's seeds and random faults", "N"},
        {"fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.faults,
         "A fault on the tester's side of the link: drop / delay / corrupt a frame or "
         "message, alter flow control, link loss, bus-off (repeatable; docs/replay.md)", "SPEC"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
         "Seed of the faults' random choices (and of the simulated ECU without --sim-seed)", "N"},
        {"speed", 0, 0, G_OPTION_ARG_DOUBLE, &o.speed,
         "Scale the recorded delays by 1/X (default 1: as recorded)", "X"},
        {"until", 0, 0, G_OPTION_ARG_INT64, &o.until,
         "Stop before the first frame after capture frame N", "N"},
        {"on-divergence", 0, 0, G_OPTION_ARG_STRING, &o.on_divergence,
         "The live ECU answers otherwise: stop (default), or continue (resynchronise on its "
         "frames; keys from the live seeds)", "POLICY"},
        {"seedkey", 0, 0, G_OPTION_ARG_FILENAME, &o.seedkey,
         "Keys of live seeds from this library's GenerateKeyEx", "LIB.so"},
        {"variant", 0, 0, G_OPTION_ARG_STRING, &o.variant, "iVariant for GenerateKeyEx",
         "NAME"},
        {"seedkey-cmd", 0, 0, G_OPTION_ARG_STRING, &o.seedkey_cmd,
         "Keys of live seeds from a command: CMD LEVEL SEED prints the key in hex", "CMD"},
        {"ecu-wait", 0, 0, G_OPTION_ARG_INT, &o.ecu_wait_ms,
         "How much later than recorded an ECU frame may come, ms (default 2000)", "MS"},
        {"record", 'w', 0, G_OPTION_ARG_FILENAME, &o.record,
         "Record the reproduction as pcapng", "FILE"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format, "Report: text (default) or json",
         "FORMAT"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &o.progress,
         "The progress bar: auto (on a terminal, the default), always, never", "WHEN"},
        {"realtime", 0, 0, G_OPTION_ARG_NONE, &o.realtime,
         "Real-time priority (SCHED_FIFO) and locked memory, for the tightest timing on a "
         "real bus (root or CAP_SYS_NICE)", NULL},
        {"yes", 'y', 0, G_OPTION_ARG_NONE, &o.yes, "Do not ask before sending on a real interface",
         NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No log lines", NULL},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - send a capture's tester frames again, with their recorded timing",
        "Each tester frame goes out the recorded delay after the frame before it, as that\n"
        "one happened live: the tester's faults (STmin, a late tester present, a block\n"
        "broken off) happen again against the live ECU, which is compared frame by frame\n"
        "with the recording (docs/replay.md).\n"
        "Exit status: 0 every frame as recorded, 1 the ECU diverged, 2 usage, 3 unreadable\n"
        "input or a bus that cannot be opened, 4 refused.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_recording *rec = NULL, *ecu = NULL;
    GArray *frames = NULL;
    uf_key_source *keys = NULL;
    uf_error err;
    if (!uf_cli_parse(ctx, "reproduce", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (!check_options(&o, argc)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (o.seedkey || o.seedkey_cmd) {
        keys = o.seedkey ? uf_key_source_library(o.seedkey, o.variant, &err)
                         : uf_key_source_command(o.seedkey_cmd, &err);
        if (!keys) {
            fprintf(stderr, "udsreplay reproduce: %s\n", err.msg);
            status = UF_EXIT_USAGE;
            goto done;
        }
    }
    rec = ur_load_recording(argv[1], (uint32_t)o.session, &an, &status);
    if (!rec)
        goto done;
    if (rec->link.doip) {
        fprintf(stderr, "udsreplay reproduce: %s session %u ran on DoIP: reproduce replays CAN "
                        "frames; replay it with udsreplay flash --timing recorded\n",
                argv[1], rec->session);
        status = UF_EXIT_USAGE;
        goto done;
    }
    frames = ur_load_frames(argv[1], rec, &status);
    if (!frames)
        goto done;
    if (o.can && ur_real_interface(o.can) && !o.yes &&
        !ur_confirm("reproduce", o.can, "Send the recorded tester's frames on",
                    "They may erase and program the ECUs there.")) {
        status = UR_EXIT_REFUSED;
        goto done;
    }
    /* The capture's own ECU is the recording already read. */
    if (o.sim_recorded && strcmp(o.sim_recorded, argv[1]) == 0)
        ecu = rec;
    else if (o.sim_recorded &&
             !(ecu = ur_load_recording_spec("--sim-recorded", o.sim_recorded, &an, &status)))
        goto done;
    status = reproduce(&o, rec, frames, ecu, keys);
done:
    if (ecu != rec)
        uf_recording_free(ecu);
    if (frames)
        g_array_free(frames, TRUE);
    uf_recording_free(rec);
    uf_key_source_free(keys);
    uf_cli_analysis_free(&an);
    options_free(&o);
    g_option_context_free(ctx);
    return status;
}
