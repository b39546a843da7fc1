/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link faults (replay/uf_fault.h) on their own: the specs, which frame or
 * message each fault takes, what it does to it, the outages from block K,
 * the seed's draws; the CAN medium that carries them out on the simulated
 * bus, and the responder that carries them out for an ECU.
 */
#include "helpers.h"
#include "uf_fault.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <string.h>

#define MS UF_NS_PER_MS

static uf_link_fault spec(const char *text)
{
    uf_link_fault f;
    uf_error err;
    cr_assert(uf_link_fault_parse(text, &f, &err), "%s: %s", text, err.msg);
    return f;
}

static uf_faults *injector(const char *const *texts, uint64_t seed)
{
    uf_link_fault f[8];
    size_t n = 0;
    for (; *texts; texts++)
        f[n++] = spec(*texts);
    return uf_faults_new(f, n, seed);
}

static uf_can_frame frame(uint32_t id, const char *hex)
{
    uf_can_frame f = {.id = id};
    for (const char *p = hex; p[0] && p[1]; p += p[2] ? 3 : 2)
        f.data[f.len++] = (uint8_t)strtoul((char[]){p[0], p[1], 0}, NULL, 16);
    return f;
}

static uf_fault_verdict cross(uf_faults *f, uf_link_dir dir, uf_can_frame *fr, uf_time t)
{
    uf_fault_verdict v;
    uf_faults_frame(f, dir, fr, 0, t, &v);
    return v;
}

/* ---- specs ----------------------------------------------------------------------------*/

Test(spec, parses_each_kind)
{
    uf_link_fault f = spec("delay,msg=3,dir=rx,ms=40");
    cr_assert_eq(f.kind, UF_LINK_DELAY);
    cr_assert_eq(f.unit, UF_ON_MESSAGE);
    cr_assert_eq(f.nth, 3);
    cr_assert_eq(f.dir, UF_DIR_RX);
    cr_assert_eq(f.ms, 40);
    f = spec("corrupt,p=0.25,byte=2,mask=0x80");
    cr_assert_eq(f.unit, UF_ON_CHANCE);
    cr_assert_float_eq(f.p, 0.25, 1e-12);
    cr_assert_eq(f.dir, UF_DIR_TX, "what the tool sends, by default");
    cr_assert_eq(f.byte, 2);
    cr_assert_eq(f.mask, 0x80);
    f = spec("fc,n=2,status=wait,bs=4,stmin=20");
    cr_assert_eq(f.unit, UF_ON_FC);
    cr_assert_eq(f.dir, UF_DIR_ANY);
    cr_assert(f.set_status && f.set_bs && f.set_stmin);
    cr_assert_eq(f.status, 1);
    f = spec("link-loss,block=4");
    cr_assert_eq(f.unit, UF_ON_BLOCK);
    cr_assert_eq(f.ms, 0, "for good");
    cr_assert_eq(f.dir, UF_DIR_ANY, "a block is a request, whoever sends it");
    cr_assert_str_eq(spec("bus-off,block=1,ms=200").text, "bus-off,block=1,ms=200");
    cr_assert_eq(spec("disconnect,msg=5").kind, UF_LINK_DISCONNECT);
}

