/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsecu's virtual ECU over arbitrary requests, and its fault specs.
 * Input: byte 0 flags (bit 0: unlock the programming level first, so the
 * download services are reached; bit 1: a fault spec follows, up to a NUL),
 * then records [time step in 10 ms][length][request bytes]. Every answer
 * due is drained before the next request.
 * Invariants: answers fit the buffer and answer the request that was asked
 * (its SID + 0x40, or 0x7F with its SID); a refused fault spec says why;
 * writes stay inside the flash (ASan).
 */
#include "fuzz.h"
#include "uf_ecu.h"
#include "uf_seedkey.h"

#include <assert.h>
#include <glib.h>
#include <string.h>

typedef struct run {
    uf_ecu *e;
    uf_time now, s3;
} run;

/* Serves the answers to the request just made: steps to each wake-up
 * until its final answer (not 0x78), or until just before S3 would end the
 * session (a suppressed answer never comes). The final answer goes to last. */
static void drain(run *r, uint8_t sid, uint8_t *last, size_t *last_len)
{
    uint8_t out[4096];
    uf_time until = r->now + r->s3 - UF_NS_PER_MS;
    for (int steps = 0; steps < 256; steps++) {
        uf_ecu_tick(r->e, r->now);
        size_t n;
        while ((n = uf_ecu_response(r->e, r->now, out, sizeof(out))) > 0) {
            assert(n <= sizeof(out));
            assert(out[0] == (uint8_t)(sid + 0x40) || (n >= 3 && out[0] == 0x7F && out[1] == sid));
            if (out[0] == 0x7F && out[2] == 0x78)
                continue;
            if (last) {
                memcpy(last, out, n < 16 ? n : 16);
                *last_len = n;
            }
            return;
        }
        uf_time w = uf_ecu_wakeup(r->e);
        if (w == UF_TIME_NONE || w > until)
            return;
        r->now = w > r->now ? w : r->now + UF_NS_PER_MS;
    }
}

static void ask(run *r, const uint8_t *q, size_t n, uint8_t *resp, size_t *resp_len)
{
    uf_ecu_request(r->e, q, n, false, r->now);
    drain(r, q[0], resp, resp_len);
}

/* Extended session, programming session, seed and key of level 0x11.
 * Without faults it must succeed; a fault may stop it half-way. */
static void unlock(run *r, bool faults)
{
    uint8_t resp[16];
    size_t n = 0;
    ask(r, (const uint8_t[]){0x10, 0x03}, 2, resp, &n);
    ask(r, (const uint8_t[]){0x10, 0x02}, 2, resp, &n);
    n = 0;
    ask(r, (const uint8_t[]){0x27, 0x11}, 2, resp, &n);
    assert(faults || (n == 6 && resp[0] == 0x67));
    if (n != 6 || resp[0] != 0x67)
        return;
    uint8_t send[6] = {0x27, 0x12};
    uf_store_be32(send + 2, uf_seedkey(uf_load_be32(resp + 2), 0x11));
    n = 0;
    ask(r, send, sizeof(send), resp, &n);
    assert(faults || (n == 2 && resp[0] == 0x67));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    size_t at = 1;
    uf_ecu_config c;
    uf_ecu_config_defaults(&c);
    c.regions[0].size = 0x10000; /* small: each run erases it */
    if (flags & 2) {
        const uint8_t *nul = memchr(data + at, 0, size - at);
        size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
        char *spec = g_strndup((const char *)data + at, len);
        uf_ecu_fault f;
        uf_error err;
        if (uf_ecu_fault_parse(spec, &f, &err))
            c.faults[c.n_faults++] = f;
        else
            assert(err.msg[0] != '\0'); /* a refusal says why */
        g_free(spec);
        at += len + (nul != NULL);
    }
    assert(uf_ecu_config_check(&c, NULL));
    run r = {uf_ecu_new(&c, NULL, NULL, NULL, 0), 0, c.s3};
    if (flags & 1)
        unlock(&r, c.n_faults > 0);
    while (at + 2 <= size) {
        r.now += (uf_time)data[at] * 10 * UF_NS_PER_MS;
        size_t n = data[at + 1];
        at += 2;
        if (n == 0 || n > size - at)
            break;
        uf_ecu_request(r.e, data + at, n, (flags & 4) != 0, r.now);
        drain(&r, data[at], NULL, NULL);
        at += n;
    }
    uf_ecu_free(r.e);
    return 0;
}
