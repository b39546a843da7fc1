/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The frame-level reproduction (uf_reproduce.h). One pass over the
 * recorded frames: a tester frame waits for its deadline, the recorded
 * gap after the live time of the frame before it, then goes out; an ECU
 * frame is awaited from the live ECU and compared. ECU frames that come
 * while a tester frame waits are kept in order until their turn.
 */
#include "uf_reproduce.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECU_WAIT_DEFAULT (2 * UF_NS_PER_S)

typedef struct live_frame {
    uf_can_frame f;
    uf_time t;
} live_frame;

typedef struct repro {
    uf_can_medium *m;
    const GArray *frames;
    uint32_t ecu_id;
    int16_t ecu_addr;
    unsigned prefix;          /* address bytes before the PCI */
    const uf_repro_options *o;
    uf_repro_result *res;
    GQueue pending;           /* live_frame *, received before their turn */
    uf_time *live;            /* per recorded frame: when it happened live */
    /* Seeds (67 L seed) as recorded and as the live ECU sent them, by
     * requestSeed level L. */
    uint8_t recorded_seed[128][16], live_seed[128][16];
    uint8_t recorded_seed_len[128], live_seed_len[128];
} repro;

void uf_repro_options_defaults(uf_repro_options *o)
{
    memset(o, 0, sizeof(*o));
    o->speed = 1.0;
    o->ecu_wait = ECU_WAIT_DEFAULT;
}

void uf_repro_result_init(uf_repro_result *r)
{
    memset(r, 0, sizeof(*r));
    r->divergences = g_array_new(FALSE, TRUE, sizeof(uf_repro_divergence));
    r->errors = g_array_new(FALSE, FALSE, sizeof(uf_time));
}

void uf_repro_result_clear(uf_repro_result *r)
{
    if (r->divergences)
        g_array_free(r->divergences, TRUE);
    if (r->errors)
        g_array_free(r->errors, TRUE);
    memset(r, 0, sizeof(*r));
}

static uf_time medium_now(uf_can_medium *m)
{
    return m->ops->now(m);
}

static const uf_repro_frame *frame_at(const repro *r, guint i)
{
    return &g_array_index(r->frames, uf_repro_frame, i);
}

