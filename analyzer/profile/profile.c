/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Profile files: GKeyFile (INI) syntax, read with GLib's GKeyFile. A scan of
 * the raw lines comes first because GKeyFile's errors carry no line number
 * and it merges repeated groups silently; every error names the line:
 *   his.ini:27: step "erase": unknown service "EraseMemory"
 * The format is documented in docs/profiles.md.
 */
#include "uf_profile.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Where each group and key is, from the line scan. */
typedef struct line_index {
    GHashTable *lines; /* "group\037key" or "group" -> line number */
    const char *source;
} line_index;

static uint32_t line_of(const line_index *ix, const char *group, const char *key)
{
    char *k = key ? g_strconcat(group, "\037", key, NULL) : g_strdup(group);
    uint32_t line = GPOINTER_TO_UINT(g_hash_table_lookup(ix->lines, k));
    g_free(k);
    return line;
}

static void fail_at(uf_error *err, const line_index *ix, uint32_t line, const char *fmt, ...)
    UF_PRINTF(4, 5);

static void fail_at(uf_error *err, const line_index *ix, uint32_t line, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    uf_error_set(err, "%s:%u: %s", ix->source, line, what);
}

/* The line scan: every line is blank, a comment, [group] or key = value;
 * no group or key twice. */
static bool scan_lines(const char *text, size_t len, line_index *ix, uf_error *err)
{
    const char *p = text, *end = text + len;
    char *group = NULL;
    uint32_t line = 0;
    bool ok = true;
    while (p < end && ok) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        char *s = g_strstrip(g_strndup(p, (gsize)(le - p)));
        if (!g_utf8_validate(s, -1, NULL)) {
            fail_at(err, ix, line, "not UTF-8 text");
            ok = false;
        } else if (*s == '\0' || *s == '#') {
            /* blank or comment */
        } else if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']' || n < 3) {
                fail_at(err, ix, line, "a group must read [name]");
                ok = false;
            } else {
                g_free(group);
                group = g_strndup(s + 1, n - 2);
                if (g_hash_table_contains(ix->lines, group)) {
                    fail_at(err, ix, line, "group [%s] appears twice (first at line %u)", group,
                            line_of(ix, group, NULL));
                    ok = false;
                } else {
                    g_hash_table_insert(ix->lines, g_strdup(group), GUINT_TO_POINTER(line));
                }
            }
        } else {
            char *eq = strchr(s, '=');
            if (!eq || !group) {
                fail_at(err, ix, line, group ? "not \"key = value\", a [group] or a # comment"
                                             : "a key before the first [group]");
                ok = false;
            } else {
                *eq = '\0';
                char *key = g_strstrip(s);
                if (*key == '\0') {
                    fail_at(err, ix, line, "a value without a key");
                    ok = false;
                } else if (line_of(ix, group, key)) {
                    fail_at(err, ix, line, "\"%s\" appears twice in [%s] (first at line %u)", key,
                            group, line_of(ix, group, key));
                    ok = false;
                } else {
                    g_hash_table_insert(ix->lines, g_strconcat(group, "\037", key, NULL),
                                        GUINT_TO_POINTER(line));
                }
            }
        }
        g_free(s);
        p = nl ? nl + 1 : end;
    }
    g_free(group);
    return ok;
}

/* "50 ms", "5 s", "100 us", "50ms". */
static bool parse_duration(const char *v, uf_time *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = g_ascii_strtoull(v, &end, 10);
    if (errno || end == v)
        return false;
    while (*end == ' ')
        end++;
    uf_time unit;
    if (strcmp(end, "ms") == 0)
        unit = UF_NS_PER_MS;
    else if (strcmp(end, "s") == 0)
        unit = UF_NS_PER_S;
    else if (strcmp(end, "us") == 0)
        unit = UF_NS_PER_US;
    else
        return false;
    if (n > (unsigned long long)(INT64_MAX / unit))
        return false;
    *out = (uf_time)n * unit;
    return true;
}

