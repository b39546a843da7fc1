/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Sessions: one per tester-ECU pair and flash. A session starts with a
 * diagnostic session change to a non-default session, or with a flash
 * service (0x27, 0x2E, 0x31, 0x34, 0x36, 0x37); it is complete after a
 * positive ECU reset and a positive return to the default session, and the
 * next such start opens a new one. Functional requests go to every open
 * session on their bus, and start a session for each ECU that answers one.
 *
 * UDS rules checked here (ISO 14229-1:2020):
 *   negative response other than 0x78     uds.nrc                A.1
 *   physical request without any response uds.no_response        7.5
 *   response without a waiting request    uds.unexpected_response 7.5
 * Findings from the layers below are attributed to the session and step
 * they hit: ISO-TP findings reported while a message was reassembled take
 * the labels of that message.
 */
#include "session_internal.h"

#include "hasher.h"

#include <string.h>

static uint64_t key_of(const uf_isotp_endpoint *e)
{
    return uf_isotp_endpoint_key(e);
}

const char *session_service(uint8_t sid, char *buf, size_t size)
{
    return uf_uds_display_service(sid, buf, size);
}

/* ---- findings ------------------------------------------------------------*/

static bool ignored(const uf_sessions *ss, const char *rule)
{
    for (char **p = ss->ignore; p && *p; p++)
        if (uf_rule_matches(rule, *p))
            return true;
    return false;
}

void session_emit(uf_sessions *ss, uf_session *s, uf_finding *f)
{
    if (ignored(ss, f->rule->id))
        return;
    uf_severity sev;
    if (uf_profile_severity_override(ss->cfg.profile, f->rule, &sev))
        f->severity = sev;
    if (s) {
        f->session = s->index;
        if (!f->phase && !f->step) {
            f->phase = s->state->cur_phase;
            f->step = s->state->cur_step;
        }
        s->findings[f->severity]++;
    }
    if (ss->sink.finding)
        ss->sink.finding(ss->sink.ctx, f);
}

void session_report(uf_sessions *ss, uf_session *s, const char *rule, uint64_t frame,
                    uf_time time, const char *fmt, ...)
{
    uf_finding f;
    uf_finding_init(&f, rule, frame, time, s ? s->bus : UF_BUS_NONE, "%s", "");
    /* "who: text", formatted once, into the finding's own message. */
    size_t n = 0;
    if (s) {
        char who[32];
        uf_isotp_endpoint_name(s->ecu_known ? &s->ecu : &s->tester, who, sizeof(who));
        if (who[0]) {
            n = g_strlcpy(f.message, who, sizeof(f.message));
            n = g_strlcat(f.message, ": ", sizeof(f.message));
        }
    }
    if (n < sizeof(f.message)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f.message + n, sizeof(f.message) - n, fmt, ap);
        va_end(ap);
    }
    session_emit(ss, s, &f);
}

/* ---- lifecycle -----------------------------------------------------------*/

uf_sessions *uf_sessions_new(const uf_sessions_config *config, const uf_sessions_sink *sink)
{
    uf_sessions *ss = g_new0(uf_sessions, 1);
    ss->own.ss = ss;
    ss->cfg = *config;
    if (config->ignore)
        ss->ignore = g_strdupv((char **)config->ignore);
    ss->cfg.ignore = NULL;
    if (!ss->cfg.max_sessions)
        ss->cfg.max_sessions = UF_SESSIONS_MAX;
    if (!ss->cfg.max_downloads)
        ss->cfg.max_downloads = UF_SESSION_DOWNLOADS_MAX;
    ss->sink = *sink;
    ss->all = g_ptr_array_new();
    ss->open = g_ptr_array_new();
    ss->by_conv = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    ss->by_tester = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    ss->by_ecu = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    ss->functional = g_array_new(FALSE, TRUE, sizeof(functional_req));
    bool hash_thread = ss->cfg.spill && ss->cfg.hash_thread;
    ss->hasher = hash_thread && ss->cfg.helper ? uf_hasher_new_on(ss->cfg.helper)
                                               : uf_hasher_new(hash_thread);
    if (ss->cfg.spill) {
        ss->closing = g_ptr_array_new();
        ss->digesting = g_ptr_array_new();
        ss->spill = uf_spill_new();
        ss->spilled_at = g_array_new(FALSE, FALSE, sizeof(uint32_t));
        ss->scratch = g_byte_array_new();
    }
    return ss;
}

