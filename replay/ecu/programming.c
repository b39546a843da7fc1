/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The virtual ECU's programming services (ISO 14229-1:2020): the routines
 * of a flash sequence (13.2; the erase 0xFF00 and the dependency check
 * 0xFF01 of Annex F, the preconditions 0x0203 and the CRC-32 memory check
 * 0x0202 of the sample flashes), RequestDownload (15.2), TransferData with
 * its block counter and repeat semantics (15.4) and RequestTransferExit
 * (15.5), checked against the memory map: a download must lie in one
 * region, erased since the last reset.
 */
#include "ecu_internal.h"

#include <string.h>
#include <zlib.h>

/* ---- the memory map ------------------------------------------------------------*/

bool ecu_flash_offset(const uf_ecu *e, uint64_t address, uint64_t size, uint64_t *offset)
{
    uint64_t base = 0;
    for (unsigned i = 0; i < e->c.n_regions; i++) {
        const uf_ecu_region *r = &e->c.regions[i];
        if (address >= r->address && size <= r->size && address - r->address <= r->size - size) {
            *offset = base + (address - r->address);
            return true;
        }
        base += r->size;
    }
    return false;
}

static bool is_erased(const uf_ecu *e, uint64_t address, uint64_t size)
{
    for (guint i = 0; i < e->erased->len; i++) {
        const uf_ecu_region *r = &g_array_index(e->erased, uf_ecu_region, i);
        if (address >= r->address && address + size <= r->address + r->size)
            return true;
    }
    return false;
}

void ecu_persist_state(uf_ecu *e)
{
    e->st.app_valid = e->p.app_valid;
    if (e->store.state)
        e->store.state(e->store.ctx, &e->p);
}

static void write_flash(uf_ecu *e, uint64_t offset, const uint8_t *p, size_t n)
{
    memcpy(e->flash + offset, p, n);
    if (e->store.flash)
        e->store.flash(e->store.ctx, offset, p, n);
}

/* ALFID (7.4 Table 464): low nibble address bytes, high nibble size bytes,
 * 1 to 4 each here (32-bit memory). */
static bool address_and_size(const uint8_t *p, size_t n, uint64_t *address, uint64_t *size)
{
    if (n < 1)
        return false;
    unsigned na = p[0] & 0x0F, ns = p[0] >> 4;
    if (na < 1 || na > 4 || ns < 1 || ns > 4 || n != 1 + na + ns)
        return false;
    *address = *size = 0;
    for (unsigned i = 0; i < na; i++)
        *address = *address << 8 | p[1 + i];
    for (unsigned i = 0; i < ns; i++)
        *size = *size << 8 | p[1 + na + i];
    return true;
}

static bool programming_unlocked(uf_ecu *e, ecu_reply *r)
{
    if (e->session != SESSION_PROGRAMMING) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return false;
    }
    if (!e->unlocked) {
        ecu_nrc(r, NRC_SECURITY_DENIED);
        return false;
    }
    return true;
}

/* ---- routines ------------------------------------------------------------------*/

enum {
    RID_CHECK_MEMORY = 0x0202,
    RID_PRECONDITIONS = 0x0203,
    RID_ERASE = 0xFF00,
    RID_DEPENDENCIES = 0xFF01,
};

static int status_slot(uint16_t rid)
{
    return rid == RID_CHECK_MEMORY ? 0 : rid == RID_ERASE ? 1 : rid == RID_DEPENDENCIES ? 2 : -1;
}

static void routine_answer(ecu_reply *r, uint8_t type, uint16_t rid, uint8_t status)
{
    uint8_t resp[5] = {0x71, type, (uint8_t)(rid >> 8), (uint8_t)rid, status};
    ecu_put(r, resp, sizeof(resp));
}

