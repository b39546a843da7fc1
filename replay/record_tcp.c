/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A TCP connection of the recording (uf_recorder.h): udsreplay sees the
 * bytes of its DoIP connection, not the packets, so it writes the packets
 * a capture of that connection would hold: the three-way handshake, a
 * segment per piece of data (at most one MSS, RFC 9293 3.7.1) carrying
 * PSH and the acknowledgment of everything the other side sent, and the
 * orderly close, FIN each way (3.6). Sequence numbers start at fixed
 * initial numbers so that the same run writes the same file.
 */
#include "uf_recorder.h"

#include <glib.h>

struct uf_recorder_tcp {
    uf_recorder *r;
    uint32_t iface;
    uf_net_flow flow;
    uint32_t next[2]; /* the next sequence number of each side */
};

static void segment(uf_recorder_tcp *c, int from, uint8_t flags, const uint8_t *p, size_t n,
                    uf_time t)
{
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t len = uf_net_build_tcp(frame, &c->flow, from, flags, c->next[from],
                                  c->next[1 - from], p, n);
    uf_recorder_packet(c->r, c->iface, frame, (uint32_t)len, t);
    c->next[from] += (uint32_t)n + ((flags & (UF_TCP_SYN | UF_TCP_FIN)) ? 1 : 0);
}

uf_recorder_tcp *uf_recorder_tcp_open(uf_recorder *r, uint32_t iface, const uf_net_flow *flow,
                                      uf_time t)
{
    uf_recorder_tcp *c = g_new0(uf_recorder_tcp, 1);
    c->r = r;
    c->iface = iface;
    c->flow = *flow;
    c->next[0] = 0x10000000;
    c->next[1] = 0x20000000;
    segment(c, 0, UF_TCP_SYN, NULL, 0, t);
    segment(c, 1, UF_TCP_SYN | UF_TCP_ACK, NULL, 0, t);
    segment(c, 0, UF_TCP_ACK, NULL, 0, t);
    return c;
}

void uf_recorder_tcp_data(uf_recorder_tcp *c, int from, const uint8_t *p, size_t n, uf_time t)
{
    while (n) {
        size_t k = n < UF_NET_SEGMENT_MAX ? n : UF_NET_SEGMENT_MAX;
        segment(c, from, UF_TCP_PSH | UF_TCP_ACK, p, k, t);
        p += k;
        n -= k;
    }
}

void uf_recorder_tcp_close(uf_recorder_tcp *c, uf_time t)
{
    if (!c)
        return;
    segment(c, 0, UF_TCP_FIN | UF_TCP_ACK, NULL, 0, t);
    segment(c, 1, UF_TCP_FIN | UF_TCP_ACK, NULL, 0, t);
    segment(c, 0, UF_TCP_ACK, NULL, 0, t);
    g_free(c);
}
