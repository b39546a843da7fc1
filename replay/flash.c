/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The scripted tester of uf_flash.h: the generic ISO 14229-1 programming
 * sequence, request by request, each answer awaited within the P2 / P2*
 * the ECU announced (ISO 14229-2:2013 7.2), response pending followed.
 */
#include "uf_flash.h"

#include "uf_seedkey.h"
#include "uf_uds.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

static const char *service(uint8_t sid)
{
    const char *n = uf_uds_service_name(sid);
    return n ? n : "?";
}

int uf_flash_exchange(uf_channel *ch, const uint8_t *req, size_t n, bool functional,
                      uf_time p2, uf_time p2star, uint8_t *resp, size_t cap, size_t *resp_len,
                      uint8_t *nrc, uint32_t *pending, uf_error *err)
{
    if (!uf_channel_send(ch, req, n, functional, err))
        return -1;
    uf_time deadline = uf_channel_now(ch) + p2;
    bool after_pending = false;
    for (;;) {
        uf_channel_msg m;
        int r = uf_channel_recv(ch, &m, deadline, err);
        if (r < 0)
            return -1;
        if (r == 0) {
            uf_error_set(err, "%s: no answer to %s within %s (%.0f ms)", ch->name, service(req[0]),
                         after_pending ? "P2* after a response pending" : "P2",
                         (double)(after_pending ? p2star : p2) / 1e6);
            return -1;
        }
        if (m.len >= 3 && m.data[0] == 0x7F && m.data[1] == req[0]) {
            if (m.data[2] == 0x78) { /* responsePending: P2* from here */
                after_pending = true;
                if (pending)
                    (*pending)++;
                deadline = uf_channel_now(ch) + p2star;
                continue;
            }
            *nrc = m.data[2];
            return 0;
        }
        if (m.len >= 1 && m.data[0] == (uint8_t)(req[0] + 0x40)) {
            size_t k = m.len < cap ? m.len : cap;
            memcpy(resp, m.data, k);
            *resp_len = k;
            return 1;
        }
        /* Something else (another ECU, a late answer): not ours. */
    }
}

typedef struct run {
    uf_channel *ch;
    const uf_flash_plan *plan;
    uf_flash_result *res;
    uf_time p2, p2star;
    uint8_t resp[4096];
    size_t resp_len;
    uf_error *err;
} run;

/* A request that must be answered positively. */
static bool step(run *r, const char *what, const uint8_t *req, size_t n)
{
    uint8_t nrc = 0;
    int k = uf_flash_exchange(r->ch, req, n, false, r->p2, r->p2star, r->resp, sizeof(r->resp),
                              &r->resp_len, &nrc, &r->res->pending, r->err);
    if (k == 1)
        return true;
    if (k == 0) {
        const char *name = uf_uds_nrc_name(nrc);
        uf_error_set(r->err, "%s: %s refused: NRC 0x%02X %s", r->ch->name, what, nrc,
                     name ? name : "");
        return false;
    }
    char again[sizeof(r->err->msg)];
    g_strlcpy(again, r->err->msg, sizeof(again));
    uf_error_set(r->err, "%s: %s", what, again);
    return false;
}

/* Sends without waiting: functional or suppressed requests. */
static bool say(run *r, const uint8_t *req, size_t n, bool functional)
{
    return uf_channel_send(r->ch, req, n, functional, r->err);
}

/* Lets time pass on the channel (answers that come are dropped). */
static void pause_for(run *r, uf_time d)
{
    uf_time until = uf_channel_now(r->ch) + d;
    uf_channel_msg m;
    uf_error ignored;
    while (uf_channel_recv(r->ch, &m, until, &ignored) > 0) {
    }
}

static bool read_version(run *r, uint8_t out[8])
{
    const uint8_t q[] = {0x22, 0xF1, 0x95};
    if (!step(r, "reading the software version (F195)", q, sizeof(q)))
        return false;
    memset(out, 0, 8);
    if (r->resp_len >= 3)
        memcpy(out, r->resp + 3, r->resp_len - 3 < 8 ? r->resp_len - 3 : 8);
    return true;
}

