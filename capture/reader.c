/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The reader front: finds the format from the first bytes of the file (a
 * probe table in the manner of libpcap's savefile.c), numbers records as
 * Wireshark does, latches the end after damage, and keeps the bus table.
 */
#include "reader_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define PROBE_SIZE 4096

/* Binary formats recognised by their first four bytes. */
typedef struct magic_probe {
    uint8_t magic[4];
    const char *what;
    int (*open)(uf_reader *r, uf_error *err);
} magic_probe;

static const magic_probe magic_probes[] = {
    {{0xD4, 0xC3, 0xB2, 0xA1}, "pcap", pcap_file_open},
    {{0xA1, 0xB2, 0xC3, 0xD4}, "pcap", pcap_file_open},
    {{0x4D, 0x3C, 0xB2, 0xA1}, "pcap (ns)", pcap_file_open},
    {{0xA1, 0xB2, 0x3C, 0x4D}, "pcap (ns)", pcap_file_open},
    {{0x0A, 0x0D, 0x0D, 0x0A}, "pcapng", pcapng_file_open},
    {{'L', 'O', 'G', 'G'}, "BLF", blf_file_open},
    {{0x1F, 0x8B, 0x08, 0x00}, "gzip", gzip_file_open},
    {{0x1F, 0x8B, 0x08, 0x08}, "gzip (with a name)", gzip_file_open},
};

static uf_reader *reader_new(const char *path)
{
    uf_reader *r = g_new0(uf_reader, 1);
    r->path = g_strdup(path);
    r->bus_names = g_ptr_array_new_with_free_func(g_free);
    r->bus_index = g_hash_table_new(g_str_hash, g_str_equal);
    r->has_time = true;
    return r;
}

static void reader_free(uf_reader *r)
{
    if (!r)
        return;
    g_hash_table_destroy(r->bus_index);
    g_ptr_array_free(r->bus_names, TRUE);
    g_free(r->path);
    g_free(r);
}

uint32_t reader_bus(uf_reader *r, const char *name)
{
    gpointer v = g_hash_table_lookup(r->bus_index, name);
    if (v)
        return GPOINTER_TO_UINT(v) - 1;
    char *copy = g_strdup(name);
    g_ptr_array_add(r->bus_names, copy);
    uint32_t index = r->bus_names->len - 1;
    g_hash_table_insert(r->bus_index, copy, GUINT_TO_POINTER(index + 1));
    return index;
}

uint32_t reader_bus_for_ifindex(uf_reader *r, uint32_t base_bus, uint32_t ifindex,
                                uint32_t *cache_key, uint32_t *cache_bus)
{
    if (ifindex == 0)
        return base_bus;
    if (*cache_key != ifindex) {
        char name[96];
        snprintf(name, sizeof(name), "%s/ifindex%u", uf_reader_bus_name(r, base_bus), ifindex);
        *cache_key = ifindex;
        *cache_bus = reader_bus(r, name);
    }
    return *cache_bus;
}

void reader_take_link(uf_reader *r, uint32_t linktype, const uint8_t *data, size_t len,
                      uint32_t base_bus, uint32_t *cache_key, uint32_t *cache_bus, uf_record *rec)
{
    uint32_t ifindex = 0;
    if (uf_decode_link(linktype, data, len, &r->link, rec, &ifindex, &rec->problem) < 0)
        rec->kind = UF_REC_SKIPPED;
    rec->bus = reader_bus_for_ifindex(r, base_bus, ifindex, cache_key, cache_bus);
}

text_kind text_classify(const char *head, size_t len)
{
    static const char *const asc_headers[] = {"date ", "base ", "begin triggerblock",
                                              "internal events logged",
                                              "no internal events logged", "// version"};
    const char *p = head, *end = head + len;
    for (int lines = 0; p < end && lines < 64; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t n = (size_t)(line_end - p);
        if (memchr(p, '\0', n))
            return TEXT_UNKNOWN; /* binary data */
        const char *s = p;
        while (s < line_end && (*s == ' ' || *s == '\t'))
            s++;
        size_t rest = (size_t)(line_end - s);
        if (rest >= 3 && memcmp(s, "***", 3) == 0) {
            if (g_strstr_len(s, (gssize)rest, "BUSMASTER"))
                return TEXT_BUSMASTER;
        } else if (rest > 0) {
            for (size_t i = 0; i < UF_ARRAY_LEN(asc_headers); i++) {
                size_t k = strlen(asc_headers[i]);
                if (rest >= k && g_ascii_strncasecmp(s, asc_headers[i], k) == 0)
                    return TEXT_ASC;
            }
            uf_candump_line cl;
            const char *why;
            if (uf_candump_parse_line(p, n, &cl, &why) == UF_LINE_FRAME)
                return TEXT_CANDUMP;
            uf_asc_state st;
            uf_can_frame f;
            uf_time t;
            uf_asc_init(&st);
            if (uf_asc_parse_line(&st, p, n, &f, &t, &why) == UF_LINE_FRAME)
                return TEXT_ASC;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return TEXT_UNKNOWN;
}

uf_reader *uf_reader_open(const char *path, uf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        uf_error_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char head[PROBE_SIZE];
    size_t got = fread(head, 1, sizeof(head), f);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno) {
        uf_error_set(err, "%s: cannot read: %s", path, strerror(read_errno));
        return NULL;
    }
    if (got == 0) {
        uf_error_set(err, "%s: empty file, not a capture", path);
        return NULL;
    }

    uf_reader *r = reader_new(path);
    int (*open)(uf_reader *, uf_error *) = NULL;
    for (size_t i = 0; got >= 4 && i < UF_ARRAY_LEN(magic_probes); i++)
        if (memcmp(head, magic_probes[i].magic, 4) == 0)
            open = magic_probes[i].open;
    if (!open) {
        switch (text_classify(head, got)) {
        case TEXT_CANDUMP: open = candump_file_open; break;
        case TEXT_ASC: open = asc_file_open; break;
        case TEXT_BUSMASTER: open = busmaster_file_open; break;
        case TEXT_UNKNOWN: break;
        }
    }
    if (!open) {
        /* Wiretap reads many more formats, but each of its readers is more
         * code facing untrusted bytes; we route only the ones we test. */
        uf_error_set(err, "%s: not a capture format udsflash reads (pcap, pcapng, BLF, Busmaster, "
                     "candump, Vector ASC, or gzip-compressed pcap / pcapng)", path);
        reader_free(r);
        return NULL;
    }
    if (open(r, err) < 0) {
        reader_free(r);
        return NULL;
    }
    return r;
}

/* A reader opened with one backend, without probing. */
static uf_reader *open_with(const char *path, int (*open)(uf_reader *, uf_error *),
                            uf_error *err)
{
    uf_reader *r = reader_new(path);
    if (open(r, err) < 0) {
        reader_free(r);
        return NULL;
    }
    return r;
}

uf_reader *uf_reader_open_pcapng_wiretap(const char *path, uf_error *err)
{
    return open_with(path, pcapng_wiretap_open, err);
}

uf_reader *uf_reader_open_pcap_libpcap(const char *path, uf_error *err)
{
    return open_with(path, pcap_libpcap_open, err);
}

uf_reader *uf_reader_open_live(const char *iface, uf_error *err)
{
    uf_reader *r = reader_new(iface);
    if (live_open(r, iface, err) < 0) {
        reader_free(r);
        return NULL;
    }
    return r;
}

int reader_damaged(const uf_reader *r, uint64_t at, uf_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    uf_error_set(err, "%s: damaged at byte %" G_GUINT64_FORMAT " (after frame %" G_GUINT64_FORMAT
                 "): %s", r->path, at, r->count, why);
    g_free(why);
    return -1;
}

int reader_read_failed(const uf_reader *r, uint64_t at, uf_error *err)
{
    uf_error_set(err, "%s: cannot read at byte %" G_GUINT64_FORMAT ": %s", r->path, at,
                 strerror(errno));
    return -1;
}

/* What a backend may leave unset in a record. */
static void clear_record(uf_record *rec)
{
    rec->problem = NULL;
    rec->bus = 0;
    rec->offset = 0;
    rec->time = UF_TIME_NONE;
}

/* Gives the backend now reading the lender of reader_lend, if it has a
 * window to lend. */
static void lend_window(uf_reader *r)
{
    byte_window *w = r->ops && r->ops->window ? r->ops->window(r) : NULL;
    r->lending = w && r->lender.retire ? w : NULL;
    if (w)
        byte_window_lend(w, r->lender.retire ? &r->lender : NULL);
}

void reader_lend(uf_reader *r, const byte_window_lender *lender)
{
    r->lender = lender ? *lender : (byte_window_lender){0};
    lend_window(r);
}

int reader_hand_over(uf_reader *r, int (*open)(uf_reader *, uf_error *), const char *to,
                     uf_record *rec, uf_error *err)
{
    uint64_t given = r->count;
    r->ops->close(r); /* a lent buffer goes to retire: records may still be in it */
    r->lending = NULL;
    if (open(r, err) < 0)
        return -1;
    lend_window(r);
    for (uint64_t k = 0; k < given; k++) {
        clear_record(rec);
        int rc = r->ops->next(r, rec, err);
        if (rc != 1) {
            if (rc == 0)
                uf_error_set(err, "%s: %s finds %" G_GUINT64_FORMAT " records before the first "
                             "that udsflash leaves to it, where udsflash read %" G_GUINT64_FORMAT,
                             r->path, to, k, given);
            return -1;
        }
    }
    clear_record(rec);
    return r->ops->next(r, rec, err);
}

int uf_reader_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    if (r->ended)
        return 0;
    clear_record(rec);
    int rc = r->ops->next(r, rec, err);
    if (rc == 1) {
        rec->number = ++r->count;
        return 1;
    }
    r->ended = true;
    return rc;
}

void uf_reader_break(uf_reader *r)
{
    r->stop = 1;
}

const char *uf_reader_format(const uf_reader *r)
{
    return r->format;
}

const char *uf_reader_path(const uf_reader *r)
{
    return r->path;
}

bool uf_reader_has_time(const uf_reader *r)
{
    return r->has_time;
}

uint32_t uf_reader_bus_count(const uf_reader *r)
{
    return r->bus_names->len;
}

const char *uf_reader_bus_name(const uf_reader *r, uint32_t bus)
{
    return bus < r->bus_names->len ? g_ptr_array_index(r->bus_names, bus) : "?";
}

void uf_reader_close(uf_reader *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->close)
        r->ops->close(r);
    reader_free(r);
}
