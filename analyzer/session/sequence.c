/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The flash sequence against the profile. Each tester request is matched to
 * a step: an "anytime" step (tester present, reads), else the next step at or
 * after the current one, else an earlier one (out of order) or none (not in
 * the profile). A block of steps marked @repeat may start again (several
 * memory regions). Checks and the rules they raise:
 *   a step earlier than the current one          flash.sequence.order
 *   a request that fits no step                  flash.sequence.unexpected
 *   a required step never answered positively    flash.sequence.missing
 *   a "programming" step outside that session    flash.session   ISO 14229-1:2020 10.2
 *   a "security" step with security locked       flash.security  ISO 14229-1:2020 10.4
 */
#include "session_internal.h"

#include <string.h>

void sequence_init(const uf_profile *p, uf_session *s)
{
    session_state *st = s->state;
    uint32_t n = p ? p->n_steps : 0;
    st->requested = g_new0(uint8_t, n + 1);
    st->done = g_new0(uint8_t, n + 1);
    st->refused = g_new0(uint8_t, n + 1);
    st->cursor = -1;
    st->phase = 0;
    st->cur_phase = p && p->n_phases ? p->phases[0].name : NULL;
    st->cur_step = NULL;
}

void sequence_free(uf_session *s)
{
    session_state *st = s->state;
    g_clear_pointer(&st->requested, g_free);
    g_clear_pointer(&st->done, g_free);
    g_clear_pointer(&st->refused, g_free);
}

static bool fits(const uf_step *step, const req_info *r)
{
    return uf_step_matches(step, r->sid, r->has_sub, r->sub, r->has_id, r->id, r->functional);
}

static const char *session_name(uint8_t diag, char *buf, size_t size)
{
    const char *n = uf_uds_session_name(diag);
    if (n)
        snprintf(buf, size, "%s (0x%02X)", n, diag);
    else
        snprintf(buf, size, "session 0x%02X", diag);
    return buf;
}

static void preconditions(uf_sessions *ss, uf_session *s, const uf_step *step, const req_info *r)
{
    session_state *st = s->state;
    char svc[32], now[64];
    if (step->needs_programming && st->diag != SESSION_PROGRAMMING)
        session_report(ss, s, "flash.session", r->first_frame, r->t_first,
                       "%s (step %s) in %s: the step needs programmingSession (0x02)",
                       session_service(r->sid, svc, sizeof(svc)), step->name,
                       session_name(st->diag, now, sizeof(now)));
    if (step->needs_security && st->unlocked == 0)
        session_report(ss, s, "flash.security", r->first_frame, r->t_first,
                       "%s (step %s) without security access granted",
                       session_service(r->sid, svc, sizeof(svc)), step->name);
}

/* Findings raised while a request is matched carry its labels. */
static void label_now(const uf_profile *p, session_state *st, const label *l)
{
    st->cur_phase = p->n_phases ? p->phases[l->phase].name : NULL;
    st->cur_step = l->step >= 0 ? p->steps[l->step].name
                   : l->anytime >= 0 ? p->anytime[l->anytime].name : NULL;
}

/* Is the session inside a round of its phase's @repeat block, begun by the
 * block's first step? Only then may that step start a new round. */
static bool in_repeat(const uf_phase *ph, const session_state *st)
{
    return ph->repeat_from >= 0 && st->cursor >= ph->repeat_from && st->cursor <= ph->repeat_to &&
           st->requested[ph->repeat_from];
}

/* The step an out-of-order request fits: the start of the @repeat block the
 * session is in (a new memory region), else the latest earlier step. */
static int32_t earlier_step(const uf_profile *p, const session_state *st, const req_info *r)
{
    if (st->cursor < 0)
        return -1;
    const uf_phase *cur = &p->phases[p->steps[st->cursor].phase];
    if (in_repeat(cur, st) && fits(&p->steps[cur->repeat_from], r))
        return cur->repeat_from;
    for (int32_t i = st->cursor; i >= 0; i--)
        if (fits(&p->steps[i], r))
            return i;
    return -1;
}

