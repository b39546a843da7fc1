/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * proto_udsflash: the UDS flash analysis of udsflash as a Wireshark
 * postdissector. On the first pass it hands every frame, whatever
 * Wireshark made of it, to the project's analyzer (so no Decode As, no
 * iso15765.can.ids, and ECUs whose ISO-TP messages interleave work alike);
 * on every pass it shows what the analysis holds for the frame: the UDS
 * message it ends or belongs to, with session, phase, step, response time
 * and the P2 / P2* limit in force, download progress, and each finding as
 * an expert info of its severity. Wireshark's own UDS decode is untouched.
 */
#include "udsflash.h"

#include <epan/column-utils.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/tap.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <wsutil/report_message.h>

void proto_register_udsflash(void);
void proto_reg_handoff_udsflash(void);

static int proto_udsflash = -1;
static dissector_handle_t udsflash_handle;

static int hf_udsflash_message = -1;
static int hf_udsflash_session = -1;
static int hf_udsflash_tester = -1;
static int hf_udsflash_ecu = -1;
static int hf_udsflash_transport = -1;
static int hf_udsflash_phase = -1;
static int hf_udsflash_step = -1;
static int hf_udsflash_service = -1;
static int hf_udsflash_sid = -1;
static int hf_udsflash_kind = -1;
static int hf_udsflash_params = -1;
static int hf_udsflash_message_in = -1;
static int hf_udsflash_request_in = -1;
static int hf_udsflash_response_in = -1;
static int hf_udsflash_response_time = -1;
static int hf_udsflash_limit = -1;
static int hf_udsflash_limit_name = -1;
static int hf_udsflash_limit_from_ecu = -1;
static int hf_udsflash_block_counter = -1;
static int hf_udsflash_download = -1;
static int hf_udsflash_download_address = -1;
static int hf_udsflash_download_size = -1;
static int hf_udsflash_download_bytes = -1;
static int hf_udsflash_download_progress = -1;
static int hf_udsflash_ack_time = -1;
static int hf_udsflash_nack = -1;
static int hf_udsflash_finding = -1;

static gint ett_udsflash = -1;
static gint ett_udsflash_message = -1;
static gint ett_udsflash_download = -1;

/* One expert field per rule and severity: a profile may change a rule's.
 * Built at registration, freed at Wireshark's shutdown. */
static expert_field *ei_udsflash;
static ei_register_info *ei_registered;
static size_t n_rules;

/* Preferences. */
static const char *pref_profile = UF_PROFILE_DEFAULT;
static guint pref_stmin_tolerance_us = 0;
static gint pref_addressing = 0;
static const char *pref_pairs = "";
static const char *pref_functional = "";
static const char *pref_doip_ports = "";
static gboolean pref_expand = TRUE;
static ufw_settings settings; /* the last settings that passed the checks; owned */

static const enum_val_t addressing_values[] = {
    {"auto", "Found from the traffic", 0},
    {"normal", "Normal", 1},
    {"extended", "Extended (address byte)", 2},
    {"mixed", "Mixed", 3},
    {NULL, NULL, 0},
};

/* ---- the tree ----------------------------------------------------------------------*/

static const char *kind_name(uf_uds_kind k)
{
    return k == UF_UDS_REQUEST ? "request" : k == UF_UDS_POSITIVE ? "positive" : "negative";
}

static double ms(uf_time t)
{
    return (double)t / 1e6;
}

/* Every item of the tree is the analysis's, none a byte of the frame. */
static proto_item *gen(proto_item *pi)
{
    proto_item_set_generated(pi);
    return pi;
}

