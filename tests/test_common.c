/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * common/: the streaming JSON writer (escaping, invalid UTF-8, nesting) and
 * number formatting; the rule catalogue's invariants.
 */
#include "helpers.h"
#include "uf_spares.h"
#include "uf_spill.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *write_json(void (*fill)(uf_json *j))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    uf_json j;
    uf_json_init(&j, f, true);
    fill(&j);
    fclose(f);
    return buf;
}

static void fill_all(uf_json *j)
{
    uf_json_begin_object(j);
    uf_json_key(j, "text");
    uf_json_string(j, "quote \" backslash \\ newline \n tab \t ctl \x01 ok \xc3\xa9");
    uf_json_key(j, "bad_utf8");
    uf_json_string(j, "a\xff" "b\xc3" "c\xed\xa0\x80" "d");
    uf_json_key(j, "n");
    uf_json_int(j, -42);
    uf_json_key(j, "u");
    uf_json_uint(j, UINT64_MAX);
    uf_json_key(j, "d");
    uf_json_double(j, 1.5, 3);
    uf_json_key(j, "nan");
    uf_json_double(j, 0.0 / 0.0, 3);
    uf_json_key(j, "hex");
    uf_json_hex(j, (const uint8_t *)"\x01\xab", 2);
    uf_json_key(j, "t");
    uf_json_time(j, INT64_C(1500000001));
    uf_json_key(j, "none");
    uf_json_time(j, UF_TIME_NONE);
    uf_json_key(j, "list");
    uf_json_begin_array(j);
    uf_json_bool(j, true);
    uf_json_begin_object(j);
    uf_json_end_object(j);
    uf_json_begin_array(j);
    uf_json_end_array(j);
    uf_json_end_array(j);
    uf_json_end_object(j);
}

Test(json, output_parses_with_json_glib)
{
    char *text = write_json(fill_all);
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    cr_assert(json_parser_load_from_data(p, text, -1, &e), "%s\n%s", e ? e->message : "", text);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    cr_assert_str_eq(json_object_get_string_member(o, "text"),
                     "quote \" backslash \\ newline \n tab \t ctl \x01 ok \xc3\xa9");
    cr_assert_str_eq(json_object_get_string_member(o, "bad_utf8"),
                     "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d");
    cr_assert_eq(json_object_get_int_member(o, "n"), -42);
    cr_assert(json_object_get_null_member(o, "nan"));
    cr_assert_str_eq(json_object_get_string_member(o, "hex"), "01ab");
    cr_assert_float_eq(json_object_get_double_member(o, "t"), 1.500000001, 1e-12);
    cr_assert(json_object_get_null_member(o, "none"));
    cr_assert_eq(json_array_get_length(json_object_get_array_member(o, "list")), 3);
    g_object_unref(p);
    free(text);
}

/* A JSON document of one key and one string, both `s`, written to `f`. */
static void write_pair(FILE *f, const char *s, size_t len)
{
    uf_json j;
    uf_json_init(&j, f, true);
    uf_json_begin_object(&j);
    char *key = g_strndup(s, len); /* keys are C strings */
    uf_json_key(&j, key);
    uf_json_string_len(&j, s, len);
    uf_json_end_object(&j);
    g_free(key);
}

/* The string scan takes 8 bytes at a time: a byte to escape (or invalid
 * UTF-8) at every place of a word, in strings of every length up to
 * three words, is written as RFC 8259 wants it, whether the FILE has room
 * for the whole string (one copy) or no buffer at all (piece by piece),
 * and json-glib reads back what was meant. */
