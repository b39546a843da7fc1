/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The inverse of uf_net_decode (uf_net.h): Ethernet II frames carrying
 * IPv4 or IPv6 with one TCP segment or UDP datagram, every checksum
 * right. The sample generator writes DoIP captures with it, and udsreplay
 * records the DoIP sessions it drives.
 */
#ifndef UF_NET_BUILD_H
#define UF_NET_BUILD_H

#include "uf_net.h"

typedef struct uf_net_host {
    uint8_t mac[6];
    uf_ip_addr ip;
} uf_net_host;

/* Two ends of a TCP connection or UDP flow; vlan 0: untagged. */
typedef struct uf_net_flow {
    uf_net_host host[2];
    uint16_t port[2];
    uint16_t vlan;
} uf_net_flow;

/* An Ethernet frame with one TCP segment from side `from` of the flow,
 * checksums filled in. Returns its length; UF_NET_FRAME_MAX is enough for
 * a segment of UF_NET_SEGMENT_MAX bytes (a 1500-byte MTU). */
#define UF_NET_FRAME_MAX 1600
#define UF_NET_SEGMENT_MAX 1440
size_t uf_net_build_tcp(uint8_t *out, const uf_net_flow *f, int from, uint8_t flags,
                        uint32_t seq, uint32_t ack, const uint8_t *data, size_t len);
/* A UDP datagram; dst overrides the other host's address (broadcast). */
size_t uf_net_build_udp(uint8_t *out, const uf_net_flow *f, int from, const uf_net_host *dst,
                        const uint8_t *data, size_t len);
void uf_net_ip4(uf_ip_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3);
/* From text ("fd00::10"); aborts on a bad literal (a programming error). */
void uf_net_ip6(uf_ip_addr *a, const char *text);

#endif /* UF_NET_BUILD_H */
