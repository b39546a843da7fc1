/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Test helpers: frames from hex strings, sinks that keep what the analyzer
 * emits, temporary directories, and running the udsflash binary.
 */
#ifndef UF_TEST_HELPERS_H
#define UF_TEST_HELPERS_H

#include "uf_analyzer.h"
#include "uf_samplegen.h"

#include <glib.h>

/* "02 10 03" or "021003" -> frame data. */
uf_can_frame th_frame(uint32_t id, const char *hex);
/* Same, as a CAN FD frame (length rounded up to a DLC with 0xCC). */
uf_can_frame th_fd_frame(uint32_t id, const char *hex);
size_t th_hex(const char *hex, uint8_t *out, size_t max);
char *th_to_hex(const uint8_t *p, size_t n); /* g_free */

/* ---- ISO-TP level ---------------------------------------------------------*/

typedef struct th_msg {
    uf_isotp_message m; /* data points into bytes */
    uint8_t *bytes;
} th_msg;

typedef struct th_isotp {
    uf_isotp *t;
    GPtrArray *msgs;     /* th_msg * */
    GArray *findings;    /* uf_finding */
    uint64_t next_frame; /* frame numbers 1, 2, ... */
} th_isotp;

void th_isotp_init(th_isotp *h, const uf_isotp_config *cfg); /* cfg NULL: defaults */
void th_isotp_free(th_isotp *h);
/* Feeds a frame at `ms` milliseconds on bus 0; returns its frame number. */
uint64_t th_feed(th_isotp *h, double ms, const uf_can_frame *f);
uint64_t th_feed_hex(th_isotp *h, double ms, uint32_t id, const char *hex);
/* Number of findings with this rule id. */
size_t th_count(const th_isotp *h, const char *rule);
const uf_finding *th_first(const th_isotp *h, const char *rule);
const th_msg *th_msg_at(const th_isotp *h, guint i);
/* "rule: message" lines of all findings, for assertion messages (static). */
const char *th_findings_text(const th_isotp *h);

/* ---- whole analyzer over a file --------------------------------------------*/

typedef struct th_uds_msg {
    uint64_t index, first_frame, last_frame, request_index;
    uf_time t_first, t_last, response_time, since_pending;
    uf_uds_kind kind;
    uint8_t sid, nrc;
    bool incomplete, functional;
    uint32_t bus, session;
    char phase[32], step[32];
    char tester[32], ecu[32];
    uint8_t *data;
    uint32_t len;
    /* DoIP transport: the entity's acknowledgement. */
    bool doip, acked, nacked;
    uint8_t nack_code;
    uf_time ack_latency;
} th_uds_msg;

/* A DoIP message other than a diagnostic message, as the analyzer saw it. */
typedef struct th_doip_pdu {
    uint16_t type;
    uint8_t code;
    bool has_code, udp;
    uint16_t sa, ta;
    uf_time latency;
    uint64_t connection, first_frame;
} th_doip_pdu;

typedef struct th_analysis {
    GPtrArray *msgs;      /* th_uds_msg * */
    GArray *doip;         /* th_doip_pdu */
    GArray *findings;     /* uf_finding */
    uint64_t frames;
    bool damaged;
    uf_error err;
    char format[32];
    GPtrArray *buses;     /* char * */
} th_analysis;

void th_analysis_init(th_analysis *a);
void th_analysis_free(th_analysis *a);
/* Opens, reads and analyzes a file; false if it could not be opened. */
bool th_analyze_file(th_analysis *a, const char *path, const uf_analyzer_config *cfg);
/* Analyzes frames directly (records built from sg_frames). */
void th_analyze_trace(th_analysis *a, const sg_trace *t, const uf_analyzer_config *cfg);
/* The same, returning the finished analyzer (its sessions) to free. */
uf_analyzer *th_analyze_trace_keep(th_analysis *a, const sg_trace *t, const uf_analyzer_config *cfg);
/* Finishes the trace, starts the analysis a and analyzes the trace with
 * this profile and the default settings otherwise; returns the finished
 * analyzer (its sessions) to free. */