Test(json, escapes_at_every_position)
{
    static const struct {
        const char *in, *json, *parsed;
    } specials[] = {{"\"", "\\\"", "\""},
                    {"\\", "\\\\", "\\"},
                    {"\n", "\\n", "\n"},
                    {"\x01", "\\u0001", "\x01"},
                    {"\x1f", "\\u001f", "\x1f"},
                    {"\x7f", "\x7f", "\x7f"},
                    {"\xc3\xa9", "\xc3\xa9", "\xc3\xa9"},
                    {"\xff", "\\ufffd", "\xef\xbf\xbd"},
                    {"\x80", "\\ufffd", "\xef\xbf\xbd"},
                    {" ", " ", " "},
                    {"~", "~", "~"}};
    for (size_t k = 0; k < UF_ARRAY_LEN(specials); k++)
        for (size_t len = 1; len <= 24; len++)
            for (size_t at = 0; at < len; at++) {
                GString *in = g_string_new(NULL), *json = g_string_new(NULL),
                        *parsed = g_string_new(NULL);
                for (size_t i = 0; i < len; i++) {
                    g_string_append(in, i == at ? specials[k].in : "a");
                    g_string_append(json, i == at ? specials[k].json : "a");
                    g_string_append(parsed, i == at ? specials[k].parsed : "a");
                }
                char *want = g_strdup_printf("{\n  \"%s\": \"%s\"\n}\n", json->str, json->str);
                char *buffered = NULL;
                size_t buffered_len = 0;
                FILE *f = open_memstream(&buffered, &buffered_len);
                write_pair(f, in->str, in->len);
                fclose(f);
                cr_assert_str_eq(buffered, want, "special %zu at %zu of %zu", k, at, len);
                FILE *raw = tmpfile();
                cr_assert_not_null(raw);
                setvbuf(raw, NULL, _IONBF, 0);
                write_pair(raw, in->str, in->len);
                rewind(raw);
                char unbuffered[256] = {0};
                cr_assert_eq(fread(unbuffered, 1, sizeof(unbuffered) - 1, raw), strlen(want));
                fclose(raw);
                cr_assert_str_eq(unbuffered, want, "unbuffered: special %zu at %zu of %zu", k,
                                 at, len);

                JsonParser *p = json_parser_new();
                cr_assert(json_parser_load_from_data(p, buffered, -1, NULL), "%s", buffered);
                JsonObject *o = json_node_get_object(json_parser_get_root(p));
                cr_assert_str_eq(json_object_get_string_member(o, parsed->str), parsed->str);
                g_object_unref(p);
                free(buffered);
                g_free(want);
                g_string_free(in, TRUE);
                g_string_free(json, TRUE);
                g_string_free(parsed, TRUE);
            }
}

Test(format, seconds_and_ms)
{
    char b[32];
    cr_assert_str_eq(uf_format_seconds(b, sizeof(b), 1234567891), "1.234568");
    cr_assert_str_eq(uf_format_seconds(b, sizeof(b), -1500), "-0.000002");
    cr_assert_str_eq(uf_format_ms(b, sizeof(b), 4512345), "4.512");
    cr_assert_str_eq(uf_format_ms(b, sizeof(b), 999999999), "1000.000");
    cr_assert_str_eq(uf_format_ms(b, sizeof(b), UF_TIME_NONE), "-");
}

static void expect_as_printf(double v, int decimals)
{
    char want[352], got[352];
    snprintf(want, sizeof(want), "%.*f", decimals, v);
    size_t n = uf_format_fixed(got, sizeof(got), v, decimals);
    cr_assert_str_eq(got, want, "%.17g with %d decimals", v, decimals);
    cr_assert_eq(n, strlen(want));
}

/* uf_format_fixed writes what printf writes: ties (exact in binary) to
 * even, values a hair off a tie, signs of values that round to zero,
 * the edge of its quick path, and random values of every scale. */