void session_free(uf_sessions *ss, uf_session *s)
{
    sequence_free(s);
    transfer_free(ss, s);
    g_free(s->phases);
    g_array_free(s->downloads, TRUE);
    g_array_free(s->dids, TRUE);
    g_array_free(s->routines, TRUE);
    g_array_free(s->nrcs, TRUE);
    g_free(s->state->labels);
    g_free(s->state);
    g_free(s);
}

void uf_sessions_free(uf_sessions *ss)
{
    if (!ss)
        return;
    for (guint i = 0; i < ss->all->len; i++)
        if (g_ptr_array_index(ss->all, i)) /* NULL: spilled */
            session_free(ss, g_ptr_array_index(ss->all, i));
    g_ptr_array_free(ss->all, TRUE);
    uf_hasher_free(ss->hasher); /* every digest taken by now */
    if (ss->closing)
        g_ptr_array_free(ss->closing, TRUE);
    if (ss->digesting)
        g_ptr_array_free(ss->digesting, TRUE);
    uf_spill_free(ss->spill);
    if (ss->spilled_at)
        g_array_free(ss->spilled_at, TRUE);
    if (ss->scratch)
        g_byte_array_free(ss->scratch, TRUE);
    sessions_holder_free(ss->own.holder);
    g_ptr_array_free(ss->open, TRUE);
    g_hash_table_destroy(ss->by_conv);
    g_hash_table_destroy(ss->by_tester);
    g_hash_table_destroy(ss->by_ecu);
    g_array_free(ss->functional, TRUE);
    g_strfreev(ss->ignore);
    g_free(ss);
}

static void map_put_key(GHashTable *h, uint64_t key, uf_session *s)
{
    uint64_t *k = g_new(uint64_t, 1);
    *k = key;
    g_hash_table_replace(h, k, s);
}

static void map_put(GHashTable *h, const uf_isotp_endpoint *e, uf_session *s)
{
    map_put_key(h, key_of(e), s);
}

static uf_session *map_get(GHashTable *h, const uf_isotp_endpoint *e)
{
    uint64_t k = key_of(e);
    return g_hash_table_lookup(h, &k);
}

static void map_drop_key(GHashTable *h, uint64_t k, const uf_session *s)
{
    if (g_hash_table_lookup(h, &k) == s)
        g_hash_table_remove(h, &k);
}

static void map_drop(GHashTable *h, const uf_isotp_endpoint *e, const uf_session *s)
{
    map_drop_key(h, key_of(e), s);
}

/* The open session of a tester - ECU conversation (ecu NULL if unknown). */
static uf_session *conversation(uf_sessions *ss, const uf_isotp_endpoint *tester,
                                const uf_isotp_endpoint *ecu)
{
    uint64_t k = uf_conversation_key(tester, ecu);
    recent_conversation *slot = &ss->recent_conv[uf_hash_slot(k, RECENT_CONVERSATION_BITS)];
    if (slot->s && slot->key == k)
        return slot->s;
    uf_session *s = g_hash_table_lookup(ss->by_conv, &k);
    if (s) {
        slot->s = s;
        slot->key = k;
    }
    return s;
}

static uint64_t conversation_of(const uf_session *s)
{
    return uf_conversation_key(&s->tester, s->ecu_known ? &s->ecu : NULL);
}

/* A session into or out of by_conv: what conversation() keeps may be
 * wrong from now on. */
static void conversation_put(uf_sessions *ss, uf_session *s)
{
    memset(ss->recent_conv, 0, sizeof(ss->recent_conv));
    map_put_key(ss->by_conv, conversation_of(s), s);
}

static void conversation_drop(uf_sessions *ss, const uf_session *s)
{
    memset(ss->recent_conv, 0, sizeof(ss->recent_conv));
    map_drop_key(ss->by_conv, conversation_of(s), s);
}

