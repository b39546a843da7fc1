/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's flash in a file, so that what was flashed survives
 * udsecu and can be compared byte for byte: a 4 KiB header (the memory map
 * it was made for, the application's state and fingerprint), then the
 * flash bytes, regions one after the other. Every write goes straight to
 * the file: a process killed mid-transfer (a power cut) leaves the part
 * written, and the application marked invalid since the erase began.
 */
#ifndef UF_ECU_FILE_H
#define UF_ECU_FILE_H

#include "uf_ecu.h"

typedef struct uf_ecu_file uf_ecu_file;

#define UF_ECU_FILE_HEADER 4096

/* Opens the file, or creates it erased (0xFF). The flash image and the
 * state are returned for uf_ecu_new (g_free the flash). NULL with err if
 * the file cannot be written, is no udsecu flash file, or was made for
 * other regions. */
uf_ecu_file *uf_ecu_file_open(const char *path, const uf_ecu_config *c, uint8_t **flash,
                              uf_ecu_persistent *state, uf_error *err);
/* Callbacks that write through to the file. */
uf_ecu_store uf_ecu_file_store(uf_ecu_file *f);
/* A write failed (disk full...): err says which. */
bool uf_ecu_file_failed(const uf_ecu_file *f, uf_error *err);
void uf_ecu_file_close(uf_ecu_file *f);

#endif /* UF_ECU_FILE_H */
