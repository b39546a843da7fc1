/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Finding diagnostic pairs on ids that follow no convention, without
 * configuration. A vehicle bus carries hundreds of periodic signal ids whose
 * bytes happen to look like ISO-TP; treating them as such would bury the
 * report in false findings. So frames of an unknown id wait in a bounded hold
 * window until evidence promotes the id, or age out unanalyzed:
 *   - a single frame that reads as a UDS request, answered from another id
 *     by a single or first frame that reads as its response, or
 *   - a first frame, a flow control (CTS) from another id within N_Bs, then a
 *     consecutive frame with SN 1 on the first id: the FF -> FC link.
 * Each frame is read both with normal addressing and with an address byte
 * (extended / mixed), unless the configuration fixes the addressing; the
 * reading that produced the evidence decides the addressing of both ids.
 * Held frames are released in capture order, so messages and their timing
 * are exactly those of a configured analysis.
 */
#include "isotp_internal.h"

#include <string.h>

#define HOLD_FRAMES 4096
/* Evidence must arrive within this span (a response within P2*, ...). */
#define HOLD_AGE (5 * UF_NS_PER_S)

void discovery_init(uf_isotp *t)
{
    t->ring_cap = HOLD_FRAMES;
    t->ring = g_new(held_frame, t->ring_cap);
}

void discovery_free(uf_isotp *t)
{
    g_free(t->ring);
}

static bool recent(const uf_isotp *t, uf_time then, uf_time now, uf_time span)
{
    if (!t->cfg.timing || then == UF_TIME_NONE || now == UF_TIME_NONE)
        return true; /* without timestamps only the slot count bounds it */
    return uf_time_diff(now, then) <= span;
}

static bool same_ep(const uf_isotp_endpoint *a, const uf_isotp_endpoint *b)
{
    return a->bus == b->bus && a->id == b->id && a->addr == b->addr;
}

/* Promotes both ids and links the endpoints. */
static void promote(uf_isotp *t, const uf_isotp_endpoint *a, uf_addressing ia,
                    const uf_isotp_endpoint *b, uf_addressing ib)
{
    ids_promote(t, a->bus, a->id, ia);
    ids_promote(t, b->bus, b->id, ib);
    links_add(t, a, b);
}

/* Readings to try: normal, and one with an address byte. */
static size_t interpretations(const uf_isotp *t, uf_addressing out[2])
{
    switch (t->cfg.default_addressing) {
    case UF_ADDR_EXTENDED:
    case UF_ADDR_MIXED:
        out[0] = t->cfg.default_addressing;
        return 1;
    case UF_ADDR_NORMAL:
    case UF_ADDR_NORMAL_FIXED:
        out[0] = UF_ADDR_NORMAL;
        return 1;
    case UF_ADDR_AUTO:
        break;
    }
    out[0] = UF_ADDR_NORMAL;
    out[1] = UF_ADDR_EXTENDED;
    return 2;
}

static void remember_request(uf_isotp *t, const uf_isotp_endpoint *ep, uf_addressing interp,
                             uf_time time, const uint8_t *p, size_t n)
{
    cand_request *slot = &t->requests[t->seq % DISCOVERY_SLOTS];
    slot->ep = *ep;
    slot->interp = interp;
    slot->time = time;
    slot->seq = ++t->seq;
    slot->len = (uint8_t)(n < sizeof(slot->payload) ? n : sizeof(slot->payload));
    memcpy(slot->payload, p, slot->len);
}

/* Is (p, n) from ep an answer to a remembered request? */
static bool match_response(uf_isotp *t, const uf_isotp_endpoint *ep, uf_addressing interp,
                           uf_time time, const uint8_t *p, size_t n)
{
    if (!t->cfg.answers)
        return false;
    for (size_t i = 0; i < DISCOVERY_SLOTS; i++) {
        cand_request *r = &t->requests[i];
        if (!r->seq || r->ep.bus != ep->bus || r->ep.id == ep->id || r->interp != interp ||
            !recent(t, r->time, time, HOLD_AGE))
            continue;
        if (t->cfg.answers(r->payload, r->len, p, n)) {
            promote(t, &r->ep, r->interp, ep, interp);
            r->seq = 0;
            return true;
        }
    }
    return false;
}

