/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Our pcap reader (capture/pcap_file.c) held to libpcap: every pcap
 * sample, and files built here with what writers vary (byte order,
 * microseconds or nanoseconds, version 2.3 or 2.4, snap length 0), read
 * both ways, give the same records, bytes, times and buses; cut files end
 * in damage after the same records, named with its offset; what ours
 * leaves to libpcap (a record past the snap length, which libpcap cuts; a
 * version 2.2 file, whose lengths are swapped; a byte-swapped SLL2 file,
 * whose header libpcap turns round) is read as libpcap reads it.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(pcap, .init = th_dir_setup, .fini = th_dir_teardown);

/* ---- a pcap writer for the variants ---------------------------------------*/

static void file_header(th_bytes *f, bool nsec, uint16_t minor, uint32_t snaplen,
                        uint32_t linktype)
{
    th_put_uint(f, nsec ? 0xA1B23C4D : 0xA1B2C3D4, 4);
    th_put_uint(f, 2, 2);
    th_put_uint(f, minor, 2);
    th_put_uint(f, 0, 4); /* thiszone */
    th_put_uint(f, 0, 4); /* sigfigs */
    th_put_uint(f, snaplen, 4);
    th_put_uint(f, linktype, 4);
}

/* A SocketCAN frame (LINKTYPE_CAN_SOCKETCAN: the id big-endian), with
 * `extra` bytes after it. */
static void can_record_padded(th_bytes *f, uint32_t sec, uint32_t frac, uint32_t id,
                              uint8_t seed, uint32_t extra)
{
    th_put_uint(f, sec, 4);
    th_put_uint(f, frac, 4);
    th_put_uint(f, 16 + extra, 4);
    th_put_uint(f, 16 + extra, 4);
    uint8_t frame[16] = {0};
    uf_store_be32(frame, id);
    frame[4] = 8;
    for (int i = 0; i < 8; i++)
        frame[8 + i] = (uint8_t)(seed + i);
    g_byte_array_append(f->out, frame, sizeof(frame));
    for (uint32_t i = 0; i < extra; i++)
        th_put_uint(f, 0xEE, 1);
}

static void can_record(th_bytes *f, uint32_t sec, uint32_t frac, uint32_t id, uint8_t seed)
{
    can_record_padded(f, sec, frac, id, seed, 0);
}

/* Six CAN frames with the timestamps writers produce. */
static void can_variants(th_bytes *f, bool nsec, uint16_t minor, uint32_t snaplen)
{
    file_header(f, nsec, minor, snaplen, UF_LINKTYPE_CAN_SOCKETCAN);
    uint32_t second = nsec ? 999999999u : 999999u;
    can_record(f, 1795255200, 0, 0x7E0, 1);
    can_record(f, 1795255200, second, 0x7E8, 2);
    can_record(f, 1795255201, 1, 0x18DA10F1 | 0x80000000u, 3);
    can_record(f, 0, 0, 0x123, 4);
    can_record(f, 0x7FFFFFFF, second / 2, 0x7DF, 5);
    can_record(f, 1795255202, 5, 0x7E0, 6);
}

/* ---- reading both ways -----------------------------------------------------*/

/* Ours and libpcap's readings of path agree; returns how many records. */
static guint expect_as_libpcap(const char *path)
{
    guint n;
    char *difference = th_read_as(path, uf_reader_open_pcap_libpcap, "libpcap", &n);
    cr_assert_null(difference, "ours against libpcap's: %s", difference);
    return n;
}

Test(pcap, samples_read_as_libpcap_reads_them)
{
    char *samples = th_sample("");
    GDir *d = g_dir_open(samples, 0, NULL);
    cr_assert_not_null(d, "%s", samples);
    g_free(samples);
    guint files = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        if (!g_str_has_suffix(name, ".pcap"))
            continue;
        char *p = th_sample(name);
        guint n = expect_as_libpcap(p);
        cr_expect_gt(n, 0, "%s", name);
        g_free(p);
        files++;
    }
    g_dir_close(d);
    cr_expect_geq(files, 20, "the samples' pcap files");
}

Test(pcap, variants_read_as_libpcap_reads_them)
{
    for (int v = 0; v < 8; v++) {
        bool big = v & 1, nsec = v & 2;
        uint16_t minor = (v & 4) ? 3 : 4;
        th_bytes f = {g_byte_array_new(), big};
        can_variants(&f, nsec, minor, (v & 4) ? 0 : 65535);
        char *p = th_write_bytes(th_dir, "variant.pcap", &f, f.out->len);
        cr_expect_eq(expect_as_libpcap(p), 6, "variant %d: every record", v);
        /* Cut anywhere: the same records, then damage (or the end, at a
         * record boundary) in both. */
        char *difference = th_cuts_read_as(th_dir, "cut.pcap", &f, 24, 5,
                                           uf_reader_open_pcap_libpcap, "libpcap");
        cr_assert_null(difference, "ours against libpcap's: %s", difference);
        g_free(p);
        g_byte_array_free(f.out, TRUE);
    }
}

