/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The replay script as JSON (docs/replay.md): written with the project's
 * JSON writer, read with json-glib. Bytes are hex, spaced for reading
 * ("10 03"); ids and addresses are hex strings ("0x7E0"; eight digits for
 * a 29-bit CAN id); times are seconds. Each image sits beside the script
 * as a binary file, named in it, with its SHA-256 checked when read.
 */
#include "uf_script.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* ---- writing -------------------------------------------------------------------*/

static void json_bytes(uf_json *j, const uint8_t *p, size_t n)
{
    GString *s = g_string_sized_new(n * 3);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, i ? " %02X" : "%02X", p[i]);
    uf_json_string_len(j, s->str, s->len);
    g_string_free(s, TRUE);
}

static void json_hex_number(uf_json *j, uint64_t v, int digits)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%0*" G_GINT64_MODIFIER "X", digits, v);
    uf_json_string(j, buf);
}

static void json_can_id(uf_json *j, uint32_t id)
{
    if (!id)
        uf_json_null(j);
    else if (id & UF_ISOTP_EFF)
        json_hex_number(j, id & ~UF_ISOTP_EFF, 8);
    else
        json_hex_number(j, id, 3);
}

static void json_address(uf_json *j, int16_t a)
{
    if (a < 0)
        uf_json_null(j);
    else
        json_hex_number(j, (uint64_t)a, 2);
}

static const char *expect_name(uf_script_expect e)
{
    switch (e) {
    case UF_EXPECT_POSITIVE: return "positive";
    case UF_EXPECT_NEGATIVE: return "negative";
    default: return "nothing";
    }
}

static void write_link(uf_json *j, const uf_script_link *l)
{
    uf_json_key(j, "link");
    uf_json_begin_object(j);
    uf_json_key(j, "transport");
    uf_json_string(j, l->doip ? "doip" : l->fd ? "can-fd" : "can");
    if (l->doip) {
        uf_json_key(j, "tester");
        json_hex_number(j, l->tester_la, 4);
        uf_json_key(j, "ecu");
        json_hex_number(j, l->ecu_la, 4);
        uf_json_key(j, "functional");
        if (l->functional_la)
            json_hex_number(j, l->functional_la, 4);
        else
            uf_json_null(j);
    } else {
        uf_json_key(j, "addressing");
        uf_json_string(j, uf_addressing_name(l->addressing));
        uf_json_key(j, "tester_id");
        json_can_id(j, l->tester_id);
        uf_json_key(j, "ecu_id");
        json_can_id(j, l->ecu_id);
        uf_json_key(j, "functional_id");
        json_can_id(j, l->functional_id);
        uf_json_key(j, "tester_address");
        json_address(j, l->tester_addr);
        uf_json_key(j, "ecu_address");
        json_address(j, l->ecu_addr);
        uf_json_key(j, "tx_dl");
        uf_json_uint(j, l->tx_dl);
        uf_json_key(j, "padding");
        if (l->pad)
            json_hex_number(j, l->pad_byte, 2);
        else
            uf_json_null(j);
    }
    uf_json_end_object(j);
}

static void write_step(uf_json *j, const uf_script_step *st)
{
    uf_json_begin_object(j);
    uf_json_key(j, "phase");
    st->phase ? uf_json_string(j, st->phase) : uf_json_null(j);
    uf_json_key(j, "step");
    st->name ? uf_json_string(j, st->name) : uf_json_null(j);
    uf_json_key(j, "delay");
    uf_json_time(j, st->delay);
    if (st->download) {
        uf_json_key(j, "transfer");
        uf_json_uint(j, st->download);
        uf_json_end_object(j);
        return;
    }
    char what[200];
    uf_json_key(j, "what");
    uf_json_string(j, uf_script_step_describe(st, what, sizeof(what)));
    uf_json_key(j, "request");
    json_bytes(j, st->request, st->request_len);
    uf_json_key(j, "functional");
    uf_json_bool(j, st->functional);
    uf_json_key(j, "expect");
    uf_json_string(j, expect_name(st->expect));
    if (st->expect != UF_EXPECT_NOTHING) {
        uf_json_key(j, "response");
        json_bytes(j, st->response, st->response_len);
        uf_json_key(j, "pending");
        uf_json_uint(j, st->pending);
        uf_json_key(j, "response_time");
        uf_json_time(j, st->response_time);
    }
    uf_json_end_object(j);
}

