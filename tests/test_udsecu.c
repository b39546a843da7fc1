/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The udsecu program: usage errors and SocketCAN failures named clearly;
 * a flash over DoIP into its flash file, byte for byte, and the new
 * version after a restart; a power cut by fault and by SIGKILL in the
 * middle of a transfer, leaving the part written and the application
 * invalid; a flash file made for other regions refused. (Its SocketCAN
 * paths run in the qemu VM: tests/vm.)
 */
#include "helpers.h"
#include "uf_ecu_file.h"
#include "uf_flash.h"
#include "uf_seedkey.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct proc {
    GPid pid;
    int out;      /* its stdout */
    uint16_t port;
    char *err_path;
} proc;

/* Starts udsecu --doip on a free port; NULL-terminated extra arguments. */
static void start(proc *p, ...) G_GNUC_NULL_TERMINATED;

static void start(proc *p, ...)
{
    memset(p, 0, sizeof(*p));
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)UF_UDSECU);
    const char *fixed[] = {"--doip", "--listen", "127.0.0.1", "--port", "0", "--duration", "60"};
    for (size_t i = 0; i < UF_ARRAY_LEN(fixed); i++)
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    va_list ap;
    va_start(ap, p);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GError *e = NULL;
    cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                       NULL, NULL, &p->pid, NULL, &p->out, NULL, &e),
              "%s", e ? e->message : "");
    g_ptr_array_free(argv, TRUE);
    /* "udsecu: DoIP entity 0x1000 with ECU 0x0010 on port N, ..." */
    char line[512];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        ssize_t r = read(p->out, line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    const char *at = strstr(line, "on port ");
    cr_assert(at, "udsecu said: \"%s\"", line);
    p->port = (uint16_t)atoi(at + 8);
}