Test(format, fixed_as_printf)
{
    const double edges[] = {0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 3.5, 0.125, 0.375, -0.125, 0.0005,
                            0.0015, 1.0005, 2.675, 1e-20, -1e-20, -0.0004, 123456.789,
                            4503599627370495.0, 4503599627370496.0, 9007199254740993.0, 1e300,
                            0.1, 0.7, 999.9995, 999999.9999995, 12.3456789012345};
    for (size_t i = 0; i < UF_ARRAY_LEN(edges); i++)
        for (int d = 0; d <= 12; d++) {
            expect_as_printf(edges[i], d);
            expect_as_printf(nextafter(edges[i], 1e308), d);
            expect_as_printf(nextafter(edges[i], -1e308), d);
        }
    GRand *rng = g_rand_new_with_seed(9);
    for (int i = 0; i < 200000; i++) {
        int d = g_rand_int_range(rng, 0, 11);
        double v;
        if (i % 2) /* few mantissa bits: exact ties come up often */
            v = ldexp((double)g_rand_int_range(rng, -4096, 4096), g_rand_int_range(rng, -14, 8));
        else
            v = g_rand_double_range(rng, -1, 1) * pow(10, g_rand_int_range(rng, -12, 17));
        expect_as_printf(v, d);
    }
    g_rand_free(rng);
    char small[8];
    cr_assert_eq(uf_format_fixed(small, sizeof(small), 123456.5, 3), 0, "too small a buffer");
}

/* uf_format_hex writes what printf writes, at every width and digit count. */
Test(format, hex_as_printf)
{
    const uint64_t values[] = {0, 1, 0xA, 0xFF, 0x100, 0x7E0, 0xFFFF, 0x18DA10F1, 0x1FFFFFFF,
                               UINT64_C(0x123456789), UINT64_MAX};
    for (size_t i = 0; i < UF_ARRAY_LEN(values); i++)
        for (int width = 0; width <= 16; width++) {
            char want[24], got[24];
            snprintf(want, sizeof(want), "0x%0*" PRIX64, width, values[i]);
            size_t n = uf_format_hex(got, values[i], width);
            cr_assert_str_eq(got, want, "width %d", width);
            cr_assert_eq(n, strlen(want));
        }
}

Test(time, saturates_instead_of_overflowing)
{
    cr_assert_eq(uf_time_from_parts(1, 5), UF_NS_PER_S + 5);
    cr_assert_eq(uf_time_from_parts(INT64_C(18444952543), 0), INT64_MAX);
    cr_assert_eq(uf_time_from_parts(-INT64_C(18444952543), 0), INT64_MIN + 1);
    cr_assert_eq(uf_time_add(INT64_MAX - 1, 10), INT64_MAX);
    cr_assert_eq(uf_time_add(INT64_MIN + 2, -10), INT64_MIN + 1);
    cr_assert_eq(uf_time_diff(INT64_MAX, INT64_MIN + 1), INT64_MAX);
    cr_assert_eq(uf_time_diff(INT64_MIN + 1, INT64_MAX), INT64_MIN + 1);
    cr_assert_eq(uf_time_diff(5, 7), -2);
    cr_assert_eq(uf_time_diff(UF_TIME_NONE, 7), UF_TIME_NONE);
    cr_assert_eq(uf_time_add(3, UF_TIME_NONE), UF_TIME_NONE);
    /* A sum or difference of exactly INT64_MIN would read as no time. */
    cr_assert_eq(uf_time_add(INT64_MIN + 1, -1), INT64_MIN + 1);
    cr_assert_eq(uf_time_diff(INT64_MIN + 1, 1), INT64_MIN + 1);
    cr_assert_eq(uf_time_diff(-1, INT64_MAX), INT64_MIN + 1);
    cr_assert_eq(uf_time_diff(0, INT64_MIN + 1), INT64_MAX);
    cr_assert_eq(uf_time_add(-5, 3), -2);
}

Test(parse, u32)
{
    uint32_t v;
    cr_assert(uf_parse_u32("0x7E0", &v) && v == 0x7E0);
    cr_assert(uf_parse_u32("4294967295", &v) && v == UINT32_MAX);
    cr_assert_not(uf_parse_u32("4294967296", &v));
    cr_assert_not(uf_parse_u32("-1", &v));
    cr_assert_not(uf_parse_u32("12x", &v));
    cr_assert_not(uf_parse_u32("", &v));
}

