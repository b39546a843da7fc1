/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Large captures for the benchmarks, written as they are made (memory
 * stays that of the templates, whatever the size):
 *
 *   uf-bench-gen can FRAMES OUT.pcap
 *       flash sessions of three ECUs at once, round after round, until
 *       FRAMES frames: one on classic CAN (11-bit, the session of
 *       samples/flash-11bit.pcap) and two on CAN FD (29-bit, the session of
 *       samples/flash-29bit-fd.pcap), each with a tester of its own, their
 *       frames interleaved in time order as on one bus;
 *   uf-bench-gen doip BYTES OUT.pcap
 *       DoIP flash sessions (samples/doip-flash.pcap) one after another,
 *       each on TCP ports of its own, until the file holds BYTES.
 *
 * The templates are the samples, read with libpcap, so every session is
 * one the analyzer and tshark know to be a whole flash. pcapng is made
 * from the pcap with editcap (bench/analyzer.sh).
 */
#include <glib.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct packet {
    int64_t t_us;        /* since the template's first packet */
    uint32_t len;
    uint8_t data[];
} packet;

typedef struct template {
    GPtrArray *packets;  /* packet */
    int64_t span_us;     /* first to last */
    int linktype;
} template;

static void G_GNUC_NORETURN die(const char *what, const char *why)
{
    fprintf(stderr, "uf-bench-gen: %s: %s\n", what, why);
    exit(1);
}

static template load(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        die(path, err);
    template t = {g_ptr_array_new_with_free_func(g_free), 0, pcap_datalink(p)};
    struct pcap_pkthdr *h;
    const u_char *d;
    int64_t first = -1;
    while (pcap_next_ex(p, &h, &d) == 1) {
        int64_t us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        if (first < 0)
            first = us;
        packet *k = g_malloc(sizeof(*k) + h->caplen);
        k->t_us = us - first;
        k->len = h->caplen;
        memcpy(k->data, d, h->caplen);
        g_ptr_array_add(t.packets, k);
        t.span_us = k->t_us;
    }
    pcap_close(p);
    if (!t.packets->len)
        die(path, "no packets");
    return t;
}

static pcap_dumper_t *open_out(const char *path, int linktype, pcap_t **dead)
{
    *dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_MICRO);
    pcap_dumper_t *w = pcap_dump_open(*dead, path);
    if (!w)
        die(path, pcap_geterr(*dead));
    return w;
}

static void put(pcap_dumper_t *w, int64_t t_us, const uint8_t *d, uint32_t len)
{
    struct pcap_pkthdr h = {{(time_t)(t_us / 1000000), (suseconds_t)(t_us % 1000000)}, len, len};
    pcap_dump((u_char *)w, &h, d);
}

/* ---- CAN: four ECUs at once -------------------------------------------------------*/

