/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Test helpers: hex frames, sinks that copy what the analyzer emits (its
 * pointers are valid only during a callback), and running programs.
 */
#include "helpers.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

size_t th_hex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        int v = g_ascii_xdigit_value(*p);
        g_assert(v >= 0);
        if (hi < 0) {
            hi = v;
        } else {
            g_assert(n < max);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    g_assert(hi < 0);
    return n;
}

char *th_to_hex(const uint8_t *p, size_t n)
{
    char *s = g_malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

uf_can_frame th_frame(uint32_t id, const char *hex)
{
    uf_can_frame f;
    memset(&f, 0, sizeof(f));
    f.id = id & ~UF_ISOTP_EFF;
    if (id & UF_ISOTP_EFF)
        f.flags |= UF_CAN_EFF;
    f.len = (uint8_t)th_hex(hex, f.data, sizeof(f.data));
    if (f.len > 8)
        f.flags |= UF_CAN_FD;
    return f;
}

uf_can_frame th_fd_frame(uint32_t id, const char *hex)
{
    uf_can_frame f = th_frame(id, hex);
    uint8_t len = uf_can_dlc_to_len(uf_can_len_to_dlc(f.len));
    memset(f.data + f.len, 0xCC, (size_t)(len - f.len));
    f.len = len;
    f.flags |= UF_CAN_FD | UF_CAN_BRS;
    return f;
}

/* ---- ISO-TP ---------------------------------------------------------------*/

static void keep_msg(void *ctx, const uf_isotp_message *m)
{
    th_isotp *h = ctx;
    th_msg *c = g_new0(th_msg, 1);
    c->m = *m;
    c->bytes = g_memdup2(m->data, m->len ? m->len : 1);
    c->m.data = c->bytes;
    g_ptr_array_add(h->msgs, c);
}

static void keep_finding(void *ctx, const uf_finding *f)
{
    th_isotp *h = ctx;
    g_array_append_val(h->findings, *f);
}

static void free_msg(gpointer p)
{
    th_msg *m = p;
    g_free(m->bytes);
    g_free(m);
}

void th_isotp_init(th_isotp *h, const uf_isotp_config *cfg)
{
    uf_isotp_config c;
    if (!cfg) {
        uf_analyzer_config ac;
        uf_analyzer_config_defaults(&ac);
        c = ac.isotp;
        cfg = &c;
    }
    h->msgs = g_ptr_array_new_with_free_func(free_msg);
    h->findings = g_array_new(FALSE, FALSE, sizeof(uf_finding));
    h->next_frame = 1;
    uf_isotp_sink sink = {.ctx = h, .message = keep_msg, .finding = keep_finding};
    h->t = uf_isotp_new(cfg, &sink);
}

void th_isotp_free(th_isotp *h)
{
    uf_isotp_free(h->t);
    g_ptr_array_free(h->msgs, TRUE);
    g_array_free(h->findings, TRUE);
}

uint64_t th_feed(th_isotp *h, double ms, const uf_can_frame *f)
{
    uint64_t n = h->next_frame++;
    uf_time t = (uf_time)(ms * 1e6 + 0.5) + INT64_C(1700000000) * UF_NS_PER_S;
    uf_isotp_frame(h->t, n, t, 0, f);
    return n;
}

uint64_t th_feed_hex(th_isotp *h, double ms, uint32_t id, const char *hex)
{
    uf_can_frame f = th_frame(id, hex);
    return th_feed(h, ms, &f);
}

size_t th_count(const th_isotp *h, const char *rule)
{
    size_t n = 0;
    for (guint i = 0; i < h->findings->len; i++)
        if (strcmp(g_array_index(h->findings, uf_finding, i).rule->id, rule) == 0)
            n++;
    return n;
}

const uf_finding *th_first(const th_isotp *h, const char *rule)
{
    for (guint i = 0; i < h->findings->len; i++)
        if (strcmp(g_array_index(h->findings, uf_finding, i).rule->id, rule) == 0)
            return &g_array_index(h->findings, uf_finding, i);
    return NULL;
}

const char *th_findings_text(const th_isotp *h)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = '\0';
    for (guint i = 0; i < h->findings->len && n < sizeof(buf) - 1; i++) {
        const uf_finding *f = &g_array_index(h->findings, uf_finding, i);
        int w = snprintf(buf + n, sizeof(buf) - n, "%s: %s\n", f->rule->id, f->message);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}

const th_msg *th_msg_at(const th_isotp *h, guint i)
{
    return i < h->msgs->len ? g_ptr_array_index(h->msgs, i) : NULL;
}

/* ---- analyzer -------------------------------------------------------------*/

static void free_uds_msg(gpointer p)
{
    th_uds_msg *m = p;
    g_free(m->data);
    g_free(m);
}

void th_analysis_init(th_analysis *a)
{
    memset(a, 0, sizeof(*a));
    a->msgs = g_ptr_array_new_with_free_func(free_uds_msg);
    a->findings = g_array_new(FALSE, FALSE, sizeof(uf_finding));
    a->doip = g_array_new(FALSE, FALSE, sizeof(th_doip_pdu));
    a->buses = g_ptr_array_new_with_free_func(g_free);
}

void th_analysis_free(th_analysis *a)
{
    g_ptr_array_free(a->msgs, TRUE);
    g_array_free(a->findings, TRUE);
    g_array_free(a->doip, TRUE);
    g_ptr_array_free(a->buses, TRUE);
}

static void an_message(void *ctx, const uf_uds_message *m)
{
    th_analysis *a = ctx;
    th_uds_msg *c = g_new0(th_uds_msg, 1);
    c->index = m->index;
    c->first_frame = m->tp->first_frame;
    c->last_frame = m->tp->last_frame;
    c->t_first = m->tp->t_first;
    c->t_last = m->tp->t_last;
    c->request_index = m->request ? m->request->index : 0;
    c->response_time = m->response_time;
    c->since_pending = m->since_pending;
    c->kind = m->d.kind;
    c->sid = m->d.sid;
    c->nrc = m->d.nrc;
    c->incomplete = m->incomplete;
    c->functional = m->functional;
    c->bus = m->tp->src.bus;
    c->session = m->session;
    g_strlcpy(c->phase, m->phase ? m->phase : "", sizeof(c->phase));
    g_strlcpy(c->step, m->step ? m->step : "", sizeof(c->step));
    if (m->tester_known)
        uf_isotp_endpoint_name(&m->tester, c->tester, sizeof(c->tester));
    if (m->ecu_known)
        uf_isotp_endpoint_name(&m->ecu, c->ecu, sizeof(c->ecu));
    c->data = g_memdup2(m->tp->data, m->tp->len ? m->tp->len : 1);
    c->len = m->tp->len;
    c->doip = m->tp->transport == UF_TRANSPORT_DOIP;
    c->acked = m->tp->acked;
    c->nacked = m->tp->nacked;
    c->nack_code = m->tp->nack_code;
    c->ack_latency = m->tp->ack_latency;
    g_ptr_array_add(a->msgs, c);
}

static void an_doip(void *ctx, const uf_doip_pdu *p)
{
    th_analysis *a = ctx;
    th_doip_pdu d = {p->d->type, p->d->code, p->d->has_code, p->udp, p->d->sa, p->d->ta,
                     p->latency, p->connection, p->first_frame};
    g_array_append_val(a->doip, d);
}

static void an_finding(void *ctx, const uf_finding *f)
{
    th_analysis *a = ctx;
    g_array_append_val(a->findings, *f);
}

bool th_analyze_file(th_analysis *a, const char *path, const uf_analyzer_config *cfg)
{
    uf_reader *r = uf_reader_open(path, &a->err);
    if (!r)
        return false;
    uf_analyzer_config c;
    if (!cfg) {
        uf_analyzer_config_defaults(&c);
        cfg = &c;
    }
    uf_analyzer_config local = *cfg;
    local.isotp.timing = uf_reader_has_time(r);
    uf_analyzer_sink sink = {.ctx = a, .message = an_message, .finding = an_finding,
                             .doip = an_doip};
    uf_analyzer *an = uf_analyzer_new(&local, &sink);
    uf_record rec;
    int rc;
    while ((rc = uf_reader_next(r, &rec, &a->err)) == 1) {
        a->frames++;
        uf_analyzer_record(an, &rec);
    }
    a->damaged = rc < 0;
    uf_analyzer_finish(an);
    g_strlcpy(a->format, uf_reader_format(r), sizeof(a->format));
    for (uint32_t b = 0; b < uf_reader_bus_count(r); b++)
        g_ptr_array_add(a->buses, g_strdup(uf_reader_bus_name(r, b)));
    uf_analyzer_free(an);
    uf_reader_close(r);
    return true;
}

uf_analyzer *th_analyze_trace_keep(th_analysis *a, const sg_trace *t, const uf_analyzer_config *cfg)
{
    uf_analyzer_config c;
    if (!cfg) {
        uf_analyzer_config_defaults(&c);
        cfg = &c;
    }
    uf_analyzer_sink sink = {.ctx = a, .message = an_message, .finding = an_finding,
                             .doip = an_doip};
    uf_analyzer *an = uf_analyzer_new(cfg, &sink);
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        uf_record rec;
        memset(&rec, 0, sizeof(rec));
        rec.number = i + 1;
        rec.time = sf->time;
        rec.bus = sf->bus;
        if (sf->packet) {
            rec.kind = UF_REC_PACKET;
            rec.packet.linktype = UF_LINKTYPE_ETHERNET;
            rec.packet.data = sg_frame_packet(t, sf);
            rec.packet.len = sf->pkt_len;
        } else {
            rec.kind = UF_REC_CAN;
            rec.can = sf->f;
        }
        a->frames++;
        uf_analyzer_record(an, &rec);
    }
    uf_analyzer_finish(an);
    return an;
}