static uf_session *session_new(uf_sessions *ss, uint32_t bus, const uf_isotp_endpoint *tester,
                               const uf_isotp_endpoint *ecu, bool ecu_known)
{
    const uf_profile *p = ss->cfg.profile;
    if (ss->all->len >= ss->cfg.max_sessions)
        return NULL;
    uf_session *s = g_new0(uf_session, 1);
    s->index = ss->all->len + 1;
    s->bus = bus;
    s->tester = *tester;
    s->ecu_known = ecu_known;
    if (ecu_known)
        s->ecu = *ecu;
    s->t_start = s->t_end = UF_TIME_NONE;
    s->phases = g_new0(uf_session_phase, p && p->n_phases ? p->n_phases : 1);
    s->downloads = g_array_new(FALSE, TRUE, sizeof(uf_download));
    s->dids = g_array_new(FALSE, TRUE, sizeof(uf_did_value));
    s->routines = g_array_new(FALSE, TRUE, sizeof(uf_routine_result));
    s->nrcs = g_array_new(FALSE, TRUE, sizeof(uf_nrc_seen));
    session_state *st = g_new0(session_state, 1);
    s->state = st;
    st->labels = g_new0(label, LABEL_RING);
    st->diag = SESSION_DEFAULT;
    st->p2 = p ? p->p2 : 50 * UF_NS_PER_MS;
    st->p2star = p ? p->p2star : 5000 * UF_NS_PER_MS;
    st->last_activity = UF_TIME_NONE;
    st->open = -1;
    st->last_counter = -1;
    sequence_init(p, s);
    g_ptr_array_add(ss->all, s);
    if (ss->spilled_at) {
        uint32_t in_memory = UINT32_MAX;
        g_array_append_val(ss->spilled_at, in_memory);
    }
    g_ptr_array_add(ss->open, s);
    conversation_put(ss, s);
    map_put(ss->by_tester, tester, s);
    if (ecu_known)
        map_put(ss->by_ecu, ecu, s);
    return s;
}

static void session_close(uf_sessions *ss, uf_session *s)
{
    session_state *st = s->state;
    if (st->closed)
        return;
    transfer_close(ss, s);
    sequence_close(ss, s);
    st->closed = true;
    /* What only an open session needs goes now (the labels of its recent
     * messages, 1.5 KB): a capture of thousands of sessions keeps each
     * one's summary, steps included (the JUnit report lists them). */
    g_clear_pointer(&st->labels, g_free);
    g_ptr_array_remove(ss->open, s);
    conversation_drop(ss, s);
    map_drop(ss->by_tester, &s->tester, s);
    if (s->ecu_known)
        map_drop(ss->by_ecu, &s->ecu, s);
    if (ss->sink.session_end) {
        transfer_take_digests(ss, s);
        ss->sink.session_end(ss->sink.ctx, s);
    }
    if (ss->closing)
        g_ptr_array_add(ss->closing, s);
}

uint32_t uf_sessions_count(const uf_sessions *ss)
{
    return ss->all->len;
}

uint64_t uf_sessions_requests_not_analyzed(const uf_sessions *ss)
{
    return ss->not_analyzed;
}

const uf_session *uf_sessions_get(const uf_sessions *ss, uint32_t index)
{
    /* Reading a spilled session back fills the holder, a cache that is
     * no part of the set's value: hence the cast. */
    return uf_sessions_reader_get((uf_sessions_reader *)&ss->own, index);
}

const uf_spill *uf_sessions_store(const uf_sessions *ss)
{
    return ss->spill;
}

const char *uf_session_transport(const uf_session *s)
{
    return s->doip ? "doip" : s->fd ? "can-fd" : "can";
}

/* The transport a message came over, and a DoIP entity's acknowledgement. */
static void note_transport(uf_session *s, const uf_isotp_message *tp)
{
    if (tp->fd)
        s->fd = true;
    if (tp->transport != UF_TRANSPORT_DOIP)
        return;
    s->doip = true;
    if (tp->nacked)
        s->doip_nacks++;
    if (!tp->acked || tp->ack_latency == UF_TIME_NONE)
        return;
    if (!s->doip_acks || tp->ack_latency < s->ack_min)
        s->ack_min = tp->ack_latency;
    if (!s->doip_acks || tp->ack_latency > s->ack_max)
        s->ack_max = tp->ack_latency;
    s->ack_sum = uf_time_add(s->ack_sum, tp->ack_latency);
    s->doip_acks++;
}

/* ---- what a session records --------------------------------------------*/

static void touch(uf_session *s, uf_time t_first, uf_time t_last, uint64_t first, uint64_t last)
{
    if (s->first_frame == 0 || first < s->first_frame) {
        s->first_frame = first;
        s->t_start = t_first;
    }
    if (last > s->last_frame) {
        s->last_frame = last;
        s->t_end = t_last;
    }
}

