/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The DoIP entity of udsecu (ISO 13400-2:2019): one poll loop over the UDP
 * discovery socket, the TCP_DATA listener and its connections, and the
 * virtual ECU's timers. Routing activation is granted to tester addresses
 * 0x0E00-0x0FFF (7.4, Table 13 external test equipment); a diagnostic
 * message is ACKed before the ECU answers it, or NACKed (invalid source
 * address, unknown target address, or an injected fault) (7.7).
 */
#define _GNU_SOURCE /* ppoll, accept4 */
#include "uf_doip.h"
#include "uf_doip_server.h"
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

/* A_DoIP_Announce_Num and A_DoIP_Announce_Interval (Table 39). */
#define ANNOUNCE_NUM 3
#define ANNOUNCE_INTERVAL (500 * UF_NS_PER_MS)

typedef struct conn {
    uf_doip_server *server;
    int s;
    uf_doip_framer framer;
    bool active;
    uint16_t tester;
    bool close_after;     /* a denial went out: close once it is sent */
    bool dead;            /* to be closed, once what is queued has gone out */
    bool broken;          /* sending failed: nothing more goes out */
    GByteArray *queued;   /* messages not yet sent, see conn_send() */
} conn;

struct uf_doip_server {
    uf_doip_server_config c;
    uf_responder ecu;
    int tcp, udp;
    uint16_t port;
    GPtrArray *conns;     /* conn * */
    conn *reply;          /* where the ECU's answers go */
    uint16_t reply_tester;
    int announce_left;
    uf_time announce_next;
    struct sockaddr_storage announce_addr;
    socklen_t announce_len;
    uint8_t out[4096];
};

void uf_doip_server_defaults(uf_doip_server_config *c)
{
    memset(c, 0, sizeof(*c));
    c->port = UF_DOIP_PORT;
    c->entity = 0x1000;
    c->ecu = 0x0010;
    c->functional = 0xE400;
    g_strlcpy(c->vin, "WVWZZZ1KZBW000042", sizeof(c->vin));
    const uint8_t eid[6] = {0x02, 0x00, 0x00, 0x00, 0x10, 0x00};
    memcpy(c->eid, eid, 6);
    memcpy(c->gid, eid, 6);
    c->max_sockets = 4;
}

/* ---- sending ------------------------------------------------------------------*/

#define QUEUE_FLUSH_BYTES (64u * 1024u) /* a queue this long goes out at once */

/* What is queued on a connection, sent whole (1 s at most for a full
 * window). */
static void conn_flush(conn *k)
{
    const uint8_t *p = k->queued->data;
    size_t n = k->broken ? 0 : k->queued->len;
    uf_time deadline = uf_clock_monotonic() + UF_NS_PER_S;
    while (n) {
        ssize_t w = send(k->s, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || uf_clock_monotonic() >= deadline) {
            k->broken = k->dead = true;
            break;
        }
        struct pollfd pf = {k->s, POLLOUT, 0};
        poll(&pf, 1, 10);
    }
    g_byte_array_set_size(k->queued, 0);
}

/* Queues a whole DoIP message on a connection. The queue goes out once a
 * pass of the server's loop is done (flush_all()): a request's
 * acknowledgement and the ECU's answer, when it is due at once, leave in
 * one segment, and the tester wakes once for both instead of twice. On
 * loopback that wake-up is most of a TransferData round trip. */
static void conn_send(conn *k, uint16_t type, const uint8_t *payload, uint32_t len)
{
    if (k->dead)
        return;
    guint at = k->queued->len;
    g_byte_array_set_size(k->queued, at + UF_DOIP_HEADER_LEN + len);
    uf_doip_encode(k->queued->data + at, type, payload, len);
    if (k->queued->len >= QUEUE_FLUSH_BYTES)
        conn_flush(k);
}

static void flush_all(uf_doip_server *s)
{
    for (guint i = 0; i < s->conns->len; i++)
        conn_flush(g_ptr_array_index(s->conns, i));
}

static void diag_reply(conn *k, uint16_t type, uint16_t sa, uint16_t ta, uint8_t code)
{
    uint8_t p[5];
    uf_store_be16(p, sa);
    uf_store_be16(p + 2, ta);
    p[4] = code;
    conn_send(k, type, p, sizeof(p));
}