void th_analyze_trace(th_analysis *a, const sg_trace *t, const uf_analyzer_config *cfg)
{
    uf_analyzer_free(th_analyze_trace_keep(a, t, cfg));
}

uf_analyzer *th_analyze_with_profile(th_analysis *a, sg_trace *t, const uf_profile *p)
{
    sg_trace_finish(t);
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    uf_analyzer_config_profile(&cfg, p);
    th_analysis_init(a);
    return th_analyze_trace_keep(a, t, &cfg);
}

const uf_finding *th_analysis_first(const th_analysis *a, const char *rule)
{
    for (guint i = 0; i < a->findings->len; i++)
        if (strcmp(g_array_index(a->findings, uf_finding, i).rule->id, rule) == 0)
            return &g_array_index(a->findings, uf_finding, i);
    return NULL;
}

const char *th_analysis_text(const th_analysis *a)
{
    static char buf[8192];
    size_t n = 0;
    buf[0] = '\0';
    for (guint i = 0; i < a->findings->len && n < sizeof(buf) - 1; i++) {
        const uf_finding *f = &g_array_index(a->findings, uf_finding, i);
        int w = snprintf(buf + n, sizeof(buf) - n, "%s [%s] %s\n", f->rule->id,
                         f->step ? f->step : "-", f->message);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}

size_t th_analysis_count(const th_analysis *a, const char *rule)
{
    size_t n = 0;
    for (guint i = 0; i < a->findings->len; i++)
        if (strcmp(g_array_index(a->findings, uf_finding, i).rule->id, rule) == 0)
            n++;
    return n;
}

/* ---- environment ----------------------------------------------------------*/

char *th_tmpdir(void)
{
    GError *e = NULL;
    char *d = g_dir_make_tmp("udsflash-test-XXXXXX", &e);
    g_assert_no_error(e);
    return d;
}

char *th_dir;

void th_dir_setup(void)
{
    th_dir = th_tmpdir();
}

void th_dir_teardown(void)
{
    g_free(th_dir);
    th_dir = NULL;
}

char *th_sample(const char *name)
{
    return g_build_filename(UF_SOURCE_DIR, "samples", name, NULL);
}

int th_run(const char *const *argv, char **out, char **err)
{
    GError *e = NULL;
    int status = -1;
    char *o = NULL, *r = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &r, &status,
                      &e)) {
        g_error_free(e);
        return -1;
    }
    if (out)
        *out = o;
    else
        g_free(o);
    if (err)
        *err = r;
    else
        g_free(r);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool th_have_program(const char *name)
{
    char *p = g_find_program_in_path(name);
    bool ok = p != NULL;
    g_free(p);
    return ok;
}

