/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash extract` on flashes simulated here: the .bin files hold exactly
 * the bytes the tester sent, the Intel HEX files read back with binutils at
 * the download's address, the manifest names each one, and a capture cut
 * mid-transfer gives a -partial image and exit 1, never a whole-looking one.
 * The Intel HEX writer on its own: records, checksums, 64 KiB boundaries.
 */
#include "helpers.h"
#include "ihex.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define T0 (INT64_C(1795255200) * UF_NS_PER_S)

/* Two ECUs flashed at once on one bus: ECU 0x7E8 in two regions (0x10000
 * and 0x20000), ECU 0x7E9 across the 16 MiB line at 0x00FFF800, so its
 * Intel HEX needs a new upper address in the middle. */
static const sg_flash flash_a = {.image_size = 8192, .address = 0x00010000, .max_block = 0x102,
                                 .seed = 0xA1A2A3A4, .erase_pending = 1,
                                 .faults = SG_TWO_REGIONS};
static const sg_flash flash_b = {.image_size = 4096, .address = 0x00FFF800, .max_block = 0x82,
                                 .seed = 0xB1B2B3B4, .erase_pending = 1};

typedef struct expected_image {
    uint32_t session;
    uint64_t address;
    const sg_flash *flash;
    uint32_t offset, size; /* slice of the flash's image */
} expected_image;

static const expected_image images[] = {
    {1, 0x00010000, &flash_a, 0, 4096},
    {1, 0x00020000, &flash_a, 4096, 4096},
    {2, 0x00FFF800, &flash_b, 0, 4096},
};

static char *two_ecus_capture(const char *dir)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link a = th_link(&t, "can0", 0x7E0, 0x7E8);
    sg_link b = th_link(&t, "can0", 0x7E1, 0x7E9);
    b.rng = 7;
    sg_flash_session(&t, &a, &flash_a, T0);
    sg_flash_session(&t, &b, &flash_b, T0 + 3 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    char *path = th_write_pcap(&t, dir, "two-ecus.pcap");
    sg_trace_free(&t);
    return path;
}

/* ECU 0x7E8 flashed with flash_b and these faults. */
static char *one_flash_capture(const char *dir, const char *name, uint32_t faults)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = th_link(&t, "can0", 0x7E0, 0x7E8);
    sg_flash f = flash_b;
    f.faults = faults;
    sg_flash_session(&t, &l, &f, T0);
    sg_trace_finish(&t);
    char *path = th_write_pcap(&t, dir, name);
    sg_trace_free(&t);
    return path;
}

static uint8_t *expected_bytes(const expected_image *e)
{
    uint8_t *all = g_malloc(e->flash->image_size);
    sg_image(all, e->flash->image_size, e->flash->seed);
    uint8_t *slice = g_memdup2(all + e->offset, e->size);
    g_free(all);
    return slice;
}

static JsonParser *manifest(const char *dir, JsonArray **downloads)
{
    char *path = g_build_filename(dir, "manifest.json", NULL);
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    cr_assert(json_parser_load_from_file(p, path, &e), "%s: %s", path, e ? e->message : "");
    *downloads = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                              "downloads");
    cr_assert_not_null(*downloads);
    g_free(path);
    return p;
}

static JsonObject *manifest_entry(JsonArray *downloads, uint32_t session, uint64_t address)
{
    for (guint i = 0; i < json_array_get_length(downloads); i++) {
        JsonObject *o = json_array_get_object_element(downloads, i);
        if (json_object_get_int_member(o, "session") == session &&
            (uint64_t)json_object_get_int_member(o, "address") == address)
            return o;
    }
    cr_assert_fail("manifest has no download of session %u at 0x%08" PRIx64, session, address);
    return NULL;
}

static char *read_file(const char *dir, const char *name, gsize *len)
{
    char *path = g_build_filename(dir, name, NULL), *data = NULL;
    cr_assert(g_file_get_contents(path, &data, len, NULL), "%s is missing", path);
    g_free(path);
    return data;
}

Test(extract, images_are_the_bytes_flashed)
{
    char *dir = th_tmpdir(), *capture = two_ecus_capture(dir);
    char *out_dir = g_build_filename(dir, "images", NULL), *out = NULL, *err = NULL;
    int rc = th_udsflash(&out, &err, "extract", capture, "-o", out_dir, NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    JsonArray *downloads;
    JsonParser *p = manifest(out_dir, &downloads);
    cr_assert_eq(json_array_get_length(downloads), UF_ARRAY_LEN(images));
    for (size_t i = 0; i < UF_ARRAY_LEN(images); i++) {
        const expected_image *e = &images[i];
        JsonObject *o = manifest_entry(downloads, e->session, e->address);
        uint8_t *want = expected_bytes(e);
        gsize n;
        char *bin = read_file(out_dir, json_object_get_string_member(o, "bin"), &n);
        cr_assert_eq(n, e->size, "%s", json_object_get_string_member(o, "bin"));
        cr_assert_arr_eq(bin, want, e->size, "%s differs from the image flashed",
                         json_object_get_string_member(o, "bin"));
        char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, want, e->size);
        cr_assert_str_eq(json_object_get_string_member(o, "sha256"), sha);
        cr_assert_eq(json_object_get_int_member(o, "size"), e->size);
        cr_assert_eq(json_object_get_int_member(o, "bytes"), e->size);
        cr_assert(json_object_get_boolean_member(o, "complete"));
        cr_assert_str_eq(json_object_get_string_member(o, "ecu"), e->session == 1 ? "0x7E8" : "0x7E9");
        cr_assert(!g_str_has_suffix(json_object_get_string_member(o, "bin"), "-partial.bin"));
        /* The summary line on stdout names the file and its hash. */
        cr_assert(strstr(out, json_object_get_string_member(o, "bin")) && strstr(out, sha), "%s",
                  out);
        g_free(sha);
        g_free(bin);
        g_free(want);
    }
    /* Nothing but the images and the manifest: no .part left behind. */
    GDir *d = g_dir_open(out_dir, 0, NULL);
    unsigned files = 0;
    for (const char *name; (name = g_dir_read_name(d)); files++)
        cr_assert(!g_str_has_suffix(name, ".part"), "%s left behind", name);
    g_dir_close(d);
    cr_assert_eq(files, 2 * UF_ARRAY_LEN(images) + 1);
    g_object_unref(p);
    g_free(out);
    g_free(err);
    g_free(out_dir);
    g_free(capture);
    g_free(dir);
}

/* objdump -h "VMA" of the single section objcopy makes of a HEX file. */
static uint64_t hex_section_address(const char *hex_path)
{
    const char *argv[] = {"objdump", "-h", hex_path, NULL};
    char *out = NULL;
    cr_assert_eq(th_run(argv, &out, NULL), 0);
    char *line = strstr(out, ".sec1");
    cr_assert_not_null(line, "%s", out);
    unsigned long long size, vma;
    cr_assert_eq(sscanf(line, ".sec1 %llx %llx", &size, &vma), 2, "%s", out);
    g_free(out);
    return vma;
}

Test(extract, intel_hex_reads_back_with_binutils)
{
    if (!th_have_program("objcopy") || !th_have_program("objdump"))
        cr_skip_test("objcopy / objdump (binutils) are missing: cannot read Intel HEX back");
    char *dir = th_tmpdir(), *capture = two_ecus_capture(dir);
    char *out_dir = g_build_filename(dir, "images", NULL);
    cr_assert_eq(th_udsflash(NULL, NULL, "extract", capture, "-o", out_dir, NULL), 0);
    JsonArray *downloads;
    JsonParser *p = manifest(out_dir, &downloads);
    for (size_t i = 0; i < UF_ARRAY_LEN(images); i++) {
        const expected_image *e = &images[i];
        JsonObject *o = manifest_entry(downloads, e->session, e->address);
        char *hex = g_build_filename(out_dir, json_object_get_string_member(o, "hex"), NULL);
        char *back = g_strconcat(hex, ".objcopy.bin", NULL);
        const char *argv[] = {"objcopy", "-I", "ihex", "-O", "binary", hex, back, NULL};
        char *err = NULL;
        cr_assert_eq(th_run(argv, NULL, &err), 0, "objcopy rejects %s: %s", hex, err);
        g_free(err);
        gsize n;
        char *data = NULL;
        cr_assert(g_file_get_contents(back, &data, &n, NULL));
        uint8_t *want = expected_bytes(e);
        cr_assert_eq(n, e->size);
        cr_assert_arr_eq(data, want, e->size, "%s differs from the image flashed", hex);
        cr_assert_eq(hex_section_address(hex), e->address, "%s", hex);
        g_free(want);
        g_free(data);
        g_free(back);
        g_free(hex);
    }
    g_object_unref(p);
    g_free(out_dir);
    g_free(capture);
    g_free(dir);
}

/* A capture that ends in the middle of the transfer. */
Test(extract, cut_transfer_is_written_as_partial)
{
    char *dir = th_tmpdir(), *capture = one_flash_capture(dir, "cut.pcap", SG_CUT);

    char *out_dir = g_build_filename(dir, "images", NULL), *err = NULL;
    cr_assert_eq(th_udsflash(NULL, &err, "extract", capture, "-o", out_dir, NULL), 1);
    cr_assert(strstr(err, "did not complete"), "%s", err);
    g_free(err);
    JsonArray *downloads;
    JsonParser *p = manifest(out_dir, &downloads);
    cr_assert_eq(json_array_get_length(downloads), 1);
    JsonObject *o = json_array_get_object_element(downloads, 0);
    cr_assert(!json_object_get_boolean_member(o, "complete"));
    const char *bin_name = json_object_get_string_member(o, "bin");
    cr_assert(g_str_has_suffix(bin_name, "-partial.bin"), "%s", bin_name);
    cr_assert(g_str_has_suffix(json_object_get_string_member(o, "hex"), "-partial.hex"));
    /* The blocks the ECU accepted before the end: a prefix of the image. */
    gsize n;
    char *bin = read_file(out_dir, bin_name, &n);
    cr_assert_eq((gint64)n, json_object_get_int_member(o, "bytes"));
    cr_assert(n > 0 && n < flash_b.image_size, "%zu bytes", (size_t)n);
    uint8_t *image = g_malloc(flash_b.image_size);
    sg_image(image, flash_b.image_size, flash_b.seed);
    cr_assert_arr_eq(bin, image, n);
    char *whole = g_build_filename(out_dir, "s1-0x7E8-d1-0x00FFF800.bin", NULL);
    cr_assert(!g_file_test(whole, G_FILE_TEST_EXISTS), "a cut image under a complete name");
    g_free(whole);
    g_free(image);
    g_free(bin);
    g_object_unref(p);
    g_free(out_dir);
    g_free(capture);

    /* The bundled cut sample says the same. */
    char *sample_dir = g_build_filename(dir, "sample", NULL);
    cr_assert_eq(th_udsflash(NULL, NULL, "extract", "samples/flash-11bit-cut.pcap", "-o",
                             sample_dir, NULL), 1);
    char *partial = g_build_filename(sample_dir, "s1-0x7E8-d1-0x00010000-partial.bin", NULL);
    cr_assert(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_free(partial);
    g_free(sample_dir);
    g_free(dir);
}

/* A compressed download keeps its bytes as transferred and says so. */
Test(extract, compressed_download_is_noted)
{
    char *dir = th_tmpdir(), *capture = one_flash_capture(dir, "compressed.pcap", SG_COMPRESSED);
    char *out_dir = g_build_filename(dir, "images", NULL);
    cr_assert_eq(th_udsflash(NULL, NULL, "extract", capture, "-o", out_dir, NULL), 0);
    JsonArray *downloads;
    JsonParser *p = manifest(out_dir, &downloads);
    JsonObject *o = json_array_get_object_element(downloads, 0);
    cr_assert(json_object_get_boolean_member(o, "compressed"));
    cr_assert_eq(json_object_get_int_member(o, "data_format"), 0x10);
    cr_assert_lt(json_object_get_int_member(o, "bytes"), json_object_get_int_member(o, "size"));
    g_object_unref(p);
    g_free(out_dir);
    g_free(capture);
    g_free(dir);
}

Test(extract, errors)
{
    char *dir = th_tmpdir(), *err = NULL;
    /* 2: no output directory. */
    cr_assert_eq(th_udsflash(NULL, &err, "extract", "samples/flash-11bit.pcap", NULL), 2);
    cr_assert(strstr(err, "-o"), "%s", err);
    g_free(err);
    /* 3: no input; an output directory that cannot be made. */
    char *out_dir = g_build_filename(dir, "images", NULL);
    cr_assert_eq(th_udsflash(NULL, &err, "extract", "samples/no-such.pcap", "-o", out_dir, NULL),
                 3);
    cr_assert(strstr(err, "no-such.pcap"), "%s", err);
    g_free(err);
    char *file = g_build_filename(dir, "a-file", NULL);
    cr_assert(g_file_set_contents(file, "x", 1, NULL));
    char *under_file = g_build_filename(file, "images", NULL);
    cr_assert_eq(th_udsflash(NULL, &err, "extract", "samples/flash-11bit.pcap", "-o", under_file,
                             NULL), 3);
    cr_assert(strstr(err, under_file), "%s", err);
    g_free(err);
    /* 1: a capture without a download. */
    char *empty = g_build_filename(dir, "no-flash.candump", NULL);
    cr_assert(g_file_set_contents(empty, "(1.000000) can0 7E0#0210030000000000\n"
                                         "(1.010000) can0 7E8#065003003201F400\n", -1, NULL));
    cr_assert_eq(th_udsflash(NULL, &err, "extract", empty, "-o", out_dir, NULL), 1);
    cr_assert(strstr(err, "no download"), "%s", err);
    g_free(err);
    g_free(empty);
    g_free(under_file);
    g_free(file);
    g_free(out_dir);
    g_free(dir);
}

/* Files may not grow past 3000 bytes, and writing more fails (EFBIG) rather
 * than killing the process: a disk that fills up in the middle of an image. */
static void small_file_limit(gpointer unused)
{
    (void)unused;
    struct rlimit r = {3000, 3000};
    setrlimit(RLIMIT_FSIZE, &r);
    signal(SIGXFSZ, SIG_IGN);
}

Test(extract, a_failed_write_leaves_no_image)
{
    char *dir = th_tmpdir(), *sample = th_sample("flash-11bit.pcap");
    char *out_dir = g_build_filename(dir, "images", NULL), *err = NULL;
    char *argv[] = {(char *)UF_UDSFLASH, "extract", sample, "-o", out_dir, NULL};
    int status = -1;
    cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, small_file_limit, NULL,
                           NULL, &err, &status, NULL));
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d: %s", status, err);
    cr_assert(strstr(err, "write failed"), "%s", err);
    GDir *d = g_dir_open(out_dir, 0, NULL);
    cr_assert_not_null(d);
    for (const char *name; (name = g_dir_read_name(d));)
        cr_assert(strcmp(name, "manifest.json") == 0, "%s left in %s after a failed write", name,
                  out_dir);
    g_dir_close(d);
    g_free(err);
    g_free(out_dir);
    g_free(sample);
    g_free(dir);
}

/* ---- the Intel HEX writer ---------------------------------------------------*/

/* Checks every record's checksum and rebuilds (address, byte) pairs. */
static void parse_ihex(const char *text, GArray *addresses, GByteArray *bytes, unsigned *upper_records)
{
    uint32_t upper = 0;
    bool eof = false;
    *upper_records = 0;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        cr_assert(!eof, "record after the end-of-file record");
        cr_assert_eq((*l)[0], ':', "%s", *l);
        size_t n = strlen(*l + 1) / 2;
        uint8_t rec[300];
        cr_assert(n >= 5 && n < sizeof(rec), "%s", *l);
        uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            char hex[3] = {(*l)[1 + 2 * i], (*l)[2 + 2 * i], 0};
            rec[i] = (uint8_t)strtoul(hex, NULL, 16);
            sum = (uint8_t)(sum + rec[i]);
        }
        cr_assert_eq(sum, 0, "bad checksum: %s", *l);
        uint8_t len = rec[0], type = rec[3];
        uint16_t address = (uint16_t)(rec[1] << 8 | rec[2]);
        cr_assert_eq(n, (size_t)len + 5, "%s", *l);
        cr_assert_leq(len, 16);
        if (type == 0x04) {
            upper = (uint32_t)(rec[4] << 8 | rec[5]) << 16;
            (*upper_records)++;
        } else if (type == 0x00) {
            cr_assert_leq((uint32_t)address + len, 0x10000, "record crosses 64 KiB: %s", *l);
            for (uint8_t i = 0; i < len; i++) {
                uint32_t a = upper | (uint32_t)(address + i);
                g_array_append_val(addresses, a);
                g_byte_array_append(bytes, &rec[4 + i], 1);
            }
        } else {
            cr_assert_eq(type, 0x01, "%s", *l);
            eof = true;
        }
    }
    cr_assert(eof, "no end-of-file record");
    g_strfreev(lines);
}

Test(ihex, records_across_64k_and_gaps)
{
    uint8_t data[100];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    uf_ihex h;
    uf_ihex_init(&h, f);
    cr_assert(uf_ihex_write(&h, 0x0001FFE0, data, 60));       /* crosses 0x00020000 */
    cr_assert(uf_ihex_write(&h, 0x0001FFE0 + 60, data + 60, 10)); /* contiguous */
    cr_assert(uf_ihex_write(&h, 0x00300000, data + 70, 30));  /* a gap */
    uf_ihex_finish(&h);
    fclose(f);

    GArray *addresses = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GByteArray *bytes = g_byte_array_new();
    unsigned uppers;
    parse_ihex(text, addresses, bytes, &uppers);
    cr_assert_eq(bytes->len, sizeof(data));
    cr_assert_arr_eq(bytes->data, data, sizeof(data));
    for (guint i = 0; i < 70; i++)
        cr_assert_eq(g_array_index(addresses, uint32_t, i), 0x0001FFE0 + i);
    for (guint i = 70; i < 100; i++)
        cr_assert_eq(g_array_index(addresses, uint32_t, i), 0x00300000 + i - 70);
    cr_assert_eq(uppers, 3, "upper-address records: %u\n%s", uppers, text);
    g_array_free(addresses, TRUE);
    g_byte_array_free(bytes, TRUE);
    free(text);
}

Test(ihex, addresses_beyond_32_bits_are_refused)
{
    uint8_t data[17] = {0};
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    uf_ihex h;
    uf_ihex_init(&h, f);
    cr_assert(uf_ihex_write(&h, 0xFFFFFFF0u, data, 16));
    cr_assert(!uf_ihex_write(&h, 0xFFFFFFF0u, data, 17));
    cr_assert(!uf_ihex_write(&h, UINT64_C(0x100000000), data, 1));
    uf_ihex_finish(&h);
    fclose(f);
    cr_assert(strstr(text, ":02000004FFFFFC\n"), "%s", text);
    cr_assert(g_str_has_suffix(text, ":00000001FF\n"), "%s", text);
    free(text);
}
