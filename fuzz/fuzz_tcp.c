/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * TCP reassembly over arbitrary segments of a few connections. Input: one
 * configuration byte (bound on waiting bytes, connection count), then
 * records of
 *   conn+dir (1: bit 0 the direction, bits 1-2 which of 4 client ports),
 *   flags (1), seq offset (2, LE), ack offset (2, LE), length (1), data.
 * Invariants: every connection that opens closes; delivered bytes are never
 * empty and are readable; a gap is never empty nor beyond the sequence
 * space; memory stays bounded (ASan, LSan).
 */
#include "fuzz.h"
#include "uf_net.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct dir_count {
    uint64_t bytes;
} dir_count;

static uint64_t opened, closed;

static void on_open(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    (void)ctx, (void)frame, (void)t;
    s->user = calloc(2, sizeof(dir_count));
    opened++;
}

static void on_data(void *ctx, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                    uint64_t frame, uf_time t)
{
    (void)ctx, (void)frame, (void)t;
    assert(dir == 0 || dir == 1);
    assert(p && n > 0);
    dir_count *c = s->user;
    c[dir].bytes += n;
    volatile uint8_t sink = p[n - 1]; /* the bytes are readable */
    (void)sink;
}

static void on_gap(void *ctx, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame,
                   uf_time t)
{
    (void)ctx, (void)frame, (void)t;
    assert(missing > 0 && missing < (UINT64_C(1) << 32));
    dir_count *c = s->user;
    c[dir].bytes += missing;
}

static void on_close(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    (void)ctx, (void)frame, (void)t;
    free(s->user);
    s->user = NULL;
    closed++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uf_tcp_config cfg;
    uf_tcp_config_defaults(&cfg);
    cfg.max_pending = 64u << (data[0] & 7);
    cfg.max_connections = 1 + ((data[0] >> 3) & 3);
    static const uint16_t ports[] = {13400};
    cfg.ports = ports;
    cfg.n_ports = 1;
    uf_tcp_sink sink = {NULL, on_open, on_data, on_gap, on_close};
    uf_tcp *t = uf_tcp_new(&cfg, &sink);
    opened = closed = 0;
    uf_net_packet p;
    memset(&p, 0, sizeof(p));
    p.proto = UF_NET_TCP;
    p.src.family = p.dst.family = 4;
    size_t at = 1;
    uint64_t frame = 0;
    while (size - at >= 7) {
        uint8_t cd = data[at], flags = data[at + 1];
        uint32_t seq = (uint32_t)(data[at + 2] | data[at + 3] << 8);
        uint32_t ack = (uint32_t)(data[at + 4] | data[at + 5] << 8);
        uint32_t len = data[at + 6];
        at += 7;
        if (size - at < len)
            len = (uint32_t)(size - at);
        int dir = cd & 1;
        uint16_t client = (uint16_t)(50000 + ((cd >> 1) & 3));
        p.src.a[3] = dir ? 2 : 1;
        p.dst.a[3] = dir ? 1 : 2;
        p.sport = dir ? 13400 : client;
        p.dport = dir ? client : 13400;
        /* Sequence numbers near the wrap, to exercise modulo arithmetic. */
        p.seq = 0xFFFF0000u + seq;
        p.ack = 0xFFFF0000u + ack;
        p.flags = flags & 0x1F;
        p.payload = data + at;
        p.len = len;
        at += len;
        frame++;
        uf_tcp_packet(t, 0, &p, frame, (uf_time)frame * 1000);
    }
    uf_tcp_finish(t, frame, 0);
    assert(opened == closed);
    uf_tcp_free(t);
    return 0;
}
