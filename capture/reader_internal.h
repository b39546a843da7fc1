/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the reader front (reader.c) shares with its backends: each backend
 * fills records and bus names; numbering, the end-of-input latch and the
 * bus table live in the front so that every format behaves the same.
 */
#ifndef UF_READER_INTERNAL_H
#define UF_READER_INTERNAL_H

#include "byte_window.h"
#include "uf_capture.h"

#include <glib.h>
#include <signal.h>

typedef struct reader_ops {
    /* 1 record, 0 end, -1 damaged (err set). number is filled by the front. */
    int (*next)(uf_reader *r, uf_record *rec, uf_error *err);
    void (*close)(uf_reader *r);
    /* The window the records' packets point into, which can lend its
     * buffers (byte_window_lend); NULL, or no such function, where the
     * packets' bytes last only until the next record. */
    byte_window *(*window)(uf_reader *r);
} reader_ops;

struct uf_reader {
    const reader_ops *ops;
    char *path;
    const char *format;  /* short name, owned by the backend or static */
    bool has_time;
    bool ended;
    uint64_t count;
    uf_link_state link;
    GPtrArray *bus_names; /* char *, index = bus */
    GHashTable *bus_index; /* name -> GUINT_TO_POINTER(index + 1) */
    void *backend;
    volatile sig_atomic_t stop;
    /* reader_lend: the lender given to each backend's window (none while
     * its retire is NULL), and the window of the backend now reading
     * (NULL if it lends none). */
    byte_window_lender lender;
    byte_window *lending;
};

/* Asks every backend from now on, this one and those it hands over to, to
 * lend the buffers its records' packets are in (byte_window_lend), and
 * lender NULL to stop. Whether a record's packet is lent: reader_lent. */
void reader_lend(uf_reader *r, const byte_window_lender *lender);

/* The record's packet bytes are in a lent buffer: they stay where they are
 * after the next record. */
static inline bool reader_lent(const uf_reader *r, const uf_record *rec)
{
    return r->lending && byte_window_holds(r->lending, rec->packet.data, rec->packet.len);
}

/* Returns the bus index for a name, adding it on first use. */
uint32_t reader_bus(uf_reader *r, const char *name);

/* Bus for a record: SLL2 carries the capturing interface's index, which
 * keeps several CAN interfaces of one "any" capture apart. The cache pair
 * avoids a name lookup per record. */
uint32_t reader_bus_for_ifindex(uf_reader *r, uint32_t base_bus, uint32_t ifindex,
                                uint32_t *cache_key, uint32_t *cache_bus);

/* Decodes one record of a link type into rec (UF_REC_SKIPPED with the
 * reason if it cannot be), on base_bus or the bus of its SLL2 interface
 * index; the cache pair as for reader_bus_for_ifindex. */
void reader_take_link(uf_reader *r, uint32_t linktype, const uint8_t *data, size_t len,
                      uint32_t base_bus, uint32_t *cache_key, uint32_t *cache_bus, uf_record *rec);

/* Damage at a file offset, after the records given so far:
 * "PATH: damaged at byte AT (after frame N): WHY"; returns -1. */
int reader_damaged(const uf_reader *r, uint64_t at, uf_error *err, const char *fmt, ...)
    UF_PRINTF(4, 5);
/* A read() that failed at a file offset (errno); returns -1. */
int reader_read_failed(const uf_reader *r, uint64_t at, uf_error *err);

/* A backend that meets what it leaves to another reader: closes itself,
 * opens the file again with `open` (named `to` in errors), passes over the
 * records given so far, and returns the next one as ops->next does. */
int reader_hand_over(uf_reader *r, int (*open)(uf_reader *, uf_error *), const char *to,
                     uf_record *rec, uf_error *err);

/* Backends: each returns 0 and sets r->ops / r->backend, or -1 with err.
 * A backend's close leaves r->backend NULL and may be called again. */
/* pcap: our own reader (pcap_file.c), which leaves unusual files to
 * libpcap (pcap_libpcap.c). */
int pcap_file_open(uf_reader *r, uf_error *err);
int pcap_libpcap_open(uf_reader *r, uf_error *err);
/* pcapng: our own reader of its common blocks (pcapng_file.c), which
 * hands the file to wiretap at any other block. */
int pcapng_file_open(uf_reader *r, uf_error *err);
/* Wiretap with an explicit reader, never its auto-detection: only the
 * readers we route to see untrusted bytes. */
int pcapng_wiretap_open(uf_reader *r, uf_error *err);
int blf_file_open(uf_reader *r, uf_error *err);
int gzip_file_open(uf_reader *r, uf_error *err);
int candump_file_open(uf_reader *r, uf_error *err);
int asc_file_open(uf_reader *r, uf_error *err);
int busmaster_file_open(uf_reader *r, uf_error *err);
int live_open(uf_reader *r, const char *iface, uf_error *err);

/* Text-format classification of a file head, used by the probe. */
typedef enum text_kind {
    TEXT_UNKNOWN,
    TEXT_CANDUMP,
    TEXT_ASC,
    TEXT_BUSMASTER,
} text_kind;
text_kind text_classify(const char *head, size_t len);

#endif /* UF_READER_INTERNAL_H */