/* "out/script.json" -> "out/script.d1.bin". */
static char *image_path(const char *script, uint32_t index)
{
    const char *dot = g_str_has_suffix(script, ".json") ? script + strlen(script) - 5 : NULL;
    int stem = dot ? (int)(dot - script) : (int)strlen(script);
    return g_strdup_printf("%.*s.d%u.bin", stem, script, index);
}

static bool write_file(const char *path, const uint8_t *p, size_t n, uf_error *err)
{
    GError *e = NULL;
    if (!g_file_set_contents(path, (const char *)p, (gssize)n, &e)) {
        uf_error_set(err, "%s", e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

bool uf_script_save(uf_script *s, const char *path, uf_error *err)
{
    for (guint i = 0; i < s->downloads->len; i++) {
        uf_script_download *d = &g_array_index(s->downloads, uf_script_download, i);
        char *file = image_path(path, d->index);
        if (!write_file(file, d->image, d->size, err)) {
            g_free(file);
            return false;
        }
        g_free(d->image_file);
        d->image_file = g_path_get_basename(file);
        g_free(file);
    }
    char *part = g_strconcat(path, ".part", NULL);
    FILE *f = fopen(part, "w");
    if (!f) {
        uf_error_set(err, "%s: cannot create: %s", part, g_strerror(errno));
        g_free(part);
        return false;
    }
    uf_json j;
    uf_json_init(&j, f, true);
    uf_json_begin_object(&j);
    uf_json_key(&j, "udsreplay_script");
    uf_json_uint(&j, UF_SCRIPT_VERSION);
    uf_json_key(&j, "source");
    s->source ? uf_json_string(&j, s->source) : uf_json_null(&j);
    uf_json_key(&j, "session");
    uf_json_uint(&j, s->session);
    write_link(&j, &s->link);
    uf_json_key(&j, "timing");
    uf_json_begin_object(&j);
    uf_json_key(&j, "p2");
    uf_json_time(&j, s->p2);
    uf_json_key(&j, "p2star");
    uf_json_time(&j, s->p2star);
    uf_json_key(&j, "tester_present");
    if (s->tester_present_interval) {
        uf_json_begin_object(&j);
        uf_json_key(&j, "interval");
        uf_json_time(&j, s->tester_present_interval);
        uf_json_key(&j, "functional");
        uf_json_bool(&j, s->tester_present_functional);
        uf_json_end_object(&j);
    } else {
        uf_json_null(&j);
    }
    uf_json_end_object(&j);
    uf_json_key(&j, "downloads");
    uf_json_begin_array(&j);
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_script_download *d = &g_array_index(s->downloads, uf_script_download, i);
        uf_json_begin_object(&j);
        uf_json_key(&j, "download");
        uf_json_uint(&j, d->index);
        uf_json_key(&j, "address");
        json_hex_number(&j, d->address, 8);
        uf_json_key(&j, "size");
        uf_json_uint(&j, d->size);
        uf_json_key(&j, "blocks");
        uf_json_uint(&j, d->blocks);
        uf_json_key(&j, "max_block_length");
        uf_json_uint(&j, d->max_block_len);
        uf_json_key(&j, "sha256");
        uf_json_string(&j, d->sha256);
        uf_json_key(&j, "image");
        uf_json_string(&j, d->image_file);
        uf_json_end_object(&j);
    }
    uf_json_end_array(&j);
    uf_json_key(&j, "steps");
    uf_json_begin_array(&j);
    for (guint i = 0; i < s->steps->len; i++)
        write_step(&j, uf_script_step_at(s, i));
    uf_json_end_array(&j);
    uf_json_end_object(&j);
    fputc('\n', f);
    bool ok = !ferror(f);
    ok &= fclose(f) == 0;
    if (!ok || rename(part, path) != 0) {
        uf_error_set(err, "%s: write failed: %s", path, g_strerror(errno));
        remove(part);
        g_free(part);
        return false;
    }
    g_free(part);
    return true;
}

/* ---- reading -------------------------------------------------------------------*/

typedef struct reader {
    const char *name;
    uf_error *err;
    bool failed;
} reader;

static bool bad(reader *r, const char *where, const char *why)
{
    if (!r->failed)
        uf_error_set(r->err, "%s: %s: %s", r->name, where, why);
    r->failed = true;
    return false;
}

/* "steps[3].request": where a member is, for errors. */
static const char *place(char *buf, size_t size, const char *where, const char *key)
{
    snprintf(buf, size, "%s%s%s", where, *where ? "." : "", key);
    return buf;
}

static JsonNode *member(JsonObject *o, const char *key)
{
    return o && json_object_has_member(o, key) ? json_object_get_member(o, key) : NULL;
}

static bool is_null(JsonNode *n)
{
    return !n || JSON_NODE_HOLDS_NULL(n);
}

/* A number, or a "0x..." string (ids, addresses). */
static bool get_uint(reader *r, JsonObject *o, const char *key, const char *where, uint64_t max,
                     uint64_t *out)
{
    JsonNode *n = member(o, key);
    char path[160];
    place(path, sizeof(path), where, key);
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return bad(r, path, "missing, or not a number");
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
        gint64 v = json_node_get_int(n);
        if (v < 0 || (uint64_t)v > max)
            return bad(r, path, "out of range");
        *out = (uint64_t)v;
        return true;
    }
    if (t == G_TYPE_STRING) {
        const char *s = json_node_get_string(n);
        guint64 v;
        if (!g_str_has_prefix(s, "0x") && !g_str_has_prefix(s, "0X"))
            return bad(r, path, "expected a number or a hex string such as \"0x7E0\"");
        if (!g_ascii_string_to_unsigned(s + 2, 16, 0, max, &v, NULL))
            return bad(r, path, "not a hex number in range");
        *out = v;
        return true;
    }
    return bad(r, path, "expected a number or a hex string");
}

static bool get_time(reader *r, JsonObject *o, const char *key, const char *where, uf_time *out)
{
    JsonNode *n = member(o, key);
    char path[160];
    place(path, sizeof(path), where, key);
    if (is_null(n)) {
        *out = UF_TIME_NONE;
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || (json_node_get_value_type(n) != G_TYPE_DOUBLE &&
                                      json_node_get_value_type(n) != G_TYPE_INT64))
        return bad(r, path, "expected seconds");
    double v = json_node_get_double(n);
    if (!(v >= 0 && v <= 86400.0))
        return bad(r, path, "seconds out of range (0 to 86400)");
    *out = (uf_time)(v * 1e9 + 0.5);
    return true;
}

static const char *get_string(reader *r, JsonObject *o, const char *key, const char *where,
                              bool optional)
{
    JsonNode *n = member(o, key);
    if (optional && is_null(n))
        return NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        char path[160];
        place(path, sizeof(path), where, key);
        bad(r, path, "missing, or not a string");
        return NULL;
    }
    return json_node_get_string(n);
}

