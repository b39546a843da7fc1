/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ceiling of a userspace endpoint that leaves the CAN sockets aside:
 * COUNT classic 8-byte frames through AF_PACKET's memory-mapped rings
 * (Documentation/networking/packet_mmap.rst). The writer fills up to 64
 * slots of a TX ring and sends them with one system call; the reader
 * takes frames from an RX ring and sleeps in poll() only when it is
 * empty. No system call per frame on either side, no ISO-TP, no echo.
 *
 *   uf-bench-packet-blast send IFACE COUNT
 *   uf-bench-packet-blast recv IFACE COUNT
 *
 * It only measures. Frames written this way bypass the CAN core: on a
 * vcan without echo they reach packet sockets, through the device's taps,
 * but no CAN_RAW socket (candump) and no CAN_ISOTP socket sees them, so
 * no endpoint that shares a bus with other programs can be built on it.
 * The reader also takes what a CAN socket writes (uf-bench-can-blast
 * send): a ring on the receiving side of an endpoint that does share the
 * bus. bench/isotp-vm.sh runs both in the test VM, on vcan0, beside
 * uf-bench-can-blast (raw sockets) and the kernel's ISO-TP.
 */
#define _GNU_SOURCE
#include "blast.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/can.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_BATCH 64
#define BLAST_ID 0x123
#define SLOT_BYTES 128u /* a tpacket2_hdr, a sockaddr_ll and a can_frame, aligned */
#define RING_BLOCK (64u * 1024u)

typedef struct ring {
    int s;
    uint8_t *slots;
    unsigned count, next;
} ring;

static struct tpacket2_hdr *slot(const ring *r, unsigned i)
{
    return (struct tpacket2_hdr *)(r->slots + (size_t)i * SLOT_BYTES);
}

/* A packet socket on IFACE with a ring of `blocks` blocks, for sending
 * (PACKET_TX_RING, protocol ETH_P_CAN) or receiving (PACKET_RX_RING,
 * every frame the device carries or transmits: ETH_P_ALL). */
static int open_ring(ring *r, const char *ifname, bool tx, unsigned blocks)
{
    uint16_t protocol = htons(tx ? ETH_P_CAN : ETH_P_ALL);
    r->s = socket(AF_PACKET, SOCK_RAW, protocol);
    if (r->s < 0) {
        perror("uf-bench-packet-blast: socket");
        return -1;
    }
    int version = TPACKET_V2;
    struct tpacket_req req = {RING_BLOCK, blocks, SLOT_BYTES, RING_BLOCK / SLOT_BYTES * blocks};
    struct sockaddr_ll addr = {.sll_family = AF_PACKET, .sll_protocol = protocol,
                               .sll_ifindex = (int)if_nametoindex(ifname)};
    size_t bytes = (size_t)RING_BLOCK * blocks;
    if (setsockopt(r->s, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0 ||
        setsockopt(r->s, SOL_PACKET, tx ? PACKET_TX_RING : PACKET_RX_RING, &req, sizeof(req)) < 0 ||
        (r->slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->s, 0)) == MAP_FAILED) {
        perror("uf-bench-packet-blast: ring");
        close(r->s);
        return -1;
    }
    if (addr.sll_ifindex == 0 || bind(r->s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "uf-bench-packet-blast: %s: %s\n", ifname, strerror(errno));
        munmap(r->slots, bytes);
        close(r->s);
        return -1;
    }
    r->count = req.tp_frame_nr;
    r->next = 0;
    return 0;
}

/* Waits up to 5 s for the socket; false when nothing came. */
static bool wait_for(int s, short events)
{
    struct pollfd p = {s, events, 0};
    return poll(&p, 1, 5000) > 0;
}

static int blast(ring *r, long count)
{
    long sent = 0;
    double start = blast_seconds();
    while (sent < count) {
        int queued = 0;
        while (queued < TX_BATCH && sent + queued < count) {
            struct tpacket2_hdr *h = slot(r, r->next);
            if (h->tp_status == TP_STATUS_WRONG_FORMAT) {
                fprintf(stderr, "uf-bench-packet-blast: the kernel refused frame %ld\n",
                        sent + queued);
                return 1;
            }
            if (h->tp_status != TP_STATUS_AVAILABLE)
                break; /* the kernel has not sent it yet */
            /* A TX slot's data starts after the header and its address. */
            struct can_frame *f = (struct can_frame *)((uint8_t *)h + TPACKET2_HDRLEN -
                                                       sizeof(struct sockaddr_ll));
            *f = (struct can_frame){.can_id = BLAST_ID, .len = 8};
            memcpy(f->data, &(int64_t){sent + queued}, 8); /* each frame carries its number */
            h->tp_len = sizeof(*f);
            h->tp_status = TP_STATUS_SEND_REQUEST;
            r->next = (r->next + 1) % r->count;
            queued++;
        }
        if (queued == 0 && !wait_for(r->s, POLLOUT)) {
            fprintf(stderr, "uf-bench-packet-blast: the ring stayed full for 5 s\n");
            return 1;
        }
        if (send(r->s, NULL, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN) {
            perror("uf-bench-packet-blast: send");
            return 1;
        }
        sent += queued;
    }
    double took = blast_seconds() - start;
    printf("sent %ld frames in %.6f s: %.0f frames/s\n", sent, took, (double)sent / took);
    return 0;
}

static int sink(ring *r, long count)
{
    long got = 0, out_of_order = 0, copies = 0;
    int64_t expected = 0;
    double first = 0, last = 0;
    while (got < count) {
        struct tpacket2_hdr *h = slot(r, r->next);
        if (!(h->tp_status & TP_STATUS_USER)) {
            if (!wait_for(r->s, POLLIN)) {
                fprintf(stderr, "uf-bench-packet-blast: %ld of %ld frames, then none for 5 s\n",
                        got, count);
                return 1;
            }
            continue;
        }
        const struct can_frame *f = (const struct can_frame *)((const uint8_t *)h + h->tp_mac);
        int64_t number;
        memcpy(&number, f->data, 8);
        h->tp_status = TP_STATUS_KERNEL; /* the slot back to the kernel */
        r->next = (r->next + 1) % r->count;
        if (got > 0 && number < expected) {
            /* A frame a CAN socket wrote reaches the taps twice on a vcan
             * without echo: leaving the device, and looped back by the
             * CAN core. Each frame is counted once. */
            copies++;
            continue;
        }
        out_of_order += number != expected;
        expected = number + 1;
        if (got++ == 0)
            first = blast_seconds();
    }
    last = blast_seconds();
    printf("received %ld frames (%ld out of order, %ld second copies), %.6f s: %.0f frames/s\n",
           got, out_of_order, copies, last - first, (double)(got - 1) / (last - first));
    return out_of_order ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
        fprintf(stderr, "usage: uf-bench-packet-blast send|recv IFACE COUNT\n");
        return 2;
    }
    long count = blast_count("uf-bench-packet-blast", argv[3]);
    if (count < 0)
        return 2;
    bool sending = strcmp(argv[1], "send") == 0;
    ring r;
    /* The reader's ring holds every frame of a run (32 768 slots): the
     * writer's is what one system call may queue, with room to spare. */
    if (open_ring(&r, argv[2], sending, sending ? 4 : 64) < 0)
        return 1;
    int rc = sending ? blast(&r, count) : sink(&r, count);
    close(r.s);
    return rc;
}
