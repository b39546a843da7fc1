/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A tester and a DoIP entity (ISO 13400-2:2019) on Ethernet: vehicle
 * discovery over UDP, a TCP connection (handshake, segments of at most one
 * MSS, acknowledgements, FIN), routing activation, and every diagnostic
 * message acknowledged by the entity (0x8002) before it answers. The faults
 * of enum sg_doip_fault bend one of these on purpose. Deterministic, like
 * the CAN side: the same call writes the same bytes.
 */
#include "uf_samplegen.h"

#include <string.h>

#define TESTER 0
#define ENTITY 1

sg_doip sg_doip_gateway(uint32_t bus, bool v6)
{
    sg_doip d;
    memset(&d, 0, sizeof(d));
    const uint8_t tester_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x0E, 0x80};
    const uint8_t gateway_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x10, 0x00};
    memcpy(d.flow.host[TESTER].mac, tester_mac, 6);
    memcpy(d.flow.host[ENTITY].mac, gateway_mac, 6);
    if (v6) {
        uf_net_ip6(&d.flow.host[TESTER].ip, "fd00:ca7::e80");
        uf_net_ip6(&d.flow.host[ENTITY].ip, "fd00:ca7::1000");
        d.flow.vlan = 10;
    } else {
        uf_net_ip4(&d.flow.host[TESTER].ip, 169, 254, 10, 128);
        uf_net_ip4(&d.flow.host[ENTITY].ip, 169, 254, 10, 16);
    }
    d.bus = bus;
    d.tester_la = 0x0E80;
    d.ecu_la = 0x0010;
    d.functional_la = 0xE400;
    d.entity_la = 0x1000;
    d.first_port = 50100;
    d.mss = 1460;
    d.discovery = true;
    return d;
}

/* 100 Mbit/s automotive Ethernet: 80 ns a byte, plus the frame overhead. */
static uf_time wire_time(size_t frame_len)
{
    return (uf_time)(frame_len + 24) * 80;
}

static void tcp(sg_trace *tr, sg_doip *d, int from, uf_time t, uint8_t flags, uint32_t seq,
                const uint8_t *data, size_t len, bool captured)
{
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_tcp(frame, &d->flow, from, flags | UF_TCP_ACK, seq, d->seq[1 - from],
                            data, len);
    if (captured)
        sg_trace_packet(tr, d->bus, t, frame, n);
}

/* Pure acknowledgement of everything received so far. */
static uf_time ack(sg_trace *tr, sg_doip *d, int from, uf_time t)
{
    tcp(tr, d, from, t, 0, d->seq[from], NULL, 0, true);
    return t + wire_time(60);
}

/* Bytes from one side, cut into segments; returns the time of the last.
 * `which` says which block of a transfer this is (for the faults). */
static uf_time stream(sg_trace *tr, sg_link *l, int from, uf_time t, const uint8_t *data,
                      size_t len, int which)
{
    sg_doip *d = l->doip;
    uint32_t mss = d->mss ? d->mss : 1460;
    size_t n_seg = (len + mss - 1) / mss;
    uint32_t base = d->seq[from];
    uf_time *times = g_new(uf_time, n_seg ? n_seg : 1);
    for (size_t i = 0; i < n_seg; i++) {
        times[i] = t;
        size_t part = len - i * mss < mss ? len - i * mss : mss;
        t += wire_time(part + 54) + sg_delay(l, 2, 3);
    }
    if ((d->faults & SG_DOIP_REORDER) && which == 3 && n_seg >= 2) {
        uf_time x = times[0]; /* the capture holds the second segment first */
        times[0] = times[1];
        times[1] = x;
    }
    uf_time last = times[0];
    for (size_t i = 0; i < n_seg; i++) {
        size_t off = i * mss, part = len - off < mss ? len - off : mss;
        bool lost = (d->faults & SG_DOIP_GAP) && which == 4 && i == 1;
        tcp(tr, d, from, times[i], i + 1 == n_seg ? UF_TCP_PSH : 0, base + (uint32_t)off,
            data + off, part, !lost);
        if (times[i] > last)
            last = times[i];
    }
    g_free(times);
    d->seq[from] = base + (uint32_t)len;
    if ((d->faults & SG_DOIP_RETRANSMIT) && which == 2 && len >= 2 * (size_t)mss) {
        /* A spurious retransmission of the first segment, then one that
         * overlaps the first two. */
        last += sg_delay(l, 200, 20);
        tcp(tr, d, from, last, 0, base, data, mss, true);
        last += sg_delay(l, 200, 20);
        tcp(tr, d, from, last, 0, base + mss / 2, data + mss / 2, mss, true);
    }
    return last;
}

