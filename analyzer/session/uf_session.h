/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Flash sessions: UDS messages grouped per tester-ECU pair, from the first
 * diagnostic session change (or flash service) to the reset and the return
 * to the default session, labelled with the profile's phases and steps, and
 * checked: timing (P2, P2*, S3, 0x78 spacing), sequence (profile order,
 * missing steps, session and security preconditions), transfer (block
 * counters, sizes, block lengths, exit) and UDS (NRCs, unanswered requests,
 * responses without request). ISO-TP findings are attributed to the session
 * and step they hit. Pure: messages and findings in, events out.
 */
#ifndef UF_SESSION_H
#define UF_SESSION_H

#include "uf_helper.h"
#include "uf_profile.h"
#include "uf_spill.h"
#include "uf_uds.h"

#include <glib.h>

typedef struct uf_session_phase {
    bool seen;
    uf_time t_start, t_end;
    uint64_t first_frame, last_frame;
    uint32_t messages;
} uf_session_phase;

typedef struct uf_download {
    uint32_t index;          /* 1-based within the session */
    uint64_t address, size;  /* memoryAddress, memorySize of the 0x34 */
    uint8_t dfi;             /* dataFormatIdentifier: compression << 4 | encryption */
    bool has_max_block;
    uint32_t max_block_len;  /* maxNumberOfBlockLength of the 0x74 */
    uint32_t blocks;         /* blocks accepted (0x76) */
    uint32_t retries;        /* repeated block counters answered positively */
    uint64_t bytes;          /* data bytes accepted */
    uf_time t_start, t_end;  /* 0x34 request .. 0x77 response (or last block) */
    uint64_t first_frame, last_frame;
    bool complete;           /* ended by a positive RequestTransferExit */
    char sha256[65];         /* of the bytes accepted, hex; set when it ends */
} uf_download;

/* A DID the session read or wrote: its first and last value. */
#define UF_DID_VALUE_MAX 64
typedef struct uf_did_value {
    uint16_t did;
    bool written;
    uint8_t first_len, last_len;
    uint8_t first[UF_DID_VALUE_MAX], last[UF_DID_VALUE_MAX];
} uf_did_value;

typedef struct uf_routine_result {
    uint16_t routine;
    uint8_t control;     /* 1 start, 2 stop, 3 results */
    bool positive;
    uint8_t nrc;         /* negative: the code */
    uint8_t status_len;
    uint8_t status[8];
    uint64_t frame;
} uf_routine_result;

typedef struct uf_nrc_seen {
    uint8_t sid, nrc;
    uint64_t frame;
    uf_time time;
} uf_nrc_seen;

typedef struct uf_session {
    uint32_t index;                /* 1-based */
    uint32_t bus;
    uf_isotp_endpoint tester, ecu;
    bool ecu_known;
    bool fd;                       /* CAN FD frames seen */
    bool doip;                     /* the messages came over DoIP */
    /* DoIP: the entity's acknowledgements of the tester's diagnostic
     * messages, and how long they took. */
    uint32_t doip_acks, doip_nacks;
    uf_time ack_min, ack_max, ack_sum;
    uf_time t_start, t_end;
    uint64_t first_frame, last_frame;
    uint32_t requests, responses;
    bool reset_done, back_in_default; /* positive 0x51, then positive 0x50 0x01 */
    uf_session_phase *phases;      /* one per profile phase */
    GArray *downloads;             /* uf_download, at most max_downloads */
    uint32_t downloads_not_analyzed; /* positive 0x34 beyond that */
    uint8_t security_level;        /* highest level unlocked; 0 none */
    uint8_t sessions_entered[16];  /* diagnostic sessions in the order entered */
    uint8_t n_sessions_entered;
    GArray *dids;                  /* uf_did_value, at most 64 */
    GArray *routines;              /* uf_routine_result, at most 64 */
    GArray *nrcs;                  /* uf_nrc_seen, at most 64 */
    uint32_t findings[3];          /* by severity */
    struct session_state *state;   /* private to the session layer */
} uf_session;

/* Bounds that keep memory flat whatever the capture holds: a real flash has
 * a handful of downloads, a real capture some thousands of sessions. What
 * goes beyond is counted, and said in the report. */
