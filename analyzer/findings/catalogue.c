/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The rule catalogue: every finding id with its default severity and the
 * clause of the standard it rests on. The ids are a contract (CI users gate
 * on them); tests check that docs/rules.md lists exactly these.
 * ISO 15765-2:2016 (ISO-TP), ISO 14229-1:2020 (UDS), ISO 13400-2:2019 (DoIP).
 */
#include "uf_finding.h"

#include <stdlib.h>
#include <string.h>

static const uf_rule catalogue[] = {
    /* capture: the input itself */
    {"capture.damaged", UF_SEV_WARNING, "-",
     "The capture file is truncated or corrupt; analysis covers everything up to the damage."},
    {"capture.malformed", UF_SEV_WARNING, "-",
     "A record could not be decoded as a CAN frame (length fields out of range)."},
    {"capture.no_timestamps", UF_SEV_INFO, "-",
     "The source has no timestamps (candump console output): timing rules are off."},

    /* isotp: ISO 15765-2:2016 */
    {"isotp.sequence", UF_SEV_ERROR, "ISO 15765-2:2016 9.6.4.3",
     "A consecutive frame carries the wrong sequence number (the receiver aborts: N_WRONG_SN)."},
    {"isotp.unexpected_cf", UF_SEV_WARNING, "ISO 15765-2:2016 9.8.3",
     "A consecutive frame arrives while no segmented message is in progress."},
    {"isotp.unexpected_fc", UF_SEV_WARNING, "ISO 15765-2:2016 9.8.3",
     "A flow control frame arrives while no sender waits for one."},
    {"isotp.interrupted", UF_SEV_ERROR, "ISO 15765-2:2016 9.8.3",
     "A new single or first frame interrupts a segmented message before it completed."},
    {"isotp.n_bs", UF_SEV_ERROR, "ISO 15765-2:2016 9.8.2",
     "Flow control came later than N_Bs after the first frame or a block's last frame, or never."},
    {"isotp.n_cr", UF_SEV_ERROR, "ISO 15765-2:2016 9.8.2",
     "The next consecutive frame came later than N_Cr, or the message never completed."},
    {"isotp.stmin", UF_SEV_WARNING, "ISO 15765-2:2016 9.6.5.4",
     "Consecutive frames were sent closer together than the receiver's STmin."},
    {"isotp.bs", UF_SEV_ERROR, "ISO 15765-2:2016 9.6.5.3",
     "More consecutive frames than the block size, or any before the first flow control."},
    {"isotp.fc_wait", UF_SEV_ERROR, "ISO 15765-2:2016 9.7",
     "The receiver sent more FC.WAIT frames in a row than N_WFTmax."},
    {"isotp.fc_overflow", UF_SEV_WARNING, "ISO 15765-2:2016 9.6.5.2",
     "The receiver answered a first frame with FC.OVFLW: the message was too long for it."},
    {"isotp.length", UF_SEV_ERROR, "ISO 15765-2:2016 9.6.2, 9.6.3",
     "SF_DL or FF_DL is out of range for the frame, or a frame is shorter than it must be."},
    {"isotp.padding", UF_SEV_INFO, "ISO 15765-2:2016 10.4.2",
     "Frame padding differs within a flow, or padding is required and a frame is not padded."},
    {"isotp.pci", UF_SEV_ERROR, "ISO 15765-2:2016 9.6.1",
     "A frame on a diagnostic id carries a reserved PCI type or flow status."},

    /* timing: ISO 14229-2:2013 and ISO 14229-1:2020 */
    {"timing.p2", UF_SEV_ERROR, "ISO 14229-2:2013 7.2",
     "The ECU's response started later than P2_server_max after the request ended."},
    {"timing.p2star", UF_SEV_ERROR, "ISO 14229-2:2013 7.2",
     "After a response pending (0x78), the next response came later than P2*_server_max."},
    {"timing.s3", UF_SEV_ERROR, "ISO 14229-2:2013 7.5",
     "In a non-default session, the tester was silent longer than S3_server."},
    {"timing.pending_spacing", UF_SEV_WARNING, "ISO 14229-1:2020 A.1 (NRC 0x78)",
     "Response-pending messages were spaced wider than P2*_server_max."},

    /* uds: ISO 14229-1:2020 */
    {"uds.nrc", UF_SEV_WARNING, "ISO 14229-1:2020 A.1",
     "The ECU answered with a negative response code."},
    {"uds.no_response", UF_SEV_ERROR, "ISO 14229-1:2020 7.5",
     "A request that expects a response got none."},
    {"uds.unexpected_response", UF_SEV_WARNING, "ISO 14229-1:2020 7.5",
     "A response that answers no outstanding request."},
    {"uds.malformed", UF_SEV_ERROR, "ISO 14229-1:2020 10-15",
     "A message is too short or inconsistent for its service."},

    /* flash: the profile's programming sequence and ISO 14229-1:2020 clause 15 */
    {"flash.sequence.missing", UF_SEV_ERROR, "profile (ISO 14229-1 programming sequence)",
     "A required step of the profile's flash sequence is missing."},
    {"flash.sequence.order", UF_SEV_ERROR, "profile (ISO 14229-1 programming sequence)",
     "Flash steps happened in an order the profile does not allow."},
    {"flash.sequence.unexpected", UF_SEV_WARNING, "profile (ISO 14229-1 programming sequence)",
     "A request the profile does not expect at this point of the sequence."},
    {"flash.session", UF_SEV_ERROR, "ISO 14229-1:2020 10.2",
     "A service was used in a diagnostic session that does not support it."},
    {"flash.security", UF_SEV_ERROR, "ISO 14229-1:2020 10.4",
     "A protected service was used without the security level it needs."},
    {"flash.transfer.block_counter", UF_SEV_ERROR, "ISO 14229-1:2020 15.4",
     "A TransferData block sequence counter skipped or went backwards."},
    {"flash.transfer.size", UF_SEV_ERROR, "ISO 14229-1:2020 15.2",
     "The bytes transferred differ from the memory size of RequestDownload."},
    {"flash.transfer.block_length", UF_SEV_ERROR, "ISO 14229-1:2020 15.2, 15.4",
     "A TransferData request is longer than maxNumberOfBlockLength."},
    {"flash.transfer.incomplete", UF_SEV_ERROR, "ISO 14229-1:2020 15.5",
     "A download was not ended by a positive RequestTransferExit."},

    /* doip: ISO 13400-2:2019 */
    {"doip.nack", UF_SEV_ERROR, "ISO 13400-2:2019 diagnostic message NACK, generic header NACK",
     "A diagnostic message, or a DoIP message, was refused with a negative acknowledgement."},
    {"doip.routing", UF_SEV_ERROR, "ISO 13400-2:2019 routing activation",
     "Diagnostic messages on a connection without successful routing activation, or a "
     "routing activation denied."},
    {"doip.ack_timeout", UF_SEV_WARNING, "ISO 13400-2:2019 7.7 A_DoIP_Diagnostic_Message",
     "A diagnostic message acknowledgement came later than A_DoIP_Diagnostic_Message, or "
     "not at all."},
    {"doip.malformed", UF_SEV_ERROR, "ISO 13400-2:2019 generic DoIP header",
     "A DoIP header is invalid (version, inverse version, payload type or length)."},
    {"doip.tcp_gap", UF_SEV_WARNING, "RFC 9293 (capture loss)",
     "Bytes of the TCP stream are missing from the capture; decoding resynchronised."},
    {"doip.tls", UF_SEV_INFO, "ISO 13400-2:2019 6.2.5",
     "A DoIP connection secured with TLS (port 3496): its messages cannot be decoded."},
};

