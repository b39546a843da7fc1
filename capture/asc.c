/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Vector ASC (CANoe / CANalyzer ASCII logging). Examples, used as tests:
 *
 *   date Wed Jun 15 10:13:46.000 am 2022
 *   base hex  timestamps absolute            or "base dec", "timestamps relative"
 *   Begin Triggerblock Wed Jun 15 10:13:46.000 am 2022
 *      0.000000 Start of measurement
 *      0.010200 1  7E0             Rx   d 8 02 10 03 00 00 00 00 00  Length = 227910 BitCount = 118 ID = 2016
 *      0.010400 2  18DA10F1x       Tx   d 3 02 10 03
 *      0.010500 1  7E0             Rx   r 8                  remote frame
 *      0.010600 1  ErrorFrame
 *      0.020000 CANFD   1 Rx  7e8  EngineData  1 0 d 12 02 50 ... 130000 130 1000 0 0 0 0 0
 *   End TriggerBlock
 *
 * In a CANFD line the fields after the id are: optional symbolic name, BRS,
 * ESI, DLC (hex), data length (decimal), data, then timing details we skip.
 * The "date" line is read as UTC: ASC stores local time without a zone.
 */
#include "lexer.h"
#include "uf_capture.h"

#include <ctype.h>
#include <string.h>

