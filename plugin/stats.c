/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Statistics > UDS flash sessions, and `tshark -z udsflash,tree`: a stats
 * tree of each flash session (tester, ECU, bus, transport, verdict), its
 * phases with their durations, its downloads with bytes, throughput and
 * SHA-256, and its findings by rule. The Count column holds the UDS
 * messages of a session or phase, the blocks of a download and the
 * findings of a rule.
 *
 * A stats tree is filled from tapped packets, but a session is only known
 * whole at the end of the capture. So each tree gets a helper tap listener,
 * registered after the tree's own: Wireshark draws the most recently
 * registered listener first, so the helper fills the tree just before the
 * tree is drawn, in tshark's single pass as in the GUI's dialogs.
 */
#include "udsflash.h"

#include <epan/stats_tree.h>
#include <epan/stats_tree_priv.h>
#include <epan/tap.h>
#include <inttypes.h>
#include <stdio.h>

typedef struct helper {
    stats_tree *st;
    bool built;
    bool at_end; /* drawn at the end of the capture: tshark's -z */
} helper;

static GPtrArray *helpers; /* helper *, one per open stats tree */

static int node(stats_tree *st, int parent, int value, bool children, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);

static int node(stats_tree *st, int parent, int value, bool children, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *name = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int id = stats_tree_create_node(st, name, parent, STAT_DT_INT, children);
    stats_tree_manip_node_int(MN_SET, st, name, parent, children, value);
    g_free(name);
    return id;
}

/* Findings under `parent`, counted by rule and severity. */
static void findings(stats_tree *st, int parent, uint32_t session, const GPtrArray *all)
{
    GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; all && i < all->len; i++) {
        const ufw_finding *f = g_ptr_array_index(all, i);
        if (f->session != session)
            continue;
        char *key = g_strdup_printf("%s %s", uf_severity_name(f->severity), f->rule->id);
        gpointer n = g_hash_table_lookup(counts, key);
        g_hash_table_replace(counts, key, GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
    }
    GList *keys = g_list_sort(g_hash_table_get_keys(counts), (GCompareFunc)g_strcmp0);
    for (GList *k = keys; k; k = k->next)
        node(st, parent, GPOINTER_TO_INT(g_hash_table_lookup(counts, k->data)), false, "%s",
             (const char *)k->data);
    g_list_free(keys);
    g_hash_table_destroy(counts);
}

/* Nodes list by name (the GUI sorts them so too), so numbers are padded to
 * one width and a session reads: its phases (numbered), its downloads,
 * its findings. */
static int digits(uint32_t n)
{
    int d = 1;
    while (n >= 10)
        n /= 10, d++;
    return d;
}

static void session_nodes(stats_tree *st, const uf_session *s, int session_width,
                          const uf_profile *p, const GPtrArray *all)
{
    char tester[32], ecu[32], a[32];
    uf_isotp_endpoint_name(&s->tester, tester, sizeof(tester));
    if (s->ecu_known)
        uf_isotp_endpoint_name(&s->ecu, ecu, sizeof(ecu));
    else
        g_strlcpy(ecu, "?", sizeof(ecu));
    bool pass = uf_session_passed(s, UF_SEV_ERROR);
    int sn = node(st, 0, (int)(s->requests + s->responses), true,
                  "Session %0*u: tester %s -> ECU %s on %s (%s): %s", session_width, s->index,
                  tester, ecu, ufw_analysis_bus_name(s->bus), uf_session_transport(s),
                  pass ? "PASS" : "FAIL");
    int phase_width = p ? digits(p->n_phases) : 1;
    for (uint32_t i = 0; p && i < p->n_phases; i++) {
        const uf_session_phase *ph = &s->phases[i];
        if (ph->seen)
            node(st, sn, (int)ph->messages, false, "%0*u %s phase: %s", phase_width, i + 1,
                 p->phases[i].name,
                 uf_format_duration(a, sizeof(a), uf_time_diff(ph->t_end, ph->t_start)));
        else
            node(st, sn, 0, false, "%0*u %s phase: (none)", phase_width, i + 1, p->phases[i].name);
    }
    int download_width = digits(s->downloads->len);
    for (guint i = 0; i < s->downloads->len; i++) {
        const uf_download *d = &g_array_index(s->downloads, uf_download, i);
        double tp = uf_download_throughput(d);
        char rate[32] = "-";
        if (tp >= 0)
            snprintf(rate, sizeof(rate), "%.2f kB/s", tp / 1000.0);
        int dn = node(st, sn, (int)d->blocks, true,
                      "download %0*u at 0x%08" PRIX64 ": %" PRIu64 " of %" PRIu64 " bytes, %s%s",
                      download_width, d->index, d->address, d->bytes, d->size, rate,
                      d->complete ? "" : " (incomplete)");
        node(st, dn, (int)d->blocks, false, "sha256 %s", d->sha256);
    }
    uint32_t total = s->findings[0] + s->findings[1] + s->findings[2];
    int fn = node(st, sn, (int)total, true, "findings");
    findings(st, fn, s->index, all);
}

