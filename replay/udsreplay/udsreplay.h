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
#include "uf_reproduce.h"

/* udsreplay list FILE: the flash sessions of a capture. */
int ur_cmd_list(int argc, char **argv);
/* udsreplay script FILE -o script.json: the replay script of a session. */
int ur_cmd_script(int argc, char **argv);
/* udsreplay flash FILE: flash an ECU from a capture or a script. */
int ur_cmd_flash(int argc, char **argv);

/* udsreplay ecu FILE: answer a live tester as the recorded ECU did. */
int ur_cmd_ecu(int argc, char **argv);

/* udsreplay reproduce FILE: the tester's frames again, with the recorded
 * timing, against a live ECU. */
int ur_cmd_reproduce(int argc, char **argv);

/* A real CAN interface has a device behind it; vcan and the like do not. */
bool ur_real_interface(const char *ifname);
bool ur_loopback_host(const char *host);
/* Asks "ACTION TARGET? CONSEQUENCE [y/N]" on the terminal; false when the
 * answer is no or there is no terminal, after saying why. */
bool ur_confirm(const char *command, const char *target, const char *action,
                const char *consequence);

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

/* The same from "FILE" or "FILE#N" (the value of `option`). */
uf_recording *ur_load_recording_spec(const char *option, const char *spec, uf_cli_analysis *an,
                                     int *status);

/* The CAN frames of the recording's session (uf_repro_frame), read again
 * from the capture: which frames are the session's (its bus, ids, first
 * and last frame) is known only once the analysis is through, and the
 * capture streams rather than staying in memory. NULL after printing why,
 * with *status. */
GArray *ur_load_frames(const char *path, const uf_recording *r, int *status);

#endif /* UDSREPLAY_H */
