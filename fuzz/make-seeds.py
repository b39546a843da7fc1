#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the small seed corpora in fuzz/corpus/ from samples/ and a few
hand-made edge cases. A developer tool: the seeds are committed, so neither
the build nor CI runs this. Usage: fuzz/make-seeds.py (from the top folder)."""
import os
import struct

S = "samples"
C = "fuzz/corpus"


def put(target, name, data):
    os.makedirs(f"{C}/{target}", exist_ok=True)
    with open(f"{C}/{target}/{name}", "wb") as f:
        f.write(data)


def pcap_records(path, limit):
    data = open(path, "rb").read()
    at, out = 24, []
    while at + 16 <= len(data) and len(out) < limit:
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        out.append(data[at + 16 : at + 16 + caplen])
        at += 16 + caplen
    return out


# link: selector byte (0 SocketCAN, 1 SLL, 2 SLL2, 3 exported PDU) + record
for i, r in enumerate(pcap_records(f"{S}/flash-11bit.pcap", 3)):
    put("link", f"socketcan-{i}", b"\x00" + r)
for i, r in enumerate(pcap_records(f"{S}/flash-11bit-scapy-le.pcap", 2)):
    put("link", f"socketcan-le-{i}", b"\x00" + r)
put("link", "socketcan-fd", b"\x00" + pcap_records(f"{S}/flash-29bit-fd.pcap", 1)[0])
put("link", "sll", b"\x01" + pcap_records(f"{S}/flash-11bit-sll.pcap", 1)[0])
put("link", "sll2", b"\x02" + pcap_records(f"{S}/flash-two-buses-sll2.pcap", 1)[0])
put("link", "exported-pdu", b"\x03" + bytes.fromhex(
    "000c0010" + b"can-hostendian\0\0".hex() + "00000000" + "e0070000020000001003000000000000"))
put("link", "short", b"\x00\x00\x00\x07")
put("link", "fd-bad-length", b"\x00" + bytes.fromhex("000007e00d040000") + b"\x11" * 64)

# text: the head of each text format, and odd lines
for name in ("flash-11bit.candump", "flash-11bit-console.candump", "flash-11bit.asc",
             "flash-29bit-fd.asc", "flash-29bit-fd.candump"):
    lines = open(f"{S}/{name}", "rb").read().split(b"\n")
    put("text", name, b"\n".join(lines[:25]) + b"\n")
put("text", "odd-lines", b"(1.5) can0 7E0#R3\n(1.5) can0 7E0##3021003\n(1.5) can0 7E0#1122334455667788_C\n"
    b"  can0  7E0   [3]  remote request\n   0.010600 1  ErrorFrame\nbase dec  timestamps relative\n"
    b"   1.0 1  2016  Tx   d 2 2 16\n(99999999999999999999.1) x 7E0#\n")

# isotp: records of flags, id (LE), time step, length, data
def frames_of(path, limit):
    recs = []
    for r in pcap_records(path, limit):
        word = struct.unpack_from(">I", r, 0)[0]
        length = r[4]
        fd = len(r) == 72 or (r[5] & 4)
        flags = (1 if word & 0x80000000 else 0) | (2 if fd else 0)
        recs.append(bytes([flags]) + struct.pack("<I", word & 0x1FFFFFFF) + bytes([1, length])
                    + r[8 : 8 + length])
    return recs

put("isotp", "classic", b"\x00" + b"".join(frames_of(f"{S}/flash-11bit.pcap", 120)))
put("isotp", "fd", b"\x00" + b"".join(frames_of(f"{S}/flash-29bit-fd.pcap", 60)))
put("isotp", "extended", b"\x00" + b"".join(frames_of(f"{S}/flash-extended.pcap", 80)))
put("isotp", "extended-configured", b"\x02" + b"".join(frames_of(f"{S}/flash-extended.pcap", 40)))
put("isotp", "interleaved", b"\x00" + b"".join(frames_of(f"{S}/flash-two-ecus.pcap", 150)))
def rec(i, data, step=1, flags=0):
    return bytes([flags]) + struct.pack("<I", i) + bytes([step, len(data)]) + data
put("isotp", "anomalies", b"\x00" + rec(0x7E8, bytes.fromhex("2100000000000000"))
    + rec(0x7E0, bytes.fromhex("101a360100010203")) + rec(0x7E8, bytes.fromhex("300200"), 200)
    + rec(0x7E0, bytes.fromhex("2104050607080900")) + rec(0x7E0, bytes.fromhex("2304050607080900"))
    + rec(0x7E0, bytes.fromhex("1000ffffffff3601")) + rec(0x7E8, bytes.fromhex("320000"))
    + rec(0x7E0, bytes.fromhex("45")) + rec(0x7E8, bytes.fromhex("350000")))

# uds: payloads of the flashing services, good and bad
for name, hexs in {
    "dsc": "5002003201f4", "rd": "3400440001000000000bb8", "rd-resp": "74200102",
    "td": "3605000102", "rc": "3101ff0044000100000000001000", "neg": "7f3178",
    "rdbi": "62f1905756575a5a5a", "sa": "671112345678", "bad-alfid": "34000001",
    "empty": "", "wdbi": "2ef18401020304",
}.items():
    put("uds", name, bytes.fromhex(hexs))

# reader: heads of each file format (so most are truncated on purpose)
for name in ("flash-11bit.pcap", "flash-11bit.pcapng", "flash-11bit.blf", "flash-11bit.busmaster",
             "flash-11bit.candump", "flash-11bit.asc", "flash-29bit-fd.pcapng",
             "flash-two-buses-sll2.pcap", "flash-11bit-console.candump"):
    put("reader", name, open(f"{S}/{name}", "rb").read()[:3000])
# DoIP packets, then a record longer than the snap length: the reader hands
# the file to libpcap with records still in the read-ahead's lent buffer.
doip = open(f"{S}/doip-flash.pcap", "rb").read()
head, at = doip[:24], 24
while at + 16 + struct.unpack_from("<I", doip, at + 8)[0] <= 2800:
    at += 16 + struct.unpack_from("<I", doip, at + 8)[0]
put("reader", "doip-handed-to-libpcap.pcap",
    head + doip[24:at] + struct.pack("<IIII", 1795000000, 0, 262145, 262145))

# profile: the built-in profiles, and files each parse step must refuse
for name in ("iso14229.ini", "his.ini", "erase-first.ini"):
    put("profile", name, open(f"profiles/{name}", "rb").read())
put("profile", "zero-limit.ini", b"[profile]\nname = t\n[limits]\np2 = 0 ms\n")
put("profile", "bad-repeat.ini", b"[profile]\nname = t\n[phase a]\nx = RoutineControl 0x01 0xFF00\n"
    b"y = RequestDownload\n@repeat = y .. x\n")
put("profile", "bad-group.ini", b"[profile]\nname = t\n[phase a\nx = Bogus\n")
put("profile", "not-utf8.ini", b"name = t\n\xff\xfe\n[profile]\n")


# net, tcp, doip: from the DoIP sample (Ethernet, IPv4, TCP to 13400)
def tcp_segments(path, limit):
    """(client?, flags, seq, ack, payload) of the TCP segments, and the UDP payloads."""
    segs, udps = [], []
    for r in pcap_records(path, 10000):
        if len(r) < 34 or r[12:14] != b"\x08\x00":
            continue
        ihl = (r[14] & 15) * 4
        total = struct.unpack_from(">H", r, 16)[0]
        l4 = 14 + ihl
        if r[23] == 17:
            udps.append(r[l4 + 8 : 14 + total])
            continue
        sport, dport, seq, ack = struct.unpack_from(">HHII", r, l4)
        off = (r[l4 + 12] >> 4) * 4
        segs.append((dport == 13400, r[l4 + 13] & 0x1F, seq, ack, r[l4 + off : 14 + total]))
        if len(segs) >= limit:
            break
    return segs, udps


segs, udps = tcp_segments(f"{S}/doip-flash.pcap", 80)
frames = pcap_records(f"{S}/doip-flash.pcap", 12)
for i in (0, 1, 6, 9, 11):
    put("net", f"doip-{i}", b"\x00" + frames[i])
put("net", "doip-raw-ip", b"\x03" + frames[11][14:])
isn = {}
for client, flags, seq, ack, _ in segs:
    if flags & 2:
        isn[client] = seq
rec = b""
for client, flags, seq, ack, data in segs:
    d = 0 if client else 1
    data = data[:255]
    rec += bytes([d, flags]) + struct.pack("<HH", (seq - isn[client]) & 0xFFFF,
                                           (ack - isn[not client]) & 0xFFFF)
    rec += bytes([len(data)]) + data
put("tcp", "doip-connection", b"\x05" + rec)
stream = b""
for client, flags, seq, ack, data in segs:
    for k in range(0, len(data), 255):
        chunk = data[k : k + 255]
        stream += bytes([0, 0 if client else 1, len(chunk)]) + chunk
for u in udps[:4]:
    stream += bytes([2, 0, len(u)]) + u
put("doip", "doip-connection", stream)
put("doip", "gap-and-time", bytes([1, 0, 40, 3, 0, 90]) + stream[:600])

# recorded_ecu: flags (bit 0 silence for unseen requests, bit 1 speed 4),
# then [ms step][length][request]; the recording is built in the target.
def requests(step, *hexes):
    return b"".join(bytes([step, len(bytes.fromhex(h))]) + bytes.fromhex(h) for h in hexes)
put("recorded_ecu", "flash-as-recorded", b"\x00" + requests(
    5, "1003", "22F195", "1002", "2711", "27124512FEE9", "2EF184261121", "2EF184261121",
    "3101FF00", "3400440001000000000300", "3601AA", "3602BB", "3603CC", "37", "1101", "3E80"))
put("recorded_ecu", "out-of-turn", b"\x00" + requests(
    3, "3400440001000000000300", "3602AA", "1002", "3400440001000000000300", "2711",
    "271200000000", "2F01", "22F199", "3601"))
put("recorded_ecu", "blocks-repeated-and-skipped", b"\x02" + requests(
    2, "1002", "2711", "27124512FEE9", "3400440001000000000300", "3601", "3601", "3603",
    "3602", "3603", "3604", "3605", "37", "3606"))
put("recorded_ecu", "unseen-silent", b"\x01" + requests(
    1, "19", "2F0102", "10", "27", "31", "3E00", "85", "14FFFFFF"))

# faults: specs separated by ';', a 0, a seed, then [flags][length][bytes]
# (flags bit 0 received, bit 1 a whole message, bit 2 extended addressing,
# bits 3-7 ms before it).
def traffic(*records):
    return b"".join(bytes([flags, len(bytes.fromhex(h))]) + bytes.fromhex(h)
                    for flags, h in records)
transfer = traffic((8, "0322F190CCCCCCCC"), (9, "100B62F19030302E"), (0, "300000CCCCCCCCCC"),
                   (8, "1082360141424344"), (9, "300802CCCCCCCCCC"), (8, "2145464748494A4B"),
                   (8, "224C4D4E4F505152"), (9, "02760100CCCCCCCC"), (16, "03360203CCCCCCCC"),
                   (9, "02760200CCCCCCCC"))
put("faults", "frames", b"drop,msg=2;corrupt,p=0.5;fc,dir=rx,stmin=20,ms=3\0\x07" + transfer)
put("faults", "outages", b"link-loss,block=1,ms=5;bus-off,block=2\0\x01" + transfer)
put("faults", "messages", b"delay,msg=1,ms=30;disconnect,block=2;corrupt,byte=1,mask=0x80\0\x03"
    + traffic((10, "1003"), (11, "5003003201F4"), (10, "3601AABB"), (11, "7601"),
              (10, "3602CCDD"), (11, "7602")))
put("faults", "refused", b"drop,frame=1,msg=2\0\x00" + transfer)

