/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Transports: one interface, the channel, to send and receive UDS
 * messages over every medium udsreplay and udsecu use:
 *   - ISO-TP with the project's userspace endpoint over a CAN medium: the
 *     simulated bus (virtual clock) or SocketCAN raw CAN / CAN FD;
 *   - SocketCAN kernel ISO-TP (CAN_ISOTP sockets);
 *   - DoIP over TCP, IPv4 or IPv6 (a client: routing activation, ACKs,
 *     alive checks).
 * Every call is bounded in time: sends by the protocol's own timeouts
 * (N_As, N_Bs, the DoIP ACK), receives by the caller's deadline. Failures
 * come back as a sentence naming the interface or the address.
 */
#ifndef UF_TRANSPORT_H
#define UF_TRANSPORT_H

#include "uf_isotp_ep.h"
#include "uf_simbus.h"

#include <poll.h>

/* A received UDS message. */
typedef struct uf_channel_msg {
    uint8_t *data;   /* owned by the transport until the next call */
    size_t len;
    bool functional; /* it came to a functional address */
    uf_time time;    /* when its last frame / segment arrived */
} uf_channel_msg;

typedef struct uf_channel uf_channel;

typedef struct uf_channel_ops {
    bool (*send)(uf_channel *t, const uint8_t *p, size_t n, bool functional, uf_error *err);
    /* 1: a message arrived; 0: the deadline passed; -1: the transport failed. */
    int (*recv)(uf_channel *t, uf_channel_msg *m, uf_time deadline, uf_error *err);
    uf_time (*now)(uf_channel *t);
    void (*free)(uf_channel *t);
} uf_channel_ops;

struct uf_channel {
    const uf_channel_ops *ops;
    char name[160];  /* "vcan0 0x7E0->0x7E8", "DoIP 127.0.0.1:13400 0x0E80->0x0010" */
};

static inline bool uf_channel_send(uf_channel *t, const uint8_t *p, size_t n, bool functional,
                                     uf_error *err)
{
    return t->ops->send(t, p, n, functional, err);
}

static inline int uf_channel_recv(uf_channel *t, uf_channel_msg *m, uf_time deadline,
                                    uf_error *err)
{
    return t->ops->recv(t, m, deadline, err);
}

static inline uf_time uf_channel_now(uf_channel *t)
{
    return t->ops->now(t);
}

static inline void uf_channel_free(uf_channel *t)
{
    if (t)
        t->ops->free(t);
}

/* ---- CAN media: what the userspace ISO-TP endpoint runs over ----------------*/

typedef struct uf_can_medium uf_can_medium;

typedef struct uf_can_medium_ops {
    /* Puts a frame on the bus; returns once it left (the time it left in
     * *sent), bounded by N_As (ISO 15765-2:2016 9.8.2). */
    bool (*write)(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err);
    /* 1: a frame (and its time); 0: deadline; -1: failure. */
    int (*read)(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline, uf_error *err);
    uf_time (*now)(uf_can_medium *m);
    void (*free)(uf_can_medium *m);
    /* Optional: puts f[0, n) on the bus back to back and returns once all
     * of them left, as write does one frame (the time each left in
     * sent[0, n)). A medium without it is written one frame at a time. */
    bool (*write_burst)(uf_can_medium *m, const uf_can_frame *f, size_t n, uf_time *sent,
                        uf_error *err);
} uf_can_medium_ops;

struct uf_can_medium {
    const uf_can_medium_ops *ops;
    char name[64];
};

/* A node on a simulated bus: writing runs the bus until the frame is
 * through; reading runs it until a frame comes or the deadline. */
uf_can_medium *uf_can_medium_sim(uf_simbus *bus, const char *name);

/* Several testers on one simulated bus, each in its own thread: the bus
 * runs only while every one of them waits (sim_medium.c says why), so the
 * virtual clock and the result do not depend on the threads' timing. The
 * group does not own the bus; free it after every medium of it. */
typedef struct uf_simbus_group uf_simbus_group;
uf_simbus_group *uf_simbus_group_new(uf_simbus *bus);
void uf_simbus_group_free(uf_simbus_group *g);
/* A node of the group's bus; freeing the medium leaves the group. */
uf_can_medium *uf_can_medium_sim_shared(uf_simbus_group *g, const char *name);

/* SocketCAN raw (CAN_RAW) on an interface, CAN FD if fd. The filter takes
 * the ids the endpoint listens to (0 entries: all). NULL with err if the
 * kernel has no AF_CAN or the interface is missing. */
uf_can_medium *uf_can_medium_socketcan(const char *ifname, bool fd, const uint32_t *ids,
                                       size_t n_ids, uf_error *err);

/* The userspace ISO-TP endpoint over a CAN medium (the transport owns it). */
uf_channel *uf_channel_isotp(uf_can_medium *m, const uf_isotp_ep_config *c);

/* ---- SocketCAN kernel ISO-TP ----------------------------------------------------*/

/* The kernel's ISO-TP (CAN_ISOTP) with the same configuration: ids,
 * addressing, padding, CAN FD and TX_DL, our BS / STmin / N_WFTmax. */
uf_channel *uf_channel_kernel_isotp(const char *ifname, const uf_isotp_ep_config *c,
                                        uf_error *err);

/* ---- DoIP client ---------------------------------------------------------------*/

/* What a DoIP connection carries, for a recording (udsreplay --record):
 * its two ends when it opens, the bytes each way as they go, its end. */
typedef struct uf_doip_tap {
    void *ctx;
    /* Addresses as sockaddr_in or sockaddr_in6; returns the connection's
     * own handle for the two others (a reconnection opens the new one
     * before the old one closes). */
    void *(*opened)(void *ctx, const void *local, const void *peer, uf_time t);
    void (*bytes)(void *conn, bool sent, const uint8_t *p, size_t n, uf_time t);
    void (*closed)(void *conn, uf_time t);
} uf_doip_tap;

typedef struct uf_doip_client_config {
    const char *host;        /* "127.0.0.1", "fd00::10", a name */
    uint16_t port;           /* 13400 */
    uint16_t tester;         /* our logical address: 0x0E80 */
    uint16_t target;         /* the ECU's: 0x0010 */
    uint16_t functional;     /* functional group: 0xE400 */
    uint8_t activation_type; /* 0x00 default */
    uf_time connect_timeout; /* 2 s */
    uf_time ack_timeout;     /* A_DoIP_Diagnostic_Message: 2 s */
    const uf_doip_tap *tap;  /* NULL: none */
} uf_doip_client_config;

void uf_doip_client_defaults(uf_doip_client_config *c);
/* Connects and activates routing; NULL with err if the connection is
 * refused, times out, or the entity denies routing (the code named). */
uf_channel *uf_channel_doip(const uf_doip_client_config *c, uf_error *err);

/* ---- clock ------------------------------------------------------------------*/

/* CLOCK_MONOTONIC in ns: the time of real transports. */
uf_time uf_clock_monotonic(void);

/* poll() until the deadline (monotonic ns; UF_TIME_NONE: none), asking
 * without sleeping for the first 200 us when that pays: the peer's answer
 * on loopback or vcan comes sooner than a sleeping process wakes. It does
 * not pay, and is skipped, in a process bound to one CPU or at real-time
 * priority (the spin would keep the peer off the CPU). Returns poll's
 * result: -1 with errno, EINTR too. (transport/poll_spin.c) */
int uf_poll_spinning(struct pollfd *p, nfds_t n, uf_time deadline);
/* How long a wait that starts now may spin: 200 us or 0 (see above). */
uf_time uf_poll_spin_budget(uf_time now);

#endif /* UF_TRANSPORT_H */
