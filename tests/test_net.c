/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * IP / TCP / UDP header decoding over every link layer DoIP captures use,
 * and TCP stream reassembly: order, retransmissions, overlaps, gaps found by
 * acknowledgements, by the waiting bound and at the end, connections opened,
 * reused, reset and evicted, sequence numbers that wrap.
 */
#include "helpers.h"
#include "uf_net.h"

#include <criterion/criterion.h>
#include <string.h>

/* ---- header decoding -------------------------------------------------------*/

static uf_net_flow flow4(void)
{
    uf_net_flow f;
    memset(&f, 0, sizeof(f));
    const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_b[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(f.host[0].mac, mac_a, 6);
    memcpy(f.host[1].mac, mac_b, 6);
    uf_net_ip4(&f.host[0].ip, 192, 168, 10, 1);
    uf_net_ip4(&f.host[1].ip, 192, 168, 10, 20);
    f.port[0] = 50123;
    f.port[1] = 13400;
    return f;
}

static uf_net_flow flow6(void)
{
    uf_net_flow f = flow4();
    uf_net_ip6(&f.host[0].ip, "fd00::1");
    uf_net_ip6(&f.host[1].ip, "fd00::20");
    return f;
}

Test(net, ethernet_ipv4_tcp)
{
    uf_net_flow f = flow4();
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_tcp(frame, &f, 0, UF_TCP_ACK | UF_TCP_PSH, 1000, 2000,
                            (const uint8_t *)"\x02\xfd\x80\x01", 4);
    cr_assert_eq(n, 60, "padded to the Ethernet minimum");
    uf_net_packet p;
    const char *why = NULL;
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, n, &p, &why), 1, "%s", why);
    cr_assert_eq(p.proto, UF_NET_TCP);
    cr_assert_eq(p.sport, 50123);
    cr_assert_eq(p.dport, 13400);
    cr_assert_eq(p.seq, 1000);
    cr_assert_eq(p.ack, 2000);
    cr_assert_eq(p.flags, UF_TCP_ACK | UF_TCP_PSH);
    cr_assert_eq(p.len, 4, "the Ethernet padding is not payload");
    cr_assert_arr_eq(p.payload, "\x02\xfd\x80\x01", 4);
    cr_assert_eq(p.missing, 0);
    char name[48];
    cr_assert_str_eq(uf_ip_addr_name(&p.src, name, sizeof(name)), "192.168.10.1");
    cr_assert_str_eq(uf_ip_addr_name(&p.dst, name, sizeof(name)), "192.168.10.20");
}

Test(net, vlan_tags_and_ipv6)
{
    uf_net_flow f = flow6();
    f.vlan = 42;
    uint8_t frame[UF_NET_FRAME_MAX];
    uint8_t data[100];
    memset(data, 0x5A, sizeof(data));
    size_t n = uf_net_build_tcp(frame, &f, 1, UF_TCP_ACK, 7, 9, data, sizeof(data));
    uf_net_packet p;
    const char *why = NULL;
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, n, &p, &why), 1, "%s", why);
    cr_assert_eq(p.vlan, 42);
    cr_assert_eq(p.src.family, 6);
    cr_assert_eq(p.sport, 13400);
    cr_assert_eq(p.len, 100);
    char name[48];
    cr_assert_str_eq(uf_ip_addr_name(&p.src, name, sizeof(name)), "fd00::20");

    /* A second (outer, 802.1ad) tag in front of the first. */
    uint8_t qinq[UF_NET_FRAME_MAX + 4];
    memcpy(qinq, frame, 12);
    const uint8_t outer[4] = {0x88, 0xA8, 0x00, 0x07};
    memcpy(qinq + 12, outer, 4);
    memcpy(qinq + 16, frame + 12, n - 12);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, qinq, n + 4, &p, &why), 1, "%s", why);
    cr_assert_eq(p.vlan, 42, "the innermost tag");
    cr_assert_eq(p.len, 100);
}