static size_t announcement(const uf_doip_server *s, uint8_t *p)
{
    memcpy(p, s->c.vin, 17);
    uf_store_be16(p + 17, s->c.entity);
    memcpy(p + 19, s->c.eid, 6);
    memcpy(p + 25, s->c.gid, 6);
    p[31] = 0x00; /* further action: none */
    p[32] = 0x00; /* VIN / GID synchronised */
    return 33;
}

static size_t entity_status(const uf_doip_server *s, uint8_t *p)
{
    p[0] = 0x00; /* a DoIP gateway, with the ECU behind it */
    p[1] = (uint8_t)s->c.max_sockets;
    p[2] = (uint8_t)s->conns->len;
    uf_store_be32(p + 3, 0x00100000);
    return 7;
}

/* ---- TCP_DATA -----------------------------------------------------------------*/

static conn *active_with(const uf_doip_server *s, uint16_t tester)
{
    for (guint i = 0; i < s->conns->len; i++) {
        conn *k = g_ptr_array_index(s->conns, i);
        if (k->active && k->tester == tester && !k->dead)
            return k;
    }
    return NULL;
}

static unsigned active_count(const uf_doip_server *s)
{
    unsigned n = 0;
    for (guint i = 0; i < s->conns->len; i++)
        n += ((conn *)g_ptr_array_index(s->conns, i))->active;
    return n;
}

static void routing_activation(conn *k, const uf_doip_decoded *x)
{
    uf_doip_server *s = k->server;
    uint8_t code;
    conn *other = active_with(s, x->sa);
    if (x->sa < 0x0E00 || x->sa > 0x0FFF)
        code = 0x00; /* unknown source address */
    else if (x->code > 0x01)
        code = 0x06; /* unsupported activation type */
    else if (other && other != k)
        code = 0x03; /* the address is active on another socket */
    else if (k->active && k->tester != x->sa)
        code = 0x02; /* another address on this socket */
    else if (!k->active && active_count(s) >= s->c.max_sockets)
        code = 0x01; /* all sockets taken */
    else
        code = UF_DOIP_ROUTING_SUCCESS;
    uint8_t p[9] = {0};
    uf_store_be16(p, x->sa);
    uf_store_be16(p + 2, s->c.entity);
    p[4] = code;
    conn_send(k, UF_DOIP_ROUTING_ACTIVATION_RESPONSE, p, sizeof(p));
    if (code == UF_DOIP_ROUTING_SUCCESS) {
        k->active = true;
        k->tester = x->sa;
    } else if (code == 0x00 || code == 0x06 || code == 0x02) {
        k->close_after = true; /* 7.4: the entity closes the socket */
    }
}

static void diagnostic_message(conn *k, const uf_doip_decoded *x)
{
    uf_doip_server *s = k->server;
    if (!k->active || x->sa != k->tester) {
        diag_reply(k, UF_DOIP_DIAGNOSTIC_NACK, x->ta, x->sa, 0x02); /* invalid source address */
        return;
    }
    if (x->ta != s->c.ecu && x->ta != s->c.functional) {
        diag_reply(k, UF_DOIP_DIAGNOSTIC_NACK, x->ta, x->sa, 0x03); /* unknown target address */
        return;
    }
    if (!x->user_data || x->user_len == 0 || x->held < 4 + x->user_len) {
        diag_reply(k, UF_DOIP_DIAGNOSTIC_NACK, x->ta, x->sa, 0x04); /* too large to hold */
        return;
    }
    uf_ecu_action a = uf_responder_request(s->ecu, x->user_data, x->user_len, x->ta == s->c.functional,
                                     uf_clock_monotonic());
    if (uf_responder_stopped(s->ecu))
        return; /* the power is gone: nothing answers any more */
    if (a == UF_ECU_DOIP_CLOSE) {
        k->dead = true;
        return;
    }
    if (a == UF_ECU_DOIP_NACK) {
        diag_reply(k, UF_DOIP_DIAGNOSTIC_NACK, x->ta, x->sa, uf_responder_doip_nack_code(s->ecu));
        return;
    }
    diag_reply(k, UF_DOIP_DIAGNOSTIC_ACK, x->ta, x->sa, 0x00);
    s->reply = k;
    s->reply_tester = x->sa;
}

