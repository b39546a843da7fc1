/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Error sentences and small number formatting shared by every layer.
 */
#include "uf_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void uf_error_set(uf_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

void uf_error_clear(uf_error *err)
{
    if (err)
        err->msg[0] = '\0';
}

uf_time uf_time_from_parts(int64_t sec, int64_t nsec)
{
    const int64_t max_sec = INT64_MAX / UF_NS_PER_S - 1;
    if (sec > max_sec)
        return INT64_MAX;
    if (sec < -max_sec)
        return INT64_MIN + 1; /* INT64_MIN is UF_TIME_NONE */
    return uf_time_add(sec * UF_NS_PER_S, nsec);
}

uf_time uf_time_add(uf_time a, uf_time b)
{
    if (a == UF_TIME_NONE || b == UF_TIME_NONE)
        return UF_TIME_NONE;
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN + 1 - b)
        return INT64_MIN + 1;
    return a + b;
}

uf_time uf_time_diff(uf_time a, uf_time b)
{
    if (a == UF_TIME_NONE || b == UF_TIME_NONE)
        return UF_TIME_NONE;
    return uf_time_add(a, b == INT64_MIN + 1 ? INT64_MAX : -b);
}

static const char *format_fixed(char *buf, size_t size, uf_time ns, int64_t unit, int decimals)
{
    if (ns == UF_TIME_NONE) {
        snprintf(buf, size, "-");
        return buf;
    }
    const char *sign = ns < 0 ? "-" : "";
    /* Magnitude as unsigned so INT64_MIN + 1 still prints. */
    uint64_t mag = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    uint64_t whole = mag / (uint64_t)unit;
    uint64_t frac = mag % (uint64_t)unit;
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    /* Round half up at the last printed decimal. */
    uint64_t scaled = (frac * scale + (uint64_t)unit / 2) / (uint64_t)unit;
    if (scaled >= scale) {
        whole++;
        scaled -= scale;
    }
    snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64, sign, whole, decimals, scaled);
    return buf;
}

const char *uf_format_seconds(char *buf, size_t size, uf_time ns)
{
    return format_fixed(buf, size, ns, UF_NS_PER_S, 6);
}

const char *uf_format_ms(char *buf, size_t size, uf_time ns)
{
    return format_fixed(buf, size, ns, UF_NS_PER_MS, 3);
}

const char *uf_format_duration(char *buf, size_t size, uf_time ns)
{
    if (ns == UF_TIME_NONE)
        snprintf(buf, size, "-");
    else if (ns < UF_NS_PER_S)
        snprintf(buf, size, "%.0f ms", (double)ns / 1e6);
    else
        snprintf(buf, size, "%.3f s", (double)ns / 1e9);
    return buf;
}

bool uf_parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end != '\0' || v > UINT32_MAX || s[0] == '-')
        return false;
    *out = (uint32_t)v;
    return true;
}