/* SocketCAN pcap (LINKTYPE_CAN_SOCKETCAN): the id big-endian in bytes 0-3. */
static uint32_t get_id(const uint8_t *d)
{
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void set_id(uint8_t *d, uint32_t id)
{
    d[0] = (uint8_t)(id >> 24);
    d[1] = (uint8_t)(id >> 16);
    d[2] = (uint8_t)(id >> 8);
    d[3] = (uint8_t)id;
}

/* The ids of ECU `slot` and its tester. 29-bit normal-fixed ids
 * 0x18DA<ta><sa> / 0x18DB<ta><sa>: the ECU's address becomes 0x10 + slot
 * and the tester's 0xF1 + slot, so each tester's functional requests
 * (0x18DB33<sa>) reach its own ECU only. 11-bit ids stay: the convention
 * has one functional id, 0x7DF, which every ECU of the bus hears, so one
 * classic ECU is flashed at a time. */
static uint32_t slot_id(uint32_t id, unsigned slot)
{
    const uint32_t eff = 0x80000000u, raw = id & 0x1FFFFFFFu;
    uint32_t prefix = raw & 0x1FFF0000u;
    if (!(id & eff) || (prefix != 0x18DA0000u && prefix != 0x18DB0000u))
        return id;
    uint32_t ta = (raw >> 8) & 0xFF, sa = raw & 0xFF;
    ta = ta == 0x10 ? 0x10 + slot : ta == 0xF1 ? 0xF1 + slot : ta;
    sa = sa == 0x10 ? 0x10 + slot : sa == 0xF1 ? 0xF1 + slot : sa;
    return eff | prefix | ta << 8 | sa;
}

typedef struct stream {
    const template *t;
    unsigned slot;
    guint next;
    int64_t start_us;
} stream;

static int gen_can(uint64_t frames, const char *out, const char *classic, const char *fd)
{
    template tc = load(classic), tf = load(fd);
    if (tc.linktype != DLT_CAN_SOCKETCAN || tf.linktype != DLT_CAN_SOCKETCAN)
        die(classic, "and the CAN FD template must be SocketCAN captures");
    pcap_t *dead;
    pcap_dumper_t *w = open_out(out, DLT_CAN_SOCKETCAN, &dead);
    /* A round: the classic ECU and two CAN FD ECUs (each with its tester)
     * at once, 250 ms apart; a second's pause between rounds. */
    int64_t round_us = (tc.span_us > tf.span_us ? tc.span_us : tf.span_us) + 500000 + 1000000;
    int64_t base = 1795000000LL * 1000000; /* 2026-11-18, any fixed date */
    uint64_t written = 0, sessions = 0;
    uint8_t buf[128];
    for (uint64_t round = 0; written < frames; round++) {
        stream s[3] = {{&tc, 0, 0, 0}, {&tf, 0, 0, 250000}, {&tf, 1, 0, 500000}};
        for (;;) {
            stream *best = NULL;
            int64_t best_t = 0;
            for (int i = 0; i < 3; i++) {
                if (s[i].next >= s[i].t->packets->len)
                    continue;
                const packet *k = g_ptr_array_index(s[i].t->packets, s[i].next);
                int64_t t = s[i].start_us + k->t_us;
                if (!best || t < best_t) {
                    best = &s[i];
                    best_t = t;
                }
            }
            if (!best || written >= frames)
                break;
            const packet *k = g_ptr_array_index(best->t->packets, best->next++);
            uint32_t len = k->len < sizeof(buf) ? k->len : sizeof(buf);
            memcpy(buf, k->data, len);
            if (len >= 4)
                set_id(buf, slot_id(get_id(buf), best->slot));
            put(w, base + (int64_t)round * round_us + best_t, buf, len);
            written++;
        }
        sessions += 3;
    }
    pcap_dump_close(w);
    pcap_close(dead);
    printf("%s: %" G_GUINT64_FORMAT " CAN frames, about %" G_GUINT64_FORMAT
           " flash sessions of 3 ECUs (1 classic, 2 CAN FD)\n", out, written, sessions);
    return 0;
}

/* ---- DoIP: sessions one after another -----------------------------------------------*/

/* Ethernet, IPv4 (any header length), TCP: the tester's port (not 13400)
 * moved to the session's own. */
static void move_port(uint8_t *d, uint32_t len, uint16_t from_a, uint16_t from_b, uint16_t to)
{
    if (len < 14 + 20 || d[12] != 0x08 || d[13] != 0x00 || d[14 + 9] != 6)
        return;
    uint32_t ihl = (d[14] & 0x0F) * 4u;
    uint8_t *tcp = d + 14 + ihl;
    if (14 + ihl + 4 > len)
        return;
    for (int i = 0; i < 2; i++) {
        uint16_t port = (uint16_t)(tcp[2 * i] << 8 | tcp[2 * i + 1]);
        uint16_t moved = port == from_a ? to : port == from_b ? (uint16_t)(to + 1) : port;
        tcp[2 * i] = (uint8_t)(moved >> 8);
        tcp[2 * i + 1] = (uint8_t)moved;
    }
}

static int gen_doip(uint64_t bytes, const char *out, const char *sample)
{
    template t = load(sample);
    if (t.linktype != DLT_EN10MB)
        die(sample, "not an Ethernet capture");
    pcap_t *dead;
    pcap_dumper_t *w = open_out(out, DLT_EN10MB, &dead);
    int64_t base = 1795000000LL * 1000000, gap = t.span_us + 500000;
    uint64_t written = 24, sessions = 0; /* the file header */
    uint8_t *buf = g_malloc(262144);
    while (written < bytes) {
        /* Ports 20000-59999, two a session (the template reconnects once). */
        uint16_t port = (uint16_t)(20000 + 2 * (sessions % 20000));
        for (guint i = 0; i < t.packets->len; i++) {
            const packet *k = g_ptr_array_index(t.packets, i);
            memcpy(buf, k->data, k->len);
            move_port(buf, k->len, 50100, 50101, port);
            put(w, base + (int64_t)sessions * gap + k->t_us, buf, k->len);
            written += 16 + k->len;
        }
        sessions++;
    }
    g_free(buf);
    pcap_dump_close(w);
    pcap_close(dead);
    printf("%s: %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " DoIP flash sessions\n", out,
           written, sessions);
    return 0;
}

int main(int argc, char **argv)
{
    const char *samples = getenv("UF_SAMPLES") ? getenv("UF_SAMPLES") : "samples";
    if (argc == 4 && strcmp(argv[1], "can") == 0) {
        char *c = g_build_filename(samples, "flash-11bit.pcap", NULL);
        char *f = g_build_filename(samples, "flash-29bit-fd.pcap", NULL);
        return gen_can(g_ascii_strtoull(argv[2], NULL, 10), argv[3], c, f);
    }
    if (argc == 4 && strcmp(argv[1], "doip") == 0) {
        char *d = g_build_filename(samples, "doip-flash.pcap", NULL);
        return gen_doip(g_ascii_strtoull(argv[2], NULL, 10), argv[3], d);
    }
    fprintf(stderr, "usage: uf-bench-gen can FRAMES OUT.pcap | doip BYTES OUT.pcap "
                    "(templates from $UF_SAMPLES, default samples/)\n");
    return 2;
}
