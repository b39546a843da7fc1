/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's every service and fault, on virtual time and without a
 * bus: sessions and their announced P2 / P2*, the S3 fallback, security
 * access (seeds that differ, the sample key, the attempt counter and the
 * delay), communication control, DTC setting, DIDs, the routines with
 * response pending, downloads checked against the memory map, block
 * counters with ISO repeat semantics, sizes, the reset and the new
 * version, persistence through the store, functional addressing and the
 * fault rules. Then whole flashes on the simulated bus, clean and faulty.
 */
#include "helpers.h"
#include "uf_flash.h"
#include "uf_seedkey.h"
#include "uf_sim_ecu.h"

#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>

typedef struct ecu_fixture {
    uf_ecu *e;
    uf_time now;
    uint8_t resp[4096];
    size_t len;
    /* What the store saw. */
    uint64_t flash_writes;
    uf_ecu_persistent saved;
    unsigned state_saves;
} ecu_fixture;

static void store_flash(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
    (void)off, (void)p, (void)n;
    ((ecu_fixture *)ctx)->flash_writes++;
}

static void store_state(void *ctx, const uf_ecu_persistent *p)
{
    ecu_fixture *f = ctx;
    f->saved = *p;
    f->state_saves++;
}

static void start(ecu_fixture *f, const uf_ecu_config *c)
{
    memset(f, 0, sizeof(*f));
    uf_ecu_config d;
    if (!c) {
        uf_ecu_config_defaults(&d);
        c = &d;
    }
    uf_ecu_store s = {f, store_flash, store_state};
    f->e = uf_ecu_new(c, &s, NULL, NULL, 0);
}

static void stop(ecu_fixture *f)
{
    uf_ecu_free(f->e);
}

/* Sends a request and takes the answers until the final one (0x78 counted
 * in *pending); returns its hex, or "" if none comes within 4.5 s (short
 * of S3, which would otherwise run out here). The clock moves to each
 * answer. */
static const char *ask_functional(ecu_fixture *f, const char *hex, bool functional,
                                  unsigned *pending)
{
    static char out[8192];
    uint8_t q[4096];
    size_t n = th_hex(hex, q, sizeof(q));
    uf_ecu_request(f->e, q, n, functional, f->now);
    uf_time give_up = f->now + 4500 * UF_NS_PER_MS;
    for (;;) {
        uf_time w = uf_ecu_wakeup(f->e);
        if (w == UF_TIME_NONE || w > give_up) {
            out[0] = '\0';
            f->len = 0;
            return out;
        }
        if (w > f->now)
            f->now = w;
        uf_ecu_tick(f->e, f->now);
        f->len = uf_ecu_response(f->e, f->now, f->resp, sizeof(f->resp));
        if (!f->len)
            continue;
        if (f->len == 3 && f->resp[0] == 0x7F && f->resp[2] == 0x78) {
            if (pending)
                (*pending)++;
            continue;
        }
        char *h = th_to_hex(f->resp, f->len);
        g_strlcpy(out, h, sizeof(out));
        g_free(h);
        return out;
    }
}

static const char *ask(ecu_fixture *f, const char *hex)
{
    return ask_functional(f, hex, false, NULL);
}

/* The answer's time since the request went in. */
static uf_time timed(ecu_fixture *f, const char *hex, const char **answer)
{
    uf_time t0 = f->now;
    *answer = ask(f, hex);
    return f->now - t0;
}

static void unlock_programming(ecu_fixture *f)
{
    cr_assert_str_eq(ask(f, "10 03"), "5003003201f4");
    cr_assert_str_eq(ask(f, "10 02"), "5002003201f4");
    ask(f, "27 11");
    cr_assert_eq(f->len, 6);
    uint32_t key = uf_seedkey(uf_load_be32(f->resp + 2), 0x11);
    char q[32];
    snprintf(q, sizeof(q), "27 12 %08X", key);
    cr_assert_str_eq(ask(f, q), "6712");
}

