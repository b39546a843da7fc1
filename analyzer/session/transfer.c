/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Downloads (ISO 14229-1:2020 15.2 RequestDownload, 15.4 TransferData,
 * 15.5 RequestTransferExit). A download opens on a positive 0x74 and
 * collects the blocks the ECU accepts (positive 0x76): a block counter
 * starts at 0x01, counts up and wraps 0xFF -> 0x00; the same counter again,
 * answered positively, is a legitimate retry and adds no bytes. Bytes are
 * hashed (SHA-256, hasher.c, in a helper thread with
 * uf_sessions_config.hash_thread) and handed to the sink in order.
 * Digests still being computed when a download ends are taken before a
 * sink or the spill reads the session (transfer_take_digests).
 *   counter not 0x01 first, skipped or backwards   flash.transfer.block_counter
 *   request longer than maxNumberOfBlockLength     flash.transfer.block_length
 *   bytes != memorySize (uncompressed, unencrypted) flash.transfer.size
 *   no positive RequestTransferExit                flash.transfer.incomplete
 */
#include "session_internal.h"

#include "hasher.h"

#include <string.h>

static uf_download *open_download(uf_session *s)
{
    session_state *st = s->state;
    return st->open >= 0 ? &g_array_index(s->downloads, uf_download, st->open) : NULL;
}

static void end_download(uf_sessions *ss, uf_session *s, uf_download *d)
{
    session_state *st = s->state;
    uf_hash_end(ss->hasher, st->sum);
    if (uf_hasher_threaded(ss->hasher) && !ss->sink.download_end) {
        /* Taken when the session is spilled, the thread meanwhile busy. */
        if (!st->pending)
            st->pending = g_ptr_array_new();
        g_ptr_array_set_size(st->pending, s->downloads->len);
        g_ptr_array_index(st->pending, st->open) = st->sum;
    } else {
        uf_hash_take(ss->hasher, st->sum, d->sha256);
    }
    st->sum = NULL;
    st->open = -1;
    if (ss->sink.download_end)
        ss->sink.download_end(ss->sink.ctx, s, d);
}

/* An open download that will not get its RequestTransferExit. */
static void abandon(uf_sessions *ss, uf_session *s, uint64_t frame, uf_time time, const char *why)
{
    uf_download *d = open_download(s);
    if (!d)
        return;
    session_report(ss, s, "flash.transfer.incomplete", frame, time,
                   "download %u (0x%08" G_GINT64_MODIFIER "X, %" G_GUINT64_FORMAT
                   " bytes) has no positive RequestTransferExit: %s after %" G_GUINT64_FORMAT
                   " bytes in %u blocks", d->index, (guint64)d->address, (guint64)d->size, why,
                   (guint64)d->bytes, d->blocks);
    end_download(ss, s, d);
}

/* The download a message belongs to, and the bytes it has so far. */
static void label_download(uf_uds_message *m, const uf_download *d)
{
    m->download = d->index;
    m->download_address = d->address;
    m->download_size = d->size;
    m->download_bytes = d->bytes;
}

void transfer_request(uf_sessions *ss, uf_session *s, const req_info *r, uf_uds_message *m)
{
    session_state *st = s->state;
    if (!m)
        return;
    if (r->sid == 0x34 && m->d.has_memory) {
        st->have_rd = true;
        st->rd = *r;
        st->rd_address = m->d.address;
        st->rd_size = m->d.size;
        st->rd_dfi = m->d.dfi;
        return;
    }
    uf_download *d = open_download(s);
    if (d && (r->sid == 0x36 || r->sid == 0x37))
        label_download(m, d);
    if (r->sid != 0x36 || !m->d.has_block || !d)
        return;
    if (d->has_max_block && r->len > d->max_block_len)
        session_report(ss, s, "flash.transfer.block_length", r->first_frame, r->t_first,
                       "TransferData block 0x%02X of %u bytes > maxNumberOfBlockLength %u",
                       m->d.block_counter, r->len, d->max_block_len);
    /* Keep the block until the ECU says whether it took it. */
    st->have_td = true;
    st->td = *r;
    st->td_counter = m->d.block_counter;
    if (m->d.record_len > st->td_cap) {
        st->td_cap = m->d.record_len;
        st->td_data = g_realloc(st->td_data, st->td_cap);
    }
    memcpy(st->td_data, m->d.record, m->d.record_len);
    st->td_len = m->d.record_len;
}

