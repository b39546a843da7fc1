/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Capture readers: every format written by the sample generator reads back
 * as the frames that went in (ids, flags, data, buses, times); truncated and
 * corrupt files give the frames before the damage and a sentence naming the
 * file and offset; formats are found from content, not names.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

TestSuite(readers, .init = th_dir_setup, .fini = th_dir_teardown);

/* A short mixed trace: classic 11-bit on one bus, 29-bit CAN FD on another. */
static void make_trace(sg_trace *t, bool two_buses)
{
    sg_trace_init(t);
    sg_link a = th_link(t, "can0", 0x7E0, 0x7E8);
    a.ecu_tx = a.tester_tx;
    a.ecu_bs = 2;
    a.rng = 5;
    sg_link b = a;
    b.bus = two_buses ? sg_trace_bus(t, "can1") : a.bus;
    b.tester_id = UF_ISOTP_EFF | 0x18DA10F1u;
    b.ecu_id = UF_ISOTP_EFF | 0x18DAF110u;
    b.tester_tx = (uf_isotp_tx_params){UF_ADDR_NORMAL_FIXED, 0, 64, true, true, 0xCC};
    b.ecu_tx = b.tester_tx;
    uint8_t msg[300];
    sg_image(msg, sizeof(msg), 3);
    msg[0] = 0x36;
    uf_time t0 = INT64_C(1795255200) * UF_NS_PER_S;
    sg_send(t, &a, true, false, t0, msg, 40);
    sg_send(t, &b, true, false, t0 + 100 * UF_NS_PER_US, msg, 300);
    uint8_t resp[] = {0x76, 0x01};
    sg_send(t, &a, false, false, t0 + 30 * UF_NS_PER_MS, resp, 2);
    sg_trace_finish(t);
}

typedef struct read_result {
    GArray *recs; /* uf_record (CAN only) */
    GPtrArray *buses;
    int rc;
    uf_error err;
    char format[32];
    bool has_time;
} read_result;

static read_result read_all(const char *path)
{
    read_result rr = {g_array_new(FALSE, FALSE, sizeof(uf_record)),
                      g_ptr_array_new_with_free_func(g_free), 0, {{0}}, "", true};
    uf_reader *r = uf_reader_open(path, &rr.err);
    cr_assert_not_null(r, "%s", rr.err.msg);
    uf_record rec;
    while ((rr.rc = uf_reader_next(r, &rec, &rr.err)) == 1)
        if (rec.kind == UF_REC_CAN)
            g_array_append_val(rr.recs, rec);
    cr_assert_eq(uf_reader_next(r, &rec, &rr.err), 0, "reads after the end must stay at the end");
    g_strlcpy(rr.format, uf_reader_format(r), sizeof(rr.format));
    rr.has_time = uf_reader_has_time(r);
    for (uint32_t b = 0; b < uf_reader_bus_count(r); b++)
        g_ptr_array_add(rr.buses, g_strdup(uf_reader_bus_name(r, b)));
    uf_reader_close(r);
    return rr;
}

static void free_result(read_result *rr)
{
    g_array_free(rr->recs, TRUE);
    g_ptr_array_free(rr->buses, TRUE);
}

/* Frames equal to the trace's; time within `resolution`, and buses mapped
 * one-to-one onto the expected names. */
static void expect_same(const sg_trace *t, const read_result *rr, uf_time resolution,
                        const char *const *bus_names, bool fd_kept)
{
    cr_assert_eq(rr->rc, 0, "%s", rr->err.msg);
    cr_assert_eq(rr->recs->len, t->frames->len, "%u frames, expected %u", rr->recs->len,
                 t->frames->len);
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        const uf_record *r = &g_array_index(rr->recs, uf_record, i);
        cr_assert_eq(r->can.id, sf->f.id, "frame %u id", i + 1);
        cr_assert_eq(r->can.flags & UF_CAN_EFF, sf->f.flags & UF_CAN_EFF, "frame %u EFF", i + 1);
        if (fd_kept || sf->f.len > 8)
            cr_assert_eq(r->can.flags & UF_CAN_FD, sf->f.flags & UF_CAN_FD, "frame %u FD", i + 1);
        cr_assert_eq(r->can.len, sf->f.len, "frame %u len", i + 1);
        cr_assert_eq(memcmp(r->can.data, sf->f.data, sf->f.len), 0, "frame %u data", i + 1);
        if (resolution >= 0) {
            uf_time d = r->time - sf->time;
            cr_assert((d < 0 ? -d : d) <= resolution, "frame %u time off by %lld ns", i + 1,
                      (long long)d);
        }
        if (bus_names)
            cr_assert_str_eq(g_ptr_array_index(rr->buses, r->bus), bus_names[sf->bus],
                             "frame %u bus", i + 1);
    }
}