Test(ecu, sessions_and_their_timing)
{
    ecu_fixture f;
    start(&f, NULL);
    /* P2 50 ms, P2* 500 x 10 ms (ISO 14229-1:2020 10.2.2.2). */
    const char *a;
    uf_time took = timed(&f, "10 03", &a);
    cr_assert_str_eq(a, "5003003201f4");
    cr_assert_lt(took, 50 * UF_NS_PER_MS);
    cr_assert_str_eq(ask(&f, "22 F1 86"), "62f18603");
    /* Programming only from the extended session. */
    cr_assert_str_eq(ask(&f, "10 01"), "5001003201f4");
    cr_assert_str_eq(ask(&f, "10 02"), "7f1022");
    cr_assert_str_eq(ask(&f, "10 04"), "7f1012");
    cr_assert_str_eq(ask(&f, "10"), "7f1013");
    /* suppressPosRspMsgIndicationBit: no answer, the session changes. */
    cr_assert_str_eq(ask(&f, "10 83"), "");
    cr_assert_str_eq(ask(&f, "22 F1 86"), "62f18603");
    stop(&f);
}

Test(ecu, s3_falls_back_to_the_default_session)
{
    ecu_fixture f;
    start(&f, NULL);
    ask(&f, "10 03");
    f.now += 4900 * UF_NS_PER_MS;
    ask(&f, "3E 80"); /* TesterPresent keeps the session */
    f.now += 4900 * UF_NS_PER_MS;
    uf_ecu_tick(f.e, f.now);
    cr_assert_str_eq(ask(&f, "22 F1 86"), "62f18603");
    f.now += 5001 * UF_NS_PER_MS;
    uf_ecu_tick(f.e, f.now);
    cr_assert_str_eq(ask(&f, "22 F1 86"), "62f18601");
    stop(&f);
}

Test(ecu, security_seeds_keys_attempts_and_delay)
{
    ecu_fixture f;
    start(&f, NULL);
    cr_assert_str_eq(ask(&f, "27 01"), "7f277f"); /* not in the default session */
    ask(&f, "10 03");
    cr_assert_str_eq(ask(&f, "27 11"), "7f277e"); /* the programming level, elsewhere */
    cr_assert_str_eq(ask(&f, "27 02 00 00 00 00"), "7f2724"); /* a key without a seed */
    /* Seeds differ from one request to the next. */
    ask(&f, "27 01");
    uint32_t s1 = uf_load_be32(f.resp + 2);
    ask(&f, "27 01");
    uint32_t s2 = uf_load_be32(f.resp + 2);
    cr_assert_neq(s1, s2);
    cr_assert_neq(s2, 0);
    /* Wrong keys: 0x35, 0x35, then 0x36 and the delay (0x37) for 10 s. */
    cr_assert_str_eq(ask(&f, "27 02 00 00 00 00"), "7f2735");
    ask(&f, "27 01");
    cr_assert_str_eq(ask(&f, "27 02 00 00 00 01"), "7f2735");
    ask(&f, "27 01");
    cr_assert_str_eq(ask(&f, "27 02 00 00 00 02"), "7f2736");
    cr_assert_str_eq(ask(&f, "27 01"), "7f2737");
    f.now += 9 * UF_NS_PER_S;
    ask(&f, "3E 80");
    cr_assert_str_eq(ask(&f, "27 01"), "7f2737");
    f.now += 1 * UF_NS_PER_S;
    ask(&f, "27 01");
    cr_assert_eq(f.len, 6);
    /* The right key unlocks; a seed then is zero. */
    char q[32];
    snprintf(q, sizeof(q), "27 02 %08X", uf_seedkey(uf_load_be32(f.resp + 2), 0x01));
    cr_assert_str_eq(ask(&f, q), "6702");
    cr_assert_str_eq(ask(&f, "27 01"), "670100000000");
    /* A session change locks again. */
    ask(&f, "10 02");
    cr_assert_str_eq(ask(&f, "2E F1 84 41"), "7f2e33");
    stop(&f);
}

