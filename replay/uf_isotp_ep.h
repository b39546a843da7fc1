/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An active ISO-TP endpoint (ISO 15765-2:2016), the userspace one udsreplay
 * and udsecu speak over raw CAN and the simulated bus: as sender it obeys
 * the receiver's flow control (BS, STmin with the 100-900 us codes, WAIT up
 * to N_WFTmax, OVFLW) and N_Bs (9.6.5, 9.7, 9.8.2); as receiver it sends
 * flow control with its own BS / STmin and enforces N_Cr and the sequence
 * numbers (9.6.4). It uses the analyzer's PCI codec and segmenter.
 *
 * Pure: CAN frames and the time go in, frames to send and events come out.
 * The caller owns the clock and the bus: it hands received frames to
 * uf_isotp_ep_input, sends what uf_isotp_ep_output gives it, confirms each
 * sent frame with uf_isotp_ep_sent, and calls uf_isotp_ep_tick no later
 * than uf_isotp_ep_wakeup.
 */
#ifndef UF_ISOTP_EP_H
#define UF_ISOTP_EP_H

#include "uf_isotp.h"

typedef struct uf_isotp_ep_config {
    /* Physical: the frames we send (tx) and receive (rx). Ids carry
     * UF_ISOTP_EFF for 29 bits. */
    uint32_t tx_id, rx_id;
    /* Functional: a tester sends single frames to functional_tx_id; an ECU
     * takes single frames from functional_rx_id. 0: none. */
    uint32_t functional_tx_id, functional_rx_id;
    /* Addressing, TX_DL, CAN FD, padding of what we send (tx.addr is the
     * partner's N_TA, or the N_AE, for extended / mixed addressing). */
    uf_isotp_tx_params tx;
    uf_isotp_tx_params functional_tx;
    /* Extended / mixed: the address byte frames to us carry (-1: any). */
    int16_t rx_addr;
    /* Our flow control as a receiver. */
    uint8_t bs, stmin;
    uint8_t fc_waits;           /* FC.WAIT frames before each CTS (to test senders) */
    /* Limits (ISO 15765-2:2016 Table 16). */
    uf_time n_bs, n_cr;         /* 1000 ms each */
    uint32_t wft_max;           /* FC.WAIT in a row a sender accepts */
    uint32_t rx_max;            /* largest message taken; a longer FF gets FC.OVFLW */
} uf_isotp_ep_config;

/* Normal addressing, classic CAN, padded with 0xCC, BS 0, STmin 0, N_Bs and
 * N_Cr 1000 ms, N_WFTmax 10, 4095 bytes at most. */
void uf_isotp_ep_config_defaults(uf_isotp_ep_config *c, uint32_t tx_id, uint32_t rx_id);

typedef struct uf_isotp_ep_sink {
    void *ctx;
    /* A complete message; data is valid during the call. */
    void (*received)(void *ctx, const uint8_t *data, size_t len, bool functional, uf_time t);
    /* The message given to uf_isotp_ep_send left completely. */
    void (*sent)(void *ctx, uf_time t);
    /* Sending (tx) or receiving failed; why names the clause. */
    void (*failed)(void *ctx, bool tx, const char *why, uf_time t);
    /* Optional: a first frame announced a message of len bytes (the
     * T_Data.SOM indication of ISO 15765-2:2016 8.2). */
    void (*started)(void *ctx, uint32_t len, uf_time t);
} uf_isotp_ep_sink;

typedef struct uf_isotp_ep uf_isotp_ep;

uf_isotp_ep *uf_isotp_ep_new(const uf_isotp_ep_config *c, const uf_isotp_ep_sink *sink);
void uf_isotp_ep_free(uf_isotp_ep *ep);

/* Starts sending a message (copied); a functional one must fit a single
 * frame. False with err if a message is still being sent or it cannot go. */
bool uf_isotp_ep_send(uf_isotp_ep *ep, const uint8_t *data, size_t len, bool functional,
                      uf_time now, uf_error *err);
/* A frame from the bus; frames for others are ignored. */
void uf_isotp_ep_input(uf_isotp_ep *ep, const uf_can_frame *f, uf_time now);
/* The frame to send now, if any (flow control first). Until it is
 * confirmed with uf_isotp_ep_sent, no other frame comes. */
bool uf_isotp_ep_output(uf_isotp_ep *ep, uf_time now, uf_can_frame *out);
/* As uf_isotp_ep_output, and when the receiver's flow control asked for
 * STmin 0, the consecutive frames after it too, up to the end of the
 * block or of the message: `max` frames at most. Returns how many are in
 * out[] (0: none due); they are confirmed together. */
size_t uf_isotp_ep_output_burst(uf_isotp_ep *ep, uf_time now, uf_can_frame *out, size_t max);
/* The frame from uf_isotp_ep_output, or the frames from
 * uf_isotp_ep_output_burst, left, the last at `now` (STmin counts from
 * here). */
void uf_isotp_ep_sent(uf_isotp_ep *ep, uf_time now);
/* It could not go (the medium failed): the message it belongs to is
 * given up, as after N_As (ISO 15765-2:2016 9.8.2). */
void uf_isotp_ep_unsent(uf_isotp_ep *ep, const char *why, uf_time now);
/* Timeouts (N_Bs, N_Cr) due by now. */
void uf_isotp_ep_tick(uf_isotp_ep *ep, uf_time now);
/* When the endpoint next needs the caller: a frame becomes due or a
 * timeout runs out. UF_TIME_NONE: nothing to wait for. */
uf_time uf_isotp_ep_wakeup(const uf_isotp_ep *ep);
/* A message is being sent (not yet confirmed whole). */
bool uf_isotp_ep_sending(const uf_isotp_ep *ep);

#endif /* UF_ISOTP_EP_H */
