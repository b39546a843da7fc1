/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The flash file of udsecu: header fields at fixed offsets, big-endian,
 * then the image. Written with pwrite at once; the kernel's page cache
 * keeps it across a killed process.
 */
#include "uf_ecu_file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Header layout. */
enum {
    OFF_MAGIC = 0,       /* "UDSECU01" */
    OFF_SIZE = 8,        /* flash bytes, 8 */
    OFF_NREGIONS = 16,   /* 4 */
    OFF_REGIONS = 20,    /* 8 x (address 8, size 8) */
    OFF_VALID = 148,     /* 1 */
    OFF_APP_START = 152, /* 8 */
    OFF_FP_LEN = 160,    /* 1 */
    OFF_FP = 161,        /* 32 */
};

static const char MAGIC[8] = {'U', 'D', 'S', 'E', 'C', 'U', '0', '1'};

struct uf_ecu_file {
    char *path;
    int fd;
    bool failed;
    char why[256];
};

static void store_be64(uint8_t *p, uint64_t v)
{
    uf_store_be32(p, (uint32_t)(v >> 32));
    uf_store_be32(p + 4, (uint32_t)v);
}

static uint64_t load_be64(const uint8_t *p)
{
    return (uint64_t)uf_load_be32(p) << 32 | uf_load_be32(p + 4);
}

static bool write_at(uf_ecu_file *f, const void *p, size_t n, uint64_t off)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(f->fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!f->failed)
                snprintf(f->why, sizeof(f->why), "%s: writing at byte %" PRIu64 " failed: %s",
                         f->path, off, w < 0 ? g_strerror(errno) : "nothing written");
            f->failed = true;
            return false;
        }
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return true;
}

static void on_flash(void *ctx, uint64_t offset, const uint8_t *p, size_t n)
{
    uf_ecu_file *f = ctx;
    write_at(f, p, n, UF_ECU_FILE_HEADER + offset);
}

static void on_state(void *ctx, const uf_ecu_persistent *s)
{
    uf_ecu_file *f = ctx;
    uint8_t h[OFF_FP + UF_ECU_FINGERPRINT_MAX - OFF_VALID] = {0};
    h[0] = s->app_valid;
    store_be64(h + (OFF_APP_START - OFF_VALID), s->app_start);
    h[OFF_FP_LEN - OFF_VALID] = s->fingerprint_len;
    memcpy(h + (OFF_FP - OFF_VALID), s->fingerprint, s->fingerprint_len);
    write_at(f, h, sizeof(h), OFF_VALID);
}

uf_ecu_store uf_ecu_file_store(uf_ecu_file *f)
{
    return (uf_ecu_store){f, on_flash, on_state};
}

bool uf_ecu_file_failed(const uf_ecu_file *f, uf_error *err)
{
    if (f->failed)
        uf_error_set(err, "%s", f->why);
    return f->failed;
}

static uf_ecu_file *fail(uf_ecu_file *f, uint8_t **flash)
{
    if (f->fd >= 0)
        close(f->fd);
    g_free(f->path);
    g_free(f);
    g_free(*flash);
    *flash = NULL;
    return NULL;
}

uf_ecu_file *uf_ecu_file_open(const char *path, const uf_ecu_config *c, uint8_t **flash,
                              uf_ecu_persistent *state, uf_error *err)
{
    uf_ecu_file *f = g_new0(uf_ecu_file, 1);
    f->path = g_strdup(path);
    *flash = NULL;
    memset(state, 0, sizeof(*state));
    uint64_t size = uf_ecu_flash_size(c);
    f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        uf_error_set(err, "%s: cannot open the flash file: %s", path, g_strerror(errno));
        return fail(f, flash);
    }
    struct stat st;
    fstat(f->fd, &st);
    uint8_t h[UF_ECU_FILE_HEADER] = {0};
    *flash = g_malloc(size ? size : 1);
    if (st.st_size == 0) {
        /* New: the memory map, no application, every byte erased. */
        memcpy(h + OFF_MAGIC, MAGIC, 8);
        store_be64(h + OFF_SIZE, size);
        uf_store_be32(h + OFF_NREGIONS, c->n_regions);
        for (unsigned i = 0; i < c->n_regions; i++) {
            store_be64(h + OFF_REGIONS + 16 * i, c->regions[i].address);
            store_be64(h + OFF_REGIONS + 16 * i + 8, c->regions[i].size);
        }
        memset(*flash, 0xFF, size);
        if (!write_at(f, h, sizeof(h), 0) || !write_at(f, *flash, size, UF_ECU_FILE_HEADER)) {
            uf_error_set(err, "%s", f->why);
            return fail(f, flash);
        }
        return f;
    }
    ssize_t r = pread(f->fd, h, sizeof(h), 0);
    if (r != (ssize_t)sizeof(h) || memcmp(h + OFF_MAGIC, MAGIC, 8) != 0) {
        uf_error_set(err, "%s: not a udsecu flash file (no UDSECU01 header at byte 0)", path);
        return fail(f, flash);
    }
    bool same = load_be64(h + OFF_SIZE) == size && uf_load_be32(h + OFF_NREGIONS) == c->n_regions;
    for (unsigned i = 0; same && i < c->n_regions; i++)
        same = load_be64(h + OFF_REGIONS + 16 * i) == c->regions[i].address &&
               load_be64(h + OFF_REGIONS + 16 * i + 8) == c->regions[i].size;
    if (!same) {
        uf_error_set(err, "%s: made for other flash regions than --region gives (byte %d of the "
                          "header): give the same regions, or a new file", path, OFF_SIZE);
        return fail(f, flash);
    }
    if ((uint64_t)st.st_size < UF_ECU_FILE_HEADER + size) {
        uf_error_set(err, "%s: cut short: %lld bytes, %" PRIu64 " expected", path,
                     (long long)st.st_size, UF_ECU_FILE_HEADER + size);
        return fail(f, flash);
    }
    for (uint64_t done = 0; done < size;) {
        ssize_t n = pread(f->fd, *flash + done, size - done, (off_t)(UF_ECU_FILE_HEADER + done));
        if (n <= 0) {
            uf_error_set(err, "%s: reading at byte %" PRIu64 " failed: %s", path,
                         UF_ECU_FILE_HEADER + done, n < 0 ? g_strerror(errno) : "end of file");
            return fail(f, flash);
        }
        done += (uint64_t)n;
    }
    state->app_valid = h[OFF_VALID] != 0;
    state->app_start = load_be64(h + OFF_APP_START);
    state->fingerprint_len = h[OFF_FP_LEN] > UF_ECU_FINGERPRINT_MAX ? UF_ECU_FINGERPRINT_MAX
                                                                    : h[OFF_FP_LEN];
    memcpy(state->fingerprint, h + OFF_FP, state->fingerprint_len);
    return f;
}

void uf_ecu_file_close(uf_ecu_file *f)
{
    if (!f)
        return;
    close(f->fd);
    g_free(f->path);
    g_free(f);
}
