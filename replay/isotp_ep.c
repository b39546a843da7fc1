/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The active ISO-TP endpoint: a sender and a receiver state machine per
 * connection (ISO 15765-2:2016 9.6-9.8), framing with the analyzer's
 * segmenter and PCI decoder. See uf_isotp_ep.h for how a caller drives it.
 */
#include "uf_isotp_ep.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

typedef enum tx_state {
    TX_IDLE,
    TX_FIRST,   /* the SF or FF is due */
    TX_WAIT_FC, /* after the FF or a block: N_Bs runs */
    TX_CF,      /* consecutive frames, STmin apart */
} tx_state;

typedef enum out_kind {
    OUT_NONE,
    OUT_FC,
    OUT_DATA,
} out_kind;

struct uf_isotp_ep {
    uf_isotp_ep_config c;
    uf_isotp_ep_sink sink;

    /* Sender. */
    tx_state tx;
    uint8_t *tx_buf;
    size_t tx_len;
    bool tx_functional;
    uf_isotp_tx seg;
    uint8_t tx_bs;        /* BS of the last FC.CTS; 0: no further FC */
    uint32_t block_left;  /* CFs left in this block */
    uf_time tx_stmin;     /* from the last FC.CTS */
    uint32_t tx_waits;    /* FC.WAIT in a row */
    uf_time tx_due;       /* when the next data frame may go */
    uf_time last_cf;      /* when the last CF left (UF_TIME_NONE: none yet) */
    uf_time tx_deadline;  /* N_Bs */

    /* Receiver. */
    bool rx;
    uint8_t *rx_buf;
    uint32_t rx_len, rx_got;
    uint8_t rx_sn;
    uint32_t rx_block;    /* CFs received in this block */
    uf_time rx_deadline;  /* N_Cr, once the FC went */
    bool fc_pending;
    uint8_t fc_fs;
    uint8_t waits_left;
    uf_time fc_due;

    out_kind outstanding; /* handed to the caller, not yet confirmed */
    size_t burst;         /* how many data frames are outstanding */
};

void uf_isotp_ep_config_defaults(uf_isotp_ep_config *c, uint32_t tx_id, uint32_t rx_id)
{
    memset(c, 0, sizeof(*c));
    c->tx_id = tx_id;
    c->rx_id = rx_id;
    c->tx = (uf_isotp_tx_params){.addressing = UF_ADDR_NORMAL, .tx_dl = 8, .pad = true,
                                 .pad_byte = 0xCC};
    c->functional_tx = c->tx;
    c->rx_addr = -1;
    c->n_bs = c->n_cr = 1000 * UF_NS_PER_MS;
    c->wft_max = 10;
    c->rx_max = 4095;
}

uf_isotp_ep *uf_isotp_ep_new(const uf_isotp_ep_config *c, const uf_isotp_ep_sink *sink)
{
    uf_isotp_ep *ep = g_new0(uf_isotp_ep, 1);
    ep->c = *c;
    ep->sink = *sink;
    return ep;
}

void uf_isotp_ep_free(uf_isotp_ep *ep)
{
    if (!ep)
        return;
    g_free(ep->tx_buf);
    g_free(ep->rx_buf);
    g_free(ep);
}

/* ---- sender ---------------------------------------------------------------*/

bool uf_isotp_ep_send(uf_isotp_ep *ep, const uint8_t *data, size_t len, bool functional,
                      uf_time now, uf_error *err)
{
    if (ep->tx != TX_IDLE) {
        uf_error_set(err, "ISO-TP: a message is still being sent");
        return false;
    }
    const uf_isotp_tx_params *p = functional ? &ep->c.functional_tx : &ep->c.tx;
    if (len == 0 || len > UINT32_MAX) {
        uf_error_set(err, "ISO-TP: a message of %zu bytes cannot be sent", len);
        return false;
    }
    if (functional && (!ep->c.functional_tx_id || len > uf_isotp_sf_max(p))) {
        /* 9.2: functional addressing is for single frames only. */
        uf_error_set(err, "ISO-TP: a functional request of %zu bytes does not fit one frame%s",
                     len, ep->c.functional_tx_id ? "" : " (and no functional id is set)");
        return false;
    }
    g_free(ep->tx_buf);
    ep->tx_buf = g_memdup2(data, len);
    ep->tx_len = len;
    ep->tx_functional = functional;
    uf_isotp_tx_start(&ep->seg, p, ep->tx_buf, (uint32_t)len);
    ep->tx = TX_FIRST;
    ep->tx_due = now;
    ep->tx_waits = 0;
    ep->last_cf = UF_TIME_NONE;
    return true;
}

