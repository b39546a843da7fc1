/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Passive ISO-TP reassembly: addressing modes, CAN FD, interleaving, pair
 * discovery, what each message records, and every isotp.* finding.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

#define EFF UF_ISOTP_EFF

static th_isotp h;

static void setup(void)
{
    th_isotp_init(&h, NULL);
}

static void teardown(void)
{
    th_isotp_free(&h);
}

static uf_isotp_config defaults(void)
{
    uf_analyzer_config ac;
    uf_analyzer_config_defaults(&ac);
    return ac.isotp;
}

/* A 20-byte response on 0x7E8: FF, FC from 0x7E0, two CFs. */
static void vin_response(double t0)
{
    th_feed_hex(&h, t0, 0x7E8, "10 14 62 F1 90 57 56 57");
    th_feed_hex(&h, t0 + 1, 0x7E0, "30 00 00 CC CC CC CC CC");
    th_feed_hex(&h, t0 + 2, 0x7E8, "21 5A 5A 5A 31 4B 5A 42");
    th_feed_hex(&h, t0 + 3, 0x7E8, "22 57 30 30 30 30 34 32");
}

TestSuite(reassembly, .init = setup, .fini = teardown);

Test(reassembly, single_and_segmented_11bit)
{
    th_feed_hex(&h, 0, 0x7E0, "03 22 F1 90 CC CC CC CC");
    vin_response(5);
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    const th_msg *req = th_msg_at(&h, 0), *resp = th_msg_at(&h, 1);
    cr_assert_eq(req->m.len, 3);
    cr_assert_eq(req->m.src.id, 0x7E0);
    cr_assert(req->m.dst_known);
    cr_assert_eq(req->m.dst.id, 0x7E8);
    cr_assert_eq(resp->m.declared_len, 20);
    cr_assert_eq(resp->m.len, 20);
    cr_assert(resp->m.complete);
    cr_assert_eq(resp->m.first_frame, 2);
    cr_assert_eq(resp->m.last_frame, 5);
    cr_assert_eq(resp->m.frames, 3); /* FF and two CFs: the FC belongs to the other side */
    cr_assert_eq(resp->m.fc_count, 1);
    cr_assert_eq(resp->m.cf_gaps, 1);
    cr_assert_eq(resp->m.cf_gap_min, 1 * UF_NS_PER_MS);
    char *hex = th_to_hex(resp->m.data, resp->m.len);
    cr_assert_str_eq(hex, "62f1905756575a5a5a314b5a4257303030303432");
    g_free(hex);
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
}

Test(reassembly, normal_fixed_29bit_partners)
{
    th_feed_hex(&h, 0, EFF | 0x18DA10F1u, "02 10 02");
    th_feed_hex(&h, 3, EFF | 0x18DAF110u, "06 50 02 00 32 01 F4");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    const th_msg *m = th_msg_at(&h, 0);
    cr_assert_eq(m->m.addressing, UF_ADDR_NORMAL_FIXED);
    cr_assert_eq(m->m.dst.id, EFF | 0x18DAF110u);
    th_feed_hex(&h, 10, EFF | 0x18DB33F1u, "02 3E 80");
    uf_isotp_finish(h.t);
    cr_assert(th_msg_at(&h, 2)->m.functional);
}

Test(reassembly, mixed_29bit_address_extension)
{
    th_feed_hex(&h, 0, EFF | 0x18CE10F1u, "05 03 22 F1 90 00 00 00");
    th_feed_hex(&h, 2, EFF | 0x18CEF110u, "05 10 14 62 F1 90 57 56");
    th_feed_hex(&h, 3, EFF | 0x18CE10F1u, "05 30 00 00");
    th_feed_hex(&h, 4, EFF | 0x18CEF110u, "05 21 57 5A 5A 5A 31 4B");
    th_feed_hex(&h, 5, EFF | 0x18CEF110u, "05 22 5A 42 57 30 30 30");
    th_feed_hex(&h, 6, EFF | 0x18CEF110u, "05 23 30 34 32 00 00 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2, "%u messages", h.msgs->len);
    const th_msg *r = th_msg_at(&h, 1);
    cr_assert_eq(r->m.addressing, UF_ADDR_MIXED);
    cr_assert_eq(r->m.src.addr, 0x05);
    cr_assert_eq(r->m.len, 20);
    cr_assert(r->m.complete);
}

Test(reassembly, extended_addressing_by_configuration)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    uf_isotp_pair pair = {0x6F1, 0x612, UF_ADDR_EXTENDED};
    c.pairs = &pair;
    c.n_pairs = 1;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x6F1, "12 02 10 03 CC CC CC CC");
    th_feed_hex(&h, 4, 0x612, "F1 06 50 03 00 32 01 F4");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    const th_msg *q = th_msg_at(&h, 0), *a = th_msg_at(&h, 1);
    cr_assert_eq(q->m.src.addr, 0x12);
    cr_assert_eq(q->m.len, 2);
    cr_assert(q->m.dst_known);
    cr_assert_eq(q->m.dst.id, 0x612);
    cr_assert_eq(q->m.dst.addr, 0xF1);
    cr_assert_eq(a->m.data[0], 0x50);
}

