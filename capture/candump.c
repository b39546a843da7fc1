/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * candump (can-utils) text: the log format of `candump -l` and the console
 * output of plain `candump`. Examples, which double as test vectors:
 *
 *   (1436509052.249713) can0 7E0#0210030000000000      classic, 11-bit
 *   (1436509052.249713) can0 18DA10F1#021003           29-bit (8 hex digits)
 *   (1436509052.249713) can0 7E0#R / 7E0#R3            remote frame, length 3
 *   (1436509052.249713) can0 7E0##3021003              FD, flags nibble 3 (BRS|ESI)
 *   (1436509052.249713) can0 7E0#1122334455667788_C    classic with len8_dlc 12
 *   (1436509052.249713) can0 20000080#0000000000000000 error frame (CAN_ERR_FLAG)
 *   (1436509052.249713) can0 7E0#021003 T              with direction suffix
 *     can0  7E0   [8]  02 10 03 00 00 00 00 00         console, no timestamp
 *     can0  7E0  [12]  02 10 ...                       console, CAN FD
 *   (1436509052.249713)  can0  7E0   [3]  02 10 03     console with -ta
 *     can0  7E0   [3]  remote request                  console RTR
 */
#include "lexer.h"
#include "uf_capture.h"

#include <ctype.h>
#include <string.h>

#define CAN_ERR_FLAG 0x20000000u

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* "(1436509052.249713)" -> ns. */
static bool parse_timestamp(const char *s, size_t n, uf_time *out)
{
    return n >= 3 && s[0] == '(' && s[n - 1] == ')' && lex_seconds(s + 1, n - 2, out);
}