Test(ecu, communication_dtc_clear_and_tester_present)
{
    ecu_fixture f;
    start(&f, NULL);
    cr_assert_str_eq(ask(&f, "28 03 01"), "7f287f");
    cr_assert_str_eq(ask(&f, "85 02"), "7f857f");
    ask(&f, "10 03");
    cr_assert_str_eq(ask(&f, "28 03 01"), "6803");
    cr_assert_str_eq(ask(&f, "28 03 00"), "7f2831");
    cr_assert_str_eq(ask(&f, "28 07 01"), "7f2812");
    cr_assert_str_eq(ask(&f, "85 02"), "c502");
    cr_assert_str_eq(ask(&f, "85 82"), "");
    uf_ecu_status st;
    uf_ecu_get_status(f.e, &st);
    cr_assert(st.comm_off && st.dtc_off);
    cr_assert_str_eq(ask(&f, "14 FF FF FF"), "54");
    cr_assert_str_eq(ask(&f, "14 00 00 01"), "7f1431");
    cr_assert_str_eq(ask(&f, "3E 00"), "7e00");
    cr_assert_str_eq(ask(&f, "3E 01"), "7f3e12");
    cr_assert_str_eq(ask(&f, "BA 01"), "7fba11");
    /* A functional request gets no "not supported" answers (7.5.2). */
    cr_assert_str_eq(ask_functional(&f, "BA 01", true, NULL), "");
    cr_assert_str_eq(ask_functional(&f, "3E 00", true, NULL), "7e00");
    stop(&f);
}

Test(ecu, data_identifiers)
{
    ecu_fixture f;
    start(&f, NULL);
    /* VIN "WVWZZZ1KZBW000042", the boot version without an application,
     * the application state (udsecu's F1A0), two at once. */
    cr_assert_str_eq(ask(&f, "22 F1 90"), "62f190575657" "5a5a5a314b5a42573030303034" "32");
    cr_assert_str_eq(ask(&f, "22 F1 95"), "62f19530302e30302e3030");
    cr_assert_str_eq(ask(&f, "22 F1 A0 F1 86"), "62f1a000f18601");
    cr_assert_str_eq(ask(&f, "22 12 34"), "7f2231");
    cr_assert_str_eq(ask(&f, "22 F1"), "7f2213");
    /* The fingerprint: written in the programming session with security. */
    ask(&f, "10 03");
    cr_assert_str_eq(ask(&f, "2E F1 84 41 42"), "7f2e31");
    unlock_programming(&f);
    cr_assert_str_eq(ask(&f, "2E F1 90 41 42"), "7f2e31");
    unsigned saves = f.state_saves;
    cr_assert_str_eq(ask(&f, "2E F1 84 26 11 21 54 53 54"), "6ef184");
    cr_assert_eq(f.state_saves, saves + 1);
    cr_assert_eq(f.saved.fingerprint_len, 6);
    cr_assert_str_eq(ask(&f, "22 F1 84"), "62f184261121545354");
    stop(&f);
}

static char *hexbytes(const uint8_t *p, size_t n)
{
    return th_to_hex(p, n);
}

/* Erase, download `size` bytes of `image` at `address` in blocks of the
 * announced length, exit and check: the programming steps of a flash. */
