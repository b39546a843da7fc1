/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The replayer of uf_replay.h: the script's steps, one by one, against the
 * live ECU. A request is sent, its answer awaited within P2, then P2*
 * after each response pending, tester present meanwhile when S3 would run
 * out (ISO 14229-2:2013 7.2, 7.5); the answer is compared by meaning. The
 * transfer steps cut the image to the ECU's maxNumberOfBlockLength and
 * count blocks from 1, wrapping 0xFF to 0x00 (ISO 14229-1:2020 15.4.2).
 */
#include "uf_replay.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ECUs come back from a reset within seconds; the first request after it
 * is asked again until then (the recording's pause is kept first). */
#define BOOT_WAIT (5 * UF_NS_PER_S)
#define BOOT_RETRY (100 * UF_NS_PER_MS)
#define TESTER_PRESENT_DEFAULT (2 * UF_NS_PER_S)
#define TESTER_PRESENT_MIN (100 * UF_NS_PER_MS)

/* ISO 14229-1:2020 Annex C.1: the DIDs that name the ECU and its hardware,
 * which a flash does not change. The VIN is among them: a golden session
 * flashes the vehicle it names unless --identify says otherwise. */
static const uint16_t default_identify[] = {0xF187, 0xF18A, 0xF190, 0xF191, 0xF192, 0xF193,
                                            0xF197};

const char *uf_recovery_name(uf_recovery r)
{
    switch (r) {
    case UF_RECOVERY_REPEAT: return "repeat";
    case UF_RECOVERY_RESTART: return "restart";
    default: return "none";
    }
}

bool uf_recovery_parse(const char *text, uf_recovery *out)
{
    for (int r = UF_RECOVERY_REPEAT; r <= UF_RECOVERY_NONE; r++)
        if (strcmp(text, uf_recovery_name((uf_recovery)r)) == 0) {
            *out = (uf_recovery)r;
            return true;
        }
    return false;
}

const char *uf_replay_verdict_name(uf_replay_verdict v)
{
    switch (v) {
    case UF_REPLAY_SUCCESS: return "success";
    case UF_REPLAY_FAILED: return "failed";
    case UF_REPLAY_REFUSED: return "refused";
    default: return "unconfirmed";
    }
}

void uf_replay_options_defaults(uf_replay_options *o)
{
    memset(o, 0, sizeof(*o));
    o->recovery = UF_RECOVERY_REPEAT;
    o->retries = 3;
}

typedef enum answer {
    ANSWER_POSITIVE,
    ANSWER_NEGATIVE,
    ANSWER_NONE,       /* nothing within P2 / P2* */
    ANSWER_LINK_LOST,  /* the channel failed */
} answer;

typedef struct run {
    uf_channel **ch;
    const uf_script *s;
    const uf_replay_options *o;
    uf_replay_result *res;
    uf_error err;
    uf_time p2, p2star;
    /* Tester present: on while a non-default session is active. */
    bool tp_on;
    uf_time tp_interval, last_sent;
    /* SecurityAccess: the last seed, and whether the ECU was unlocked. */
    uint8_t seed[256];
    size_t seed_len;
    bool seed_zero;
    /* The step after an ECUReset waits for the ECU to boot. */
    bool after_reset;
    uint32_t max_block;
    bool identity_done;
    GArray *identity_seen;      /* uint16_t: DIDs compared */
    bool transfer_exited;       /* a RequestTransferExit since the last check */
    GByteArray *resp;           /* the final answer of the last exchange */
    uint64_t done_bytes;
} run;

static void say(run *r, const char *fmt, ...) UF_PRINTF(2, 3);
static void say(run *r, const char *fmt, ...)
{
    if (!r->o->log)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->o->log(r->o->log_ctx, line);
}

static void finish(run *r, uf_replay_verdict v, int step, const char *fmt, ...) UF_PRINTF(4, 5);
static void finish(run *r, uf_replay_verdict v, int step, const char *fmt, ...)
{
    r->res->verdict = v;
    r->res->failed_step = step;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->res->message, sizeof(r->res->message), fmt, ap);
    va_end(ap);
}

static uf_channel *ch(run *r)
{
    return *r->ch;
}

