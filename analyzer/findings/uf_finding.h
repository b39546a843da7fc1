/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Findings: anomalies in traffic, never errors. Each has a stable rule id
 * from the catalogue (docs/rules.md lists the same strings), a severity, the
 * frame and time it was seen at, and a one-line message with the measured
 * figure and the limit.
 */
#ifndef UF_FINDING_H
#define UF_FINDING_H

#include "uf_common.h"

typedef enum uf_severity {
    UF_SEV_INFO = 0,
    UF_SEV_WARNING = 1,
    UF_SEV_ERROR = 2,
} uf_severity;

const char *uf_severity_name(uf_severity s);
/* "info", "warning", "error" -> severity; false for anything else. */
bool uf_severity_parse(const char *name, uf_severity *out);

/* One entry of the catalogue. */
typedef struct uf_rule {
    const char *id;       /* "isotp.sequence" */
    uf_severity severity; /* default severity */
    const char *clause;   /* "ISO 15765-2:2016 9.6.4.3" */
    const char *summary;  /* what the rule checks, one sentence */
} uf_rule;

/* NULL if the id is not in the catalogue. */
const uf_rule *uf_rule_find(const char *id);
const uf_rule *uf_rules_all(size_t *count);

#define UF_FINDING_MESSAGE_MAX 240
#define UF_BUS_NONE UINT32_MAX /* a finding about the whole input */

typedef struct uf_finding {
    const uf_rule *rule;
    uf_severity severity;
    uint64_t frame;   /* frame number the finding points at (0: none) */
    uint64_t frame2;  /* a related frame (the request of a late response...), 0 if none */
    uf_time time;
    uint32_t bus;     /* or UF_BUS_NONE */
    /* The CAN id (and address byte, or -1) it happened on, if any: lets the
     * session layer attribute ISO-TP findings. */
    bool has_id;
    uint32_t id;
    int16_t id_addr;
    /* Filled by the session layer: 0 if outside any flash session. Names
     * point into the profile. */
    uint32_t session;
    const char *phase, *step;
    char message[UF_FINDING_MESSAGE_MAX];
} uf_finding;

/* True if a rule id is selected by a pattern: the id itself, its family
 * ("isotp" or "isotp.*"), or "flash.transfer.*" for a sub-family. */
bool uf_rule_matches(const char *rule_id, const char *pattern);

/* Fills f with the rule's default severity and a formatted message. Aborts
 * on an unknown id: rule ids are compile-time constants. */
void uf_finding_init(uf_finding *f, const char *rule_id, uint64_t frame, uf_time time,
                     uint32_t bus, const char *fmt, ...) UF_PRINTF(6, 7);

#endif /* UF_FINDING_H */
