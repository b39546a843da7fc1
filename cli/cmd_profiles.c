/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * `udsflash profiles`: lists the built-in profiles; `udsflash profiles
 * NAME|FILE` checks one and shows its phases, steps and limits (a profile
 * file's mistakes come back with their line numbers); `--source` prints the
 * profile's text, the starting point for an OEM's own.
 */
#include "cli.h"

#include <string.h>

static double ms(uf_time ns)
{
    return (double)ns / (double)UF_NS_PER_MS;
}

static void print_steps(const uf_step *steps, uint32_t first, uint32_t count)
{
    for (uint32_t i = first; i < first + count; i++) {
        const uf_step *s = &steps[i];
        char desc[64];
        GString *flags = g_string_new("");
        if (s->optional)
            g_string_append(flags, " optional");
        if (s->repeatable)
            g_string_append(flags, " repeatable");
        if (s->addressing == UF_STEP_FUNCTIONAL)
            g_string_append(flags, " functional");
        if (s->addressing == UF_STEP_PHYSICAL)
            g_string_append(flags, " physical");
        if (s->needs_programming)
            g_string_append(flags, " programming");
        if (s->needs_security)
            g_string_append(flags, " security");
        uf_step_describe(s, desc, sizeof(desc));
        if (flags->len)
            printf("    %-22s %-40s%s\n", s->name, desc, flags->str);
        else
            printf("    %-22s %s\n", s->name, desc);
        g_string_free(flags, TRUE);
    }
}

static void summary(const uf_profile *p)
{
    printf("profile %s (%s)\n", p->name, p->source);
    if (p->description)
        printf("  %s\n", p->description);
    printf("  limits: P2 %.0f ms, P2* %.0f ms, S3 %.0f ms, STmin tolerance %.3f ms, N_Bs %.0f ms, "
           "N_Cr %.0f ms\n", ms(p->p2), ms(p->p2star), ms(p->s3), ms(p->stmin_tolerance),
           ms(p->n_bs), ms(p->n_cr));
    if (p->n_anytime) {
        printf("  at any time:\n");
        print_steps(p->anytime, 0, p->n_anytime);
    }
    for (uint32_t i = 0; i < p->n_phases; i++) {
        const uf_phase *ph = &p->phases[i];
        printf("  phase %s:\n", ph->name);
        print_steps(p->steps, ph->first, ph->count);
        if (ph->repeat_from >= 0)
            printf("    (%s .. %s may repeat, one round per memory region)\n",
                   p->steps[ph->repeat_from].name, p->steps[ph->repeat_to].name);
    }
    for (uint32_t i = 0; i < p->n_routines; i++)
        printf("  routine 0x%04X: %s\n", p->routine_ids[i], p->routine_names[i]);
    for (uint32_t i = 0; i < p->n_severities; i++)
        printf("  severity of %s: %s\n", p->severity_rules[i]->id, uf_severity_name(p->severities[i]));
}

int uf_cmd_profiles(int argc, char **argv)
{
    gboolean source = FALSE;
    const GOptionEntry entries[] = {
        {"source", 0, 0, G_OPTION_ARG_NONE, &source, "Print the profile's text", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = uf_cli_context(
        "[NAME|FILE] - list the profiles, or show one",
        "A profile is the expected flash sequence and its timing limits (docs/profiles.md).\n"
        "Without an argument, lists the built-in profiles; with one, checks a built-in\n"
        "profile or a profile file and shows its phases, steps and limits.",
        entries, NULL);
    int status = UF_EXIT_OK;
    if (!uf_cli_parse(ctx, "profiles", &argc, &argv)) {
        status = UF_EXIT_USAGE;
    } else if (argc == 1) {
        for (size_t i = 0; i < uf_profile_builtin_count(); i++) {
            uf_error err;
            uf_profile *p = uf_profile_open(uf_profile_builtin_name(i), &err);
            printf("%-12s %s%s\n", uf_profile_builtin_name(i),
                   strcmp(uf_profile_builtin_name(i), UF_PROFILE_DEFAULT) == 0 ? "(default) " : "",
                   p && p->description ? p->description : "");
            uf_profile_free(p);
        }
        printf("\nudsflash check --profile NAME|FILE picks one; udsflash profiles NAME --source "
               "prints one to start your own.\n");
    } else if (argc == 2) {
        uf_error err;
        uf_profile *p = uf_profile_open(argv[1], &err);
        if (!p) {
            fprintf(stderr, "udsflash profiles: %s\n", err.msg);
            status = UF_EXIT_USAGE;
        } else if (source) {
            size_t len = 0;
            const char *text = NULL;
            for (size_t i = 0; i < uf_profile_builtin_count(); i++)
                if (strcmp(uf_profile_builtin_name(i), argv[1]) == 0)
                    text = uf_profile_builtin_text(i, &len);
            char *file_text = NULL;
            if (!text && g_file_get_contents(argv[1], &file_text, &len, NULL))
                text = file_text;
            fwrite(text, 1, len, stdout);
            g_free(file_text);
        } else {
            summary(p);
        }
        uf_profile_free(p);
    } else {
        fprintf(stderr, "udsflash profiles: give at most one NAME or FILE (see --help)\n");
        status = UF_EXIT_USAGE;
    }
    g_option_context_free(ctx);
    return status;
}
