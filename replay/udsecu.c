/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsecu: a virtual ECU with a flash bootloader, to flash and to test
 * against, on SocketCAN (the userspace ISO-TP endpoint over raw CAN, or
 * the kernel's ISO-TP) or as a DoIP entity. Its flash lives in a file.
 * See docs/udsecu.md.
 */
#include "uf_doip_server.h"
#include "uf_ecu_file.h"
#include "uf_serve.h"

#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 2, EXIT_FAILURE_ENV = 3 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct options {
    char *can, *kernel_isotp;
    gboolean doip;
    char *tx_id, *rx_id, *functional_id, *addressing, *address, *tester_address, *padding;
    gboolean fd;
    gint tx_dl, bs, stmin;
    char *listen;
    gint port;
    char *doip_address, *doip_entity, *doip_functional, *announce;
    char *flash;
    char **regions, **faults;
    gint p2, p2star, s3, erase_time, reset_time, max_block;
    gdouble response_time;
    char *vin;
    gint64 seed;
    gdouble duration;
    gboolean verbose;
} options;

static void options_free(options *o)
{
    char **strings[] = {&o->can, &o->kernel_isotp, &o->tx_id, &o->rx_id, &o->functional_id,
                        &o->addressing, &o->address, &o->tester_address, &o->padding,
                        &o->listen, &o->doip_address, &o->doip_entity, &o->doip_functional,
                        &o->announce, &o->flash, &o->vin};
    for (size_t i = 0; i < UF_ARRAY_LEN(strings); i++)
        g_clear_pointer(strings[i], g_free);
    g_clear_pointer(&o->regions, g_strfreev);
    g_clear_pointer(&o->faults, g_strfreev);
}

static bool number(const char *what, const char *text, uint32_t max, uint32_t *out, uf_error *err)
{
    if (!uf_parse_u32(text, out) || *out > max) {
        uf_error_set(err, "%s \"%s\": a number up to 0x%X is expected", what, text, max);
        return false;
    }
    return true;
}

/* A DoIP logical address option; unset (NULL) keeps *out. */
static bool logical_address(const char *what, const char *text, uint16_t *out, uf_error *err)
{
    uint32_t v;
    if (!text)
        return true;
    if (!number(what, text, 0xFFFF, &v, err))
        return false;
    *out = (uint16_t)v;
    return true;
}

/* CAN id "0x7E8" or "0x18DAF110" (29 bits when over 0x7FF or given with
 * 8 hex digits). */
static bool can_id(const char *what, const char *text, uint32_t *out, uf_error *err)
{
    uint32_t v;
    if (!number(what, text, 0x1FFFFFFF, &v, err))
        return false;
    bool eff = v > 0x7FF || strlen(text) > 5;
    *out = v | (eff ? UF_ISOTP_EFF : 0);
    return true;
}

static bool ecu_config(const options *o, uf_ecu_config *c, uf_error *err)
{
    uf_ecu_config_defaults(c);
    if (o->regions && o->regions[0]) {
        c->n_regions = 0;
        for (char **r = o->regions; *r; r++) {
            if (c->n_regions == UF_ECU_MAX_REGIONS) {
                uf_error_set(err, "at most %d --region", UF_ECU_MAX_REGIONS);
                return false;
            }
            if (!uf_ecu_region_parse(*r, &c->regions[c->n_regions++], err))
                return false;
        }
    }
    for (char **f = o->faults; f && *f; f++) {
        if (c->n_faults == UF_ECU_MAX_FAULTS) {
            uf_error_set(err, "at most %d --fault", UF_ECU_MAX_FAULTS);
            return false;
        }
        if (!uf_ecu_fault_parse(*f, &c->faults[c->n_faults++], err))
            return false;
    }
    if (o->p2 >= 0)
        c->p2_ms = (uint16_t)o->p2;
    if (o->p2star >= 0)
        c->p2star_ms = (uint32_t)o->p2star;
    if (o->s3 >= 0)
        c->s3 = (uf_time)o->s3 * UF_NS_PER_MS;
    if (o->erase_time >= 0)
        c->erase_time = (uf_time)o->erase_time * UF_NS_PER_MS;
    if (o->reset_time >= 0)
        c->reset_time = (uf_time)o->reset_time * UF_NS_PER_MS;
    if (o->response_time != -1) {
        if (!(o->response_time >= 0)) {
            uf_error_set(err, "--response-time %g: 0 ms or more", o->response_time);
            return false;
        }
        c->response_time = (uf_time)(o->response_time * UF_NS_PER_MS);
    }
    if (o->max_block >= 0)
        c->max_block = (uint32_t)o->max_block;
    if (o->seed >= 0)
        c->seed = (uint64_t)o->seed;
    if (o->vin) {
        if (strlen(o->vin) != 17) {
            uf_error_set(err, "--vin \"%s\": a VIN has 17 characters", o->vin);
            return false;
        }
        g_strlcpy(c->vin, o->vin, sizeof(c->vin));
    }
    return uf_ecu_config_check(c, err);
}