Test(spec, refuses_what_cannot_act)
{
    static const char *const bad[][2] = {
        {"explode,frame=1", "the kind is one of"},
        {"drop", "say when"},
        {"drop,frame=0", "bad value"},
        {"drop,frame=1,block=2", "one of frame="},
        {"drop,p=1.5", "bad value"},
        {"delay,frame=2", "delay needs ms="},
        {"fc,n=1", "fc needs"},
        {"fc,n=1,status=maybe", "bad value"},
        {"link-loss,frame=3", "takes no \"frame\""},
        {"bus-off", "block=K"},
        {"drop,frame", "is not NAME=VALUE"},
        {"corrupt,frame=1,mask=0", "bad value"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uf_link_fault f;
        uf_error err = {{0}};
        cr_assert_not(uf_link_fault_parse(bad[i][0], &f, &err), "%s", bad[i][0]);
        cr_assert(strstr(err.msg, bad[i][1]), "%s: \"%s\"", bad[i][0], err.msg);
        cr_assert(strstr(err.msg, bad[i][0]), "the sentence names the spec: %s", err.msg);
    }
}

Test(spec, a_link_says_which_faults_it_can_carry)
{
    uf_faults *f = injector((const char *const[]){"drop,frame=3", NULL}, 0);
    uf_error err;
    cr_assert(uf_faults_check(f, UF_LINK_CAN_FRAMES, "vcan0", &err));
    cr_assert_not(uf_faults_check(f, UF_LINK_DOIP, "a DoIP connection", &err));
    cr_assert(strstr(err.msg, "a DoIP connection"), "%s", err.msg);
    uf_faults_free(f);
    f = injector((const char *const[]){"disconnect,block=1", NULL}, 0);
    cr_assert_not(uf_faults_check(f, UF_LINK_CAN_FRAMES, "vcan0", &err));
    cr_assert(uf_faults_check(f, UF_LINK_DOIP, "a DoIP connection", &err));
    uf_faults_free(f);
}

/* ---- frames -----------------------------------------------------------------------------*/

/* msg=2: the second message sent, all its frames, and nothing else. */
Test(frames, a_dropped_message_takes_its_consecutive_frames)
{
    uf_faults *f = injector((const char *const[]){"drop,msg=2", NULL}, 0);
    uf_can_frame seq[] = {
        frame(0x7E0, "02 10 02 CC CC CC CC CC"), /* message 1 */
        frame(0x7E8, "30 00 00 CC CC CC CC CC"), /* received: not counted as sent */
        frame(0x7E0, "10 0A 36 01 AA BB CC DD"), /* message 2: FF */
        frame(0x7E0, "21 EE FF 00 11 CC CC CC"), /* its CF */
        frame(0x7E0, "02 3E 80 CC CC CC CC CC"), /* message 3 */
    };
    bool want[] = {false, false, true, true, false};
    for (size_t i = 0; i < G_N_ELEMENTS(seq); i++) {
        uf_link_dir dir = seq[i].id == 0x7E8 ? UF_DIR_RX : UF_DIR_TX;
        cr_assert_eq(cross(f, dir, &seq[i], (uf_time)i * MS).drop, want[i], "frame %zu", i);
    }
    cr_assert_eq(uf_faults_hits(f, 0), 1);
    const GArray *ev = uf_faults_events(f);
    cr_assert_eq(ev->len, 1);
    cr_assert(strstr(g_array_index(ev, uf_fault_event, 0).what, "the rest of its message"));
    uf_faults_free(f);
}

/* From the 2nd TransferData on, 10 ms of nothing; a bus-off fails writes. */
Test(frames, outages_start_at_block_k_and_end_after_ms)
{
    uf_faults *f = injector((const char *const[]){"link-loss,block=2,ms=10", NULL}, 0);
    uf_can_frame b1 = frame(0x7E0, "03 36 01 AA CC CC CC CC");
    uf_can_frame b2 = frame(0x7E0, "03 36 02 BB CC CC CC CC");
    uf_can_frame ok = frame(0x7E8, "02 76 02 CC CC CC CC CC");
    cr_assert_not(cross(f, UF_DIR_TX, &b1, 0).drop);
    cr_assert(cross(f, UF_DIR_TX, &b2, 5 * MS).drop, "the block that starts it is lost");
    cr_assert(cross(f, UF_DIR_RX, &ok, 14 * MS).drop, "either way");
    cr_assert_not(cross(f, UF_DIR_RX, &ok, 15 * MS).drop, "back after 10 ms");
    const GArray *ev = uf_faults_events(f);
    cr_assert_eq(ev->len, 2);
    cr_assert_eq(g_array_index(ev, uf_fault_event, 1).time, 15 * MS);
    cr_assert(strstr(g_array_index(ev, uf_fault_event, 1).what, "2 frames or messages lost"),
              "%s", g_array_index(ev, uf_fault_event, 1).what);
    uf_faults_free(f);

    f = injector((const char *const[]){"bus-off,block=1", NULL}, 0);
    uf_fault_verdict v = cross(f, UF_DIR_TX, &b1, 0);
    cr_assert(v.fail && !v.drop, "a write on a bus-off controller fails");
    cr_assert_str_eq(v.why, "bus-off,block=1");
    cr_assert(cross(f, UF_DIR_RX, &ok, 3600000 * MS).drop, "for good without ms=");
    uf_faults_free(f);
}

Test(frames, corruption_flips_the_given_byte_or_a_data_byte)
{
    uf_faults *f = injector((const char *const[]){"corrupt,frame=1,byte=2,mask=0x01", NULL}, 0);
    uf_can_frame x = frame(0x7E0, "03 22 F1 90 CC CC CC CC");
    cross(f, UF_DIR_TX, &x, 0);
    cr_assert_eq(x.data[2], 0xF0);
    uf_faults_free(f);
    /* Drawn: within the single frame's three bytes after its PCI, never
     * its PCI nor its padding. */
    for (uint64_t seed = 1; seed < 200; seed++) {
        f = injector((const char *const[]){"corrupt,frame=1", NULL}, seed);
        uf_can_frame y = frame(0x7E0, "03 22 F1 90 CC CC CC CC");
        uf_can_frame was = y;
        cross(f, UF_DIR_TX, &y, 0);
        int changed = 0;
        for (int i = 0; i < 8; i++)
            if (y.data[i] != was.data[i]) {
                changed++;
                cr_assert(i >= 1 && i <= 3, "seed %" PRIu64 ": byte %d", seed, i);
            }
        cr_assert_eq(changed, 1, "seed %" PRIu64, seed);
        uf_faults_free(f);
    }
}

Test(frames, flow_control_is_altered_in_place)
{
    uf_faults *f = injector((const char *const[]){"fc,n=2,dir=rx,bs=2,stmin=20,ms=5", NULL}, 0);
    uf_can_frame fc1 = frame(0x7E8, "30 00 00 CC CC CC CC CC");
    uf_can_frame fc2 = fc1;
    cross(f, UF_DIR_RX, &fc1, 0);
    cr_assert_eq(fc1.data[2], 0x00, "the first is left alone");
    uf_fault_verdict v = cross(f, UF_DIR_RX, &fc2, MS);
    cr_assert_eq(fc2.data[1], 2);
    cr_assert_eq(fc2.data[2], 20);
    cr_assert_eq(v.delay, 5 * MS);
    uf_faults_free(f);
}

/* p=: drawn per frame from the seed alone. */
Test(frames, a_seed_draws_the_same_frames)
{
    GString *hits[2];
    for (int run = 0; run < 2; run++) {
        uf_faults *f = injector((const char *const[]){"drop,p=0.01", NULL}, 42);
        hits[run] = g_string_new(NULL);
        for (int i = 0; i < 10000; i++) {
            uf_can_frame x = frame(0x7E0, "21 00 00 00 00 00 00 00");
            if (cross(f, UF_DIR_TX, &x, i).drop)
                g_string_append_printf(hits[run], "%d ", i);
        }
        cr_assert_gt(uf_faults_hits(f, 0), 50);
        cr_assert_lt(uf_faults_hits(f, 0), 150, "p=0.01 of 10000");
        uf_faults_free(f);
    }
    cr_assert_str_eq(hits[0]->str, hits[1]->str);
    g_string_free(hits[0], TRUE);
    g_string_free(hits[1], TRUE);
}

/* ---- messages -----------------------------------------------------------------------------*/

Test(messages, blocks_and_disconnects)
{
    uf_faults *f = injector((const char *const[]){"disconnect,block=2", "delay,msg=1,ms=30",
                                                  NULL}, 0);
    uint8_t req[] = {0x10, 0x02}, b1[] = {0x36, 0x01, 0xAA}, b2[] = {0x36, 0x02, 0xBB};
    uf_fault_verdict v;
    uf_faults_message(f, UF_DIR_TX, req, sizeof(req), 0, &v);
    cr_assert_eq(v.delay, 30 * MS);
    uf_faults_message(f, UF_DIR_TX, b1, sizeof(b1), MS, &v);
    cr_assert_not(v.disconnect);
    uf_faults_message(f, UF_DIR_TX, b2, sizeof(b2), 2 * MS, &v);
    cr_assert(v.disconnect);
    uf_faults_free(f);
}

/* ---- the medium on the simulated bus --------------------------------------------------*/

/* A received frame held 5 ms, and the two after it behind it, in order. */
Test(medium, a_delayed_frame_holds_those_behind_it)
{
    uf_simbus *bus = uf_simbus_new(500000, 0, 0);
    uf_can_medium *ecu = uf_can_medium_sim(bus, "ecu");
    uf_faults *f = injector((const char *const[]){"delay,frame=1,dir=rx,ms=5", NULL}, 0);
    uf_can_medium *tester = uf_can_medium_faulty(uf_can_medium_sim(bus, "tester"), f, 0);
    uf_error err;
    uf_time sent[3];
    for (int i = 0; i < 3; i++) {
        uf_can_frame x = frame(0x7E8, "21 00 00 00 00 00 00 00");
        x.data[1] = (uint8_t)i;
        cr_assert(ecu->ops->write(ecu, &x, &sent[i], &err), "%s", err.msg);
    }
    uf_time last = 0;
    for (int i = 0; i < 3; i++) {
        uf_can_frame got;
        uf_time t;
        cr_assert_eq(tester->ops->read(tester, &got, &t, 100 * MS, &err), 1, "frame %d", i);
        cr_assert_eq(got.data[1], i, "in the bus's order");
        cr_assert_geq(t, sent[0] + 5 * MS, "frame %d came before the one ahead of it", i);
        cr_assert_geq(t, last);
        last = t;
    }
    cr_assert_eq(tester->ops->now(tester), sent[0] + 5 * MS, "no later than it needs");
    tester->ops->free(tester);
    ecu->ops->free(ecu);
    uf_faults_free(f);
    uf_simbus_free(bus);
}

/* ---- the responder --------------------------------------------------------------------------*/

/* An ECU that answers every request at once with its positive response. */
typedef struct echo {
    uint8_t answer[8];
    size_t len;
    uf_time asked;
} echo;

static uf_ecu_action echo_request(void *self, const uint8_t *req, size_t len, bool functional,
                                  uf_time now)
{
    (void)functional;
    echo *e = self;
    e->answer[0] = (uint8_t)(req[0] + 0x40);
    memcpy(e->answer + 1, req + 1, len - 1);
    e->len = len;
    e->asked = now;
    return UF_ECU_ANSWER;
}

static size_t echo_response(void *self, uf_time now, uint8_t *out, size_t cap)
{
    (void)now;
    echo *e = self;
    size_t n = e->len < cap ? e->len : cap;
    memcpy(out, e->answer, n);
    e->len = 0;
    return n;
}

static void echo_tick(void *self, uf_time now)
{
    (void)self;
    (void)now;
}

static uf_time echo_wakeup(const void *self)
{
    return ((const echo *)self)->len ? 0 : UF_TIME_NONE;
}

static const uf_responder_ops echo_ops = {.request = echo_request,
                                          .response = echo_response,
                                          .tick = echo_tick,
                                          .wakeup = echo_wakeup};

Test(responder, a_held_request_reaches_the_ecu_late_and_a_disconnect_closes)
{
    echo e = {{0}, 0, UF_TIME_NONE};
    uf_faults *f = injector((const char *const[]){"delay,msg=1,dir=rx,ms=20",
                                                  "disconnect,msg=2,dir=rx", NULL}, 0);
    uf_faulty_responder *fr = uf_faulty_responder_new((uf_responder){&echo_ops, &e}, f);
    uf_responder r = uf_faulty_responder_get(fr);
    uint8_t req[] = {0x22, 0xF1, 0x90}, out[8];
    cr_assert_eq(uf_responder_request(r, req, sizeof(req), false, 0), UF_ECU_ANSWER);
    cr_assert_eq(e.asked, UF_TIME_NONE, "held");
    cr_assert_eq(uf_responder_wakeup(r), 20 * MS);
    cr_assert_eq(uf_responder_response(r, 19 * MS, out, sizeof(out)), 0);
    cr_assert_eq(uf_responder_response(r, 20 * MS, out, sizeof(out)), 3);
    cr_assert_eq(e.asked, 20 * MS);
    cr_assert_eq(out[0], 0x62);
    cr_assert_eq(uf_responder_request(r, req, sizeof(req), false, 30 * MS), UF_ECU_DOIP_CLOSE);
    uf_faulty_responder_free(fr);
    uf_faults_free(f);
}
