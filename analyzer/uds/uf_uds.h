/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UDS (ISO 14229-1:2020): names of every service and negative response
 * code, a full decode of the services a flash session uses, and the pairing
 * of requests with responses per tester-ECU channel (functional requests
 * answered by several ECUs, suppressPosRspMsgIndicationBit, 0x78 chains,
 * responses without requests, requests without responses).
 */
#ifndef UF_UDS_H
#define UF_UDS_H

#include "uf_isotp.h"

/* ---- Names ----------------------------------------------------------------*/

/* NULL for an unknown id; callers print the number. */
const char *uf_uds_service_name(uint8_t sid);
const char *uf_uds_nrc_name(uint8_t nrc);
const char *uf_uds_session_name(uint8_t session);
const char *uf_uds_reset_name(uint8_t type);
const char *uf_uds_did_name(uint16_t did);
/* ISO 14229-1:2020 Table F.1 ranges and the two fixed ids (0xFF00, 0xFF01). */
const char *uf_uds_routine_name(uint16_t rid);

/* "RequestDownload" or "0x34" -> 0x34; false for anything else. */
bool uf_uds_service_by_name(const char *name, uint8_t *sid);
/* Byte 1 of the request is a sub-function (with the suppress bit). */
bool uf_uds_has_subfunction(uint8_t sid);
/* The request names a DID (0x22, 0x24, 0x2E, 0x2F) or, after its
 * sub-function, a routine (0x31). */
bool uf_uds_has_identifier(uint8_t sid);

/* Manufacturer-specific routine names (from a profile) take precedence. */
typedef struct uf_uds_names {
    const char *(*routine)(void *ctx, uint16_t rid);
    void *ctx;
} uf_uds_names;

/* ---- Decode ---------------------------------------------------------------*/

typedef enum uf_uds_kind {
    UF_UDS_REQUEST,
    UF_UDS_POSITIVE,
    UF_UDS_NEGATIVE,
} uf_uds_kind;

typedef struct uf_uds_decoded {
    uf_uds_kind kind;
    uint8_t sid;   /* the request's service id, also for responses */
    uint8_t nrc;   /* NEGATIVE only */
    const char *malformed; /* NULL, or why the message does not fit its service */

    bool has_subfunction;
    uint8_t subfunction; /* without the suppress bit */
    bool suppress;       /* suppressPosRspMsgIndicationBit set */

    bool has_did;
    uint16_t did;        /* 0x22 (first DID), 0x2E, 0x2F, 0x24 */
    uint16_t did_count;  /* 0x22 requests: DIDs asked for */

    bool has_routine;
    uint16_t routine;    /* 0x31 */

    bool has_timing;     /* 0x50: the session's P2 / P2* */
    uint16_t p2_ms;
    uint32_t p2star_ms;

    uint8_t security_level; /* 0x27: (n + 1) / 2 */
    bool is_seed;           /* 0x27: requestSeed (odd) or its answer */

    bool has_memory;        /* 0x34 / 0x35 / 0x23 / 0x3D requests */
    uint8_t dfi, alfid;
    uint64_t address, size;
    bool has_max_block;     /* 0x74 / 0x75 */
    uint32_t max_block_len;

    bool has_block;         /* 0x36 / 0x76 */
    uint8_t block_counter;

    bool has_dtc_group;     /* 0x14 */
    uint32_t dtc_group;

    uint8_t comm_type;      /* 0x28 communicationType */

    const uint8_t *record;  /* bytes after the fixed fields (DID data, seed, ...) */
    uint32_t record_len;
} uf_uds_decoded;

/* Decodes a complete UDS message. Never reads past n; p must stay valid as
 * long as out->record is used. */
void uf_uds_decode(const uint8_t *p, size_t n, uf_uds_decoded *out);

/* Service name for display ("RequestDownload", or "0xBA" for unknown ids). */
const char *uf_uds_display_service(uint8_t sid, char *buf, size_t size);
/* Key parameters, e.g. "addr=0x00010000 size=3000 dfi=0x00". */
size_t uf_uds_describe(const uf_uds_decoded *d, const uf_uds_names *names, char *buf,
                       size_t size);
const char *uf_uds_kind_name(uf_uds_kind k);

/* Discovery hooks for the ISO-TP layer. */
bool uf_uds_looks_like_request(const uint8_t *p, size_t n);
bool uf_uds_answers(const uint8_t *req, size_t req_len, const uint8_t *resp, size_t resp_len);

/* ---- Pairing --------------------------------------------------------------*/

/* What is kept of a request while it waits for its response. */
typedef struct uf_uds_request_ref {
    uint64_t index;
    uint8_t sid;
    uint8_t subfunction;
    bool has_subfunction;
    bool suppress;
    bool functional;
    uint64_t first_frame, last_frame;
    uf_time t_end; /* time of the request's last frame */
    uf_isotp_endpoint tester;
    uf_isotp_endpoint ecu;  /* the target, if ecu_known (not for functional requests) */
    bool ecu_known;
    uint32_t responses;     /* final responses received */
    uint32_t pending_count; /* 0x78 received */
} uf_uds_request_ref;

typedef struct uf_uds_message {
    uint64_t index;              /* 1-based, in order of completion */
    const uf_isotp_message *tp;  /* the ISO-TP message it came in */
    uf_uds_decoded d;
    bool incomplete;             /* the ISO-TP message did not complete: not decoded */

    uf_isotp_endpoint tester, ecu;
    bool tester_known, ecu_known;
    bool functional;             /* request to a functional id, or an answer to one */

    /* Responses only. */
    const uf_uds_request_ref *request; /* NULL: a response without a request */
    uf_time response_time;       /* request end -> response start, or UF_TIME_NONE */
    uf_time since_pending;       /* previous 0x78 -> this response, or UF_TIME_NONE */
    uint32_t pending_before;     /* 0x78 answers before this one */

    /* Filled by the session layer: the flash session (0: none), and the
     * profile's phase and step names for the message (NULL: none). */
    uint32_t session;
    const char *phase, *step;
    /* A response: the limit its time was held to (P2, or P2* after a 0x78),
     * 0 if none, and whether the ECU announced it. */
    uf_time limit;
    bool limit_p2star, limit_from_ecu;
    /* RequestDownload, TransferData, RequestTransferExit: the download of
     * the session (1-based, 0 none), and its bytes so far. */
    uint32_t download;
    uint64_t download_address, download_size, download_bytes;
} uf_uds_message;

typedef struct uf_uds_sink {
    void *ctx;
    void (*message)(void *ctx, const uf_uds_message *m);
    /* A request got no response, known when the next request on the same
     * channel arrives or at the end. */
    void (*unanswered)(void *ctx, const uf_uds_request_ref *r);
    void (*finding)(void *ctx, const uf_finding *f);
} uf_uds_sink;

typedef struct uf_uds uf_uds;

/* isotp is used for partner lookups and to teach it pairs found by pairing. */
uf_uds *uf_uds_new(uf_isotp *isotp, const uf_uds_names *names, const uf_uds_sink *sink);
void uf_uds_free(uf_uds *u);
void uf_uds_message_in(uf_uds *u, const uf_isotp_message *m);
void uf_uds_finish(uf_uds *u);

#endif /* UF_UDS_H */
