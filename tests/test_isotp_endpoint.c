/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The simulated bus and the active ISO-TP endpoint, on virtual time:
 * frame bit counts with stuffing; arbitration by id; the sender obeying BS,
 * STmin (ms and the 100-900 us codes), FC.WAIT up to N_WFTmax, FC.OVFLW and
 * N_Bs; the receiver's flow control, N_Cr and sequence numbers; extended
 * addressing, CAN FD and the escape for messages over 4095 bytes;
 * functional single frames. Times are read off a tap on the bus.
 */
#include "helpers.h"
#include "uf_recorder.h"
#include "uf_transport.h"

#include <criterion/criterion.h>
#include <string.h>

/* ---- frame timing -------------------------------------------------------------*/

Test(can_timing, zero_frame_by_hand)
{
    /* Standard id 0, DLC 0: 34 dominant bits (SOF, id, RTR, IDE, r0, DLC
     * and a CRC of 0), so a stuff bit after every 5: 6; 13 bits after. */
    uf_can_frame f = {.id = 0, .len = 0};
    uf_can_bits b;
    uf_can_frame_bits(&f, &b);
    cr_assert_eq(b.stuff, 6);
    cr_assert_eq(b.nominal, 34 + 6 + 13);
    cr_assert_eq(b.data, 0);
    /* 53 bits at 500 kbit/s: 106 us. */
    cr_assert_eq(uf_can_frame_duration(&f, 500000, 0), 106000);
}

Test(can_timing, fd_frame_by_hand)
{
    /* FD base frame, id 0, BRS, DLC 0: 14 dominant bits before FDF (2
     * stuff bits), then ESI and DLC (5 dominant: 1 stuff bit), stuff count
     * and CRC-17 (21 bits) with 6 fixed stuff bits. */
    uf_can_frame f = {.id = 0, .len = 0, .flags = UF_CAN_FD | UF_CAN_BRS};
    uf_can_bits b;
    uf_can_frame_bits(&f, &b);
    cr_assert_eq(b.stuff, 2 + 1 + 6);
    cr_assert_eq(b.nominal, 17 + 2 + 13);
    cr_assert_eq(b.data, 5 + 1 + 21 + 6);
    /* 32 bits at 500 kbit/s and 33 at 2 Mbit/s. */
    cr_assert_eq(uf_can_frame_duration(&f, 500000, 2000000), 64000 + 16500);
}

Test(can_timing, bounds_over_random_frames)
{
    /* Classic 8-byte frames take 111 bits unstuffed, 135 at worst (11-bit
     * id), 131 and 160 with a 29-bit id (Davis et al., Real-Time Systems
     * 35(3)); FD frames of 64 bytes with BRS carry 512 data bits at least. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 5000; i++) {
        uf_can_frame f = {.len = 8};
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        f.id = (uint32_t)x & 0x7FF;
        for (int k = 0; k < 8; k++)
            f.data[k] = (uint8_t)(x >> (k * 8));
        if (i % 50 == 0)
            memset(f.data, i % 100 ? 0xFF : 0x00, 8);
        uf_can_bits b;
        uf_can_frame_bits(&f, &b);
        cr_assert(b.nominal >= 111 && b.nominal <= 135, "%u bits", b.nominal);
        f.flags = UF_CAN_EFF;
        f.id = (uint32_t)(x >> 20) & 0x1FFFFFFF;
        uf_can_frame_bits(&f, &b);
        cr_assert(b.nominal >= 131 && b.nominal <= 160, "%u bits", b.nominal);
        f.flags = UF_CAN_FD | UF_CAN_BRS;
        f.len = 64;
        uf_can_frame_bits(&f, &b);
        cr_assert_geq(b.data, 512 + 4 + 21 + 7);
    }
}

Test(can_timing, arbitration_order)
{
    uf_can_frame a = {.id = 0x7E0}, b = {.id = 0x7E8}, c = {.id = 0x7E0 << 18, .flags = UF_CAN_EFF};
    cr_assert_lt(uf_can_arbitration_key(&a), uf_can_arbitration_key(&b));
    /* The same 11 first bits: the base frame wins over the extended one. */
    cr_assert_lt(uf_can_arbitration_key(&a), uf_can_arbitration_key(&c));
}

/* ---- a bus with taps ---------------------------------------------------------*/

typedef struct tapped {
    uf_can_frame f;
    uf_time t;
} tapped;