static void add_message(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo,
                        const ufw_message *m)
{
    /* The frame that ends the message; a DoIP message also shows whole on
     * the segment it starts in. */
    bool here = pinfo->num == m->last_frame ||
                (strcmp(m->transport, "doip") == 0 && pinfo->num == m->first_frame);
    proto_item *ti = gen(proto_tree_add_none_format(
        tree, hf_udsflash_message, tvb, 0, 0, "UDS %s%s%s%s%s", m->service,
        m->kind == UF_UDS_POSITIVE ? "+" : m->kind == UF_UDS_NEGATIVE ? "-" : "",
        m->incomplete ? " (incomplete)" : "", m->params[0] ? " " : "", m->params));
    if (!here)
        proto_item_append_text(ti, "  [an ISO-TP frame of the message in frame %" PRIu64 "]",
                               m->last_frame);
    proto_tree *t = proto_item_add_subtree(ti, ett_udsflash_message);
    if (m->session)
        gen(proto_tree_add_uint(t, hf_udsflash_session, tvb, 0, 0, m->session));
    gen(proto_tree_add_string(t, hf_udsflash_tester, tvb, 0, 0, m->tester));
    gen(proto_tree_add_string(t, hf_udsflash_ecu, tvb, 0, 0, m->ecu));
    gen(proto_tree_add_string(t, hf_udsflash_transport, tvb, 0, 0, m->transport));
    if (m->phase)
        gen(proto_tree_add_string(t, hf_udsflash_phase, tvb, 0, 0, m->phase));
    if (m->step)
        gen(proto_tree_add_string(t, hf_udsflash_step, tvb, 0, 0, m->step));
    gen(proto_tree_add_string(t, hf_udsflash_service, tvb, 0, 0, m->service));
    gen(proto_tree_add_uint(t, hf_udsflash_sid, tvb, 0, 0, m->sid));
    gen(proto_tree_add_string(t, hf_udsflash_kind, tvb, 0, 0, kind_name(m->kind)));
    if (m->params[0])
        gen(proto_tree_add_string(t, hf_udsflash_params, tvb, 0, 0, m->params));
    /* Frame numbers in Wireshark are 32 bits wide. */
    if (!here)
        gen(proto_tree_add_uint(t, hf_udsflash_message_in, tvb, 0, 0, (guint32)m->last_frame));
    if (m->request_frame)
        gen(proto_tree_add_uint(t, hf_udsflash_request_in, tvb, 0, 0, (guint32)m->request_frame));
    if (m->response_frame)
        gen(proto_tree_add_uint(t, hf_udsflash_response_in, tvb, 0, 0,
                                (guint32)m->response_frame));
    if (m->response_time != UF_TIME_NONE && m->kind != UF_UDS_REQUEST)
        gen(proto_tree_add_double(t, hf_udsflash_response_time, tvb, 0, 0, ms(m->response_time)));
    if (m->limit) {
        gen(proto_tree_add_double(t, hf_udsflash_limit, tvb, 0, 0, ms(m->limit)));
        gen(proto_tree_add_string(t, hf_udsflash_limit_name, tvb, 0, 0,
                                  m->limit_p2star ? "P2*" : "P2"));
        gen(proto_tree_add_boolean(t, hf_udsflash_limit_from_ecu, tvb, 0, 0, m->limit_from_ecu));
    }
    if (m->has_block)
        gen(proto_tree_add_uint(t, hf_udsflash_block_counter, tvb, 0, 0, m->block_counter));
    if (m->download) {
        proto_item *di = gen(proto_tree_add_uint(t, hf_udsflash_download, tvb, 0, 0, m->download));
        proto_tree *d = proto_item_add_subtree(di, ett_udsflash_download);
        gen(proto_tree_add_uint64(d, hf_udsflash_download_address, tvb, 0, 0, m->download_address));
        gen(proto_tree_add_uint64(d, hf_udsflash_download_size, tvb, 0, 0, m->download_size));
        gen(proto_tree_add_uint64(d, hf_udsflash_download_bytes, tvb, 0, 0, m->download_bytes));
        if (m->download_size)
            gen(proto_tree_add_double(d, hf_udsflash_download_progress, tvb, 0, 0,
                                      100.0 * (double)m->download_bytes /
                                          (double)m->download_size));
    }
    if (m->acked || m->nacked)
        gen(proto_tree_add_double(t, hf_udsflash_ack_time, tvb, 0, 0, ms(m->ack_latency)));
    if (m->nacked)
        gen(proto_tree_add_uint(t, hf_udsflash_nack, tvb, 0, 0, m->nack_code));
}

