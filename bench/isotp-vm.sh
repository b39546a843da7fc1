#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Our userspace ISO-TP against the kernel's (CAN_ISOTP), on vcan0 in the
# test VM (tests/vm: a real Linux kernel under qemu), with the same
# BS / STmin: one process sends COUNT messages of SIZE bytes back to back,
# another receives them and times the first to the last (uf-isotp --count
# --stats), once with our endpoint on both sides and once with the
# kernel's, RUNS times each, alternating. Medians and the ratio. Then the
# ceiling of any endpoint on raw sockets: uf-bench-can-blast writes 8-byte
# frames back to back, 64 per system call, to a reader taking 32 per
# call, with no ISO-TP at all; once as is, once with the writer reading
# back its own frames as an ISO-TP sender must. Then, with no CAN socket
# at all, uf-bench-packet-blast through AF_PACKET's memory-mapped rings:
# no system call a frame on either side; and a raw socket writing to a
# ring reading. All against the frames a second the kernel's ISO-TP
# carried at STmin 0.
#
#   bash bench/isotp-vm.sh [RUNS]      (3)
# Needs what the VM test needs (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/bench.sh" <<SCRIPT
# size count bs stmin(raw): 4095-byte messages at full speed, in blocks of
# 8, and 64-byte ones (a FF and 9 CFs) at STmin 1 ms.
for conf in "4095 40 0 0" "4095 40 8 0" "64 40 0 1"; do
    set -- \$conf
    for run in \$(seq $runs); do
        for impl in ours kernel; do
            k=""; [ \$impl = kernel ] && k=--kernel
            uf-isotp recv vcan0 --tx 0x321 --rx 0x123 \$k --bs \$3 --stmin \$4 --count \$2 \\
                --stats --timeout 60 >/dev/null 2>stats &
            rx=\$!
            sleep 0.3
            uf-isotp send vcan0 --tx 0x123 --rx 0x321 \$k --size \$1 --count \$2 2>send.err
            wait \$rx
            echo "RESULT isotp size=\$1 bs=\$3 stmin=\$4 \$impl \$(grep -o '[0-9.]* kB/s' stats | head -n1)"
        done
    done
done
# As many frames as 40 messages of 4095 bytes take, first to last at the
# reader: blast NAME READER WRITER [WRITER OPTION].
blast() {
    \$2 recv vcan0 23400 >blast &
    sink=\$!
    sleep 0.3
    \$3 send vcan0 23400 \$4 >/dev/null
    wait \$sink
    echo "RESULT \$1 \$(grep -o '[0-9]* frames/s' blast)"
}
for run in \$(seq $runs); do
    # Raw sockets, the writer without and with reading its echoes.
    blast raw uf-bench-can-blast uf-bench-can-blast
    blast raw--echo uf-bench-can-blast uf-bench-can-blast --echo
    blast packet uf-bench-packet-blast uf-bench-packet-blast
    # A raw socket writing, the ring reading: what a bus-sharing endpoint
    # would get from a ring on its receiving side alone.
    blast rawring uf-bench-packet-blast uf-bench-can-blast
done
SCRIPT
blasters="$PWD/build/bench/uf-bench-can-blast $PWD/build/bench/uf-bench-packet-blast"
UF_VM_SCENARIOS="$work/bench.sh" UF_VM_PROGRAMS="$blasters" \
    bash tests/vm/run.sh build "$work/results" >/dev/null 2>&1 || true
echo "vcan0 in the test VM (qemu, software emulation, 2 vCPUs); $(nproc) host cores"
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }
grep '^RESULT isotp' "$work/results" | cut -d' ' -f3-5 | sort -u | while read -r key; do
    ours=$(grep -F "RESULT isotp $key ours " "$work/results" | awk '{print $7}' | median)
    kern=$(grep -F "RESULT isotp $key kernel " "$work/results" | awk '{print $7}' | median)
    awk -v k="$key" -v o="$ours" -v c="$kern" 'BEGIN {
        printf "  %-26s ours %8.1f kB/s   kernel %8.1f kB/s   %.2fx\n", k, o, c, c ? o / c : 0 }'
done
# A 4095-byte message is a first frame and 585 consecutive frames.
at_stmin_0() {
    grep -F "RESULT isotp size=4095 bs=0 stmin=0 $1 " "$work/results" | awk '{print $7}' | median
}
raw=$(grep '^RESULT raw ' "$work/results" | awk '{print $3}' | median)
echoed=$(grep '^RESULT raw--echo ' "$work/results" | awk '{print $3}' | median)
packet=$(grep '^RESULT packet ' "$work/results" | awk '{print $3}' | median)
rawring=$(grep '^RESULT rawring ' "$work/results" | awk '{print $3}' | median)
awk -v r="$raw" -v e="$echoed" -v p="$packet" -v rr="$rawring" -v c="$(at_stmin_0 kernel)" \
    -v o="$(at_stmin_0 ours)" 'BEGIN {
    k = c * 1000 / 4095 * 586
    u = o * 1000 / 4095 * 586
    printf "  frames a second at STmin 0, against the kernel ISO-TP:\n"
    printf "    the kernel ISO-TP                     %8.0f\n", k
    printf "    our ISO-TP                            %8.0f   %.2fx\n", u, k ? u / k : 0
    printf "    raw frames, no ISO-TP                 %8.0f   %.2fx\n", r, k ? r / k : 0
    printf "    raw frames, the writer reading echoes %8.0f   %.2fx\n", e, k ? e / k : 0
    printf "    AF_PACKET rings, no CAN socket        %8.0f   %.2fx\n", p, k ? p / k : 0
    printf "    raw socket writing, ring reading      %8.0f   %.2fx\n", rr, k ? rr / k : 0 }'
