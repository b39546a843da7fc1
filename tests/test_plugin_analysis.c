/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The plugin's per-file analysis (plugin/analysis.c) without Wireshark: fed
 * a sample's frames as Wireshark hands them over, it finds what `udsflash
 * check` finds; it judges what needs the end of the capture only when the
 * end is known; a re-dissection of the capture it last analysed to its end
 * (what Wireshark does when a preference changes, with no end-of-pass call)
 * ends by itself on the last frame, but a prefix of it, another capture or
 * a live capture that goes on does not; and every start and stop leaves no
 * memory behind (the sanitizer build checks).
 */
#include "helpers.h"
#include "../plugin/udsflash.h"

#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <string.h>
#include <wiretap/wtap.h>

static const ufw_settings defaults = {0};

/* Feeds the first `limit` frames (0: all) of a SocketCAN pcap sample. */
static uint64_t feed_sample(const char *name, uint64_t limit)
{
    char *path = th_sample(name), errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    cr_assert(p, "%s: %s", path, errbuf);
    cr_assert_eq(pcap_datalink(p), DLT_CAN_SOCKETCAN, "%s", path);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0;
    while ((!limit || n < limit) && pcap_next_ex(p, &h, &data) == 1) {
        n++;
        ufw_analysis_feed(n, uf_time_from_parts(h->ts.tv_sec, (int64_t)h->ts.tv_usec * 1000), 0,
                          WTAP_ENCAP_SOCKETCAN, data, h->caplen, "if0");
    }
    pcap_close(p);
    g_free(path);
    return n;
}

static size_t count(const char *rule)
{
    GPtrArray *all = ufw_analysis_findings();
    size_t n = 0;
    for (guint i = 0; all && i < all->len; i++)
        n += strcmp(((ufw_finding *)g_ptr_array_index(all, i))->rule->id, rule) == 0;
    return n;
}

static gint by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "rule message" of every finding, sorted, for comparing two analyses. */
static char *findings_text(void)
{
    GPtrArray *all = ufw_analysis_findings(), *lines = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; all && i < all->len; i++) {
        const ufw_finding *f = g_ptr_array_index(all, i);
        g_ptr_array_add(lines, g_strdup_printf("%s %s", f->rule->id, f->message));
    }
    g_ptr_array_sort(lines, by_text);
    g_ptr_array_add(lines, NULL);
    char *text = g_strjoinv("\n", (char **)lines->pdata);
    g_ptr_array_free(lines, TRUE);
    return text;
}

Test(plugin_analysis, finds_what_check_finds)
{
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit-faults.pcap", 0);
    ufw_analysis_finish();
    /* The same five as `udsflash check` (README), one of each. */
    const char *rules[] = {"flash.transfer.block_counter", "timing.p2", "uds.no_response",
                           "isotp.stmin", "uds.nrc"};
    for (size_t i = 0; i < UF_ARRAY_LEN(rules); i++)
        cr_expect_eq(count(rules[i]), 1, "%s: %zu", rules[i], count(rules[i]));
    cr_assert_eq(uf_sessions_count(ufw_analysis_sessions()), 1);
    /* The message of frame 4 and the finding on it. */
    ufw_frame f;
    cr_assert(ufw_analysis_frame(4, &f));
    cr_assert(f.message && !f.more);
    const ufw_message *m = f.message;
    cr_expect_str_eq(m->service, "RoutineControl");
    cr_expect_eq(m->request_frame, 3);
    cr_expect_str_eq(m->step, "preconditions");
    cr_assert(f.findings && f.findings->len == 1);
    cr_expect_str_eq(((ufw_finding *)g_ptr_array_index(f.findings, 0))->rule->id, "timing.p2");
    /* Its request knows where the response is. */
    cr_assert(ufw_analysis_frame(3, &f) && f.message);
    cr_expect_eq(f.message->response_frame, 4);
    /* The ISO-TP frames of a segmented message point at it: frames 7-11
     * hold a ReadDataByIdentifier and its multi-frame response. */
    cr_assert(ufw_analysis_frame(8, &f) && f.message);
    cr_expect_str_eq(f.message->service, "ReadDataByIdentifier");
    cr_expect_gt(f.message->last_frame, 8);
    cr_assert_not(ufw_analysis_frame(100000, &f));
    ufw_analysis_stop();
}

Test(plugin_analysis, end_judged_only_at_the_end)
{
    /* A flash cut short in the middle of its transfer. */
    ufw_analysis_start(&defaults);
    uint64_t n = feed_sample("flash-11bit-cut.pcap", 0);
    cr_assert_eq(ufw_analysis_frames(), n);
    /* A live capture that went this far may go on: nothing is missing yet. */
    cr_assert_not(ufw_analysis_finished());
    cr_expect_eq(count("flash.transfer.incomplete"), 0);
    cr_expect_eq(count("flash.sequence.missing"), 0);
    ufw_analysis_finish();
    cr_assert(ufw_analysis_finished());
    cr_expect_eq(count("flash.transfer.incomplete"), 1);
    cr_expect_eq(count("flash.sequence.missing"), 4);
    ufw_analysis_stop();
}

Test(plugin_analysis, redissection_of_the_same_capture_ends_on_its_last_frame)
{
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit-faults.pcap", 0);
    ufw_analysis_finish();
    char *first = findings_text();
    ufw_analysis_stop();

    /* The preference changes: the same frames again, no end-of-pass call. */
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit-faults.pcap", 0);
    cr_assert(ufw_analysis_finished(), "the last frame of the same capture ends it");
    char *again = findings_text();
    cr_assert_str_eq(again, first);
    ufw_analysis_stop();

    /* Cut short (a live capture of the same start, or a stopped rescan). */
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit-faults.pcap", 100);
    cr_assert_not(ufw_analysis_finished());
    ufw_analysis_stop();

    /* Another capture does not end at that frame number. */
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit.pcap", 0);
    cr_assert_not(ufw_analysis_finished());
    ufw_analysis_stop();
    g_free(first);
    g_free(again);
}

Test(plugin_analysis, frames_after_the_end_are_ignored)
{
    ufw_analysis_start(&defaults);
    feed_sample("flash-11bit.pcap", 50);
    ufw_analysis_finish();
    uint64_t fed = ufw_analysis_frames();
    uint8_t frame[16] = {0};
    ufw_analysis_feed(fed + 1, UF_TIME_NONE, 0, WTAP_ENCAP_SOCKETCAN, frame, sizeof(frame), "if0");
    cr_assert_eq(ufw_analysis_frames(), fed);
    ufw_analysis_stop();
    ufw_frame f;
    cr_assert_not(ufw_analysis_frame(1, &f));
    cr_assert_null(ufw_analysis_sessions());
}

Test(plugin_analysis, settings_checked_as_the_cli_checks_options)
{
    uf_error err;
    cr_assert(ufw_settings_check(&defaults, &err), "%s", err.msg);
    ufw_settings his = {.profile = "his", .pairs = "0x7E0:0x7E8 0x6F1:0x612:extended"};
    cr_assert(ufw_settings_check(&his, &err), "%s", err.msg);
    ufw_settings bad_profile = {.profile = "no-such"};
    cr_assert_not(ufw_settings_check(&bad_profile, &err));
    cr_assert(strstr(err.msg, "no profile \"no-such\""), "%s", err.msg);
    ufw_settings bad_pair = {.pairs = "0x7E0"};
    cr_assert_not(ufw_settings_check(&bad_pair, &err));
    ufw_settings bad_port = {.doip_ports = "70000"};
    cr_assert_not(ufw_settings_check(&bad_port, &err));
    ufw_settings bad_addressing = {.addressing = "sideways"};
    cr_assert_not(ufw_settings_check(&bad_addressing, &err));
}
