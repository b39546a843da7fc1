/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ISO-TP (ISO 15765-2:2016): the PCI codec shared by the analyzer, the
 * sample generator and the replay endpoints, and a passive reassembler that
 * follows both directions of every diagnostic flow on every bus.
 *
 * The reassembler is pure: frames (with their capture time) in, messages and
 * findings out through callbacks. It never reads a clock, a file or a socket.
 */
#ifndef UF_ISOTP_H
#define UF_ISOTP_H

#include "uf_capture.h"
#include "uf_finding.h"

/* ---- Addressing (ISO 15765-2:2016 10.3) -----------------------------------*/

typedef enum uf_addressing {
    UF_ADDR_AUTO = 0,     /* configuration only: detect from the traffic */
    UF_ADDR_NORMAL,       /* PCI in byte 0; 11-bit ids such as 0x7E0/0x7E8 */
    UF_ADDR_NORMAL_FIXED, /* 29-bit 0x18DA<TA><SA> / 0x18DB<TA><SA> */
    UF_ADDR_EXTENDED,     /* byte 0 is N_TA, PCI in byte 1 */
    UF_ADDR_MIXED,        /* byte 0 is N_AE, PCI in byte 1 (0x18CE / 0x18CD) */
} uf_addressing;

const char *uf_addressing_name(uf_addressing a);
bool uf_addressing_parse(const char *name, uf_addressing *out);
/* Bytes before the PCI: 1 for extended and mixed addressing, else 0. */
static inline unsigned uf_addressing_prefix(uf_addressing a)
{
    return a == UF_ADDR_EXTENDED || a == UF_ADDR_MIXED;
}

/* 29-bit ids carry UF_ISOTP_EFF so that 0x7E0 and 0x000007E0 differ. */
#define UF_ISOTP_EFF 0x80000000u
/* A DoIP logical address (ISO 13400-2) in place of a CAN id: sessions over
 * DoIP have the same kind of endpoints as sessions over CAN. */
#define UF_ISOTP_DOIP 0x40000000u
static inline uint32_t uf_isotp_id_of(const uf_can_frame *f)
{
    return f->id | ((f->flags & UF_CAN_EFF) ? UF_ISOTP_EFF : 0);
}

/* One end of a conversation: a CAN id on a bus, plus the address byte of
 * extended / mixed addressing (-1 without one). */
typedef struct uf_isotp_endpoint {
    uint32_t bus;
    uint32_t id; /* with UF_ISOTP_EFF for 29-bit ids */
    int16_t addr;
} uf_isotp_endpoint;

/* A 64-bit key that tells endpoints apart (for hash tables above). */
static inline uint64_t uf_isotp_endpoint_key(const uf_isotp_endpoint *e)
{
    return (uint64_t)e->bus << 41 | (uint64_t)(uint16_t)(e->addr + 1) << 32 | e->id;
}

/* The key of one tester - ECU conversation. On CAN the tester's id already
 * names it (each ECU has its own request id); over DoIP one tester address
 * talks to many ECUs through a gateway, at once when it flashes in
 * parallel, so the key takes both logical addresses. */
static inline uint64_t uf_conversation_key(const uf_isotp_endpoint *tester,
                                           const uf_isotp_endpoint *ecu)
{
    if (ecu && (tester->id & UF_ISOTP_DOIP) && (ecu->id & UF_ISOTP_DOIP))
        return UINT64_C(1) << 63 | (uint64_t)tester->bus << 32 |
               (uint64_t)(tester->id & 0xFFFFu) << 16 | (ecu->id & 0xFFFFu);
    return uf_isotp_endpoint_key(tester);
}

/* "0x7E0", "0x18DA10F1", "0x6F1:12" (id and address byte); "0x0E80" for a
 * DoIP logical address. */
const char *uf_isotp_endpoint_name(const uf_isotp_endpoint *ep, char *buf, size_t size);

/* ---- PCI codec (ISO 15765-2:2016 9.6) -------------------------------------*/

typedef enum uf_pci_type {
    UF_PCI_SF = 0,
    UF_PCI_FF = 1,
    UF_PCI_CF = 2,
    UF_PCI_FC = 3,
    UF_PCI_INVALID = 4,
} uf_pci_type;