static expert_field *expert_for(const ufw_finding *f)
{
    size_t rule = (size_t)(f->rule - uf_rules_all(&(size_t){0}));
    return &ei_udsflash[rule * 3 + (size_t)f->severity];
}

static void add_finding(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, const ufw_finding *f)
{
    proto_item *ti = gen(proto_tree_add_string(tree, hf_udsflash_finding, tvb, 0, 0, f->rule->id));
    proto_item_append_text(ti, " (%s): %s", uf_severity_name(f->severity), f->message);
    expert_add_info_format(pinfo, ti, expert_for(f), "%s: %s", f->rule->id, f->message);
}

static int dissect_udsflash(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    (void)data;
    if (!PINFO_FD_VISITED(pinfo)) {
        const wtap_rec *rec = pinfo->rec;
        if (rec && rec->rec_type == REC_TYPE_PACKET) {
            uint32_t iface = (rec->presence_flags & WTAP_HAS_INTERFACE_ID)
                                 ? rec->rec_header.packet_header.interface_id : 0;
            /* Named as the CLI's readers name it: the pcapng if_name, else if<N>. */
            const char *name = epan_get_interface_name(pinfo->epan, iface);
            char fallback[16];
            if (!name || strcmp(name, "unknown") == 0) {
                snprintf(fallback, sizeof(fallback), "if%u", iface);
                name = fallback;
            }
            uf_time t = (rec->presence_flags & WTAP_HAS_TS)
                            ? uf_time_from_parts(pinfo->abs_ts.secs, pinfo->abs_ts.nsecs)
                            : UF_TIME_NONE;
            guint len = tvb_captured_length(tvb);
            ufw_analysis_feed(pinfo->num, t, iface, rec->rec_header.packet_header.pkt_encap,
                              tvb_get_ptr(tvb, 0, len), len, name);
        }
    }
    /* A frame dissected again is no sign of the end: a live capture's
     * packet list re-dissects its rows while frames still come. */
    ufw_frame fr;
    if (!ufw_analysis_frame(pinfo->num, &fr))
        return 0;
    proto_item *ti = gen(proto_tree_add_item(tree, proto_udsflash, tvb, 0, 0, ENC_NA));
    proto_tree *t = proto_item_add_subtree(ti, ett_udsflash);
    guint n_more = fr.more ? fr.more->len : 0;
    for (guint i = 0; fr.message && i <= n_more; i++) {
        const ufw_message *m = i == 0 ? fr.message : g_ptr_array_index(fr.more, i - 1);
        add_message(t, tvb, pinfo, m);
        const char *sign = m->kind == UF_UDS_POSITIVE ? "+" : m->kind == UF_UDS_NEGATIVE ? "-" : "";
        if (i == 0)
            proto_item_append_text(ti, ": %s%s%s%s%s", m->service, sign, m->step ? " [" : "",
                                   m->step ? m->step : "", m->step ? "]" : "");
        /* The story in the packet list: what each message is, where it ends. */
        if (pinfo->num == m->last_frame)
            col_append_fstr(pinfo->cinfo, COL_INFO, "  [UDS %s%s%s%s]", m->service, sign,
                            m->step ? ": " : "", m->step ? m->step : "");
    }
    for (guint i = 0; fr.findings && i < fr.findings->len; i++)
        add_finding(t, tvb, pinfo, g_ptr_array_index(fr.findings, i));
    return tvb_captured_length(tvb);
}

