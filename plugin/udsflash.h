/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the plugin's files share: the analysis of the open capture file, run
 * by the project's own analyzer on the first pass over the frames, and its
 * results per frame for the protocol tree, expert infos and statistics.
 */
#ifndef UDSFLASH_PLUGIN_H
#define UDSFLASH_PLUGIN_H

#include "uf_analyzer.h"
#include "uf_report.h"

#include <glib.h>

/* One UDS message as the plugin shows it on each of its frames. */
typedef struct ufw_message {
    uint64_t index;
    uint64_t first_frame, last_frame;
    uint32_t session;
    const char *phase, *step;      /* the profile's names, or NULL */
    char tester[24], ecu[24];      /* "?" when unknown, "all" for a functional request */
    const char *transport;         /* "isotp" or "doip" */
    uint8_t sid;
    uf_uds_kind kind;
    bool incomplete;
    char *service;                 /* "TransferData" */
    char *params;                  /* "block=1 data=256 bytes" */
    uint64_t request_frame;        /* a response: its request's last frame */
    uint64_t response_frame;       /* a request: its final response's first frame */
    uf_time response_time, limit;  /* UF_TIME_NONE / 0 when none */
    bool limit_p2star, limit_from_ecu;
    bool has_block;
    uint8_t block_counter;
    uint32_t download;             /* 0: none */
    uint64_t download_address, download_size, download_bytes;
    bool acked, nacked;            /* DoIP */
    uint8_t nack_code;
    uf_time ack_latency;
} ufw_message;

typedef struct ufw_finding {
    const uf_rule *rule;
    uf_severity severity;
    uint32_t session;
    char *message;
} ufw_finding;

/* What one frame carries: the UDS message it ends or is an ISO-TP frame
 * of (a TCP segment may carry several), and the findings that point at it. */
typedef struct ufw_frame {
    const ufw_message *message; /* the first, or NULL */
    const GPtrArray *more;      /* further ufw_message *, or NULL */
    const GPtrArray *findings;  /* ufw_finding *, or NULL */
} ufw_frame;

/* The analysis configuration, from the plugin's preferences. NULL members
 * take the defaults. */
typedef struct ufw_settings {
    const char *profile;         /* name or file */
    unsigned stmin_tolerance_us; /* 0: the profile's */
    const char *addressing;      /* auto, normal, extended, mixed */
    const char *pairs;           /* "0x6F1:0x612:extended 0x7E0:0x7E8" */
    const char *functional;      /* "0x7DF 0x18DB33F1" */
    const char *doip_ports;      /* "13401 13402" */
} ufw_settings;

/* Checks settings; false with a sentence in err if one is not valid. */
bool ufw_settings_check(const ufw_settings *s, uf_error *err);

/* The per-file lifecycle: start when a file opens (or is dissected anew),
 * feed every frame once, in order, finish when the capture is known to
 * end (the first pass over a file is over, a live capture stops, or the
 * last frame of a file analysed before comes again); stop frees
 * everything. Before the finish the results are those of the frames so
 * far: what needs the end (a request left unanswered, a download left
 * incomplete, a step missing) is not judged yet. */
void ufw_analysis_start(const ufw_settings *s);
void ufw_analysis_feed(uint64_t frame, uf_time time, uint32_t interface_id, int wtap_encap,
                       const uint8_t *data, size_t len, const char *iface_name);
void ufw_analysis_finish(void);
bool ufw_analysis_finished(void);
uint64_t ufw_analysis_frames(void); /* fed so far */
void ufw_analysis_stop(void);
/* What a frame carries; false if nothing. */
bool ufw_analysis_frame(uint64_t frame, ufw_frame *out);
/* The sessions and findings, for the statistics (NULL before start). */
const uf_sessions *ufw_analysis_sessions(void);
const uf_profile *ufw_analysis_profile(void);
/* Every finding, the findings outside every session, and the capture's
 * interface names. */
GPtrArray *ufw_analysis_findings(void); /* ufw_finding * */
GPtrArray *ufw_analysis_orphans(void);  /* ufw_finding * */
const char *ufw_analysis_bus_name(uint32_t bus);

/* Statistics (stats.c). */
void ufw_stats_register(void);

#endif /* UDSFLASH_PLUGIN_H */
