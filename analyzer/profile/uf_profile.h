/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Profiles: the expected flash sequence and the timing limits as data
 * (docs/profiles.md). A profile names phases, the steps inside each (service,
 * sub-function, identifier, addressing, required / optional / repeatable,
 * whether the step needs the programming session or security access), the
 * limits (P2, P2*, S3, STmin tolerance, N_Bs, N_Cr), routine names and
 * per-rule severities. Three ship built in; any file can be loaded.
 */
#ifndef UF_PROFILE_H
#define UF_PROFILE_H

#include "uf_finding.h"
#include "uf_uds.h"

#define UF_STEP_ANY (-1)

typedef enum uf_step_addressing {
    UF_STEP_ANY_ADDRESSING,
    UF_STEP_PHYSICAL,
    UF_STEP_FUNCTIONAL,
} uf_step_addressing;

typedef struct uf_step {
    char *name;        /* "request-download" */
    uint32_t phase;    /* index into phases; UINT32_MAX for anytime steps */
    uint8_t sid;       /* request service id */
    int32_t sub;       /* sub-function (without the suppress bit), or UF_STEP_ANY */
    int32_t id;        /* DID (0x22, 0x2E, 0x2F) or routine id (0x31), or UF_STEP_ANY */
    bool optional, repeatable;
    uf_step_addressing addressing;
    bool needs_programming; /* only in the programming session (flash.session) */
    bool needs_security;    /* only with security access granted (flash.security) */
    uint32_t line;          /* where the profile defines it */
} uf_step;

typedef struct uf_phase {
    char *name;
    uint32_t first, count; /* its steps: steps[first .. first + count) */
    int32_t repeat_from, repeat_to; /* a block of steps that may run again, or -1 */
} uf_phase;

typedef struct uf_profile {
    char *name, *description;
    char *source;          /* "builtin" or the file's path */
    uf_phase *phases;
    uint32_t n_phases;
    uf_step *steps;        /* all phases' steps, in order */
    uint32_t n_steps;
    uf_step *anytime;      /* allowed in any phase; they do not advance */
    uint32_t n_anytime;
    /* Limits. */
    uf_time p2, p2star, s3, stmin_tolerance, n_bs, n_cr;
    /* Routine names and severity overrides. */
    uint16_t *routine_ids;
    char **routine_names;
    uint32_t n_routines;
    const uf_rule **severity_rules;
    uf_severity *severities;
    uint32_t n_severities;
} uf_profile;

/* Parses profile text (source names it in errors: "his.ini"). Errors say
 * which line and why: "his.ini:27: unknown service \"ReadMemory\"". */
uf_profile *uf_profile_parse(const char *text, size_t len, const char *source, uf_error *err);
uf_profile *uf_profile_load_file(const char *path, uf_error *err);
/* A built-in profile by name, or a file path (anything with a '/' or an
 * ".ini" ending is a path). NULL with err if neither. */
uf_profile *uf_profile_open(const char *name_or_path, uf_error *err);
void uf_profile_free(uf_profile *p);

/* The built-in profiles: names, and their text. */
size_t uf_profile_builtin_count(void);
const char *uf_profile_builtin_name(size_t i);
const char *uf_profile_builtin_text(size_t i, size_t *len);
#define UF_PROFILE_DEFAULT "iso14229"

const char *uf_profile_routine_name(const uf_profile *p, uint16_t rid);
/* Routine names for uf_uds_describe(). */
uf_uds_names uf_profile_names(const uf_profile *p);
/* The severity for a rule: the profile's override or the rule's default. */
uf_severity uf_profile_severity(const uf_profile *p, const uf_rule *rule);
/* True, with *out, if the profile sets this rule's severity (p may be NULL). */
bool uf_profile_severity_override(const uf_profile *p, const uf_rule *rule, uf_severity *out);

/* Does a request (decoded fields) fit a step? functional: sent to a
 * functional id. */
bool uf_step_matches(const uf_step *s, uint8_t sid, bool has_sub, uint8_t sub, bool has_id,
                     uint16_t id, bool functional);
/* "RoutineControl 0x01 0xFF00" as written in the profile, for messages. */
const char *uf_step_describe(const uf_step *s, char *buf, size_t size);

#endif /* UF_PROFILE_H */