Test(catalogue, ids_are_unique_and_documented)
{
    size_t n;
    const uf_rule *rules = uf_rules_all(&n);
    char *doc = NULL;
    char *path = g_build_filename(UF_SOURCE_DIR, "docs", "rules.md", NULL);
    cr_assert(g_file_get_contents(path, &doc, NULL, NULL), "docs/rules.md is missing");
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(uf_rule_find(rules[i].id), &rules[i], "duplicate id %s", rules[i].id);
        char *tick = g_strdup_printf("`%s`", rules[i].id);
        cr_assert(strstr(doc, tick), "docs/rules.md does not document %s", rules[i].id);
        g_free(tick);
    }
    /* And the doc lists no id the catalogue lacks. */
    for (const char *p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
        char id[64] = "";
        sscanf(p, "\n| `%63[^`]`", id);
        cr_assert_not_null(uf_rule_find(id), "docs/rules.md lists unknown id %s", id);
    }
    const char *families[] = {"isotp.", "timing.", "uds.", "flash.", "doip."};
    for (size_t f = 0; f < UF_ARRAY_LEN(families); f++) {
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= strncmp(rules[i].id, families[f], strlen(families[f])) == 0;
        cr_assert(seen, "family %s", families[f]);
    }
    g_free(doc);
    g_free(path);
}

/* ---- uf_spill: records in a temporary file -------------------------------------------*/

/* Record i: its length and bytes follow from i, so any read can be checked. */
static size_t spill_len(size_t i)
{
    return i % 97 == 0 ? 70000 + i : 1 + (i * 37) % 300; /* some over a 64 KiB chunk */
}

static void spill_fill(uint8_t *buf, size_t i)
{
    for (size_t k = 0; k < spill_len(i); k++)
        buf[k] = (uint8_t)(i * 131 + k);
}

static void spill_check(uf_spill *s, size_t i, uint8_t *want)
{
    size_t len = 0;
    const uint8_t *got = uf_spill_get(s, i, &len);
    cr_assert_not_null(got, "record %zu: %s", i, uf_spill_lost(s));
    spill_fill(want, i);
    cr_assert_eq(len, spill_len(i), "record %zu", i);
    cr_assert_arr_eq(got, want, len, "record %zu", i);
}

static void spill_round_trip(uf_spill *s)
{
    enum { N = 3000 };
    uint8_t *buf = g_malloc(80000);
    for (size_t i = 0; i < N; i++) {
        spill_fill(buf, i);
        uf_spill_append(s, buf, spill_len(i));
    }
    cr_assert_eq(uf_spill_count(s), N);
    for (size_t i = 0; i < N; i++) /* in order, as a report reads */
        spill_check(s, i, buf);
    for (size_t k = 0; k < N; k++) /* and anywhere */
        spill_check(s, (k * 7919) % N, buf);
    size_t len;
    cr_assert_null(uf_spill_get(s, N, &len));
    cr_assert_null(uf_spill_lost(s));
    g_free(buf);
}

/* Spare buffers come back last in, first out, and what is over a bound
 * (their number, their bytes, one buffer's size) is freed, not kept:
 * under ASan a buffer kept twice, or freed and kept, fails too. */