uf_analyzer *th_analyze_with_profile(th_analysis *a, sg_trace *t, const uf_profile *p);
size_t th_analysis_count(const th_analysis *a, const char *rule);
/* The first finding with this rule id, or NULL. */
const uf_finding *th_analysis_first(const th_analysis *a, const char *rule);
/* "rule [step] message" lines of all findings, for assertion messages (static). */
const char *th_analysis_text(const th_analysis *a);

/* A classic CAN link of the generator: 11-bit ids, padded 8-byte frames,
 * the ECU asking for BS 8 / STmin 1 ms, functional id 0x7DF. */
sg_link th_link(sg_trace *t, const char *bus, uint32_t tester_id, uint32_t ecu_id);
/* Writes a generated trace as pcap into dir; returns the path (g_free). */
char *th_write_pcap(const sg_trace *t, const char *dir, const char *name);

/* ---- capture readers --------------------------------------------------------*/

/* A record kept past its reader's next call: its packet bytes and bus name
 * copied. */
typedef struct th_record {
    uf_record rec;
    uint8_t *bytes; /* a packet's, or NULL */
    char *bus;
} th_record;

typedef struct th_reading {
    GArray *recs; /* th_record */
    int rc;       /* how the reading ended: 0, -1 (damage, err); -2: not opened (err) */
    uf_error err;
} th_reading;

th_reading th_reading_new(void);
/* Keeps a record; r NULL leaves its bus unnamed, for a reader that is
 * another thread's until th_reading_name_buses(). */
void th_reading_keep(th_reading *rd, const uf_reader *r, const uf_record *rec);
void th_reading_name_buses(th_reading *rd, const uf_reader *r);
/* Reads path to its end through `open` (uf_reader_open...). */
th_reading th_read_with(const char *path, uf_reader *(*open)(const char *, uf_error *));
void th_reading_free(th_reading *rd);
/* NULL if `got` has the records of `want` (numbers, offsets, times, kinds,
 * problems, CAN frames, packet bytes, buses by name) and ends alike; else
 * what differs first (g_free). Damage sentences may differ in words. */
char *th_reading_difference(const char *path, const th_reading *want, const th_reading *got);
/* Reads path with uf_reader_open and with a reference reader (libpcap's,
 * wiretap's; named `whose`): NULL if both open it or neither, the
 * readings agree and damage names the file and its offset; else what
 * differs (g_free). *count: the records the reference read. */
char *th_read_as(const char *path, uf_reader *(*reference)(const char *, uf_error *),
                 const char *whose, guint *count);

/* ---- writing captures byte by byte -----------------------------------------*/

typedef struct th_bytes {
    GByteArray *out;
    bool big; /* the writer's byte order */
} th_bytes;

/* v in `bytes` bytes, in the writer's byte order. */
void th_put_uint(th_bytes *b, uint64_t v, unsigned bytes);
/* Writes the first len bytes into dir/name; returns the path (g_free). */
char *th_write_bytes(const char *dir, const char *name, const th_bytes *b, gsize len);
/* The bytes cut after from, from + step, ... (each written to dir/name)
 * read as th_read_as reads them: NULL if every cut agrees, else the first
 * difference (g_free). */
char *th_cuts_read_as(const char *dir, const char *name, const th_bytes *b, gsize from,
                      gsize step, uf_reader *(*reference)(const char *, uf_error *),
                      const char *whose);

/* ---- environment ----------------------------------------------------------*/

char *th_tmpdir(void); /* created; g_free the name (left for inspection) */
/* A suite whose tests each write files into a fresh temporary directory:
 * TestSuite(name, .init = th_dir_setup, .fini = th_dir_teardown), then
 * th_dir names it. */
extern char *th_dir;
void th_dir_setup(void);
void th_dir_teardown(void);
char *th_sample(const char *name); /* path of samples/NAME in the source tree */
/* Runs a program; returns its exit status, stdout in *out (g_free). */
int th_run(const char *const *argv, char **out, char **err);
bool th_have_program(const char *name);
/* Runs udsflash with the NULL-terminated arguments in the source tree (so
 * that sample paths in its output are stable); out and err may be NULL. */
int th_udsflash(char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

#endif /* UF_TEST_HELPERS_H */