static bool isotp_config(const options *o, const uf_ecu *ecu, uf_isotp_ep_config *c, uf_error *err)
{
    uint32_t tx, rx;
    if (!can_id("--tx-id", o->tx_id ? o->tx_id : "0x7E8", &tx, err) ||
        !can_id("--rx-id", o->rx_id ? o->rx_id : "0x7E0", &rx, err))
        return false;
    uf_isotp_ep_config_defaults(c, tx, rx);
    if (!can_id("--functional-id", o->functional_id ? o->functional_id : "0x7DF",
                &c->functional_rx_id, err))
        return false;
    if (o->addressing && !uf_addressing_parse(o->addressing, &c->tx.addressing)) {
        uf_error_set(err, "--addressing \"%s\": normal, extended or mixed", o->addressing);
        return false;
    }
    uint32_t v;
    if (uf_addressing_prefix(c->tx.addressing)) {
        /* Extended: frames to us carry our address, ours carry the tester's. */
        if (!o->address || !o->tester_address) {
            uf_error_set(err, "--addressing %s needs --address (ours) and --tester-address",
                         o->addressing);
            return false;
        }
        if (!number("--address", o->address, 0xFF, &v, err))
            return false;
        c->rx_addr = (int16_t)v;
        if (!number("--tester-address", o->tester_address, 0xFF, &v, err))
            return false;
        c->tx.addr = (uint8_t)v;
    }
    if (o->fd) {
        c->tx.fd = true;
        c->tx.tx_dl = (uint8_t)(o->tx_dl > 0 ? o->tx_dl : 64);
        if (!uf_can_len_is_valid_fd(c->tx.tx_dl) || c->tx.tx_dl < 8) {
            uf_error_set(err, "--tx-dl %d: 8, 12, 16, 20, 24, 32, 48 or 64", o->tx_dl);
            return false;
        }
        c->rx_max = 1u << 20;
    }
    if (o->padding) {
        if (strcmp(o->padding, "none") == 0) {
            c->tx.pad = false;
        } else if (number("--padding", o->padding, 0xFF, &v, err)) {
            c->tx.pad_byte = (uint8_t)v;
        } else {
            return false;
        }
    }
    if (o->bs >= 0)
        c->bs = (uint8_t)o->bs;
    if (o->stmin >= 0)
        c->stmin = (uint8_t)o->stmin;
    uf_ecu_fc_override(ecu, &c->bs, &c->stmin);
    c->functional_tx = c->tx;
    return true;
}

/* What udsecu says while it serves a channel (-v), and its flash file's
 * health. */
typedef struct serve_ctx {
    const options *o;
    uf_ecu_file *file;
} serve_ctx;

static void on_request(void *ctx, const uf_channel_msg *m)
{
    if (((serve_ctx *)ctx)->o->verbose)
        fprintf(stderr, "udsecu: request %zu bytes (0x%02X)%s\n", m->len, m->data[0],
                m->functional ? " functional" : "");
}

