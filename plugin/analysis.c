/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The analysis of the open capture file: every frame of the first pass goes
 * through the project's own analyzer (the one `udsflash check` runs, so the
 * plugin and the CLI give the same verdicts), and what comes out is kept by
 * frame number for the later passes, when Wireshark builds trees: each UDS
 * message on the frame that ends it and on its ISO-TP frames, and each
 * finding on the frame it points at. Memory lives from file open to close.
 */
#include "udsflash.h"

#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A frame, recognisably: to tell a re-dissection of the file last analysed
 * to its end from another capture. */
typedef struct frame_print {
    uint64_t number;
    uf_time time;
    size_t len;
    uint64_t hash; /* FNV-1a of the first bytes */
} frame_print;

/* The capture last analysed to its end: its first and last frames. */
static struct {
    bool known;
    frame_print first, last;
} ended;

typedef struct analysis {
    uf_cli_analysis options;   /* the preferences, as the CLI would parse them */
    uf_analyzer_config cfg;
    uf_analyzer *analyzer;
    uf_link_state link;
    bool finished;
    uint64_t fed;              /* frames fed so far */
    frame_print first, last;   /* the first and the last fed */
    bool same_capture;         /* the first frame is that of the capture that ended */
    /* By frame number. Most frames carry one message, so one 32-bit slot
     * per frame holds it (1 + its position in messages, 0 none): 4 bytes
     * a frame beside Wireshark's own ~90. A TCP segment that carries
     * several messages keeps the others in frame_more. */
    GArray *frame_message;     /* guint32 */
    GHashTable *frame_more;    /* frame number -> GPtrArray of ufw_message * */
    GHashTable *frame_findings; /* frame number -> GPtrArray of ufw_finding * */
    GPtrArray *messages;       /* ufw_message *, owned, in the order of their index */
    GPtrArray *findings;       /* ufw_finding *, owned */
    GPtrArray *orphans;        /* findings outside every session (not owned) */
    GHashTable *pending;       /* sender endpoint key -> GArray of frame numbers */
    GHashTable *buses;         /* (interface << 32 | ifindex) + 1 -> bus index + 1 */
    GPtrArray *bus_names;      /* char * */
} analysis;

static analysis *cur;

/* ---- settings ------------------------------------------------------------------*/

static char **words(const char *s)
{
    if (!s || !*s)
        return NULL;
    char **w = g_strsplit_set(s, " ,;\t", -1);
    /* Drop the empty words that runs of separators leave. */
    guint n = 0;
    for (guint i = 0; w[i]; i++) {
        if (*w[i])
            w[n++] = w[i];
        else
            g_free(w[i]);
    }
    w[n] = NULL;
    return w;
}

static void fill_options(uf_cli_analysis *o, const ufw_settings *s)
{
    memset(o, 0, sizeof(*o));
    o->profile_name = g_strdup(s->profile && *s->profile ? s->profile : UF_PROFILE_DEFAULT);
    o->addressing = g_strdup(s->addressing && *s->addressing ? s->addressing : "auto");
    o->pairs = words(s->pairs);
    o->functional = words(s->functional);
    o->doip_ports = words(s->doip_ports);
    o->max_message = -1;
    o->n_bs_ms = o->n_cr_ms = -1;
    o->n_wft_max = -1;
    o->doip_ack_ms = -1;
    o->stmin_tolerance_us = s->stmin_tolerance_us ? (gint)s->stmin_tolerance_us : -1;
}

bool ufw_settings_check(const ufw_settings *s, uf_error *err)
{
    uf_cli_analysis o;
    uf_analyzer_config cfg;
    fill_options(&o, s);
    bool ok = uf_cli_analysis_config(&o, &cfg, err);
    uf_cli_analysis_free(&o);
    return ok;
}

/* ---- results by frame --------------------------------------------------------------*/