static const char *const step_flags[] = {"optional", "repeatable", "functional",
                                         "physical", "programming", "security"};

static bool is_flag(const char *t)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(step_flags); i++)
        if (strcmp(t, step_flags[i]) == 0)
            return true;
    return false;
}

/* "SERVICE [SUB|*] [ID|*] [flags...]" into s; *why on error, and the word
 * at fault copied into what. */
static bool parse_step(const char *spec, uf_step *s, const char **why, char *what, size_t what_size)
{
    char **tok = g_strsplit_set(spec, " \t", -1);
    size_t n = 0;
    char *words[16];
    for (char **t = tok; *t && n < UF_ARRAY_LEN(words); t++)
        if (**t)
            words[n++] = *t;
    bool ok = false;
    size_t i = 0;
    s->sub = s->id = UF_STEP_ANY;
    if (n == 0) {
        *why = "empty step: it needs at least a service";
        goto out;
    }
    if (!uf_uds_service_by_name(words[0], &s->sid)) {
        *why = "unknown service";
        g_strlcpy(what, words[0], what_size);
        goto out;
    }
    i = 1;
    if (uf_uds_has_subfunction(s->sid) && i < n && !is_flag(words[i])) {
        uint32_t v;
        if (strcmp(words[i], "*") != 0) {
            if (!uf_parse_u32(words[i], &v) || v > 0x7F) {
                *why = "sub-function is not a number 0x00..0x7F or *";
                g_strlcpy(what, words[i], what_size);
                goto out;
            }
            s->sub = (int32_t)v;
        }
        i++;
    }
    if (uf_uds_has_identifier(s->sid) && i < n && !is_flag(words[i])) {
        uint32_t v;
        if (strcmp(words[i], "*") != 0) {
            if (!uf_parse_u32(words[i], &v) || v > 0xFFFF) {
                *why = "identifier is not a number 0x0000..0xFFFF or *";
                g_strlcpy(what, words[i], what_size);
                goto out;
            }
            s->id = (int32_t)v;
        }
        i++;
    }
    for (; i < n; i++) {
        const char *w = words[i];
        if (strcmp(w, "optional") == 0)
            s->optional = true;
        else if (strcmp(w, "repeatable") == 0)
            s->repeatable = true;
        else if (strcmp(w, "functional") == 0)
            s->addressing = UF_STEP_FUNCTIONAL;
        else if (strcmp(w, "physical") == 0)
            s->addressing = UF_STEP_PHYSICAL;
        else if (strcmp(w, "programming") == 0)
            s->needs_programming = true;
        else if (strcmp(w, "security") == 0)
            s->needs_security = true;
        else {
            *why = "unknown word (flags are optional, repeatable, functional, physical, "
                   "programming, security)";
            g_strlcpy(what, w, what_size);
            goto out;
        }
    }
    ok = true;
out:
    g_strfreev(tok);
    return ok;
}

