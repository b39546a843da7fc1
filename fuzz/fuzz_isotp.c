/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ISO-TP reassembly, UDS pairing, flash sessions and the reports over
 * arbitrary frames. Input: one configuration byte, then records of
 *   flags (bit 0 EFF, bit 1 FD, bit 2 RTR), id (4 bytes, LE), time step (ms),
 *   length, data.
 * Invariants: stored message bytes never exceed the configured maximum; the
 * analyzer finishes on any input; the JSON report parses as JSON and the
 * JUnit report as XML whatever the sessions hold (ASan / UBSan check the rest).
 */
#include "fuzz.h"
#include "uf_analyzer.h"
#include "uf_report.h"

#include <assert.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_message(void *ctx, const uf_uds_message *m)
{
    (void)ctx;
    assert(m->tp->len <= 4096);
    assert(m->tp->len <= m->tp->declared_len || !m->tp->complete || m->tp->frames == 1);
    char buf[256];
    uf_uds_describe(&m->d, NULL, buf, sizeof(buf));
}

static void on_finding(void *ctx, const uf_finding *f)
{
    assert(f->rule && memchr(f->message, 0, sizeof(f->message)) != NULL);
    g_array_append_val((GArray *)ctx, *f);
}

static const GMarkupParser no_callbacks;

/* Every report writer over what the analyzer made of the input. */
static void reports(uf_analyzer *a, const uf_analyzer_config *cfg, GArray *findings)
{
    static const char *const buses[] = {"can0", "can1", "can2", "can3"};
    uf_check_result r = {
        .input = {"fuzz.pcap", "pcap", cfg->isotp.timing, 1000 * UF_NS_PER_S, 0, 0, NULL, buses, 4},
        .profile = cfg->profile,
        .sessions = uf_analyzer_sessions(a),
        .findings = (const uf_finding *)findings->data,
        .n_findings = findings->len,
        .fail_on = UF_SEV_WARNING,
    };
    for (guint i = 0; i < findings->len; i++)
        r.by_severity[g_array_index(findings, uf_finding, i).severity]++;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    uf_report_json(f, &r);
    fclose(f);
    JsonParser *p = json_parser_new();
    assert(json_parser_load_from_data(p, buf, (gssize)len, NULL));
    g_object_unref(p);
    free(buf);

    f = open_memstream(&buf, &len);
    uf_report_junit(f, &r);
    fclose(f);
    GMarkupParseContext *x = g_markup_parse_context_new(&no_callbacks, 0, NULL, NULL);
    assert(g_markup_parse_context_parse(x, buf, (gssize)len, NULL) &&
           g_markup_parse_context_end_parse(x, NULL));
    g_markup_parse_context_free(x);
    free(buf);

    f = open_memstream(&buf, &len);
    uf_text_style style = {true};
    uf_report_text(f, &r, &style);
    fclose(f);
    assert(strlen(buf) == len);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uf_analyzer_config cfg;
    uf_analyzer_config_defaults(&cfg);
    static const uf_addressing modes[] = {UF_ADDR_AUTO, UF_ADDR_NORMAL, UF_ADDR_EXTENDED,
                                          UF_ADDR_MIXED};
    cfg.isotp.default_addressing = modes[data[0] & 3];
    cfg.isotp.all_ids = (data[0] & 4) != 0;
    cfg.isotp.timing = (data[0] & 8) == 0;
    cfg.isotp.padding_required = (data[0] & 16) != 0;
    cfg.isotp.max_message = 4096;
    cfg.isotp.max_flows = 64;
    static uf_profile *profile;
    if (!profile) {
        uf_error err;
        profile = uf_profile_open(UF_PROFILE_DEFAULT, &err);
        assert(profile);
    }
    uf_analyzer_config_profile(&cfg, (data[0] & 32) ? profile : NULL);
    GArray *findings = g_array_new(FALSE, FALSE, sizeof(uf_finding));
    uf_analyzer_sink sink = {.ctx = findings, .message = on_message, .finding = on_finding};
    uf_analyzer *a = uf_analyzer_new(&cfg, &sink);
    size_t at = 1;
    uf_time t = 1000 * UF_NS_PER_S;
    uint64_t number = 0;
    while (size - at >= 7) {
        uf_record rec;
        memset(&rec, 0, sizeof(rec));
        uint8_t flags = data[at];
        uint32_t id = (uint32_t)data[at + 1] | (uint32_t)data[at + 2] << 8 |
                      (uint32_t)data[at + 3] << 16 | (uint32_t)data[at + 4] << 24;
        t += (uf_time)data[at + 5] * UF_NS_PER_MS;
        uint8_t len = data[at + 6];
        at += 7;
        rec.kind = UF_REC_CAN;
        rec.number = ++number;
        rec.time = t;
        rec.bus = flags >> 6;
        rec.can.flags = (flags & 1 ? UF_CAN_EFF : 0) | (flags & 2 ? UF_CAN_FD : 0) |
                        (flags & 4 ? UF_CAN_RTR : 0);
        rec.can.id = id & (flags & 1 ? UF_CAN_EFF_MASK : UF_CAN_SFF_MASK);
        len = (flags & 2) ? uf_can_dlc_to_len(uf_can_len_to_dlc(len % 65)) : len % 9;
        if (size - at < len)
            break;
        memcpy(rec.can.data, data + at, len);
        rec.can.len = len;
        at += len;
        uf_analyzer_record(a, &rec);
    }
    uf_analyzer_finish(a);
    reports(a, &cfg, findings);
    uf_analyzer_free(a);
    g_array_free(findings, TRUE);
    return 0;
}
