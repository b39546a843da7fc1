/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Line lexing shared by the text-format parsers; see lexer.h.
 */
#include "lexer.h"

#include <ctype.h>
#include <string.h>

lex_cursor lex_line(const char *line, size_t len)
{
    lex_cursor c = {line, line + len};
    while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r'))
        c.end--;
    return c;
}

void lex_skip_space(lex_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

size_t lex_token(lex_cursor *c, const char **start)
{
    lex_skip_space(c);
    *start = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    return (size_t)(c->p - *start);
}

bool lex_token_is(const char *t, size_t n, const char *word)
{
    size_t w = strlen(word);
    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)t[i]) != tolower((unsigned char)word[i]))
            return false;
    return true;
}

bool lex_number(const char *t, size_t n, unsigned base, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        char ch = t[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (base == 16 && ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

bool lex_seconds(const char *t, size_t n, uf_time *out)
{
    uint64_t sec = 0, frac = 0;
    size_t i = 0, frac_digits = 0;
    while (i < n && isdigit((unsigned char)t[i])) {
        if (sec > (uint64_t)INT64_MAX / UF_NS_PER_S / 10)
            return false;
        sec = sec * 10 + (uint64_t)(t[i++] - '0');
    }
    if (i == 0)
        return false;
    if (i < n && t[i] == '.') {
        i++;
        for (; i < n && isdigit((unsigned char)t[i]); i++) {
            if (frac_digits < 9) {
                frac = frac * 10 + (uint64_t)(t[i] - '0');
                frac_digits++;
            }
        }
    }
    if (i != n)
        return false;
    for (; frac_digits < 9; frac_digits++)
        frac *= 10;
    *out = uf_time_from_parts((int64_t)sec, (int64_t)frac);
    return true;
}

int64_t lex_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}
