/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A replay script from a capture: the analyzer of `udsflash check` labels
 * every UDS message with its flash session, phase and step; this keeps the
 * messages of one session as steps. Responses are tied to their requests
 * by the analyzer's pairing (0x78 chains included), TransferData blocks
 * fold into one transfer step per download, and the image is the bytes
 * the ECU accepted (repeated blocks once), as `udsflash extract` writes it.
 */
#include "uf_script.h"

#include <string.h>

/* The tester present interval used when the recording shows only one. */
#define TESTER_PRESENT_DEFAULT (2 * UF_NS_PER_S)
/* Gaps shorter than this are no rhythm: two testers' functional tester
 * presents in one burst, a tool's retry. S3 is seconds (ISO 14229-2:2013
 * Table 5: S3_server 5 s), so a real keep-alive is never this fast. */
#define TESTER_PRESENT_MIN_GAP (100 * UF_NS_PER_MS)

typedef struct image {
    uint8_t *data;
    uint64_t len, cap;
} image;

struct uf_script_collector {
    uint32_t session;
    uf_script *s;
    bool have_link;
    GHashTable *step_of_request;  /* request message index -> step index + 1 */
    uf_time last_event;           /* end of the session's previous message */
    uf_time last_tester_present;
    GArray *images;               /* image, by download index - 1 */
    uf_error err;
    bool failed;
};

uf_script_collector *uf_script_collector_new(uint32_t session)
{
    uf_script_collector *c = g_new0(uf_script_collector, 1);
    c->session = session;
    c->s = g_new0(uf_script, 1);
    c->s->session = session;
    c->s->steps = g_array_new(FALSE, TRUE, sizeof(uf_script_step));
    c->s->downloads = g_array_new(FALSE, TRUE, sizeof(uf_script_download));
    c->step_of_request = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->last_event = UF_TIME_NONE;
    c->last_tester_present = UF_TIME_NONE;
    c->images = g_array_new(FALSE, TRUE, sizeof(image));
    return c;
}

void uf_script_collector_free(uf_script_collector *c)
{
    if (!c)
        return;
    uf_script_free(c->s);
    g_hash_table_destroy(c->step_of_request);
    for (guint i = 0; i < c->images->len; i++)
        g_free(g_array_index(c->images, image, i).data);
    g_array_free(c->images, TRUE);
    g_free(c);
}

static void fail(uf_script_collector *c, const char *why, const uf_uds_message *m)
{
    if (c->failed)
        return;
    c->failed = true;
    const char *name = uf_uds_service_name(m->d.sid);
    uf_error_set(&c->err, "the %s %s in frame %" G_GUINT64_FORMAT " %s", name ? name : "UDS",
                 m->d.kind == UF_UDS_REQUEST ? "request" : "response", m->tp->first_frame, why);
}

void uf_script_link_learn(uf_script_link *l, bool *known, const uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    if (!*known && !m->functional) {
        *known = true;
        l->doip = (m->tester.id & UF_ISOTP_DOIP) != 0;
        if (l->doip) {
            l->tester_la = (uint16_t)m->tester.id;
            l->ecu_la = (uint16_t)m->ecu.id;
        } else {
            l->tester_id = m->tester.id;
            l->ecu_id = m->ecu.id;
            l->addressing = tp->addressing;
            l->tester_addr = m->tester.addr;
            l->ecu_addr = m->ecu.addr;
            l->pad = true;
            l->pad_byte = 0xCC;
        }
    }
    if (tp->fd) {
        l->fd = true;
        l->tx_dl = 64;
    } else if (!l->tx_dl) {
        l->tx_dl = 8;
    }
    /* A functional request names the functional id (CAN) or logical
     * address (DoIP) it went to. */
    if (m->functional) {
        if (m->tester.id & UF_ISOTP_DOIP) {
            /* The functional address is the message's target, though no
             * one ECU is its partner (dst_known is false). */
            l->functional_la = (uint16_t)tp->dst.id;
        } else {
            l->functional_id = tp->src.id;
        }
    }
}