static void erase(uf_ecu *e, const uint8_t *rec, size_t n, ecu_reply *r)
{
    uint64_t address, size, offset;
    if (!address_and_size(rec, n, &address, &size)) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    if (size == 0 || !ecu_flash_offset(e, address, size, &offset)) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    /* From the first erase on, the old application is gone. */
    if (e->p.app_valid || !e->flashing) {
        e->p.app_valid = false;
        ecu_persist_state(e);
    }
    if (!e->flashing) {
        e->flashing = true;
        e->flash_low = UINT64_MAX;
        g_array_set_size(e->written, 0);
    }
    uint8_t *ff = g_malloc(size);
    memset(ff, 0xFF, size);
    write_flash(e, offset, ff, size);
    g_free(ff);
    uf_ecu_region done = {address, size};
    g_array_append_val(e->erased, done);
    r->busy = e->c.erase_time; /* 0x78 until the erase is over */
    routine_answer(r, 0x01, RID_ERASE, 0x00);
}

static void check_memory(uf_ecu *e, const uint8_t *rec, size_t n, ecu_reply *r)
{
    if (n != 4) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    if (e->written->len == 0) {
        ecu_nrc(r, NRC_SEQUENCE_ERROR); /* nothing downloaded to check */
        return;
    }
    ecu_written *w = &g_array_index(e->written, ecu_written, e->written->len - 1);
    uint64_t offset = 0;
    ecu_flash_offset(e, w->address, w->size, &offset);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < w->size;) {
        uInt chunk = w->size - done > (1u << 30) ? (1u << 30) : (uInt)(w->size - done);
        crc = crc32(crc, e->flash + offset + done, chunk);
        done += chunk;
    }
    w->checked = (uint32_t)crc == uf_load_be32(rec);
    routine_answer(r, 0x01, RID_CHECK_MEMORY, w->checked ? 0x00 : 0x01);
}

static void dependencies(uf_ecu *e, ecu_reply *r)
{
    bool ok = e->flashing && e->written->len > 0 && !e->dl_active;
    for (guint i = 0; ok && i < e->written->len; i++)
        ok = g_array_index(e->written, ecu_written, i).checked;
    if (ok) {
        e->p.app_valid = true;
        e->p.app_start = e->flash_low;
        ecu_persist_state(e);
    }
    routine_answer(r, 0x01, RID_DEPENDENCIES, ok ? 0x00 : 0x01);
}

void ecu_routine(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (e->session == SESSION_DEFAULT) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (n < 4) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    uint8_t type = q[1] & 0x7F;
    r->suppress = (q[1] & 0x80) != 0;
    uint16_t rid = uf_load_be16(q + 2);
    if (type != 0x01 && type != 0x03) { /* start, requestResults; no stop */
        ecu_nrc(r, NRC_SUBFUNCTION_NOT_SUPPORTED);
        return;
    }
    bool known = rid == RID_PRECONDITIONS || status_slot(rid) >= 0;
    if (!known || (rid != RID_PRECONDITIONS && e->session != SESSION_PROGRAMMING)) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    if (type == 0x03) {
        int slot = status_slot(rid);
        if (slot < 0 || e->routine_status[slot] == 0xFF) {
            ecu_nrc(r, NRC_SEQUENCE_ERROR); /* never started */
            return;
        }
        routine_answer(r, 0x03, rid, e->routine_status[slot]);
        return;
    }
    if (rid == RID_PRECONDITIONS) {
        if (n != 4) {
            ecu_nrc(r, NRC_INCORRECT_LENGTH);
            return;
        }
        routine_answer(r, 0x01, rid, 0x00);
        return;
    }
    if (!e->unlocked) {
        ecu_nrc(r, NRC_SECURITY_DENIED);
        return;
    }
    if (e->dl_active) {
        ecu_nrc(r, NRC_SEQUENCE_ERROR); /* a download is still open */
        return;
    }
    if (rid == RID_ERASE)
        erase(e, q + 4, n - 4, r);
    else if (rid == RID_CHECK_MEMORY)
        check_memory(e, q + 4, n - 4, r);
    else if (n != 4)
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
    else
        dependencies(e, r);
    if (r->len >= 5)
        e->routine_status[status_slot(rid)] = r->buf[4];
}

/* ---- download -----------------------------------------------------------------*/

