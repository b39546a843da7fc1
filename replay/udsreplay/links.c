/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The channels udsreplay flash drives: the script's link on a SocketCAN
 * interface (userspace ISO-TP over raw CAN, or the kernel's ISO-TP), a
 * DoIP connection, or a simulated ECU (udsecu's core) in this process: on
 * the simulated bus for CAN scripts, as a DoIP entity on loopback TCP for
 * DoIP scripts. Every frame of a CAN link can be recorded as pcapng.
 */
#include "links.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

void ur_isotp_config(const uf_script_link *l, bool ecu_side, uf_isotp_ep_config *c)
{
    uf_isotp_ep_config_defaults(c, ecu_side ? l->ecu_id : l->tester_id,
                                ecu_side ? l->tester_id : l->ecu_id);
    c->tx.addressing = l->addressing;
    /* Extended / mixed: the tester's frames carry the ECU's address byte
     * (the tester endpoint's in the capture), the ECU's the tester's. */
    if (uf_addressing_prefix(l->addressing)) {
        c->tx.addr = (uint8_t)(ecu_side ? l->ecu_addr : l->tester_addr);
        c->rx_addr = ecu_side ? l->tester_addr : l->ecu_addr;
    }
    c->tx.fd = l->fd;
    c->tx.tx_dl = l->tx_dl ? l->tx_dl : 8;
    c->tx.pad = l->pad;
    c->tx.pad_byte = l->pad_byte;
    if (l->fd)
        c->rx_max = 1u << 20;
    if (ecu_side)
        c->functional_rx_id = l->functional_id;
    else
        c->functional_tx_id = l->functional_id;
    c->functional_tx = c->tx;
}

/* ---- what the links share ---------------------------------------------------------*/

static void record_bus_frame(void *ctx, const uf_can_frame *f, uf_time t)
{
    uf_recorder_can(ctx, 0, f, t);
}

bool ur_shared_open(ur_shared *sh, bool sim_can, bool fd, const char *record, uf_error *err)
{
    memset(sh, 0, sizeof(*sh));
    sh->functional_heard = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (record && !(sh->recorder = uf_recorder_open(record, err)))
        return false;
    if (sim_can) {
        /* 500 kbit/s, and 2 Mbit/s in the data phase of CAN FD. */
        sh->bus = uf_simbus_new(500000, fd ? 2000000 : 0, 0);
        sh->group = uf_simbus_group_new(sh->bus);
        /* The bus's own tap: every frame once, in the order the bus
         * carried them, whichever tester or ECU sent it. */
        if (sh->recorder) {
            uf_recorder_can_interface(sh->recorder, "sim0");
            uf_simbus_tap(sh->bus, record_bus_frame, sh->recorder);
        }
    }
    return true;
}

bool ur_shared_close(ur_shared *sh, uf_error *err)
{
    uf_simbus_group_free(sh->group);
    uf_simbus_free(sh->bus);
    if (sh->functional_heard)
        g_hash_table_destroy(sh->functional_heard);
    bool ok = uf_recorder_close(sh->recorder, err);
    memset(sh, 0, sizeof(*sh));
    return ok;
}

/* ---- recording a real bus --------------------------------------------------------*/

static void record_frame(void *ctx, const uf_can_frame *f, uf_time t, bool tx)
{
    const ur_tap *to = ctx;
    /* What we received of another tester on the bus (its functional
     * requests) is in the recording already, from its own link. */
    uint32_t id = f->id | ((f->flags & UF_CAN_EFF) ? UF_ISOTP_EFF : 0);
    if (!tx && id != to->ecu_id)
        return;
    uf_recorder_can(to->recorder, to->iface, f, t);
}

static uf_can_medium *maybe_tap(ur_link *k, uf_can_medium *m, const char *name)
{
    if (!k->shared->recorder)
        return m;
    k->tap.recorder = k->shared->recorder;
    k->tap.iface = uf_recorder_can_interface(k->shared->recorder, name);
    k->tap.ecu_id = k->script->link.ecu_id;
    return uf_can_medium_tap(m, record_frame, &k->tap);
}

/* The frames of a kernel ISO-TP socket, seen by a raw socket on the same
 * interface (CAN_RAW gets the frames of the host's other sockets), with
 * the kernel's timestamps. */
static gpointer listener_thread(gpointer data)
{
    ur_link *k = data;
    for (;;) {
        bool stopping = __atomic_load_n(&k->listener_stop, __ATOMIC_ACQUIRE);
        uf_can_frame f;
        uf_time t;
        uf_error err;
        /* Once told to stop, what is already queued is still taken. */
        uf_time deadline = stopping ? uf_clock_monotonic()
                                    : uf_clock_monotonic() + 100 * UF_NS_PER_MS;
        int got = k->listener->ops->read(k->listener, &f, &t, deadline, &err);
        if (got > 0)
            uf_recorder_can(k->tap.recorder, k->tap.iface, &f, t);
        else if (got < 0 || stopping)
            break;
    }
    return NULL;
}

static bool start_listener(ur_link *k, const char *ifname, uf_error *err)
{
    const uf_script_link *l = &k->script->link;
    uint32_t ids[3] = {l->tester_id, l->ecu_id, l->functional_id};
    size_t n = 2;
    char *key = g_strdup_printf("%s/%08X", ifname, l->functional_id);
    if (l->functional_id && !g_hash_table_contains(k->shared->functional_heard, key)) {
        g_hash_table_add(k->shared->functional_heard, key);
        k->functional_key = key;
        n = 3;
    } else {
        g_free(key);
    }
    k->listener = uf_can_medium_socketcan(ifname, l->fd, ids, n, err);
    if (!k->listener)
        return false;
    k->tap.recorder = k->shared->recorder;
    k->tap.iface = uf_recorder_can_interface(k->shared->recorder, ifname);
    k->listener_thread = g_thread_new("can-recorder", listener_thread, k);
    return true;
}

static void stop_listener(ur_link *k)
{
    if (k->listener_thread) {
        __atomic_store_n(&k->listener_stop, 1, __ATOMIC_RELEASE);
        g_thread_join(k->listener_thread);
    }
    if (k->listener)
        k->listener->ops->free(k->listener);
    if (k->functional_key)
        g_hash_table_remove(k->shared->functional_heard, k->functional_key);
}

/* ---- recording DoIP -------------------------------------------------------------*/

static void host_of(const void *sockaddr, uint8_t last_mac_byte, uf_net_host *h, uint16_t *port)
{
    /* Locally administered MACs: the recording never saw the real ones. */
    static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00};
    memcpy(h->mac, mac, 6);
    h->mac[5] = last_mac_byte;
    const struct sockaddr *sa = sockaddr;
    memset(&h->ip, 0, sizeof(h->ip));
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = sockaddr;
        h->ip.family = 6;
        memcpy(h->ip.a, &s6->sin6_addr, 16);
        *port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = sockaddr;
        h->ip.family = 4;
        memcpy(h->ip.a, &s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
    }
}

static void *doip_opened(void *ctx, const void *local, const void *peer, uf_time t)
{
    ur_link *k = ctx;
    uf_net_flow flow = {0};
    host_of(local, 1, &flow.host[0], &flow.port[0]);
    host_of(peer, 2, &flow.host[1], &flow.port[1]);
    if (k->recorded_port)
        flow.port[1] = k->recorded_port;
    /* Simulated entities all listen on loopback: each gets an interface
     * of its own in the recording, as separate entities would be. */
    char name[32] = "doip";
    if (k->recorded_port)
        g_snprintf(name, sizeof(name), "doip-sim-%u", k->doip.port);
    uint32_t iface = uf_recorder_ethernet_interface(k->shared->recorder, name);
    return uf_recorder_tcp_open(k->shared->recorder, iface, &flow, t);
}

static void doip_bytes(void *conn, bool sent, const uint8_t *p, size_t n, uf_time t)
{
    uf_recorder_tcp_data(conn, sent ? 0 : 1, p, n, t);
}

static void doip_closed(void *conn, uf_time t)
{
    uf_recorder_tcp_close(conn, t);
}

/* ---- simulated ECU ---------------------------------------------------------------*/

static bool sim_ecu(ur_link *k, const ur_link_options *o, uf_error *err)
{
    if (o->sim_recording) {
        k->recorded = uf_recorded_ecu_new(o->sim_recording, &o->sim_recorded);
        k->responder = uf_recorded_ecu_responder(k->recorded);
        return true;
    }
    uf_ecu_config c;
    uf_ecu_config_defaults(&c);
    for (char **f = o->sim_faults; f && *f; f++) {
        if (c.n_faults == UF_ECU_MAX_FAULTS) {
            uf_error_set(err, "--sim-fault: at most %d", UF_ECU_MAX_FAULTS);
            return false;
        }
        if (!uf_ecu_fault_parse(*f, &c.faults[c.n_faults], err))
            return false;
        c.n_faults++;
    }
    if (o->sim_seed)
        c.seed = o->sim_seed;
    if (o->sim_erase_ms)
        c.erase_time = (uf_time)o->sim_erase_ms * UF_NS_PER_MS;
    uint8_t *flash = NULL;
    uf_ecu_persistent state = {0};
    k->ecu_file = uf_ecu_file_open(o->sim, &c, &flash, &state, err);
    if (!k->ecu_file)
        return false;
    uf_ecu_store store = uf_ecu_file_store(k->ecu_file);
    uf_time start = k->script->link.doip ? uf_clock_monotonic() : 0;
    k->ecu = uf_ecu_new(&c, &store, flash, &state, start);
    k->responder = uf_ecu_responder(k->ecu);
    g_free(flash);
    return true;
}

static gpointer doip_entity_thread(gpointer data)
{
    ur_link *k = data;
    uf_error err;
    if (!uf_doip_server_run(k->server, UF_TIME_NONE, &k->server_stop, &err))
        g_printerr("udsreplay: the simulated DoIP entity failed: %s\n", err.msg);
    return NULL;
}

/* ---- opening ---------------------------------------------------------------------*/

/* ---- faults ---------------------------------------------------------------------*/

bool ur_faults_parse(char **specs, uf_link_fault **out, size_t *n, uf_error *err)
{
    *n = specs ? g_strv_length(specs) : 0;
    *out = g_new0(uf_link_fault, *n ? *n : 1);
    for (size_t i = 0; i < *n; i++)
        if (!uf_link_fault_parse(specs[i], &(*out)[i], err))
            return false;
    return true;
}

unsigned ur_link_fault_caps(const ur_link_options *o, const uf_script_link *l,
                            const char **name)
{
    if (l->doip) {
        *name = "a DoIP connection";
        return UF_LINK_DOIP;
    }
    if (o->kernel_isotp) {
        *name = "the kernel's ISO-TP";
        return 0;
    }
    *name = o->can ? o->can : "the simulated bus";
    return UF_LINK_CAN_FRAMES;
}

bool ur_link_faults_check(const ur_link_options *o, const uf_script_link *l, uf_error *err)
{
    const char *name;
    unsigned caps = ur_link_fault_caps(o, l, &name);
    return uf_link_faults_check(o->faults, o->n_faults, caps, name, err);
}

/* The tester's side of the link through the faults: its CAN medium
 * (every fault), or its channel (whole messages). */
static bool faults_open(ur_link *k, const ur_link_options *o, uf_error *err)
{
    if (!o->n_faults)
        return true;
    if (!ur_link_faults_check(o, &k->script->link, err))
        return false;
    k->faults = uf_faults_new(o->faults, o->n_faults, o->fault_seed);
    return true;
}

static uf_can_medium *faulty_medium(ur_link *k, uf_can_medium *m)
{
    if (!k->faults)
        return m;
    uf_faults_set_origin(k->faults, m->ops->now(m));
    return uf_can_medium_faulty(m, k->faults, uf_addressing_prefix(k->script->link.addressing));
}

static uf_channel *faulty_channel(ur_link *k, uf_channel *ch)
{
    if (!k->faults || !ch)
        return ch;
    if (!uf_faults_origin(k->faults))
        uf_faults_set_origin(k->faults, uf_channel_now(ch));
    return uf_channel_faulty(ch, k->faults);
}

static uf_channel *open_doip(ur_link *k, uf_error *err)
{
    return faulty_channel(k, uf_channel_doip(&k->doip, err));
}

uf_channel *ur_link_reconnect(void *ctx, uf_error *err)
{
    ur_link *k = ctx;
    if (!k->script->link.doip) {
        uf_error_set(err, "a CAN link is not reconnected");
        return NULL;
    }
    return open_doip(k, err);
}

static bool parse_host(ur_link *k, const char *text, uf_error *err)
{
    /* "host", "host:port", "[v6]:port", "v6". */
    g_free(k->host);
    k->host = NULL;
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end) {
            uf_error_set(err, "--doip %s: a ] is missing", text);
            return false;
        }
        k->host = g_strndup(text + 1, (gsize)(end - text - 1));
        colon = end[1] == ':' ? end + 1 : NULL;
    } else if (colon && strchr(text, ':') != colon) {
        k->host = g_strdup(text); /* a bare IPv6 address */
        colon = NULL;
    } else {
        k->host = colon ? g_strndup(text, (gsize)(colon - text)) : g_strdup(text);
    }
    if (colon) {
        guint64 port;
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
            uf_error_set(err, "--doip %s: not a port number after the colon", text);
            return false;
        }
        k->doip.port = (uint16_t)port;
    }
    k->doip.host = k->host;
    return true;
}