#define UF_SESSION_DOWNLOADS_MAX 1024
#define UF_SESSIONS_MAX 100000

typedef struct uf_sessions_config {
    const uf_profile *profile;
    bool timing;                   /* false when the capture has no timestamps */
    const char *const *ignore;     /* rule patterns never reported (NULL-terminated) */
    uint32_t max_sessions;         /* 0: UF_SESSIONS_MAX */
    uint32_t max_downloads;        /* per session; 0: UF_SESSION_DOWNLOADS_MAX */
    /* Closed sessions go to a temporary file (uf_spill.h), so that memory
     * stays flat whatever the number of flashes; a session uf_sessions_get
     * returns then lasts until its next call. */
    bool spill;
    /* With spill: the downloads' SHA-256 in a thread of its own (hasher.h),
     * or in helper's, shared with other jobs, when it is not NULL. */
    bool hash_thread;
    uf_helper *helper;
} uf_sessions_config;

typedef struct uf_sessions_sink {
    void *ctx;
    /* Every UDS message, labelled (m->session, m->phase, m->step). */
    void (*message)(void *ctx, const uf_uds_message *m);
    /* Every finding, attributed and with the profile's severity. */
    void (*finding)(void *ctx, const uf_finding *f);
    /* Bytes of a block the ECU accepted, at this offset of the download. */
    void (*download_data)(void *ctx, const uf_session *s, const uf_download *d, uint64_t offset,
                          const uint8_t *data, uint32_t len);
    /* A download ended (complete or not); d->sha256 is set. */
    void (*download_end)(void *ctx, const uf_session *s, const uf_download *d);
    /* A session ended; it stays readable until uf_sessions_free (with
     * spill, until the call that closed it returns). */
    void (*session_end)(void *ctx, const uf_session *s);
} uf_sessions_sink;

typedef struct uf_sessions uf_sessions;

uf_sessions *uf_sessions_new(const uf_sessions_config *config, const uf_sessions_sink *sink);
void uf_sessions_free(uf_sessions *s);
void uf_sessions_message(uf_sessions *s, uf_uds_message *m);
void uf_sessions_unanswered(uf_sessions *s, const uf_uds_request_ref *r);
void uf_sessions_finding(uf_sessions *s, const uf_finding *f);
/* End of input: closes every session (missing steps, open downloads). */
void uf_sessions_finish(uf_sessions *s);
uint32_t uf_sessions_count(const uf_sessions *s);
/* Requests left out of every session because max_sessions had begun: a
 * capture with more sessions than that must be split to be checked. */
uint64_t uf_sessions_requests_not_analyzed(const uf_sessions *s);
/* 1-based. With spill, valid until the next call; NULL if the temporary
 * file could not be read back (uf_spill_lost says why). */
const uf_session *uf_sessions_get(const uf_sessions *s, uint32_t index);
/* A reader of the sessions of its own, for a thread that reads them while
 * others do (uf_sessions_get's holder is one for all): a session it
 * returns is valid until its next call. Free it once the threads are done. */
typedef struct uf_sessions_reader uf_sessions_reader;
uf_sessions_reader *uf_sessions_reader_new(const uf_sessions *s);
const uf_session *uf_sessions_reader_get(uf_sessions_reader *r, uint32_t index);
void uf_sessions_reader_free(uf_sessions_reader *r);
/* The store of closed sessions, or NULL without spill. */
const uf_spill *uf_sessions_store(const uf_sessions *s);

/* "can", "can-fd" or "doip". */
const char *uf_session_transport(const uf_session *s);

/* How a profile step went in a session. */
typedef enum uf_step_status {
    UF_STEP_NOT_REQUESTED,
    UF_STEP_DONE,        /* answered positively (or no answer was due) */
    UF_STEP_REFUSED,     /* answered negatively; *nrc says how */
    UF_STEP_UNANSWERED,  /* requested, no positive or negative answer */
} uf_step_status;
uf_step_status uf_session_step_status(const uf_session *s, uint32_t step, uint8_t *nrc);

#endif /* UF_SESSION_H */
