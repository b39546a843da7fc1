/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The replayer: re-drives a replay script (uf_script.h) against a live ECU
 * over any channel, at the UDS level, reacting to the ECU as a tester
 * does: each request sent whole with the ECU's flow control, each answer
 * awaited within the P2 / P2* the ECU announced (any number of 0x78, P2*
 * restarted each time, ISO 14229-2:2013 7.2), tester present when S3
 * needs it, the key computed from the live seed, blocks cut to the
 * maxNumberOfBlockLength the ECU announces. Each answer is compared with
 * the recorded one by meaning; identification DIDs by value, before the
 * first erase; a broken transfer is recovered per policy; and success
 * needs the ECU's positive answer to a check routine after the last
 * download. docs/replay.md says each rule.
 */
#ifndef UF_REPLAY_H
#define UF_REPLAY_H

#include "uf_script.h"
#include "uf_transport.h"

/* ---- security access keys ------------------------------------------------------*/

typedef struct uf_key_source uf_key_source;

/* A library with Vector's GenerateKeyEx (samples/seedkey/GenerateKeyEx.c
 * shows the interface); variant is passed as iVariant. NULL with err if it
 * cannot be loaded or lacks the function. */
uf_key_source *uf_key_source_library(const char *path, const char *variant, uf_error *err);
/* A command line, run as `CMD LEVEL SEED` (hex: "0x11" "A1B2C3D4") that
 * prints the key in hex; it has 10 s. */
uf_key_source *uf_key_source_command(const char *command, uf_error *err);
/* level: the requestSeed sub-function. False with err saying why. */
bool uf_key_source_compute(uf_key_source *k, uint8_t level, const uint8_t *seed, size_t n,
                           uint8_t *key, size_t cap, size_t *len, uf_error *err);
void uf_key_source_free(uf_key_source *k);

/* ---- comparing answers ---------------------------------------------------------*/

/* NULL when the live answer means what the recorded one meant: same kind
 * (positive, or negative with the same NRC), and for a positive one the
 * same sub-function, DID, routine and routine status, block counter.
 * Dynamic bytes (seeds, timing, DID values, block lengths) do not count.
 * Otherwise a sentence in buf. */
const char *uf_replay_compare(const uint8_t *recorded, size_t rec_len, const uint8_t *live,
                              size_t live_len, char *buf, size_t size);

/* ---- the replay ----------------------------------------------------------------*/

typedef enum uf_recovery {
    UF_RECOVERY_REPEAT,   /* the same block again, same counter (ISO 14229-1:2020 15.4.2) */
    UF_RECOVERY_RESTART,  /* reconnect, session and key again, erase, 0x34, block 1 */
    UF_RECOVERY_NONE,
} uf_recovery;

const char *uf_recovery_name(uf_recovery r);
bool uf_recovery_parse(const char *text, uf_recovery *out);

typedef enum uf_replay_verdict {
    UF_REPLAY_SUCCESS,      /* every step done, a check routine confirmed */
    UF_REPLAY_FAILED,       /* the ECU answered otherwise, or not at all */
    UF_REPLAY_REFUSED,      /* a different ECU: nothing was erased */
    UF_REPLAY_UNCONFIRMED,  /* every step done, but no check routine confirmed the image */
} uf_replay_verdict;

const char *uf_replay_verdict_name(uf_replay_verdict v);

typedef struct uf_replay_progress {
    const char *phase, *step;   /* the script's labels, or NULL */
    uint64_t done, total;       /* image bytes over all downloads */
    uf_time elapsed;
} uf_replay_progress;

typedef struct uf_replay_options {
    uf_key_source *keys;        /* NULL: a script with SecurityAccess fails there */
    const uint16_t *identify;   /* identification DIDs; NULL: the default set */
    size_t n_identify;
    bool force;                 /* flash a different ECU all the same */
    bool continue_on_mismatch;  /* a differing answer is reported, not fatal */
    bool recorded_delays;       /* keep every recorded gap (else only after a reset) */
    uf_recovery recovery;
    uint32_t retries;           /* per block (repeat) or per download (restart) */
    uf_time margin;             /* added to P2 / P2* for the transport's own delays */
    /* Opens the channel again after a lost link (DoIP); NULL: the same
     * channel is tried again after a P2 (CAN: a bus-off restarts). */
    uf_channel *(*reconnect)(void *ctx, uf_error *err);
    void *reconnect_ctx;
    void (*progress)(void *ctx, const uf_replay_progress *p);
    void *progress_ctx;
    /* A line for the log: each step, each recovery, each mismatch let go. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} uf_replay_options;

void uf_replay_options_defaults(uf_replay_options *o);

typedef struct uf_replay_result {
    uf_replay_verdict verdict;
    char message[512];          /* why it failed, or what confirmed it */
    int failed_step;            /* 0-based, -1 none */
    uint32_t steps_done, requests, pending, tester_presents;
    uint32_t repeats, restarts, reconnects, mismatches;
    uint32_t identity_checked;  /* identification DIDs compared */
    uint64_t bytes, total_bytes;
    uint32_t blocks;
    uint32_t max_block;         /* the last maxNumberOfBlockLength announced */
    uf_time started, ended;
    uf_time transfer_time;      /* spent in TransferData exchanges, send to answer */
    bool check_confirmed;
    bool touched;               /* an erase or a download was sent */
} uf_replay_result;

/* Replays; *ch may be replaced by a reconnection (the caller frees what
 * is there at the end). The verdict is in res; true only for SUCCESS. */
bool uf_replay_run(uf_channel **ch, const uf_script *s, const uf_replay_options *o,
                   uf_replay_result *res);

#endif /* UF_REPLAY_H */
