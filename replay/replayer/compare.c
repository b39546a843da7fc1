/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Answers compared by meaning, not by bytes: a seed, the P2 an ECU
 * announces, a DID's value or the block length may differ from one run to
 * the next and mean the same; the kind of answer, the NRC, the echoed
 * sub-function, identifier and block counter, and a routine's status may
 * not (ISO 14229-1:2020 8.2, 10.2.3, 11.2.3, 13.2.3, 15.4.3).
 */
#include "uf_replay.h"

#include <stdio.h>
#include <string.h>

static const char *nrc_text(uint8_t nrc, char *buf, size_t size)
{
    const char *n = uf_uds_nrc_name(nrc);
    snprintf(buf, size, "NRC 0x%02X%s%s", nrc, n ? " " : "", n ? n : "");
    return buf;
}

const char *uf_replay_compare(const uint8_t *recorded, size_t rec_len, const uint8_t *live,
                              size_t live_len, char *buf, size_t size)
{
    uf_uds_decoded r, l;
    uf_uds_decode(recorded, rec_len, &r);
    uf_uds_decode(live, live_len, &l);
    char a[96], b[96];
    if (r.kind != l.kind) {
        if (l.kind == UF_UDS_NEGATIVE)
            snprintf(buf, size, "answered %s, where the recording was positive",
                     nrc_text(l.nrc, a, sizeof(a)));
        else
            snprintf(buf, size, "answered positively, where the recording had %s",
                     nrc_text(r.nrc, a, sizeof(a)));
        return buf;
    }
    if (r.sid != l.sid) {
        snprintf(buf, size, "answered service 0x%02X, recorded 0x%02X", l.sid, r.sid);
        return buf;
    }
    if (r.kind == UF_UDS_NEGATIVE) {
        if (r.nrc == l.nrc)
            return NULL;
        snprintf(buf, size, "answered %s, recorded %s", nrc_text(l.nrc, a, sizeof(a)),
                 nrc_text(r.nrc, b, sizeof(b)));
        return buf;
    }
    if (r.has_subfunction != l.has_subfunction || r.subfunction != l.subfunction) {
        snprintf(buf, size, "echoed sub-function 0x%02X, recorded 0x%02X", l.subfunction,
                 r.subfunction);
        return buf;
    }
    if (r.has_did != l.has_did || r.did != l.did) {
        snprintf(buf, size, "answered for DID 0x%04X, recorded 0x%04X", l.did, r.did);
        return buf;
    }
    if (r.has_routine != l.has_routine || r.routine != l.routine) {
        snprintf(buf, size, "answered for routine 0x%04X, recorded 0x%04X", l.routine, r.routine);
        return buf;
    }
    if (r.has_block != l.has_block || r.block_counter != l.block_counter) {
        snprintf(buf, size, "acknowledged block counter 0x%02X, recorded 0x%02X", l.block_counter,
                 r.block_counter);
        return buf;
    }
    /* A routine's status is its result: "erased", "memory correct". */
    if (r.sid == 0x31 && (r.record_len != l.record_len ||
                          (r.record_len && memcmp(r.record, l.record, r.record_len) != 0))) {
        snprintf(buf, size, "routine 0x%04X returned status %s%02X%s, recorded %s%02X%s",
                 r.routine, l.record_len ? "0x" : "", l.record_len ? l.record[0] : 0,
                 l.record_len > 1 ? "..." : (l.record_len ? "" : "(none)"),
                 r.record_len ? "0x" : "", r.record_len ? r.record[0] : 0,
                 r.record_len > 1 ? "..." : (r.record_len ? "" : "(none)"));
        return buf;
    }
    return NULL;
}
