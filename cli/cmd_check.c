/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash check FILE`: the flash sessions of a capture checked against a
 * profile, reported as text, JSON or JUnit XML. Exit status (DESIGN.md): 0 no
 * finding at or above --fail-on, 1 such findings, 2 usage, 3 unreadable or
 * damaged input (the report is still written first).
 */
#include "cli.h"
#include "uf_report.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define REPORT_BUFFER (1u << 20)

/* glibc takes a buffer's size only with the buffer (setvbuf with NULL
 * keeps st_blksize); stdout may be flushed as late as exit: static. */
static char report_buffer[REPORT_BUFFER];

typedef struct collector {
    /* uf_finding records, at most UF_REPORT_MAX_FINDINGS, in a temporary
     * file: memory stays flat however many there are (uf_spill.h). */
    uf_spill *findings;
    uint64_t not_listed, messages;
    uint64_t by_severity[3];
} collector;

static void on_message(void *ctx, const uf_uds_message *m)
{
    (void)m;
    ((collector *)ctx)->messages++;
}

static void on_finding(void *ctx, const uf_finding *f)
{
    collector *c = ctx;
    c->by_severity[f->severity]++;
    if (uf_spill_count(c->findings) < UF_REPORT_MAX_FINDINGS)
        uf_spill_append(c->findings, f, sizeof(*f));
    else
        c->not_listed++;
}

/* Findings about the input itself (no timestamps, damage). */
static void input_findings(collector *c, const uf_cli_input *in, const char *const *ignore)
{
    uf_finding f;
    bool keep_ts = true, keep_damage = true;
    for (const char *const *p = ignore; p && *p; p++) {
        keep_ts &= !uf_rule_matches("capture.no_timestamps", *p);
        keep_damage &= !uf_rule_matches("capture.damaged", *p);
    }
    if (!uf_reader_has_time(in->reader) && keep_ts) {
        uf_finding_init(&f, "capture.no_timestamps", 0, UF_TIME_NONE, UF_BUS_NONE,
                        "%s has no timestamps: timing rules are off", uf_reader_path(in->reader));
        on_finding(c, &f);
    }
    if (in->damaged && keep_damage) {
        uf_finding_init(&f, "capture.damaged", in->frames, UF_TIME_NONE, UF_BUS_NONE, "%s",
                        in->damage.msg);
        on_finding(c, &f);
    }
}

/* Says on stderr why the report's records stayed in memory (they are all
 * there: a warning); returns why some could not be read back (the report
 * lacks them: an error), or NULL. */
static const char *spill_trouble(const collector *c, const uf_sessions *sessions)
{
    const uf_spill *stores[] = {c->findings, uf_sessions_store(sessions)};
    const char *lost = NULL;
    for (size_t i = 0; i < UF_ARRAY_LEN(stores); i++) {
        if (!stores[i])
            continue;
        if (uf_spill_degraded(stores[i]))
            fprintf(stderr, "udsflash check: warning: the report is kept in memory: %s\n",
                    uf_spill_degraded(stores[i]));
        if (!lost)
            lost = uf_spill_lost(stores[i]);
    }
    return lost;
}

static bool want_color(const char *mode, FILE *out, bool *ok)
{
    *ok = true;
    if (!mode || strcmp(mode, "auto") == 0)
        return out == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    if (strcmp(mode, "always") == 0)
        return true;
    if (strcmp(mode, "never") == 0)
        return false;
    *ok = false;
    return false;
}

int uf_cmd_check(int argc, char **argv)
{
    char *format = NULL, *iface = NULL, *output = NULL, *fail_on = NULL, *color = NULL;
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format,
         "Report format: text (default), json or junit", "FORMAT"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write the report to FILE instead of standard output (-: standard output)", "FILE"},
        {"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
         "Exit 1 (and fail the session) on findings at or above: error (default), warning, info",
         "SEVERITY"},
        {"color", 0, 0, G_OPTION_ARG_STRING, &color,
         "Colours in the text report: auto (default: on a terminal, without NO_COLOR), always, "
         "never", "WHEN"},
        {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
         "Check a live SocketCAN interface (Ctrl-C ends the capture)", "IFACE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - check the flash sessions of a capture",
        "Groups the UDS messages of a capture into flash sessions (one per tester and ECU),\n"
        "checks them against a profile (sequence, timing, transfers, ISO-TP) and reports\n"
        "each session's verdict, phases, downloads and findings.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_error err;
    uf_analyzer_config cfg;
    uf_severity threshold = UF_SEV_ERROR;
    FILE *out = stdout;
    bool color_ok;
    if (!uf_cli_parse(ctx, "check", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (format && strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "junit") != 0) {
        fprintf(stderr, "udsflash check: --format \"%s\": expected text, json or junit\n", format);
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (fail_on && !uf_severity_parse(fail_on, &threshold)) {
        fprintf(stderr, "udsflash check: --fail-on \"%s\": expected error, warning or info\n",
                fail_on);
        status = UF_EXIT_USAGE;
        goto done;
    }
    want_color(color, stdout, &color_ok);
    if (!color_ok) {
        fprintf(stderr, "udsflash check: --color \"%s\": expected auto, always or never\n", color);
        status = UF_EXIT_USAGE;
        goto done;
    }
    if ((iface && argc != 1) || (!iface && argc != 2)) {
        fprintf(stderr, "udsflash check: give one capture FILE or --interface IFACE (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (!uf_cli_analysis_config(&an, &cfg, &err)) {
        fprintf(stderr, "udsflash check: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }

    /* "-o -" is standard output, as with tshark -w - and curl -o -. */
    if (output && strcmp(output, "-") == 0)
        g_clear_pointer(&output, g_free);
    /* Before the analysis, which may take minutes on a large capture. */
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "udsflash check: %s: cannot write: %s\n", output, strerror(errno));
        status = UF_EXIT_INPUT;
        goto done;
    }
    /* The report comes at the end, tens of megabytes for a large capture:
     * in 1 MiB writes rather than stdio's 4 KiB (23 000 system calls for
     * the benchmark's 96 MB; written to a file, it took half the time). */
    setvbuf(out, report_buffer, _IOFBF, sizeof(report_buffer));
    uf_cli_input in;
    if (!uf_cli_open(&in, iface ? NULL : argv[1], iface)) {
        status = UF_EXIT_INPUT;
        if (out != stdout)
            fclose(out);
        goto done;
    }
    /* Beside the analysis, one thread reads ahead and hashes the downloads
     * (common/uf_helper.h: one thread for both, not one each, on two
     * cores). Nothing below asks the reader anything until the analysis is
     * done. */
    uf_helper *helper = uf_helper_new("udsflash-help");
    in.read_ahead = true;
    in.helper = helper;
    collector c = {uf_spill_new(), 0, 0, {0, 0, 0}};
    cfg.spill_sessions = true;
    cfg.hash_thread = true;
    cfg.helper = helper;
    uf_analyzer_sink sink = {.ctx = &c, .message = on_message, .finding = on_finding};
    uf_analyzer *a = uf_cli_analyze(&in, &cfg, &sink);
    input_findings(&c, &in, cfg.ignore);

    GPtrArray *buses = g_ptr_array_new();
    for (uint32_t b = 0; b < uf_reader_bus_count(in.reader); b++)
        g_ptr_array_add(buses, (gpointer)uf_reader_bus_name(in.reader, b));
    uf_check_result r = {
        .input = {uf_reader_path(in.reader), uf_reader_format(in.reader),
                  uf_reader_has_time(in.reader), in.base, in.frames, c.messages,
                  in.damaged ? in.damage.msg : NULL, (const char *const *)buses->pdata,
                  buses->len},
        .profile = cfg.profile,
        .sessions = uf_analyzer_sessions(a),
        .finding_store = c.findings,
        .n_findings = uf_spill_count(c.findings),
        .findings_not_listed = c.not_listed,
        .fail_on = threshold,
    };
    memcpy(r.by_severity, c.by_severity, sizeof(r.by_severity));

    if (format && strcmp(format, "json") == 0) {
        uf_report_json(out, &r);
    } else if (format && strcmp(format, "junit") == 0) {
        uf_report_junit(out, &r);
    } else {
        uf_text_style style = {want_color(color, out, &color_ok)};
        uf_report_text(out, &r, &style);
    }
    const char *lost = spill_trouble(&c, r.sessions);
    if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(stdout) != 0)) {
        fprintf(stderr, "udsflash check: %s: write failed: %s\n", output ? output : "stdout",
                strerror(errno));
        status = UF_EXIT_INPUT;
    } else if (lost) {
        fprintf(stderr, "udsflash check: the report is incomplete: %s\n", lost);
        status = UF_EXIT_INPUT;
    } else if (in.damaged) {
        fprintf(stderr, "udsflash: %s\n", in.damage.msg);
        status = UF_EXIT_INPUT;
    } else {
        status = uf_check_passed(&r) ? UF_EXIT_OK : UF_EXIT_FINDINGS;
    }
    g_ptr_array_free(buses, TRUE);
    uf_analyzer_free(a);
    uf_helper_free(helper);
    uf_cli_close(&in);
    uf_spill_free(c.findings);
done:
    uf_cli_analysis_free(&an);
    g_free(format);
    g_free(iface);
    g_free(output);
    g_free(fail_on);
    g_free(color);
    g_option_context_free(ctx);
    return status;
}