static GArray *taps;

static void tap(void *ctx, const uf_can_frame *f, uf_time t)
{
    (void)ctx;
    tapped x = {*f, t};
    g_array_append_val(taps, x);
}

/* A node that only sends what it is told (a raw, unruly peer). */
typedef struct raw_node {
    uf_sim_node *node;
} raw_node;

static uf_simbus *new_bus(void)
{
    uf_simbus *b = uf_simbus_new(500000, 2000000, 0);
    taps = g_array_new(FALSE, FALSE, sizeof(tapped));
    uf_simbus_tap(b, tap, NULL);
    return b;
}

static void free_bus(uf_simbus *b)
{
    uf_simbus_free(b);
    g_array_free(taps, TRUE);
}

Test(simbus, arbitration_and_fifo)
{
    uf_simbus *b = new_bus();
    uf_sim_node_ops none = {0};
    uf_sim_node *n1 = uf_simbus_attach(b, &none), *n2 = uf_simbus_attach(b, &none);
    uf_can_frame hi = {.id = 0x100, .len = 8}, lo = {.id = 0x700, .len = 8};
    uf_can_frame lo2 = {.id = 0x050, .len = 8};
    uf_simbus_transmit(n1, &lo);  /* n1 queues 0x700 then 0x050: a FIFO */
    uf_simbus_transmit(n1, &lo2);
    uf_simbus_transmit(n2, &hi);
    uf_simbus_run(b, INT64_MAX, NULL, NULL);
    cr_assert_eq(taps->len, 3);
    /* 0x100 beats 0x700; 0x050 waits behind 0x700 in its node. */
    cr_assert_eq(g_array_index(taps, tapped, 0).f.id, 0x100);
    cr_assert_eq(g_array_index(taps, tapped, 1).f.id, 0x700);
    cr_assert_eq(g_array_index(taps, tapped, 2).f.id, 0x050);
    /* Back to back: each ends its own duration after the one before. */
    uf_time t0 = g_array_index(taps, tapped, 0).t, t1 = g_array_index(taps, tapped, 1).t;
    cr_assert_eq(t0, uf_can_frame_duration(&hi, 500000, 2000000));
    cr_assert_eq(t1 - t0, uf_can_frame_duration(&lo, 500000, 2000000));
    uf_simbus_stats st;
    uf_simbus_get_stats(b, &st);
    cr_assert_eq(st.frames, 3);
    cr_assert_eq(st.max_queue, 2);
    free_bus(b);
}

/* ---- endpoints on the bus ------------------------------------------------------*/

/* An endpoint as a bus node (the receiving side of these tests). */
typedef struct ep_node {
    uf_sim_node *node;
    uf_isotp_ep *ep;
    GPtrArray *got;   /* GByteArray * */
    char failed[200];
    uf_time failed_at;
} ep_node;

static void en_pump(ep_node *n, uf_time now)
{
    uf_can_frame f;
    if (uf_isotp_ep_output(n->ep, now, &f))
        uf_simbus_transmit(n->node, &f);
}

static void en_received(void *ctx, const uint8_t *p, size_t len, bool functional, uf_time t)
{
    (void)functional, (void)t;
    ep_node *n = ctx;
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, p, (guint)len);
    g_ptr_array_add(n->got, a);
}

static void en_failed(void *ctx, bool tx, const char *why, uf_time t)
{
    (void)tx;
    ep_node *n = ctx;
    g_strlcpy(n->failed, why, sizeof(n->failed));
    n->failed_at = t;
}

static void en_frame(void *ctx, const uf_can_frame *f, uf_time t)
{
    ep_node *n = ctx;
    uf_isotp_ep_input(n->ep, f, t);
    en_pump(n, t);
}

static void en_sent(void *ctx, uf_time t)
{
    ep_node *n = ctx;
    uf_isotp_ep_sent(n->ep, t);
    en_pump(n, t);
}

static uf_time en_wakeup(void *ctx)
{
    return uf_isotp_ep_wakeup(((ep_node *)ctx)->ep);
}

static void en_tick(void *ctx, uf_time t)
{
    ep_node *n = ctx;
    uf_isotp_ep_tick(n->ep, t);
    en_pump(n, t);
}

