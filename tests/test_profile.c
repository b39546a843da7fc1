/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Profiles: the built-in ones load and say what docs/profiles.md says they
 * do; every kind of mistake in a profile file is refused with its line.
 */
#include "helpers.h"
#include "uf_profile.h"

#include <criterion/criterion.h>
#include <string.h>

static const uf_step *step(const uf_profile *p, const char *name)
{
    for (uint32_t i = 0; i < p->n_steps; i++)
        if (strcmp(p->steps[i].name, name) == 0)
            return &p->steps[i];
    return NULL;
}

Test(profile, builtins_load)
{
    cr_assert_geq(uf_profile_builtin_count(), 3);
    cr_assert_str_eq(uf_profile_builtin_name(0), UF_PROFILE_DEFAULT);
    for (size_t i = 0; i < uf_profile_builtin_count(); i++) {
        uf_error err;
        uf_profile *p = uf_profile_open(uf_profile_builtin_name(i), &err);
        cr_assert_not_null(p, "%s", err.msg);
        cr_assert_str_eq(p->name, uf_profile_builtin_name(i));
        cr_assert_eq(p->n_phases, 3);
        cr_assert_str_eq(p->phases[0].name, "pre-programming");
        cr_assert_str_eq(p->phases[1].name, "programming");
        cr_assert_str_eq(p->phases[2].name, "post-programming");
        cr_assert_eq(p->p2, 50 * UF_NS_PER_MS);
        cr_assert_eq(p->p2star, 5000 * UF_NS_PER_MS);
        const uf_step *erase = step(p, "erase");
        cr_assert_not_null(erase);
        cr_assert_eq(erase->sid, 0x31);
        cr_assert_eq(erase->sub, 0x01);
        cr_assert_eq(erase->id, 0xFF00);
        cr_assert(erase->needs_programming && erase->needs_security);
        cr_assert(step(p, "transfer-data")->repeatable);
        cr_assert_str_eq(uf_profile_routine_name(p, 0xFF00), "eraseMemory");
        const uf_phase *prog = &p->phases[1];
        cr_assert_eq(p->steps[prog->repeat_from].name[0], 'e'); /* erase .. */
        uf_profile_free(p);
    }
}

Test(profile, builtins_differ_in_ids_and_order)
{
    uf_error err;
    uf_profile *iso = uf_profile_open("iso14229", &err), *his = uf_profile_open("his", &err),
               *ef = uf_profile_open("erase-first", &err);
    cr_assert(iso && his && ef);
    cr_assert_eq(step(his, "preconditions")->id, 0x0203);
    cr_assert_eq(step(iso, "preconditions")->id, UF_STEP_ANY);
    cr_assert_eq(step(his, "fingerprint")->id, 0xF15A);
    cr_assert_eq(step(his, "check-memory")->id, 0x0202);
    cr_assert_not(step(his, "check-memory")->optional);
    cr_assert_eq(step(his, "dtc-setting-off")->addressing, UF_STEP_FUNCTIONAL);
    cr_assert_str_eq(uf_profile_routine_name(his, 0x0203), "checkProgrammingPreconditions");
    /* erase-first: the erase comes before the fingerprint. */
    cr_assert_lt(step(ef, "erase") - ef->steps, step(ef, "fingerprint") - ef->steps);
    cr_assert_gt(step(iso, "erase") - iso->steps, step(iso, "fingerprint") - iso->steps);
    const uf_rule *noresp = uf_rule_find("uds.no_response");
    cr_assert_eq(uf_profile_severity(his, noresp), UF_SEV_ERROR);
    cr_assert_eq(uf_profile_severity(iso, uf_rule_find("uds.nrc")), UF_SEV_WARNING);
    uf_profile_free(iso);
    uf_profile_free(his);
    uf_profile_free(ef);
}

Test(profile, step_matching)
{
    uf_error err;
    uf_profile *his = uf_profile_open("his", &err);
    const uf_step *erase = step(his, "erase"), *dtc = step(his, "dtc-setting-off");
    cr_assert(uf_step_matches(erase, 0x31, true, 0x01, true, 0xFF00, false));
    cr_assert_not(uf_step_matches(erase, 0x31, true, 0x01, true, 0xFF01, false));
    cr_assert_not(uf_step_matches(erase, 0x31, true, 0x03, true, 0xFF00, false));
    cr_assert(uf_step_matches(dtc, 0x85, true, 0x02, false, 0, true));
    cr_assert_not(uf_step_matches(dtc, 0x85, true, 0x02, false, 0, false)); /* physical */
    char buf[64];
    cr_assert_str_eq(uf_step_describe(erase, buf, sizeof(buf)), "RoutineControl 0x01 0xFF00");
    uf_profile_free(his);
}

Test(profile, open_by_path_and_unknown_names)
{
    uf_error err;
    char *path = g_build_filename(UF_SOURCE_DIR, "profiles", "his.ini", NULL);
    uf_profile *p = uf_profile_open(path, &err);
    cr_assert_not_null(p, "%s", err.msg);
    cr_assert_str_eq(p->source, path);
    uf_profile_free(p);
    g_free(path);
    cr_assert_null(uf_profile_open("volkswagen", &err));
    cr_assert(strstr(err.msg, "volkswagen") && strstr(err.msg, "iso14229"), "%s", err.msg);
    cr_assert_null(uf_profile_open("/no/such/profile.ini", &err));
    cr_assert(strstr(err.msg, "/no/such/profile.ini"), "%s", err.msg);
}

