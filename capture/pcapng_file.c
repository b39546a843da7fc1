/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * pcapng files (IETF draft-ietf-opsawg-pcapng), read here rather than by
 * wiretap: wiretap builds an option block, looks the block type up in a
 * table and logs for every record, which made it two thirds of a check of
 * a pcapng (docs/performance.md); libpcap is quick but merges interfaces.
 * This reader takes the blocks that make up nearly every capture:
 *
 *   SHB 0x0A0D0D0A  a section: its byte order, version 1.0 or 1.2
 *   IDB 0x00000001  an interface: link type, snap length, if_name (2),
 *                   if_tsresol (9), if_tsoffset (14); a bus each
 *   EPB 0x00000006  a packet of an interface, with a timestamp
 *   SPB 0x00000003  a packet of interface 0, without one
 *   PB  0x00000002  the obsolete packet block
 *   NRB, ISB, DSB   read past (wiretap returns no record for them either)
 *
 * and hands the file to wiretap, from its first record, at the first block
 * of any other type (custom blocks, systemd journal entries...), so that
 * records and frame numbers are always those of Wireshark. Wiretap stays
 * the reference: tests/test_pcapng.c reads pcapng files both ways.
 *
 * The file is read through a byte_window whose buffer grows to the
 * largest block (at most MAX_BLOCK); records point into it.
 */
#include "byte_window.h"
#include "reader_internal.h"

#include <errno.h>
#include <string.h>
/* Wiretap's own bound is larger only for D-Bus packets. */
#define MAX_BLOCK (16u * 1024 * 1024)
#define MAX_PACKET 262144u /* WTAP_MAX_PACKET_SIZE_STANDARD */

enum {
    BLOCK_SHB = 0x0A0D0D0A,
    BLOCK_IDB = 0x00000001,
    BLOCK_PB = 0x00000002,
    BLOCK_SPB = 0x00000003,
    BLOCK_NRB = 0x00000004,
    BLOCK_ISB = 0x00000005,
    BLOCK_EPB = 0x00000006,
    BLOCK_DSB = 0x0000000A,
    BYTE_ORDER_MAGIC = 0x1A2B3C4D,
    OPT_ENDOFOPT = 0,
    OPT_IF_NAME = 2,
    OPT_IF_TSRESOL = 9,
    OPT_IF_TSOFFSET = 14,
};

typedef struct ng_iface {
    uint32_t bus;
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t units_per_second; /* if_tsresol */
    int64_t tsoffset;          /* if_tsoffset, seconds */
    uint32_t ifindex_key, ifindex_bus;
} ng_iface;

typedef struct pcapng_backend {
    byte_window w;
    bool swapped;          /* this section's byte order is not ours */
    bool have_section;
    GArray *ifaces;        /* ng_iface, this section's, by interface id */
    uint32_t ifaces_seen;  /* in the whole file: names "if<N>" as wiretap's backend does */
} pcapng_backend;

/* A section header (its byte order is known from the magic by now). */
static int take_shb(uf_reader *r, pcapng_backend *b, const uint8_t *body, uint32_t len,
                    uint64_t at, uf_error *err)
{
    if (len < 16)
        return reader_damaged(r, at, err, "a section header block of %u bytes, less than 28",
                              len + 12);
    uint16_t major = load16(b->swapped, body + 4), minor = load16(b->swapped, body + 6);
    /* As wiretap: 1.0, and 1.2 that a few old writers wrote. */
    if (major != 1 || (minor != 0 && minor != 2))
        return reader_damaged(r, at, err, "pcapng version %u.%u; 1.0 is read", major, minor);
    g_array_set_size(b->ifaces, 0); /* interface ids count afresh in each section */
    b->have_section = true;
    return 0;
}

/* An interface: its options up to opt_endofopt or the end of the block. */
static int take_idb(uf_reader *r, pcapng_backend *b, const uint8_t *body, uint32_t len,
                    uint64_t at, uf_error *err)
{
    if (len < 8)
        return reader_damaged(r, at, err,
                              "an interface description block of %u bytes, less than 20",
                              len + 12);
    ng_iface i = {0};
    i.linktype = load16(b->swapped, body);
    i.snaplen = load32(b->swapped, body + 4);
    i.units_per_second = 1000000; /* if_tsresol's default: microseconds */
    char *name = NULL;
    for (uint32_t o = 8; o + 4 <= len;) {
        uint16_t code = load16(b->swapped, body + o), olen = load16(b->swapped, body + o + 2);
        if (code == OPT_ENDOFOPT)
            break;
        if (o + 4 + olen > len) {
            g_free(name);
            return reader_damaged(r, at, err, "option %u of %u bytes runs past its interface block",
                                  code, olen);
        }
        const uint8_t *v = body + o + 4;
        if (code == OPT_IF_NAME && !name) {
            name = g_strndup((const char *)v, olen);
        } else if (code == OPT_IF_TSRESOL && olen == 1) {
            unsigned base = (v[0] & 0x80) ? 2 : 10, exponent = v[0] & 0x7F;
            if (exponent > (base == 2 ? 63u : 19u)) {
                g_free(name);
                return reader_damaged(r, at, err, "if_tsresol %s^-%u does not fit 64 bits",
                                      base == 2 ? "2" : "10", exponent);
            }
            i.units_per_second = 1;
            for (unsigned k = 0; k < exponent; k++)
                i.units_per_second *= base;
        } else if (code == OPT_IF_TSOFFSET && olen == 8) {
            i.tsoffset = (int64_t)load64(b->swapped, v);
        }
        o += 4 + ((olen + 3u) & ~3u);
    }
    char fallback[32];
    if (!name || !*name) {
        snprintf(fallback, sizeof(fallback), "if%u", b->ifaces_seen);
        i.bus = reader_bus(r, fallback);
    } else {
        i.bus = reader_bus(r, name);
    }
    g_free(name);
    b->ifaces_seen++;
    g_array_append_val(b->ifaces, i);
    return 0;
}

