/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * SocketCAN: raw CAN / CAN FD frames (CAN_RAW) as a medium for the
 * userspace ISO-TP endpoint, and the kernel's own ISO-TP (CAN_ISOTP,
 * Linux 5.10+) as a channel. A raw write returns when the frame has left:
 * the socket receives its own frames back with MSG_CONFIRM once they are
 * on the bus, so STmin counts from the real end of transmission.
 */
#define _GNU_SOURCE /* ppoll, recvmmsg, sendmmsg */
#include "uf_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/can.h>
#include <linux/can/isotp.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* N_As / N_Ar (ISO 15765-2:2016 Table 16): a frame must leave within 1 s. */
#define N_AS (1000 * UF_NS_PER_MS)

/* Opens a CAN socket on an interface, with sentences for what usually
 * goes wrong: no AF_CAN in the kernel, the protocol module missing, no
 * such interface. */
static int can_socket(int type, int protocol, const char *ifname, int *ifindex, uf_error *err)
{
    int s = socket(PF_CAN, type, protocol);
    if (s < 0) {
        if (errno == EAFNOSUPPORT)
            uf_error_set(err, "SocketCAN is not available: this kernel has no AF_CAN "
                              "(modprobe can)");
        else if (errno == EPROTONOSUPPORT)
            uf_error_set(err, "SocketCAN: this kernel has no %s (modprobe %s)",
                         protocol == CAN_ISOTP ? "CAN ISO-TP" : "raw CAN",
                         protocol == CAN_ISOTP ? "can-isotp" : "can-raw");
        else
            uf_error_set(err, "SocketCAN: cannot open a socket: %s", g_strerror(errno));
        return -1;
    }
    *ifindex = (int)if_nametoindex(ifname);
    if (*ifindex == 0) {
        uf_error_set(err, "%s: no such network interface (a virtual one: ip link add dev %s "
                          "type vcan && ip link set %s up)", ifname, ifname, ifname);
        close(s);
        return -1;
    }
    return s;
}

/* Waits for POLLIN / POLLOUT on up to two fds until the deadline
 * (monotonic ns; UF_TIME_NONE: forever), spinning first where that pays:
 * the echo of a frame just written, and the next frame of a peer sending
 * back to back, come sooner than a sleeping process wakes. */
static int wait_fds(struct pollfd *p, nfds_t n, uf_time deadline)
{
    for (;;) {
        int r = uf_poll_spinning(p, n, deadline);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

static void to_linux(const uf_can_frame *f, struct canfd_frame *out, size_t *size)
{
    memset(out, 0, sizeof(*out));
    out->can_id = f->id | ((f->flags & UF_CAN_EFF) ? CAN_EFF_FLAG : 0);
    out->len = f->len;
    memcpy(out->data, f->data, f->len);
    if (f->flags & UF_CAN_FD) {
        out->flags = (uint8_t)(((f->flags & UF_CAN_BRS) ? CANFD_BRS : 0) |
                               ((f->flags & UF_CAN_ESI) ? CANFD_ESI : 0));
        *size = CANFD_MTU;
    } else {
        *size = CAN_MTU;
    }
}

static void from_linux(const struct canfd_frame *in, size_t size, uf_can_frame *f)
{
    memset(f, 0, sizeof(*f));
    f->flags = 0;
    if (in->can_id & CAN_EFF_FLAG) {
        f->flags |= UF_CAN_EFF;
        f->id = in->can_id & CAN_EFF_MASK;
    } else {
        f->id = in->can_id & CAN_SFF_MASK;
    }
    if (in->can_id & CAN_RTR_FLAG)
        f->flags |= UF_CAN_RTR;
    if (in->can_id & CAN_ERR_FLAG)
        f->flags |= UF_CAN_ERR;
    uint8_t max = size == CANFD_MTU ? CANFD_MAX_DLEN : CAN_MAX_DLEN;
    f->len = in->len > max ? max : in->len;
    memcpy(f->data, in->data, f->len);
    if (size == CANFD_MTU) {
        f->flags |= UF_CAN_FD;
        if (in->flags & CANFD_BRS)
            f->flags |= UF_CAN_BRS;
        if (in->flags & CANFD_ESI)
            f->flags |= UF_CAN_ESI;
    }
}

/* ---- raw CAN as a medium ----------------------------------------------------------*/

/* Frames are read RX_BATCH at a time (recvmmsg) and a burst is written
 * TX_BATCH at a time (sendmmsg): at STmin 0 a consecutive frame, or the
 * echo of one, comes every few microseconds, and a system call for each
 * was most of what the endpoint spent per frame. */
#define RX_BATCH 32
#define TX_BATCH 64

typedef struct rx_slot {
    struct canfd_frame cf;
    struct iovec iov;
    _Alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct timespec))];
} rx_slot;