/* The ECU announces its P2 / P2* when a session starts (ISO 14229-1:2020
 * 10.2.2.2); they govern the waiting from then on. */
static bool session(run *r, uint8_t s, const char *what)
{
    const uint8_t q[] = {0x10, s};
    if (!step(r, what, q, sizeof(q)))
        return false;
    if (r->resp_len >= 6) {
        r->p2 = (uf_time)uf_load_be16(r->resp + 2) * UF_NS_PER_MS + r->plan->margin;
        r->p2star = (uf_time)uf_load_be16(r->resp + 4) * 10 * UF_NS_PER_MS + r->plan->margin;
    }
    return true;
}

static bool download(run *r)
{
    const uf_flash_plan *p = r->plan;
    uint8_t erase[13] = {0x31, 0x01, 0xFF, 0x00, 0x44};
    uf_store_be32(erase + 5, p->address);
    uf_store_be32(erase + 9, p->size);
    if (!step(r, "the erase routine (0xFF00)", erase, sizeof(erase)))
        return false;
    uint8_t rd[11] = {0x34, 0x00, 0x44};
    uf_store_be32(rd + 3, p->address);
    uf_store_be32(rd + 7, p->size);
    if (!step(r, "RequestDownload", rd, sizeof(rd)))
        return false;
    /* lengthFormatIdentifier: the high nibble gives the bytes of
     * maxNumberOfBlockLength (ISO 14229-1:2020 15.2.3). */
    unsigned nb = r->resp_len >= 2 ? r->resp[1] >> 4 : 0;
    uint32_t max_block = 0;
    for (unsigned i = 0; i < nb && 2 + i < r->resp_len && i < 4; i++)
        max_block = max_block << 8 | r->resp[2 + i];
    if (max_block < 3) {
        uf_error_set(r->err, "%s: RequestDownload answered without a usable "
                             "maxNumberOfBlockLength", r->ch->name);
        return false;
    }
    r->res->max_block = max_block;
    uint32_t chunk = max_block - 2;
    uint8_t *block = g_malloc(max_block);
    uint8_t counter = 1;
    for (uint32_t off = 0; off < p->size; counter++) {
        uint32_t n = p->size - off < chunk ? p->size - off : chunk;
        block[0] = 0x36;
        block[1] = counter; /* 0xFF wraps to 0x00 (15.4) */
        memcpy(block + 2, p->image + off, n);
        char what[64];
        snprintf(what, sizeof(what), "TransferData block %u", r->res->blocks + 1);
        if (!step(r, what, block, n + 2)) {
            g_free(block);
            return false;
        }
        r->res->blocks++;
        off += n;
        if (p->progress)
            p->progress(p->progress_ctx, off, p->size);
    }
    g_free(block);
    const uint8_t exit_q[] = {0x37};
    if (!step(r, "RequestTransferExit", exit_q, sizeof(exit_q)))
        return false;
    uint8_t check[8] = {0x31, 0x01, 0x02, 0x02};
    uf_store_be32(check + 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), p->image, p->size));
    if (!step(r, "the check-memory routine (0x0202)", check, sizeof(check)))
        return false;
    if (r->resp_len < 5 || r->resp[4] != 0x00) {
        uf_error_set(r->err, "%s: the ECU found the memory wrong after the download "
                             "(check routine status 0x%02X)", r->ch->name,
                     r->resp_len >= 5 ? r->resp[4] : 0xFF);
        return false;
    }
    return true;
}

