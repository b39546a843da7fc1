/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Closed sessions to a temporary file and back (uf_sessions_config.spill):
 * a capture of any number of flashes then keeps in memory only the ones
 * still open. A closed session is written whole, as one record of the
 * store: the summary, its phases, downloads, DIDs, routines and NRCs, and
 * the per-step state the reports read (uf_session_step_status). It is
 * read back into one holder, so a session from uf_sessions_get lasts
 * until the next call.
 *
 * Closed sessions are written when the call that closed them returns to
 * the caller (sessions_spill_closed), never inside it: the code that
 * closes a session may go on using it until then.
 */
#include "session_internal.h"

#include <string.h>

/* Closed sessions that may wait in memory for their digests: on a capture
 * of small images, the thread is a few images behind. */
#define DIGESTING 64

static void put(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void put_array(GByteArray *b, const GArray *a)
{
    uint32_t n = a->len;
    put(b, &n, sizeof(n));
    put(b, a->data, (size_t)a->len * g_array_get_element_size((GArray *)a));
}

static uint32_t n_phases(const uf_sessions *ss)
{
    const uf_profile *p = ss->cfg.profile;
    return p && p->n_phases ? p->n_phases : 1;
}

static uint32_t n_steps(const uf_sessions *ss)
{
    const uf_profile *p = ss->cfg.profile;
    return (p ? p->n_steps : 0) + 1;
}

static void write_session(uf_sessions *ss, uf_session *s)
{
    GByteArray *b = ss->scratch;
    g_byte_array_set_size(b, 0);
    session_state st = *s->state;
    st.labels = NULL;
    st.sum = NULL;
    st.pending = NULL;
    st.td_data = NULL;
    put(b, s, sizeof(*s));
    put(b, &st, sizeof(st));
    put(b, s->phases, n_phases(ss) * sizeof(uf_session_phase));
    put(b, s->state->requested, n_steps(ss));
    put(b, s->state->done, n_steps(ss));
    put(b, s->state->refused, n_steps(ss));
    put_array(b, s->downloads);
    put_array(b, s->dids);
    put_array(b, s->routines);
    put_array(b, s->nrcs);
    uf_spill_append(ss->spill, b->data, b->len);
}

void sessions_spill_closed(uf_sessions *ss, bool all)
{
    /* Called after every message; nearly always nothing has closed. */
    if (!ss->closing || (ss->closing->len == 0 && ss->digesting->len == 0))
        return;
    for (guint i = 0; i < ss->closing->len; i++)
        g_ptr_array_add(ss->digesting, g_ptr_array_index(ss->closing, i));
    g_ptr_array_set_size(ss->closing, 0);
    /* The store holds sessions in the order they closed: the first to
     * close goes first, and those after it wait for it. */
    guint gone = 0;
    for (; gone < ss->digesting->len; gone++) {
        uf_session *s = g_ptr_array_index(ss->digesting, gone);
        if (!all && ss->digesting->len - gone <= DIGESTING && !transfer_digests_ready(s))
            break;
        transfer_take_digests(ss, s);
        g_array_index(ss->spilled_at, uint32_t, s->index - 1) = (uint32_t)uf_spill_count(ss->spill);
        write_session(ss, s);
        g_ptr_array_index(ss->all, s->index - 1) = NULL;
        session_free(ss, s);
    }
    if (gone > 0)
        g_ptr_array_remove_range(ss->digesting, 0, gone);
}

/* ---- reading back ----------------------------------------------------------------------*/

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static bool get(reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    if (n) /* an empty GArray has no data to copy into */
        memcpy(out, r->p, n);
    r->p += n;
    return true;
}

static bool get_array(reader *r, GArray *a)
{
    uint32_t n;
    if (!get(r, &n, sizeof(n)))
        return false;
    guint size = g_array_get_element_size(a);
    if ((size_t)(r->end - r->p) / size < n)
        return false;
    g_array_set_size(a, n);
    return get(r, a->data, (size_t)n * size);
}

static uf_session *holder_new(const uf_sessions *ss)
{
    uf_session *h = g_new0(uf_session, 1);
    h->phases = g_new0(uf_session_phase, n_phases(ss));
    h->downloads = g_array_new(FALSE, TRUE, sizeof(uf_download));
    h->dids = g_array_new(FALSE, TRUE, sizeof(uf_did_value));
    h->routines = g_array_new(FALSE, TRUE, sizeof(uf_routine_result));
    h->nrcs = g_array_new(FALSE, TRUE, sizeof(uf_nrc_seen));
    h->state = g_new0(session_state, 1);
    h->state->requested = g_new0(uint8_t, n_steps(ss));
    h->state->done = g_new0(uint8_t, n_steps(ss));
    h->state->refused = g_new0(uint8_t, n_steps(ss));
    return h;
}

/* Fills the holder h from a record; false if the record is short. */
static bool load_into(const uf_sessions *ss, const uint8_t *rec, size_t len, uf_session *h)
{
    /* The holder keeps its own buffers; the record fills them. */
    uf_session keep = *h;
    session_state keep_st = *h->state;
    reader r = {rec, rec + len};
    bool ok = get(&r, h, sizeof(*h)) && get(&r, keep.state, sizeof(*keep.state));
    h->phases = keep.phases;
    h->downloads = keep.downloads;
    h->dids = keep.dids;
    h->routines = keep.routines;
    h->nrcs = keep.nrcs;
    h->state = keep.state;
    h->state->requested = keep_st.requested;
    h->state->done = keep_st.done;
    h->state->refused = keep_st.refused;
    h->state->labels = NULL;
    h->state->sum = NULL;
    h->state->pending = NULL;
    h->state->td_data = NULL;
    return ok && get(&r, h->phases, n_phases(ss) * sizeof(uf_session_phase)) &&
           get(&r, h->state->requested, n_steps(ss)) && get(&r, h->state->done, n_steps(ss)) &&
           get(&r, h->state->refused, n_steps(ss)) && get_array(&r, h->downloads) &&
           get_array(&r, h->dids) && get_array(&r, h->routines) && get_array(&r, h->nrcs);
}

uf_sessions_reader *uf_sessions_reader_new(const uf_sessions *ss)
{
    uf_sessions_reader *r = g_new0(uf_sessions_reader, 1);
    r->ss = ss;
    r->cursor = uf_spill_cursor_new();
    return r;
}

const uf_session *uf_sessions_reader_get(uf_sessions_reader *r, uint32_t index)
{
    const uf_sessions *ss = r->ss;
    if (index < 1 || index > ss->all->len)
        return NULL;
    const uf_session *s = g_ptr_array_index(ss->all, index - 1);
    if (s)
        return s;
    uint32_t at = g_array_index(ss->spilled_at, uint32_t, index - 1);
    size_t len = 0;
    const uint8_t *rec = r->cursor ? uf_spill_read(ss->spill, r->cursor, at, &len)
                                   : uf_spill_get(ss->spill, at, &len);
    if (!rec)
        return NULL;
    if (!r->holder)
        r->holder = holder_new(ss);
    return load_into(ss, rec, len, r->holder) ? r->holder : NULL;
}

void uf_sessions_reader_free(uf_sessions_reader *r)
{
    if (!r)
        return;
    /* A failed read is the store's to report, as one of uf_sessions_get. */
    uf_spill_cursor_free(r->ss->spill, r->cursor);
    sessions_holder_free(r->holder);
    g_free(r);
}

void sessions_holder_free(uf_session *h)
{
    if (!h)
        return;
    g_free(h->phases);
    g_array_free(h->downloads, TRUE);
    g_array_free(h->dids, TRUE);
    g_array_free(h->routines, TRUE);
    g_array_free(h->nrcs, TRUE);
    g_free(h->state->requested);
    g_free(h->state->done);
    g_free(h->state->refused);
    g_free(h->state);
    g_free(h);
}
