/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * uf-isotp: sends or receives one ISO-TP message on SocketCAN with the
 * project's userspace endpoint (or, with --kernel, the kernel's ISO-TP),
 * for the interoperability scenarios against can-utils' isotpsend and
 * isotprecv in the qemu VM. Data is printed and read as isotprecv and
 * isotpsend do: space-separated hex bytes, one message per line.
 *
 *   uf-isotp send IFACE --tx ID --rx ID [--size N] [--fd] [--ext TA:RA] ...
 *   uf-isotp recv IFACE --tx ID --rx ID [--bs N] [--stmin N] [--timeout S]
 *   uf-isotp pattern --size N
 * --count N sends or receives N messages in one process; --stats prints,
 * on stderr, the receiver's throughput from the first message to the last
 * (bench/isotp-vm.sh compares the two ISO-TP implementations with it).
 */
#include "uf_transport.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) + 1);
}

/* The format of can-utils' isotprecv ("%02X " per byte, then a newline),
 * which its isotpsend reads too, so outputs compare byte for byte. Built
 * in a buffer and written at once: a printf per byte took the receiver
 * about 3 ms per 4095-byte message in the VM, time in which our endpoint
 * (unlike the kernel's) reads no frame, which bench/isotp-vm.sh would
 * have counted against it. */
static void print_hex(const uint8_t *p, size_t n)
{
    char *line = g_malloc(n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        *uf_put_hex_byte(line + i * 3, p[i]) = ' ';
    line[n * 3] = '\n';
    fwrite(line, 1, n * 3 + 1, stdout);
    g_free(line);
}

static bool id_of(const char *text, uint32_t *out)
{
    uint32_t v;
    if (!uf_parse_u32(text, &v) || v > 0x1FFFFFFF)
        return false;
    *out = v | (v > 0x7FF || strlen(text) > 5 ? UF_ISOTP_EFF : 0);
    return true;
}

int main(int argc, char **argv)
{
    /* Option strings are GLib's to free: g_autofree, as the tool returns
     * from many places and the sanitizer build checks for leaks. */
    g_autofree char *tx = NULL;
    g_autofree char *rx = NULL;
    g_autofree char *ext = NULL;
    g_autofree char *pad = NULL;
    gint size = 0, bs = 0, stmin = 0, count = 1;
    gdouble timeout = 10;
    gboolean fd = FALSE, kernel = FALSE, stats = FALSE;
    GOptionEntry entries[] = {
        {"tx", 0, 0, G_OPTION_ARG_STRING, &tx, "Our CAN id", "ID"},
        {"rx", 0, 0, G_OPTION_ARG_STRING, &rx, "The partner's CAN id", "ID"},
        {"size", 0, 0, G_OPTION_ARG_INT, &size, "Bytes of the pattern to send", "N"},
        {"fd", 0, 0, G_OPTION_ARG_NONE, &fd, "CAN FD, TX_DL 64", NULL},
        {"ext", 0, 0, G_OPTION_ARG_STRING, &ext, "Extended addressing: our frames' byte, "
         "then the byte of frames to us", "TA:RA"},
        {"pad", 0, 0, G_OPTION_ARG_STRING, &pad, "Padding byte, or none", "XX"},
        {"bs", 0, 0, G_OPTION_ARG_INT, &bs, "Our block size (receiving)", "N"},
        {"stmin", 0, 0, G_OPTION_ARG_INT, &stmin, "Our STmin, raw (receiving)", "N"},
        {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout, "Seconds to wait (receiving)", "S"},
        {"kernel", 0, 0, G_OPTION_ARG_NONE, &kernel, "The kernel's ISO-TP", NULL},
        {"count", 0, 0, G_OPTION_ARG_INT, &count, "Messages to send or receive", "N"},
        {"stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Receiving: the throughput on stderr", NULL},
        G_OPTION_ENTRY_NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("send|recv IFACE | pattern");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        fprintf(stderr, "uf-isotp: %s\n", gerr->message);
        g_error_free(gerr);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "pattern") == 0) {
        uint8_t *p = g_malloc((gsize)size + 1);
        for (gint i = 0; i < size; i++)
            p[i] = pattern_byte((size_t)i);
        print_hex(p, (size_t)size);
        g_free(p);
        return 0;
    }
    uint32_t txid, rxid;
    if (argc != 3 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")) || !tx || !rx ||
        !id_of(tx, &txid) || !id_of(rx, &rxid)) {
        fprintf(stderr, "uf-isotp: send|recv IFACE --tx ID --rx ID (uf-isotp --help)\n");
        return 2;
    }
    uf_isotp_ep_config c;
    uf_isotp_ep_config_defaults(&c, txid, rxid);
    if (ext) {
        unsigned ta, ra;
        if (sscanf(ext, "%x:%x", &ta, &ra) != 2 || ta > 0xFF || ra > 0xFF) {
            fprintf(stderr, "uf-isotp: --ext TA:RA in hex\n");
            return 2;
        }
        c.tx.addressing = UF_ADDR_EXTENDED;
        c.tx.addr = (uint8_t)ta;
        c.rx_addr = (int16_t)ra;
    }
    if (fd) {
        c.tx.fd = true;
        c.tx.tx_dl = 64;
    }
    if (pad && strcmp(pad, "none") == 0)
        c.tx.pad = false;
    else if (pad)
        c.tx.pad_byte = (uint8_t)strtoul(pad, NULL, 16);
    c.bs = (uint8_t)bs;
    c.stmin = (uint8_t)stmin;
    c.rx_max = 1u << 20;
    uf_error err;
    uf_channel *ch;
    if (kernel) {
        ch = uf_channel_kernel_isotp(argv[2], &c, &err);
    } else {
        uint32_t ids[2] = {txid, rxid};
        uf_can_medium *m = uf_can_medium_socketcan(argv[2], fd, ids, 2, &err);
        ch = m ? uf_channel_isotp(m, &c) : NULL;
    }
    if (!ch) {
        fprintf(stderr, "uf-isotp: %s\n", err.msg);
        return 3;
    }
    int rc = 0;
    if (strcmp(argv[1], "send") == 0) {
        uint8_t *p = g_malloc((gsize)size + 1);
        for (gint i = 0; i < size; i++)
            p[i] = pattern_byte((size_t)i);
        for (gint i = 0; i < count && !rc; i++)
            if (!uf_channel_send(ch, p, (size_t)size, false, &err)) {
                fprintf(stderr, "uf-isotp: %s\n", err.msg);
                rc = 1;
            }
        g_free(p);
    } else {
        uf_time first = 0, last = 0;
        uint64_t bytes = 0;
        for (gint i = 0; i < count && !rc; i++) {
            uf_channel_msg m;
            int r = uf_channel_recv(ch, &m, uf_channel_now(ch) + (uf_time)(timeout * 1e9), &err);
            if (r == 1) {
                print_hex(m.data, m.len);
                last = uf_clock_monotonic();
                if (i == 0)
                    first = last;
                else
                    bytes += m.len;
            } else {
                fprintf(stderr, "uf-isotp: %s\n",
                        r == 0 ? "no message within the timeout" : err.msg);
                rc = 1;
            }
        }
        /* From the end of the first message to the end of the last: the
         * start-up of either process is left out. */
        if (stats && !rc && count > 1)
            fprintf(stderr, "uf-isotp: %d messages, %.6f s, %.1f kB/s\n", count,
                    (double)(last - first) / 1e9, (double)bytes / ((double)(last - first) / 1e9) / 1e3);
    }
    uf_channel_free(ch);
    return rc;
}
