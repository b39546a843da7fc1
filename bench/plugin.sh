#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the Wireshark plugin costs tshark: time and peak memory of a two-pass
# read of a large capture, with and without the plugin, side by side in one
# run, and the plugin's memory per frame.
#
#   bash bench/plugin.sh [COPIES [SAMPLE]]
#
# The capture is COPIES (default 2048, rounded down to a power of two)
# copies of SAMPLE (default samples/flash-11bit.pcap, 710 frames, one
# complete flash) appended one after the other, 10 s apart: one flash
# session each.
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-2048}
sample=${2:-samples/flash-11bit.pcap}

. scripts/packages.sh
UF_PACKAGES+=(time) # GNU time: peak memory
uf_install_packages
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target udsflash_plugin >/dev/null
abi=$(ls build/plugins)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
with=$work/with without=$work/without
mkdir -p "$with/.local/lib/wireshark/plugins/$abi/epan" "$without"
cp build/plugins/"$abi"/epan/udsflash.so "$with/.local/lib/wireshark/plugins/$abi/epan/"

# The large capture, built by doubling: editcap shifts a copy in time,
# mergecap -a appends it.
cp "$sample" "$work/big.pcap"
span=10
n=1
while [ $((n * 2)) -le "$copies" ]; do
    editcap -t $((n * span)) "$work/big.pcap" "$work/shifted.pcap" >/dev/null
    mergecap -a -w "$work/double.pcap" "$work/big.pcap" "$work/shifted.pcap"
    mv "$work/double.pcap" "$work/big.pcap"
    n=$((n * 2))
done
frames=$(capinfos -M -c "$work/big.pcap" | awk '/Number of packets/ {print $NF}')
bytes=$(stat -c %s "$work/big.pcap")
echo "capture: $n copies of $sample, $frames frames, $bytes bytes"

run_as=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R 65534:65534 "$work"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod -R a+rX "$work"

# One frame displayed, every frame dissected twice (-2), no output cost.
measure() {
    "${run_as[@]}" env HOME="$1" /usr/bin/time -f "%e %M" \
        tshark -2 -n -r "$work/big.pcap" -Y "frame.number == 1" 2>&1 >/dev/null | tail -n1
}
read -r t0 m0 < <(measure "$without")
read -r t1 m1 < <(measure "$with")
sessions=$("${run_as[@]}" env HOME="$with" tshark -n -r "$work/big.pcap" -q -z udsflash,tree |
           grep -c '^Session ')
awk -v t0="$t0" -v m0="$m0" -v t1="$t1" -v m1="$m1" -v frames="$frames" -v s="$sessions" 'BEGIN {
    printf "%-16s %10s %14s\n", "", "time (s)", "peak RSS (MB)"
    printf "%-16s %10.2f %14.1f\n", "tshark", t0, m0 / 1024
    printf "%-16s %10.2f %14.1f\n", "tshark + plugin", t1, m1 / 1024
    printf "plugin: %.2fx the time, %.0f bytes a frame more memory; %d sessions found\n",
           t1 / t0, (m1 - m0) * 1024 / frames, s
}'