static char *path_of(const char *name)
{
    return g_build_filename(th_dir, name, NULL);
}

Test(readers, pcap_variants)
{
    sg_trace t;
    make_trace(&t, false);
    uf_error err;
    struct {
        const char *name;
        sg_pcap_variant v;
    } cases[] = {{"be.pcap", SG_PCAP_SOCKETCAN},
                 {"le.pcap", SG_PCAP_SOCKETCAN_LE},
                 {"old.pcap", SG_PCAP_SOCKETCAN_OLD},
                 {"sll.pcap", SG_PCAP_SLL}};
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        char *p = path_of(cases[i].name);
        cr_assert_eq(sg_write_pcap(&t, p, cases[i].v, &err), 0, "%s", err.msg);
        read_result rr = read_all(p);
        cr_assert_str_eq(rr.format, "pcap");
        expect_same(&t, &rr, 0, NULL, true);
        free_result(&rr);
        g_free(p);
    }
    sg_trace_free(&t);
}

Test(readers, sll2_keeps_interfaces_apart)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *p = path_of("sll2.pcap");
    cr_assert_eq(sg_write_pcap(&t, p, SG_PCAP_SLL2, &err), 0, "%s", err.msg);
    read_result rr = read_all(p);
    const char *names[] = {"if0/ifindex1", "if0/ifindex2"};
    expect_same(&t, &rr, 0, names, true);
    free_result(&rr);
    g_free(p);
    sg_trace_free(&t);
}

Test(readers, pcapng_interfaces_are_buses)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *p = path_of("two.pcapng");
    cr_assert_eq(sg_write_pcapng(&t, p, &err), 0, "%s", err.msg);
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "pcapng");
    const char *names[] = {"can0", "can1"};
    expect_same(&t, &rr, 0, names, true);
    free_result(&rr);
    g_free(p);
    sg_trace_free(&t);
}

Test(readers, candump_log_and_console)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *p = path_of("log.txt"), *c = path_of("console.txt");
    cr_assert_eq(sg_write_candump(&t, p, false, &err), 0, "%s", err.msg);
    cr_assert_eq(sg_write_candump(&t, c, true, &err), 0, "%s", err.msg);
    const char *names[] = {"can0", "can1"};
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "candump");
    cr_assert(rr.has_time);
    expect_same(&t, &rr, 0, names, true);
    free_result(&rr);
    rr = read_all(c);
    cr_assert_str_eq(rr.format, "candump-console");
    cr_assert_not(rr.has_time);
    expect_same(&t, &rr, -1, names, true);
    for (guint i = 0; i < rr.recs->len; i++)
        cr_assert_eq(g_array_index(rr.recs, uf_record, i).time, UF_TIME_NONE);
    free_result(&rr);
    g_free(p);
    g_free(c);
    sg_trace_free(&t);
}

Test(readers, vector_asc)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *p = path_of("trace.asc");
    cr_assert_eq(sg_write_asc(&t, p, &err), 0, "%s", err.msg);
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "asc");
    const char *names[] = {"ch1", "ch2"};
    expect_same(&t, &rr, 0, names, true);
    free_result(&rr);
    g_free(p);
    sg_trace_free(&t);
}

Test(readers, blf_through_wiretap)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *p = path_of("trace.blf");
    cr_assert_eq(sg_write_blf(&t, p, &err), 0, "%s", err.msg);
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "blf");
    cr_assert_eq(rr.buses->len, 2);
    /* Wiretap 4.0's BLF reader marks CAN FD only by length: FD frames of 8
     * bytes or less come out as classic frames (ISO-TP reads them alike). */
    expect_same(&t, &rr, 0, NULL, false);
    /* The two channels stay two buses (29-bit ids are on the second). */
    for (guint i = 0; i < rr.recs->len; i++) {
        const uf_record *r = &g_array_index(rr.recs, uf_record, i);
        bool second = (r->can.flags & UF_CAN_EFF) != 0;
        cr_assert_eq(r->bus, g_array_index(rr.recs, uf_record, second ? 1 : 0).bus);
    }
    free_result(&rr);
    g_free(p);
    sg_trace_free(&t);
}

