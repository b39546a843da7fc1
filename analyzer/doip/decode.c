/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The DoIP generic header and the payload of every type ISO 13400-2:2019
 * defines, with their names and codes. A header is sound when its protocol
 * version is one the editions define (0x01 DIS 2010, 0x02 2012, 0x03 2019,
 * 0x04 2019/Amd 1, or 0xFF on vehicle identification requests), the next
 * byte is its inverse, the payload type is defined and its length is one
 * that type allows. Code and type names follow the standard's wording.
 */
#include "uf_doip.h"

#include <stdio.h>
#include <string.h>

typedef struct named {
    uint16_t value;
    const char *name;
} named;

static const char *find(const named *t, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return NULL;
}

/* Every message's header is checked against this table: the types of a
 * flash, diagnostic messages and their acknowledgements, come first. */
static const named types[] = {
    {UF_DOIP_DIAGNOSTIC_MESSAGE, "DiagnosticMessage"},
    {UF_DOIP_DIAGNOSTIC_ACK, "DiagnosticMessageACK"},
    {UF_DOIP_DIAGNOSTIC_NACK, "DiagnosticMessageNACK"},
    {UF_DOIP_GENERIC_NACK, "GenericHeaderNACK"},
    {UF_DOIP_VEHICLE_ID_REQUEST, "VehicleIdentificationRequest"},
    {UF_DOIP_VEHICLE_ID_REQUEST_EID, "VehicleIdentificationRequestEID"},
    {UF_DOIP_VEHICLE_ID_REQUEST_VIN, "VehicleIdentificationRequestVIN"},
    {UF_DOIP_VEHICLE_ANNOUNCEMENT, "VehicleAnnouncement"},
    {UF_DOIP_ROUTING_ACTIVATION_REQUEST, "RoutingActivationRequest"},
    {UF_DOIP_ROUTING_ACTIVATION_RESPONSE, "RoutingActivationResponse"},
    {UF_DOIP_ALIVE_CHECK_REQUEST, "AliveCheckRequest"},
    {UF_DOIP_ALIVE_CHECK_RESPONSE, "AliveCheckResponse"},
    {UF_DOIP_ENTITY_STATUS_REQUEST, "EntityStatusRequest"},
    {UF_DOIP_ENTITY_STATUS_RESPONSE, "EntityStatusResponse"},
    {UF_DOIP_POWER_MODE_REQUEST, "DiagnosticPowerModeRequest"},
    {UF_DOIP_POWER_MODE_RESPONSE, "DiagnosticPowerModeResponse"},
};

static const named generic_nacks[] = {
    {0x00, "incorrectPatternFormat"}, {0x01, "unknownPayloadType"},
    {0x02, "messageTooLarge"},        {0x03, "outOfMemory"},
    {0x04, "invalidPayloadLength"},
};

static const named diag_nacks[] = {
    {0x02, "invalidSourceAddress"},       {0x03, "unknownTargetAddress"},
    {0x04, "diagnosticMessageTooLarge"},  {0x05, "outOfMemory"},
    {0x06, "targetUnreachable"},          {0x07, "unknownNetwork"},
    {0x08, "transportProtocolError"},
};

static const named routing_codes[] = {
    {0x00, "deniedUnknownSourceAddress"},
    {0x01, "deniedAllSocketsRegisteredAndActive"},
    {0x02, "deniedSourceAddressDiffersOnThisSocket"},
    {0x03, "deniedSourceAddressActiveOnAnotherSocket"},
    {0x04, "deniedMissingAuthentication"},
    {0x05, "deniedRejectedConfirmation"},
    {0x06, "deniedUnsupportedActivationType"},
    {0x07, "deniedTLSRequired"},
    {0x10, "successfullyActivated"},
    {0x11, "confirmationRequired"},
};

static const named activation_types[] = {
    {0x00, "default"}, {0x01, "WWH-OBD"}, {0xE0, "centralSecurity"},
};

static const named power_modes[] = {
    {0x00, "notReady"}, {0x01, "ready"}, {0x02, "notSupported"},
};

