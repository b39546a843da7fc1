/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Streaming JSON writer (RFC 8259): strings are escaped per section 7, and
 * bytes that are not valid UTF-8 are replaced by U+FFFD so that the output
 * always parses, whatever a capture carried in a DID.
 */
#define _GNU_SOURCE /* fwrite_unlocked: see emit() */
#include "uf_common.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* Every byte of a report goes through here. A report of a large capture is
 * tens of megabytes written a few bytes at a time; taking the FILE's lock
 * for each piece was a third of `udsflash check` (perf). A FILE is written
 * by one thread (threads that render parts of a report write parts of
 * their own: uf_json_fork), so the lock protects nothing here.
 *
 * With glibc, a piece that fits the FILE's buffer is copied into it
 * directly, as glibc's own putc_unlocked() macro does for one byte
 * (through the same public fields of struct _IO_FILE); fwrite_unlocked()
 * costs a call chain a piece, and the report is millions of pieces. A
 * line-buffered or unbuffered FILE keeps no room there (write_end at
 * write_ptr): every piece then goes through fwrite, as before. */
static inline void emit(uf_json *j, const char *s, size_t len)
{
#ifdef __GLIBC__
    FILE *f = j->out;
    if ((size_t)(f->_IO_write_end - f->_IO_write_ptr) >= len) {
        memcpy(f->_IO_write_ptr, s, len);
        f->_IO_write_ptr += len;
        return;
    }
#endif
    fwrite_unlocked(s, 1, len, j->out);
}

static inline void emit_char(uf_json *j, char c)
{
    fputc_unlocked(c, j->out);
}

void uf_json_init(uf_json *j, FILE *out, bool pretty)
{
    j->out = out;
    j->depth = 0;
    j->pretty = pretty;
    j->first[0] = true;
    j->in_object[0] = false;
    j->after_key = false;
}

void uf_json_fork(const uf_json *j, FILE *out, uf_json *part)
{
    *part = *j;
    part->out = out;
    part->first[part->depth] = true;
    part->after_key = false;
}

void uf_json_join(uf_json *j, const uf_json *part, const char *text, size_t len)
{
    if (part->first[part->depth])
        return; /* it wrote no item */
    /* The part began as if its first item were the container's first. */
    if (!j->first[j->depth])
        emit_char(j, ',');
    j->first[j->depth] = false;
    emit(j, text, len);
}

static void newline_indent(uf_json *j)
{
    /* A newline and two spaces a level, UF_JSON_MAX_DEPTH levels at most. */
    static const char indent[] = "\n                                                                ";
    static_assert(sizeof(indent) - 2 >= 2 * UF_JSON_MAX_DEPTH, "indent covers every depth");
    static_assert(sizeof(indent) >= 16, "the fixed copy below reads 16 bytes");
    if (!j->pretty)
        return;
    size_t len = 1 + 2 * (size_t)j->depth;
#ifdef __GLIBC__
    /* Every item of a pretty report starts here, a few levels deep: a
     * copy of a fixed 16 bytes is one move, where a copy of len bytes is
     * a call. The bytes past len land in the FILE's free room, which
     * the next piece overwrites. */
    FILE *f = j->out;
    if (len <= 16 && f->_IO_write_end - f->_IO_write_ptr >= 16) {
        memcpy(f->_IO_write_ptr, indent, 16);
        f->_IO_write_ptr += len;
        return;
    }
#endif
    emit(j, indent, len);
}

/* Separator before a value or key at the current depth. */
static void before_item(uf_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        emit_char(j, ',');
    j->first[j->depth] = false;
    if (j->depth > 0)
        newline_indent(j);
}

static void open(uf_json *j, char c, bool object)
{
    before_item(j);
    emit_char(j, c);
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
    emit_char(j, c);
    if (j->depth == 0 && j->pretty)
        emit_char(j, '\n');
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

/* True for the bytes that stand for themselves inside a JSON string:
 * printable ASCII but the quote and the backslash (RFC 8259 section 7). */
static inline bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* True if the eight bytes of w are all plain. In a word of bytes below
 * 0x80, subtracting 0x20 from each byte borrows into a top bit only if
 * some byte is below 0x20, and subtracting 1 from the word xor '"' only if
 * some byte is a quote (it was zero): exact for "is any byte not plain",
 * which is all the scan asks ("Bit Twiddling Hacks", has-less and
 * has-zero). */
static inline bool word_plain(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), tops = UINT64_C(0x8080808080808080);
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return !(((w - ones * 0x20) | (quote - ones) | (backslash - ones) | w) & tops);
}

