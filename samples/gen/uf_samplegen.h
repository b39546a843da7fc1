/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Sample generator: simulates complete UDS flash sessions between a tester
 * and one or more ECUs on CAN / CAN FD (segmenting with the project's own
 * ISO-TP codec, honouring BS / STmin) and writes them in every capture format
 * udsflash reads. Deterministic: the same call writes the same bytes.
 */
#ifndef UF_SAMPLEGEN_H
#define UF_SAMPLEGEN_H

#include "uf_doip.h"
#include "uf_isotp.h"
#include "uf_net_build.h"

#include <glib.h>

typedef struct sg_frame {
    uf_time time;
    uint32_t bus;
    uf_can_frame f; /* flags UF_CAN_DIR_TX marks frames the tester sent */
    /* An Ethernet frame instead (on an Ethernet bus): bytes in
     * sg_trace.packets at pkt_off. */
    bool packet;
    uint32_t pkt_off, pkt_len;
} sg_frame;

typedef struct sg_trace {
    GArray *frames;      /* sg_frame, sorted by time after sg_trace_finish() */
    GPtrArray *buses;    /* bus names (char *) */
    GArray *ethernet;    /* gboolean per bus: an Ethernet interface */
    GByteArray *packets; /* the bytes of every Ethernet frame */
} sg_trace;

void sg_trace_init(sg_trace *t);
void sg_trace_free(sg_trace *t);
uint32_t sg_trace_bus(sg_trace *t, const char *name);
/* An Ethernet interface (DoIP traffic); a CAN bus otherwise. */
uint32_t sg_trace_eth_bus(sg_trace *t, const char *name);
bool sg_trace_bus_is_ethernet(const sg_trace *t, uint32_t bus);
void sg_trace_packet(sg_trace *t, uint32_t bus, uf_time time, const uint8_t *frame, size_t len);
const uint8_t *sg_frame_packet(const sg_trace *t, const sg_frame *f);

/* Stable sort by time: frames of several simulated ECUs interleave. */
void sg_trace_finish(sg_trace *t);

typedef struct sg_doip sg_doip;

/* One tester - ECU link: ISO-TP on a CAN bus, or DoIP when doip is set. */
typedef struct sg_link {
    uint32_t bus;
    uint32_t tester_id, ecu_id, functional_id; /* with UF_ISOTP_EFF for 29-bit */
    uf_isotp_tx_params tester_tx, ecu_tx;      /* addressing byte, TX_DL, padding */
    uf_isotp_tx_params functional_tx;
    uint8_t ecu_bs, ecu_stmin;       /* FC the ECU sends the tester */
    uint8_t tester_bs, tester_stmin; /* FC the tester sends the ECU */
    uf_time frame_time;              /* bus time of one frame */
    uint64_t rng;                    /* deterministic jitter */
    uint32_t tester_cf_gap_us;       /* if not 0: the tester's CF spacing, whatever STmin says */
    uint32_t tester_cf_limit;        /* if not 0: the tester breaks off after this many CFs */
    sg_doip *doip;                   /* DoIP over TCP instead of ISO-TP */
} sg_link;

/* A delay of base_us plus up to jitter_us (deterministic, whole microseconds). */
uf_time sg_delay(sg_link *l, uint32_t base_us, uint32_t jitter_us);

/* ---- DoIP (ISO 13400-2) between a tester and a DoIP entity -----------------------*/