typedef struct raw_medium {
    uf_can_medium base;
    int s;
    bool fd;
    GQueue rx; /* frames read while waiting for an echo */
    /* CLOCK_REALTIME minus CLOCK_MONOTONIC, for the kernel's timestamps. */
    uf_time clock_offset, offset_taken;
    /* The batch last read: msgs[next, count) are still to be taken, all
     * of them in the socket before `read_at`. */
    struct mmsghdr msgs[RX_BATCH];
    rx_slot slots[RX_BATCH];
    unsigned next, count;
    uf_time read_at;
} raw_medium;

typedef struct queued_frame {
    uf_can_frame f;
    uf_time t;
} queued_frame;

static uf_time timespec_ns(const struct timespec *ts)
{
    return (uf_time)ts->tv_sec * UF_NS_PER_S + ts->tv_nsec;
}

/* The offset of the realtime clock from the monotonic one, from the
 * closest of three pairs of readings, again every second (the realtime
 * clock may be stepped or slewed). One reading of each clock per frame
 * would put the time between the two readings into the frame's time: on
 * a slow clocksource (HPET in a VM) enough to move consecutive frames
 * closer than they were. */
static void refresh_offset(raw_medium *r, uf_time now)
{
    if (r->offset_taken && now - r->offset_taken < UF_NS_PER_S)
        return;
    uf_time best = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        struct timespec a, real, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &real);
        clock_gettime(CLOCK_MONOTONIC, &b);
        uf_time spread = timespec_ns(&b) - timespec_ns(&a);
        if (spread < best) {
            best = spread;
            r->clock_offset = timespec_ns(&real) - (timespec_ns(&a) + spread / 2);
        }
    }
    r->offset_taken = now;
}

/* When the kernel took the frame (SO_TIMESTAMPNS: for our own frames,
 * when it left), on the monotonic clock: a frame's time does not depend
 * on how late this process got round to reading it. Without a timestamp,
 * or with one that the offset would put in the future or over a second
 * back (a clock step not yet seen), when it was read. */
static uf_time frame_time(raw_medium *r, struct msghdr *msg)
{
    uf_time now = r->read_at;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        refresh_offset(r, now);
        uf_time t = timespec_ns(&ts) - r->clock_offset;
        return t <= now && now - t < UF_NS_PER_S ? t : now;
    }
    return now;
}

/* Points each message header of the batch at its slot, once. */
static void slots_init(raw_medium *r)
{
    for (unsigned i = 0; i < RX_BATCH; i++) {
        rx_slot *slot = &r->slots[i];
        slot->iov = (struct iovec){&slot->cf, sizeof(slot->cf)};
        r->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &slot->iov, .msg_iovlen = 1,
                                             .msg_control = slot->control,
                                             .msg_controllen = sizeof(slot->control)};
    }
}

/* Reads as many frames as are there, RX_BATCH at most. False on failure. */
static bool read_batch(raw_medium *r, uf_error *err)
{
    /* recvmmsg shrank the control length of the headers it filled. */
    for (unsigned i = 0; i < r->count; i++)
        r->msgs[i].msg_hdr.msg_controllen = sizeof(r->slots[i].control);
    r->next = r->count = 0;
    int n = recvmmsg(r->s, r->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return true;
        uf_error_set(err, "%s: reading failed: %s", r->base.name, g_strerror(errno));
        return false;
    }
    r->count = (unsigned)n;
    r->read_at = uf_clock_monotonic();
    return true;
}

