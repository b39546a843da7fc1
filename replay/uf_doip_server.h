/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsecu as a DoIP entity (ISO 13400-2:2019): vehicle announcements and
 * identification responses on UDP port 13400 (7.3), TCP connections with
 * routing activation (7.4), diagnostic messages acknowledged or refused
 * (7.7) and passed to the ECU (a responder: udsecu's, or a recording's),
 * whose answers go back to the tester that asked; entity status and power
 * mode (7.5). IPv4 and IPv6.
 */
#ifndef UF_DOIP_SERVER_H
#define UF_DOIP_SERVER_H

#include "uf_ecu.h"

#include <signal.h>

typedef struct uf_doip_server_config {
    const char *listen;          /* an address to listen on; NULL: every IPv6 and IPv4 one */
    uint16_t port;               /* 13400; 0: any free port (tests) */
    uint16_t entity;             /* the entity's logical address: 0x1000 */
    uint16_t ecu;                /* the ECU's: 0x0010 */
    uint16_t functional;         /* the functional group: 0xE400 */
    char vin[18];
    uint8_t eid[6], gid[6];
    const char *announce_to;     /* announcements at start to this address; NULL: none */
    uint32_t max_sockets;        /* TCP_DATA connections at once: 4 */
} uf_doip_server_config;

void uf_doip_server_defaults(uf_doip_server_config *c);

typedef struct uf_doip_server uf_doip_server;

/* Opens the sockets; NULL with err if the port is taken or the address
 * is not one of this machine. */
uf_doip_server *uf_doip_server_new(const uf_doip_server_config *c, uf_responder ecu,
                                   uf_error *err);
void uf_doip_server_free(uf_doip_server *s);
/* The TCP port it listens on. */
uint16_t uf_doip_server_port(const uf_doip_server *s);
/* Serves until *stop is set (by a signal handler, or by another thread
 * with an atomic store), the ECU's power is cut (a stop fault), or
 * `until` (monotonic; UF_TIME_NONE: no end). False with err on a failure
 * of the sockets. */
bool uf_doip_server_run(uf_doip_server *s, uf_time until, volatile sig_atomic_t *stop,
                        uf_error *err);

#endif /* UF_DOIP_SERVER_H */
