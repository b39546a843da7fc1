/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Names from ISO 14229-1:2020: service identifiers (clause 10-15 and
 * Table 2; OBD services of ISO 15031-5 / SAE J1979 for completeness),
 * negative response codes (Annex A.1), diagnostic session and reset types,
 * the standardised DIDs of Annex C.1 and the routine id ranges of Table F.1.
 */
#include "uf_uds.h"

#include <glib.h>

typedef struct name8 {
    uint8_t id;
    const char *name;
} name8;

typedef struct name16 {
    uint16_t id;
    const char *name;
} name16;

/* Services and NRCs are looked up for every message: indexed by their
 * byte, not searched. */
static const char *const services[256] = {
    [0x01] = "OBD.ShowCurrentData",
    [0x02] = "OBD.ShowFreezeFrameData",
    [0x03] = "OBD.ShowStoredDTCs",
    [0x04] = "OBD.ClearDTCs",
    [0x05] = "OBD.OxygenSensorMonitoring",
    [0x06] = "OBD.OnBoardMonitoring",
    [0x07] = "OBD.ShowPendingDTCs",
    [0x08] = "OBD.ControlOnBoardSystem",
    [0x09] = "OBD.RequestVehicleInformation",
    [0x0A] = "OBD.PermanentDTCs",
    [0x10] = "DiagnosticSessionControl",
    [0x11] = "ECUReset",
    [0x14] = "ClearDiagnosticInformation",
    [0x19] = "ReadDTCInformation",
    [0x22] = "ReadDataByIdentifier",
    [0x23] = "ReadMemoryByAddress",
    [0x24] = "ReadScalingDataByIdentifier",
    [0x27] = "SecurityAccess",
    [0x28] = "CommunicationControl",
    [0x29] = "Authentication",
    [0x2A] = "ReadDataByPeriodicIdentifier",
    [0x2C] = "DynamicallyDefineDataIdentifier",
    [0x2E] = "WriteDataByIdentifier",
    [0x2F] = "InputOutputControlByIdentifier",
    [0x31] = "RoutineControl",
    [0x34] = "RequestDownload",
    [0x35] = "RequestUpload",
    [0x36] = "TransferData",
    [0x37] = "RequestTransferExit",
    [0x38] = "RequestFileTransfer",
    [0x3D] = "WriteMemoryByAddress",
    [0x3E] = "TesterPresent",
    [0x83] = "AccessTimingParameter",
    [0x84] = "SecuredDataTransmission",
    [0x85] = "ControlDTCSetting",
    [0x86] = "ResponseOnEvent",
    [0x87] = "LinkControl",
};

static const char *const nrcs[256] = {
    [0x10] = "generalReject",
    [0x11] = "serviceNotSupported",
    [0x12] = "subFunctionNotSupported",
    [0x13] = "incorrectMessageLengthOrInvalidFormat",
    [0x14] = "responseTooLong",
    [0x21] = "busyRepeatRequest",
    [0x22] = "conditionsNotCorrect",
    [0x24] = "requestSequenceError",
    [0x25] = "noResponseFromSubnetComponent",
    [0x26] = "failurePreventsExecutionOfRequestedAction",
    [0x31] = "requestOutOfRange",
    [0x33] = "securityAccessDenied",
    [0x34] = "authenticationRequired",
    [0x35] = "invalidKey",
    [0x36] = "exceededNumberOfAttempts",
    [0x37] = "requiredTimeDelayNotExpired",
    [0x38] = "secureDataTransmissionRequired",
    [0x39] = "secureDataTransmissionNotAllowed",
    [0x3A] = "secureDataVerificationFailed",
    [0x50] = "certificateVerificationFailedInvalidTimePeriod",
    [0x51] = "certificateVerificationFailedInvalidSignature",
    [0x52] = "certificateVerificationFailedInvalidChainOfTrust",
    [0x53] = "certificateVerificationFailedInvalidType",
    [0x54] = "certificateVerificationFailedInvalidFormat",
    [0x55] = "certificateVerificationFailedInvalidContent",
    [0x56] = "certificateVerificationFailedInvalidScope",
    [0x57] = "certificateVerificationFailedInvalidCertificate",
    [0x58] = "ownershipVerificationFailed",
    [0x59] = "challengeCalculationFailed",
    [0x5A] = "settingAccessRightsFailed",
    [0x5B] = "sessionKeyCreationDerivationFailed",
    [0x5C] = "configurationDataUsageFailed",
    [0x5D] = "deAuthenticationFailed",
    [0x70] = "uploadDownloadNotAccepted",
    [0x71] = "transferDataSuspended",
    [0x72] = "generalProgrammingFailure",
    [0x73] = "wrongBlockSequenceCounter",
    [0x78] = "requestCorrectlyReceivedResponsePending",
    [0x7E] = "subFunctionNotSupportedInActiveSession",
    [0x7F] = "serviceNotSupportedInActiveSession",
    [0x81] = "rpmTooHigh",
    [0x82] = "rpmTooLow",
    [0x83] = "engineIsRunning",
    [0x84] = "engineIsNotRunning",
    [0x85] = "engineRunTimeTooLow",
    [0x86] = "temperatureTooHigh",
    [0x87] = "temperatureTooLow",
    [0x88] = "vehicleSpeedTooHigh",
    [0x89] = "vehicleSpeedTooLow",
    [0x8A] = "throttlePedalTooHigh",
    [0x8B] = "throttlePedalTooLow",
    [0x8C] = "transmissionRangeNotInNeutral",
    [0x8D] = "transmissionRangeNotInGear",
    [0x8F] = "brakeSwitchNotClosed",
    [0x90] = "shifterLeverNotInPark",
    [0x91] = "torqueConverterClutchLocked",
    [0x92] = "voltageTooHigh",
    [0x93] = "voltageTooLow",
    [0x94] = "resourceTemporarilyNotAvailable",
};

