/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The floor of reading a capture: a plain libpcap loop (pcap or pcapng)
 * that touches every byte of every packet and does nothing else. An
 * analyzer cannot read the same file faster than this.
 *
 *   uf-bench-pcap-floor FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: uf-bench-pcap-floor FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "uf-bench-pcap-floor: %s: %s\n", argv[1], err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t packets = 0, bytes = 0, sum = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        packets++;
        bytes += h->caplen;
        for (uint32_t i = 0; i < h->caplen; i++)
            sum += d[i];
    }
    if (r == PCAP_ERROR) {
        fprintf(stderr, "uf-bench-pcap-floor: %s: %s\n", argv[1], pcap_geterr(p));
        return 1;
    }
    pcap_close(p);
    printf("%llu packets, %llu bytes (checksum %llu)\n", (unsigned long long)packets,
           (unsigned long long)bytes, (unsigned long long)sum);
    return 0;
}
