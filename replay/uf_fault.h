/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults injected on a tool's own link (udsreplay flash, reproduce and ecu
 * --fault SPEC --seed N): frames or messages dropped, delayed or
 * corrupted, flow control delayed or altered, the link lost or the CAN
 * controller bus-off from a TransferData block on, a DoIP connection cut.
 * They act where the tool meets its link, at the lowest layer it has:
 *   - on CAN (raw SocketCAN, the simulated bus), a medium between the
 *     ISO-TP endpoint and the bus: every fault, frames included;
 *   - on DoIP or the kernel's ISO-TP, a channel (the tester) or a
 *     responder (the ECU) that sees whole messages.
 * What is sent and dropped never reaches the bus; what is received and
 * dropped was on the bus (a recording shows it) but never reaches the
 * tool. Deterministic: the same link traffic and the same seed inject the
 * same faults, so on the simulated bus the same command records the same
 * capture byte for byte. Each fault injected is logged with its time.
 *
 * Spec: KIND[,NAME=VALUE...], as udsecu's --fault:
 *   drop | delay,ms=M | corrupt[,byte=B][,mask=X]   one of
 *         frame=N (the Nth CAN frame), msg=N (the Nth message),
 *         block=K (the Kth TransferData request), p=P (each frame on CAN,
 *         each message otherwise, with probability P)
 *         [,dir=tx|rx]: what the tool sends (default) or receives
 *   fc[,n=N][,dir=tx|rx][,ms=M][,bs=B][,stmin=S][,status=cts|wait|overflow]
 *         the Nth flow control frame (every one without n) delayed or
 *         altered
 *   link-loss,block=K[,ms=M]   from the Kth TransferData on, nothing passes
 *                              either way (for M ms; for good without)
 *   bus-off,block=K[,ms=M]     CAN: writes fail and nothing is received,
 *                              until the controller restarts after M ms
 *   disconnect,block=K | disconnect,msg=N   DoIP: the TCP connection closes
 */
#ifndef UF_FAULT_H
#define UF_FAULT_H

#include "uf_responder.h"
#include "uf_transport.h"

#include <glib.h>
#include <stdio.h>

typedef enum uf_link_fault_kind {
    UF_LINK_DROP,
    UF_LINK_DELAY,
    UF_LINK_CORRUPT,
    UF_LINK_FC,
    UF_LINK_LOSS,
    UF_LINK_BUS_OFF,
    UF_LINK_DISCONNECT,
} uf_link_fault_kind;

typedef enum uf_link_unit {
    UF_ON_FRAME,     /* the nth frame in dir */
    UF_ON_MESSAGE,   /* the nth message in dir */
    UF_ON_BLOCK,     /* the nth TransferData request, either way */
    UF_ON_CHANCE,    /* each frame (CAN) or message, with probability p */
    UF_ON_FC,        /* the nth flow control frame in dir; 0: each */
} uf_link_unit;

typedef enum uf_link_dir {
    UF_DIR_TX = 1,
    UF_DIR_RX = 2,
    UF_DIR_ANY = 3,
} uf_link_dir;

typedef struct uf_link_fault {
    uf_link_fault_kind kind;
    uf_link_unit unit;
    uf_link_dir dir;
    uint32_t nth;
    double p;
    uint32_t ms;          /* delay; outage (0: for good) */
    int byte;             /* corrupt: the byte of the frame / message; -1: drawn */
    uint8_t mask;         /* corrupt: XORed into it; 0: drawn (never 0) */
    bool set_bs, set_stmin, set_status;
    uint8_t bs, stmin, status;
    char text[80];        /* the spec as given, for the log */
} uf_link_fault;

/* False with err naming the spec and what is wrong. */
bool uf_link_fault_parse(const char *text, uf_link_fault *out, uf_error *err);

/* ---- the injector of one link ----------------------------------------------------*/

typedef struct uf_fault_event {
    uf_time time;         /* the link's clock */
    unsigned fault;       /* index of the spec */
    char what[176];
} uf_fault_event;

typedef struct uf_faults uf_faults;

