/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ECU of a recording, played back toward a live tester (udsreplay
 * ecu): each request gets the answers the recorded ECU gave to it, after
 * the recorded delays, 0x78 chains and NRCs included, with the recorded
 * flow control. So a flashing tool meets a field ECU's behaviour on the
 * bench.
 *
 * It is stateful the way a bootloader is (ISO 14229-1:2020): it keeps the
 * session (10.2), the unlocked security level (10.4) and the download
 * with its block counter (15.4), and answers out of turn as a bootloader
 * would: a service the recording only saw in another session is refused
 * with 0x7F (serviceNotSupportedInActiveSession), one it only saw
 * unlocked with 0x33 (securityAccessDenied), a wrong key with 0x35, a
 * block out of sequence with 0x73, a block outside a download with 0x24.
 * A block repeated with the last counter is acknowledged again (15.4.2).
 *
 * Which recorded exchange answers a request: the first one not yet used
 * whose request is the same bytes; else the same service and identifier
 * (sub-function, DID, routine, block counter) in the same state; once all
 * are used, the last one again. A request the recording never saw gets a
 * configurable NRC (0x11 serviceNotSupported for an unknown service, 0x31
 * requestOutOfRange for an unknown identifier) and is reported.
 *
 * Pure: a responder (uf_responder.h) on any transport.
 */
#ifndef UF_RECORDED_ECU_H
#define UF_RECORDED_ECU_H

#include "uf_responder.h"
#include "uf_script.h"

/* One answer of the recorded ECU. */
typedef struct uf_recorded_answer {
    uf_time delay;          /* after the request's end (the first), or the previous answer */
    uint8_t *data;
    size_t len;
} uf_recorded_answer;

/* A request of the recording and what the ECU did about it. */
typedef struct uf_recorded_exchange {
    uint64_t frame;         /* the request's first frame in the capture */
    char *step;             /* the profile's step, or NULL */
    uint8_t *request;
    size_t request_len;
    bool functional;
    GArray *answers;        /* uf_recorded_answer, 0x78s first; empty: no answer */
    /* The ECU's state when the request came, as its answers show it. */
    uint8_t session;        /* 0x01 default, 0x02 programming, ... */
    uint8_t security;       /* the unlocked level (requestSeed sub-function); 0 locked */
} uf_recorded_exchange;

/* The ECU's side of one recorded session. */
typedef struct uf_recording {
    char *source;
    uint32_t session;
    uf_script_link link;
    uint32_t bus;           /* the capture's bus or interface it ran on */
    uint64_t first_frame, last_frame; /* the session's frames in the capture */
    /* The flow control the ECU sent (its first), if it sent one. */
    bool fc_known;
    uint8_t fc_bs, fc_stmin;
    GArray *exchanges;      /* uf_recorded_exchange, in recorded order */
} uf_recording;

void uf_recording_free(uf_recording *r);

/* What a final positive answer tells of a bootloader's session and
 * unlocked level (ISO 14229-1:2020 10.2, 10.4.1: a session change or a
 * reset locks); false if it tells nothing of them. */
bool uf_recorded_follow_session(const uint8_t *p, size_t n, uint8_t *session,
                                uint8_t *security);

/* ---- from a capture ------------------------------------------------------------*/

typedef struct uf_recording_collector uf_recording_collector;

/* Collects session `session` (1-based, as udsreplay list numbers them). */
uf_recording_collector *uf_recording_collector_new(uint32_t session);
void uf_recording_collector_free(uf_recording_collector *c);
void uf_recording_collector_sink(uf_recording_collector *c, uf_analyzer_sink *sink);
/* After the analyzer finished: the recording, or NULL with err when the
 * session does not exist or holds no request. */
uf_recording *uf_recording_collector_finish(uf_recording_collector *c,
                                            const uf_sessions *sessions, const char *source,
                                            uf_error *err);

/* ---- the ECU -----------------------------------------------------------------------*/

/* What happened that the recording did not foresee. */
typedef enum uf_recorded_event_kind {
    UF_RECORDED_UNSEEN,      /* a request the recording never saw */
    UF_RECORDED_REFUSED,     /* refused for the state (session, security, download) */
    UF_RECORDED_WRONG_KEY,   /* a key other than the recorded one */
} uf_recorded_event_kind;

typedef struct uf_recorded_event {
    uf_recorded_event_kind kind;
    uf_time time;
    uint8_t *request;        /* its first bytes, at most 16 */
    size_t request_len;      /* the whole request's length */
    int nrc;                 /* the answer given; -1: none */
} uf_recorded_event;

typedef struct uf_recorded_ecu_config {
    /* The answer to an unseen service, and to an unseen identifier of a
     * known service: an NRC, or -1 for silence. */
    int unseen_service_nrc;  /* 0x11 */
    int unseen_request_nrc;  /* 0x31 */
    /* Delays scaled by 1 / speed (udsreplay --speed). */
    double speed;
} uf_recorded_ecu_config;

void uf_recorded_ecu_config_defaults(uf_recorded_ecu_config *c);

typedef struct uf_recorded_ecu uf_recorded_ecu;

/* The recording is not owned and must outlive the ECU. */
uf_recorded_ecu *uf_recorded_ecu_new(const uf_recording *r, const uf_recorded_ecu_config *c);
void uf_recorded_ecu_free(uf_recorded_ecu *e);
uf_responder uf_recorded_ecu_responder(uf_recorded_ecu *e);

typedef struct uf_recorded_ecu_stats {
    uint32_t requests, answered, exchanges_used, exchanges;
    uint8_t session, security;
    bool downloading;
} uf_recorded_ecu_stats;
void uf_recorded_ecu_stats_get(const uf_recorded_ecu *e, uf_recorded_ecu_stats *out);
/* The events so far (uf_recorded_event), in order. Thread: read after the
 * ECU stopped serving. */
const GArray *uf_recorded_ecu_events(const uf_recorded_ecu *e);
/* "request 0x2F F1 00 03 (5 bytes): never recorded, answered NRC 0x11" */
const char *uf_recorded_event_describe(const uf_recorded_event *ev, char *buf, size_t size);

#endif /* UF_RECORDED_ECU_H */