/* An IPv6 hop-by-hop options header between the fixed header and TCP. */
Test(net, ipv6_extension_headers)
{
    uf_net_flow f = flow6();
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_tcp(frame, &f, 0, UF_TCP_ACK, 1, 1, (const uint8_t *)"ab", 2);
    uint8_t ext[UF_NET_FRAME_MAX + 8];
    size_t ip = 14;
    memcpy(ext, frame, ip + 40);
    ext[ip + 6] = 0;                                    /* next: hop-by-hop */
    uf_store_be16(ext + ip + 4, (uint16_t)(uf_load_be16(frame + ip + 4) + 8));
    const uint8_t hbh[8] = {6, 0, 1, 4, 0, 0, 0, 0};    /* next TCP, PadN */
    memcpy(ext + ip + 40, hbh, 8);
    memcpy(ext + ip + 48, frame + ip + 40, n - ip - 40);
    uf_net_packet p;
    const char *why = NULL;
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, ext, n + 8, &p, &why), 1, "%s", why);
    cr_assert_eq(p.proto, UF_NET_TCP);
    cr_assert_eq(p.len, 2);
    cr_assert_arr_eq(p.payload, "ab", 2);
    /* A later fragment is not reassembled. */
    ext[ip + 6] = 44;
    const uint8_t frag[8] = {6, 0, 0x00, 0x11, 0, 0, 0, 1}; /* offset 2, M=1 */
    memcpy(ext + ip + 40, frag, 8);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, ext, n + 8, &p, &why), 0);
}

Test(net, udp_cooked_and_raw)
{
    uf_net_flow f = flow4();
    f.port[0] = 13400;
    f.port[1] = 13400;
    uint8_t frame[UF_NET_FRAME_MAX];
    const uint8_t req[8] = {0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0};
    size_t n = uf_net_build_udp(frame, &f, 0, NULL, req, sizeof(req));
    uf_net_packet p;
    const char *why = NULL;
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, n, &p, &why), 1, "%s", why);
    cr_assert_eq(p.proto, UF_NET_UDP);
    cr_assert_eq(p.len, 8);

    /* The same IP packet in SLL, SLL2 and raw IP records. */
    const uint8_t *ip = frame + 14;
    size_t ip_len = n - 14;
    uint8_t sll[16 + UF_NET_FRAME_MAX] = {0}, sll2[20 + UF_NET_FRAME_MAX] = {0};
    uf_store_be16(sll + 14, 0x0800);
    memcpy(sll + 16, ip, ip_len);
    uf_store_be16(sll2, 0x0800);
    memcpy(sll2 + 20, ip, ip_len);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_LINUX_SLL, sll, 16 + ip_len, &p, &why), 1);
    cr_assert_eq(p.len, 8);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_LINUX_SLL2, sll2, 20 + ip_len, &p, &why), 1);
    cr_assert_eq(p.len, 8);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_RAW, ip, ip_len, &p, &why), 1);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_IPV4, ip, ip_len, &p, &why), 1);
    cr_assert_eq(p.dport, 13400);
}

Test(net, cut_and_broken_headers)
{
    uf_net_flow f = flow4();
    uint8_t frame[UF_NET_FRAME_MAX], data[200];
    memset(data, 1, sizeof(data));
    size_t n = uf_net_build_tcp(frame, &f, 0, UF_TCP_ACK, 1, 1, data, sizeof(data));
    uf_net_packet p;
    const char *why = NULL;
    /* Snap length 128: the payload is cut, and says by how much. */
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, 128, &p, &why), 1);
    cr_assert_eq(p.len, 128 - 54);
    cr_assert_eq(p.missing, 200 - (128 - 54));
    /* Cut inside the TCP header. */
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, 44, &p, &why), -1);
    cr_assert(strstr(why, "TCP header"), "%s", why);
    /* An IPv4 header length below 20 bytes. */
    uint8_t bad[UF_NET_FRAME_MAX];
    memcpy(bad, frame, n);
    bad[14] = 0x44;
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, bad, n, &p, &why), -1);
    cr_assert(strstr(why, "IPv4 header length"), "%s", why);
    /* A TCP data offset beyond the segment. */
    memcpy(bad, frame, n);
    bad[14 + 20 + 12] = 0xF0;
    uf_store_be16(bad + 16, 20 + 40);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, bad, n, &p, &why), -1);
    /* An IPv4 fragment and ARP: nothing for DoIP, not an error. */
    memcpy(bad, frame, n);
    uf_store_be16(bad + 14 + 6, 0x2000);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, bad, n, &p, &why), 0);
    memcpy(bad, frame, n);
    uf_store_be16(bad + 12, 0x0806);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, bad, n, &p, &why), 0);
    cr_assert_eq(uf_net_decode(UF_LINKTYPE_ETHERNET, frame, 10, &p, &why), -1);
}

