/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The replay script reader (docs/replay.md) over arbitrary text: a script
 * is edited by hand. Invariants: a refused script has an error naming the
 * file; an accepted one has request steps with a request, responses that
 * answer their request's service, transfer steps naming a download of
 * the script, and each step describable.
 */
#include "fuzz.h"
#include "uf_script.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_error err;
    err.msg[0] = '\0';
    uf_script *s = uf_script_parse((const char *)data, size, "fuzz.json", false, &err);
    if (!s) {
        assert(strncmp(err.msg, "fuzz.json", 9) == 0);
        return 0;
    }
    assert(s->downloads->len >= 1);
    for (guint i = 0; i < s->steps->len; i++) {
        const uf_script_step *st = uf_script_step_at(s, i);
        char buf[200];
        uf_script_step_describe(st, buf, sizeof(buf));
        assert(strlen(buf) < sizeof(buf));
        if (st->download) {
            assert(uf_script_download_at(s, st->download) != NULL);
            continue;
        }
        assert(st->request && st->request_len >= 1);
        if (st->expect == UF_EXPECT_POSITIVE)
            assert(st->response_len >= 1 && st->response[0] == (uint8_t)(st->request[0] + 0x40));
        if (st->expect == UF_EXPECT_NEGATIVE)
            assert(st->response_len >= 3 && st->response[1] == st->request[0]);
    }
    uf_script_free(s);
    return 0;
}