/* What the link it wraps can do. */
enum {
    UF_LINK_CAN_FRAMES = 1u << 0,  /* frames, flow control, bus-off */
    UF_LINK_DOIP = 1u << 1,        /* a TCP connection to cut */
};

uf_faults *uf_faults_new(const uf_link_fault *faults, size_t n, uint64_t seed);
void uf_faults_free(uf_faults *f);
/* False with err when a spec needs what this link does not have (frames
 * on DoIP, a disconnect on CAN); `link` names it in the sentence. */
bool uf_link_faults_check(const uf_link_fault *specs, size_t n, unsigned caps, const char *link,
                          uf_error *err);
bool uf_faults_check(const uf_faults *f, unsigned caps, const char *link, uf_error *err);
/* Each fault as it is injected (called on the link's thread); NULL: none. */
void uf_faults_on_event(uf_faults *f, void (*cb)(void *ctx, const uf_fault_event *e), void *ctx);
/* Everything injected, in order (uf_fault_event). */
const GArray *uf_faults_events(const uf_faults *f);
size_t uf_faults_count(const uf_faults *f);
const uf_link_fault *uf_faults_spec(const uf_faults *f, size_t i);
/* How many times spec i acted. */
uint32_t uf_faults_hits(const uf_faults *f, size_t i);
uint64_t uf_faults_seed(const uf_faults *f);
/* The time the report counts from: when the link opened. */
void uf_faults_set_origin(uf_faults *f, uf_time t);
uf_time uf_faults_origin(const uf_faults *f);

/* In a run's report (fault/report.c): the seed, each fault injected with
 * its time since the origin, the specs that never acted. f may be NULL. */
void uf_faults_report_text(FILE *out, const uf_faults *f, const char *indent);
/* {"seed", "specs": [{"spec", "acted"}], "injected": [{"time", "spec", "what"}]} */
void uf_faults_report_json(uf_json *j, const uf_faults *f);

/* ---- where they act (each takes its inner one and frees it) ----------------------*/

/* Between an ISO-TP endpoint and a CAN medium; pci_offset is 1 with
 * extended or mixed addressing (the address byte first). */
uf_can_medium *uf_can_medium_faulty(uf_can_medium *inner, uf_faults *f, unsigned pci_offset);
/* A tester's channel (DoIP, kernel ISO-TP). */
uf_channel *uf_channel_faulty(uf_channel *inner, uf_faults *f);
/* A DoIP connection that was cut is opened again by the caller; the new
 * channel is wrapped with the same injector (counts go on). */

/* An ECU's responder, for transports that hand it whole messages (DoIP,
 * kernel ISO-TP). The wrapper lives until uf_faulty_responder_free. */
typedef struct uf_faulty_responder uf_faulty_responder;
uf_faulty_responder *uf_faulty_responder_new(uf_responder inner, uf_faults *f);
uf_responder uf_faulty_responder_get(uf_faulty_responder *r);
void uf_faulty_responder_free(uf_faulty_responder *r);

/* ---- the decisions the wrappers share (fault/faults.c) ---------------------------*/

/* What to do with one frame or message. */
typedef struct uf_fault_verdict {
    bool drop;            /* it vanishes (sent: never on the bus; received: never seen) */
    bool fail;            /* a write fails: the controller is bus-off */
    bool disconnect;      /* the DoIP connection closes instead */
    uf_time delay;        /* held this long */
    const char *why;      /* the spec, for an error sentence */
} uf_fault_verdict;

/* A CAN frame crossing the medium (it may be altered in place). */
void uf_faults_frame(uf_faults *f, uf_link_dir dir, uf_can_frame *frame, unsigned pci_offset,
                     uf_time now, uf_fault_verdict *v);
/* A whole UDS message (it may be altered in place). */
void uf_faults_message(uf_faults *f, uf_link_dir dir, uint8_t *p, size_t n, uf_time now,
                       uf_fault_verdict *v);
/* Logs an event the wrapper itself saw (a held frame overflowing). */
void uf_faults_note(uf_faults *f, uf_time t, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif /* UF_FAULT_H */