/* Faults of a DoIP link (bits of sg_doip.faults), and the rule each makes fire. */
enum sg_doip_fault {
    SG_DOIP_RETRANSMIT = 1u << 0,     /* none: block 2's first segment again, and an overlap */
    SG_DOIP_REORDER = 1u << 1,        /* none: block 3's first two segments captured swapped */
    SG_DOIP_GAP = 1u << 2,            /* doip.tcp_gap: block 4's second segment not captured */
    SG_DOIP_NACK = 1u << 3,           /* doip.nack: a first message to 0x1FFF, NACK 0x03 */
    SG_DOIP_ROUTING_DENIED = 1u << 4, /* doip.routing: activation of 0x0E00 denied, a message
                                         from it anyway (NACK 0x02), then 0x0E80 activated */
    SG_DOIP_LATE_ACK = 1u << 5,       /* doip.ack_timeout: the tester present's ACK after 80 ms */
    SG_DOIP_NEAR_ACK = 1u << 6,       /* none: that ACK after 45 ms */
    SG_DOIP_COALESCE = 1u << 7,       /* none: the entity's ACK and its response in one segment */
    SG_DOIP_MALFORMED = 1u << 8,      /* doip.malformed: a header with a wrong inverse version */
};

struct sg_doip {
    uf_net_flow flow;                 /* host 0 the tester, host 1 the DoIP entity */
    uint32_t bus;                 /* an Ethernet interface of the trace */
    uint16_t tester_la, ecu_la, functional_la;
    uint16_t entity_la;           /* the gateway's own address */
    uint16_t first_port;          /* the tester's port for its first connection */
    uint16_t entity_port;         /* the entity's TCP port; 0: 13400 */
    uint32_t mss;                 /* TCP maximum segment size */
    uint32_t faults;              /* enum sg_doip_fault */
    bool discovery;               /* vehicle identification over UDP first */
    /* State, zero to start. */
    uint32_t seq[2];
    bool connected;
    uint32_t connections;
    bool ack_pending;             /* an ACK to send with the entity's next message */
    uint8_t ack[13];
    uf_time ack_time;
};

/* A tester (0x0E80, 169.254.10.128 or fd00:ca7::e80 on VLAN 10) flashing
 * ECU 0x0010 behind a DoIP gateway (0x1000, .16 or ::1000), functional
 * address 0xE400, vehicle discovery first, MSS 1460. */
sg_doip sg_doip_gateway(uint32_t bus, bool v6);
/* Opens the TCP connection (after vehicle discovery if asked) and activates
 * routing; returns when the tester may send. sg_send goes over it. */
uf_time sg_doip_open(sg_trace *trace, sg_link *l, uf_time t);
/* The entity resets (after ECUReset): it closes the connection; the tester
 * connects again after `boot` and activates routing again. */
uf_time sg_doip_reconnect(sg_trace *trace, sg_link *l, uf_time t, uf_time boot);
/* The tester closes the connection. */
uf_time sg_doip_close(sg_trace *trace, sg_link *l, uf_time t);
/* One diagnostic message (sg_send's DoIP half). */
uf_time sg_doip_send(sg_trace *trace, sg_link *l, bool from_tester, bool functional, uf_time t,
                     const uint8_t *msg, uint32_t len);

/* Faults and near misses a simulated flash can carry (bits of sg_flash.faults).
 * Each names the rule it makes fire, or must not make fire. */
