/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Internal state of the session layer, shared by:
 *   sessions.c  lifecycle, attribution, labels, UDS rules, the findings path
 *   sequence.c  the profile's phases and steps: order, missing steps, and
 *               session / security preconditions
 *   timing.c    P2, P2*, S3 and 0x78 spacing
 *   transfer.c  downloads: counters, sizes, block lengths, exit, SHA-256
 */
#ifndef UF_SESSION_INTERNAL_H
#define UF_SESSION_INTERNAL_H

#include "uf_session.h"

#include <glib.h>

#define SESSION_DEFAULT 0x01
#define SESSION_PROGRAMMING 0x02
#define LABEL_RING 64
#define HELD_FINDINGS 64
#define MAX_LIST 64 /* DIDs, routines, NRCs kept per session */

/* A request, as the checks need it (functional requests are replayed into
 * sessions that start when an ECU answers them). */
typedef struct req_info {
    uint64_t index;
    uint8_t sid;
    bool has_sub, has_id, suppress, functional;
    uint8_t sub;
    uint16_t id;
    uint64_t first_frame, last_frame;
    uf_time t_first, t_last;
    uint32_t len; /* whole message, SID included */
} req_info;

/* Labels of a request, kept so that its responses get the same ones. */
typedef struct label {
    uint64_t request;
    int32_t step;   /* index into the profile's steps, or -1 */
    int32_t anytime; /* index into the profile's anytime steps, or -1 */
    uint32_t phase;
} label;

typedef struct session_state {
    bool closed;
    uint64_t last_applied; /* index of the last request applied (no double replay) */

    /* Sequence (sequence.c). */
    int32_t cursor;       /* last step matched, or -1 */
    uint32_t phase;       /* current phase */
    uint8_t *requested;   /* per step */
    uint8_t *done;        /* per step: answered positively (or no answer due) */
    uint8_t *refused;     /* per step: the last NRC if refused */
    label *labels;        /* LABEL_RING of them while the session is open */
    const char *cur_phase, *cur_step; /* for findings that arrive between messages */

    /* Diagnostic state. */
    uint8_t diag;         /* current diagnostic session */
    uint8_t unlocked;     /* security level unlocked now, 0 locked */

    /* Timing (timing.c). */
    uf_time p2, p2star;   /* limits in force */
    bool ecu_limits;      /* ... announced by the ECU, not the profile's */
    uf_time last_activity;

    /* Transfer (transfer.c). */
    bool have_rd;         /* a RequestDownload waits for its answer */
    req_info rd;
    uint64_t rd_address, rd_size;
    uint8_t rd_dfi;
    int32_t open;         /* index into downloads of the open one, or -1 */
    struct uf_hash *sum;  /* the open download's SHA-256 */
    GPtrArray *pending;   /* uf_hash *, by download: digests not taken yet */
    int32_t last_counter; /* last accepted block counter, or -1 */
    bool have_td;         /* a TransferData waits for its answer */
    req_info td;
    uint8_t td_counter;
    uint8_t *td_data;
    uint32_t td_len, td_cap;
    uf_time first_block;
} session_state;

typedef struct functional_req {
    uint32_t bus;
    req_info r;
} functional_req;

/* A thread's way back to spilled sessions (spill.c): its window of the
 * store (NULL: the store's own, uf_spill_get's) and the holder a session
 * is read back into. */
struct uf_sessions_reader {
    const uf_sessions *ss;
    uf_spill_cursor *cursor;
    uf_session *holder;
};

#define RECENT_CONVERSATION_BITS 3
#define RECENT_CONVERSATIONS (1u << RECENT_CONVERSATION_BITS)

typedef struct recent_conversation {
    uint64_t key;
    uf_session *s; /* NULL: an empty slot */
} recent_conversation;

