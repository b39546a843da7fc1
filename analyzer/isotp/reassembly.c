/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Passive ISO-TP reassembly (ISO 15765-2:2016 clause 9), one state machine
 * per sending flow, seen from the receiver's side:
 *
 *   IDLE --SF--> message
 *   IDLE --FF--> WAIT_FC --FC.CTS--> CF --last CF--> message, IDLE
 *                   ^  |FC.WAIT        |BS reached
 *                   |  +--(stay)       v
 *                   +-------------- WAIT_FC
 *   CF --wrong SN--> DISCARD (the rest of the message is ignored)
 *
 * Anomalies and the rule ids they raise:
 *   CF with wrong SN                       isotp.sequence      9.6.4.3
 *   CF while idle                          isotp.unexpected_cf 9.8.3
 *   FC while no sender waits               isotp.unexpected_fc 9.8.3
 *   SF / FF during a segmented message     isotp.interrupted   9.8.3
 *   FC later than N_Bs, or never           isotp.n_bs          9.8.2
 *   CF later than N_Cr, or never           isotp.n_cr          9.8.2
 *   CF gap below STmin (reserved STmin)    isotp.stmin         9.6.5.4
 *   more CFs than BS, CF before any FC     isotp.bs            9.6.5.3
 *   more than N_WFTmax FC.WAIT in a row    isotp.fc_wait       9.7
 *   FC.OVFLW                               isotp.fc_overflow   9.6.5.2
 *   bad SF_DL / FF_DL / short frames       isotp.length        9.6.2, 9.6.3
 *   padding that changes within a flow,
 *   CAN FD frame longer than its data needs isotp.padding      10.4.2
 *   reserved PCI type or flow status       isotp.pci           9.6.1
 * Timing rules are skipped when the capture has no timestamps.
 */
#include "isotp_internal.h"

#include <string.h>

#define KEEP_BUFFER_MAX (64u * 1024u) /* buffers up to this size are reused */

/* A finding about flow f, its message prefixed with the flow's name; a
 * severity of -1 keeps the rule's default. */
static void vreport(uf_isotp *t, const flow *f, const char *rule, int severity, uint64_t frame,
                    uf_time time, const char *fmt, va_list ap) UF_PRINTF(7, 0);

static void vreport(uf_isotp *t, const flow *f, const char *rule, int severity, uint64_t frame,
                    uf_time time, const char *fmt, va_list ap)
{
    if (!t->sink.finding)
        return;
    char who[32], text[UF_FINDING_MESSAGE_MAX];
    vsnprintf(text, sizeof(text), fmt, ap);
    uf_finding fd;
    uf_finding_init(&fd, rule, frame, time, f->ep.bus, "%s: %s",
                    uf_isotp_endpoint_name(&f->ep, who, sizeof(who)), text);
    if (severity >= 0)
        fd.severity = (uf_severity)severity;
    fd.has_id = true;
    fd.id = f->ep.id;
    fd.id_addr = f->ep.addr;
    t->sink.finding(t->sink.ctx, &fd);
}

static void report(uf_isotp *t, const flow *f, const char *rule, uint64_t frame, uf_time time,
                   const char *fmt, ...) UF_PRINTF(6, 7);

static void report(uf_isotp *t, const flow *f, const char *rule, uint64_t frame, uf_time time,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(t, f, rule, -1, frame, time, fmt, ap);
    va_end(ap);
}

static void report_as(uf_isotp *t, const flow *f, const char *rule, uf_severity severity,
                      uint64_t frame, uf_time time, const char *fmt, ...) UF_PRINTF(7, 8);

static void report_as(uf_isotp *t, const flow *f, const char *rule, uf_severity severity,
                      uint64_t frame, uf_time time, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(t, f, rule, (int)severity, frame, time, fmt, ap);
    va_end(ap);
}

static double ms(uf_time ns)
{
    return (double)ns / (double)UF_NS_PER_MS;
}

/* ---- payload storage ----------------------------------------------------*/

void flow_release_buffer(uf_isotp *t, flow *f)
{
    t->held_bytes -= f->cap;
    g_free(f->buf);
    f->buf = NULL;
    f->cap = 0;
}

