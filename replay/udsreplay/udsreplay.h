/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay: flash ECUs from a golden capture, at the UDS level. Each
 * subcommand lives in its own cmd_*.c and parses its own options; the
 * capture is read with the same analysis as `udsflash check` (cli/).
 */
#ifndef UDSREPLAY_H
#define UDSREPLAY_H

#include "cli.h"
#include "uf_recorded_ecu.h"
#include "uf_replay.h"

/* udsreplay list FILE: the flash sessions of a capture. */
int ur_cmd_list(int argc, char **argv);
/* udsreplay script FILE -o script.json: the replay script of a session. */
int ur_cmd_script(int argc, char **argv);
/* udsreplay flash FILE: flash an ECU from a capture or a script. */
int ur_cmd_flash(int argc, char **argv);

/* udsreplay ecu FILE: answer a live tester as the recorded ECU did. */
int ur_cmd_ecu(int argc, char **argv);

/* Exit statuses of udsreplay flash beyond cli.h's (docs/replay.md). */
#define UR_EXIT_REFUSED 4

/* A session can be replayed when it downloaded something, completely:
 * only a complete image can be flashed again. */
bool ur_session_replayable(const uf_session *s);

/* The script in a JSON script file, or of session `session` (0: the only
 * replayable one) of a capture. NULL after printing why, with *status. */
uf_script *ur_load_script(const char *path, uint32_t session, uf_cli_analysis *an, int *status);

/* The ECU's side of session `session` (0: the only one) of a capture.
 * NULL after printing why, with *status. */
uf_recording *ur_load_recording(const char *path, uint32_t session, uf_cli_analysis *an,
                                int *status);

#endif /* UDSREPLAY_H */