static bool get_bool(reader *r, JsonObject *o, const char *key, const char *where, bool *out)
{
    JsonNode *n = member(o, key);
    if (is_null(n)) {
        *out = false;
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
        char path[160];
        place(path, sizeof(path), where, key);
        return bad(r, path, "expected true or false");
    }
    *out = json_node_get_boolean(n);
    return true;
}

/* "10 03", "1003", "10:03" -> bytes. */
static bool get_bytes(reader *r, JsonObject *o, const char *key, const char *where,
                      uint8_t **out, size_t *len)
{
    const char *s = get_string(r, o, key, where, false);
    if (!s)
        return false;
    char path[160];
    place(path, sizeof(path), where, key);
    GByteArray *b = g_byte_array_new();
    int hi = -1;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == ':' || *p == '\t')
            continue;
        int v = g_ascii_xdigit_value(*p);
        if (v < 0 || b->len >= UF_SCRIPT_MESSAGE_MAX) {
            g_byte_array_free(b, TRUE);
            return bad(r, path, v < 0 ? "not hex bytes" : "too long");
        }
        if (hi < 0) {
            hi = v;
        } else {
            uint8_t byte = (uint8_t)(hi << 4 | v);
            g_byte_array_append(b, &byte, 1);
            hi = -1;
        }
    }
    if (hi >= 0 || b->len == 0) {
        g_byte_array_free(b, TRUE);
        return bad(r, path, hi >= 0 ? "an odd number of hex digits" : "empty");
    }
    *len = b->len;
    *out = g_byte_array_free(b, FALSE);
    return true;
}

static bool can_id(reader *r, JsonObject *o, const char *key, const char *where, bool optional,
                   uint32_t *out)
{
    JsonNode *n = member(o, key);
    *out = 0;
    if (optional && is_null(n))
        return true;
    uint64_t v;
    if (!get_uint(r, o, key, where, 0x1FFFFFFF, &v))
        return false;
    /* Eight hex digits or a value beyond 11 bits: a 29-bit id. */
    bool eff = v > 0x7FF || (JSON_NODE_HOLDS_VALUE(n) &&
                             json_node_get_value_type(n) == G_TYPE_STRING &&
                             strlen(json_node_get_string(n)) > 5);
    *out = (uint32_t)v | (eff ? UF_ISOTP_EFF : 0);
    return true;
}