/* Takes one frame that is there. 1: a frame of another node, 2: our own
 * echo, 0: nothing, -1 failure. */
static int read_frame(raw_medium *r, uf_can_frame *f, uf_time *t, uf_error *err)
{
    for (;;) {
        if (r->next == r->count) {
            if (!read_batch(r, err))
                return -1;
            if (r->count == 0)
                return 0;
        }
        struct mmsghdr *m = &r->msgs[r->next++];
        if (m->msg_len != CAN_MTU && m->msg_len != CANFD_MTU)
            continue;
        from_linux(&r->slots[m - r->msgs].cf, m->msg_len, f);
        *t = frame_time(r, &m->msg_hdr);
        return (m->msg_hdr.msg_flags & MSG_CONFIRM) ? 2 : 1;
    }
}

/* Hands frames to the socket, TX_BATCH at most per call (sendmmsg).
 * Returns how many it took, 0 while the controller's queue is full
 * (ENOBUFS), -1 on failure. */
static int send_some(raw_medium *r, const uf_can_frame *f, size_t n, uf_error *err)
{
    struct canfd_frame cf[TX_BATCH];
    struct iovec iov[TX_BATCH];
    struct mmsghdr msgs[TX_BATCH];
    unsigned k = n < TX_BATCH ? (unsigned)n : TX_BATCH;
    for (unsigned i = 0; i < k; i++) {
        size_t size;
        to_linux(&f[i], &cf[i], &size);
        iov[i] = (struct iovec){&cf[i], size};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int sent = sendmmsg(r->s, msgs, k, MSG_DONTWAIT);
    if (sent >= 0)
        return sent;
    if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
        return 0;
    if (errno == ENETDOWN)
        uf_error_set(err, "%s: the interface is down (ip link set %s up)", r->base.name,
                     r->base.name);
    else
        uf_error_set(err, "%s: writing frame 0x%X failed: %s", r->base.name, f->id,
                     g_strerror(errno));
    return -1;
}

/* Puts frames on the bus back to back and returns once each came back
 * flagged MSG_CONFIRM (it left), the time of each in sent[]; frames of
 * others meanwhile are kept for raw_read. Each frame has N_As to leave,
 * counted from the one before it: on a slow bus the last of a long burst
 * waits behind the others in the controller's queue. */
static bool raw_write_burst(uf_can_medium *m, const uf_can_frame *f, size_t n, uf_time *sent,
                            uf_error *err)
{
    raw_medium *r = (raw_medium *)m;
    for (size_t i = 0; i < n; i++)
        if ((f[i].flags & UF_CAN_FD) && !r->fd) {
            uf_error_set(err, "%s: a CAN FD frame on a socket opened for classic CAN", m->name);
            return false;
        }
    size_t queued = 0, confirmed = 0;
    uf_time deadline = uf_clock_monotonic() + N_AS;
    while (confirmed < n) {
        bool progress = false;
        if (queued < n) {
            int k = send_some(r, f + queued, n - queued, err);
            if (k < 0)
                return false;
            queued += (size_t)k;
            progress = k > 0;
        }
        for (;;) {
            uf_can_frame got;
            uf_time t;
            int k = read_frame(r, &got, &t, err);
            if (k < 0)
                return false;
            if (k == 0)
                break;
            if (k == 2 && confirmed < queued) {
                sent[confirmed++] = t;
                progress = true;
            } else if (k == 1) {
                queued_frame *q = g_new(queued_frame, 1);
                q->f = got;
                q->t = t;
                g_queue_push_tail(&r->rx, q);
            }
        }
        if (confirmed == n)
            break;
        uf_time now = uf_clock_monotonic();
        if (progress) {
            deadline = now + N_AS;
            continue;
        }
        if (now >= deadline) {
            if (queued == confirmed)
                uf_error_set(err, "%s: frame 0x%X not sent within N_As (1000 ms): the transmit "
                                  "queue stays full (bus off, or no node acknowledges)",
                             m->name, f[queued].id);
            else
                uf_error_set(err, "%s: frame 0x%X not confirmed sent within N_As (1000 ms): no "
                                  "node acknowledges it", m->name, f[confirmed].id);
            return false;
        }
        if (queued > confirmed) {
            /* Ours are on their way: their echoes wake us. */
            struct pollfd p = {r->s, POLLIN, 0};
            if (wait_fds(&p, 1, deadline) < 0) {
                uf_error_set(err, "%s: %s", m->name, g_strerror(errno));
                return false;
            }
        } else {
            /* The queue is full of others' frames, and ENOBUFS does not
             * wake poll: 1 ms steps. */
            struct pollfd p = {r->s, POLLOUT, 0};
            struct timespec pause = {0, 1000000};
            if (wait_fds(&p, 1, now + UF_NS_PER_MS) <= 0)
                nanosleep(&pause, NULL);
        }
    }
    return true;
}

static bool raw_write(uf_can_medium *m, const uf_can_frame *f, uf_time *sent, uf_error *err)
{
    return raw_write_burst(m, f, 1, sent, err);
}

static int raw_read(uf_can_medium *m, uf_can_frame *f, uf_time *t, uf_time deadline, uf_error *err)
{
    raw_medium *r = (raw_medium *)m;
    queued_frame *q = g_queue_pop_head(&r->rx);
    if (q) {
        *f = q->f;
        *t = q->t;
        g_free(q);
        return 1;
    }
    for (;;) {
        int k = read_frame(r, f, t, err);
        if (k < 0)
            return -1;
        if (k == 1)
            return 1;
        if (k == 2)
            continue; /* a late echo */
        struct pollfd p = {r->s, POLLIN, 0};
        int w = wait_fds(&p, 1, deadline);
        if (w < 0) {
            uf_error_set(err, "%s: %s", m->name, g_strerror(errno));
            return -1;
        }
        if (w == 0)
            return 0;
    }
}

static uf_time raw_now(uf_can_medium *m)
{
    (void)m;
    return uf_clock_monotonic();
}

static void raw_free(uf_can_medium *m)
{
    raw_medium *r = (raw_medium *)m;
    close(r->s);
    g_queue_clear_full(&r->rx, g_free);
    g_free(r);
}

static const uf_can_medium_ops raw_ops = {raw_write, raw_read, raw_now, raw_free,
                                          raw_write_burst};

uf_can_medium *uf_can_medium_socketcan(const char *ifname, bool fd, const uint32_t *ids,
                                       size_t n_ids, uf_error *err)
{
    int ifindex;
    int s = can_socket(SOCK_RAW, CAN_RAW, ifname, &ifindex, err);
    if (s < 0)
        return NULL;
    int on = 1;
    if (fd && setsockopt(s, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof(on)) < 0) {
        uf_error_set(err, "%s: CAN FD frames are not supported: %s", ifname, g_strerror(errno));
        close(s);
        return NULL;
    }
    /* Our own frames come back, flagged MSG_CONFIRM, once they left. */
    setsockopt(s, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &on, sizeof(on));
    /* A flash at STmin 0 outruns the default receive buffer of a busy or
     * emulated host, and a frame lost here is a transfer broken (or a
     * recording with a hole): 8 MiB as candump -r does, as far as the
     * privileges allow. */
    int buffer = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) < 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)); /* frame_time() */
    if (n_ids) {
        struct can_filter *fl = g_new0(struct can_filter, n_ids);
        for (size_t i = 0; i < n_ids; i++) {
            bool eff = (ids[i] & UF_ISOTP_EFF) != 0;
            fl[i].can_id = (ids[i] & CAN_EFF_MASK) | (eff ? CAN_EFF_FLAG : 0);
            fl[i].can_mask = (eff ? CAN_EFF_MASK : CAN_SFF_MASK) | CAN_EFF_FLAG | CAN_RTR_FLAG;
        }
        setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, fl, (socklen_t)(n_ids * sizeof(*fl)));
        g_free(fl);
    }
    struct sockaddr_can addr = {.can_family = AF_CAN, .can_ifindex = ifindex};
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        uf_error_set(err, "%s: cannot bind a CAN socket: %s", ifname, g_strerror(errno));
        close(s);
        return NULL;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    raw_medium *r = g_new0(raw_medium, 1);
    r->base.ops = &raw_ops;
    g_strlcpy(r->base.name, ifname, sizeof(r->base.name));
    r->s = s;
    r->fd = fd;
    g_queue_init(&r->rx);
    slots_init(r);
    return &r->base;
}