static uf_script_step *push_step(uf_script_collector *c, const uf_uds_message *m)
{
    uf_script_step st = {0};
    st.phase = g_strdup(m->phase);
    st.name = g_strdup(m->step);
    st.delay = c->last_event == UF_TIME_NONE ? 0 : uf_time_diff(m->tp->t_first, c->last_event);
    if (st.delay < 0)
        st.delay = 0;
    st.expect = UF_EXPECT_NOTHING;
    st.response_time = UF_TIME_NONE;
    g_array_append_val(c->s->steps, st);
    return uf_script_step_at(c->s, c->s->steps->len - 1);
}

static void request(uf_script_collector *c, const uf_uds_message *m)
{
    const uf_isotp_message *tp = m->tp;
    uf_script_link_learn(&c->s->link, &c->have_link, m);
    if (m->d.sid == 0x3E) { /* TesterPresent: sent when S3 needs it */
        uf_time t = tp->t_first;
        if (c->last_tester_present != UF_TIME_NONE) {
            uf_time gap = uf_time_diff(t, c->last_tester_present);
            if (gap >= TESTER_PRESENT_MIN_GAP && (c->s->tester_present_interval == TESTER_PRESENT_DEFAULT ||
                            gap < c->s->tester_present_interval))
                c->s->tester_present_interval = gap;
        } else {
            c->s->tester_present_interval = TESTER_PRESENT_DEFAULT;
        }
        c->last_tester_present = t;
        c->s->tester_present_functional = m->functional;
        return;
    }
    if (m->d.sid == 0x36) { /* a block: part of its download's transfer step */
        guint n = c->s->steps->len;
        if (!n || uf_script_step_at(c->s, n - 1)->download != m->download)
            push_step(c, m)->download = m->download;
        c->last_event = tp->t_last;
        return;
    }
    if (tp->truncated || tp->len > UF_SCRIPT_MESSAGE_MAX) {
        fail(c, "is longer than udsreplay keeps", m);
        return;
    }
    uf_script_step *st = push_step(c, m);
    st->request = g_memdup2(tp->data, tp->len);
    st->request_len = tp->len;
    st->functional = m->functional;
    gint64 *key = g_new(gint64, 1);
    *key = (gint64)m->index;
    g_hash_table_insert(c->step_of_request, key, GUINT_TO_POINTER(c->s->steps->len));
    c->last_event = tp->t_last;
}

static void response(uf_script_collector *c, const uf_uds_message *m)
{
    c->last_event = m->tp->t_last;
    if (!m->request)
        return;
    if (m->d.kind == UF_UDS_POSITIVE && m->d.has_timing && !c->s->p2) {
        c->s->p2 = (uf_time)m->d.p2_ms * UF_NS_PER_MS;
        c->s->p2star = (uf_time)m->d.p2star_ms * UF_NS_PER_MS;
    }
    gint64 key = (gint64)m->request->index;
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(c->step_of_request, &key));
    if (!at)
        return; /* TesterPresent, TransferData, or another session's */
    uf_script_step *st = uf_script_step_at(c->s, at - 1);
    if (m->d.kind == UF_UDS_NEGATIVE && m->d.nrc == 0x78) {
        st->pending++;
        return;
    }
    if (st->expect != UF_EXPECT_NOTHING)
        return; /* a second ECU answering a functional request */
    if (m->tp->truncated || m->tp->len > UF_SCRIPT_MESSAGE_MAX) {
        fail(c, "is longer than udsreplay keeps", m);
        return;
    }
    st->expect = m->d.kind == UF_UDS_POSITIVE ? UF_EXPECT_POSITIVE : UF_EXPECT_NEGATIVE;
    st->response = g_memdup2(m->tp->data, m->tp->len);
    st->response_len = m->tp->len;
    st->response_time = m->response_time;
}