static bool read_limits(GKeyFile *kf, const line_index *ix, uf_profile *p, uf_error *err)
{
    /* A zero time-out is a limit no ECU can meet; a zero tolerance is exact. */
    static const struct {
        const char *key;
        size_t offset;
        bool zero_ok;
    } limits[] = {
        {"p2", offsetof(uf_profile, p2), false},
        {"p2star", offsetof(uf_profile, p2star), false},
        {"s3", offsetof(uf_profile, s3), false},
        {"stmin-tolerance", offsetof(uf_profile, stmin_tolerance), true},
        {"n-bs", offsetof(uf_profile, n_bs), false},
        {"n-cr", offsetof(uf_profile, n_cr), false},
    };
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, "limits", &n, NULL);
    bool ok = true;
    for (gsize k = 0; k < n && ok; k++) {
        size_t i = 0;
        while (i < UF_ARRAY_LEN(limits) && strcmp(limits[i].key, keys[k]) != 0)
            i++;
        char *v = g_key_file_get_value(kf, "limits", keys[k], NULL);
        if (i == UF_ARRAY_LEN(limits)) {
            fail_at(err, ix, line_of(ix, "limits", keys[k]),
                    "unknown limit \"%s\" (p2, p2star, s3, stmin-tolerance, n-bs, n-cr)", keys[k]);
            ok = false;
        } else if (!parse_duration(v, (uf_time *)((char *)p + limits[i].offset))) {
            fail_at(err, ix, line_of(ix, "limits", keys[k]),
                    "%s = \"%s\": expected a whole number with ms, s or us", keys[k], v);
            ok = false;
        } else if (!limits[i].zero_ok && *(uf_time *)((char *)p + limits[i].offset) == 0) {
            fail_at(err, ix, line_of(ix, "limits", keys[k]), "%s = \"%s\": must be above 0",
                    keys[k], v);
            ok = false;
        }
        g_free(v);
    }
    g_strfreev(keys);
    return ok;
}

static bool read_routines(GKeyFile *kf, const line_index *ix, uf_profile *p, uf_error *err)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, "routines", &n, NULL);
    p->routine_ids = g_new0(uint16_t, n + 1);
    p->routine_names = g_new0(char *, n + 1);
    bool ok = true;
    for (gsize k = 0; k < n && ok; k++) {
        uint32_t id;
        if (!uf_parse_u32(keys[k], &id) || id > 0xFFFF) {
            fail_at(err, ix, line_of(ix, "routines", keys[k]),
                    "routine id \"%s\" is not a number 0x0000..0xFFFF", keys[k]);
            ok = false;
            break;
        }
        char *name = g_key_file_get_value(kf, "routines", keys[k], NULL);
        if (!name || !*name) {
            fail_at(err, ix, line_of(ix, "routines", keys[k]), "routine %s has no name", keys[k]);
            g_free(name);
            ok = false;
            break;
        }
        p->routine_ids[p->n_routines] = (uint16_t)id;
        p->routine_names[p->n_routines++] = name;
    }
    g_strfreev(keys);
    return ok;
}

static bool read_severities(GKeyFile *kf, const line_index *ix, uf_profile *p, uf_error *err)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, "severity", &n, NULL);
    p->severity_rules = g_new0(const uf_rule *, n + 1);
    p->severities = g_new0(uf_severity, n + 1);
    bool ok = true;
    for (gsize k = 0; k < n && ok; k++) {
        const uf_rule *rule = uf_rule_find(keys[k]);
        char *v = g_key_file_get_value(kf, "severity", keys[k], NULL);
        uf_severity sev;
        if (!rule) {
            fail_at(err, ix, line_of(ix, "severity", keys[k]),
                    "unknown rule \"%s\" (docs/rules.md lists them)", keys[k]);
            ok = false;
        } else if (!uf_severity_parse(v, &sev)) {
            fail_at(err, ix, line_of(ix, "severity", keys[k]),
                    "%s = \"%s\": expected error, warning or info", keys[k], v);
            ok = false;
        } else {
            p->severity_rules[p->n_severities] = rule;
            p->severities[p->n_severities++] = sev;
        }
        g_free(v);
    }
    g_strfreev(keys);
    return ok;
}