/* A DoIP message on the connection from one side. */
static uf_time send_message(sg_trace *tr, sg_link *l, int from, uf_time t, uint16_t type,
                            const uint8_t *payload, uint32_t len, int which)
{
    uint8_t *buf = g_malloc(8 + len);
    size_t n = uf_doip_encode(buf, type, payload, len);
    uf_time end = stream(tr, l, from, t, buf, n, which);
    g_free(buf);
    return end;
}

static void addresses(uint8_t *p, uint16_t sa, uint16_t ta)
{
    uf_store_be16(p, sa);
    uf_store_be16(p + 2, ta);
}

/* ---- vehicle discovery over UDP -------------------------------------------------*/

static void udp(sg_trace *tr, sg_doip *d, int from, uf_time t, uint16_t sport, uint16_t dport,
                const uf_net_host *to, const uint8_t *data, size_t len)
{
    uf_net_flow f = d->flow;
    f.port[from] = sport;
    f.port[1 - from] = dport;
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_udp(frame, &f, from, to, data, len);
    sg_trace_packet(tr, d->bus, t, frame, n);
}

static uf_time discover(sg_trace *tr, sg_link *l, uf_time t)
{
    sg_doip *d = l->doip;
    uint16_t port = (uint16_t)(d->first_port - 1); /* the tester's UDP port */
    uf_net_host all;
    memset(&all, 0, sizeof(all));
    if (d->flow.host[TESTER].ip.family == 6) {
        const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
        memcpy(all.mac, mac, 6);
        uf_net_ip6(&all.ip, "ff02::1");
    } else {
        memset(all.mac, 0xFF, 6);
        uf_net_ip4(&all.ip, 255, 255, 255, 255);
    }
    uint8_t buf[64];
    size_t n = uf_doip_encode(buf, UF_DOIP_VEHICLE_ID_REQUEST, NULL, 0);
    buf[0] = 0xFF; /* the default version of identification requests */
    buf[1] = 0x00;
    udp(tr, d, TESTER, t, port, UF_DOIP_PORT, &all, buf, n);
    uint8_t ann[33];
    memcpy(ann, "WVWZZZ1KZBW000042", 17);
    uf_store_be16(ann + 17, d->entity_la);
    const uint8_t eid[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x20};
    memcpy(ann + 19, eid, 6);
    memcpy(ann + 25, eid, 6); /* GID: the gateway's EID */
    ann[31] = 0x00;           /* no further action */
    ann[32] = 0x00;           /* VIN and GID synchronised */
    t += sg_delay(l, 3000, 2000);
    n = uf_doip_encode(buf, UF_DOIP_VEHICLE_ANNOUNCEMENT, ann, sizeof(ann));
    udp(tr, d, ENTITY, t, UF_DOIP_PORT, port, NULL, buf, n);
    t += sg_delay(l, 5000, 1000);
    n = uf_doip_encode(buf, UF_DOIP_ENTITY_STATUS_REQUEST, NULL, 0);
    udp(tr, d, TESTER, t, port, UF_DOIP_PORT, NULL, buf, n);
    const uint8_t status[7] = {0x00, 4, 0, 0x00, 0x00, 0x10, 0x02}; /* gateway, 0/4, 4098 B */
    t += sg_delay(l, 1500, 500);
    n = uf_doip_encode(buf, UF_DOIP_ENTITY_STATUS_RESPONSE, status, sizeof(status));
    udp(tr, d, ENTITY, t, UF_DOIP_PORT, port, NULL, buf, n);
    t += sg_delay(l, 3000, 500);
    n = uf_doip_encode(buf, UF_DOIP_POWER_MODE_REQUEST, NULL, 0);
    udp(tr, d, TESTER, t, port, UF_DOIP_PORT, NULL, buf, n);
    const uint8_t ready = 0x01;
    t += sg_delay(l, 1500, 500);
    n = uf_doip_encode(buf, UF_DOIP_POWER_MODE_RESPONSE, &ready, 1);
    udp(tr, d, ENTITY, t, UF_DOIP_PORT, port, NULL, buf, n);
    return t + sg_delay(l, 10000, 2000);
}

