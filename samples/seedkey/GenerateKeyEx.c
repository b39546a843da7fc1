/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * udsecu's sample seed / key algorithm (replay/uf_seedkey.h) behind the
 * interface of Vector's security access DLLs, so that udsreplay, CANoe or
 * any tester that loads such a library computes udsecu's keys:
 *
 *   VKeyGenResultEx GenerateKeyEx(const unsigned char *iSeedArray,
 *       unsigned int iSeedArraySize, const unsigned int iSecurityLevel,
 *       const char *iVariant, unsigned char *ioKeyArray,
 *       unsigned int iMaxKeyArraySize, unsigned int *oActualKeyArraySize);
 *
 * Vector's header passes oActualKeyArraySize as a C++ reference, which is a
 * pointer in the calling convention; this is its C form. iSecurityLevel is
 * the requestSeed sub-function (0x01, 0x03, ..., 0x11).
 */
#include "uf_seedkey.h"

#include <stddef.h>

typedef enum VKeyGenResultEx {
    KGRE_Ok = 0,
    KGRE_BufferToSmall = 1,
    KGRE_SecurityLevelInvalid = 2,
    KGRE_VariantInvalid = 3,
    KGRE_UnspecifiedError = 4,
} VKeyGenResultEx;

__attribute__((visibility("default"))) VKeyGenResultEx
GenerateKeyEx(const unsigned char *iSeedArray, unsigned int iSeedArraySize,
              const unsigned int iSecurityLevel, const char *iVariant, unsigned char *ioKeyArray,
              unsigned int iMaxKeyArraySize, unsigned int *oActualKeyArraySize);

VKeyGenResultEx GenerateKeyEx(const unsigned char *iSeedArray, unsigned int iSeedArraySize,
                              const unsigned int iSecurityLevel, const char *iVariant,
                              unsigned char *ioKeyArray, unsigned int iMaxKeyArraySize,
                              unsigned int *oActualKeyArraySize)
{
    (void)iVariant; /* one variant */
    if (!iSeedArray || !ioKeyArray || !oActualKeyArraySize)
        return KGRE_UnspecifiedError;
    if (iSeedArraySize != UF_SEEDKEY_LEN)
        return KGRE_UnspecifiedError;
    /* requestSeed sub-functions are odd, 0x01..0x41 (ISO 14229-1:2020 10.4.2.2). */
    if (iSecurityLevel == 0 || iSecurityLevel > 0x41 || !(iSecurityLevel & 1))
        return KGRE_SecurityLevelInvalid;
    if (iMaxKeyArraySize < UF_SEEDKEY_LEN)
        return KGRE_BufferToSmall;
    uint32_t seed = (uint32_t)iSeedArray[0] << 24 | (uint32_t)iSeedArray[1] << 16 |
                    (uint32_t)iSeedArray[2] << 8 | iSeedArray[3];
    uint32_t key = uf_seedkey(seed, (uint8_t)iSecurityLevel);
    ioKeyArray[0] = (unsigned char)(key >> 24);
    ioKeyArray[1] = (unsigned char)(key >> 16);
    ioKeyArray[2] = (unsigned char)(key >> 8);
    ioKeyArray[3] = (unsigned char)key;
    *oActualKeyArraySize = UF_SEEDKEY_LEN;
    return KGRE_Ok;
}