void ecu_request_download(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (!programming_unlocked(e, r))
        return;
    uint64_t address, size, offset;
    if (n < 3 || !address_and_size(q + 2, n - 2, &address, &size)) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH);
        return;
    }
    if (e->dl_active) {
        ecu_nrc(r, NRC_CONDITIONS_NOT_CORRECT); /* one download at a time */
        return;
    }
    /* dataFormatIdentifier 0x00: neither compressed nor encrypted, the
     * only format this bootloader writes. */
    if (q[1] != 0x00 || size == 0 || !ecu_flash_offset(e, address, size, &offset)) {
        ecu_nrc(r, NRC_OUT_OF_RANGE);
        return;
    }
    if (!is_erased(e, address, size)) {
        ecu_nrc(r, NRC_DOWNLOAD_NOT_ACCEPTED); /* flash must be erased first */
        return;
    }
    e->dl_active = true;
    e->dl_address = address;
    e->dl_size = size;
    e->dl_done = 0;
    e->dl_counter = 0;
    e->dl_any = false;
    e->dl_blocks = 0;
    /* lengthFormatIdentifier 0x20: maxNumberOfBlockLength on 2 bytes. */
    uint8_t resp[4] = {0x74, 0x20, (uint8_t)(e->c.max_block >> 8), (uint8_t)e->c.max_block};
    ecu_put(r, resp, sizeof(resp));
}

static void power_cut(uf_ecu *e, const uint8_t *data, size_t n)
{
    /* Half the block reaches the flash; nothing more comes, nothing is
     * answered: the partly written flash stays, the application invalid. */
    uint64_t offset = 0;
    size_t half = n / 2;
    if (half && ecu_flash_offset(e, e->dl_address + e->dl_done, half, &offset))
        write_flash(e, offset, data, half);
    e->stopped = true;
}

void ecu_transfer_data(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    if (e->session != SESSION_PROGRAMMING) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    if (!e->dl_active) {
        ecu_nrc(r, NRC_SEQUENCE_ERROR);
        return;
    }
    if (n < 3 || n > e->c.max_block) {
        ecu_nrc(r, NRC_INCORRECT_LENGTH); /* 15.4: beyond maxNumberOfBlockLength */
        return;
    }
    uint8_t counter = q[1];
    const uint8_t *data = q + 2;
    size_t len = n - 2;
    e->dl_blocks++;
    for (unsigned i = 0; i < e->c.n_faults; i++)
        if (e->c.faults[i].kind == UF_FAULT_STOP && e->c.faults[i].block == e->dl_blocks) {
            power_cut(e, data, len);
            return;
        }
    uint8_t resp[2] = {0x76, counter};
    /* 15.4.2: the previous counter again, accepted before: a repeat the
     * tester sent because the answer was lost; answered, not written. */
    if (e->dl_any && counter == e->dl_counter) {
        ecu_put(r, resp, sizeof(resp));
        return;
    }
    uint8_t expected = (uint8_t)(e->dl_counter + 1); /* 0xFF wraps to 0x00 */
    if (counter != expected) {
        ecu_nrc(r, NRC_WRONG_COUNTER);
        return;
    }
    if (len > e->dl_size - e->dl_done) {
        ecu_nrc(r, NRC_TRANSFER_SUSPENDED); /* more than the memorySize asked for */
        return;
    }
    uint64_t offset = 0;
    if (!ecu_flash_offset(e, e->dl_address + e->dl_done, len, &offset)) {
        ecu_nrc(r, NRC_PROGRAMMING_FAILURE); /* cannot happen: checked at 0x34 */
        return;
    }
    write_flash(e, offset, data, len);
    e->dl_done += len;
    e->dl_counter = counter;
    e->dl_any = true;
    e->st.blocks_written++;
    e->st.bytes_written += len;
    ecu_put(r, resp, sizeof(resp));
}

void ecu_transfer_exit(uf_ecu *e, const uint8_t *q, size_t n, ecu_reply *r)
{
    (void)q;
    (void)n;
    if (e->session != SESSION_PROGRAMMING) {
        ecu_nrc(r, NRC_SERVICE_NOT_IN_SESSION);
        return;
    }
    /* 15.5: no download open, or not all its bytes came. */
    if (!e->dl_active || e->dl_done != e->dl_size) {
        ecu_nrc(r, NRC_SEQUENCE_ERROR);
        return;
    }
    e->dl_active = false;
    ecu_written w = {e->dl_address, e->dl_size, false};
    g_array_append_val(e->written, w);
    if (e->dl_address < e->flash_low)
        e->flash_low = e->dl_address;
    ecu_put8(r, 0x77);
}