Test(net, ipv6_names)
{
    const struct {
        const char *in, *out;
    } cases[] = {
        {"2001:db8::1", "2001:db8::1"},
        {"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
        {"::", "::"},
        {"::1", "::1"},
        {"fe80::", "fe80::"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        uf_ip_addr a;
        uf_net_ip6(&a, cases[i].in);
        char name[48];
        cr_assert_str_eq(uf_ip_addr_name(&a, name, sizeof(name)), cases[i].out);
    }
}

/* ---- TCP reassembly ---------------------------------------------------------*/

typedef struct event {
    char kind;      /* 'o'pen, 'd'ata, 'g'ap, 'c'lose */
    uint64_t stream;
    int dir;
    uint64_t frame, missing;
    char text[64];
} event;

static GArray *events;

static void ev_open(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    (void)ctx;
    (void)t;
    event e = {'o', s->id, 0, frame, 0, ""};
    g_array_append_val(events, e);
}

static void ev_data(void *ctx, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                    uint64_t frame, uf_time t)
{
    (void)ctx;
    (void)t;
    event e = {'d', s->id, dir, frame, 0, ""};
    memcpy(e.text, p, n < sizeof(e.text) - 1 ? n : sizeof(e.text) - 1);
    g_array_append_val(events, e);
}

static void ev_gap(void *ctx, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame,
                   uf_time t)
{
    (void)ctx;
    (void)t;
    event e = {'g', s->id, dir, frame, missing, ""};
    g_array_append_val(events, e);
}

static void ev_close(void *ctx, uf_tcp_stream *s, uint64_t frame, uf_time t)
{
    (void)ctx;
    (void)t;
    event e = {'c', s->id, 0, frame, 0, ""};
    g_array_append_val(events, e);
}

static uf_tcp *tcp;
static uint64_t frame_no;

static void tcp_setup(void)
{
    events = g_array_new(FALSE, FALSE, sizeof(event));
    uf_tcp_config cfg;
    uf_tcp_config_defaults(&cfg);
    static const uint16_t ports[] = {13400};
    cfg.ports = ports;
    cfg.n_ports = 1;
    cfg.max_pending = 64;
    uf_tcp_sink sink = {NULL, ev_open, ev_data, ev_gap, ev_close};
    tcp = uf_tcp_new(&cfg, &sink);
    frame_no = 0;
}

static void tcp_teardown(void)
{
    uf_tcp_free(tcp);
    g_array_free(events, TRUE);
}

TestSuite(tcp, .init = tcp_setup, .fini = tcp_teardown);

/* A segment from the client (from 0) or the server (from 1) of flow f. */
static void seg_in(const uf_net_flow *f, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                   const char *data)
{
    uf_net_packet p;
    memset(&p, 0, sizeof(p));
    p.proto = UF_NET_TCP;
    p.src = f->host[from].ip;
    p.dst = f->host[1 - from].ip;
    p.sport = f->port[from];
    p.dport = f->port[1 - from];
    p.seq = seq;
    p.ack = ack;
    p.flags = flags;
    p.payload = (const uint8_t *)data;
    p.len = (uint32_t)strlen(data);
    frame_no++;
    uf_tcp_packet(tcp, 0, &p, frame_no, (uf_time)frame_no * UF_NS_PER_MS);
}

/* A segment of flow4(), or of the connection `conn` client ports further. */
static void seg_on(uint16_t conn, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                   const char *data)
{
    uf_net_flow f = flow4();
    f.port[0] = (uint16_t)(f.port[0] + conn);
    seg_in(&f, from, flags, seq, ack, data);
}

static void seg(int from, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    seg_on(0, from, flags, seq, ack, data);
}

/* The events as text: "o1 d0:hello@3 g1+5@7 c", for compact assertions. */
static const char *trace(void)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    for (guint i = 0; i < events->len && n < sizeof(buf) - 80; i++) {
        const event *e = &g_array_index(events, event, i);
        if (e->kind == 'o')
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%so%" G_GUINT64_FORMAT, n ? " " : "",
                                  e->stream);
        else if (e->kind == 'd')
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, " d%d:%s@%" G_GUINT64_FORMAT, e->dir,
                                  e->text, e->frame);
        else if (e->kind == 'g')
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, " g%d+%" G_GUINT64_FORMAT "@%"
                                  G_GUINT64_FORMAT, e->dir, e->missing, e->frame);
        else
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, " c%" G_GUINT64_FORMAT, e->stream);
    }
    return buf;
}

#define SYN UF_TCP_SYN
#define ACK UF_TCP_ACK
#define FIN UF_TCP_FIN
#define RST UF_TCP_RST