static const name8 sessions[] = {
    {0x01, "defaultSession"},
    {0x02, "programmingSession"},
    {0x03, "extendedDiagnosticSession"},
    {0x04, "safetySystemDiagnosticSession"},
};

static const name8 resets[] = {
    {0x01, "hardReset"},
    {0x02, "keyOffOnReset"},
    {0x03, "softReset"},
    {0x04, "enableRapidPowerShutDown"},
    {0x05, "disableRapidPowerShutDown"},
};

/* ISO 14229-1:2020 Annex C.1, the identification DIDs a flash tool reads. */
static const name16 dids[] = {
    {0xF180, "bootSoftwareIdentification"},
    {0xF181, "applicationSoftwareIdentification"},
    {0xF182, "applicationDataIdentification"},
    {0xF183, "bootSoftwareFingerprint"},
    {0xF184, "applicationSoftwareFingerprint"},
    {0xF185, "applicationDataFingerprint"},
    {0xF186, "activeDiagnosticSession"},
    {0xF187, "vehicleManufacturerSparePartNumber"},
    {0xF188, "vehicleManufacturerECUSoftwareNumber"},
    {0xF189, "vehicleManufacturerECUSoftwareVersionNumber"},
    {0xF18A, "systemSupplierIdentifier"},
    {0xF18B, "ECUManufacturingDate"},
    {0xF18C, "ECUSerialNumber"},
    {0xF18D, "supportedFunctionalUnits"},
    {0xF18E, "vehicleManufacturerKitAssemblyPartNumber"},
    {0xF190, "VIN"},
    {0xF191, "vehicleManufacturerECUHardwareNumber"},
    {0xF192, "systemSupplierECUHardwareNumber"},
    {0xF193, "systemSupplierECUHardwareVersionNumber"},
    {0xF194, "systemSupplierECUSoftwareNumber"},
    {0xF195, "systemSupplierECUSoftwareVersionNumber"},
    {0xF196, "exhaustRegulationOrTypeApprovalNumber"},
    {0xF197, "systemNameOrEngineType"},
    {0xF198, "repairShopCodeOrTesterSerialNumber"},
    {0xF199, "programmingDate"},
    {0xF19A, "calibrationRepairShopCodeOrCalibrationEquipmentSerialNumber"},
    {0xF19B, "calibrationDate"},
    {0xF19C, "calibrationEquipmentSoftwareNumber"},
    {0xF19D, "ECUInstallationDate"},
    {0xF19E, "ODXFile"},
    {0xF19F, "entity"},
};

static const char *find8(const name8 *t, size_t n, uint8_t id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

const char *uf_uds_service_name(uint8_t sid)
{
    return services[sid];
}

bool uf_uds_service_by_name(const char *name, uint8_t *sid)
{
    for (unsigned i = 0; i < UF_ARRAY_LEN(services); i++) {
        if (services[i] && g_ascii_strcasecmp(services[i], name) == 0) {
            *sid = (uint8_t)i;
            return true;
        }
    }
    uint32_t v;
    if (uf_parse_u32(name, &v) && v <= 0xFF) {
        *sid = (uint8_t)v;
        return true;
    }
    return false;
}

bool uf_uds_has_identifier(uint8_t sid)
{
    return sid == 0x22 || sid == 0x24 || sid == 0x2E || sid == 0x2F || sid == 0x31;
}

const char *uf_uds_nrc_name(uint8_t nrc)
{
    return nrcs[nrc];
}

const char *uf_uds_session_name(uint8_t session)
{
    const char *n = find8(sessions, UF_ARRAY_LEN(sessions), session);
    if (n)
        return n;
    if (session >= 0x40 && session <= 0x5F)
        return "vehicleManufacturerSpecific";
    if (session >= 0x60 && session <= 0x7E)
        return "systemSupplierSpecific";
    return NULL;
}

const char *uf_uds_reset_name(uint8_t type)
{
    return find8(resets, UF_ARRAY_LEN(resets), type);
}

const char *uf_uds_did_name(uint16_t did)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(dids); i++)
        if (dids[i].id == did)
            return dids[i].name;
    return NULL;
}

const char *uf_uds_routine_name(uint16_t rid)
{
    if (rid == 0xFF00)
        return "eraseMemory";
    if (rid == 0xFF01)
        return "checkProgrammingDependencies";
    if (rid == 0xE200)
        return "deployLoopRoutineID";
    return NULL;
}