/* Adds p to the array under frame `number` in t, once. */
static void add_to_frame(GHashTable *t, uint64_t number, gpointer p)
{
    gpointer key = GSIZE_TO_POINTER((gsize)number);
    GPtrArray *a = g_hash_table_lookup(t, key);
    if (!a) {
        a = g_ptr_array_new();
        g_hash_table_insert(t, key, a);
    }
    for (guint i = 0; i < a->len; i++)
        if (g_ptr_array_index(a, i) == p)
            return;
    g_ptr_array_add(a, p);
}

/* The message at `position` in cur->messages belongs to frame `number`. */
static void attach_message(uint64_t number, guint position)
{
    if (number == 0 || number > G_MAXUINT32)
        return; /* Wireshark numbers frames from 1, in 32 bits */
    if (number >= cur->frame_message->len)
        g_array_set_size(cur->frame_message, (guint)number + 1);
    guint32 *slot = &g_array_index(cur->frame_message, guint32, number);
    if (*slot == 0)
        *slot = position + 1;
    else if (*slot != position + 1)
        add_to_frame(cur->frame_more, number, g_ptr_array_index(cur->messages, position));
}

/* The message of a UDS index: messages come in the order of their index. */
static ufw_message *message_of_index(uint64_t index)
{
    guint lo = 0, hi = cur->messages->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        ufw_message *m = g_ptr_array_index(cur->messages, mid);
        if (m->index == index)
            return m;
        if (m->index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void message_free(gpointer p)
{
    ufw_message *m = p;
    g_free(m->service);
    g_free(m->params);
    g_free(m);
}

static void finding_free(gpointer p)
{
    ufw_finding *f = p;
    g_free(f->message);
    g_free(f);
}

/* ---- the analyzer's sink ---------------------------------------------------------------*/

static void on_isotp_frame(void *ctx, uint64_t frame, const uf_isotp_endpoint *sender)
{
    (void)ctx;
    gpointer key = g_memdup2(&(uint64_t){uf_isotp_endpoint_key(sender)}, sizeof(uint64_t));
    GArray *list = g_hash_table_lookup(cur->pending, key);
    if (!list) {
        list = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_hash_table_insert(cur->pending, key, list);
    } else {
        g_free(key);
    }
    g_array_append_val(list, frame);
}

static void endpoint_text(const uf_isotp_endpoint *e, bool known, char *buf, size_t size)
{
    if (known)
        uf_isotp_endpoint_name(e, buf, size);
    else
        g_strlcpy(buf, "?", size);
}

static void on_message(void *ctx, const uf_uds_message *u)
{
    (void)ctx;
    const uf_isotp_message *tp = u->tp;
    ufw_message *m = g_new0(ufw_message, 1);
    char svc[32], params[512];
    m->index = u->index;
    m->first_frame = tp->first_frame;
    m->last_frame = tp->last_frame;
    m->session = u->session;
    m->phase = u->phase;
    m->step = u->step;
    endpoint_text(&u->tester, u->tester_known, m->tester, sizeof(m->tester));
    if (u->d.kind == UF_UDS_REQUEST && u->functional)
        g_strlcpy(m->ecu, "all", sizeof(m->ecu));
    else
        endpoint_text(&u->ecu, u->ecu_known, m->ecu, sizeof(m->ecu));
    m->transport = tp->transport == UF_TRANSPORT_DOIP ? "doip" : "isotp";
    m->sid = u->d.sid;
    m->kind = u->d.kind;
    m->incomplete = u->incomplete;
    m->service = g_strdup(uf_uds_display_service(u->d.sid, svc, sizeof(svc)));
    uf_uds_names names = uf_profile_names(cur->cfg.profile);
    uf_uds_describe(&u->d, &names, params, sizeof(params));
    m->params = g_strdup(params);
    m->response_time = u->response_time;
    m->limit = u->limit;
    m->limit_p2star = u->limit_p2star;
    m->limit_from_ecu = u->limit_from_ecu;
    m->has_block = u->d.has_block;
    m->block_counter = u->d.block_counter;
    m->download = u->download;
    m->download_address = u->download_address;
    m->download_size = u->download_size;
    m->download_bytes = u->download_bytes;
    m->acked = tp->acked;
    m->nacked = tp->nacked;
    m->nack_code = tp->nack_code;
    m->ack_latency = tp->ack_latency;
    guint position = cur->messages->len;
    g_ptr_array_add(cur->messages, m);

    /* Its frames: those the ISO-TP layer took into it, or a DoIP
     * message's first and last. */
    uint64_t key = uf_isotp_endpoint_key(&tp->src);
    GArray *list = tp->transport == UF_TRANSPORT_ISOTP ? g_hash_table_lookup(cur->pending, &key)
                                                       : NULL;
    if (list) {
        for (guint i = 0; i < list->len; i++)
            attach_message(g_array_index(list, uint64_t, i), position);
        g_hash_table_remove(cur->pending, &key);
    }
    attach_message(m->first_frame, position);
    attach_message(m->last_frame, position);

    if (u->d.kind != UF_UDS_REQUEST && u->request) {
        ufw_message *req = message_of_index(u->request->index);
        if (req) {
            m->request_frame = req->last_frame;
            bool final = u->d.kind == UF_UDS_POSITIVE || u->d.nrc != 0x78;
            if (final || !req->response_frame)
                req->response_frame = m->first_frame;
        }
    }
}

static void on_finding(void *ctx, const uf_finding *f)
{
    (void)ctx;
    ufw_finding *x = g_new0(ufw_finding, 1);
    x->rule = f->rule;
    x->severity = f->severity;
    x->session = f->session;
    x->message = g_strdup(f->message);
    g_ptr_array_add(cur->findings, x);
    if (!f->session)
        g_ptr_array_add(cur->orphans, x);
    if (f->frame == 0)
        return; /* about the whole capture */
    add_to_frame(cur->frame_findings, f->frame, x);
}

/* ---- lifecycle ----------------------------------------------------------------------------*/

void ufw_analysis_start(const ufw_settings *s)
{
    ufw_analysis_stop();
    cur = g_new0(analysis, 1);
    fill_options(&cur->options, s);
    uf_error err;
    if (!uf_cli_analysis_config(&cur->options, &cur->cfg, &err)) {
        /* The preference checks refused this already; fall back on the
         * defaults rather than analyse nothing. */
        uf_cli_analysis_free(&cur->options);
        ufw_settings none = {0};
        fill_options(&cur->options, &none);
        uf_cli_analysis_config(&cur->options, &cur->cfg, &err);
    }
    uf_analyzer_sink sink = {.message = on_message, .finding = on_finding,
                             .isotp_frame = on_isotp_frame};
    cur->analyzer = uf_analyzer_new(&cur->cfg, &sink);
    cur->frame_message = g_array_new(FALSE, TRUE, sizeof(guint32));
    cur->frame_more = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                            (GDestroyNotify)g_ptr_array_unref);
    cur->frame_findings = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                (GDestroyNotify)g_ptr_array_unref);
    cur->messages = g_ptr_array_new_with_free_func(message_free);
    cur->findings = g_ptr_array_new_with_free_func(finding_free);
    cur->orphans = g_ptr_array_new();
    cur->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify)g_array_unref);
    cur->buses = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    cur->bus_names = g_ptr_array_new_with_free_func(g_free);
}