/* A block that describes rather than carries: a section or an interface. */
static bool describes(uint32_t type)
{
    return type == BLOCK_SHB || type == BLOCK_IDB;
}

static int take_description(uf_reader *r, pcapng_backend *b, uint32_t type, const uint8_t *body,
                            uint32_t len, uint64_t at, uf_error *err)
{
    return type == BLOCK_SHB ? take_shb(r, b, body, len, at, err)
                             : take_idb(r, b, body, len, at, err);
}

static ng_iface *iface_of(uf_reader *r, pcapng_backend *b, uint32_t id, uint64_t at,
                          uf_error *err)
{
    if (id < b->ifaces->len)
        return &g_array_index(b->ifaces, ng_iface, id);
    reader_damaged(r, at, err, "a packet of interface %u, but the section describes %u", id,
                   b->ifaces->len);
    return NULL;
}

static void take_packet(uf_reader *r, ng_iface *i, const uint8_t *data, uint32_t caplen,
                        uf_record *rec)
{
    reader_take_link(r, i->linktype, data, caplen, i->bus, &i->ifindex_key, &i->ifindex_bus, rec);
}

/* A timestamp in the interface's units since 1970, as wiretap converts it. */
static uf_time time_of(const ng_iface *i, uint64_t ts)
{
    uint64_t units = i->units_per_second;
    int64_t sec = (int64_t)(ts / units);
    __extension__ typedef unsigned __int128 u128; /* units up to 10^19 */
    int64_t nsec = (int64_t)((u128)(ts % units) * 1000000000u / units);
    return uf_time_from_parts(sec + i->tsoffset, nsec);
}

/* An EPB or PB: its fixed part, then the packet. */
static int take_timed_packet(uf_reader *r, pcapng_backend *b, bool enhanced, const uint8_t *body,
                             uint32_t len, uint64_t at, uf_record *rec, uf_error *err)
{
    if (len < 20)
        return reader_damaged(r, at, err, "a packet block of %u bytes, less than 32", len + 12);
    uint32_t id = enhanced ? load32(b->swapped, body) : load16(b->swapped, body);
    uint64_t ts = (uint64_t)load32(b->swapped, body + 4) << 32 | load32(b->swapped, body + 8);
    uint32_t caplen = load32(b->swapped, body + 12);
    if (caplen > len - 20)
        return reader_damaged(r, at, err, "a packet of %u bytes in a block that holds %u", caplen,
                              len - 20);
    if (caplen > MAX_PACKET)
        return reader_damaged(r, at, err, "a packet of %u bytes, more than %u", caplen, MAX_PACKET);
    ng_iface *i = iface_of(r, b, id, at, err);
    if (!i)
        return -1;
    rec->time = time_of(i, ts);
    take_packet(r, i, body + 20, caplen, rec);
    return 1;
}

static int take_spb(uf_reader *r, pcapng_backend *b, const uint8_t *body, uint32_t len,
                    uint64_t at, uf_record *rec, uf_error *err)
{
    if (len < 4)
        return reader_damaged(r, at, err, "a simple packet block of %u bytes, less than 16",
                              len + 12);
    ng_iface *i = iface_of(r, b, 0, at, err);
    if (!i)
        return -1;
    /* The captured length is not stored: the packet's, cut to the block
     * and to the interface's snap length. */
    uint32_t caplen = load32(b->swapped, body);
    if (caplen > len - 4)
        caplen = len - 4;
    if (i->snaplen && caplen > i->snaplen)
        caplen = i->snaplen;
    if (caplen > MAX_PACKET)
        return reader_damaged(r, at, err, "a packet of %u bytes, more than %u", caplen, MAX_PACKET);
    rec->time = UF_TIME_NONE;
    take_packet(r, i, body + 4, caplen, rec);
    return 1;
}

static void pcapng_close_backend(uf_reader *r)
{
    pcapng_backend *b = r->backend;
    if (!b)
        return;
    byte_window_close(&b->w);
    g_array_free(b->ifaces, TRUE);
    g_free(b);
    r->backend = NULL;
}