static void program(ecu_fixture *f, uint32_t address, const uint8_t *image, uint32_t size)
{
    char q[128];
    unsigned pending = 0;
    snprintf(q, sizeof(q), "31 01 FF 00 44 %08X %08X", address, size);
    uf_time t0 = f->now;
    cr_assert_str_eq(ask_functional(f, q, false, &pending), "7101ff0000");
    /* The erase takes 1 s; 0x78 comes first before P2, then every 2.5 s. */
    cr_assert_eq(pending, 1);
    cr_assert_eq(f->now - t0, 1000 * UF_NS_PER_MS);
    snprintf(q, sizeof(q), "34 00 44 %08X %08X", address, size);
    cr_assert_str_eq(ask(f, q), "74200402");
    uint8_t counter = 1;
    for (uint32_t off = 0; off < size; counter++) {
        uint32_t n = size - off < 0x400 ? size - off : 0x400;
        char *data = hexbytes(image + off, n);
        char *req = g_strdup_printf("36 %02X %s", counter, data);
        char want[8];
        snprintf(want, sizeof(want), "76%02x", counter);
        cr_assert_str_eq(ask(f, req), want);
        g_free(req);
        g_free(data);
        off += n;
    }
    cr_assert_str_eq(ask(f, "37"), "77");
    snprintf(q, sizeof(q), "31 01 02 02 %08lX", crc32(crc32(0, Z_NULL, 0), image, size));
    cr_assert_str_eq(ask(f, q), "7101020200");
}

Test(ecu, a_flash_step_by_step)
{
    ecu_fixture f;
    start(&f, NULL);
    uint8_t image[3000];
    for (size_t i = 0; i < sizeof(image); i++)
        image[i] = (uint8_t)(i * 13);
    memcpy(image + 8, "02.00.00", 8); /* the application's header: its version */
    unlock_programming(&f);
    program(&f, 0x00020000, image, sizeof(image));
    cr_assert_str_eq(ask(&f, "31 03 FF 00"), "7103ff0000"); /* requestResults */
    cr_assert_str_eq(ask(&f, "31 01 FF 01"), "7101ff0100");
    cr_assert(f.saved.app_valid);
    cr_assert_eq(f.saved.app_start, 0x00020000);
    uint64_t off = 0x00020000 - 0x00010000;
    cr_assert(memcmp(uf_ecu_flash(f.e) + off, image, sizeof(image)) == 0);
    cr_assert_eq(uf_ecu_flash(f.e)[off + sizeof(image)], 0xFF);
    /* The reset: answered, then deaf for 500 ms; then the new version. */
    uf_time t0 = f.now;
    cr_assert_str_eq(ask(&f, "11 01"), "5101");
    cr_assert_str_eq(ask(&f, "22 F1 86"), "");
    f.now = t0 + 600 * UF_NS_PER_MS;
    uf_ecu_tick(f.e, f.now);
    cr_assert_str_eq(ask(&f, "22 F1 86"), "62f18601");
    cr_assert_str_eq(ask(&f, "22 F1 95"), "62f19530322e30302e3030");
    cr_assert_str_eq(ask(&f, "22 F1 A0"), "62f1a001");
    uf_ecu_status st;
    uf_ecu_get_status(f.e, &st);
    cr_assert_eq(st.resets, 1);
    cr_assert_eq(st.blocks_written, 3);
    cr_assert_eq(st.bytes_written, 3000);
    stop(&f);
}