static bool address_byte(reader *r, JsonObject *o, const char *key, const char *where,
                         int16_t *out)
{
    uint64_t v;
    *out = -1;
    if (is_null(member(o, key)))
        return true;
    if (!get_uint(r, o, key, where, 0xFF, &v))
        return false;
    *out = (int16_t)v;
    return true;
}

static bool read_link(reader *r, JsonObject *root, uf_script_link *l)
{
    JsonNode *n = member(root, "link");
    if (!n || !JSON_NODE_HOLDS_OBJECT(n))
        return bad(r, "link", "missing, or not an object");
    JsonObject *o = json_node_get_object(n);
    const char *t = get_string(r, o, "transport", "link", false);
    if (!t)
        return false;
    uint64_t v;
    if (strcmp(t, "doip") == 0) {
        l->doip = true;
        if (!get_uint(r, o, "tester", "link", 0xFFFF, &v))
            return false;
        l->tester_la = (uint16_t)v;
        if (!get_uint(r, o, "ecu", "link", 0xFFFF, &v))
            return false;
        l->ecu_la = (uint16_t)v;
        l->functional_la = 0;
        if (!is_null(member(o, "functional"))) {
            if (!get_uint(r, o, "functional", "link", 0xFFFF, &v))
                return false;
            l->functional_la = (uint16_t)v;
        }
        return true;
    }
    if (strcmp(t, "can") != 0 && strcmp(t, "can-fd") != 0)
        return bad(r, "link.transport", "expected can, can-fd or doip");
    l->fd = strcmp(t, "can-fd") == 0;
    const char *a = get_string(r, o, "addressing", "link", false);
    if (!a)
        return false;
    if (!uf_addressing_parse(a, &l->addressing) || l->addressing == UF_ADDR_AUTO)
        return bad(r, "link.addressing", "expected normal, normal-fixed, extended or mixed");
    if (!can_id(r, o, "tester_id", "link", false, &l->tester_id) ||
        !can_id(r, o, "ecu_id", "link", false, &l->ecu_id) ||
        !can_id(r, o, "functional_id", "link", true, &l->functional_id) ||
        !address_byte(r, o, "tester_address", "link", &l->tester_addr) ||
        !address_byte(r, o, "ecu_address", "link", &l->ecu_addr))
        return false;
    if (uf_addressing_prefix(l->addressing) && (l->tester_addr < 0 || l->ecu_addr < 0))
        return bad(r, "link", "extended and mixed addressing need tester_address and "
                              "ecu_address");
    if (!get_uint(r, o, "tx_dl", "link", 64, &v))
        return false;
    l->tx_dl = (uint8_t)v;
    bool ok_dl = l->fd ? (v == 8 || v == 12 || v == 16 || v == 20 || v == 24 || v == 32 ||
                          v == 48 || v == 64)
                       : v == 8;
    if (!ok_dl)
        return bad(r, "link.tx_dl", l->fd ? "expected 8, 12, 16, 20, 24, 32, 48 or 64"
                                          : "classic CAN carries 8 bytes");
    l->pad = !is_null(member(o, "padding"));
    if (l->pad) {
        if (!get_uint(r, o, "padding", "link", 0xFF, &v))
            return false;
        l->pad_byte = (uint8_t)v;
    }
    return true;
}

static bool read_downloads(reader *r, JsonObject *root, uf_script *s)
{
    JsonNode *n = member(root, "downloads");
    if (!n || !JSON_NODE_HOLDS_ARRAY(n))
        return bad(r, "downloads", "missing, or not an array");
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        char where[48];
        snprintf(where, sizeof(where), "downloads[%u]", i);
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(e))
            return bad(r, where, "not an object");
        JsonObject *o = json_node_get_object(e);
        uf_script_download d = {0};
        uint64_t v;
        if (!get_uint(r, o, "download", where, UINT32_MAX, &v))
            return false;
        if (v != i + 1)
            return bad(r, where, "downloads must be numbered 1, 2, ... in order");
        d.index = (uint32_t)v;
        if (!get_uint(r, o, "address", where, UINT32_MAX, &d.address) ||
            !get_uint(r, o, "size", where, UF_SCRIPT_IMAGE_MAX, &d.size))
            return false;
        if (!d.size)
            return bad(r, where, "size 0");
        if (!get_uint(r, o, "blocks", where, UINT32_MAX, &v))
            return false;
        d.blocks = (uint32_t)v;
        if (!get_uint(r, o, "max_block_length", where, UINT32_MAX, &v))
            return false;
        d.max_block_len = (uint32_t)v;
        const char *sha = get_string(r, o, "sha256", where, false);
        const char *img = get_string(r, o, "image", where, false);
        if (!sha || !img)
            return false;
        if (strlen(sha) != 64)
            return bad(r, where, "sha256: expected 64 hex digits");
        g_strlcpy(d.sha256, sha, sizeof(d.sha256));
        d.image_file = g_strdup(img);
        g_array_append_val(s->downloads, d);
    }
    if (s->downloads->len == 0)
        return bad(r, "downloads", "empty: there is no image to flash");
    return true;
}