/* ---- the connection -----------------------------------------------------------------*/

static uf_time activate(sg_trace *tr, sg_link *l, uf_time t, uint16_t sa, uint8_t code)
{
    sg_doip *d = l->doip;
    uint8_t req[7] = {0};
    uf_store_be16(req, sa);
    req[2] = 0x00; /* default activation */
    t = send_message(tr, l, TESTER, t, UF_DOIP_ROUTING_ACTIVATION_REQUEST, req, sizeof(req), 0);
    uint8_t resp[9] = {0};
    uf_store_be16(resp, sa);
    uf_store_be16(resp + 2, d->entity_la);
    resp[4] = code;
    t += sg_delay(l, 2000, 1000);
    t = send_message(tr, l, ENTITY, t, UF_DOIP_ROUTING_ACTIVATION_RESPONSE, resp, sizeof(resp), 0);
    t = ack(tr, d, TESTER, t + sg_delay(l, 40, 20));
    return t + sg_delay(l, 1000, 500);
}

static uf_time connect(sg_trace *tr, sg_link *l, uf_time t)
{
    sg_doip *d = l->doip;
    d->flow.port[TESTER] = (uint16_t)(d->first_port + d->connections);
    d->flow.port[ENTITY] = d->entity_port ? d->entity_port : UF_DOIP_PORT;
    d->connections++;
    d->seq[TESTER] = 0x1000u * d->connections + 0x2A000000u;
    d->seq[ENTITY] = 0x7F000000u + 0x3000u * d->connections;
    /* The handshake: SYN carries no ACK. */
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_tcp(frame, &d->flow, TESTER, UF_TCP_SYN, d->seq[TESTER], 0, NULL, 0);
    sg_trace_packet(tr, d->bus, t, frame, n);
    d->seq[TESTER]++;
    t += sg_delay(l, 150, 50);
    n = uf_net_build_tcp(frame, &d->flow, ENTITY, UF_TCP_SYN | UF_TCP_ACK, d->seq[ENTITY],
                     d->seq[TESTER], NULL, 0);
    sg_trace_packet(tr, d->bus, t, frame, n);
    d->seq[ENTITY]++;
    t = ack(tr, d, TESTER, t + sg_delay(l, 60, 20));
    d->connected = true;
    t += sg_delay(l, 500, 200);
    if ((d->faults & SG_DOIP_ROUTING_DENIED) && d->connections == 1) {
        /* A tester with the wrong address: denied, and it tries anyway. */
        t = activate(tr, l, t, 0x0E00, 0x00);
        uint8_t msg[4 + 2];
        addresses(msg, 0x0E00, d->ecu_la);
        msg[4] = 0x3E;
        msg[5] = 0x00;
        t = send_message(tr, l, TESTER, t, UF_DOIP_DIAGNOSTIC_MESSAGE, msg, sizeof(msg), 0);
        uint8_t nack[5];
        addresses(nack, d->ecu_la, 0x0E00);
        nack[4] = 0x02; /* invalid source address */
        t = send_message(tr, l, ENTITY, t + sg_delay(l, 300, 100), UF_DOIP_DIAGNOSTIC_NACK, nack,
                         sizeof(nack), 0);
        t = ack(tr, d, TESTER, t + sg_delay(l, 40, 20)) + sg_delay(l, 5000, 1000);
    }
    t = activate(tr, l, t, d->tester_la, UF_DOIP_ROUTING_SUCCESS);
    /* The entity checks that the tester is alive. */
    t = send_message(tr, l, ENTITY, t, UF_DOIP_ALIVE_CHECK_REQUEST, NULL, 0, 0);
    uint8_t sa[2];
    uf_store_be16(sa, d->tester_la);
    t = send_message(tr, l, TESTER, t + sg_delay(l, 300, 100), UF_DOIP_ALIVE_CHECK_RESPONSE, sa,
                     sizeof(sa), 0);
    t = ack(tr, d, ENTITY, t + sg_delay(l, 40, 20));
    return t + sg_delay(l, 2000, 500);
}