static void store_any(uf_isotp *t, flow *f, const uint8_t *p, uint32_t n)
{
    f->received += n;
    if (f->truncated)
        return;
    uint32_t limit = f->declared < t->cfg.max_message ? f->declared : t->cfg.max_message;
    uint32_t keep = f->stored + n <= limit ? n : limit - f->stored;
    if (f->stored + keep > f->cap) {
        /* Grow with the data actually received, never to a claimed length. */
        uint32_t want = f->cap ? f->cap : 256;
        while (want < f->stored + keep)
            want = want > limit / 2 ? limit : want * 2;
        if (t->held_bytes + (want - f->cap) > t->cfg.budget) {
            f->truncated = true;
            return;
        }
        f->buf = g_realloc(f->buf, want);
        t->held_bytes += want - f->cap;
        f->cap = want;
    }
    memcpy(f->buf + f->stored, p, keep);
    f->stored += keep;
    if (keep < n)
        f->truncated = true;
}

/* n payload bytes at p, which lies in a frame's data ending at end. Nearly
 * every call is a classic frame's few bytes, with room for them: a copy of
 * a fixed 8 bytes is one move where a copy of n bytes is a call. The bytes
 * past n are read inside the frame's data and written inside the buffer,
 * where the next frame's bytes overwrite them. */
static inline void store(uf_isotp *t, flow *f, const uint8_t *p, uint32_t n, const uint8_t *end)
{
    uint32_t limit = f->declared < t->cfg.max_message ? f->declared : t->cfg.max_message;
    if (n <= 8 && end - p >= 8 && !f->truncated && f->stored + n <= limit &&
        f->stored + 8 <= f->cap) {
        memcpy(f->buf + f->stored, p, 8);
        f->stored += n;
        f->received += n;
        return;
    }
    store_any(t, f, p, n);
}

/* ---- messages -------------------------------------------------------------*/

static void fill_endpoints(const uf_isotp *t, const flow *f, uf_isotp_message *m)
{
    m->src = f->ep;
    m->dst_known = !f->functional && uf_isotp_partner(t, &f->ep, &m->dst);
    m->functional = f->functional;
    m->addressing = f->addressing;
}

static void emit_segmented(uf_isotp *t, flow *f, bool complete)
{
    uf_isotp_message m;
    memset(&m, 0, sizeof(m));
    fill_endpoints(t, f, &m);
    m.fd = f->fd;
    m.complete = complete;
    m.truncated = f->truncated;
    m.first_frame = f->first_frame;
    m.last_frame = f->last_frame;
    m.t_first = f->t_first;
    m.t_last = f->t_last;
    m.frames = f->frames;
    m.declared_len = f->declared;
    m.received_len = f->received;
    m.data = f->buf;
    m.len = f->stored;
    m.fc_count = f->fc_count;
    m.fc_wait_count = f->fc_wait_count;
    m.fc_bs = f->bs;
    m.fc_stmin_us = f->stmin_us;
    m.cf_gaps = f->cf_gaps;
    m.cf_gap_min = f->gap_min;
    m.cf_gap_max = f->gap_max;
    t->stats.messages++;
    if (t->sink.message)
        t->sink.message(t->sink.ctx, &m);
}

static void waiting_remove(uf_isotp *t, flow *f)
{
    g_ptr_array_remove_fast(t->waiting, f);
}

/* Ends the message in progress, reporting how it went if it was a success
 * (STmin summary) and resetting the flow. */
static void end_message(uf_isotp *t, flow *f, bool complete)
{
    if (f->stmin_violations) {
        report(t, f, "isotp.stmin", f->stmin_first_frame, f->stmin_first_time,
               "%u consecutive frame gap%s below STmin %.3f ms (smallest %.3f ms)",
               f->stmin_violations, f->stmin_violations == 1 ? "" : "s",
               f->stmin_us / 1000.0, ms(f->stmin_smallest));
    }
    if (f->state != RX_DISCARD)
        emit_segmented(t, f, complete);
    waiting_remove(t, f);
    f->state = RX_IDLE;
    if (f->cap > KEEP_BUFFER_MAX)
        flow_release_buffer(t, f);
}

/* A SF or FF arrived (or the capture ended) while a message was still in
 * progress on this flow: say why it was lost. */