static void progress(run *r, const uf_script_step *st)
{
    if (!r->o->progress)
        return;
    uf_replay_progress p = {st ? st->phase : NULL, st ? st->name : NULL, r->done_bytes,
                            r->res->total_bytes, uf_channel_now(ch(r)) - r->res->started};
    r->o->progress(r->o->progress_ctx, &p);
}

static bool send(run *r, const uint8_t *p, size_t n, bool functional)
{
    bool ok = uf_channel_send(ch(r), p, n, functional, &r->err);
    if (ok)
        r->last_sent = uf_channel_now(ch(r));
    return ok;
}

/* TesterPresent with suppressPosRspMsgIndicationBit, addressed as the
 * recording did (ISO 14229-1:2020 10.7). */
static void tester_present_if_due(run *r)
{
    if (!r->tp_on || uf_channel_now(ch(r)) - r->last_sent < r->tp_interval)
        return;
    static const uint8_t tp[] = {0x3E, 0x80};
    bool functional = r->s->tester_present_functional &&
                      (r->s->link.doip ? r->s->link.functional_la : r->s->link.functional_id);
    if (send(r, tp, sizeof(tp), functional))
        r->res->tester_presents++;
}

/* `until`, or earlier when tester present falls due before it. */
static uf_time wake_by(const run *r, uf_time until)
{
    uf_time due = r->last_sent + r->tp_interval;
    return r->tp_on && due < until ? due : until;
}

/* Waits for the answer to service `sid` (block counter `block` for
 * TransferData, -1 else) until the deadline, following 0x78. */
static answer await(run *r, uint8_t sid, int block, bool quiet_timeout)
{
    uf_time deadline = uf_channel_now(ch(r)) + r->p2;
    bool pending = false;
    for (;;) {
        uf_channel_msg m;
        int got = uf_channel_recv(ch(r), &m, wake_by(r, deadline), &r->err);
        if (got < 0)
            return ANSWER_LINK_LOST;
        if (got == 0) {
            if (uf_channel_now(ch(r)) >= deadline) {
                if (!quiet_timeout)
                    uf_error_set(&r->err, "no answer within %s (%.0f ms)",
                                 pending ? "P2* after a response pending" : "P2",
                                 (double)(pending ? r->p2star : r->p2) / 1e6);
                return ANSWER_NONE;
            }
            tester_present_if_due(r);
            continue;
        }
        if (m.len >= 3 && m.data[0] == 0x7F && m.data[1] == sid) {
            if (m.data[2] == 0x78) { /* requestCorrectlyReceivedResponsePending */
                pending = true;
                r->res->pending++;
                deadline = uf_channel_now(ch(r)) + r->p2star;
                continue;
            }
            g_byte_array_set_size(r->resp, 0);
            g_byte_array_append(r->resp, m.data, (guint)m.len);
            return ANSWER_NEGATIVE;
        }
        if (m.len >= 1 && m.data[0] == (uint8_t)(sid + 0x40)) {
            if (block >= 0 && (m.len < 2 || m.data[1] != block)) {
                say(r, "an answer for block counter 0x%02X came late; ignored",
                    m.len >= 2 ? m.data[1] : 0);
                continue;
            }
            g_byte_array_set_size(r->resp, 0);
            g_byte_array_append(r->resp, m.data, (guint)m.len);
            return ANSWER_POSITIVE;
        }
        /* Someone else's answer, a stale one, a TesterPresent answer. */
    }
}

static answer exchange(run *r, const uint8_t *req, size_t n, bool functional, bool expect_answer,
                       int block)
{
    if (!send(r, req, n, functional))
        return ANSWER_LINK_LOST;
    r->res->requests++;
    return await(r, req[0], block, !expect_answer);
}

/* Lets time pass, dropping what comes, sending tester present. */
static bool pause_for(run *r, uf_time d)
{
    uf_time until = uf_channel_now(ch(r)) + d;
    while (uf_channel_now(ch(r)) < until) {
        uf_channel_msg m;
        int got = uf_channel_recv(ch(r), &m, wake_by(r, until), &r->err);
        if (got < 0)
            return false;
        tester_present_if_due(r);
    }
    return true;
}

static bool pause_for(run *r, uf_time d);

