/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the udsflash subcommands share: analysis options (GOptionGroup),
 * the read loop from a reader into the analyzer, and the exit statuses of
 * DESIGN.md (0 clean, 1 findings, 2 usage, 3 unreadable or damaged input).
 */
#ifndef UF_CLI_H
#define UF_CLI_H

#include "uf_analyzer.h"
#include "uf_profile.h"

#include <glib.h>

enum uf_exit {
    UF_EXIT_OK = 0,
    UF_EXIT_FINDINGS = 1,
    UF_EXIT_USAGE = 2,
    UF_EXIT_INPUT = 3,
};

/* ---- analysis options -------------------------------------------------------*/

typedef struct uf_cli_analysis {
    char *profile_name;
    char **ignore;
    char *addressing;
    char **pairs;
    char **functional;
    gboolean all_ids;
    gint max_message;
    gint n_bs_ms, n_cr_ms;
    gint stmin_tolerance_us;
    gint n_wft_max;
    char *padding;
    char **doip_ports;
    gint doip_ack_ms;
    /* Parsed. */
    uf_profile *profile;
    uf_isotp_pair *pair_list;
    uint32_t *functional_list;
} uf_cli_analysis;

/* ---- the command line ---------------------------------------------------------*/

/* A program of subcommands (udsflash, udsreplay). */
typedef struct uf_cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is "PROGRAM COMMAND" */
    const char *summary;
} uf_cli_command;

typedef struct uf_cli_program {
    const char *name, *version, *summary;
    const uf_cli_command *commands;
    size_t n_commands;
} uf_cli_program;

/* main() of such a program: help, --version, the command's exit status. */
int uf_cli_main(const uf_cli_program *p, int argc, char **argv);

/* A subcommand's options: its entries, then (when an is not NULL) --profile,
 * --ignore and the analysis group. */
GOptionContext *uf_cli_context(const char *parameter, const char *summary,
                               const GOptionEntry *entries, uf_cli_analysis *an);
/* Parses; on a bad option prints "udsflash COMMAND: why" and returns false. */
bool uf_cli_parse(GOptionContext *ctx, const char *command, int *argc, char ***argv);

/* Main options --profile and --ignore (added to entries), and a group with
 * --addressing, --pair, --functional, the ISO-TP limits, ... */
void uf_cli_profile_entries(uf_cli_analysis *opts, GOptionContext *ctx);
GOptionGroup *uf_cli_analysis_group(uf_cli_analysis *opts);
/* Loads the profile (default iso14229), then fills cfg: the profile's
 * limits first, explicit options over them. False with err on a bad option
 * or profile (both are exit status 2). */
bool uf_cli_analysis_config(uf_cli_analysis *opts, uf_analyzer_config *cfg, uf_error *err);
void uf_cli_analysis_free(uf_cli_analysis *opts);

/* "0x7E0" -> 0x7E0; "0x18DA10F1" or any id written with more than three hex
 * digits is a 29-bit id (UF_ISOTP_EFF). */
bool uf_cli_parse_can_id(const char *s, uint32_t *out);

/* ---- the read loop ------------------------------------------------------------*/

typedef struct uf_cli_input {
    uf_reader *reader;
    bool live;
    /* Read ahead of the analysis (files only), by helper, shared with the
     * analysis's other jobs, or by a thread of its own (helper NULL). The
     * reader is then off limits while uf_cli_run() runs: for commands that
     * ask it nothing until the end. */
    bool read_ahead;
    uf_helper *helper;
    uf_time base;      /* time of the first record: report times are relative */
    uint64_t frames;
    bool damaged;
    uf_error damage;   /* the reader's sentence when damaged */
} uf_cli_input;

/* Opens a file or a live interface. Prints the error and returns false. */
bool uf_cli_open(uf_cli_input *in, const char *path, const char *iface);
/* Reads everything into the analyzer (SIGINT or SIGTERM ends a live
 * capture), then finishes it. A damaged input leaves in->damaged set. */
void uf_cli_run(uf_cli_input *in, uf_analyzer *a);
/* The analysis every command runs: cfg's timing checks on when the input
 * has timestamps, an analyzer feeding `sink`, the input read through it
 * (uf_cli_run). The finished analyzer, for the caller to free. */
uf_analyzer *uf_cli_analyze(uf_cli_input *in, uf_analyzer_config *cfg,
                            const uf_analyzer_sink *sink);
void uf_cli_close(uf_cli_input *in);

/* Time relative to the capture start, or UF_TIME_NONE. */
static inline uf_time uf_cli_rel(const uf_cli_input *in, uf_time t)
{
    return uf_time_diff(t, in->base);
}

/* ---- commands ---------------------------------------------------------------*/

int uf_cmd_check(int argc, char **argv);
int uf_cmd_extract(int argc, char **argv);
int uf_cmd_messages(int argc, char **argv);
int uf_cmd_profiles(int argc, char **argv);

#endif /* UF_CLI_H */
