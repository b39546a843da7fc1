/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Ethernet II frames carrying IPv4 (RFC 791) or IPv6 (RFC 8200) with TCP
 * (RFC 9293) or UDP (RFC 768), optionally 802.1Q-tagged, with every
 * checksum right (RFC 1071; the TCP / UDP pseudo-headers of RFC 9293 3.1
 * and RFC 8200 8.1): what a capture of a DoIP tester and entity holds
 * (uf_net_build.h).
 */
#include "uf_net_build.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void uf_net_ip4(uf_ip_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3)
{
    memset(a, 0, sizeof(*a));
    a->family = 4;
    a->a[0] = a0;
    a->a[1] = a1;
    a->a[2] = a2;
    a->a[3] = a3;
}

void uf_net_ip6(uf_ip_addr *a, const char *text)
{
    memset(a, 0, sizeof(*a));
    a->family = 6;
    if (inet_pton(AF_INET6, text, a->a) != 1)
        abort();
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet and IP headers for `l4_len` bytes of protocol `proto`; returns
 * where the transport header goes and the pseudo-header sum. */
static size_t headers(uint8_t *out, const uf_net_flow *f, int from, const uf_net_host *to, uint8_t proto,
                      size_t l4_len, uint32_t *pseudo)
{
    const uf_net_host *src = &f->host[from];
    memcpy(out, to->mac, 6);
    memcpy(out + 6, src->mac, 6);
    size_t at = 12;
    if (f->vlan) {
        uf_store_be16(out + at, 0x8100);
        uf_store_be16(out + at + 2, f->vlan & 0x0FFF);
        at += 4;
    }
    bool v6 = src->ip.family == 6;
    uf_store_be16(out + at, v6 ? 0x86DD : 0x0800);
    at += 2;
    uint8_t *ip = out + at;
    uint32_t s = 0;
    if (v6) {
        memset(ip, 0, 40);
        ip[0] = 0x60;
        uf_store_be16(ip + 4, (uint16_t)l4_len);
        ip[6] = proto;
        ip[7] = 64;
        memcpy(ip + 8, src->ip.a, 16);
        memcpy(ip + 24, to->ip.a, 16);
        s = sum16(s, ip + 8, 32);
        at += 40;
    } else {
        memset(ip, 0, 20);
        ip[0] = 0x45;
        uf_store_be16(ip + 2, (uint16_t)(20 + l4_len));
        uf_store_be16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = 64;
        ip[9] = proto;
        memcpy(ip + 12, src->ip.a, 4);
        memcpy(ip + 16, to->ip.a, 4);
        uf_store_be16(ip + 10, fold(sum16(0, ip, 20)));
        s = sum16(s, ip + 12, 8);
        at += 20;
    }
    s += proto;
    s += (uint32_t)l4_len;
    *pseudo = s;
    return at;
}

size_t uf_net_build_tcp(uint8_t *out, const uf_net_flow *f, int from, uint8_t flags, uint32_t seq,
                    uint32_t ack, const uint8_t *data, size_t len)
{
    uint32_t pseudo;
    size_t at = headers(out, f, from, &f->host[1 - from], 6, 20 + len, &pseudo);
    uint8_t *tcp = out + at;
    memset(tcp, 0, 20);
    uf_store_be16(tcp, f->port[from]);
    uf_store_be16(tcp + 2, f->port[1 - from]);
    uf_store_be32(tcp + 4, seq);
    uf_store_be32(tcp + 8, (flags & UF_TCP_ACK) ? ack : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    uf_store_be16(tcp + 14, 64240); /* window */
    if (len)
        memcpy(tcp + 20, data, len);
    uf_store_be16(tcp + 16, fold(sum16(pseudo, tcp, 20 + len)));
    at += 20 + len;
    while (at < 60) /* Ethernet minimum frame size, padded */
        out[at++] = 0;
    return at;
}

size_t uf_net_build_udp(uint8_t *out, const uf_net_flow *f, int from, const uf_net_host *dst,
                    const uint8_t *data, size_t len)
{
    uint32_t pseudo;
    const uf_net_host *to = dst ? dst : &f->host[1 - from];
    size_t at = headers(out, f, from, to, 17, 8 + len, &pseudo);
    uint8_t *udp = out + at;
    uf_store_be16(udp, f->port[from]);
    uf_store_be16(udp + 2, f->port[1 - from]);
    uf_store_be16(udp + 4, (uint16_t)(8 + len));
    uf_store_be16(udp + 6, 0);
    if (len)
        memcpy(udp + 8, data, len);
    uint16_t c = fold(sum16(pseudo, udp, 8 + len));
    uf_store_be16(udp + 6, c ? c : 0xFFFF);
    at += 8 + len;
    while (at < 60)
        out[at++] = 0;
    return at;
}
