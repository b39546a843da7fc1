/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The script a command works from: a JSON script as `udsreplay script`
 * writes it, or a capture (any format udsflash reads) whose session is
 * turned into one with the analysis of `udsflash check`. A file is a
 * script when its first non-blank byte opens a JSON object. And the
 * ECU's side of a captured session, which udsreplay ecu plays back.
 */
#include "udsreplay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool looks_like_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
    }
    fclose(f);
    return c == '{';
}

/* The only replayable session, or 0 with err listing the candidates. */
static uint32_t pick_session(const uf_sessions *ss, const char *path, uf_error *err)
{
    uint32_t found = 0, count = 0;
    GString *which = g_string_new(NULL);
    for (uint32_t i = 1; i <= uf_sessions_count(ss); i++) {
        if (!ur_session_replayable(uf_sessions_get(ss, i)))
            continue;
        found = i;
        count++;
        g_string_append_printf(which, "%s%u", count > 1 ? ", " : "", i);
    }
    if (count == 0)
        uf_error_set(err, "%s: no flash session with a complete download to replay", path);
    else if (count > 1)
        uf_error_set(err, "%s: %u sessions can be replayed (%s): choose one with --session",
                     path, count, which->str);
    g_string_free(which, TRUE);
    return count == 1 ? found : 0;
}

/* Streams a capture through the analysis into `sink`: the finished
 * analyzer, or NULL after printing why the file could not be read or is
 * damaged, with *status. */
static uf_analyzer *analyze(const char *path, uf_analyzer_config *cfg,
                            const uf_analyzer_sink *sink, int *status)
{
    uf_cli_input in;
    if (!uf_cli_open(&in, path, NULL)) {
        *status = UF_EXIT_INPUT;
        return NULL;
    }
    uf_analyzer *a = uf_cli_analyze(&in, cfg, sink);
    if (in.damaged) {
        fprintf(stderr, "udsreplay: %s\n", in.damage.msg);
        *status = UF_EXIT_INPUT;
        uf_analyzer_free(a);
        a = NULL;
    }
    uf_cli_close(&in);
    return a;
}

/* One pass over the capture: the script of `session`, or (session 0) the
 * number of the only replayable one in *picked. */
static uf_script *read_capture(const char *path, uint32_t session, uf_analyzer_config *cfg,
                               uint32_t *picked, int *status)
{
    uf_script_collector *c = session ? uf_script_collector_new(session) : NULL;
    uf_analyzer_sink sink = {0};
    if (c)
        uf_script_collector_sink(c, &sink);
    uf_analyzer *a = analyze(path, cfg, &sink, status);
    uf_script *s = NULL;
    uf_error err;
    if (!a) {
        /* analyze() said why */
    } else if (!c) {
        *picked = pick_session(uf_analyzer_sessions(a), path, &err);
        if (!*picked) {
            fprintf(stderr, "udsreplay: %s\n", err.msg);
            *status = UF_EXIT_INPUT;
        }
    } else {
        s = uf_script_collector_finish(c, uf_analyzer_sessions(a), path, &err);
        if (!s) {
            fprintf(stderr, "udsreplay: %s\n", err.msg);
            *status = UF_EXIT_INPUT;
        }
    }
    uf_analyzer_free(a);
    uf_script_collector_free(c);
    return s;
}

bool ur_session_replayable(const uf_session *s)
{
    if (!s->downloads || s->downloads->len == 0)
        return false;
    for (guint i = 0; i < s->downloads->len; i++)
        if (!g_array_index(s->downloads, uf_download, i).complete)
            return false;
    return true;
}

/* The only session of a capture, or 0 with err listing them. */
static uint32_t only_session(const uf_sessions *ss, const char *path, uf_error *err)
{
    uint32_t n = uf_sessions_count(ss);
    if (n == 0)
        uf_error_set(err, "%s: no flash session (see udsreplay list)", path);
    else if (n > 1)
        uf_error_set(err, "%s: %u sessions: choose one with --session (see udsreplay list)", path,
                     n);
    return n == 1 ? 1 : 0;
}