static void handshake(uint32_t c_isn, uint32_t s_isn)
{
    seg(0, SYN, c_isn, 0, "");
    seg(1, SYN | ACK, s_isn, c_isn + 1, "");
    seg(0, ACK, c_isn + 1, s_isn + 1, "");
}

Test(tcp, in_order_both_ways_then_fin)
{
    handshake(100, 5000);
    seg(0, ACK, 101, 5001, "hello");
    seg(1, ACK, 5001, 106, "world");
    seg(0, ACK | FIN, 106, 5006, "");
    seg(1, ACK | FIN, 5006, 107, "");
    seg(0, ACK, 107, 5007, ""); /* the last ACK opens nothing */
    cr_assert_str_eq(trace(), "o1 d0:hello@4 d1:world@5 c1");
}

Test(tcp, out_of_order_waits_for_the_hole)
{
    handshake(100, 5000);
    seg(0, ACK, 106, 5001, "BBBBB");
    seg(0, ACK, 111, 5001, "CCC");
    seg(0, ACK, 101, 5001, "AAAAA");
    cr_assert_str_eq(trace(), "o1 d0:AAAAA@6 d0:BBBBB@4 d0:CCC@5");
    uf_tcp_stats st = uf_tcp_get_stats(tcp);
    cr_assert_eq(st.out_of_order, 2);
    cr_assert_eq(st.gaps, 0);
}

Test(tcp, retransmissions_and_overlaps_deliver_once)
{
    handshake(100, 5000);
    seg(0, ACK, 101, 5001, "abcde");
    seg(0, ACK, 101, 5001, "abcde");   /* whole duplicate */
    seg(0, ACK, 104, 5001, "defgh");   /* overlaps by two bytes */
    seg(0, ACK, 100, 5001, "x");       /* before the stream (keep-alive) */
    cr_assert_str_eq(trace(), "o1 d0:abcde@4 d0:fgh@6");
    cr_assert_eq(uf_tcp_get_stats(tcp).retransmitted, 3);
}

/* The server acknowledges bytes the capture never had: they are a gap, and
 * the stream goes on after them. */
Test(tcp, gap_found_by_the_acknowledgement)
{
    handshake(100, 5000);
    seg(0, ACK, 101, 5001, "aaaa");
    /* 105..114 lost by the capture */
    seg(0, ACK, 115, 5001, "cccc");
    seg(1, ACK, 5001, 119, "");
    cr_assert_str_eq(trace(), "o1 d0:aaaa@4 g0+10@5 d0:cccc@5");
    /* Lost with nothing after it yet: the gap comes with the ACK. */
    seg(1, ACK, 5001, 129, "");     /* 119..128 lost */
    seg(0, ACK, 129, 5001, "eeee");
    cr_assert_str_eq(trace(), "o1 d0:aaaa@4 g0+10@5 d0:cccc@5 g0+10@7 d0:eeee@8");
}

Test(tcp, gap_when_too_much_waits)
{
    handshake(100, 5000);
    char block[41];
    memset(block, 'w', 40);
    block[40] = '\0';
    seg(0, ACK, 111, 5001, block);  /* 101..110 missing */
    seg(0, ACK, 151, 5001, block);  /* 80 bytes wait > 64: give up on the hole */
    cr_assert_eq(uf_tcp_get_stats(tcp).gaps, 1);
    const event *g = &g_array_index(events, event, 1);
    cr_assert_eq(g->kind, 'g');
    cr_assert_eq(g->missing, 10);
    cr_assert_eq(events->len, 4, "%s", trace());
}

Test(tcp, gap_at_the_end_of_input)
{
    handshake(100, 5000);
    seg(0, ACK, 111, 5001, "late");
    uf_tcp_finish(tcp, 99, 0);
    cr_assert_str_eq(trace(), "o1 g0+10@4 d0:late@4 c1");
}

/* A capture that starts inside a connection: the first bytes seen start the
 * stream, and the side on port 13400 is the server. */
Test(tcp, joined_in_the_middle)
{
    seg(1, ACK, 9000, 300, "from-server");
    seg(0, ACK, 300, 9011, "from-client");
    cr_assert_str_eq(trace(), "o1 d1:from-server@1 d0:from-client@2");
}

Test(tcp, sequence_numbers_wrap)
{
    handshake(0xFFFFFFF0u, 5000);
    seg(0, ACK, 0xFFFFFFF1u, 5001, "0123456789abcdef");
    seg(0, ACK, 0x00000001u, 5001, "tail");
    cr_assert_str_eq(trace(), "o1 d0:0123456789abcdef@4 d0:tail@5");
}