static void abandon(uf_isotp *t, flow *f, uint64_t number, uf_time time, const char *by)
{
    if (f->state == RX_IDLE)
        return;
    if (f->state == RX_DISCARD) {
        f->state = RX_IDLE;
        return;
    }
    bool timed = t->cfg.timing && time != UF_TIME_NONE;
    if (f->state == RX_WAIT_FC && timed && uf_time_diff(time, f->t_block_end) > t->cfg.n_bs) {
        report(t, f, "isotp.n_bs", f->last_frame, f->t_block_end,
               "no flow control within N_Bs %.0f ms; message abandoned after %u of %u bytes",
               ms(t->cfg.n_bs), f->received, f->declared);
    } else if (f->state == RX_CF && timed && uf_time_diff(time, f->t_last_event) > t->cfg.n_cr) {
        report(t, f, "isotp.n_cr",
               f->last_frame, f->t_last_event,
               "no consecutive frame within N_Cr %.0f ms; message abandoned after %u of %u bytes",
               ms(t->cfg.n_cr), f->received, f->declared);
    } else {
        report(t, f, "isotp.interrupted", number, time,
               "%s interrupts a %u-byte message after %u bytes (first frame %" G_GUINT64_FORMAT ")",
               by, f->declared, f->received, f->first_frame);
    }
    end_message(t, f, false);
}

/* ---- padding (10.4.2) -------------------------------------------------------*/

/* A frame that is not full: what fills it past `used`. */
static void check_padding_bytes(uf_isotp *t, flow *f, const uf_can_frame *cf, unsigned used,
                                uint64_t number, uf_time time)
{
    if (cf->len > 8) {
        /* CAN FD: lengths are quantised, so the frame is padded up to the
         * smallest DLC that holds its data, and no further (9.5, 10.4.2). */
        uint8_t need = uf_can_dlc_to_len(uf_can_len_to_dlc((uint8_t)used));
        if (cf->len > need) {
            report(t, f, "isotp.padding", number, time,
                   "CAN FD frame of %u bytes carries %u; %u bytes would hold them", cf->len,
                   used, need);
            f->pad_reported = true;
            return;
        }
    }
    bool padded = cf->len > used;
    uint8_t value = padded ? cf->data[used] : 0;
    if (t->cfg.padding_required && cf->len < 8) {
        report(t, f, "isotp.padding", number, time,
               "frame of %u bytes is not padded to 8 bytes (padding is required)", cf->len);
        f->pad_reported = true;
        return;
    }
    for (unsigned i = used; i < cf->len; i++) {
        if (cf->data[i] != value) {
            report(t, f, "isotp.padding", number, time,
                   "padding bytes of one frame differ (0x%02X then 0x%02X)", value, cf->data[i]);
            f->pad_reported = true;
            return;
        }
    }
    if (padded && cf->len < 8 && !(cf->flags & UF_CAN_FD)) {
        report(t, f, "isotp.padding", number, time,
               "frame padded to %u bytes, neither to its data nor to 8", cf->len);
        f->pad_reported = true;
        return;
    }
    pad_state now = padded ? PAD_VALUE : PAD_NONE;
    if (f->pad == PAD_UNKNOWN) {
        f->pad = now;
        f->pad_value = value;
    } else if (f->pad != now || (now == PAD_VALUE && f->pad_value != value)) {
        char was[24], is[24];
        snprintf(was, sizeof(was), f->pad == PAD_NONE ? "none" : "0x%02X", f->pad_value);
        snprintf(is, sizeof(is), now == PAD_NONE ? "none" : "0x%02X", value);
        report(t, f, "isotp.padding", number, time, "padding changed within the flow: %s, earlier %s",
               is, was);
        f->pad_reported = true;
    }
}

/* Most frames of a transfer are full, and their check stays inline. */
static inline void check_padding(uf_isotp *t, flow *f, const uf_can_frame *cf, unsigned used,
                                 uint64_t number, uf_time time)
{
    if (used > cf->len || f->pad_reported)
        return;
    if (cf->len == used && (used == 8 || cf->len > 8))
        return; /* a full frame says nothing about padding */
    check_padding_bytes(t, f, cf, used, number, time);
}

/* ---- frame handlers -------------------------------------------------------*/

/* A frame taken into the message `sender` is sending (for viewers). */
static void mark(uf_isotp *t, const flow *sender, uint64_t number)
{
    if (t->sink.frame)
        t->sink.frame(t->sink.ctx, number, &sender->ep);
}