/* ---- the file's lifecycle --------------------------------------------------------------*/

static void udsflash_init(void)
{
    /* A file opens: subtree states exist by now (not yet at handoff), and
     * preferences left at their defaults are never "applied". */
    tree_expanded_set(ett_udsflash, pref_expand);
    tree_expanded_set(ett_udsflash_message, pref_expand);
    ufw_analysis_start(&settings);
}

static void udsflash_cleanup(void)
{
    ufw_analysis_stop();
}

/* The first sequential pass is over: tshark -2 between its passes,
 * Wireshark when a file is loaded or a live capture stops. */
static void udsflash_postseq(void)
{
    ufw_analysis_finish();
}

/* ---- preferences --------------------------------------------------------------------------*/

static void settings_free(ufw_settings *s)
{
    g_free((char *)s->profile);
    g_free((char *)s->addressing);
    g_free((char *)s->pairs);
    g_free((char *)s->functional);
    g_free((char *)s->doip_ports);
    *s = (ufw_settings){0};
}

static void apply_preferences(void)
{
    ufw_settings s = {pref_profile, pref_stmin_tolerance_us,
                      addressing_values[pref_addressing].name, pref_pairs, pref_functional,
                      pref_doip_ports};
    uf_error err;
    if (!ufw_settings_check(&s, &err)) {
        report_failure("udsflash: %s; keeping the previous settings", err.msg);
        return;
    }
    /* Copies: the preference system frees a string when it is set anew,
     * even to a value we then refuse. */
    settings_free(&settings);
    settings = (ufw_settings){g_strdup(s.profile), s.stmin_tolerance_us, g_strdup(s.addressing),
                              g_strdup(s.pairs), g_strdup(s.functional), g_strdup(s.doip_ports)};
    /* Applied once preferences are read, when subtree states exist. */
    tree_expanded_set(ett_udsflash, pref_expand);
    tree_expanded_set(ett_udsflash_message, pref_expand);
}

/* ---- registration ---------------------------------------------------------------------------*/

static int group_of(const char *rule)
{
    if (g_str_has_prefix(rule, "capture."))
        return PI_MALFORMED;
    if (g_str_has_prefix(rule, "uds.nrc"))
        return PI_RESPONSE_CODE;
    if (g_str_has_prefix(rule, "timing.") || g_str_has_prefix(rule, "flash."))
        return PI_SEQUENCE;
    return PI_PROTOCOL;
}

static void register_expert(void)
{
    const uf_rule *rules = uf_rules_all(&n_rules);
    static const int severities[3] = {PI_NOTE, PI_WARN, PI_ERROR};
    static const char *const names[3] = {"info", "warning", "error"};
    ei_udsflash = g_new(expert_field, n_rules * 3);
    ei_register_info *ei = ei_registered = g_new0(ei_register_info, n_rules * 3);
    for (size_t i = 0; i < n_rules; i++) {
        for (size_t s = 0; s < 3; s++) {
            size_t k = i * 3 + s;
            ei_udsflash[k] = (expert_field)EI_INIT;
            ei[k].ids = &ei_udsflash[k];
            ei[k].eiinfo.name = g_strdup_printf("udsflash.%s.%s", rules[i].id, names[s]);
            ei[k].eiinfo.group = group_of(rules[i].id);
            ei[k].eiinfo.severity = severities[s];
            ei[k].eiinfo.summary = g_strdup_printf("%s (%s)", rules[i].summary, rules[i].clause);
        }
    }
    expert_module_t *em = expert_register_protocol(proto_udsflash);
    expert_register_field_array(em, ei, (int)(n_rules * 3));
}

/* Wireshark exits: what registration built goes, so that a leak checker
 * run over tshark sees the plugin's per-packet memory alone. */
