/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay ecu FILE: stands on a bus as the ECU of a captured session
 * and answers a live tester as that ECU did (uf_recorded_ecu.h), on
 * SocketCAN (raw CAN with our ISO-TP, or the kernel's) or as a DoIP
 * entity, until a signal or --duration. What the recording did not
 * foresee is logged as it happens and summed up at the end.
 * Exit status: 0 served; 2 usage; 3 unreadable input, a bus or port that
 * cannot be opened.
 */
#include "links.h"
#include "udsreplay.h"
#include "uf_serve.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    gint session;
    char *can, *kernel_isotp, *listen, *format, *unseen_service, *unseen_request;
    char **faults;
    gboolean doip, quiet;
    gint port;
    gint64 seed;
    gdouble speed, duration;
} options;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* "0x11", "17" or "none" (silence). */
static bool parse_nrc(const char *option, const char *text, int *out, uf_error *err)
{
    if (!text)
        return true;
    if (strcmp(text, "none") == 0) {
        *out = -1;
        return true;
    }
    guint64 v;
    bool hex = g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X");
    if (!g_ascii_string_to_unsigned(hex ? text + 2 : text, hex ? 16 : 10, 0x10, 0xFF, &v, NULL) ||
        v == 0x78) {
        uf_error_set(err, "%s \"%s\": an NRC from 0x10 to 0xFF but 0x78, or none", option, text);
        return false;
    }
    *out = (int)v;
    return true;
}

typedef struct serving {
    const options *o;
    const uf_recorded_ecu *ecu;
    guint events_shown;
    uf_faults *faults;          /* --fault on the ECU's side; NULL: none */
} serving;

static void on_fault(void *ctx, const uf_fault_event *e)
{
    const serving *s = ctx;
    if (!s->o->quiet)
        fprintf(stderr, "udsreplay ecu: fault injected: %s\n", e->what);
}

/* The faults, once the link is known: a CAN medium takes every one, a
 * transport of whole messages (DoIP, kernel ISO-TP) those on messages. */
static bool faults_for(serving *s, unsigned caps, const char *link, uf_time origin, uf_error *err)
{
    if (!s->faults)
        return true;
    if (!uf_faults_check(s->faults, caps, link, err))
        return false;
    uf_faults_set_origin(s->faults, origin);
    uf_faults_on_event(s->faults, on_fault, s);
    return true;
}

/* What the recording did not foresee, as it happens. */
static void show_events(serving *s)
{
    const GArray *ev = uf_recorded_ecu_events(s->ecu);
    for (; s->events_shown < ev->len; s->events_shown++) {
        char what[160];
        if (!s->o->quiet)
            fprintf(stderr, "udsreplay ecu: %s\n",
                    uf_recorded_event_describe(
                        &g_array_index(ev, uf_recorded_event, s->events_shown), what,
                        sizeof(what)));
    }
}

static void on_answer(void *ctx, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    show_events(ctx);
}

static void on_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "udsreplay ecu: %s\n", msg);
}

static void report_text(FILE *out, const uf_recording *r, const uf_recorded_ecu *e,
                        const char *where, const uf_faults *faults)
{
    uf_recorded_ecu_stats st;
    uf_recorded_ecu_stats_get(e, &st);
    const GArray *ev = uf_recorded_ecu_events(e);
    fprintf(out, "udsreplay ecu: %s session %u on %s: %u requests, %u answers; %u of %u "
                 "recorded exchanges used; %u not foreseen by the recording\n",
            r->source, r->session, where, st.requests, st.answered, st.exchanges_used,
            st.exchanges, ev->len);
    for (guint i = 0; i < ev->len; i++) {
        char what[160];
        const uf_recorded_event *x = &g_array_index(ev, uf_recorded_event, i);
        fprintf(out, "  %s\n", uf_recorded_event_describe(x, what, sizeof(what)));
    }
    uf_faults_report_text(out, faults, "  ");
}

