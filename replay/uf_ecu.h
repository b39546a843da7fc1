/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU of udsecu: a flash bootloader that answers UDS requests
 * (ISO 14229-1:2020) as a real one would: sessions with the P2 / P2* it
 * announces and the S3 fallback (7.5, 10.2), security access with the
 * sample seed / key algorithm and its attempt counter and delay (10.4),
 * communication control and DTC setting (10.5, 10.9), identification DIDs
 * (11.2, 11.7), the erase, check-memory and dependency routines with
 * response pending (13.2), RequestDownload / TransferData / RequestTransferExit
 * with real checks of the memory map, sizes, block length and block counter
 * (15.2-15.5), and ECU reset.
 *
 * Pure: requests and the time go in, responses with the time they are due
 * come out; the flash and the application's state are written through a
 * store the caller provides (a file, for udsecu). Faults are injected by
 * rules matched deterministically under a seed.
 */
#ifndef UF_ECU_H
#define UF_ECU_H

#include "uf_common.h"
#include "uf_responder.h"

#include <stdbool.h>
#include <stddef.h>

#define UF_ECU_MAX_REGIONS 8
#define UF_ECU_MAX_FLASH (64u << 20)   /* bytes over all regions */
#define UF_ECU_FINGERPRINT_MAX 32
#define UF_ECU_MAX_FAULTS 16

/* A region of flash the bootloader may erase and program. */
typedef struct uf_ecu_region {
    uint64_t address, size;
} uf_ecu_region;

/* ---- Faults (deterministic under the ECU's seed) ---------------------------*/

typedef enum uf_ecu_fault_kind {
    UF_FAULT_LATE,        /* the (final) response `ms` late: past P2, or past P2* after 0x78 */
    UF_FAULT_DROP,        /* no response at all */
    UF_FAULT_NRC,         /* a negative response with `nrc` instead */
    UF_FAULT_STOP,        /* silent from the `block`-th TransferData on: a power cut */
    UF_FAULT_FC,          /* the ECU's flow control says BS `bs`, STmin `stmin` (the transport applies it) */
    UF_FAULT_DOIP_NACK,   /* the DoIP entity NACKs the request with `nrc` as NACK code */
    UF_FAULT_DOIP_CLOSE,  /* the DoIP entity closes the connection instead of answering */
} uf_ecu_fault_kind;

typedef struct uf_ecu_fault {
    uf_ecu_fault_kind kind;
    uint8_t sid;          /* the service it applies to; 0: any */
    uint32_t nth;         /* the nth matching request (1-based); 0: see probability */
    double probability;   /* with nth 0: each matching request with this chance (1: all) */
    uint32_t ms;          /* LATE */
    uint8_t nrc;          /* NRC, DOIP_NACK */
    uint32_t block;       /* STOP: the TransferData block (1-based) it stops at */
    uint8_t bs, stmin;    /* FC */
} uf_ecu_fault;

/* "late,sid=0x31,n=1,ms=80", "drop,p=0.05", "nrc,sid=0x2E,n=1,nrc=0x22",
 * "stop,block=5", "fc,bs=1,stmin=0xFA", "doip-nack,n=3,nrc=0x03",
 * "doip-close,n=10" (docs/udsecu.md). */
bool uf_ecu_fault_parse(const char *text, uf_ecu_fault *out, uf_error *err);
const char *uf_ecu_fault_kind_name(uf_ecu_fault_kind k);

/* ---- Configuration ---------------------------------------------------------*/

typedef struct uf_ecu_config {
    uint16_t p2_ms;              /* P2_server_max announced: 50 */
    uint32_t p2star_ms;          /* P2*_server_max announced: 5000 */
    uf_time s3;                  /* S3_server: 5000 ms */
    uf_time response_time;       /* how long an ordinary answer takes: 2 ms */
    uf_time erase_time;          /* the erase routine: 1000 ms, answered 0x78 meanwhile */
    uf_time reset_time;          /* boot after ECUReset, deaf meanwhile: 500 ms */
    uint32_t max_block;          /* maxNumberOfBlockLength announced (with SID and counter): 0x402 */
    uf_ecu_region regions[UF_ECU_MAX_REGIONS];
    unsigned n_regions;          /* default one: 0x00010000, 0xF0000 bytes */
    char vin[18];                /* F190: "WVWZZZ1KZBW000042" */
    char serial[17];             /* F18C */
    char boot_version[9];        /* F195 without a valid application: "00.00.00" */
    uint32_t security_attempts;  /* wrong keys before the delay: 3 */
    uf_time security_delay;      /* 10 s */
    uint64_t seed;               /* seeds of SecurityAccess, probabilistic faults */
    uf_ecu_fault faults[UF_ECU_MAX_FAULTS];
    unsigned n_faults;
} uf_ecu_config;

