/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay: re-drives recorded UDS flash sessions, reacting to the live
 * ECU. `git`-style subcommands, as udsflash: `udsreplay COMMAND --help`.
 */
#include "udsreplay.h"

#include <locale.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"list", ur_cmd_list, "List the flash sessions of a capture that can be replayed"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage:\n  udsreplay COMMAND [OPTION...] FILE\n\n"
                 "Flash ECUs from a golden capture, at the UDS level.\n\nCommands:\n");
    for (size_t i = 0; i < UF_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nHelp options:\n"
                 "  -h, --help   Show help; \"udsreplay COMMAND --help\" for a command\n"
                 "  --version    Show the version\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, ""); /* numbers keep the C locale's decimal point */
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
        printf("udsreplay %s\n", UF_VERSION);
        return UF_EXIT_OK;
    }
    for (size_t i = 0; i < UF_ARRAY_LEN(commands); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            char *prgname = g_strdup_printf("udsreplay %s", name);
            g_set_prgname(prgname);
            argv[1] = prgname;
            int rc = commands[i].run(argc - 1, argv + 1);
            g_free(prgname);
            return rc;
        }
    }
    fprintf(stderr, "udsreplay: unknown command \"%s\"\n\n", name);
    usage(stderr);
    return UF_EXIT_USAGE;
}
