/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The analyzer as one object: capture records in; UDS messages, unanswered
 * requests and findings out. The CLI and the Wireshark plugin both drive
 * this, so that they give the same verdicts on the same capture.
 */
#ifndef UF_ANALYZER_H
#define UF_ANALYZER_H

#include "uf_capture.h"
#include "uf_isotp.h"
#include "uf_uds.h"

typedef struct uf_analyzer_config {
    uf_isotp_config isotp; /* pairs, addressing, limits, timing */
    uf_uds_names names;    /* routine names from a profile, if any */
} uf_analyzer_config;

void uf_analyzer_config_defaults(uf_analyzer_config *c);

typedef struct uf_analyzer_sink {
    void *ctx;
    void (*message)(void *ctx, const uf_uds_message *m);
    void (*unanswered)(void *ctx, const uf_uds_request_ref *r);
    void (*finding)(void *ctx, const uf_finding *f);
} uf_analyzer_sink;

typedef struct uf_analyzer uf_analyzer;

uf_analyzer *uf_analyzer_new(const uf_analyzer_config *config, const uf_analyzer_sink *sink);
void uf_analyzer_free(uf_analyzer *a);
/* One record of the capture, in capture order. */
void uf_analyzer_record(uf_analyzer *a, const uf_record *rec);
void uf_analyzer_finish(uf_analyzer *a);
const uf_isotp *uf_analyzer_isotp(const uf_analyzer *a);

#endif /* UF_ANALYZER_H */
