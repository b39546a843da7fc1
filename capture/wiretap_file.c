/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Files read through Wireshark's wiretap: Vector BLF, gzip-compressed
 * pcapng / pcap, and pcapng with blocks that pcapng_file.c leaves to it
 * (libpcap merges pcapng interfaces and refuses mixed link types, wiretap
 * keeps them apart as buses).
 * Each is opened with its named wiretap reader, never by wiretap's
 * auto-detection, so that only readers we test meet untrusted bytes. Each
 * pcapng interface, or BLF channel, is a bus.
 */
#include "reader_internal.h"

#include <wiretap/wtap.h>
#include <wiretap/pcap-encap.h>
#include <wiretap/wtap_opttypes.h>
#include <wsutil/buffer.h>
#include <wsutil/wslog.h>

#include <string.h>

typedef struct iface {
    uint32_t bus;
    uint32_t linktype;
    uint32_t ifindex_key, ifindex_bus;
} iface;

typedef struct wiretap_backend {
    wtap *wth;
    wtap_rec rec;
    Buffer buf;
    GArray *ifaces; /* struct iface, by interface id */
    int64_t good_end; /* bytes read after the last good record */
    char format[32];
    char *damage;     /* found by our own check, reported at the end */
    /* The last record's encapsulation and its link type: mapping it back
     * asks wiretap once per known link type, a tenth of reading a record. */
    int last_encap;
    uint32_t last_linktype;
} wiretap_backend;

/* Link types whose wiretap encapsulation we map back; wiretap exports only
 * the pcap -> wtap direction. Anything else becomes a private number that
 * no decoder claims. */
static const uint32_t known_linktypes[] = {
    UF_LINKTYPE_CAN_SOCKETCAN, UF_LINKTYPE_LINUX_SLL, UF_LINKTYPE_LINUX_SLL2,
    UF_LINKTYPE_ETHERNET,      UF_LINKTYPE_RAW,       UF_LINKTYPE_IPV4,
    UF_LINKTYPE_IPV6,          UF_LINKTYPE_WIRESHARK_UPPER_PDU,
};
#define UF_LINKTYPE_PRIVATE_WTAP 0x10000u

uint32_t uf_linktype_of_wtap_encap(int encap)
{
    for (size_t i = 0; i < UF_ARRAY_LEN(known_linktypes); i++)
        if (wtap_pcap_encap_to_wtap_encap((int)known_linktypes[i]) == encap)
            return known_linktypes[i];
    return UF_LINKTYPE_PRIVATE_WTAP + (uint32_t)encap;
}

/* Wiretap 4.0's BLF reader stops without an error when the file ends inside
 * a log container, so a cut BLF would pass as complete. Walk the chain of
 * top-level objects ("LOBJ" headers, each followed by up to 3 bytes of
 * padding) and describe the first one that the file cannot hold. Reads 16
 * bytes per container: about a thousand reads for a 100 MB file. */
static char *blf_chain_damage(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *damage = NULL;
    uint8_t h[16];
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    int64_t size = ftello(f);
    int64_t pos = 0;
    if (fseeko(f, 4, SEEK_SET) == 0 && fread(h, 1, 4, f) == 4)
        pos = (int64_t)(h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24);
    while (pos < size && !damage) {
        if (fseeko(f, pos, SEEK_SET) != 0)
            break;
        size_t got = fread(h, 1, sizeof(h), f);
        int skip = 0;
        while (skip < 4 && (size_t)skip + 4 <= got && memcmp(h + skip, "LOBJ", 4) != 0) {
            if (h[skip] != 0)
                break;
            skip++;
        }
        if ((size_t)skip == got)
            break; /* zero padding up to the end of the file */
        if ((size_t)skip + 16 > got && (size_t)skip + 4 <= got && memcmp(h + skip, "LOBJ", 4) == 0) {
            damage = g_strdup_printf("%s: damaged at byte %" G_GINT64_FORMAT
                                     ": the file ends inside a BLF object header", path, pos + skip);
            break;
        }
        if ((size_t)skip + 4 > got || memcmp(h + skip, "LOBJ", 4) != 0) {
            damage = g_strdup_printf("%s: damaged at byte %" G_GINT64_FORMAT
                                     ": no BLF object where one must start", path, pos + skip);
            break;
        }
        pos += skip;
        if (fseeko(f, pos + 8, SEEK_SET) != 0 || fread(h, 1, 4, f) != 4)
            break;
        int64_t len = (int64_t)(h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24);
        if (len < 16 || pos + len > size)
            damage = g_strdup_printf("%s: damaged at byte %" G_GINT64_FORMAT
                                     ": a BLF object of %" G_GINT64_FORMAT
                                     " bytes starts there, but the file ends at byte %"
                                     G_GINT64_FORMAT, path, pos, len, size);
        pos += len;
    }
    fclose(f);
    return damage;
}