Test(reassembly, extended_addressing_discovered)
{
    /* No configuration: "12 02 10 03" reads as a normal first frame too,
     * but only the extended reading pairs with the ECU's answer. */
    th_feed_hex(&h, 0, 0x6F1, "12 02 10 03 CC CC CC CC");
    th_feed_hex(&h, 4, 0x612, "F1 06 50 03 00 32 01 F4");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    cr_assert_eq(th_msg_at(&h, 0)->m.addressing, UF_ADDR_EXTENDED);
    cr_assert_eq(th_msg_at(&h, 0)->m.data[0], 0x10);
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
}

Test(reassembly, fd_escapes)
{
    char ff[200] = "10 00 00 00 10 00", cf[200] = "21";
    for (int i = 0; i < 58; i++)
        strcat(ff, " 36");
    for (int i = 0; i < 63; i++)
        strcat(cf, " 11");
    uf_can_frame f = th_fd_frame(EFF | 0x18DA10F1u, ff);
    cr_assert_eq(f.len, 64);
    th_feed(&h, 0, &f);
    th_feed_hex(&h, 1, EFF | 0x18DAF110u, "30 00 00");
    uint8_t sn = 1;
    uint32_t have = 58;
    for (double t = 2; have < 4096; t += 0.5) {
        cf[0] = "0123456789ABCDEF"[2];
        cf[1] = "0123456789ABCDEF"[sn];
        uf_can_frame c = th_fd_frame(EFF | 0x18DA10F1u, cf);
        th_feed(&h, t, &c);
        have += 63;
        sn = (sn + 1) & 0x0F;
    }
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 1);
    const th_msg *m = th_msg_at(&h, 0);
    cr_assert(m->m.fd);
    cr_assert_eq(m->m.declared_len, 4096);
    cr_assert_eq(m->m.len, 4096);
    cr_assert(m->m.complete);
    cr_assert_eq(th_count(&h, "isotp.length"), 0);
}

Test(reassembly, interleaved_ecus)
{
    /* Two ECUs answer with segmented messages at the same time. */
    th_feed_hex(&h, 0, 0x7E8, "10 0A 62 F1 90 41 41 41");
    th_feed_hex(&h, 0.2, 0x7E9, "10 0A 62 F1 90 42 42 42");
    th_feed_hex(&h, 1, 0x7E0, "30 00 00");
    th_feed_hex(&h, 1.2, 0x7E1, "30 00 00");
    th_feed_hex(&h, 2, 0x7E9, "21 42 42 42 42 CC CC CC");
    th_feed_hex(&h, 2.2, 0x7E8, "21 41 41 41 41 CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    for (guint i = 0; i < 2; i++) {
        const th_msg *m = th_msg_at(&h, i);
        uint8_t fill = m->m.src.id == 0x7E8 ? 0x41 : 0x42;
        cr_assert_eq(m->m.len, 10);
        for (int k = 3; k < 10; k++)
            cr_assert_eq(m->m.data[k], fill);
    }
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
}

Test(reassembly, discovery_by_request_and_response)
{
    /* Unknown ids 0x641 / 0x6C1; the request must not be lost while the
     * pair is still unknown. */
    th_feed_hex(&h, 0, 0x641, "02 10 03 55 55 55 55 55");
    th_feed_hex(&h, 5, 0x6C1, "06 50 03 00 32 01 F4 AA");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 2);
    cr_assert_eq(th_msg_at(&h, 0)->m.src.id, 0x641);
    cr_assert_eq(th_msg_at(&h, 0)->m.dst.id, 0x6C1);
}