static bool read_step(reader *r, JsonObject *o, const char *where, uf_script *s,
                      uf_script_step *st)
{
    st->phase = g_strdup(get_string(r, o, "phase", where, true));
    st->name = g_strdup(get_string(r, o, "step", where, true));
    if (r->failed || !get_time(r, o, "delay", where, &st->delay))
        return false;
    if (st->delay == UF_TIME_NONE)
        st->delay = 0;
    st->response_time = UF_TIME_NONE;
    if (!is_null(member(o, "transfer"))) {
        uint64_t v;
        if (!get_uint(r, o, "transfer", where, UINT32_MAX, &v))
            return false;
        if (!uf_script_download_at(s, (uint32_t)v))
            return bad(r, where, "transfer names no download of the script");
        st->download = (uint32_t)v;
        return true;
    }
    if (!get_bytes(r, o, "request", where, &st->request, &st->request_len) ||
        !get_bool(r, o, "functional", where, &st->functional))
        return false;
    if (st->request[0] == 0x36)
        return bad(r, where, "TransferData goes in a transfer step, not as a request");
    const char *e = get_string(r, o, "expect", where, false);
    if (!e)
        return false;
    if (strcmp(e, "nothing") == 0) {
        st->expect = UF_EXPECT_NOTHING;
        return true;
    }
    if (strcmp(e, "positive") == 0)
        st->expect = UF_EXPECT_POSITIVE;
    else if (strcmp(e, "negative") == 0)
        st->expect = UF_EXPECT_NEGATIVE;
    else
        return bad(r, where, "expect: expected positive, negative or nothing");
    uint64_t pending = 0;
    if (!get_bytes(r, o, "response", where, &st->response, &st->response_len) ||
        (!is_null(member(o, "pending")) &&
         !get_uint(r, o, "pending", where, UINT32_MAX, &pending)) ||
        !get_time(r, o, "response_time", where, &st->response_time))
        return false;
    st->pending = (uint32_t)pending;
    bool negative = st->response_len >= 3 && st->response[0] == 0x7F;
    if (negative != (st->expect == UF_EXPECT_NEGATIVE))
        return bad(r, where, "the response does not match expect");
    if (negative ? st->response[1] != st->request[0]
                 : st->response[0] != (uint8_t)(st->request[0] + 0x40))
        return bad(r, where, "the response does not answer the request's service");
    return true;
}

static bool read_steps(reader *r, JsonObject *root, uf_script *s)
{
    JsonNode *n = member(root, "steps");
    if (!n || !JSON_NODE_HOLDS_ARRAY(n))
        return bad(r, "steps", "missing, or not an array");
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        char where[48];
        snprintf(where, sizeof(where), "steps[%u]", i);
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(e))
            return bad(r, where, "not an object");
        uf_script_step st = {0};
        bool ok = read_step(r, json_node_get_object(e), where, s, &st);
        g_array_append_val(s->steps, st); /* freed with the script either way */
        if (!ok)
            return false;
    }
    for (guint i = 0; i < s->downloads->len; i++) {
        bool used = false;
        for (guint k = 0; k < s->steps->len; k++)
            used |= uf_script_step_at(s, k)->download == i + 1;
        if (!used)
            return bad(r, "steps", "a download has no transfer step");
    }
    return true;
}

