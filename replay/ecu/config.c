/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's configuration: defaults that match the sample flashes
 * (P2 50 ms, P2* 5000 ms, the VIN of samples/), the memory map and its
 * checks, and the fault rules in their text form.
 */
#include "ecu_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void uf_ecu_config_defaults(uf_ecu_config *c)
{
    memset(c, 0, sizeof(*c));
    c->p2_ms = 50;
    c->p2star_ms = 5000;
    c->s3 = 5000 * UF_NS_PER_MS;
    c->response_time = 2 * UF_NS_PER_MS;
    c->erase_time = 1000 * UF_NS_PER_MS;
    c->reset_time = 500 * UF_NS_PER_MS;
    c->max_block = 0x402;
    c->regions[0] = (uf_ecu_region){0x00010000, 0x000F0000};
    c->n_regions = 1;
    g_strlcpy(c->vin, "WVWZZZ1KZBW000042", sizeof(c->vin));
    g_strlcpy(c->serial, "UDSECU0000000001", sizeof(c->serial));
    g_strlcpy(c->boot_version, "00.00.00", sizeof(c->boot_version));
    c->security_attempts = 3;
    c->security_delay = 10 * UF_NS_PER_S;
    c->seed = 1;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

bool uf_ecu_region_parse(const char *text, uf_ecu_region *out, uf_error *err)
{
    char **parts = g_strsplit(text, ":", 3);
    bool ok = g_strv_length(parts) == 2 && parse_u64(parts[0], &out->address) &&
              parse_u64(parts[1], &out->size) && out->size > 0 &&
              out->address <= UINT32_MAX && out->size <= UINT32_MAX &&
              out->address + out->size <= (uint64_t)UINT32_MAX + 1;
    g_strfreev(parts);
    if (!ok)
        uf_error_set(err, "region \"%s\": expected ADDRESS:SIZE within 32 bits, e.g. "
                          "0x10000:0xF0000", text);
    return ok;
}

uint64_t uf_ecu_flash_size(const uf_ecu_config *c)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < c->n_regions; i++)
        n += c->regions[i].size;
    return n;
}

bool uf_ecu_config_check(const uf_ecu_config *c, uf_error *err)
{
    if (c->n_regions == 0 || c->n_regions > UF_ECU_MAX_REGIONS) {
        uf_error_set(err, "between 1 and %d flash regions are needed", UF_ECU_MAX_REGIONS);
        return false;
    }
    for (unsigned i = 0; i < c->n_regions; i++)
        for (unsigned j = i + 1; j < c->n_regions; j++) {
            const uf_ecu_region *a = &c->regions[i], *b = &c->regions[j];
            if (a->address < b->address + b->size && b->address < a->address + a->size) {
                uf_error_set(err, "flash regions 0x%08" PRIX64 " and 0x%08" PRIX64 " overlap",
                             a->address, b->address);
                return false;
            }
        }
    if (uf_ecu_flash_size(c) > UF_ECU_MAX_FLASH) {
        uf_error_set(err, "%" PRIu64 " bytes of flash: at most %u (64 MiB)", uf_ecu_flash_size(c),
                     UF_ECU_MAX_FLASH);
        return false;
    }
    /* ISO 14229-1:2020 15.2: maxNumberOfBlockLength counts the SID and the
     * counter; 4095 is the largest ISO-TP message on classic CAN without
     * the escape, far more than one block needs. */
    if (c->max_block < 3 || c->max_block > 0xFFFF) {
        uf_error_set(err, "maxNumberOfBlockLength %u: between 3 and 65535", c->max_block);
        return false;
    }
    if (c->p2_ms == 0 || c->p2star_ms == 0 || c->p2star_ms > 655350 ||
        c->response_time >= (uf_time)c->p2_ms * UF_NS_PER_MS) {
        uf_error_set(err, "P2 %u ms, P2* %u ms, answering in %.1f ms: P2 and P2* must be set "
                          "(P2* at most 655350 ms) and answers must come within P2",
                     c->p2_ms, c->p2star_ms, (double)c->response_time / 1e6);
        return false;
    }
    return true;
}

/* ---- faults ----------------------------------------------------------------*/

