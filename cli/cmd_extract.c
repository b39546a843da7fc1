/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash extract FILE -o DIR`: each download of a capture written as it
 * streams, as raw .bin and as Intel HEX (addresses kept), plus manifest.json
 * (session, ECU, address, size, bytes, SHA-256, data format), so that a
 * golden image can be compared with what was flashed. Only blocks the ECU
 * accepted are written. Files are written under a ".part" name and renamed
 * when the download ends: "-partial" unless a positive RequestTransferExit
 * completed it, so a half-written image never passes for a whole one.
 * Exit status: 0 all downloads complete, 1 none found or one incomplete,
 * 2 usage, 3 unreadable input or an output that cannot be written.
 */
#include "cli.h"
#include "ihex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct open_file {
    uint32_t session, download;
    char *base;   /* DIR/s1-0x7E8-d1-0x00010000 */
    FILE *bin, *hex;
    uf_ihex ihex;
    bool hex_ok;  /* addresses fit Intel HEX */
    bool broken;  /* a write failed: the files are removed, never named as images */
} open_file;

typedef struct extractor {
    const char *dir;
    GPtrArray *open;  /* open_file * */
    GArray *done;     /* manifest entries, see write_manifest */
    GPtrArray *names; /* file names of done entries: bin, hex (g_free) */
    bool write_error;
    char error[512];
    uint32_t incomplete;
} extractor;

typedef struct entry {
    uint32_t session, bus;
    char ecu[32], tester[32];
    uf_download d;
    bool has_files, hex_ok;
} entry;

static void fail(extractor *x, const char *what, const char *path)
{
    if (!x->write_error)
        snprintf(x->error, sizeof(x->error), "%s: %s: %s", path, what, strerror(errno));
    x->write_error = true;
}

/* "0x7E8" stays, "0x6F1:12" becomes "0x6F1_12": names safe on any file system. */
static void ecu_slug(const uf_session *s, char *buf, size_t size)
{
    if (s->ecu_known)
        uf_isotp_endpoint_name(&s->ecu, buf, size);
    else
        g_strlcpy(buf, "unknown", size);
    for (char *p = buf; *p; p++)
        if (*p == ':')
            *p = '_';
}

static open_file *find_open(extractor *x, const uf_session *s, const uf_download *d, bool create)
{
    for (guint i = 0; i < x->open->len; i++) {
        open_file *o = g_ptr_array_index(x->open, i);
        if (o->session == s->index && o->download == d->index)
            return o;
    }
    if (!create)
        return NULL;
    open_file *o = g_new0(open_file, 1);
    char slug[32];
    ecu_slug(s, slug, sizeof(slug));
    o->session = s->index;
    o->download = d->index;
    o->base = g_strdup_printf("%s/s%u-%s-d%u-0x%08" PRIX64, x->dir, s->index, slug, d->index,
                              d->address);
    char *bin = g_strconcat(o->base, ".bin.part", NULL), *hex = g_strconcat(o->base, ".hex.part", NULL);
    o->bin = fopen(bin, "wb");
    o->hex = fopen(hex, "w");
    if (!o->bin || !o->hex)
        fail(x, "cannot create", o->bin ? hex : bin);
    if (o->hex)
        uf_ihex_init(&o->ihex, o->hex);
    o->hex_ok = true;
    g_free(bin);
    g_free(hex);
    g_ptr_array_add(x->open, o);
    return o;
}

static void on_data(void *ctx, const uf_session *s, const uf_download *d, uint64_t offset,
                    const uint8_t *data, uint32_t len)
{
    extractor *x = ctx;
    open_file *o = find_open(x, s, d, true);
    if (!o->bin || !o->hex)
        return;
    if (fwrite(data, 1, len, o->bin) != len) {
        fail(x, "write failed", o->base);
        o->broken = true;
    }
    if (o->hex_ok && !uf_ihex_write(&o->ihex, d->address + offset, data, len))
        o->hex_ok = false; /* beyond 4 GiB: the .bin still has it */
}

/* Renames NAME.part to NAME (complete) or NAME-partial; returns the name. */
static char *settle(extractor *x, const char *base, const char *ext, bool complete)
{
    char *part = g_strdup_printf("%s.%s.part", base, ext);
    char *name = g_strdup_printf("%s%s.%s", base, complete ? "" : "-partial", ext);
    if (rename(part, name) != 0)
        fail(x, "cannot rename", part);
    g_free(part);
    return name;
}

static void on_end(void *ctx, const uf_session *s, const uf_download *d)
{
    extractor *x = ctx;
    entry e;
    memset(&e, 0, sizeof(e));
    e.session = s->index;
    e.bus = s->bus;
    e.d = *d;
    if (s->ecu_known)
        uf_isotp_endpoint_name(&s->ecu, e.ecu, sizeof(e.ecu));
    uf_isotp_endpoint_name(&s->tester, e.tester, sizeof(e.tester));
    open_file *o = find_open(x, s, d, false);
    char *bin = NULL, *hex = NULL;
    if (o && o->bin && o->hex) {
        uf_ihex_finish(&o->ihex);
        /* A failed fprintf sets the error flag; fclose reports the last flush. */
        bool had_error = ferror(o->bin) || ferror(o->hex);
        int closed_bin = fclose(o->bin), closed_hex = fclose(o->hex);
        if (had_error || closed_bin != 0 || closed_hex != 0) {
            fail(x, "write failed", o->base);
            o->broken = true;
        }
        if (o->broken) {
            char *part = g_strconcat(o->base, ".bin.part", NULL);
            remove(part);
            g_free(part);
            part = g_strconcat(o->base, ".hex.part", NULL);
            remove(part);
            g_free(part);
        } else {
            bin = settle(x, o->base, "bin", d->complete);
            hex = settle(x, o->base, "hex", d->complete);
            if (!o->hex_ok) {
                remove(hex); /* addresses beyond Intel HEX: only the .bin */
                g_free(hex);
                hex = NULL;
            }
            e.has_files = true;
            e.hex_ok = o->hex_ok;
        }
    } else if (o) {
        if (o->bin)
            fclose(o->bin);
        if (o->hex)
            fclose(o->hex);
    }
    if (o) {
        g_ptr_array_remove(x->open, o);
        g_free(o->base);
        g_free(o);
    }
    if (!d->complete)
        x->incomplete++;
    g_array_append_val(x->done, e);
    g_ptr_array_add(x->names, bin ? g_path_get_basename(bin) : NULL);
    g_ptr_array_add(x->names, hex ? g_path_get_basename(hex) : NULL);
    g_free(bin);
    g_free(hex);
}

/* Entries in session and download order (they end in whatever order). */
static gint by_session(gconstpointer a, gconstpointer b, gpointer user)
{
    const extractor *x = user;
    const entry *ea = &g_array_index(x->done, entry, *(const guint *)a);
    const entry *eb = &g_array_index(x->done, entry, *(const guint *)b);
    if (ea->session != eb->session)
        return ea->session < eb->session ? -1 : 1;
    return ea->d.index < eb->d.index ? -1 : ea->d.index > eb->d.index;
}

static GArray *manifest_order(const extractor *x)
{
    GArray *order = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < x->done->len; i++)
        g_array_append_val(order, i);
    g_array_sort_with_data(order, by_session, (gpointer)x);
    return order;
}

static bool write_manifest(extractor *x, const uf_cli_input *in, const uf_profile *p)
{
    char *path = g_build_filename(x->dir, "manifest.json", NULL);
    FILE *f = fopen(path, "w");
    if (!f) {
        fail(x, "cannot create", path);
        g_free(path);
        return false;
    }
    uf_json j;
    uf_json_init(&j, f, true);
    uf_json_begin_object(&j);
    uf_json_key(&j, "capture");
    uf_json_string(&j, uf_reader_path(in->reader));
    uf_json_key(&j, "profile");
    uf_json_string(&j, p ? p->name : NULL);
    uf_json_key(&j, "downloads");
    uf_json_begin_array(&j);
    GArray *order = manifest_order(x);
    for (guint k = 0; k < order->len; k++) {
        guint i = g_array_index(order, guint, k);
        const entry *e = &g_array_index(x->done, entry, i);
        char hexaddr[24];
        snprintf(hexaddr, sizeof(hexaddr), "0x%08" PRIX64, e->d.address);
        uf_json_begin_object(&j);
        uf_json_key(&j, "session");
        uf_json_uint(&j, e->session);
        uf_json_key(&j, "bus");
        uf_json_string(&j, uf_reader_bus_name(in->reader, e->bus));
        uf_json_key(&j, "ecu");
        uf_json_string(&j, e->ecu[0] ? e->ecu : NULL);
        uf_json_key(&j, "tester");
        uf_json_string(&j, e->tester);
        uf_json_key(&j, "download");
        uf_json_uint(&j, e->d.index);
        uf_json_key(&j, "address");
        uf_json_uint(&j, e->d.address);
        uf_json_key(&j, "address_hex");
        uf_json_string(&j, hexaddr);
        uf_json_key(&j, "size");
        uf_json_uint(&j, e->d.size);
        uf_json_key(&j, "bytes");
        uf_json_uint(&j, e->d.bytes);
        uf_json_key(&j, "blocks");
        uf_json_uint(&j, e->d.blocks);
        uf_json_key(&j, "data_format");
        uf_json_uint(&j, e->d.dfi);
        uf_json_key(&j, "compressed");
        uf_json_bool(&j, (e->d.dfi & 0xF0) != 0);
        uf_json_key(&j, "encrypted");
        uf_json_bool(&j, (e->d.dfi & 0x0F) != 0);
        uf_json_key(&j, "complete");
        uf_json_bool(&j, e->d.complete);
        uf_json_key(&j, "sha256");
        uf_json_string(&j, e->d.sha256);
        uf_json_key(&j, "first_frame");
        uf_json_uint(&j, e->d.first_frame);
        uf_json_key(&j, "last_frame");
        uf_json_uint(&j, e->d.last_frame);
        uf_json_key(&j, "bin");
        uf_json_string(&j, g_ptr_array_index(x->names, 2 * i));
        uf_json_key(&j, "hex");
        uf_json_string(&j, g_ptr_array_index(x->names, 2 * i + 1));
        uf_json_end_object(&j);
    }
    g_array_free(order, TRUE);
    uf_json_end_array(&j);
    uf_json_end_object(&j);
    bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok) {
        fail(x, "write failed", path);
        ok = false;
    }
    g_free(path);
    return ok;
}

int uf_cmd_extract(int argc, char **argv)
{
    char *dir = NULL;
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &dir, "Write the images into DIR (created)",
         "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE -o DIR - write the flashed images of a capture",
        "Writes each download (RequestDownload .. TransferData .. RequestTransferExit) as a\n"
        "raw .bin and as Intel HEX at its address, with manifest.json (ECU, address, size,\n"
        "SHA-256, data format). Incomplete downloads are named -partial.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_error err;
    uf_analyzer_config cfg;
    if (!uf_cli_parse(ctx, "extract", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (argc != 2 || !dir) {
        fprintf(stderr, "udsflash extract: give one capture FILE and -o DIR (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (!uf_cli_analysis_config(&an, &cfg, &err)) {
        fprintf(stderr, "udsflash extract: %s\n", err.msg);
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        fprintf(stderr, "udsflash extract: %s: cannot create: %s\n", dir, strerror(errno));
        status = UF_EXIT_INPUT;
        goto done;
    }
    uf_cli_input in;
    if (!uf_cli_open(&in, argv[1], NULL)) {
        status = UF_EXIT_INPUT;
        goto done;
    }
    /* The sinks below keep bus indexes; names are asked for after the
     * analysis (the manifest): the reader may be the read-ahead's. */
    in.read_ahead = true;
    extractor x = {dir, g_ptr_array_new(), g_array_new(FALSE, TRUE, sizeof(entry)),
                   g_ptr_array_new_with_free_func(g_free), false, "", 0};
    uf_analyzer_sink sink = {.ctx = &x, .download_data = on_data, .download_end = on_end};
    uf_analyzer *a = uf_cli_analyze(&in, &cfg, &sink);
    write_manifest(&x, &in, cfg.profile);
    GArray *order = manifest_order(&x);
    for (guint k = 0; k < order->len; k++) {
        guint i = g_array_index(order, guint, k);
        const entry *e = &g_array_index(x.done, entry, i);
        const char *bin = g_ptr_array_index(x.names, 2 * i);
        printf("%s  session %u ECU %s  0x%08" PRIX64 "  %" PRIu64 " of %" PRIu64
               " bytes  sha256 %s%s\n", bin ? bin : "(no data)", e->session,
               e->ecu[0] ? e->ecu : "?", e->d.address, e->d.bytes, e->d.size, e->d.sha256,
               e->d.complete ? "" : "  INCOMPLETE");
    }
    g_array_free(order, TRUE);
    if (fflush(stdout) != 0 && !x.write_error) {
        snprintf(x.error, sizeof(x.error), "stdout: write failed: %s", strerror(errno));
        x.write_error = true;
    }
    if (x.write_error) {
        fprintf(stderr, "udsflash extract: %s\n", x.error);
        status = UF_EXIT_INPUT;
    } else if (in.damaged) {
        fprintf(stderr, "udsflash: %s\n", in.damage.msg);
        status = UF_EXIT_INPUT;
    } else if (x.done->len == 0) {
        fprintf(stderr, "udsflash extract: no download in %s\n", argv[1]);
        status = UF_EXIT_FINDINGS;
    } else if (x.incomplete) {
        fprintf(stderr, "udsflash extract: %u download%s did not complete; written as -partial\n",
                x.incomplete, x.incomplete == 1 ? "" : "s");
        status = UF_EXIT_FINDINGS;
    }
    uf_analyzer_free(a);
    uf_cli_close(&in);
    g_ptr_array_free(x.open, TRUE);
    g_array_free(x.done, TRUE);
    g_ptr_array_free(x.names, TRUE);
done:
    uf_cli_analysis_free(&an);
    g_free(dir);
    g_option_context_free(ctx);
    return status;
}