int th_udsflash(char **out, char **err, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)UF_UDSFLASH);
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    char *cwd = g_get_current_dir();
    int rc = -1;
    if (chdir(UF_SOURCE_DIR) == 0) {
        rc = th_run((const char *const *)argv->pdata, out, err);
        if (chdir(cwd) != 0)
            rc = -1;
    }
    g_free(cwd);
    g_ptr_array_free(argv, TRUE);
    return rc;
}

sg_link th_link(sg_trace *t, const char *bus, uint32_t tester_id, uint32_t ecu_id)
{
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = sg_trace_bus(t, bus);
    l.tester_id = tester_id;
    l.ecu_id = ecu_id;
    l.functional_id = 0x7DF;
    l.tester_tx = (uf_isotp_tx_params){UF_ADDR_NORMAL, 0, 8, false, true, 0xCC};
    l.ecu_tx = (uf_isotp_tx_params){UF_ADDR_NORMAL, 0, 8, false, true, 0xAA};
    l.functional_tx = l.tester_tx;
    l.ecu_bs = 8;
    l.ecu_stmin = 1;
    l.frame_time = 230 * UF_NS_PER_US;
    l.rng = 99;
    return l;
}

char *th_write_pcap(const sg_trace *t, const char *dir, const char *name)
{
    uf_error err;
    char *path = g_build_filename(dir, name, NULL);
    if (sg_write_pcap(t, path, SG_PCAP_SOCKETCAN, &err) != 0)
        g_error("%s: %s", path, err.msg);
    return path;
}

