/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replay_helpers.h"

#include <criterion/criterion.h>
#include <string.h>

char *rh_ecu_sha256(const char *ecu_file, uint64_t address, uint64_t size)
{
    gchar *data = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(ecu_file, &data, &len, NULL), "%s", ecu_file);
    uint64_t at = ECU_HEADER + address - ECU_REGION;
    cr_assert_leq(at + size, len);
    char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data + at, size);
    g_free(data);
    return sha;
}

JsonArray *rh_check_downloads(const char *file, const char *profile, guint index, int *status,
                              JsonParser **keep)
{
    char *out = NULL;
    *status = th_udsflash(&out, NULL, "check", "--format=json", "--profile",
                          profile ? profile : "iso14229", file, NULL);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, out, -1, NULL), "%s", out);
    g_free(out);
    *keep = p;
    JsonArray *sessions = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(p)), "sessions");
    cr_assert_gt(json_array_get_length(sessions), index, "%s: no session %u", file, index + 1);
    return json_object_get_array_member(json_array_get_object_element(sessions, index),
                                        "downloads");
}

void rh_assert_ecu_holds_golden(const char *ecu_file, const char *golden, guint index)
{
    int status;
    JsonParser *p;
    JsonArray *d = rh_check_downloads(golden, NULL, index, &status, &p);
    cr_assert_geq(json_array_get_length(d), 1);
    for (guint i = 0; i < json_array_get_length(d); i++) {
        JsonObject *o = json_array_get_object_element(d, i);
        char *sha = rh_ecu_sha256(ecu_file, (uint64_t)json_object_get_int_member(o, "address"),
                                  (uint64_t)json_object_get_int_member(o, "size"));
        cr_assert_str_eq(sha, json_object_get_string_member(o, "sha256"),
                         "download %u of session %u of %s", i + 1, index + 1, golden);
        g_free(sha);
    }
    g_object_unref(p);
}

char *rh_write_script(const char *sample, guint session, char **dir_out)
{
    char *dir = th_tmpdir();
    char *script = g_build_filename(dir, "golden.json", NULL);
    char *golden = th_sample(sample), *err = NULL;
    char number[16];
    g_snprintf(number, sizeof(number), "%u", session);
    const char *argv[] = {UF_UDSREPLAY, "script", golden, "-o", script,
                          session ? "--session" : NULL, number, NULL};
    cr_assert_eq(th_run(argv, NULL, &err), 0, "%s", err);
    g_free(err);
    g_free(golden);
    *dir_out = dir;
    return script;
}

void rh_edit(const char *path, const char *from, const char *to)
{
    gchar *text = NULL;
    cr_assert(g_file_get_contents(path, &text, NULL, NULL));
    char *at = strstr(text, from);
    cr_assert(at, "%s has no %s", path, from);
    GString *s = g_string_new_len(text, at - text);
    g_string_append(s, to);
    g_string_append(s, at + strlen(from));
    cr_assert(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
    g_free(text);
}

static gint by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **rh_rules_at_steps(const char *file, const char *doip_port)
{
    char *out = NULL;
    int status = doip_port ? th_udsflash(&out, NULL, "check", "--format", "json", "--doip-port",
                                         doip_port, file, NULL)
                           : th_udsflash(&out, NULL, "check", "--format", "json", file, NULL);
    cr_assert(status == 0 || status == 1, "udsflash check %s: %d", file, status);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, out, -1, NULL), "%s", out);
    JsonArray *f = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                                "findings");
    GPtrArray *lines = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(f); i++) {
        JsonObject *x = json_array_get_object_element(f, i);
        JsonNode *step = json_object_get_member(x, "step");
        char *line = g_strdup_printf("%s@%s", json_object_get_string_member(x, "rule"),
                                     step && !json_node_is_null(step) ? json_node_get_string(step)
                                                                      : "-");
        bool dup = false;
        for (guint k = 0; k < lines->len; k++)
            dup |= strcmp(g_ptr_array_index(lines, k), line) == 0;
        if (dup)
            g_free(line);
        else
            g_ptr_array_add(lines, line);
    }
    g_ptr_array_sort(lines, by_text);
    g_ptr_array_add(lines, NULL);
    g_object_unref(p);
    g_free(out);
    return (char **)g_ptr_array_free(lines, FALSE);
}

bool rh_contains(char **set, const char *what)
{
    for (; set && *set; set++)
        if (strcmp(*set, what) == 0)
            return true;
    return false;
}