Test(readers, busmaster)
{
    sg_trace t;
    make_trace(&t, false);
    uf_error err;
    char *p = path_of("trace.log");
    cr_assert_eq(sg_write_busmaster(&t, p, &err), 0, "%s", err.msg);
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "busmaster");
    /* Busmaster keeps a tenth of a millisecond. */
    expect_same(&t, &rr, 100 * UF_NS_PER_US, (const char *[]){"ch1"}, true);
    free_result(&rr);
    g_free(p);
    sg_trace_free(&t);
}

Test(readers, format_from_content_not_name)
{
    sg_trace t;
    make_trace(&t, false);
    uf_error err;
    char *a = path_of("really-candump.pcap"), *b = path_of("really-asc.blf"),
         *c = path_of("really-pcapng.asc");
    cr_assert_eq(sg_write_candump(&t, a, false, &err), 0);
    cr_assert_eq(sg_write_asc(&t, b, &err), 0);
    cr_assert_eq(sg_write_pcapng(&t, c, &err), 0);
    read_result ra = read_all(a), rb = read_all(b), rc = read_all(c);
    cr_assert_str_eq(ra.format, "candump");
    cr_assert_str_eq(rb.format, "asc");
    cr_assert_str_eq(rc.format, "pcapng");
    free_result(&ra);
    free_result(&rb);
    free_result(&rc);
    g_free(a);
    g_free(b);
    g_free(c);
    sg_trace_free(&t);
}

/* Writes the first `len` bytes of src to dst. */
static void truncate_copy(const char *src, const char *dst, gsize len)
{
    char *data;
    gsize n;
    cr_assert(g_file_get_contents(src, &data, &n, NULL));
    cr_assert_lt(len, n);
    cr_assert(g_file_set_contents(dst, data, (gssize)len, NULL));
    g_free(data);
}

static void expect_damage(const sg_trace *t, const char *path)
{
    read_result rr = read_all(path);
    cr_assert_eq(rr.rc, -1, "%s: damage not detected", path);
    cr_assert(strstr(rr.err.msg, path), "message names the file: %s", rr.err.msg);
    cr_assert(strstr(rr.err.msg, "byte"), "message names the offset: %s", rr.err.msg);
    cr_assert_lt(rr.recs->len, t->frames->len);
    /* What was read is the start of the capture, intact. */
    for (guint i = 0; i < rr.recs->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        const uf_record *r = &g_array_index(rr.recs, uf_record, i);
        cr_assert_eq(r->can.id, sf->f.id);
        cr_assert_eq(memcmp(r->can.data, sf->f.data, sf->f.len), 0);
    }
    free_result(&rr);
}

/* File offsets of every CAN record, as the reader reports them. */
static GArray *record_offsets(const char *path)
{
    GArray *offsets = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    uf_error err;
    uf_reader *r = uf_reader_open(path, &err);
    cr_assert_not_null(r, "%s", err.msg);
    uf_record rec;
    while (uf_reader_next(r, &rec, &err) == 1)
        g_array_append_val(offsets, rec.offset);
    uf_reader_close(r);
    return offsets;
}

/* A cut exactly between two records is a valid, shorter capture; a cut
 * inside a record is damage. Cut a few records in, 13 bytes into one. */
Test(readers, truncated_files)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    struct {
        const char *name;
        int (*write)(const sg_trace *, const char *, uf_error *);
        uint64_t base; /* BLF offsets count inside its single log container */
    } cases[] = {{"t.pcapng", sg_write_pcapng, 0},
                 {"t.blf", sg_write_blf, 144 + 32},
                 {"t.asc", sg_write_asc, 0},
                 {"t.candump", NULL, 0},
                 {"t.pcap", NULL, 0}};
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        char *full = path_of(cases[i].name), *cut = g_strconcat(full, ".cut", NULL);
        int rc = cases[i].write ? cases[i].write(&t, full, &err)
                 : i == 3       ? sg_write_candump(&t, full, false, &err)
                                : sg_write_pcap(&t, full, SG_PCAP_SOCKETCAN, &err);
        cr_assert_eq(rc, 0, "%s", err.msg);
        GArray *offsets = record_offsets(full);
        cr_assert_eq(offsets->len, t.frames->len);
        for (guint k = 1; k < offsets->len; k += offsets->len / 3) {
            truncate_copy(full, cut, g_array_index(offsets, uint64_t, k) + cases[i].base + 13);
            expect_damage(&t, cut);
        }
        g_array_free(offsets, TRUE);
        g_free(full);
        g_free(cut);
    }
    sg_trace_free(&t);
}

