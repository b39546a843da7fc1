/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay: flash ECUs from a golden capture, at the UDS level. Each
 * subcommand lives in its own cmd_*.c and parses its own options; the
 * capture is read with the same analysis as `udsflash check` (cli/).
 */
#ifndef UDSREPLAY_H
#define UDSREPLAY_H

#include "cli.h"

/* udsreplay list FILE: the flash sessions of a capture. */
int ur_cmd_list(int argc, char **argv);

#endif /* UDSREPLAY_H */
