/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsflash-samples OUTDIR: writes the bundled sample captures (see
 * samples/README.md). The output is deterministic; a test regenerates it and
 * compares it byte for byte with what is committed.
 */
#include "uf_samplegen.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define T0 (INT64_C(1795255200) * UF_NS_PER_S) /* 2026-11-21 10:00:00 UTC */

static const uf_isotp_tx_params classic_tester = {UF_ADDR_NORMAL, 0, 8, false, true, 0xCC};
static const uf_isotp_tx_params classic_ecu = {UF_ADDR_NORMAL, 0, 8, false, true, 0xAA};

static sg_link link_11bit(uint32_t bus, uint32_t tester, uint32_t ecu, uint64_t seed)
{
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = bus;
    l.tester_id = tester;
    l.ecu_id = ecu;
    l.functional_id = 0x7DF;
    l.tester_tx = classic_tester;
    l.ecu_tx = classic_ecu;
    l.functional_tx = classic_tester;
    l.ecu_bs = 16;
    l.ecu_stmin = 1;
    l.tester_bs = 0;
    l.tester_stmin = 0;
    l.frame_time = 230 * UF_NS_PER_US; /* 8-byte frame at 500 kbit/s */
    l.rng = seed;
    return l;
}

static const sg_flash flash_small = {.image_size = 4096, .address = 0x00010000,
                                     .max_block = 0x102, .seed = 0x1F2E3D4C,
                                     .erase_pending = 2, .functional_pre = true};

typedef int (*writer)(const sg_trace *t, const char *path, uf_error *err);

typedef struct output {
    const char *suffix;
    int kind; /* 0 pcap, 1 pcapng, 2 candump, 3 asc, 4 blf, 5 busmaster, 6 console,
               * 7 pcap LE, 8 pcap old FD, 9 SLL, 10 SLL2, 11 Ethernet pcap */
} output;

static int write_one(const sg_trace *t, const char *dir, const char *name, const output *o,
                     uf_error *err)
{
    char *path = g_strdup_printf("%s/%s%s", dir, name, o->suffix);
    int rc;
    switch (o->kind) {
    case 0: rc = sg_write_pcap(t, path, SG_PCAP_SOCKETCAN, err); break;
    case 1: rc = sg_write_pcapng(t, path, err); break;
    case 2: rc = sg_write_candump(t, path, false, err); break;
    case 3: rc = sg_write_asc(t, path, err); break;
    case 4: rc = sg_write_blf(t, path, err); break;
    case 5: rc = sg_write_busmaster(t, path, err); break;
    case 6: rc = sg_write_candump(t, path, true, err); break;
    case 7: rc = sg_write_pcap(t, path, SG_PCAP_SOCKETCAN_LE, err); break;
    case 8: rc = sg_write_pcap(t, path, SG_PCAP_SOCKETCAN_OLD, err); break;
    case 9: rc = sg_write_pcap(t, path, SG_PCAP_SLL, err); break;
    case 10: rc = sg_write_pcap(t, path, SG_PCAP_SLL2, err); break;
    default: rc = sg_write_pcap(t, path, SG_PCAP_ETHERNET, err); break;
    }
    g_free(path);
    return rc;
}

static const output four_formats[] = {
    {".pcap", 0}, {".pcapng", 1}, {".candump", 2}, {".asc", 3}};

static int write_set(const sg_trace *t, const char *dir, const char *name, const output *outs,
                     size_t n, uf_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (write_one(t, dir, name, &outs[i], err) < 0)
            return -1;
    return 0;
}