/* How many bytes from p on are plain, eight at a time where it can. The
 * bytes after the last whole word, and a string of 4 to 7 bytes, are
 * tested at once in a word that overlaps bytes already known plain; only
 * a string with a byte to escape, or of 3 bytes or fewer, is counted byte
 * by byte. Keys and values are mostly that short. */
static size_t plain_prefix(const unsigned char *p, size_t len)
{
    size_t i = 0;
    uint64_t w;
    if (len >= 8) {
        for (; len - i >= 8; i += 8) {
            memcpy(&w, p + i, 8);
            if (!word_plain(w))
                goto bytes;
        }
        if (i == len)
            return len;
        memcpy(&w, p + len - 8, 8); /* the last eight bytes */
        if (word_plain(w))
            return len;
    } else if (len >= 4) {
        uint32_t head, tail; /* the first and the last four bytes */
        memcpy(&head, p, 4);
        memcpy(&tail, p + len - 4, 4);
        if (word_plain(head | (uint64_t)tail << 32))
            return len;
    }
bytes:
    while (i < len && plain_byte(p[i]))
        i++;
    return i;
}

/* s as a JSON string, then `after` (": " behind a key; 2 bytes at most). */
static void write_escaped(uf_json *j, const char *s, size_t len, const char *after,
                          size_t after_len)
{
    assert(after_len <= 2);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = plain_prefix(p, len);
#ifdef __GLIBC__
    /* Nearly every string of a report: nothing to escape, one copy. */
    FILE *f = j->out;
    if (i == len && (size_t)(f->_IO_write_end - f->_IO_write_ptr) >= len + 2 + after_len) {
        char *w = f->_IO_write_ptr;
        *w++ = '"';
        memcpy(w, s, len);
        w += len;
        *w++ = '"';
        /* Byte by byte: a copy of after_len bytes would be a call. */
        if (after_len > 0)
            w[0] = after[0];
        if (after_len > 1)
            w[1] = after[1];
        f->_IO_write_ptr = w + after_len;
        return;
    }
#endif
    emit_char(j, '"');
    emit(j, s, i);
    while (i < len) {
        /* Runs of plain bytes go out in one piece. */
        size_t run = i + plain_prefix(p + i, len - i);
        if (run > i) {
            emit(j, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        switch (c) {
        case '"': emit(j, "\\\"", 2); i++; continue;
        case '\\': emit(j, "\\\\", 2); i++; continue;
        case '\n': emit(j, "\\n", 2); i++; continue;
        case '\r': emit(j, "\\r", 2); i++; continue;
        case '\t': emit(j, "\\t", 2); i++; continue;
        default: break;
        }
        if (c < 0x20) {
            char esc[8];
            int n = snprintf(esc, sizeof(esc), "\\u%04x", c);
            emit(j, esc, (size_t)n);
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0) {
            emit(j, "\\ufffd", 6);
            i++;
            continue;
        }
        emit(j, s + i, n);
        i += n;
    }
    emit_char(j, '"');
    emit(j, after, after_len);
}

/* Decimal digits of v, written backwards from end; returns the first. */
static char *format_u64(char *end, uint64_t v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void uf_json_key(uf_json *j, const char *key)
{
    assert(j->in_object[j->depth] && !j->after_key);
    before_item(j);
    write_escaped(j, key, strlen(key), ": ", j->pretty ? 2 : 1);
    j->after_key = true;
}

void uf_json_string_len(uf_json *j, const char *s, size_t len)
{
    before_item(j);
    write_escaped(j, s, len, "", 0);
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
    char buf[24];
    char *end = buf + sizeof(buf);
    /* The magnitude without negating INT64_MIN. */
    char *p = format_u64(end, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    before_item(j);
    emit(j, p, (size_t)(end - p));
}

void uf_json_uint(uf_json *j, uint64_t v)
{
    char buf[24];
    char *end = buf + sizeof(buf);
    char *p = format_u64(end, v);
    before_item(j);
    emit(j, p, (size_t)(end - p));
}

size_t uf_format_fixed(char *out, size_t size, double v, int decimals)
{
    /* printf's digits are those of the exact binary value, rounded half
     * to even. Where v * 10^decimals is below 2^52 they can be had from
     * the product p and its exact error e (a fused multiply-add): the
     * integer below p, and whether p's fraction plus e passes one half.
     * That fraction and 0.5 are multiples of p's ulp, so unless they are
     * equal, e (at most half an ulp) cannot change the side; equal, e
     * decides, and without e it is a tie. printf's own path took a tenth
     * of a report of many sessions (perf). */
    static const double scales[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    static const uint64_t powers[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                      100000000, 1000000000};
    double a = fabs(v);
    if (decimals >= 0 && decimals < (int)UF_ARRAY_LEN(scales) && a * scales[decimals] < 0x1p52 &&
        size >= 32) {
        double p = a * scales[decimals];
        double e = fma(a, scales[decimals], -p);
        double whole = floor(p);
        double beyond_half = (p - whole) - 0.5;
        uint64_t r = (uint64_t)whole;
        if (beyond_half > 0 || (beyond_half == 0 && (e > 0 || (e == 0 && (r & 1)))))
            r++;
        char buf[32];
        char *end = buf + sizeof(buf), *q = end;
        uint64_t frac = r % powers[decimals];
        for (int d = 0; d < decimals; d++, frac /= 10)
            *--q = (char)('0' + frac % 10);
        if (decimals > 0)
            *--q = '.';
        q = format_u64(q, r / powers[decimals]);
        if (signbit(v))
            *--q = '-';
        size_t n = (size_t)(end - q);
        memcpy(out, q, n);
        out[n] = '\0';
        return n;
    }
    int n = snprintf(out, size, "%.*f", decimals, v);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static const char upper_hex[] = "0123456789ABCDEF";

char *uf_put_hex_byte(char *p, uint8_t v)
{
    p[0] = upper_hex[v >> 4];
    p[1] = upper_hex[v & 0x0F];
    return p + 2;
}

size_t uf_format_hex(char *out, uint64_t v, int width)
{
    char rev[16];
    int n = 0;
    do {
        rev[n++] = upper_hex[v & 0x0F];
        v >>= 4;
    } while (v);
    while (n < width && n < (int)sizeof(rev))
        rev[n++] = '0';
    size_t len = 0;
    out[len++] = '0';
    out[len++] = 'x';
    while (n > 0)
        out[len++] = rev[--n];
    out[len] = '\0';
    return len;
}

void uf_json_double(uf_json *j, double v, int decimals)
{
    if (!isfinite(v)) {
        uf_json_null(j);
        return;
    }
    char buf[352]; /* DBL_MAX in %f: 309 digits, a sign, a point, decimals */
    size_t n = uf_format_fixed(buf, sizeof(buf), v, decimals);
    before_item(j);
    emit(j, buf, n);
}

void uf_json_bool(uf_json *j, bool v)
{
    before_item(j);
    if (v)
        emit(j, "true", 4);
    else
        emit(j, "false", 5);
}

void uf_json_null(uf_json *j)
{
    before_item(j);
    emit(j, "null", 4);
}

void uf_json_hex(uf_json *j, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[128];
    before_item(j);
    emit_char(j, '"');
    for (size_t i = 0; i < len;) {
        size_t n = 0;
        for (; i < len && n < sizeof(chunk); i++) {
            chunk[n++] = digits[buf[i] >> 4];
            chunk[n++] = digits[buf[i] & 0x0F];
        }
        emit(j, chunk, n);
    }
    emit_char(j, '"');
}

void uf_json_time(uf_json *j, uf_time ns)
{
    if (ns == UF_TIME_NONE) {
        uf_json_null(j);
        return;
    }
    /* Seconds, a point and nine digits of nanoseconds, built backwards. */
    char buf[32];
    char *end = buf + sizeof(buf);
    uint64_t mag = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    uint64_t frac = mag % UF_NS_PER_S;
    char *p = end;
    for (int d = 0; d < 9; d++, frac /= 10)
        *--p = (char)('0' + frac % 10);
    *--p = '.';
    p = format_u64(p, mag / UF_NS_PER_S);
    if (ns < 0)
        *--p = '-';
    before_item(j);
    emit(j, p, (size_t)(end - p));
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