/* ---- the kernel's ISO-TP as a channel ------------------------------------------------*/

typedef struct kernel_channel {
    uf_channel base;
    int s;           /* physical */
    int sf;          /* functional: SF_BROADCAST to send, LISTEN_MODE to receive; -1 none */
    uint8_t buf[65536];
    uint8_t *current;
} kernel_channel;

static canid_t kid(uint32_t id)
{
    return (id & CAN_EFF_MASK) | ((id & UF_ISOTP_EFF) ? CAN_EFF_FLAG : 0);
}

static int isotp_socket(const char *ifname, const uf_isotp_ep_config *c, uint32_t tx_id,
                        uint32_t rx_id, uint32_t extra_flags, uf_error *err)
{
    int ifindex;
    int s = can_socket(SOCK_DGRAM, CAN_ISOTP, ifname, &ifindex, err);
    if (s < 0)
        return -1;
    struct can_isotp_options o = {0};
    o.flags = CAN_ISOTP_WAIT_TX_DONE | extra_flags;
    o.frame_txtime = CAN_ISOTP_FRAME_TXTIME_ZERO;
    if (c->tx.pad) {
        o.flags |= CAN_ISOTP_TX_PADDING;
        o.txpad_content = c->tx.pad_byte;
    }
    if (uf_addressing_prefix(c->tx.addressing)) {
        o.flags |= CAN_ISOTP_EXTEND_ADDR;
        o.ext_address = c->tx.addr;
        if (c->rx_addr >= 0) {
            o.flags |= CAN_ISOTP_RX_EXT_ADDR;
            o.rx_ext_address = (uint8_t)c->rx_addr;
        }
    }
    struct can_isotp_fc_options fc = {c->bs, c->stmin, (uint8_t)(c->wft_max > 255 ? 255 : c->wft_max)};
    bool ok = setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_OPTS, &o, sizeof(o)) == 0 &&
              setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_RECV_FC, &fc, sizeof(fc)) == 0;
    if (ok && c->tx.fd) {
        struct can_isotp_ll_options ll = {CANFD_MTU, c->tx.tx_dl ? c->tx.tx_dl : 64, CANFD_BRS};
        ok = setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_LL_OPTS, &ll, sizeof(ll)) == 0;
    }
    if (!ok) {
        uf_error_set(err, "%s: the kernel's ISO-TP refuses these options: %s", ifname,
                     g_strerror(errno));
        close(s);
        return -1;
    }
    struct sockaddr_can addr = {.can_family = AF_CAN, .can_ifindex = ifindex};
    addr.can_addr.tp.tx_id = kid(tx_id);
    addr.can_addr.tp.rx_id = kid(rx_id);
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        uf_error_set(err, "%s: cannot bind the ISO-TP socket to 0x%X / 0x%X: %s", ifname, tx_id,
                     rx_id, g_strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

static bool kernel_send(uf_channel *t, const uint8_t *p, size_t n, bool functional, uf_error *err)
{
    kernel_channel *k = (kernel_channel *)t;
    int s = k->s;
    if (functional) {
        if (k->sf < 0) {
            uf_error_set(err, "%s: no functional id is set", t->name);
            return false;
        }
        s = k->sf;
    }
    /* The kernel segments, obeys the FC and N_Bs (ECOMM when none came),
     * and with WAIT_TX_DONE returns when the last frame left. */
    ssize_t w = write(s, p, n);
    if (w == (ssize_t)n)
        return true;
    const char *why = errno == ECOMM ? "no flow control within N_Bs, or FC.OVFLW / too many "
                                       "FC.WAIT (the kernel's ECOMM)"
                                     : g_strerror(errno);
    uf_error_set(err, "%s: sending %zu bytes failed: %s", t->name, n, why);
    return false;
}

static int kernel_recv(uf_channel *t, uf_channel_msg *m, uf_time deadline, uf_error *err)
{
    kernel_channel *k = (kernel_channel *)t;
    struct pollfd p[2] = {{k->s, POLLIN, 0}, {k->sf, POLLIN, 0}};
    nfds_t n = k->sf >= 0 ? 2 : 1;
    for (;;) {
        int w = wait_fds(p, n, deadline);
        if (w < 0) {
            uf_error_set(err, "%s: %s", t->name, g_strerror(errno));
            return -1;
        }
        if (w == 0)
            return 0;
        for (nfds_t i = 0; i < n; i++) {
            if (!(p[i].revents & (POLLIN | POLLERR)))
                continue;
            ssize_t r = recv(p[i].fd, k->buf, sizeof(k->buf), MSG_DONTWAIT);
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                /* A reception that broke off (wrong SN, N_Cr): the kernel
                 * reports it as an error; the next message may follow. */
                if (errno == EILSEQ || errno == ETIMEDOUT || errno == ECOMM || errno == EBADMSG)
                    continue;
                uf_error_set(err, "%s: reading failed: %s", t->name, g_strerror(errno));
                return -1;
            }
            m->data = k->buf;
            m->len = (size_t)r;
            m->functional = i == 1;
            m->time = uf_clock_monotonic();
            return 1;
        }
    }
}

