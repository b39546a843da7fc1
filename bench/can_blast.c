/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ceiling of any userspace endpoint on raw CAN sockets: one process
 * writes COUNT classic 8-byte frames back to back, 64 per system call
 * (sendmmsg), and another reads them, 32 per call (recvmmsg), with
 * nothing else to do: no ISO-TP, no flow control, no formatting. The
 * reader prints the frames a second from the first frame to the last.
 * With --echo the writer also reads back its own frames (MSG_CONFIRM), as
 * an ISO-TP sender must, to know when each one left.
 *
 *   uf-bench-can-blast send IFACE COUNT [--echo]
 *   uf-bench-can-blast recv IFACE COUNT
 *
 * bench/isotp-vm.sh runs it in the test VM, on vcan0.
 */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include "blast.h"

#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TX_BATCH 64
#define RX_BATCH 32
#define BLAST_ID 0x123

static int open_socket(const char *ifname, bool own)
{
    int s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
    if (s < 0) {
        perror("uf-bench-can-blast: socket");
        return -1;
    }
    /* As the endpoint's socket is set up (socketcan.c): the same buffer,
     * kernel timestamps, the one id. */
    int on = 1, buffer = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) < 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    /* A frame lost would leave a reader waiting for it: 5 s, then fail. */
    struct timeval patience = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
    if (own)
        setsockopt(s, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &on, sizeof(on));
    struct can_filter filter = {BLAST_ID, CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG};
    setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, &filter, sizeof(filter));
    struct sockaddr_can addr = {.can_family = AF_CAN, .can_ifindex = (int)if_nametoindex(ifname)};
    if (addr.can_ifindex == 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "uf-bench-can-blast: %s: %s\n", ifname, strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

/* Frames and their headers for one sendmmsg or recvmmsg. */
typedef struct batch {
    struct can_frame frames[TX_BATCH];
    struct iovec iov[TX_BATCH];
    _Alignas(struct cmsghdr) char control[TX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
    struct mmsghdr msgs[TX_BATCH];
} batch;

/* Reads what is there (or, if wait, at least one frame); returns how many. */
static int read_some(int s, batch *b, bool wait)
{
    for (int i = 0; i < RX_BATCH; i++) {
        b->iov[i] = (struct iovec){&b->frames[i], sizeof(b->frames[i])};
        b->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &b->iov[i], .msg_iovlen = 1,
                                             .msg_control = b->control[i],
                                             .msg_controllen = sizeof(b->control[i])};
    }
    int n = recvmmsg(s, b->msgs, RX_BATCH, wait ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
    return n < 0 ? 0 : n;
}

static int blast(int s, long count, bool echo)
{
    static batch out, in;
    for (int i = 0; i < TX_BATCH; i++) {
        out.frames[i] = (struct can_frame){.can_id = BLAST_ID, .len = 8};
        out.iov[i] = (struct iovec){&out.frames[i], sizeof(out.frames[i])};
        out.msgs[i].msg_hdr = (struct msghdr){.msg_iov = &out.iov[i], .msg_iovlen = 1};
    }
    long sent = 0, echoes = 0;
    double start = blast_seconds();
    while (sent < count) {
        for (int i = 0; i < TX_BATCH; i++) /* each frame carries its number */
            memcpy(out.frames[i].data, &(int64_t){sent + i}, 8);
        int n = sendmmsg(s, out.msgs, (unsigned)(count - sent < TX_BATCH ? count - sent : TX_BATCH),
                         0);
        if (n > 0)
            sent += n;
        else if (errno == ENOBUFS || errno == EAGAIN)
            usleep(100);
        else {
            perror("uf-bench-can-blast: sendmmsg");
            return 1;
        }
        while (echo && echoes < sent) {
            int k = read_some(s, &in, true);
            if (k == 0) {
                fprintf(stderr, "uf-bench-can-blast: no echo of frame %ld within 5 s\n", echoes);
                return 1;
            }
            echoes += k;
        }
    }
    double took = blast_seconds() - start;
    printf("sent %ld frames (%ld echoes read) in %.6f s: %.0f frames/s\n", sent, echoes, took,
           (double)sent / took);
    return 0;
}

static int sink(int s, long count)
{
    static batch in;
    long got = 0;
    double first = 0, last = 0;
    while (got < count) {
        int n = read_some(s, &in, true);
        if (n == 0) {
            fprintf(stderr, "uf-bench-can-blast: %ld of %ld frames, then none for 5 s\n", got,
                    count);
            return 1;
        }
        last = blast_seconds();
        if (got == 0)
            first = last;
        got += n;
    }
    printf("received %ld frames, %.6f s: %.0f frames/s\n", got, last - first,
           (double)(got - 1) / (last - first));
    return 0;
}

int main(int argc, char **argv)
{
    bool echo = argc == 5 && strcmp(argv[4], "--echo") == 0;
    if ((argc != 4 && !echo) || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
        fprintf(stderr, "usage: uf-bench-can-blast send|recv IFACE COUNT [--echo]\n");
        return 2;
    }
    long count = blast_count("uf-bench-can-blast", argv[3]);
    if (count < 0)
        return 2;
    bool sending = strcmp(argv[1], "send") == 0;
    int s = open_socket(argv[2], sending && echo);
    if (s < 0)
        return 1;
    int rc = sending ? blast(s, count, echo) : sink(s, count);
    close(s);
    return rc;
}