/* 11-bit classic CAN, 0x7E0 / 0x7E8, in every format udsflash reads. */
static int scenario_11bit(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = link_11bit(sg_trace_bus(&t, "can0"), 0x7E0, 0x7E8, 11);
    sg_flash_session(&t, &l, &flash_small, T0 + 120 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    static const output outs[] = {
        {".pcap", 0},          {".pcapng", 1},          {".candump", 2},
        {".asc", 3},           {".blf", 4},             {".busmaster", 5},
        {"-console.candump", 6}, {"-scapy-le.pcap", 7}, {"-sll.pcap", 9},
    };
    int rc = write_set(&t, dir, "flash-11bit", outs, UF_ARRAY_LEN(outs), err);
    sg_trace_free(&t);
    return rc;
}

/* 29-bit normal fixed addressing on CAN FD (64-byte frames, BRS). */
static int scenario_29bit_fd(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = link_11bit(sg_trace_bus(&t, "can0"), UF_ISOTP_EFF | 0x18DA10F1u,
                           UF_ISOTP_EFF | 0x18DAF110u, 29);
    l.functional_id = UF_ISOTP_EFF | 0x18DB33F1u;
    uf_isotp_tx_params fd = {UF_ADDR_NORMAL_FIXED, 0, 64, true, true, 0xCC};
    l.tester_tx = l.ecu_tx = l.functional_tx = fd;
    l.ecu_tx.pad_byte = 0xAA;
    l.ecu_bs = 4;
    l.ecu_stmin = 0xF5; /* 500 us */
    l.frame_time = 110 * UF_NS_PER_US;
    sg_flash f = flash_small;
    f.image_size = 16384;
    f.max_block = 0x802;
    f.seed = 0x29F0D001;
    sg_flash_session(&t, &l, &f, T0 + 200 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    static const output outs[] = {
        {".pcap", 0}, {".pcapng", 1}, {".candump", 2}, {".asc", 3}, {"-old.pcap", 8}};
    int rc = write_set(&t, dir, "flash-29bit-fd", outs, UF_ARRAY_LEN(outs), err);
    sg_trace_free(&t);
    return rc;
}

/* Extended addressing: tester 0x6F1 sends "12 ..", ECU 0x612 answers "F1 ..". */
static int scenario_extended(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link l = link_11bit(sg_trace_bus(&t, "can0"), 0x6F1, 0x612, 61);
    l.tester_tx.addressing = l.ecu_tx.addressing = l.functional_tx.addressing = UF_ADDR_EXTENDED;
    l.tester_tx.addr = 0x12;
    l.ecu_tx.addr = 0xF1;
    l.functional_id = 0x6F1;
    l.functional_tx.addr = 0xDF;
    l.ecu_bs = 8;
    l.ecu_stmin = 2;
    sg_flash f = flash_small;
    f.image_size = 2048;
    f.max_block = 0xFE;
    f.functional_pre = false;
    f.seed = 0x0E0E7E11;
    sg_flash_session(&t, &l, &f, T0 + 50 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    int rc = write_set(&t, dir, "flash-extended", four_formats, UF_ARRAY_LEN(four_formats), err);
    sg_trace_free(&t);
    return rc;
}

/* Two ECUs flashed at once on one bus: their segmented transfers interleave.
 * A functional DiagnosticSessionControl first, answered by both. */
static int scenario_two_ecus(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    uint32_t bus = sg_trace_bus(&t, "can0");
    sg_link a = link_11bit(bus, 0x7E0, 0x7E8, 71);
    sg_link b = link_11bit(bus, 0x7E1, 0x7E9, 72);
    b.ecu_bs = 8;
    b.ecu_stmin = 0;
    uf_time t0 = T0 + 80 * UF_NS_PER_MS;
    uint8_t dsc[] = {0x10, 0x03}, dsc_r[] = {0x50, 0x03, 0x00, 0x32, 0x01, 0xF4};
    uf_time end = sg_send(&t, &a, true, true, t0, dsc, sizeof(dsc));
    sg_send(&t, &a, false, false, end + 3 * UF_NS_PER_MS, dsc_r, sizeof(dsc_r));
    sg_send(&t, &b, false, false, end + 5 * UF_NS_PER_MS, dsc_r, sizeof(dsc_r));
    sg_flash fa = flash_small, fb = flash_small;
    fa.image_size = fb.image_size = 2048;
    fa.functional_pre = fb.functional_pre = false;
    fb.seed = 0x0B0B0B0B;
    fb.address = 0x00020000;
    sg_flash_session(&t, &a, &fa, t0 + 60 * UF_NS_PER_MS);
    sg_flash_session(&t, &b, &fb, t0 + 63 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    int rc = write_set(&t, dir, "flash-two-ecus", four_formats, UF_ARRAY_LEN(four_formats), err);
    sg_trace_free(&t);
    return rc;
}

/* The same ids on two buses (a gateway logger with can0 and can1). */
static int scenario_two_buses(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_link a = link_11bit(sg_trace_bus(&t, "can0"), 0x7E0, 0x7E8, 81);
    sg_link b = link_11bit(sg_trace_bus(&t, "can1"), 0x7E0, 0x7E8, 82);
    sg_flash fa = flash_small, fb = flash_small;
    fa.image_size = fb.image_size = 1024;
    fb.seed = 0x0C0C0C0C;
    sg_flash_session(&t, &a, &fa, T0 + 10 * UF_NS_PER_MS);
    sg_flash_session(&t, &b, &fb, T0 + 17 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    static const output outs[] = {{".pcapng", 1}, {".candump", 2}, {".asc", 3}, {"-sll2.pcap", 10}};
    int rc = write_set(&t, dir, "flash-two-buses", outs, UF_ARRAY_LEN(outs), err);
    sg_trace_free(&t);
    return rc;
}

/* Flashes that fail the default profile, and flows of the other profiles. */
static int scenario_verdicts(const char *dir, uf_error *err)
{
    static const struct {
        const char *name;
        uint32_t faults;
        bool erase_first;
        uint16_t fingerprint;
    } cases[] = {
        /* A late answer, a refused fingerprint write, a skipped block counter,
         * consecutive frames faster than STmin, a version read never answered. */
        {"flash-11bit-faults", SG_LATE_RESPONSE | SG_NRC | SG_COUNTER_SKIP | SG_STMIN |
                               SG_NO_RESPONSE, false, 0},
        /* The capture ends in the middle of the transfer. */
        {"flash-11bit-cut", SG_CUT, false, 0},
        /* Erase before the fingerprint write: the erase-first profile. */
        {"flash-erase-first", 0, true, 0},
        /* An AUTOSAR / HIS bootloader flow: fingerprint 0xF15A. */
        {"flash-his", 0, false, 0xF15A},
        /* Field failures, one each, for udsreplay reproduce (the tester's
         * faults) and udsreplay ecu (the ECU's). */
        {"fault-stmin", SG_STMIN, false, 0},
        {"fault-abort", SG_ABORT, false, 0},
        {"fault-s3", SG_TESTER_SILENT, false, 0},
        {"fault-p2", SG_LATE_RESPONSE, false, 0},
        {"fault-p2star", SG_LATE_FINAL, false, 0},
        {"fault-nrc", SG_NRC, false, 0},
    };
    static const output outs[] = {{".pcap", 0}};
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        sg_trace t;
        sg_trace_init(&t);
        sg_link l = link_11bit(sg_trace_bus(&t, "can0"), 0x7E0, 0x7E8, 100 + i);
        sg_flash f = flash_small;
        f.faults = cases[i].faults;
        f.erase_first = cases[i].erase_first;
        f.fingerprint_did = cases[i].fingerprint;
        sg_flash_session(&t, &l, &f, T0 + 120 * UF_NS_PER_MS);
        sg_trace_finish(&t);
        int rc = write_set(&t, dir, cases[i].name, outs, UF_ARRAY_LEN(outs), err);
        sg_trace_free(&t);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- DoIP --------------------------------------------------------------------------*/

static const sg_flash flash_doip = {.image_size = 32768, .address = 0x00080000,
                                    .max_block = 0x1002, .seed = 0xD0D0CAFE,
                                    .erase_pending = 2, .functional_pre = true};

static sg_link doip_link(sg_doip *d, uint64_t seed)
{
    sg_link l;
    memset(&l, 0, sizeof(l));
    l.bus = d->bus;
    l.rng = seed;
    l.doip = d;
    return l;
}

static int write_doip(const char *dir, const char *name, bool v6, uint32_t faults,
                      const output *outs, size_t n_outs, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d = sg_doip_gateway(sg_trace_eth_bus(&t, "eth0"), v6);
    d.faults = faults;
    sg_link l = doip_link(&d, 13400 + faults);
    sg_flash_session(&t, &l, &flash_doip, T0 + 50 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    int rc = write_set(&t, dir, name, outs, n_outs, err);
    sg_trace_free(&t);
    return rc;
}

/* DoIP over IPv4 and IPv6 (VLAN-tagged), through a gateway: a conformant
 * flash with TCP's everyday roughness (an ACK riding with a response,
 * retransmissions, segments captured out of order), one with DoIP faults,
 * and one with a segment the capture lost. */
static int scenario_doip(const char *dir, uf_error *err)
{
    static const output eth[] = {{".pcap", 11}, {".pcapng", 1}};
    static const output ng[] = {{".pcapng", 1}};
    static const output pcap[] = {{".pcap", 11}};
    if (write_doip(dir, "doip-flash", false, SG_DOIP_COALESCE, eth, 2, err) < 0 ||
        write_doip(dir, "doip-flash-ipv6", true, SG_DOIP_RETRANSMIT | SG_DOIP_REORDER, ng, 1,
                   err) < 0 ||
        write_doip(dir, "doip-faults", false,
                   SG_DOIP_NACK | SG_DOIP_ROUTING_DENIED | SG_DOIP_LATE_ACK | SG_DOIP_MALFORMED,
                   pcap, 1, err) < 0 ||
        write_doip(dir, "doip-gap", false, SG_DOIP_GAP, pcap, 1, err) < 0)
        return -1;
    return 0;
}

/* A gateway capture: the tester's DoIP on eth0 and the gateway's CAN on
 * can0, both flashing at once; one pcapng with both interfaces. */
static int scenario_gateway(const char *dir, uf_error *err)
{
    sg_trace t;
    sg_trace_init(&t);
    sg_doip d = sg_doip_gateway(sg_trace_eth_bus(&t, "eth0"), false);
    sg_link ld = doip_link(&d, 77);
    sg_link lc = link_11bit(sg_trace_bus(&t, "can0"), 0x7E0, 0x7E8, 78);
    sg_flash_session(&t, &ld, &flash_doip, T0 + 50 * UF_NS_PER_MS);
    sg_flash_session(&t, &lc, &flash_small, T0 + 400 * UF_NS_PER_MS);
    sg_trace_finish(&t);
    static const output ng[] = {{".pcapng", 1}};
    int rc = write_set(&t, dir, "gateway-doip-can", ng, 1, err);
    sg_trace_free(&t);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: udsflash-samples OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        fprintf(stderr, "udsflash-samples: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int (*const scenarios[])(const char *, uf_error *) = {
        scenario_11bit, scenario_29bit_fd, scenario_extended, scenario_two_ecus,
        scenario_two_buses, scenario_verdicts, scenario_doip, scenario_gateway,
    };
    uf_error err;
    for (size_t i = 0; i < UF_ARRAY_LEN(scenarios); i++) {
        if (scenarios[i](dir, &err) < 0) {
            fprintf(stderr, "udsflash-samples: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}
