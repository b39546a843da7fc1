/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * IP / TCP / UDP header decoding: the first byte picks the link type, the
 * rest is the record. Invariant: the payload lies inside the record, and
 * what a cut capture lacks is counted, not read.
 */
#include "fuzz.h"
#include "uf_capture.h"
#include "uf_net.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t linktypes[] = {UF_LINKTYPE_ETHERNET, UF_LINKTYPE_LINUX_SLL,
                                         UF_LINKTYPE_LINUX_SLL2, UF_LINKTYPE_RAW,
                                         UF_LINKTYPE_IPV4, UF_LINKTYPE_IPV6};
    if (size < 1)
        return 0;
    uint32_t lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    uf_net_packet p;
    const char *why = NULL;
    int rc = uf_net_decode(lt, data + 1, size - 1, &p, &why);
    assert(rc >= -1 && rc <= 1);
    if (rc < 0)
        assert(why && *why);
    if (rc == 1) {
        assert(p.proto == UF_NET_TCP || p.proto == UF_NET_UDP);
        assert(p.payload >= data + 1 && p.payload + p.len <= data + size);
        assert(p.src.family == 4 || p.src.family == 6);
        char name[48];
        uf_ip_addr_name(&p.src, name, sizeof(name));
        assert(strlen(name) < sizeof(name));
    }
    return 0;
}
