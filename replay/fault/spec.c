/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Link fault specs: "KIND,NAME=VALUE,..." (uf_fault.h lists them), in the
 * shape udsecu's --fault has, checked whole so that a run never starts
 * with a fault that could not act.
 */
#include "uf_fault.h"

#include <string.h>

static const char *const kind_names[] = {
    [UF_LINK_DROP] = "drop",           [UF_LINK_DELAY] = "delay",
    [UF_LINK_CORRUPT] = "corrupt",     [UF_LINK_FC] = "fc",
    [UF_LINK_LOSS] = "link-loss",      [UF_LINK_BUS_OFF] = "bus-off",
    [UF_LINK_DISCONNECT] = "disconnect",
};

static bool positive(const char *v, uint32_t *out)
{
    return uf_parse_u32(v, out) && *out >= 1;
}

static bool byte_value(const char *v, uint8_t *out)
{
    uint32_t x;
    if (!uf_parse_u32(v, &x) || x > 0xFF)
        return false;
    *out = (uint8_t)x;
    return true;
}

/* One NAME=VALUE; false: a bad value (unknown names are caught before). */
static bool parameter(uf_link_fault *out, const char *name, const char *value,
                      unsigned *selectors)
{
    uint32_t x;
    if (strcmp(name, "frame") == 0 || strcmp(name, "msg") == 0 || strcmp(name, "block") == 0) {
        ++*selectors;
        out->unit = name[0] == 'f' ? UF_ON_FRAME : name[0] == 'm' ? UF_ON_MESSAGE : UF_ON_BLOCK;
        return positive(value, &out->nth);
    }
    if (strcmp(name, "n") == 0)
        return positive(value, &out->nth);
    if (strcmp(name, "p") == 0) {
        ++*selectors;
        out->unit = UF_ON_CHANCE;
        char *end = NULL;
        out->p = g_ascii_strtod(value, &end);
        return end && end != value && !*end && out->p > 0.0 && out->p <= 1.0;
    }
    if (strcmp(name, "dir") == 0) {
        out->dir = strcmp(value, "tx") == 0 ? UF_DIR_TX : strcmp(value, "rx") == 0 ? UF_DIR_RX : 0;
        return out->dir != 0;
    }
    if (strcmp(name, "ms") == 0) {
        if (!uf_parse_u32(value, &x) || x > 3600000)
            return false;
        out->ms = x;
        return true;
    }
    if (strcmp(name, "byte") == 0) {
        if (!uf_parse_u32(value, &x) || x > 4095)
            return false;
        out->byte = (int)x;
        return true;
    }
    if (strcmp(name, "mask") == 0)
        return byte_value(value, &out->mask) && out->mask != 0;
    if (strcmp(name, "bs") == 0)
        return (out->set_bs = byte_value(value, &out->bs));
    if (strcmp(name, "stmin") == 0)
        return (out->set_stmin = byte_value(value, &out->stmin));
    if (strcmp(name, "status") == 0) {
        /* ISO 15765-2:2016 Table 18: FlowStatus. */
        static const char *const status[] = {"cts", "wait", "overflow"};
        for (uint8_t i = 0; i < 3; i++)
            if (strcmp(value, status[i]) == 0) {
                out->status = i;
                return (out->set_status = true);
            }
        return false;
    }
    return false;
}

/* Which parameters each kind takes, selectors included. */
#define SELECTORS "frame", "msg", "block", "p", "dir"
static const char *const drop_names[] = {SELECTORS, NULL};
static const char *const delay_names[] = {SELECTORS, "ms", NULL};
static const char *const corrupt_names[] = {SELECTORS, "byte", "mask", NULL};
#undef SELECTORS
static const char *const fc_names[] = {"n", "dir", "ms", "bs", "stmin", "status", NULL};
static const char *const outage_names[] = {"block", "ms", NULL};
static const char *const disconnect_names[] = {"block", "msg", "dir", NULL};

static bool allowed(uf_link_fault_kind k, const char *name)
{
    static const char *const *const names[] = {
        [UF_LINK_DROP] = drop_names,       [UF_LINK_DELAY] = delay_names,
        [UF_LINK_CORRUPT] = corrupt_names, [UF_LINK_FC] = fc_names,
        [UF_LINK_LOSS] = outage_names,     [UF_LINK_BUS_OFF] = outage_names,
        [UF_LINK_DISCONNECT] = disconnect_names,
    };
    return g_strv_contains(names[k], name);
}

bool uf_link_fault_parse(const char *text, uf_link_fault *out, uf_error *err)
{
    memset(out, 0, sizeof(*out));
    out->byte = -1;
    g_strlcpy(out->text, text, sizeof(out->text));
    char **parts = g_strsplit(text, ",", -1);
    bool ok = false;
    unsigned selectors = 0;
    size_t k;
    for (k = 0; k < UF_ARRAY_LEN(kind_names); k++)
        if (parts[0] && strcmp(parts[0], kind_names[k]) == 0)
            break;
    if (k == UF_ARRAY_LEN(kind_names)) {
        uf_error_set(err, "fault \"%s\": the kind is one of drop, delay, corrupt, fc, link-loss, "
                          "bus-off, disconnect", text);
        goto out;
    }
    out->kind = (uf_link_fault_kind)k;
    for (char **p = parts + 1; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq) {
            uf_error_set(err, "fault \"%s\": \"%s\" is not NAME=VALUE", text, *p);
            goto out;
        }
        *eq = '\0';
        if (!allowed(out->kind, *p)) {
            uf_error_set(err, "fault \"%s\": %s takes no \"%s\" (see udsreplay --help, "
                              "docs/replay.md)", text, kind_names[k], *p);
            goto out;
        }
        if (!parameter(out, *p, eq + 1, &selectors)) {
            uf_error_set(err, "fault \"%s\": bad value \"%s\" for %s", text, eq + 1, *p);
            goto out;
        }
    }
    if (selectors > 1) {
        uf_error_set(err, "fault \"%s\": one of frame=, msg=, block=, p= only", text);
        goto out;
    }
    if (out->kind == UF_LINK_FC) {
        out->unit = UF_ON_FC;
        if (!out->dir)
            out->dir = UF_DIR_ANY;
        if (!out->ms && !out->set_bs && !out->set_stmin && !out->set_status) {
            uf_error_set(err, "fault \"%s\": fc needs ms=, bs=, stmin= or status=", text);
            goto out;
        }
        ok = true;
        goto out;
    }
    if (!selectors) {
        uf_error_set(err, "fault \"%s\": say when: %s", text,
                     out->kind == UF_LINK_LOSS || out->kind == UF_LINK_BUS_OFF ? "block=K"
                     : out->kind == UF_LINK_DISCONNECT ? "block=K or msg=N"
                                                       : "frame=N, msg=N, block=K or p=P");
        goto out;
    }
    if (out->kind == UF_LINK_DELAY && out->ms == 0) {
        uf_error_set(err, "fault \"%s\": delay needs ms=", text);
        goto out;
    }
    /* What the tool sends, unless a block says when (the request, whoever
     * sends it: the tester, or the tester the ECU hears). */
    if (!out->dir)
        out->dir = out->unit == UF_ON_BLOCK ? UF_DIR_ANY : UF_DIR_TX;
    ok = true;
out:
    g_strfreev(parts);
    return ok;
}
