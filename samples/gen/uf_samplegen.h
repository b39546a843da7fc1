/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Sample generator: simulates complete UDS flash sessions between a tester
 * and one or more ECUs on CAN / CAN FD (segmenting with the project's own
 * ISO-TP codec, honouring BS / STmin) and writes them in every capture format
 * udsflash reads. Deterministic: the same call writes the same bytes.
 */
#ifndef UF_SAMPLEGEN_H
#define UF_SAMPLEGEN_H

#include "uf_isotp.h"

#include <glib.h>

typedef struct sg_frame {
    uf_time time;
    uint32_t bus;
    uf_can_frame f; /* flags UF_CAN_DIR_TX marks frames the tester sent */
} sg_frame;

typedef struct sg_trace {
    GArray *frames;    /* sg_frame, sorted by time after sg_trace_finish() */
    GPtrArray *buses;  /* bus names (char *) */
} sg_trace;

void sg_trace_init(sg_trace *t);
void sg_trace_free(sg_trace *t);
uint32_t sg_trace_bus(sg_trace *t, const char *name);
/* Stable sort by time: frames of several simulated ECUs interleave. */
void sg_trace_finish(sg_trace *t);

/* One tester - ECU link. */
typedef struct sg_link {
    uint32_t bus;
    uint32_t tester_id, ecu_id, functional_id; /* with UF_ISOTP_EFF for 29-bit */
    uf_isotp_tx_params tester_tx, ecu_tx;      /* addressing byte, TX_DL, padding */
    uf_isotp_tx_params functional_tx;
    uint8_t ecu_bs, ecu_stmin;       /* FC the ECU sends the tester */
    uint8_t tester_bs, tester_stmin; /* FC the tester sends the ECU */
    uf_time frame_time;              /* bus time of one frame */
    uint64_t rng;                    /* deterministic jitter */
} sg_link;

/* Parameters of one simulated flash. */
typedef struct sg_flash {
    uint32_t image_size;
    uint32_t address;
    uint32_t max_block;   /* maxNumberOfBlockLength announced by the ECU */
    uint32_t seed;
    uint8_t erase_pending; /* number of 0x78 answers to the erase routine */
    bool functional_pre;  /* pre-programming 0x85 / 0x28 sent functionally */
} sg_flash;

/* Appends a complete flash session (pre-programming, programming,
 * post-programming) starting at t0; returns the time of its last frame. */
uf_time sg_flash_session(sg_trace *trace, sg_link *link, const sg_flash *flash, uf_time t0);

/* Sends one UDS message on a link (segmented, with the partner's flow
 * control); returns the time of its last frame. */
uf_time sg_send(sg_trace *trace, sg_link *link, bool from_tester, bool functional, uf_time t,
                const uint8_t *msg, uint32_t len);

/* The image bytes a flash session transfers (xorshift, seeded). */
void sg_image(uint8_t *out, uint32_t len, uint32_t seed);

/* ---- writers (return 0, or -1 with err) --------------------------------------*/

typedef enum sg_pcap_variant {
    SG_PCAP_SOCKETCAN,     /* LINKTYPE 227, big-endian ids, FDF flag for FD */
    SG_PCAP_SOCKETCAN_LE,  /* little-endian ids, as scapy writes them */
    SG_PCAP_SOCKETCAN_OLD, /* FD marked only by the 72-byte record */
    SG_PCAP_SLL,           /* LINKTYPE_LINUX_SLL, host-order ids */
    SG_PCAP_SLL2,          /* LINKTYPE_LINUX_SLL2, ifindex = bus + 1 */
} sg_pcap_variant;

int sg_write_pcap(const sg_trace *t, const char *path, sg_pcap_variant v, uf_error *err);
int sg_write_pcapng(const sg_trace *t, const char *path, uf_error *err);
int sg_write_candump(const sg_trace *t, const char *path, bool console, uf_error *err);
int sg_write_asc(const sg_trace *t, const char *path, uf_error *err);
int sg_write_blf(const sg_trace *t, const char *path, uf_error *err);
int sg_write_busmaster(const sg_trace *t, const char *path, uf_error *err);

#endif /* UF_SAMPLEGEN_H */
