/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The udsreplay program: `list` finds the sessions `udsflash check` finds,
 * with their downloads and whether they can be replayed; exit statuses.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* Runs udsreplay with the arguments; its status, output and errors. */
static int udsreplay(char **out, char **err, const char *a1, const char *a2, const char *a3)
{
    const char *argv[] = {UF_UDSREPLAY, a1, a2, a3, NULL};
    return th_run(argv, out, err);
}

static JsonParser *parse(const char *json)
{
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    cr_assert(json_parser_load_from_data(p, json, -1, &e), "%s: %s", e ? e->message : "", json);
    return p;
}

/* The sha256 of each download, as `udsflash check --format json` gives it. */
static GPtrArray *check_hashes(const char *sample)
{
    char *path = th_sample(sample), *out = NULL;
    cr_assert_eq(th_udsflash(&out, NULL, "check", "--format=json", path, NULL), 0);
    JsonParser *p = parse(out);
    JsonArray *sessions = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(p)), "sessions");
    GPtrArray *hashes = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(sessions); i++) {
        JsonArray *d = json_object_get_array_member(json_array_get_object_element(sessions, i),
                                                    "downloads");
        for (guint k = 0; k < json_array_get_length(d); k++)
            g_ptr_array_add(hashes, g_strdup(json_object_get_string_member(
                                        json_array_get_object_element(d, k), "sha256")));
    }
    g_object_unref(p);
    g_free(out);
    g_free(path);
    return hashes;
}

static void assert_lists_as_check_does(const char *sample, guint sessions, const char *transport)
{
    char *path = th_sample(sample), *out = NULL;
    cr_assert_eq(udsreplay(&out, NULL, "list", "--format=json", path), 0, "%s", sample);
    JsonParser *p = parse(out);
    JsonArray *list = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                                   "sessions");
    cr_assert_eq(json_array_get_length(list), sessions, "%s", sample);
    GPtrArray *want = check_hashes(sample);
    guint n = 0;
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *s = json_array_get_object_element(list, i);
        cr_assert(json_object_get_boolean_member(s, "replayable"), "%s: session %u", sample, i + 1);
        cr_assert_str_eq(json_object_get_string_member(s, "transport"), transport);
        cr_assert_eq(json_object_get_int_member(s, "security_level"), 9);
        JsonArray *d = json_object_get_array_member(s, "downloads");
        for (guint k = 0; k < json_array_get_length(d); k++, n++) {
            JsonObject *o = json_array_get_object_element(d, k);
            cr_assert(json_object_get_boolean_member(o, "complete"));
            cr_assert_eq(json_object_get_int_member(o, "bytes"),
                         json_object_get_int_member(o, "size"));
            cr_assert(n < want->len);
            cr_assert_str_eq(json_object_get_string_member(o, "sha256"),
                             (const char *)want->pdata[n], "%s download %u", sample, n + 1);
        }
    }
    cr_assert_eq(n, want->len, "%s: %u downloads listed, check has %u", sample, n, want->len);
    g_ptr_array_free(want, TRUE);
    g_object_unref(p);
    g_free(out);
    g_free(path);
}

Test(list, the_sessions_and_downloads_of_udsflash_check)
{
    assert_lists_as_check_does("flash-11bit.pcap", 1, "can");
    assert_lists_as_check_does("flash-29bit-fd.pcapng", 1, "can-fd");
    assert_lists_as_check_does("flash-extended.candump", 1, "can");
    assert_lists_as_check_does("flash-two-ecus.pcap", 2, "can");
    assert_lists_as_check_does("flash-two-buses.pcapng", 2, "can");
    assert_lists_as_check_does("doip-flash.pcap", 1, "doip");
    assert_lists_as_check_does("doip-flash-ipv6.pcapng", 1, "doip");
}

Test(list, text_names_tester_ecu_and_image)
{
    char *path = th_sample("flash-two-ecus.pcap"), *out = NULL;
    cr_assert_eq(udsreplay(&out, NULL, "list", path, NULL), 0);
    cr_assert(strstr(out, "2 flash sessions"), "%s", out);
    cr_assert(strstr(out, "tester 0x7E0 -> ECU 0x7E8"), "%s", out);
    cr_assert(strstr(out, "tester 0x7E1 -> ECU 0x7E9"), "%s", out);
    cr_assert(strstr(out, "download 1  0x00020000  2048 of 2048 bytes"), "%s", out);
    g_free(out);
    g_free(path);
}

/* A transfer cut short cannot be flashed again: said, and exit status 1. */
Test(list, an_incomplete_download_is_not_replayable)
{
    char *path = th_sample("flash-11bit-cut.pcap"), *out = NULL;
    cr_assert_eq(udsreplay(&out, NULL, "list", "--format=json", path), 1);
    JsonParser *p = parse(out);
    JsonObject *s = json_array_get_object_element(
        json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "sessions"),
        0);
    cr_assert_not(json_object_get_boolean_member(s, "replayable"));
    g_object_unref(p);
    g_free(out);
    cr_assert_eq(udsreplay(&out, NULL, "list", path, NULL), 1);
    cr_assert(strstr(out, "not replayable: no complete download"), "%s", out);
    g_free(out);
    g_free(path);
}

Test(list, errors_and_exit_statuses)
{
    char *err = NULL;
    cr_assert_eq(udsreplay(NULL, &err, "list", "/nonexistent/capture.pcap", NULL), 3);
    cr_assert(strstr(err, "/nonexistent/capture.pcap"), "%s", err);
    g_free(err);
    char *path = th_sample("flash-11bit.pcap");
    cr_assert_eq(udsreplay(NULL, &err, "list", "--format=xml", path), 2);
    cr_assert(strstr(err, "--format"), "%s", err);
    g_free(err);
    cr_assert_eq(udsreplay(NULL, &err, "list", NULL, NULL), 2);
    g_free(err);
    cr_assert_eq(udsreplay(NULL, &err, "bogus", NULL, NULL), 2);
    cr_assert(strstr(err, "unknown command"), "%s", err);
    g_free(err);
    /* A capture cut inside a record: analyzed up to the damage, status 3. */
    char *dir = th_tmpdir(), *cut = g_build_filename(dir, "cut.pcap", NULL), *data = NULL;
    gsize n;
    cr_assert(g_file_get_contents(path, &data, &n, NULL));
    cr_assert(g_file_set_contents(cut, data, (gssize)(n / 2 + 3), NULL));
    cr_assert_eq(udsreplay(NULL, &err, "list", cut, NULL), 3);
    cr_assert(strstr(err, "cut.pcap"), "%s", err);
    g_free(err);
    g_free(data);
    g_free(cut);
    g_free(dir);
    g_free(path);
}
