/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP (ISO 13400-2:2019) as a tester's channel: a TCP connection to the
 * entity on port 13400 (IPv4 or IPv6), routing activation (7.4: the
 * activation request and its response code), diagnostic messages (7.7:
 * each acknowledged by a diagnostic message ACK or refused by a NACK within
 * A_DoIP_Diagnostic_Message), alive check requests answered (7.6). The
 * stream is cut into messages by the analyzer's framer.
 */
#include "uf_doip.h"
#include "uf_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct doip_channel {
    uf_channel base;
    uf_doip_client_config c;
    int s;
    uf_doip_framer framer;
    GQueue inbox;         /* diagnostic messages for us: GByteArray * */
    GByteArray *current;
    bool closed;
    /* The answer to what we sent last: 0 waiting, 1 ACK, 2 NACK. */
    int ack;
    uint8_t nack_code;
    bool activation_done;
    uint8_t activation_code;
    char failure[200];    /* a generic header NACK */
    void *tap_conn;       /* this connection in the recording */
} doip_channel;

void uf_doip_client_defaults(uf_doip_client_config *c)
{
    memset(c, 0, sizeof(*c));
    c->host = "127.0.0.1";
    c->port = UF_DOIP_PORT;
    c->tester = 0x0E80;
    c->target = 0x0010;
    c->functional = 0xE400;
    c->activation_type = 0x00;
    c->connect_timeout = 2 * UF_NS_PER_S;
    c->ack_timeout = 2 * UF_NS_PER_S;
}

static bool send_all(doip_channel *d, const uint8_t *p, size_t n, uf_error *err)
{
    uf_time deadline = uf_clock_monotonic() + d->c.ack_timeout;
    while (n) {
        ssize_t w = send(d->s, p, n, MSG_NOSIGNAL);
        if (w > 0 && d->tap_conn)
            d->c.tap->bytes(d->tap_conn, true, p, (size_t)w, uf_clock_monotonic());
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            uf_error_set(err, "%s: sending failed: %s", d->base.name, g_strerror(errno));
            return false;
        }
        uf_time left = deadline - uf_clock_monotonic();
        if (left <= 0) {
            uf_error_set(err, "%s: the entity takes no data (its window stays closed)",
                         d->base.name);
            return false;
        }
        struct pollfd pf = {d->s, POLLOUT, 0};
        poll(&pf, 1, (int)(left / UF_NS_PER_MS) + 1);
    }
    return true;
}

static bool send_message(doip_channel *d, uint16_t type, const uint8_t *payload, uint32_t len,
                         uf_error *err)
{
    uint8_t *buf = g_malloc(UF_DOIP_HEADER_LEN + len);
    size_t n = uf_doip_encode(buf, type, payload, len);
    bool ok = send_all(d, buf, n, err);
    g_free(buf);
    return ok;
}

/* One DoIP message from the entity. */
static void on_message(void *ctx, const uf_doip_frame *m)
{
    doip_channel *d = ctx;
    uf_doip_decoded x;
    uf_doip_decode(m->data, m->held, &x);
    switch (x.type) {
    case UF_DOIP_ROUTING_ACTIVATION_RESPONSE:
        d->activation_done = true;
        d->activation_code = x.has_code ? x.code : 0xFF;
        break;
    case UF_DOIP_ALIVE_CHECK_REQUEST: {
        uint8_t sa[2];
        uf_store_be16(sa, d->c.tester);
        uf_error ignored;
        send_message(d, UF_DOIP_ALIVE_CHECK_RESPONSE, sa, 2, &ignored);
        break;
    }
    case UF_DOIP_DIAGNOSTIC_ACK:
        d->ack = 1;
        break;
    case UF_DOIP_DIAGNOSTIC_NACK:
        d->ack = 2;
        d->nack_code = x.has_code ? x.code : 0xFF;
        break;
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
        if (x.has_ta && x.ta == d->c.tester && x.user_data) {
            GByteArray *a = g_byte_array_sized_new(x.user_len);
            g_byte_array_append(a, x.user_data, x.user_len);
            g_queue_push_tail(&d->inbox, a);
        }
        break;
    case UF_DOIP_GENERIC_NACK: {
        const char *name = x.has_code ? uf_doip_generic_nack_name(x.code) : NULL;
        snprintf(d->failure, sizeof(d->failure), "the entity refused a message: generic header "
                 "NACK 0x%02X %s", x.has_code ? x.code : 0xFF, name ? name : "");
        break;
    }
    default:
        break;
    }
}

