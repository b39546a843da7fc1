/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Writers for every capture format udsflash reads. pcap goes through
 * libpcap's dumper; the others are small, and each is checked by a test
 * against a reader no one here wrote (wiretap, tshark) before it is trusted:
 *   pcapng   SHB, one IDB per bus (if_name, if_tsresol 9), EPBs
 *   candump  can-utils log format (lib.c sprint_canframe) and console output
 *   ASC      Vector ASCII logging, base hex, absolute timestamps
 *   BLF      Vector binary logging: uncompressed LOG_CONTAINERs holding
 *            CAN_MESSAGE (1) and CAN_FD_MESSAGE_64 (101) objects
 *   Busmaster  Busmaster 3.x log, hex mode, system time
 */
#include "uf_samplegen.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <string.h>
#include <time.h>

#define SOCKETCAN_EFF 0x80000000u
#define SOCKETCAN_RTR 0x40000000u
#define SOCKETCAN_ERR 0x20000000u
#define ARPHRD_CAN 280

static FILE *open_out(const char *path, uf_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        uf_error_set(err, "%s: cannot create: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, uf_error *err)
{
    if (ferror(f) | (fclose(f) != 0)) {
        uf_error_set(err, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static uint32_t id_word(const uf_can_frame *f)
{
    uint32_t w = f->id;
    if (f->flags & UF_CAN_EFF)
        w |= SOCKETCAN_EFF;
    if (f->flags & UF_CAN_RTR)
        w |= SOCKETCAN_RTR;
    if (f->flags & UF_CAN_ERR)
        w |= SOCKETCAN_ERR;
    return w;
}

static void put32(uint8_t *p, uint32_t v, bool little)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(little ? v >> (8 * i) : v >> (8 * (3 - i)));
}

static void put16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* struct can_frame (16 bytes) or canfd_frame (72 bytes). */
static size_t socketcan_record(const uf_can_frame *f, bool little, bool old_fd, uint8_t *out)
{
    bool fd = (f->flags & UF_CAN_FD) != 0;
    size_t size = fd ? 72 : 16;
    memset(out, 0, size);
    put32(out, id_word(f), little);
    out[4] = f->len;
    if (fd && !old_fd)
        out[5] = 0x04 | ((f->flags & UF_CAN_BRS) ? 0x01 : 0) | ((f->flags & UF_CAN_ESI) ? 0x02 : 0);
    memcpy(out + 8, f->data, f->len);
    return size;
}

/* Formats with one kind of interface take traces of that kind only. */
static bool all_frames(const sg_trace *t, bool packets, const char *path, uf_error *err)
{
    for (guint i = 0; i < t->frames->len; i++) {
        if (g_array_index(t->frames, sg_frame, i).packet != packets) {
            uf_error_set(err, "%s: this format cannot hold %s frames", path,
                         packets ? "CAN" : "Ethernet");
            return false;
        }
    }
    return true;
}

int sg_write_pcap(const sg_trace *t, const char *path, sg_pcap_variant v, uf_error *err)
{
    if (!all_frames(t, v == SG_PCAP_ETHERNET, path, err))
        return -1;
    int linktype = v == SG_PCAP_SLL ? DLT_LINUX_SLL
                   : v == SG_PCAP_SLL2 ? DLT_LINUX_SLL2
                   : v == SG_PCAP_ETHERNET ? DLT_EN10MB : DLT_CAN_SOCKETCAN;
    pcap_t *p = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_MICRO);
    if (!p) {
        uf_error_set(err, "%s: pcap_open_dead failed", path);
        return -1;
    }
    pcap_dumper_t *d = pcap_dump_open(p, path);
    if (!d) {
        uf_error_set(err, "%s: %s", path, pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(sf->time / UF_NS_PER_S);
        h.ts.tv_usec = (suseconds_t)((sf->time % UF_NS_PER_S) / UF_NS_PER_US);
        if (sf->packet) {
            h.caplen = h.len = sf->pkt_len;
            pcap_dump((u_char *)d, &h, sg_frame_packet(t, sf));
            continue;
        }
        uint8_t buf[96];
        size_t hdr = 0;
        if (v == SG_PCAP_SLL) {
            memset(buf, 0, 16);
            put16be(buf, (sf->f.flags & UF_CAN_DIR_TX) ? 4 : 0); /* OUTGOING / HOST */
            put16be(buf + 2, ARPHRD_CAN);
            put16be(buf + 14, (sf->f.flags & UF_CAN_FD) ? 0x000D : 0x000C);
            hdr = 16;
        } else if (v == SG_PCAP_SLL2) {
            memset(buf, 0, 20);
            put16be(buf, (sf->f.flags & UF_CAN_FD) ? 0x000D : 0x000C);
            put32(buf + 4, sf->bus + 1, false);
            put16be(buf + 8, ARPHRD_CAN);
            buf[10] = (sf->f.flags & UF_CAN_DIR_TX) ? 4 : 0;
            hdr = 20;
        }
        bool little = v == SG_PCAP_SOCKETCAN_LE || v == SG_PCAP_SLL || v == SG_PCAP_SLL2;
        size_t len = hdr + socketcan_record(&sf->f, little, v == SG_PCAP_SOCKETCAN_OLD, buf + hdr);
        h.caplen = h.len = (bpf_u_int32)len;
        pcap_dump((u_char *)d, &h, buf);
    }
    int rc = pcap_dump_flush(d);
    pcap_dump_close(d);
    pcap_close(p);
    if (rc != 0) {
        uf_error_set(err, "%s: write failed", path);
        return -1;
    }
    return 0;
}

/* ---- pcapng ---------------------------------------------------------------*/

static void block(FILE *f, uint32_t type, const uint8_t *body, uint32_t len)
{
    static const uint8_t zero[4];
    uint32_t pad = (4 - len % 4) % 4;
    uint32_t total = 12 + len + pad;
    uint8_t h[8];
    put32(h, type, true);
    put32(h + 4, total, true);
    fwrite(h, 1, 8, f);
    fwrite(body, 1, len, f);
    fwrite(zero, 1, pad, f);
    fwrite(h + 4, 1, 4, f);
}

static uint32_t option(uint8_t *p, uint16_t code, const void *value, uint16_t len)
{
    p[0] = (uint8_t)code;
    p[1] = (uint8_t)(code >> 8);
    p[2] = (uint8_t)len;
    p[3] = (uint8_t)(len >> 8);
    if (len)
        memcpy(p + 4, value, len);
    uint32_t padded = (uint32_t)len + (4 - len % 4) % 4;
    memset(p + 4 + len, 0, padded - len);
    return 4 + padded;
}

int sg_write_pcapng(const sg_trace *t, const char *path, uf_error *err)
{
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    uint8_t shb[16];
    put32(shb, 0x1A2B3C4D, true);
    shb[4] = 1; /* version 1.0 */
    shb[5] = 0;
    shb[6] = 0;
    shb[7] = 0;
    memset(shb + 8, 0xFF, 8); /* section length unknown */
    block(f, 0x0A0D0D0A, shb, sizeof(shb));
    for (guint b = 0; b < t->buses->len; b++) {
        uint8_t idb[128];
        const char *name = g_ptr_array_index(t->buses, b);
        memset(idb, 0, 8);
        idb[0] = sg_trace_bus_is_ethernet(t, b) ? 1 : 227; /* ETHERNET, CAN_SOCKETCAN */
        uint32_t n = 8;
        n += option(idb + n, 2, name, (uint16_t)strlen(name)); /* if_name */
        uint8_t tsresol = 9;                                    /* nanoseconds */
        n += option(idb + n, 9, &tsresol, 1);
        n += option(idb + n, 0, NULL, 0);
        block(f, 1, idb, n);
    }
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        uint8_t epb[20 + UF_NET_FRAME_MAX];
        uint64_t ts = (uint64_t)sf->time;
        size_t len;
        if (sf->packet) {
            len = sf->pkt_len;
            memcpy(epb + 20, sg_frame_packet(t, sf), len);
        } else {
            len = socketcan_record(&sf->f, false, false, epb + 20);
        }
        put32(epb, sf->bus, true);
        put32(epb + 4, (uint32_t)(ts >> 32), true);
        put32(epb + 8, (uint32_t)ts, true);
        put32(epb + 12, (uint32_t)len, true);
        put32(epb + 16, (uint32_t)len, true);
        block(f, 6, epb, (uint32_t)(20 + len));
    }
    return close_out(f, path, err);
}

/* ---- candump --------------------------------------------------------------*/

static void candump_id(FILE *f, const uf_can_frame *c)
{
    if (c->flags & UF_CAN_ERR)
        fprintf(f, "%08" PRIX32, c->id | SOCKETCAN_ERR);
    else if (c->flags & UF_CAN_EFF)
        fprintf(f, "%08" PRIX32, c->id);
    else
        fprintf(f, "%03" PRIX32, c->id);
}

int sg_write_candump(const sg_trace *t, const char *path, bool console, uf_error *err)
{
    if (!all_frames(t, false, path, err))
        return -1;
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        const uf_can_frame *c = &sf->f;
        const char *bus = g_ptr_array_index(t->buses, sf->bus);
        bool fd = (c->flags & UF_CAN_FD) != 0;
        if (console) {
            fprintf(f, "  %s  ", bus);
            candump_id(f, c);
            fprintf(f, fd ? "  [%02u] " : "   [%u] ", c->len);
            for (unsigned k = 0; k < c->len; k++)
                fprintf(f, " %02X", c->data[k]);
            fputc('\n', f);
            continue;
        }
        fprintf(f, "(%" PRId64 ".%06" PRId64 ") %s ", sf->time / UF_NS_PER_S,
                (sf->time % UF_NS_PER_S) / UF_NS_PER_US, bus);
        candump_id(f, c);
        if (fd)
            fprintf(f, "##%X", ((c->flags & UF_CAN_BRS) ? 1 : 0) | ((c->flags & UF_CAN_ESI) ? 2 : 0));
        else
            fputc('#', f);
        if (c->flags & UF_CAN_RTR)
            fprintf(f, "R");
        else
            for (unsigned k = 0; k < c->len; k++)
                fprintf(f, "%02X", c->data[k]);
        fputc('\n', f);
    }
    return close_out(f, path, err);
}

/* ---- Vector ASC -----------------------------------------------------------*/

static void asc_date(FILE *f, uf_time start)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(start / UF_NS_PER_S);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
    fprintf(f, "%s %s %d %02d:%02d:%02d.%03d %s %d", wd[tm.tm_wday], mo[tm.tm_mon], tm.tm_mday, h12,
            tm.tm_min, tm.tm_sec, (int)((start % UF_NS_PER_S) / UF_NS_PER_MS),
            tm.tm_hour < 12 ? "am" : "pm", tm.tm_year + 1900);
}

int sg_write_asc(const sg_trace *t, const char *path, uf_error *err)
{
    if (!all_frames(t, false, path, err))
        return -1;
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    uf_time start = t->frames->len ? g_array_index(t->frames, sg_frame, 0).time : 0;
    start -= start % UF_NS_PER_S; /* measurement starts on a whole second */
    fputs("date ", f);
    asc_date(f, start);
    fputs("\nbase hex  timestamps absolute\ninternal events logged\n// version 13.0.0\n"
          "Begin Triggerblock ", f);
    asc_date(f, start);
    fputs("\n   0.000000 Start of measurement\n", f);
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        const uf_can_frame *c = &sf->f;
        uf_time rel = sf->time - start;
        char id[16];
        snprintf(id, sizeof(id), (c->flags & UF_CAN_EFF) ? "%" PRIX32 "x" : "%" PRIX32, c->id);
        const char *dir = (c->flags & UF_CAN_DIR_TX) ? "Tx" : "Rx";
        fprintf(f, "%4" PRId64 ".%06" PRId64 " ", rel / UF_NS_PER_S,
                (rel % UF_NS_PER_S) / UF_NS_PER_US);
        if (c->flags & UF_CAN_FD) {
            fprintf(f, "CANFD %3u %s %10s %32s %u %u %x %2u", sf->bus + 1, dir, id, "",
                    (c->flags & UF_CAN_BRS) ? 1 : 0, (c->flags & UF_CAN_ESI) ? 1 : 0,
                    uf_can_len_to_dlc(c->len), c->len);
            for (unsigned k = 0; k < c->len; k++)
                fprintf(f, " %02X", c->data[k]);
            fputs("        0    0   1000 0 0 0 0 0\n", f);
        } else {
            fprintf(f, "%u  %-15s %s   d %u", sf->bus + 1, id, dir, c->len);
            for (unsigned k = 0; k < c->len; k++)
                fprintf(f, " %02X", c->data[k]);
            fprintf(f, "  Length = 0 BitCount = 0 ID = %" PRIu32 "%s\n", c->id,
                    (c->flags & UF_CAN_EFF) ? "x" : "");
        }
    }
    fputs("End TriggerBlock\n", f);
    return close_out(f, path, err);
}