static void touch_phase(uf_session *s, const label *l, uf_time t_first, uf_time t_last,
                        uint64_t first, uint64_t last)
{
    if (!l || (l->step < 0 && l->anytime < 0))
        return;
    uf_session_phase *ph = &s->phases[l->phase];
    if (!ph->seen) {
        ph->seen = true;
        ph->first_frame = first;
        ph->t_start = t_first;
    }
    ph->last_frame = last;
    ph->t_end = t_last;
    ph->messages++;
}

static void note_did(uf_session *s, uint16_t did, bool written, const uint8_t *v, uint32_t n)
{
    uf_did_value *dv = NULL;
    for (guint i = 0; i < s->dids->len; i++) {
        uf_did_value *x = &g_array_index(s->dids, uf_did_value, i);
        if (x->did == did && x->written == written)
            dv = x;
    }
    uint8_t len = (uint8_t)(n < UF_DID_VALUE_MAX ? n : UF_DID_VALUE_MAX);
    if (!dv) {
        if (s->dids->len >= MAX_LIST)
            return;
        uf_did_value nv;
        memset(&nv, 0, sizeof(nv));
        nv.did = did;
        nv.written = written;
        nv.first_len = len;
        memcpy(nv.first, v, len);
        g_array_append_val(s->dids, nv);
        dv = &g_array_index(s->dids, uf_did_value, s->dids->len - 1);
    }
    dv->last_len = len;
    memcpy(dv->last, v, len);
}

/* What a response tells about the ECU's state and the session's record. */
static void note_response(uf_session *s, const uf_uds_message *m)
{
    session_state *st = s->state;
    const uf_uds_decoded *d = &m->d;
    if (d->kind == UF_UDS_NEGATIVE) {
        if (d->nrc != 0x78 && s->nrcs->len < MAX_LIST) {
            uf_nrc_seen n = {d->sid, d->nrc, m->tp->last_frame, m->tp->t_first};
            g_array_append_val(s->nrcs, n);
        }
    } else if (d->sid == 0x10 && d->has_subfunction) {
        /* A session transition re-locks security (ISO 14229-1:2020 10.4). */
        st->diag = d->subfunction;
        st->unlocked = 0;
        if (s->n_sessions_entered < sizeof(s->sessions_entered) &&
            (s->n_sessions_entered == 0 ||
             s->sessions_entered[s->n_sessions_entered - 1] != d->subfunction))
            s->sessions_entered[s->n_sessions_entered++] = d->subfunction;
        if (d->subfunction == SESSION_DEFAULT && s->reset_done)
            s->back_in_default = true;
    } else if (d->sid == 0x11) {
        st->diag = SESSION_DEFAULT;
        st->unlocked = 0;
        s->reset_done = true;
    } else if (d->sid == 0x27 && d->has_subfunction && !d->is_seed) {
        st->unlocked = d->security_level;
        if (d->security_level > s->security_level)
            s->security_level = d->security_level;
    } else if (d->sid == 0x22 && d->has_did) {
        note_did(s, d->did, false, d->record, d->record_len);
    }
    if (d->sid == 0x31 && (d->has_routine || d->kind == UF_UDS_NEGATIVE) &&
        s->routines->len < MAX_LIST) {
        uf_routine_result r;
        memset(&r, 0, sizeof(r));
        r.positive = d->kind == UF_UDS_POSITIVE;
        r.nrc = r.positive ? 0 : d->nrc;
        r.frame = m->tp->last_frame;
        if (r.positive) {
            r.routine = d->routine;
            r.control = d->subfunction;
            r.status_len = (uint8_t)(d->record_len < sizeof(r.status) ? d->record_len : sizeof(r.status));
            memcpy(r.status, d->record, r.status_len);
        } else if (m->request) {
            r.control = m->request->subfunction;
        }
        if (r.positive || d->nrc != 0x78)
            g_array_append_val(s->routines, r);
    }
}

/* ---- requests and responses --------------------------------------------*/