static void on_answer(void *ctx, const uint8_t *p, size_t n)
{
    if (((serve_ctx *)ctx)->o->verbose)
        fprintf(stderr, "udsecu: answer %zu bytes (0x%02X)\n", n, p[0]);
}

static void on_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "udsecu: %s\n", msg);
}

static bool flash_healthy(void *ctx, uf_error *err)
{
    serve_ctx *c = ctx;
    return !c->file || !uf_ecu_file_failed(c->file, err);
}

static void report_stop(const uf_ecu *ecu)
{
    if (!uf_ecu_stopped(ecu))
        return;
    uf_ecu_status st;
    uf_ecu_get_status(ecu, &st);
    fprintf(stderr, "udsecu: power cut during the transfer (fault stop) after %u blocks: the "
                    "flash keeps what was written, the application is invalid\n",
            st.blocks_written);
}

/* Serves until the duration ends or a signal comes; the exit status. */
static int serve(const options *o)
{
    int media = !!o->can + !!o->kernel_isotp + !!o->doip;
    uf_error err;
    if (media != 1) {
        fprintf(stderr, "udsecu: give one of --can IFACE, --kernel-isotp IFACE or --doip\n");
        return EXIT_USAGE;
    }
    uf_ecu_config c;
    if (!ecu_config(o, &c, &err)) {
        fprintf(stderr, "udsecu: %s\n", err.msg);
        return EXIT_USAGE;
    }

    uf_ecu_file *file = NULL;
    uint8_t *flash = NULL;
    uf_ecu_persistent state = {0};
    uf_ecu_store store = {0};
    if (o->flash) {
        file = uf_ecu_file_open(o->flash, &c, &flash, &state, &err);
        if (!file) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            return EXIT_FAILURE_ENV;
        }
        store = uf_ecu_file_store(file);
    }
    uf_ecu *e = uf_ecu_new(&c, &store, flash, o->flash ? &state : NULL, uf_clock_monotonic());
    g_free(flash);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uf_time until = o->duration > 0 ? uf_clock_monotonic() + (uf_time)(o->duration * 1e9)
                                   : UF_TIME_NONE;
    uint8_t version[8];
    uf_ecu_software_version(e, version);
    const char *app = state.app_valid ? "valid" : "none";
    int rc = 0;
    if (o->doip) {
        uf_doip_server_config dc;
        uf_doip_server_defaults(&dc);
        dc.listen = o->listen;
        if (o->port >= 0)
            dc.port = (uint16_t)o->port;
        if (!logical_address("--doip-address", o->doip_address, &dc.ecu, &err) ||
            !logical_address("--doip-entity", o->doip_entity, &dc.entity, &err) ||
            !logical_address("--doip-functional", o->doip_functional, &dc.functional, &err)) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_USAGE;
            goto out;
        }
        g_strlcpy(dc.vin, c.vin, sizeof(dc.vin));
        dc.announce_to = o->announce;
        uf_doip_server *s = uf_doip_server_new(&dc, uf_ecu_responder(e), &err);
        if (!s) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_FAILURE_ENV;
            goto out;
        }
        printf("udsecu: DoIP entity 0x%04X with ECU 0x%04X on port %u, software %.8s, "
               "application %s\n", dc.entity, dc.ecu, uf_doip_server_port(s), version, app);
        fflush(stdout);
        if (!uf_doip_server_run(s, until, &stop_requested, &err)) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_FAILURE_ENV;
        }
        uf_doip_server_free(s);
    } else {
        uf_isotp_ep_config ic;
        if (!isotp_config(o, e, &ic, &err)) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_USAGE;
            goto out;
        }
        uf_channel *ch;
        if (o->can) {
            uint32_t ids[3] = {ic.rx_id, ic.functional_rx_id, ic.tx_id};
            uf_can_medium *m = uf_can_medium_socketcan(o->can, ic.tx.fd, ids, 3, &err);
            ch = m ? uf_channel_isotp(m, &ic) : NULL;
        } else {
            ch = uf_channel_kernel_isotp(o->kernel_isotp, &ic, &err);
        }
        if (!ch) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_FAILURE_ENV;
            goto out;
        }
        printf("udsecu: ECU on %s, software %.8s, application %s\n", ch->name, version, app);
        fflush(stdout);
        serve_ctx sc = {o, file};
        uf_serve_hooks hooks = {&sc, on_request, on_answer, on_warning, flash_healthy};
        if (!uf_serve_channel(ch, uf_ecu_responder(e), until, &stop_requested, &hooks, &err)) {
            fprintf(stderr, "udsecu: %s\n", err.msg);
            rc = EXIT_FAILURE_ENV;
        }
        uf_channel_free(ch);
    }
    report_stop(e);
    if (file && uf_ecu_file_failed(file, &err)) {
        fprintf(stderr, "udsecu: %s\n", err.msg);
        rc = EXIT_FAILURE_ENV;
    }
