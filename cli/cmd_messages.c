/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash messages FILE`: one line per UDS message (time, frames, bus,
 * tester -> ECU, service, key parameters, response time), one per DoIP
 * message that is not a diagnostic message (routing activation, ACKs,
 * vehicle discovery), with the findings inline; `--format json` streams
 * the same as one JSON object.
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

#define JSON_DATA_DEFAULT 64     /* payload bytes shown per message */
#define MAX_BUFFERED 100000      /* findings kept for the JSON tail */

typedef struct report {
    bool json;
    FILE *out;
    uf_json j;
    uf_cli_input *in;
    uf_uds_names names;
    uint32_t data_bytes; /* payload bytes in JSON "data"; 0 = all */
    uint64_t messages, requests, positive, negative, incomplete, unanswered, doip;
    uint64_t by_severity[3];
    GArray *findings;   /* uf_finding, JSON only */
    uint64_t findings_dropped;
} report;

static const char *bus_name(const report *r, uint32_t bus)
{
    return bus == UF_BUS_NONE ? "-" : uf_reader_bus_name(r->in->reader, bus);
}

static const char *ep_name(const uf_isotp_endpoint *ep, bool known, char *buf, size_t size)
{
    if (!known) {
        snprintf(buf, size, "?");
        return buf;
    }
    return uf_isotp_endpoint_name(ep, buf, size);
}

/* ---- text -----------------------------------------------------------------*/

static void text_message(report *r, const uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    char t[32], frames[48], tester[32], ecu[32], chan[80], svc[32], params[512], rt[192] = "";
    uf_format_seconds(t, sizeof(t), uf_cli_rel(r->in, tp->t_first));
    if (tp->first_frame == tp->last_frame)
        snprintf(frames, sizeof(frames), "%" PRIu64, tp->first_frame);
    else
        snprintf(frames, sizeof(frames), "%" PRIu64 "-%" PRIu64, tp->first_frame, tp->last_frame);
    ep_name(&m->tester, m->tester_known, tester, sizeof(tester));
    if (m->d.kind == UF_UDS_REQUEST && m->functional)
        snprintf(ecu, sizeof(ecu), "all");
    else
        ep_name(&m->ecu, m->ecu_known, ecu, sizeof(ecu));
    snprintf(chan, sizeof(chan), "%s %s %s", tester, m->d.kind == UF_UDS_REQUEST ? "->" : "<-",
             ecu);
    const char *service = uf_uds_display_service(m->d.sid, svc, sizeof(svc));
    uf_uds_describe(&m->d, &r->names, params, sizeof(params));
    if (m->response_time != UF_TIME_NONE) {
        char a[32], b[32];
        if (m->since_pending != UF_TIME_NONE)
            snprintf(rt, sizeof(rt), "  rt=%sms (%sms after 0x78)",
                     uf_format_ms(a, sizeof(a), m->response_time),
                     uf_format_ms(b, sizeof(b), m->since_pending));
        else
            snprintf(rt, sizeof(rt), "  rt=%sms", uf_format_ms(a, sizeof(a), m->response_time));
    } else if (m->d.kind != UF_UDS_REQUEST && !m->request && !m->incomplete) {
        snprintf(rt, sizeof(rt), "  (no request)");
    }
    if (tp->transport == UF_TRANSPORT_DOIP && (tp->acked || tp->nacked)) {
        char a[32];
        size_t used = strlen(rt);
        uf_format_ms(a, sizeof(a), tp->ack_latency);
        if (tp->nacked) {
            const char *name = uf_doip_diag_nack_name(tp->nack_code);
            snprintf(rt + used, sizeof(rt) - used, "  DoIP NACK 0x%02X %s after %sms",
                     tp->nack_code, name ? name : "(reserved)", a);
        } else {
            snprintf(rt + used, sizeof(rt) - used, "  ack=%sms", a);
        }
    }
    const char *mark = m->d.kind == UF_UDS_POSITIVE ? "+" : m->d.kind == UF_UDS_NEGATIVE ? "-" : "";
    char incomplete[64] = "";
    if (m->incomplete)
        snprintf(incomplete, sizeof(incomplete), "[incomplete %u/%u bytes] ", tp->received_len,
                 tp->declared_len);
    fprintf(r->out, "%12s  %-11s %-6s %-24s %-20s %s%s%s%s%s%s\n", t, frames,
            bus_name(r, tp->src.bus), chan, m->step ? m->step : "-", incomplete, service, mark,
            params[0] ? " " : "", params, rt);
}

/* Where a DoIP message went: "doip#3 ->" (tester to entity on TCP
 * connection 3), "doip#3 <-", or "udp ->" / "udp <-" for discovery. */
static const char *doip_channel(const uf_doip_pdu *p, char *buf, size_t size)
{
    bool to_entity = p->dport == UF_DOIP_PORT || p->sport != UF_DOIP_PORT;
    if (p->udp)
        snprintf(buf, size, "udp %s", to_entity ? "->" : "<-");
    else
        snprintf(buf, size, "doip#%" PRIu64 " %s", p->connection, to_entity ? "->" : "<-");
    return buf;
}

static void text_doip(report *r, const uf_doip_pdu *p)
{
    char t[32], frames[48], chan[40], desc[256], lat[48] = "";
    uf_format_seconds(t, sizeof(t), uf_cli_rel(r->in, p->t_first));
    if (p->first_frame == p->last_frame)
        snprintf(frames, sizeof(frames), "%" PRIu64, p->first_frame);
    else
        snprintf(frames, sizeof(frames), "%" PRIu64 "-%" PRIu64, p->first_frame, p->last_frame);
    uf_doip_describe(p->d, desc, sizeof(desc));
    if (p->latency != UF_TIME_NONE) {
        char a[32];
        snprintf(lat, sizeof(lat), "  after %sms", uf_format_ms(a, sizeof(a), p->latency));
    }
    fprintf(r->out, "%12s  %-11s %-6s %-24s %-20s %s%s\n", t, frames, bus_name(r, p->bus),
            doip_channel(p, chan, sizeof(chan)), "-", desc, lat);
}

static void text_finding(report *r, const uf_finding *f)
{
    char t[32];
    fprintf(r->out, "%12s  ! %s %s (frame %" PRIu64 ", %s): %s\n",
            uf_format_seconds(t, sizeof(t), uf_cli_rel(r->in, f->time)),
            uf_severity_name(f->severity), f->rule->id, f->frame, bus_name(r, f->bus), f->message);
}

/* ---- JSON -----------------------------------------------------------------*/

static void json_endpoint(report *r, const char *key, const uf_isotp_endpoint *ep, bool known)
{
    char buf[32];
    uf_json_key(&r->j, key);
    if (known)
        uf_json_string(&r->j, uf_isotp_endpoint_name(ep, buf, sizeof(buf)));
    else
        uf_json_null(&r->j);
}

static void json_ms(report *r, const char *key, uf_time ns)
{
    uf_json_key(&r->j, key);
    if (ns == UF_TIME_NONE)
        uf_json_null(&r->j);
    else
        uf_json_double(&r->j, (double)ns / 1e6, 3);
}

static void json_fields(report *r, const uf_uds_decoded *d)
{
    uf_json *j = &r->j;
    uf_json_key(j, "fields");
    uf_json_begin_object(j);
    if (d->kind == UF_UDS_NEGATIVE) {
        uf_json_key(j, "nrc");
        uf_json_uint(j, d->nrc);
        const char *name = uf_uds_nrc_name(d->nrc);
        uf_json_key(j, "nrc_name");
        uf_json_string(j, name);
    }
    if (d->has_subfunction) {
        uf_json_key(j, "subfunction");
        uf_json_uint(j, d->subfunction);
    }
    if (d->suppress) {
        uf_json_key(j, "suppress_positive_response");
        uf_json_bool(j, true);
    }
    if (d->has_timing) {
        uf_json_key(j, "p2_ms");
        uf_json_uint(j, d->p2_ms);
        uf_json_key(j, "p2star_ms");
        uf_json_uint(j, d->p2star_ms);
    }
    if (d->has_did) {
        uf_json_key(j, "did");
        uf_json_uint(j, d->did);
    }
    if (d->has_routine) {
        uf_json_key(j, "routine");
        uf_json_uint(j, d->routine);
    }
    if (d->sid == 0x27 && d->has_subfunction) {
        uf_json_key(j, "security_level");
        uf_json_uint(j, d->security_level);
    }
    if (d->has_memory) {
        uf_json_key(j, "address");
        uf_json_uint(j, d->address);
        uf_json_key(j, "size");
        uf_json_uint(j, d->size);
        if (d->sid == 0x34 || d->sid == 0x35) {
            uf_json_key(j, "data_format");
            uf_json_uint(j, d->dfi);
        }
    }
    if (d->has_max_block) {
        uf_json_key(j, "max_block_length");
        uf_json_uint(j, d->max_block_len);
    }
    if (d->has_block) {
        uf_json_key(j, "block_counter");
        uf_json_uint(j, d->block_counter);
    }
    if (d->has_dtc_group) {
        uf_json_key(j, "dtc_group");
        uf_json_uint(j, d->dtc_group);
    }
    if (d->malformed) {
        uf_json_key(j, "malformed");
        uf_json_string(j, d->malformed);
    }
    uf_json_end_object(j);
}

static void json_labels(uf_json *j, uint32_t session, const char *phase, const char *step)
{
    uf_json_key(j, "session");
    if (session)
        uf_json_uint(j, session);
    else
        uf_json_null(j);
    uf_json_key(j, "phase");
    uf_json_string(j, phase);
    uf_json_key(j, "step");
    uf_json_string(j, step);
}

static void json_message(report *r, const uf_uds_message *m)
{
    uf_json *j = &r->j;
    const uf_isotp_message *tp = m->tp;
    char buf[512];
    uf_json_begin_object(j);
    uf_json_key(j, "index");
    uf_json_uint(j, m->index);
    uf_json_key(j, "time");
    uf_json_time(j, uf_cli_rel(r->in, tp->t_first));
    uf_json_key(j, "first_frame");
    uf_json_uint(j, tp->first_frame);
    uf_json_key(j, "last_frame");
    uf_json_uint(j, tp->last_frame);
    uf_json_key(j, "frames");
    uf_json_uint(j, tp->frames);
    uf_json_key(j, "bus");
    uf_json_string(j, bus_name(r, tp->src.bus));
    json_labels(j, m->session, m->phase, m->step);
    json_endpoint(r, "tester", &m->tester, m->tester_known);
    json_endpoint(r, "ecu", &m->ecu, m->ecu_known && !(m->d.kind == UF_UDS_REQUEST && m->functional));
    uf_json_key(j, "functional");
    uf_json_bool(j, m->functional);
    uf_json_key(j, "addressing");
    uf_json_string(j, uf_addressing_name(tp->addressing));
    uf_json_key(j, "fd");
    uf_json_bool(j, tp->fd);
    uf_json_key(j, "transport");
    uf_json_string(j, tp->transport == UF_TRANSPORT_DOIP ? "doip" : "isotp");
    if (tp->transport == UF_TRANSPORT_DOIP) {
        uf_json_key(j, "connection");
        uf_json_uint(j, tp->connection);
        json_ms(r, "ack_ms", tp->acked || tp->nacked ? tp->ack_latency : UF_TIME_NONE);
        uf_json_key(j, "nack");
        if (tp->nacked)
            uf_json_uint(j, tp->nack_code);
        else
            uf_json_null(j);
    }
    uf_json_key(j, "kind");
    uf_json_string(j, uf_uds_kind_name(m->d.kind));
    uf_json_key(j, "sid");
    uf_json_uint(j, m->d.sid);
    uf_json_key(j, "service");
    uf_json_string(j, uf_uds_display_service(m->d.sid, buf, sizeof(buf)));
    uf_uds_describe(&m->d, &r->names, buf, sizeof(buf));
    uf_json_key(j, "params");
    uf_json_string(j, buf);
    uf_json_key(j, "length");
    uf_json_uint(j, tp->declared_len);
    uf_json_key(j, "data");
    uf_json_hex(j, tp->data, r->data_bytes && tp->len > r->data_bytes ? r->data_bytes : tp->len);
    uf_json_key(j, "incomplete");
    uf_json_bool(j, m->incomplete);
    if (m->incomplete) {
        uf_json_key(j, "received");
        uf_json_uint(j, tp->received_len);
    }
    json_fields(r, &m->d);
    if (m->d.kind != UF_UDS_REQUEST) {
        uf_json_key(j, "response_to");
        if (m->request)
            uf_json_uint(j, m->request->index);
        else
            uf_json_null(j);
        json_ms(r, "response_time_ms", m->response_time);
        json_ms(r, "since_pending_ms", m->since_pending);
        uf_json_key(j, "pending_before");
        uf_json_uint(j, m->pending_before);
        json_ms(r, "limit_ms", m->limit ? m->limit : UF_TIME_NONE);
        uf_json_key(j, "limit");
        if (m->limit)
            uf_json_string(j, m->limit_p2star ? "P2*" : "P2");
        else
            uf_json_null(j);
        uf_json_key(j, "limit_from_ecu");
        uf_json_bool(j, m->limit && m->limit_from_ecu);
    }
    if (m->download) {
        uf_json_key(j, "download");
        uf_json_begin_object(j);
        uf_json_key(j, "index");
        uf_json_uint(j, m->download);
        uf_json_key(j, "address");
        uf_json_uint(j, m->download_address);
        uf_json_key(j, "size");
        uf_json_uint(j, m->download_size);
        uf_json_key(j, "bytes");
        uf_json_uint(j, m->download_bytes);
        uf_json_end_object(j);
    }
    if (tp->fc_count) {
        uf_json_key(j, "flow_control");
        uf_json_begin_object(j);
        uf_json_key(j, "bs");
        uf_json_uint(j, tp->fc_bs);
        uf_json_key(j, "stmin_us");
        uf_json_uint(j, tp->fc_stmin_us);
        uf_json_key(j, "count");
        uf_json_uint(j, tp->fc_count);
        uf_json_key(j, "waits");
        uf_json_uint(j, tp->fc_wait_count);
        if (tp->cf_gaps) {
            json_ms(r, "cf_gap_min_ms", tp->cf_gap_min);
            json_ms(r, "cf_gap_max_ms", tp->cf_gap_max);
        }
        uf_json_end_object(j);
    }
    uf_json_end_object(j);
}

static void json_address(uf_json *j, const char *key, const uf_ip_addr *a, uint16_t port)
{
    char ip[48], buf[64];
    uf_ip_addr_name(a, ip, sizeof(ip));
    snprintf(buf, sizeof(buf), a->family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
    uf_json_key(j, key);
    uf_json_string(j, buf);
}

static void json_doip(report *r, const uf_doip_pdu *p)
{
    uf_json *j = &r->j;
    char buf[256];
    uf_json_begin_object(j);
    uf_json_key(j, "kind");
    uf_json_string(j, "doip");
    uf_json_key(j, "time");
    uf_json_time(j, uf_cli_rel(r->in, p->t_first));
    uf_json_key(j, "first_frame");
    uf_json_uint(j, p->first_frame);
    uf_json_key(j, "last_frame");
    uf_json_uint(j, p->last_frame);
    uf_json_key(j, "bus");
    uf_json_string(j, bus_name(r, p->bus));
    uf_json_key(j, "protocol");
    uf_json_string(j, p->udp ? "udp" : "tcp");
    uf_json_key(j, "connection");
    if (p->udp)
        uf_json_null(j);
    else
        uf_json_uint(j, p->connection);
    json_address(j, "src", p->src, p->sport);
    json_address(j, "dst", p->dst, p->dport);
    uf_json_key(j, "version");
    uf_json_uint(j, p->d->version);
    uf_json_key(j, "payload_type");
    uf_json_uint(j, p->d->type);
    uf_json_key(j, "name");
    uf_json_string(j, uf_doip_type_name(p->d->type));
    uf_doip_describe(p->d, buf, sizeof(buf));
    uf_json_key(j, "params");
    uf_json_string(j, buf);
    uf_json_key(j, "length");
    uf_json_uint(j, p->d->length);
    uf_json_key(j, "data");
    uf_json_hex(j, p->d->payload, p->d->held);
    json_ms(r, "latency_ms", p->latency);
    uf_json_end_object(j);
}

static void json_finding(report *r, const uf_finding *f)
{
    uf_json *j = &r->j;
    uf_json_begin_object(j);
    uf_json_key(j, "rule");
    uf_json_string(j, f->rule->id);
    uf_json_key(j, "severity");
    uf_json_string(j, uf_severity_name(f->severity));
    uf_json_key(j, "frame");
    uf_json_uint(j, f->frame);
    uf_json_key(j, "time");
    uf_json_time(j, uf_cli_rel(r->in, f->time));
    uf_json_key(j, "bus");
    uf_json_string(j, bus_name(r, f->bus));
    uf_json_key(j, "message");
    uf_json_string(j, f->message);
    uf_json_key(j, "clause");
    uf_json_string(j, f->rule->clause);
    json_labels(j, f->session, f->phase, f->step);
    uf_json_end_object(j);
}

/* ---- sink -----------------------------------------------------------------*/

static void on_message(void *ctx, const uf_uds_message *m)
{
    report *r = ctx;
    r->messages++;
    if (m->incomplete)
        r->incomplete++;
    switch (m->d.kind) {
    case UF_UDS_REQUEST: r->requests++; break;
    case UF_UDS_POSITIVE: r->positive++; break;
    case UF_UDS_NEGATIVE: r->negative++; break;
    }
    if (r->json)
        json_message(r, m);
    else
        text_message(r, m);
}

static void on_doip(void *ctx, const uf_doip_pdu *p)
{
    report *r = ctx;
    r->doip++;
    if (r->json)
        json_doip(r, p);
    else
        text_doip(r, p);
}

static void on_finding(void *ctx, const uf_finding *f)
{
    report *r = ctx;
    r->by_severity[f->severity]++;
    if (strcmp(f->rule->id, "uds.no_response") == 0)
        r->unanswered++;
    if (!r->json) {
        text_finding(r, f);
        return;
    }
    if (r->findings->len < MAX_BUFFERED)
        g_array_append_val(r->findings, *f);
    else
        r->findings_dropped++;
}

/* ---- command ----------------------------------------------------------------*/

static void input_notes(report *r, uf_finding *notes, size_t *n)
{
    uf_cli_input *in = r->in;
    *n = 0;
    if (!uf_reader_has_time(in->reader))
        uf_finding_init(&notes[(*n)++], "capture.no_timestamps", 0, UF_TIME_NONE, UF_BUS_NONE,
                        "%s has no timestamps: frames are numbered in order and timing rules "
                        "are off", uf_reader_path(in->reader));
    if (in->damaged)
        uf_finding_init(&notes[(*n)++], "capture.damaged", in->frames, UF_TIME_NONE, UF_BUS_NONE, "%s",
                        in->damage.msg);
}

static void write_json_tail(report *r, const uf_finding *notes, size_t n_notes)
{
    uf_json *j = &r->j;
    uf_json_end_array(j); /* messages */
    uf_json_key(j, "findings");
    uf_json_begin_array(j);
    for (size_t i = 0; i < n_notes; i++)
        json_finding(r, &notes[i]);
    for (guint i = 0; i < r->findings->len; i++)
        json_finding(r, &g_array_index(r->findings, uf_finding, i));
    uf_json_end_array(j);
    uf_json_key(j, "summary");
    uf_json_begin_object(j);
    const struct { const char *k; uint64_t v; } counts[] = {
        {"frames", r->in->frames},       {"messages", r->messages},
        {"requests", r->requests},       {"positive", r->positive},
        {"negative", r->negative},       {"incomplete", r->incomplete},
        {"unanswered", r->unanswered},   {"doip_messages", r->doip},
        {"findings_not_listed", r->findings_dropped},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(counts); i++) {
        uf_json_key(j, counts[i].k);
        uf_json_uint(j, counts[i].v);
    }
    uf_json_key(j, "findings");
    uf_json_begin_object(j);
    for (int s = UF_SEV_INFO; s <= UF_SEV_ERROR; s++) {
        uf_json_key(j, uf_severity_name((uf_severity)s));
        uf_json_uint(j, r->by_severity[s]);
    }
    uf_json_end_object(j);
    uf_json_end_object(j);
    uf_json_key(j, "input");
    uf_json_begin_object(j);
    uf_json_key(j, "file");
    uf_json_string(j, uf_reader_path(r->in->reader));
    uf_json_key(j, "format");
    uf_json_string(j, uf_reader_format(r->in->reader));
    uf_json_key(j, "timestamps");
    uf_json_bool(j, uf_reader_has_time(r->in->reader));
    uf_json_key(j, "start_time");
    uf_json_time(j, r->in->base);
    uf_json_key(j, "damaged");
    if (r->in->damaged)
        uf_json_string(j, r->in->damage.msg);
    else
        uf_json_null(j);
    uf_json_key(j, "buses");
    uf_json_begin_array(j);
    for (uint32_t b = 0; b < uf_reader_bus_count(r->in->reader); b++)
        uf_json_string(j, uf_reader_bus_name(r->in->reader, b));
    uf_json_end_array(j);
    uf_json_end_object(j);
    uf_json_end_object(j);
}

static void write_text_tail(report *r, const uf_finding *notes, size_t n_notes)
{
    char doip_note[48] = "";
    if (r->doip)
        snprintf(doip_note, sizeof(doip_note), ", %" PRIu64 " other DoIP messages", r->doip);
    for (size_t i = 0; i < n_notes; i++)
        text_finding(r, &notes[i]);
    fprintf(r->out,
            "%s (%s): %" PRIu64 " frames, %" PRIu64 " UDS messages (%" PRIu64 " requests, %" PRIu64
            " positive, %" PRIu64 " negative, %" PRIu64 " incomplete), %" PRIu64
            " unanswered%s; findings: %" PRIu64 " errors, %" PRIu64 " warnings, %" PRIu64
            " info\n",
            uf_reader_path(r->in->reader), uf_reader_format(r->in->reader), r->in->frames,
            r->messages, r->requests, r->positive, r->negative, r->incomplete, r->unanswered,
            doip_note,
            r->by_severity[UF_SEV_ERROR],
            r->by_severity[UF_SEV_WARNING], r->by_severity[UF_SEV_INFO]);
}

int uf_cmd_messages(int argc, char **argv)
{
    char *format = NULL, *iface = NULL;
    gint data_bytes = JSON_DATA_DEFAULT;
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "Output format: text (default) or json",
         "FORMAT"},
        {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
         "Capture live from a SocketCAN interface (Ctrl-C ends it)", "IFACE"},
        {"data-bytes", 0, 0, G_OPTION_ARG_INT, &data_bytes,
         "Payload bytes shown per message in JSON (default 64, 0 for all)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - list the UDS messages of a capture",
        "Reconstructs ISO-TP flows and UDS messages from a capture (pcap, pcapng, BLF,\n"
        "Busmaster, candump, Vector ASC) or a live SocketCAN interface, and prints one\n"
        "line per UDS message with its ISO-TP findings.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_error err;
    uf_analyzer_config cfg;
    if (!uf_cli_parse(ctx, "messages", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto out;
    }
    bool json = false;
    if (format && strcmp(format, "json") == 0)
        json = true;
    else if (format && strcmp(format, "text") != 0) {
        fprintf(stderr, "udsflash messages: --format \"%s\": expected text or json\n", format);
        status = UF_EXIT_USAGE;
        goto out;
    }
    if (data_bytes < 0) {
        fprintf(stderr, "udsflash messages: --data-bytes must not be negative\n");
        status = UF_EXIT_USAGE;
        goto out;
    }
    if ((iface && argc != 1) || (!iface && argc != 2)) {
        fprintf(stderr, "udsflash messages: give one capture FILE or --interface IFACE "
                        "(see --help)\n");
        status = UF_EXIT_USAGE;
        goto out;
    }
    if (!uf_cli_analysis_config(&an, &cfg, &err)) {
        fprintf(stderr, "udsflash messages: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto out;
    }

    uf_cli_input in;
    if (!uf_cli_open(&in, iface ? NULL : argv[1], iface)) {
        status = UF_EXIT_INPUT;
        goto out;
    }
    report r = {0};
    r.json = json;
    r.out = stdout;
    r.in = &in;
    r.names = uf_profile_names(cfg.profile);
    r.data_bytes = (uint32_t)data_bytes;
    r.findings = g_array_new(FALSE, FALSE, sizeof(uf_finding));
    if (json) {
        uf_json_init(&r.j, stdout, true);
        uf_json_begin_object(&r.j);
        uf_json_key(&r.j, "tool");
        uf_json_string(&r.j, "udsflash");
        uf_json_key(&r.j, "command");
        uf_json_string(&r.j, "messages");
        uf_json_key(&r.j, "messages");
        uf_json_begin_array(&r.j);
    } else {
        fprintf(stdout, "%12s  %-11s %-6s %-24s %-20s %s\n", "time (s)", "frames", "bus",
                "tester -> ECU", "step", "service and parameters");
    }
    uf_analyzer_sink sink = {.ctx = &r, .message = on_message, .finding = on_finding,
                             .doip = on_doip};
    uf_analyzer *a = uf_cli_analyze(&in, &cfg, &sink);
    /* Timestamps can turn out missing only while reading (candump console). */
    uf_finding notes[2];
    size_t n_notes;
    input_notes(&r, notes, &n_notes);
    for (size_t i = 0; i < n_notes; i++)
        r.by_severity[notes[i].severity]++;
    if (json)
        write_json_tail(&r, notes, n_notes);
    else
        write_text_tail(&r, notes, n_notes);
    if (in.damaged) {
        fprintf(stderr, "udsflash: %s\n", in.damage.msg);
        status = UF_EXIT_INPUT;
    }
    uf_analyzer_free(a);
    uf_cli_close(&in);
    g_array_free(r.findings, TRUE);
out:
    uf_cli_analysis_free(&an);
    g_free(format);
    g_free(iface);
    g_option_context_free(ctx);
    return status;
}
