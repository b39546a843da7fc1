/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The profile parser (docs/profiles.md) over arbitrary text: a profile file
 * is user input too. Invariants: a refused file has an error message that
 * names the source; an accepted one has steps inside their phases, repeat
 * blocks inside their phase, positive limits and describable steps.
 */
#include "fuzz.h"
#include "uf_profile.h"

#include <assert.h>
#include <string.h>

static void check_step(const uf_step *s)
{
    char buf[64];
    assert(s->name && s->name[0]);
    const char *d = uf_step_describe(s, buf, sizeof(buf));
    assert(d == buf && strlen(buf) < sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_error err;
    err.msg[0] = '\0';
    uf_profile *p = uf_profile_parse((const char *)data, size, "fuzz.ini", &err);
    if (!p) {
        assert(strncmp(err.msg, "fuzz.ini", 8) == 0);
        return 0;
    }
    assert(p->name);
    assert(p->p2 > 0 && p->p2star > 0 && p->s3 > 0 && p->n_bs > 0 && p->n_cr > 0);
    for (uint32_t i = 0; i < p->n_phases; i++) {
        const uf_phase *ph = &p->phases[i];
        assert(ph->first + ph->count <= p->n_steps);
        assert((ph->repeat_from < 0) == (ph->repeat_to < 0));
        if (ph->repeat_from >= 0)
            assert((uint32_t)ph->repeat_from >= ph->first && ph->repeat_from <= ph->repeat_to &&
                   (uint32_t)ph->repeat_to < ph->first + ph->count);
    }
    for (uint32_t i = 0; i < p->n_steps; i++) {
        assert(p->steps[i].phase < p->n_phases);
        check_step(&p->steps[i]);
    }
    for (uint32_t i = 0; i < p->n_anytime; i++)
        check_step(&p->anytime[i]);
    for (uint32_t i = 0; i < p->n_routines; i++)
        assert(uf_profile_routine_name(p, p->routine_ids[i]) != NULL);
    uf_profile_free(p);
    return 0;
}