static void tx_fail(uf_isotp_ep *ep, const char *why, uf_time now)
{
    ep->tx = TX_IDLE;
    if (ep->sink.failed)
        ep->sink.failed(ep->sink.ctx, true, why, now);
}

static void tx_done(uf_isotp_ep *ep, uf_time now)
{
    ep->tx = TX_IDLE;
    if (ep->sink.sent)
        ep->sink.sent(ep->sink.ctx, now);
}

/* A flow control for the message we send (9.6.5). */
static void on_fc(uf_isotp_ep *ep, const uf_pci *pci, uf_time now)
{
    if (ep->tx != TX_WAIT_FC)
        return; /* 9.8.3: an unexpected FC is ignored */
    switch (pci->fs) {
    case UF_FS_CTS:
        ep->tx_bs = pci->bs;
        ep->block_left = pci->bs;
        /* Reserved STmin values are read as 127 ms (9.6.5.4). */
        ep->tx_stmin = (uf_time)uf_stmin_us(pci->stmin) * UF_NS_PER_US;
        ep->tx_waits = 0;
        ep->tx = TX_CF;
        /* STmin separates every two CFs, across a flow control too. */
        ep->tx_due = now;
        if (ep->last_cf != UF_TIME_NONE && ep->last_cf + ep->tx_stmin > now)
            ep->tx_due = ep->last_cf + ep->tx_stmin;
        break;
    case UF_FS_WAIT:
        if (++ep->tx_waits > ep->c.wft_max) {
            tx_fail(ep, "more FC.WAIT in a row than N_WFTmax (ISO 15765-2:2016 9.7)", now);
            return;
        }
        ep->tx_deadline = now + ep->c.n_bs;
        break;
    case UF_FS_OVFLW:
        tx_fail(ep, "the receiver answered FC.OVFLW: the message is too long for it "
                    "(ISO 15765-2:2016 9.6.5.2)", now);
        break;
    default:
        tx_fail(ep, "a flow control with a reserved flow status (ISO 15765-2:2016 9.6.5.2)", now);
        break;
    }
}

/* ---- receiver -------------------------------------------------------------*/

static void rx_fail(uf_isotp_ep *ep, const char *why, uf_time now)
{
    ep->rx = false;
    ep->fc_pending = false;
    if (ep->sink.failed)
        ep->sink.failed(ep->sink.ctx, false, why, now);
}

static void deliver(uf_isotp_ep *ep, const uint8_t *p, size_t n, bool functional, uf_time now)
{
    if (ep->sink.received)
        ep->sink.received(ep->sink.ctx, p, n, functional, now);
}

static void queue_fc(uf_isotp_ep *ep, uf_flow_status fs, uf_time now)
{
    ep->fc_pending = true;
    ep->fc_fs = (uint8_t)fs;
    ep->fc_due = now;
}

static void on_ff(uf_isotp_ep *ep, const uf_pci *pci, uf_time now)
{
    if (ep->rx)
        rx_fail(ep, "a new first frame interrupted a message being received "
                    "(ISO 15765-2:2016 9.8.3)", now);
    if (pci->length > ep->c.rx_max) {
        queue_fc(ep, UF_FS_OVFLW, now);
        return;
    }
    g_free(ep->rx_buf);
    ep->rx_buf = g_malloc(pci->length);
    ep->rx_len = pci->length;
    uint32_t n = pci->payload_len < pci->length ? pci->payload_len : pci->length;
    memcpy(ep->rx_buf, pci->payload, n);
    ep->rx_got = n;
    ep->rx_sn = 1;
    ep->rx_block = 0;
    ep->rx = true;
    if (ep->sink.started)
        ep->sink.started(ep->sink.ctx, ep->rx_len, now);
    ep->waits_left = ep->c.fc_waits;
    queue_fc(ep, ep->waits_left ? UF_FS_WAIT : UF_FS_CTS, now);
}

static void on_cf(uf_isotp_ep *ep, const uf_pci *pci, uf_time now)
{
    if (!ep->rx || ep->fc_pending)
        return; /* 9.8.3: a CF outside a reception is ignored */
    if (pci->sn != ep->rx_sn) {
        rx_fail(ep, "a consecutive frame with the wrong sequence number "
                    "(N_WRONG_SN, ISO 15765-2:2016 9.6.4.3)", now);
        return;
    }
    ep->rx_sn = (ep->rx_sn + 1) & 0x0F;
    uint32_t want = ep->rx_len - ep->rx_got;
    uint32_t n = pci->payload_len < want ? pci->payload_len : want;
    memcpy(ep->rx_buf + ep->rx_got, pci->payload, n);
    ep->rx_got += n;
    if (ep->rx_got >= ep->rx_len) {
        ep->rx = false;
        deliver(ep, ep->rx_buf, ep->rx_len, false, now);
        return;
    }
    ep->rx_deadline = now + ep->c.n_cr;
    if (ep->c.bs && ++ep->rx_block == ep->c.bs) {
        ep->rx_block = 0;
        ep->waits_left = ep->c.fc_waits;
        queue_fc(ep, ep->waits_left ? UF_FS_WAIT : UF_FS_CTS, now);
    }
}