bool uf_flash_run(uf_channel *ch, const uf_flash_plan *plan, uf_flash_result *res,
                  uf_error *err)
{
    memset(res, 0, sizeof(*res));
    run r = {.ch = ch, .plan = plan, .res = res, .err = err};
    r.p2 = (plan->p2 ? plan->p2 : 50 * UF_NS_PER_MS) + plan->margin;
    r.p2star = (plan->p2star ? plan->p2star : 5000 * UF_NS_PER_MS) + plan->margin;
    res->started = uf_channel_now(ch);

    /* Pre-programming. */
    if (!session(&r, 0x03, "entering the extended session"))
        return false;
    if (!read_version(&r, res->version_before))
        return false;
    const uint8_t pre[] = {0x31, 0x01, 0x02, 0x03};
    if (!step(&r, "the preconditions routine (0x0203)", pre, sizeof(pre)))
        return false;
    if (plan->functional_pre) {
        const uint8_t dtc_off[] = {0x85, 0x82}, comm_off[] = {0x28, 0x83, 0x01};
        if (!say(&r, dtc_off, sizeof(dtc_off), true) || !say(&r, comm_off, sizeof(comm_off), true))
            return false;
        pause_for(&r, r.p2);
    } else {
        const uint8_t dtc_off[] = {0x85, 0x02}, comm_off[] = {0x28, 0x03, 0x01};
        if (!step(&r, "ControlDTCSetting off", dtc_off, sizeof(dtc_off)) ||
            !step(&r, "CommunicationControl off", comm_off, sizeof(comm_off)))
            return false;
    }

    /* Programming. */
    if (!session(&r, 0x02, "entering the programming session"))
        return false;
    const uint8_t seed_q[] = {0x27, 0x11};
    if (!step(&r, "requesting the seed", seed_q, sizeof(seed_q)))
        return false;
    if (r.resp_len != 6) {
        uf_error_set(err, "%s: a seed of %zu bytes, not 4", ch->name,
                     r.resp_len >= 2 ? r.resp_len - 2 : 0);
        return false;
    }
    uint8_t key_q[6] = {0x27, 0x12};
    uf_store_be32(key_q + 2, uf_seedkey(uf_load_be32(r.resp + 2), 0x11));
    if (!step(&r, "sending the key", key_q, sizeof(key_q)))
        return false;
    enum { FP_MAX = 32 }; /* the longest fingerprint udsecu keeps */
    uint8_t fp[3 + FP_MAX] = {0x2E, 0xF1, 0x84};
    const uint8_t *fpd = plan->fingerprint ? plan->fingerprint : (const uint8_t *)"UDSFLASH";
    size_t fpn = plan->fingerprint ? plan->fingerprint_len : 8;
    if (fpn > FP_MAX)
        fpn = FP_MAX;
    memcpy(fp + 3, fpd, fpn);
    if (!step(&r, "writing the fingerprint (F184)", fp, 3 + fpn))
        return false;
    if (!download(&r))
        return false;
    const uint8_t dep[] = {0x31, 0x01, 0xFF, 0x01};
    if (!step(&r, "the dependency check (0xFF01)", dep, sizeof(dep)))
        return false;
    if (r.resp_len < 5 || r.resp[4] != 0x00) {
        uf_error_set(err, "%s: the dependency check failed (status 0x%02X)", ch->name,
                     r.resp_len >= 5 ? r.resp[4] : 0xFF);
        return false;
    }
    const uint8_t reset[] = {0x11, 0x01};
    if (!step(&r, "ECUReset", reset, sizeof(reset)))
        return false;

    /* Post-programming: the ECU boots. A request sent while it boots goes
     * unanswered, which a capture shows as uds.no_response, so the tester
     * leaves the boot time in silence, then asks until it answers (5 s). */
    pause_for(&r, plan->boot_time ? plan->boot_time : UF_NS_PER_S);
    uf_time give_up = uf_channel_now(ch) + 5 * UF_NS_PER_S;
    for (bool first = true;; first = false) {
        if (!first)
            pause_for(&r, 100 * UF_NS_PER_MS);
        uf_error quiet;
        uf_error *keep = r.err;
        r.err = &quiet;
        bool ok = session(&r, 0x01, "returning to the default session");
        r.err = keep;
        if (ok)
            break;
        if (uf_channel_now(ch) >= give_up) {
            uf_error_set(err, "%s: the ECU did not come back within 5 s of the reset: %s",
                         ch->name, quiet.msg);
            return false;
        }
    }
    const uint8_t clear[] = {0x14, 0xFF, 0xFF, 0xFF};
    if (!step(&r, "clearing the DTCs", clear, sizeof(clear)))
        return false;
    if (!read_version(&r, res->version_after))
        return false;
    res->ended = uf_channel_now(ch);
    return true;
}
