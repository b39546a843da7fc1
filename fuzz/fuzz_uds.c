/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UDS decode, description and the discovery hooks over arbitrary payloads.
 * Invariant: decoded records lie inside the input; descriptions end in NUL.
 */
#include "fuzz.h"
#include "uf_uds.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_uds_decoded d;
    uf_uds_decode(data, size, &d);
    if (d.record) {
        assert(d.record >= data && d.record + d.record_len <= data + size);
    }
    char buf[128];
    size_t n = uf_uds_describe(&d, NULL, buf, sizeof(buf));
    assert(n < sizeof(buf) && strlen(buf) == n);
    size_t half = size / 2;
    (void)uf_uds_looks_like_request(data, size);
    (void)uf_uds_answers(data, half, data + half, size - half);
    return 0;
}