Test(reassembly, discovery_by_flow_control)
{
    th_feed_hex(&h, 0, 0x600, "10 0A 2E F1 84 01 02 03");
    th_feed_hex(&h, 1, 0x680, "30 00 00");
    th_feed_hex(&h, 2, 0x600, "21 04 05 06 07 CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 1);
    cr_assert_eq(th_msg_at(&h, 0)->m.len, 10);
    cr_assert_eq(th_msg_at(&h, 0)->m.dst.id, 0x680);
}

Test(reassembly, periodic_signals_are_not_iso_tp)
{
    /* Bytes that happen to look like ISO-TP on ids that never pair. */
    for (int i = 0; i < 200; i++) {
        th_feed_hex(&h, i * 10.0, 0x120, "21 00 FF 10 00 00 00 00");
        th_feed_hex(&h, i * 10.0 + 1, 0x3A0, "10 20 30 40 50 60 70 80");
        th_feed_hex(&h, i * 10.0 + 2, 0x4F0, "02 10 03 00 00 00 00 00");
    }
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 0);
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
}

Test(reassembly, flow_control_parameters_recorded)
{
    th_feed_hex(&h, 0, 0x7E0, "10 16 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 02 F5");
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 2.6, 0x7E0, "22 0B 0C 0D 0E 0F 10 11");
    th_feed_hex(&h, 3.5, 0x7E8, "30 02 F5");
    th_feed_hex(&h, 4, 0x7E0, "23 12 13 CC CC CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 1);
    const th_msg *m = th_msg_at(&h, 0);
    cr_assert_eq(m->m.fc_count, 2);
    cr_assert_eq(m->m.fc_bs, 2);
    cr_assert_eq(m->m.fc_stmin_us, 500);
    cr_assert_eq(m->m.cf_gaps, 1);
    cr_assert_eq(m->m.cf_gap_max, 600 * UF_NS_PER_US);
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
}

/* ---- findings -----------------------------------------------------------*/

Test(reassembly, sequence_error)
{
    th_feed_hex(&h, 0, 0x7E8, "10 14 62 F1 90 57 56 57");
    th_feed_hex(&h, 1, 0x7E0, "30 00 00");
    th_feed_hex(&h, 2, 0x7E8, "21 5A 5A 5A 31 4B 5A 42");
    uint64_t bad = th_feed_hex(&h, 3, 0x7E8, "23 57 30 30 30 30 34 32");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.sequence"), 1);
    cr_assert_eq(th_first(&h, "isotp.sequence")->frame, bad);
    cr_assert_eq(h.msgs->len, 1);
    cr_assert_not(th_msg_at(&h, 0)->m.complete);
}

Test(reassembly, unexpected_consecutive_and_flow_control)
{
    th_feed_hex(&h, 0, 0x7E8, "21 00 00 00 00 00 00 00");
    th_feed_hex(&h, 1, 0x7E0, "30 00 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.unexpected_cf"), 1);
    cr_assert_eq(th_count(&h, "isotp.unexpected_fc"), 1);
}

Test(reassembly, interrupted)
{
    th_feed_hex(&h, 0, 0x7E8, "10 14 62 F1 90 57 56 57");
    th_feed_hex(&h, 1, 0x7E0, "30 00 00");
    th_feed_hex(&h, 2, 0x7E8, "21 5A 5A 5A 31 4B 5A 42");
    th_feed_hex(&h, 3, 0x7E8, "03 7F 22 78");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.interrupted"), 1);
    cr_assert_eq(h.msgs->len, 2); /* the lost one (incomplete) and the SF */
}

Test(reassembly, n_bs_late_and_missing)
{
    th_feed_hex(&h, 0, 0x7E0, "10 14 36 01 00 01 02 03");
    th_feed_hex(&h, 1500, 0x7E8, "30 00 00");
    cr_assert_eq(th_count(&h, "isotp.n_bs"), 1);
    const uf_finding *f = th_first(&h, "isotp.n_bs");
    cr_assert(strstr(f->message, "1500.000 ms") && strstr(f->message, "N_Bs 1000 ms"),
              "%s", f->message);
    /* A first frame that never gets its flow control. */
    th_feed_hex(&h, 2000, 0x7E1, "10 14 36 01 00 01 02 03");
    th_feed_hex(&h, 5000, 0x7E1, "02 3E 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.n_bs"), 2);
}

