/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * candump, Vector ASC and Busmaster line parsers over arbitrary lines.
 * Invariant: a parsed frame has a valid length; a bad line says why.
 */
#include "fuzz.h"
#include "uf_capture.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_asc_state st;
    uf_asc_init(&st);
    uf_busmaster_state bst;
    uf_busmaster_init(&bst);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        const char *why = NULL;
        uf_candump_line cl;
        uf_line_result r = uf_candump_parse_line(p, n, &cl, &why);
        if (r == UF_LINE_FRAME)
            assert(cl.frame.len <= 64 && cl.iface[sizeof(cl.iface) - 1] == '\0');
        if (r == UF_LINE_BAD)
            assert(why != NULL);
        uf_can_frame f;
        uf_time t;
        why = NULL;
        r = uf_asc_parse_line(&st, p, n, &f, &t, &why);
        if (r == UF_LINE_FRAME)
            assert(f.len <= 64);
        if (r == UF_LINE_BAD)
            assert(why != NULL);
        why = NULL;
        r = uf_busmaster_parse_line(&bst, p, n, &f, &t, &why);
        if (r == UF_LINE_FRAME)
            assert(f.len <= 64);
        if (r == UF_LINE_BAD)
            assert(why != NULL);
        p += n + (nl ? 1 : 0);
    }
    return 0;
}