static void on_message(void *ctx, const uf_uds_message *m)
{
    uf_script_collector *c = ctx;
    if (m->session != c->session || m->incomplete || c->failed)
        return;
    if (m->d.kind == UF_UDS_REQUEST)
        request(c, m);
    else
        response(c, m);
}

static void on_download_data(void *ctx, const uf_session *s, const uf_download *d,
                             uint64_t offset, const uint8_t *data, uint32_t len)
{
    uf_script_collector *c = ctx;
    if (s->index != c->session || c->failed)
        return;
    if (c->images->len < d->index)
        g_array_set_size(c->images, d->index);
    image *im = &g_array_index(c->images, image, d->index - 1);
    uint64_t end = offset + len;
    if (end > UF_SCRIPT_IMAGE_MAX || end < offset) {
        if (!c->failed)
            uf_error_set(&c->err, "download %u: the image is larger than udsreplay keeps (1 GiB)",
                         d->index);
        c->failed = true;
        return;
    }
    if (end > im->cap) {
        uint64_t cap = im->cap ? im->cap : 4096;
        while (cap < end)
            cap *= 2;
        im->data = g_realloc(im->data, cap);
        im->cap = cap;
    }
    if (offset > im->len)
        memset(im->data + im->len, 0xFF, offset - im->len);
    memcpy(im->data + offset, data, len);
    if (end > im->len)
        im->len = end;
}

void uf_script_collector_sink(uf_script_collector *c, uf_analyzer_sink *sink)
{
    memset(sink, 0, sizeof(*sink));
    sink->ctx = c;
    sink->message = on_message;
    sink->download_data = on_download_data;
}

uf_script *uf_script_collector_finish(uf_script_collector *c, const uf_sessions *sessions,
                                      const char *source, uf_error *err)
{
    uint32_t n = uf_sessions_count(sessions);
    const uf_session *s = c->session >= 1 && c->session <= n ? uf_sessions_get(sessions, c->session)
                                                              : NULL;
    if (!s) {
        uf_error_set(err, "%s: no flash session %u (it has %u; see udsreplay list)", source,
                     c->session, n);
        return NULL;
    }
    if (c->failed) {
        uf_error_set(err, "%s: session %u: %s", source, c->session, c->err.msg);
        return NULL;
    }
    if (!s->downloads || s->downloads->len == 0) {
        uf_error_set(err, "%s: session %u downloads nothing: there is no image to flash", source,
                     c->session);
        return NULL;
    }
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_download *d = &g_array_index(s->downloads, uf_download, i);
        image *im = d->index <= c->images->len ? &g_array_index(c->images, image, d->index - 1)
                                               : NULL;
        if (!d->complete || !im || im->len != d->size) {
            uf_error_set(err, "%s: session %u: download %u is incomplete (%" G_GUINT64_FORMAT
                              " of %" G_GUINT64_FORMAT " bytes): only a complete image can be "
                              "flashed again", source, c->session, d->index, d->bytes, d->size);
            return NULL;
        }
        uf_script_download sd = {.index = d->index, .address = d->address, .size = d->size,
                                 .blocks = d->blocks,
                                 .max_block_len = d->has_max_block ? d->max_block_len : 0};
        sd.image = im->data;
        im->data = NULL;
        memcpy(sd.sha256, d->sha256, sizeof(sd.sha256));
        g_array_append_val(c->s->downloads, sd);
    }
    for (guint i = 0; i < c->s->steps->len; i++) {
        uint32_t dl = uf_script_step_at(c->s, i)->download;
        if (dl && !uf_script_download_at(c->s, dl)) {
            uf_error_set(err, "%s: session %u: TransferData outside a download", source,
                         c->session);
            return NULL;
        }
    }
    uf_script *out = c->s;
    out->source = g_strdup(source);
    c->s = NULL;
    return out;
}