static void wiretap_init_once(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        /* Wiretap's log is ours to quieten: its debug chatter is not for
         * our users, its warnings and errors still reach stderr. */
        ws_log_init("udsflash", NULL);
        ws_log_set_level(LOG_LEVEL_WARNING);
        wtap_init(FALSE);
        g_once_init_leave(&done, 1);
    }
}

/* Registers interface descriptions that arrived with the last read. */
static void take_new_interfaces(uf_reader *r, wiretap_backend *b)
{
    wtap_block_t idb;
    while ((idb = wtap_get_next_interface_description(b->wth)) != NULL) {
        wtapng_if_descr_mandatory_t *m = wtap_block_get_mandatory_data(idb);
        char *name = NULL;
        char fallback[32];
        if (wtap_block_get_string_option_value(idb, OPT_IDB_NAME, &name) != WTAP_OPTTYPE_SUCCESS ||
            !name || !*name) {
            snprintf(fallback, sizeof(fallback), "if%u", b->ifaces->len);
            name = fallback;
        }
        iface i = {0};
        i.bus = reader_bus(r, name);
        i.linktype = uf_linktype_of_wtap_encap(m ? m->wtap_encap : WTAP_ENCAP_UNKNOWN);
        g_array_append_val(b->ifaces, i);
    }
}

static int wiretap_next(uf_reader *r, uf_record *rec, uf_error *err)
{
    wiretap_backend *b = r->backend;
    int wt_err = 0;
    gchar *err_info = NULL;
    gint64 offset = 0;
    wtap_rec_reset(&b->rec);
    if (!wtap_read(b->wth, &b->rec, &b->buf, &wt_err, &err_info, &offset)) {
        if (wt_err == 0 && b->damage) {
            uf_error_set(err, "%s (after frame %" G_GUINT64_FORMAT ")", b->damage, r->count);
            return -1;
        }
        if (wt_err == 0)
            return 0;
        reader_damaged(r, (uint64_t)b->good_end, err, "%s%s%s", wtap_strerror(wt_err),
                       err_info ? ": " : "", err_info ? err_info : "");
        g_free(err_info);
        return -1;
    }
    g_free(err_info);
    b->good_end = wtap_read_so_far(b->wth);
    take_new_interfaces(r, b);

    rec->offset = (uint64_t)offset;
    rec->time = (b->rec.presence_flags & WTAP_HAS_TS)
                    ? uf_time_from_parts(b->rec.ts.secs, b->rec.ts.nsecs)
                    : UF_TIME_NONE;
    if (b->rec.rec_type != REC_TYPE_PACKET) {
        rec->kind = UF_REC_SKIPPED;
        return 1;
    }
    const wtap_packet_header *ph = &b->rec.rec_header.packet_header;
    iface *i = NULL;
    uint32_t id = (b->rec.presence_flags & WTAP_HAS_INTERFACE_ID) ? ph->interface_id : 0;
    if (id < b->ifaces->len)
        i = &g_array_index(b->ifaces, iface, id);
    uint32_t base_bus = i ? i->bus : reader_bus(r, "if0");
    if (ph->pkt_encap != b->last_encap) {
        b->last_encap = ph->pkt_encap;
        b->last_linktype = uf_linktype_of_wtap_encap(ph->pkt_encap);
    }
    uint32_t linktype = b->last_linktype;
    uint32_t ifindex = 0;
    const uint8_t *data = ws_buffer_start_ptr(&b->buf);
    if (uf_decode_link(linktype, data, ph->caplen, &r->link, rec, &ifindex, &rec->problem) < 0)
        rec->kind = UF_REC_SKIPPED;
    if (ifindex && i)
        rec->bus = reader_bus_for_ifindex(r, base_bus, ifindex, &i->ifindex_key, &i->ifindex_bus);
    else
        rec->bus = base_bus;
    return 1;
}