static bool reconnect(run *r, int step)
{
    if (!r->o->reconnect) {
        /* A CAN interface stays: a controller that went bus-off restarts
         * by itself (restart-ms); the retry comes after a P2. */
        say(r, "%s: the link failed (%s); trying it again in %.0f ms", ch(r)->name, r->err.msg,
            (double)r->p2 / 1e6);
        if (!pause_for(r, r->p2)) {
            finish(r, UF_REPLAY_FAILED, step, "%s: the link is lost: %s", ch(r)->name,
                   r->err.msg);
            return false;
        }
        return true;
    }
    say(r, "%s: the link is lost (%s); reconnecting", ch(r)->name, r->err.msg);
    uf_channel *fresh = r->o->reconnect(r->o->reconnect_ctx, &r->err);
    if (!fresh) {
        finish(r, UF_REPLAY_FAILED, step, "the link is lost and reconnecting failed: %s",
               r->err.msg);
        return false;
    }
    uf_channel_free(*r->ch);
    *r->ch = fresh;
    r->res->reconnects++;
    r->last_sent = uf_channel_now(fresh);
    return true;
}

/* ---- identification -------------------------------------------------------------*/

static bool is_identity(const run *r, uint16_t did)
{
    const uint16_t *ids = r->o->identify ? r->o->identify : default_identify;
    size_t n = r->o->identify ? r->o->n_identify : UF_ARRAY_LEN(default_identify);
    for (size_t i = 0; i < n; i++)
        if (ids[i] == did)
            return true;
    return false;
}

static bool identity_seen(const run *r, uint16_t did)
{
    for (guint i = 0; i < r->identity_seen->len; i++)
        if (g_array_index(r->identity_seen, uint16_t, i) == did)
            return true;
    return false;
}

/* A single-DID read of an identification DID with a positive recording. */
static bool identity_step(const run *r, const uf_script_step *st, uint16_t *did)
{
    if (st->download || st->request_len != 3 || st->request[0] != 0x22 ||
        st->expect != UF_EXPECT_POSITIVE)
        return false;
    *did = uf_load_be16(st->request + 1);
    return is_identity(r, *did);
}

/* The live value of the DID against the recorded answer. */
static bool compare_identity(run *r, int step, uint16_t did, const uint8_t *rec, size_t rec_len)
{
    r->res->identity_checked++;
    uint16_t keep = did;
    g_array_append_val(r->identity_seen, keep);
    const uint8_t *live = r->resp->data;
    size_t live_len = r->resp->len;
    if (live_len == rec_len && memcmp(live, rec, rec_len) == 0) {
        say(r, "identification DID 0x%04X is the recorded one", did);
        return true;
    }
    char a[80], b[80];
    size_t la = live_len > 3 ? live_len - 3 : 0, lb = rec_len > 3 ? rec_len - 3 : 0;
    snprintf(a, sizeof(a), "%.*s", (int)(la < 60 ? la : 60), (const char *)live + 3);
    snprintf(b, sizeof(b), "%.*s", (int)(lb < 60 ? lb : 60), (const char *)rec + 3);
    for (char *p = a; *p; p++)
        if (!g_ascii_isprint(*p))
            *p = '.';
    for (char *p = b; *p; p++)
        if (!g_ascii_isprint(*p))
            *p = '.';
    if (r->o->force) {
        say(r, "identification DID 0x%04X is \"%s\", the recording's \"%s\": flashing anyway "
               "(--force)", did, a, b);
        return true;
    }
    finish(r, UF_REPLAY_REFUSED, step,
           "a different ECU: DID 0x%04X reads \"%s\", the golden session's ECU had \"%s\"; "
           "nothing was erased (--force flashes it all the same)", did, a, b);
    return false;
}

/* Before the first erase: every identification DID the golden session
 * read, read now if it was not on the way. */
static bool check_identity(run *r, int step)
{
    r->identity_done = true;
    for (guint i = 0; i < r->s->steps->len; i++) {
        const uf_script_step *st = uf_script_step_at(r->s, i);
        uint16_t did;
        if (!identity_step(r, st, &did) || identity_seen(r, did))
            continue;
        answer a = exchange(r, st->request, st->request_len, false, true, -1);
        if (a == ANSWER_LINK_LOST || a == ANSWER_NONE) {
            finish(r, UF_REPLAY_FAILED, step, "reading identification DID 0x%04X: %s", did,
                   r->err.msg);
            return false;
        }
        if (!compare_identity(r, step, did, st->response, st->response_len))
            return false;
    }
    return true;
}