void uf_ecu_config_defaults(uf_ecu_config *c);
/* "0x10000:0xF0000" -> a region; false with err on junk. */
bool uf_ecu_region_parse(const char *text, uf_ecu_region *out, uf_error *err);
/* Checks regions (no overlap, total within UF_ECU_MAX_FLASH) and limits. */
bool uf_ecu_config_check(const uf_ecu_config *c, uf_error *err);
/* Bytes of flash over all regions (the store's image size). */
uint64_t uf_ecu_flash_size(const uf_ecu_config *c);

/* ---- Persistence -------------------------------------------------------------*/

/* What survives a power cycle besides the flash bytes. */
typedef struct uf_ecu_persistent {
    bool app_valid;
    uint64_t app_start;          /* lowest address written by the last flash */
    uint8_t fingerprint[UF_ECU_FINGERPRINT_MAX];
    uint8_t fingerprint_len;
} uf_ecu_persistent;

typedef struct uf_ecu_store {
    void *ctx;
    /* Flash bytes [offset, offset + len) of the image (regions one after
     * the other) changed. */
    void (*flash)(void *ctx, uint64_t offset, const uint8_t *data, size_t len);
    void (*state)(void *ctx, const uf_ecu_persistent *p);
} uf_ecu_store;

/* ---- The ECU -------------------------------------------------------------------*/

typedef struct uf_ecu uf_ecu;

/* flash: the image to start from (NULL: erased, all 0xFF), of
 * uf_ecu_flash_size bytes; persistent: its state (NULL: no application). */
uf_ecu *uf_ecu_new(const uf_ecu_config *c, const uf_ecu_store *store, const uint8_t *flash,
                   const uf_ecu_persistent *persistent, uf_time now);
void uf_ecu_free(uf_ecu *e);

/* A request arrived (functional: to the functional address). */
uf_ecu_action uf_ecu_request(uf_ecu *e, const uint8_t *req, size_t len, bool functional,
                             uf_time now);
uint8_t uf_ecu_doip_nack_code(const uf_ecu *e);
/* A segmented request started arriving (ISO-TP first frame: T_Data.SOM
 * indication), or broke off: S3 does not run out while a request is on
 * its way (ISO 14229-2:2013 7.5). */
void uf_ecu_request_started(uf_ecu *e, uf_time now);
void uf_ecu_request_aborted(uf_ecu *e, uf_time now);

/* A response due by now, if any: copied to out (cap bytes at least 4095
 * is enough for every answer). Returns its length, 0 if none is due. */
size_t uf_ecu_response(uf_ecu *e, uf_time now, uint8_t *out, size_t cap);
/* Timers (S3, the end of a reset) due by now. */
void uf_ecu_tick(uf_ecu *e, uf_time now);
/* When the ECU next needs the caller; UF_TIME_NONE: not before a request. */
uf_time uf_ecu_wakeup(const uf_ecu *e);

/* The flow control the ECU's transport should send: false if as configured,
 * else the BS / STmin of an FC fault. */
bool uf_ecu_fc_override(const uf_ecu *e, uint8_t *bs, uint8_t *stmin);
/* The ECU went silent (a STOP fault: its power was cut). */
bool uf_ecu_stopped(const uf_ecu *e);

/* The ECU as the transports drive it. */
uf_responder uf_ecu_responder(uf_ecu *e);

/* What tests and the command line look at. */
typedef struct uf_ecu_status {
    uint8_t session;             /* 0x01 default, 0x02 programming, 0x03 extended */
    uint8_t security_level;      /* unlocked level (requestSeed sub-function), 0 locked */
    bool app_valid;
    bool resetting;
    uint32_t requests, responses;
    uint32_t blocks_written;
    uint64_t bytes_written;
    uint32_t resets;
    bool dtc_off, comm_off;
} uf_ecu_status;
void uf_ecu_get_status(const uf_ecu *e, uf_ecu_status *out);
/* The flash image (uf_ecu_flash_size bytes) and the state. */
const uint8_t *uf_ecu_flash(const uf_ecu *e);
const uf_ecu_persistent *uf_ecu_persistent_state(const uf_ecu *e);
/* The software version F195 reads now (8 bytes, not terminated). */
void uf_ecu_software_version(const uf_ecu *e, uint8_t out[8]);

#endif /* UF_ECU_H */