Test(tcp, reset_and_reuse_of_the_ports)
{
    handshake(100, 5000);
    seg(0, ACK, 101, 5001, "one");
    seg(1, RST | ACK, 5001, 104, "");
    handshake(7000, 8000);
    seg(0, ACK, 7001, 8001, "two");
    cr_assert_str_eq(trace(), "o1 d0:one@4 c1 o2 d0:two@9");
    /* A new SYN on a live connection with another ISN is a new connection. */
    handshake(9000, 9500);
    cr_assert_str_eq(trace(), "o1 d0:one@4 c1 o2 d0:two@9 c2 o3");
}

typedef void segment_fn(uint16_t conn, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                        const char *data);

/* Connections 0 and 1 open, then take turns: "o1 o2 d0:a1@5 d0:b1@6
 * d1:b2@7 d0:a2@8". */
static void two_taking_turns(segment_fn *seg_of)
{
    seg_of(0, 0, SYN, 100, 0, "");
    seg_of(1, 0, SYN, 300, 0, "");
    seg_of(0, 1, SYN | ACK, 5000, 101, "");
    seg_of(1, 1, SYN | ACK, 6000, 301, "");
    seg_of(0, 0, ACK, 101, 5001, "a1");
    seg_of(1, 0, ACK, 301, 6001, "b1");
    seg_of(1, 1, ACK, 6001, 303, "b2");
    seg_of(0, 0, ACK, 103, 5001, "a2");
}

/* Two connections taking turns, one of them opened again on its ports:
 * each segment goes to its own connection, whichever came last. */
Test(tcp, connections_taking_turns)
{
    two_taking_turns(seg_on);
    seg_on(0, 0, SYN, 900, 0, ""); /* the first connection's ports again */
    seg_on(1, 0, ACK, 303, 6003, "b3");
    seg_on(0, 1, SYN | ACK, 7000, 901, "");
    seg_on(0, 0, ACK, 901, 7001, "a3");
    cr_assert_str_eq(trace(), "o1 o2 d0:a1@5 d0:b1@6 d1:b2@7 d0:a2@8 c1 o3 d0:b3@10 d0:a3@12");
}

/* A segment of IPv6 connection `conn`: its tester's address ends in
 * conn + 1, its ports are the same as every other's. */
static void seg6(uint16_t conn, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                 const char *data)
{
    uf_net_flow f = flow6();
    f.host[0].ip.a[15] = (uint8_t)(conn + 1);
    seg_in(&f, from, flags, seq, ack, data);
}

/* Two testers on the same ports whose addresses differ only in the last
 * byte: every byte of an address tells connections apart. */
Test(tcp, ipv6_clients_apart_only_in_their_last_bytes)
{
    two_taking_turns(seg6);
    cr_assert_str_eq(trace(), "o1 o2 d0:a1@5 d0:b1@6 d1:b2@7 d0:a2@8");
}

Test(tcp, other_ports_are_left_alone)
{
    uf_net_flow f = flow4();
    uf_net_packet p;
    memset(&p, 0, sizeof(p));
    p.proto = UF_NET_TCP;
    p.src = f.host[0].ip;
    p.dst = f.host[1].ip;
    p.sport = 40000;
    p.dport = 80;
    p.flags = ACK;
    p.payload = (const uint8_t *)"GET /";
    p.len = 5;
    uf_tcp_packet(tcp, 0, &p, 1, 0);
    cr_assert_eq(events->len, 0);
}

Test(tcp, least_recently_active_connection_is_evicted)
{
    uf_tcp_free(tcp);
    uf_tcp_config cfg;
    uf_tcp_config_defaults(&cfg);
    cfg.max_connections = 2;
    uf_tcp_sink sink = {NULL, ev_open, ev_data, ev_gap, ev_close};
    tcp = uf_tcp_new(&cfg, &sink);
    uf_net_flow f = flow4();
    for (uint16_t i = 0; i < 3; i++) {
        uf_net_packet p;
        memset(&p, 0, sizeof(p));
        p.proto = UF_NET_TCP;
        p.src = f.host[0].ip;
        p.dst = f.host[1].ip;
        p.sport = (uint16_t)(40000 + i);
        p.dport = 13400;
        p.flags = SYN;
        uf_tcp_packet(tcp, 0, &p, i + 1, 0);
    }
    cr_assert_str_eq(trace(), "o1 o2 c1 o3");
    cr_assert_eq(uf_tcp_get_stats(tcp).evicted, 1);
}
