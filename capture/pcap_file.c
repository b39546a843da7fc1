/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * pcap files, read here rather than by libpcap: libpcap takes each record
 * with two fread() calls, and with stdio's copies under them that was
 * half of a whole check (docs/performance.md). This reader takes the
 * files that make up nearly every capture:
 *
 *   magic 0xA1B2C3D4 (microseconds) or 0xA1B23C4D (nanoseconds), in
 *   either byte order; version 2.3 or 2.4; a 16-bit link type
 *
 * and leaves to libpcap, from the start, any other file: versions before
 * 2.3 (caplen and len swapped), link types with FCS bits, and link types
 * whose pseudo-header libpcap rewrites (byte-swapped SLL, SLL2, USB,
 * NFLOG, PFLOG; USB memory-mapped always). A record longer than the
 * file's snap length, which libpcap cuts, hands the file to libpcap where
 * it stands, so that records are always libpcap's; tests/test_pcap.c
 * reads pcap files both ways.
 *
 * Records point into a byte_window; a damaged record is named with its
 * offset.
 */
#include "byte_window.h"
#include "reader_internal.h"

#include <errno.h>
#include <string.h>

#define FILE_HEADER 24
#define RECORD_HEADER 16
#define MAX_PACKET 262144u /* libpcap's max_snaplen_for_dlt() for our link types */
#define MAGIC_USEC 0xA1B2C3D4u
#define MAGIC_NSEC 0xA1B23C4Du

enum {
    LINKTYPE_PFLOG = 117,
    LINKTYPE_USB_LINUX = 189,
    LINKTYPE_USB_LINUX_MMAPPED = 220,
    LINKTYPE_NFLOG = 239,
};

typedef struct pcap_backend {
    byte_window w;
    bool swapped;
    uint32_t nsec_per_unit; /* 1000 for microseconds, 1 for nanoseconds */
    uint32_t snaplen;       /* as libpcap takes it: bounded by MAX_PACKET */
    uint32_t linktype;
    uint32_t bus;
    uint32_t ifindex_key, ifindex_bus;
} pcap_backend;

/* Link types whose packets libpcap changes on the way (pcap_post_process):
 * a pseudo-header in the writer's byte order, or USB lengths it fixes. */
static bool libpcap_rewrites(uint32_t linktype, bool swapped)
{
    switch (linktype) {
    case LINKTYPE_USB_LINUX_MMAPPED:
        return true;
    case LINKTYPE_PFLOG:
    case UF_LINKTYPE_LINUX_SLL:
    case UF_LINKTYPE_LINUX_SLL2:
    case LINKTYPE_USB_LINUX:
    case LINKTYPE_NFLOG:
        return swapped;
    default:
        return false;
    }
}

/* Reads the file header into b; false if the file is one for libpcap. */
static bool take_file_header(pcap_backend *b)
{
    if (byte_window_fill(&b->w, FILE_HEADER) != 1)
        return false; /* short, or unreadable: libpcap words it */
    const uint8_t *h = byte_window_at(&b->w);
    uint32_t magic;
    memcpy(&magic, h, 4);
    b->swapped = magic == __builtin_bswap32(MAGIC_USEC) || magic == __builtin_bswap32(MAGIC_NSEC);
    magic = load32(b->swapped, h);
    if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
        return false;
    b->nsec_per_unit = magic == MAGIC_USEC ? 1000 : 1;
    uint16_t major = load16(b->swapped, h + 4), minor = load16(b->swapped, h + 6);
    if (major != 2 || minor < 3)
        return false;
    uint32_t snaplen = load32(b->swapped, h + 16);
    b->snaplen = snaplen == 0 || snaplen > MAX_PACKET ? MAX_PACKET : snaplen;
    b->linktype = load32(b->swapped, h + 20);
    if (b->linktype > 0xFFFF || libpcap_rewrites(b->linktype, b->swapped))
        return false;
    byte_window_take(&b->w, FILE_HEADER);
    return true;
}

/* A cut file: `what` ("a record header") has `got` of its `n` bytes. */
static int cut(const uf_reader *r, uint64_t at, uf_error *err, const char *what, uint32_t n,
               size_t got)
{
    return reader_damaged(r, at, err, "the file ends inside %s (%zu of %u bytes)", what, got, n);
}

static int pcap_file_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    pcap_backend *b = r->backend;
    uint64_t at = byte_window_offset(&b->w);
    int got = byte_window_fill(&b->w, RECORD_HEADER);
    if (got == 0 && byte_window_left(&b->w) == 0)
        return 0; /* the end, between records */
    if (got == 0)
        return cut(r, at, err, "a record header", RECORD_HEADER, byte_window_left(&b->w));
    if (got < 0)
        return reader_read_failed(r, at, err);
    const uint8_t *h = byte_window_at(&b->w);
    uint32_t caplen = load32(b->swapped, h + 8);
    if (caplen > b->snaplen)
        return reader_hand_over(r, pcap_libpcap_open, "libpcap", rec, err);
    got = byte_window_fill(&b->w, RECORD_HEADER + caplen);
    if (got == 0)
        return cut(r, at, err, "a record's packet", caplen,
                   byte_window_left(&b->w) - RECORD_HEADER);
    if (got < 0)
        return reader_read_failed(r, at, err);
    h = byte_window_at(&b->w); /* the buffer may have moved */
    /* Seconds and fractions as libpcap's struct pcap_timeval: signed. */
    int32_t sec = (int32_t)load32(b->swapped, h), frac = (int32_t)load32(b->swapped, h + 4);
    rec->offset = at;
    rec->time = uf_time_from_parts(sec, (int64_t)frac * b->nsec_per_unit);
    reader_take_link(r, b->linktype, h + RECORD_HEADER, caplen, b->bus, &b->ifindex_key,
                     &b->ifindex_bus, rec);
    byte_window_take(&b->w, RECORD_HEADER + caplen); /* the bytes stay until the next call */
    return 1;
}

static void pcap_close_backend(uf_reader *r)
{
    pcap_backend *b = r->backend;
    if (!b)
        return;
    byte_window_close(&b->w);
    g_free(b);
    r->backend = NULL;
}

/* NULL once closed (a hand-over whose next reader did not open). */
static byte_window *pcap_window(uf_reader *r)
{
    pcap_backend *b = r->backend;
    return b ? &b->w : NULL;
}

static const reader_ops pcap_ops = {
    .next = pcap_file_next, .close = pcap_close_backend, .window = pcap_window};

int pcap_file_open(uf_reader *r, uf_error *err)
{
    pcap_backend *b = g_new0(pcap_backend, 1);
    if (byte_window_open(&b->w, r->path) < 0) {
        uf_error_set(err, "%s: cannot open: %s", r->path, strerror(errno));
        g_free(b);
        return -1;
    }
    if (!take_file_header(b)) {
        byte_window_close(&b->w);
        g_free(b);
        return pcap_libpcap_open(r, err);
    }
    b->bus = reader_bus(r, "if0");
    r->backend = b;
    r->ops = &pcap_ops;
    r->format = "pcap";
    return 0;
}