Test(readers, corrupt_files)
{
    sg_trace t;
    make_trace(&t, false);
    uf_error err;
    /* pcapng: a block length that runs past the end of the file. */
    char *p = path_of("bad.pcapng");
    cr_assert_eq(sg_write_pcapng(&t, p, &err), 0);
    char *data;
    gsize n;
    cr_assert(g_file_get_contents(p, &data, &n, NULL));
    gsize epb = 28 + 40; /* SHB (28) + IDB (can0: 8 + 8 + 8 + 4 + 12 = 40) */
    cr_assert_eq(data[epb], 6);
    gsize second = epb + (guint8)data[epb + 4] + ((guint8)data[epb + 5] << 8);
    data[second + 4] = (char)0xFF;
    data[second + 5] = (char)0xFF;
    data[second + 6] = (char)0xFF;
    cr_assert(g_file_set_contents(p, data, (gssize)n, NULL));
    g_free(data);
    read_result rr = read_all(p);
    cr_assert_eq(rr.rc, -1);
    cr_assert_eq(rr.recs->len, 1);
    free_result(&rr);
    g_free(p);

    /* Text: a garbled line in the middle of a candump log. */
    char *c = path_of("bad.candump");
    cr_assert_eq(sg_write_candump(&t, c, false, &err), 0);
    cr_assert(g_file_get_contents(c, &data, &n, NULL));
    char *cut = strchr(strchr(data, '\n') + 1, '\n') + 1;
    GString *s = g_string_new_len(data, cut - data);
    g_string_append(s, "(1795255200.000000) can0 7E0#ZZ\n");
    g_string_append(s, cut);
    cr_assert(g_file_set_contents(c, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
    g_free(data);
    rr = read_all(c);
    cr_assert_eq(rr.rc, -1);
    cr_assert_eq(rr.recs->len, 2);
    cr_assert(strstr(rr.err.msg, "line 3"), "%s", rr.err.msg);
    free_result(&rr);

    /* Binary bytes inside a text capture. */
    cr_assert(g_file_get_contents(c, &data, &n, NULL));
    data[n / 2] = '\0';
    data[n / 2 + 1] = '\x01';
    cr_assert(g_file_set_contents(c, data, (gssize)n, NULL));
    g_free(data);
    rr = read_all(c);
    cr_assert_eq(rr.rc, -1);
    free_result(&rr);
    g_free(c);
    sg_trace_free(&t);
}

Test(readers, unreadable_inputs)
{
    uf_error err;
    char *empty = path_of("empty"), *junk = path_of("junk.pcap");
    cr_assert(g_file_set_contents(empty, "", 0, NULL));
    cr_assert(g_file_set_contents(junk, "\x13\x37 this is nothing we know\n\x01\x02", 29, NULL));
    cr_assert_null(uf_reader_open(empty, &err));
    cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
    cr_assert_null(uf_reader_open(junk, &err));
    cr_assert(strstr(err.msg, junk) && strstr(err.msg, "not a capture format"), "%s", err.msg);
    char *missing = path_of("missing.pcap");
    cr_assert_null(uf_reader_open(missing, &err));
    cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
    cr_assert_null(uf_reader_open(th_dir, &err));
    /* A pcap header cut short. */
    char *shorthdr = path_of("short.pcap");
    cr_assert(g_file_set_contents(shorthdr, "\xD4\xC3\xB2\xA1\x02\x00", 6, NULL));
    cr_assert_null(uf_reader_open(shorthdr, &err));
    cr_assert(strstr(err.msg, shorthdr), "%s", err.msg);
    g_free(empty);
    g_free(junk);
    g_free(missing);
    g_free(shorthdr);
}

Test(readers, gzip_compressed_pcapng_and_pcap)
{
    sg_trace t;
    make_trace(&t, true);
    uf_error err;
    char *ng = path_of("t.pcapng"), *pc = path_of("t.pcap");
    cr_assert_eq(sg_write_pcapng(&t, ng, &err), 0);
    cr_assert_eq(sg_write_pcap(&t, pc, SG_PCAP_SLL2, &err), 0);
    const char *names[] = {"can0", "can1"};
    const char *ifindex_names[] = {"if0/ifindex1", "if0/ifindex2"};
    const char *srcs[] = {ng, pc};
    for (int i = 0; i < 2; i++) {
        char *gz = g_strconcat(srcs[i], ".gz", NULL);
        char *data;
        gsize n;
        cr_assert(g_file_get_contents(srcs[i], &data, &n, NULL));
        GZlibCompressor *c = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
        GOutputStream *mem = g_memory_output_stream_new_resizable();
        GOutputStream *z = g_converter_output_stream_new(mem, G_CONVERTER(c));
        cr_assert(g_output_stream_write_all(z, data, n, NULL, NULL, NULL));
        cr_assert(g_output_stream_close(z, NULL, NULL));
        GMemoryOutputStream *m = G_MEMORY_OUTPUT_STREAM(mem);
        cr_assert(g_file_set_contents(gz, g_memory_output_stream_get_data(m),
                                      (gssize)g_memory_output_stream_get_data_size(m), NULL));
        g_object_unref(z);
        g_object_unref(mem);
        g_object_unref(c);
        g_free(data);
        read_result rr = read_all(gz);
        cr_assert_str_eq(rr.format, i == 0 ? "pcapng" : "pcap");
        expect_same(&t, &rr, 0, i == 0 ? names : ifindex_names, true);
        free_result(&rr);
        g_free(gz);
    }
    g_free(ng);
    g_free(pc);
    sg_trace_free(&t);
}

/* Wiretap 4.0's Busmaster scanner ends the whole process on this header
 * line (found by fuzz_reader): our own reader reports it as damage. */
Test(readers, busmaster_header_that_killed_wiretap)
{
    char *p = path_of("bad.busmaster");
    const char text[] = "***BUSMASTERRx 1 0x7E8 s 8 30 10 01 AA AA AA AA AA\n"
                        "10:0:0:2728 Tx 1 0x7E0 s 8 21 54 53 54 30 30 31 CC\n";
    cr_assert(g_file_set_contents(p, text, sizeof(text) - 1, NULL));
    read_result rr = read_all(p);
    cr_assert_str_eq(rr.format, "busmaster");
    cr_assert_eq(rr.rc, -1);
    cr_assert(strstr(rr.err.msg, p) && strstr(rr.err.msg, "line 1") && strstr(rr.err.msg, "***"),
              "%s", rr.err.msg);
    free_result(&rr);
    /* A carriage return and a control byte inside a header line (the other
     * input that made wiretap end the process) are binary data. */
    const char text2[] = "***BUSMASTER Ve\r\x02" "3.2.2***\n***PROTOCOL CAN***\n";
    cr_assert(g_file_set_contents(p, text2, sizeof(text2) - 1, NULL));
    rr = read_all(p);
    cr_assert_eq(rr.rc, -1);
    cr_assert(strstr(rr.err.msg, "binary"), "%s", rr.err.msg);
    free_result(&rr);
    g_free(p);
}

Test(readers, live_capture_fails_cleanly_without_the_interface)
{
    uf_error err;
    uf_reader *r = uf_reader_open_live("udsflashtest0", &err);
    if (r) {
        uf_reader_close(r);
        cr_skip_test("an interface named udsflashtest0 exists here");
    }
    cr_assert(strstr(err.msg, "udsflashtest0"), "%s", err.msg);
    cr_assert(strstr(err.msg, "AF_CAN") || strstr(err.msg, "no such interface") ||
                  strstr(err.msg, "permission"),
              "%s", err.msg);
}

/* ---- read-ahead ----------------------------------------------------------*/

/* Every record as the reader gives it, and how the reading ended. */
static th_reading read_directly(const char *path)
{
    th_reading rd = th_read_with(path, uf_reader_open);
    cr_assert_neq(rd.rc, -2, "%s", rd.err.msg);
    return rd;
}

/* With `slow`, the analyzer pauses now and then, so that the helper
 * fills every batch and reads on into new buffers meanwhile. With a
 * helper of the caller's, which may have other jobs, the caller wakes it
 * now and then, as the owner of another job would. */
static th_reading read_ahead_paced(const char *path, bool slow, uf_helper *helper)
{
    th_reading out = th_reading_new();
    uf_reader *r = uf_reader_open(path, &out.err);
    cr_assert_not_null(r, "%s", out.err.msg);
    uf_read_ahead *ra = uf_read_ahead_start(r, helper);
    const uf_record *rec;
    while ((out.rc = uf_read_ahead_next(ra, &rec, &out.err)) == 1) {
        th_reading_keep(&out, NULL, rec); /* the reader is the read-ahead's */
        if (slow && rec->number % 500 == 0)
            g_usleep(2000);
        if (helper && rec->number % 2000 == 0)
            uf_helper_wake(helper);
    }
    uf_error after;
    cr_assert_eq(uf_read_ahead_next(ra, &rec, &after), 0, "%s: after the end, the end", path);
    uf_read_ahead_stop(ra);
    th_reading_name_buses(&out, r);
    uf_reader_close(r);
    return out;
}

static void expect_same_reading_paced(const char *path, bool slow)
{
    th_reading want = read_directly(path), got = read_ahead_paced(path, slow, NULL);
    char *difference = th_reading_difference(path, &want, &got);
    cr_assert_null(difference, "read ahead against read directly: %s", difference);
    if (want.rc < 0)
        cr_assert_str_eq(got.err.msg, want.err.msg);
    th_reading_free(&want);
    th_reading_free(&got);
}

static void expect_same_reading(const char *path)
{
    expect_same_reading_paced(path, false);
}

/* The DoIP sample's records `times` times over: enough packet bytes to
 * fill several of the read-ahead's batches. */
static char *repeated_pcap(const char *name, int times)
{
    char *data;
    gsize n;
    char *sample = th_sample("doip-flash.pcap");
    cr_assert(g_file_get_contents(sample, &data, &n, NULL));
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)data, 24); /* the file header */
    for (int i = 0; i < times; i++)
        g_byte_array_append(out, (const guint8 *)data + 24, (guint)(n - 24));
    char *path = path_of(name);
    cr_assert(g_file_set_contents(path, (const char *)out->data, out->len, NULL));
    g_byte_array_free(out, TRUE);
    g_free(data);
    g_free(sample);
    return path;
}

