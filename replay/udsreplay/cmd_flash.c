/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay flash FILE: flashes an ECU the way a golden session did, from
 * the capture or from a script, reacting to the live ECU (uf_replay.h).
 * Exit status: 0 the ECU confirmed the flash; 1 it failed or was not
 * confirmed; 2 usage; 3 unreadable input, a transport or file that cannot
 * be opened; 4 refused: a different ECU, or the user said no.
 */
#include "links.h"
#include "udsreplay.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef struct options {
    gint session;
    char *can, *kernel_isotp, *doip, *sim;
    char **sim_faults;
    gint64 sim_seed;
    gint sim_erase_ms;
    char *seedkey, *variant, *seedkey_cmd;
    char *identify;
    gboolean force, dry_run, yes, quiet;
    char *recovery, *on_mismatch, *timing, *format, *record, *progress;
    gint retries, margin_ms;
} options;

static void options_free(options *o)
{
    g_free(o->can);
    g_free(o->kernel_isotp);
    g_free(o->doip);
    g_free(o->sim);
    g_strfreev(o->sim_faults);
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

/* A real CAN interface has a device behind it; vcan and the like do not. */
static bool real_interface(const char *ifname)
{
    char *path = g_strdup_printf("/sys/class/net/%s/device", ifname);
    bool real = g_file_test(path, G_FILE_TEST_EXISTS);
    g_free(path);
    return real;
}

static bool loopback_host(const char *host)
{
    return strcmp(host, "localhost") == 0 || g_str_has_prefix(host, "127.") ||
           strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

static bool confirm(const char *target)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "udsreplay flash: %s is a real ECU and there is no terminal to ask: "
                        "give --yes to flash it\n", target);
        return false;
    }
    fprintf(tty, "Flash the ECU on %s? This erases its memory. [y/N] ", target);
    fflush(tty);
    char line[16] = "";
    bool yes = fgets(line, sizeof(line), tty) && (line[0] == 'y' || line[0] == 'Y');
    fclose(tty);
    return yes;
}

/* ---- progress and log ----------------------------------------------------------------*/

typedef struct view {
    bool bar, quiet;
    bool bar_shown;
    uf_time last_draw;
} view;

static void clear_bar(view *v)
{
    if (v->bar_shown) {
        fprintf(stderr, "\r\033[K");
        v->bar_shown = false;
    }
}

static void on_log(void *ctx, const char *line)
{
    view *v = ctx;
    if (v->quiet)
        return;
    clear_bar(v);
    fprintf(stderr, "udsreplay: %s\n", line);
}

/* [#####.....]  45%  1.2 MiB of 2.6 MiB  48.1 KiB/s  ETA 31 s  programming/transfer */
static void on_progress(void *ctx, const uf_replay_progress *p)
{
    view *v = ctx;
    if (!v->bar)
        return;
    uf_time now = uf_clock_monotonic();
    if (v->bar_shown && now - v->last_draw < 100 * UF_NS_PER_MS && p->done != p->total)
        return;
    v->last_draw = now;
    double frac = p->total ? (double)p->done / (double)p->total : 0;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    double secs = (double)p->elapsed / 1e9;
    double rate = secs > 0 ? (double)p->done / secs : 0;
    char eta[32] = "";
    if (rate > 0 && p->done < p->total)
        snprintf(eta, sizeof(eta), "  ETA %.0f s", (double)(p->total - p->done) / rate);
    fprintf(stderr, "\r\033[K[%s] %3.0f%%  %.1f of %.1f KiB  %.1f KiB/s%s  %s%s%s", bar,
            frac * 100, (double)p->done / 1024, (double)p->total / 1024, rate / 1024, eta,
            p->phase ? p->phase : "", p->phase && p->step ? "/" : "", p->step ? p->step : "");
    v->bar_shown = true;
}

/* ---- the report ----------------------------------------------------------------------*/