static void on_tcp_message(void *ctx, const uf_doip_frame *m)
{
    conn *k = ctx;
    uf_doip_decoded x;
    uf_doip_decode(m->data, m->held, &x);
    uint8_t p[16];
    switch (x.type) {
    case UF_DOIP_ROUTING_ACTIVATION_REQUEST:
        if (x.has_sa)
            routing_activation(k, &x);
        break;
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
        if (x.has_sa && x.has_ta)
            diagnostic_message(k, &x);
        break;
    case UF_DOIP_ENTITY_STATUS_REQUEST:
        conn_send(k, UF_DOIP_ENTITY_STATUS_RESPONSE, p, (uint32_t)entity_status(k->server, p));
        break;
    case UF_DOIP_POWER_MODE_REQUEST:
        p[0] = 0x01; /* ready */
        conn_send(k, UF_DOIP_POWER_MODE_RESPONSE, p, 1);
        break;
    default:
        break; /* alive check responses, and types not for TCP */
    }
}

static void on_tcp_bad_header(void *ctx, const uint8_t h[UF_DOIP_HEADER_LEN], const char *why,
                              uint64_t offset, uint64_t frame, uf_time t)
{
    (void)h, (void)why, (void)offset, (void)frame, (void)t;
    conn *k = ctx;
    uint8_t code = 0x00; /* incorrect pattern format: 7.2.2, the socket closes */
    conn_send(k, UF_DOIP_GENERIC_NACK, &code, 1);
    k->dead = true;
}

static void conn_read(conn *k)
{
    uint8_t buf[16384];
    ssize_t n = recv(k->s, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        k->dead = true;
        return;
    }
    if (n < 0)
        return;
    uf_doip_framer_sink sink = {.ctx = k, .message = on_tcp_message,
                                .bad_header = on_tcp_bad_header};
    uf_doip_framer_data(&k->framer, buf, (uint32_t)n, 0, uf_clock_monotonic(), &sink);
    if (k->close_after)
        k->dead = true;
}

static void conn_free(conn *k)
{
    close(k->s);
    uf_doip_framer_free(&k->framer);
    g_byte_array_free(k->queued, TRUE);
    g_free(k);
}