static req_info req_from(const uf_uds_message *m)
{
    req_info r;
    memset(&r, 0, sizeof(r));
    r.index = m->index;
    r.sid = m->d.sid;
    r.has_sub = m->d.has_subfunction;
    r.sub = m->d.subfunction;
    r.suppress = m->d.suppress;
    r.functional = m->functional;
    r.has_id = m->d.has_did || m->d.has_routine;
    r.id = m->d.has_routine ? m->d.routine : m->d.did;
    r.first_frame = m->tp->first_frame;
    r.last_frame = m->tp->last_frame;
    r.t_first = m->tp->t_first;
    r.t_last = m->tp->t_last;
    r.len = m->tp->declared_len;
    return r;
}

static bool starts_session(const req_info *r)
{
    switch (r->sid) {
    case 0x10:
        return r->has_sub && r->sub != SESSION_DEFAULT;
    case 0x27: case 0x2E: case 0x31: case 0x34: case 0x36: case 0x37:
        return true;
    default:
        return false;
    }
}

/* A request that begins a flash: one that starts a session, or the
 * pre-programming's DTC setting off (0x85 0x02) and communication
 * disabled (0x28, any control but 0x00 enableRxAndTx). */
static bool opens_programming(const req_info *r)
{
    if (starts_session(r))
        return true;
    uint8_t sub = r->has_sub ? r->sub & 0x7F : 0;
    return r->has_sub && ((r->sid == 0x85 && sub == 0x02) || (r->sid == 0x28 && sub != 0x00));
}

static label *find_label(uf_session *s, uint64_t request)
{
    if (!s->state->labels) /* closed: no message reaches it any more */
        return NULL;
    label *l = &s->state->labels[request % LABEL_RING];
    return l->request == request ? l : NULL;
}

static void set_labels(const uf_sessions *ss, const label *l, const char **phase,
                       const char **step)
{
    const uf_profile *p = ss->cfg.profile;
    *phase = *step = NULL;
    if (!l || !p)
        return;
    if (l->step >= 0) {
        *step = p->steps[l->step].name;
        *phase = p->phases[l->phase].name;
    } else if (l->anytime >= 0) {
        *step = p->anytime[l->anytime].name;
        *phase = p->n_phases ? p->phases[l->phase].name : NULL;
    } else if (p->n_phases) {
        *phase = p->phases[l->phase].name;
    }
}

static void apply_request(uf_sessions *ss, uf_session *s, const req_info *r,
                          uf_uds_message *m, label *out)
{
    session_state *st = s->state;
    if (r->index <= st->last_applied) { /* a functional request already applied */
        label *l = find_label(s, r->index);
        if (l)
            *out = *l;
        return;
    }
    st->last_applied = r->index;
    touch(s, r->t_first, r->t_last, r->first_frame, r->last_frame);
    s->requests++;
    if (m)
        note_transport(s, m->tp);
    timing_request(ss, s, r);
    sequence_request(ss, s, r, out); /* sets the current labels */
    st->labels[r->index % LABEL_RING] = *out;
    transfer_request(ss, s, r, m);
    touch_phase(s, out, r->t_first, r->t_last, r->first_frame, r->last_frame);
    if (m && m->d.sid == 0x2E && m->d.has_did)
        note_did(s, m->d.did, true, m->d.record, m->d.record_len);
    if (r->t_last != UF_TIME_NONE &&
        (st->last_activity == UF_TIME_NONE || r->t_last > st->last_activity))
        st->last_activity = r->t_last;
}

static void apply_response(uf_sessions *ss, uf_session *s, uf_uds_message *m,
                           label *out)
{
    session_state *st = s->state;
    const uf_isotp_message *tp = m->tp;
    touch(s, tp->t_first, tp->t_last, tp->first_frame, tp->last_frame);
    s->responses++;
    note_transport(s, tp);
    label *l = m->request ? find_label(s, m->request->index) : NULL;
    if (l)
        *out = *l;
    /* Findings about a response carry its request's step. */
    set_labels(ss, out, &st->cur_phase, &st->cur_step);
    timing_response(ss, s, m);
    bool pending = m->d.kind == UF_UDS_NEGATIVE && m->d.nrc == 0x78;
    if (l && !pending)
        sequence_response(s, l, &m->d);
    note_response(s, m);
    transfer_response(ss, s, m);
    touch_phase(s, l, tp->t_first, tp->t_last, tp->first_frame, tp->last_frame);
    char svc[32];
    if (m->d.kind == UF_UDS_NEGATIVE && !pending) {
        const char *name = uf_uds_nrc_name(m->d.nrc);
        session_report(ss, s, "uds.nrc", tp->first_frame, tp->t_first,
                       "%s answered with NRC 0x%02X %s", session_service(m->d.sid, svc, sizeof(svc)),
                       m->d.nrc, name ? name : "(reserved)");
    }
    if (!m->request)
        session_report(ss, s, "uds.unexpected_response", tp->first_frame, tp->t_first,
                       "%s %s response that answers no waiting request",
                       session_service(m->d.sid, svc, sizeof(svc)), uf_uds_kind_name(m->d.kind));
    if (tp->t_last != UF_TIME_NONE &&
        (st->last_activity == UF_TIME_NONE || tp->t_last > st->last_activity))
        st->last_activity = tp->t_last;
}