void uf_isotp_ep_input(uf_isotp_ep *ep, const uf_can_frame *f, uf_time now)
{
    if (f->flags & (UF_CAN_RTR | UF_CAN_ERR))
        return;
    uint32_t id = uf_isotp_id_of(f);
    bool functional;
    if (id == ep->c.rx_id)
        functional = false;
    else if (ep->c.functional_rx_id && id == ep->c.functional_rx_id)
        functional = true;
    else
        return;
    unsigned prefix = uf_addressing_prefix(ep->c.tx.addressing);
    if (prefix && (f->len < 1 || (ep->c.rx_addr >= 0 && f->data[0] != ep->c.rx_addr)))
        return; /* extended / mixed: for another node */
    uf_pci pci;
    uf_pci_decode(f->data, f->len, prefix, &pci);
    if (pci.problem && pci.type != UF_PCI_CF)
        return; /* 9.6.2 / 9.6.3: a receiver ignores a frame with invalid lengths */
    switch (pci.type) {
    case UF_PCI_SF:
        if (ep->rx && !functional)
            rx_fail(ep, "a single frame interrupted a message being received "
                        "(ISO 15765-2:2016 9.8.3)", now);
        deliver(ep, pci.payload, pci.payload_len, functional, now);
        break;
    case UF_PCI_FF:
        if (!functional)
            on_ff(ep, &pci, now);
        break;
    case UF_PCI_CF:
        if (!functional)
            on_cf(ep, &pci, now);
        break;
    case UF_PCI_FC:
        if (!functional)
            on_fc(ep, &pci, now);
        break;
    default:
        break; /* 9.8.3: reserved PCI types are ignored */
    }
}

/* ---- output and time ------------------------------------------------------*/

static void set_id(uint32_t id, uf_can_frame *out)
{
    out->id = id & ~(UF_ISOTP_EFF | UF_ISOTP_DOIP);
    if (id & UF_ISOTP_EFF)
        out->flags |= UF_CAN_EFF;
}

bool uf_isotp_ep_output(uf_isotp_ep *ep, uf_time now, uf_can_frame *out)
{
    if (ep->outstanding != OUT_NONE)
        return false;
    memset(out, 0, sizeof(*out));
    if (ep->fc_pending && now >= ep->fc_due) {
        uint8_t bs = ep->c.bs, stmin = ep->c.stmin;
        if (ep->fc_fs != UF_FS_CTS)
            bs = stmin = 0;
        uf_isotp_fc_frame(&ep->c.tx, (uf_flow_status)ep->fc_fs, bs, stmin, out);
        set_id(ep->c.tx_id, out);
        ep->outstanding = OUT_FC;
        return true;
    }
    bool due = now >= ep->tx_due;
    if (ep->tx == TX_FIRST && due) {
        uf_isotp_tx_next(&ep->seg, out);
        set_id(ep->tx_functional ? ep->c.functional_tx_id : ep->c.tx_id, out);
        ep->outstanding = OUT_DATA;
        ep->burst = 1;
        return true;
    }
    if (ep->tx == TX_CF && due && (ep->tx_bs == 0 || ep->block_left > 0)) {
        uf_isotp_tx_next(&ep->seg, out);
        set_id(ep->c.tx_id, out);
        ep->outstanding = OUT_DATA;
        ep->burst = 1;
        return true;
    }
    return false;
}

size_t uf_isotp_ep_output_burst(uf_isotp_ep *ep, uf_time now, uf_can_frame *out, size_t max)
{
    if (max == 0 || !uf_isotp_ep_output(ep, now, &out[0]))
        return 0;
    /* 9.6.5.4: STmin 0 asks for no gap at all, so the rest of the block
     * may be queued at once; a flow control of ours that falls due goes
     * after them, as it would after one frame. */
    if (ep->outstanding != OUT_DATA || ep->tx != TX_CF || ep->tx_stmin != 0)
        return 1;
    uint32_t block = ep->tx_bs ? ep->block_left : UINT32_MAX;
    size_t n = 1;
    while (n < max && n < block && uf_isotp_tx_multi(&ep->seg)) {
        memset(&out[n], 0, sizeof(out[n]));
        uf_isotp_tx_next(&ep->seg, &out[n]);
        set_id(ep->c.tx_id, &out[n]);
        n++;
    }
    ep->burst = n;
    return n;
}

