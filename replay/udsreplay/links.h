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
    uint32_t bitrate, data_bitrate;
    const char *record;         /* pcapng of the frames driven */
} ur_link_options;

typedef struct ur_link {
    const uf_script *script;
    uf_channel *channel;
    uf_doip_client_config doip;
    char *host;
    uf_recorder *recorder;
    uint32_t iface;
    /* The simulated ECU. */
    uf_ecu_file *ecu_file;
    uf_ecu *ecu;
    uf_simbus *bus;
    uf_sim_ecu *sim;
    uf_doip_server *server;
    GThread *thread;
    volatile sig_atomic_t server_stop;
} ur_link;

/* The script's link as an ISO-TP endpoint configuration, for the tester
 * or (ecu_side) for the simulated ECU. */
void ur_isotp_config(const uf_script_link *l, bool ecu_side, uf_isotp_ep_config *c);
bool ur_link_open(ur_link *k, const uf_script *s, const ur_link_options *o, uf_error *err);
/* uf_replay_options.reconnect: a new DoIP connection. */
uf_channel *ur_link_reconnect(void *ctx, uf_error *err);
/* Closes everything; false with err when the recording or the simulated
 * ECU's flash file could not be written. */
bool ur_link_close(ur_link *k, uf_error *err);

#endif /* UR_LINKS_H */