static void udsflash_shutdown(void)
{
    for (size_t k = 0; ei_registered && k < n_rules * 3; k++) {
        g_free((char *)ei_registered[k].eiinfo.name);
        g_free((char *)ei_registered[k].eiinfo.summary);
    }
    g_clear_pointer(&ei_registered, g_free);
    g_clear_pointer(&ei_udsflash, g_free);
    settings_free(&settings);
}

void proto_register_udsflash(void)
{
    static hf_register_info hf[] = {
        {&hf_udsflash_message, {"UDS message", "udsflash.message", FT_NONE, BASE_NONE, NULL, 0,
                                "A UDS message and what the analysis made of it", HFILL}},
        {&hf_udsflash_session, {"Session", "udsflash.session", FT_UINT32, BASE_DEC, NULL, 0,
                                "The flash session (one per tester and ECU)", HFILL}},
        {&hf_udsflash_tester, {"Tester", "udsflash.tester", FT_STRING, BASE_NONE, NULL, 0,
                               "CAN id or DoIP address of the tester", HFILL}},
        {&hf_udsflash_ecu, {"ECU", "udsflash.ecu", FT_STRING, BASE_NONE, NULL, 0,
                            "CAN id or DoIP address of the ECU", HFILL}},
        {&hf_udsflash_transport, {"Transport", "udsflash.transport", FT_STRING, BASE_NONE, NULL, 0,
                                  "isotp or doip", HFILL}},
        {&hf_udsflash_phase, {"Phase", "udsflash.phase", FT_STRING, BASE_NONE, NULL, 0,
                              "The profile's phase", HFILL}},
        {&hf_udsflash_step, {"Step", "udsflash.step", FT_STRING, BASE_NONE, NULL, 0,
                             "The profile's step", HFILL}},
        {&hf_udsflash_service, {"Service", "udsflash.service", FT_STRING, BASE_NONE, NULL, 0,
                                NULL, HFILL}},
        {&hf_udsflash_sid, {"Service id", "udsflash.sid", FT_UINT8, BASE_HEX, NULL, 0, NULL,
                            HFILL}},
        {&hf_udsflash_kind, {"Kind", "udsflash.kind", FT_STRING, BASE_NONE, NULL, 0,
                             "request, positive or negative", HFILL}},
        {&hf_udsflash_params, {"Parameters", "udsflash.params", FT_STRING, BASE_NONE, NULL, 0,
                               NULL, HFILL}},
        {&hf_udsflash_message_in, {"Message in", "udsflash.message_in", FT_FRAMENUM, BASE_NONE,
                                   NULL, 0, "The frame that ends the UDS message of this frame",
                                   HFILL}},
        {&hf_udsflash_request_in, {"Request in", "udsflash.request_in", FT_FRAMENUM, BASE_NONE,
                                   FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0, NULL, HFILL}},
        {&hf_udsflash_response_in, {"Response in", "udsflash.response_in", FT_FRAMENUM, BASE_NONE,
                                    FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0, NULL, HFILL}},
        {&hf_udsflash_response_time, {"Response time (ms)", "udsflash.response_time", FT_DOUBLE,
                                      BASE_NONE, NULL, 0,
                                      "From the end of the request to the start of the response",
                                      HFILL}},
        {&hf_udsflash_limit, {"Limit (ms)", "udsflash.limit", FT_DOUBLE, BASE_NONE, NULL, 0,
                              "The P2 or P2* the response time was held to", HFILL}},
        {&hf_udsflash_limit_name, {"Limit name", "udsflash.limit_name", FT_STRING, BASE_NONE,
                                   NULL, 0, "P2, or P2* after a response pending", HFILL}},
        {&hf_udsflash_limit_from_ecu, {"Limit announced by the ECU", "udsflash.limit_from_ecu",
                                       FT_BOOLEAN, BASE_NONE, NULL, 0, NULL, HFILL}},
        {&hf_udsflash_block_counter, {"Block counter", "udsflash.block_counter", FT_UINT8,
                                      BASE_HEX, NULL, 0, NULL, HFILL}},
        {&hf_udsflash_download, {"Download", "udsflash.download", FT_UINT32, BASE_DEC, NULL, 0,
                                 "The download of the session", HFILL}},
        {&hf_udsflash_download_address, {"Address", "udsflash.download.address", FT_UINT64,
                                         BASE_HEX, NULL, 0, NULL, HFILL}},
        {&hf_udsflash_download_size, {"Size", "udsflash.download.size", FT_UINT64, BASE_DEC,
                                      NULL, 0, "memorySize of the RequestDownload", HFILL}},
        {&hf_udsflash_download_bytes, {"Bytes so far", "udsflash.download.bytes", FT_UINT64,
                                       BASE_DEC, NULL, 0, NULL, HFILL}},
        {&hf_udsflash_download_progress, {"Progress (%)", "udsflash.download.progress", FT_DOUBLE,
                                          BASE_NONE, NULL, 0,
                                          NULL, HFILL}},
        {&hf_udsflash_ack_time, {"DoIP acknowledgement after (ms)", "udsflash.doip.ack_time",
                                 FT_DOUBLE, BASE_NONE, NULL, 0, NULL, HFILL}},
        {&hf_udsflash_nack, {"DoIP NACK code", "udsflash.doip.nack", FT_UINT8, BASE_HEX, NULL, 0,
                             NULL, HFILL}},
        {&hf_udsflash_finding, {"Finding", "udsflash.finding", FT_STRING, BASE_NONE, NULL, 0,
                                "Rule id (docs/rules.md)", HFILL}},
    };
    static gint *ett[] = {&ett_udsflash, &ett_udsflash_message, &ett_udsflash_download};

    proto_udsflash = proto_register_protocol("UDS flash analysis", "udsflash", "udsflash");
    proto_register_field_array(proto_udsflash, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    register_expert();

    module_t *m = prefs_register_protocol(proto_udsflash, apply_preferences);
    prefs_register_string_preference(m, "profile", "Profile",
                                     "A built-in profile (iso14229, his, erase-first) or a "
                                     "profile file (docs/profiles.md)",
                                     &pref_profile);
    prefs_register_uint_preference(m, "stmin_tolerance", "STmin tolerance (us)",
                                   "How far below STmin a consecutive frame gap may be; 0: the "
                                   "profile's",
                                   10, &pref_stmin_tolerance_us);
    prefs_register_enum_preference(m, "addressing", "ISO-TP addressing",
                                   "For CAN ids that follow no convention", &pref_addressing,
                                   addressing_values, FALSE);
    prefs_register_string_preference(m, "pairs", "Tester / ECU pairs",
                                     "TESTER:ECU[:MODE] CAN id pairs, e.g. 0x6F1:0x612:extended",
                                     &pref_pairs);
    prefs_register_string_preference(m, "functional", "Functional ids",
                                     "Extra functional request CAN ids", &pref_functional);
    prefs_register_string_preference(m, "doip_ports", "DoIP ports",
                                     "TCP / UDP ports that carry DoIP besides 13400",
                                     &pref_doip_ports);
    prefs_register_bool_preference(m, "expand", "Expand the analysis",
                                   "Show the udsflash tree expanded", &pref_expand);

    udsflash_handle = register_dissector("udsflash", dissect_udsflash, proto_udsflash);
    register_init_routine(udsflash_init);
    register_cleanup_routine(udsflash_cleanup);
    register_postseq_cleanup_routine(udsflash_postseq);
    register_shutdown_routine(udsflash_shutdown);
    register_tap("udsflash");
    ufw_stats_register();
    settings = (ufw_settings){g_strdup(pref_profile), 0, g_strdup("auto"), g_strdup(""),
                              g_strdup(""), g_strdup("")};
}

void proto_reg_handoff_udsflash(void)
{
    register_postdissector(udsflash_handle);
}
