/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Streaming JSON writer (RFC 8259): strings are escaped per section 7, and
 * bytes that are not valid UTF-8 are replaced by U+FFFD so that the output
 * always parses, whatever a capture carried in a DID.
 */
#include "uf_common.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void uf_json_init(uf_json *j, FILE *out, bool pretty)
{
    j->out = out;
    j->depth = 0;
    j->pretty = pretty;
    j->first[0] = true;
    j->in_object[0] = false;
    j->after_key = false;
}

static void newline_indent(uf_json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Separator before a value or key at the current depth. */
static void before_item(uf_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->out);
    j->first[j->depth] = false;
    if (j->depth > 0)
        newline_indent(j);
}

static void open(uf_json *j, char c, bool object)
{
    before_item(j);
    fputc(c, j->out);
    assert(j->depth + 1 < UF_JSON_MAX_DEPTH);
    j->depth++;
    j->first[j->depth] = true;
    j->in_object[j->depth] = object;
}

static void close_(uf_json *j, char c)
{
    assert(j->depth > 0);
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        newline_indent(j);
    fputc(c, j->out);
    if (j->depth == 0 && j->pretty)
        fputc('\n', j->out);
}

void uf_json_begin_object(uf_json *j) { open(j, '{', true); }
void uf_json_end_object(uf_json *j) { close_(j, '}'); }
void uf_json_begin_array(uf_json *j) { open(j, '[', false); }
void uf_json_end_array(uf_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and values past U+10FFFF. */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

static void write_escaped(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        switch (c) {
        case '"': fputs("\\\"", out); i++; continue;
        case '\\': fputs("\\\\", out); i++; continue;
        case '\n': fputs("\\n", out); i++; continue;
        case '\r': fputs("\\r", out); i++; continue;
        case '\t': fputs("\\t", out); i++; continue;
        default: break;
        }
        if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0) {
            fputs("\\ufffd", out);
            i++;
            continue;
        }
        fwrite(p + i, 1, n, out);
        i += n;
    }
    fputc('"', out);
}

void uf_json_key(uf_json *j, const char *key)
{
    assert(j->in_object[j->depth] && !j->after_key);
    before_item(j);
    write_escaped(j->out, key, strlen(key));
    fputs(j->pretty ? ": " : ":", j->out);
    j->after_key = true;
}

void uf_json_string_len(uf_json *j, const char *s, size_t len)
{
    before_item(j);
    write_escaped(j->out, s, len);
}

void uf_json_string(uf_json *j, const char *s)
{
    if (!s) {
        uf_json_null(j);
        return;
    }
    uf_json_string_len(j, s, strlen(s));
}

void uf_json_int(uf_json *j, int64_t v)
{
    before_item(j);
    fprintf(j->out, "%" PRId64, v);
}

void uf_json_uint(uf_json *j, uint64_t v)
{
    before_item(j);
    fprintf(j->out, "%" PRIu64, v);
}

void uf_json_double(uf_json *j, double v, int decimals)
{
    if (!isfinite(v)) {
        uf_json_null(j);
        return;
    }
    before_item(j);
    fprintf(j->out, "%.*f", decimals, v);
}

void uf_json_bool(uf_json *j, bool v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->out);
}

void uf_json_null(uf_json *j)
{
    before_item(j);
    fputs("null", j->out);
}

void uf_json_hex(uf_json *j, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    before_item(j);
    fputc('"', j->out);
    for (size_t i = 0; i < len; i++) {
        fputc(digits[buf[i] >> 4], j->out);
        fputc(digits[buf[i] & 0x0F], j->out);
    }
    fputc('"', j->out);
}

void uf_json_time(uf_json *j, uf_time ns)
{
    if (ns == UF_TIME_NONE) {
        uf_json_null(j);
        return;
    }
    char buf[48];
    const char *sign = ns < 0 ? "-" : "";
    uint64_t mag = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%09" PRIu64, sign, mag / UF_NS_PER_S,
             mag % UF_NS_PER_S);
    before_item(j);
    fputs(buf, j->out);
}

void uf_json_member_string(uf_json *j, const char *key, const char *v)
{
    uf_json_key(j, key);
    uf_json_string(j, v);
}

void uf_json_member_uint(uf_json *j, const char *key, uint64_t v)
{
    uf_json_key(j, key);
    uf_json_uint(j, v);
}

void uf_json_member_bool(uf_json *j, const char *key, bool v)
{
    uf_json_key(j, key);
    uf_json_bool(j, v);
}

void uf_json_member_time(uf_json *j, const char *key, uf_time ns)
{
    uf_json_key(j, key);
    uf_json_time(j, ns);
}

void uf_json_member_double(uf_json *j, const char *key, double v, int decimals)
{
    uf_json_key(j, key);
    uf_json_double(j, v, decimals);
}