static ep_node *ep_node_new(uf_simbus *b, const uf_isotp_ep_config *c)
{
    ep_node *n = g_new0(ep_node, 1);
    n->got = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    uf_isotp_ep_sink sink = {.ctx = n, .received = en_received, .failed = en_failed};
    n->ep = uf_isotp_ep_new(c, &sink);
    uf_sim_node_ops ops = {n, en_frame, en_sent, en_wakeup, en_tick};
    n->node = uf_simbus_attach(b, &ops);
    return n;
}

static void ep_node_free(ep_node *n)
{
    uf_isotp_ep_free(n->ep);
    g_ptr_array_free(n->got, TRUE);
    g_free(n);
}

static uint8_t *pattern(size_t n)
{
    uint8_t *p = g_malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    return p;
}

/* Gaps between consecutive CFs on `id` (a flow control between them
 * included: STmin separates every two CFs of a message). */
static void cf_gaps(uint32_t id, unsigned prefix, uf_time *min, uf_time *max, unsigned *count)
{
    *min = INT64_MAX;
    *max = 0;
    *count = 0;
    uf_time prev = UF_TIME_NONE;
    for (guint i = 0; i < taps->len; i++) {
        tapped *x = &g_array_index(taps, tapped, i);
        if (x->f.id != id)
            continue;
        uint8_t pci = x->f.data[prefix] >> 4;
        if (pci == 2 && prev != UF_TIME_NONE) {
            uf_time gap = x->t - prev;
            *min = gap < *min ? gap : *min;
            *max = gap > *max ? gap : *max;
        }
        if (pci == 1)
            prev = UF_TIME_NONE; /* a new message */
        if (pci == 2)
            prev = x->t;
        if (pci == 2)
            (*count)++;
    }
}

static unsigned count_fc(uint32_t id, unsigned prefix, uint8_t fs)
{
    unsigned n = 0;
    for (guint i = 0; i < taps->len; i++) {
        tapped *x = &g_array_index(taps, tapped, i);
        if (x->f.id == id && x->f.data[prefix] == (0x30 | fs))
            n++;
    }
    return n;
}

typedef struct pair {
    uf_simbus *bus;
    uf_channel *tester;
    ep_node *ecu;
} pair;

static pair make_pair(uf_isotp_ep_config *tester, uf_isotp_ep_config *ecu)
{
    pair p;
    p.bus = new_bus();
    p.ecu = ep_node_new(p.bus, ecu);
    p.tester = uf_channel_isotp(uf_can_medium_sim(p.bus, "sim"), tester);
    return p;
}

static void free_pair(pair *p)
{
    uf_channel_free(p->tester);
    ep_node_free(p->ecu);
    free_bus(p->bus);
}

static void configs(uf_isotp_ep_config *t, uf_isotp_ep_config *e)
{
    uf_isotp_ep_config_defaults(t, 0x7E0, 0x7E8);
    uf_isotp_ep_config_defaults(e, 0x7E8, 0x7E0);
}

/* Sends from the tester; checks the ECU got exactly the bytes. */
static void send_and_check(pair *p, size_t len)
{
    uint8_t *msg = pattern(len);
    uf_error err;
    cr_assert(uf_channel_send(p->tester, msg, len, false, &err), "%s", err.msg);
    uf_simbus_run(p->bus, uf_simbus_now(p->bus) + 10 * UF_NS_PER_MS, NULL, NULL);
    cr_assert_eq(p->ecu->got->len, 1, "failed: %s", p->ecu->failed);
    GByteArray *got = g_ptr_array_index(p->ecu->got, 0);
    cr_assert_eq(got->len, len);
    cr_assert(memcmp(got->data, msg, len) == 0);
    g_free(msg);
}

Test(isotp_endpoint, stmin_in_ms_and_block_size)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.bs = 4;
    e.stmin = 10; /* 10 ms */
    pair p = make_pair(&t, &e);
    send_and_check(&p, 200); /* FF + 28 CFs */
    uf_time min, max;
    unsigned n;
    cf_gaps(0x7E0, 0, &min, &max, &n);
    cr_assert_eq(n, 28);
    cr_assert_geq(min, 10 * UF_NS_PER_MS, "a CF %.3f ms after the one before", (double)min / 1e6);
    /* One FC after the FF and after every 4 CFs but the last block's. */
    cr_assert_eq(count_fc(0x7E8, 0, 0), 7);
    free_pair(&p);
}

