/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Security access keys from the live seed (ISO 14229-1:2020 10.4), by an
 * OEM's existing key generator: a shared library with Vector's
 * GenerateKeyEx, or a command. The key is never taken from the capture:
 * the seed changes every time.
 */
#include "uf_replay.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMAND_TIMEOUT (10 * UF_NS_PER_S)
#define KEY_MAX 512

/* Vector's VKeyGenResultEx. */
enum { KGRE_OK, KGRE_BUFFER_TOO_SMALL, KGRE_SECURITY_LEVEL_INVALID, KGRE_VARIANT_INVALID,
       KGRE_UNSPECIFIED };

typedef int (*generate_key_ex)(const unsigned char *seed, unsigned int seed_len,
                               const unsigned int level, const char *variant,
                               unsigned char *key, unsigned int key_cap, unsigned int *key_len);

struct uf_key_source {
    /* ECUs flashed in parallel share the source: one key at a time, as an
     * OEM's GenerateKeyEx need not be reentrant. */
    GMutex lock;
    void *library;
    generate_key_ex generate;
    char *variant;
    char *path;
    char **argv;      /* the command, without LEVEL and SEED */
};

uf_key_source *uf_key_source_library(const char *path, const char *variant, uf_error *err)
{
    /* dlopen searches the library path for a bare name; a path with a
     * slash is taken as it is. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        uf_error_set(err, "--seedkey %s: cannot load: %s", path, dlerror());
        return NULL;
    }
    generate_key_ex f;
    *(void **)&f = dlsym(h, "GenerateKeyEx");
    if (!f) {
        uf_error_set(err, "--seedkey %s: no GenerateKeyEx in it (Vector's seed / key "
                          "interface)", path);
        dlclose(h);
        return NULL;
    }
    uf_key_source *k = g_new0(uf_key_source, 1);
    g_mutex_init(&k->lock);
    k->library = h;
    k->generate = f;
    k->variant = g_strdup(variant ? variant : "");
    k->path = g_strdup(path);
    return k;
}

uf_key_source *uf_key_source_command(const char *command, uf_error *err)
{
    char **argv = NULL;
    GError *e = NULL;
    if (!g_shell_parse_argv(command, NULL, &argv, &e)) {
        uf_error_set(err, "--seedkey-cmd \"%s\": %s", command, e->message);
        g_error_free(e);
        return NULL;
    }
    uf_key_source *k = g_new0(uf_key_source, 1);
    g_mutex_init(&k->lock);
    k->argv = argv;
    k->path = g_strdup(command);
    return k;
}

void uf_key_source_free(uf_key_source *k)
{
    if (!k)
        return;
    if (k->library)
        dlclose(k->library);
    g_strfreev(k->argv);
    g_mutex_clear(&k->lock);
    g_free(k->variant);
    g_free(k->path);
    g_free(k);
}

static const char *kgre_text(int r)
{
    switch (r) {
    case KGRE_BUFFER_TOO_SMALL: return "the key buffer is too small (KGRE_BufferToSmall)";
    case KGRE_SECURITY_LEVEL_INVALID: return "it does not know this security level "
                                             "(KGRE_SecurityLevelInvalid)";
    case KGRE_VARIANT_INVALID: return "it does not know the variant (KGRE_VariantInvalid)";
    default: return "it failed (KGRE_UnspecifiedError)";
    }
}

static bool from_library(uf_key_source *k, uint8_t level, const uint8_t *seed, size_t n,
                         uint8_t *key, size_t cap, size_t *len, uf_error *err)
{
    unsigned int got = 0;
    int r = k->generate(seed, (unsigned int)n, level, k->variant, key, (unsigned int)cap, &got);
    if (r != KGRE_OK) {
        uf_error_set(err, "%s: GenerateKeyEx for level 0x%02X: %s (%d)", k->path, level,
                     kgre_text(r), r);
        return false;
    }
    if (got == 0 || got > cap) {
        uf_error_set(err, "%s: GenerateKeyEx returned a key of %u bytes", k->path, got);
        return false;
    }
    *len = got;
    return true;
}

/* Runs the command with a deadline; its stdout, or false with err. */
static bool run_command(uf_key_source *k, char **argv, GString *out, uf_error *err)
{
    GPid pid;
    int fd = -1;
    GError *e = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                  NULL, NULL, &pid, NULL, &fd, NULL, &e)) {
        uf_error_set(err, "--seedkey-cmd %s: %s", k->path, e->message);
        g_error_free(e);
        return false;
    }
    uf_time deadline = uf_clock_monotonic() + COMMAND_TIMEOUT;
    bool timed_out = false;
    for (;;) {
        uf_time left = deadline - uf_clock_monotonic();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left / UF_NS_PER_MS) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        char buf[256];
        ssize_t got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (out->len < 4096)
            g_string_append_len(out, buf, got);
    }
    close(fd);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_spawn_close_pid(pid);
    if (timed_out) {
        uf_error_set(err, "--seedkey-cmd %s: no key within 10 s", k->path);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        uf_error_set(err, "--seedkey-cmd %s: failed (%s %d)", k->path,
                     WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return false;
    }
    return true;
}

static bool from_command(uf_key_source *k, uint8_t level, const uint8_t *seed, size_t n,
                         uint8_t *key, size_t cap, size_t *len, uf_error *err)
{
    guint argc = g_strv_length(k->argv);
    char **argv = g_new0(char *, argc + 3);
    for (guint i = 0; i < argc; i++)
        argv[i] = k->argv[i];
    char lvl[8];
    snprintf(lvl, sizeof(lvl), "0x%02X", level);
    GString *hex = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(hex, "%02X", seed[i]);
    argv[argc] = lvl;
    argv[argc + 1] = hex->str;
    GString *out = g_string_new(NULL);
    bool ok = run_command(k, argv, out, err);
    g_free(argv);
    g_string_free(hex, TRUE);
    size_t got = 0;
    int hi = -1;
    for (size_t i = 0; ok && i < out->len; i++) {
        char c = out->str[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        int v = g_ascii_xdigit_value(c);
        if (v < 0 || got >= cap) {
            uf_error_set(err, "--seedkey-cmd %s: printed \"%.40s\", not a key in hex", k->path,
                         out->str);
            ok = false;
            break;
        }
        if (hi < 0) {
            hi = v;
        } else {
            key[got++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (ok && (got == 0 || hi >= 0)) {
        uf_error_set(err, "--seedkey-cmd %s: printed no key in hex", k->path);
        ok = false;
    }
    g_string_free(out, TRUE);
    *len = got;
    return ok;
}

bool uf_key_source_compute(uf_key_source *k, uint8_t level, const uint8_t *seed, size_t n,
                           uint8_t *key, size_t cap, size_t *len, uf_error *err)
{
    if (cap > KEY_MAX)
        cap = KEY_MAX;
    g_mutex_lock(&k->lock);
    bool ok = k->library ? from_library(k, level, seed, n, key, cap, len, err)
                         : from_command(k, level, seed, n, key, cap, len, err);
    g_mutex_unlock(&k->lock);
    return ok;
}