/* A minimal IPv4 packet of n bytes (header and zeros). */
static void ipv4_record(th_bytes *f, uint32_t frac, uint16_t n)
{
    th_put_uint(f, 1795255200, 4);
    th_put_uint(f, frac, 4);
    th_put_uint(f, n, 4);
    th_put_uint(f, n, 4);
    uint8_t packet[1500] = {0x45, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0x40, 0, 64, 17, 0, 0,
                            192, 168, 0, 1, 192, 168, 0, 2};
    g_byte_array_append(f->out, packet, n);
}

/* libpcap cuts a record longer than the file's snap length to it: ours
 * hands the file over there, with the records before it its own. */
Test(pcap, a_record_past_the_snap_length)
{
    th_bytes f = {g_byte_array_new(), false};
    file_header(&f, false, 4, 40, UF_LINKTYPE_IPV4);
    ipv4_record(&f, 1, 40);
    ipv4_record(&f, 2, 60); /* 20 bytes past the snap length */
    ipv4_record(&f, 3, 30);
    char *p = th_write_bytes(th_dir, "snaplen.pcap", &f, f.out->len);
    cr_assert_eq(expect_as_libpcap(p), 3);
    th_reading rd = th_read_with(p, uf_reader_open);
    cr_assert_eq(rd.rc, 0, "%s", rd.err.msg);
    const uf_record *cut = &g_array_index(rd.recs, th_record, 1).rec;
    cr_assert_eq(cut->kind, UF_REC_PACKET, "%s", cut->problem ? cut->problem : "");
    cr_expect_eq(cut->packet.len, 40, "cut to the snap length");
    cr_expect_eq(g_array_index(rd.recs, th_record, 2).rec.offset, 24 + 56 + 76,
                 "the record after it where it is in the file");
    th_reading_free(&rd);
    g_free(p);
    g_byte_array_free(f.out, TRUE);
}

/* Files ours leaves to libpcap from the start. */
Test(pcap, files_left_to_libpcap)
{
    /* Version 2.2: caplen and len in the other order. */
    th_bytes old = {g_byte_array_new(), false};
    file_header(&old, false, 2, 65535, UF_LINKTYPE_ETHERNET);
    th_put_uint(&old, 1795255200, 4);
    th_put_uint(&old, 7, 4);
    th_put_uint(&old, 1500, 4); /* len */
    th_put_uint(&old, 20, 4);   /* caplen */
    for (int i = 0; i < 20; i++)
        th_put_uint(&old, (uint64_t)i, 1);
    char *p = th_write_bytes(th_dir, "v22.pcap", &old, old.out->len);
    cr_expect_eq(expect_as_libpcap(p), 1);
    g_free(p);
    g_byte_array_free(old.out, TRUE);

    /* SLL2 from a big-endian machine: the SocketCAN id is in the writer's
     * byte order, which libpcap turns into the reader's. This id reads as
     * an extended id both ways, so only that turn gives 0x00123481. */
    th_bytes be = {g_byte_array_new(), true};
    file_header(&be, false, 4, 262144, UF_LINKTYPE_LINUX_SLL2);
    th_put_uint(&be, 1795255200, 4);
    th_put_uint(&be, 0, 4);
    th_put_uint(&be, 20 + 16, 4);
    th_put_uint(&be, 20 + 16, 4);
    static const uint8_t sll2[20] = {0x00, 0x0C, 0, 0, 0, 0, 0, 3, 0x01, 0x18, 0, 0};
    g_byte_array_append(be.out, sll2, sizeof(sll2)); /* protocol CAN, ifindex 3, ARPHRD_CAN */
    th_put_uint(&be, 0x80123481u, 4); /* in the writer's order */
    static const uint8_t rest[12] = {8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    g_byte_array_append(be.out, rest, sizeof(rest));
    p = th_write_bytes(th_dir, "sll2-big-endian.pcap", &be, be.out->len);
    cr_expect_eq(expect_as_libpcap(p), 1);
    th_reading rd = th_read_with(p, uf_reader_open);
    cr_assert_eq(rd.recs->len, 1, "%s", rd.err.msg);
    cr_expect_eq(g_array_index(rd.recs, th_record, 0).rec.can.id, 0x00123481u);
    th_reading_free(&rd);
    g_free(p);
    g_byte_array_free(be.out, TRUE);
}

Test(pcap, damage_named_with_its_offset)
{
    th_bytes f = {g_byte_array_new(), false};
    can_variants(&f, false, 4, 65535);
    struct {
        gsize cut;
        const char *words;
    } cases[] = {
        {24 + 2 * 32 + 10, "damaged at byte 88 (after frame 2): the file ends inside a record "
                           "header (10 of 16 bytes)"},
        {24 + 2 * 32 + 20, "damaged at byte 88 (after frame 2): the file ends inside a record's "
                           "packet (4 of 16 bytes)"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        char *p = th_write_bytes(th_dir, "damaged.pcap", &f, cases[i].cut);
        th_reading rd = th_read_with(p, uf_reader_open);
        cr_expect_eq(rd.rc, -1, "damage");
        cr_expect_eq(rd.recs->len, 2, "the records before it");
        cr_expect(strstr(rd.err.msg, p) && strstr(rd.err.msg, cases[i].words), "%s",
                  rd.err.msg);
        th_reading_free(&rd);
        g_free(p);
    }
    g_byte_array_free(f.out, TRUE);
}