/* ---- BLF --------------------------------------------------------------------*/

#define BLF_FILE_HEADER 144
#define BLF_OBJ_HEADER 32 /* LOBJ base header (16) + object header v1 (16) */
#define BLF_LOG_CONTAINER 10
#define BLF_CAN_MESSAGE 1
#define BLF_CAN_FD_MESSAGE_64 101
#define BLF_TIME_ONE_NANS 2

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* SYSTEMTIME: year, month, day of week, day, hour, minute, second, ms. */
static void systemtime(uint8_t *p, uf_time t)
{
    time_t secs = (time_t)(t / UF_NS_PER_S);
    struct tm tm;
    gmtime_r(&secs, &tm);
    uint16_t v[8] = {(uint16_t)(tm.tm_year + 1900), (uint16_t)(tm.tm_mon + 1),
                     (uint16_t)tm.tm_wday, (uint16_t)tm.tm_mday, (uint16_t)tm.tm_hour,
                     (uint16_t)tm.tm_min, (uint16_t)tm.tm_sec,
                     (uint16_t)((t % UF_NS_PER_S) / UF_NS_PER_MS)};
    for (int i = 0; i < 8; i++)
        le16(p + 2 * i, v[i]);
}

/* One object (header + body) into buf; returns its size padded to 4. */
static size_t blf_object(uint8_t *buf, uint32_t type, uf_time rel, const uint8_t *body,
                         size_t body_len)
{
    size_t len = BLF_OBJ_HEADER + body_len;
    memcpy(buf, "LOBJ", 4);
    le16(buf + 4, 32);
    le16(buf + 6, 1);
    put32(buf + 8, (uint32_t)len, true);
    put32(buf + 12, type, true);
    put32(buf + 16, BLF_TIME_ONE_NANS, true);
    le16(buf + 20, 0); /* client index */
    le16(buf + 22, 0); /* object version */
    le64(buf + 24, (uint64_t)rel);
    memcpy(buf + BLF_OBJ_HEADER, body, body_len);
    size_t padded = (len + 3) & ~(size_t)3;
    memset(buf + len, 0, padded - len);
    return padded;
}