static bool starts_erasing(const uf_script_step *st)
{
    if (st->download)
        return true;
    return (st->request_len >= 4 && st->request[0] == 0x31 && st->request[1] == 0x01 &&
            uf_load_be16(st->request + 2) == 0xFF00) ||
           (st->request_len >= 1 && st->request[0] == 0x34);
}

/* ---- request steps ---------------------------------------------------------------*/

/* What the answer changes: the session's timing, tester present, the
 * seed, the block length. */
static void learn(run *r, const uint8_t *req, size_t n)
{
    const uint8_t *p = r->resp->data;
    size_t len = r->resp->len;
    if (len < 1 || p[0] == 0x7F)
        return;
    switch (req[0]) {
    case 0x10:
        if (len >= 6) { /* ISO 14229-1:2020 10.2.2.2: P2, P2* / 10 ms */
            r->p2 = (uf_time)uf_load_be16(p + 2) * UF_NS_PER_MS + r->o->margin;
            r->p2star = (uf_time)uf_load_be16(p + 4) * 10 * UF_NS_PER_MS + r->o->margin;
        }
        r->tp_on = n >= 2 && (req[1] & 0x7F) != 0x01;
        break;
    case 0x11:
        r->tp_on = false;
        r->after_reset = true;
        break;
    case 0x27:
        if (n >= 2 && (req[1] & 1)) {
            r->seed_len = len - 2 < sizeof(r->seed) ? len - 2 : sizeof(r->seed);
            memcpy(r->seed, p + 2, r->seed_len);
            r->seed_zero = true;
            for (size_t i = 0; i < r->seed_len; i++)
                r->seed_zero &= r->seed[i] == 0;
        }
        break;
    case 0x34: {
        /* lengthFormatIdentifier: the high nibble gives the bytes of
         * maxNumberOfBlockLength (15.2.3). */
        unsigned nb = len >= 2 ? p[1] >> 4 : 0;
        uint32_t max = 0;
        for (unsigned i = 0; i < nb && 2 + i < len && i < 4; i++)
            max = max << 8 | p[2 + i];
        r->max_block = max;
        r->res->max_block = max;
        break;
    }
    case 0x37:
        r->transfer_exited = true;
        break;
    default:
        break;
    }
}

/* The live seed is the one the golden ECU sent before this sendKey: then
 * the recorded key is the right one, whatever the algorithm (a recorded
 * ECU, a bench ECU with a fixed seed). */
static bool seed_as_recorded(const run *r, int step, uint8_t request_seed)
{
    for (int i = step - 1; i >= 0; i--) {
        const uf_script_step *st = uf_script_step_at(r->s, (guint)i);
        if (!st->request || st->request[0] != 0x27 || st->request_len < 2 ||
            (st->request[1] & 0x7F) != request_seed)
            continue;
        return st->response && st->response_len >= 2 && st->response[0] == 0x67 &&
               st->response_len - 2 == r->seed_len &&
               memcmp(st->response + 2, r->seed, r->seed_len) == 0;
    }
    return false;
}

/* The request to send: the recorded one, or for sendKey the key of the
 * live seed. 0: skip the step (the ECU was already unlocked). */
static size_t build_request(run *r, int step, const uf_script_step *st, uint8_t *out, size_t cap)
{
    if (st->request[0] != 0x27 || st->request_len < 2 || (st->request[1] & 1)) {
        memcpy(out, st->request, st->request_len);
        return st->request_len;
    }
    uint8_t level = (uint8_t)((st->request[1] & 0x7F) - 1);
    if (r->seed_len && r->seed_zero) {
        say(r, "the ECU sent a zero seed: level 0x%02X is unlocked already, no key sent", level);
        return 0;
    }
    if (!r->o->keys && r->seed_len && seed_as_recorded(r, step, level)) {
        say(r, "the live seed of level 0x%02X is the recorded one: the recorded key goes out",
            level);
        memcpy(out, st->request, st->request_len);
        return st->request_len;
    }
    if (!r->o->keys) {
        finish(r, UF_REPLAY_FAILED, step, "the golden session unlocks security level 0x%02X: "
               "give --seedkey LIB or --seedkey-cmd CMD to compute the key", level);
        return (size_t)-1;
    }
    if (!r->seed_len) {
        finish(r, UF_REPLAY_FAILED, step, "sendKey without a seed before it");
        return (size_t)-1;
    }
    out[0] = 0x27;
    out[1] = st->request[1];
    size_t key_len = 0;
    if (!uf_key_source_compute(r->o->keys, level, r->seed, r->seed_len, out + 2, cap - 2,
                               &key_len, &r->err)) {
        finish(r, UF_REPLAY_FAILED, step, "computing the key: %s", r->err.msg);
        return (size_t)-1;
    }
    return 2 + key_len;
}