static void on_bad_header(void *ctx, const uint8_t h[UF_DOIP_HEADER_LEN], const char *why,
                          uint64_t offset, uint64_t frame, uf_time t)
{
    (void)h, (void)frame, (void)t;
    doip_channel *d = ctx;
    snprintf(d->failure, sizeof(d->failure), "a broken DoIP header from the entity at byte %llu "
             "of the stream: %s", (unsigned long long)offset, why);
}

/* Reads what is there, or waits for it until the deadline. -1 on a closed
 * or broken connection, 0 on the deadline, 1 if something was read. */
static int pump(doip_channel *d, uf_time deadline, uf_error *err)
{
    if (d->closed) {
        uf_error_set(err, "%s: the DoIP entity closed the connection", d->base.name);
        return -1;
    }
    struct pollfd pf = {d->s, POLLIN, 0};
    /* Spins first where that pays: the entity's answer to a TransferData
     * block comes back on loopback in about the time a sleeping process
     * takes to wake. */
    int r = uf_poll_spinning(&pf, 1, deadline);
    if (r < 0 && errno != EINTR) {
        uf_error_set(err, "%s: %s", d->base.name, g_strerror(errno));
        return -1;
    }
    if (r <= 0)
        return 0;
    uint8_t buf[16384];
    ssize_t n = recv(d->s, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        d->closed = true;
        uf_error_set(err, "%s: the DoIP entity closed the connection%s%s", d->base.name,
                     n < 0 ? ": " : "", n < 0 ? g_strerror(errno) : "");
        return -1;
    }
    if (n > 0 && d->tap_conn)
        d->c.tap->bytes(d->tap_conn, false, buf, (size_t)n, uf_clock_monotonic());
    if (n > 0) {
        uf_doip_framer_sink sink = {.ctx = d, .message = on_message, .bad_header = on_bad_header};
        uf_doip_framer_data(&d->framer, buf, (uint32_t)n, 0, uf_clock_monotonic(), &sink);
    }
    if (d->failure[0]) {
        uf_error_set(err, "%s: %s", d->base.name, d->failure);
        return -1;
    }
    return 1;
}

static bool doip_send(uf_channel *t, const uint8_t *p, size_t n, bool functional, uf_error *err)
{
    doip_channel *d = (doip_channel *)t;
    if (n > 0x100000) {
        uf_error_set(err, "%s: %zu bytes: too large for this client", t->name, n);
        return false;
    }
    uint8_t *payload = g_malloc(4 + n);
    uf_store_be16(payload, d->c.tester);
    uf_store_be16(payload + 2, functional ? d->c.functional : d->c.target);
    memcpy(payload + 4, p, n);
    d->ack = 0;
    bool ok = send_message(d, UF_DOIP_DIAGNOSTIC_MESSAGE, payload, (uint32_t)(4 + n), err);
    g_free(payload);
    if (!ok)
        return false;
    /* 7.7: the entity acknowledges within A_DoIP_Diagnostic_Message. */
    uf_time deadline = uf_clock_monotonic() + d->c.ack_timeout;
    while (d->ack == 0) {
        int r = pump(d, deadline, err);
        if (r < 0)
            return false;
        if (r == 0 && uf_clock_monotonic() >= deadline) {
            uf_error_set(err, "%s: no diagnostic message ACK within %.0f ms", t->name,
                         (double)d->c.ack_timeout / 1e6);
            return false;
        }
    }
    if (d->ack == 2) {
        const char *name = uf_doip_diag_nack_name(d->nack_code);
        uf_error_set(err, "%s: the entity refused the message: diagnostic message NACK 0x%02X %s",
                     t->name, d->nack_code, name ? name : "");
        return false;
    }
    return true;
}

static int doip_recv(uf_channel *t, uf_channel_msg *m, uf_time deadline, uf_error *err)
{
    doip_channel *d = (doip_channel *)t;
    if (d->current) {
        g_byte_array_unref(d->current);
        d->current = NULL;
    }
    for (;;) {
        GByteArray *a = g_queue_pop_head(&d->inbox);
        if (a) {
            d->current = a;
            m->data = a->data;
            m->len = a->len;
            m->functional = false;
            m->time = uf_clock_monotonic();
            return 1;
        }
        if (deadline != UF_TIME_NONE && uf_clock_monotonic() >= deadline)
            return 0;
        if (pump(d, deadline, err) < 0)
            return -1;
    }
}