static const char *const kind_names[] = {
    [UF_FAULT_LATE] = "late",           [UF_FAULT_DROP] = "drop",
    [UF_FAULT_NRC] = "nrc",             [UF_FAULT_STOP] = "stop",
    [UF_FAULT_FC] = "fc",               [UF_FAULT_DOIP_NACK] = "doip-nack",
    [UF_FAULT_DOIP_CLOSE] = "doip-close",
};

const char *uf_ecu_fault_kind_name(uf_ecu_fault_kind k)
{
    return (size_t)k < UF_ARRAY_LEN(kind_names) ? kind_names[k] : "?";
}

static bool byte_value(const char *v, uint8_t *out)
{
    uint64_t x;
    if (!parse_u64(v, &x) || x > 0xFF)
        return false;
    *out = (uint8_t)x;
    return true;
}

bool uf_ecu_fault_parse(const char *text, uf_ecu_fault *out, uf_error *err)
{
    memset(out, 0, sizeof(*out));
    char **parts = g_strsplit(text, ",", -1);
    bool ok = false;
    size_t k;
    for (k = 0; k < UF_ARRAY_LEN(kind_names); k++)
        if (parts[0] && strcmp(parts[0], kind_names[k]) == 0)
            break;
    if (k == UF_ARRAY_LEN(kind_names)) {
        uf_error_set(err, "fault \"%s\": the kind is one of late, drop, nrc, stop, fc, "
                          "doip-nack, doip-close", text);
        goto out;
    }
    out->kind = (uf_ecu_fault_kind)k;
    out->probability = 1.0;
    bool have_when = false;
    for (char **p = parts + 1; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq) {
            uf_error_set(err, "fault \"%s\": \"%s\" is not NAME=VALUE", text, *p);
            goto out;
        }
        *eq = '\0';
        const char *name = *p, *value = eq + 1;
        uint64_t x = 0;
        bool good;
        if (strcmp(name, "sid") == 0) {
            good = byte_value(value, &out->sid);
        } else if (strcmp(name, "n") == 0) {
            good = parse_u64(value, &x) && x >= 1 && x <= UINT32_MAX;
            out->nth = (uint32_t)x;
            have_when = true;
        } else if (strcmp(name, "p") == 0) {
            char *end = NULL;
            out->probability = g_ascii_strtod(value, &end);
            good = end && end != value && !*end && out->probability >= 0.0 &&
                   out->probability <= 1.0;
            have_when = true;
        } else if (strcmp(name, "ms") == 0) {
            good = parse_u64(value, &x) && x <= 3600000;
            out->ms = (uint32_t)x;
        } else if (strcmp(name, "nrc") == 0) {
            good = byte_value(value, &out->nrc);
        } else if (strcmp(name, "block") == 0) {
            good = parse_u64(value, &x) && x >= 1 && x <= UINT32_MAX;
            out->block = (uint32_t)x;
        } else if (strcmp(name, "bs") == 0) {
            good = byte_value(value, &out->bs);
        } else if (strcmp(name, "stmin") == 0) {
            good = byte_value(value, &out->stmin);
        } else {
            uf_error_set(err, "fault \"%s\": unknown parameter \"%s\" (sid, n, p, ms, nrc, "
                              "block, bs, stmin)", text, name);
            goto out;
        }
        if (!good) {
            uf_error_set(err, "fault \"%s\": bad value \"%s\" for %s", text, value, name);
            goto out;
        }
    }
    (void)have_when;
    if (out->kind == UF_FAULT_LATE && out->ms == 0) {
        uf_error_set(err, "fault \"%s\": late needs ms=", text);
        goto out;
    }
    if ((out->kind == UF_FAULT_NRC || out->kind == UF_FAULT_DOIP_NACK) && out->nrc == 0) {
        uf_error_set(err, "fault \"%s\": %s needs nrc=", text, kind_names[k]);
        goto out;
    }
    if (out->kind == UF_FAULT_STOP && out->block == 0) {
        uf_error_set(err, "fault \"%s\": stop needs block=", text);
        goto out;
    }
    ok = true;
out:
    g_strfreev(parts);
    return ok;
}