void uf_isotp_ep_unsent(uf_isotp_ep *ep, const char *why, uf_time now)
{
    out_kind k = ep->outstanding;
    ep->outstanding = OUT_NONE;
    ep->burst = 0;
    if (k == OUT_FC) {
        /* Our flow control did not go: the sender's N_Bs runs out, and
         * what we had received of its message is given up. */
        ep->fc_pending = false;
        ep->rx = false;
        return;
    }
    if (k == OUT_DATA)
        tx_fail(ep, why, now); /* 9.8.2: N_USData.con with N_TIMEOUT_A */
}

/* One outstanding frame left at `now`. */
static void confirm_one(uf_isotp_ep *ep, out_kind k, uf_time now)
{
    if (k == OUT_FC) {
        ep->fc_pending = false;
        if (ep->fc_fs == UF_FS_WAIT && ep->rx) {
            /* The WAITs this endpoint is set to send, then the CTS. */
            if (--ep->waits_left)
                queue_fc(ep, UF_FS_WAIT, now);
            else
                queue_fc(ep, UF_FS_CTS, now);
            return;
        }
        if (ep->rx)
            ep->rx_deadline = now + ep->c.n_cr; /* 9.8.2: N_Cr from the FC */
        return;
    }
    if (k != OUT_DATA)
        return;
    if (ep->tx == TX_FIRST) {
        if (!uf_isotp_tx_multi(&ep->seg)) {
            tx_done(ep, now);
            return;
        }
        ep->tx = TX_WAIT_FC;
        ep->tx_deadline = now + ep->c.n_bs; /* 9.8.2: N_Bs from the FF */
        return;
    }
    if (ep->tx != TX_CF)
        return;
    ep->last_cf = now;
    if (!uf_isotp_tx_multi(&ep->seg)) {
        tx_done(ep, now);
        return;
    }
    if (ep->tx_bs && --ep->block_left == 0) {
        ep->tx = TX_WAIT_FC;
        ep->tx_deadline = now + ep->c.n_bs;
        return;
    }
    ep->tx_due = now + ep->tx_stmin;
}

void uf_isotp_ep_sent(uf_isotp_ep *ep, uf_time now)
{
    out_kind k = ep->outstanding;
    size_t n = k == OUT_DATA ? ep->burst : 1;
    ep->outstanding = OUT_NONE;
    ep->burst = 0;
    /* A burst's frames left back to back, all by `now`; the segmenter is
     * past the last of them already, so a burst that ends the message
     * ends it at its first confirmation. */
    for (size_t i = 0; i < n && (k != OUT_DATA || ep->tx != TX_IDLE); i++)
        confirm_one(ep, k, now);
}

void uf_isotp_ep_tick(uf_isotp_ep *ep, uf_time now)
{
    if (ep->tx == TX_WAIT_FC && now >= ep->tx_deadline)
        tx_fail(ep, "no flow control within N_Bs (ISO 15765-2:2016 9.8.2)", now);
    if (ep->rx && !ep->fc_pending && ep->outstanding != OUT_FC && now >= ep->rx_deadline)
        rx_fail(ep, "no consecutive frame within N_Cr (ISO 15765-2:2016 9.8.2)", now);
}

static uf_time earliest(uf_time a, uf_time b)
{
    if (a == UF_TIME_NONE)
        return b;
    if (b == UF_TIME_NONE)
        return a;
    return a < b ? a : b;
}

uf_time uf_isotp_ep_wakeup(const uf_isotp_ep *ep)
{
    uf_time t = UF_TIME_NONE;
    if (ep->outstanding == OUT_NONE) {
        if (ep->fc_pending)
            t = earliest(t, ep->fc_due);
        if (ep->tx == TX_FIRST || (ep->tx == TX_CF && (ep->tx_bs == 0 || ep->block_left > 0)))
            t = earliest(t, ep->tx_due);
    }
    if (ep->tx == TX_WAIT_FC)
        t = earliest(t, ep->tx_deadline);
    if (ep->rx && !ep->fc_pending && ep->outstanding != OUT_FC)
        t = earliest(t, ep->rx_deadline);
    return t;
}

bool uf_isotp_ep_sending(const uf_isotp_ep *ep)
{
    return ep->tx != TX_IDLE;
}
