/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link layer -> IP -> TCP / UDP headers (see uf_net.h). Ethernet II frames
 * may carry any number of 802.1Q (0x8100) / 802.1ad (0x88A8, 0x9100) tags;
 * Linux cooked captures name the protocol in their own header. IPv4 (RFC
 * 791 3.1) and IPv6 (RFC 8200 3, 4) fragments other than a whole datagram
 * are not reassembled: DoIP runs over TCP, whose segments fit the path MTU.
 * Lengths are taken from the headers, never from the frame, so Ethernet
 * padding is not payload; a capture cut by its snap length says how much.
 */
#include "uf_capture.h"
#include "uf_net.h"

#include <stdio.h>
#include <string.h>

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86DDu
#define ETHERTYPE_VLAN 0x8100u
#define ETHERTYPE_QINQ 0x88A8u
#define ETHERTYPE_QINQ_OLD 0x9100u
#define MAX_VLAN_TAGS 4

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60

/* The transport header and payload, `avail` bytes captured of `total`. */
static int transport(uint8_t proto, const uint8_t *p, size_t avail, size_t total,
                     uf_net_packet *out, const char **why)
{
    if (proto == IPPROTO_TCP_) {
        if (avail < 20) {
            *why = total < 20 ? "TCP header shorter than 20 bytes" : "TCP header cut by the capture";
            return -1;
        }
        size_t hlen = (size_t)(p[12] >> 4) * 4;
        if (hlen < 20 || hlen > total) {
            *why = "TCP data offset outside its segment";
            return -1;
        }
        if (hlen > avail) {
            *why = "TCP options cut by the capture";
            return -1;
        }
        out->proto = UF_NET_TCP;
        out->sport = uf_load_be16(p);
        out->dport = uf_load_be16(p + 2);
        out->seq = uf_load_be32(p + 4);
        out->ack = uf_load_be32(p + 8);
        out->flags = p[13] & 0x1F;
        out->payload = p + hlen;
        out->len = (uint32_t)(avail - hlen);
        out->missing = (uint32_t)(total - avail);
        return 1;
    }
    if (proto == IPPROTO_UDP_) {
        if (avail < 8) {
            *why = total < 8 ? "UDP header shorter than 8 bytes" : "UDP header cut by the capture";
            return -1;
        }
        size_t ulen = uf_load_be16(p + 4);
        if (ulen < 8 || ulen > total) {
            *why = "UDP length outside its datagram";
            return -1;
        }
        out->proto = UF_NET_UDP;
        out->sport = uf_load_be16(p);
        out->dport = uf_load_be16(p + 2);
        size_t have = avail < ulen ? avail : ulen;
        out->payload = p + 8;
        out->len = (uint32_t)(have - 8);
        out->missing = (uint32_t)(ulen - have);
        return 1;
    }
    return 0;
}

/* An IPv4 address: its 4 bytes, then 12 zeros. Written as whole 8-byte
 * words, because the connection lookup reads an address back as two
 * 8-byte words (capture/tcp.c) on every packet: a load that spans a
 * 4-byte store and the memset's before it cannot be served from the store
 * buffer, and waits for both to reach the cache. */
static void ipv4_address(uint8_t a[16], const uint8_t *p)
{
    uint8_t word[8] = {p[0], p[1], p[2], p[3], 0, 0, 0, 0};
    static const uint8_t zeros[8];
    memcpy(a, word, 8);
    memcpy(a + 8, zeros, 8);
}

static int ipv4(const uint8_t *p, size_t len, uf_net_packet *out, const char **why)
{
    if (len < 20) {
        *why = "IPv4 header shorter than 20 bytes";
        return -1;
    }
    size_t hlen = (size_t)(p[0] & 0x0F) * 4;
    size_t total = uf_load_be16(p + 2);
    if (total == 0)
        total = len; /* segmentation offload: the NIC fills it in later */
    if (hlen < 20 || hlen > len || total < hlen) {
        *why = "IPv4 header length outside its packet";
        return -1;
    }
    uint16_t frag = uf_load_be16(p + 6);
    if (frag & 0x3FFF)
        return 0; /* a fragment (MF set, or an offset): not reassembled */
    out->src.family = out->dst.family = 4;
    ipv4_address(out->src.a, p + 12);
    ipv4_address(out->dst.a, p + 16);
    size_t avail = (total < len ? total : len) - hlen;
    return transport(p[9], p + hlen, avail, total - hlen, out, why);
}

