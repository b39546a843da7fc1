/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Interoperability: the UDS messages udsflash reconstructs equal, message for
 * message, those tshark 4.0's own ISO-TP and UDS dissectors decode
 * (-o iso15765.can.ids:... -d iso15765.subdissector,uds), and over DoIP its
 * TCP reassembly and DoIP dissector. For the sample where
 * two ECUs interleave, which Wireshark 4.0's reassembly cannot follow, each
 * ECU's traffic is filtered out with tshark first and compared on its own.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct pdu {
    uint64_t frame;
    uf_time time; /* of the frame that completed it, in us */
    char *hex;
} pdu;

static void free_pdu(gpointer p)
{
    pdu *x = p;
    g_free(x->hex);
    g_free(x);
}

static void skip_without_tshark(void)
{
    if (!th_have_program("tshark"))
        cr_skip_test("tshark is not installed (apt-get install tshark): the cross-check needs it");
}

/* Ids of our messages, as tshark's preferences want them. */
static void id_prefs(const th_analysis *a, GString *std, GString *ext, bool *extended)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < a->msgs->len; i++) {
        const th_uds_msg *m = g_ptr_array_index(a->msgs, i);
        const char *names[] = {m->tester, m->ecu};
        for (int k = 0; k < 2; k++) {
            if (!names[k][0] || g_hash_table_contains(seen, names[k]))
                continue;
            g_hash_table_add(seen, (gpointer)names[k]);
            uint32_t id = (uint32_t)strtoul(names[k] + 2, NULL, 16);
            const char *colon = strchr(names[k], ':');
            if (colon)
                *extended = true;
            size_t id_len = colon ? (size_t)(colon - names[k]) : strlen(names[k]);
            GString *s = id_len == 10 ? ext : std; /* "0x18DA10F1": a 29-bit id */
            g_string_append_printf(s, "%s%u", s->len ? "," : "", id);
        }
    }
    g_hash_table_destroy(seen);
}

/* The UDS messages tshark decodes from a file, with these options. */
static GPtrArray *tshark_uds(const char *file, const char *const *options)
{
    GPtrArray *args = g_ptr_array_new();
    const char *head[] = {"tshark", "-n", "-r", file};
    for (size_t i = 0; i < UF_ARRAY_LEN(head); i++)
        g_ptr_array_add(args, (gpointer)head[i]);
    for (const char *const *o = options; *o; o++)
        g_ptr_array_add(args, (gpointer)*o);
    const char *tail[] = {"-T", "json", "-x", NULL};
    for (size_t i = 0; i < UF_ARRAY_LEN(tail); i++)
        g_ptr_array_add(args, (gpointer)tail[i]);
    char *out = NULL, *err = NULL;
    int rc = th_run((const char *const *)args->pdata, &out, &err);
    g_ptr_array_free(args, TRUE);
    cr_assert_eq(rc, 0, "tshark failed: %s", err);
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    cr_assert(json_parser_load_from_data(p, out, -1, &e), "tshark JSON: %s", e ? e->message : "");
    JsonArray *pkts = json_node_get_array(json_parser_get_root(p));
    GPtrArray *res = g_ptr_array_new_with_free_func(free_pdu);
    for (guint i = 0; i < json_array_get_length(pkts); i++) {
        JsonObject *layers = json_object_get_object_member(
            json_object_get_object_member(json_array_get_object_element(pkts, i), "_source"),
            "layers");
        if (!json_object_has_member(layers, "uds_raw"))
            continue;
        JsonObject *frame = json_object_get_object_member(layers, "frame");
        JsonArray *raw = json_object_get_array_member(layers, "uds_raw");
        pdu *x = g_new0(pdu, 1);
        x->frame = g_ascii_strtoull(json_object_get_string_member(frame, "frame.number"), NULL, 10);
        double t = g_ascii_strtod(json_object_get_string_member(frame, "frame.time_epoch"), NULL);
        x->time = (uf_time)(t * 1e6 + 0.5);
        x->hex = g_strdup(json_array_get_string_element(raw, 0));
        g_ptr_array_add(res, x);
    }
    g_object_unref(p);
    g_free(out);
    g_free(err);
    return res;
}

/* ISO-TP on CAN: tshark needs the ids and the addressing. */
static GPtrArray *tshark_pdus(const char *file, const char *std, const char *ext, bool extended)
{
    char *o1 = g_strdup_printf("iso15765.can.ids:%s", std);
    char *o2 = g_strdup_printf("iso15765.can.extended_ids:%s", ext);
    const char *options[] = {"-o", o1, "-o", o2, "-o",
                             extended ? "iso15765.addressing:Extended addressing"
                                      : "iso15765.addressing:Normal addressing",
                             "-d", "iso15765.subdissector,uds", NULL};
    GPtrArray *res = tshark_uds(file, options);
    g_free(o1);
    g_free(o2);
    return res;
}