/* Buses as the CLI's readers number them: one per capture interface, and
 * one more per Linux SLL2 interface index inside it. */
static uint32_t bus_of(uint32_t interface_id, uint32_t ifindex, const char *iface_name)
{
    uint64_t key = (uint64_t)interface_id << 32 | ifindex;
    gpointer found = g_hash_table_lookup(cur->buses, &key);
    if (found)
        return (uint32_t)GPOINTER_TO_SIZE(found) - 1;
    uint32_t bus = cur->bus_names->len;
    char *name = ifindex ? g_strdup_printf("%s/ifindex%u", iface_name, ifindex)
                         : g_strdup(iface_name);
    g_ptr_array_add(cur->bus_names, name);
    g_hash_table_insert(cur->buses, g_memdup2(&key, sizeof(key)), GSIZE_TO_POINTER(bus + 1));
    return bus;
}

static frame_print print_of(uint64_t number, uf_time time, const uint8_t *data, size_t len)
{
    frame_print p = {number, time, len, 14695981039346656037ULL};
    for (size_t i = 0; i < len && i < 64; i++)
        p.hash = (p.hash ^ data[i]) * 1099511628211ULL;
    return p;
}

static bool same_print(const frame_print *a, const frame_print *b)
{
    return a->number == b->number && a->time == b->time && a->len == b->len &&
           a->hash == b->hash;
}