/* Waits for it to end; its exit status. */
static int finish(proc *p, bool kill_it)
{
    if (kill_it)
        kill(p->pid, SIGKILL);
    int status = 0;
    waitpid(p->pid, &status, 0);
    g_spawn_close_pid(p->pid);
    close(p->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static uf_channel *connect_to(const proc *p)
{
    uf_doip_client_config c;
    uf_doip_client_defaults(&c);
    c.port = p->port;
    uf_error err;
    uf_channel *ch = uf_channel_doip(&c, &err);
    cr_assert(ch, "%s", err.msg);
    return ch;
}

static uint8_t *image_of(uint32_t n)
{
    uint8_t *p = g_malloc(n);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 1);
    memcpy(p + 8, "04.00.00", 8);
    return p;
}

/* A request answered positively; the answer's bytes as hex. */
static char *ask(uf_channel *ch, const char *hex)
{
    uint8_t q[4096], resp[256], nrc = 0;
    size_t n = th_hex(hex, q, sizeof(q)), len = 0;
    uf_error err;
    int r = uf_flash_exchange(ch, q, n, false, 200 * UF_NS_PER_MS, 6 * UF_NS_PER_S, resp,
                              sizeof(resp), &len, &nrc, NULL, &err);
    cr_assert_eq(r, 1, "%s: %s (NRC 0x%02X)", hex, r < 0 ? err.msg : "refused", nrc);
    return th_to_hex(resp, len);
}

static char *file_bytes(const char *path, gsize *len)
{
    char *data = NULL;
    cr_assert(g_file_get_contents(path, &data, len, NULL));
    return data;
}

Test(udsecu, usage_and_environment_errors)
{
    char *out = NULL, *err = NULL;
    const char *none[] = {UF_UDSECU, NULL};
    cr_assert_eq(th_run(none, &out, &err), 2);
    cr_assert(strstr(err, "give one of --can IFACE, --kernel-isotp IFACE or --doip"), "%s", err);
    g_free(out), g_free(err);
    const char *bad_fault[] = {UF_UDSECU, "--doip", "--fault", "late,n=1", NULL};
    cr_assert_eq(th_run(bad_fault, &out, &err), 2);
    cr_assert(strstr(err, "fault \"late,n=1\": late needs ms="), "%s", err);
    g_free(out), g_free(err);
    const char *bad_region[] = {UF_UDSECU, "--doip", "--region", "0x10000", NULL};
    cr_assert_eq(th_run(bad_region, &out, &err), 2);
    cr_assert(strstr(err, "region \"0x10000\": expected ADDRESS:SIZE"), "%s", err);
    g_free(out), g_free(err);
    /* SocketCAN: this machine's kernel has no AF_CAN; in the VM the
     * interface is missing. Either way a sentence says which, and 3. */
    const char *can[] = {UF_UDSECU, "--can", "nosuchcan0", NULL};
    cr_assert_eq(th_run(can, &out, &err), 3, "%s", err);
    cr_assert(strstr(err, "no AF_CAN") || strstr(err, "nosuchcan0: no such network interface"),
              "%s", err);
    g_free(out), g_free(err);
    const char *kernel[] = {UF_UDSECU, "--kernel-isotp", "nosuchcan0", NULL};
    cr_assert_eq(th_run(kernel, &out, &err), 3, "%s", err);
    cr_assert(strstr(err, "no AF_CAN") || strstr(err, "no such network interface"), "%s", err);
    g_free(out), g_free(err);
}

static void stop_it(proc *p)
{
    kill(p->pid, SIGTERM);
    cr_assert_eq(finish(p, false), 0, "udsecu did not end cleanly on SIGTERM");
}

/* Offset of an address in the flash file (default region 0x10000). */
static size_t at(uint32_t address)
{
    return UF_ECU_FILE_HEADER + (address - 0x10000);
}

Test(udsecu, flash_into_the_file_and_restart)
{
    char *dir = th_tmpdir(), *path = g_build_filename(dir, "ecu.flash", NULL);
    proc p;
    start(&p, "--flash", path, NULL);
    uf_channel *ch = connect_to(&p);
    uint8_t *image = image_of(50000);
    uf_flash_plan plan = {.image = image, .size = 50000, .address = 0x00020000,
                          .margin = 200 * UF_NS_PER_MS};
    uf_flash_result res;
    uf_error err;
    cr_assert(uf_flash_run(ch, &plan, &res, &err), "%s", err.msg);
    cr_assert(memcmp(res.version_after, "04.00.00", 8) == 0);
    uf_channel_free(ch);
    stop_it(&p);
    /* The file: its header, the application valid, the image in place. */
    gsize len;
    char *data = file_bytes(path, &len);
    cr_assert_eq(len, UF_ECU_FILE_HEADER + 0xF0000);
    cr_assert(memcmp(data, "UDSECU01", 8) == 0);
    cr_assert_eq(data[148], 1);
    cr_assert(memcmp(data + at(0x20000), image, 50000) == 0);
    cr_assert_eq((uint8_t)data[at(0x20000) + 50000], 0xFF);
    g_free(data);
    /* A restart reads it back: the new software, valid, its fingerprint. */
    start(&p, "--flash", path, NULL);
    ch = connect_to(&p);
    char *v = ask(ch, "22 F1 95"), *a = ask(ch, "22 F1 A0"), *f = ask(ch, "22 F1 84");
    cr_assert_str_eq(v, "62f19530342e30302e3030");
    cr_assert_str_eq(a, "62f1a001");
    cr_assert_str_eq(f, "62f18455445346" "4c415348");
    g_free(v), g_free(a), g_free(f);
    uf_channel_free(ch);
    stop_it(&p);
    g_free(image);
    g_free(path);
    g_free(dir);
}

Test(udsecu, power_cut_by_fault)
{
    char *dir = th_tmpdir(), *path = g_build_filename(dir, "ecu.flash", NULL);
    proc p;
    start(&p, "--flash", path, "--fault", "stop,block=5", NULL);
    uf_channel *ch = connect_to(&p);
    uint8_t *image = image_of(16384);
    uf_flash_plan plan = {.image = image, .size = 16384, .address = 0x00010000,
                          .margin = 100 * UF_NS_PER_MS};
    uf_flash_result res;
    uf_error err;
    cr_assert_not(uf_flash_run(ch, &plan, &res, &err));
    cr_assert(strstr(err.msg, "TransferData block 5"), "%s", err.msg);
    uf_channel_free(ch);
    /* The ECU is gone by itself: udsecu ends (0) once its power is cut. */
    cr_assert_eq(finish(&p, false), 0);
    gsize len;
    char *data = file_bytes(path, &len);
    cr_assert_eq(data[148], 0, "the application must be invalid");
    size_t written = 4 * 1024 + 512; /* four blocks and half the fifth */
    cr_assert(memcmp(data + at(0x10000), image, written) == 0);
    cr_assert_eq((uint8_t)data[at(0x10000) + written], 0xFF);
    g_free(data);
    g_free(image);
    g_free(path);
    g_free(dir);
}

Test(udsecu, power_cut_by_sigkill)
{
    char *dir = th_tmpdir(), *path = g_build_filename(dir, "ecu.flash", NULL);
    proc p;
    start(&p, "--flash", path, NULL);
    uf_channel *ch = connect_to(&p);
    g_free(ask(ch, "10 03"));
    g_free(ask(ch, "10 02"));
    char *seed = ask(ch, "27 11");
    uint8_t sb[6];
    th_hex(seed, sb, sizeof(sb));
    char key[32];
    snprintf(key, sizeof(key), "27 12 %08X", uf_seedkey(uf_load_be32(sb + 2), 0x11));
    g_free(ask(ch, key));
    g_free(seed);
    g_free(ask(ch, "31 01 FF 00 44 00010000 00004000"));
    g_free(ask(ch, "34 00 44 00010000 00004000"));
    uint8_t *image = image_of(3 * 1024);
    for (int b = 0; b < 3; b++) {
        uint8_t block[2 + 1024] = {0x36, (uint8_t)(b + 1)};
        memcpy(block + 2, image + b * 1024, 1024);
        char *h = th_to_hex(block, sizeof(block));
        g_free(ask(ch, h));
        g_free(h);
    }
    uf_channel_free(ch);
    cr_assert_eq(finish(&p, true), -SIGKILL); /* the plug pulled */
    start(&p, "--flash", path, NULL);
    ch = connect_to(&p);
    char *a = ask(ch, "22 F1 A0"), *v = ask(ch, "22 F1 95");
    cr_assert_str_eq(a, "62f1a000");
    cr_assert_str_eq(v, "62f19530302e30302e3030"); /* the bootloader's */
    g_free(a), g_free(v);
    uf_channel_free(ch);
    stop_it(&p);
    gsize len;
    char *data = file_bytes(path, &len);
    cr_assert(memcmp(data + at(0x10000), image, 3 * 1024) == 0);
    cr_assert_eq((uint8_t)data[at(0x10000) + 3 * 1024], 0xFF);
    g_free(data);
    g_free(image);
    g_free(path);
    g_free(dir);
}

Test(udsecu, a_flash_file_for_other_regions)
{
    char *dir = th_tmpdir(), *path = g_build_filename(dir, "ecu.flash", NULL);
    char *out = NULL, *err = NULL;
    const char *make[] = {UF_UDSECU, "--doip", "--listen", "127.0.0.1", "--port", "0",
                          "--duration", "0.1", "--flash", path, NULL};
    cr_assert_eq(th_run(make, &out, &err), 0, "%s", err);
    g_free(out), g_free(err);
    const char *other[] = {UF_UDSECU, "--doip", "--listen", "127.0.0.1", "--port", "0",
                           "--flash", path, "--region", "0x0:0x1000", NULL};
    cr_assert_eq(th_run(other, &out, &err), 3);
    cr_assert(strstr(err, "made for other flash regions"), "%s", err);
    g_free(out), g_free(err);
    cr_assert(g_file_set_contents(path, "not a flash file", -1, NULL));
    cr_assert_eq(th_run(make, &out, &err), 3);
    cr_assert(strstr(err, "not a udsecu flash file"), "%s", err);
    g_free(out), g_free(err);
    g_free(path);
    g_free(dir);
}
