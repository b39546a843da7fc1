/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP over real TCP and UDP on loopback: the client channel against the
 * udsecu entity (a whole flash, IPv4 and IPv6; routing activation denied;
 * unknown target addresses; NACK and disconnect faults; discovery and
 * announcements on UDP; entity status; a broken header answered with a
 * generic NACK), and against a scripted entity for what udsecu never does
 * (alive checks, a missing ACK).
 */
#include "helpers.h"
#include "uf_doip.h"
#include "uf_doip_server.h"
#include "uf_flash.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct entity {
    uf_ecu *ecu;
    uf_doip_server *server;
    GThread *thread;
    volatile sig_atomic_t stop;
    uint16_t port;
} entity;

static gpointer serve(gpointer p)
{
    entity *e = p;
    uf_error err;
    if (!uf_doip_server_run(e->server, UF_TIME_NONE, &e->stop, &err))
        g_warning("%s", err.msg);
    return NULL;
}

static void entity_start(entity *e, const uf_ecu_config *ec, const char *listen,
                         const char *announce_to)
{
    memset(e, 0, sizeof(*e));
    uf_ecu_config d;
    if (!ec) {
        uf_ecu_config_defaults(&d);
        ec = &d;
    }
    e->ecu = uf_ecu_new(ec, NULL, NULL, NULL, uf_clock_monotonic());
    uf_doip_server_config c;
    uf_doip_server_defaults(&c);
    c.port = 0;
    c.listen = listen;
    c.announce_to = announce_to;
    uf_error err;
    e->server = uf_doip_server_new(&c, uf_ecu_responder(e->ecu), &err);
    cr_assert(e->server, "%s", err.msg);
    e->port = uf_doip_server_port(e->server);
    cr_assert_gt(e->port, 0);
    e->thread = g_thread_new("doip-entity", serve, e);
}

static void entity_stop(entity *e)
{
    e->stop = 1;
    g_thread_join(e->thread);
    uf_doip_server_free(e->server);
    uf_ecu_free(e->ecu);
}

static uf_channel *client(const entity *e, const char *host, uint16_t tester, uf_error *err)
{
    uf_doip_client_config c;
    uf_doip_client_defaults(&c);
    c.host = host;
    c.port = e->port;
    c.tester = tester;
    return uf_channel_doip(&c, err);
}

static uint8_t *image_of(uint32_t n)
{
    uint8_t *p = g_malloc(n);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i ^ (i >> 7));
    memcpy(p + 8, "03.01.00", 8);
    return p;
}

static void flash_over(const char *host, const char *listen)
{
    entity e;
    entity_start(&e, NULL, listen, NULL);
    uf_error err;
    uf_channel *ch = client(&e, host, 0x0E80, &err);
    cr_assert(ch, "%s", err.msg);
    uint8_t *image = image_of(20000);
    uf_flash_plan plan = {.image = image, .size = 20000, .address = 0x00080000,
                          .functional_pre = true, .margin = 100 * UF_NS_PER_MS};
    uf_flash_result res;
    cr_assert(uf_flash_run(ch, &plan, &res, &err), "%s", err.msg);
    cr_assert(memcmp(res.version_after, "03.01.00", 8) == 0);
    cr_assert(memcmp(uf_ecu_flash(e.ecu) + 0x70000, image, 20000) == 0);
    cr_assert(strstr(ch->name, "0x0E80->0x0010"), "%s", ch->name);
    uf_channel_free(ch);
    g_free(image);
    entity_stop(&e);
}

Test(doip_channel, a_whole_flash_over_ipv4)
{
    flash_over("127.0.0.1", "127.0.0.1");
}

Test(doip_channel, a_whole_flash_over_ipv6)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool v6 = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (s >= 0)
        close(s);
    if (!v6)
        cr_skip_test("no IPv6 loopback (::1) on this machine");
    flash_over("::1", NULL);
}

