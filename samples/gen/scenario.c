/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Simulated flash sessions (ISO 14229-1:2020 programming sequence) on a
 * virtual timeline. Messages are segmented with the project's ISO-TP codec;
 * the receiver answers each first frame and each full block with a flow
 * control, and consecutive frames keep the receiver's STmin. Timing has a
 * small deterministic jitter so that every gap is a real measurement.
 */
#include "uf_samplegen.h"

#include <string.h>

void sg_trace_init(sg_trace *t)
{
    t->frames = g_array_new(FALSE, FALSE, sizeof(sg_frame));
    t->buses = g_ptr_array_new_with_free_func(g_free);
    t->ethernet = g_array_new(FALSE, TRUE, sizeof(gboolean));
    t->packets = g_byte_array_new();
}

void sg_trace_free(sg_trace *t)
{
    g_array_free(t->frames, TRUE);
    g_ptr_array_free(t->buses, TRUE);
    g_array_free(t->ethernet, TRUE);
    g_byte_array_free(t->packets, TRUE);
}

static uint32_t bus_of_kind(sg_trace *t, const char *name, gboolean ethernet)
{
    for (guint i = 0; i < t->buses->len; i++)
        if (strcmp(g_ptr_array_index(t->buses, i), name) == 0)
            return i;
    g_ptr_array_add(t->buses, g_strdup(name));
    g_array_append_val(t->ethernet, ethernet);
    return t->buses->len - 1;
}

uint32_t sg_trace_bus(sg_trace *t, const char *name)
{
    return bus_of_kind(t, name, FALSE);
}

uint32_t sg_trace_eth_bus(sg_trace *t, const char *name)
{
    return bus_of_kind(t, name, TRUE);
}

bool sg_trace_bus_is_ethernet(const sg_trace *t, uint32_t bus)
{
    return bus < t->ethernet->len && g_array_index(t->ethernet, gboolean, bus);
}

void sg_trace_packet(sg_trace *t, uint32_t bus, uf_time time, const uint8_t *frame, size_t len)
{
    sg_frame sf;
    memset(&sf, 0, sizeof(sf));
    sf.time = time;
    sf.bus = bus;
    sf.packet = true;
    sf.pkt_off = t->packets->len;
    sf.pkt_len = (uint32_t)len;
    g_byte_array_append(t->packets, frame, (guint)len);
    g_array_append_val(t->frames, sf);
}

const uint8_t *sg_frame_packet(const sg_trace *t, const sg_frame *f)
{
    return t->packets->data + f->pkt_off;
}

static gint by_time(gconstpointer a, gconstpointer b)
{
    const sg_frame *x = a, *y = b;
    return x->time < y->time ? -1 : x->time > y->time;
}

void sg_trace_finish(sg_trace *t)
{
    g_array_sort(t->frames, by_time); /* stable since GLib 2.32 */
}

/* xorshift64*: deterministic, good enough for jitter and image bytes. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Du;
}

/* A delay of base_us plus up to jitter_us, rounded to whole microseconds
 * so that every format (pcap, candump, ASC) stores it exactly. */
uf_time sg_delay(sg_link *l, uint32_t base_us, uint32_t jitter_us)
{
    uint32_t j = jitter_us ? (uint32_t)(next_random(&l->rng) % (jitter_us + 1)) : 0;
    return (uf_time)(base_us + j) * UF_NS_PER_US;
}

void sg_image(uint8_t *out, uint32_t len, uint32_t seed)
{
    uint64_t s = seed | (uint64_t)seed << 32;
    for (uint32_t i = 0; i < len; i++)
        out[i] = (uint8_t)(next_random(&s) >> 56);
}

static void put_frame(sg_trace *t, sg_link *l, uint32_t id, bool from_tester, uf_time time,
                      uf_can_frame *f)
{
    sg_frame sf;
    memset(&sf, 0, sizeof(sf));
    sf.time = time;
    sf.bus = l->bus;
    sf.f = *f;
    sf.f.id = id & ~UF_ISOTP_EFF;
    sf.f.flags |= (id & UF_ISOTP_EFF) ? UF_CAN_EFF : 0;
    sf.f.flags |= from_tester ? UF_CAN_DIR_TX : UF_CAN_DIR_RX;
    g_array_append_val(t->frames, sf);
}

