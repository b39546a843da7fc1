/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The Wireshark plugin in a real tshark 4.0: for every sample tshark can
 * read, the findings the plugin shows (rule and frame) are exactly those of
 * `udsflash check --format json`; fields filter; the statistics tree lists
 * each session; expert infos carry the severities; preferences apply, and a
 * bad one is refused with a message. tshark started as root ignores plugin
 * folders, so as root it runs as nobody (setpriv), with a HOME that holds
 * the plugin in ~/.local/lib/wireshark/plugins/4.0/epan. In the sanitizer
 * build tshark runs with the sanitizers preloaded, so ASan and LeakSanitizer
 * check the plugin over every sample.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *home; /* the plugin's HOME, readable by nobody */

static void skip_without_tshark(void)
{
    if (!th_have_program("tshark"))
        cr_skip_test("tshark is not installed (apt-get install tshark): the plugin tests need it");
    if (geteuid() == 0 && !th_have_program("setpriv"))
        cr_skip_test("setpriv (util-linux) is missing: tshark as root would not load the plugin");
}

static void make_home(void)
{
    if (home)
        return;
    home = th_tmpdir();
    chmod(home, 0755);
    char *dir = g_build_filename(home, ".local", "lib", "wireshark", "plugins", UF_WIRESHARK_ABI,
                                 "epan", NULL);
    cr_assert_eq(g_mkdir_with_parents(dir, 0755), 0);
    char *data = NULL;
    gsize n;
    cr_assert(g_file_get_contents(UF_PLUGIN, &data, &n, NULL), "the plugin %s is not built",
              UF_PLUGIN);
    char *so = g_build_filename(dir, "udsflash.so", NULL);
    cr_assert(g_file_set_contents(so, data, (gssize)n, NULL));
    chmod(so, 0644);
    /* Every directory on the way must let nobody in. */
    char *p = g_strdup(dir);
    while (strlen(p) > strlen(home)) {
        chmod(p, 0755);
        char *up = g_path_get_dirname(p);
        g_free(p);
        p = up;
    }
    g_free(p);
    g_free(so);
    g_free(data);
    g_free(dir);
}

/* A copy of a sample that nobody can read. */
static char *readable_sample(const char *name)
{
    make_home();
    char *src = th_sample(name), *dst = g_build_filename(home, name, NULL), *data = NULL;
    gsize n;
    cr_assert(g_file_get_contents(src, &data, &n, NULL), "%s", src);
    cr_assert(g_file_set_contents(dst, data, (gssize)n, NULL));
    chmod(dst, 0644);
    g_free(data);
    g_free(src);
    return dst;
}

/* tshark with the plugin; NULL-terminated arguments. */
static int tshark(char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

static int tshark(char **out, char **err, ...)
{
    make_home();
    GPtrArray *argv = g_ptr_array_new();
    if (geteuid() == 0) {
        const char *drop[] = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
        for (size_t i = 0; i < UF_ARRAY_LEN(drop); i++)
            g_ptr_array_add(argv, (gpointer)drop[i]);
    }
    char *home_env = g_strconcat("HOME=", home, NULL);
    g_ptr_array_add(argv, "env");
    g_ptr_array_add(argv, home_env);
#ifdef UF_SANITIZER_PRELOAD
    /* The sanitizer build's plugin: tshark gets the runtimes, and any leak
     * or error in the plugin fails the run. */
    g_ptr_array_add(argv, "LD_PRELOAD=" UF_SANITIZER_PRELOAD);
#endif
    g_ptr_array_add(argv, "tshark");
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    int rc = th_run((const char *const *)argv->pdata, out, err);
    g_ptr_array_free(argv, TRUE);
    g_free(home_env);
    return rc;
}

static gint by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "frame rule" lines, sorted. */
static GPtrArray *plugin_findings(const char *path)
{
    char *out = NULL, *err = NULL;
    int rc = tshark(&out, &err, "-2", "-n", "-r", path, "-Y", "udsflash.finding", "-T", "fields",
                    "-E", "occurrence=a", "-E", "aggregator=;", "-e", "frame.number", "-e",
                    "udsflash.finding", NULL);
    cr_assert_eq(rc, 0, "tshark on %s: %s", path, err);
    GPtrArray *res = g_ptr_array_new_with_free_func(g_free);
    char **lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        char **cols = g_strsplit(*l, "\t", 2);
        if (cols[0] && cols[1]) {
            char **rules = g_strsplit(cols[1], ";", -1);
            for (char **r = rules; *r; r++)
                g_ptr_array_add(res, g_strdup_printf("%s %s", cols[0], *r));
            g_strfreev(rules);
        }
        g_strfreev(cols);
    }
    g_strfreev(lines);
    g_ptr_array_sort(res, by_text);
    g_free(out);
    g_free(err);
    return res;
}