static GPtrArray *our_pdus(const th_analysis *a, const char *only_tester, const char *only_ecu)
{
    GPtrArray *res = g_ptr_array_new_with_free_func(free_pdu);
    for (guint i = 0; i < a->msgs->len; i++) {
        const th_uds_msg *m = g_ptr_array_index(a->msgs, i);
        if (m->incomplete)
            continue;
        if (only_tester && strcmp(m->tester, only_tester) != 0 && strcmp(m->ecu, only_ecu) != 0)
            continue;
        pdu *x = g_new0(pdu, 1);
        x->frame = m->last_frame;
        x->time = m->t_last / UF_NS_PER_US;
        x->hex = th_to_hex(m->data, m->len);
        g_ptr_array_add(res, x);
    }
    return res;
}

static gint by_frame_order(gconstpointer a, gconstpointer b)
{
    const pdu *x = *(const pdu *const *)a, *y = *(const pdu *const *)b;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static void compare(const char *what, GPtrArray *ours, GPtrArray *theirs, bool by_frame)
{
    /* A DoIP request goes up when its ACK comes, after traffic on other
     * buses may have gone up: frame order is what both sides share. */
    if (by_frame)
        g_ptr_array_sort(ours, by_frame_order);
    cr_assert_eq(ours->len, theirs->len, "%s: udsflash found %u UDS messages, tshark %u", what,
                 ours->len, theirs->len);
    for (guint i = 0; i < ours->len; i++) {
        pdu *a = g_ptr_array_index(ours, i), *b = g_ptr_array_index(theirs, i);
        if (by_frame)
            cr_assert_eq(a->frame, b->frame, "%s #%u: frame %lu vs %lu", what, i + 1,
                         (unsigned long)a->frame, (unsigned long)b->frame);
        else
            cr_assert_eq(a->time, b->time, "%s #%u: time", what, i + 1);
        cr_assert_str_eq(a->hex, b->hex, "%s #%u (frame %lu)", what, i + 1,
                         (unsigned long)a->frame);
    }
}

static void crosscheck(const char *sample)
{
    skip_without_tshark();
    char *path = th_sample(sample);
    th_analysis a;
    th_analysis_init(&a);
    cr_assert(th_analyze_file(&a, path, NULL), "%s", a.err.msg);
    GString *std = g_string_new(""), *ext = g_string_new("");
    bool extended = false;
    id_prefs(&a, std, ext, &extended);
    GPtrArray *ours = our_pdus(&a, NULL, NULL);
    GPtrArray *theirs = tshark_pdus(path, std->str, ext->str, extended);
    cr_assert_gt(ours->len, 40);
    compare(sample, ours, theirs, true);
    g_ptr_array_free(ours, TRUE);
    g_ptr_array_free(theirs, TRUE);
    g_string_free(std, TRUE);
    g_string_free(ext, TRUE);
    th_analysis_free(&a);
    g_free(path);
}

Test(crosscheck, classic_11bit)
{
    crosscheck("flash-11bit.pcap");
}

Test(crosscheck, fd_29bit)
{
    crosscheck("flash-29bit-fd.pcap");
}

Test(crosscheck, extended_addressing)
{
    crosscheck("flash-extended.pcap");
}

Test(crosscheck, interleaved_ecus_one_at_a_time)
{
    skip_without_tshark();
    char *path = th_sample("flash-two-ecus.pcap");
    th_analysis a;
    th_analysis_init(&a);
    cr_assert(th_analyze_file(&a, path, NULL), "%s", a.err.msg);
    char *dir = th_tmpdir();
    struct {
        const char *tester, *ecu, *filter;
        unsigned tester_id, ecu_id;
    } ecus[] = {{"0x7E0", "0x7E8", "can.id == 0x7e0 || can.id == 0x7e8", 0x7E0, 0x7E8},
                {"0x7E1", "0x7E9", "can.id == 0x7e1 || can.id == 0x7e9", 0x7E1, 0x7E9}};
    for (size_t e = 0; e < UF_ARRAY_LEN(ecus); e++) {
        char *one = g_build_filename(dir, e ? "ecu2.pcap" : "ecu1.pcap", NULL);
        const char *argv[] = {"tshark", "-r", path, "-Y", ecus[e].filter, "-w", one, NULL};
        char *err = NULL;
        cr_assert_eq(th_run(argv, NULL, &err), 0, "%s", err);
        g_free(err);
        char *ids = g_strdup_printf("%u,%u", ecus[e].tester_id, ecus[e].ecu_id);
        GPtrArray *theirs = tshark_pdus(one, ids, "", false);
        GPtrArray *ours = our_pdus(&a, ecus[e].tester, ecus[e].ecu);
        /* Functional requests (0x7DF) fall out of the filter; the ECU's
         * answers to them stay, on its own id. */
        cr_assert_gt(ours->len, 40);
        compare(ecus[e].ecu, ours, theirs, false);
        g_ptr_array_free(ours, TRUE);
        g_ptr_array_free(theirs, TRUE);
        g_free(ids);
        g_free(one);
    }
    g_free(dir);
    th_analysis_free(&a);
    g_free(path);
}

/* DoIP on TCP 13400: tshark's DoIP dissector hands the UDS payload of each
 * diagnostic message to its UDS dissector. Out-of-order segments need its
 * reassembly option (off by default in 4.0). */
static void crosscheck_doip(const char *sample, unsigned at_least)
{
    skip_without_tshark();
    char *path = th_sample(sample);
    th_analysis a;
    th_analysis_init(&a);
    cr_assert(th_analyze_file(&a, path, NULL), "%s", a.err.msg);
    const char *options[] = {"-o", "tcp.reassemble_out_of_order:TRUE", NULL};
    GPtrArray *ours = our_pdus(&a, NULL, NULL);
    GPtrArray *theirs = tshark_uds(path, options);
    cr_assert_geq(ours->len, at_least);
    compare(sample, ours, theirs, true);
    g_ptr_array_free(ours, TRUE);
    g_ptr_array_free(theirs, TRUE);
    th_analysis_free(&a);
    g_free(path);
}

Test(crosscheck, doip_ipv4_ack_and_response_in_one_segment)
{
    crosscheck_doip("doip-flash.pcap", 55);
}

Test(crosscheck, doip_ipv6_retransmitted_and_reordered)
{
    crosscheck_doip("doip-flash-ipv6.pcapng", 55);
}

/* A gateway capture: DoIP on eth0 and ISO-TP on can0 in one pcapng. */
Test(crosscheck, gateway_doip_and_can)
{
    skip_without_tshark();
    char *path = th_sample("gateway-doip-can.pcapng");
    th_analysis a;
    th_analysis_init(&a);
    cr_assert(th_analyze_file(&a, path, NULL), "%s", a.err.msg);
    GPtrArray *ours = our_pdus(&a, NULL, NULL);
    GPtrArray *theirs = tshark_pdus(path, "2015,2016,2024", "", false);
    cr_assert_geq(ours->len, 55 + 71);
    compare("gateway-doip-can.pcapng", ours, theirs, true);
    g_ptr_array_free(ours, TRUE);
    g_ptr_array_free(theirs, TRUE);
    th_analysis_free(&a);
    g_free(path);
}

/* Our Busmaster reader against wiretap's on a valid log: the same frames,
 * ids, data and times (wiretap is not trusted with malformed ones). */
Test(crosscheck, busmaster_reader_agrees_with_wiretap)
{
    skip_without_tshark();
    char *path = th_sample("flash-11bit.busmaster");
    const char *argv[] = {"tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch",
                          "-e", "can.id", "-e", "data.data", NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(th_run(argv, &out, &err), 0, "%s", err);
    char **lines = g_strsplit(out, "\n", -1);
    uf_error e;
    uf_reader *r = uf_reader_open(path, &e);
    cr_assert_not_null(r, "%s", e.msg);
    uf_record rec;
    guint i = 0;
    while (uf_reader_next(r, &rec, &e) == 1) {
        cr_assert_not_null(lines[i]);
        char **f = g_strsplit(lines[i], "\t", 3);
        uf_time t = (uf_time)(g_ascii_strtod(f[0], NULL) * 1e6 + 0.5);
        cr_assert_eq(t, rec.time / UF_NS_PER_US, "frame %u time", i + 1);
        cr_assert_eq(g_ascii_strtoull(f[1], NULL, 0), rec.can.id, "frame %u id", i + 1);
        char *hex = th_to_hex(rec.can.data, rec.can.len);
        cr_assert_str_eq(f[2] ? f[2] : "", hex, "frame %u data", i + 1);
        g_free(hex);
        g_strfreev(f);
        i++;
    }
    cr_assert_eq(i, 710);
    cr_assert(!lines[i] || !*lines[i], "wiretap read more frames");
    uf_reader_close(r);
    g_strfreev(lines);
    g_free(out);
    g_free(err);
    g_free(path);
}