/* A minimal valid profile, with one line replaced to make it wrong. */
static const char *base[] = {
    "[profile]",                                   /* 1 */
    "name = test",                                 /* 2 */
    "[limits]",                                    /* 3 */
    "p2 = 40 ms",                                  /* 4 */
    "[phase programming]",                         /* 5 */
    "session = DiagnosticSessionControl 0x02",     /* 6 */
    "erase = RoutineControl 0x01 0xFF00 security", /* 7 */
    "download = RequestDownload programming",      /* 8 */
    "@repeat = erase .. download",                 /* 9 */
    "[severity]",                                  /* 10 */
    "uds.nrc = error",                             /* 11 */
};

static uf_profile *parse_with(int line, const char *replacement, uf_error *err)
{
    GString *s = g_string_new("");
    for (size_t i = 0; i < UF_ARRAY_LEN(base); i++)
        g_string_append_printf(s, "%s\n", (int)i + 1 == line ? replacement : base[i]);
    uf_profile *p = uf_profile_parse(s->str, s->len, "test.ini", err);
    g_string_free(s, TRUE);
    return p;
}

Test(profile, minimal_profile)
{
    uf_error err;
    uf_profile *p = parse_with(0, NULL, &err);
    cr_assert_not_null(p, "%s", err.msg);
    cr_assert_eq(p->p2, 40 * UF_NS_PER_MS);
    cr_assert_eq(p->s3, 5000 * UF_NS_PER_MS); /* default */
    cr_assert_eq(p->n_steps, 3);
    cr_assert_eq(uf_profile_severity(p, uf_rule_find("uds.nrc")), UF_SEV_ERROR);
    uf_profile_free(p);
}

Test(profile, a_profile_needs_a_name)
{
    uf_error err;
    const char text[] = "[phase programming]\nsession = DiagnosticSessionControl 0x02\n";
    cr_assert_null(uf_profile_parse(text, sizeof(text) - 1, "x.ini", &err));
    cr_assert(strstr(err.msg, "x.ini: no [profile] group with a name"), "%s", err.msg);
}

Test(profile, errors_name_the_line)
{
    struct {
        int line;
        const char *text, *expect;
    } cases[] = {
        {6, "session = DiagnosticSessionKontrol 0x02", "test.ini:6: step \"session\": unknown service"},
        {6, "session = DiagnosticSessionControl 0x80", "test.ini:6: step \"session\": sub-function"},
        {7, "erase = RoutineControl 0x01 0x1FFFF", "test.ini:7: step \"erase\": identifier"},
        {7, "erase = RoutineControl 0x01 0xFF00 sometimes", "test.ini:7: step \"erase\": unknown word"},
        {7, "erase =", "test.ini:7: step \"erase\": empty step"},
        {4, "p2 = fifty ms", "test.ini:4: p2 = \"fifty ms\""},
        {4, "p3 = 40 ms", "test.ini:4: unknown limit \"p3\""},
        {4, "p2 = 40 minutes", "test.ini:4: p2"},
        {4, "p2 = 0 ms", "test.ini:4: p2 = \"0 ms\": must be above 0"},
        {3, "[limitz]", "test.ini:3: unknown group [limitz]"},
        {10, "[limits]", "test.ini:10: group [limits] appears twice (first at line 3)"},
        {8, "session = RequestDownload", "test.ini:8: \"session\" appears twice in [phase programming] (first at line 6)"},
        {2, "title = test", "test.ini:2: unknown key \"title\" in [profile]"},
        {2, "description = no name", "test.ini:1: [profile] needs a name"},
        {1, "name = test", "test.ini:1: a key before the first [group]"},
        {4, "p2 50 ms", "test.ini:4: not \"key = value\""},
        {9, "@repeat = download .. erase", "test.ini:9: @repeat"},
        {9, "@repeat = erase", "test.ini:9: @repeat"},
        {11, "uds.nrcc = error", "test.ini:11: unknown rule \"uds.nrcc\""},
        {11, "uds.nrc = fatal", "test.ini:11: uds.nrc = \"fatal\""},
        {5, "[phase programming", "test.ini:5: a group must read [name]"},
        {2, "name = \xff\xfe", "test.ini:2: not UTF-8"},
    };
    for (size_t i = 0; i < UF_ARRAY_LEN(cases); i++) {
        uf_error err;
        err.msg[0] = '\0';
        uf_profile *p = parse_with(cases[i].line, cases[i].text, &err);
        cr_assert_null(p, "case %zu (%s) was accepted", i, cases[i].text);
        cr_assert(strstr(err.msg, cases[i].expect), "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
                  cases[i].expect);
    }
}

/* Findings and reports name steps alone: a name may not repeat across phases. */
Test(profile, step_names_are_unique_across_phases)
{
    const char text[] = "[profile]\n"
                        "name = twice\n"
                        "[phase pre]\n"
                        "read = ReadDataByIdentifier 0xF195\n"
                        "[phase post]\n"
                        "read = ReadDataByIdentifier 0xF195\n";
    uf_error err;
    cr_assert_null(uf_profile_parse(text, sizeof(text) - 1, "twice.ini", &err));
    cr_assert(strstr(err.msg, "twice.ini:6: step \"read\" is already defined at line 4"), "%s",
              err.msg);
}

Test(profile, a_routine_needs_a_name)
{
    const char text[] = "[profile]\nname = r\n[routines]\n0xFF00 = eraseMemory\n0xFF01 =\n";
    uf_error err;
    cr_assert_null(uf_profile_parse(text, sizeof(text) - 1, "r.ini", &err));
    cr_assert(strstr(err.msg, "r.ini:5: routine 0xFF01 has no name"), "%s", err.msg);
}