static void on_single(uf_isotp *t, flow *f, const uf_pci *pci, uint64_t number, uf_time time,
                      const uf_can_frame *cf)
{
    abandon(t, f, number, time, "single frame");
    if (pci->problem) {
        /* The receiver ignores such a frame (9.6.2.2). */
        report(t, f, "isotp.length", number, time, "%s (SF_DL %u in a %u-byte frame)",
               pci->problem, pci->length, cf->len);
        return;
    }
    check_padding(t, f, cf, pci->used, number, time);
    mark(t, f, number);
    uf_isotp_message m;
    memset(&m, 0, sizeof(m));
    fill_endpoints(t, f, &m);
    m.fd = (cf->flags & UF_CAN_FD) != 0;
    m.complete = true;
    m.first_frame = m.last_frame = number;
    m.t_first = m.t_last = time;
    m.frames = 1;
    m.declared_len = m.received_len = m.len = pci->length;
    m.data = pci->payload;
    t->stats.messages++;
    if (t->sink.message)
        t->sink.message(t->sink.ctx, &m);
}

static void on_first(uf_isotp *t, flow *f, const uf_pci *pci, uint64_t number, uf_time time,
                     const uf_can_frame *cf)
{
    abandon(t, f, number, time, "first frame");
    if (pci->problem) {
        report(t, f, "isotp.length", number, time, "%s (FF_DL %u in a %u-byte frame)",
               pci->problem, pci->length, cf->len);
        return;
    }
    mark(t, f, number);
    f->state = RX_WAIT_FC;
    f->fd = (cf->flags & UF_CAN_FD) != 0;
    f->frame_len = cf->len;
    f->next_sn = 1;
    f->declared = pci->length;
    f->received = f->stored = 0;
    f->truncated = false;
    f->first_frame = f->last_frame = number;
    f->t_first = f->t_last = f->t_block_end = f->t_last_event = time;
    f->frames = 1;
    f->bs = 0;
    f->stmin_raw = 0;
    f->stmin_us = 0;
    f->cf_in_block = 0;
    f->fc_count = f->fc_wait_count = f->wait_run = 0;
    f->in_block = false;
    f->cf_gaps = 0;
    f->gap_min = f->gap_max = 0;
    f->stmin_violations = 0;
    f->bs_reported = f->wait_reported = f->short_cf_reported = false;
    if (pci->length > t->cfg.max_message)
        report_as(t, f, "isotp.length", UF_SEV_WARNING, number, time,
                  "FF_DL %u exceeds the %u bytes kept per message; the rest is counted, not stored",
                  pci->length, t->cfg.max_message);
    uint32_t n = pci->payload_len < pci->length ? pci->payload_len : pci->length;
    store(t, f, pci->payload, n, cf->data + sizeof(cf->data));
    if (!f->functional)
        g_ptr_array_add(t->waiting, f);
}

