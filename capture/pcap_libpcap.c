/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * pcap files through libpcap, with nanosecond timestamps: the reader of
 * the files udsflash's own (pcap_file.c) leaves, such as versions before
 * 2.3 or link types with FCS bits, and the reference the tests hold ours
 * to. Each record's offset, which a damage report needs, is counted here:
 * the file header, then each record's header and captured bytes (ftello()
 * before each record would cost a system call a frame).
 */
#include "reader_internal.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <string.h>

/* libpcap reads each record with two fread() calls on our FILE. A larger
 * buffer than the default (one page) saves read system calls (glibc takes
 * the size only with a buffer of ours), and since only this thread touches
 * the FILE, glibc need not lock it for every fread. */
#define READ_BUFFER_BYTES (256u * 1024u)

typedef struct pcap_backend {
    FILE *f;
    char *buffer;             /* the FILE's, READ_BUFFER_BYTES */
    pcap_t *p;
    uint32_t linktype;
    uint32_t bus;
    uint32_t ifindex_bus_key; /* last SLL2 ifindex seen, 0 if none */
    uint32_t ifindex_bus;
    uint64_t at;              /* the next record's offset */
} pcap_backend;

/* pcap_datalink() answers with DLT_ values; a few differ from LINKTYPE_. */
static uint32_t linktype_of_dlt(int dlt)
{
    switch (dlt) {
#ifdef DLT_RAW
    case DLT_RAW:
        return UF_LINKTYPE_RAW;
#endif
    default:
        return (uint32_t)dlt;
    }
}

static int libpcap_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    pcap_backend *b = r->backend;
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t at = b->at;
    int rc = pcap_next_ex(b->p, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1)
        return reader_damaged(r, at, err, "%s", pcap_geterr(b->p));
    /* The record header, then the packet; a packet at the snap length
     * may have been cut to it, and then only the FILE knows where the
     * next record starts. */
    if (h->caplen < (bpf_u_int32)pcap_snapshot(b->p))
        b->at += 16 + h->caplen;
    else
        b->at = (uint64_t)ftello(b->f);
    rec->offset = at;
    rec->time = uf_time_from_parts(h->ts.tv_sec, h->ts.tv_usec); /* ns precision */
    reader_take_link(r, b->linktype, data, h->caplen, b->bus, &b->ifindex_bus_key,
                     &b->ifindex_bus, rec);
    return 1;
}

static void libpcap_close_backend(uf_reader *r)
{
    pcap_backend *b = r->backend;
    if (b) {
        pcap_close(b->p); /* also closes the FILE */
        g_free(b->buffer);
        g_free(b);
        r->backend = NULL;
    }
}

static const reader_ops libpcap_ops = {.next = libpcap_next, .close = libpcap_close_backend};

int pcap_libpcap_open(uf_reader *r, uf_error *err)
{
    FILE *f = fopen(r->path, "rb");
    if (!f) {
        uf_error_set(err, "%s: cannot open: %s", r->path, strerror(errno));
        return -1;
    }
    char *buffer = g_malloc(READ_BUFFER_BYTES);
    setvbuf(f, buffer, _IOFBF, READ_BUFFER_BYTES);
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        uf_error_set(err, "%s: not a readable pcap file: %s", r->path, errbuf);
        fclose(f);
        g_free(buffer);
        return -1;
    }
    pcap_backend *b = g_new0(pcap_backend, 1);
    b->f = f;
    b->buffer = buffer;
    b->p = p;
    b->at = (uint64_t)ftello(f); /* after the file header */
    b->linktype = linktype_of_dlt(pcap_datalink(p));
    b->bus = reader_bus(r, "if0");
    r->backend = b;
    r->ops = &libpcap_ops;
    r->format = "pcap";
    return 0;
}
