/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay list FILE: the flash sessions of a capture, as the analyzer of
 * `udsflash check` finds them, with what a replay needs to know: who talks
 * to whom on which bus and transport, the downloads and whether they were
 * complete (only a complete image can be flashed again), the security
 * level, and the session's verdict. Exit status 0, 1 when the capture holds
 * no flash session with a complete download, 2 usage, 3 unreadable input.
 */
#include "udsreplay.h"

#include "uf_report.h"

#include <errno.h>
#include <string.h>

static void list_text(FILE *out, const uf_check_result *r)
{
    uint32_t n = uf_sessions_count(r->sessions);
    fprintf(out, "%s (%s): %u flash session%s\n", r->input.file, r->input.format, n,
            n == 1 ? "" : "s");
    for (uint32_t i = 1; i <= n; i++) {
        const uf_session *s = uf_sessions_get(r->sessions, i);
        char tester[48], ecu[48], dur[32];
        uf_isotp_endpoint_name(&s->tester, tester, sizeof(tester));
        uf_isotp_endpoint_name(&s->ecu, ecu, sizeof(ecu));
        uf_format_duration(dur, sizeof(dur), s->t_end - s->t_start);
        fprintf(out, "\n%3u  %s  %s  tester %s -> ECU %s  %s, %u requests, %s%s\n", s->index,
                uf_report_bus(r, s->bus), uf_session_transport(s), tester,
                s->ecu_known ? ecu : "?", dur, s->requests,
                uf_session_passed(s, UF_SEV_ERROR) ? "check passes" : "check fails",
                ur_session_replayable(s) ? "" : "; not replayable: no complete download");
        if (s->security_level)
            fprintf(out, "     security level %u\n", s->security_level);
        for (guint k = 0; s->downloads && k < s->downloads->len; k++) {
            const uf_download *d = &g_array_index(s->downloads, uf_download, k);
            fprintf(out, "     download %u  0x%08" G_GINT64_MODIFIER "X  %" G_GUINT64_FORMAT
                         " of %" G_GUINT64_FORMAT " bytes in %u blocks%s%s%s\n",
                    d->index, d->address, d->bytes, d->size, d->blocks,
                    d->complete ? "" : "  incomplete", d->sha256[0] ? "  sha256 " : "",
                    d->sha256);
        }
    }
}

static void list_json(FILE *out, const uf_check_result *r)
{
    uf_json j;
    uf_json_init(&j, out, true);
    uf_json_begin_object(&j);
    uf_json_key(&j, "file");
    uf_json_string(&j, r->input.file);
    uf_json_key(&j, "format");
    uf_json_string(&j, r->input.format);
    uf_json_key(&j, "sessions");
    uf_json_begin_array(&j);
    uint32_t n = uf_sessions_count(r->sessions);
    for (uint32_t i = 1; i <= n; i++) {
        const uf_session *s = uf_sessions_get(r->sessions, i);
        char name[48];
        uf_json_begin_object(&j);
        uf_json_key(&j, "index");
        uf_json_uint(&j, s->index);
        uf_json_key(&j, "bus");
        uf_json_string(&j, uf_report_bus(r, s->bus));
        uf_json_key(&j, "transport");
        uf_json_string(&j, uf_session_transport(s));
        uf_json_key(&j, "tester");
        uf_json_string(&j, uf_isotp_endpoint_name(&s->tester, name, sizeof(name)));
        uf_json_key(&j, "ecu");
        if (s->ecu_known)
            uf_json_string(&j, uf_isotp_endpoint_name(&s->ecu, name, sizeof(name)));
        else
            uf_json_null(&j);
        uf_json_key(&j, "start");
        uf_json_time(&j, uf_report_rel(r, s->t_start));
        uf_json_key(&j, "duration");
        uf_json_time(&j, s->t_end - s->t_start);
        uf_json_key(&j, "requests");
        uf_json_uint(&j, s->requests);
        uf_json_key(&j, "security_level");
        uf_json_uint(&j, s->security_level);
        uf_json_key(&j, "check");
        uf_json_string(&j, uf_session_passed(s, UF_SEV_ERROR) ? "pass" : "fail");
        uf_json_key(&j, "replayable");
        uf_json_bool(&j, ur_session_replayable(s));
        uf_json_key(&j, "downloads");
        uf_json_begin_array(&j);
        for (guint k = 0; s->downloads && k < s->downloads->len; k++) {
            const uf_download *d = &g_array_index(s->downloads, uf_download, k);
            uf_json_begin_object(&j);
            uf_json_key(&j, "address");
            uf_json_uint(&j, d->address);
            uf_json_key(&j, "size");
            uf_json_uint(&j, d->size);
            uf_json_key(&j, "bytes");
            uf_json_uint(&j, d->bytes);
            uf_json_key(&j, "blocks");
            uf_json_uint(&j, d->blocks);
            uf_json_key(&j, "complete");
            uf_json_bool(&j, d->complete);
            uf_json_key(&j, "sha256");
            if (d->sha256[0])
                uf_json_string(&j, d->sha256);
            else
                uf_json_null(&j);
            uf_json_end_object(&j);
        }
        uf_json_end_array(&j);
        uf_json_end_object(&j);
    }
    uf_json_end_array(&j);
    uf_json_end_object(&j);
    fputc('\n', out);
}