bool ur_link_open(ur_link *k, const uf_script *s, const ur_link_options *o,
                  const ur_shared *sh, uf_error *err)
{
    memset(k, 0, sizeof(*k));
    k->script = s;
    k->shared = sh;
    const uf_script_link *l = &s->link;
    uf_doip_client_defaults(&k->doip);
    if (sh->recorder && l->doip) {
        k->doip_tap = (uf_doip_tap){k, doip_opened, doip_bytes, doip_closed};
        k->doip.tap = &k->doip_tap;
    }
    k->doip.tester = l->tester_la;
    k->doip.target = l->ecu_la;
    if (l->functional_la)
        k->doip.functional = l->functional_la;

    if (o->sim || o->sim_recording) {
        if (!sim_ecu(k, o, err))
            return false;
        if (l->doip) {
            uf_doip_server_config dc;
            uf_doip_server_defaults(&dc);
            dc.listen = "127.0.0.1";
            dc.port = 0;
            dc.ecu = l->ecu_la;
            if (l->functional_la)
                dc.functional = l->functional_la;
            k->server = uf_doip_server_new(&dc, k->responder, err);
            if (!k->server)
                return false;
            k->thread = g_thread_new("doip-entity", doip_entity_thread, k);
            k->host = g_strdup("127.0.0.1");
            k->doip.host = k->host;
            k->doip.port = uf_doip_server_port(k->server);
            /* The entity listens on a free port; the recording shows it
             * on DoIP's own, where any analyzer looks (ISO 13400-2:2019
             * Table 48: TCP_DATA 13400). */
            k->recorded_port = UF_DOIP_PORT;
            if (!faults_open(k, o, err))
                return false;
            k->channel = open_doip(k, err);
            return k->channel != NULL;
        }
        uf_isotp_ep_config ecu_side, tester;
        ur_isotp_config(l, true, &ecu_side);
        if (o->sim_fc) {
            ecu_side.bs = o->sim_bs;
            ecu_side.stmin = o->sim_stmin;
        }
        k->sim = uf_sim_ecu_attach(sh->bus, &ecu_side, k->responder);
        ur_isotp_config(l, false, &tester);
        if (!faults_open(k, o, err))
            return false;
        uf_can_medium *m = faulty_medium(k, uf_can_medium_sim_shared(sh->group, "sim0"));
        if (o->frames)
            k->medium = m;
        else
            k->channel = uf_channel_isotp(m, &tester);
        return true;
    }
    if (o->doip) {
        if (o->frames) {
            uf_error_set(err, "frames go out on CAN: raw CAN (--can) or the simulated bus (--sim)");
            return false;
        }
        if (!l->doip) {
            uf_error_set(err, "--doip: the script's session ran on CAN; flash it with --can");
            return false;
        }
        if (!parse_host(k, o->doip, err) ||
            !faults_open(k, o, err))
            return false;
        k->channel = open_doip(k, err);
        return k->channel != NULL;
    }
    const char *ifname = o->can ? o->can : o->kernel_isotp;
    if (l->doip) {
        uf_error_set(err, "--can: the script's session ran on DoIP; flash it with --doip");
        return false;
    }
    uf_isotp_ep_config tester;
    ur_isotp_config(l, false, &tester);
    if (o->frames && !o->can) {
        uf_error_set(err, "frames go out on raw CAN (--can) or the simulated bus (--sim)");
        return false;
    }
    if (o->kernel_isotp) {
        if (!faults_open(k, o, err) ||
            (sh->recorder && !start_listener(k, ifname, err)))
            return false;
        k->channel = faulty_channel(k, uf_channel_kernel_isotp(ifname, &tester, err));
        return k->channel != NULL;
    }
    if (!faults_open(k, o, err))
        return false;
    /* Our own ids too: a frame is sent once the kernel echoes it back. */
    uint32_t ids[3] = {l->ecu_id, l->tester_id, l->functional_id};
    uf_can_medium *m = uf_can_medium_socketcan(ifname, l->fd, ids, l->functional_id ? 3 : 2, err);
    if (!m)
        return false;
    /* Below the faults, the recording: a frame sent and dropped never
     * reached the bus; one received and dropped did. */
    m = faulty_medium(k, maybe_tap(k, m, ifname));
    if (o->frames)
        k->medium = m;
    else
        k->channel = uf_channel_isotp(m, &tester);
    return true;
}

bool ur_link_close(ur_link *k, uf_error *err)
{
    bool ok = true;
    uf_channel_free(k->channel);
    k->channel = NULL;
    if (k->medium)
        k->medium->ops->free(k->medium);
    k->medium = NULL;
    stop_listener(k);
    if (k->thread) {
        __atomic_store_n(&k->server_stop, 1, __ATOMIC_RELAXED);
        g_thread_join(k->thread);
    }
    uf_doip_server_free(k->server);
    uf_sim_ecu_free(k->sim);
    uf_ecu_free(k->ecu);
    uf_recorded_ecu_free(k->recorded);
    if (k->ecu_file) {
        uf_error ferr;
        if (uf_ecu_file_failed(k->ecu_file, &ferr)) {
            *err = ferr;
            ok = false;
        }
        uf_ecu_file_close(k->ecu_file);
    }
    uf_faults_free(k->faults);
    g_free(k->host);
    memset(k, 0, sizeof(*k));
    return ok;
}