const uf_rule *uf_rules_all(size_t *count)
{
    *count = UF_ARRAY_LEN(catalogue);
    return catalogue;
}

const uf_rule *uf_rule_find(const char *id)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(catalogue); i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return &catalogue[i];
    return NULL;
}

bool uf_rule_matches(const char *rule_id, const char *pattern)
{
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 2] == '.' && pattern[n - 1] == '*')
        n -= 2; /* "isotp.*" selects like "isotp" */
    if (strncmp(rule_id, pattern, n) != 0)
        return false;
    return rule_id[n] == '\0' || rule_id[n] == '.';
}

const char *uf_severity_name(uf_severity s)
{
    switch (s) {
    case UF_SEV_INFO: return "info";
    case UF_SEV_WARNING: return "warning";
    case UF_SEV_ERROR: return "error";
    }
    return "?";
}

bool uf_severity_parse(const char *name, uf_severity *out)
{
    for (int s = UF_SEV_INFO; s <= UF_SEV_ERROR; s++) {
        if (strcmp(name, uf_severity_name((uf_severity)s)) == 0) {
            *out = (uf_severity)s;
            return true;
        }
    }
    return false;
}

void uf_finding_init(uf_finding *f, const char *rule_id, uint64_t frame, uf_time time,
                     uint32_t bus, const char *fmt, ...)
{
    const uf_rule *rule = uf_rule_find(rule_id);
    if (!rule) {
        fprintf(stderr, "udsflash: internal error: unknown rule id \"%s\"\n", rule_id);
        abort();
    }
    f->rule = rule;
    f->severity = rule->severity;
    f->frame = frame;
    f->frame2 = 0;
    f->time = time;
    f->bus = bus;
    f->has_id = false;
    f->id = 0;
    f->id_addr = -1;
    f->session = 0;
    f->phase = f->step = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}