/* Records through the read-ahead thread are the reader's own, in order,
 * packet bytes included, across batches; and damage ends it the same way. */
Test(readers, read_ahead_gives_what_the_reader_gives)
{
    const char *samples[] = {"flash-two-ecus.pcap", "gateway-doip-can.pcapng",
                             "flash-11bit.blf", "flash-two-buses.candump"};
    for (size_t i = 0; i < UF_ARRAY_LEN(samples); i++) {
        char *p = th_sample(samples[i]);
        expect_same_reading(p);
        g_free(p);
    }
    char *big = repeated_pcap("big.pcap", 12); /* about 500 KB of IP packets */
    expect_same_reading(big);
    char *cut = path_of("big-cut.pcap");
    truncate_copy(big, cut, 300001); /* inside a record: damage */
    expect_same_reading(cut);
    th_reading rd = read_directly(cut);
    cr_assert_eq(rd.rc, -1, "the cut is damage");
    th_reading_free(&rd);
    g_free(cut);
    g_free(big);
}

/* A copy of the capture at `from` at `to` (which may be the same file),
 * with the header of a record longer than the file's snaplen after it:
 * the reader hands such a record to libpcap. */
static void append_long_record(const char *from, const char *to)
{
    char *data;
    gsize n;
    cr_assert(g_file_get_contents(from, &data, &n, NULL));
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)data, (guint)n);
    const uint32_t header[4] = {1795000000, 0, 262145, 262145};
    g_byte_array_append(out, (const guint8 *)header, sizeof(header));
    cr_assert(g_file_set_contents(to, (const char *)out->data, out->len, NULL));
    g_byte_array_free(out, TRUE);
    g_free(data);
}

