/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A reader in a thread of its own, ahead of the analyzer: while the
 * analyzer works on one batch of records, the thread reads and decodes the
 * next. Reading (libpcap or wiretap, then the link layer) is about a third
 * of a check, so on two cores the check takes the time of the slower half.
 *
 * The queue holds BATCHES batches of up to BATCH_RECORDS records: memory is
 * bounded whatever the capture. A record's packet bytes (DoIP's IP packets)
 * stay where the reader read them: the reader lends the buffers of its
 * window (reader_lend), and a buffer it is done with stays with the batch
 * being filled until the analyzer gives that batch back, when every record
 * in the buffer has been read. Readers without a window (libpcap's,
 * wiretap's) keep a packet's bytes only until their next record, so those
 * are copied into the batch; CAN frames are held in the record itself. The thread hands
 * over a batch at a time, so the lock is taken once per thousand records,
 * and each side wakes the other only when it sleeps: the reader once the
 * queue is half empty again, the analyzer once a batch is there.
 */
#include "reader_internal.h"

#include <string.h>

#define BATCHES 8
#define BATCH_RECORDS 1024
#define BATCH_BYTES (256u * 1024u) /* packet bytes a batch holds before it is handed over */

typedef struct batch {
    uf_record records[BATCH_RECORDS];
    size_t count;
    uint8_t *bytes; /* copied packets' bytes, records point into it */
    size_t bytes_used, bytes_size;
    size_t lent_bytes; /* of packets left in the reader's buffers */
    GPtrArray *retired; /* the reader's buffers to free once this is read */
} batch;

struct uf_read_ahead {
    uf_reader *reader;
    GThread *thread;
    GMutex lock;
    GCond changed;
    batch batches[BATCHES];
    /* A ring: [head, head + filled) are full batches, oldest first. */
    unsigned head, filled;
    bool done;      /* the thread has handed over its last batch */
    bool cancelled; /* the consumer stops early */
    bool reader_sleeps, consumer_sleeps;
    int end_rc;     /* the reader's last answer: 0 end, -1 damaged */
    uf_error end_err;
    /* The consumer's own: the batch at head it reads, and its place there.
     * The batch stays counted in filled until it is given back, so the
     * thread never writes into it meanwhile. */
    batch *current;
    size_t next;
    batch *filling; /* the thread's own: where a retired buffer goes */
};

static void free_retired(batch *b)
{
    for (guint i = 0; i < b->retired->len; i++)
        g_free(g_ptr_array_index(b->retired, i));
    g_ptr_array_set_size(b->retired, 0);
}

/* The reader is done with a buffer (it is in the read thread's call to
 * uf_reader_next, or closing): the records in it are in the batch being
 * filled or in those before it, which the analyzer reads first. */
static void retire_buffer(void *ctx, uint8_t *buf)
{
    uf_read_ahead *ra = ctx;
    g_ptr_array_add(ra->filling->retired, buf);
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

/* Waits for an empty batch; NULL when the consumer has gone. Once the
 * queue is full, the reader sleeps until it is half empty. */
static batch *wait_for_empty(uf_read_ahead *ra)
{
    g_mutex_lock(&ra->lock);
    if (ra->filled == BATCHES) {
        ra->reader_sleeps = true;
        while (ra->filled > BATCHES / 2 && !ra->cancelled)
            g_cond_wait(&ra->changed, &ra->lock);
        ra->reader_sleeps = false;
    }
    batch *b = ra->cancelled ? NULL : &ra->batches[(ra->head + ra->filled) % BATCHES];
    g_mutex_unlock(&ra->lock);
    if (b) {
        b->count = 0;
        b->bytes_used = 0;
        b->lent_bytes = 0;
        free_retired(b); /* read by now */
        ra->filling = b;
    }
    return b;
}

static void hand_over(uf_read_ahead *ra, bool last, int rc, const uf_error *err)
{
    g_mutex_lock(&ra->lock);
    ra->filled++;
    if (last) {
        ra->done = true;
        ra->end_rc = rc;
        if (rc < 0)
            ra->end_err = *err;
    }
    if (ra->consumer_sleeps)
        g_cond_broadcast(&ra->changed);
    g_mutex_unlock(&ra->lock);
}

/* Records are decoded straight into their place in the batch. */
static gpointer read_thread(gpointer data)
{
    uf_read_ahead *ra = data;
    uf_error err;
    batch *b = wait_for_empty(ra);
    while (b) {
        if (b->count == BATCH_RECORDS) {
            hand_over(ra, false, 0, NULL);
            b = wait_for_empty(ra);
            continue;
        }
        uf_record *rec = &b->records[b->count];
        int rc = uf_reader_next(ra->reader, rec, &err);
        if (rc != 1) {
            hand_over(ra, true, rc, &err);
            break;
        }
        if (rec->kind == UF_REC_PACKET && rec->packet.len > 0) {
            bool lent = reader_lent(ra->reader, rec);
            bool room = lent ? batch_lend_room(b, rec->packet.len)
                             : batch_make_room(b, rec->packet.len);
            if (!room) {
                /* The bytes stay valid until the reader's next record:
                 * the record opens the next batch. */
                uf_record moved = *rec;
                hand_over(ra, false, 0, NULL);
                if (!(b = wait_for_empty(ra)))
                    break;
                if (!lent)
                    batch_make_room(b, moved.packet.len); /* an empty batch always has room */
                b->records[0] = moved;
                rec = &b->records[0];
            }
            if (lent)
                b->lent_bytes += rec->packet.len;
            else
                batch_keep_bytes(b, rec);
        }
        b->count++;
    }
    return NULL;
}

uf_read_ahead *uf_read_ahead_start(uf_reader *r)
{
    uf_read_ahead *ra = g_new0(uf_read_ahead, 1);
    ra->reader = r;
    g_mutex_init(&ra->lock);
    g_cond_init(&ra->changed);
    for (unsigned i = 0; i < BATCHES; i++) {
        ra->batches[i].bytes = g_malloc(BATCH_BYTES);
        ra->batches[i].bytes_size = BATCH_BYTES;
        ra->batches[i].retired = g_ptr_array_new();
    }
    reader_lend(r, retire_buffer, ra);
    ra->thread = g_thread_new("udsflash-read", read_thread, ra);
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
            /* Used up: give it back to the thread. */
            ra->head = (ra->head + 1) % BATCHES;
            ra->filled--;
            ra->current = NULL;
            if (ra->reader_sleeps && ra->filled <= BATCHES / 2)
                g_cond_broadcast(&ra->changed);
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
    g_cond_broadcast(&ra->changed);
    g_mutex_unlock(&ra->lock);
    g_thread_join(ra->thread);
    /* The records are all read or dropped: the reader's buffers are its
     * own again, and those it gave up go. */
    reader_lend(ra->reader, NULL, NULL);
    for (unsigned i = 0; i < BATCHES; i++) {
        g_free(ra->batches[i].bytes);
        free_retired(&ra->batches[i]);
        g_ptr_array_free(ra->batches[i].retired, TRUE);
    }
    g_mutex_clear(&ra->lock);
    g_cond_clear(&ra->changed);
    g_free(ra);
}