enum sg_fault {
    SG_LATE_RESPONSE = 1u << 0,     /* timing.p2: preconditions answered after 80 ms */
    SG_NEAR_P2 = 1u << 1,           /* no timing.p2: answered after 45 ms (P2 50 ms) */
    SG_ANNOUNCE_P2_100 = 1u << 2,   /* no timing.p2 at 80 ms: the ECU announces P2 = 100 ms */
    SG_LATE_FINAL = 1u << 3,        /* timing.p2star: erase done 6 s after the last 0x78 */
    SG_NEAR_P2STAR = 1u << 4,       /* no timing.p2star: 4.9 s after the last 0x78 */
    SG_PENDING_GAP = 1u << 5,       /* timing.pending_spacing: two 0x78 6 s apart */
    SG_TESTER_SILENT = 1u << 6,     /* timing.s3: 6 s silence in the programming session */
    SG_NEAR_S3 = 1u << 7,           /* no timing.s3: 4.5 s silence */
    SG_NRC = 1u << 8,               /* uds.nrc: fingerprint refused (0x22) once, then written */
    SG_NO_RESPONSE = 1u << 9,       /* uds.no_response: a version read unanswered */
    SG_EXTRA_RESPONSE = 1u << 10,   /* uds.unexpected_response: block 2 answered twice */
    SG_MALFORMED = 1u << 11,        /* uds.malformed: the VIN answer cut to "62 F1" */
    SG_SKIP_DEPENDENCIES = 1u << 12,/* flash.sequence.missing: no dependency check */
    SG_NO_RESET = 1u << 13,         /* flash.sequence.missing: no ECU reset */
    SG_STAY_PROGRAMMING = 1u << 14, /* flash.sequence.missing: no return to the default session */
    SG_SKIP_OPTIONAL = 1u << 15,    /* no flash.sequence.missing: optional steps left out */
    SG_FINGERPRINT_LATE = 1u << 16, /* flash.sequence.order: fingerprint after the erase */
    SG_EXTRA_SERVICE = 1u << 17,    /* flash.sequence.unexpected: an IOControl while flashing */
    SG_TWO_REGIONS = 1u << 18,      /* no flash.sequence.order: erase .. check twice */
    SG_NO_PROGRAMMING = 1u << 19,   /* flash.session: flashed in the extended session */
    SG_NO_SECURITY = 1u << 20,      /* flash.security: no seed and key */
    SG_COUNTER_SKIP = 1u << 21,     /* flash.transfer.block_counter: block 3 numbered 4 */
    SG_RETRY_BLOCK = 1u << 22,      /* no flash.transfer.block_counter: block 3 sent twice */
    SG_SHORT_TRANSFER = 1u << 23,   /* flash.transfer.size: the last block 10 bytes short */
    SG_COMPRESSED = 1u << 24,       /* no flash.transfer.size: dfi 0x10, fewer bytes than size */
    SG_LONG_BLOCK = 1u << 25,       /* flash.transfer.block_length: block 2 one byte too long */
    SG_NO_EXIT = 1u << 26,          /* flash.transfer.incomplete: no RequestTransferExit */
    SG_CUT = 1u << 27,              /* the capture ends after block 5 of the transfer */
    SG_STMIN = 1u << 28,            /* isotp.stmin: block 2's CFs 0.3 ms apart (STmin 1 ms) */
    SG_ABORT = 1u << 29,            /* isotp.n_cr, flash.transfer.incomplete: the tester breaks
                                       off block 6 after three CFs and resets the ECU */
};

/* Parameters of one simulated flash. */
typedef struct sg_flash {
    uint32_t image_size;
    uint32_t address;
    uint32_t max_block;   /* maxNumberOfBlockLength announced by the ECU */
    uint32_t seed;
    uint8_t erase_pending; /* number of 0x78 answers to the erase routine */
    bool functional_pre;  /* pre-programming 0x85 / 0x28 sent functionally */
    bool erase_first;     /* erase before the fingerprint write (erase-first profile) */
    uint16_t fingerprint_did; /* 0: 0xF184 */
    uint32_t faults;      /* enum sg_fault */
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
    SG_PCAP_ETHERNET,      /* LINKTYPE_ETHERNET: a trace of Ethernet frames only */
} sg_pcap_variant;

int sg_write_pcap(const sg_trace *t, const char *path, sg_pcap_variant v, uf_error *err);
int sg_write_pcapng(const sg_trace *t, const char *path, uf_error *err);
int sg_write_candump(const sg_trace *t, const char *path, bool console, uf_error *err);
int sg_write_asc(const sg_trace *t, const char *path, uf_error *err);
int sg_write_blf(const sg_trace *t, const char *path, uf_error *err);
int sg_write_busmaster(const sg_trace *t, const char *path, uf_error *err);

#endif /* UF_SAMPLEGEN_H */
