/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * How far a replay on the simulated bus is from the fastest flash that bus
 * and that ECU allow. Reads the recording of `udsreplay flash --sim
 * --record` (each frame stamped at its end, as the simulated bus does) and
 * splits the flash's time into:
 *   - the bus busy: every frame's bits at the bus's bit rates, stuff bits
 *     included (uf_can_frame_duration);
 *   - the ECU's time: gaps before an ECU frame (its response time, its
 *     erase, its flow control), which the tester cannot shorten;
 *   - the recorded pause after ECUReset that the replay keeps (the ECU
 *     boots), by design;
 *   - P2 after a request with suppressPosRspMsgIndicationBit: the ECU sends
 *     no positive answer but may send a negative one (ISO 14229-1:2020
 *     8.7.5), which the replay waits for; a tester that does not wait
 *     would be faster and miss it;
 *   - the tester's idle time: gaps before a tester frame beyond what STmin
 *     asks. A perfect tester has none.
 * The theoretical minimum is the flash without the tester's idle time.
 *
 *   uf-bench-sim-min RECORDING TESTER_ID BITRATE DATA_BITRATE
 */
#include "uf_capture.h"
#include "uf_simbus.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

/* ISO 15765-2:2016 9.6.5.4: STmin as a duration. */
static uf_time stmin_ns(uint8_t raw)
{
    if (raw <= 0x7F)
        return (uf_time)raw * UF_NS_PER_MS;
    if (raw >= 0xF1 && raw <= 0xF9)
        return (uf_time)(raw - 0xF0) * 100 * UF_NS_PER_US;
    return 127 * UF_NS_PER_MS;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: uf-bench-sim-min RECORDING TESTER_ID BITRATE DATA_BITRATE\n");
        return 2;
    }
    uint32_t tester = (uint32_t)strtoul(argv[2], NULL, 0);
    uint32_t bitrate = (uint32_t)strtoul(argv[3], NULL, 0);
    uint32_t data_bitrate = (uint32_t)strtoul(argv[4], NULL, 0);
    uf_error err;
    uf_reader *r = uf_reader_open(argv[1], &err);
    if (!r) {
        fprintf(stderr, "uf-bench-sim-min: %s\n", err.msg);
        return 1;
    }
    uf_record rec;
    uf_time first_start = UF_TIME_NONE, prev_end = UF_TIME_NONE, last_end = 0;
    uf_time busy = 0, ecu = 0, reset_pause = 0, idle = 0, stmin = 0, last_tester_cf = UF_TIME_NONE;
    uf_time p2 = 50 * UF_NS_PER_MS, suppressed_wait = 0;
    bool after_reset = false, after_suppressed = false;
    uint64_t frames = 0;
    int got;
    while ((got = uf_reader_next(r, &rec, &err)) == 1) {
        if (rec.kind != UF_REC_CAN)
            continue;
        const uf_can_frame *f = &rec.can;
        uf_time dur = uf_can_frame_duration(f, bitrate, data_bitrate);
        uf_time start = rec.time - dur;
        bool from_tester = f->id == tester || f->id == 0x7DF || (f->id >> 8) == 0x18DB33;
        uint8_t pci = f->len ? f->data[0] >> 4 : 0xF;
        if (first_start == UF_TIME_NONE)
            first_start = start;
        if (prev_end != UF_TIME_NONE && start > prev_end) {
            uf_time gap = start - prev_end;
            if (!from_tester) {
                ecu += gap;
            } else if (after_reset) {
                reset_pause += gap;
            } else {
                /* A consecutive frame may not start before STmin after the
                 * previous one ended. */
                uf_time allowed = prev_end;
                if (pci == 2 && last_tester_cf != UF_TIME_NONE && last_tester_cf + stmin > allowed)
                    allowed = last_tester_cf + stmin;
                ecu += allowed - prev_end;
                if (after_suppressed) {
                    uf_time wait = start - allowed < p2 ? start - allowed : p2;
                    suppressed_wait += wait;
                    allowed += wait;
                }
                if (start > allowed)
                    idle += start - allowed;
            }
        }
        busy += dur;
        if (from_tester) {
            after_reset = false;
            if (pci == 2)
                last_tester_cf = rec.time;
            /* A single frame of a service with a sub-function, its
             * suppress bit set. */
            static const uint8_t with_sub[] = {0x10, 0x11, 0x27, 0x28, 0x31, 0x3E, 0x85, 0x87};
            after_suppressed = false;
            for (size_t k = 0; pci == 0 && f->len >= 3 && k < sizeof(with_sub); k++)
                after_suppressed |= f->data[1] == with_sub[k] && (f->data[2] & 0x80);
        } else {
            after_suppressed = false;
            /* P2 as the ECU announces it (DiagnosticSessionControl). */
            if (pci == 0 && f->len >= 5 && f->data[1] == 0x50)
                p2 = (uf_time)(f->data[3] << 8 | f->data[4]) * UF_NS_PER_MS;
            if (pci == 3 && f->len >= 3)
                stmin = stmin_ns(f->data[2]);
            /* A positive answer to ECUReset (a single frame 0x51): the
             * replay keeps the recorded pause after it. */
            after_reset = pci == 0 && f->len >= 2 && f->data[1] == 0x51;
        }
        prev_end = rec.time;
        last_end = rec.time;
        frames++;
    }
    uf_reader_close(r);
    if (got < 0) {
        fprintf(stderr, "uf-bench-sim-min: %s\n", err.msg);
        return 1;
    }
    uf_time total = last_end - first_start, minimum = total - idle;
    printf("%" G_GUINT64_FORMAT " frames, %.6f s: bus busy %.6f s, ECU %.6f s, pause after "
           "reset %.6f s, P2 after suppressed requests %.6f s, tester idle %.6f s\n", frames,
           total / 1e9, busy / 1e9, ecu / 1e9, reset_pause / 1e9, suppressed_wait / 1e9,
           idle / 1e9);
    printf("theoretical minimum %.6f s; the replay took %.3f%% more\n", minimum / 1e9,
           minimum ? 100.0 * (double)idle / (double)minimum : 0.0);
    return 0;
}