static void accept_one(uf_doip_server *s)
{
    int c = accept4(s->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    /* Room for the configured sockets and one more, refused by its
     * routing activation (7.4: code 0x01). */
    if (s->conns->len > s->c.max_sockets) {
        close(c);
        return;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn *k = g_new0(conn, 1);
    k->server = s;
    k->s = c;
    k->queued = g_byte_array_new();
    uf_doip_framer_init(&k->framer, 1u << 20);
    g_ptr_array_add(s->conns, k);
}

/* ---- UDP discovery --------------------------------------------------------------*/

static void udp_reply(uf_doip_server *s, const struct sockaddr_storage *to, socklen_t len,
                      uint16_t type, const uint8_t *payload, uint32_t n)
{
    uint8_t buf[64];
    size_t m = uf_doip_encode(buf, type, payload, n);
    sendto(s->udp, buf, m, 0, (const struct sockaddr *)to, len);
}

static void udp_read(uf_doip_server *s)
{
    uint8_t buf[1500];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(s->udp, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n < UF_DOIP_HEADER_LEN)
        return;
    if (uf_doip_check_header(buf, 4096)) {
        uint8_t code = 0x00;
        udp_reply(s, &from, fl, UF_DOIP_GENERIC_NACK, &code, 1);
        return;
    }
    uf_doip_decoded x;
    uf_doip_decode(buf, (uint32_t)n - UF_DOIP_HEADER_LEN, &x);
    uint8_t p[40];
    switch (x.type) {
    case UF_DOIP_VEHICLE_ID_REQUEST_EID:
        if (!x.eid || memcmp(x.eid, s->c.eid, 6) != 0)
            return;
        /* fall through */
    case UF_DOIP_VEHICLE_ID_REQUEST_VIN:
        if (x.type == UF_DOIP_VEHICLE_ID_REQUEST_VIN &&
            (!x.vin || memcmp(x.vin, s->c.vin, 17) != 0))
            return;
        /* fall through */
    case UF_DOIP_VEHICLE_ID_REQUEST:
        udp_reply(s, &from, fl, UF_DOIP_VEHICLE_ANNOUNCEMENT, p, (uint32_t)announcement(s, p));
        break;
    case UF_DOIP_ENTITY_STATUS_REQUEST:
        udp_reply(s, &from, fl, UF_DOIP_ENTITY_STATUS_RESPONSE, p, (uint32_t)entity_status(s, p));
        break;
    case UF_DOIP_POWER_MODE_REQUEST:
        p[0] = 0x01;
        udp_reply(s, &from, fl, UF_DOIP_POWER_MODE_RESPONSE, p, 1);
        break;
    default:
        break;
    }
}

/* ---- sockets ----------------------------------------------------------------------*/

/* Binds a socket of `type` to listen / port, IPv6 dual stack when no
 * address is given (IPv4 alone where IPv6 is missing). */
static int bind_socket(const char *listen_on, uint16_t port, int type, uf_error *err)
{
    char ports[8];
    snprintf(ports, sizeof(ports), "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = type,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    const char *host = listen_on ? listen_on : "::";
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g != 0 && !listen_on) {
        host = "0.0.0.0";
        g = getaddrinfo(host, ports, &hints, &res);
    }
    if (g != 0) {
        uf_error_set(err, "DoIP: cannot listen on \"%s\": %s", host, gai_strerror(g));
        return -1;
    }
    int s = -1, last = 0;
    for (struct addrinfo *a = res; a && s < 0; a = a->ai_next) {
        s = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0) {
            last = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (a->ai_family == AF_INET6)
            setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (type == SOCK_DGRAM)
            setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
        if (bind(s, a->ai_addr, a->ai_addrlen) < 0 ||
            (type == SOCK_STREAM && listen(s, 8) < 0)) {
            last = errno;
            close(s);
            s = -1;
        }
    }
    freeaddrinfo(res);
    if (s < 0 && !listen_on && strcmp(host, "::") == 0)
        return bind_socket("0.0.0.0", port, type, err); /* no IPv6 here */
    if (s < 0)
        uf_error_set(err, "DoIP: cannot listen on %s port %u (%s): %s", host, port,
                     type == SOCK_STREAM ? "TCP" : "UDP",
                     last == EADDRINUSE ? "the port is taken by another program" : g_strerror(last));
    return s;
}

static uint16_t bound_port(int s)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof(a);
    if (getsockname(s, (struct sockaddr *)&a, &l) < 0)
        return 0;
    if (a.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

uf_doip_server *uf_doip_server_new(const uf_doip_server_config *c, uf_responder ecu,
                                   uf_error *err)
{
    int tcp = bind_socket(c->listen, c->port, SOCK_STREAM, err);
    if (tcp < 0)
        return NULL;
    uint16_t port = bound_port(tcp);
    int udp = bind_socket(c->listen, port, SOCK_DGRAM, err);
    if (udp < 0) {
        close(tcp);
        return NULL;
    }
    uf_doip_server *s = g_new0(uf_doip_server, 1);
    s->c = *c;
    s->ecu = ecu;
    s->tcp = tcp;
    s->udp = udp;
    s->port = port;
    s->conns = g_ptr_array_new();
    if (c->announce_to) {
        char ports[8];
        snprintf(ports, sizeof(ports), "%u", port);
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
        struct addrinfo *res = NULL;
        if (getaddrinfo(c->announce_to, ports, &hints, &res) == 0 && res) {
            struct sockaddr_storage own;
            socklen_t ol = sizeof(own);
            getsockname(udp, (struct sockaddr *)&own, &ol);
            if (res->ai_family == AF_INET && own.ss_family == AF_INET6) {
                /* A dual-stack socket reaches IPv4 through a mapped address. */
                struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
                m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xFF;
                memcpy(&m.sin6_addr.s6_addr[12],
                       &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
                memcpy(&s->announce_addr, &m, sizeof(m));
                s->announce_len = sizeof(m);
            } else {
                memcpy(&s->announce_addr, res->ai_addr, res->ai_addrlen);
                s->announce_len = res->ai_addrlen;
            }
            s->announce_left = ANNOUNCE_NUM;
            s->announce_next = uf_clock_monotonic();
        }
        if (res)
            freeaddrinfo(res);
    }
    return s;
}

void uf_doip_server_free(uf_doip_server *s)
{
    if (!s)
        return;
    flush_all(s);
    for (guint i = 0; i < s->conns->len; i++)
        conn_free(g_ptr_array_index(s->conns, i));
    g_ptr_array_free(s->conns, TRUE);
    close(s->tcp);
    close(s->udp);
    g_free(s);
}

uint16_t uf_doip_server_port(const uf_doip_server *s)
{
    return s->port;
}

static void announce(uf_doip_server *s, uf_time now)
{
    if (s->announce_left <= 0 || now < s->announce_next)
        return;
    uint8_t p[40];
    udp_reply(s, &s->announce_addr, s->announce_len, UF_DOIP_VEHICLE_ANNOUNCEMENT, p,
              (uint32_t)announcement(s, p));
    s->announce_left--;
    s->announce_next = now + ANNOUNCE_INTERVAL;
}

/* The ECU's answers that fell due, to the tester that asked. */
static void deliver(uf_doip_server *s, uf_time now)
{
    uf_responder_tick(s->ecu, now);
    size_t n;
    while ((n = uf_responder_response(s->ecu, now, s->out + 4, sizeof(s->out) - 4))) {
        if (!s->reply || s->reply->dead)
            continue; /* the tester is gone */
        uf_store_be16(s->out, s->c.ecu);
        uf_store_be16(s->out + 2, s->reply_tester);
        conn_send(s->reply, UF_DOIP_DIAGNOSTIC_MESSAGE, s->out, (uint32_t)(n + 4));
    }
}

/* Closes the dead connections, whose last words flush_all() has sent. */
static void reap(uf_doip_server *s)
{
    for (guint i = 0; i < s->conns->len;) {
        conn *k = g_ptr_array_index(s->conns, i);
        if (!k->dead) {
            i++;
            continue;
        }
        if (s->reply == k)
            s->reply = NULL;
        conn_free(k);
        g_ptr_array_remove_index(s->conns, i);
    }
}

bool uf_doip_server_run(uf_doip_server *s, uf_time until, volatile sig_atomic_t *stop,
                        uf_error *err)
{
    while (!(stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) && !uf_responder_stopped(s->ecu)) {
        uf_time now = uf_clock_monotonic();
        if (until != UF_TIME_NONE && now >= until) {
            flush_all(s);
            return true;
        }
        deliver(s, now);
        flush_all(s); /* the acknowledgements of the last pass, with answers due */
        announce(s, now);
        reap(s);
        uf_time wake = uf_responder_wakeup(s->ecu);
        if (s->announce_left > 0 && (wake == UF_TIME_NONE || s->announce_next < wake))
            wake = s->announce_next;
        if (until != UF_TIME_NONE && (wake == UF_TIME_NONE || until < wake))
            wake = until;
        uf_time deadline = now + 200 * UF_NS_PER_MS; /* stop is looked at this often */
        if (wake != UF_TIME_NONE && wake < deadline)
            deadline = wake;
        guint n = s->conns->len;
        struct pollfd *p = g_new0(struct pollfd, n + 2);
        p[0] = (struct pollfd){s->tcp, POLLIN, 0};
        p[1] = (struct pollfd){s->udp, POLLIN, 0};
        for (guint i = 0; i < n; i++)
            p[2 + i] = (struct pollfd){((conn *)g_ptr_array_index(s->conns, i))->s, POLLIN, 0};
        /* Spins first where that pays: the tester's next request is on its
         * way in about the time a sleeping process takes to wake. */
        int r = uf_poll_spinning(p, n + 2, deadline);
        if (r < 0 && errno != EINTR) {
            uf_error_set(err, "DoIP: %s", g_strerror(errno));
            g_free(p);
            flush_all(s);
            return false;
        }
        if (r > 0) {
            for (guint i = 0; i < n; i++)
                if (p[2 + i].revents)
                    conn_read(g_ptr_array_index(s->conns, i));
            if (p[1].revents & POLLIN)
                udp_read(s);
            if (p[0].revents & POLLIN)
                accept_one(s);
        }
        g_free(p);
    }
    flush_all(s);
    return true;
}
