/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the end-to-end tests of udsreplay flash share: reading the
 * simulated ECU's flash file and what `udsflash check` says of a capture.
 */
#ifndef REPLAY_HELPERS_H
#define REPLAY_HELPERS_H

#include "helpers.h"

#include <json-glib/json-glib.h>

#define ECU_REGION 0x10000u /* udsecu's default region starts here */
#define ECU_HEADER 4096u    /* the flash file's header (uf_ecu_file.h) */

/* SHA-256 of `size` bytes of the simulated ECU's flash at `address`. */
char *rh_ecu_sha256(const char *ecu_file, uint64_t address, uint64_t size);

/* The downloads of session `index` (0-based) of `udsflash check
 * --format json FILE` (profile NULL: iso14229); the exit status in
 * *status; the parser, which owns the array, in *keep. */
JsonArray *rh_check_downloads(const char *file, const char *profile, guint index, int *status,
                              JsonParser **keep);

/* Every download of session `index` of the golden capture is now in the
 * simulated ECU's flash, byte for byte. */
void rh_assert_ecu_holds_golden(const char *ecu_file, const char *golden, guint index);

/* `udsreplay script SAMPLE [--session N] -o <new folder>/golden.json`
 * (session 0: none given); the folder in *dir_out. g_free both. */
char *rh_write_script(const char *sample, guint session, char **dir_out);

/* "rule@step" of every finding of `udsflash check FILE` once, sorted
 * (g_strfreev); doip_port: a port that carried DoIP besides 13400, or NULL. */
char **rh_rules_at_steps(const char *file, const char *doip_port);
bool rh_contains(char **set, const char *what);

/* Replaces the first occurrence of `from` in the file by `to`. */
void rh_edit(const char *path, const char *from, const char *to);

#endif /* REPLAY_HELPERS_H */
