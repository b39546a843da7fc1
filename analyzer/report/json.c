/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The JSON report, the contract of DESIGN.md: sessions[] (ecu, tester,
 * transport, verdict, phases[], downloads[] with address, size, bytes,
 * blocks, sha256) and findings[] (rule, severity, frame, time, message),
 * with more besides: clause and labels on findings, the session's security
 * level, sessions entered, DIDs, routine results and NRCs.
 */
#include "uf_report.h"

#include <glib.h>
#include <stdlib.h>

static void key_hex(uf_json *j, const char *k, uint64_t v, int width)
{
    char buf[20];
    uf_format_hex(buf, v, width);
    uf_json_member_string(j, k, buf);
}

static void key_endpoint(uf_json *j, const char *k, const uf_isotp_endpoint *e, bool known)
{
    char buf[32];
    uf_json_key(j, k);
    if (known)
        uf_json_string(j, uf_isotp_endpoint_name(e, buf, sizeof(buf)));
    else
        uf_json_null(j);
}

static void key_ms(uf_json *j, const char *k, uf_time t)
{
    uf_json_key(j, k);
    if (t == UF_TIME_NONE)
        uf_json_null(j);
    else
        uf_json_double(j, (double)t / 1e6, 3);
}

/* DoIP sessions: the entity's acknowledgements; null over CAN. */
static void doip_stats(uf_json *j, const uf_session *s)
{
    uf_json_key(j, "doip");
    if (!s->doip) {
        uf_json_null(j);
        return;
    }
    uf_json_begin_object(j);
    uf_json_member_uint(j, "acks", s->doip_acks);
    uf_json_member_uint(j, "nacks", s->doip_nacks);
    key_ms(j, "ack_min_ms", s->doip_acks ? s->ack_min : UF_TIME_NONE);
    key_ms(j, "ack_avg_ms", s->doip_acks ? s->ack_sum / (uf_time)s->doip_acks : UF_TIME_NONE);
    key_ms(j, "ack_max_ms", s->doip_acks ? s->ack_max : UF_TIME_NONE);
    uf_json_end_object(j);
}

static void severities(uf_json *j, const char *k, const uint32_t v32[3], const uint64_t v64[3])
{
    uf_json_key(j, k);
    uf_json_begin_object(j);
    for (int s = UF_SEV_ERROR; s >= UF_SEV_INFO; s--)
        uf_json_member_uint(j, uf_severity_name((uf_severity)s), v32 ? v32[s] : v64[s]);
    uf_json_end_object(j);
}

/* A DID value as k (hex, always) and text_key, "<k>_text" (the value as
 * text when every byte is printable ASCII, else null), so that a consumer
 * never has to guess which of the two it got. */
static void did_value(uf_json *j, const char *k, const char *text_key, const uint8_t *v,
                      uint8_t n)
{
    bool text = n > 0;
    for (uint8_t i = 0; i < n && text; i++)
        text = v[i] >= 0x20 && v[i] < 0x7F;
    uf_json_key(j, k);
    uf_json_hex(j, v, n);
    uf_json_key(j, text_key);
    if (text)
        uf_json_string_len(j, (const char *)v, n);
    else
        uf_json_null(j);
}

