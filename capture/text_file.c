/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Streaming readers for the text formats (candump, Vector ASC, Busmaster): a fixed
 * buffer, lines up to MAX_LINE bytes, and damage reported with the line
 * number and byte offset. Memory does not grow with the file.
 */
#include "reader_internal.h"

#include <errno.h>
#include <string.h>

#define BUF_SIZE (64 * 1024)
#define MAX_LINE 4096

typedef struct text_reader {
    FILE *f;
    char buf[BUF_SIZE];
    size_t pos, fill;
    bool eof;
    uint64_t offset; /* file offset of buf[pos] */
    uint64_t line_no;
    text_kind kind;
    uf_asc_state asc;
    uf_busmaster_state busmaster;
    char last_iface[32];
    uint32_t last_bus;
    bool have_last_bus;
} text_reader;

/* Next line into (*line, *len) without its newline, *at its file offset,
 * *terminated false for a last line without a newline. 1 line, 0 end,
 * -1 line too long or read error (err set). */
static int next_line(uf_reader *r, text_reader *t, const char **line, size_t *len,
                     uint64_t *at, bool *terminated, uf_error *err)
{
    for (;;) {
        char *start = t->buf + t->pos;
        size_t avail = t->fill - t->pos;
        char *nl = memchr(start, '\n', avail);
        if (nl || (t->eof && avail > 0)) {
            size_t n = nl ? (size_t)(nl - start) : avail;
            if (n > MAX_LINE) {
                uf_error_set(err, "%s: line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT
                             ") is longer than %d bytes: not a text capture from here on",
                             r->path, t->line_no + 1, t->offset, MAX_LINE);
                return -1;
            }
            *line = start;
            *len = n;
            *at = t->offset;
            *terminated = nl != NULL;
            size_t used = nl ? n + 1 : n;
            t->pos += used;
            t->offset += used;
            t->line_no++;
            return 1;
        }
        if (t->eof)
            return 0;
        if (avail > MAX_LINE) {
            uf_error_set(err, "%s: line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT
                         ") is longer than %d bytes: not a text capture from here on",
                         r->path, t->line_no + 1, t->offset, MAX_LINE);
            return -1;
        }
        memmove(t->buf, start, avail);
        t->pos = 0;
        t->fill = avail;
        size_t got = fread(t->buf + t->fill, 1, BUF_SIZE - t->fill, t->f);
        t->fill += got;
        if (got == 0) {
            if (ferror(t->f)) {
                uf_error_set(err, "%s: read error at byte %" G_GUINT64_FORMAT ": %s", r->path,
                             t->offset + avail, strerror(errno));
                return -1;
            }
            t->eof = true;
        }
    }
}

static bool is_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\r')
            return false;
    }
    return true;
}

static int text_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    text_reader *t = r->backend;
    for (;;) {
        const char *line;
        size_t len;
        uint64_t line_offset;
        bool terminated;
        int rc = next_line(r, t, &line, &len, &line_offset, &terminated, err);
        if (rc <= 0)
            return rc;
        if (!is_text(line, len)) {
            uf_error_set(err, "%s: line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT
                         ") holds binary data: the file is damaged from here on",
                         r->path, t->line_no, line_offset);
            return -1;
        }
        const char *why = "malformed line";
        uf_line_result res;
        const char *bus_name;
        char channel[24];
        uf_candump_line cl;
        if (t->kind == TEXT_ASC) {
            res = uf_asc_parse_line(&t->asc, line, len, &rec->can, &rec->time, &why);
            snprintf(channel, sizeof(channel), "ch%u", t->asc.channel);
            bus_name = channel;
        } else if (t->kind == TEXT_BUSMASTER) {
            res = uf_busmaster_parse_line(&t->busmaster, line, len, &rec->can, &rec->time, &why);
            snprintf(channel, sizeof(channel), "ch%u", t->busmaster.channel);
            bus_name = channel;
        } else {
            res = uf_candump_parse_line(line, len, &cl, &why);
            if (res == UF_LINE_FRAME) {
                rec->can = cl.frame;
                rec->time = cl.time;
            }
            bus_name = cl.iface;
        }
        if (!terminated && res != UF_LINE_FRAME && len > 0) {
            /* A last line without its newline that is not a whole frame:
             * the file was cut while it was being written. */
            uf_error_set(err, "%s: line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT
                         "): the file ends in the middle of this line", r->path, t->line_no,
                         line_offset);
            return -1;
        }
        if (res == UF_LINE_IGNORED)
            continue;
        if (res == UF_LINE_BAD) {
            uf_error_set(err, "%s: line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT
                         "): %s", r->path, t->line_no, line_offset, why);
            return -1;
        }
        if (rec->time == UF_TIME_NONE)
            r->has_time = false;
        if (!t->have_last_bus || strcmp(bus_name, t->last_iface) != 0) {
            g_strlcpy(t->last_iface, bus_name, sizeof(t->last_iface));
            t->last_bus = reader_bus(r, bus_name);
            t->have_last_bus = true;
        }
        rec->bus = t->last_bus;
        rec->offset = line_offset;
        rec->kind = UF_REC_CAN;
        return 1;
    }
}

static void text_close(uf_reader *r)
{
    text_reader *t = r->backend;
    if (t) {
        fclose(t->f);
        g_free(t);
    }
}

static const reader_ops text_ops = {.next = text_next, .close = text_close};

static int text_open(uf_reader *r, text_kind kind, uf_error *err)
{
    text_reader *t = g_new0(text_reader, 1);
    t->f = fopen(r->path, "rb");
    if (!t->f) {
        uf_error_set(err, "%s: cannot open: %s", r->path, strerror(errno));
        g_free(t);
        return -1;
    }
    t->kind = kind;
    uf_asc_init(&t->asc);
    uf_busmaster_init(&t->busmaster);
    r->backend = t;
    r->ops = &text_ops;
    r->format = kind == TEXT_ASC ? "asc" : kind == TEXT_BUSMASTER ? "busmaster" : "candump";
    if (kind == TEXT_CANDUMP) {
        /* Console output has no timestamps: look at the first frame line
         * so that the format name says which kind this is before reading. */
        char head[4096];
        size_t got = fread(head, 1, sizeof(head), t->f);
        rewind(t->f);
        const char *p = head, *end = head + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            uf_candump_line cl;
            const char *why;
            if (uf_candump_parse_line(p, n, &cl, &why) == UF_LINE_FRAME) {
                if (cl.time == UF_TIME_NONE) {
                    r->format = "candump-console";
                    r->has_time = false;
                }
                break;
            }
            if (!nl)
                break;
            p = nl + 1;
        }
    }
    return 0;
}

int candump_file_open(uf_reader *r, uf_error *err)
{
    return text_open(r, TEXT_CANDUMP, err);
}

int asc_file_open(uf_reader *r, uf_error *err)
{
    return text_open(r, TEXT_ASC, err);
}

int busmaster_file_open(uf_reader *r, uf_error *err)
{
    return text_open(r, TEXT_BUSMASTER, err);
}
