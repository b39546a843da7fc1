#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# udsreplay flash into udsecu on the simulated bus (500 kbit/s, 2 Mbit/s
# in CAN FD's data phase) against the theoretical minimum for that bus and
# that ECU: the recording's time split by uf-bench-sim-min (bench/sim_min.c)
# into bus busy, the ECU's time, the pauses the replay keeps on purpose,
# and the tester's idle time, which a perfect tester would not have.
# Virtual time: the figures are exact and the same on every machine.
#
#   bash bench/sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target udsreplay udsecu_seedkey uf-bench-sim-min >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# sample, tester id, data bit rate (0: classic CAN)
for run in "flash-11bit.pcap 0x7E0 0" "flash-29bit-fd.pcap 0x18DA10F1 2000000"; do
    read -r sample tester data <<<"$run"
    build-bench/replay/udsreplay flash "samples/$sample" --sim "$work/ecu.bin" \
        --seedkey build-bench/samples/libudsecu_seedkey.so --record "$work/run.pcapng" \
        --quiet --progress never >/dev/null
    echo "$sample:"
    build-bench/bench/uf-bench-sim-min "$work/run.pcapng" "$tester" 500000 "$data" | sed 's/^/  /'
    rm -f "$work/ecu.bin"
done