static bool parse_uint(const char *t, size_t n, unsigned base, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!lex_number(t, n, base, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool month_of(const char *t, size_t n, unsigned *month)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
    if (n < 3)
        return false;
    for (unsigned i = 0; i < 12; i++) {
        if (tolower((unsigned char)t[0]) == names[i][0] &&
            tolower((unsigned char)t[1]) == names[i][1] &&
            tolower((unsigned char)t[2]) == names[i][2]) {
            *month = i + 1;
            return true;
        }
    }
    return false;
}

/* "Wed Jun 15 10:13:46.000 am 2022" (weekday, milliseconds, am/pm optional). */
static bool parse_date(lex_cursor *c, uf_time *out)
{
    const char *t;
    size_t n = lex_token(c, &t);
    unsigned month = 0;
    if (!month_of(t, n, &month)) { /* first token was the weekday */
        n = lex_token(c, &t);
        if (!month_of(t, n, &month))
            return false;
    }
    uint32_t day, hh, mm, ss, ms = 0, year;
    n = lex_token(c, &t);
    if (!parse_uint(t, n, 10, 31, &day) || day == 0)
        return false;
    n = lex_token(c, &t);
    /* hh:mm:ss[.mmm] */
    const char *colon1 = memchr(t, ':', n);
    const char *colon2 = colon1 ? memchr(colon1 + 1, ':', (size_t)(t + n - colon1 - 1)) : NULL;
    if (!colon2)
        return false;
    const char *dot = memchr(colon2, '.', (size_t)(t + n - colon2));
    const char *sec_end = dot ? dot : t + n;
    if (!parse_uint(t, (size_t)(colon1 - t), 10, 23, &hh) ||
        !parse_uint(colon1 + 1, (size_t)(colon2 - colon1 - 1), 10, 59, &mm) ||
        !parse_uint(colon2 + 1, (size_t)(sec_end - colon2 - 1), 10, 60, &ss))
        return false;
    if (dot && !parse_uint(dot + 1, (size_t)(t + n - dot - 1), 10, 999, &ms))
        return false;
    n = lex_token(c, &t);
    if (lex_token_is(t, n, "am") || lex_token_is(t, n, "pm")) {
        if (hh == 12)
            hh = 0;
        if (lex_token_is(t, n, "pm"))
            hh += 12;
        n = lex_token(c, &t);
    }
    if (!parse_uint(t, n, 10, 2261, &year) || year < 1970)
        return false; /* uf_time ends in 2262 */
    int64_t days = lex_days_from_civil(year, month, day);
    *out = ((days * 86400 + hh * 3600 + mm * 60 + ss) * 1000 + ms) * UF_NS_PER_MS;
    return true;
}

void uf_asc_init(uf_asc_state *st)
{
    memset(st, 0, sizeof(*st));
}

/* Header lines that change how later lines read: "date ..." and
 * "base hex  timestamps absolute". */
static void parse_header(uf_asc_state *st, const char *t, size_t n, lex_cursor *c)
{
    if (lex_token_is(t, n, "date")) {
        uf_time start;
        if (parse_date(c, &start))
            st->start = start;
        return;
    }
    if (lex_token_is(t, n, "base")) {
        n = lex_token(c, &t);
        st->base_dec = lex_token_is(t, n, "dec");
        n = lex_token(c, &t);
        if (lex_token_is(t, n, "timestamps")) {
            n = lex_token(c, &t);
            st->relative = lex_token_is(t, n, "relative");
        }
    }
}

/* An id token: hex or decimal per "base", with an 'x' suffix for 29 bits. */
static bool parse_asc_id(const uf_asc_state *st, const char *t, size_t n, uf_can_frame *f)
{
    bool ext = n > 1 && (t[n - 1] == 'x' || t[n - 1] == 'X');
    if (ext)
        n--;
    uint32_t v;
    if (!parse_uint(t, n, st->base_dec ? 10 : 16, ext ? UF_CAN_EFF_MASK : UF_CAN_SFF_MASK, &v))
        return false;
    f->id = v;
    if (ext)
        f->flags |= UF_CAN_EFF;
    return true;
}

static bool parse_dir(const char *t, size_t n, uf_can_frame *f)
{
    if (lex_token_is(t, n, "rx")) {
        f->flags |= UF_CAN_DIR_RX;
        return true;
    }
    if (lex_token_is(t, n, "tx") || lex_token_is(t, n, "txrq")) {
        f->flags |= UF_CAN_DIR_TX;
        return true;
    }
    return false;
}

static uf_line_result parse_bytes(const uf_asc_state *st, lex_cursor *c, uf_can_frame *f,
                                  unsigned count, const char **why)
{
    for (unsigned i = 0; i < count; i++) {
        const char *t;
        size_t n = lex_token(c, &t);
        uint32_t b;
        if (!parse_uint(t, n, st->base_dec ? 10 : 16, 0xFF, &b)) {
            *why = n == 0 ? "fewer data bytes than the frame's length" : "data byte is not a number";
            return UF_LINE_BAD;
        }
        f->data[i] = (uint8_t)b;
    }
    f->len = (uint8_t)count;
    return UF_LINE_FRAME;
}

/* "<ch> <id> <dir> d <dlc> <bytes...>", "<ch> <id> <dir> r [dlc]", "<ch> ErrorFrame" */
static uf_line_result parse_classic(uf_asc_state *st, lex_cursor *c, uf_can_frame *f, const char **why)
{
    const char *t;
    size_t n = lex_token(c, &t);
    if (lex_token_is(t, n, "errorframe")) {
        f->flags |= UF_CAN_ERR;
        return UF_LINE_FRAME;
    }
    if (!parse_asc_id(st, t, n, f))
        return UF_LINE_IGNORED; /* "Statistic:", "SV:", J1939, ... */
    n = lex_token(c, &t);
    if (!parse_dir(t, n, f))
        return UF_LINE_IGNORED;
    n = lex_token(c, &t);
    if (lex_token_is(t, n, "r")) {
        f->flags |= UF_CAN_RTR;
        n = lex_token(c, &t);
        uint32_t dlc = 0;
        if (n && parse_uint(t, n, 16, 15, &dlc))
            f->len = (uint8_t)(dlc > 8 ? 8 : dlc);
        return UF_LINE_FRAME;
    }
    if (!lex_token_is(t, n, "d")) {
        *why = "expected \"d\" (data) or \"r\" (remote) after the direction";
        return UF_LINE_BAD;
    }
    n = lex_token(c, &t);
    uint32_t dlc;
    if (!parse_uint(t, n, 16, 15, &dlc)) {
        *why = "DLC is not a hex digit";
        return UF_LINE_BAD;
    }
    /* Classic CAN: DLC 9..15 still means 8 data bytes. */
    return parse_bytes(st, c, f, dlc > 8 ? 8 : dlc, why);
}

/* "CANFD <ch> <dir> <id> [name] <brs> <esi> <dlc> <len> <bytes...> ..." */
static uf_line_result parse_fd(uf_asc_state *st, lex_cursor *c, uf_can_frame *f, const char **why)
{
    const char *t;
    size_t n = lex_token(c, &t);
    uint32_t ch;
    if (!parse_uint(t, n, 10, 0xFFFF, &ch) || ch == 0) {
        *why = "CANFD channel is not a number";
        return UF_LINE_BAD;
    }
    st->channel = ch;
    n = lex_token(c, &t);
    if (!parse_dir(t, n, f))
        return UF_LINE_IGNORED;
    n = lex_token(c, &t);
    if (lex_token_is(t, n, "errorframe")) {
        f->flags |= UF_CAN_ERR | UF_CAN_FD;
        return UF_LINE_FRAME;
    }
    if (!parse_asc_id(st, t, n, f)) {
        *why = "CANFD id is not a number";
        return UF_LINE_BAD;
    }
    f->flags |= UF_CAN_FD;
    n = lex_token(c, &t);
    if (!(n == 1 && (t[0] == '0' || t[0] == '1'))) /* a symbolic name */
        n = lex_token(c, &t);
    uint32_t brs, esi, dlc, len;
    if (!parse_uint(t, n, 10, 1, &brs)) {
        *why = "CANFD BRS field is not 0 or 1";
        return UF_LINE_BAD;
    }
    n = lex_token(c, &t);
    if (!parse_uint(t, n, 10, 1, &esi)) {
        *why = "CANFD ESI field is not 0 or 1";
        return UF_LINE_BAD;
    }
    n = lex_token(c, &t);
    if (!parse_uint(t, n, 16, 15, &dlc)) {
        *why = "CANFD DLC is not a hex digit";
        return UF_LINE_BAD;
    }
    n = lex_token(c, &t);
    if (!parse_uint(t, n, 10, 64, &len) || len != uf_can_dlc_to_len((uint8_t)dlc)) {
        *why = "CANFD data length does not match its DLC";
        return UF_LINE_BAD;
    }
    if (brs)
        f->flags |= UF_CAN_BRS;
    if (esi)
        f->flags |= UF_CAN_ESI;
    return parse_bytes(st, c, f, len, why);
}

uf_line_result uf_asc_parse_line(uf_asc_state *st, const char *line, size_t len,
                                 uf_can_frame *frame, uf_time *time, const char **why)
{
    memset(frame, 0, sizeof(*frame));
    *time = UF_TIME_NONE;
    lex_cursor c = lex_line(line, len);
    const char *t;
    size_t n = lex_token(&c, &t);
    if (n == 0)
        return UF_LINE_IGNORED;
    uf_time ts;
    if (!lex_seconds(t, n, &ts)) {
        parse_header(st, t, n, &c); /* anything else untimed is commentary */
        return UF_LINE_IGNORED;
    }

    if (st->relative) {
        st->last_rel = uf_time_add(st->last_rel, ts);
        ts = st->last_rel;
    }
    *time = uf_time_add(st->start, ts);

    n = lex_token(&c, &t);
    uint32_t ch;
    if (lex_token_is(t, n, "canfd"))
        return parse_fd(st, &c, frame, why);
    if (parse_uint(t, n, 10, 0xFFFF, &ch) && ch > 0) {
        st->channel = ch;
        return parse_classic(st, &c, frame, why);
    }
    return UF_LINE_IGNORED; /* "Start of measurement", "CAN 1 Status:..." */
}
