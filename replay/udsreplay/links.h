/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The channel udsreplay flash drives, opened from the script's link and
 * the command line: SocketCAN (raw with the userspace ISO-TP, or the
 * kernel's ISO-TP), DoIP, or a simulated udsecu in this process.
 */
#ifndef UR_LINKS_H
#define UR_LINKS_H

#include "uf_doip_server.h"
#include "uf_ecu_file.h"
#include "uf_fault.h"
#include "uf_recorded_ecu.h"
#include "uf_recorder.h"
#include "uf_replay.h"
#include "uf_sim_ecu.h"

#include <glib.h>

typedef struct ur_link_options {
    const char *can, *kernel_isotp, *doip;
    const char *sim;            /* a udsecu flash file: flash a simulated ECU */
    char **sim_faults;          /* udsecu --fault specs for it */
    uint64_t sim_seed;
    uint32_t sim_erase_ms;       /* its erase routine's duration; 0: udsecu's default */
    /* The simulated udsecu's flow control (BS, STmin) instead of its own. */
    bool sim_fc;
    uint8_t sim_bs, sim_stmin;
    /* Frames, not messages (udsreplay reproduce): a CAN medium in
     * ur_link.medium instead of a channel; raw CAN or the simulated bus. */
    bool frames;
    /* Or the simulated ECU is the ECU of a recording (udsreplay ecu). */
    const uf_recording *sim_recording;
    uf_recorded_ecu_config sim_recorded;
    /* Faults on the tester's side of the link (uf_fault.h), their seed. */
    const uf_link_fault *faults;
    size_t n_faults;
    uint64_t fault_seed;
} ur_link_options;

/* --fault SPEC...: false with err on the first bad one. */
bool ur_faults_parse(char **specs, uf_link_fault **out, size_t *n, uf_error *err);
/* What the tester's side of the link lets faults act on (uf_fault.h), and
 * its name for a sentence; whether every fault of o can act there. */
unsigned ur_link_fault_caps(const ur_link_options *o, const uf_script_link *l,
                            const char **name);
bool ur_link_faults_check(const ur_link_options *o, const uf_script_link *l, uf_error *err);

static inline bool ur_link_simulated(const ur_link_options *o)
{
    return o->sim || o->sim_recording;
}

/* What the links of one run share: the simulated bus every simulated CAN
 * ECU sits on (testers in their threads, uf_simbus_group), and the
 * recording of everything driven. */
typedef struct ur_shared {
    uf_simbus *bus;
    uf_simbus_group *group;
    uf_recorder *recorder;
    /* "iface/id" of the functional ids a raw listener records already:
     * two kernel ISO-TP links on one bus would record them twice. */
    GHashTable *functional_heard;
} ur_shared;

/* sim_can: a simulated bus is needed, CAN FD (2 Mbit/s data phase) if fd;
 * 500 kbit/s nominal. record: a pcapng path or NULL. */
bool ur_shared_open(ur_shared *sh, bool sim_can, bool fd, const char *record, uf_error *err);
/* After every link is closed; false with err if the recording failed. */
bool ur_shared_close(ur_shared *sh, uf_error *err);

/* Where a real bus's frames go in the recording. */
typedef struct ur_tap {
    uf_recorder *recorder;
    uint32_t iface;
    uint32_t ecu_id;            /* the frames received that are ours */
} ur_tap;

typedef struct ur_link {
    const uf_script *script;
    const ur_shared *shared;
    uf_channel *channel;
    uf_can_medium *medium;      /* ur_link_options.frames */
    uf_doip_client_config doip;
    char *host;
    ur_tap tap;
    /* The kernel's ISO-TP hides its frames: a raw socket beside it
     * records them, from a thread of its own. */
    uf_can_medium *listener;
    GThread *listener_thread;
    int listener_stop;
    char *functional_key;       /* its entry in functional_heard, or NULL */
    uf_doip_tap doip_tap;
    uint16_t recorded_port;     /* the entity's port in the recording; 0: the real one */
    /* The simulated ECU: udsecu's, or a recording's. */
    uf_ecu_file *ecu_file;
    uf_ecu *ecu;
    uf_recorded_ecu *recorded;
    uf_responder responder;
    /* The faults injected on the tester's side; NULL: none. */
    uf_faults *faults;
    uf_sim_ecu *sim;
    uf_doip_server *server;
    GThread *thread;
    volatile sig_atomic_t server_stop;
} ur_link;

/* The script's link as an ISO-TP endpoint configuration, for the tester
 * or (ecu_side) for the simulated ECU. */
void ur_isotp_config(const uf_script_link *l, bool ecu_side, uf_isotp_ep_config *c);
bool ur_link_open(ur_link *k, const uf_script *s, const ur_link_options *o,
                  const ur_shared *sh, uf_error *err);
/* uf_replay_options.reconnect: a new DoIP connection. */
uf_channel *ur_link_reconnect(void *ctx, uf_error *err);
/* Closes everything, while no other link's tester runs the shared bus;
 * false with err when the simulated ECU's flash file could not be
 * written. */
bool ur_link_close(ur_link *k, uf_error *err);

#endif /* UR_LINKS_H */