Test(spares, kept_within_their_bounds)
{
    uf_spares s;
    uf_spares_init(&s, 3, 100, 80);
    uint32_t cap = 7;
    cr_assert_null(uf_spares_take(&s, &cap));
    cr_assert_eq(cap, 0);
    uint8_t *a = malloc(10), *b = malloc(20), *c = malloc(30);
    uf_spares_give(&s, a, 10);
    uf_spares_give(&s, b, 20);
    uf_spares_give(&s, malloc(81), 81); /* over one buffer's size: freed */
    uf_spares_give(&s, malloc(75), 75); /* 30 bytes kept, 105 would be over: freed */
    uf_spares_give(&s, NULL, 0);        /* nothing */
    uf_spares_give(&s, c, 30);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.bytes, 60);
    uf_spares_give(&s, malloc(5), 5); /* a fourth: freed */
    cr_assert_eq(s.n, 3);
    cr_assert_eq(uf_spares_take(&s, &cap), c);
    cr_assert_eq(cap, 30);
    cr_assert_eq(uf_spares_take(&s, &cap), b);
    cr_assert_eq(cap, 20);
    cr_assert_eq(s.bytes, 10);
    free(b);
    free(c);
    uf_spares_free(&s); /* frees a */
    cr_assert_eq(s.n, 0);
    cr_assert_null(uf_spares_take(&s, &cap));
}

Test(spill, records_come_back_as_they_went_in)
{
    uf_spill *s = uf_spill_new();
    cr_assert_null(uf_spill_degraded(s), "%s", uf_spill_degraded(s));
    spill_round_trip(s);
    uf_spill_free(s);
}

/* Threads reading one store at once, each through a cursor of its own,
 * while this one reads through the store's: every record as it went in. */
typedef struct cursor_reader {
    uf_spill *s;
    size_t n, stride;
    size_t wrong; /* records read back wrong or not at all */
} cursor_reader;

static gpointer read_through_cursor(gpointer data)
{
    cursor_reader *x = data;
    uf_spill_cursor *c = uf_spill_cursor_new();
    uint8_t *want = g_malloc(80000);
    for (size_t k = 0; k < x->n; k++) {
        size_t i = (k * x->stride) % x->n, len = 0;
        const uint8_t *got = uf_spill_read(x->s, c, i, &len);
        spill_fill(want, i);
        if (!got || len != spill_len(i) || memcmp(got, want, len) != 0)
            x->wrong++;
    }
    g_free(want);
    uf_spill_cursor_free(x->s, c);
    return NULL;
}

Test(spill, threads_read_through_cursors_of_their_own)
{
    enum { N = 3000 };
    uf_spill *s = uf_spill_new();
    uint8_t *buf = g_malloc(80000);
    for (size_t i = 0; i < N; i++) {
        spill_fill(buf, i);
        uf_spill_append(s, buf, spill_len(i));
    }
    cursor_reader r[2] = {{s, N, 1, 0}, {s, N, 7919, 0}};
    GThread *t[2];
    for (int i = 0; i < 2; i++)
        t[i] = g_thread_new("cursor", read_through_cursor, &r[i]);
    for (size_t k = 0; k < N; k++)
        spill_check(s, (k * 104729) % N, buf);
    for (int i = 0; i < 2; i++) {
        g_thread_join(t[i]);
        cr_assert_eq(r[i].wrong, 0, "thread %d: %zu records wrong", i, r[i].wrong);
    }
    cr_assert_null(uf_spill_lost(s));
    g_free(buf);
    uf_spill_free(s);
}

/* No temporary file to be had: the records stay in memory, all of them,
 * and the store says why. */
Test(spill, without_a_temporary_file_records_stay_in_memory)
{
    char *old = g_strdup(g_getenv("TMPDIR"));
    g_setenv("TMPDIR", "/nonexistent/udsflash-test", TRUE);
    uf_spill *s = uf_spill_new();
    if (old)
        g_setenv("TMPDIR", old, TRUE);
    else
        g_unsetenv("TMPDIR");
    g_free(old);
    cr_assert_not_null(uf_spill_degraded(s));
    cr_assert(strstr(uf_spill_degraded(s), "/nonexistent/udsflash-test"), "%s",
              uf_spill_degraded(s));
    spill_round_trip(s);
    uf_spill_free(s);
}
