/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Our pcapng reader (capture/pcapng_file.c) held to Wireshark's wiretap:
 * every pcapng sample, and files built here with what writers vary (byte
 * order, sections, unnamed interfaces, if_tsresol in powers of ten and of
 * two, if_tsoffset, options after the packet, simple and obsolete packet
 * blocks, name resolution and statistics blocks), read both ways, give the
 * same records, bytes, times and buses; a custom block hands the file to
 * wiretap with nothing lost; cut files end in damage after the same
 * records; what only ours checks is named with its offset.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(pcapng, .init = th_dir_setup, .fini = th_dir_teardown);

/* ---- a pcapng writer for the variants --------------------------------------*/

static void put16(th_bytes *f, uint16_t v)
{
    th_put_uint(f, v, 2);
}

static void put32(th_bytes *f, uint32_t v)
{
    th_put_uint(f, v, 4);
}

static void put_bytes(th_bytes *f, const void *p, size_t n)
{
    static const uint8_t zeros[4] = {0};
    g_byte_array_append(f->out, p, (guint)n);
    g_byte_array_append(f->out, zeros, (guint)((4 - n % 4) % 4));
}

static void put_option(th_bytes *f, uint16_t code, const void *p, uint16_t n)
{
    put16(f, code);
    put16(f, n);
    put_bytes(f, p, n);
}

/* Starts a block; block_end() writes both lengths. */
static guint block_start(th_bytes *f, uint32_t type)
{
    guint at = f->out->len;
    put32(f, type);
    put32(f, 0);
    return at;
}

static void block_end(th_bytes *f, guint at)
{
    uint32_t len = f->out->len - at + 4;
    put32(f, len);
    guint end = f->out->len;
    g_byte_array_set_size(f->out, at + 4);
    put32(f, len);
    g_byte_array_set_size(f->out, end);
}

static void shb(th_bytes *f, bool big)
{
    f->big = big;
    guint at = block_start(f, 0x0A0D0D0A);
    put32(f, 0x1A2B3C4D);
    put16(f, 1);
    put16(f, 0);
    put32(f, 0xFFFFFFFF); /* section length unknown */
    put32(f, 0xFFFFFFFF);
    put_option(f, 4, "udsflash tests", 14); /* shb_userappl */
    put_option(f, 0, NULL, 0);
    block_end(f, at);
}

static void idb(th_bytes *f, const char *name, int tsresol, bool offset, int64_t tsoffset)
{
    guint at = block_start(f, 1);
    put16(f, UF_LINKTYPE_CAN_SOCKETCAN);
    put16(f, 0);
    put32(f, 0); /* no snap length */
    if (name)
        put_option(f, 2, name, (uint16_t)strlen(name));
    if (tsresol >= 0) {
        uint8_t r = (uint8_t)tsresol;
        put_option(f, 9, &r, 1);
    }
    if (offset) {
        put16(f, 14); /* if_tsoffset */
        put16(f, 8);
        th_put_uint(f, (uint64_t)tsoffset, 8);
    }
    put_option(f, 0, NULL, 0);
    block_end(f, at);
}

/* A SocketCAN frame: id (big-endian), length, data. */
static void can_frame(uint8_t out[16], uint32_t id, uint8_t seed)
{
    memset(out, 0, 16);
    uf_store_be32(out, id);
    out[4] = 8;
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(seed + i);
}

static void epb(th_bytes *f, uint32_t iface, uint64_t ts, uint8_t seed, bool comment)
{
    uint8_t frame[16];
    can_frame(frame, 0x7E0, seed);
    guint at = block_start(f, 6);
    put32(f, iface);
    put32(f, (uint32_t)(ts >> 32));
    put32(f, (uint32_t)ts);
    put32(f, 16);
    put32(f, 16);
    put_bytes(f, frame, 16);
    if (comment) {
        put_option(f, 1, "a frame with a comment", 22);
        put_option(f, 0, NULL, 0);
    }
    block_end(f, at);
}

static void pb(th_bytes *f, uint16_t iface, uint64_t ts, uint8_t seed)
{
    uint8_t frame[16];
    can_frame(frame, 0x7E8, seed);
    guint at = block_start(f, 2);
    put16(f, iface);
    put16(f, 0xFFFF);
    put32(f, (uint32_t)(ts >> 32));
    put32(f, (uint32_t)ts);
    put32(f, 16);
    put32(f, 16);
    put_bytes(f, frame, 16);
    block_end(f, at);
}

