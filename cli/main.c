/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsflash: UDS flash-session analysis of CAN and DoIP captures.
 * Subcommands follow `git`-style dispatch; each parses its own options with
 * GOptionContext, so `udsflash COMMAND --help` documents it.
 */
#include "cli.h"

static const uf_cli_command commands[] = {
    {"check", uf_cmd_check, "Check the flash sessions of a capture: verdicts, phases, downloads, findings"},
    {"extract", uf_cmd_extract, "Write each download of a capture as .bin and Intel HEX, with a manifest"},
    {"messages", uf_cmd_messages, "List the UDS messages of a capture, labelled with their steps"},
    {"profiles", uf_cmd_profiles, "List the built-in profiles, or check and show one"},
};

int main(int argc, char **argv)
{
    const uf_cli_program udsflash = {"udsflash", UF_VERSION,
                                     "UDS (ISO 14229) flash-session analysis of CAN and DoIP captures.",
                                     commands, UF_ARRAY_LEN(commands)};
    return uf_cli_main(&udsflash, argc, argv);
}