/* The pcap and pcapng readers lend the buffers they read the file into:
 * a packet's bytes stay where they were read until the analyzer has read
 * the batch its record is in, while the reader goes on into new buffers
 * (a mebibyte each). Over several of them, with an analyzer that pauses
 * so that the queue stays full, and up to a record that the reader hands
 * over to libpcap, which closes the buffer the records before it are in,
 * every packet reads back as the reader gave it. */
Test(readers, read_ahead_keeps_lent_packets_until_read)
{
    char *big = repeated_pcap("lent.pcap", 100); /* about 4 MB */
    expect_same_reading_paced(big, true);
    expect_same_reading_paced(big, false);
    /* A last record longer than the file's snaplen: libpcap's to read. */
    char *handed = path_of("lent-handed.pcap");
    append_long_record(big, handed);
    expect_same_reading_paced(handed, true);
    th_reading rd = read_directly(handed);
    cr_assert_gt(rd.recs->len, 13000, "the records before the long one: %u", rd.recs->len);
    th_reading_free(&rd);
    g_free(handed);
    g_free(big);
}

/* The same hand-over, with the file gone by then: libpcap cannot open it,
 * the reading ends with that damage, and the read-ahead and the reader
 * close cleanly with no backend left. The queue holds 2 MiB and the
 * window 1 MiB, so the thread cannot reach the long record, 4 MB in,
 * before the file is removed. */