/* ---- capture readers --------------------------------------------------------*/

th_reading th_reading_new(void)
{
    return (th_reading){g_array_new(FALSE, FALSE, sizeof(th_record)), 0, {{0}}};
}

void th_reading_keep(th_reading *rd, const uf_reader *r, const uf_record *rec)
{
    th_record c = {*rec, NULL, r ? g_strdup(uf_reader_bus_name(r, rec->bus)) : NULL};
    if (rec->kind == UF_REC_PACKET)
        c.bytes = g_memdup2(rec->packet.data, rec->packet.len);
    g_array_append_val(rd->recs, c);
}

void th_reading_name_buses(th_reading *rd, const uf_reader *r)
{
    for (guint i = 0; i < rd->recs->len; i++) {
        th_record *c = &g_array_index(rd->recs, th_record, i);
        if (!c->bus)
            c->bus = g_strdup(uf_reader_bus_name(r, c->rec.bus));
    }
}

th_reading th_read_with(const char *path, uf_reader *(*open)(const char *, uf_error *))
{
    th_reading rd = th_reading_new();
    uf_reader *r = open(path, &rd.err);
    if (!r) {
        rd.rc = -2;
        return rd;
    }
    uf_record rec;
    while ((rd.rc = uf_reader_next(r, &rec, &rd.err)) == 1)
        th_reading_keep(&rd, r, &rec);
    uf_reader_close(r);
    return rd;
}

void th_reading_free(th_reading *rd)
{
    for (guint i = 0; i < rd->recs->len; i++) {
        g_free(g_array_index(rd->recs, th_record, i).bytes);
        g_free(g_array_index(rd->recs, th_record, i).bus);
    }
    g_array_free(rd->recs, TRUE);
}