struct uf_sessions {
    uf_sessions_config cfg;
    char **ignore;          /* owned copy */
    uf_sessions_sink sink;
    GPtrArray *all;         /* uf_session *, by index - 1 */
    GPtrArray *open;        /* the sessions not closed yet, in the order they began */
    uint64_t not_analyzed;  /* requests left out once max_sessions were open */
    GHashTable *by_conv;    /* conversation key (uf_conversation_key) -> open uf_session * */
    /* Conversations found lately in by_conv, by their key's hash: a flash
     * is one conversation, and a bus of parallel flashes a few. Emptied
     * whenever by_conv changes. */
    recent_conversation recent_conv[RECENT_CONVERSATIONS];
    GHashTable *by_tester;  /* endpoint key -> the latest open uf_session * of that tester */
    GHashTable *by_ecu;     /* endpoint key -> open uf_session * */
    GArray *functional;     /* functional_req: the latest one per bus */
    uf_finding held[HELD_FINDINGS];
    uint32_t n_held;
    /* With cfg.spill (spill.c): sessions closed by the current call, the
     * store, each session's record in it (UINT32_MAX: in memory), and
     * what a session is read back into. */
    GPtrArray *closing;
    GPtrArray *digesting;   /* closed, before the spill: their digests come */
    uf_spill *spill;
    GArray *spilled_at;     /* uint32_t, by index - 1 */
    GByteArray *scratch;
    uf_sessions_reader own; /* uf_sessions_get's, through the store's window */
    struct uf_hasher *hasher;
};

/* ---- sessions.c ---------------------------------------------------------*/

/* Reports a finding about a session (s may be NULL): severity from the
 * profile, labels, ignores, counts, then the sink. */
void session_report(uf_sessions *ss, uf_session *s, const char *rule, uint64_t frame,
                    uf_time time, const char *fmt, ...) UF_PRINTF(6, 7);
void session_emit(uf_sessions *ss, uf_session *s, uf_finding *f);
const char *session_service(uint8_t sid, char *buf, size_t size);

void session_free(uf_sessions *ss, uf_session *s);

/* ---- spill.c ---------------------------------------------------------------*/

/* The sessions closed by this call go to the store, in the order they
 * closed, each once its digests are computed (at most DIGESTING wait for
 * theirs); called as a public entry point returns. `all`: every closed
 * session goes now, waiting for its digests (the end of the capture). */
void sessions_spill_closed(uf_sessions *ss, bool all);
void sessions_holder_free(uf_session *h);

/* ---- sequence.c -----------------------------------------------------------*/

void sequence_init(const uf_profile *p, uf_session *s);
void sequence_free(uf_session *s);
/* Matches a request against the profile; fills its label and reports order,
 * unexpected services, and session / security preconditions. */
void sequence_request(uf_sessions *ss, uf_session *s, const req_info *r, label *out);
/* A final response to a request with this label. */
void sequence_response(uf_session *s, const label *l, const uf_uds_decoded *d);
/* The session ends: required steps never done. */
void sequence_close(uf_sessions *ss, uf_session *s);

/* ---- timing.c -------------------------------------------------------------*/

void timing_request(uf_sessions *ss, uf_session *s, const req_info *r);
/* Also writes the limit the response was held to into m. */
void timing_response(uf_sessions *ss, uf_session *s, uf_uds_message *m);

/* ---- transfer.c -----------------------------------------------------------*/

/* Both also write the download and its progress into m (m may be NULL). */
void transfer_request(uf_sessions *ss, uf_session *s, const req_info *r, uf_uds_message *m);
void transfer_response(uf_sessions *ss, uf_session *s, uf_uds_message *m);
void transfer_close(uf_sessions *ss, uf_session *s);
/* All digests of the session's ended downloads computed; and taken into
 * its downloads (waiting for them). */
bool transfer_digests_ready(const uf_session *s);
void transfer_take_digests(uf_sessions *ss, uf_session *s);
void transfer_free(uf_sessions *ss, uf_session *s);

#endif /* UF_SESSION_INTERNAL_H */
