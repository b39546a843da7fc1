/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Records what a replay drove as a pcapng file (the pcapng draft of the
 * IETF OPSAWG, sections 4.1-4.3), streamed frame by frame: one interface
 * per bus, LINKTYPE_CAN_SOCKETCAN (227) records with the CAN id in network
 * byte order; one Ethernet interface (LINKTYPE_ETHERNET, 1) for DoIP, its
 * TCP connections written as the packets a capture would hold;
 * nanosecond timestamps. `udsflash check` reads it back, so a reflash is
 * judged by the same rules as the golden session.
 */
#ifndef UF_RECORDER_H
#define UF_RECORDER_H

#include "uf_net_build.h"
#include "uf_transport.h"

typedef struct uf_recorder uf_recorder;

/* Creates `path` (through `path.part`, renamed when closed). */
uf_recorder *uf_recorder_open(const char *path, uf_error *err);
/* An interface (a bus): its index for the records; the same name gives
 * the same interface. Every call is safe from several threads. */
uint32_t uf_recorder_can_interface(uf_recorder *r, const char *name);
uint32_t uf_recorder_ethernet_interface(uf_recorder *r, const char *name);
void uf_recorder_can(uf_recorder *r, uint32_t iface, const uf_can_frame *f, uf_time t);
/* A record of any link type, as it is. */
void uf_recorder_packet(uf_recorder *r, uint32_t iface, const uint8_t *data, uint32_t len,
                        uf_time t);
/* Finishes the file; false with err if any write failed (the file is
 * then removed). */
bool uf_recorder_close(uf_recorder *r, uf_error *err);

/* A TCP connection on an Ethernet interface: the handshake when it opens
 * (host 0 of the flow opened it), a segment per MSS of data each way, the
 * orderly close, which frees it. */
typedef struct uf_recorder_tcp uf_recorder_tcp;
uf_recorder_tcp *uf_recorder_tcp_open(uf_recorder *r, uint32_t iface, const uf_net_flow *flow,
                                      uf_time t);
void uf_recorder_tcp_data(uf_recorder_tcp *c, int from, const uint8_t *p, size_t n, uf_time t);
void uf_recorder_tcp_close(uf_recorder_tcp *c, uf_time t);

/* A CAN medium that shows every frame written and read to `tap` (tx true
 * for ours) before passing it on; it owns `inner`. */
uf_can_medium *uf_can_medium_tap(uf_can_medium *inner,
                                 void (*tap)(void *ctx, const uf_can_frame *f, uf_time t, bool tx),
                                 void *ctx);

#endif /* UF_RECORDER_H */
