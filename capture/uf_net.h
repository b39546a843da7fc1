/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * IP packets inside link-layer records, and the TCP byte streams they carry:
 * what DoIP (ISO 13400-2) rides on. Both are pure: bytes and timestamps in,
 * decoded headers and ordered stream bytes out.
 *   uf_net_decode: Ethernet II (IEEE 802.3) with 802.1Q / 802.1ad tags,
 *                  Linux cooked SLL / SLL2, raw IP; IPv4 (RFC 791), IPv6
 *                  (RFC 8200) with its extension headers; TCP (RFC 9293),
 *                  UDP (RFC 768).
 *   uf_tcp:        per-connection reassembly of both directions (RFC 9293
 *                  3.10.7.4): out-of-order segments wait, retransmissions and
 *                  overlaps are trimmed, and bytes the capture lost become a
 *                  gap event so that the layer above can resynchronise.
 */
#ifndef UF_NET_H
#define UF_NET_H

#include "uf_common.h"

/* ---- IP packets -------------------------------------------------------------*/

typedef struct uf_ip_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t a[16];  /* IPv4 in the first 4 bytes */
} uf_ip_addr;

typedef enum uf_net_proto {
    UF_NET_OTHER = 0, /* not TCP or UDP (ARP, ICMP, a later IP fragment, ...) */
    UF_NET_TCP,
    UF_NET_UDP,
} uf_net_proto;

enum uf_tcp_flag {
    UF_TCP_FIN = 0x01,
    UF_TCP_SYN = 0x02,
    UF_TCP_RST = 0x04,
    UF_TCP_PSH = 0x08,
    UF_TCP_ACK = 0x10,
};

typedef struct uf_net_packet {
    uf_net_proto proto;
    uf_ip_addr src, dst;
    uint16_t sport, dport;
    uint16_t vlan;          /* innermost 802.1Q VLAN id, 0 if none */
    /* TCP only. */
    uint32_t seq, ack;
    uint8_t flags;          /* enum uf_tcp_flag */
    /* The transport payload. Shorter than the IP header says when the
     * capture cut the packet (snap length): missing says by how much. */
    const uint8_t *payload; /* points into the record */
    uint32_t len;
    uint32_t missing;
} uf_net_packet;

/* Decodes the IP, TCP and UDP headers of a link-layer record
 * (UF_LINKTYPE_ETHERNET, _LINUX_SLL, _LINUX_SLL2, _RAW, _IPV4, _IPV6).
 * Returns 1 with *out filled for TCP and UDP, 0 for anything else (out->proto
 * UF_NET_OTHER), and -1 with *why on a header that breaks its own rules. */
int uf_net_decode(uint32_t linktype, const uint8_t *buf, size_t len, uf_net_packet *out,
                  const char **why);

/* "192.0.2.1" or "2001:db8::1" (RFC 5952). */
const char *uf_ip_addr_name(const uf_ip_addr *a, char *buf, size_t size);

/* ---- TCP streams --------------------------------------------------------------*/

/* One connection, as the sink sees it. Direction 0 is from the client (the
 * side that sent the SYN, or else the side that sent to the well-known
 * port), direction 1 from the server. */
typedef struct uf_tcp_stream {
    uint64_t id;             /* 1, 2, ... in the order connections were seen */
    uint32_t bus;            /* the capture interface */
    uf_ip_addr addr[2];      /* client, server */
    uint16_t port[2];
    bool syn_seen;           /* the capture has the handshake */
    void *user;              /* for the sink */
} uf_tcp_stream;

typedef struct uf_tcp_sink {
    void *ctx;
    /* A connection is first seen; set s->user here. */
    void (*open)(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t);
    /* The next bytes of one direction, in stream order, from the segment in
     * this frame. */
    void (*data)(void *ctx, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                 uint64_t frame, uf_time t);
    /* Bytes of one direction the capture does not hold: the next data call
     * continues after them. */
    void (*gap)(void *ctx, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame, uf_time t);
    /* The connection ended (FIN both ways, RST, eviction, or the end of the
     * input); s->user is the sink's to free. */
    void (*close)(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t);
} uf_tcp_sink;

typedef struct uf_tcp_config {
    uint32_t max_connections;   /* tracked at once; the least recently active goes first */
    uint32_t max_pending;       /* out-of-order bytes held per direction */
    /* Reassemble only connections with one of these ports (none: all). */
    const uint16_t *ports;
    size_t n_ports;
} uf_tcp_config;

void uf_tcp_config_defaults(uf_tcp_config *c);

typedef struct uf_tcp uf_tcp;

uf_tcp *uf_tcp_new(const uf_tcp_config *config, const uf_tcp_sink *sink);
void uf_tcp_free(uf_tcp *t);
/* One TCP packet from uf_net_decode, captured on `bus` in `frame` at `t`. */
void uf_tcp_packet(uf_tcp *t, uint32_t bus, const uf_net_packet *p, uint64_t frame, uf_time time);
/* End of input: what is still held is delivered (with its gaps), and every
 * connection closes. */
void uf_tcp_finish(uf_tcp *t, uint64_t frame, uf_time time);

/* Counters, for reports and tests. */
typedef struct uf_tcp_stats {
    uint64_t connections, segments, retransmitted, out_of_order, gaps, gap_bytes, evicted;
} uf_tcp_stats;
uf_tcp_stats uf_tcp_get_stats(const uf_tcp *t);

#endif /* UF_NET_H */
