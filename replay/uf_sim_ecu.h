/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An ECU on the simulated bus: a responder (uf_responder.h) behind the
 * userspace ISO-TP endpoint, as a node of the bus, so that a tester in the same
 * process flashes it on the bus's virtual clock.
 */
#ifndef UF_SIM_ECU_H
#define UF_SIM_ECU_H

#include "uf_ecu.h"
#include "uf_isotp_ep.h"
#include "uf_simbus.h"

typedef struct uf_sim_ecu uf_sim_ecu;

/* The responder is not owned; the endpoint's BS / STmin follow its FC
 * override (an FC fault, a recording's flow control). */
uf_sim_ecu *uf_sim_ecu_attach(uf_simbus *bus, const uf_isotp_ep_config *c, uf_responder ecu);
void uf_sim_ecu_free(uf_sim_ecu *s);

#endif /* UF_SIM_ECU_H */
