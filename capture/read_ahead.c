/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A reader ahead of the analyzer: while the analyzer works on one batch of
 * records, a helper thread (common/uf_helper.h) reads and decodes the
 * next. Reading (libpcap or wiretap, then the link layer) is about a third
 * of a check, so on two cores the check takes the time of the slower half.
 * The helper may have other jobs (`udsflash check` gives it the hashes
 * too); when the analyzer finds the queue empty and the helper busy
 * elsewhere, the analyzer reads the next batch itself, and while the
 * helper reads it, the analyzer does the helper's other work
 * (uf_helper_assist). Whoever reads holds the reader alone
 * (`filler_busy`), one batch at a time.
 *
 * The queue holds BATCHES batches of up to BATCH_RECORDS records: memory is
 * bounded whatever the capture. A record's packet bytes (DoIP's IP packets)
 * stay where the reader read them: the reader lends the buffers of its
 * window (reader_lend), and a buffer it is done with stays with the batch
 * being filled until the analyzer gives that batch back, when every record
 * in the buffer has been read. Readers without a window (libpcap's,
 * wiretap's) keep a packet's bytes only until their next record, so those
 * are copied into the batch; CAN frames are held in the record itself. A
 * batch is handed over whole, so the lock is taken once per thousand
 * records. The helper is woken once the queue is half empty, and reads
 * until it is full again; the analyzer is woken only when it sleeps.
 */
#include "reader_internal.h"
#include "uf_helper.h"
#include "uf_spares.h"

#include <string.h>

#define BATCHES 8
#define BATCH_RECORDS 1024
#define BATCH_BYTES (256u * 1024u) /* packet bytes a batch holds before it is handed over */
/* The window's buffers in use at once: those the queue's lent bytes are in
 * (BATCHES * BATCH_BYTES, over mebibyte buffers) and the window's own. */
#define SPARES 4
#define SPARE_MAX_CAP (4u << 20)
#define SPARE_BYTES (8u << 20)

typedef struct batch {
    uf_record records[BATCH_RECORDS];
    size_t count;
    uint8_t *bytes; /* copied packets' bytes, records point into it */
    size_t bytes_used, bytes_size;
    size_t lent_bytes; /* of packets left in the reader's buffers */
    GArray *retired; /* of uf_spare: the reader's buffers, spare once this is read */
} batch;

struct uf_read_ahead {
    uf_reader *reader;
    uf_helper *helper;
    bool own_helper;
    GMutex lock;
    GCond changed;
    batch batches[BATCHES];
    /* A ring: [head, head + filled) are full batches, oldest first. */
    unsigned head, filled;
    bool filler_busy; /* a thread reads into the batch after them */
    bool refilling;   /* the helper reads until the queue is full */
    bool helper_waits; /* for the consumer's batch, to read the next */
    bool done;        /* the last batch is handed over */
    bool cancelled;   /* the consumer stops early */
    bool consumer_sleeps;
    int end_rc;       /* the reader's last answer: 0 end, -1 damaged */
    uf_error end_err;
    /* The consumer's own: the batch at head it reads, and its place there.
     * The batch stays counted in filled until it is given back, so no one
     * reads into it meanwhile. */
    batch *current;
    size_t next;
    /* The filler's own (whoever holds filler_busy): where a retired buffer
     * goes, and a record read that did not fit its batch and opens the
     * next one. Its bytes stay valid until the reader's next record. */
    batch *filling;
    uf_record carried;
    bool has_carried;
    uf_spares spares; /* the filler's too: retired buffers, to lend again */
};

/* The batch's records are read: the buffers they were in are spares. */
static void spare_retired(uf_read_ahead *ra, batch *b)
{
    for (guint i = 0; i < b->retired->len; i++) {
        uf_spare x = g_array_index(b->retired, uf_spare, i);
        uf_spares_give(&ra->spares, x.p, x.cap);
    }
    g_array_set_size(b->retired, 0);
}

/* The lender's take: a spare if one is large enough, else a new buffer.
 * Reused buffers are what make lending pay: a new mebibyte from malloc
 * each time came with a page fault for each of its pages once the
 * analysis read and freed them in another thread (perf: 3% of its
 * samples, in exc_page_fault). */
static uint8_t *take_buffer(void *ctx, size_t *cap)
{
    uf_read_ahead *ra = ctx;
    uint32_t got;
    uint8_t *p = uf_spares_take(&ra->spares, &got);
    if (p && got >= *cap) {
        *cap = got;
        return p;
    }
    g_free(p);
    return g_malloc(*cap);
}

/* The reader is done with a buffer (it is in the filler's call to
 * uf_reader_next, or closing): the records in it are in the batch being
 * filled or in those before it, which the analyzer reads first. */
static void retire_buffer(void *ctx, uint8_t *buf, size_t cap)
{
    uf_read_ahead *ra = ctx;
    /* Past any spare's size, saturated: uf_spares_give frees it. */
    uf_spare x = {buf, cap <= SPARE_MAX_CAP ? (uint32_t)cap : UINT32_MAX};
    g_array_append_val(ra->filling->retired, x);
}

/* Room for len more bytes in b; false when the batch must go first. */
static bool batch_make_room(batch *b, size_t len)
{
    if (b->bytes_used + len <= b->bytes_size)
        return true;
    if (b->count > 0)
        return false;
    /* A single packet larger than any batch so far: the batch grows to it
     * (the reader bounds a packet's length). */
    b->bytes = g_realloc(b->bytes, len);
    b->bytes_size = len;
    return true;
}

/* Room for a lent packet of len bytes: a batch is handed over at
 * BATCH_BYTES of packets, lent or copied, so that the analyzer reads the
 * bytes while they are still in the cache. */
static bool batch_lend_room(const batch *b, size_t len)
{
    return b->count == 0 || b->bytes_used + b->lent_bytes + len <= BATCH_BYTES;
}

/* Moves the packet's bytes into the batch, for the record at its end. */
static void batch_keep_bytes(batch *b, uf_record *rec)
{
    uint8_t *copy = b->bytes + b->bytes_used;
    memcpy(copy, rec->packet.data, rec->packet.len);
    b->bytes_used += rec->packet.len;
    rec->packet.data = copy;
}

/* The batch after the full ones, emptied for the filler: its records
 * were read (it was given back), and so were those of its buffers. */
static batch *empty_batch(uf_read_ahead *ra)
{
    batch *b = &ra->batches[(ra->head + ra->filled) % BATCHES];
    b->count = 0;
    b->bytes_used = 0;
    b->lent_bytes = 0;
    spare_retired(ra, b);
    ra->filling = b;
    return b;
}

/* Takes the record's packet into the batch if it has room for it. */
static bool batch_take(batch *b, uf_reader *reader, uf_record *rec)
{
    if (rec->kind != UF_REC_PACKET || rec->packet.len == 0)
        return true;
    if (reader_lent(reader, rec)) {
        if (!batch_lend_room(b, rec->packet.len))
            return false;
        b->lent_bytes += rec->packet.len;
        return true;
    }
    if (!batch_make_room(b, rec->packet.len))
        return false;
    batch_keep_bytes(b, rec);
    return true;
}

/* Reads a batch, decoding records straight into their place, and hands it
 * over; the caller holds filler_busy, which this gives up. */
static void fill_batch(uf_read_ahead *ra)
{
    batch *b = empty_batch(ra);
    int rc = 1;
    uf_error err;
    if (ra->has_carried) {
        b->records[0] = ra->carried;
        batch_take(b, ra->reader, &b->records[0]); /* an empty batch has room */
        b->count = 1;
        ra->has_carried = false;
    }
    while (b->count < BATCH_RECORDS) {
        uf_record *rec = &b->records[b->count];
        rc = uf_reader_next(ra->reader, rec, &err);
        if (rc != 1)
            break;
        if (!batch_take(b, ra->reader, rec)) {
            ra->carried = *rec;
            ra->has_carried = true;
            break;
        }
        b->count++;
    }
    g_mutex_lock(&ra->lock);
    if (b->count > 0)
        ra->filled++;
    if (rc != 1) {
        ra->done = true;
        ra->end_rc = rc;
        if (rc < 0)
            ra->end_err = err;
    }
    ra->filler_busy = false;
    if (ra->filled == BATCHES)
        ra->refilling = false;
    if (ra->consumer_sleeps)
        g_cond_broadcast(&ra->changed);
    bool wake_helper = ra->helper_waits;
    ra->helper_waits = false;
    g_mutex_unlock(&ra->lock);
    if (wake_helper)
        uf_helper_wake(ra->helper);
}

/* Takes the filler's part if the queue has room and no one has it; with
 * the lock held. */
static bool may_fill(uf_read_ahead *ra)
{
    if (ra->filler_busy || ra->done || ra->cancelled || ra->filled == BATCHES)
        return false;
    ra->filler_busy = true;
    return true;
}

/* The helper's job: a batch, once the queue is half empty and until it is
 * full. */
static bool read_step(void *ctx)
{
    uf_read_ahead *ra = ctx;
    g_mutex_lock(&ra->lock);
    if (ra->filled <= BATCHES / 2)
        ra->refilling = true;
    bool fill = ra->refilling && may_fill(ra);
    /* The consumer reads a batch itself: the next is the helper's. */
    if (ra->refilling && !fill && ra->filler_busy)
        ra->helper_waits = true;
    g_mutex_unlock(&ra->lock);
    if (fill)
        fill_batch(ra);
    return fill;
}

uf_read_ahead *uf_read_ahead_start(uf_reader *r, uf_helper *helper)
{
    uf_read_ahead *ra = g_new0(uf_read_ahead, 1);
    ra->reader = r;
    g_mutex_init(&ra->lock);
    g_cond_init(&ra->changed);
    for (unsigned i = 0; i < BATCHES; i++) {
        ra->batches[i].bytes = g_malloc(BATCH_BYTES);
        ra->batches[i].bytes_size = BATCH_BYTES;
        ra->batches[i].retired = g_array_new(FALSE, FALSE, sizeof(uf_spare));
    }
    uf_spares_init(&ra->spares, SPARES, SPARE_BYTES, SPARE_MAX_CAP);
    byte_window_lender lender = {take_buffer, retire_buffer, ra};
    reader_lend(r, &lender);
    ra->own_helper = helper == NULL;
    ra->helper = helper ? helper : uf_helper_new("udsflash-read");
    uf_helper_add(ra->helper, read_step, ra);
    return ra;
}

int uf_read_ahead_next(uf_read_ahead *ra, const uf_record **rec, uf_error *err)
{
    for (;;) {
        if (ra->current && ra->next < ra->current->count) {
            *rec = &ra->current->records[ra->next++];
            return 1;
        }
        g_mutex_lock(&ra->lock);
        if (ra->current) {
            /* Used up: give it back. */
            ra->head = (ra->head + 1) % BATCHES;
            ra->filled--;
            ra->current = NULL;
            if (ra->filled <= BATCHES / 2 && !ra->refilling && !ra->done) {
                g_mutex_unlock(&ra->lock);
                uf_helper_wake(ra->helper);
                g_mutex_lock(&ra->lock);
            }
        }
        if (ra->filled == 0 && may_fill(ra)) {
            /* The helper is busy elsewhere: reading now beats waiting. */
            g_mutex_unlock(&ra->lock);
            fill_batch(ra);
            continue;
        }
        if (ra->filled == 0 && !ra->done) {
            /* The helper reads: meanwhile, its other work, if any. */
            g_mutex_unlock(&ra->lock);
            if (uf_helper_assist(ra->helper))
                continue;
            g_mutex_lock(&ra->lock);
        }
        ra->consumer_sleeps = true;
        while (ra->filled == 0 && !ra->done)
            g_cond_wait(&ra->changed, &ra->lock);
        ra->consumer_sleeps = false;
        if (ra->filled > 0) {
            ra->current = &ra->batches[ra->head];
            ra->next = 0;
            g_mutex_unlock(&ra->lock);
            continue;
        }
        /* Everything handed over has been read: the reader's last answer,
         * once; then the end, as the reader itself does after damage. */
        int rc = ra->end_rc;
        if (rc < 0)
            *err = ra->end_err;
        ra->end_rc = 0;
        g_mutex_unlock(&ra->lock);
        return rc;
    }
}

void uf_read_ahead_stop(uf_read_ahead *ra)
{
    if (!ra)
        return;
    g_mutex_lock(&ra->lock);
    ra->cancelled = true;
    g_mutex_unlock(&ra->lock);
    /* After this the helper is not reading, and will not. */
    uf_helper_remove(ra->helper, ra);
    if (ra->own_helper)
        uf_helper_free(ra->helper);
    /* The records are all read or dropped: the reader's buffers are its
     * own again, and those it gave up go. */
    reader_lend(ra->reader, NULL);
    for (unsigned i = 0; i < BATCHES; i++) {
        g_free(ra->batches[i].bytes);
        spare_retired(ra, &ra->batches[i]);
        g_array_free(ra->batches[i].retired, TRUE);
    }
    uf_spares_free(&ra->spares);
    g_mutex_clear(&ra->lock);
    g_cond_clear(&ra->changed);
    g_free(ra);
}