/* Steps of one group into `out`, in file order. */
static bool read_steps(GKeyFile *kf, const line_index *ix, const char *group, uint32_t phase,
                       GArray *out, uf_phase *ph, uf_error *err)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, group, &n, NULL);
    bool ok = true;
    char *repeat = NULL;
    uint32_t first = out->len;
    for (gsize k = 0; k < n && ok; k++) {
        if (strcmp(keys[k], "@repeat") == 0) {
            repeat = g_key_file_get_value(kf, group, keys[k], NULL);
            continue;
        }
        uf_step s;
        memset(&s, 0, sizeof(s));
        s.phase = phase;
        s.line = line_of(ix, group, keys[k]);
        char *spec = g_key_file_get_value(kf, group, keys[k], NULL);
        const char *why = NULL;
        char what[64] = "";
        if (!parse_step(spec, &s, &why, what, sizeof(what))) {
            if (what[0])
                fail_at(err, ix, s.line, "step \"%s\": %s \"%s\"", keys[k], why, what);
            else
                fail_at(err, ix, s.line, "step \"%s\": %s", keys[k], why);
            ok = false;
        } else {
            s.name = g_strdup(keys[k]);
            g_array_append_val(out, s);
        }
        g_free(spec);
    }
    if (ph) {
        ph->first = first;
        ph->count = out->len - first;
        ph->repeat_from = ph->repeat_to = -1;
    }
    if (ok && repeat && ph) {
        uint32_t line = line_of(ix, group, "@repeat");
        char **ends = g_strsplit(repeat, "..", 3);
        int32_t from = -1, to = -1;
        if (g_strv_length(ends) == 2) {
            g_strstrip(ends[0]);
            g_strstrip(ends[1]);
            for (uint32_t i = first; i < out->len; i++) {
                const char *name = g_array_index(out, uf_step, i).name;
                if (strcmp(name, ends[0]) == 0)
                    from = (int32_t)i;
                if (strcmp(name, ends[1]) == 0)
                    to = (int32_t)i;
            }
        }
        if (from < 0 || to < 0 || from > to) {
            fail_at(err, ix, line,
                    "@repeat = \"%s\": expected \"first-step .. last-step\", two steps of [%s] "
                    "in that order", repeat, group);
            ok = false;
        } else {
            ph->repeat_from = from;
            ph->repeat_to = to;
        }
        g_strfreev(ends);
    }
    g_free(repeat);
    g_strfreev(keys);
    return ok;
}

static const char *const profile_keys[] = {"name", "description"};

/* A misspelt key ("descripton") must not pass for an absent one. */
static bool known_keys(GKeyFile *kf, const line_index *ix, const char *group,
                       const char *const *known, size_t n_known, uf_error *err)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, group, &n, NULL);
    bool ok = true;
    for (gsize k = 0; k < n && ok; k++) {
        size_t i = 0;
        while (i < n_known && strcmp(keys[k], known[i]) != 0)
            i++;
        if (i == n_known) {
            fail_at(err, ix, line_of(ix, group, keys[k]), "unknown key \"%s\" in [%s]", keys[k],
                    group);
            ok = false;
        }
    }
    g_strfreev(keys);
    return ok;
}

/* Reports and findings name steps by name alone ("after step erase"), so a
 * name means one step across all phases. */
static bool unique_step_names(GArray *steps, GArray *anytime, const line_index *ix, uf_error *err)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    bool ok = true;
    GArray *lists[] = {anytime, steps};
    for (size_t l = 0; l < UF_ARRAY_LEN(lists) && ok; l++) {
        for (guint i = 0; i < lists[l]->len && ok; i++) {
            const uf_step *st = &g_array_index(lists[l], uf_step, i);
            const uf_step *first = g_hash_table_lookup(seen, st->name);
            if (first) {
                fail_at(err, ix, st->line, "step \"%s\" is already defined at line %u: "
                        "step names must differ across phases", st->name, first->line);
                ok = false;
            } else {
                g_hash_table_insert(seen, st->name, (gpointer)st);
            }
        }
    }
    g_hash_table_destroy(seen);
    return ok;
}