static uf_time disconnect(sg_trace *tr, sg_link *l, uf_time t, int closer)
{
    sg_doip *d = l->doip;
    uint8_t frame[UF_NET_FRAME_MAX];
    size_t n = uf_net_build_tcp(frame, &d->flow, closer, UF_TCP_FIN | UF_TCP_ACK, d->seq[closer],
                            d->seq[1 - closer], NULL, 0);
    sg_trace_packet(tr, d->bus, t, frame, n);
    d->seq[closer]++;
    t += sg_delay(l, 100, 50);
    n = uf_net_build_tcp(frame, &d->flow, 1 - closer, UF_TCP_FIN | UF_TCP_ACK, d->seq[1 - closer],
                     d->seq[closer], NULL, 0);
    sg_trace_packet(tr, d->bus, t, frame, n);
    d->seq[1 - closer]++;
    t = ack(tr, d, closer, t + sg_delay(l, 60, 20));
    d->connected = false;
    return t;
}

uf_time sg_doip_open(sg_trace *tr, sg_link *l, uf_time t)
{
    if (l->doip->discovery)
        t = discover(tr, l, t);
    return connect(tr, l, t);
}

uf_time sg_doip_reconnect(sg_trace *tr, sg_link *l, uf_time t, uf_time boot)
{
    t = disconnect(tr, l, t + sg_delay(l, 2000, 500), ENTITY);
    return connect(tr, l, t + boot);
}

uf_time sg_doip_close(sg_trace *tr, sg_link *l, uf_time t)
{
    return disconnect(tr, l, t, TESTER);
}

/* ---- diagnostic messages ----------------------------------------------------------------*/

/* The entity's ACK of the tester's last message: now, or with its next message. */
static uf_time entity_ack(sg_trace *tr, sg_link *l, uf_time t, bool coalesce)
{
    sg_doip *d = l->doip;
    if (coalesce) {
        d->ack_pending = true;
        d->ack_time = t;
        return t;
    }
    uint8_t buf[16];
    size_t n = uf_doip_encode(buf, UF_DOIP_DIAGNOSTIC_ACK, d->ack + 0, 5);
    stream(tr, l, ENTITY, t, buf, n, 0);
    return t;
}

static void flush_ack(sg_trace *tr, sg_link *l)
{
    sg_doip *d = l->doip;
    if (!d->ack_pending)
        return;
    d->ack_pending = false;
    entity_ack(tr, l, d->ack_time, false);
}

