/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The DoIP layer over arbitrary streams: framing, resynchronisation,
 * routing, ACK pairing, datagrams. Input: records of
 *   kind (1: 0 stream bytes, 1 a gap, 2 a datagram, 3 time passes),
 *   direction (1), length (1), bytes.
 * Invariants: a diagnostic message's stored UDS bytes stay within the
 * configured maximum and its buffer; findings are NUL-terminated; every
 * held message is released by the end of the connection.
 */
#include "fuzz.h"
#include "uf_doip.h"

#include <assert.h>
#include <string.h>

#define MAX_MESSAGE 512

static uint64_t messages;

static void on_pdu(void *ctx, const uf_doip_pdu *p)
{
    (void)ctx;
    char buf[256];
    size_t n = uf_doip_describe(p->d, buf, sizeof(buf));
    assert(n < sizeof(buf) && strlen(buf) == n);
}

static void on_message(void *ctx, const uf_isotp_message *m)
{
    (void)ctx;
    assert(m->transport == UF_TRANSPORT_DOIP);
    assert(m->len <= MAX_MESSAGE);
    assert(m->len <= m->declared_len);
    if (m->len)
        assert(m->data[m->len - 1] == m->data[m->len - 1]);
    messages++;
}

static void on_finding(void *ctx, const uf_finding *f)
{
    (void)ctx;
    assert(f->rule && memchr(f->message, 0, sizeof(f->message)));
    assert(strncmp(f->rule->id, "doip.", 5) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_doip_config cfg;
    uf_doip_config_defaults(&cfg);
    cfg.max_message = MAX_MESSAGE;
    uf_doip_sink sink = {NULL, on_pdu, on_message, on_finding};
    uf_doip *d = uf_doip_new(&cfg, &sink);
    uf_tcp_stream s;
    memset(&s, 0, sizeof(s));
    s.id = 1;
    s.addr[0].family = s.addr[1].family = 4;
    s.port[0] = 50000;
    s.port[1] = UF_DOIP_PORT;
    uf_time t = 1000 * UF_NS_PER_S;
    uint64_t frame = 0;
    uf_doip_tcp_open(d, &s, 0, t);
    size_t at = 0;
    while (size - at >= 3) {
        uint8_t kind = data[at] & 3, dir = data[at + 1] & 1;
        uint32_t len = data[at + 2];
        at += 3;
        if (size - at < len)
            len = (uint32_t)(size - at);
        frame++;
        switch (kind) {
        case 0:
            uf_doip_tcp_data(d, &s, dir, data + at, len, frame, t);
            break;
        case 1:
            uf_doip_tcp_gap(d, &s, dir, len + 1, frame, t);
            break;
        case 2: {
            uf_net_packet p;
            memset(&p, 0, sizeof(p));
            p.proto = UF_NET_UDP;
            p.src.family = p.dst.family = 4;
            p.sport = p.dport = UF_DOIP_PORT;
            p.payload = data + at;
            p.len = len;
            uf_doip_datagram(d, 0, &p, frame, t);
            break;
        }
        default:
            t += (uf_time)len * UF_NS_PER_MS;
            break;
        }
        at += kind == 3 ? 0 : len;
    }
    uf_doip_tcp_close(d, &s, frame, t);
    assert(s.user == NULL);
    uf_doip_free(d);
    return 0;
}