void discovery_observe(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus,
                       const uf_can_frame *f)
{
    (void)number;
    uf_addressing interp[2];
    size_t n_interp = interpretations(t, interp);
    uint32_t id = uf_isotp_id_of(f);
    for (size_t k = 0; k < n_interp; k++) {
        unsigned prefix = uf_addressing_prefix(interp[k]);
        uf_pci pci;
        uf_pci_decode(f->data, f->len, prefix, &pci);
        if (pci.type == UF_PCI_INVALID || pci.problem)
            continue;
        uf_isotp_endpoint ep = {bus, id, prefix ? (int16_t)f->data[0] : (int16_t)-1};
        switch (pci.type) {
        case UF_PCI_SF:
            if (match_response(t, &ep, interp[k], time, pci.payload, pci.payload_len))
                return;
            if (t->cfg.is_request && t->cfg.is_request(pci.payload, pci.payload_len))
                remember_request(t, &ep, interp[k], time, pci.payload, pci.payload_len);
            break;
        case UF_PCI_FF: {
            if (match_response(t, &ep, interp[k], time, pci.payload, pci.payload_len))
                return;
            cand_ff *slot = &t->ffs[t->seq % DISCOVERY_SLOTS];
            slot->ep = ep;
            slot->interp = interp[k];
            slot->time = time;
            slot->seq = ++t->seq;
            break;
        }
        case UF_PCI_FC:
            if (pci.fs != UF_FS_CTS || uf_stmin_is_reserved(pci.stmin))
                break;
            for (size_t i = 0; i < DISCOVERY_SLOTS; i++) {
                cand_ff *ff = &t->ffs[i];
                if (!ff->seq || ff->ep.bus != bus || ff->ep.id == id ||
                    !recent(t, ff->time, time, t->cfg.n_bs))
                    continue;
                cand_fc *slot = &t->fcs[t->seq % DISCOVERY_SLOTS];
                slot->ff_ep = ff->ep;
                slot->ff_interp = ff->interp;
                slot->fc_ep = ep;
                slot->fc_interp = interp[k];
                slot->time = time;
                slot->seq = ++t->seq;
            }
            break;
        case UF_PCI_CF:
            if (pci.sn != 1)
                break;
            for (size_t i = 0; i < DISCOVERY_SLOTS; i++) {
                cand_fc *fc = &t->fcs[i];
                if (fc->seq && fc->ff_interp == interp[k] && same_ep(&fc->ff_ep, &ep) &&
                    recent(t, fc->time, time, t->cfg.n_cr)) {
                    promote(t, &fc->ff_ep, fc->ff_interp, &fc->fc_ep, fc->fc_interp);
                    fc->seq = 0;
                    return;
                }
            }
            break;
        case UF_PCI_INVALID:
            break;
        }
    }
}

void hold_push(uf_isotp *t, uint64_t number, uf_time time, uint32_t bus, const uf_can_frame *f)
{
    if (t->ring_count == t->ring_cap)
        hold_drain(t, time, false); /* a full window always releases its oldest */
    held_frame *h = &t->ring[(t->ring_head + t->ring_count) % t->ring_cap];
    h->number = number;
    h->time = time;
    h->bus = bus;
    h->f = *f;
    t->ring_count++;
}

void hold_drain(uf_isotp *t, uf_time now, bool force)
{
    while (t->ring_count > 0) {
        held_frame *h = &t->ring[t->ring_head];
        id_info *ii = ids_find(t, h->bus, uf_isotp_id_of(&h->f));
        bool diag = ii && ii->cls == ID_DIAG;
        if (!diag && !force && t->ring_count < t->ring_cap &&
            recent(t, h->time, now, HOLD_AGE))
            break; /* evidence may still come for the oldest frame */
        t->ring_head = (t->ring_head + 1) % t->ring_cap;
        t->ring_count--;
        if (diag)
            reassembly_frame(t, ii, h->number, h->time, h->bus, &h->f);
    }
    if (t->ring_count == 0)
        t->ring_head = 0;
}
