/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The read loop: one reader (file or live interface) into the analyzer.
 * SIGINT or SIGTERM ends a live capture cleanly (the report is still
 * written): Ctrl-C at a terminal, `timeout` or a CI runner's stop. A second
 * signal kills the process as usual.
 */
#include "cli.h"

#include <signal.h>
#include <string.h>

static uf_reader *volatile live_reader;

static void on_stop_signal(int sig)
{
    if (live_reader)
        uf_reader_break(live_reader);
    signal(sig, SIG_DFL);
}

static void catch_stop_signals(void (*handler)(int))
{
    struct sigaction sa = {.sa_handler = handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool uf_cli_open(uf_cli_input *in, const char *path, const char *iface)
{
    memset(in, 0, sizeof(*in));
    in->base = UF_TIME_NONE;
    uf_error err;
    in->reader = iface ? uf_reader_open_live(iface, &err) : uf_reader_open(path, &err);
    if (!in->reader) {
        fprintf(stderr, "udsflash: %s\n", err.msg);
        return false;
    }
    in->live = iface != NULL;
    if (iface) {
        live_reader = in->reader;
        catch_stop_signals(on_stop_signal);
    }
    return true;
}

static void take_record(uf_cli_input *in, uf_analyzer *a, const uf_record *rec)
{
    if (in->base == UF_TIME_NONE && rec->time != UF_TIME_NONE)
        in->base = rec->time;
    in->frames++;
    uf_analyzer_record(a, rec);
}

void uf_cli_run(uf_cli_input *in, uf_analyzer *a)
{
    uf_record rec;
    int rc;
    if (in->read_ahead && !in->live) {
        uf_read_ahead *ra = uf_read_ahead_start(in->reader, in->helper);
        const uf_record *lent;
        while ((rc = uf_read_ahead_next(ra, &lent, &in->damage)) == 1)
            take_record(in, a, lent);
        uf_read_ahead_stop(ra);
    } else {
        while ((rc = uf_reader_next(in->reader, &rec, &in->damage)) == 1)
            take_record(in, a, &rec);
    }
    if (rc < 0)
        in->damaged = true;
    uf_analyzer_finish(a);
}

uf_analyzer *uf_cli_analyze(uf_cli_input *in, uf_analyzer_config *cfg,
                            const uf_analyzer_sink *sink)
{
    cfg->isotp.timing = uf_reader_has_time(in->reader);
    uf_analyzer *a = uf_analyzer_new(cfg, sink);
    uf_cli_run(in, a);
    return a;
}

void uf_cli_close(uf_cli_input *in)
{
    if (live_reader == in->reader) {
        catch_stop_signals(SIG_DFL);
        live_reader = NULL;
    }
    uf_reader_close(in->reader);
    in->reader = NULL;
}