static GPtrArray *cli_findings(const char *sample, guint *buses)
{
    char *path = g_strconcat("samples/", sample, NULL), *out = NULL;
    int rc = th_udsflash(&out, NULL, "check", "--format=json", path, NULL);
    cr_assert(rc == 0 || rc == 1, "check %s: exit %d", path, rc);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, out, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(p));
    *buses = json_array_get_length(
        json_object_get_array_member(json_object_get_object_member(root, "input"), "buses"));
    JsonArray *f = json_object_get_array_member(root, "findings");
    GPtrArray *res = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(f); i++) {
        JsonObject *x = json_array_get_object_element(f, i);
        gint64 frame = json_object_get_int_member(x, "frame");
        if (frame > 0) /* a finding about the whole capture has no frame to be shown on */
            g_ptr_array_add(res, g_strdup_printf("%" G_GINT64_FORMAT " %s", frame,
                                                 json_object_get_string_member(x, "rule")));
    }
    g_ptr_array_sort(res, by_text);
    g_object_unref(p);
    g_free(out);
    g_free(path);
    return res;
}

/* Wiretap 4.0 hands candump and Busmaster lines over as exported PDUs
 * without their interface name: a log of several buses reaches Wireshark
 * as one bus, and no dissector can part them again. */
static bool wireshark_merges_buses(const char *path, guint cli_buses)
{
    if (cli_buses < 2)
        return false;
    char *out = NULL;
    cr_assert_eq(tshark(&out, NULL, "-r", path, "-c", "1", "-T", "fields", "-e",
                        "frame.encap_type", NULL), 0);
    bool exported = atoi(out) == 155; /* WTAP_ENCAP_WIRESHARK_UPPER_PDU */
    g_free(out);
    return exported;
}

/* Can tshark read this whole sample (4.0 reads no Vector ASC, and takes
 * some for another format)? */
static bool tshark_reads(const char *path)
{
    char *err = NULL;
    int rc = tshark(NULL, &err, "-r", path, "-q", NULL);
    g_free(err);
    return rc == 0;
}

Test(plugin, findings_equal_those_of_udsflash_check)
{
    skip_without_tshark();
    char *dir = th_sample("");
    GDir *d = g_dir_open(dir, 0, NULL);
    unsigned compared = 0, with_findings = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        if (!strchr(name, '.') || g_str_has_suffix(name, ".md") || g_str_has_suffix(name, ".txt"))
            continue;
        char *path = readable_sample(name);
        if (!tshark_reads(path)) {
            g_free(path);
            continue;
        }
        guint buses;
        GPtrArray *cli = cli_findings(name, &buses);
        if (wireshark_merges_buses(path, buses)) {
            g_ptr_array_free(cli, TRUE);
            g_free(path);
            continue;
        }
        GPtrArray *ours = plugin_findings(path);
        GString *a = g_string_new(""), *b = g_string_new("");
        for (guint i = 0; i < ours->len; i++)
            g_string_append_printf(a, "%s\n", (char *)g_ptr_array_index(ours, i));
        for (guint i = 0; i < cli->len; i++)
            g_string_append_printf(b, "%s\n", (char *)g_ptr_array_index(cli, i));
        cr_assert_str_eq(a->str, b->str, "%s: the plugin shows\n%sudsflash check reports\n%s",
                         name, a->str, b->str);
        compared++;
        with_findings += cli->len > 0;
        g_string_free(a, TRUE);
        g_string_free(b, TRUE);
        g_ptr_array_free(ours, TRUE);
        g_ptr_array_free(cli, TRUE);
        g_free(path);
    }
    g_dir_close(d);
    g_free(dir);
    cr_assert_geq(compared, 20, "only %u samples compared", compared);
    cr_assert_geq(with_findings, 4);
}