out:
    uf_ecu_free(e);
    uf_ecu_file_close(file);
    return rc;
}

int main(int argc, char **argv)
{
    options o = {.tx_dl = -1, .bs = -1, .stmin = -1, .port = -1, .p2 = -1, .p2star = -1,
                 .s3 = -1, .erase_time = -1, .reset_time = -1, .response_time = -1,
                 .max_block = -1, .seed = -1};
    GOptionEntry where[] = {
        {"can", 0, 0, G_OPTION_ARG_STRING, &o.can, "Serve on a SocketCAN interface (raw CAN, "
         "the userspace ISO-TP endpoint)", "IFACE"},
        {"kernel-isotp", 0, 0, G_OPTION_ARG_STRING, &o.kernel_isotp,
         "Serve on a SocketCAN interface with the kernel's ISO-TP", "IFACE"},
        {"doip", 0, 0, G_OPTION_ARG_NONE, &o.doip, "Serve as a DoIP entity (TCP and UDP 13400)",
         NULL},
        G_OPTION_ENTRY_NULL};
    GOptionEntry can[] = {
        {"tx-id", 0, 0, G_OPTION_ARG_STRING, &o.tx_id, "Our CAN id (default 0x7E8)", "ID"},
        {"rx-id", 0, 0, G_OPTION_ARG_STRING, &o.rx_id, "The tester's CAN id (default 0x7E0)", "ID"},
        {"functional-id", 0, 0, G_OPTION_ARG_STRING, &o.functional_id,
         "Functional requests (default 0x7DF)", "ID"},
        {"addressing", 0, 0, G_OPTION_ARG_STRING, &o.addressing,
         "normal (default), extended or mixed", "MODE"},
        {"address", 0, 0, G_OPTION_ARG_STRING, &o.address,
         "Extended / mixed: the address byte of frames to us", "BYTE"},
        {"tester-address", 0, 0, G_OPTION_ARG_STRING, &o.tester_address,
         "Extended / mixed: the address byte of our frames", "BYTE"},
        {"fd", 0, 0, G_OPTION_ARG_NONE, &o.fd, "CAN FD frames (with bit rate switch)", NULL},
        {"tx-dl", 0, 0, G_OPTION_ARG_INT, &o.tx_dl, "CAN FD frame length (default 64)", "N"},
        {"padding", 0, 0, G_OPTION_ARG_STRING, &o.padding,
         "Padding byte (default 0xCC), or none", "BYTE"},
        {"bs", 0, 0, G_OPTION_ARG_INT, &o.bs, "Block size of our flow control (default 0)", "N"},
        {"stmin", 0, 0, G_OPTION_ARG_INT, &o.stmin,
         "STmin of our flow control, raw (default 0; 0xF1-0xF9: 100-900 us)", "N"},
        G_OPTION_ENTRY_NULL};
    GOptionEntry doip[] = {
        {"listen", 0, 0, G_OPTION_ARG_STRING, &o.listen,
         "Address to listen on (default: all, IPv6 and IPv4)", "ADDR"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "TCP and UDP port (default 13400; 0: any)", "N"},
        {"doip-address", 0, 0, G_OPTION_ARG_STRING, &o.doip_address,
         "The ECU's logical address (default 0x0010)", "LA"},
        {"doip-entity", 0, 0, G_OPTION_ARG_STRING, &o.doip_entity,
         "The entity's logical address (default 0x1000)", "LA"},
        {"doip-functional", 0, 0, G_OPTION_ARG_STRING, &o.doip_functional,
         "Functional group address (default 0xE400)", "LA"},
        {"announce", 0, 0, G_OPTION_ARG_STRING, &o.announce,
         "Send 3 vehicle announcements to this address at start", "ADDR"},
        G_OPTION_ENTRY_NULL};
    GOptionEntry ecu[] = {
        {"flash", 0, 0, G_OPTION_ARG_FILENAME, &o.flash,
         "Keep the flash in this file (created erased; default: in memory)", "FILE"},
        {"region", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.regions,
         "A flash region, repeatable (default 0x10000:0xF0000)", "ADDR:SIZE"},
        {"p2", 0, 0, G_OPTION_ARG_INT, &o.p2, "P2_server_max announced, ms (default 50)", "MS"},
        {"p2star", 0, 0, G_OPTION_ARG_INT, &o.p2star, "P2*_server_max announced, ms (default 5000)",
         "MS"},
        {"s3", 0, 0, G_OPTION_ARG_INT, &o.s3, "S3_server, ms (default 5000)", "MS"},
        {"erase-time", 0, 0, G_OPTION_ARG_INT, &o.erase_time,
         "How long the erase takes, ms (default 1000)", "MS"},
        {"reset-time", 0, 0, G_OPTION_ARG_INT, &o.reset_time,
         "How long a reset takes, ms (default 500)", "MS"},
        {"response-time", 0, 0, G_OPTION_ARG_DOUBLE, &o.response_time,
         "How long an ordinary answer takes, ms, fractions too (default 2; 0: at once)", "MS"},
        {"max-block", 0, 0, G_OPTION_ARG_INT, &o.max_block,
         "maxNumberOfBlockLength (default 0x402 = 1026)", "N"},
        {"vin", 0, 0, G_OPTION_ARG_STRING, &o.vin, "VIN (F190)", "VIN"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
         "Seed of the security seeds and of probabilistic faults (default 1)", "N"},
        {"fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.faults,
         "Inject a fault, repeatable (docs/udsecu.md)", "SPEC"},
        {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &o.duration, "Stop after this many seconds",
         "S"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose, "Log every request and answer", NULL},
        G_OPTION_ENTRY_NULL};
    GOptionContext *ctx = g_option_context_new("- a virtual ECU with a flash bootloader");
    g_option_context_set_summary(ctx, "Serves UDS (ISO 14229) flash requests on SocketCAN or "
                                      "DoIP: sessions, security access, erase, download, "
                                      "transfer, check, reset, with injectable faults.");
    g_option_context_add_main_entries(ctx, where, NULL);
    const struct {
        const char *name, *desc;
        GOptionEntry *e;
    } groups[] = {{"can", "SocketCAN options", can},
                  {"doip", "DoIP options", doip},
                  {"ecu", "ECU options", ecu}};
    for (size_t i = 0; i < UF_ARRAY_LEN(groups); i++) {
        GOptionGroup *g = g_option_group_new(groups[i].name, groups[i].desc,
                                             "Show these options", NULL, NULL);
        g_option_group_add_entries(g, groups[i].e);
        g_option_context_add_group(ctx, g);
    }
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        fprintf(stderr, "udsecu: %s (udsecu --help)\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(ctx);
        options_free(&o);
        return EXIT_USAGE;
    }
    g_option_context_free(ctx);
    int rc = serve(&o);
    options_free(&o);
    return rc;
}
