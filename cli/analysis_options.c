/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Analysis options shared by every subcommand: how to find ISO-TP flows
 * (addressing, explicit tester / ECU pairs, functional ids) and the limits
 * of ISO 15765-2 the checks use (N_Bs, N_Cr, N_WFTmax, STmin tolerance).
 */
#include "cli.h"

#include <string.h>

void uf_cli_profile_entries(uf_cli_analysis *o, GOptionContext *ctx)
{
    const GOptionEntry entries[] = {
        {"profile", 'p', 0, G_OPTION_ARG_STRING, &o->profile_name,
         "Flash sequence and limits: a built-in profile (udsflash profiles) or a profile file; "
         "default " UF_PROFILE_DEFAULT, "NAME|FILE"},
        {"ignore", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->ignore,
         "Never report this rule, or family (isotp, timing.*) (repeatable)", "RULE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

GOptionGroup *uf_cli_analysis_group(uf_cli_analysis *o)
{
    const GOptionEntry entries[] = {
        {"addressing", 0, 0, G_OPTION_ARG_STRING, &o->addressing,
         "ISO-TP addressing of ids without a convention: auto (default), normal, extended, "
         "mixed", "MODE"},
        {"pair", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->pairs,
         "A tester / ECU id pair, e.g. 0x6F1:0x612:extended (repeatable)",
         "TESTER:ECU[:MODE]"},
        {"functional", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->functional,
         "An extra functional request id (repeatable)", "ID"},
        {"all-ids", 0, 0, G_OPTION_ARG_NONE, &o->all_ids,
         "Analyze every CAN id as ISO-TP (no discovery)", NULL},
        {"max-message", 0, 0, G_OPTION_ARG_INT, &o->max_message,
         "Bytes kept per ISO-TP message (default 1048576); longer ones are counted, not stored",
         "BYTES"},
        {"n-bs", 0, 0, G_OPTION_ARG_INT, &o->n_bs_ms, "N_Bs limit in ms (default: the profile's, 1000)", "MS"},
        {"n-cr", 0, 0, G_OPTION_ARG_INT, &o->n_cr_ms, "N_Cr limit in ms (default: the profile's, 1000)", "MS"},
        {"stmin-tolerance", 0, 0, G_OPTION_ARG_INT, &o->stmin_tolerance_us,
         "How far below STmin a measured gap may be, in us (default: the profile's, 0)", "US"},
        {"n-wft-max", 0, 0, G_OPTION_ARG_INT, &o->n_wft_max,
         "FC.WAIT frames allowed in a row (default 10)", "N"},
        {"padding", 0, 0, G_OPTION_ARG_STRING, &o->padding,
         "auto (report padding that changes) or required (classic frames must be 8 bytes)",
         "MODE"},
        {"doip-port", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->doip_ports,
         "A TCP / UDP port that carries DoIP besides 13400 (repeatable)", "PORT"},
        {"doip-ack-timeout", 0, 0, G_OPTION_ARG_INT, &o->doip_ack_ms,
         "A_DoIP_Diagnostic_Message: the longest wait for a diagnostic message ACK, in ms "
         "(default 50)", "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    o->doip_ack_ms = -1;
    o->max_message = -1;
    o->n_bs_ms = o->n_cr_ms = -1;
    o->stmin_tolerance_us = -1;
    o->n_wft_max = -1;
    GOptionGroup *g = g_option_group_new("analysis", "ISO-TP and DoIP analysis options:",
                                         "Show ISO-TP and DoIP analysis options", NULL, NULL);
    g_option_group_add_entries(g, entries);
    return g;
}

bool uf_cli_parse_can_id(const char *s, uint32_t *out)
{
    uint32_t v;
    if (!uf_parse_u32(s, &v) || v > UF_CAN_EFF_MASK)
        return false;
    const char *digits = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : NULL;
    bool eff = v > UF_CAN_SFF_MASK || (digits && strlen(digits) > 3);
    *out = v | (eff ? UF_ISOTP_EFF : 0);
    return true;
}

static bool parse_pair(const char *text, uf_isotp_pair *p, uf_error *err)
{
    char **parts = g_strsplit(text, ":", 4);
    guint n = g_strv_length(parts);
    bool ok = n >= 2 && n <= 3 && uf_cli_parse_can_id(parts[0], &p->tester_id) &&
              uf_cli_parse_can_id(parts[1], &p->ecu_id);
    p->addressing = UF_ADDR_AUTO;
    if (ok && n == 3)
        ok = uf_addressing_parse(parts[2], &p->addressing);
    g_strfreev(parts);
    if (!ok)
        uf_error_set(err, "--pair \"%s\": expected TESTER:ECU[:MODE] with CAN ids such as 0x7E0 "
                     "and MODE one of auto, normal, extended, mixed", text);
    return ok;
}

static bool positive(const char *name, gint value, uf_error *err)
{
    if (value < 0) {
        uf_error_set(err, "--%s must not be negative", name);
        return false;
    }
    return true;
}

/* An --ignore pattern must name a rule or a family of the catalogue. */
static bool known_pattern(const char *pattern)
{
    size_t n;
    const uf_rule *rules = uf_rules_all(&n);
    for (size_t i = 0; i < n; i++)
        if (uf_rule_matches(rules[i].id, pattern))
            return true;
    return false;
}

bool uf_cli_analysis_config(uf_cli_analysis *o, uf_analyzer_config *cfg, uf_error *err)
{
    /* Called again for each capture of a run (udsreplay flash FILE...):
     * the previous capture's configuration is done with. */
    uf_profile_free(o->profile);
    o->profile = NULL;
    g_clear_pointer(&o->pair_list, g_free);
    g_clear_pointer(&o->functional_list, g_free);
    uf_analyzer_config_defaults(cfg);
    uf_isotp_config *c = &cfg->isotp;
    for (char **p = o->ignore; p && *p; p++) {
        if (!known_pattern(*p)) {
            uf_error_set(err, "--ignore \"%s\" names no rule (docs/rules.md lists them)",
                         *p);
            return false;
        }
    }
    cfg->ignore = (const char *const *)o->ignore;
    o->profile = uf_profile_open(o->profile_name ? o->profile_name : UF_PROFILE_DEFAULT, err);
    if (!o->profile)
        return false;
    uf_analyzer_config_profile(cfg, o->profile);
    if (o->addressing && (!uf_addressing_parse(o->addressing, &c->default_addressing) ||
                          c->default_addressing == UF_ADDR_NORMAL_FIXED)) {
        uf_error_set(err, "--addressing \"%s\": expected auto, normal, extended or mixed",
                     o->addressing);
        return false;
    }
    guint n = o->pairs ? g_strv_length(o->pairs) : 0;
    o->pair_list = g_new0(uf_isotp_pair, n ? n : 1);
    for (guint i = 0; i < n; i++)
        if (!parse_pair(o->pairs[i], &o->pair_list[i], err))
            return false;
    c->pairs = o->pair_list;
    c->n_pairs = n;
    n = o->functional ? g_strv_length(o->functional) : 0;
    o->functional_list = g_new0(uint32_t, n ? n : 1);
    for (guint i = 0; i < n; i++) {
        if (!uf_cli_parse_can_id(o->functional[i], &o->functional_list[i])) {
            uf_error_set(err, "--functional \"%s\" is not a CAN id", o->functional[i]);
            return false;
        }
    }
    c->functional_ids = o->functional_list;
    c->n_functional = n;
    c->all_ids = o->all_ids;
    if (o->max_message != -1) {
        if (o->max_message < 8) {
            uf_error_set(err, "--max-message must be at least 8 bytes");
            return false;
        }
        c->max_message = (uint32_t)o->max_message;
    }
    if (o->n_bs_ms != -1) {
        if (!positive("n-bs", o->n_bs_ms, err))
            return false;
        c->n_bs = (uf_time)o->n_bs_ms * UF_NS_PER_MS;
    }
    if (o->n_cr_ms != -1) {
        if (!positive("n-cr", o->n_cr_ms, err))
            return false;
        c->n_cr = (uf_time)o->n_cr_ms * UF_NS_PER_MS;
    }
    if (o->stmin_tolerance_us != -1) {
        if (!positive("stmin-tolerance", o->stmin_tolerance_us, err))
            return false;
        c->stmin_tolerance = (uf_time)o->stmin_tolerance_us * UF_NS_PER_US;
    }
    if (o->n_wft_max != -1) {
        if (!positive("n-wft-max", o->n_wft_max, err))
            return false;
        c->n_wft_max = (uint32_t)o->n_wft_max;
    }
    for (char **p = o->doip_ports; p && *p; p++) {
        uint32_t port;
        if (!uf_parse_u32(*p, &port) || port == 0 || port > 65535) {
            uf_error_set(err, "--doip-port \"%s\" is not a port number (1-65535)", *p);
            return false;
        }
        if (cfg->n_doip_ports == UF_ANALYZER_MAX_DOIP_PORTS) {
            uf_error_set(err, "--doip-port: at most %d ports", UF_ANALYZER_MAX_DOIP_PORTS);
            return false;
        }
        cfg->doip_ports[cfg->n_doip_ports++] = (uint16_t)port;
    }
    if (o->doip_ack_ms != -1) {
        if (!positive("doip-ack-timeout", o->doip_ack_ms, err))
            return false;
        cfg->doip.ack_timeout = (uf_time)o->doip_ack_ms * UF_NS_PER_MS;
    }
    if (o->padding) {
        if (strcmp(o->padding, "required") == 0)
            c->padding_required = true;
        else if (strcmp(o->padding, "auto") != 0) {
            uf_error_set(err, "--padding \"%s\": expected auto or required", o->padding);
            return false;
        }
    }
    return true;
}

void uf_cli_analysis_free(uf_cli_analysis *o)
{
    g_free(o->profile_name);
    g_strfreev(o->ignore);
    uf_profile_free(o->profile);
    g_free(o->addressing);
    g_strfreev(o->pairs);
    g_strfreev(o->functional);
    g_free(o->padding);
    g_strfreev(o->doip_ports);
    g_free(o->pair_list);
    g_free(o->functional_list);
}