Test(plugin, fields_filter_without_configuration)
{
    skip_without_tshark();
    /* Two ECUs whose segmented messages interleave: no Decode As, no ids. */
    char *path = readable_sample("flash-two-ecus.pcap"), *out = NULL, *err = NULL;
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-Y",
                        "udsflash.phase == \"programming\" && udsflash.service == \"TransferData\" "
                        "&& udsflash.kind == \"positive\"",
                        "-T", "fields", "-e", "udsflash.ecu", "-e", "udsflash.block_counter",
                        "-e", "udsflash.request_in", "-e", "udsflash.response_time",
                        "-e", "udsflash.download.bytes", NULL),
                 0, "%s", err);
    char **lines = g_strsplit(g_strstrip(out), "\n", -1);
    guint n = g_strv_length(lines);
    cr_assert_eq(n, 16, "8 blocks for each of two ECUs:\n%s", out);
    unsigned ecu1 = 0;
    for (guint i = 0; i < n; i++) {
        char **c = g_strsplit(lines[i], "\t", -1);
        cr_assert_eq(g_strv_length(c), 5, "%s", lines[i]);
        ecu1 += strcmp(c[0], "0x7E8") == 0;
        cr_assert_gt(atoi(c[2]), 0, "request_in: %s", lines[i]);
        cr_assert_gt(g_ascii_strtod(c[3], NULL), 0.0);
        g_strfreev(c);
    }
    cr_assert_eq(ecu1, 8);
    g_strfreev(lines);
    g_free(out);
    g_free(err);

    /* The ISO-TP frames of a message carry it too, and point at its end. */
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-Y", "udsflash.message_in", "-T",
                        "fields", "-e", "frame.number", "-e", "udsflash.message_in", NULL),
                 0, "%s", err);
    cr_assert_gt(strlen(out), 100, "no ISO-TP frame points at its message:\n%s", out);
    g_free(out);
    g_free(err);

    /* The packet list tells the story: each message where it ends. */
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-Y",
                        "udsflash.service == \"RequestDownload\" && udsflash.kind == \"request\" "
                        "&& !udsflash.message_in",
                        "-T", "fields", "-e", "_ws.col.Info", NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "[UDS RequestDownload: request-download]"), "%s", out);
    g_free(out);
    g_free(err);
    g_free(path);
}