/* The latest functional request on a bus: a session starts for each ECU
 * that answers it. */
static const req_info *functional_request(const uf_sessions *ss, uint32_t bus, uint64_t index)
{
    for (guint i = 0; i < ss->functional->len; i++) {
        const functional_req *f = &g_array_index(ss->functional, functional_req, i);
        if (f->bus == bus && f->r.index == index)
            return &f->r;
    }
    return NULL;
}

static void remember_functional(uf_sessions *ss, uint32_t bus, const req_info *r)
{
    for (guint i = 0; i < ss->functional->len; i++) {
        functional_req *f = &g_array_index(ss->functional, functional_req, i);
        if (f->bus == bus) {
            f->r = *r;
            return;
        }
    }
    functional_req f = {bus, *r};
    g_array_append_val(ss->functional, f);
}

/* Findings held until the message they belong to is labelled. */
static void flush_held(uf_sessions *ss, const uf_uds_message *m)
{
    for (uint32_t i = 0; i < ss->n_held; i++) {
        uf_finding *f = &ss->held[i];
        uf_isotp_endpoint ep = {f->bus, f->id, f->id_addr};
        uf_session *s = map_get(ss->by_tester, &ep);
        if (!s)
            s = map_get(ss->by_ecu, &ep);
        if (m && m->session && s && s->index == m->session && key_of(&ep) == key_of(&m->tp->src)) {
            f->phase = m->phase;
            f->step = m->step;
        }
        session_emit(ss, s, f);
    }
    ss->n_held = 0;
}

void uf_sessions_finding(uf_sessions *ss, const uf_finding *f)
{
    if (!f->has_id) {
        uf_finding copy = *f;
        session_emit(ss, NULL, &copy);
        return;
    }
    /* ISO-TP reports what it saw in a message just before handing the
     * message up: hold it so that it gets that message's step. */
    if (ss->n_held == HELD_FINDINGS)
        flush_held(ss, NULL);
    ss->held[ss->n_held++] = *f;
}

/* A message the session layer does not judge (lost, or refused by a DoIP
 * entity, so the ECU never saw it): named with the session it belongs to. */
static void label_only(uf_uds_message *m, uf_session *s)
{
    if (!s)
        return;
    m->session = s->index;
    m->phase = s->state->cur_phase;
    m->step = s->state->cur_step;
}

static void message_request(uf_sessions *ss, uf_uds_message *m)
{
    if (m->tp->nacked) {
        label_only(m, m->tester_known ? map_get(ss->by_tester, &m->tester) : NULL);
        return;
    }
    req_info r = req_from(m);
    label l = {r.index, -1, -1, 0};
    if (m->functional) {
        /* To every open session on the bus; the message takes the labels
         * of the first. A flash that is over (its ECU reset and back in
         * the default session) ends when pre-programming starts again on
         * the bus: another flash, whichever ECU it is for. */
        bool labelled = false;
        for (guint i = 0; i < ss->open->len;) {
            uf_session *s = g_ptr_array_index(ss->open, i);
            if (s->bus != m->tp->src.bus) {
                i++;
                continue;
            }
            if (s->reset_done && s->back_in_default && opens_programming(&r)) {
                session_close(ss, s); /* leaves ss->open */
                continue;
            }
            i++;
            label sl = l;
            apply_request(ss, s, &r, m, &sl);
            if (!labelled) {
                set_labels(ss, &sl, &m->phase, &m->step);
                m->session = s->index;
                labelled = true;
            }
        }
        remember_functional(ss, m->tp->src.bus, &r);
        return;
    }
    uf_session *s = m->tester_known ? conversation(ss, &m->tester, m->ecu_known ? &m->ecu : NULL)
                                    : NULL;
    if (s && starts_session(&r) && s->reset_done && s->back_in_default) {
        session_close(ss, s); /* a new flash of the same ECU */
        s = NULL;
    }
    if (!s && starts_session(&r))
        s = session_new(ss, m->tp->src.bus, &m->tester, &m->ecu, m->ecu_known);
    if (!s) {
        if (ss->all->len >= ss->cfg.max_sessions)
            ss->not_analyzed++;
        return;
    }
    apply_request(ss, s, &r, m, &l);
    m->session = s->index;
    set_labels(ss, &l, &m->phase, &m->step);
}