static void spb(th_bytes *f, uint8_t seed)
{
    uint8_t frame[16];
    can_frame(frame, 0x7DF, seed);
    guint at = block_start(f, 3);
    put32(f, 16);
    put_bytes(f, frame, 16);
    block_end(f, at);
}

static void nrb(th_bytes *f)
{
    guint at = block_start(f, 4);
    uint8_t a[4 + 6] = {192, 168, 0, 10, 'e', 'c', 'u', '.', 'x', 0};
    put16(f, 1); /* nrb_record_ipv4 */
    put16(f, sizeof(a));
    put_bytes(f, a, sizeof(a));
    put16(f, 0); /* nrb_record_end */
    put16(f, 0);
    block_end(f, at);
}

static void isb(th_bytes *f, uint32_t iface, uint64_t ts)
{
    guint at = block_start(f, 5);
    put32(f, iface);
    put32(f, (uint32_t)(ts >> 32));
    put32(f, (uint32_t)ts);
    block_end(f, at);
}

static void custom(th_bytes *f)
{
    guint at = block_start(f, 0x00000BAD);
    put32(f, 32473); /* the PEN for examples (RFC 5612) */
    put_bytes(f, "custom data", 11);
    block_end(f, at);
}

/* Everything the reader takes itself, in two sections of either order.
 * The second section names its interfaces as the first does: wiretap 4.0
 * takes a packet's interface id as an index into the file's interfaces,
 * not the section's (see sections_count_interfaces_afresh). */
static void variants(th_bytes *f, bool second_big)
{
    const uint64_t s = 1795255200; /* 2026-11-22 */
    shb(f, false);
    idb(f, "can0", 9, false, 0);          /* ns */
    idb(f, "can2", 0x80 | 20, true, -3600); /* 2^-20 s, an hour back */
    idb(f, NULL, -1, true, 7);            /* us by default; "if2" */
    epb(f, 0, s * 1000000000u + 123456789u, 1, false);
    nrb(f);
    epb(f, 1, (s << 20) | 0x80000, 2, false);
    isb(f, 0, s * 1000000000u);
    epb(f, 2, s * 1000000u + 999999u, 3, true);
    spb(f, 4);
    pb(f, 1, (s + 1) << 20, 5);
    shb(f, second_big);
    idb(f, "can0", 6, false, 0);
    idb(f, "can2", 3, false, 0); /* ms */
    epb(f, 1, (s + 2) * 1000u + 5, 6, true);
    epb(f, 0, (s + 3) * 1000000u, 7, false);
}

/* ---- reading both ways -----------------------------------------------------*/

/* Ours and wiretap's readings of path agree; returns how many records. */
static guint expect_as_wiretap(const char *path)
{
    guint n;
    char *difference = th_read_as(path, uf_reader_open_pcapng_wiretap, "wiretap", &n);
    cr_assert_null(difference, "ours against wiretap's: %s", difference);
    return n;
}

Test(pcapng, samples_read_as_wiretap_reads_them)
{
    const char *samples[] = {"flash-11bit.pcapng", "flash-29bit-fd.pcapng",
                             "flash-extended.pcapng", "flash-two-buses.pcapng",
                             "doip-flash.pcapng", "doip-flash-ipv6.pcapng",
                             "gateway-doip-can.pcapng"};
    for (size_t i = 0; i < UF_ARRAY_LEN(samples); i++) {
        char *p = th_sample(samples[i]);
        cr_expect_gt(expect_as_wiretap(p), 10, "%s", samples[i]);
        g_free(p);
    }
}

Test(pcapng, variants_read_as_wiretap_reads_them)
{
    for (int big = 0; big < 2; big++) {
        th_bytes f = {g_byte_array_new(), false};
        variants(&f, big);
        char *p = th_write_bytes(th_dir, big ? "variants-be.pcapng" : "variants.pcapng", &f,
                                 f.out->len);
        cr_expect_eq(expect_as_wiretap(p), 7, "every packet block is a record");
        /* Cut anywhere: the same records, then damage (or the end, at a
         * block boundary) in both. */
        /* (from the second packet: wiretap reads the first block after the
         * interfaces when it opens the file, and fails to open a cut there) */
        char *difference = th_cuts_read_as(th_dir, "cut.pcapng", &f, 240, 37,
                                           uf_reader_open_pcapng_wiretap, "wiretap");
        cr_assert_null(difference, "ours against wiretap's: %s", difference);
        g_free(p);
        g_byte_array_free(f.out, TRUE);
    }
}

/* Interface ids count from 0 in each section (the pcapng draft, 4.1):
 * the second section's interface 1 is its own, unnamed "if3", where
 * wiretap 4.0 reads the first section's "can2". */