static void report_json(FILE *out, const uf_recording *r, const uf_recorded_ecu *e,
                        const char *where, const uf_faults *faults)
{
    uf_recorded_ecu_stats st;
    uf_recorded_ecu_stats_get(e, &st);
    const GArray *ev = uf_recorded_ecu_events(e);
    uf_json js, *j = &js;
    uf_json_init(j, out, true);
    uf_json_begin_object(j);
    uf_json_member_string(j, "source", r->source);
    uf_json_member_uint(j, "session", r->session);
    uf_json_member_string(j, "link", where);
    uf_json_member_uint(j, "requests", st.requests);
    uf_json_member_uint(j, "answers", st.answered);
    uf_json_member_uint(j, "exchanges", st.exchanges);
    uf_json_member_uint(j, "exchanges_used", st.exchanges_used);
    uf_json_key(j, "unforeseen");
    uf_json_begin_array(j);
    for (guint i = 0; i < ev->len; i++) {
        const uf_recorded_event *x = &g_array_index(ev, uf_recorded_event, i);
        static const char *const kinds[] = {"unseen", "refused", "wrong_key"};
        uf_json_begin_object(j);
        uf_json_member_string(j, "kind", kinds[x->kind]);
        uf_json_member_time(j, "time", x->time);
        uf_json_key(j, "request");
        uf_json_hex(j, x->request, x->request_len < 16 ? x->request_len : 16);
        uf_json_member_uint(j, "request_length", x->request_len);
        uf_json_key(j, "nrc");
        if (x->nrc >= 0)
            uf_json_uint(j, (uint64_t)x->nrc);
        else
            uf_json_null(j);
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

/* Serves on CAN (raw or kernel ISO-TP): the recorded ids, the tester's
 * swapped with the ECU's, the recorded flow control. */
static bool serve_can(serving *s, const uf_recording *r, uf_recorded_ecu *e, uf_time until,
                      char *where, size_t where_size, uf_error *err)
{
    const options *o = s->o;
    const uf_script_link *l = &r->link;
    uf_isotp_ep_config c;
    ur_isotp_config(l, true, &c);
    uf_responder resp = uf_recorded_ecu_responder(e);
    uf_responder_fc_override(resp, &c.bs, &c.stmin);
    uf_faulty_responder *faulty = NULL;
    uf_channel *ch = NULL;
    if (o->can) {
        uint32_t ids[3] = {l->tester_id, l->ecu_id, l->functional_id};
        if (!faults_for(s, UF_LINK_CAN_FRAMES, o->can, uf_clock_monotonic(), err))
            return false;
        uf_can_medium *m = uf_can_medium_socketcan(o->can, l->fd, ids, l->functional_id ? 3 : 2,
                                                   err);
        if (m && s->faults)
            m = uf_can_medium_faulty(m, s->faults, uf_addressing_prefix(l->addressing));
        ch = m ? uf_channel_isotp(m, &c) : NULL;
    } else {
        if (!faults_for(s, 0, "the kernel's ISO-TP", uf_clock_monotonic(), err))
            return false;
        ch = uf_channel_kernel_isotp(o->kernel_isotp, &c, err);
        if (s->faults) {
            faulty = uf_faulty_responder_new(resp, s->faults);
            resp = uf_faulty_responder_get(faulty);
        }
    }
    if (!ch) {
        uf_faulty_responder_free(faulty);
        return false;
    }
    g_strlcpy(where, ch->name, where_size);
    if (!o->quiet)
        fprintf(stderr, "udsreplay ecu: the ECU of %s session %u on %s\n", r->source, r->session,
                ch->name);
    uf_serve_hooks hooks = {.ctx = s, .answer = on_answer, .warning = on_warning};
    bool ok = uf_serve_channel(ch, resp, until, &stop_requested, &hooks, err);
    uf_channel_free(ch);
    uf_faulty_responder_free(faulty);
    return ok;
}

static bool serve_doip(serving *sv, const uf_recording *r, uf_recorded_ecu *e, uf_time until,
                       char *where, size_t where_size, uf_error *err)
{
    const options *o = sv->o;
    const uf_script_link *l = &r->link;
    uf_doip_server_config dc;
    uf_doip_server_defaults(&dc);
    dc.listen = o->listen;
    if (o->port >= 0)
        dc.port = (uint16_t)o->port;
    dc.ecu = l->ecu_la;
    if (l->functional_la)
        dc.functional = l->functional_la;
    /* The DoIP entity hands the ECU whole messages. */
    if (!faults_for(sv, UF_LINK_DOIP, "a DoIP entity", uf_clock_monotonic(), err))
        return false;
    uf_responder resp = uf_recorded_ecu_responder(e);
    uf_faulty_responder *faulty = NULL;
    if (sv->faults) {
        faulty = uf_faulty_responder_new(resp, sv->faults);
        resp = uf_faulty_responder_get(faulty);
    }
    uf_doip_server *s = uf_doip_server_new(&dc, resp, err);
    if (!s) {
        uf_faulty_responder_free(faulty);
        return false;
    }
    g_snprintf(where, where_size, "DoIP port %u (entity 0x%04X, ECU 0x%04X)",
               uf_doip_server_port(s), dc.entity, dc.ecu);
    /* The port on stdout: a test that asks for any free port reads it. */
    printf("udsreplay ecu: the ECU of %s session %u as DoIP entity 0x%04X, ECU 0x%04X on port "
           "%u\n", r->source, r->session, dc.entity, dc.ecu, uf_doip_server_port(s));
    fflush(stdout);
    bool ok = uf_doip_server_run(s, until, &stop_requested, err);
    uf_doip_server_free(s);
    uf_faulty_responder_free(faulty);
    return ok;
}

int ur_cmd_ecu(int argc, char **argv)
{
    options o = {.port = -1, .speed = 1.0};
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"session", 's', 0, G_OPTION_ARG_INT, &o.session,
         "The capture's session (default: its only one)", "N"},
        {"can", 0, 0, G_OPTION_ARG_STRING, &o.can,
         "Answer on a SocketCAN interface (raw CAN, our ISO-TP)", "IFACE"},
        {"kernel-isotp", 0, 0, G_OPTION_ARG_STRING, &o.kernel_isotp,
         "Answer on a SocketCAN interface with the kernel's ISO-TP", "IFACE"},
        {"doip", 0, 0, G_OPTION_ARG_NONE, &o.doip, "Answer as a DoIP entity (TCP and UDP)", NULL},
        {"listen", 0, 0, G_OPTION_ARG_STRING, &o.listen,
         "DoIP: the address to listen on (default: all)", "ADDR"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "DoIP: the port (default 13400; 0: any free)",
         "PORT"},
        {"speed", 0, 0, G_OPTION_ARG_DOUBLE, &o.speed,
         "Scale the recorded delays by 1/X (default 1: as recorded)", "X"},
        {"unseen-service-nrc", 0, 0, G_OPTION_ARG_STRING, &o.unseen_service,
         "The answer to a service the recording never saw (default 0x11; none: silence)", "NRC"},
        {"unseen-request-nrc", 0, 0, G_OPTION_ARG_STRING, &o.unseen_request,
         "The answer to an identifier the recording never saw (default 0x31; none: silence)",
         "NRC"},
        {"fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.faults,
         "A fault on the ECU's side of the link: drop / delay / corrupt a frame or message, "
         "alter flow control, link loss, bus-off, DoIP disconnect (repeatable; docs/replay.md)",
         "SPEC"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, "Seed of the faults' random choices", "N"},
        {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &o.duration,
         "Stop after this many seconds (default: at SIGINT / SIGTERM)", "S"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
         "The summary at the end: text (default) or json", "FORMAT"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No log lines", NULL},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - answer a live tester as the ECU of a capture did",
        "Each request gets the answers the recorded ECU gave it, after the recorded\n"
        "delays, 0x78 chains and NRCs included, with the recorded flow control; the\n"
        "session, security level and download are kept as a bootloader keeps them.\n"
        "Requests the recording never saw get an NRC and are reported (docs/replay.md).\n"
        "Exit status: 0 served, 2 usage, 3 unreadable input or a bus that cannot be opened.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_recording *r = NULL;
    uf_recorded_ecu *e = NULL;
    uf_link_fault *faults = NULL;
    size_t n_faults = 0;
    serving sv = {&o, NULL, 0, NULL};
    uf_error err = {{0}};
    uf_recorded_ecu_config ec;
    uf_recorded_ecu_config_defaults(&ec);
    if (!uf_cli_parse(ctx, "ecu", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (argc != 2 || !!o.can + !!o.kernel_isotp + !!o.doip != 1 || o.session < 0 ||
        !(o.speed > 0) || o.duration < 0 || o.port > 65535 ||
        (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0)) {
        fprintf(stderr, "udsreplay ecu: give one FILE and one of --can, --kernel-isotp or --doip; "
                        "--speed above 0, --format text|json (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    ec.speed = o.speed;
    if (!parse_nrc("--unseen-service-nrc", o.unseen_service, &ec.unseen_service_nrc, &err) ||
        !parse_nrc("--unseen-request-nrc", o.unseen_request, &ec.unseen_request_nrc, &err) ||
        !ur_faults_parse(o.faults, &faults, &n_faults, &err)) {
        fprintf(stderr, "udsreplay ecu: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }
    r = ur_load_recording(argv[1], (uint32_t)o.session, &an, &status);
    if (!r)
        goto done;
    if (r->link.doip != !!o.doip) {
        fprintf(stderr, "udsreplay ecu: %s session %u ran on %s: answer it with %s\n", argv[1],
                r->session, r->link.doip ? "DoIP" : "CAN", r->link.doip ? "--doip" : "--can");
        status = UF_EXIT_USAGE;
        goto done;
    }
    e = uf_recorded_ecu_new(r, &ec);
    sv.ecu = e;
    if (n_faults)
        sv.faults = uf_faults_new(faults, n_faults, (uint64_t)o.seed);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uf_time until = o.duration > 0 ? uf_clock_monotonic() + (uf_time)(o.duration * 1e9)
                                   : UF_TIME_NONE;
    char where[200] = "";
    bool ok = o.doip ? serve_doip(&sv, r, e, until, where, sizeof(where), &err)
                     : serve_can(&sv, r, e, until, where, sizeof(where), &err);
    if (!ok) {
        fprintf(stderr, "udsreplay ecu: %s\n", err.msg);
        /* A fault this link cannot carry is the command line's mistake. */
        status = where[0] || !g_str_has_prefix(err.msg, "fault ") ? UF_EXIT_INPUT
                                                                 : UF_EXIT_USAGE;
    }
    if (where[0]) {
        if (o.format && strcmp(o.format, "json") == 0)
            report_json(stdout, r, e, where, sv.faults);
        else
            report_text(stdout, r, e, where, sv.faults);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "udsreplay ecu: stdout: write failed: %s\n", g_strerror(errno));
            status = UF_EXIT_INPUT;
        }
    }
done:
    uf_faults_free(sv.faults);
    g_free(faults);
    g_strfreev(o.faults);
    uf_recorded_ecu_free(e);
    uf_recording_free(r);
    uf_cli_analysis_free(&an);
    g_free(o.can);
    g_free(o.kernel_isotp);
    g_free(o.listen);
    g_free(o.format);
    g_free(o.unseen_service);
    g_free(o.unseen_request);
    g_option_context_free(ctx);
    return status;
}