int ur_cmd_list(int argc, char **argv)
{
    char *format = NULL;
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "Output: text (default) or json",
         "FORMAT"},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - list the flash sessions of a capture",
        "Finds the flash sessions of a capture (any format udsflash reads, CAN or DoIP)\n"
        "and lists, for each, the tester and ECU, the downloads and whether they are\n"
        "complete, which a replay needs. Exit status 1: no session can be replayed.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_error err;
    uf_analyzer_config cfg;
    if (!uf_cli_parse(ctx, "list", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (format && strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "udsreplay list: --format \"%s\": expected text or json\n", format);
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (argc != 2) {
        fprintf(stderr, "udsreplay list: give one capture FILE (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (!uf_cli_analysis_config(&an, &cfg, &err)) {
        fprintf(stderr, "udsreplay list: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }
    uf_cli_input in;
    if (!uf_cli_open(&in, argv[1], NULL)) {
        status = UF_EXIT_INPUT;
        goto done;
    }
    uf_analyzer_sink sink = {0};
    uf_analyzer *a = uf_cli_analyze(&in, &cfg, &sink);
    GPtrArray *buses = g_ptr_array_new();
    for (uint32_t b = 0; b < uf_reader_bus_count(in.reader); b++)
        g_ptr_array_add(buses, (gpointer)uf_reader_bus_name(in.reader, b));
    uf_check_result r = {
        .input = {uf_reader_path(in.reader), uf_reader_format(in.reader),
                  uf_reader_has_time(in.reader), in.base, in.frames, 0, NULL,
                  (const char *const *)buses->pdata, buses->len},
        .profile = cfg.profile,
        .sessions = uf_analyzer_sessions(a),
        .fail_on = UF_SEV_ERROR,
    };
    if (format && strcmp(format, "json") == 0)
        list_json(stdout, &r);
    else
        list_text(stdout, &r);
    bool any = false;
    for (uint32_t i = 1; i <= uf_sessions_count(r.sessions); i++)
        any |= ur_session_replayable(uf_sessions_get(r.sessions, i));
    if (fflush(stdout) != 0) {
        fprintf(stderr, "udsreplay list: stdout: write failed: %s\n", g_strerror(errno));
        status = UF_EXIT_INPUT;
    } else if (in.damaged) {
        fprintf(stderr, "udsreplay: %s\n", in.damage.msg);
        status = UF_EXIT_INPUT;
    } else if (!any) {
        status = UF_EXIT_FINDINGS;
    }
    g_ptr_array_free(buses, TRUE);
    uf_analyzer_free(a);
    uf_cli_close(&in);
done:
    uf_cli_analysis_free(&an);
    g_free(format);
    g_option_context_free(ctx);
    return status;
}