static void wiretap_close(uf_reader *r)
{
    wiretap_backend *b = r->backend;
    if (!b)
        return;
    wtap_rec_cleanup(&b->rec);
    ws_buffer_free(&b->buf);
    wtap_close(b->wth);
    g_array_free(b->ifaces, TRUE);
    g_free(b->damage);
    g_free(b);
}

static const reader_ops wiretap_ops = {.next = wiretap_next, .close = wiretap_close};

/* Opens with one named wiretap reader ("Wireshark/... - pcapng", ...). */
static int wiretap_open_as(uf_reader *r, const char *reader, uf_error *err)
{
    wiretap_init_once();
    unsigned int type = open_info_name_to_type(reader);
    if (type == WTAP_TYPE_AUTO) {
        uf_error_set(err, "%s: this wiretap has no \"%s\" reader", r->path, reader);
        return -1;
    }
    int wt_err = 0;
    gchar *err_info = NULL;
    wtap *wth = wtap_open_offline(r->path, type, &wt_err, &err_info, FALSE);
    if (!wth) {
        if (wt_err == WTAP_ERR_FILE_UNKNOWN_FORMAT)
            uf_error_set(err, "%s: not a valid %s file%s%s", r->path, reader,
                         err_info ? ": " : "", err_info ? err_info : "");
        else
            uf_error_set(err, "%s: cannot read: %s%s%s", r->path, wtap_strerror(wt_err),
                         err_info ? ": " : "", err_info ? err_info : "");
        g_free(err_info);
        return -1;
    }
    wiretap_backend *b = g_new0(wiretap_backend, 1);
    b->wth = wth;
    wtap_rec_init(&b->rec);
    ws_buffer_init(&b->buf, 1514);
    b->ifaces = g_array_new(FALSE, TRUE, sizeof(iface));
    b->last_encap = WTAP_ENCAP_UNKNOWN;
    b->last_linktype = uf_linktype_of_wtap_encap(WTAP_ENCAP_UNKNOWN);
    g_strlcpy(b->format, wtap_file_type_subtype_name(wtap_file_type_subtype(wth)),
              sizeof(b->format));
    if (strcmp(b->format, "blf") == 0)
        b->damage = blf_chain_damage(r->path);
    r->backend = b;
    r->ops = &wiretap_ops;
    r->format = b->format;
    take_new_interfaces(r, b);
    return 0;
}

int pcapng_wiretap_open(uf_reader *r, uf_error *err)
{
    return wiretap_open_as(r, "Wireshark/... - pcapng", err);
}

int blf_file_open(uf_reader *r, uf_error *err)
{
    return wiretap_open_as(r, "BLF Logfile", err);
}

/* gzip-compressed pcapng or pcap, decompressed by wiretap as it reads. */
int gzip_file_open(uf_reader *r, uf_error *err)
{
    if (wiretap_open_as(r, "Wireshark/... - pcapng", err) == 0)
        return 0;
    if (wiretap_open_as(r, "Wireshark/tcpdump/... - pcap", err) == 0)
        return 0;
    uf_error_set(err, "%s: a gzip file that holds neither pcapng nor pcap", r->path);
    return -1;
}
