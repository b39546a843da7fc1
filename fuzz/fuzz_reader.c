/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The file readers end to end (format probe, libpcap, wiretap, candump and
 * ASC readers): the input is written to a temporary file and read to the end.
 * Invariant: reading terminates, damage is a sentence naming the file.
 */
#include "fuzz.h"
#include "uf_capture.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        uf_record rec;
        int rc;
        uint64_t n = 0;
        while ((rc = uf_reader_next(r, &rec, &err)) == 1) {
            n++;
            if (rec.kind == UF_REC_CAN)
                assert(rec.can.len <= 64);
        }
        if (rc < 0)
            assert(strstr(err.msg, path) != NULL);
        assert(uf_reader_next(r, &rec, &err) == 0);
        uf_reader_close(r);
    } else {
        assert(strstr(err.msg, path) != NULL);
    }
    unlink(path);
    return 0;
}