uf_time sg_doip_send(sg_trace *tr, sg_link *l, bool from_tester, bool functional, uf_time t,
                     const uint8_t *msg, uint32_t len)
{
    sg_doip *d = l->doip;
    uint8_t *payload = g_malloc(4 + len);
    uint16_t ta = functional ? d->functional_la : from_tester ? d->ecu_la : d->tester_la;
    addresses(payload, from_tester ? d->tester_la : d->ecu_la, ta);
    memcpy(payload + 4, msg, len);
    int which = from_tester && len >= 2 && msg[0] == 0x36 ? msg[1] : 0;
    if (from_tester) {
        flush_ack(tr, l);
        if ((d->faults & SG_DOIP_NACK) && msg[0] == 0x10 && msg[1] == 0x03 && d->connections == 1 &&
            !d->ack_pending) {
            /* First to an address no one has: refused. */
            uint8_t wrong[4 + 2];
            addresses(wrong, d->tester_la, 0x1FFF);
            memcpy(wrong + 4, msg, 2);
            t = send_message(tr, l, TESTER, t, UF_DOIP_DIAGNOSTIC_MESSAGE, wrong, sizeof(wrong), 0);
            uint8_t nack[5];
            addresses(nack, 0x1FFF, d->tester_la);
            nack[4] = 0x03; /* unknown target address */
            t = send_message(tr, l, ENTITY, t + sg_delay(l, 300, 100), UF_DOIP_DIAGNOSTIC_NACK,
                             nack, sizeof(nack), 0);
            t = ack(tr, d, TESTER, t + sg_delay(l, 40, 20)) + sg_delay(l, 8000, 1000);
            d->faults &= ~(uint32_t)SG_DOIP_NACK;
        }
        if ((d->faults & SG_DOIP_MALFORMED) && msg[0] == 0x22) {
            /* A header with a wrong inverse version (and no payload), once. */
            uint8_t bad[8] = {0x03, 0xFD, 0x80, 0x01, 0, 0, 0, 0};
            t = stream(tr, l, TESTER, t, bad, sizeof(bad), 0) + sg_delay(l, 1000, 200);
            d->faults &= ~(uint32_t)SG_DOIP_MALFORMED;
        }
        uf_time end = send_message(tr, l, TESTER, t, UF_DOIP_DIAGNOSTIC_MESSAGE, payload, 4 + len,
                                   which);
        g_free(payload);
        addresses(d->ack, ta, d->tester_la);
        d->ack[4] = 0x00;
        uf_time at = end + sg_delay(l, 150, 200);
        bool tp = functional && msg[0] == 0x3E;
        if (tp && (d->faults & SG_DOIP_LATE_ACK))
            at = end + 80 * UF_NS_PER_MS;
        else if (tp && (d->faults & SG_DOIP_NEAR_ACK))
            at = end + 45 * UF_NS_PER_MS;
        /* Coalesce only what gets an answer to ride with. */
        bool suppressed = len >= 2 && msg[0] && strchr("\x10\x11\x27\x28\x31\x3E\x85", msg[0]) &&
                          (msg[1] & 0x80);
        entity_ack(tr, l, at, (d->faults & SG_DOIP_COALESCE) && !functional && !suppressed);
        return end;
    }
    uint32_t n = 4 + len;
    uf_time end;
    if (d->ack_pending) {
        /* The ACK and the response in one segment. */
        uint8_t *both = g_malloc(13 + 8 + n);
        size_t a = uf_doip_encode(both, UF_DOIP_DIAGNOSTIC_ACK, d->ack, 5);
        size_t b = uf_doip_encode(both + a, UF_DOIP_DIAGNOSTIC_MESSAGE, payload, n);
        d->ack_pending = false;
        end = stream(tr, l, ENTITY, t, both, a + b, 0);
        g_free(both);
    } else {
        end = send_message(tr, l, ENTITY, t, UF_DOIP_DIAGNOSTIC_MESSAGE, payload, n, 0);
    }
    g_free(payload);
    ack(tr, d, TESTER, end + sg_delay(l, 40, 20));
    return end;
}