uf_time sg_send(sg_trace *trace, sg_link *l, bool from_tester, bool functional, uf_time t,
                const uint8_t *msg, uint32_t len)
{
    if (l->doip)
        return sg_doip_send(trace, l, from_tester, functional, t, msg, len);
    const uf_isotp_tx_params *p = functional ? &l->functional_tx
                                  : from_tester ? &l->tester_tx : &l->ecu_tx;
    uint32_t id = functional ? l->functional_id : from_tester ? l->tester_id : l->ecu_id;
    /* The receiver's flow control. */
    const uf_isotp_tx_params *rp = from_tester ? &l->ecu_tx : &l->tester_tx;
    uint32_t rid = from_tester ? l->ecu_id : l->tester_id;
    uint8_t bs = from_tester ? l->ecu_bs : l->tester_bs;
    uint8_t stmin = from_tester ? l->ecu_stmin : l->tester_stmin;

    uf_isotp_tx tx;
    uf_isotp_tx_start(&tx, p, msg, len);
    uf_can_frame f;
    memset(&f, 0, sizeof(f));
    uf_isotp_tx_next(&tx, &f);
    put_frame(trace, l, id, from_tester, t, &f);
    if (!uf_isotp_tx_multi(&tx))
        return t;
    uint32_t gap_us = uf_stmin_us(stmin);
    if (from_tester && l->tester_cf_gap_us)
        gap_us = l->tester_cf_gap_us; /* a tester that ignores the ECU's STmin */
    uint32_t frame_us = (uint32_t)(l->frame_time / UF_NS_PER_US);
    uint32_t cfs = 0;
    for (;;) {
        t += sg_delay(l, 800, 400); /* receiver's FC after about a millisecond */
        memset(&f, 0, sizeof(f));
        uf_isotp_fc_frame(rp, UF_FS_CTS, bs, stmin, &f);
        put_frame(trace, l, rid, !from_tester, t, &f);
        t += sg_delay(l, frame_us + 100, 100);
        for (uint32_t n = 0; bs == 0 || n < bs; n++) {
            if (n > 0)
                t += sg_delay(l, (gap_us > frame_us || (from_tester && l->tester_cf_gap_us)
                                   ? gap_us : frame_us) + 20, 60);
            memset(&f, 0, sizeof(f));
            if (!uf_isotp_tx_next(&tx, &f))
                return t;
            put_frame(trace, l, id, from_tester, t, &f);
            if (tx.sent >= tx.len)
                return t;
            if (from_tester && l->tester_cf_limit && ++cfs == l->tester_cf_limit)
                return t; /* broken off: the rest never comes */
        }
    }
}

/* Request, then the ECU's answers after their delays (ms, with jitter);
 * returns when the tester may speak again. */
static uf_time exchange(sg_trace *tr, sg_link *l, uf_time t, const uint8_t *req, uint32_t req_len,
                        const uint8_t *resp, uint32_t resp_len, uint32_t delay_ms)
{
    t = sg_send(tr, l, true, false, t, req, req_len);
    if (resp) {
        t += sg_delay(l, delay_ms * 1000u, 1500);
        t = sg_send(tr, l, false, false, t, resp, resp_len);
    }
    return t + sg_delay(l, 2000, 3000); /* the tester's think time */
}

static uint32_t crc32_of(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (uint32_t)-(int32_t)(crc & 1));
    }
    return ~crc;
}

static bool has(const sg_flash *fl, uint32_t fault)
{
    return (fl->faults & fault) != 0;
}

/* The erase routine: some 0x78 answers, then done. */
static uf_time erase(sg_trace *tr, sg_link *l, const sg_flash *fl, uf_time t)
{
    uint8_t req[13] = {0x31, 0x01, 0xFF, 0x00, 0x44};
    uf_store_be32(req + 5, fl->address);
    uf_store_be32(req + 9, fl->image_size);
    t = sg_send(tr, l, true, false, t, req, sizeof(req));
    uint8_t pending[] = {0x7F, 0x31, 0x78};
    uf_time at = t + sg_delay(l, 15000, 2000);
    for (uint8_t i = 0; i < fl->erase_pending; i++) {
        at = sg_send(tr, l, false, false, at, pending, sizeof(pending));
        if (i == 0) {
            /* Tester present on the functional id while the ECU is busy. */
            uint8_t tp[] = {0x3E, 0x80};
            sg_send(tr, l, true, true, at + sg_delay(l, 500000, 1000), tp, sizeof(tp));
        }
        bool gap = has(fl, SG_PENDING_GAP) && i == 0 && fl->erase_pending > 1;
        at += gap ? sg_delay(l, 6000000, 0) : sg_delay(l, 1000000, 20000);
    }
    if (has(fl, SG_LATE_FINAL))
        at += sg_delay(l, 5000000, 0); /* 6 s after the last 0x78 in all */
    else if (has(fl, SG_NEAR_P2STAR))
        at += sg_delay(l, 3900000, 0); /* 4.9 s */
    uint8_t done[] = {0x71, 0x01, 0xFF, 0x00, 0x00};
    return sg_send(tr, l, false, false, at, done, sizeof(done)) + sg_delay(l, 3000, 2000);
}