Test(doip_channel, routing_and_addresses_refused)
{
    entity e;
    entity_start(&e, NULL, "127.0.0.1", NULL);
    uf_error err;
    /* 0x0001 is no tester address (0x0E00-0x0FFF): denied, code 0x00. */
    cr_assert_null(client(&e, "127.0.0.1", 0x0001, &err));
    cr_assert(strstr(err.msg, "routing activation denied: code 0x00"), "%s", err.msg);
    /* A target the entity does not know: NACK 0x03. */
    uf_doip_client_config c;
    uf_doip_client_defaults(&c);
    c.host = "127.0.0.1";
    c.port = e.port;
    c.target = 0x0077;
    uf_channel *ch = uf_channel_doip(&c, &err);
    cr_assert(ch, "%s", err.msg);
    const uint8_t q[] = {0x10, 0x03};
    cr_assert_not(uf_channel_send(ch, q, sizeof(q), false, &err));
    cr_assert(strstr(err.msg, "NACK 0x03 unknownTargetAddress"), "%s", err.msg);
    uf_channel_free(ch);
    /* Refused connection: nothing listens there. */
    c.port = 1;
    cr_assert_null(uf_channel_doip(&c, &err));
    cr_assert(strstr(err.msg, "connection refused"), "%s", err.msg);
    entity_stop(&e);
}

Test(doip_channel, nack_and_disconnect_faults)
{
    uf_ecu_config ec;
    uf_ecu_config_defaults(&ec);
    uf_error err;
    cr_assert(uf_ecu_fault_parse("doip-nack,sid=0x22,n=1,nrc=0x06", &ec.faults[0], &err));
    cr_assert(uf_ecu_fault_parse("doip-close,sid=0x3E,n=1", &ec.faults[1], &err));
    ec.n_faults = 2;
    entity e;
    entity_start(&e, &ec, "127.0.0.1", NULL);
    uf_channel *ch = client(&e, "127.0.0.1", 0x0E80, &err);
    cr_assert(ch, "%s", err.msg);
    const uint8_t rd[] = {0x22, 0xF1, 0x90}, tp[] = {0x3E, 0x00};
    cr_assert_not(uf_channel_send(ch, rd, sizeof(rd), false, &err));
    cr_assert(strstr(err.msg, "NACK 0x06"), "%s", err.msg);
    uint8_t resp[64];
    size_t n;
    uint8_t nrc;
    cr_assert_eq(uf_flash_exchange(ch, rd, sizeof(rd), false, 100 * UF_NS_PER_MS,
                                   UF_NS_PER_S, resp, sizeof(resp), &n, &nrc, NULL, &err), 1,
                 "%s", err.msg);
    cr_assert_eq(n, 20);
    cr_assert_not(uf_channel_send(ch, tp, sizeof(tp), false, &err));
    cr_assert(strstr(err.msg, "closed the connection"), "%s", err.msg);
    uf_channel_free(ch);
    entity_stop(&e);
}

/* A UDP socket bound to addr:port, 200 ms receive timeout. */
static int udp_at(const char *addr, uint16_t port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0, "%s", g_strerror(errno));
    return s;
}

static ssize_t udp_wait(int s, uint8_t *buf, size_t cap)
{
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0)
        return -1;
    return recv(s, buf, cap, 0);
}