static size_t blf_can(uint8_t *buf, const sg_frame *sf, uf_time rel)
{
    const uf_can_frame *c = &sf->f;
    uint32_t id = c->id | ((c->flags & UF_CAN_EFF) ? 0x80000000u : 0);
    uint8_t body[40 + 64];
    memset(body, 0, sizeof(body));
    if (c->flags & UF_CAN_FD) {
        /* CanFdMessage64: channel, dlc, validDataBytes, txCount, id,
         * frameLength, flags, btrCfgArb, btrCfgData, timeOffsetBrsNs,
         * timeOffsetCrcDelNs, bitCount, dir, extDataOffset, crc, data. */
        body[0] = (uint8_t)(sf->bus + 1);
        body[1] = uf_can_len_to_dlc(c->len);
        body[2] = c->len;
        put32(body + 4, id, true);
        uint32_t flags = 0x1000 | ((c->flags & UF_CAN_BRS) ? 0x2000u : 0) |
                         ((c->flags & UF_CAN_ESI) ? 0x4000u : 0);
        put32(body + 12, flags, true);
        body[34] = (c->flags & UF_CAN_DIR_TX) ? 1 : 0;
        memcpy(body + 40, c->data, c->len);
        return blf_object(buf, BLF_CAN_FD_MESSAGE_64, rel, body, 40 + c->len);
    }
    le16(body, (uint16_t)(sf->bus + 1));
    body[2] = (c->flags & UF_CAN_DIR_TX) ? 1 : 0;
    body[3] = c->len;
    put32(body + 4, id, true);
    memcpy(body + 8, c->data, c->len);
    return blf_object(buf, BLF_CAN_MESSAGE, rel, body, 16);
}