void ufw_analysis_feed(uint64_t frame, uf_time time, uint32_t interface_id, int wtap_encap,
                       const uint8_t *data, size_t len, const char *iface_name)
{
    if (!cur || cur->finished)
        return;
    cur->fed++;
    cur->last = print_of(frame, time, data, len);
    if (cur->fed == 1) {
        cur->first = cur->last;
        cur->same_capture = ended.known && same_print(&cur->first, &ended.first);
    }
    uf_record rec;
    memset(&rec, 0, sizeof(rec));
    rec.number = frame;
    rec.time = time;
    uint32_t linktype = uf_linktype_of_wtap_encap(wtap_encap);
    uint32_t ifindex = 0;
    if (uf_decode_link(linktype, data, len, &cur->link, &rec, &ifindex, &rec.problem) < 0)
        rec.kind = UF_REC_SKIPPED;
    rec.bus = bus_of(interface_id, ifindex, iface_name);
    uf_analyzer_record(cur->analyzer, &rec);
    /* Wireshark re-dissects a whole file when a preference changes, with
     * no end-of-pass call: the end is known when its last frame comes. */
    if (cur->same_capture && same_print(&cur->last, &ended.last))
        ufw_analysis_finish();
}

void ufw_analysis_finish(void)
{
    if (!cur || cur->finished)
        return;
    uf_analyzer_finish(cur->analyzer);
    cur->finished = true;
    g_hash_table_remove_all(cur->pending);
    ended.known = cur->fed > 0;
    ended.first = cur->first;
    ended.last = cur->last;
}

bool ufw_analysis_finished(void)
{
    return cur && cur->finished;
}

uint64_t ufw_analysis_frames(void)
{
    return cur ? cur->fed : 0;
}

void ufw_analysis_stop(void)
{
    if (!cur)
        return;
    uf_analyzer_free(cur->analyzer);
    g_array_free(cur->frame_message, TRUE);
    g_hash_table_destroy(cur->frame_more);
    g_hash_table_destroy(cur->frame_findings);
    g_ptr_array_free(cur->orphans, TRUE);
    g_ptr_array_free(cur->findings, TRUE);
    g_ptr_array_free(cur->messages, TRUE);
    g_hash_table_destroy(cur->pending);
    g_hash_table_destroy(cur->buses);
    g_ptr_array_free(cur->bus_names, TRUE);
    uf_cli_analysis_free(&cur->options);
    g_free(cur);
    cur = NULL;
}

bool ufw_analysis_frame(uint64_t frame, ufw_frame *out)
{
    memset(out, 0, sizeof(*out));
    if (!cur)
        return false;
    guint32 slot = frame < cur->frame_message->len
                       ? g_array_index(cur->frame_message, guint32, frame) : 0;
    if (slot)
        out->message = g_ptr_array_index(cur->messages, slot - 1);
    gpointer key = GSIZE_TO_POINTER((gsize)frame);
    out->more = g_hash_table_lookup(cur->frame_more, key);
    out->findings = g_hash_table_lookup(cur->frame_findings, key);
    return out->message || out->findings;
}

const uf_sessions *ufw_analysis_sessions(void)
{
    return cur ? uf_analyzer_sessions(cur->analyzer) : NULL;
}

const uf_profile *ufw_analysis_profile(void)
{
    return cur ? cur->cfg.profile : NULL;
}

GPtrArray *ufw_analysis_findings(void)
{
    return cur ? cur->findings : NULL;
}

GPtrArray *ufw_analysis_orphans(void)
{
    return cur ? cur->orphans : NULL;
}

const char *ufw_analysis_bus_name(uint32_t bus)
{
    return cur && bus < cur->bus_names->len ? g_ptr_array_index(cur->bus_names, bus) : "-";
}