/* The next block, whole in the buffer and not yet taken: 1, with its
 * offset, type, body and body length; 0 at the end between blocks; -1 on
 * damage or a read error (err set). */
static int peek_block(uf_reader *r, pcapng_backend *b, uint64_t *at, uint32_t *type,
                      const uint8_t **body, uint32_t *body_len, uf_error *err)
{
    *at = byte_window_offset(&b->w);
    int got = byte_window_fill(&b->w, 12);
    if (got == 0 && byte_window_left(&b->w) == 0)
        return 0; /* the end, between blocks */
    if (got == 0)
        return reader_damaged(r, *at, err, "the file ends inside a block header");
    if (got < 0)
        return reader_read_failed(r, *at, err);
    const uint8_t *p = byte_window_at(&b->w);
    memcpy(type, p, 4); /* the SHB's type reads alike in both byte orders */
    if (*type == BLOCK_SHB) {
        uint32_t magic;
        memcpy(&magic, p + 8, 4);
        if (magic != BYTE_ORDER_MAGIC && magic != __builtin_bswap32(BYTE_ORDER_MAGIC))
            return reader_damaged(r, *at, err, "a section header whose byte-order magic is 0x%08X",
                                  magic);
        b->swapped = magic != BYTE_ORDER_MAGIC;
    } else {
        *type = load32(b->swapped, p);
        if (!b->have_section)
            return reader_damaged(r, *at, err, "a block of type 0x%08X before any section header",
                                  *type);
    }
    uint32_t len = load32(b->swapped, p + 4);
    if (len < 12 || len % 4 != 0)
        return reader_damaged(r, *at, err, "a block of type 0x%08X with a length of %u bytes",
                              *type, len);
    if (len > MAX_BLOCK)
        return reader_damaged(r, *at, err, "a block of %u bytes, more than the %u read", len,
                              MAX_BLOCK);
    got = byte_window_fill(&b->w, len);
    if (got == 0)
        return reader_damaged(r, *at, err, "the file ends inside a block of %u bytes", len);
    if (got < 0)
        return reader_read_failed(r, *at, err);
    p = byte_window_at(&b->w);
    uint32_t trailer = load32(b->swapped, p + len - 4);
    if (trailer != len)
        return reader_damaged(r, *at, err, "a block of %u bytes whose trailer says %u", len,
                              trailer);
    *body = p + 8;
    *body_len = len - 12;
    return 1;
}

static int pcapng_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    pcapng_backend *b = r->backend;
    for (;;) {
        uint64_t at = 0;
        uint32_t type = 0, len = 0;
        const uint8_t *body = NULL;
        int rc = peek_block(r, b, &at, &type, &body, &len, err);
        if (rc <= 0)
            return rc;
        switch (type) {
        case BLOCK_SHB:
        case BLOCK_IDB: rc = take_description(r, b, type, body, len, at, err); break;
        case BLOCK_EPB: rc = take_timed_packet(r, b, true, body, len, at, rec, err); break;
        case BLOCK_PB: rc = take_timed_packet(r, b, false, body, len, at, rec, err); break;
        case BLOCK_SPB: rc = take_spb(r, b, body, len, at, rec, err); break;
        case BLOCK_NRB:
        case BLOCK_ISB:
        case BLOCK_DSB: rc = 0; break;
        default: return reader_hand_over(r, pcapng_wiretap_open, "wiretap", rec, err);
        }
        if (rc < 0)
            return -1;
        byte_window_take(&b->w, len + 12); /* a record's bytes stay in place until the next call */
        if (rc == 1) {
            rec->offset = at;
            return 1;
        }
    }
}

/* NULL once closed (a hand-over whose next reader did not open). */
static byte_window *pcapng_window(uf_reader *r)
{
    pcapng_backend *b = r->backend;
    return b ? &b->w : NULL;
}

static const reader_ops pcapng_ops = {
    .next = pcapng_next, .close = pcapng_close_backend, .window = pcapng_window};

int pcapng_file_open(uf_reader *r, uf_error *err)
{
    byte_window w;
    if (byte_window_open(&w, r->path) < 0) {
        uf_error_set(err, "%s: cannot open: %s", r->path, strerror(errno));
        return -1;
    }
    pcapng_backend *b = g_new0(pcapng_backend, 1);
    b->w = w;
    b->ifaces = g_array_new(FALSE, TRUE, sizeof(ng_iface));
    r->backend = b;
    r->ops = &pcapng_ops;
    r->format = "pcapng";
    /* The interfaces ahead of the first packet are known from the start,
     * as with wiretap; damage there is reported by the first read. */
    uint64_t at = 0;
    uint32_t type = 0, len = 0; /* set by peek_block() when it returns 1 */
    const uint8_t *body = NULL;
    uf_error ignored;
    while (peek_block(r, b, &at, &type, &body, &len, &ignored) == 1 && describes(type) &&
           take_description(r, b, type, body, len, at, &ignored) == 0)
        byte_window_take(&b->w, len + 12);
    return 0;
}