const char *uf_doip_type_name(uint16_t type)
{
    return find(types, UF_ARRAY_LEN(types), type);
}

const char *uf_doip_generic_nack_name(uint8_t code)
{
    return find(generic_nacks, UF_ARRAY_LEN(generic_nacks), code);
}

const char *uf_doip_diag_nack_name(uint8_t code)
{
    return find(diag_nacks, UF_ARRAY_LEN(diag_nacks), code);
}

const char *uf_doip_routing_code_name(uint8_t code)
{
    return find(routing_codes, UF_ARRAY_LEN(routing_codes), code);
}

const char *uf_doip_activation_type_name(uint8_t type)
{
    return find(activation_types, UF_ARRAY_LEN(activation_types), type);
}

const char *uf_doip_power_mode_name(uint8_t mode)
{
    return find(power_modes, UF_ARRAY_LEN(power_modes), mode);
}

bool uf_doip_is_functional(uint16_t la)
{
    return la >= 0xE000 && la <= 0xEFFF;
}

/* ---- lengths per type ------------------------------------------------------------*/

/* The payload lengths a type allows: exactly a or b, or at least min_len. */
static bool length_allowed(uint8_t version, uint16_t type, uint32_t len)
{
    switch (type) {
    case UF_DOIP_GENERIC_NACK:
    case UF_DOIP_POWER_MODE_RESPONSE:
        return len == 1;
    case UF_DOIP_VEHICLE_ID_REQUEST:
    case UF_DOIP_ALIVE_CHECK_REQUEST:
    case UF_DOIP_ENTITY_STATUS_REQUEST:
    case UF_DOIP_POWER_MODE_REQUEST:
        return len == 0;
    case UF_DOIP_VEHICLE_ID_REQUEST_EID:
        return len == 6;
    case UF_DOIP_VEHICLE_ID_REQUEST_VIN:
        return len == 17;
    case UF_DOIP_VEHICLE_ANNOUNCEMENT:
        return len == 32 || len == 33; /* with the VIN/GID sync status */
    case UF_DOIP_ROUTING_ACTIVATION_REQUEST:
        /* The 2010 draft had a 2-byte activation type. */
        return version == 0x01 ? (len == 8 || len == 12) : (len == 7 || len == 11);
    case UF_DOIP_ROUTING_ACTIVATION_RESPONSE:
        return len == 9 || len == 13;
    case UF_DOIP_ALIVE_CHECK_RESPONSE:
        return len == 2;
    case UF_DOIP_ENTITY_STATUS_RESPONSE:
        return len == 3 || len == 7; /* with the max data size */
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
    case UF_DOIP_DIAGNOSTIC_ACK:
    case UF_DOIP_DIAGNOSTIC_NACK:
        return len >= 5;
    default:
        return false;
    }
}

const char *uf_doip_check_header(const uint8_t h[UF_DOIP_HEADER_LEN], uint32_t max_length)
{
    uint8_t version = h[0];
    uint16_t type = uf_load_be16(h + 2);
    uint32_t len = uf_load_be32(h + 4);
    if (version + h[1] != 0xFF) /* the inverse: every bit flipped */
        return "the inverse protocol version does not match the version";
    bool identification = type >= UF_DOIP_VEHICLE_ID_REQUEST &&
                          type <= UF_DOIP_VEHICLE_ID_REQUEST_VIN;
    if (!(version >= 0x01 && version <= 0x04) && !(version == 0xFF && identification))
        return "unknown protocol version";
    if (!uf_doip_type_name(type))
        return "payload type reserved by ISO 13400-2";
    if (len > max_length)
        return "payload length beyond any DoIP message";
    if (!length_allowed(version, type, len))
        return "payload length wrong for its payload type";
    return NULL;
}

size_t uf_doip_encode(uint8_t *out, uint16_t type, const uint8_t *payload, uint32_t len)
{
    out[0] = 0x03;
    out[1] = 0xFC;
    uf_store_be16(out + 2, type);
    uf_store_be32(out + 4, len);
    if (len)
        memcpy(out + UF_DOIP_HEADER_LEN, payload, len);
    return UF_DOIP_HEADER_LEN + len;
}