Test(isotp_endpoint, stmin_microsecond_codes)
{
    for (uint8_t code = 0xF1; code <= 0xF9; code += 4) {
        uf_isotp_ep_config t, e;
        configs(&t, &e);
        e.stmin = code;
        pair p = make_pair(&t, &e);
        send_and_check(&p, 100);
        uf_time min, max;
        unsigned n;
        cf_gaps(0x7E0, 0, &min, &max, &n);
        uf_time want = (uf_time)(code - 0xF0) * 100 * UF_NS_PER_US;
        cr_assert_geq(min, want, "STmin 0x%02X: a gap of %lld ns", code, (long long)min);
        /* Not a millisecond: the sender reads the code as microseconds. */
        cr_assert_lt(min, want + 300 * UF_NS_PER_US, "STmin 0x%02X read as %lld ns", code,
                     (long long)min);
        free_pair(&p);
    }
}

Test(isotp_endpoint, reserved_stmin_is_127_ms)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.stmin = 0x80; /* reserved: 9.6.5.4 tells the sender to use 0x7F */
    pair p = make_pair(&t, &e);
    send_and_check(&p, 20);
    uf_time min, max;
    unsigned n;
    cf_gaps(0x7E0, 0, &min, &max, &n);
    cr_assert_geq(min, 127 * UF_NS_PER_MS);
    free_pair(&p);
}

Test(isotp_endpoint, waits_within_and_beyond_n_wftmax)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.fc_waits = 2;
    t.wft_max = 2;
    pair p = make_pair(&t, &e);
    send_and_check(&p, 50);
    cr_assert_eq(count_fc(0x7E8, 0, 1), 2);
    free_pair(&p);

    configs(&t, &e);
    e.fc_waits = 3;
    t.wft_max = 2;
    p = make_pair(&t, &e);
    uint8_t *msg = pattern(50);
    uf_error err;
    cr_assert_not(uf_channel_send(p.tester, msg, 50, false, &err));
    cr_assert(strstr(err.msg, "N_WFTmax"), "%s", err.msg);
    g_free(msg);
    free_pair(&p);
}

Test(isotp_endpoint, overflow_refused)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.rx_max = 100;
    pair p = make_pair(&t, &e);
    uint8_t *msg = pattern(101);
    uf_error err;
    cr_assert_not(uf_channel_send(p.tester, msg, 101, false, &err));
    cr_assert(strstr(err.msg, "FC.OVFLW"), "%s", err.msg);
    cr_assert_eq(count_fc(0x7E8, 0, 2), 1);
    cr_assert_eq(p.ecu->got->len, 0);
    g_free(msg);
    free_pair(&p);
}

Test(isotp_endpoint, n_bs_timeout_without_flow_control)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.rx_id = 0x123; /* the ECU listens elsewhere: nobody answers the FF */
    pair p = make_pair(&t, &e);
    uint8_t *msg = pattern(30);
    uf_error err;
    uf_time start = uf_simbus_now(p.bus);
    cr_assert_not(uf_channel_send(p.tester, msg, 30, false, &err));
    cr_assert(strstr(err.msg, "N_Bs"), "%s", err.msg);
    uf_time ff_end = g_array_index(taps, tapped, 0).t;
    /* Given up exactly N_Bs (1000 ms) after the FF left. */
    cr_assert_eq(uf_simbus_now(p.bus) - ff_end, 1000 * UF_NS_PER_MS);
    cr_assert_lt(ff_end - start, UF_NS_PER_MS);
    g_free(msg);
    free_pair(&p);
}

/* The receiver side: a raw sender that stops after the FF, or numbers a CF wrong. */
Test(isotp_endpoint, n_cr_timeout_and_wrong_sequence_number)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    pair p = make_pair(&t, &e);
    uf_sim_node_ops none = {0};
    uf_sim_node *raw = uf_simbus_attach(p.bus, &none);
    uf_can_frame ff = th_frame(0x7E0, "10 14 01 02 03 04 05 06");
    uf_simbus_transmit(raw, &ff);
    uf_simbus_run(p.bus, 5 * UF_NS_PER_S, NULL, NULL);
    cr_assert(strstr(p.ecu->failed, "N_Cr"), "%s", p.ecu->failed);
    /* 1000 ms after the FC went out. */
    cr_assert_eq(g_array_index(taps, tapped, 1).f.id, 0x7E8);
    cr_assert_eq(p.ecu->failed_at - g_array_index(taps, tapped, 1).t, 1000 * UF_NS_PER_MS);

    p.ecu->failed[0] = '\0';
    uf_can_frame ff2 = th_frame(0x7E0, "10 14 01 02 03 04 05 06");
    uf_can_frame bad = th_frame(0x7E0, "22 07 08 09 0A 0B 0C 0D");
    uf_simbus_transmit(raw, &ff2);
    uf_simbus_run(p.bus, uf_simbus_now(p.bus) + 10 * UF_NS_PER_MS, NULL, NULL);
    uf_simbus_transmit(raw, &bad);
    uf_simbus_run(p.bus, uf_simbus_now(p.bus) + 10 * UF_NS_PER_MS, NULL, NULL);
    cr_assert(strstr(p.ecu->failed, "N_WRONG_SN"), "%s", p.ecu->failed);
    cr_assert_eq(p.ecu->got->len, 0);
    free_pair(&p);
}