uf_profile *uf_profile_parse(const char *text, size_t len, const char *source, uf_error *err)
{
    line_index ix = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), source};
    GKeyFile *kf = g_key_file_new();
    uf_profile *p = g_new0(uf_profile, 1);
    GArray *steps = g_array_new(FALSE, TRUE, sizeof(uf_step));
    GArray *anytime = g_array_new(FALSE, TRUE, sizeof(uf_step));
    GArray *phases = g_array_new(FALSE, TRUE, sizeof(uf_phase));
    bool ok = scan_lines(text, len, &ix, err);
    GError *ge = NULL;
    if (ok && !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &ge)) {
        uf_error_set(err, "%s: %s", source, ge->message);
        g_error_free(ge);
        ok = false;
    }
    p->source = g_strdup(source);
    p->p2 = 50 * UF_NS_PER_MS;
    p->p2star = 5000 * UF_NS_PER_MS;
    p->s3 = 5000 * UF_NS_PER_MS;
    p->n_bs = p->n_cr = 1000 * UF_NS_PER_MS;
    gsize n_groups = 0;
    char **groups = ok ? g_key_file_get_groups(kf, &n_groups) : NULL;
    for (gsize g = 0; ok && g < n_groups; g++) {
        const char *group = groups[g];
        if (strcmp(group, "profile") == 0) {
            ok = known_keys(kf, &ix, group, profile_keys, UF_ARRAY_LEN(profile_keys), err);
            p->name = g_key_file_get_value(kf, group, "name", NULL);
            p->description = g_key_file_get_value(kf, group, "description", NULL);
            if (ok && (!p->name || !*p->name)) {
                fail_at(err, &ix, line_of(&ix, group, NULL), "[profile] needs a name = ...");
                ok = false;
            }
        } else if (strcmp(group, "limits") == 0) {
            ok = read_limits(kf, &ix, p, err);
        } else if (strcmp(group, "routines") == 0) {
            ok = read_routines(kf, &ix, p, err);
        } else if (strcmp(group, "severity") == 0) {
            ok = read_severities(kf, &ix, p, err);
        } else if (strcmp(group, "anytime") == 0) {
            ok = read_steps(kf, &ix, group, UINT32_MAX, anytime, NULL, err);
        } else if (g_str_has_prefix(group, "phase ") && group[6]) {
            uf_phase ph;
            memset(&ph, 0, sizeof(ph));
            ph.name = g_strdup(group + 6);
            ok = read_steps(kf, &ix, group, phases->len, steps, &ph, err);
            g_array_append_val(phases, ph);
        } else {
            fail_at(err, &ix, line_of(&ix, group, NULL),
                    "unknown group [%s] (profile, limits, routines, severity, anytime, "
                    "phase NAME)", group);
            ok = false;
        }
    }
    if (ok && !p->name) {
        uf_error_set(err, "%s: no [profile] group with a name", source);
        ok = false;
    }
    if (ok)
        ok = unique_step_names(steps, anytime, &ix, err);
    g_strfreev(groups);
    g_key_file_free(kf);
    g_hash_table_destroy(ix.lines);
    p->n_steps = steps->len;
    p->steps = (uf_step *)g_array_free(steps, FALSE);
    p->n_anytime = anytime->len;
    p->anytime = (uf_step *)g_array_free(anytime, FALSE);
    p->n_phases = phases->len;
    p->phases = (uf_phase *)g_array_free(phases, FALSE);
    if (!ok) {
        uf_profile_free(p);
        return NULL;
    }
    return p;
}

uf_profile *uf_profile_load_file(const char *path, uf_error *err)
{
    char *text = NULL;
    gsize len = 0;
    GError *ge = NULL;
    if (!g_file_get_contents(path, &text, &len, &ge)) {
        uf_error_set(err, "%s: cannot read the profile: %s", path, ge->message);
        g_error_free(ge);
        return NULL;
    }
    uf_profile *p = uf_profile_parse(text, len, path, err);
    g_free(text);
    return p;
}

