/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The active ISO-TP endpoint of udsecu and udsreplay over arbitrary frames
 * from the bus, while it may be sending a message of its own.
 * Input: byte 0 picks the configuration (bits 0-1 addressing normal /
 * extended / mixed / normal fixed, bit 2 CAN FD, bit 3 send a 300-byte
 * message first, bits 4-7 our BS), then records [time step in 0.1 ms]
 * [id selector][length][data]; the selector sends the frame from the
 * partner's id, the functional id or a stranger's.
 * Frames go out in bursts of up to 5 where the partner asked for STmin 0.
 * Invariants: messages received are no longer than rx_max; frames we send
 * carry our id and a length CAN can carry; a burst is consecutive frames
 * in sequence.
 */
#include "fuzz.h"
#include "uf_isotp_ep.h"

#include <assert.h>
#include <string.h>

#define RX_MAX 4096

static void on_received(void *ctx, const uint8_t *data, size_t len, bool functional, uf_time t)
{
    (void)ctx, (void)data, (void)functional, (void)t;
    assert(len >= 1 && len <= RX_MAX);
}

static void drain(uf_isotp_ep *ep, const uf_isotp_ep_config *c, uf_time now)
{
    uf_isotp_ep_tick(ep, now);
    uf_can_frame out[5];
    unsigned prefix = uf_addressing_prefix(c->tx.addressing);
    size_t n;
    for (int i = 0; i < 8 && (n = uf_isotp_ep_output_burst(ep, now, out, 5)) > 0; i++) {
        assert(n <= 5);
        for (size_t k = 0; k < n; k++) {
            uint32_t id = out[k].id | (out[k].flags & UF_CAN_EFF ? UF_ISOTP_EFF : 0);
            assert(id == c->tx_id || id == c->functional_tx_id);
            assert(c->tx.fd ? uf_can_len_is_valid_fd(out[k].len) : out[k].len <= 8);
            /* A burst is consecutive frames, their sequence numbers in turn. */
            if (n > 1) {
                assert(out[k].len > prefix && out[k].data[prefix] >> 4 == 2);
                assert(k == 0 || (out[k].data[prefix] & 0x0F) ==
                                     ((out[k - 1].data[prefix] + 1) & 0x0F));
            }
        }
        uf_isotp_ep_sent(ep, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfgb = data[0];
    static const uf_addressing modes[] = {UF_ADDR_NORMAL, UF_ADDR_EXTENDED, UF_ADDR_MIXED,
                                                UF_ADDR_NORMAL_FIXED};
    uf_addressing mode = modes[cfgb & 3];
    uf_isotp_ep_config c;
    if (mode == UF_ADDR_NORMAL_FIXED)
        uf_isotp_ep_config_defaults(&c, 0x18DAF110u | UF_ISOTP_EFF, 0x18DA10F1u | UF_ISOTP_EFF);
    else
        uf_isotp_ep_config_defaults(&c, 0x7E8, 0x7E0);
    c.tx.addressing = mode;
    if (uf_addressing_prefix(mode)) {
        c.tx.addr = 0xF1;
        c.rx_addr = 0x12;
    }
    if (cfgb & 4) {
        c.tx.fd = true;
        c.tx.tx_dl = 64;
    }
    c.bs = cfgb >> 4;
    c.rx_max = RX_MAX;
    uf_isotp_ep_sink sink = {.received = on_received};
    uf_isotp_ep *ep = uf_isotp_ep_new(&c, &sink);
    uf_time now = 0;
    if (cfgb & 8) {
        uint8_t msg[300];
        memset(msg, 0x36, sizeof(msg));
        assert(uf_isotp_ep_send(ep, msg, sizeof(msg), false, now, NULL));
    }
    drain(ep, &c, now);
    const uint32_t ids[] = {c.rx_id, c.functional_rx_id, 0x123};
    for (size_t at = 1; at + 3 <= size;) {
        now += (uf_time)data[at] * 100000;
        uint32_t id = ids[data[at + 1] % 3];
        uf_can_frame f = {.id = id & ~UF_ISOTP_EFF, .flags = c.tx.fd ? UF_CAN_FD : 0};
        if (id & UF_ISOTP_EFF)
            f.flags |= UF_CAN_EFF;
        size_t n = data[at + 2] % 65;
        at += 3;
        if (n > size - at)
            n = size - at;
        f.len = (uint8_t)n;
        memcpy(f.data, data + at, n);
        at += n;
        uf_isotp_ep_input(ep, &f, now);
        drain(ep, &c, now);
        uf_time w = uf_isotp_ep_wakeup(ep);
        if (w != UF_TIME_NONE && w > now && w - now < 10 * UF_NS_PER_S) {
            now = w;
            drain(ep, &c, now);
        }
    }
    uf_isotp_ep_free(ep);
    return 0;
}