Test(isotp_endpoint, extended_addressing)
{
    uf_isotp_ep_config t, e;
    uf_isotp_ep_config_defaults(&t, 0x6F1, 0x612);
    uf_isotp_ep_config_defaults(&e, 0x612, 0x6F1);
    t.tx.addressing = e.tx.addressing = UF_ADDR_EXTENDED;
    t.tx.addr = 0x12;   /* N_TA of the ECU */
    t.rx_addr = 0xF1;   /* frames to the tester carry its address */
    e.tx.addr = 0xF1;
    e.rx_addr = 0x12;
    e.bs = 3;
    pair p = make_pair(&t, &e);
    send_and_check(&p, 300);
    for (guint i = 0; i < taps->len; i++) {
        tapped *x = &g_array_index(taps, tapped, i);
        cr_assert_eq(x->f.data[0], x->f.id == 0x6F1 ? 0x12 : 0xF1);
    }
    /* A frame with another N_TA is not ours. */
    uf_sim_node_ops none = {0};
    uf_sim_node *raw = uf_simbus_attach(p.bus, &none);
    uf_can_frame other = th_frame(0x6F1, "13 02 3E 00 CC CC CC CC");
    uf_simbus_transmit(raw, &other);
    uf_simbus_run(p.bus, uf_simbus_now(p.bus) + 10 * UF_NS_PER_MS, NULL, NULL);
    cr_assert_eq(p.ecu->got->len, 1);
    free_pair(&p);
}

Test(isotp_endpoint, can_fd_and_the_escape_beyond_4095)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    t.tx.fd = e.tx.fd = true;
    t.tx.tx_dl = e.tx.tx_dl = 64;
    e.rx_max = 1 << 20;
    pair p = make_pair(&t, &e);
    send_and_check(&p, 5000); /* FF_DL on 32 bits (9.6.3.2) */
    tapped *ff = &g_array_index(taps, tapped, 0);
    cr_assert_eq(ff->f.len, 64);
    cr_assert(ff->f.flags & UF_CAN_FD);
    cr_assert_eq(ff->f.data[0], 0x10);
    cr_assert_eq(ff->f.data[1], 0x00);
    cr_assert_eq(uf_load_be32(ff->f.data + 2), 5000);
    /* A 62-byte single frame with the FD escape. */
    g_ptr_array_set_size(p.ecu->got, 0);
    g_array_set_size(taps, 0);
    send_and_check(&p, 62);
    cr_assert_eq(taps->len, 1);
    cr_assert_eq(g_array_index(taps, tapped, 0).f.data[0], 0x00);
    cr_assert_eq(g_array_index(taps, tapped, 0).f.data[1], 62);
    free_pair(&p);
}

Test(isotp_endpoint, functional_single_frames_only)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    t.functional_tx_id = 0x7DF;
    e.functional_rx_id = 0x7DF;
    pair p = make_pair(&t, &e);
    const uint8_t tp[] = {0x3E, 0x80};
    uf_error err;
    cr_assert(uf_channel_send(p.tester, tp, sizeof(tp), true, &err), "%s", err.msg);
    uf_simbus_run(p.bus, uf_simbus_now(p.bus) + UF_NS_PER_MS, NULL, NULL);
    cr_assert_eq(p.ecu->got->len, 1);
    cr_assert_eq(g_array_index(taps, tapped, 0).f.id, 0x7DF);
    uint8_t *big = pattern(20);
    cr_assert_not(uf_channel_send(p.tester, big, 20, true, &err));
    cr_assert(strstr(err.msg, "functional"), "%s", err.msg);
    g_free(big);
    free_pair(&p);
}