static void on_consecutive(uf_isotp *t, flow *f, const uf_pci *pci, uint64_t number,
                           uf_time time, const uf_can_frame *cf)
{
    bool timed = t->cfg.timing && time != UF_TIME_NONE;
    switch (f->state) {
    case RX_IDLE:
        report(t, f, "isotp.unexpected_cf", number, time,
               "consecutive frame (SN %u) without a first frame", pci->sn);
        return;
    case RX_DISCARD:
        return;
    case RX_WAIT_FC:
        if (!f->bs_reported) {
            if (f->fc_count == 0)
                report(t, f, "isotp.bs", number, time,
                       "consecutive frame before any flow control (first frame %" G_GUINT64_FORMAT
                       ")", f->first_frame);
            else
                report(t, f, "isotp.bs", number, time,
                       "more than BS=%u consecutive frames without a new flow control", f->bs);
            f->bs_reported = true;
        }
        waiting_remove(t, f);
        f->state = RX_CF;
        break;
    case RX_CF:
        break;
    }

    if (timed && uf_time_diff(time, f->t_last_event) > t->cfg.n_cr)
        report(t, f, "isotp.n_cr", number, time,
               "consecutive frame %.3f ms after the previous frame > N_Cr %.0f ms",
               ms(uf_time_diff(time, f->t_last_event)), ms(t->cfg.n_cr));

    mark(t, f, number);
    if (pci->sn != f->next_sn) {
        report(t, f, "isotp.sequence", number, time,
               "consecutive frame SN %u, expected %u; message lost after %u of %u bytes",
               pci->sn, f->next_sn, f->received, f->declared);
        f->last_frame = number;
        f->t_last = time;
        end_message(t, f, false);
        f->state = RX_DISCARD;
        return;
    }

    uf_time gap = uf_time_diff(time, f->t_prev_cf);
    if (f->in_block && timed && gap != UF_TIME_NONE) {
        if (f->cf_gaps == 0 || gap < f->gap_min)
            f->gap_min = gap;
        if (f->cf_gaps == 0 || gap > f->gap_max)
            f->gap_max = gap;
        f->cf_gaps++;
        uf_time limit = (uf_time)f->stmin_us * UF_NS_PER_US;
        if (f->fc_count > 0 && uf_time_add(gap, t->cfg.stmin_tolerance) < limit) {
            if (f->stmin_violations == 0 || gap < f->stmin_smallest)
                f->stmin_smallest = gap;
            if (f->stmin_violations++ == 0) {
                f->stmin_first_frame = number;
                f->stmin_first_time = time;
            }
        }
    }

    uint32_t remaining = f->declared - f->received;
    uint32_t take = pci->payload_len < remaining ? pci->payload_len : remaining;
    if (remaining > pci->payload_len && cf->len < f->frame_len && !f->short_cf_reported) {
        report(t, f, "isotp.length", number, time,
               "consecutive frame of %u bytes is shorter than the first frame's %u", cf->len,
               f->frame_len);
        f->short_cf_reported = true;
    }
    store(t, f, pci->payload, take, cf->data + sizeof(cf->data));
    check_padding(t, f, cf, uf_addressing_prefix(f->addressing) + 1u + take, number, time);
    f->frames++;
    f->last_frame = number;
    f->t_last = f->t_prev_cf = f->t_last_event = time;
    f->in_block = true;
    f->next_sn = (uint8_t)((pci->sn + 1) & 0x0F);
    f->cf_in_block++;

    if (f->received >= f->declared) {
        end_message(t, f, true);
        return;
    }
    if (f->fc_count > 0 && f->bs > 0 && f->cf_in_block >= f->bs) {
        f->state = RX_WAIT_FC;
        f->t_block_end = time;
        f->in_block = false;
        g_ptr_array_add(t->waiting, f);
    }
}

/* The sender a flow control from `r` is meant for. */
static flow *fc_target(uf_isotp *t, flow *r)
{
    uf_isotp_endpoint pe;
    if (uf_isotp_partner(t, &r->ep, &pe))
        return flows_find(t, &pe);
    /* No known partner: the oldest sender waiting on this bus whose own
     * partner is unknown too: the FF -> FC link. */
    for (guint i = 0; i < t->waiting->len; i++) {
        flow *s = g_ptr_array_index(t->waiting, i);
        uf_isotp_endpoint spe;
        if (s->ep.bus == r->ep.bus && s != r && !uf_isotp_partner(t, &s->ep, &spe)) {
            links_add(t, &s->ep, &r->ep);
            return s;
        }
    }
    return NULL;
}

static void on_flow_control(uf_isotp *t, flow *r, const uf_pci *pci, uint64_t number,
                            uf_time time, const uf_can_frame *cf)
{
    check_padding(t, r, cf, pci->used, number, time);
    if (pci->fs > UF_FS_OVFLW) {
        report(t, r, "isotp.pci", number, time, "flow control with reserved flow status %u",
               pci->fs);
        return;
    }
    static const char *const fs_names[] = {"CTS", "WAIT", "OVFLW"};
    flow *s = fc_target(t, r);
    if (!s || s->state != RX_WAIT_FC) {
        report(t, r, "isotp.unexpected_fc", number, time,
               "flow control (%s) while no segmented message waits for one", fs_names[pci->fs]);
        return;
    }
    bool timed = t->cfg.timing && time != UF_TIME_NONE;
    if (timed && uf_time_diff(time, s->t_block_end) > t->cfg.n_bs)
        report(t, s, "isotp.n_bs", number, time,
               "flow control %.3f ms after the %s > N_Bs %.0f ms", ms(uf_time_diff(time, s->t_block_end)),
               s->fc_count == 0 ? "first frame" : "block's last frame", ms(t->cfg.n_bs));
    s->fc_count++;
    mark(t, s, number);
    switch ((uf_flow_status)pci->fs) {
    case UF_FS_CTS:
        if (uf_stmin_is_reserved(pci->stmin))
            report(t, r, "isotp.stmin", number, time,
                   "flow control with reserved STmin 0x%02X (read as 127 ms)", pci->stmin);
        s->bs = pci->bs;
        s->stmin_raw = pci->stmin;
        s->stmin_us = uf_stmin_us(pci->stmin);
        s->cf_in_block = 0;
        s->wait_run = 0;
        s->in_block = false;
        s->state = RX_CF;
        s->t_last_event = time;
        waiting_remove(t, s);
        break;
    case UF_FS_WAIT:
        s->fc_wait_count++;
        s->t_block_end = time; /* each FC.WAIT restarts N_Bs */
        if (++s->wait_run > t->cfg.n_wft_max && !s->wait_reported) {
            report(t, s, "isotp.fc_wait", number, time, "%u FC.WAIT in a row > N_WFTmax %u",
                   s->wait_run, t->cfg.n_wft_max);
            s->wait_reported = true;
        }
        break;
    case UF_FS_OVFLW:
        report(t, s, "isotp.fc_overflow", number, time,
               "the receiver refused a %u-byte message with FC.OVFLW", s->declared);
        s->last_frame = number;
        s->t_last = time;
        end_message(t, s, false);
        break;
    }
}