int sg_write_blf(const sg_trace *t, const char *path, uf_error *err)
{
    if (!all_frames(t, false, path, err))
        return -1;
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    uf_time start = t->frames->len ? g_array_index(t->frames, sg_frame, 0).time : 0;
    start -= start % UF_NS_PER_MS; /* SYSTEMTIME holds milliseconds */
    uf_time end = t->frames->len ? g_array_index(t->frames, sg_frame, t->frames->len - 1).time
                                 : start;

    /* All objects go into containers of at most 128 KiB, uncompressed. */
    GByteArray *objects = g_byte_array_new();
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        uint8_t buf[256];
        size_t n = blf_can(buf, sf, sf->time - start);
        g_byte_array_append(objects, buf, (guint)n);
    }
    uint8_t header[BLF_FILE_HEADER];
    memset(header, 0, sizeof(header));
    memcpy(header, "LOGG", 4);
    put32(header + 4, BLF_FILE_HEADER, true);
    header[8] = 5; /* application: CANoe */
    header[12] = 4; /* BL API version */
    put32(header + 32, t->frames->len, true);
    systemtime(header + 40, start);
    systemtime(header + 56, end);

    GByteArray *file = g_byte_array_new();
    g_byte_array_append(file, header, sizeof(header));
    const guint max_container = 128 * 1024;
    for (guint off = 0; off < objects->len || off == 0; off += max_container) {
        guint n = objects->len - off < max_container ? objects->len - off : max_container;
        uint8_t lobj[32];
        memcpy(lobj, "LOBJ", 4);
        le16(lobj + 4, 16);
        le16(lobj + 6, 1);
        put32(lobj + 8, 32 + n, true);
        put32(lobj + 12, BLF_LOG_CONTAINER, true);
        memset(lobj + 16, 0, 16);
        le16(lobj + 16, 0); /* no compression */
        put32(lobj + 24, n, true);
        g_byte_array_append(file, lobj, sizeof(lobj));
        g_byte_array_append(file, objects->data + off, n);
        static const uint8_t zero[4];
        g_byte_array_append(file, zero, (4 - n % 4) % 4);
        if (objects->len == 0)
            break;
    }
    le64(file->data + 16, file->len);
    le64(file->data + 24, file->len);
    fwrite(file->data, 1, file->len, f);
    g_byte_array_free(file, TRUE);
    g_byte_array_free(objects, TRUE);
    return close_out(f, path, err);
}

