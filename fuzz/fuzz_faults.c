/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link faults (--fault) over arbitrary specs and traffic: the spec parser,
 * then the injector's decisions on CAN frames and whole messages.
 * Input: specs separated by ';' up to a 0 byte (the run stops at the first
 * one refused), a seed byte, then records [flags][length][bytes]: flags
 * bit 0 received (else sent), bit 1 a whole message (else a CAN frame),
 * bit 2 extended addressing (a frame's PCI one byte in), bits 3-7 the ms
 * that pass before it.
 * Invariants: a frame keeps its id and length, a message its length;
 * only what is sent can fail (bus-off), a message only where a link of
 * messages would take the specs; only a message can close a DoIP
 * connection; every event names a spec or is a note; the report writes.
 */
#include "fuzz.h"
#include "uf_fault.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define MAX_SPECS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *end = memchr(data, 0, size);
    if (!end || (size_t)(end - data) + 2 > size)
        return 0;
    char *text = g_strndup((const char *)data, (gsize)(end - data));
    char **specs = g_strsplit(text, ";", MAX_SPECS + 1);
    uf_link_fault faults[MAX_SPECS];
    size_t n = 0;
    bool ok = true;
    for (char **s = specs; *s && n < MAX_SPECS && ok; s++) {
        uf_error err;
        ok = uf_link_fault_parse(*s, &faults[n], &err);
        if (ok)
            n++;
        else
            assert(err.msg[0]);
    }
    g_strfreev(specs);
    g_free(text);
    if (!ok)
        return 0;
    const uint8_t *p = end + 1, *stop = data + size;
    uf_faults *f = uf_faults_new(faults, n, *p++);
    uf_error err;
    uf_faults_check(f, UF_LINK_CAN_FRAMES, "fuzz", &err);
    /* A link of whole messages takes no bus-off: then no message fails. */
    bool messages_only = uf_faults_check(f, UF_LINK_DOIP, "fuzz", &err);
    uf_time now = 0;
    while (stop - p >= 2) {
        uint8_t flags = p[0];
        size_t len = p[1];
        p += 2;
        if ((size_t)(stop - p) < len)
            len = (size_t)(stop - p);
        now += (uf_time)(flags >> 3) * UF_NS_PER_MS;
        uf_link_dir dir = (flags & 1) ? UF_DIR_RX : UF_DIR_TX;
        uf_fault_verdict v;
        if (flags & 2) {
            uint8_t *msg = g_memdup2(p, len);
            uf_faults_message(f, dir, msg, len, now, &v);
            assert(!v.fail || !messages_only);
            g_free(msg);
        } else {
            uf_can_frame fr = {.id = 0x7E0u + (flags & 1) * 8, .len = len > 64 ? 64 : (uint8_t)len};
            memcpy(fr.data, p, fr.len);
            uint32_t id = fr.id;
            uint8_t flen = fr.len;
            uf_faults_frame(f, dir, &fr, (flags >> 2) & 1, now, &v);
            assert(fr.id == id && fr.len == flen);
            assert(!v.disconnect);
            assert(!v.fail || dir == UF_DIR_TX);
        }
        assert(v.delay >= 0);
        p += len;
    }
    const GArray *ev = uf_faults_events(f);
    for (guint i = 0; i < ev->len; i++)
        assert(g_array_index(ev, uf_fault_event, i).fault <= n);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        uf_faults_report_text(null, f, "");
        uf_json j;
        uf_json_init(&j, null, false);
        uf_faults_report_json(&j, f);
        fclose(null);
    }
    uf_faults_free(f);
    return 0;
}
