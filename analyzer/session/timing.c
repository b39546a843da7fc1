/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Application-layer timing (ISO 14229-2:2013 7.2 and 7.5, ISO 14229-1:2020
 * NRC 0x78). Response time runs from the end of the request (its last
 * frame) to the start of the response (its first frame). The limits are the
 * profile's until the ECU announces its own in a positive 0x50 response;
 * they then hold for that session, and a reset brings back the profile's.
 *   first response later than P2_server_max              timing.p2
 *   after a 0x78, a 0x78 later than P2*_server_max       timing.pending_spacing
 *   after a 0x78, the final response later than P2*      timing.p2star
 *   tester silent longer than S3_server in a non-default
 *   session (the ECU then falls back to the default one) timing.s3
 */
#include "session_internal.h"

static double ms(uf_time ns)
{
    return (double)ns / (double)UF_NS_PER_MS;
}

/* Where the P2 / P2* in force comes from, for the finding's message: a
 * reader who set the profile's limit must see why another one applied. */
static const char *limit_source(const session_state *st)
{
    return st->ecu_limits ? "announced by the ECU" : "profile";
}

void timing_request(uf_sessions *ss, uf_session *s, const req_info *r)
{
    session_state *st = s->state;
    const uf_profile *p = ss->cfg.profile;
    if (!ss->cfg.timing || !p || r->t_first == UF_TIME_NONE || st->last_activity == UF_TIME_NONE)
        return;
    if (st->diag == SESSION_DEFAULT)
        return;
    uf_time gap = uf_time_diff(r->t_first, st->last_activity);
    if (gap > p->s3) {
        const char *name = uf_uds_session_name(st->diag);
        session_report(ss, s, "timing.s3", r->first_frame, r->t_first,
                       "tester silent for %.3f ms > S3_server %.0f ms in %s: the ECU falls back "
                       "to the default session", ms(gap), ms(p->s3), name ? name : "a non-default session");
        st->diag = SESSION_DEFAULT;
        st->unlocked = 0;
    }
}

void timing_response(uf_sessions *ss, uf_session *s, uf_uds_message *m)
{
    session_state *st = s->state;
    const uf_profile *p = ss->cfg.profile;
    bool pending = m->d.kind == UF_UDS_NEGATIVE && m->d.nrc == 0x78;
    if (m->request) {
        m->limit_p2star = m->pending_before > 0;
        m->limit = m->limit_p2star ? st->p2star : st->p2;
        m->limit_from_ecu = st->ecu_limits;
    }
    if (ss->cfg.timing && p && m->request && m->response_time != UF_TIME_NONE) {
        char svc[32];
        const char *service = session_service(m->d.sid, svc, sizeof(svc));
        if (m->pending_before == 0) {
            if (m->response_time > st->p2)
                session_report(ss, s, "timing.p2", m->tp->first_frame, m->tp->t_first,
                               "%s response after %.3f ms > P2_server_max %.0f ms (%s)", service,
                               ms(m->response_time), ms(st->p2), limit_source(st));
        } else if (m->since_pending != UF_TIME_NONE && m->since_pending > st->p2star) {
            if (pending)
                session_report(ss, s, "timing.pending_spacing", m->tp->first_frame,
                               m->tp->t_first,
                               "%s: 0x78 %.3f ms after the previous one > P2*_server_max %.0f ms "
                               "(%s)", service, ms(m->since_pending), ms(st->p2star),
                               limit_source(st));
            else
                session_report(ss, s, "timing.p2star", m->tp->first_frame, m->tp->t_first,
                               "%s response %.3f ms after the last 0x78 > P2*_server_max %.0f ms "
                               "(%s)", service, ms(m->since_pending), ms(st->p2star),
                               limit_source(st));
        }
    }
    /* The limits the ECU announces hold from now on (ISO 14229-1:2020 10.2);
     * zeros are not limits anyone can meet, so they are not taken. */
    if (m->d.kind == UF_UDS_POSITIVE && m->d.sid == 0x10 && m->d.has_timing && m->d.p2_ms > 0 &&
        m->d.p2star_ms > 0) {
        st->p2 = (uf_time)m->d.p2_ms * UF_NS_PER_MS;
        st->p2star = (uf_time)m->d.p2star_ms * UF_NS_PER_MS;
        st->ecu_limits = true;
    } else if (m->d.kind == UF_UDS_POSITIVE && m->d.sid == 0x11 && p) {
        st->p2 = p->p2;
        st->p2star = p->p2star;
        st->ecu_limits = false;
    }
}