typedef enum uf_flow_status {
    UF_FS_CTS = 0,
    UF_FS_WAIT = 1,
    UF_FS_OVFLW = 2,
} uf_flow_status;

typedef struct uf_pci {
    uf_pci_type type;
    uint32_t length;        /* SF_DL or FF_DL */
    bool escape;            /* CAN FD SF escape, or 32-bit FF_DL */
    uint8_t sn;             /* CF sequence number */
    uint8_t fs, bs, stmin;  /* FC flow status, block size, raw STmin */
    const uint8_t *payload; /* data bytes after the PCI in this frame */
    uint8_t payload_len;    /* for SF: SF_DL; for FF/CF: all bytes after the PCI */
    uint8_t used;           /* bytes of the frame the N_PDU needs (prefix+PCI+data) */
    const char *problem;    /* NULL, or why lengths are invalid (isotp.length) */
} uf_pci;

/* Decodes the N_PCI of one CAN frame (prefix = 0 or 1 address byte).
 * Never reads past frame_len. Sets out->problem for length violations of
 * 9.6.2 / 9.6.3 but still decodes what it can; type INVALID for reserved
 * PCI types or frames too short for any PCI. */
void uf_pci_decode(const uint8_t *frame, size_t frame_len, unsigned prefix, uf_pci *out);

/* STmin (9.6.5.4): 0x00-0x7F ms, 0xF1-0xF9 100-900 us; reserved values are
 * read as 0x7F (127 ms), as the standard tells a sender to. In microseconds. */
uint32_t uf_stmin_us(uint8_t raw);
bool uf_stmin_is_reserved(uint8_t raw);

/* ---- Segmenter: one message -> frames (sender side) ----------------------*/

typedef struct uf_isotp_tx_params {
    uf_addressing addressing;
    uint8_t addr;      /* N_TA / N_AE when the addressing has a prefix */
    uint8_t tx_dl;     /* 8 for classic CAN, up to 64 for CAN FD */
    bool fd;           /* frames are CAN FD */
    bool pad;          /* pad frames (classic: to 8; FD: to the next DLC) */
    uint8_t pad_byte;  /* padding value, commonly 0xCC, 0x55 or 0xAA */
} uf_isotp_tx_params;

typedef struct uf_isotp_tx {
    uf_isotp_tx_params p;
    const uint8_t *data;
    uint32_t len, sent;
    uint8_t sn;
    bool first_done;
} uf_isotp_tx;

void uf_isotp_tx_start(uf_isotp_tx *tx, const uf_isotp_tx_params *p, const uint8_t *data,
                       uint32_t len);
/* Fills the next frame (SF, FF or CF); returns false when all is sent. */
bool uf_isotp_tx_next(uf_isotp_tx *tx, uf_can_frame *out);
/* True once the FF went out and the sender must wait for a flow control. */
static inline bool uf_isotp_tx_multi(const uf_isotp_tx *tx)
{
    return tx->first_done && tx->len > 0 && tx->sent < tx->len;
}
/* A flow control frame. */
void uf_isotp_fc_frame(const uf_isotp_tx_params *p, uf_flow_status fs, uint8_t bs, uint8_t stmin,
                       uf_can_frame *out);
/* Largest SF payload for these parameters (7 classic normal, 62 FD normal). */
uint32_t uf_isotp_sf_max(const uf_isotp_tx_params *p);

/* ---- Passive reassembly ---------------------------------------------------*/

/* The transport a message came over: ISO-TP on CAN, or DoIP on TCP. The
 * UDS layer above takes both in this one structure. */
typedef enum uf_transport {
    UF_TRANSPORT_ISOTP = 0,
    UF_TRANSPORT_DOIP,
} uf_transport;