Test(pcapng, sections_count_interfaces_afresh)
{
    th_bytes f = {g_byte_array_new(), false};
    shb(&f, false);
    idb(&f, "can0", -1, false, 0);
    idb(&f, "can2", -1, false, 0);
    epb(&f, 1, 1, 1, false);
    shb(&f, true);
    idb(&f, "can0", -1, false, 0);
    idb(&f, NULL, -1, false, 0);
    epb(&f, 1, 2, 2, false);
    epb(&f, 0, 3, 3, false);
    char *p = th_write_bytes(th_dir, "sections.pcapng", &f, f.out->len);
    th_reading rd = th_read_with(p, uf_reader_open);
    cr_assert_eq(rd.rc, 0, "%s", rd.err.msg);
    cr_assert_eq(rd.recs->len, 3);
    const char *want[] = {"can2", "if3", "can0"};
    for (guint i = 0; i < 3; i++)
        cr_expect_str_eq(g_array_index(rd.recs, th_record, i).bus, want[i], "record %u", i + 1);
    th_reading_free(&rd);
    g_free(p);
    g_byte_array_free(f.out, TRUE);
}

/* The records udsflash read itself before a custom block, then wiretap's. */
Test(pcapng, a_block_left_to_wiretap)
{
    th_bytes f = {g_byte_array_new(), false};
    variants(&f, false);
    custom(&f);
    epb(&f, 1, UINT64_C(1795255300) * 1000000u, 8, false);
    char *p = th_write_bytes(th_dir, "custom.pcapng", &f, f.out->len);
    cr_expect_geq(expect_as_wiretap(p), 8);
    /* Ours reads it in full, with the packet after the custom block. */
    uf_error err;
    uf_reader *r = uf_reader_open(p, &err);
    cr_assert_not_null(r, "%s", err.msg);
    uf_record rec;
    uint64_t last_offset = 0;
    int rc;
    while ((rc = uf_reader_next(r, &rec, &err)) == 1)
        last_offset = rec.offset;
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(last_offset, f.out->len - 48, "the last record is the EPB at the end");
    uf_reader_close(r);
    g_free(p);
    g_byte_array_free(f.out, TRUE);
}

/* Damage that wiretap 4.0 lets pass or words otherwise: named here, with
 * its offset, after the records before it. */
Test(pcapng, damage_named_with_its_offset)
{
    struct {
        const char *what;
        gsize at;          /* offset into the second EPB's block... */
        uint32_t value;    /* ...written there, little-endian */
        const char *words; /* expected in the sentence */
    } cases[] = {
        {"trailer", 44, 0x99, "whose trailer says 153"},
        {"length not a multiple of 4", 4, 46, "with a length of 46 bytes"},
        {"captured length past the block", 20, 200, "a packet of 200 bytes in a block"},
        {"unknown interface", 8, 9, "a packet of interface 9, but the section describes 3"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        th_bytes f = {g_byte_array_new(), false};
        variants(&f, false);
        /* The second EPB follows the first EPB and the NRB. */
        char *whole = th_write_bytes(th_dir, "v.pcapng", &f, f.out->len);
        uf_error err;
        uf_reader *r = uf_reader_open(whole, &err);
        cr_assert_not_null(r, "%s", err.msg);
        uf_record rec;
        uint64_t second = 0;
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(uf_reader_next(r, &rec, &err), 1, "%s", err.msg);
            second = rec.offset;
        }
        uf_reader_close(r);
        uint32_t v = cases[i].value;
        memcpy(f.out->data + second + cases[i].at, &v, 4);
        char *p = th_write_bytes(th_dir, "damaged.pcapng", &f, f.out->len);
        r = uf_reader_open(p, &err);
        cr_assert_not_null(r, "%s", err.msg);
        cr_assert_eq(uf_reader_next(r, &rec, &err), 1, "%s", err.msg);
        cr_assert_eq(uf_reader_next(r, &rec, &err), -1, "%s: must be damage", cases[i].what);
        char *offset = g_strdup_printf("damaged at byte %" G_GUINT64_FORMAT " (after frame 1)",
                                       second);
        cr_expect(strstr(err.msg, p) && strstr(err.msg, offset) && strstr(err.msg, cases[i].words),
                  "%s: %s", cases[i].what, err.msg);
        cr_assert_eq(uf_reader_next(r, &rec, &err), 0, "after damage, the end");
        uf_reader_close(r);
        g_free(offset);
        g_free(p);
        g_free(whole);
        g_byte_array_free(f.out, TRUE);
    }
}