static bool request_step(run *r, int step)
{
    const uf_script_step *st = uf_script_step_at(r->s, (guint)step);
    uint8_t req[2 + 512];
    const uint8_t *q = req;
    size_t n;
    if (st->request[0] == 0x27) {
        n = build_request(r, step, st, req, sizeof(req));
        if (n == (size_t)-1)
            return false;
        if (n == 0)
            return true;
    } else {
        q = st->request;
        n = st->request_len;
    }
    char what[200];
    uf_script_step_describe(st, what, sizeof(what));
    bool want = st->expect != UF_EXPECT_NOTHING;
    answer a;
    uf_time give_up = uf_channel_now(ch(r)) + BOOT_WAIT;
    for (;;) {
        a = exchange(r, q, n, st->functional, want, -1);
        /* After a reset, the ECU answers once it has booted. */
        if (a == ANSWER_NONE && want && r->after_reset && uf_channel_now(ch(r)) < give_up) {
            pause_for(r, BOOT_RETRY);
            continue;
        }
        break;
    }
    r->after_reset = false;
    if (a == ANSWER_LINK_LOST) {
        finish(r, UF_REPLAY_FAILED, step, "%s: %s: %s", ch(r)->name, what, r->err.msg);
        return false;
    }
    if (!want) {
        /* A suppressed session change or reset still changes the ECU. */
        if (q[0] == 0x10 && n >= 2)
            r->tp_on = (q[1] & 0x7F) != 0x01;
        if (q[0] == 0x11) {
            r->tp_on = false;
            r->after_reset = true;
        }
        return true;
    }
    if (a == ANSWER_NONE) {
        finish(r, UF_REPLAY_FAILED, step, "%s: %s: %s", ch(r)->name, what, r->err.msg);
        return false;
    }
    learn(r, q, n);
    char why[200];
    const char *diff = uf_replay_compare(st->response, st->response_len, r->resp->data,
                                         r->resp->len, why, sizeof(why));
    if (diff) {
        r->res->mismatches++;
        if (!r->o->continue_on_mismatch) {
            finish(r, UF_REPLAY_FAILED, step, "%s: %s %s", ch(r)->name, what, diff);
            return false;
        }
        say(r, "%s %s; going on (--on-mismatch continue)", what, diff);
    }
    uint16_t did;
    if (identity_step(r, st, &did) && a == ANSWER_POSITIVE &&
        !compare_identity(r, step, did, st->response, st->response_len))
        return false;
    /* A check routine after the download: the ECU confirms the image. */
    if (st->request[0] == 0x31 && n >= 4 && st->request[1] == 0x01 && r->transfer_exited &&
        a == ANSWER_POSITIVE && !diff) {
        r->res->check_confirmed = true;
        snprintf(r->res->message, sizeof(r->res->message), "the ECU confirmed routine 0x%04X",
                 uf_load_be16(st->request + 2));
    }
    return true;
}

/* ---- transfer ---------------------------------------------------------------------*/

/* Restart: session and key again, the erases before this download, its
 * RequestDownload, then the blocks from 1. */