static void message_response(uf_sessions *ss, uf_uds_message *m)
{
    uf_session *s = m->tester_known ? conversation(ss, &m->tester, &m->ecu) : NULL;
    /* Over DoIP both addresses are in every message: the conversation is
     * the whole answer. On CAN an ECU whose tester is not known yet is
     * found by its own id, or by the tester it answers. */
    bool doip = m->tp->transport == UF_TRANSPORT_DOIP;
    if (!s && !doip)
        s = map_get(ss->by_ecu, &m->ecu);
    if (!s && !doip && m->tester_known)
        s = map_get(ss->by_tester, &m->tester);
    if (!s && m->request && m->request->functional) {
        const req_info *fr = functional_request(ss, m->tp->src.bus, m->request->index);
        if (fr && starts_session(fr)) {
            s = session_new(ss, m->tp->src.bus, &m->tester, &m->ecu, true);
            label ignored_label = {fr->index, -1, -1, 0};
            if (s)
                apply_request(ss, s, fr, NULL, &ignored_label);
        }
    }
    if (s && !s->ecu_known) {
        s->ecu = m->ecu;
        s->ecu_known = true;
        map_put(ss->by_ecu, &m->ecu, s);
    }
    char svc[32];
    if (!s) {
        if (!m->request)
            session_report(ss, NULL, "uds.unexpected_response", m->tp->first_frame,
                           m->tp->t_first, "%s %s response that answers no waiting request",
                           session_service(m->d.sid, svc, sizeof(svc)),
                           uf_uds_kind_name(m->d.kind));
        return;
    }
    label l = {0, -1, -1, s->state->phase};
    apply_response(ss, s, m, &l);
    m->session = s->index;
    set_labels(ss, &l, &m->phase, &m->step);
}

void uf_sessions_message(uf_sessions *ss, uf_uds_message *m)
{
    m->session = 0;
    m->phase = m->step = NULL;
    if (m->incomplete) {
        uf_session *s = map_get(ss->by_tester, &m->tp->src);
        label_only(m, s ? s : map_get(ss->by_ecu, &m->tp->src));
    } else if (m->d.kind == UF_UDS_REQUEST) {
        message_request(ss, m);
    } else {
        message_response(ss, m);
    }
    flush_held(ss, m);
    if (ss->sink.message)
        ss->sink.message(ss->sink.ctx, m);
    sessions_spill_closed(ss, false);
}

void uf_sessions_unanswered(uf_sessions *ss, const uf_uds_request_ref *r)
{
    /* An ECU stays silent on a functional request it does not support (the
     * NRCs 0x11, 0x12, 0x31, 0x7E and 0x7F are not sent to functional
     * requests, ISO 14229-1:2020 7.5): silence is no fault there. A step the
     * profile needs is still missed by the sequence check. */
    if (r->functional)
        return;
    uf_session *s = conversation(ss, &r->tester, r->ecu_known ? &r->ecu : NULL);
    char svc[32];
    session_report(ss, s, "uds.no_response", r->last_frame, r->t_end,
                   "no response to %s (request frames %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                   "%s)", session_service(r->sid, svc, sizeof(svc)), r->first_frame,
                   r->last_frame, r->pending_count ? ", after response pending" : "");
}

void uf_sessions_finish(uf_sessions *ss)
{
    flush_held(ss, NULL);
    while (ss->open->len) /* in the order they began; each leaves ss->open */
        session_close(ss, g_ptr_array_index(ss->open, 0));
    if (ss->all->len == 0 && ss->cfg.profile && ss->cfg.profile->n_steps)
        session_report(ss, NULL, "flash.sequence.missing", 0, UF_TIME_NONE,
                       "no flash session: no tester asked an ECU for a non-default diagnostic "
                       "session or a flash service");
    sessions_spill_closed(ss, true);
}
