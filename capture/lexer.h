/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the text-format line parsers (candump, ASC, Busmaster) share: a
 * cursor over one line that never reads past its end, whitespace-separated
 * tokens, bounded number parsing, and calendar arithmetic for header dates.
 */
#ifndef UF_LEXER_H
#define UF_LEXER_H

#include "uf_common.h"

typedef struct lex_cursor {
    const char *p, *end;
} lex_cursor;

/* A cursor over line[0..len) without its trailing newline / carriage return. */
lex_cursor lex_line(const char *line, size_t len);
void lex_skip_space(lex_cursor *c);
/* The next run of non-blank characters (length 0 at the end). */
size_t lex_token(lex_cursor *c, const char **start);
bool lex_token_is(const char *t, size_t n, const char *word); /* case-insensitive */
/* Digits in base 10 or 16, at most `max`; false on anything else. */
bool lex_number(const char *t, size_t n, unsigned base, uint64_t max, uint64_t *out);
/* "1436509052.249713" seconds (up to 9 fraction digits kept) -> ns. */
bool lex_seconds(const char *t, size_t n, uf_time *out);
/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
int64_t lex_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif /* UF_LEXER_H */
