/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reproduction of a recorded session at frame level (udsreplay
 * reproduce): the tester's frames go out again with the recorded timing,
 * reactively. Each tester frame is due the recorded delay after the frame
 * before it, as that frame happened live: after the ECU's frame, when the
 * ECU actually sent it, not on a blind clock. So what the tester did
 * wrong (consecutive frames under STmin, a late tester present, a block
 * broken off, a flow control ignored) happens again against a live ECU.
 *
 * Deadlines are absolute on the medium's clock (monotonic on SocketCAN,
 * virtual on the simulated bus), so errors never add up. Every ECU frame
 * is compared with the recorded one; where the live ECU diverges (another
 * seed, another number of 0x78, another answer, silence) the divergence
 * is reported and the run stops, or goes on: resynchronised on the live
 * ECU's frames, the key of a live seed computed and sent in place of the
 * recorded one.
 */
#ifndef UF_REPRODUCE_H
#define UF_REPRODUCE_H

#include "uf_replay.h"

/* One recorded frame of the session. */
typedef struct uf_repro_frame {
    uint64_t number;         /* in the capture */
    uf_time time;
    bool from_tester;
    uf_can_frame f;
} uf_repro_frame;

typedef struct uf_repro_options {
    double speed;            /* recorded delays scaled by 1 / speed: 1 */
    uint64_t until;          /* the last capture frame to send; 0: to the end */
    bool continue_on_divergence;
    uf_key_source *keys;     /* keys of live seeds (continue); NULL: the recorded keys */
    uf_time ecu_wait;        /* how much later than recorded an ECU frame may come: 2 s */
    /* The bus's bit rates, when the medium's clock stamps a frame's end
     * (the simulated bus): a frame starts its own duration early. 0: no. */
    uint32_t bitrate, data_bitrate;
    /* On a real clock: the last stretch before a deadline, and from this
     * long before an ECU frame's recorded time to four times as long after
     * it, are waited by polling the medium, not sleeping, so that a frame
     * leaves on time whatever the scheduler's wake-up latency. 0: sleep
     * throughout. */
    uf_time spin;
    void *ctx;
    void (*log)(void *ctx, const char *line);
    void (*progress)(void *ctx, uint32_t done, uint32_t total);
} uf_repro_options;

void uf_repro_options_defaults(uf_repro_options *o);

typedef enum uf_repro_verdict {
    UF_REPRO_REPRODUCED,     /* every frame sent, every ECU frame as recorded */
    UF_REPRO_DIVERGED,       /* the live ECU diverged; the run went on or stopped */
    UF_REPRO_FAILED,         /* the medium failed */
} uf_repro_verdict;

typedef struct uf_repro_divergence {
    uint64_t frame;          /* the recorded frame it concerns */
    uf_time at;              /* on the medium's clock */
    char what[240];
} uf_repro_divergence;

typedef struct uf_repro_result {
    uf_repro_verdict verdict;
    bool stopped;            /* stopped at the first divergence */
    char message[512];
    uf_time started, ended;
    uint32_t tester_frames, sent, ecu_frames, matched, keys_computed;
    GArray *divergences;     /* uf_repro_divergence */
    /* Scheduling error of every tester frame sent: when it went out, less
     * when it was due (ns; late is positive). */
    GArray *errors;          /* uf_time */
    uf_time error_median, error_p99, error_max; /* of the absolute errors */
} uf_repro_result;

void uf_repro_result_init(uf_repro_result *r);
void uf_repro_result_clear(uf_repro_result *r);

/* Reproduces `frames` (uf_repro_frame, in recorded order) on the medium;
 * the ECU is the sender of ecu_id (uf_isotp_id_of; with address byte
 * ecu_addr unless -1). The result's verdict says how it went. */
void uf_repro_run(uf_can_medium *m, const GArray *frames, uint32_t ecu_id, int16_t ecu_addr,
                  const uf_repro_options *o, uf_repro_result *res);

#endif /* UF_REPRODUCE_H */
