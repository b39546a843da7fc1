/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * capture/: every source of frames behind one streaming reader.
 * pcap (libpcap), pcapng / BLF (Wireshark's wiretap), candump logs and
 * console output, Vector ASC, Busmaster, and live SocketCAN through libpcap.
 * Link layers: LINKTYPE_CAN_SOCKETCAN (227), LINUX_SLL (113), LINUX_SLL2 (276);
 * other link layers (Ethernet, raw IP) pass through as packets for DoIP.
 */
#ifndef UF_CAPTURE_H
#define UF_CAPTURE_H

#include "uf_common.h"
#include "uf_helper.h"

/* ---- One CAN frame --------------------------------------------------------*/

enum uf_can_flag {
    UF_CAN_EFF = 1u << 0,    /* 29-bit identifier */
    UF_CAN_RTR = 1u << 1,    /* remote transmission request */
    UF_CAN_ERR = 1u << 2,    /* error frame: id holds the error class bits */
    UF_CAN_FD = 1u << 3,     /* CAN FD frame (FDF) */
    UF_CAN_BRS = 1u << 4,    /* CAN FD bit rate switch */
    UF_CAN_ESI = 1u << 5,    /* CAN FD error state indicator */
    UF_CAN_DIR_TX = 1u << 6, /* the logger marked it as sent by its own node */
    UF_CAN_DIR_RX = 1u << 7, /* the logger marked it as received */
};

#define UF_CAN_MAX_DATA 64
#define UF_CAN_SFF_MASK 0x000007FFu
#define UF_CAN_EFF_MASK 0x1FFFFFFFu

typedef struct uf_can_frame {
    uint32_t id;    /* 11 or 29 bits, without flags */
    uint32_t flags; /* enum uf_can_flag */
    uint8_t len;    /* data bytes, 0..64 */
    uint8_t data[UF_CAN_MAX_DATA];
} uf_can_frame;

/* CAN FD data length code <-> length (ISO 11898-1:2015, table 5). */
uint8_t uf_can_dlc_to_len(uint8_t dlc);
uint8_t uf_can_len_to_dlc(uint8_t len);
/* True if len is one of 0..8, 12, 16, 20, 24, 32, 48, 64. */
bool uf_can_len_is_valid_fd(uint8_t len);

/* ---- Records --------------------------------------------------------------*/

typedef enum uf_record_kind {
    UF_REC_CAN,     /* a CAN / CAN FD frame in .can */
    UF_REC_PACKET,  /* a link-layer packet (Ethernet, IP, ...) in .packet */
    UF_REC_SKIPPED, /* a record that carries neither (still counts as a frame) */
} uf_record_kind;

/* Link types we name, as in https://www.tcpdump.org/linktypes.html */
#define UF_LINKTYPE_ETHERNET 1
#define UF_LINKTYPE_RAW 101
#define UF_LINKTYPE_LINUX_SLL 113
#define UF_LINKTYPE_CAN_SOCKETCAN 227
#define UF_LINKTYPE_IPV4 228
#define UF_LINKTYPE_IPV6 229
#define UF_LINKTYPE_WIRESHARK_UPPER_PDU 252
#define UF_LINKTYPE_LINUX_SLL2 276

typedef struct uf_record {
    uint64_t number; /* frame number, 1-based, as Wireshark counts them */
    uint64_t offset; /* byte offset of the record in the file */
    uf_time time;    /* UF_TIME_NONE when the source has no timestamps */
    uint32_t bus;    /* index into the reader's bus table */
    uf_record_kind kind;
    /* For UF_REC_SKIPPED: why the record could not be decoded (a static
     * sentence), or NULL if it simply carries nothing we analyze. */
    const char *problem;
    uf_can_frame can;
    struct {
        uint32_t linktype;
        const uint8_t *data; /* valid until the next uf_reader_next() */
        uint32_t len;
    } packet;
} uf_record;

/* ---- Link-layer decoding (pure; used by file and live readers) -----------*/

/* LINKTYPE_CAN_SOCKETCAN stores the CAN id big-endian, but some writers
 * (scapy among them) store it little-endian, and Linux cooked captures carry
 * it in host byte order. The first frame whose id is plausible in only one
 * byte order decides for the whole file. */
typedef enum uf_id_order {
    UF_ID_ORDER_UNDECIDED = 0,
    UF_ID_ORDER_BIG,
    UF_ID_ORDER_LITTLE,
} uf_id_order;

typedef struct uf_link_state {
    uf_id_order socketcan_order; /* for LINKTYPE_CAN_SOCKETCAN payloads */
    uf_id_order cooked_order;    /* for CAN inside SLL / SLL2 (host order) */
    uf_id_order exported_order;  /* for "can-hostendian" exported PDUs */
} uf_link_state;

/* Decodes one link-layer record. On success fills rec->kind and rec->can or
 * rec->packet, sets *ifindex to the SLL2 interface index (0 if none), and
 * returns 0. On a malformed record returns -1 and sets *why. */
int uf_decode_link(uint32_t linktype, const uint8_t *buf, size_t len, uf_link_state *st,
                   uf_record *rec, uint32_t *ifindex, const char **why);

/* The link type of a wiretap encapsulation (WTAP_ENCAP_*), for records that
 * come from wiretap (and from Wireshark); a private number above 0xFFFF
 * that no decoder claims for the encapsulations udsflash does not read. */
uint32_t uf_linktype_of_wtap_encap(int encap);

/* The SocketCAN payload alone (struct can_frame / canfd_frame layout). */
int uf_decode_socketcan(const uint8_t *buf, size_t len, uf_id_order *order, bool default_little,
                        uf_can_frame *out, const char **why);

/* ---- Text formats (pure line parsers) -------------------------------------*/

/* Result of parsing one text line. */
typedef enum uf_line_result {
    UF_LINE_FRAME,   /* a CAN frame was parsed */
    UF_LINE_IGNORED, /* a header, comment or event that is not a CAN frame */
    UF_LINE_BAD,     /* looks like a frame but is malformed (why is set) */
} uf_line_result;

/* candump -l log line: "(1436509052.249713) can0 7E0#0210030000000000 [T|R]"
 * and console output: "  can0  7E0   [8]  02 10 03 00 00 00 00 00",
 * optionally with a "(timestamp)" prefix. iface receives the interface name
 * (NUL-terminated, truncated to iface_size). */
typedef struct uf_candump_line {
    uf_can_frame frame;
    uf_time time; /* UF_TIME_NONE for console lines without a timestamp */
    char iface[32];
} uf_candump_line;

uf_line_result uf_candump_parse_line(const char *line, size_t len, uf_candump_line *out,
                                     const char **why);

/* Vector ASC: the parser keeps the header state (base, timestamp mode,
 * measurement start) between lines. */
typedef struct uf_asc_state {
    bool base_dec;          /* "base dec": ids and bytes in decimal */
    bool relative;          /* "timestamps relative": each time is a delta */
    uf_time start;          /* wall-clock start from the "date" line, or 0 */
    uf_time last_rel;       /* running sum in relative mode */
    uint32_t channel;       /* channel of the last frame (1-based) */
} uf_asc_state;

void uf_asc_init(uf_asc_state *st);
uf_line_result uf_asc_parse_line(uf_asc_state *st, const char *line, size_t len,
                                 uf_can_frame *frame, uf_time *time, const char **why);

/* Busmaster logs: header state (data mode, time mode, start) between lines. */
typedef enum uf_busmaster_mode {
    UF_BUSMASTER_SYSTEM,   /* time of day, on the START DATE */
    UF_BUSMASTER_ABSOLUTE, /* since the start of logging */
    UF_BUSMASTER_RELATIVE, /* since the previous message */
} uf_busmaster_mode;

typedef struct uf_busmaster_state {
    bool dec;              /* ***DEC***: ids and bytes in decimal */
    uf_busmaster_mode mode;
    uf_time day, start;    /* midnight of the start date, and the start */
    uf_time last;          /* previous message, or UF_TIME_NONE */
    uint32_t channel;      /* channel of the last message */
} uf_busmaster_state;

void uf_busmaster_init(uf_busmaster_state *st);
uf_line_result uf_busmaster_parse_line(uf_busmaster_state *st, const char *line, size_t len,
                                       uf_can_frame *frame, uf_time *time, const char **why);

/* ---- Readers --------------------------------------------------------------*/

typedef struct uf_reader uf_reader;

/* Opens a capture file; the format is found from the content, never from
 * the name. Returns NULL with err set ("x.blf: not a capture file we can
 * read ..."). */
uf_reader *uf_reader_open(const char *path, uf_error *err) UF_MUST_USE;

/* Opens a pcapng file with Wireshark's wiretap rather than udsflash's own
 * pcapng reader: the reference the tests hold ours to. */
uf_reader *uf_reader_open_pcapng_wiretap(const char *path, uf_error *err) UF_MUST_USE;
/* Opens a pcap file with libpcap rather than udsflash's own pcap reader:
 * likewise the tests' reference. */
uf_reader *uf_reader_open_pcap_libpcap(const char *path, uf_error *err) UF_MUST_USE;

/* Opens a live capture on a network interface (SocketCAN "can0", "vcan0")
 * through libpcap. Returns NULL with a clear reason where AF_CAN is
 * missing or the interface does not exist. */
uf_reader *uf_reader_open_live(const char *iface, uf_error *err) UF_MUST_USE;

/* Returns 1 with *rec filled, 0 at the end, or -1 when the input is damaged
 * (err names the file and byte offset). After -1 every later call returns 0:
 * the caller has everything up to the damage. */
int uf_reader_next(uf_reader *r, uf_record *rec, uf_error *err);

/* Asks a live reader to stop at its next timeout (async-signal-safe). */
void uf_reader_break(uf_reader *r);

/* Short format name: "pcap", "pcapng", "blf", "busmaster", "candump",
 * "candump-console", "asc", "live", or wiretap's own name for others. */
const char *uf_reader_format(const uf_reader *r);
const char *uf_reader_path(const uf_reader *r);
/* False for sources without timestamps: timing rules are then off. */
bool uf_reader_has_time(const uf_reader *r);
/* Bus names ("can0", "ch1", "if0") by index; the table grows while reading. */
uint32_t uf_reader_bus_count(const uf_reader *r);
const char *uf_reader_bus_name(const uf_reader *r, uint32_t bus);
void uf_reader_close(uf_reader *r);

/* Read-ahead: a bounded queue of decoded records ahead of the caller,
 * read by a helper thread (common/uf_helper.h): the one given, which may
 * have other jobs, or one of its own (helper NULL). The caller reads too
 * when it finds the queue empty (capture/read_ahead.c). While it runs, the
 * reader belongs to the read-ahead: ask it nothing (bus names, the format)
 * until uf_read_ahead_stop(). For files; a live reader's uf_reader_break()
 * stays with the read loop. */
typedef struct uf_read_ahead uf_read_ahead;
uf_read_ahead *uf_read_ahead_start(uf_reader *r, uf_helper *helper) UF_MUST_USE;
/* As uf_reader_next(): records in order, then 0, or -1 with err once. The
 * record is lent, not copied: valid until the next call. */
int uf_read_ahead_next(uf_read_ahead *ra, const uf_record **rec, uf_error *err);
/* Stops reading ahead (at once, if records are left) and frees the queue;
 * the helper given goes on. */
void uf_read_ahead_stop(uf_read_ahead *ra);

#endif /* UF_CAPTURE_H */
