/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The analyzer as one object: capture records in; labelled UDS messages,
 * findings, downloads and flash sessions out. The CLI and the Wireshark
 * plugin both drive this, so that they give the same verdicts on the same
 * capture.
 */
#ifndef UF_ANALYZER_H
#define UF_ANALYZER_H

#include "uf_capture.h"
#include "uf_isotp.h"
#include "uf_session.h"
#include "uf_uds.h"

typedef struct uf_analyzer_config {
    uf_isotp_config isotp;      /* pairs, addressing, limits, timing */
    const uf_profile *profile;  /* sequence, limits, names, severities; owned by the caller */
    const char *const *ignore;  /* rule patterns never reported, NULL-terminated, or NULL */
    uint32_t max_sessions;      /* sessions analyzed; 0: UF_SESSIONS_MAX */
    uint32_t max_downloads;     /* downloads per session; 0: UF_SESSION_DOWNLOADS_MAX */
} uf_analyzer_config;

void uf_analyzer_config_defaults(uf_analyzer_config *c);
/* Takes the profile's ISO-TP limits (N_Bs, N_Cr, STmin tolerance). */
void uf_analyzer_config_profile(uf_analyzer_config *c, const uf_profile *p);

/* The same callbacks as the session layer's (uf_sessions_sink). */
typedef uf_sessions_sink uf_analyzer_sink;

typedef struct uf_analyzer uf_analyzer;

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink);
void uf_analyzer_free(uf_analyzer *a);
/* One record of the capture, in capture order. */
void uf_analyzer_record(uf_analyzer *a, const uf_record *rec);
void uf_analyzer_finish(uf_analyzer *a);
const uf_isotp *uf_analyzer_isotp(const uf_analyzer *a);
const uf_sessions *uf_analyzer_sessions(const uf_analyzer *a);

#endif /* UF_ANALYZER_H */
