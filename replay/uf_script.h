/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A replay script: what a tester did in one recorded flash session, in the
 * form udsreplay re-drives it. The tester's requests in order, each with
 * its addressing, the response the ECU gave (kept whole, compared by
 * meaning), the 0x78 answers before it and the recorded timing; the
 * TransferData blocks of each download collapsed into one transfer step
 * that holds the image, so that blocks are cut live to the length the ECU
 * announces. Tester present is not a step: it is sent whenever S3 needs it,
 * the way the recording sent it.
 *
 * Made from a capture (uf_script_collector, with the analyzer of udsflash
 * check) or read from the JSON file `udsreplay script` writes
 * (docs/replay.md); the two give the same script.
 */
#ifndef UF_SCRIPT_H
#define UF_SCRIPT_H

#include "uf_analyzer.h"

#include <stdio.h>

#define UF_SCRIPT_VERSION 1
/* The longest request or response a step keeps: ISO-TP's 4095 with
 * classic CAN, more with CAN FD or DoIP. Longer ones are not replayable. */
#define UF_SCRIPT_MESSAGE_MAX (1u << 20)
/* The largest image a download may hold (the whole image is kept). */
#define UF_SCRIPT_IMAGE_MAX (UINT64_C(1) << 30)

typedef enum uf_script_expect {
    UF_EXPECT_POSITIVE,
    UF_EXPECT_NEGATIVE,
    UF_EXPECT_NOTHING,    /* suppressed, or the recording had no answer */
} uf_script_expect;

typedef struct uf_script_download {
    uint32_t index;           /* 1-based in the session */
    uint64_t address, size;   /* of the RequestDownload */
    uint32_t blocks;          /* TransferData blocks recorded */
    uint32_t max_block_len;   /* maxNumberOfBlockLength recorded (0: none) */
    uint8_t *image;           /* the bytes the ECU accepted, `size` of them */
    char sha256[65];
    char *image_file;         /* read from / written to (JSON scripts) */
} uf_script_download;

typedef struct uf_script_step {
    char *phase, *name;       /* the profile's labels; NULL: none */
    uf_time delay;            /* since the previous step's end, as recorded */
    /* A transfer step: the blocks of download `download` (1-based). */
    uint32_t download;
    /* A request step. */
    uint8_t *request;
    size_t request_len;
    bool functional;
    uf_script_expect expect;
    uint8_t *response;        /* the recorded final response (POSITIVE / NEGATIVE) */
    size_t response_len;
    uint32_t pending;         /* 0x78 answers before it */
    uf_time response_time;    /* request end -> final response; UF_TIME_NONE */
} uf_script_step;

/* Where the session ran and how its messages were carried. */
typedef struct uf_script_link {
    bool doip;
    /* CAN: ids with UF_ISOTP_EFF for 29 bits; functional 0: none recorded. */
    uint32_t tester_id, ecu_id, functional_id;
    uf_addressing addressing;
    int16_t tester_addr, ecu_addr;  /* extended / mixed: the address bytes; -1 */
    bool fd;
    uint8_t tx_dl;                  /* 8, or 64 with CAN FD */
    bool pad;
    uint8_t pad_byte;
    /* DoIP: the logical addresses. */
    uint16_t tester_la, ecu_la, functional_la;
} uf_script_link;

typedef struct uf_script {
    char *source;             /* the capture it came from */
    uint32_t session;         /* its index there */
    uf_script_link link;
    uf_time p2, p2star;       /* as the ECU announced them (0: not seen) */
    /* Tester present as recorded: 0 if none was sent. */
    uf_time tester_present_interval;
    bool tester_present_functional;
    GArray *steps;            /* uf_script_step */
    GArray *downloads;        /* uf_script_download */
} uf_script;

void uf_script_free(uf_script *s);
static inline uf_script_step *uf_script_step_at(const uf_script *s, guint i)
{
    return &g_array_index(s->steps, uf_script_step, i);
}
static inline uf_script_download *uf_script_download_at(const uf_script *s, uint32_t index)
{
    return index >= 1 && index <= s->downloads->len
               ? &g_array_index(s->downloads, uf_script_download, index - 1)
               : NULL;
}
/* "RequestDownload addr=0x00010000 size=4096", "transfer of download 1". */
const char *uf_script_step_describe(const uf_script_step *st, char *buf, size_t size);

/* ---- from a capture ----------------------------------------------------------*/

typedef struct uf_script_collector uf_script_collector;

/* Collects session `session` (1-based, as `udsreplay list` numbers them). */
uf_script_collector *uf_script_collector_new(uint32_t session);
void uf_script_collector_free(uf_script_collector *c);
/* The analyzer callbacks that feed it. */
void uf_script_collector_sink(uf_script_collector *c, uf_analyzer_sink *sink);
/* After the analyzer finished: the script, or NULL with err when the
 * session does not exist or cannot be replayed (no complete download,
 * a message too long, an image beyond UF_SCRIPT_IMAGE_MAX). */
uf_script *uf_script_collector_finish(uf_script_collector *c, const uf_sessions *sessions,
                                      const char *source, uf_error *err);

/* How a session's messages travelled, learnt from its requests: the first
 * physical one gives the ids or logical addresses (*known set then), a
 * functional one the functional id, CAN FD any FD frame. */
void uf_script_link_learn(uf_script_link *l, bool *known, const uf_uds_message *m);

/* ---- JSON ----------------------------------------------------------------------*/

/* Writes the script to `path` and each image beside it as
 * `<path without .json>.d<N>.bin` (the names go into the script). */
bool uf_script_save(uf_script *s, const char *path, uf_error *err);
/* Reads a script and its images (relative names are relative to the
 * script's folder). NULL with err naming the file and the place. */
uf_script *uf_script_load(const char *path, uf_error *err);
/* The same from memory (images are not read: fuzzing). */
uf_script *uf_script_parse(const char *text, size_t len, const char *name, bool images,
                           uf_error *err);

#endif /* UF_SCRIPT_H */