Test(ecu, download_checks)
{
    ecu_fixture f;
    start(&f, NULL);
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000100"), "7f347f");
    ask(&f, "10 03");
    ask(&f, "10 02");
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000100"), "7f3433"); /* locked */
    cr_assert_str_eq(ask(&f, "31 01 FF 00 44 00010000 00000100"), "7f3133");
    ask(&f, "10 03");
    unlock_programming(&f);
    /* Outside the memory map, across its end, compressed, not erased. */
    cr_assert_str_eq(ask(&f, "34 00 44 00000000 00000100"), "7f3431");
    cr_assert_str_eq(ask(&f, "34 00 44 000FFF00 00000200"), "7f3431");
    cr_assert_str_eq(ask(&f, "34 10 44 00010000 00000100"), "7f3431");
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000100"), "7f3470");
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 0100"), "7f3413"); /* ALFID says 4 + 4 */
    cr_assert_str_eq(ask(&f, "31 01 FF 00 44 00000000 00000100"), "7f3131");
    cr_assert_str_eq(ask(&f, "31 01 FF 00 44 00010000 00000100"), "7101ff0000");
    cr_assert_str_eq(ask(&f, "36 01 00"), "7f3624"); /* no download open */
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000100"), "74200402");
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000100"), "7f3422"); /* one at a time */
    cr_assert_str_eq(ask(&f, "37"), "7f3724"); /* nothing came yet */
    /* Counters: 0x01 first, a repeat answered without writing, a skip refused. */
    cr_assert_str_eq(ask(&f, "36 02 AA"), "7f3673");
    cr_assert_str_eq(ask(&f, "36 01 AA BB"), "7601");
    cr_assert_str_eq(ask(&f, "36 01 AA BB"), "7601");
    cr_assert_str_eq(ask(&f, "36 03 CC"), "7f3673");
    cr_assert_str_eq(ask(&f, "36 02 CC"), "7602");
    uf_ecu_status st;
    uf_ecu_get_status(f.e, &st);
    cr_assert_eq(st.bytes_written, 3); /* the repeat wrote nothing */
    /* A block longer than maxNumberOfBlockLength (0x402 with SID and counter). */
    uint8_t big[0x403];
    memset(big, 0x11, sizeof(big));
    big[0] = 0x36;
    big[1] = 0x03;
    char *h = th_to_hex(big, sizeof(big));
    cr_assert_str_eq(ask(&f, h), "7f3613");
    g_free(h);
    /* More than the memorySize. */
    uint8_t more[2 + 254];
    memset(more, 0x22, sizeof(more));
    more[0] = 0x36;
    more[1] = 0x03;
    h = th_to_hex(more, sizeof(more));
    cr_assert_str_eq(ask(&f, h), "7f3671");
    g_free(h);
    /* The check routine with a wrong CRC, then the dependency check fails. */
    more[1] = 0x03;
    h = th_to_hex(more, 2 + 253);
    cr_assert_str_eq(ask(&f, h), "7603");
    g_free(h);
    cr_assert_str_eq(ask(&f, "37"), "77");
    cr_assert_str_eq(ask(&f, "31 01 02 02 00000000"), "7101020201");
    cr_assert_str_eq(ask(&f, "31 01 FF 01"), "7101ff0101");
    cr_assert_not(f.saved.app_valid);
    stop(&f);
}

Test(ecu, the_block_counter_wraps)
{
    ecu_fixture f;
    uf_ecu_config c;
    uf_ecu_config_defaults(&c);
    c.max_block = 3; /* one byte a block */
    start(&f, &c);
    unlock_programming(&f);
    ask(&f, "31 01 FF 00 44 00010000 00000200");
    cr_assert_str_eq(ask(&f, "34 00 44 00010000 00000102"), "74200003");
    for (unsigned i = 1; i <= 0x102; i++) {
        char q[16], want[8];
        snprintf(q, sizeof(q), "36 %02X 5A", i & 0xFF);
        snprintf(want, sizeof(want), "76%02x", i & 0xFF);
        cr_assert_str_eq(ask(&f, q), want, "block %u", i); /* ..FE FF 00 01 (15.4) */
    }
    cr_assert_str_eq(ask(&f, "37"), "77");
    stop(&f);
}

Test(ecu, busy_while_erasing_and_functional_tester_present)
{
    ecu_fixture f;
    start(&f, NULL);
    unlock_programming(&f);
    uint8_t q[13];
    size_t n = th_hex("31 01 FF 00 44 00010000 00001000", q, sizeof(q));
    uf_ecu_request(f.e, q, n, false, f.now);
    f.now += 10 * UF_NS_PER_MS;
    /* Another request while the erase runs: busyRepeatRequest. */
    uint8_t rd[3];
    th_hex("22 F1 86", rd, sizeof(rd));
    uf_ecu_request(f.e, rd, 3, false, f.now);
    uint8_t tp[2] = {0x3E, 0x80};
    uf_ecu_request(f.e, tp, 2, true, f.now);
    GPtrArray *answers = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < 10; i++) {
        uf_time w = uf_ecu_wakeup(f.e);
        if (w == UF_TIME_NONE)
            break;
        f.now = w > f.now ? w : f.now;
        uf_ecu_tick(f.e, f.now);
        size_t k = uf_ecu_response(f.e, f.now, f.resp, sizeof(f.resp));
        if (k)
            g_ptr_array_add(answers, th_to_hex(f.resp, k));
    }
    cr_assert_eq(answers->len, 3);
    cr_assert_str_eq(g_ptr_array_index(answers, 0), "7f3178");
    cr_assert_str_eq(g_ptr_array_index(answers, 1), "7f2221");
    cr_assert_str_eq(g_ptr_array_index(answers, 2), "7101ff0000");
    g_ptr_array_free(answers, TRUE);
    stop(&f);
}

