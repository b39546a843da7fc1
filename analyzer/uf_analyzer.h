/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The analyzer as one object: capture records in (CAN frames, and Ethernet /
 * IP packets carrying DoIP); labelled UDS messages, DoIP messages, findings,
 * downloads and flash sessions out. The CLI and the Wireshark
 * plugin both drive this, so that they give the same verdicts on the same
 * capture.
 */
#ifndef UF_ANALYZER_H
#define UF_ANALYZER_H

#include "uf_capture.h"
#include "uf_doip.h"
#include "uf_isotp.h"
#include "uf_net.h"
#include "uf_session.h"
#include "uf_uds.h"

#define UF_ANALYZER_MAX_DOIP_PORTS 8

typedef struct uf_analyzer_config {
    uf_isotp_config isotp;      /* pairs, addressing, limits, timing (for DoIP too) */
    uf_doip_config doip;        /* A_DoIP_Diagnostic_Message; max_message follows isotp's */
    /* TCP and UDP ports that carry DoIP besides 13400 (and TLS on 3496). */
    uint16_t doip_ports[UF_ANALYZER_MAX_DOIP_PORTS];
    size_t n_doip_ports;
    uint32_t max_connections;   /* TCP connections tracked at once */
    const uf_profile *profile;  /* sequence, limits, names, severities; owned by the caller */
    const char *const *ignore;  /* rule patterns never reported, NULL-terminated, or NULL */
    uint32_t max_sessions;      /* sessions analyzed; 0: UF_SESSIONS_MAX */
    uint32_t max_downloads;     /* downloads per session; 0: UF_SESSION_DOWNLOADS_MAX */
    bool spill_sessions;        /* closed sessions to a temporary file (uf_sessions_config) */
    bool hash_thread;           /* with spill_sessions: SHA-256 in a thread (uf_sessions_config) */
    uf_helper *helper;          /* with hash_thread: the thread, shared (uf_sessions_config) */
} uf_analyzer_config;

void uf_analyzer_config_defaults(uf_analyzer_config *c);
/* Takes the profile's ISO-TP limits (N_Bs, N_Cr, STmin tolerance). */
void uf_analyzer_config_profile(uf_analyzer_config *c, const uf_profile *p);

/* The session layer's callbacks (uf_sessions_sink), and every DoIP message
 * other than a diagnostic message (routing activation, ACKs, discovery). */
typedef struct uf_analyzer_sink {
    void *ctx;
    void (*message)(void *ctx, const uf_uds_message *m);
    void (*finding)(void *ctx, const uf_finding *f);
    void (*download_data)(void *ctx, const uf_session *s, const uf_download *d, uint64_t offset,
                          const uint8_t *data, uint32_t len);
    void (*download_end)(void *ctx, const uf_session *s, const uf_download *d);
    void (*session_end)(void *ctx, const uf_session *s);
    void (*doip)(void *ctx, const uf_doip_pdu *p);
    /* A CAN frame taken into an ISO-TP message of `sender` (uf_isotp_sink). */
    void (*isotp_frame)(void *ctx, uint64_t frame, const uf_isotp_endpoint *sender);
} uf_analyzer_sink;

typedef struct uf_analyzer uf_analyzer;

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink);
void uf_analyzer_free(uf_analyzer *a);
/* One record of the capture, in capture order. */
void uf_analyzer_record(uf_analyzer *a, const uf_record *rec);
void uf_analyzer_finish(uf_analyzer *a);
const uf_isotp *uf_analyzer_isotp(const uf_analyzer *a);
/* TCP reassembly counters (connections, gaps, retransmissions). */
uf_tcp_stats uf_analyzer_tcp_stats(const uf_analyzer *a);
const uf_sessions *uf_analyzer_sessions(const uf_analyzer *a);

#endif /* UF_ANALYZER_H */
