/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live capture through libpcap: a SocketCAN interface (can0, vcan0), an
 * Ethernet one, or "any". The handle is non-blocking and the wait is our
 * own poll(), which wakes every LIVE_TIMEOUT_MS and on a signal, so that
 * uf_reader_break() (from a SIGINT or SIGTERM handler) ends the capture
 * cleanly: libpcap's read timeout does not apply in immediate mode on
 * Linux, where a quiet interface blocked pcap_next_ex() for ever. Where
 * the kernel lacks AF_CAN the open fails with a sentence that says so,
 * instead of libpcap's bare error.
 */
#include "reader_internal.h"

#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIVE_TIMEOUT_MS 100
#define LIVE_BUFFER (8 << 20)
#define LIVE_SNAPLEN 256 /* SLL2 header + canfd_frame, with room */

#ifndef AF_CAN
#define AF_CAN 29
#endif

typedef struct live_backend {
    pcap_t *p;
    int fd; /* pcap_get_selectable_fd() */
    uint32_t linktype;
    uint32_t bus;
    uint32_t ifindex_key, ifindex_bus;
} live_backend;

static bool kernel_has_af_can(void)
{
    int s = socket(AF_CAN, SOCK_RAW, 1 /* CAN_RAW */);
    if (s >= 0) {
        close(s);
        return true;
    }
    return errno != EAFNOSUPPORT;
}

/* On "any", each frame's interface (SLL2's ifindex) is a bus of its own,
 * named as the system names it: vcan0, vcan1. */
static uint32_t live_bus(uf_reader *r, live_backend *b, uint32_t ifindex)
{
    if (ifindex == 0)
        return b->bus;
    if (b->ifindex_key != ifindex) {
        char name[IF_NAMESIZE];
        if (!if_indextoname(ifindex, name))
            return reader_bus_for_ifindex(r, b->bus, ifindex, &b->ifindex_key, &b->ifindex_bus);
        b->ifindex_key = ifindex;
        b->ifindex_bus = reader_bus(r, name);
    }
    return b->ifindex_bus;
}

static int live_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    live_backend *b = r->backend;
    for (;;) {
        if (r->stop)
            return 0;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(b->p, &h, &data);
        if (rc == 0) {
            /* Nothing queued: wait, then look at the stop flag again. */
            struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
            if (poll(&pfd, 1, LIVE_TIMEOUT_MS) < 0 && errno != EINTR) {
                uf_error_set(err, "%s: capture failed after frame %" G_GUINT64_FORMAT ": %s",
                             r->path, r->count, g_strerror(errno));
                return -1;
            }
            continue;
        }
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc != 1) {
            uf_error_set(err, "%s: capture failed after frame %" G_GUINT64_FORMAT ": %s", r->path,
                         r->count, pcap_geterr(b->p));
            return -1;
        }
        rec->time = uf_time_from_parts(h->ts.tv_sec, h->ts.tv_usec); /* ns precision */
        uint32_t ifindex = 0;
        if (uf_decode_link(b->linktype, data, h->caplen, &r->link, rec, &ifindex, &rec->problem) <
            0)
            rec->kind = UF_REC_SKIPPED;
        rec->bus = live_bus(r, b, ifindex);
        return 1;
    }
}

static void live_close(uf_reader *r)
{
    live_backend *b = r->backend;
    if (b) {
        pcap_close(b->p);
        g_free(b);
    }
}

static const reader_ops live_ops = {.next = live_next, .close = live_close};

int live_open(uf_reader *r, const char *iface, uf_error *err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, errbuf);
    if (!p) {
        uf_error_set(err, "%s: cannot capture: %s", iface, errbuf);
        return -1;
    }
    pcap_set_snaplen(p, LIVE_SNAPLEN);
    pcap_set_buffer_size(p, LIVE_BUFFER); /* bursts at STmin 0 while we analyze */
    pcap_set_timeout(p, LIVE_TIMEOUT_MS);
    pcap_set_immediate_mode(p, 1);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *detail = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
        if (!kernel_has_af_can())
            uf_error_set(err, "%s: cannot capture: %s (this kernel has no AF_CAN, so no SocketCAN "
                         "interface can exist here)", iface, detail);
        else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            uf_error_set(err, "%s: no such interface (create a virtual one with "
                         "\"ip link add dev %s type vcan && ip link set %s up\")", iface, iface,
                         iface);
        else if (rc == PCAP_ERROR_PERM_DENIED)
            uf_error_set(err, "%s: permission denied (capturing needs CAP_NET_RAW)", iface);
        else
            uf_error_set(err, "%s: cannot capture: %s", iface, detail);
        pcap_close(p);
        return -1;
    }
    /* "any" speaks Linux cooked v1 unless asked, which has no interface
     * index: ask for v2 so that frames of vcan0 and vcan1 stay apart. */
    if (pcap_datalink(p) == DLT_LINUX_SLL)
        pcap_set_datalink(p, DLT_LINUX_SLL2);
    int fd = pcap_get_selectable_fd(p);
    if (fd < 0 || pcap_setnonblock(p, 1, errbuf) < 0) {
        uf_error_set(err, "%s: cannot capture: %s", iface,
                     fd < 0 ? "no selectable descriptor" : errbuf);
        pcap_close(p);
        return -1;
    }
    live_backend *b = g_new0(live_backend, 1);
    b->p = p;
    b->fd = fd;
    int dlt = pcap_datalink(p);
    b->linktype = (uint32_t)dlt;
    b->bus = reader_bus(r, iface);
    r->backend = b;
    r->ops = &live_ops;
    r->format = "live";
    return 0;
}