Test(ecu, faults)
{
    uf_ecu_fault fl, fd, fn, bad;
    uf_error err;
    cr_assert(uf_ecu_fault_parse("late,sid=0x22,n=2,ms=80", &fl, &err), "%s", err.msg);
    cr_assert(uf_ecu_fault_parse("drop,sid=0x3E,n=1", &fd, &err), "%s", err.msg);
    cr_assert(uf_ecu_fault_parse("nrc,n=4,nrc=0x22", &fn, &err), "%s", err.msg);
    cr_assert_not(uf_ecu_fault_parse("late,n=1", &bad, &err));
    cr_assert(strstr(err.msg, "ms="), "%s", err.msg);
    cr_assert_not(uf_ecu_fault_parse("sideways", &bad, &err));
    cr_assert_not(uf_ecu_fault_parse("drop,p=1.5", &bad, &err));
    cr_assert_not(uf_ecu_fault_parse("drop,n", &bad, &err));
    uf_ecu_config c;
    uf_ecu_config_defaults(&c);
    c.faults[c.n_faults++] = fl;
    c.faults[c.n_faults++] = fd;
    c.faults[c.n_faults++] = fn;
    ecu_fixture f;
    start(&f, &c);
    const char *a;
    cr_assert_lt(timed(&f, "22 F1 86", &a), 50 * UF_NS_PER_MS);           /* request 1 */
    cr_assert_eq(timed(&f, "22 F1 86", &a), 82 * UF_NS_PER_MS, "late"); /* request 2 */
    cr_assert_str_eq(a, "62f18601");
    cr_assert_str_eq(ask(&f, "3E 00"), "");                               /* 3: dropped */
    cr_assert_str_eq(ask(&f, "10 03"), "7f1022");                         /* 4: the NRC */
    cr_assert_str_eq(ask(&f, "10 03"), "5003003201f4");
    stop(&f);
}

Test(ecu, probabilistic_faults_are_deterministic_under_the_seed)
{
    for (int round = 0; round < 2; round++) {
        static char first[64];
        uf_ecu_config c;
        uf_ecu_config_defaults(&c);
        c.seed = 42;
        uf_error err;
        cr_assert(uf_ecu_fault_parse("drop,p=0.5", &c.faults[0], &err));
        c.n_faults = 1;
        ecu_fixture f;
        start(&f, &c);
        char pattern[64] = "";
        for (int i = 0; i < 40; i++)
            strcat(pattern, ask(&f, "3E 00")[0] ? "1" : "0");
        cr_assert(strchr(pattern, '0') && strchr(pattern, '1'), "%s", pattern);
        if (round == 0)
            g_strlcpy(first, pattern, sizeof(first));
        else
            cr_assert_str_eq(pattern, first);
        stop(&f);
    }
}

/* ---- whole flashes on the simulated bus -------------------------------------------*/

typedef struct bench {
    uf_simbus *bus;
    uf_ecu *ecu;
    uf_sim_ecu *node;
    uf_channel *tester;
} bench;

