/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A scripted tester: the generic ISO 14229 flash sequence (the one the
 * iso14229 profile expects) over any channel, with the sample seed / key
 * algorithm. Tests and the SocketCAN scenarios flash udsecu with it; it
 * waits for each answer within P2 / P2* and follows response pending.
 */
#ifndef UF_FLASH_H
#define UF_FLASH_H

#include "uf_transport.h"

typedef struct uf_flash_plan {
    const uint8_t *image;
    uint32_t size;
    uint32_t address;
    const uint8_t *fingerprint;  /* F184; NULL: "UDSFLASH" */
    size_t fingerprint_len;
    bool functional_pre;         /* 0x85 / 0x28 to the functional address */
    uf_time p2, p2star;          /* waiting limits; 0: 50 ms and 5000 ms, or what the ECU announces */
    uf_time margin;              /* added to P2 / P2* for the transport's own delays: 0 */
    uf_time boot_time;           /* the ECU's boot after ECUReset, left in silence: 0 = 1 s */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} uf_flash_plan;

typedef struct uf_flash_result {
    uint8_t version_before[8], version_after[8];
    uint32_t blocks;
    uint32_t max_block;
    uint32_t pending;            /* response pending (0x78) answers seen */
    uf_time started, ended;
} uf_flash_result;

/* Flashes; false with err naming the step and what the ECU answered. */
bool uf_flash_run(uf_channel *ch, const uf_flash_plan *plan, uf_flash_result *res,
                  uf_error *err);

/* One request and its final answer (following 0x78), within P2 / P2*:
 * 1 positive (copied to resp), 0 negative (*nrc), -1 no answer or failure. */
int uf_flash_exchange(uf_channel *ch, const uint8_t *req, size_t n, bool functional,
                      uf_time p2, uf_time p2star, uint8_t *resp, size_t cap, size_t *resp_len,
                      uint8_t *nrc, uint32_t *pending, uf_error *err);

#endif /* UF_FLASH_H */
