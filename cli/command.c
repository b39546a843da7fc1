/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * How every subcommand reads its command line: one GOptionContext with the
 * command's own options, the profile options and the analysis group, and one
 * way of saying a bad option is wrong (exit status 2).
 */
#include "cli.h"

#include <stdio.h>

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