void reassembly_frame(uf_isotp *t, id_info *ii, uint64_t number, uf_time time, uint32_t bus,
                      const uf_can_frame *cf)
{
    t->stats.diag_frames++;
    unsigned prefix = uf_addressing_prefix(ii->addressing);
    int16_t addr = prefix && cf->len > 0 ? (int16_t)cf->data[0] : (int16_t)-1;
    flow *f = flows_get(t, ii, bus, addr);
    if (!f) {
        t->stats.dropped_frames++;
        return;
    }
    f->last_seen = time;
    uf_pci pci;
    uf_pci_decode(cf->data, cf->len, prefix, &pci);
    switch (pci.type) {
    case UF_PCI_SF: on_single(t, f, &pci, number, time, cf); break;
    case UF_PCI_FF: on_first(t, f, &pci, number, time, cf); break;
    case UF_PCI_CF: on_consecutive(t, f, &pci, number, time, cf); break;
    case UF_PCI_FC: on_flow_control(t, f, &pci, number, time, cf); break;
    case UF_PCI_INVALID:
        report(t, f, "isotp.pci", number, time, "%s (%u-byte frame, first byte 0x%02X)",
               pci.problem, cf->len, cf->len > prefix ? cf->data[prefix] : 0);
        break;
    }
}

static void finish_flow(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    uf_isotp *t = user;
    flow *f = value;
    if (f->state == RX_IDLE || f->state == RX_DISCARD)
        return;
    bool timed = t->cfg.timing && t->last_time != UF_TIME_NONE;
    uf_time since = f->state == RX_WAIT_FC ? f->t_block_end : f->t_last_event;
    uf_time limit = f->state == RX_WAIT_FC ? t->cfg.n_bs : t->cfg.n_cr;
    if (timed && uf_time_diff(t->last_time, since) > limit) {
        report(t, f, f->state == RX_WAIT_FC ? "isotp.n_bs" : "isotp.n_cr", f->last_frame, since,
               "message never completed: %u of %u bytes, no %s within %.0f ms", f->received,
               f->declared, f->state == RX_WAIT_FC ? "flow control" : "consecutive frame",
               ms(limit));
    } else {
        report_as(t, f, "isotp.n_cr", UF_SEV_INFO, f->last_frame, since,
                  "message cut by the end of the capture after %u of %u bytes", f->received,
                  f->declared);
    }
    end_message(t, f, false);
}

void reassembly_finish(uf_isotp *t)
{
    /* Report in the order the messages started, whatever the hash order. */
    GPtrArray *open = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t->flows);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        flow *f = v;
        if (f->state == RX_WAIT_FC || f->state == RX_CF)
            g_ptr_array_add(open, f);
    }
    for (guint i = 1; i < open->len; i++) { /* insertion sort: few open flows */
        flow *x = g_ptr_array_index(open, i);
        guint j = i;
        while (j > 0 && ((flow *)g_ptr_array_index(open, j - 1))->first_frame > x->first_frame) {
            open->pdata[j] = open->pdata[j - 1];
            j--;
        }
        open->pdata[j] = x;
    }
    for (guint i = 0; i < open->len; i++)
        finish_flow(NULL, g_ptr_array_index(open, i), t);
    g_ptr_array_free(open, TRUE);
}
