/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DoIP, ISO 13400-2:2019: the generic header, every payload type by name,
 * the framing of a TCP byte stream into DoIP messages (resynchronising after
 * a gap or a broken header), and the protocol state of each connection:
 * routing activation, diagnostic messages paired with their ACK / NACK. The
 * UDS payload of each diagnostic message goes up as a transport message
 * (uf_isotp_message with transport UF_TRANSPORT_DOIP), so that the UDS,
 * session and rule layers treat it as they treat ISO-TP on CAN. Pure: bytes
 * and timestamps in, events out.
 */
#ifndef UF_DOIP_H
#define UF_DOIP_H

#include "uf_finding.h"
#include "uf_isotp.h"
#include "uf_net.h"

/* ---- The protocol (names and layouts) ------------------------------------------*/

#define UF_DOIP_PORT 13400     /* TCP_DATA and UDP_DISCOVERY */
#define UF_DOIP_TLS_PORT 3496  /* TCP_DATA secured with TLS */
#define UF_DOIP_HEADER_LEN 8

enum uf_doip_type {
    UF_DOIP_GENERIC_NACK = 0x0000,
    UF_DOIP_VEHICLE_ID_REQUEST = 0x0001,
    UF_DOIP_VEHICLE_ID_REQUEST_EID = 0x0002,
    UF_DOIP_VEHICLE_ID_REQUEST_VIN = 0x0003,
    UF_DOIP_VEHICLE_ANNOUNCEMENT = 0x0004,
    UF_DOIP_ROUTING_ACTIVATION_REQUEST = 0x0005,
    UF_DOIP_ROUTING_ACTIVATION_RESPONSE = 0x0006,
    UF_DOIP_ALIVE_CHECK_REQUEST = 0x0007,
    UF_DOIP_ALIVE_CHECK_RESPONSE = 0x0008,
    UF_DOIP_ENTITY_STATUS_REQUEST = 0x4001,
    UF_DOIP_ENTITY_STATUS_RESPONSE = 0x4002,
    UF_DOIP_POWER_MODE_REQUEST = 0x4003,
    UF_DOIP_POWER_MODE_RESPONSE = 0x4004,
    UF_DOIP_DIAGNOSTIC_MESSAGE = 0x8001,
    UF_DOIP_DIAGNOSTIC_ACK = 0x8002,
    UF_DOIP_DIAGNOSTIC_NACK = 0x8003,
};

#define UF_DOIP_ROUTING_SUCCESS 0x10
#define UF_DOIP_ROUTING_CONFIRMATION 0x11

/* "RoutingActivationRequest", or NULL for a type ISO 13400-2 reserves. */
const char *uf_doip_type_name(uint16_t type);
const char *uf_doip_generic_nack_name(uint8_t code);
const char *uf_doip_diag_nack_name(uint8_t code);
const char *uf_doip_routing_code_name(uint8_t code);
const char *uf_doip_activation_type_name(uint8_t type);
const char *uf_doip_power_mode_name(uint8_t mode);
/* ISO 13400-2:2019 7.8: 0xE000..0xEFFF are functional group addresses. */
bool uf_doip_is_functional(uint16_t logical_address);

/* A decoded DoIP message: the header and the fields of its payload type. */
typedef struct uf_doip_decoded {
    uint8_t version;
    uint16_t type;
    uint32_t length;             /* payload length from the header */
    const uint8_t *payload;      /* the payload bytes held (up to length) */
    uint32_t held;
    const char *malformed;       /* why the payload breaks its layout, or NULL */
    /* Fields, where the type has them. */
    bool has_sa, has_ta;
    uint16_t sa, ta;             /* source / target (or tester / entity) address */
    uint8_t code;                /* NACK, ACK, routing response, activation type, power mode */
    bool has_code;
    const uint8_t *vin;          /* 17 bytes */
    const uint8_t *eid, *gid;    /* 6 bytes each */
    uint8_t further_action;
    uint8_t node_type, max_sockets, open_sockets;
    bool has_max_data;
    uint32_t max_data;
    const uint8_t *user_data;    /* diagnostic message: the UDS bytes held */
    uint32_t user_len;           /*   ... and their full length */
} uf_doip_decoded;

/* Checks a generic header: a known version (0x01-0x04, or 0xFF on vehicle
 * identification requests) with its inverse, a known payload type and a
 * length that type allows. NULL if sound, else why not. */
const char *uf_doip_check_header(const uint8_t h[UF_DOIP_HEADER_LEN], uint32_t max_length);
/* Writes a DoIP message, the generic header (version 0x03, ISO
 * 13400-2:2019, with its inverse) and the payload, to out (8 + len bytes). */
size_t uf_doip_encode(uint8_t *out, uint16_t type, const uint8_t *payload, uint32_t len);
/* Decodes a message whose header and first `held` payload bytes are at p. */
void uf_doip_decode(const uint8_t *p, uint32_t held, uf_doip_decoded *out);
/* "RoutingActivationResponse tester=0x0E80 entity=0x1000 code=0x10 (success)". */
size_t uf_doip_describe(const uf_doip_decoded *d, char *buf, size_t size);