Test(reassembly, n_cr_late_and_never_completed)
{
    th_feed_hex(&h, 0, 0x7E0, "10 1A 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 00 00");
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 1300, 0x7E0, "22 0B 0C 0D 0E 0F 10 11");
    cr_assert_eq(th_count(&h, "isotp.n_cr"), 1);
    /* Then the capture continues for 5 s without the last CF. */
    th_feed_hex(&h, 6300, 0x7E1, "02 3E 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.n_cr"), 2);
    const uf_finding *last = &g_array_index(h.findings, uf_finding, h.findings->len - 1);
    cr_assert(strstr(last->message, "never completed"), "%s", last->message);
    cr_assert_eq(last->severity, UF_SEV_ERROR);
}

Test(reassembly, cut_by_capture_end_is_info)
{
    th_feed_hex(&h, 0, 0x7E0, "10 14 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 00 00");
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.n_cr"), 1);
    cr_assert_eq(th_first(&h, "isotp.n_cr")->severity, UF_SEV_INFO);
}

Test(reassembly, stmin_violation_counted_once)
{
    th_feed_hex(&h, 0, 0x7E0, "10 21 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 00 0A"); /* STmin 10 ms */
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 4, 0x7E0, "22 0B 0C 0D 0E 0F 10 11");
    th_feed_hex(&h, 14, 0x7E0, "23 12 13 14 15 16 17 18");
    th_feed_hex(&h, 17, 0x7E0, "24 19 CC CC CC CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.stmin"), 1);
    const uf_finding *f = th_first(&h, "isotp.stmin");
    cr_assert(strstr(f->message, "2 consecutive frame gaps below STmin 10.000 ms"), "%s",
              f->message);
    cr_assert(strstr(f->message, "smallest 2.000 ms"), "%s", f->message);
    cr_assert_eq(f->frame, 4);
}

Test(reassembly, stmin_microseconds_and_tolerance)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.stmin_tolerance = 150 * UF_NS_PER_US;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x7E0, "10 0F 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 00 F5"); /* 500 us */
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 2.4, 0x7E0, "22 0B 0C 0D CC CC CC CC"); /* 400 us: within tolerance */
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.stmin"), 0);
    th_feed_hex(&h, 10, 0x7E0, "10 0F 36 02 00 01 02 03");
    th_feed_hex(&h, 11, 0x7E8, "30 00 F5");
    th_feed_hex(&h, 12, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 12.3, 0x7E0, "22 0B 0C 0D CC CC CC CC"); /* 300 us */
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.stmin"), 1);
}

Test(reassembly, block_size_exceeded_and_cf_before_fc)
{
    th_feed_hex(&h, 0, 0x7E0, "10 1A 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "30 02 00");
    th_feed_hex(&h, 2, 0x7E0, "21 04 05 06 07 08 09 0A");
    th_feed_hex(&h, 3, 0x7E0, "22 0B 0C 0D 0E 0F 10 11");
    th_feed_hex(&h, 4, 0x7E0, "23 12 13 14 15 16 17 18"); /* third CF, BS = 2 */
    th_feed_hex(&h, 5, 0x7E0, "24 19 CC CC CC CC CC CC");
    cr_assert_eq(th_count(&h, "isotp.bs"), 1);
    th_feed_hex(&h, 10, 0x7E1, "10 0A 36 01 00 01 02 03");
    th_feed_hex(&h, 11, 0x7E1, "21 04 05 06 07 CC CC CC"); /* no FC at all */
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.bs"), 2);
    cr_assert_eq(h.msgs->len, 2);
}

Test(reassembly, fc_wait_beyond_n_wft_max)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.n_wft_max = 2;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x7E0, "10 0A 36 01 00 01 02 03");
    th_feed_hex(&h, 100, 0x7E8, "31 00 00");
    th_feed_hex(&h, 200, 0x7E8, "31 00 00");
    th_feed_hex(&h, 300, 0x7E8, "31 00 00");
    th_feed_hex(&h, 400, 0x7E8, "30 00 00");
    th_feed_hex(&h, 401, 0x7E0, "21 04 05 06 07 CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.fc_wait"), 1);
    cr_assert_eq(th_count(&h, "isotp.n_bs"), 0); /* each WAIT restarts N_Bs */
    cr_assert_eq(th_msg_at(&h, 0)->m.fc_wait_count, 3);
}

