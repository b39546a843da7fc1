/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsflash: UDS flash-session analysis of CAN and DoIP captures.
 * Subcommands follow `git`-style dispatch; each parses its own options with
 * GOptionContext, so `udsflash COMMAND --help` documents it.
 */
#include "cli.h"

#include <locale.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"check", uf_cmd_check, "Check the flash sessions of a capture: verdicts, phases, downloads, findings"},
    {"extract", uf_cmd_extract, "Write each download of a capture as .bin and Intel HEX, with a manifest"},
    {"messages", uf_cmd_messages, "List the UDS messages of a capture, labelled with their steps"},
    {"profiles", uf_cmd_profiles, "List the built-in profiles, or check and show one"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage:\n  udsflash COMMAND [OPTION...] FILE\n\n"
                 "UDS (ISO 14229) flash-session analysis of CAN and DoIP captures.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < UF_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nHelp options:\n"
                 "  -h, --help   Show help; \"udsflash COMMAND --help\" for a command\n"
                 "  --version    Show the version\n");
}

int main(int argc, char **argv)
{
    /* Character set only: numbers keep the C locale's decimal point. */
    setlocale(LC_CTYPE, "");
    if (argc < 2) {
        usage(stderr);
        return UF_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return UF_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("udsflash %s\n", UF_VERSION);
        return UF_EXIT_OK;
    }
    for (size_t i = 0; i < UF_ARRAY_LEN(commands); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            /* The command sees argv[0] = "udsflash COMMAND" for its help. */
            char *prgname = g_strdup_printf("udsflash %s", name);
            g_set_prgname(prgname);
            argv[1] = prgname;
            int rc = commands[i].run(argc - 1, argv + 1);
            g_free(prgname);
            return rc;
        }
    }
    fprintf(stderr, "udsflash: unknown command \"%s\"\n\n", name);
    usage(stderr);
    return UF_EXIT_USAGE;
}