Test(isotp_endpoint, receive_with_our_block_size_and_a_deadline)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    t.bs = 2;
    t.stmin = 5;
    pair p = make_pair(&t, &e);
    /* The ECU side sends 100 bytes; the tester's FC governs it. */
    uint8_t *msg = pattern(100);
    uf_error err;
    cr_assert(uf_isotp_ep_send(p.ecu->ep, msg, 100, false, uf_simbus_now(p.bus), &err));
    en_pump(p.ecu, uf_simbus_now(p.bus));
    uf_channel_msg m;
    cr_assert_eq(uf_channel_recv(p.tester, &m, uf_simbus_now(p.bus) + UF_NS_PER_S, &err), 1,
                 "%s", err.msg);
    cr_assert_eq(m.len, 100);
    cr_assert(memcmp(m.data, msg, 100) == 0);
    uf_time min, max;
    unsigned n;
    cf_gaps(0x7E8, 0, &min, &max, &n);
    cr_assert_geq(min, 5 * UF_NS_PER_MS);
    cr_assert_eq(count_fc(0x7E0, 0, 0), 7); /* after the FF and every 2 of 14 CFs but the last */
    /* Nothing more: the deadline passes, exactly. */
    uf_time deadline = uf_simbus_now(p.bus) + 250 * UF_NS_PER_MS;
    cr_assert_eq(uf_channel_recv(p.tester, &m, deadline, &err), 0);
    cr_assert_eq(uf_simbus_now(p.bus), deadline);
    g_free(msg);
    free_pair(&p);
}

/* ---- bursts at STmin 0 ------------------------------------------------------------*/

/* A medium that takes bursts, over the simulated one: it keeps the size
 * of each burst and puts its frames on the bus one by one, each with the
 * time it left. The burst numbered fail_burst (from 1) fails. */
typedef struct burst_medium {
    uf_can_medium base;
    uf_can_medium *inner;
    GArray *sizes; /* size_t */
    unsigned fail_burst;
} burst_medium;

static bool bm_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    burst_medium *b = (burst_medium *)m;
    return b->inner->ops->write(b->inner, f, sent, err);
}

static bool bm_write_burst(uf_can_medium *m, const uf_can_frame *f, size_t n, uf_time *sent,
                           uf_error *err)
{
    burst_medium *b = (burst_medium *)m;
    g_array_append_val(b->sizes, n);
    if (b->sizes->len == b->fail_burst) {
        uf_error_set(err, "burst %u refused", b->fail_burst);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!b->inner->ops->write(b->inner, &f[i], &sent[i], err))
            return false;
    return true;
}

static int bm_read(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline,
                   uf_error *err)
{
    burst_medium *b = (burst_medium *)m;
    return b->inner->ops->read(b->inner, f, t, deadline, err);
}

static uf_time bm_now(uf_can_medium *m)
{
    burst_medium *b = (burst_medium *)m;
    return b->inner->ops->now(b->inner);
}

static void bm_free(uf_can_medium *m)
{
    burst_medium *b = (burst_medium *)m;
    b->inner->ops->free(b->inner);
    g_array_free(b->sizes, TRUE);
    g_free(b);
}

static const uf_can_medium_ops burst_ops = {bm_write, bm_read, bm_now, bm_free, bm_write_burst};

static burst_medium *burst_medium_new(uf_simbus *bus)
{
    burst_medium *b = g_new0(burst_medium, 1);
    b->base.ops = &burst_ops;
    g_strlcpy(b->base.name, "burst", sizeof(b->base.name));
    b->inner = uf_can_medium_sim(bus, "sim");
    b->sizes = g_array_new(FALSE, FALSE, sizeof(size_t));
    return b;
}

/* The tester sends `len` bytes over a bursting medium to an ECU with this
 * BS and STmin; the bursts it made, as "4 4 2". */
static char *bursts_for(uint8_t bs, uint8_t stmin, size_t len)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.bs = bs;
    e.stmin = stmin;
    pair p;
    p.bus = new_bus();
    p.ecu = ep_node_new(p.bus, &e);
    burst_medium *b = burst_medium_new(p.bus);
    p.tester = uf_channel_isotp(&b->base, &t);
    send_and_check(&p, len);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < b->sizes->len; i++)
        g_string_append_printf(s, "%s%zu", i ? " " : "", g_array_index(b->sizes, size_t, i));
    /* The CFs, every one on the bus in order, whether sent alone or in a burst. */
    uf_time min, max;
    unsigned cfs;
    cf_gaps(0x7E0, 0, &min, &max, &cfs);
    cr_assert_eq(cfs, (len - 6 + 6) / 7); /* 7 bytes a CF after the FF's 6, rounded up */
    free_pair(&p);
    return g_string_free(s, FALSE);
}

