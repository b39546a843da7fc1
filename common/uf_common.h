/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Small pieces every layer shares: the error sentence that travels up from
 * readers to main(), the time type, and a streaming JSON writer. Nothing here
 * knows about CAN, ISO-TP or UDS.
 */
#ifndef UF_COMMON_H
#define UF_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define UF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define UF_MUST_USE __attribute__((warn_unused_result))
#else
#define UF_PRINTF(fmt, args)
#define UF_MUST_USE
#endif

#define UF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Byte order of wire formats (network protocols are big-endian). */
static inline uint16_t uf_load_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t uf_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t uf_load_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline void uf_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void uf_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The slot of a 64-bit key in a table of 2^bits (1..63) slots, for the
 * small caches in front of hash tables: Fibonacci hashing, the top bits
 * of the key times 2^64 / phi (Knuth, TAOCP 6.4). */
static inline size_t uf_hash_slot(uint64_t key, unsigned bits)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

/* Time is nanoseconds since the UNIX epoch in a signed 64-bit integer.
 * Sources without timestamps (candump console output) give UF_TIME_NONE. */
typedef int64_t uf_time;
#define UF_TIME_NONE INT64_MIN
#define UF_NS_PER_US INT64_C(1000)
#define UF_NS_PER_MS INT64_C(1000000)
#define UF_NS_PER_S INT64_C(1000000000)

/* Seconds and nanoseconds to uf_time, saturating at the ends of the range
 * (year 1677 .. 2262): a corrupt timestamp must not overflow. */
uf_time uf_time_from_parts(int64_t sec, int64_t nsec);
/* a + b and a - b, saturating; UF_TIME_NONE in gives UF_TIME_NONE out. */
uf_time uf_time_add(uf_time a, uf_time b);
uf_time uf_time_diff(uf_time a, uf_time b);

/* An error is a full sentence for a human, naming the file and the byte
 * offset where that is known ("trace.asc: line 12 (byte 403): ..."). */
typedef struct uf_error {
    char msg[512];
} uf_error;

void uf_error_set(uf_error *err, const char *fmt, ...) UF_PRINTF(2, 3);
void uf_error_clear(uf_error *err);

/* Writes "%.6f"-style seconds for a duration in ns into buf (no allocation). */
const char *uf_format_seconds(char *buf, size_t size, uf_time ns);
/* Milliseconds with 3 decimals, for response times. */
const char *uf_format_ms(char *buf, size_t size, uf_time ns);
/* A duration for people: "87 ms" below a second, else "2.889 s"; "-" for
 * UF_TIME_NONE. */
const char *uf_format_duration(char *buf, size_t size, uf_time ns);

/* Parses "123", "0x7E0", "7E0h"-free C-style integers with bounds; returns
 * false on junk or overflow. */
bool uf_parse_u32(const char *s, uint32_t *out);

/* ---- Streaming JSON writer ------------------------------------------------
 * Emits JSON to a FILE as values arrive, so a report over a capture of any
 * size needs no tree in memory. Nesting depth is bounded; misuse (a key
 * outside an object) is a programming error caught by assert. */
#define UF_JSON_MAX_DEPTH 32

typedef struct uf_json {
    FILE *out;
    int depth;
    bool pretty;
    bool first[UF_JSON_MAX_DEPTH]; /* no element written yet at this depth */
    bool in_object[UF_JSON_MAX_DEPTH];
    bool after_key;
} uf_json;

void uf_json_init(uf_json *j, FILE *out, bool pretty);
/* A writer of items of the array or object j is in, to another FILE (of
 * another thread, say); uf_json_join then puts the text it wrote where j
 * stands, as if j had written those items itself. */
void uf_json_fork(const uf_json *j, FILE *out, uf_json *part);
void uf_json_join(uf_json *j, const uf_json *part, const char *text, size_t len);
void uf_json_begin_object(uf_json *j);
void uf_json_end_object(uf_json *j);
void uf_json_begin_array(uf_json *j);
void uf_json_end_array(uf_json *j);
void uf_json_key(uf_json *j, const char *key);
void uf_json_string(uf_json *j, const char *s);
void uf_json_string_len(uf_json *j, const char *s, size_t len);
void uf_json_int(uf_json *j, int64_t v);
void uf_json_uint(uf_json *j, uint64_t v);
void uf_json_double(uf_json *j, double v, int decimals);
/* v as printf("%.*f", decimals, v) writes it, quicker for the common
 * cases (a finite v, decimals 0..9, |v| * 10^decimals below 2^52);
 * returns the length (0 if size is too small). */
size_t uf_format_fixed(char *out, size_t size, double v, int decimals);
/* v as printf("0x%0*llX", width, v) writes it, for a width up to 16, into
 * out (room for 19 bytes with the NUL); returns the length. Reports write
 * thousands of ids and addresses, and snprintf takes hundreds of
 * instructions for each. */
size_t uf_format_hex(char *out, uint64_t v, int width);
/* v as two uppercase hex digits at p (no NUL); returns p + 2. */
char *uf_put_hex_byte(char *p, uint8_t v);
void uf_json_bool(uf_json *j, bool v);
void uf_json_null(uf_json *j);
/* Bytes as a lowercase hex string ("0a1b"). */
void uf_json_hex(uf_json *j, const uint8_t *buf, size_t len);
/* Seconds with nanosecond precision from a uf_time, or null for UF_TIME_NONE. */
void uf_json_time(uf_json *j, uf_time ns);

/* An object member: its key, then its value. */
void uf_json_member_string(uf_json *j, const char *key, const char *v);
void uf_json_member_uint(uf_json *j, const char *key, uint64_t v);
void uf_json_member_bool(uf_json *j, const char *key, bool v);
void uf_json_member_time(uf_json *j, const char *key, uf_time ns);
void uf_json_member_double(uf_json *j, const char *key, double v, int decimals);

#endif /* UF_COMMON_H */
