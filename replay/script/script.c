/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The replay script's memory and its one-line descriptions.
 */
#include "uf_script.h"

#include <stdio.h>

void uf_script_free(uf_script *s)
{
    if (!s)
        return;
    for (guint i = 0; s->steps && i < s->steps->len; i++) {
        uf_script_step *st = uf_script_step_at(s, i);
        g_free(st->phase);
        g_free(st->name);
        g_free(st->request);
        g_free(st->response);
    }
    for (guint i = 0; s->downloads && i < s->downloads->len; i++) {
        uf_script_download *d = &g_array_index(s->downloads, uf_script_download, i);
        g_free(d->image);
        g_free(d->image_file);
    }
    if (s->steps)
        g_array_free(s->steps, TRUE);
    if (s->downloads)
        g_array_free(s->downloads, TRUE);
    g_free(s->source);
    g_free(s);
}

const char *uf_script_step_describe(const uf_script_step *st, char *buf, size_t size)
{
    if (st->download) {
        snprintf(buf, size, "TransferData of download %u", st->download);
        return buf;
    }
    uf_uds_decoded d;
    uf_uds_decode(st->request, st->request_len, &d);
    char name[32], params[160];
    const char *service = uf_uds_display_service(d.sid, name, sizeof(name));
    uf_uds_describe(&d, NULL, params, sizeof(params));
    snprintf(buf, size, "%s%s%s%s", service, params[0] ? " " : "", params,
             st->functional ? " (functional)" : "");
    return buf;
}