static void expect_bursts(uint8_t bs, uint8_t stmin, size_t len, const char *want)
{
    g_autofree char *got = bursts_for(bs, stmin, len);
    cr_assert_str_eq(got, want, "BS %u, STmin 0x%02X, %zu bytes", bs, stmin, len);
}

Test(isotp_endpoint, bursts_at_stmin_0_up_to_the_block_or_the_message)
{
    /* 100 bytes: a FF of 6 and 14 CFs. The FF goes alone (write). */
    expect_bursts(4, 0, 100, "4 4 4 2");
    expect_bursts(0, 0, 100, "14");
    /* 1000 bytes, 142 CFs: at most 64 handed over at once. */
    expect_bursts(0, 0, 1000, "64 64 14");
    /* A block of one is a frame alone. */
    expect_bursts(1, 0, 20, "");
    /* STmin 1 ms, and 100 us (0xF1): every CF alone, STmin apart. */
    expect_bursts(0, 1, 100, "");
    expect_bursts(8, 0xF1, 100, "");
}

Test(isotp_endpoint, a_burst_that_fails_gives_the_message_up)
{
    uf_isotp_ep_config t, e;
    configs(&t, &e);
    e.bs = 4;
    pair p;
    p.bus = new_bus();
    p.ecu = ep_node_new(p.bus, &e);
    burst_medium *b = burst_medium_new(p.bus);
    b->fail_burst = 2;
    p.tester = uf_channel_isotp(&b->base, &t);
    uint8_t *msg = pattern(100);
    uf_error err;
    cr_assert_not(uf_channel_send(p.tester, msg, 100, false, &err));
    cr_assert(strstr(err.msg, "burst 2 refused"), "%s", err.msg);
    /* The endpoint is free again: the next message goes whole. */
    b->fail_burst = 0;
    uf_simbus_run(p.bus, uf_simbus_now(p.bus) + 2 * UF_NS_PER_S, NULL, NULL);
    send_and_check(&p, 100);
    g_free(msg);
    free_pair(&p);
}

/* What a recording tap saw the tester send. */
static void tap_tx(void *ctx, const uf_can_frame *f, uf_time t, bool tx)
{
    if (tx) {
        tapped x = {*f, t};
        g_array_append_val((GArray *)ctx, x);
    }
}

/* The recorder's tap over a medium with bursts and over one without: each
 * frame of a burst is recorded as it left, at the time the bus saw its end. */
Test(isotp_endpoint, a_tap_records_each_frame_of_a_burst_at_its_time)
{
    for (int bursting = 0; bursting < 2; bursting++) {
        uf_isotp_ep_config t, e;
        configs(&t, &e);
        pair p;
        p.bus = new_bus();
        p.ecu = ep_node_new(p.bus, &e);
        uf_can_medium *inner = bursting ? &burst_medium_new(p.bus)->base
                                        : uf_can_medium_sim(p.bus, "sim");
        GArray *seen = g_array_new(FALSE, FALSE, sizeof(tapped));
        p.tester = uf_channel_isotp(uf_can_medium_tap(inner, tap_tx, seen), &t);
        send_and_check(&p, 100);
        if (bursting) {
            burst_medium *b = (burst_medium *)inner;
            cr_assert_eq(b->sizes->len, 1, "the 14 CFs in one burst");
        }
        guint k = 0;
        for (guint i = 0; i < taps->len; i++) {
            tapped *bus = &g_array_index(taps, tapped, i);
            if (bus->f.id != 0x7E0)
                continue;
            cr_assert_lt(k, seen->len);
            tapped *rec = &g_array_index(seen, tapped, k++);
            cr_assert_eq(rec->t, bus->t, "frame %u", k);
            cr_assert(rec->f.len == bus->f.len && memcmp(rec->f.data, bus->f.data, 8) == 0);
        }
        cr_assert_eq(k, 15);
        cr_assert_eq(seen->len, 15);
        g_array_free(seen, TRUE);
        free_pair(&p);
    }
}