char *th_reading_difference(const char *path, const th_reading *want, const th_reading *got)
{
    if (got->rc != want->rc)
        return g_strdup_printf("%s: ended with %d (%s), the reference with %d (%s)", path,
                               got->rc, got->err.msg, want->rc, want->err.msg);
    if (got->recs->len != want->recs->len)
        return g_strdup_printf("%s: %u records, the reference %u", path, got->recs->len,
                               want->recs->len);
    for (guint i = 0; i < want->recs->len; i++) {
        const th_record *w = &g_array_index(want->recs, th_record, i);
        const th_record *g = &g_array_index(got->recs, th_record, i);
        if (g->rec.number != w->rec.number || g->rec.offset != w->rec.offset ||
            g->rec.kind != w->rec.kind || g->rec.problem != w->rec.problem)
            return g_strdup_printf("%s: record %u: number %" G_GUINT64_FORMAT ", offset %"
                                   G_GUINT64_FORMAT ", kind %d; the reference's %" G_GUINT64_FORMAT
                                   ", %" G_GUINT64_FORMAT ", %d", path, i + 1, g->rec.number,
                                   g->rec.offset, g->rec.kind, w->rec.number, w->rec.offset,
                                   w->rec.kind);
        if (g->rec.time != w->rec.time)
            return g_strdup_printf("%s: record %u at %" G_GINT64_FORMAT " ns, the reference's at %"
                                   G_GINT64_FORMAT, path, i + 1, g->rec.time, w->rec.time);
        if (strcmp(g->bus, w->bus) != 0)
            return g_strdup_printf("%s: record %u on %s, the reference's on %s", path, i + 1,
                                   g->bus, w->bus);
        if (w->rec.kind == UF_REC_CAN &&
            (g->rec.can.id != w->rec.can.id || g->rec.can.flags != w->rec.can.flags ||
             g->rec.can.len != w->rec.can.len ||
             memcmp(g->rec.can.data, w->rec.can.data, w->rec.can.len) != 0))
            return g_strdup_printf("%s: CAN frame %u differs", path, i + 1);
        if (w->rec.kind == UF_REC_PACKET &&
            (g->rec.packet.linktype != w->rec.packet.linktype ||
             g->rec.packet.len != w->rec.packet.len ||
             memcmp(g->bytes, w->bytes, w->rec.packet.len) != 0))
            return g_strdup_printf("%s: packet %u differs", path, i + 1);
    }
    return NULL;
}

char *th_read_as(const char *path, uf_reader *(*reference)(const char *, uf_error *),
                 const char *whose, guint *count)
{
    th_reading want = th_read_with(path, reference);
    th_reading got = th_read_with(path, uf_reader_open);
    char *difference;
    if ((want.rc == -2) != (got.rc == -2))
        difference = g_strdup_printf("%s: opened by %s only: %s / %s", path,
                                     want.rc == -2 ? "udsflash" : whose, want.err.msg, got.err.msg);
    else
        difference = th_reading_difference(path, &want, &got);
    bool named = strstr(got.err.msg, path) && strstr(got.err.msg, "damaged at byte ");
    if (!difference && want.rc == -1 && !named)
        difference = g_strdup_printf("the damage must name the file and the offset: %s",
                                     got.err.msg);
    *count = want.recs->len;
    th_reading_free(&want);
    th_reading_free(&got);
    return difference;
}

void th_put_uint(th_bytes *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        uint8_t byte = (uint8_t)(v >> (8 * (b->big ? bytes - 1 - i : i)));
        g_byte_array_append(b->out, &byte, 1);
    }
}

char *th_write_bytes(const char *dir, const char *name, const th_bytes *b, gsize len)
{
    char *path = g_build_filename(dir, name, NULL);
    GError *e = NULL;
    g_file_set_contents(path, (const char *)b->out->data, (gssize)len, &e);
    g_assert_no_error(e);
    return path;
}

char *th_cuts_read_as(const char *dir, const char *name, const th_bytes *b, gsize from,
                      gsize step, uf_reader *(*reference)(const char *, uf_error *),
                      const char *whose)
{
    char *difference = NULL;
    for (gsize cut = from; cut < b->out->len && !difference; cut += step) {
        char *path = th_write_bytes(dir, name, b, cut);
        guint count;
        difference = th_read_as(path, reference, whose, &count);
        g_free(path);
    }
    return difference;
}