uf_profile *uf_profile_open(const char *name_or_path, uf_error *err)
{
    for (size_t i = 0; i < uf_profile_builtin_count(); i++) {
        if (strcmp(uf_profile_builtin_name(i), name_or_path) == 0) {
            size_t len;
            const char *text = uf_profile_builtin_text(i, &len);
            char *source = g_strdup_printf("builtin:%s", name_or_path);
            uf_profile *p = uf_profile_parse(text, len, source, err);
            g_free(source);
            return p;
        }
    }
    if (strchr(name_or_path, '/') || g_str_has_suffix(name_or_path, ".ini") ||
        g_file_test(name_or_path, G_FILE_TEST_EXISTS))
        return uf_profile_load_file(name_or_path, err);
    GString *names = g_string_new("");
    for (size_t i = 0; i < uf_profile_builtin_count(); i++)
        g_string_append_printf(names, "%s%s", i ? ", " : "", uf_profile_builtin_name(i));
    uf_error_set(err, "no profile \"%s\": give a file, or one of %s (udsflash profiles)",
                 name_or_path, names->str);
    g_string_free(names, TRUE);
    return NULL;
}

static void free_steps(uf_step *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        g_free(s[i].name);
    g_free(s);
}

void uf_profile_free(uf_profile *p)
{
    if (!p)
        return;
    g_free(p->name);
    g_free(p->description);
    g_free(p->source);
    for (uint32_t i = 0; i < p->n_phases; i++)
        g_free(p->phases[i].name);
    g_free(p->phases);
    free_steps(p->steps, p->n_steps);
    free_steps(p->anytime, p->n_anytime);
    for (uint32_t i = 0; i < p->n_routines; i++)
        g_free(p->routine_names[i]);
    g_free(p->routine_ids);
    g_free(p->routine_names);
    g_free(p->severity_rules);
    g_free(p->severities);
    g_free(p);
}

const char *uf_profile_routine_name(const uf_profile *p, uint16_t rid)
{
    for (uint32_t i = 0; p && i < p->n_routines; i++)
        if (p->routine_ids[i] == rid)
            return p->routine_names[i];
    return NULL;
}

bool uf_profile_severity_override(const uf_profile *p, const uf_rule *rule, uf_severity *out)
{
    for (uint32_t i = 0; p && i < p->n_severities; i++) {
        if (p->severity_rules[i] == rule) {
            *out = p->severities[i];
            return true;
        }
    }
    return false;
}

static const char *routine_name_cb(void *ctx, uint16_t rid)
{
    return uf_profile_routine_name(ctx, rid);
}

uf_uds_names uf_profile_names(const uf_profile *p)
{
    uf_uds_names n = {p ? routine_name_cb : NULL, (void *)p};
    return n;
}

uf_severity uf_profile_severity(const uf_profile *p, const uf_rule *rule)
{
    uf_severity sev;
    return uf_profile_severity_override(p, rule, &sev) ? sev : rule->severity;
}

bool uf_step_matches(const uf_step *s, uint8_t sid, bool has_sub, uint8_t sub, bool has_id,
                     uint16_t id, bool functional)
{
    if (s->sid != sid)
        return false;
    if (s->sub != UF_STEP_ANY && (!has_sub || s->sub != sub))
        return false;
    if (s->id != UF_STEP_ANY && (!has_id || s->id != id))
        return false;
    if (s->addressing == UF_STEP_FUNCTIONAL && !functional)
        return false;
    if (s->addressing == UF_STEP_PHYSICAL && functional)
        return false;
    return true;
}

const char *uf_step_describe(const uf_step *s, char *buf, size_t size)
{
    /* Each finding about a step says it: no printf for a name and two
     * hex numbers. */
    char svc[32], hex[20] = " ";
    g_strlcpy(buf, uf_uds_display_service(s->sid, svc, sizeof(svc)), size);
    if (s->sub != UF_STEP_ANY) {
        uf_format_hex(hex + 1, (uint32_t)s->sub, 2);
        g_strlcat(buf, hex, size);
    }
    if (s->id != UF_STEP_ANY) {
        uf_format_hex(hex + 1, (uint32_t)s->id, 4);
        g_strlcat(buf, hex, size);
    }
    return buf;
}