Test(plugin, statistics_and_expert_info)
{
    skip_without_tshark();
    char *path = readable_sample("flash-11bit-faults.pcap"), *out = NULL, *err = NULL;
    cr_assert_eq(tshark(&out, &err, "-n", "-r", path, "-q", "-z", "udsflash,tree", NULL), 0,
                 "%s", err);
    /* In this order: a session reads phases, downloads, findings. */
    const char *wanted[] = {"UDS flash sessions", "Session 001: tester 0x7E0 -> ECU 0x7E8",
                            "FAIL", "1 pre-programming phase", "2 programming phase",
                            "3 post-programming phase", "download 1 at 0x00010000: 4096 of 4096",
                            "sha256 c5c0db8c69916ece1235e4ff07cbeff3"
                            "655ff731142e860801f6c128f04cbc1e",
                            "findings", "error timing.p2", "warning isotp.stmin"};
    const char *at = out;
    for (size_t i = 0; i < UF_ARRAY_LEN(wanted); i++) {
        cr_assert(strstr(at, wanted[i]), "no \"%s\" after \"%s\" in:\n%s", wanted[i],
                  i ? wanted[i - 1] : "the start", out);
        at = strstr(at, wanted[i]);
    }
    cr_assert_null(strstr(out, "Capture still open"), "%s", out);
    g_free(out);
    g_free(err);
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-q", "-z", "expert", NULL), 0, "%s",
                 err);
    char *errors = strstr(out, "Errors (3)"), *warns = strstr(out, "Warns (2)");
    cr_assert(errors && warns, "%s", out);
    cr_assert(strstr(errors, "timing.p2: 0x7E8: RoutineControl response after 80.000 ms"), "%s",
              out);
    cr_assert(strstr(warns, "uds.nrc"), "%s", out);
    g_free(out);
    g_free(err);
    g_free(path);

    /* tshark's single pass ends the capture before drawing: what needs the
     * end (here a download cut short) is judged. */
    path = readable_sample("flash-11bit-cut.pcap");
    cr_assert_eq(tshark(&out, &err, "-n", "-r", path, "-q", "-z", "udsflash,tree", NULL), 0,
                 "%s", err);
    cr_assert(strstr(out, "error flash.transfer.incomplete"), "%s", out);
    cr_assert(strstr(out, "(incomplete)"), "%s", out);
    g_free(out);
    g_free(err);
    g_free(path);
}

Test(plugin, preferences)
{
    skip_without_tshark();
    char *path = readable_sample("flash-11bit.pcap"), *out = NULL, *err = NULL;
    /* The HIS profile expects other steps: the same flash fails it. */
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-o", "udsflash.profile:his", "-Y",
                        "udsflash.finding", "-T", "fields", "-e", "udsflash.finding", NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "flash.sequence.missing"), "%s", out);
    g_free(out);
    g_free(err);
    /* A profile file, as --profile FILE takes it: the HIS one, copied. */
    char *ini = NULL, *mine = g_build_filename(home, "my-his.ini", NULL);
    cr_assert(g_file_get_contents(UF_SOURCE_DIR "/profiles/his.ini", &ini, NULL, NULL));
    cr_assert(g_file_set_contents(mine, ini, -1, NULL));
    chmod(mine, 0644);
    char *pref = g_strconcat("udsflash.profile:", mine, NULL);
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-o", pref, "-Y", "udsflash.finding",
                        "-T", "fields", "-e", "udsflash.finding", NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "flash.sequence.missing"), "%s%s", out, err);
    g_free(out);
    g_free(err);
    /* A profile file with a mistake is refused with its file and line. */
    cr_assert(g_file_set_contents(mine, "[profile]\nname = x\n[limits]\np2 = fast\n", -1, NULL));
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-o", pref, "-c", "1", NULL), 0, "%s",
                 err);
    cr_assert(strstr(err, "my-his.ini:4"), "%s", err);
    g_free(out);
    g_free(err);
    g_free(pref);
    g_free(mine);
    g_free(ini);
    /* A profile that does not exist is refused, and the default stays. */
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-o", "udsflash.profile:no-such",
                        "-Y", "udsflash.finding", "-T", "fields", "-e", "udsflash.finding", NULL),
                 0, "%s", err);
    cr_assert(strstr(err, "udsflash: no profile \"no-such\""), "%s", err);
    cr_assert_str_eq(g_strstrip(out), "", "the default profile finds nothing: %s", out);
    g_free(out);
    g_free(err);
    cr_assert_eq(tshark(&out, &err, "-2", "-n", "-r", path, "-o", "udsflash.pairs:0x7E0",
                        "-c", "1", NULL),
                 0, "%s", err);
    cr_assert(strstr(err, "--pair \"0x7E0\""), "%s", err);
    g_free(out);
    g_free(err);
    g_free(path);
}