static bool restart_download(run *r, int transfer_step)
{
    int k34 = -1, session = -1, from;
    for (int i = transfer_step - 1; i >= 0; i--) {
        const uf_script_step *st = uf_script_step_at(r->s, (guint)i);
        if (k34 < 0 && !st->download && st->request[0] == 0x34)
            k34 = i;
        if (k34 >= 0 && !st->download && st->request[0] == 0x10 && st->request_len >= 2 &&
            (st->request[1] & 0x7F) == 0x02) {
            session = i;
            break;
        }
    }
    if (k34 < 0 || session < 0) {
        finish(r, UF_REPLAY_FAILED, transfer_step, "cannot restart: the script has no "
               "programming session entry and RequestDownload before the transfer");
        return false;
    }
    /* The erases between the previous transfer (or the session entry) and
     * this download's RequestDownload. */
    from = session;
    for (int i = session + 1; i < k34; i++)
        if (uf_script_step_at(r->s, (guint)i)->download)
            from = i;
    /* Entering the programming session again from itself may keep the
     * broken download open (ISO 14229-1:2020 10.2.1 leaves it to the
     * server); through the session the golden tester came from, it ends. */
    int before = -1;
    for (int i = session - 1; i >= 0 && before < 0; i--) {
        const uf_script_step *st = uf_script_step_at(r->s, (guint)i);
        if (!st->download && st->request[0] == 0x10 && st->request_len >= 2 &&
            (st->request[1] & 0x7F) != 0x02 && (st->request[1] & 0x7F) != 0x01)
            before = i;
    }
    say(r, "restarting download %u from the programming session",
        uf_script_step_at(r->s, (guint)transfer_step)->download);
    if (before >= 0 && !request_step(r, before))
        return false;
    for (int i = session; i <= k34; i++) {
        const uf_script_step *st = uf_script_step_at(r->s, (guint)i);
        /* SecurityAccess, and the fingerprint some bootloaders want before
         * an erase (WriteDataByIdentifier: the same value again). */
        bool wanted = i == session || i == k34 ||
                      (!st->download && (st->request[0] == 0x27 || st->request[0] == 0x2E)) ||
                      (i > from && starts_erasing(st));
        if (wanted && !st->download && !request_step(r, i))
            return false;
    }
    return true;
}

static bool recoverable(answer a, const uint8_t *p, size_t n)
{
    if (a == ANSWER_NONE || a == ANSWER_LINK_LOST)
        return true;
    /* transferDataSuspended, generalProgrammingFailure, wrongBlockSequenceCounter. */
    return a == ANSWER_NEGATIVE && n >= 3 && (p[2] == 0x71 || p[2] == 0x72 || p[2] == 0x73);
}

static bool transfer_step(run *r, int step)
{
    const uf_script_step *st = uf_script_step_at(r->s, (guint)step);
    const uf_script_download *d = uf_script_download_at(r->s, st->download);
    uint32_t attempts = 0;
    uint64_t base = r->done_bytes;
    /* Only a check after this download's exit confirms it. */
    r->transfer_exited = false;
    r->res->check_confirmed = false;
again:
    if (r->max_block < 3) {
        finish(r, UF_REPLAY_FAILED, step, "%s: RequestDownload was answered without a usable "
               "maxNumberOfBlockLength", ch(r)->name);
        return false;
    }
    uint32_t chunk = r->max_block - 2;
    if (chunk > UF_SCRIPT_MESSAGE_MAX)
        chunk = UF_SCRIPT_MESSAGE_MAX;
    uint8_t *block = g_malloc(chunk + 2);
    uint8_t counter = 1;
    uint32_t repeats_here = 0;
    r->done_bytes = base;
    for (uint64_t off = 0; off < d->size;) {
        uint32_t n = d->size - off < chunk ? (uint32_t)(d->size - off) : chunk;
        block[0] = 0x36;
        block[1] = counter;
        memcpy(block + 2, d->image + off, n);
        uf_time sent = uf_channel_now(ch(r));
        answer a = exchange(r, block, n + 2, false, true, counter);
        r->res->transfer_time += uf_channel_now(ch(r)) - sent;
        if (a == ANSWER_POSITIVE) {
            off += n;
            counter++; /* 0xFF wraps to 0x00 */
            r->res->blocks++;
            r->res->bytes += n;
            r->done_bytes = base + off;
            repeats_here = 0;
            progress(r, st);
            continue;
        }
        char why[160];
        if (a == ANSWER_NEGATIVE) {
            uint8_t nrc = r->resp->len >= 3 ? r->resp->data[2] : 0;
            const char *name = uf_uds_nrc_name(nrc);
            snprintf(why, sizeof(why), "NRC 0x%02X %s", nrc, name ? name : "");
        } else {
            g_strlcpy(why, r->err.msg, sizeof(why));
        }
        bool can = recoverable(a, r->resp->data, r->resp->len) && r->o->recovery != UF_RECOVERY_NONE;
        if (can && r->o->recovery == UF_RECOVERY_REPEAT && repeats_here < r->o->retries) {
            repeats_here++;
            r->res->repeats++;
            say(r, "block %u (counter 0x%02X): %s; sending it again with the same counter "
                   "(%u of %u)", r->res->blocks + 1, counter, why, repeats_here, r->o->retries);
            if (a == ANSWER_LINK_LOST && !reconnect(r, step)) {
                g_free(block);
                return false;
            }
            continue;
        }
        if (can && attempts < r->o->retries &&
            (r->o->recovery == UF_RECOVERY_RESTART || r->o->recovery == UF_RECOVERY_REPEAT)) {
            /* Repeating did not help (or the policy is restart): from 0x34. */
            attempts++;
            r->res->restarts++;
            say(r, "block at offset %" G_GUINT64_FORMAT ": %s; restarting the download (%u of %u)",
                off, why, attempts, r->o->retries);
            g_free(block);
            if (a == ANSWER_LINK_LOST && !reconnect(r, step))
                return false;
            if (!restart_download(r, step))
                return false;
            goto again;
        }
        finish(r, UF_REPLAY_FAILED, step, "%s: TransferData block %u (counter 0x%02X) of "
               "download %u: %s%s", ch(r)->name, r->res->blocks + 1, counter, d->index, why,
               can ? "; the recovery policy is exhausted" : "");
        g_free(block);
        return false;
    }
    g_free(block);
    return true;
}