static uf_time doip_now(uf_channel *t)
{
    (void)t;
    return uf_clock_monotonic();
}

static void doip_free(uf_channel *t)
{
    doip_channel *d = (doip_channel *)t;
    if (d->s >= 0) {
        close(d->s);
        if (d->tap_conn)
            d->c.tap->closed(d->tap_conn, uf_clock_monotonic());
    }
    uf_doip_framer_free(&d->framer);
    g_queue_clear_full(&d->inbox, (GDestroyNotify)g_byte_array_unref);
    if (d->current)
        g_byte_array_unref(d->current);
    g_free(d);
}

static const uf_channel_ops doip_ops = {doip_send, doip_recv, doip_now, doip_free};

/* A non-blocking connect bounded by the timeout, trying each address. */
static int connect_to(const uf_doip_client_config *c, char *where, size_t where_len, uf_error *err)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", c->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(c->host, port, &hints, &res);
    if (g != 0) {
        uf_error_set(err, "DoIP: cannot resolve \"%s\": %s", c->host, gai_strerror(g));
        return -1;
    }
    int s = -1, last = 0;
    for (struct addrinfo *a = res; a && s < 0; a = a->ai_next) {
        s = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
        if (s < 0) {
            last = errno;
            continue;
        }
        int r = connect(s, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd pf = {s, POLLOUT, 0};
            int w = poll(&pf, 1, (int)(c->connect_timeout / UF_NS_PER_MS));
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (w <= 0) {
                soerr = ETIMEDOUT;
            } else {
                getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            }
            r = soerr ? -1 : 0;
            errno = soerr;
        }
        if (r < 0) {
            last = errno;
            close(s);
            s = -1;
        }
    }
    freeaddrinfo(res);
    bool v6 = strchr(c->host, ':') != NULL;
    snprintf(where, where_len, "%s%s%s:%u", v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
    if (s < 0) {
        const char *why = last == ECONNREFUSED ? "connection refused (no DoIP entity listens)"
                          : last == ETIMEDOUT  ? "no answer within the connect timeout"
                                               : g_strerror(last);
        uf_error_set(err, "DoIP %s: %s", where, why);
        return -1;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}

uf_channel *uf_channel_doip(const uf_doip_client_config *c, uf_error *err)
{
    char where[96];
    int s = connect_to(c, where, sizeof(where), err);
    if (s < 0)
        return NULL;
    doip_channel *d = g_new0(doip_channel, 1);
    d->base.ops = &doip_ops;
    d->c = *c;
    d->s = s;
    g_queue_init(&d->inbox);
    uf_doip_framer_init(&d->framer, 1u << 20);
    if (c->tap) {
        struct sockaddr_storage local, peer;
        socklen_t ll = sizeof(local), pl = sizeof(peer);
        if (getsockname(s, (struct sockaddr *)&local, &ll) == 0 &&
            getpeername(s, (struct sockaddr *)&peer, &pl) == 0)
            d->tap_conn = c->tap->opened(c->tap->ctx, &local, &peer, uf_clock_monotonic());
    }
    snprintf(d->base.name, sizeof(d->base.name), "DoIP %s 0x%04X->0x%04X", where, c->tester,
             c->target);
    /* 7.4: routing activation, answered within A_DoIP_Ctrl (2 s). */
    uint8_t act[7] = {0};
    uf_store_be16(act, c->tester);
    act[2] = c->activation_type;
    uf_time deadline = uf_clock_monotonic() + 2 * UF_NS_PER_S;
    bool ok = send_message(d, UF_DOIP_ROUTING_ACTIVATION_REQUEST, act, sizeof(act), err);
    while (ok && !d->activation_done) {
        int r = pump(d, deadline, err);
        if (r < 0)
            ok = false;
        else if (r == 0 && uf_clock_monotonic() >= deadline) {
            uf_error_set(err, "%s: no routing activation response within 2 s", d->base.name);
            ok = false;
        }
    }
    if (ok && d->activation_code != UF_DOIP_ROUTING_SUCCESS &&
        d->activation_code != UF_DOIP_ROUTING_CONFIRMATION) {
        const char *name = uf_doip_routing_code_name(d->activation_code);
        uf_error_set(err, "%s: routing activation denied: code 0x%02X %s", d->base.name,
                     d->activation_code, name ? name : "");
        ok = false;
    }
    if (!ok) {
        doip_free(&d->base);
        return NULL;
    }
    return &d->base;
}