/* Hex id of 3 (11-bit) or 8 (29-bit, or error frame) digits. */
static bool parse_id(const char *s, size_t n, uf_can_frame *f)
{
    if (n != 3 && n != 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    if (n == 3) {
        if (v > UF_CAN_SFF_MASK)
            return false;
        f->id = v;
    } else if (v & CAN_ERR_FLAG) {
        f->flags |= UF_CAN_ERR;
        f->id = v & UF_CAN_EFF_MASK;
    } else {
        if (v > UF_CAN_EFF_MASK)
            return false;
        f->flags |= UF_CAN_EFF;
        f->id = v;
    }
    return true;
}

/* The part after the id in log format: "#R3", "#0210", "##3021003", "#11.22". */
static uf_line_result parse_log_payload(const char *s, size_t n, uf_can_frame *f, const char **why)
{
    size_t i = 1; /* s[0] == '#' */
    size_t max = 8;
    if (i < n && s[i] == '#') {
        int flags = i + 1 < n ? hexval(s[i + 1]) : -1;
        if (flags < 0) {
            *why = "CAN FD frame without its flags nibble after \"##\"";
            return UF_LINE_BAD;
        }
        f->flags |= UF_CAN_FD;
        if (flags & 1)
            f->flags |= UF_CAN_BRS;
        if (flags & 2)
            f->flags |= UF_CAN_ESI;
        i += 2;
        max = 64;
    } else if (i < n && (s[i] == 'R' || s[i] == 'r')) {
        f->flags |= UF_CAN_RTR;
        f->len = 0;
        if (i + 1 < n) {
            int l = hexval(s[i + 1]);
            if (l < 0 || l > 8 || i + 2 != n) {
                *why = "remote frame length is not a digit 0..8";
                return UF_LINE_BAD;
            }
            f->len = (uint8_t)l;
        }
        return UF_LINE_FRAME;
    }
    while (i < n) {
        if (s[i] == '.') { /* optional separator between bytes */
            i++;
            continue;
        }
        if (s[i] == '_' && !(f->flags & UF_CAN_FD)) { /* len8_dlc suffix */
            if (i + 2 != n || hexval(s[i + 1]) < 9 || f->len != 8) {
                *why = "bad \"_<dlc>\" suffix (needs 8 data bytes and a DLC 9..F)";
                return UF_LINE_BAD;
            }
            return UF_LINE_FRAME;
        }
        int hi = hexval(s[i]), lo = i + 1 < n ? hexval(s[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            *why = "data is not pairs of hex digits";
            return UF_LINE_BAD;
        }
        if (f->len >= max) {
            *why = max == 8 ? "more than 8 data bytes in a classic CAN frame"
                            : "more than 64 data bytes in a CAN FD frame";
            return UF_LINE_BAD;
        }
        f->data[f->len++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if ((f->flags & UF_CAN_FD) && !uf_can_len_is_valid_fd(f->len)) {
        *why = "CAN FD data length that no DLC encodes";
        return UF_LINE_BAD;
    }
    return UF_LINE_FRAME;
}

static uf_line_result parse_log(lex_cursor *c, uf_candump_line *out, const char **why)
{
    const char *tok;
    size_t n = lex_token(c, &tok);
    const char *hash = memchr(tok, '#', n);
    if (!hash) {
        *why = "expected <id>#<data> after the interface name";
        return UF_LINE_BAD;
    }
    if (!parse_id(tok, (size_t)(hash - tok), &out->frame)) {
        *why = "CAN id is not 3 or 8 hex digits";
        return UF_LINE_BAD;
    }
    uf_line_result r = parse_log_payload(hash, n - (size_t)(hash - tok), &out->frame, why);
    if (r != UF_LINE_FRAME)
        return r;
    /* Optional direction suffix written by newer can-utils. */
    n = lex_token(c, &tok);
    if (n == 1 && (tok[0] == 'T' || tok[0] == 'R'))
        out->frame.flags |= tok[0] == 'T' ? UF_CAN_DIR_TX : UF_CAN_DIR_RX;
    else if (n != 0) {
        *why = "unexpected text after the frame";
        return UF_LINE_BAD;
    }
    return UF_LINE_FRAME;
}

static uf_line_result parse_console(lex_cursor *c, uf_candump_line *out, const char **why)
{
    const char *tok;
    size_t n = lex_token(c, &tok);
    /* candump -x inserts "TX|RX" and two flag columns before the id. */
    if (n == 2 && (memcmp(tok, "TX", 2) == 0 || memcmp(tok, "RX", 2) == 0)) {
        out->frame.flags |= tok[0] == 'T' ? UF_CAN_DIR_TX : UF_CAN_DIR_RX;
        for (int k = 0; k < 2; k++) {
            n = lex_token(c, &tok);
            if (n == 1 && tok[0] == 'B')
                out->frame.flags |= UF_CAN_BRS;
            else if (n == 1 && tok[0] == 'E')
                out->frame.flags |= UF_CAN_ESI;
        }
        n = lex_token(c, &tok);
    }
    if (!parse_id(tok, n, &out->frame)) {
        *why = "CAN id is not 3 or 8 hex digits";
        return UF_LINE_BAD;
    }
    n = lex_token(c, &tok);
    if (n < 3 || tok[0] != '[' || tok[n - 1] != ']') {
        *why = "expected the length in brackets, \"[8]\"";
        return UF_LINE_BAD;
    }
    unsigned len = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!isdigit((unsigned char)tok[i]) || len > 64) {
            *why = "length in brackets is not a number";
            return UF_LINE_BAD;
        }
        len = len * 10 + (unsigned)(tok[i] - '0');
    }
    /* Two-digit lengths ("[08]", "[64]") are how candump prints CAN FD. */
    bool fd = n == 4 || len > 8 || (out->frame.flags & (UF_CAN_BRS | UF_CAN_ESI));
    if (len > 64 || (!fd && len > 8) || (fd && !uf_can_len_is_valid_fd((uint8_t)len))) {
        *why = "length in brackets is not a valid CAN / CAN FD length";
        return UF_LINE_BAD;
    }
    if (fd)
        out->frame.flags |= UF_CAN_FD;
    lex_skip_space(c);
    if ((size_t)(c->end - c->p) >= 14 && memcmp(c->p, "remote request", 14) == 0) {
        out->frame.flags |= UF_CAN_RTR;
        out->frame.len = (uint8_t)len;
        return UF_LINE_FRAME;
    }
    for (unsigned i = 0; i < len; i++) {
        n = lex_token(c, &tok);
        int hi = n == 2 ? hexval(tok[0]) : -1, lo = n == 2 ? hexval(tok[1]) : -1;
        if (hi < 0 || lo < 0) {
            *why = "fewer data bytes than the length in brackets";
            return UF_LINE_BAD;
        }
        out->frame.data[i] = (uint8_t)(hi << 4 | lo);
    }
    out->frame.len = (uint8_t)len;
    /* What follows (candump -a ASCII column, "ERRORFRAME") is commentary. */
    return UF_LINE_FRAME;
}

uf_line_result uf_candump_parse_line(const char *line, size_t len, uf_candump_line *out,
                                     const char **why)
{
    memset(out, 0, sizeof(*out));
    out->time = UF_TIME_NONE;
    lex_cursor c = lex_line(line, len);
    lex_skip_space(&c);
    if (c.p == c.end)
        return UF_LINE_IGNORED;
    /* Lines under an ERRORFRAME in console output start with a tab and
     * describe the error class; they carry no frame. */
    if (line[0] == '\t')
        return UF_LINE_IGNORED;

    const char *tok;
    size_t n;
    bool had_time = false;
    if (*c.p == '(') {
        n = lex_token(&c, &tok);
        if (!parse_timestamp(tok, n, &out->time)) {
            *why = "timestamp is not \"(seconds.fraction)\"";
            return UF_LINE_BAD;
        }
        had_time = true;
    }
    n = lex_token(&c, &tok);
    if (n == 0) {
        *why = "missing interface name";
        return UF_LINE_BAD;
    }
    memcpy(out->iface, tok, n < sizeof(out->iface) ? n : sizeof(out->iface) - 1);

    /* Log format: the next token holds a '#'. */
    lex_cursor peek = c;
    n = lex_token(&peek, &tok);
    if (n > 0 && memchr(tok, '#', n))
        return had_time ? parse_log(&c, out, why)
                        : (*why = "log line without its \"(timestamp)\"", UF_LINE_BAD);
    return parse_console(&c, out, why);
}