void uf_doip_decode(const uint8_t *p, uint32_t held, uf_doip_decoded *d)
{
    memset(d, 0, sizeof(*d));
    d->version = p[0];
    d->type = uf_load_be16(p + 2);
    d->length = uf_load_be32(p + 4);
    d->payload = p + UF_DOIP_HEADER_LEN;
    d->held = held;
    const uint8_t *q = d->payload;
    uint32_t n = held;
    /* Every fixed-size field below is checked against n: a message cut by
     * the stored maximum keeps its addresses, never more than it has. */
    switch (d->type) {
    case UF_DOIP_GENERIC_NACK:
    case UF_DOIP_POWER_MODE_RESPONSE:
        if (n >= 1) {
            d->code = q[0];
            d->has_code = true;
        }
        break;
    case UF_DOIP_VEHICLE_ID_REQUEST_EID:
        if (n >= 6)
            d->eid = q;
        break;
    case UF_DOIP_VEHICLE_ID_REQUEST_VIN:
        if (n >= 17)
            d->vin = q;
        break;
    case UF_DOIP_VEHICLE_ANNOUNCEMENT:
        if (n >= 32) {
            d->vin = q;
            d->sa = uf_load_be16(q + 17);
            d->has_sa = true;
            d->eid = q + 19;
            d->gid = q + 25;
            d->further_action = q[31];
        }
        break;
    case UF_DOIP_ROUTING_ACTIVATION_REQUEST:
        if (n >= 3) {
            d->sa = uf_load_be16(q);
            d->has_sa = true;
            d->code = d->version == 0x01 && n >= 4 ? q[3] : q[2];
            d->has_code = true;
        }
        break;
    case UF_DOIP_ROUTING_ACTIVATION_RESPONSE:
        if (n >= 5) {
            d->sa = uf_load_be16(q);      /* the tester's address */
            d->ta = uf_load_be16(q + 2);  /* the entity's address */
            d->has_sa = d->has_ta = true;
            d->code = q[4];
            d->has_code = true;
        }
        break;
    case UF_DOIP_ALIVE_CHECK_RESPONSE:
        if (n >= 2) {
            d->sa = uf_load_be16(q);
            d->has_sa = true;
        }
        break;
    case UF_DOIP_ENTITY_STATUS_RESPONSE:
        if (n >= 3) {
            d->node_type = q[0];
            d->max_sockets = q[1];
            d->open_sockets = q[2];
        }
        if (n >= 7) {
            d->has_max_data = true;
            d->max_data = uf_load_be32(q + 3);
        }
        break;
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
    case UF_DOIP_DIAGNOSTIC_ACK:
    case UF_DOIP_DIAGNOSTIC_NACK:
        if (n >= 4) {
            d->sa = uf_load_be16(q);
            d->ta = uf_load_be16(q + 2);
            d->has_sa = d->has_ta = true;
        }
        if (d->type == UF_DOIP_DIAGNOSTIC_MESSAGE) {
            d->user_data = n > 4 ? q + 4 : NULL;
            d->user_len = d->length >= 4 ? d->length - 4 : 0;
        } else if (n >= 5) {
            d->code = q[4];
            d->has_code = true;
        }
        break;
    default:
        break;
    }
    const char *why = uf_doip_check_header(p, UINT32_MAX);
    d->malformed = why;
}