Test(reassembly, fc_overflow)
{
    th_feed_hex(&h, 0, 0x7E0, "1F FF 36 01 00 01 02 03");
    th_feed_hex(&h, 1, 0x7E8, "32 00 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.fc_overflow"), 1);
    cr_assert_eq(h.msgs->len, 1);
    cr_assert_not(th_msg_at(&h, 0)->m.complete);
}

Test(reassembly, length_findings)
{
    th_feed_hex(&h, 0, 0x7E0, "00 10 03 CC CC CC CC CC");  /* SF_DL 0 */
    th_feed_hex(&h, 1, 0x7E0, "07 10 03");                 /* SF_DL > frame */
    th_feed_hex(&h, 2, 0x7E0, "10 05 36 01 00 01 02 03");  /* FF_DL fits a SF */
    th_feed_hex(&h, 3, 0x7E0, "10 14 36 01");              /* FF in a short frame */
    cr_assert_eq(th_count(&h, "isotp.length"), 4);
    cr_assert_eq(h.msgs->len, 0); /* a receiver ignores these frames */
    th_feed_hex(&h, 10, 0x7E0, "10 14 36 01 00 01 02 03");
    th_feed_hex(&h, 11, 0x7E8, "30 00 00");
    th_feed_hex(&h, 12, 0x7E0, "21 04 05 06");              /* a short middle CF */
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.length"), 5);
}

Test(reassembly, huge_first_frame_is_capped)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.max_message = 64;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x7E0, "10 00 FF FF FF FF 36 01"); /* FF_DL 4 GiB - 1 */
    th_feed_hex(&h, 1, 0x7E8, "30 00 00");
    for (int i = 1; i <= 40; i++) {
        char cf[32];
        snprintf(cf, sizeof(cf), "2%X 00 00 00 00 00 00 00", i & 0x0F);
        th_feed_hex(&h, 1 + i, 0x7E0, cf);
    }
    th_feed_hex(&h, 60, 0x7E0, "02 3E 00");
    uf_isotp_finish(h.t);
    const uf_finding *f = th_first(&h, "isotp.length");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, UF_SEV_WARNING);
    const th_msg *m = th_msg_at(&h, 0);
    cr_assert(m->m.truncated);
    cr_assert_eq(m->m.len, 64);
    cr_assert_eq(m->m.received_len, 2 + 40 * 7);
    cr_assert_eq(m->m.declared_len, 0xFFFFFFFFu);
}

Test(reassembly, padding_changes)
{
    th_feed_hex(&h, 0, 0x7E8, "02 50 01 CC CC CC CC CC");
    th_feed_hex(&h, 5, 0x7E8, "02 50 01 00 00 00 00 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.padding"), 1);
    cr_assert_eq(th_first(&h, "isotp.padding")->severity, UF_SEV_INFO);
}

Test(reassembly, fd_frame_longer_than_needed)
{
    /* 10 bytes of data in a 64-byte frame: a 12-byte frame holds them. */
    uf_can_frame sf = th_frame(EFF | 0x18DA10F1u, "00 0A 11 11 11 11 11 11 11 11 11 11");
    sf.len = 64;
    memset(sf.data + 12, 0xCC, 52);
    sf.flags |= UF_CAN_FD;
    th_feed(&h, 0, &sf);
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 1);
    cr_assert_eq(th_count(&h, "isotp.padding"), 1);
    cr_assert(strstr(th_first(&h, "isotp.padding")->message, "12 bytes would hold them"), "%s",
              th_first(&h, "isotp.padding")->message);
}

Test(reassembly, padding_required)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.padding_required = true;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x7E0, "02 10 03");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.padding"), 1);
    cr_assert_eq(h.msgs->len, 1);
}

Test(reassembly, reserved_pci)
{
    th_feed_hex(&h, 0, 0x7E0, "45 00 00 00 00 00 00 00");
    th_feed_hex(&h, 1, 0x7E0, "10 0A 36 01 00 01 02 03");
    th_feed_hex(&h, 2, 0x7E8, "35 00 00");
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.pci"), 2);
}