static uf_time fingerprint(sg_trace *tr, sg_link *l, const sg_flash *fl, uf_time t)
{
    uint16_t did = fl->fingerprint_did ? fl->fingerprint_did : 0xF184;
    uint8_t fp[3 + 9] = {0x2E, (uint8_t)(did >> 8), (uint8_t)did, 0x26, 0x11, 0x21,
                         'T', 'S', 'T', '0', '0', '1'};
    uint8_t ok[] = {0x6E, (uint8_t)(did >> 8), (uint8_t)did};
    if (has(fl, SG_NRC)) {
        uint8_t refused[] = {0x7F, 0x2E, 0x22}; /* conditionsNotCorrect, then a retry */
        t = exchange(tr, l, t, fp, sizeof(fp), refused, sizeof(refused), 10) + sg_delay(l, 50000, 0);
    }
    return exchange(tr, l, t, fp, sizeof(fp), ok, sizeof(ok), 25);
}

/* RequestDownload .. TransferData .. RequestTransferExit .. check memory for
 * one region. Returns UF_TIME_NONE if the capture is cut. */
static uf_time download(sg_trace *tr, sg_link *l, const sg_flash *fl, uf_time t, uint32_t address,
                        const uint8_t *image, uint32_t size)
{
    uint8_t rd[11] = {0x34, has(fl, SG_COMPRESSED) ? 0x10 : 0x00, 0x44};
    uf_store_be32(rd + 3, address);
    uf_store_be32(rd + 7, size);
    uint8_t rd_r[] = {0x74, 0x20, (uint8_t)(fl->max_block >> 8), (uint8_t)fl->max_block};
    t = exchange(tr, l, t, rd, sizeof(rd), rd_r, sizeof(rd_r), 10);

    /* With "compression" the tester sends three quarters of the size. */
    uint32_t total = has(fl, SG_COMPRESSED) ? size * 3 / 4 : size;
    if (has(fl, SG_SHORT_TRANSFER))
        total -= 10;
    uint32_t chunk = fl->max_block - 2;
    uint8_t *block = g_malloc(fl->max_block + 1);
    uint8_t counter = 1;
    uint32_t n_block = 0;
    for (uint32_t off = 0; off < total; n_block++) {
        uint32_t n = total - off < chunk ? total - off : chunk;
        if (has(fl, SG_LONG_BLOCK) && n_block == 1 && off + n < total)
            n++;
        if (has(fl, SG_COUNTER_SKIP) && n_block == 2)
            counter++;
        block[0] = 0x36;
        block[1] = counter;
        memcpy(block + 2, image + off, n);
        uint8_t td_r[] = {0x76, counter};
        if (has(fl, SG_STMIN) && n_block == 1)
            l->tester_cf_gap_us = 300;
        if (has(fl, SG_ABORT) && n_block == 5) {
            /* The tester breaks off in the middle of the block (the ECU's
             * N_Cr runs out), gives up the download and resets the ECU. */
            l->tester_cf_limit = 3;
            t = sg_send(tr, l, true, false, t, block, n + 2) + sg_delay(l, 2000000, 0);
            l->tester_cf_limit = 0;
            uint8_t reset[] = {0x11, 0x01}, reset_r[] = {0x51, 0x01};
            exchange(tr, l, t, reset, sizeof(reset), reset_r, sizeof(reset_r), 5);
            g_free(block);
            return UF_TIME_NONE;
        }
        t = exchange(tr, l, t, block, n + 2, td_r, sizeof(td_r), 4);
        l->tester_cf_gap_us = 0;
        if (has(fl, SG_EXTRA_RESPONSE) && n_block == 1)
            t = sg_send(tr, l, false, false, t, td_r, sizeof(td_r)) + sg_delay(l, 2000, 1000);
        if (has(fl, SG_RETRY_BLOCK) && n_block == 2) /* the same block, same counter */
            t = exchange(tr, l, t, block, n + 2, td_r, sizeof(td_r), 4);
        if (has(fl, SG_CUT) && n_block == 4) {
            g_free(block);
            return UF_TIME_NONE;
        }
        off += n;
        counter++; /* wraps 0xFF -> 0x00 (ISO 14229-1:2020 15.4) */
    }
    g_free(block);
    if (!has(fl, SG_NO_EXIT)) {
        uint8_t rte[] = {0x37}, rte_r[] = {0x77};
        t = exchange(tr, l, t, rte, sizeof(rte), rte_r, sizeof(rte_r), 6);
    }
    uint8_t check[8] = {0x31, 0x01, 0x02, 0x02};
    uf_store_be32(check + 4, crc32_of(image, size));
    uint8_t check_r[] = {0x71, 0x01, 0x02, 0x02, 0x00};
    return exchange(tr, l, t, check, sizeof(check), check_r, sizeof(check_r), 45);
}