static const char *hex(const uint8_t *p, size_t n, char *buf, size_t size)
{
    size_t at = 0;
    for (size_t i = 0; i < n && at + 3 <= size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%02X", p[i]);
    return buf;
}

/* A VIN as text; bytes outside printable ASCII (a capture is untrusted)
 * become '.'. */
static const char *vin_text(const uint8_t *v, char out[18])
{
    for (int i = 0; i < 17; i++)
        out[i] = v[i] >= 0x20 && v[i] < 0x7F ? (char)v[i] : '.';
    out[17] = '\0';
    return out;
}

size_t uf_doip_describe(const uf_doip_decoded *d, char *buf, size_t size)
{
    char vin[18];
    const char *name = uf_doip_type_name(d->type);
    char h[40];
    int n = name ? snprintf(buf, size, "%s", name)
                 : snprintf(buf, size, "DoIP type 0x%04X", d->type);
#define ADD(...)                                                                    \
    do {                                                                            \
        if (n >= 0 && (size_t)n < size)                                             \
            n += snprintf(buf + n, size - (size_t)n, __VA_ARGS__);                  \
    } while (0)
    switch (d->type) {
    case UF_DOIP_GENERIC_NACK:
        if (d->has_code) {
            const char *c = uf_doip_generic_nack_name(d->code);
            ADD(" code=0x%02X (%s)", d->code, c ? c : "reserved");
        }
        break;
    case UF_DOIP_VEHICLE_ID_REQUEST_EID:
        if (d->eid)
            ADD(" eid=%s", hex(d->eid, 6, h, sizeof(h)));
        break;
    case UF_DOIP_VEHICLE_ID_REQUEST_VIN:
        if (d->vin)
            ADD(" vin=%s", vin_text(d->vin, vin));
        break;
    case UF_DOIP_VEHICLE_ANNOUNCEMENT:
        if (d->vin) {
            ADD(" vin=%s address=0x%04X eid=%s", vin_text(d->vin, vin), d->sa,
                hex(d->eid, 6, h, sizeof(h)));
            ADD(" gid=%s", hex(d->gid, 6, h, sizeof(h)));
            if (d->further_action)
                ADD(" furtherAction=0x%02X", d->further_action);
        }
        break;
    case UF_DOIP_ROUTING_ACTIVATION_REQUEST:
        if (d->has_sa) {
            const char *t = uf_doip_activation_type_name(d->code);
            ADD(" source=0x%04X type=0x%02X (%s)", d->sa, d->code, t ? t : "manufacturer");
        }
        break;
    case UF_DOIP_ROUTING_ACTIVATION_RESPONSE:
        if (d->has_code) {
            const char *c = uf_doip_routing_code_name(d->code);
            ADD(" tester=0x%04X entity=0x%04X code=0x%02X (%s)", d->sa, d->ta, d->code,
                c ? c : "reserved");
        }
        break;
    case UF_DOIP_ALIVE_CHECK_RESPONSE:
        if (d->has_sa)
            ADD(" source=0x%04X", d->sa);
        break;
    case UF_DOIP_ENTITY_STATUS_RESPONSE:
        if (d->held >= 3) {
            ADD(" node=%s sockets=%u/%u", d->node_type == 0 ? "gateway" : "node", d->open_sockets,
                d->max_sockets);
            if (d->has_max_data)
                ADD(" maxData=%u", (unsigned)d->max_data);
        }
        break;
    case UF_DOIP_POWER_MODE_RESPONSE:
        if (d->has_code) {
            const char *m = uf_doip_power_mode_name(d->code);
            ADD(" mode=0x%02X (%s)", d->code, m ? m : "reserved");
        }
        break;
    case UF_DOIP_DIAGNOSTIC_MESSAGE:
        if (d->has_sa)
            ADD(" 0x%04X -> 0x%04X uds=%u bytes", d->sa, d->ta, (unsigned)d->user_len);
        break;
    case UF_DOIP_DIAGNOSTIC_ACK:
        if (d->has_code)
            ADD(" 0x%04X -> 0x%04X code=0x%02X", d->sa, d->ta, d->code);
        break;
    case UF_DOIP_DIAGNOSTIC_NACK:
        if (d->has_code) {
            const char *c = uf_doip_diag_nack_name(d->code);
            ADD(" 0x%04X -> 0x%04X code=0x%02X (%s)", d->sa, d->ta, d->code, c ? c : "reserved");
        }
        break;
    default:
        break;
    }
#undef ADD
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}