static void report_text(FILE *out, const uf_script *s, const char *channel,
                        const uf_replay_result *r)
{
    double secs = (double)(r->ended - r->started) / 1e9;
    fprintf(out, "%s: %s\n", uf_replay_verdict_name(r->verdict), r->message);
    if (r->failed_step >= 0) {
        char what[200];
        fprintf(out, "  at step %d: %s\n", r->failed_step + 1,
                uf_script_step_describe(uf_script_step_at(s, (guint)r->failed_step), what,
                                        sizeof(what)));
    }
    fprintf(out, "  %s, %u of %u steps in %.3f s\n", channel, r->steps_done, s->steps->len, secs);
    fprintf(out, "  image of %" G_GUINT64_FORMAT " bytes: %" G_GUINT64_FORMAT " bytes sent in %u "
                 "blocks (max block length %u), %.1f KiB/s\n",
            r->total_bytes, r->bytes, r->blocks, r->max_block,
            secs > 0 ? (double)r->bytes / 1024 / secs : 0.0);
    fprintf(out, "  %u requests, %u response pending, %u tester present, %u identification "
                 "DIDs compared\n", r->requests, r->pending, r->tester_presents,
            r->identity_checked);
    if (r->repeats || r->restarts || r->reconnects || r->mismatches)
        fprintf(out, "  recovery: %u blocks repeated, %u downloads restarted, %u reconnections; "
                     "%u answers differed\n", r->repeats, r->restarts, r->reconnects,
                r->mismatches);
}

static void report_json(FILE *out, const uf_script *s, const char *channel,
                        const uf_replay_result *r)
{
    uf_json j;
    uf_json_init(&j, out, true);
    uf_json_begin_object(&j);
    uf_json_key(&j, "verdict");
    uf_json_string(&j, uf_replay_verdict_name(r->verdict));
    uf_json_key(&j, "message");
    uf_json_string(&j, r->message);
    uf_json_key(&j, "source");
    uf_json_string(&j, s->source ? s->source : "");
    uf_json_key(&j, "session");
    uf_json_uint(&j, s->session);
    uf_json_key(&j, "channel");
    uf_json_string(&j, channel);
    uf_json_key(&j, "failed_step");
    if (r->failed_step >= 0)
        uf_json_uint(&j, (uint64_t)r->failed_step + 1);
    else
        uf_json_null(&j);
    uf_json_key(&j, "steps");
    uf_json_uint(&j, s->steps->len);
    uf_json_key(&j, "steps_done");
    uf_json_uint(&j, r->steps_done);
    uf_json_key(&j, "duration");
    uf_json_time(&j, r->ended - r->started);
    uf_json_key(&j, "bytes");
    uf_json_uint(&j, r->bytes);
    uf_json_key(&j, "total_bytes");
    uf_json_uint(&j, r->total_bytes);
    uf_json_key(&j, "blocks");
    uf_json_uint(&j, r->blocks);
    uf_json_key(&j, "max_block_length");
    uf_json_uint(&j, r->max_block);
    uf_json_key(&j, "requests");
    uf_json_uint(&j, r->requests);
    uf_json_key(&j, "response_pending");
    uf_json_uint(&j, r->pending);
    uf_json_key(&j, "tester_present");
    uf_json_uint(&j, r->tester_presents);
    uf_json_key(&j, "identification_checked");
    uf_json_uint(&j, r->identity_checked);
    uf_json_key(&j, "check_confirmed");
    uf_json_bool(&j, r->check_confirmed);
    uf_json_key(&j, "recovery");
    uf_json_begin_object(&j);
    uf_json_key(&j, "repeats");
    uf_json_uint(&j, r->repeats);
    uf_json_key(&j, "restarts");
    uf_json_uint(&j, r->restarts);
    uf_json_key(&j, "reconnects");
    uf_json_uint(&j, r->reconnects);
    uf_json_key(&j, "mismatches");
    uf_json_uint(&j, r->mismatches);
    uf_json_end_object(&j);
    uf_json_end_object(&j);
    fputc('\n', out);
}