/* ---- Framing a TCP byte stream (pure) ---------------------------------------------*/

typedef struct uf_doip_frame {
    const uint8_t *data;         /* header and payload (up to max_message) */
    uint32_t held;               /* bytes in data after the header */
    uint32_t length;             /* payload length from the header */
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    uint32_t segments;           /* TCP segments it came in */
    uint64_t offset;             /* where it starts in the stream */
} uf_doip_frame;

typedef struct uf_doip_framer {
    uint8_t header[UF_DOIP_HEADER_LEN];
    uint32_t have;               /* header bytes gathered */
    bool in_payload;
    bool resync;                 /* looking for the next sound header */
    uint32_t length;             /* payload length of the message being read */
    uint32_t got;                /* payload bytes read of it */
    uint8_t *buf;                /* header + stored payload */
    uint32_t cap, max_message;
    uint64_t offset;             /* stream bytes consumed */
    uint64_t start;              /* stream offset of the message being read */
    uint64_t skipped;            /* bytes skipped while resynchronising */
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    uint32_t segments;
    uint64_t last_seen_frame;
} uf_doip_framer;

typedef struct uf_doip_framer_sink {
    void *ctx;
    void (*message)(void *ctx, const uf_doip_frame *m);
    /* A header that is not sound: `why`, and the framer now resynchronises. */
    void (*bad_header)(void *ctx, const uint8_t h[UF_DOIP_HEADER_LEN], const char *why,
                       uint64_t offset, uint64_t frame, uf_time t);
    /* Resynchronised at a sound header after skipping `skipped` bytes. */
    void (*resynced)(void *ctx, uint64_t skipped, uint64_t offset, uint64_t frame, uf_time t);
} uf_doip_framer_sink;

void uf_doip_framer_init(uf_doip_framer *f, uint32_t max_message);
void uf_doip_framer_free(uf_doip_framer *f);
void uf_doip_framer_data(uf_doip_framer *f, const uint8_t *p, uint32_t n, uint64_t frame,
                         uf_time t, const uf_doip_framer_sink *sink);
/* Bytes missing from the stream: the message being read is lost (its size
 * so far is returned) and the framer resynchronises. */
uint64_t uf_doip_framer_gap(uf_doip_framer *f, uint64_t missing);
/* Takes the framer's buffer (the caller frees it), and leaves `spare`
 * (NULL, or of *cap bytes) for the next message; *cap becomes the size of
 * the buffer taken. Inside the message callback the buffer holds that
 * message; before the first bytes or after the last it holds nothing. */
uint8_t *uf_doip_framer_swap_buffer(uf_doip_framer *f, uint8_t *spare, uint32_t *cap);
/* Bytes of a message still in progress (at the end of a connection). */
uint64_t uf_doip_framer_pending(const uf_doip_framer *f);

/* ---- Connections and the DoIP rules ---------------------------------------------------*/

/* One DoIP message as the message list shows it (every type but the
 * diagnostic message, whose UDS payload goes up as a transport message). */
typedef struct uf_doip_pdu {
    uint32_t bus;
    uint64_t connection;         /* TCP connection id, 0 for UDP */
    const uf_ip_addr *src, *dst;
    uint16_t sport, dport;
    bool udp;
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    const uf_doip_decoded *d;
    /* A diagnostic ACK / NACK: the time since the message it answers. */
    uf_time latency;
} uf_doip_pdu;

typedef struct uf_doip_sink {
    void *ctx;
    void (*pdu)(void *ctx, const uf_doip_pdu *p);
    /* The UDS payload of a diagnostic message. */
    void (*message)(void *ctx, const uf_isotp_message *m);
    void (*finding)(void *ctx, const uf_finding *f);
} uf_doip_sink;

typedef struct uf_doip_config {
    uint32_t max_message;        /* UDS bytes stored per diagnostic message */
    uf_time ack_timeout;         /* A_DoIP_Diagnostic_Message: 50 ms */
    bool timing;                 /* false when the capture has no timestamps */
} uf_doip_config;

void uf_doip_config_defaults(uf_doip_config *c);

typedef struct uf_doip uf_doip;

uf_doip *uf_doip_new(const uf_doip_config *config, const uf_doip_sink *sink);
void uf_doip_free(uf_doip *d);
/* The TCP side (uf_tcp_sink callbacks, forwarded). */
void uf_doip_tcp_open(uf_doip *d, uf_tcp_stream *s, uint64_t frame, uf_time t);
void uf_doip_tcp_data(uf_doip *d, uf_tcp_stream *s, int dir, const uint8_t *p, uint32_t n,
                      uint64_t frame, uf_time t);
void uf_doip_tcp_gap(uf_doip *d, uf_tcp_stream *s, int dir, uint64_t missing, uint64_t frame,
                     uf_time t);
void uf_doip_tcp_close(uf_doip *d, uf_tcp_stream *s, uint64_t frame, uf_time t);
/* A UDP datagram to or from the DoIP port (vehicle discovery). */
void uf_doip_datagram(uf_doip *d, uint32_t bus, const uf_net_packet *p, uint64_t frame,
                      uf_time t);

#endif /* UF_DOIP_H */