static bool read_timing(reader *r, JsonObject *root, uf_script *s)
{
    JsonNode *n = member(root, "timing");
    if (is_null(n))
        return true;
    if (!JSON_NODE_HOLDS_OBJECT(n))
        return bad(r, "timing", "not an object");
    JsonObject *o = json_node_get_object(n);
    if (!get_time(r, o, "p2", "timing", &s->p2) || !get_time(r, o, "p2star", "timing", &s->p2star))
        return false;
    if (s->p2 == UF_TIME_NONE)
        s->p2 = 0;
    if (s->p2star == UF_TIME_NONE)
        s->p2star = 0;
    JsonNode *tp = member(o, "tester_present");
    if (is_null(tp))
        return true;
    if (!JSON_NODE_HOLDS_OBJECT(tp))
        return bad(r, "timing.tester_present", "not an object");
    JsonObject *t = json_node_get_object(tp);
    if (!get_time(r, t, "interval", "timing.tester_present", &s->tester_present_interval) ||
        !get_bool(r, t, "functional", "timing.tester_present", &s->tester_present_functional))
        return false;
    if (s->tester_present_interval == UF_TIME_NONE || s->tester_present_interval < UF_NS_PER_MS)
        return bad(r, "timing.tester_present.interval", "at least 0.001 s");
    return true;
}

static bool read_images(reader *r, uf_script *s, const char *dir)
{
    for (guint i = 0; i < s->downloads->len; i++) {
        uf_script_download *d = &g_array_index(s->downloads, uf_script_download, i);
        char *path = g_path_is_absolute(d->image_file)
                         ? g_strdup(d->image_file)
                         : g_build_filename(dir, d->image_file, NULL);
        gchar *data = NULL;
        gsize len = 0;
        GError *e = NULL;
        if (!g_file_get_contents(path, &data, &len, &e)) {
            uf_error_set(r->err, "%s: download %u: %s", r->name, d->index, e->message);
            g_error_free(e);
            g_free(path);
            return false;
        }
        char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
        bool same = len == d->size && g_ascii_strcasecmp(sha, d->sha256) == 0;
        if (!same)
            uf_error_set(r->err, "%s: download %u: %s has %" G_GSIZE_FORMAT " bytes with "
                                 "SHA-256 %s; the script says %" G_GUINT64_FORMAT " bytes, %s",
                         r->name, d->index, path, len, sha, d->size, d->sha256);
        g_free(sha);
        g_free(path);
        if (!same) {
            g_free(data);
            return false;
        }
        d->image = (uint8_t *)data;
    }
    return true;
}

uf_script *uf_script_parse(const char *text, size_t len, const char *name, bool images,
                           uf_error *err)
{
    reader r = {name, err, false};
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    if (!json_parser_load_from_data(p, text, (gssize)len, &e)) {
        /* json-glib's message carries <data>:LINE:COLUMN. */
        uf_error_set(err, "%s: not JSON: %s", name, e->message);
        g_error_free(e);
        g_object_unref(p);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    uf_script *s = g_new0(uf_script, 1);
    s->steps = g_array_new(FALSE, TRUE, sizeof(uf_script_step));
    s->downloads = g_array_new(FALSE, TRUE, sizeof(uf_script_download));
    uint64_t v;
    bool ok = root && JSON_NODE_HOLDS_OBJECT(root);
    if (!ok)
        bad(&r, "top level", "expected an object");
    JsonObject *o = ok ? json_node_get_object(root) : NULL;
    if (ok && (!get_uint(&r, o, "udsreplay_script", "", UINT32_MAX, &v) ||
               (v != UF_SCRIPT_VERSION &&
                !bad(&r, "udsreplay_script", "a version this udsreplay does not know"))))
        ok = false;
    if (ok) {
        const char *src = get_string(&r, o, "source", "", true);
        s->source = g_strdup(src ? src : name);
        uint64_t session = 0;
        if (!is_null(member(o, "session")))
            ok = get_uint(&r, o, "session", "", UINT32_MAX, &session);
        s->session = (uint32_t)session;
    }
    ok = ok && read_link(&r, o, &s->link) && read_timing(&r, o, s) && read_downloads(&r, o, s) &&
         read_steps(&r, o, s);
    if (ok && images) {
        char *dir = g_path_get_dirname(name);
        ok = read_images(&r, s, dir);
        g_free(dir);
    }
    g_object_unref(p);
    if (!ok) {
        uf_script_free(s);
        return NULL;
    }
    return s;
}

uf_script *uf_script_load(const char *path, uf_error *err)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        uf_error_set(err, "%s", e->message);
        g_error_free(e);
        return NULL;
    }
    uf_script *s = uf_script_parse(text, len, path, true, err);
    g_free(text);
    return s;
}