uf_recording *ur_load_recording(const char *path, uint32_t session, uf_cli_analysis *an,
                                int *status)
{
    uf_error err;
    uf_analyzer_config cfg;
    if (!uf_cli_analysis_config(an, &cfg, &err)) {
        fprintf(stderr, "udsreplay: %s\n", err.msg);
        *status = UF_EXIT_USAGE;
        return NULL;
    }
    /* Without --session the capture must hold one session: collect the
     * first, and refuse it at the end if it has company. */
    uf_recording_collector *c = uf_recording_collector_new(session ? session : 1);
    uf_analyzer_sink sink;
    uf_recording_collector_sink(c, &sink);
    uf_analyzer *a = analyze(path, &cfg, &sink, status);
    uf_recording *r = NULL;
    if (!a) {
        /* analyze() said why */
    } else if (!session && !only_session(uf_analyzer_sessions(a), path, &err)) {
        fprintf(stderr, "udsreplay: %s\n", err.msg);
        *status = UF_EXIT_INPUT;
    } else if (!(r = uf_recording_collector_finish(c, uf_analyzer_sessions(a), path, &err))) {
        fprintf(stderr, "udsreplay: %s\n", err.msg);
        *status = UF_EXIT_INPUT;
    }
    uf_analyzer_free(a);
    uf_recording_collector_free(c);
    return r;
}

uf_recording *ur_load_recording_spec(const char *option, const char *spec, uf_cli_analysis *an,
                                     int *status)
{
    const char *hash = strrchr(spec, '#');
    guint64 session = 0;
    if (hash && !g_ascii_string_to_unsigned(hash + 1, 10, 1, G_MAXUINT32, &session, NULL)) {
        fprintf(stderr, "udsreplay: %s %s: not a session number after the #\n", option, spec);
        *status = UF_EXIT_USAGE;
        return NULL;
    }
    char *path = hash ? g_strndup(spec, (gsize)(hash - spec)) : g_strdup(spec);
    uf_recording *r = ur_load_recording(path, (uint32_t)session, an, status);
    g_free(path);
    return r;
}

/* A frame of the session: the tester's to the ECU (with the ECU's address
 * byte when addressing has one), its functional ones, the ECU's to it. */
static bool session_frame(const uf_recording *r, const uf_can_frame *f, bool *from_tester)
{
    const uf_script_link *l = &r->link;
    uint32_t id = uf_isotp_id_of(f);
    bool prefix = uf_addressing_prefix(l->addressing);
    if (id == l->tester_id && (!prefix || (f->len && f->data[0] == (uint8_t)l->ecu_addr))) {
        *from_tester = true;
        return true;
    }
    if (l->functional_id && id == l->functional_id) {
        *from_tester = true;
        return true;
    }
    *from_tester = false;
    return id == l->ecu_id && (!prefix || (f->len && f->data[0] == (uint8_t)l->tester_addr));
}

GArray *ur_load_frames(const char *path, const uf_recording *r, int *status)
{
    uf_cli_input in;
    if (!uf_cli_open(&in, path, NULL)) {
        *status = UF_EXIT_INPUT;
        return NULL;
    }
    GArray *frames = g_array_new(FALSE, TRUE, sizeof(uf_repro_frame));
    uf_record rec;
    int rc;
    while ((rc = uf_reader_next(in.reader, &rec, &in.damage)) == 1) {
        if (rec.number > r->last_frame)
            break;
        bool from_tester;
        if (rec.number < r->first_frame || rec.kind != UF_REC_CAN || rec.bus != r->bus ||
            (rec.can.flags & (UF_CAN_ERR | UF_CAN_RTR)) ||
            !session_frame(r, &rec.can, &from_tester))
            continue;
        uf_repro_frame f = {rec.number, rec.time, from_tester, rec.can};
        g_array_append_val(frames, f);
    }
    if (rc < 0) {
        fprintf(stderr, "udsreplay: %s\n", in.damage.msg);
        *status = UF_EXIT_INPUT;
        g_array_free(frames, TRUE);
        frames = NULL;
    } else if (!frames->len) {
        fprintf(stderr, "udsreplay: %s: session %u has no CAN frame to reproduce\n", path,
                r->session);
        *status = UF_EXIT_INPUT;
        g_array_free(frames, TRUE);
        frames = NULL;
    }
    uf_cli_close(&in);
    return frames;
}

uf_script *ur_load_script(const char *path, uint32_t session, uf_cli_analysis *an, int *status)
{
    uf_error err;
    if (looks_like_json(path)) {
        uf_script *s = uf_script_load(path, &err);
        if (!s) {
            fprintf(stderr, "udsreplay: %s\n", err.msg);
            *status = UF_EXIT_INPUT;
        }
        return s;
    }
    uf_analyzer_config cfg;
    if (!uf_cli_analysis_config(an, &cfg, &err)) {
        fprintf(stderr, "udsreplay: %s\n", err.msg);
        *status = UF_EXIT_USAGE;
        return NULL;
    }
    /* Without --session, a first pass finds the one replayable session:
     * the capture streams through twice rather than keeping every image. */
    if (!session && (read_capture(path, 0, &cfg, &session, status), !session))
        return NULL;
    return read_capture(path, session, &cfg, NULL, status);
}