/* ---- the command ---------------------------------------------------------------------*/

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

int ur_cmd_flash(int argc, char **argv)
{
    options o = {.retries = -1, .margin_ms = -1};
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"session", 's', 0, G_OPTION_ARG_INT, &o.session,
         "The capture's session (default: the only replayable one)", "N"},
        {"can", 0, 0, G_OPTION_ARG_STRING, &o.can,
         "Flash on a SocketCAN interface (raw CAN, our ISO-TP)", "IFACE"},
        {"kernel-isotp", 0, 0, G_OPTION_ARG_STRING, &o.kernel_isotp,
         "Flash on a SocketCAN interface with the kernel's ISO-TP", "IFACE"},
        {"doip", 0, 0, G_OPTION_ARG_STRING, &o.doip, "Flash over DoIP (port 13400 by default)",
         "HOST[:PORT]"},
        {"sim", 0, 0, G_OPTION_ARG_FILENAME, &o.sim,
         "Flash a simulated udsecu in this process, keeping its flash in FILE", "FILE"},
        {"sim-fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.sim_faults,
         "A fault of the simulated ECU, as udsecu --fault (repeatable)", "SPEC"},
        {"sim-seed", 0, 0, G_OPTION_ARG_INT64, &o.sim_seed,
         "Seed of the simulated ECU's seeds and random faults", "N"},
        {"sim-erase-time", 0, 0, G_OPTION_ARG_INT, &o.sim_erase_ms,
         "How long the simulated ECU erases, ms (default 1000)", "MS"},
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
         "Record the frames driven as pcapng (CAN)", "FILE"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format, "Report: text (default) or json",
         "FORMAT"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &o.progress,
         "Progress bar: auto (on a terminal; default), always, never", "WHEN"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No log lines, no progress bar", NULL},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - flash an ECU from a golden capture or a replay script",
        "Re-drives the tester's side of a recorded flash session against a live ECU:\n"
        "the key from the live seed, blocks cut to the ECU's block length, P2 / P2*\n"
        "as the ECU announces them, answers compared by meaning (docs/replay.md).\n"
        "Exit status: 0 flashed and confirmed, 1 failed or unconfirmed, 2 usage,\n"
        "3 unreadable input or a transport that cannot be opened, 4 refused.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_script *s = NULL;
    uf_key_source *keys = NULL;
    GArray *identify = g_array_new(FALSE, FALSE, sizeof(uint16_t));
    ur_link link = {0};
    bool opened = false;
    uf_error err;
    uf_replay_options ro;
    uf_replay_options_defaults(&ro);
    if (!uf_cli_parse(ctx, "flash", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    int media = !!o.can + !!o.kernel_isotp + !!o.doip + !!o.sim;
    if (argc != 2 || o.session < 0 || (media != 1 && !o.dry_run)) {
        fprintf(stderr, "udsreplay flash: give one FILE and one of --can, --kernel-isotp, "
                        "--doip or --sim (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if ((o.recovery && !uf_recovery_parse(o.recovery, &ro.recovery)) ||
        (o.on_mismatch && strcmp(o.on_mismatch, "stop") && strcmp(o.on_mismatch, "continue")) ||
        (o.timing && strcmp(o.timing, "fast") && strcmp(o.timing, "recorded")) ||
        (o.format && strcmp(o.format, "text") && strcmp(o.format, "json")) ||
        (o.progress && strcmp(o.progress, "auto") && strcmp(o.progress, "always") &&
         strcmp(o.progress, "never")) ||
        (o.seedkey && o.seedkey_cmd)) {
        fprintf(stderr, "udsreplay flash: --recovery repeat|restart|none, --on-mismatch "
                        "stop|continue, --timing fast|recorded, --format text|json, --progress "
                        "auto|always|never; --seedkey or --seedkey-cmd, not both\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (o.identify && !parse_identify(o.identify, identify, &err)) {
        fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }
    s = ur_load_script(argv[1], (uint32_t)o.session, &an, &status);
    if (!s)
        goto done;
    if (o.dry_run) {
        dry_run(s);
        goto done;
    }
    if (o.seedkey || o.seedkey_cmd) {
        keys = o.seedkey ? uf_key_source_library(o.seedkey, o.variant, &err)
                         : uf_key_source_command(o.seedkey_cmd, &err);
        if (!keys) {
            fprintf(stderr, "udsreplay flash: %s\n", err.msg);
            status = UF_EXIT_USAGE;
            goto done;
        }
    }
    const char *target = o.can ? o.can : o.kernel_isotp ? o.kernel_isotp : o.doip;
    bool real = (o.can || o.kernel_isotp) ? real_interface(target)
                                          : (o.doip && !loopback_host(target));
    if (real && !o.yes && !confirm(target)) {
        fprintf(stderr, "udsreplay flash: not flashed\n");
        status = UR_EXIT_REFUSED;
        goto done;
    }
    ur_link_options lo = {o.can, o.kernel_isotp, o.doip, o.sim, o.sim_faults,
                          (uint64_t)o.sim_seed, o.sim_erase_ms > 0 ? (uint32_t)o.sim_erase_ms : 0,
                          0, 0, o.record};
    opened = ur_link_open(&link, s, &lo, &err);
    if (!opened) {
        fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        ur_link_close(&link, &err);
        status = UF_EXIT_INPUT;
        goto done;
    }
    view v = {.quiet = o.quiet};
    v.bar = !o.quiet && (o.progress && strcmp(o.progress, "always") == 0
                             ? true
                             : (!o.progress || strcmp(o.progress, "auto") == 0) && isatty(2));
    ro.keys = keys;
    if (o.identify) {
        ro.identify = (const uint16_t *)(void *)identify->data;
        ro.n_identify = identify->len;
    }
    ro.force = o.force;
    ro.continue_on_mismatch = o.on_mismatch && strcmp(o.on_mismatch, "continue") == 0;
    ro.recorded_delays = o.timing && strcmp(o.timing, "recorded") == 0;
    if (o.retries >= 0)
        ro.retries = (uint32_t)o.retries;
    ro.margin = (o.margin_ms >= 0 ? o.margin_ms : (o.sim && !s->link.doip) ? 0 : 20) *
                UF_NS_PER_MS;
    ro.reconnect = s->link.doip ? ur_link_reconnect : NULL;
    ro.reconnect_ctx = &link;
    ro.progress = on_progress;
    ro.progress_ctx = &v;
    ro.log = on_log;
    ro.log_ctx = &v;
    uf_replay_result res;
    uf_replay_run(&link.channel, s, &ro, &res);
    clear_bar(&v);
    char channel[sizeof(link.channel->name)];
    g_strlcpy(channel, link.channel->name, sizeof(channel));
    status = res.verdict == UF_REPLAY_SUCCESS   ? UF_EXIT_OK
             : res.verdict == UF_REPLAY_REFUSED ? UR_EXIT_REFUSED
                                                : UF_EXIT_FINDINGS;
    if (!ur_link_close(&link, &err)) {
        fprintf(stderr, "udsreplay flash: %s\n", err.msg);
        status = UF_EXIT_INPUT;
    }
    opened = false;
    if (o.format && strcmp(o.format, "json") == 0)
        report_json(stdout, s, channel, &res);
    else
        report_text(stdout, s, channel, &res);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "udsreplay flash: stdout: write failed: %s\n", g_strerror(errno));
        status = UF_EXIT_INPUT;
    }
done:
    if (opened)
        ur_link_close(&link, &err);
    uf_key_source_free(keys);
    g_array_free(identify, TRUE);
    uf_script_free(s);
    uf_cli_analysis_free(&an);
    options_free(&o);
    g_option_context_free(ctx);
    return status;
}