void sequence_request(uf_sessions *ss, uf_session *s, const req_info *r, label *out)
{
    const uf_profile *p = ss->cfg.profile;
    session_state *st = s->state;
    out->request = r->index;
    out->step = -1;
    out->anytime = -1;
    out->phase = st->phase;
    if (!p)
        return;
    for (uint32_t k = 0; k < p->n_anytime; k++) {
        if (fits(&p->anytime[k], r)) {
            out->anytime = (int32_t)k;
            label_now(p, st, out);
            preconditions(ss, s, &p->anytime[k], r);
            return;
        }
    }
    char svc[32], desc[64];
    int32_t j = -1;
    for (int32_t i = st->cursor < 0 ? 0 : st->cursor; i < (int32_t)p->n_steps; i++) {
        if (i == st->cursor && !p->steps[i].repeatable)
            continue;
        if (fits(&p->steps[i], r)) {
            j = i;
            break;
        }
    }
    if (j >= 0) {
        st->cursor = j;
        st->phase = p->steps[j].phase;
        out->step = j;
        out->phase = st->phase;
        label_now(p, st, out);
    } else {
        j = earlier_step(p, st, r);
        if (j < 0) {
            label_now(p, st, out);
            session_report(ss, s, "flash.sequence.unexpected", r->first_frame, r->t_first,
                           "%s is not a step of profile %s (in %s)",
                           session_service(r->sid, svc, sizeof(svc)), p->name,
                           p->n_phases ? p->phases[st->phase].name : "no phase");
            return;
        }
        const uf_phase *ph = &p->phases[p->steps[j].phase];
        bool restart = ph->repeat_from == j && in_repeat(ph, st);
        int32_t was = st->cursor;
        out->step = j;
        out->phase = p->steps[j].phase;
        label_now(p, st, out);
        if (restart) {
            st->cursor = j;
            st->phase = p->steps[j].phase;
        } else if (j != was) {
            session_report(ss, s, "flash.sequence.order", r->first_frame, r->t_first,
                           "%s (step %s of %s) after step %s: the profile puts it before",
                           uf_step_describe(&p->steps[j], desc, sizeof(desc)), p->steps[j].name,
                           ph->name, p->steps[was].name);
        }
        /* j == cursor: the current step again (a retry), nothing to say. */
    }
    st->requested[j] = 1;
    if (r->suppress)
        st->done[j] = 1; /* no positive response is due */
    preconditions(ss, s, &p->steps[j], r);
}

void sequence_response(uf_session *s, const label *l, const uf_uds_decoded *d)
{
    session_state *st = s->state;
    if (l->step < 0)
        return;
    if (d->kind == UF_UDS_POSITIVE) {
        st->done[l->step] = 1;
        st->refused[l->step] = 0;
    } else if (d->kind == UF_UDS_NEGATIVE) {
        st->refused[l->step] = d->nrc;
    }
}

void sequence_close(uf_sessions *ss, uf_session *s)
{
    const uf_profile *p = ss->cfg.profile;
    session_state *st = s->state;
    for (uint32_t i = 0; p && i < p->n_steps; i++) {
        const uf_step *step = &p->steps[i];
        if (step->optional || st->done[i])
            continue;
        char desc[64];
        const char *phase = p->phases[step->phase].name;
        uf_step_describe(step, desc, sizeof(desc));
        st->cur_phase = phase; /* the finding is about the missing step */
        st->cur_step = step->name;
        if (st->refused[i]) {
            const char *nrc = uf_uds_nrc_name(st->refused[i]);
            session_report(ss, s, "flash.sequence.missing", s->last_frame, s->t_end,
                           "required step %s (%s) of %s was refused: NRC 0x%02X %s", step->name,
                           desc, phase, st->refused[i], nrc ? nrc : "(reserved)");
        } else if (st->requested[i]) {
            session_report(ss, s, "flash.sequence.missing", s->last_frame, s->t_end,
                           "required step %s (%s) of %s got no positive response", step->name,
                           desc, phase);
        } else {
            session_report(ss, s, "flash.sequence.missing", s->last_frame, s->t_end,
                           "required step %s (%s) of %s never happened", step->name, desc, phase);
        }
    }
}

uf_step_status uf_session_step_status(const uf_session *s, uint32_t step, uint8_t *nrc)
{
    const session_state *st = s->state;
    *nrc = st->refused[step];
    if (st->done[step])
        return UF_STEP_DONE;
    if (st->refused[step])
        return UF_STEP_REFUSED;
    return st->requested[step] ? UF_STEP_UNANSWERED : UF_STEP_NOT_REQUESTED;
}
