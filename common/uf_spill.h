/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An append-only store of records kept in an unlinked temporary file (in
 * $TMPDIR, else /tmp), for what a report needs only at its end: the
 * closed flash sessions and the findings. A capture of any size then
 * streams through in flat memory; what stays in memory is 8 bytes a
 * record (its offset) and two 64 KiB buffers.
 *
 * A store never drops a record it was given: if the file cannot be made
 * or written (no space left), it keeps its records in memory from then on
 * and says why in uf_spill_degraded(). Only a failed read of the file
 * loses one (uf_spill_lost()).
 */
#ifndef UF_SPILL_H
#define UF_SPILL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct uf_spill uf_spill;
/* A window of a store's file of its own: each thread reading one store at
 * the same time as others uses one (and no thread appends meanwhile). */
typedef struct uf_spill_cursor uf_spill_cursor;

uf_spill *uf_spill_new(void);
void uf_spill_free(uf_spill *s);
void uf_spill_append(uf_spill *s, const void *record, size_t len);
size_t uf_spill_count(const uf_spill *s);
/* Record i (0-based), its length in *len; valid until the next call on
 * the store. NULL if i is out of range or the file could not be read
 * back (uf_spill_lost() says why). */
const void *uf_spill_get(uf_spill *s, size_t i, size_t *len);
/* As uf_spill_get, through a cursor: valid until the next call with it. */
const void *uf_spill_read(const uf_spill *s, uf_spill_cursor *c, size_t i, size_t *len);
uf_spill_cursor *uf_spill_cursor_new(void);
/* Once the threads are done: a read the cursor failed becomes the
 * store's uf_spill_lost(). */
void uf_spill_cursor_free(uf_spill *s, uf_spill_cursor *c);
/* NULL while records go to the file; else why they stay in memory
 * ("writing the temporary file: No space left on device"). */
const char *uf_spill_degraded(const uf_spill *s);
/* NULL unless a record could not be read back; else why. */
const char *uf_spill_lost(const uf_spill *s);

#endif /* UF_SPILL_H */