Test(doip_channel, discovery_on_udp)
{
    entity e;
    entity_start(&e, NULL, "127.0.0.1", NULL);
    int s = udp_at("127.0.0.1", 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(e.port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    uint8_t q[32], buf[128];
    /* Vehicle identification (any vehicle): the announcement comes back. */
    size_t n = uf_doip_encode(q, UF_DOIP_VEHICLE_ID_REQUEST, NULL, 0);
    sendto(s, q, n, 0, (struct sockaddr *)&to, sizeof(to));
    ssize_t r = udp_wait(s, buf, sizeof(buf));
    cr_assert_eq(r, 8 + 33);
    uf_doip_decoded d;
    uf_doip_decode(buf, (uint32_t)r - 8, &d);
    cr_assert_eq(d.type, UF_DOIP_VEHICLE_ANNOUNCEMENT);
    cr_assert(d.vin && memcmp(d.vin, "WVWZZZ1KZBW000042", 17) == 0);
    cr_assert(d.has_sa && d.sa == 0x1000, "entity 0x%04X", d.sa);
    /* By VIN: another VIN gets no answer, ours does. */
    n = uf_doip_encode(q, UF_DOIP_VEHICLE_ID_REQUEST_VIN, (const uint8_t *)"XXXXXXXXXXXXXXXXX", 17);
    sendto(s, q, n, 0, (struct sockaddr *)&to, sizeof(to));
    n = uf_doip_encode(q, UF_DOIP_ENTITY_STATUS_REQUEST, NULL, 0);
    sendto(s, q, n, 0, (struct sockaddr *)&to, sizeof(to));
    r = udp_wait(s, buf, sizeof(buf));
    cr_assert_gt(r, 8);
    cr_assert_eq(uf_load_be16(buf + 2), UF_DOIP_ENTITY_STATUS_RESPONSE, "0x%04X",
                 uf_load_be16(buf + 2));
    /* A broken header: a generic NACK (incorrect pattern, code 0x00). */
    uint8_t bad[8] = {0x03, 0x00, 0x00, 0x01, 0, 0, 0, 0};
    sendto(s, bad, sizeof(bad), 0, (struct sockaddr *)&to, sizeof(to));
    r = udp_wait(s, buf, sizeof(buf));
    cr_assert_eq(r, 9);
    cr_assert_eq(uf_load_be16(buf + 2), UF_DOIP_GENERIC_NACK);
    cr_assert_eq(buf[8], 0x00);
    close(s);
    entity_stop(&e);
}

Test(doip_channel, announcements_at_start)
{
    /* The entity listens on 127.0.0.1 and announces to 127.0.0.2, where
     * this test waits on the same port. */
    entity probe;
    entity_start(&probe, NULL, "127.0.0.1", NULL);
    uint16_t port = probe.port;
    entity_stop(&probe);
    int s = udp_at("127.0.0.2", port);
    uf_ecu_config ec;
    uf_ecu_config_defaults(&ec);
    uf_ecu *ecu = uf_ecu_new(&ec, NULL, NULL, NULL, uf_clock_monotonic());
    uf_doip_server_config c;
    uf_doip_server_defaults(&c);
    c.port = port;
    c.listen = "127.0.0.1";
    c.announce_to = "127.0.0.2";
    uf_error err;
    uf_doip_server *srv = uf_doip_server_new(&c, uf_ecu_responder(ecu), &err);
    cr_assert(srv, "%s", err.msg);
    uf_time t0 = uf_clock_monotonic();
    cr_assert(uf_doip_server_run(srv, t0 + 1200 * UF_NS_PER_MS, NULL, &err), "%s", err.msg);
    uint8_t buf[128];
    int got = 0;
    while (udp_wait(s, buf, sizeof(buf)) == 8 + 33)
        got += uf_load_be16(buf + 2) == UF_DOIP_VEHICLE_ANNOUNCEMENT;
    cr_assert_eq(got, 3); /* A_DoIP_Announce_Num, 500 ms apart */
    close(s);
    uf_doip_server_free(srv);
    uf_ecu_free(ecu);
}

Test(doip_channel, broken_header_on_tcp)
{
    entity e;
    entity_start(&e, NULL, "127.0.0.1", NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(e.port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    cr_assert_eq(connect(s, (struct sockaddr *)&to, sizeof(to)), 0);
    uint8_t bad[8] = {0x02, 0x02, 0x80, 0x01, 0, 0, 0, 4};
    cr_assert_eq(send(s, bad, sizeof(bad), 0), 8);
    uint8_t buf[64];
    struct pollfd p = {s, POLLIN, 0};
    cr_assert_gt(poll(&p, 1, 2000), 0);
    cr_assert_eq(recv(s, buf, sizeof(buf), 0), 9);
    cr_assert_eq(uf_load_be16(buf + 2), UF_DOIP_GENERIC_NACK);
    /* Then the entity closes the socket. */
    cr_assert_gt(poll(&p, 1, 2000), 0);
    cr_assert_eq(recv(s, buf, sizeof(buf), 0), 0);
    close(s);
    entity_stop(&e);
}

/* ---- a scripted entity -----------------------------------------------------------*/

typedef struct script {
    int listen;
    uint16_t port;
    bool ack;            /* acknowledge diagnostic messages */
    GThread *thread;
    bool alive_answered;
} script;

static gpointer run_script(gpointer p)
{
    script *sc = p;
    int c = accept(sc->listen, NULL, NULL);
    uint8_t buf[256], out[64];
    /* Routing activation request, answered with success. */
    recv(c, buf, sizeof(buf), 0);
    uint8_t ra[9] = {0x0E, 0x80, 0x10, 0x00, UF_DOIP_ROUTING_SUCCESS, 0, 0, 0, 0};
    send(c, out, uf_doip_encode(out, UF_DOIP_ROUTING_ACTIVATION_RESPONSE, ra, 9), 0);
    /* An alive check; the tester must answer with its address. */
    send(c, out, uf_doip_encode(out, UF_DOIP_ALIVE_CHECK_REQUEST, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        struct pollfd pf = {c, POLLIN, 0};
        if (poll(&pf, 1, 3000) <= 0)
            break;
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        /* TCP may bring both messages in one read: each in turn. */
        for (ssize_t at = 0; n > 0 && at + 8 <= n;) {
            const uint8_t *m = buf + at;
            uint32_t len = uf_load_be32(m + 4);
            if (uf_load_be16(m + 2) == UF_DOIP_ALIVE_CHECK_RESPONSE && len >= 2)
                sc->alive_answered = uf_load_be16(m + 8) == 0x0E80;
            if (uf_load_be16(m + 2) == UF_DOIP_DIAGNOSTIC_MESSAGE && sc->ack) {
                uint8_t ack[5] = {0x00, 0x10, 0x0E, 0x80, 0x00};
                send(c, out, uf_doip_encode(out, UF_DOIP_DIAGNOSTIC_ACK, ack, 5), 0);
            }
            at += 8 + (ssize_t)len;
        }
    }
    g_usleep(500000);
    close(c);
    return NULL;
}

static void script_start(script *sc, bool ack)
{
    memset(sc, 0, sizeof(*sc));
    sc->ack = ack;
    sc->listen = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(bind(sc->listen, (struct sockaddr *)&a, sizeof(a)), 0);
    listen(sc->listen, 1);
    socklen_t l = sizeof(a);
    getsockname(sc->listen, (struct sockaddr *)&a, &l);
    sc->port = ntohs(a.sin_port);
    sc->thread = g_thread_new("script", run_script, sc);
}

Test(doip_channel, alive_check_answered_and_a_missing_ack)
{
    script sc;
    script_start(&sc, false);
    uf_doip_client_config c;
    uf_doip_client_defaults(&c);
    c.port = sc.port;
    c.ack_timeout = 300 * UF_NS_PER_MS;
    uf_error err;
    uf_channel *ch = uf_channel_doip(&c, &err);
    cr_assert(ch, "%s", err.msg);
    const uint8_t q[] = {0x3E, 0x00};
    uf_time t0 = uf_clock_monotonic();
    cr_assert_not(uf_channel_send(ch, q, sizeof(q), false, &err));
    cr_assert(strstr(err.msg, "no diagnostic message ACK within 300 ms"), "%s", err.msg);
    cr_assert_geq(uf_clock_monotonic() - t0, 300 * UF_NS_PER_MS);
    uf_channel_free(ch);
    g_thread_join(sc.thread);
    close(sc.listen);
    cr_assert(sc.alive_answered);
}
