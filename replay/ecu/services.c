/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's diagnostic services around programming (ISO
 * 14229-1:2020): DiagnosticSessionControl (10.2), ECUReset (10.3),
 * SecurityAccess with the sample seed / key algorithm, attempt counter and
 * delay (10.4), CommunicationControl (10.5), TesterPresent (10.6),
 * ControlDTCSetting (10.9), ClearDiagnosticInformation (12.2),
 * ReadDataByIdentifier (11.2) and WriteDataByIdentifier (11.7).
 */
#include "ecu_internal.h"

#include "uf_seedkey.h"

#include <string.h>

/* Sub-function byte without the suppressPosRspMsgIndicationBit (7.5.1). */
static uint8_t subfunction(const uint8_t *q, ecu_reply *r)
{
    r->suppress = (q[1] & 0x80) != 0;
    return q[1] & 0x7F;
}

static bool in_session(const uf_ecu *e, bool def, bool prog, bool ext)
{
    return (e->session == SESSION_DEFAULT && def) || (e->session == SESSION_PROGRAMMING && prog) ||
           (e->session == SESSION_EXTENDED && ext);
}

void ecu_session_control(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (n != 2) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t s = subfunction(q, r);
    if (s != SESSION_DEFAULT && s != SESSION_PROGRAMMING && s != SESSION_EXTENDED) {
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    /* The programming session is entered from the extended one (or
     * again from itself), as bootloaders require. */
    if (s == SESSION_PROGRAMMING && e->session == SESSION_DEFAULT) {
        ecu_nrc(r, NRC_CONDITIONS_NOT_CORRECT);
        return;
    }
    if (s != e->session) {
        /* A new session locks security again and ends a download (10.2.1). */
        e->unlocked = 0;
        e->seed_valid = false;
        e->dl_active = false;
        if (s == SESSION_DEFAULT)
            e->dtc_off = e->comm_off = false;
    }
    e->session = s;
    /* 10.2.2.2: P2_server_max in ms, P2*_server_max in units of 10 ms. */
    uint16_t p2star = (uint16_t)(e->c.p2star_ms / 10);
    uint8_t resp[6] = {0x50, s, (uint8_t)(e->c.p2_ms >> 8), (uint8_t)e->c.p2_ms,
                       (uint8_t)(p2star >> 8), (uint8_t)p2star};
    ecu_put(r, resp, sizeof(resp));
}

void ecu_reset(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    (void)e;
    if (n != 2) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t type = subfunction(q, r);
    if (type < 0x01 || type > 0x03) { /* hard, keyOffOn, soft */
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    uint8_t resp[2] = {0x51, type};
    ecu_put(r, resp, sizeof(resp));
    r->reset = true; /* once the answer is out */
}

/* Levels: 0x01 / 0x02 in the extended and programming sessions, 0x11 /
 * 0x12 (the programming level) in the programming session only. */
static bool level_supported(uint8_t level)
{
    return level == 0x01 || level == 0x02 || level == 0x11 || level == 0x12;
}

void ecu_security(uf_ecu *e, const uint8_t *q, size_t n, uf_time now, ecu_reply *r)
{
    if (!in_session(e, false, true, true)) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (n < 2) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t level = subfunction(q, r);
    if (!level_supported(level)) {
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    bool programming_level = level == 0x11 || level == 0x12;
    if (programming_level && e->session != SESSION_PROGRAMMING) {
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_IN_SESSION);
        return;
    }
    if (level & 1) { /* requestSeed */
        if (n != 2) {
            ecu_nrc(r, NRC_INCORRECT_LENGTH);
            return;
        }
        /* 10.4.2.2: after too many wrong keys, seeds wait for the delay. */
        if (e->locked_until != UF_TIME_NONE && now < e->locked_until) {
            ecu_nrc(r, NRC_DELAY_NOT_EXPIRED);
            return;
        }
        uint8_t resp[6] = {0x67, level, 0, 0, 0, 0};
        if (e->unlocked == level) {
            ecu_put(r, resp, sizeof(resp)); /* already unlocked: a zero seed */
            return;
        }
        uint32_t seed;
        do
            seed = (uint32_t)(ecu_random(e) >> 32);
        while (seed == 0);
        e->seed = seed;
        e->seed_level = level;
        e->seed_valid = true;
        uf_store_be32(resp + 2, seed);
        ecu_put(r, resp, sizeof(resp));
        return;
    }
    /* sendKey */
    if (!e->seed_valid || e->seed_level != level - 1) {
        ecu_nrc(r, NRC_SEQUENCE_ERROR);
        return;
    }
    if (n != 2 + UF_SEEDKEY_LEN) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    e->seed_valid = false; /* one key per seed */
    if (uf_load_be32(q + 2) != uf_seedkey(e->seed, e->seed_level)) {
        if (++e->failed_keys >= e->c.security_attempts) {
            e->failed_keys = 0;
            e->locked_until = now + e->c.security_delay;
            ecu_nrc(r, NRC_EXCEEDED_ATTEMPTS);
        } else {
            ecu_nrc(r, NRC_INVALID_KEY);
        }
        return;
    }
    e->failed_keys = 0;
    e->unlocked = e->seed_level;
    uint8_t resp[2] = {0x67, level};
    ecu_put(r, resp, sizeof(resp));
}

void ecu_tester_present(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    (void)e;
    if (n != 2) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    if (subfunction(q, r) != 0x00) {
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    uint8_t resp[2] = {0x7E, 0x00};
    ecu_put(r, resp, sizeof(resp));
}

void ecu_communication_control(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (!in_session(e, false, true, true)) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (n != 3) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t type = subfunction(q, r);
    if (type > 0x03) { /* enable / disable Rx and Tx */
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    uint8_t comm = q[2] & 0x03; /* normal, network management, both */
    if (comm == 0) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    e->comm_off = type != 0x00;
    uint8_t resp[2] = {0x68, type};
    ecu_put(r, resp, sizeof(resp));
}

void ecu_dtc_setting(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (!in_session(e, false, true, true)) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (n < 2) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t type = subfunction(q, r);
    if (type != 0x01 && type != 0x02) {
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    e->dtc_off = type == 0x02;
    uint8_t resp[2] = {0xC5, type};
    ecu_put(r, resp, sizeof(resp));
}

void ecu_clear_dtc(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    (void)e;
    if (n != 4) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    /* 12.2: the group of all DTCs; this ECU has no others. */
    if (q[1] != 0xFF || q[2] != 0xFF || q[3] != 0xFF) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    ecu_put8(r, 0x54);
}

/* ---- data identifiers -------------------------------------------------------*/

enum {
    DID_FINGERPRINT = 0xF184,
    DID_ACTIVE_SESSION = 0xF186,
    DID_SERIAL = 0xF18C,
    DID_VIN = 0xF190,
    DID_SW_VERSION = 0xF195,
    DID_APP_STATE = 0xF1A0, /* udsecu: 0x01 valid application, 0x00 none */
};

/* Appends DID and value; false for an unknown DID. */
static bool read_one(uf_ecu *e, uint16_t did, ecu_reply *r)
{
    uint8_t id[2] = {(uint8_t)(did >> 8), (uint8_t)did};
    uint8_t v[8];
    switch (did) {
    case DID_VIN:
        ecu_put(r, id, 2);
        ecu_put(r, e->c.vin, 17);
        return true;
    case DID_SERIAL:
        ecu_put(r, id, 2);
        ecu_put(r, e->c.serial, strlen(e->c.serial));
        return true;
    case DID_SW_VERSION:
        ecu_put(r, id, 2);
        uf_ecu_software_version(e, v);
        ecu_put(r, v, 8);
        return true;
    case DID_FINGERPRINT:
        ecu_put(r, id, 2);
        ecu_put(r, e->p.fingerprint, e->p.fingerprint_len);
        return true;
    case DID_ACTIVE_SESSION:
        ecu_put(r, id, 2);
        ecu_put8(r, e->session);
        return true;
    case DID_APP_STATE:
        ecu_put(r, id, 2);
        ecu_put8(r, e->p.app_valid ? 0x01 : 0x00);
        return true;
    default:
        return false;
    }
}

void ecu_read_did(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    /* 11.2: one or more DIDs, two bytes each; this ECU takes up to 8. */
    if (n < 3 || (n - 1) % 2 != 0 || (n - 1) / 2 > 8) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    ecu_put8(r, 0x62);
    bool any = false;
    for (size_t i = 1; i + 1 < n; i += 2)
        any |= read_one(e, uf_load_be16(q + i), r);
    if (!any)
        ecu_nrc(r, NRC_OUT_OF_RANGE); /* none of them is supported */
}

void ecu_write_did(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (!in_session(e, false, true, true)) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (n < 4) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint16_t did = uf_load_be16(q + 1);
    /* The fingerprint alone is writable, in the programming session. */
    if (did != DID_FINGERPRINT || e->session != SESSION_PROGRAMMING) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    if (n - 3 > UF_ECU_FINGERPRINT_MAX) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    if (!e->unlocked) {
        ecu_nrc(r, NRC_SECURITY_DENIED);
        return;
    }
    memcpy(e->p.fingerprint, q + 3, n - 3);
    e->p.fingerprint_len = (uint8_t)(n - 3);
    ecu_persist_state(e);
    uint8_t resp[3] = {0x6E, q[1], q[2]};
    ecu_put(r, resp, sizeof(resp));
}
