/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The file readers end to end (format probe, libpcap, wiretap, candump and
 * ASC readers): the input is written to a temporary file and read to the end,
 * then read again through the read-ahead (in a helper thread of its own, and
 * by the caller when the queue is empty), which keeps the pcap and pcapng
 * readers' buffers (lent) until their records are read.
 * Invariants: reading terminates, damage is a sentence naming the file, and
 * the read-ahead gives the same records, bytes and ending.
 */
#include "fuzz.h"
#include "uf_capture.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a reading gave: records, a hash of their bytes, how it ended. */
typedef struct reading {
    uint64_t records, hash;
    int rc;
    char err[sizeof((uf_error){0}.msg)];
} reading;

/* FNV-1a over the bytes a record carries: its CAN frame or its packet. */
static void add_record(reading *rd, const uf_record *rec)
{
    const uint8_t *p = rec->kind == UF_REC_CAN ? rec->can.data : NULL;
    size_t n = rec->kind == UF_REC_CAN ? rec->can.len : 0;
    if (rec->kind == UF_REC_PACKET) {
        p = rec->packet.data;
        n = rec->packet.len;
    }
    rd->records++;
    for (size_t i = 0; i < n; i++)
        rd->hash = (rd->hash ^ p[i]) * UINT64_C(0x100000001b3);
}

static void read_through(uf_reader *r, bool ahead, const char *path, reading *rd)
{
    *rd = (reading){.hash = UINT64_C(0xcbf29ce484222325)};
    uf_error err;
    if (ahead) {
        uf_read_ahead *ra = uf_read_ahead_start(r, NULL);
        const uf_record *rec;
        while ((rd->rc = uf_read_ahead_next(ra, &rec, &err)) == 1)
            add_record(rd, rec);
        uf_read_ahead_stop(ra);
    } else {
        uf_record rec;
        while ((rd->rc = uf_reader_next(r, &rec, &err)) == 1) {
            assert(rec.kind != UF_REC_CAN || rec.can.len <= 64);
            add_record(rd, &rec);
        }
        uf_record after;
        assert(uf_reader_next(r, &after, &err) == 0);
    }
    if (rd->rc < 0) {
        assert(strstr(err.msg, path) != NULL);
        snprintf(rd->err, sizeof(rd->err), "%s", err.msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/udsflash-fuzz-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    uf_error err;
    uf_reader *r = uf_reader_open(path, &err);
    if (r) {
        reading direct, ahead;
        read_through(r, false, path, &direct);
        uf_reader_close(r);
        r = uf_reader_open(path, &err);
        assert(r != NULL);
        read_through(r, true, path, &ahead);
        uf_reader_close(r);
        assert(ahead.records == direct.records && ahead.hash == direct.hash);
        assert(ahead.rc == direct.rc && strcmp(ahead.err, direct.err) == 0);
    } else {
        assert(strstr(err.msg, path) != NULL);
    }
    unlink(path);
    return 0;
}