static void bench_start(bench *b, const uf_ecu_config *c)
{
    uf_ecu_config d;
    if (!c) {
        uf_ecu_config_defaults(&d);
        c = &d;
    }
    b->bus = uf_simbus_new(500000, 0, 0);
    b->ecu = uf_ecu_new(c, NULL, NULL, NULL, 0);
    uf_isotp_ep_config ec, tc;
    uf_isotp_ep_config_defaults(&ec, 0x7E8, 0x7E0);
    ec.functional_rx_id = 0x7DF;
    uf_isotp_ep_config_defaults(&tc, 0x7E0, 0x7E8);
    tc.functional_tx_id = 0x7DF;
    b->node = uf_sim_ecu_attach(b->bus, &ec, uf_ecu_responder(b->ecu));
    b->tester = uf_channel_isotp(uf_can_medium_sim(b->bus, "sim"), &tc);
}

static void bench_stop(bench *b)
{
    uf_channel_free(b->tester);
    uf_sim_ecu_free(b->node);
    uf_ecu_free(b->ecu);
    uf_simbus_free(b->bus);
}

static uint8_t *test_image(uint32_t n)
{
    uint8_t *p = g_malloc(n);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + (i >> 8));
    memcpy(p + 8, "02.00.00", 8);
    return p;
}

Test(ecu_on_the_bus, a_whole_flash)
{
    bench b;
    bench_start(&b, NULL);
    uint8_t *image = test_image(16384);
    uf_flash_plan plan = {.image = image, .size = 16384, .address = 0x00010000,
                          .functional_pre = true};
    uf_flash_result res;
    uf_error err;
    cr_assert(uf_flash_run(b.tester, &plan, &res, &err), "%s", err.msg);
    cr_assert(memcmp(res.version_before, "00.00.00", 8) == 0);
    cr_assert(memcmp(res.version_after, "02.00.00", 8) == 0);
    cr_assert_eq(res.blocks, 16);
    cr_assert_eq(res.pending, 1);
    cr_assert(memcmp(uf_ecu_flash(b.ecu), image, 16384) == 0);
    /* 16 KiB over ISO-TP at 500 kbit/s cannot beat the bus: ~2370 classic
     * frames of ~125 bits, 0.6 s at least; the erase adds 1 s, the reset
     * 0.5 s. A whole flash here takes a few seconds of virtual time. */
    uf_time took = res.ended - res.started;
    cr_assert(took > 2 * UF_NS_PER_S && took < 10 * UF_NS_PER_S, "%.3f s", (double)took / 1e9);
    g_free(image);
    bench_stop(&b);
}

Test(ecu_on_the_bus, faults_seen_by_the_tester)
{
    const char *rules[] = {"late,sid=0x31,n=1,ms=80", "drop,sid=0x22,n=1",
                           "nrc,sid=0x2E,n=1,nrc=0x22", "stop,block=3"};
    const char *expect[] = {"no answer to RoutineControl within P2",
                            "no answer to ReadDataByIdentifier within P2",
                            "NRC 0x22 conditionsNotCorrect", "TransferData block 3"};
    for (size_t i = 0; i < UF_ARRAY_LEN(rules); i++) {
        uf_ecu_config c;
        uf_ecu_config_defaults(&c);
        uf_error err;
        cr_assert(uf_ecu_fault_parse(rules[i], &c.faults[0], &err), "%s", err.msg);
        c.n_faults = 1;
        bench b;
        bench_start(&b, &c);
        uint8_t *image = test_image(8192);
        uf_flash_plan plan = {.image = image, .size = 8192, .address = 0x00010000};
        uf_flash_result res;
        cr_assert_not(uf_flash_run(b.tester, &plan, &res, &err), "%s", rules[i]);
        cr_assert(strstr(err.msg, expect[i]), "%s: %s", rules[i], err.msg);
        if (i == 3) {
            /* The power cut: two blocks and half the third written, the
             * application invalid, nothing answered any more. */
            cr_assert(uf_ecu_stopped(b.ecu));
            const uint8_t *fl = uf_ecu_flash(b.ecu);
            cr_assert(memcmp(fl, image, 2 * 0x400 + 0x200) == 0);
            cr_assert_eq(fl[2 * 0x400 + 0x200], 0xFF);
            cr_assert_not(uf_ecu_persistent_state(b.ecu)->app_valid);
        }
        g_free(image);
        bench_stop(&b);
    }
}