Test(readers, read_ahead_ends_cleanly_when_the_hand_over_fails)
{
    char *big = repeated_pcap("gone.pcap", 100);
    append_long_record(big, big);
    uf_error err;
    uf_reader *r = uf_reader_open(big, &err);
    cr_assert_not_null(r, "%s", err.msg);
    uf_read_ahead *ra = uf_read_ahead_start(r, NULL);
    const uf_record *rec;
    cr_assert_eq(uf_read_ahead_next(ra, &rec, &err), 1, "%s", err.msg);
    cr_assert_eq(unlink(big), 0);
    int rc;
    uint64_t records = 1;
    while ((rc = uf_read_ahead_next(ra, &rec, &err)) == 1)
        records++;
    cr_expect_eq(rc, -1, "the hand-over fails");
    cr_expect_eq(records, 13100, "every record before the long one");
    cr_expect(strstr(err.msg, "gone.pcap"), "%s", err.msg);
    uf_read_ahead_stop(ra);
    uf_reader_close(r);
    g_free(big);
}

/* A helper's job that has work `pieces` times, a while each: the helper
 * reads ahead only between them. */
typedef struct busy_job {
    gint pieces;
} busy_job;

static bool busy_step(void *ctx)
{
    busy_job *j = ctx;
    if (g_atomic_int_get(&j->pieces) == 0)
        return false;
    g_usleep(300);
    g_atomic_int_add(&j->pieces, -1);
    return true;
}

/* A helper shared with a job that comes first (as the hashes do in
 * udsflash check) and is often busy: the caller then finds the queue empty
 * and reads batches itself, taking turns with the helper. The records are
 * the same, in order, across the turns and the lent buffers. */
Test(readers, read_ahead_on_a_busy_helper_gives_what_the_reader_gives)
{
    char *big = repeated_pcap("shared.pcap", 100);
    th_reading want = read_directly(big);
    for (int round = 0; round < 2; round++) {
        busy_job job = {round == 0 ? 400 : 4000};
        uf_helper *helper = uf_helper_new("test-helper");
        uf_helper_add(helper, busy_step, &job);
        th_reading got = read_ahead_paced(big, false, helper);
        uf_helper_remove(helper, &job);
        uf_helper_free(helper);
        char *difference = th_reading_difference(big, &want, &got);
        cr_assert_null(difference, "round %d: %s", round, difference);
        th_reading_free(&got);
    }
    th_reading_free(&want);
    g_free(big);
}

/* A caller that stops early gets its thread back at once. */
Test(readers, read_ahead_stops_early)
{
    char *big = repeated_pcap("big.pcap", 12);
    uf_error err;
    uf_reader *r = uf_reader_open(big, &err);
    cr_assert_not_null(r, "%s", err.msg);
    uf_read_ahead *ra = uf_read_ahead_start(r, NULL);
    const uf_record *rec;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(uf_read_ahead_next(ra, &rec, &err), 1, "%s", err.msg);
    cr_assert_eq(rec->number, 5);
    uf_read_ahead_stop(ra);
    uf_reader_close(r);
    g_free(big);
}
