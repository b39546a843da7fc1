/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Decode of the UDS services a flash session uses (ISO 14229-1:2020):
 *   0x10 DiagnosticSessionControl 10.2 (P2 / P2* of the response)
 *   0x11 ECUReset 10.3             0x27 SecurityAccess 10.4
 *   0x28 CommunicationControl 10.5 0x3E TesterPresent 10.7
 *   0x85 ControlDTCSetting 10.9    0x14 ClearDiagnosticInformation 12.2
 *   0x22 ReadDataByIdentifier 11.2 0x2E WriteDataByIdentifier 11.7
 *   0x31 RoutineControl 14.2
 *   0x34 / 0x35 RequestDownload / RequestUpload 15.2 / 15.3
 *   0x36 TransferData 15.4         0x37 RequestTransferExit 15.5
 * Negative responses: 0x7F <SID> <NRC> (Annex A.1). Other services are
 * named, with their sub-function where they have one.
 */
#include "uf_uds.h"

#include <inttypes.h>
#include <string.h>

#define SPRMIB 0x80 /* suppressPosRspMsgIndicationBit */

bool uf_uds_has_subfunction(uint8_t sid)
{
    switch (sid) {
    case 0x10: case 0x11: case 0x27: case 0x28: case 0x29: case 0x2C: case 0x31:
    case 0x3E: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
        return true;
    default:
        return false;
    }
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The bytes from `at` on are the service's record (data, seed, options). */
static void take_record(const uint8_t *p, size_t n, size_t at, uf_uds_decoded *d)
{
    d->record = p + at;
    d->record_len = (uint32_t)(n - at);
}

/* A dataIdentifier at byte 1, or a routineIdentifier at byte 2, followed by
 * the record; false if the message is too short for it. */
static bool take_did(const uint8_t *p, size_t n, uf_uds_decoded *d)
{
    if (n < 3)
        return false;
    d->has_did = true;
    d->did = (uint16_t)be(p + 1, 2);
    take_record(p, n, 3, d);
    return true;
}

static bool take_routine(const uint8_t *p, size_t n, uf_uds_decoded *d)
{
    if (n < 4)
        return false;
    d->has_routine = true;
    d->routine = (uint16_t)be(p + 2, 2);
    take_record(p, n, 4, d);
    return true;
}

/* addressAndLengthFormatIdentifier + address + size (0x23, 0x34, 0x35, 0x3D). */
static void decode_memory(const uint8_t *p, size_t n, size_t at, uf_uds_decoded *d)
{
    if (n < at + 1) {
        d->malformed = "no addressAndLengthFormatIdentifier";
        return;
    }
    d->alfid = p[at];
    unsigned size_len = d->alfid >> 4, addr_len = d->alfid & 0x0F;
    if (size_len == 0 || addr_len == 0 || size_len > 8 || addr_len > 8) {
        d->malformed = "addressAndLengthFormatIdentifier with a length of 0 or above 8 bytes";
        return;
    }
    if (n < at + 1 + addr_len + size_len) {
        d->malformed = "shorter than its memoryAddress and memorySize";
        return;
    }
    d->has_memory = true;
    d->address = be(p + at + 1, addr_len);
    d->size = be(p + at + 1 + addr_len, size_len);
    take_record(p, n, at + 1 + addr_len + size_len, d);
}

static void decode_request(const uint8_t *p, size_t n, uf_uds_decoded *d)
{
    uint8_t sid = p[0];
    if (uf_uds_has_subfunction(sid)) {
        if (n < 2) {
            d->malformed = "no sub-function";
            return;
        }
        d->has_subfunction = true;
        d->subfunction = p[1] & 0x7F;
        d->suppress = (p[1] & SPRMIB) != 0;
    }
    switch (sid) {
    case 0x27:
        d->is_seed = d->subfunction & 1;
        d->security_level = (uint8_t)((d->subfunction + 1) / 2);
        take_record(p, n, 2, d);
        if (!d->is_seed && n < 3)
            d->malformed = "sendKey without a key";
        break;
    case 0x28:
        if (n < 3)
            d->malformed = "no communicationType";
        else
            d->comm_type = p[2];
        break;
    case 0x14:
        if (n < 4) {
            d->malformed = "no groupOfDTC";
            break;
        }
        d->has_dtc_group = true;
        d->dtc_group = (uint32_t)be(p + 1, 3);
        break;
    case 0x22:
        if (n < 3 || (n - 1) % 2) {
            d->malformed = "dataIdentifier list of odd length";
            break;
        }
        d->has_did = true;
        d->did = (uint16_t)be(p + 1, 2);
        d->did_count = (uint16_t)((n - 1) / 2);
        break;
    case 0x2E:
    case 0x2F:
    case 0x24:
        if (!take_did(p, n, d) || (sid != 0x24 && n < 4))
            d->malformed = "no dataIdentifier or no data";
        break;
    case 0x31:
        if (!take_routine(p, n, d))
            d->malformed = "no routineIdentifier";
        break;
    case 0x34:
    case 0x35:
        if (n < 2) {
            d->malformed = "no dataFormatIdentifier";
            break;
        }
        d->dfi = p[1];
        decode_memory(p, n, 2, d);
        break;
    case 0x23:
    case 0x3D:
        decode_memory(p, n, 1, d);
        break;
    case 0x36:
        if (n < 2) {
            d->malformed = "no blockSequenceCounter";
            break;
        }
        d->has_block = true;
        d->block_counter = p[1];
        take_record(p, n, 2, d);
        break;
    case 0x37:
        take_record(p, n, 1, d);
        break;
    default:
        break;
    }
}

static void decode_positive(const uint8_t *p, size_t n, uf_uds_decoded *d)
{
    uint8_t sid = d->sid;
    if (uf_uds_has_subfunction(sid)) {
        if (n < 2) {
            d->malformed = "positive response without its sub-function echo";
            return;
        }
        d->has_subfunction = true;
        d->subfunction = p[1] & 0x7F;
    }
    switch (sid) {
    case 0x10:
        /* sessionParameterRecord: P2_server_max in ms, P2*_server_max in 10 ms. */
        if (n >= 6) {
            d->has_timing = true;
            d->p2_ms = (uint16_t)be(p + 2, 2);
            d->p2star_ms = (uint32_t)be(p + 4, 2) * 10u;
        }
        break;
    case 0x27:
        d->is_seed = d->subfunction & 1;
        d->security_level = (uint8_t)((d->subfunction + 1) / 2);
        take_record(p, n, 2, d);
        break;
    case 0x22:
    case 0x2E:
    case 0x2F:
        if (!take_did(p, n, d))
            d->malformed = "positive response without its dataIdentifier";
        break;
    case 0x31:
        if (!take_routine(p, n, d))
            d->malformed = "positive response without its routineIdentifier";
        break;
    case 0x34:
    case 0x35: {
        if (n < 2) {
            d->malformed = "no lengthFormatIdentifier";
            break;
        }
        unsigned len = p[1] >> 4;
        if (len == 0 || len > 4 || n < 2 + len) {
            d->malformed = "maxNumberOfBlockLength missing or longer than 4 bytes";
            break;
        }
        d->has_max_block = true;
        d->max_block_len = (uint32_t)be(p + 2, len);
        break;
    }
    case 0x36:
        if (n < 2) {
            d->malformed = "positive response without its blockSequenceCounter";
            break;
        }
        d->has_block = true;
        d->block_counter = p[1];
        take_record(p, n, 2, d);
        break;
    default:
        break;
    }
}

void uf_uds_decode(const uint8_t *p, size_t n, uf_uds_decoded *d)
{
    memset(d, 0, sizeof(*d));
    if (n == 0) {
        d->malformed = "empty message";
        return;
    }
    uint8_t first = p[0];
    if (first == 0x7F) {
        d->kind = UF_UDS_NEGATIVE;
        if (n < 3) {
            d->sid = n >= 2 ? p[1] : 0;
            d->malformed = "negative response shorter than 3 bytes";
            return;
        }
        d->sid = p[1];
        d->nrc = p[2];
        if (n > 3)
            d->malformed = "negative response longer than 3 bytes";
        return;
    }
    if (first & 0x40) {
        d->kind = UF_UDS_POSITIVE;
        d->sid = first & (uint8_t)~0x40;
        decode_positive(p, n, d);
        return;
    }
    d->kind = UF_UDS_REQUEST;
    d->sid = first;
    decode_request(p, n, d);
}

/* ---- discovery hooks ------------------------------------------------------*/

bool uf_uds_looks_like_request(const uint8_t *p, size_t n)
{
    return n >= 1 && !(p[0] & 0x40) && uf_uds_service_name(p[0]) != NULL;
}

bool uf_uds_answers(const uint8_t *req, size_t req_len, const uint8_t *resp, size_t resp_len)
{
    if (req_len < 1 || resp_len < 1)
        return false;
    if (resp[0] == 0x7F)
        return resp_len >= 3 && resp[1] == req[0];
    if (resp[0] != (uint8_t)(req[0] | 0x40))
        return false;
    /* Echoed fields must agree where the response has them. */
    if (uf_uds_has_subfunction(req[0]) && req_len >= 2 && resp_len >= 2)
        return (resp[1] & 0x7F) == (req[1] & 0x7F);
    if ((req[0] == 0x22 || req[0] == 0x2E) && req_len >= 3 && resp_len >= 3)
        return resp[1] == req[1] && resp[2] == req[2];
    return true;
}

/* ---- describe -------------------------------------------------------------*/

const char *uf_uds_kind_name(uf_uds_kind k)
{
    switch (k) {
    case UF_UDS_REQUEST: return "request";
    case UF_UDS_POSITIVE: return "positive";
    case UF_UDS_NEGATIVE: return "negative";
    }
    return "?";
}

const char *uf_uds_display_service(uint8_t sid, char *buf, size_t size)
{
    const char *name = uf_uds_service_name(sid);
    if (name)
        return name;
    snprintf(buf, size, "Service0x%02X", sid);
    return buf;
}

typedef struct out {
    char *buf;
    size_t size, len;
} out;

static void put(out *o, const char *fmt, ...) UF_PRINTF(2, 3);

static void put(out *o, const char *fmt, ...)
{
    if (o->len >= o->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

static void put_sep(out *o)
{
    if (o->len > 0 && o->len < o->size - 1)
        put(o, " ");
}

static void put_named(out *o, const char *key, unsigned value, int width, const char *name)
{
    put_sep(o);
    if (name)
        put(o, "%s=%s (0x%0*X)", key, name, width, value);
    else
        put(o, "%s=0x%0*X", key, width, value);
}

/* Printable ASCII data (VINs, part numbers) is shown as text. */
static void put_data(out *o, const uint8_t *p, uint32_t n)
{
    put_sep(o);
    put(o, "data=%u byte%s", n, n == 1 ? "" : "s");
    bool printable = n > 0 && n <= 48;
    for (uint32_t i = 0; i < n && printable; i++)
        printable = (p[i] >= 0x20 && p[i] < 0x7F) || (p[i] == 0 && i == n - 1);
    if (printable) {
        put(o, " \"");
        for (uint32_t i = 0; i < n && p[i]; i++)
            put(o, "%c", p[i]);
        put(o, "\"");
    } else if (n > 0 && n <= 16) {
        put(o, " 0x");
        for (uint32_t i = 0; i < n; i++)
            put(o, "%02x", p[i]);
    }
}

static const char *routine_name(const uf_uds_names *names, uint16_t rid)
{
    const char *n = names && names->routine ? names->routine(names->ctx, rid) : NULL;
    return n ? n : uf_uds_routine_name(rid);
}

static const char *const routine_controls[] = {NULL, "startRoutine", "stopRoutine",
                                               "requestRoutineResults"};
static const char *const comm_controls[] = {
    "enableRxAndTx", "enableRxAndDisableTx", "disableRxAndEnableTx", "disableRxAndTx",
    "enableRxAndDisableTxWithEnhancedAddressInformation",
    "enableRxAndTxWithEnhancedAddressInformation"};

size_t uf_uds_describe(const uf_uds_decoded *d, const uf_uds_names *names, char *buf,
                       size_t size)
{
    out o = {buf, size, 0};
    if (size == 0)
        return 0;
    buf[0] = '\0';
    if (d->kind == UF_UDS_NEGATIVE) {
        const char *nrc = uf_uds_nrc_name(d->nrc);
        put(&o, "NRC=0x%02X %s", d->nrc, nrc ? nrc : "reserved");
        return o.len;
    }
    bool req = d->kind == UF_UDS_REQUEST;
    switch (d->sid) {
    case 0x10:
        if (d->has_subfunction)
            put_named(&o, "session", d->subfunction, 2, uf_uds_session_name(d->subfunction));
        if (d->has_timing) {
            put_sep(&o);
            put(&o, "P2=%ums P2*=%" PRIu32 "ms", d->p2_ms, d->p2star_ms);
        }
        break;
    case 0x11:
        if (d->has_subfunction)
            put_named(&o, "resetType", d->subfunction, 2, uf_uds_reset_name(d->subfunction));
        break;
    case 0x14:
        if (d->has_dtc_group) {
            put_sep(&o);
            put(&o, "group=0x%06" PRIX32, d->dtc_group);
        }
        break;
    case 0x22:
    case 0x2E:
    case 0x2F:
    case 0x24:
        if (d->has_did) {
            put_named(&o, "did", d->did, 4, uf_uds_did_name(d->did));
            if (req && d->did_count > 1)
                put(&o, " +%u more", d->did_count - 1);
            if (d->record_len || (!req && d->sid == 0x22) || (req && d->sid == 0x2E))
                put_data(&o, d->record, d->record_len);
        }
        break;
    case 0x27:
        if (d->has_subfunction) {
            put_sep(&o);
            put(&o, "%s level=%u", d->is_seed ? "requestSeed" : "sendKey", d->security_level);
            if (d->is_seed && !req) {
                put_sep(&o);
                put(&o, "seed=%u bytes", d->record_len);
            } else if (!d->is_seed && req) {
                put_sep(&o);
                put(&o, "key=%u bytes", d->record_len);
            }
        }
        break;
    case 0x28:
        if (d->has_subfunction) {
            put_named(&o, "controlType", d->subfunction, 2,
                      d->subfunction < UF_ARRAY_LEN(comm_controls) ? comm_controls[d->subfunction]
                                                                   : NULL);
            if (req) {
                put_sep(&o);
                put(&o, "communicationType=0x%02X", d->comm_type);
            }
        }
        break;
    case 0x31:
        if (d->has_subfunction) {
            put_sep(&o);
            if (d->subfunction < UF_ARRAY_LEN(routine_controls) && routine_controls[d->subfunction])
                put(&o, "%s", routine_controls[d->subfunction]);
            else
                put(&o, "routineControlType=0x%02X", d->subfunction);
        }
        if (d->has_routine) {
            put_named(&o, "routine", d->routine, 4, routine_name(names, d->routine));
            if (d->record_len) {
                put_sep(&o);
                if (!req && d->record_len <= 4) {
                    put(&o, "status=0x");
                    for (uint32_t i = 0; i < d->record_len; i++)
                        put(&o, "%02x", d->record[i]);
                } else {
                    put(&o, "%s=%u bytes", req ? "options" : "status", d->record_len);
                }
            }
        }
        break;
    case 0x34:
    case 0x35:
    case 0x23:
    case 0x3D:
        if (d->has_memory) {
            put_sep(&o);
            unsigned aw = (d->alfid & 0x0F) * 2;
            put(&o, "addr=0x%0*" PRIX64 " size=%" PRIu64, (int)aw, d->address, d->size);
            if (d->sid == 0x34 || d->sid == 0x35) {
                put(&o, " dfi=0x%02X", d->dfi);
                if (d->dfi & 0xF0)
                    put(&o, " compressed");
                if (d->dfi & 0x0F)
                    put(&o, " encrypted");
            }
        }
        if (d->has_max_block) {
            put_sep(&o);
            put(&o, "maxBlockLength=%" PRIu32, d->max_block_len);
        }
        break;
    case 0x36:
        if (d->has_block) {
            put_sep(&o);
            put(&o, "block=%u", d->block_counter);
            if (req) {
                put_sep(&o);
                put(&o, "data=%u bytes", d->record_len);
            }
        }
        break;
    case 0x85:
        if (d->has_subfunction)
            put_named(&o, "DTCSettingType", d->subfunction, 2,
                      d->subfunction == 1 ? "on" : d->subfunction == 2 ? "off" : NULL);
        break;
    default:
        if (d->has_subfunction && d->sid != 0x3E)
            put_named(&o, "subFunction", d->subfunction, 2, NULL);
        break;
    }
    if (req && d->suppress) {
        put_sep(&o);
        put(&o, "suppressPosRsp");
    }
    if (d->malformed) {
        put_sep(&o);
        put(&o, "[malformed: %s]", d->malformed);
    }
    return o.len;
}