static void say(repro *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say(repro *r, const char *fmt, ...)
{
    if (!r->o->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->o->log(r->o->ctx, line);
}

static uf_time scaled(const repro *r, uf_time d)
{
    return r->o->speed == 1.0 ? d : (uf_time)((double)d / r->o->speed);
}

static bool from_ecu(const repro *r, const uf_can_frame *f)
{
    return uf_isotp_id_of(f) == r->ecu_id &&
           (r->ecu_addr < 0 || (f->len > 0 && f->data[0] == (uint8_t)r->ecu_addr));
}

/* ---- comparing frames ------------------------------------------------------------*/

/* The bytes of a frame that carry something: a single frame's and a flow
 * control's PCI and data, a first frame whole, a consecutive frame but
 * for its trailing padding (ISO 15765-2:2016 10.4.2: the padding value is
 * the sender's choice). */
static size_t meaningful(const uf_can_frame *f, unsigned prefix)
{
    uf_pci p;
    uf_pci_decode(f->data, f->len, prefix, &p);
    if ((p.type == UF_PCI_SF || p.type == UF_PCI_FC) && p.used <= f->len)
        return p.used;
    size_t n = f->len;
    if (p.type == UF_PCI_CF)
        while (n > prefix + 1 && f->data[n - 1] == f->data[f->len - 1])
            n--;
    return n;
}

static bool same_frame(const uf_can_frame *a, const uf_can_frame *b, unsigned prefix)
{
    size_t na = meaningful(a, prefix), nb = meaningful(b, prefix);
    uf_pci pa, pb;
    uf_pci_decode(a->data, a->len, prefix, &pa);
    uf_pci_decode(b->data, b->len, prefix, &pb);
    if (pa.type != pb.type)
        return false;
    if (pa.type == UF_PCI_CF) /* the shorter, padding stripped */
        return memcmp(a->data, b->data, na < nb ? na : nb) == 0;
    return na == nb && memcmp(a->data, b->data, na) == 0;
}

/* A single frame's UDS payload, or NULL. */
static const uint8_t *single(const uf_can_frame *f, unsigned prefix, size_t *len)
{
    uf_pci p;
    uf_pci_decode(f->data, f->len, prefix, &p);
    if (p.type != UF_PCI_SF || p.problem || !p.payload_len)
        return NULL;
    *len = p.payload_len;
    return p.payload;
}

static bool is_pending(const uf_can_frame *f, unsigned prefix)
{
    size_t n;
    const uint8_t *p = single(f, prefix, &n);
    return p && n == 3 && p[0] == 0x7F && p[2] == 0x78;
}

static void hex(const uf_can_frame *f, char *out, size_t size)
{
    size_t at = 0;
    out[0] = 0;
    for (uint8_t i = 0; i < f->len && at + 4 < size; i++)
        at += (size_t)g_snprintf(out + at, size - at, "%s%02X", i ? " " : "", f->data[i]);
}

/* A positive requestSeed answer (67 L seed) remembered by level. */
static void note_seed(const uf_can_frame *f, unsigned prefix, uint8_t seeds[128][16],
                      uint8_t lens[128])
{
    size_t n;
    const uint8_t *p = single(f, prefix, &n);
    if (!p || n < 3 || p[0] != 0x67 || !(p[1] & 1) || n - 2 > 16)
        return;
    uint8_t level = p[1] & 0x7F;
    memcpy(seeds[level], p + 2, n - 2);
    lens[level] = (uint8_t)(n - 2);
}

static void diverge(repro *r, const uf_repro_frame *rec, uf_time at, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static void diverge(repro *r, const uf_repro_frame *rec, uf_time at, const char *fmt, ...)
{
    uf_repro_divergence d = {.frame = rec->number, .at = at};
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(d.what, sizeof(d.what), fmt, ap);
    va_end(ap);
    g_array_append_val(r->res->divergences, d);
    r->res->verdict = UF_REPRO_DIVERGED;
    say(r, "frame %" G_GUINT64_FORMAT ": %s", rec->number, d.what);
}

/* ---- the tester's frames ---------------------------------------------------------*/

/* A key request (27 L+1 key) whose seed came otherwise live: the key of
 * the live seed, when a key source is given. */
static void substitute_key(repro *r, uf_can_frame *f)
{
    size_t n;
    const uint8_t *p = single(f, r->prefix, &n);
    if (!p || n < 3 || p[0] != 0x27 || (p[1] & 1) || !(p[1] & 0x7F))
        return;
    uint8_t level = (uint8_t)((p[1] & 0x7F) - 1);
    uint8_t ln = r->live_seed_len[level];
    if (!ln || (ln == r->recorded_seed_len[level] &&
                memcmp(r->live_seed[level], r->recorded_seed[level], ln) == 0))
        return; /* the recorded seed: the recorded key */
    if (!r->o->keys) {
        say(r, "level 0x%02X: the live seed differs and no key source is given: the recorded "
               "key goes out", level);
        return;
    }
    uint8_t key[64];
    size_t key_len = 0;
    uf_error err;
    if (!uf_key_source_compute(r->o->keys, level, r->live_seed[level], ln, key, sizeof(key),
                               &key_len, &err)) {
        say(r, "level 0x%02X: computing the key of the live seed: %s", level, err.msg);
        return;
    }
    unsigned pci = r->prefix;
    if (pci + 1 + 2 + key_len > f->len || f->data[pci] > 7) {
        say(r, "level 0x%02X: the key of the live seed does not fit the recorded frame", level);
        return;
    }
    f->data[pci] = (uint8_t)(2 + key_len); /* SF_DL */
    memcpy(f->data + pci + 3, key, key_len);
    r->res->keys_computed++;
    say(r, "level 0x%02X: the key of the live seed goes out in place of the recorded one",
        level);
}

/* Waits until `deadline`, keeping the ECU's frames; false if the medium
 * failed. */
static bool wait_until(repro *r, uf_time deadline)
{
    for (;;) {
        uf_time now = medium_now(r->m);
        if (now >= deadline)
            return true;
        /* Asleep until the spin begins, then polling. */
        uf_time until = deadline - r->o->spin > now ? deadline - r->o->spin : now;
        live_frame lf;
        uf_error err;
        int got = r->m->ops->read(r->m, &lf.f, &lf.t, until, &err);
        if (got < 0) {
            g_snprintf(r->res->message, sizeof(r->res->message), "%s", err.msg);
            return false;
        }
        if (got == 0)
            continue; /* asleep until the spin, or one poll of it: the clock decides */
        if (from_ecu(r, &lf.f))
            g_queue_push_tail(&r->pending, g_memdup2(&lf, sizeof(lf)));
    }
}

static bool send_tester_frame(repro *r, guint i)
{
    const uf_repro_frame *rec = frame_at(r, i);
    uf_time due = i ? r->live[i - 1] + scaled(r, rec->time - frame_at(r, i - 1)->time)
                    : r->res->started;
    uf_can_frame f = rec->f;
    f.flags &= ~(uint32_t)(UF_CAN_DIR_TX | UF_CAN_DIR_RX);
    /* The recorded time is the frame's end; it starts that much earlier. */
    uf_time lead = r->o->bitrate ? uf_can_frame_duration(&f, r->o->bitrate, r->o->data_bitrate)
                                 : 0;
    if (!wait_until(r, due - lead))
        return false;
    substitute_key(r, &f);
    uf_time sent;
    uf_error err;
    if (!r->m->ops->write(r->m, &f, &sent, &err)) {
        g_snprintf(r->res->message, sizeof(r->res->message), "frame %" G_GUINT64_FORMAT ": %s",
                   rec->number, err.msg);
        return false;
    }
    uf_time error = sent - due;
    g_array_append_val(r->res->errors, error);
    r->live[i] = sent;
    r->res->sent++;
    return true;
}

/* ---- the ECU's frames ----------------------------------------------------------------*/

/* The next live ECU frame by `deadline`: 1, 0 none, -1 medium failed.
 * Between spin_from and spin_until (with o->spin) the medium is polled
 * rather than slept on: the tester frame that answers it may be due a few
 * hundred microseconds after it, less than a wake-up can take. */
static int next_live(repro *r, uf_time deadline, uf_time spin_from, uf_time spin_until,
                     live_frame *out)
{
    live_frame *q = g_queue_pop_head(&r->pending);
    if (q) {
        *out = *q;
        g_free(q);
        return 1;
    }
    for (;;) {
        uf_time now = medium_now(r->m), until = deadline;
        if (r->o->spin && now < spin_from && spin_from < deadline)
            until = spin_from;
        else if (r->o->spin && now >= spin_from && now < spin_until)
            until = now;
        uf_error err;
        int got = r->m->ops->read(r->m, &out->f, &out->t, until, &err);
        if (got < 0) {
            g_snprintf(r->res->message, sizeof(r->res->message), "%s", err.msg);
            return -1;
        }
        if (got == 0 && medium_now(r->m) >= deadline)
            return 0;
        if (got > 0 && from_ecu(r, &out->f))
            return 1;
    }
}

/* Matches recorded ECU frame i with the live ECU; returns the index to
 * go on from (i + 1, or further when recorded 0x78 were skipped), or -1
 * to stop. */
static gint await_ecu_frame(repro *r, guint i)
{
    const uf_repro_frame *rec = frame_at(r, i);
    uf_time expected = i ? r->live[i - 1] + scaled(r, rec->time - frame_at(r, i - 1)->time)
                         : r->res->started;
    bool go_on = r->o->continue_on_divergence;
    char want[200], got[200];
    for (;;) {
        live_frame lf;
        /* Polled from a spin before its recorded time to four after. */
        int n = next_live(r, expected + r->o->ecu_wait, expected - r->o->spin,
                          expected + 4 * r->o->spin, &lf);
        if (n < 0)
            return -1;
        if (n == 0) {
            uf_time now = medium_now(r->m);
            hex(&rec->f, want, sizeof(want));
            diverge(r, rec, now, "the ECU did not send [%s] (waited %.3f s past its recorded "
                    "time)", want, (double)(now - expected) / 1e9);
            r->live[i] = now;
            return go_on ? (gint)i + 1 : -1;
        }
        /* Live times keep the recorded order: a frame the ECU sent early
         * (before tester frames recorded ahead of it) counts from the
         * last of them, or what follows would be due in the past. */
        if (i && lf.t < r->live[i - 1])
            lf.t = r->live[i - 1];
        if (same_frame(&lf.f, &rec->f, r->prefix)) {
            r->live[i] = lf.t;
            r->res->matched++;
            note_seed(&lf.f, r->prefix, r->live_seed, r->live_seed_len);
            return (gint)i + 1;
        }
        hex(&rec->f, want, sizeof(want));
        hex(&lf.f, got, sizeof(got));
        if (is_pending(&lf.f, r->prefix) && !is_pending(&rec->f, r->prefix)) {
            diverge(r, rec, lf.t, "the ECU sent one more response pending (0x78) than recorded");
            if (!go_on)
                return -1;
            continue; /* the recorded frame is still to come */
        }
        if (is_pending(&rec->f, r->prefix) && !is_pending(&lf.f, r->prefix)) {
            diverge(r, rec, lf.t, "the ECU sent one response pending (0x78) fewer than recorded");
            if (!go_on)
                return -1;
            /* The live frame belongs to a later recorded one: skip this
             * 0x78, and compare again with what follows. */
            r->live[i] = lf.t;
            g_queue_push_head(&r->pending, g_memdup2(&lf, sizeof(lf)));
            return (gint)i + 1;
        }
        size_t sn;
        const uint8_t *sp = single(&lf.f, r->prefix, &sn);
        bool seed = sp && sn >= 3 && sp[0] == 0x67 && (sp[1] & 1);
        diverge(r, rec, lf.t, seed ? "a different seed: [%s] where the recording has [%s]"
                                   : "the ECU sent [%s] where the recording has [%s]",
                got, want);
        r->live[i] = lf.t;
        note_seed(&lf.f, r->prefix, r->live_seed, r->live_seed_len);
        return go_on ? (gint)i + 1 : -1;
    }
}

/* ---- the run ---------------------------------------------------------------------------*/

static gint by_time(gconstpointer a, gconstpointer b)
{
    uf_time x = *(const uf_time *)a, y = *(const uf_time *)b;
    x = x < 0 ? -x : x;
    y = y < 0 ? -y : y;
    return x < y ? -1 : x > y;
}

static void error_stats(uf_repro_result *res)
{
    guint n = res->errors->len;
    if (!n)
        return;
    uf_time *sorted = g_memdup2(res->errors->data, n * sizeof(uf_time));
    qsort(sorted, n, sizeof(uf_time), (int (*)(const void *, const void *))by_time);
    uf_time med = sorted[n / 2], p99 = sorted[(n * 99 + 99) / 100 - 1], max = sorted[n - 1];
    res->error_median = med < 0 ? -med : med;
    res->error_p99 = p99 < 0 ? -p99 : p99;
    res->error_max = max < 0 ? -max : max;
    g_free(sorted);
}

void uf_repro_run(uf_can_medium *m, const GArray *frames, uint32_t ecu_id, int16_t ecu_addr,
                  const uf_repro_options *o, uf_repro_result *res)
{
    repro r = {.m = m, .frames = frames, .ecu_id = ecu_id, .ecu_addr = ecu_addr, .o = o,
               .res = res};
    r.prefix = ecu_addr >= 0 ? 1 : 0;
    g_queue_init(&r.pending);
    r.live = g_new0(uf_time, frames->len ? frames->len : 1);
    res->verdict = UF_REPRO_REPRODUCED;
    res->started = medium_now(m);
    guint total = frames->len;
    for (guint i = 0; i < total; i++) {
        const uf_repro_frame *f = frame_at(&r, i);
        if (f->from_tester)
            res->tester_frames++;
        else
            res->ecu_frames++;
        if (!f->from_tester)
            note_seed(&f->f, r.prefix, r.recorded_seed, r.recorded_seed_len);
    }
    bool failed = false;
    for (guint i = 0; i < total;) {
        const uf_repro_frame *f = frame_at(&r, i);
        if (o->until && f->number > o->until)
            break;
        if (f->from_tester) {
            if (!send_tester_frame(&r, i)) {
                failed = true;
                break;
            }
            i++;
        } else {
            gint next = await_ecu_frame(&r, i);
            if (next < 0) {
                failed = !res->divergences->len;
                res->stopped = !failed;
                break;
            }
            i = (guint)next;
        }
        if (o->progress)
            o->progress(o->ctx, i, total);
    }
    res->ended = medium_now(m);
    if (failed)
        res->verdict = UF_REPRO_FAILED;
    else if (res->stopped)
        g_snprintf(res->message, sizeof(res->message), "stopped at the first divergence, frame "
                   "%" G_GUINT64_FORMAT ": %s",
                   g_array_index(res->divergences, uf_repro_divergence, 0).frame,
                   g_array_index(res->divergences, uf_repro_divergence, 0).what);
    else if (res->divergences->len)
        g_snprintf(res->message, sizeof(res->message), "%u divergences from the recording",
                   res->divergences->len);
    else
        g_snprintf(res->message, sizeof(res->message), "every frame as recorded");
    error_stats(res);
    g_queue_clear_full(&r.pending, g_free);
    g_free(r.live);
}