static void phases(uf_json *j, const uf_check_result *r, const uf_session *s)
{
    const uf_profile *p = r->profile;
    uf_json_key(j, "phases");
    uf_json_begin_array(j);
    for (uint32_t i = 0; p && i < p->n_phases; i++) {
        const uf_session_phase *ph = &s->phases[i];
        uf_json_begin_object(j);
        uf_json_member_string(j, "name", p->phases[i].name);
        uf_json_member_bool(j, "seen", ph->seen);
        if (ph->seen) {
            uf_json_member_time(j, "start", uf_report_rel(r, ph->t_start));
            uf_json_member_time(j, "end", uf_report_rel(r, ph->t_end));
            uf_json_member_time(j, "duration", uf_time_diff(ph->t_end, ph->t_start));
            uf_json_member_uint(j, "first_frame", ph->first_frame);
            uf_json_member_uint(j, "last_frame", ph->last_frame);
            uf_json_member_uint(j, "messages", ph->messages);
        }
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
}

static void downloads(uf_json *j, const uf_session *s)
{
    uf_json_key(j, "downloads");
    uf_json_begin_array(j);
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_download *d = &g_array_index(s->downloads, uf_download, i);
        uf_json_begin_object(j);
        uf_json_member_uint(j, "index", d->index);
        uf_json_member_uint(j, "address", d->address);
        key_hex(j, "address_hex", d->address, 8);
        uf_json_member_uint(j, "size", d->size);
        uf_json_member_uint(j, "bytes", d->bytes);
        uf_json_member_uint(j, "blocks", d->blocks);
        uf_json_member_uint(j, "retries", d->retries);
        uf_json_member_uint(j, "data_format", d->dfi);
        uf_json_member_bool(j, "compressed", (d->dfi & 0xF0) != 0);
        uf_json_member_bool(j, "encrypted", (d->dfi & 0x0F) != 0);
        uf_json_key(j, "max_block_length");
        if (d->has_max_block)
            uf_json_uint(j, d->max_block_len);
        else
            uf_json_null(j);
        uf_json_member_time(j, "duration", uf_time_diff(d->t_end, d->t_start));
        double tp = uf_download_throughput(d);
        uf_json_key(j, "throughput_bytes_per_s");
        if (tp >= 0)
            uf_json_double(j, tp, 1);
        else
            uf_json_null(j);
        uf_json_member_uint(j, "first_frame", d->first_frame);
        uf_json_member_uint(j, "last_frame", d->last_frame);
        uf_json_member_bool(j, "complete", d->complete);
        uf_json_member_string(j, "sha256", d->sha256);
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
}

static void records(uf_json *j, const uf_check_result *r, const uf_session *s)
{
    char buf[64];
    uf_json_key(j, "sessions_entered");
    uf_json_begin_array(j);
    for (uint8_t i = 0; i < s->n_sessions_entered; i++) {
        const char *n = uf_uds_session_name(s->sessions_entered[i]);
        if (!n)
            uf_format_hex(buf, s->sessions_entered[i], 2);
        uf_json_string(j, n ? n : buf);
    }
    uf_json_end_array(j);
    uf_json_key(j, "dids");
    uf_json_begin_array(j);
    for (guint i = 0; i < s->dids->len; i++) {
        const uf_did_value *v = &g_array_index(s->dids, uf_did_value, i);
        uf_json_begin_object(j);
        key_hex(j, "did", v->did, 4);
        uf_json_member_string(j, "name", uf_uds_did_name(v->did));
        uf_json_member_bool(j, "written", v->written);
        did_value(j, "first", "first_text", v->first, v->first_len);
        did_value(j, "last", "last_text", v->last, v->last_len);
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
    uf_json_key(j, "routines");
    uf_json_begin_array(j);
    for (guint i = 0; i < s->routines->len; i++) {
        const uf_routine_result *rr = &g_array_index(s->routines, uf_routine_result, i);
        uf_json_begin_object(j);
        key_hex(j, "routine", rr->routine, 4);
        const char *name = uf_profile_routine_name(r->profile, rr->routine);
        uf_json_member_string(j, "name", name ? name : uf_uds_routine_name(rr->routine));
        uf_json_member_uint(j, "control", rr->control);
        uf_json_member_bool(j, "positive", rr->positive);
        if (rr->positive) {
            uf_json_key(j, "status");
            uf_json_hex(j, rr->status, rr->status_len);
        } else {
            key_hex(j, "nrc", rr->nrc, 2);
        }
        uf_json_member_uint(j, "frame", rr->frame);
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
    uf_json_key(j, "nrcs");
    uf_json_begin_array(j);
    for (guint i = 0; i < s->nrcs->len; i++) {
        const uf_nrc_seen *n = &g_array_index(s->nrcs, uf_nrc_seen, i);
        uf_json_begin_object(j);
        uf_json_member_string(j, "service", uf_uds_display_service(n->sid, buf, sizeof(buf)));
        key_hex(j, "nrc", n->nrc, 2);
        uf_json_member_string(j, "name", uf_uds_nrc_name(n->nrc));
        uf_json_member_uint(j, "frame", n->frame);
        uf_json_member_time(j, "time", uf_report_rel(r, n->time));
        uf_json_end_object(j);
    }
    uf_json_end_array(j);
}

static void finding(uf_json *j, const uf_check_result *r, const uf_finding *f)
{
    uf_json_begin_object(j);
    uf_json_member_string(j, "rule", f->rule->id);
    uf_json_member_string(j, "severity", uf_severity_name(f->severity));
    uf_json_member_uint(j, "frame", f->frame);
    uf_json_member_time(j, "time", uf_report_rel(r, f->time));
    uf_json_member_string(j, "bus", f->bus == UF_BUS_NONE ? NULL : uf_report_bus(r, f->bus));
    uf_json_member_string(j, "message", f->message);
    uf_json_member_string(j, "clause", f->rule->clause);
    uf_json_key(j, "session");
    if (f->session)
        uf_json_uint(j, f->session);
    else
        uf_json_null(j);
    uf_json_member_string(j, "phase", f->phase);
    uf_json_member_string(j, "step", f->step);
    uf_json_end_object(j);
}

/* One session; true if it passed. */
static bool session(uf_json *j, const uf_check_result *r, const uf_session *s)
{
    bool pass = uf_session_passed(s, r->fail_on);
    uf_json_begin_object(j);
    uf_json_member_uint(j, "index", s->index);
    uf_json_member_string(j, "bus", uf_report_bus(r, s->bus));
    key_endpoint(j, "ecu", &s->ecu, s->ecu_known);
    key_endpoint(j, "tester", &s->tester, true);
    uf_json_member_string(j, "transport", uf_session_transport(s));
    uf_json_member_string(j, "verdict", pass ? "pass" : "fail");
    uf_json_member_time(j, "start", uf_report_rel(r, s->t_start));
    uf_json_member_time(j, "end", uf_report_rel(r, s->t_end));
    uf_json_member_uint(j, "first_frame", s->first_frame);
    uf_json_member_uint(j, "last_frame", s->last_frame);
    uf_json_member_uint(j, "requests", s->requests);
    uf_json_member_uint(j, "responses", s->responses);
    uf_json_member_bool(j, "complete", s->reset_done && s->back_in_default);
    uf_json_member_uint(j, "security_level", s->security_level);
    doip_stats(j, s);
    phases(j, r, s);
    downloads(j, s);
    uf_json_member_uint(j, "downloads_not_analyzed", s->downloads_not_analyzed);
    records(j, r, s);
    severities(j, "findings", s->findings, NULL);
    uf_json_end_object(j);
    return pass;
}

/* Sessions from..to (1-based) through a reader of their own (NULL: this
 * thread's uf_sessions_get); how many passed. */
static uint32_t render_sessions(uf_json *j, const uf_check_result *r, uf_sessions_reader *rd,
                                uint32_t from, uint32_t to)
{
    uint32_t passed = 0;
    for (uint32_t i = from; i <= to; i++) {
        const uf_session *s = rd ? uf_sessions_reader_get(rd, i) : uf_sessions_get(r->sessions, i);
        if (s) /* else a temporary file that could not be read back: the CLI says so */
            passed += session(j, r, s);
    }
    return passed;
}

/* The sessions are most of a large report, and while one thread writes
 * them the other core idles: two threads render them, `block` sessions at
 * a time. This one takes the even blocks and writes them out; a helper
 * renders the odd ones into memory, two ahead at most, for this one to
 * put in their place. */
typedef struct rendered {
    uf_json part;
    char *text;
    size_t len;
    uint32_t passed;
    bool ready;
} rendered;

typedef struct helper {
    const uf_check_result *r;
    uf_json inside;        /* the writer inside the sessions array */
    uint32_t n, block;
    uf_sessions_reader *reader;
    GMutex lock;
    GCond changed;
    rendered slot[2];
} helper;

/* Block b's last session (blocks of `block` from session 1, n in all). */
static uint32_t block_last(uint32_t b, uint32_t block, uint32_t n)
{
    uint64_t last = ((uint64_t)b + 1) * block;
    return last < n ? (uint32_t)last : n;
}

static bool block_exists(uint32_t b, uint32_t block, uint32_t n)
{
    return (uint64_t)b * block < n;
}

/* Waits until the slot is `ready` (the helper waits for an empty one,
 * this thread for a full one). */
static void wait_for_slot(helper *h, const rendered *x, bool ready)
{
    g_mutex_lock(&h->lock);
    while (x->ready != ready)
        g_cond_wait(&h->changed, &h->lock);
    g_mutex_unlock(&h->lock);
}

static void mark_slot(helper *h, rendered *x, bool ready)
{
    g_mutex_lock(&h->lock);
    x->ready = ready;
    g_cond_broadcast(&h->changed);
    g_mutex_unlock(&h->lock);
}

static gpointer render_odd_blocks(gpointer data)
{
    helper *h = data;
    for (uint32_t b = 1; block_exists(b, h->block, h->n); b += 2) {
        rendered *x = &h->slot[(b / 2) % 2];
        wait_for_slot(h, x, false);
        FILE *f = open_memstream(&x->text, &x->len);
        uf_json_fork(&h->inside, f, &x->part);
        x->passed = render_sessions(&x->part, h->r, h->reader, b * h->block + 1,
                                    block_last(b, h->block, h->n));
        fclose(f);
        mark_slot(h, x, true);
    }
    return NULL;
}

static uint32_t all_sessions(uf_json *j, const uf_check_result *r, uint32_t n, uint32_t block)
{
    if (block == 0 || n <= block)
        return render_sessions(j, r, NULL, 1, n);
    helper h = {.r = r, .inside = *j, .n = n, .block = block};
    h.reader = uf_sessions_reader_new(r->sessions);
    g_mutex_init(&h.lock);
    g_cond_init(&h.changed);
    GThread *t = g_thread_new("udsflash-report", render_odd_blocks, &h);
    uint32_t passed = 0;
    for (uint32_t b = 0; block_exists(b, block, n); b++) {
        if (b % 2 == 0) {
            passed += render_sessions(j, r, NULL, b * block + 1, block_last(b, block, n));
            continue;
        }
        rendered *x = &h.slot[(b / 2) % 2];
        wait_for_slot(&h, x, true);
        uf_json_join(j, &x->part, x->text, x->len);
        passed += x->passed;
        free(x->text);
        x->text = NULL;
        mark_slot(&h, x, false);
    }
    g_thread_join(t);
    uf_sessions_reader_free(h.reader);
    g_mutex_clear(&h.lock);
    g_cond_clear(&h.changed);
    return passed;
}

void uf_report_json_blocks(FILE *out, const uf_check_result *r, uint32_t block)
{
    uf_json j;
    uf_json_init(&j, out, true);
    uf_json_begin_object(&j);
    uf_json_member_string(&j, "tool", "udsflash");
    uf_json_member_string(&j, "command", "check");
    uf_json_member_string(&j, "verdict", uf_check_passed(r) ? "pass" : "fail");
    uf_json_member_string(&j, "fail_on", uf_severity_name(r->fail_on));
    uf_json_key(&j, "input");
    uf_json_begin_object(&j);
    uf_json_member_string(&j, "file", r->input.file);
    uf_json_member_string(&j, "format", r->input.format);
    uf_json_member_bool(&j, "timestamps", r->input.timestamps);
    uf_json_member_time(&j, "start_time", r->input.start);
    uf_json_member_uint(&j, "frames", r->input.frames);
    uf_json_member_uint(&j, "messages", r->input.messages);
    uf_json_member_string(&j, "damaged", r->input.damage);
    uf_json_key(&j, "buses");
    uf_json_begin_array(&j);
    for (uint32_t b = 0; b < r->input.n_buses; b++)
        uf_json_string(&j, r->input.buses[b]);
    uf_json_end_array(&j);
    uf_json_end_object(&j);
    uf_json_key(&j, "profile");
    uf_json_begin_object(&j);
    uf_json_member_string(&j, "name", r->profile ? r->profile->name : NULL);
    uf_json_member_string(&j, "source", r->profile ? r->profile->source : NULL);
    uf_json_end_object(&j);

    uf_json_key(&j, "sessions");
    uf_json_begin_array(&j);
    uint32_t n = uf_sessions_count(r->sessions);
    uint32_t passed = all_sessions(&j, r, n, block);
    uf_json_end_array(&j);

    uf_json_key(&j, "findings");
    uf_json_begin_array(&j);
    for (size_t i = 0; i < r->n_findings; i++) {
        const uf_finding *f = uf_report_finding(r, i);
        if (f)
            finding(&j, r, f);
    }
    uf_json_end_array(&j);

    uf_json_key(&j, "summary");
    uf_json_begin_object(&j);
    uf_json_member_uint(&j, "sessions", n);
    uf_json_member_uint(&j, "pass", passed);
    uf_json_member_uint(&j, "fail", n - passed);
    severities(&j, "findings", NULL, r->by_severity);
    uf_json_member_uint(&j, "findings_not_listed", r->findings_not_listed);
    uf_json_member_uint(&j, "requests_not_analyzed", uf_sessions_requests_not_analyzed(r->sessions));
    uf_json_end_object(&j);
    uf_json_end_object(&j);
}

void uf_report_json(FILE *out, const uf_check_result *r)
{
    /* 64 sessions: a few hundred kilobytes held at a time. */
    uf_report_json_blocks(out, r, 64);
}