static uf_time kernel_now(uf_channel *t)
{
    (void)t;
    return uf_clock_monotonic();
}

static void kernel_free(uf_channel *t)
{
    kernel_channel *k = (kernel_channel *)t;
    close(k->s);
    if (k->sf >= 0)
        close(k->sf);
    g_free(k);
}

static const uf_channel_ops kernel_ops = {kernel_send, kernel_recv, kernel_now, kernel_free};

uf_channel *uf_channel_kernel_isotp(const char *ifname, const uf_isotp_ep_config *c,
                                    uf_error *err)
{
    int s = isotp_socket(ifname, c, c->tx_id, c->rx_id, 0, err);
    if (s < 0)
        return NULL;
    int sf = -1;
    if (c->functional_tx_id) {
        /* A tester's functional requests: single frames only (SF_BROADCAST). */
        uf_isotp_ep_config fc = *c;
        fc.tx = c->functional_tx;
        sf = isotp_socket(ifname, &fc, c->functional_tx_id, c->functional_tx_id,
                          CAN_ISOTP_SF_BROADCAST, err);
    } else if (c->functional_rx_id) {
        /* An ECU's: a listening socket sends no flow control. */
        sf = isotp_socket(ifname, c, c->tx_id, c->functional_rx_id, CAN_ISOTP_LISTEN_MODE, err);
    }
    if ((c->functional_tx_id || c->functional_rx_id) && sf < 0) {
        close(s);
        return NULL;
    }
    kernel_channel *k = g_new0(kernel_channel, 1);
    k->base.ops = &kernel_ops;
    k->s = s;
    k->sf = sf;
    uf_isotp_endpoint tx = {0, c->tx_id, -1}, rx = {0, c->rx_id, -1};
    char a[24], b[24];
    snprintf(k->base.name, sizeof(k->base.name), "%s (kernel ISO-TP) %s->%s", ifname,
             uf_isotp_endpoint_name(&tx, a, sizeof(a)), uf_isotp_endpoint_name(&rx, b, sizeof(b)));
    return &k->base;
}