static int ipv6(const uint8_t *p, size_t len, uf_net_packet *out, const char **why)
{
    if (len < 40) {
        *why = "IPv6 header shorter than 40 bytes";
        return -1;
    }
    size_t total = 40 + (size_t)uf_load_be16(p + 4);
    if (total == 40 && p[6] != 59)
        return 0; /* a jumbogram (RFC 2675): not for DoIP */
    out->src.family = out->dst.family = 6;
    memcpy(out->src.a, p + 8, 16);
    memcpy(out->dst.a, p + 24, 16);
    size_t end = total < len ? total : len, at = 40;
    uint8_t next = p[6];
    for (int hops = 0; hops < 8; hops++) {
        size_t ext;
        switch (next) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
            if (end - at < 2)
                goto cut;
            ext = ((size_t)p[at + 1] + 1) * 8;
            break;
        case IPPROTO_AH_:
            if (end - at < 2)
                goto cut;
            ext = ((size_t)p[at + 1] + 2) * 4;
            break;
        case IPPROTO_FRAGMENT_:
            if (end - at < 8)
                goto cut;
            if (uf_load_be16(p + at + 2) & 0xFFF9)
                return 0; /* an offset or more fragments: not reassembled */
            ext = 8;
            break;
        default:
            return transport(next, p + at, end - at, total - at, out, why);
        }
        if (ext > end - at)
            goto cut;
        next = p[at];
        at += ext;
    }
    return 0; /* a chain longer than any real packet's */
cut:
    *why = total > len ? "IPv6 extension headers cut by the capture"
                       : "IPv6 extension header longer than its packet";
    return -1;
}

static int ip_by_version(const uint8_t *p, size_t len, uf_net_packet *out, const char **why)
{
    if (len < 1) {
        *why = "empty IP packet";
        return -1;
    }
    if (p[0] >> 4 == 4)
        return ipv4(p, len, out, why);
    if (p[0] >> 4 == 6)
        return ipv6(p, len, out, why);
    *why = "IP version neither 4 nor 6";
    return -1;
}

static int by_ethertype(uint16_t type, const uint8_t *p, size_t len, uf_net_packet *out,
                        const char **why)
{
    if (type == ETHERTYPE_IPV4)
        return ipv4(p, len, out, why);
    if (type == ETHERTYPE_IPV6)
        return ipv6(p, len, out, why);
    return 0;
}

static int ethernet(const uint8_t *p, size_t len, uf_net_packet *out, const char **why)
{
    if (len < 14) {
        *why = "Ethernet frame shorter than its 14-byte header";
        return -1;
    }
    size_t at = 12;
    uint16_t type = uf_load_be16(p + at);
    for (int tags = 0;
         (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) &&
         tags < MAX_VLAN_TAGS;
         tags++) {
        if (len - at < 6) {
            *why = "Ethernet VLAN tag cut short";
            return -1;
        }
        out->vlan = uf_load_be16(p + at + 2) & 0x0FFF;
        at += 4;
        type = uf_load_be16(p + at);
    }
    return by_ethertype(type, p + at + 2, len - at - 2, out, why);
}

int uf_net_decode(uint32_t linktype, const uint8_t *buf, size_t len, uf_net_packet *out,
                  const char **why)
{
    memset(out, 0, sizeof(*out));
    switch (linktype) {
    case UF_LINKTYPE_ETHERNET:
        return ethernet(buf, len, out, why);
    case UF_LINKTYPE_LINUX_SLL:
        if (len < 16) {
            *why = "Linux cooked (SLL) record shorter than its 16-byte header";
            return -1;
        }
        return by_ethertype(uf_load_be16(buf + 14), buf + 16, len - 16, out, why);
    case UF_LINKTYPE_LINUX_SLL2:
        if (len < 20) {
            *why = "Linux cooked (SLL2) record shorter than its 20-byte header";
            return -1;
        }
        return by_ethertype(uf_load_be16(buf), buf + 20, len - 20, out, why);
    case UF_LINKTYPE_RAW:
        return ip_by_version(buf, len, out, why);
    case UF_LINKTYPE_IPV4:
        return ipv4(buf, len, out, why);
    case UF_LINKTYPE_IPV6:
        return ipv6(buf, len, out, why);
    default:
        return 0;
    }
}

const char *uf_ip_addr_name(const uf_ip_addr *a, char *buf, size_t size)
{
    if (a->family == 4) {
        snprintf(buf, size, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2], a->a[3]);
        return buf;
    }
    /* RFC 5952: lower case, no leading zeros, the longest run of two or
     * more zero groups (the first of equals) as "::". */
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = uf_load_be16(a->a + 2 * i);
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 8 && n < size; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, size - n, "::");
            i += best_len - 1;
            continue;
        }
        int w = snprintf(buf + n, size - n, "%s%x", (n && buf[n - 1] != ':') ? ":" : "", g[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}