static void build(stats_tree *st)
{
    const uf_sessions *ss = ufw_analysis_sessions();
    if (!ss)
        return;
    if (!ufw_analysis_finished())
        node(st, 0, (int)ufw_analysis_frames(), false,
             "Capture still open (frames so far): unanswered requests, incomplete "
             "downloads and missing steps are judged when it stops");
    GPtrArray *orphans = ufw_analysis_orphans(), *all = ufw_analysis_findings();
    uint32_t n = uf_sessions_count(ss);
    int width = digits(n) < 3 ? 3 : digits(n);
    for (uint32_t i = 1; i <= n; i++)
        session_nodes(st, uf_sessions_get(ss, i), width, ufw_analysis_profile(), all);
    if (orphans && orphans->len) {
        int on = node(st, 0, (int)orphans->len, true, "Without a session");
        findings(st, on, 0, all);
    }
}

/* ---- the helper listener -----------------------------------------------------------*/

static void helper_reset(void *p)
{
    ((helper *)p)->built = false;
}

static tap_packet_status helper_packet(void *p, packet_info *pinfo, epan_dissect_t *edt,
                                       const void *data, tap_flags_t flags)
{
    (void)p, (void)pinfo, (void)edt, (void)data, (void)flags;
    return TAP_PACKET_DONT_REDRAW;
}

static void helper_draw(void *p)
{
    helper *h = p;
    if (h->built)
        return;
    if (h->at_end)
        ufw_analysis_finish();
    build(h->st);
    h->built = true;
}

static void tree_init(stats_tree *st)
{
    /* Sessions, phases and downloads in their order, not by count. */
    st->st_flags = (st->st_flags & ~(ST_FLG_SRTCOL_MASK | ST_FLG_SORT_DESC)) |
                   (ST_SORT_COL_NAME << ST_FLG_SRTCOL_SHIFT);
    if (!helpers)
        helpers = g_ptr_array_new();
    for (guint i = 0; i < helpers->len; i++)
        if (((helper *)g_ptr_array_index(helpers, i))->st == st) {
            ((helper *)g_ptr_array_index(helpers, i))->built = false;
            return; /* a reset of a tree we already help */
        }
    helper *h = g_new0(helper, 1);
    h->st = st;
    /* tshark sets its trees up before the first frame and draws them after
     * the last; a dialog opened on a live capture draws it unfinished. */
    h->at_end = ufw_analysis_frames() == 0;
    GString *err = register_tap_listener("udsflash", h, NULL, TL_REQUIRES_NOTHING, helper_reset,
                                         helper_packet, helper_draw, NULL);
    if (err) {
        g_string_free(err, TRUE);
        g_free(h);
        return;
    }
    g_ptr_array_add(helpers, h);
}

static void tree_cleanup(stats_tree *st)
{
    for (guint i = 0; helpers && i < helpers->len; i++) {
        helper *h = g_ptr_array_index(helpers, i);
        if (h->st == st) {
            remove_tap_listener(h);
            g_ptr_array_remove_index(helpers, i);
            g_free(h);
            return;
        }
    }
}

static tap_packet_status tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                     const void *data, tap_flags_t flags)
{
    (void)st, (void)pinfo, (void)edt, (void)data, (void)flags;
    return TAP_PACKET_DONT_REDRAW;
}

void ufw_stats_register(void)
{
    stats_tree_register_plugin("udsflash", "udsflash", "UDS flash sessions", 0, tree_packet,
                               tree_init, tree_cleanup);
}
