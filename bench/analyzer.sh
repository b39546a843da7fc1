#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The analyzer's throughput and memory, side by side in one run:
#   - the floor: a plain libpcap read loop over the same file
#     (uf-bench-pcap-floor);
#   - udsflash check (the JSON report to /dev/null);
#   - tshark 4.0 decoding the same file with its own ISO-TP / UDS / DoIP
#     dissectors (a display filter on uds, so that every frame is dissected
#     to the UDS layer);
# over FRAMES CAN frames of flash sessions as pcap and pcapng, and a DoIP
# capture of DOIP_BYTES; then udsflash check over 1x, 4x and 16x a capture
# (linear time, flat memory). Medians of RUNS runs of tshark, and of
# QUICK_RUNS runs of the floor and of udsflash check, which take turns:
# a run of half a second catches this shared host in a fast or a slow
# spell (docs/performance.md), so the two see the same spells and more
# runs than tshark's 15 s ones. Peak RSS and CPU time (udsflash check
# analyzes in one thread, reads ahead and hashes in another) by GNU time.
#
#   bash bench/analyzer.sh [FRAMES [DOIP_BYTES [RUNS [QUICK_RUNS]]]]
#                                                (10000000 1e9 3 7)
#   UF_BENCH_TSHARK=0 leaves tshark out (it takes the longest).
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk's numbers
cd "$(dirname "$0")/.."
frames=${1:-10000000}
doip_bytes=${2:-1000000000}
runs=${3:-3}
quick_runs=${4:-7}

. scripts/packages.sh
UF_PACKAGES+=(time) # GNU time: peak memory
uf_install_packages
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target udsflash uf-bench-gen uf-bench-pcap-floor >/dev/null
gen=build-bench/bench/uf-bench-gen floor=build-bench/bench/uf-bench-pcap-floor
udsflash=build-bench/cli/udsflash

work=${UF_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${UF_BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
bench_time_file=$work/time
. bench/timing.sh

# tshark's ISO-TP dissector needs the ids (the generator's, see bench/gen.c).
tshark_can=(-o "iso15765.can.ids:0x7DF,0x7E0,0x7E8"
            -o "iso15765.can.extended_ids:0x18DA10F1,0x18DAF110,0x18DA11F2,0x18DAF211,0x18DB33F1,0x18DB33F2"
            -d iso15765.subdissector,uds)

# The run with the median time of N: measure N command...
measure() {
    local n=$1
    shift
    for _ in $(seq "$n"); do one_run "$@"; done | median_run "$n"
}
# The floor and udsflash check over one file, taking turns: two lines.
measure_pair() {
    local file=$1
    : >"$work/floor.runs"
    : >"$work/check.runs"
    for _ in $(seq "$quick_runs"); do
        one_run "$floor" "$file" >>"$work/floor.runs"
        one_run "$udsflash" check --format json -o /dev/null "$file" >>"$work/check.runs"
    done
    median_run "$quick_runs" <"$work/floor.runs"
    median_run "$quick_runs" <"$work/check.runs"
}

row() { # name file count unit [tshark options...]
    local name=$1 file=$2 count=$3 unit=$4
    shift 4
    local mb t_floor m_floor c_floor t_check m_check c_check t_tshark="" m_tshark="" c_tshark=""
    mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.1f", b / 1e6 }')
    # Into the page cache first: writing the later captures may have pushed
    # part of this one out, and every reader is to be timed on a warm
    # cache, not the first one on the disk.
    cat "$file" >/dev/null
    { read -r t_floor m_floor c_floor; read -r t_check m_check c_check; } < <(measure_pair "$file")
    if [ "${UF_BENCH_TSHARK:-1}" = 1 ]; then
        read -r t_tshark m_tshark c_tshark < <(measure "$runs" tshark -n -q -r "$file" "$@" -Y uds)
    fi
    awk -v n="$name" -v c="$count" -v u="$unit" -v mb="$mb" -v tf="$t_floor" -v mf="$m_floor" \
        -v tc="$t_check" -v mc="$m_check" -v tt="$t_tshark" -v mt="$m_tshark" \
        -v cf="$c_floor" -v cc="$c_check" -v ct="$c_tshark" 'BEGIN {
        printf "%s: %s %s, %s MB\n", n, c, u, mb
        f = "  %-22s %8.3f s %12.0f %s/s %8.1f MB/s %8.1f MB RSS %8.2f s CPU\n"
        printf f, "libpcap floor", tf, c / tf, u, mb / tf, mf / 1024, cf
        printf f, "udsflash check", tc, c / tc, u, mb / tc, mc / 1024, cc
        if (tt != "")
            printf f, "tshark (ISO-TP, UDS)", tt, c / tt, u, mb / tt, mt / 1024, ct
        printf "  udsflash check: %.2fx the floor'"'"'s speed", tf / tc
        if (tt != "")
            printf ", %.1fx tshark'"'"'s", tt / tc
        printf "\n"
    }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r); $(tshark --version | head -n1)"
"$gen" can "$frames" "$work/can.pcap"
editcap -F pcapng "$work/can.pcap" "$work/can.pcapng"
"$gen" doip "$doip_bytes" "$work/doip.pcap"
row "CAN, pcap" "$work/can.pcap" "$frames" frames "${tshark_can[@]}"
row "CAN, pcapng" "$work/can.pcapng" "$frames" frames "${tshark_can[@]}"
doip_frames=$(capinfos -M -c "$work/doip.pcap" | awk '/Number of packets/ {print $NF}')
row "DoIP, pcap" "$work/doip.pcap" "$doip_frames" packets

echo "scaling: udsflash check over 1x, 4x, 16x"
base=$((frames / 16))
for k in 1 4 16; do
    "$gen" can $((base * k)) "$work/scale.pcap" >/dev/null
    read -r t m _ < <(measure "$quick_runs" "$udsflash" check --format json -o /dev/null "$work/scale.pcap")
    awk -v k="$k" -v n=$((base * k)) -v t="$t" -v m="$m" 'BEGIN {
        printf "  %2dx %10d frames %8.3f s %8.0f ns/frame %8.1f MB RSS\n", k, n, t, t * 1e9 / n, m / 1024 }'
done
rm -f "$work/scale.pcap"
