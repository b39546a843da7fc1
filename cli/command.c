/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * How every subcommand reads its command line: one GOptionContext with the
 * command's own options, the profile options and the analysis group, and one
 * way of saying a bad option is wrong (exit status 2); and the dispatch of
 * a program's subcommands, shared by udsflash and udsreplay.
 */
#include "cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

GOptionContext *uf_cli_context(const char *parameter, const char *summary,
                               const GOptionEntry *entries, uf_cli_analysis *an)
{
    GOptionContext *ctx = g_option_context_new(parameter);
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (an) {
        uf_cli_profile_entries(an, ctx);
        g_option_context_add_group(ctx, uf_cli_analysis_group(an));
    }
    return ctx;
}

bool uf_cli_parse(GOptionContext *ctx, const char *command, int *argc, char ***argv)
{
    GError *e = NULL;
    if (g_option_context_parse(ctx, argc, argv, &e))
        return true;
    fprintf(stderr, "udsflash %s: %s\n", command, e->message);
    g_error_free(e);
    return false;
}

/* ---- the program: `git`-style dispatch ---------------------------------------*/

static void program_usage(FILE *out, const uf_cli_program *p)
{
    fprintf(out, "Usage:\n  %s COMMAND [OPTION...] FILE\n\n%s\n\nCommands:\n", p->name, p->summary);
    for (size_t i = 0; i < p->n_commands; i++)
        fprintf(out, "  %-12s %s\n", p->commands[i].name, p->commands[i].summary);
    fprintf(out, "\nHelp options:\n"
                 "  -h, --help   Show help; \"%s COMMAND --help\" for a command\n"
                 "  --version    Show the version\n", p->name);
}

int uf_cli_main(const uf_cli_program *p, int argc, char **argv)
{
    /* Character set only: numbers keep the C locale's decimal point. */
    setlocale(LC_CTYPE, "");
    if (argc < 2) {
        program_usage(stderr, p);
        return UF_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        program_usage(stdout, p);
        return UF_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("%s %s\n", p->name, p->version);
        return UF_EXIT_OK;
    }
    for (size_t i = 0; i < p->n_commands; i++) {
        if (strcmp(name, p->commands[i].name) == 0) {
            /* The command sees argv[0] = "PROGRAM COMMAND" for its help. */
            char *prgname = g_strdup_printf("%s %s", p->name, name);
            g_set_prgname(prgname);
            argv[1] = prgname;
            int rc = p->commands[i].run(argc - 1, argv + 1);
            g_free(prgname);
            return rc;
        }
    }
    fprintf(stderr, "%s: unknown command \"%s\"\n\n", p->name, name);
    program_usage(stderr, p);
    return UF_EXIT_USAGE;
}