static void accept_block(uf_sessions *ss, uf_session *s, uf_download *d, const uf_uds_message *m)
{
    session_state *st = s->state;
    uint8_t c = st->td_counter;
    if (st->last_counter >= 0 && c == (uint8_t)st->last_counter) {
        d->retries++; /* the same block again: ISO repeat semantics */
        return;
    }
    uint8_t expected = st->last_counter < 0 ? 0x01 : (uint8_t)(st->last_counter + 1);
    if (c != expected) {
        if (st->last_counter < 0)
            session_report(ss, s, "flash.transfer.block_counter", st->td.first_frame, st->td.t_first,
                           "download %u starts with block counter 0x%02X, not 0x01", d->index, c);
        else
            session_report(ss, s, "flash.transfer.block_counter", st->td.first_frame, st->td.t_first,
                           "download %u: block counter 0x%02X after 0x%02X (expected 0x%02X)",
                           d->index, c, (uint8_t)st->last_counter, expected);
    }
    if (d->blocks == 0 && st->td.t_first != UF_TIME_NONE)
        st->first_block = st->td.t_first;
    uint64_t offset = d->bytes;
    d->blocks++;
    d->bytes += st->td_len;
    d->last_frame = m->tp->last_frame;
    d->t_end = m->tp->t_last;
    st->last_counter = c;
    if (ss->sink.download_data)
        ss->sink.download_data(ss->sink.ctx, s, d, offset, st->td_data, st->td_len);
    /* The block goes to the hasher in its buffer, not copied (a flash's
     * bytes are nearly all blocks); the next one is kept in the buffer
     * the hasher gives back. */
    st->td_data = uf_hash_give(ss->hasher, st->sum, st->td_data, st->td_len, &st->td_cap);
}

void transfer_response(uf_sessions *ss, uf_session *s, uf_uds_message *m)
{
    session_state *st = s->state;
    const uf_uds_decoded *dd = &m->d;
    bool positive = dd->kind == UF_UDS_POSITIVE;
    bool final = positive || dd->nrc != 0x78;
    if (!m->request || !final)
        return;
    uint64_t req = m->request->index;
    if (dd->sid == 0x34 && st->have_rd && st->rd.index == req) {
        st->have_rd = false;
        if (!positive)
            return;
        abandon(ss, s, st->rd.first_frame, st->rd.t_first, "a new RequestDownload started");
        if (s->downloads->len >= ss->cfg.max_downloads) {
            s->downloads_not_analyzed++;
            return;
        }
        uf_download d;
        memset(&d, 0, sizeof(d));
        d.index = s->downloads->len + 1;
        d.address = st->rd_address;
        d.size = st->rd_size;
        d.dfi = st->rd_dfi;
        d.has_max_block = dd->has_max_block;
        d.max_block_len = dd->max_block_len;
        d.t_start = st->rd.t_first;
        d.t_end = m->tp->t_last;
        d.first_frame = st->rd.first_frame;
        d.last_frame = m->tp->last_frame;
        g_array_append_val(s->downloads, d);
        st->open = (int32_t)s->downloads->len - 1;
        st->sum = uf_hash_begin(ss->hasher);
        st->last_counter = -1;
        label_download(m, open_download(s));
        return;
    }
    uf_download *d = open_download(s);
    if (dd->sid == 0x36 && st->have_td && st->td.index == req) {
        st->have_td = false;
        if (positive && d)
            accept_block(ss, s, d, m);
        if (d)
            label_download(m, d);
        return;
    }
    if (dd->sid == 0x37 && d)
        label_download(m, d);
    if (dd->sid == 0x37 && positive && d) {
        d->complete = true;
        d->t_end = m->tp->t_last;
        d->last_frame = m->tp->last_frame;
        /* memorySize is the uncompressed size: compare only plain data. */
        if (d->dfi == 0x00 && d->bytes != d->size)
            session_report(ss, s, "flash.transfer.size", m->tp->first_frame, m->tp->t_first,
                           "download %u: %" G_GUINT64_FORMAT " bytes transferred, RequestDownload "
                           "announced %" G_GUINT64_FORMAT, d->index, (guint64)d->bytes,
                           (guint64)d->size);
        end_download(ss, s, d);
    }
}

void transfer_close(uf_sessions *ss, uf_session *s)
{
    session_state *st = s->state;
    abandon(ss, s, s->last_frame, s->t_end, "the session ended");
    /* A closed session keeps its summary, not its block buffer. */
    g_free(st->td_data);
    st->td_data = NULL;
    st->td_cap = 0;
    st->have_td = false;
}

bool transfer_digests_ready(const uf_session *s)
{
    const GPtrArray *pending = s->state->pending;
    for (guint i = 0; pending && i < pending->len; i++)
        if (g_ptr_array_index(pending, i) && !uf_hash_ready(g_ptr_array_index(pending, i)))
            return false;
    return true;
}

void transfer_take_digests(uf_sessions *ss, uf_session *s)
{
    GPtrArray *pending = s->state->pending;
    for (guint i = 0; pending && i < pending->len; i++) {
        uf_hash *x = g_ptr_array_index(pending, i);
        if (x)
            uf_hash_take(ss->hasher, x, g_array_index(s->downloads, uf_download, i).sha256);
        g_ptr_array_index(pending, i) = NULL;
    }
}

void transfer_free(uf_sessions *ss, uf_session *s)
{
    session_state *st = s->state;
    char unused[65];
    if (st->sum)
        uf_hash_take(ss->hasher, st->sum, unused);
    transfer_take_digests(ss, s);
    if (st->pending)
        g_ptr_array_free(st->pending, TRUE);
    g_free(st->td_data);
}