Test(reassembly, no_timing_without_timestamps)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.timing = false;
    th_isotp_init(&h, &c);
    th_feed_hex(&h, 0, 0x7E0, "10 0A 36 01 00 01 02 03");
    th_feed_hex(&h, 5000, 0x7E8, "30 00 7F");
    th_feed_hex(&h, 5001, 0x7E0, "21 04 05 06 07 CC CC CC");
    uf_isotp_finish(h.t);
    cr_assert_eq(h.findings->len, 0, "%s", th_findings_text(&h));
    cr_assert_eq(h.msgs->len, 1);
}

Test(reassembly, extreme_timestamps_do_not_overflow)
{
    /* A corrupt capture can carry times at both ends of the range; every
     * gap and limit check must still be defined behaviour (UBSan checks). */
    uf_can_frame ff = th_frame(0x7E0, "10 14 36 01 00 01 02 03");
    uf_can_frame fc = th_frame(0x7E8, "30 02 05");
    uf_can_frame cf1 = th_frame(0x7E0, "21 04 05 06 07 08 09 0A");
    uf_can_frame cf2 = th_frame(0x7E0, "22 0B 0C 0D 0E 0F 10 11");
    uf_isotp_frame(h.t, 1, INT64_MIN + 1, 0, &ff);
    uf_isotp_frame(h.t, 2, INT64_MAX, 0, &fc);
    uf_isotp_frame(h.t, 3, INT64_MIN + 1, 0, &cf1);
    uf_isotp_frame(h.t, 4, INT64_MAX, 0, &cf2);
    uf_isotp_finish(h.t);
    cr_assert_eq(th_count(&h, "isotp.n_bs"), 1);
    cr_assert_geq(th_count(&h, "isotp.n_cr"), 1);
}

Test(reassembly, flow_table_is_bounded)
{
    th_isotp_free(&h);
    uf_isotp_config c = defaults();
    c.all_ids = true;
    c.max_flows = 16;
    th_isotp_init(&h, &c);
    /* 64 ids with a message in progress each: only 16 can be followed. */
    for (uint32_t id = 0x100; id < 0x140; id++) {
        uf_can_frame f = th_frame(id, "10 0A 36 01 00 01 02 03");
        th_feed(&h, 0, &f);
    }
    uf_isotp_stats st;
    uf_isotp_get_stats(h.t, &st);
    cr_assert_leq(st.flows, 16);
    cr_assert_eq(st.dropped_frames, 48);
    uf_isotp_finish(h.t);
}

/* More ids than the id cache has slots (64): each partner must still be
 * its own id's, whichever id last took the slot. */
Test(reassembly, partners_of_more_ids_than_the_cache_holds)
{
    for (uint32_t ecu = 0; ecu < 200; ecu++)
        th_feed_hex(&h, ecu, EFF | 0x18DA00F1u | ecu << 8, "02 3E 00");
    for (uint32_t ecu = 0; ecu < 200; ecu++) {
        uf_isotp_endpoint tester = {0, EFF | 0x18DA00F1u | ecu << 8, -1}, ecu_end;
        cr_assert(uf_isotp_partner(h.t, &tester, &ecu_end), "ECU 0x%02X", ecu);
        cr_assert_eq(ecu_end.id, EFF | 0x18DAF100u | ecu, "ECU 0x%02X: partner 0x%08X", ecu,
                     ecu_end.id);
    }
    uf_isotp_finish(h.t);
    cr_assert_eq(h.msgs->len, 200);
}

/* A pair learned from above (the UDS layer pairing a response) is the
 * endpoint's partner, before the one its id implies, and only after it
 * was learned. */
Test(reassembly, a_learned_pair_comes_before_the_ids_partner)
{
    th_feed_hex(&h, 0, 0x7E0, "02 3E 00");
    uf_isotp_endpoint tester = {0, 0x7E0, -1}, ecu = {0, 0x7E9, -1}, out;
    cr_assert(uf_isotp_partner(h.t, &tester, &out));
    cr_assert_eq(out.id, 0x7E8); /* the standard pair, before anything is learned */
    uf_isotp_learn_pair(h.t, &tester, &ecu);
    cr_assert(uf_isotp_partner(h.t, &tester, &out));
    cr_assert_eq(out.id, 0x7E9, "partner 0x%03X", out.id);
    cr_assert(uf_isotp_partner(h.t, &ecu, &out));
    cr_assert_eq(out.id, 0x7E0, "partner 0x%03X", out.id);
    uf_isotp_finish(h.t);
}