Test(ecu_on_the_bus, a_wrong_flow_control_slows_the_transfer)
{
    /* The ECU's FC says STmin 0xFA (reserved): the tester waits 127 ms
     * between CFs as ISO 15765-2:2016 9.6.5.4 tells it, and the flash
     * still works, slower. */
    uf_ecu_config c;
    uf_ecu_config_defaults(&c);
    uf_error err;
    cr_assert(uf_ecu_fault_parse("fc,bs=0,stmin=0xFA", &c.faults[0], &err));
    c.n_faults = 1;
    bench b;
    bench_start(&b, &c);
    uint8_t *image = test_image(2048);
    uf_flash_plan plan = {.image = image, .size = 2048, .address = 0x00010000};
    uf_flash_result res;
    cr_assert(uf_flash_run(b.tester, &plan, &res, &err), "%s", err.msg);
    /* 2 blocks of 1 KiB: 147 CFs each, 127 ms apart: over 37 s. */
    cr_assert_gt(res.ended - res.started, 37 * UF_NS_PER_S);
    g_free(image);
    bench_stop(&b);
}

/* ---- the GenerateKeyEx library --------------------------------------------------------*/

#include <dlfcn.h>

typedef int (*generate_key_ex)(const unsigned char *, unsigned int, const unsigned int,
                               const char *, unsigned char *, unsigned int, unsigned int *);

Test(seedkey, the_vector_interface_gives_udsecus_keys)
{
    void *lib = dlopen(UF_SEEDKEY_LIB, RTLD_NOW | RTLD_LOCAL);
    cr_assert(lib, "%s", dlerror());
    generate_key_ex gen;
    /* POSIX's way to a function pointer from dlsym (ISO C has none). */
    *(void **)&gen = dlsym(lib, "GenerateKeyEx");
    cr_assert(gen, "GenerateKeyEx is not exported: %s", dlerror());
    /* Only it: the rest of the library stays hidden. */
    cr_assert_null(dlsym(lib, "uf_seedkey"));
    const unsigned char seed[4] = {0x12, 0x34, 0x56, 0x78};
    unsigned char key[8];
    unsigned int n = 0;
    cr_assert_eq(gen(seed, 4, 0x11, "", key, sizeof(key), &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(uf_load_be32(key), uf_seedkey(0x12345678, 0x11));
    /* The worked example of docs/udsecu.md, computed by hand from the
     * formula there: the algorithm testers implement must not drift. */
    const unsigned char doc_seed[4] = {0x11, 0x22, 0x33, 0x44};
    cr_assert_eq(gen(doc_seed, 4, 0x11, NULL, key, 4, &n), 0);
    cr_assert_eq(uf_load_be32(key), 0xE1C4A673u, "key %08X", uf_load_be32(key));
    /* And udsecu takes that key. */
    ecu_fixture f;
    start(&f, NULL);
    ask(&f, "10 03");
    ask(&f, "27 01");
    unsigned char s[4];
    memcpy(s, f.resp + 2, 4);
    cr_assert_eq(gen(s, 4, 0x01, NULL, key, 4, &n), 0);
    char q[32];
    snprintf(q, sizeof(q), "27 02 %02X%02X%02X%02X", key[0], key[1], key[2], key[3]);
    cr_assert_str_eq(ask(&f, q), "6702");
    stop(&f);
    /* Its refusals: KGRE_BufferToSmall, KGRE_SecurityLevelInvalid, a bad seed. */
    cr_assert_eq(gen(seed, 4, 0x11, NULL, key, 3, &n), 1);
    cr_assert_eq(gen(seed, 4, 0x12, NULL, key, 4, &n), 2);
    cr_assert_eq(gen(seed, 3, 0x11, NULL, key, 4, &n), 4);
    dlclose(lib);
}
