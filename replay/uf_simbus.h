/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A simulated CAN / CAN FD bus on a virtual clock: nodes queue frames, the
 * bus arbitrates among them by identifier as ISO 11898-1 does (the lowest
 * arbitration field wins) and holds each frame for the time its bits take
 * at the configured bit rates, stuff bits included, so that a flash on it
 * takes as long as it would on a real bus. Deterministic: the same calls
 * give the same times. Pure: no clock, no socket, no thread.
 */
#ifndef UF_SIMBUS_H
#define UF_SIMBUS_H

#include "uf_capture.h"

/* ---- Frame timing (ISO 11898-1:2015 10.4, 10.5) ----------------------------*/

typedef struct uf_can_bits {
    uint32_t nominal;   /* bits at the nominal (arbitration) bit rate */
    uint32_t data;      /* bits at the data bit rate (CAN FD with BRS) */
    uint32_t stuff;     /* stuff bits among them, dynamic and fixed */
} uf_can_bits;

/* The bits of a data frame from start of frame through the 3-bit
 * intermission, with its real stuff bits (the CRC of a classic frame is
 * computed, since it is stuffed too). */
void uf_can_frame_bits(const uf_can_frame *f, uf_can_bits *out);
/* How long the frame holds the bus (ns) at bitrate / data_bitrate (bit/s;
 * data_bitrate 0: no switch). */
uf_time uf_can_frame_duration(const uf_can_frame *f, uint32_t bitrate, uint32_t data_bitrate);
/* The arbitration field as a number: the lower one wins the bus (a base
 * frame beats an extended one with the same 11 first bits). */
uint32_t uf_can_arbitration_key(const uf_can_frame *f);

/* ---- The bus ---------------------------------------------------------------*/

typedef struct uf_simbus uf_simbus;
typedef struct uf_sim_node uf_sim_node;

typedef struct uf_sim_node_ops {
    void *ctx;
    /* A frame another node sent, at the end of its transmission. */
    void (*frame)(void *ctx, const uf_can_frame *f, uf_time t);
    /* This node's oldest queued frame finished. */
    void (*sent)(void *ctx, uf_time t);
    /* When the node next wants tick (UF_TIME_NONE: not before a frame). */
    uf_time (*wakeup)(void *ctx);
    void (*tick)(void *ctx, uf_time t);
} uf_sim_node_ops;

typedef struct uf_simbus_stats {
    uint64_t frames;
    uf_time busy;        /* time the bus carried frames */
    uint32_t max_queue;  /* deepest node queue seen */
} uf_simbus_stats;

/* bitrate in bit/s (500000 for a typical powertrain bus); data_bitrate
 * for CAN FD frames with BRS (0: none). The clock starts at `start`. */
uf_simbus *uf_simbus_new(uint32_t bitrate, uint32_t data_bitrate, uf_time start);
void uf_simbus_free(uf_simbus *b);
uf_sim_node *uf_simbus_attach(uf_simbus *b, const uf_sim_node_ops *ops);
/* The node's owner is gone: it gets no more calls and sends no more;
 * what it queued is dropped. */
void uf_simbus_detach(uf_sim_node *n);
/* Queues a frame on the node (a FIFO, as a SocketCAN interface has). */
void uf_simbus_transmit(uf_sim_node *n, const uf_can_frame *f);
uf_time uf_simbus_now(const uf_simbus *b);
/* Runs the bus until `done(ctx)` is true (checked after every event;
 * returns true) or the clock reaches `until` (returns false, the clock is
 * then `until`; INT64_MAX: until nothing is left to happen, the clock
 * where the last event left it). done may be NULL. */
bool uf_simbus_run(uf_simbus *b, uf_time until, bool (*done)(void *ctx), void *ctx);
/* Called for every frame as it finishes (a capture of the bus); NULL: none. */
void uf_simbus_tap(uf_simbus *b, void (*tap)(void *ctx, const uf_can_frame *f, uf_time t),
                   void *ctx);
void uf_simbus_get_stats(const uf_simbus *b, uf_simbus_stats *out);

#endif /* UF_SIMBUS_H */
