/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsreplay script FILE [--session N] -o script.json: the replay script of
 * a recorded flash session, for reading, editing and replaying
 * (docs/replay.md). The images go beside it as script.dN.bin.
 */
#include "udsreplay.h"

#include <string.h>

int ur_cmd_script(int argc, char **argv)
{
    gint session = 0;
    char *output = NULL;
    uf_cli_analysis an = {0};
    const GOptionEntry entries[] = {
        {"session", 's', 0, G_OPTION_ARG_INT, &session,
         "The session to script, as udsreplay list numbers them (default: the only "
         "replayable one)", "N"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write the script here (required; images go beside it)", "FILE.json"},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = uf_cli_context(
        "FILE - write the replay script of a recorded flash session",
        "Writes the tester's requests in order with their addressing, the recorded\n"
        "responses and timing, and the downloads (each image in FILE.dN.bin beside the\n"
        "script). The script is JSON, documented in docs/replay.md; edit it and give it\n"
        "to udsreplay flash in place of the capture.",
        entries, &an);
    int status = UF_EXIT_OK;
    uf_script *s = NULL;
    if (!uf_cli_parse(ctx, "script", &argc, &argv)) {
        status = UF_EXIT_USAGE;
        goto done;
    }
    if (argc != 2 || !output || session < 0) {
        fprintf(stderr, "udsreplay script: give one capture FILE and -o FILE.json (see --help)\n");
        status = UF_EXIT_USAGE;
        goto done;
    }
    s = ur_load_script(argv[1], (uint32_t)session, &an, &status);
    if (!s)
        goto done;
    uf_error err;
    if (!uf_script_save(s, output, &err)) {
        fprintf(stderr, "udsreplay script: %s\n", err.msg);
        status = UF_EXIT_INPUT;
        goto done;
    }
    uint32_t requests = 0;
    for (guint i = 0; i < s->steps->len; i++)
        requests += uf_script_step_at(s, i)->download == 0;
    fprintf(stderr, "%s: session %u, %u requests and %u download%s\n", output, s->session,
            requests, s->downloads->len, s->downloads->len == 1 ? "" : "s");
done:
    uf_script_free(s);
    uf_cli_analysis_free(&an);
    g_free(output);
    g_option_context_free(ctx);
    return status;
}