typedef struct uf_isotp_message {
    uf_transport transport;
    uf_isotp_endpoint src;  /* who sent it */
    uf_isotp_endpoint dst;  /* partner, if known (dst_known) */
    bool dst_known;
    bool functional;        /* sent to a functional (broadcast) id */
    uf_addressing addressing;
    bool fd;
    bool complete;          /* false: abandoned, interrupted or cut by the capture end */
    bool truncated;         /* longer than the stored maximum: data holds the start */
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    uint32_t frames;
    uint32_t declared_len;  /* SF_DL / FF_DL */
    uint32_t received_len;  /* payload bytes seen */
    const uint8_t *data;    /* stored payload; valid during the callback only */
    uint32_t len;           /* stored bytes */
    /* Flow control that governed a segmented message (fc_count > 0). */
    uint16_t fc_count, fc_wait_count;
    uint8_t fc_bs;
    uint32_t fc_stmin_us;
    /* Measured gaps between consecutive frames of one block. */
    uint32_t cf_gaps;
    uf_time cf_gap_min, cf_gap_max;
    /* DoIP: the TCP connection, and how the entity acknowledged the
     * diagnostic message (ack_latency from its end to the ACK / NACK). */
    uint64_t connection;
    bool acked, nacked;
    uint8_t nack_code;
    uf_time ack_latency;
} uf_isotp_message;

/* An explicitly configured tester / ECU pair; overrides detection. */
typedef struct uf_isotp_pair {
    uint32_t tester_id, ecu_id; /* with UF_ISOTP_EFF for 29-bit */
    uf_addressing addressing;   /* AUTO: by convention or detection */
} uf_isotp_pair;

typedef struct uf_isotp_config {
    uf_addressing default_addressing; /* AUTO: detect per id */
    const uf_isotp_pair *pairs;
    size_t n_pairs;
    const uint32_t *functional_ids;   /* extra functional request ids */
    size_t n_functional;
    bool all_ids;            /* treat every id as ISO-TP (no discovery) */
    bool timing;             /* false when the source has no timestamps */
    uint32_t max_message;    /* payload bytes stored per message */
    uint64_t budget;         /* bytes held by all unfinished messages together */
    uf_time n_bs, n_cr;      /* ISO 15765-2 Table 16: 1000 ms each */
    uf_time stmin_tolerance; /* measured gap may be this much below STmin */
    uint32_t n_wft_max;      /* FC.WAIT frames in a row that are allowed */
    bool padding_required;   /* classic frames must be padded to 8 bytes */
    uint32_t max_flows;      /* bound on the flow table */
    /* Discovery of pairs on ids that follow no convention: is this payload
     * a request, and does this payload answer that request (UDS hooks). */
    bool (*is_request)(const uint8_t *p, size_t n);
    bool (*answers)(const uint8_t *req, size_t req_len, const uint8_t *resp, size_t resp_len);
} uf_isotp_config;

void uf_isotp_config_defaults(uf_isotp_config *c);

typedef struct uf_isotp_sink {
    void *ctx;
    void (*message)(void *ctx, const uf_isotp_message *m);
    void (*finding)(void *ctx, const uf_finding *f);
    /* Optional: a frame taken into the message `sender` is sending (its SF,
     * FF and CFs, and the flow controls its receiver sends it). The message
     * that ends it comes from that sender: a viewer can mark every frame of
     * a message, interleaved with others or not. */
    void (*frame)(void *ctx, uint64_t frame, const uf_isotp_endpoint *sender);
} uf_isotp_sink;

typedef struct uf_isotp uf_isotp;

uf_isotp *uf_isotp_new(const uf_isotp_config *config, const uf_isotp_sink *sink);
void uf_isotp_free(uf_isotp *t);
/* Feeds one CAN frame (frame number, capture time, bus). */
void uf_isotp_frame(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus,
                    const uf_can_frame *f);
/* End of input: releases held frames and reports messages that never
 * completed. */
void uf_isotp_finish(uf_isotp *t);

/* Partner of an endpoint (the id its answers and flow control come from);
 * false if unknown. Used by the UDS layer to pair requests and responses. */
bool uf_isotp_partner(const uf_isotp *t, const uf_isotp_endpoint *ep, uf_isotp_endpoint *out);
/* Records that two endpoints talk to each other (learned by a layer above). */
void uf_isotp_learn_pair(uf_isotp *t, const uf_isotp_endpoint *a, const uf_isotp_endpoint *b);

typedef struct uf_isotp_stats {
    uint64_t frames;          /* CAN frames fed */
    uint64_t diag_frames;     /* frames on ids analyzed as ISO-TP */
    uint64_t messages;
    uint32_t flows;
    uint64_t dropped_frames;  /* frames not analyzed because the flow table was full */
} uf_isotp_stats;
void uf_isotp_get_stats(const uf_isotp *t, uf_isotp_stats *out);

#endif /* UF_ISOTP_H */
