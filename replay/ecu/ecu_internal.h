/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the files of the virtual ECU share: its state, the response being
 * built for the request at hand, and the service handlers.
 */
#ifndef UF_ECU_INTERNAL_H
#define UF_ECU_INTERNAL_H

#include "uf_ecu.h"

#include <glib.h>
#include <string.h>

/* Negative response codes the ECU uses (ISO 14229-1:2020 Annex A.1). */
enum {
    NRC_GENERAL_REJECT = 0x10,
    NRC_SERVICE_NOT_SUPPORTED = 0x11,
    NRC_SUBFUNCTION_NOT_SUPPORTED = 0x12,
    NRC_INCORRECT_LENGTH = 0x13,
    NRC_BUSY_REPEAT = 0x21,
    NRC_CONDITIONS_NOT_CORRECT = 0x22,
    NRC_SEQUENCE_ERROR = 0x24,
    NRC_OUT_OF_RANGE = 0x31,
    NRC_SECURITY_DENIED = 0x33,
    NRC_INVALID_KEY = 0x35,
    NRC_EXCEEDED_ATTEMPTS = 0x36,
    NRC_DELAY_NOT_EXPIRED = 0x37,
    NRC_DOWNLOAD_NOT_ACCEPTED = 0x70,
    NRC_TRANSFER_SUSPENDED = 0x71,
    NRC_PROGRAMMING_FAILURE = 0x72,
    NRC_WRONG_COUNTER = 0x73,
    NRC_PENDING = 0x78,
    NRC_SUBFUNCTION_NOT_IN_SESSION = 0x7E,
    NRC_SERVICE_NOT_IN_SESSION = 0x7F,
};

enum { SESSION_DEFAULT = 0x01, SESSION_PROGRAMMING = 0x02, SESSION_EXTENDED = 0x03 };

/* What a handler decides about the request at hand. */
typedef struct ecu_reply {
    uint8_t buf[4096];
    size_t len;          /* positive response bytes; 0 with nrc set: negative */
    uint8_t nrc;
    bool suppress;       /* suppressPosRspMsgIndicationBit: no positive response */
    uf_time busy;        /* > 0: the answer takes this long, 0x78 meanwhile */
    bool reset;          /* reset once the answer is out */
} ecu_reply;

/* A completed download, for the check routine and the dependency check. */
typedef struct ecu_written {
    uint64_t address, size;
    bool checked;        /* the check-memory routine found it right */
} ecu_written;

typedef struct ecu_response {
    uf_time due;
    bool reset;          /* the ECU resets when this goes out */
    size_t len;
    uint8_t data[];
} ecu_response;

struct uf_ecu {
    uf_ecu_config c;
    uf_ecu_store store;
    uint8_t *flash;
    uint64_t flash_size;
    uf_ecu_persistent p;

    /* Volatile: lost at a reset. */
    uint8_t session;
    uint8_t unlocked;            /* requestSeed sub-function unlocked, 0 none */
    bool seed_valid;
    uint8_t seed_level;
    uint32_t seed;
    uint32_t failed_keys;
    uf_time locked_until;        /* security delay (UF_TIME_NONE: none) */
    bool dtc_off, comm_off;
    uf_time last_request;        /* S3 runs from here */
    bool receiving;              /* a segmented request is arriving: S3 waits */
    uf_time busy_until;          /* a long request in progress (UF_TIME_NONE: none) */
    bool resetting;
    uf_time reset_until;
    bool dl_active;
    uint64_t dl_address, dl_size, dl_done;
    uint8_t dl_counter;          /* last block counter accepted */
    bool dl_any;                 /* a block was accepted in this download */
    uint32_t dl_blocks;          /* TransferData requests in this download */
    GArray *erased;              /* uf_ecu_region, since the last reset */
    GArray *written;             /* ecu_written, since the last erase */
    bool flashing;               /* an erase happened: a new application is coming */
    uint64_t flash_low;          /* lowest address downloaded in this flash */
    uint8_t routine_status[3];   /* last results: 0x0202, 0xFF00, 0xFF01 (0xFF: never run) */

    uint64_t rng;
    uint32_t fault_matches[UF_ECU_MAX_FAULTS];
    uint8_t doip_nack_code;
    bool stopped;
    uf_ecu_status st;
    GQueue responses;            /* ecu_response *, by due time */
};

/* xorshift64*: the ECU's deterministic randomness. */
uint64_t ecu_random(uf_ecu *e);

/* Handlers (services.c, programming.c): fill r for the request. */
void ecu_session_control(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_reset(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_security(uf_ecu *e, const uint8_t *q, size_t n, uf_time now, ecu_reply *r);
void ecu_tester_present(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_communication_control(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_dtc_setting(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_clear_dtc(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_read_did(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_write_did(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_routine(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_request_download(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_transfer_data(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);
void ecu_transfer_exit(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r);

/* Memory map (programming.c). */
bool ecu_flash_offset(const uf_ecu *e, uint64_t address, uint64_t size, uint64_t *offset);
void ecu_persist_state(uf_ecu *e);

static inline void ecu_nrc(ecu_reply *r, uint8_t nrc)
{
    r->len = 0;
    r->nrc = nrc;
}

/* Appends bytes to the positive response. */
static inline void ecu_put(ecu_reply *r, const void *p, size_t n)
{
    if (r->len + n <= sizeof(r->buf)) {
        memcpy(r->buf + r->len, p, n);
        r->len += n;
    }
}

static inline void ecu_put8(ecu_reply *r, uint8_t v)
{
    ecu_put(r, &v, 1);
}

#endif /* UF_ECU_INTERNAL_H */
