/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay: re-drives recorded UDS flash sessions, reacting to the live
 * ECU. `git`-style subcommands, as udsflash: `udsreplay COMMAND --help`.
 */
#include "udsreplay.h"

static const uf_cli_command commands[] = {
    {"list", ur_cmd_list, "List the flash sessions of a capture that can be replayed"},
    {"script", ur_cmd_script, "Write the replay script of a session, to read or edit"},
    {"flash", ur_cmd_flash, "Flash an ECU from a golden capture or a script"},
    {"reproduce", ur_cmd_reproduce, "Send a capture's tester frames again, with their timing"},
    {"ecu", ur_cmd_ecu, "Answer a live tester as the ECU of a capture did"},
};

int main(int argc, char **argv)
{
    const uf_cli_program udsreplay = {"udsreplay", UF_VERSION,
                                      "Flash ECUs from a golden capture, at the UDS level.",
                                      commands, UF_ARRAY_LEN(commands)};
    return uf_cli_main(&udsreplay, argc, argv);
}
