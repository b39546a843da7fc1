/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * uf-flash-client: the scripted tester of replay/flash.c on a real
 * channel, for the tests (on this machine over DoIP, in the qemu VM over
 * SocketCAN): flashes an image and prints what happened.
 *
 *   uf-flash-client --can IFACE | --kernel-isotp IFACE | --doip HOST
 *                   [--port N] [--size N] [--address A] [--fd] [--extended]
 */
#include "uf_flash.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    g_autofree char *can = NULL; /* option strings: GLib's to free */
    g_autofree char *kernel = NULL;
    g_autofree char *doip = NULL;
    gint port = 13400, size = 16384, address = 0x10000;
    gboolean fd = FALSE, extended = FALSE, functional = FALSE;
    GOptionEntry entries[] = {
        {"can", 0, 0, G_OPTION_ARG_STRING, &can, "Raw CAN with the userspace ISO-TP", "IFACE"},
        {"kernel-isotp", 0, 0, G_OPTION_ARG_STRING, &kernel, "The kernel's ISO-TP", "IFACE"},
        {"doip", 0, 0, G_OPTION_ARG_STRING, &doip, "A DoIP entity", "HOST"},
        {"port", 0, 0, G_OPTION_ARG_INT, &port, "DoIP port", "N"},
        {"size", 0, 0, G_OPTION_ARG_INT, &size, "Image bytes", "N"},
        {"address", 0, 0, G_OPTION_ARG_INT, &address, "Where", "A"},
        {"fd", 0, 0, G_OPTION_ARG_NONE, &fd, "CAN FD, 64-byte frames", NULL},
        {"extended", 0, 0, G_OPTION_ARG_NONE, &extended,
         "Extended addressing, 0x6F1 / 0x612, addresses 0x12 / 0xF1", NULL},
        {"functional", 0, 0, G_OPTION_ARG_NONE, &functional,
         "DTC setting and communication control to the functional address", NULL},
        G_OPTION_ENTRY_NULL};
    GOptionContext *ctx = g_option_context_new("- flash udsecu with the generic sequence");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        fprintf(stderr, "uf-flash-client: %s\n", gerr->message);
        return 2;
    }
    g_option_context_free(ctx);

    uf_error err;
    uf_channel *ch = NULL;
    if (doip) {
        uf_doip_client_config c;
        uf_doip_client_defaults(&c);
        c.host = doip;
        c.port = (uint16_t)port;
        ch = uf_channel_doip(&c, &err);
    } else if (can || kernel) {
        uf_isotp_ep_config c;
        uint32_t tx = extended ? 0x6F1 : 0x7E0, rx = extended ? 0x612 : 0x7E8;
        uf_isotp_ep_config_defaults(&c, tx, rx);
        c.functional_tx_id = 0x7DF;
        if (extended) {
            c.tx.addressing = UF_ADDR_EXTENDED;
            c.tx.addr = 0x12;
            c.rx_addr = 0xF1;
        }
        if (fd) {
            c.tx.fd = true;
            c.tx.tx_dl = 64;
            c.rx_max = 1u << 20;
        }
        c.functional_tx = c.tx;
        if (can) {
            uint32_t ids[3] = {tx, rx, 0x7DF};
            uf_can_medium *m = uf_can_medium_socketcan(can, fd, ids, 3, &err);
            ch = m ? uf_channel_isotp(m, &c) : NULL;
        } else {
            ch = uf_channel_kernel_isotp(kernel, &c, &err);
        }
    } else {
        fprintf(stderr, "uf-flash-client: give --can, --kernel-isotp or --doip\n");
        return 2;
    }
    if (!ch) {
        fprintf(stderr, "uf-flash-client: %s\n", err.msg);
        return 3;
    }
    uint8_t *image = g_malloc((gsize)size);
    for (gint i = 0; i < size; i++)
        image[i] = (uint8_t)(i * 31 + (i >> 8));
    if (size >= 16)
        memcpy(image + 8, "02.00.00", 8); /* the application header's version */
    uf_flash_plan plan = {.image = image, .size = (uint32_t)size, .address = (uint32_t)address,
                          .functional_pre = functional, .margin = 50 * UF_NS_PER_MS};
    uf_flash_result res;
    bool ok = uf_flash_run(ch, &plan, &res, &err);
    if (ok)
        printf("flashed %d bytes in %u blocks of %u in %.3f s on %s: version %.8s -> %.8s\n",
               size, res.blocks, res.max_block, (double)(res.ended - res.started) / 1e9, ch->name,
               res.version_before, res.version_after);
    else
        fprintf(stderr, "uf-flash-client: %s\n", err.msg);
    uf_channel_free(ch);
    g_free(image);
    return ok ? 0 : 1;
}
