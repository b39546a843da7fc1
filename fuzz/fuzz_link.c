/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link-layer decoding: the first byte picks the link type, the rest is the
 * record. Invariant: never read past the record; a decoded frame has a
 * length a CAN or CAN FD frame can have.
 */
#include "fuzz.h"
#include "uf_capture.h"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t linktypes[] = {UF_LINKTYPE_CAN_SOCKETCAN, UF_LINKTYPE_LINUX_SLL,
                                         UF_LINKTYPE_LINUX_SLL2, UF_LINKTYPE_WIRESHARK_UPPER_PDU,
                                         UF_LINKTYPE_ETHERNET};
    if (size < 1)
        return 0;
    uf_link_state st = {0};
    uf_record rec;
    uint32_t ifindex;
    const char *why = NULL;
    uint32_t lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    /* Decode the same record twice: the second time with the order locked. */
    for (int pass = 0; pass < 2; pass++) {
        if (uf_decode_link(lt, data + 1, size - 1, &st, &rec, &ifindex, &why) == 0 &&
            rec.kind == UF_REC_CAN) {
            assert(rec.can.len <= 64);
            assert(!(rec.can.flags & UF_CAN_FD) || uf_can_len_is_valid_fd(rec.can.len));
            assert((rec.can.flags & UF_CAN_FD) || rec.can.len <= 8 || (rec.can.flags & UF_CAN_RTR));
        }
    }
    return 0;
}