uf_time sg_flash_session(sg_trace *tr, sg_link *l, const sg_flash *fl, uf_time t)
{
    uint8_t p2_hi = 0x00, p2_lo = has(fl, SG_ANNOUNCE_P2_100) ? 0x64 : 0x32; /* P2 50 or 100 ms */
    uint8_t timing[4] = {p2_hi, p2_lo, 0x01, 0xF4};                           /* P2* 5000 ms */

    if (l->doip)
        t = sg_doip_open(tr, l, t);
    /* Pre-programming: extended session, preconditions, DTCs and
     * communication off, identification. */
    uint8_t dsc_ext[] = {0x10, 0x03};
    uint8_t dsc_ext_r[] = {0x50, 0x03, timing[0], timing[1], timing[2], timing[3]};
    t = exchange(tr, l, t, dsc_ext, sizeof(dsc_ext), dsc_ext_r, sizeof(dsc_ext_r), 4);
    if (!has(fl, SG_SKIP_OPTIONAL)) {
        uint8_t pre[] = {0x31, 0x01, 0x02, 0x03};
        uint8_t pre_r[] = {0x71, 0x01, 0x02, 0x03, 0x00};
        uint32_t ms = has(fl, SG_LATE_RESPONSE) || has(fl, SG_ANNOUNCE_P2_100) ? 80
                      : has(fl, SG_NEAR_P2) ? 45 : 12;
        /* Exactly ms: a late answer must not be saved by jitter. */
        t = sg_send(tr, l, true, false, t, pre, sizeof(pre)) + (uf_time)ms * UF_NS_PER_MS;
        t = sg_send(tr, l, false, false, t, pre_r, sizeof(pre_r)) + sg_delay(l, 2000, 3000);
        uint8_t dtc_off[] = {0x85, 0x82};        /* DTC setting off, no positive response */
        uint8_t comm_off[] = {0x28, 0x83, 0x01}; /* disableRxAndTx, normal messages */
        if (fl->functional_pre) {
            t = sg_send(tr, l, true, true, t, dtc_off, sizeof(dtc_off)) + sg_delay(l, 20000, 2000);
            t = sg_send(tr, l, true, true, t, comm_off, sizeof(comm_off)) + sg_delay(l, 20000, 2000);
        } else {
            t = exchange(tr, l, t, dtc_off, sizeof(dtc_off), NULL, 0, 0) + sg_delay(l, 20000, 0);
            t = exchange(tr, l, t, comm_off, sizeof(comm_off), NULL, 0, 0) + sg_delay(l, 20000, 0);
        }
    }
    uint8_t vin_q[] = {0x22, 0xF1, 0x90};
    uint8_t vin_r[3 + 17] = {0x62, 0xF1, 0x90};
    memcpy(vin_r + 3, "WVWZZZ1KZBW000042", 17);
    t = exchange(tr, l, t, vin_q, sizeof(vin_q), vin_r, has(fl, SG_MALFORMED) ? 2 : sizeof(vin_r), 5);
    uint8_t sw_q[] = {0x22, 0xF1, 0x95};
    uint8_t sw_r[3 + 8] = {0x62, 0xF1, 0x95};
    memcpy(sw_r + 3, "01.00.00", 8);
    if (has(fl, SG_NO_RESPONSE))
        t = sg_send(tr, l, true, false, t, sw_q, sizeof(sw_q)) + sg_delay(l, 150000, 0);
    t = exchange(tr, l, t, sw_q, sizeof(sw_q), sw_r, sizeof(sw_r), 5);

    /* Programming: session, security access, fingerprint, erase, download. */
    if (!has(fl, SG_NO_PROGRAMMING)) {
        uint8_t dsc_prog[] = {0x10, 0x02};
        uint8_t dsc_prog_r[] = {0x50, 0x02, timing[0], timing[1], timing[2], timing[3]};
        t = exchange(tr, l, t, dsc_prog, sizeof(dsc_prog), dsc_prog_r, sizeof(dsc_prog_r), 30);
    }
    if (!has(fl, SG_NO_SECURITY)) {
        uint8_t seed_q[] = {0x27, 0x11};
        uint8_t seed_r[6] = {0x67, 0x11};
        uf_store_be32(seed_r + 2, fl->seed);
        t = exchange(tr, l, t, seed_q, sizeof(seed_q), seed_r, sizeof(seed_r), 8);
        uint8_t key_q[6] = {0x27, 0x12};
        uf_store_be32(key_q + 2, fl->seed ^ 0x5A3CC3A5u);
        uint8_t key_r[] = {0x67, 0x12};
        t = exchange(tr, l, t, key_q, sizeof(key_q), key_r, sizeof(key_r), 15);
    }
    if (has(fl, SG_TESTER_SILENT))
        t += 6 * UF_NS_PER_S;
    else if (has(fl, SG_NEAR_S3))
        t += 4500 * UF_NS_PER_MS;
    bool fp_after = fl->erase_first || has(fl, SG_FINGERPRINT_LATE);
    if (!fp_after)
        t = fingerprint(tr, l, fl, t);
    if (has(fl, SG_EXTRA_SERVICE)) {
        uint8_t ioc[] = {0x2F, 0xF1, 0x00, 0x03, 0x01}, ioc_r[] = {0x6F, 0xF1, 0x00, 0x03, 0x01};
        t = exchange(tr, l, t, ioc, sizeof(ioc), ioc_r, sizeof(ioc_r), 6);
    }

    uint8_t *image = g_malloc(fl->image_size);
    sg_image(image, fl->image_size, fl->seed);
    uint32_t regions = has(fl, SG_TWO_REGIONS) ? 2 : 1;
    uint32_t region_size = fl->image_size / regions;
    for (uint32_t r = 0; r < regions; r++) {
        t = erase(tr, l, fl, t);
        if (fp_after && r == 0)
            t = fingerprint(tr, l, fl, t);
        t = download(tr, l, fl, t, fl->address + r * 0x10000u, image + r * region_size,
                     region_size);
        if (t == UF_TIME_NONE) {
            g_free(image);
            return t; /* the capture ends here */
        }
    }
    g_free(image);
    if (!has(fl, SG_SKIP_DEPENDENCIES)) {
        uint8_t dep[] = {0x31, 0x01, 0xFF, 0x01};
        uint8_t dep_r[] = {0x71, 0x01, 0xFF, 0x01, 0x00};
        t = exchange(tr, l, t, dep, sizeof(dep), dep_r, sizeof(dep_r), 20);
    }
    if (!has(fl, SG_NO_RESET)) {
        uint8_t reset[] = {0x11, 0x01};
        uint8_t reset_r[] = {0x51, 0x01};
        t = exchange(tr, l, t, reset, sizeof(reset), reset_r, sizeof(reset_r), 5);
        uf_time boot = sg_delay(l, 600000, 5000); /* the ECU boots the new software */
        t = l->doip ? sg_doip_reconnect(tr, l, t, boot) : t + boot;
    }

    /* Post-programming: default session, clear DTCs, read the new version. */
    if (!has(fl, SG_STAY_PROGRAMMING)) {
        uint8_t dsc_def[] = {0x10, 0x01};
        uint8_t dsc_def_r[] = {0x50, 0x01, timing[0], timing[1], timing[2], timing[3]};
        t = exchange(tr, l, t, dsc_def, sizeof(dsc_def), dsc_def_r, sizeof(dsc_def_r), 4);
    }
    uint8_t clear[] = {0x14, 0xFF, 0xFF, 0xFF};
    uint8_t clear_r[] = {0x54};
    t = exchange(tr, l, t, clear, sizeof(clear), clear_r, sizeof(clear_r), 30);
    memcpy(sw_r + 3, "02.00.00", 8);
    t = exchange(tr, l, t, sw_q, sizeof(sw_q), sw_r, sizeof(sw_r), 5);
    return l->doip ? sg_doip_close(tr, l, t) : t;
}