/* ---- the run --------------------------------------------------------------------*/

bool uf_replay_run(uf_channel **chp, const uf_script *s, const uf_replay_options *o,
                   uf_replay_result *res)
{
    memset(res, 0, sizeof(*res));
    res->failed_step = -1;
    run r = {.ch = chp, .s = s, .o = o, .res = res};
    r.p2 = (s->p2 ? s->p2 : 50 * UF_NS_PER_MS) + o->margin;
    r.p2star = (s->p2star ? s->p2star : 5000 * UF_NS_PER_MS) + o->margin;
    r.tp_interval = s->tester_present_interval ? s->tester_present_interval
                                               : TESTER_PRESENT_DEFAULT;
    /* An edited script cannot make the keep-alive flood the bus. */
    if (r.tp_interval < TESTER_PRESENT_MIN)
        r.tp_interval = TESTER_PRESENT_MIN;
    r.identity_seen = g_array_new(FALSE, FALSE, sizeof(uint16_t));
    r.resp = g_byte_array_new();
    for (guint i = 0; i < s->downloads->len; i++)
        res->total_bytes += g_array_index(s->downloads, uf_script_download, i).size;
    res->started = uf_channel_now(*chp);
    r.last_sent = res->started;
    bool ok = true;
    for (guint i = 0; ok && i < s->steps->len; i++) {
        const uf_script_step *st = uf_script_step_at(s, i);
        progress(&r, st);
        if (st->delay > 0 && (o->recorded_delays || r.after_reset))
            if (!pause_for(&r, st->delay)) {
                finish(&r, UF_REPLAY_FAILED, (int)i, "%s: %s", ch(&r)->name, r.err.msg);
                ok = false;
                break;
            }
        if (!r.identity_done && starts_erasing(st)) {
            ok = check_identity(&r, (int)i);
            if (!ok)
                break;
            res->touched = true;
        }
        if (st->download) {
            ok = transfer_step(&r, (int)i);
        } else {
            if (st->request[0] == 0x31 && st->request_len >= 2 && st->request[1] == 0x01 &&
                r.transfer_exited)
                res->check_confirmed = false; /* the last check decides */
            ok = request_step(&r, (int)i);
        }
        if (ok)
            res->steps_done++;
    }
    res->ended = uf_channel_now(*chp);
    if (ok) {
        if (res->check_confirmed) {
            res->verdict = UF_REPLAY_SUCCESS;
        } else {
            res->verdict = UF_REPLAY_UNCONFIRMED;
            snprintf(res->message, sizeof(res->message),
                     "every step was replayed, but no check routine after the download "
                     "confirmed the image");
        }
    }
    g_array_free(r.identity_seen, TRUE);
    g_byte_array_free(r.resp, TRUE);
    return res->verdict == UF_REPLAY_SUCCESS;
}