/* ---- Busmaster --------------------------------------------------------------*/

int sg_write_busmaster(const sg_trace *t, const char *path, uf_error *err)
{
    if (!all_frames(t, false, path, err))
        return -1;
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    uf_time start = t->frames->len ? g_array_index(t->frames, sg_frame, 0).time : 0;
    time_t secs = (time_t)(start / UF_NS_PER_S);
    struct tm tm;
    gmtime_r(&secs, &tm);
    fprintf(f, "***BUSMASTER Ver 3.2.2***\n***PROTOCOL CAN***\n"
               "***NOTE: PLEASE DO NOT EDIT THIS DOCUMENT***\n***[START LOGGING SESSION]***\n"
               "***START DATE AND TIME %d:%d:%d %d:%d:%d:000***\n***HEX***\n***SYSTEM MODE***\n"
               "***START CHANNEL BAUD RATE***\n"
               "***CHANNEL 1 - Simulated - 500000 bps***\n***END CHANNEL BAUD RATE***\n"
               "***START DATABASE FILES (DBF/DBC)***\n***END DATABASE FILES (DBF/DBC)***\n"
               "***<Time><Tx/Rx><Channel><CAN ID><Type><DLC><DataBytes>***\n",
            tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    for (guint i = 0; i < t->frames->len; i++) {
        const sg_frame *sf = &g_array_index(t->frames, sg_frame, i);
        const uf_can_frame *c = &sf->f;
        time_t s = (time_t)(sf->time / UF_NS_PER_S);
        struct tm ft;
        gmtime_r(&s, &ft);
        /* Time of day with a tenth of a millisecond in the last field. */
        fprintf(f, "%d:%d:%d:%04d %s %u 0x%" PRIX32 " %s %u", ft.tm_hour, ft.tm_min, ft.tm_sec,
                (int)((sf->time % UF_NS_PER_S) / (100 * UF_NS_PER_US)),
                (c->flags & UF_CAN_DIR_TX) ? "Tx" : "Rx", sf->bus + 1, c->id,
                (c->flags & UF_CAN_FD) ? ((c->flags & UF_CAN_EFF) ? "x-fd" : "s-fd")
                                       : ((c->flags & UF_CAN_EFF) ? "x" : "s"),
                c->len);
        for (unsigned k = 0; k < c->len; k++)
            fprintf(f, " %02X", c->data[k]);
        fputc('\n', f);
    }
    fprintf(f, "***END DATE AND TIME %d:%d:%d %d:%d:%d:000***\n***[STOP LOGGING SESSION]***\n",
            tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return close_out(f, path, err);
}
