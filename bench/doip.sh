#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# udsreplay flash of a large image into udsecu over DoIP on loopback TCP:
# the transfer's MB/s and the tester's CPU seconds per MB (issue 9: at least
# 100 MB/s). The golden session is samples/doip-flash.pcap's, its 32 KiB
# image replaced by MB megabytes of random bytes (the erase and
# RequestDownload sizes and the check routine's CRC-32 follow); udsecu
# answers at once (--response-time 0) with maxNumberOfBlockLength BLOCK:
# the capture's 4098, or a larger one (the replay cuts its blocks to what
# the ECU announces).
#
#   bash bench/doip.sh [MB [RUNS [BLOCK]]]      (64 3 4098)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-64}
runs=${2:-3}
block=${3:-4098}

. scripts/packages.sh
UF_PACKAGES+=(time python3)
uf_install_packages
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target udsreplay udsecu udsecu_seedkey >/dev/null
udsreplay=build-bench/replay/udsreplay udsecu=build-bench/replay/udsecu

work=$(mktemp -d)
trap 'kill $ecu 2>/dev/null || true; rm -rf "$work"' EXIT
ecu=

"$udsreplay" script samples/doip-flash.pcap -o "$work/golden.json" >/dev/null
python3 - "$work" "$mb" <<'EOF'
import hashlib, json, os, sys, zlib
work, mb = sys.argv[1], int(sys.argv[2])
size = mb << 20
image = os.urandom(size)
path = os.path.join(work, "golden.json")
script = json.load(open(path))
d = script["downloads"][0]
old = d["size"]
open(os.path.join(work, d["image"]), "wb").write(image)
d["size"] = size
d["sha256"] = hashlib.sha256(image).hexdigest()
d["blocks"] = -(-size // (d["max_block_length"] - 2))
old_hex = " ".join(f"{b:02X}" for b in old.to_bytes(4, "big"))
new_hex = " ".join(f"{b:02X}" for b in size.to_bytes(4, "big"))
crc = " ".join(f"{b:02X}" for b in zlib.crc32(image).to_bytes(4, "big"))
for step in script["steps"]:
    r = step.get("request")
    if not r:
        continue
    if r.startswith("31 01 FF 00") or r.startswith("34 "):
        step["request"] = r[: len(r) - len(old_hex)] + new_hex       # erase / download size
    elif r.startswith("31 01 02 02"):
        step["request"] = "31 01 02 02 " + crc                       # check memory: CRC-32
json.dump(script, open(path, "w"), indent=1)
EOF

size=$(printf '0x%X' $((mb << 20)))
echo "machine: $(nproc) cores, $(uname -r); image $mb MiB, maxNumberOfBlockLength $block"
for run in $(seq "$runs"); do
    rm -f "$work/ecu.flash"
    "$udsecu" --doip --listen 127.0.0.1 --port 0 --region "0x80000:$size" --max-block "$block" \
        --erase-time 100 --response-time 0 --flash "$work/ecu.flash" >"$work/ecu.out" 2>&1 &
    ecu=$!
    for _ in $(seq 50); do grep -q ' on port ' "$work/ecu.out" && break; sleep 0.1; done
    port=$(grep -o 'on port [0-9]*' "$work/ecu.out" | grep -o '[0-9]*$')
    /usr/bin/time -f "%e %U %S" -o "$work/time" "$udsreplay" flash "$work/golden.json" \
        --doip "127.0.0.1:$port" --seedkey build-bench/samples/libudsecu_seedkey.so \
        --format json --progress never --quiet >"$work/report.json"
    kill $ecu
    wait $ecu 2>/dev/null || true
    python3 - "$work" "$mb" <<'EOF'
import json, sys
work, mb = sys.argv[1], int(sys.argv[2])
r = json.load(open(f"{work}/report.json"))
wall, user, sys_ = map(float, open(f"{work}/time").read().split()[-3:])
t = r["transfer_time"]
print(f"  verdict {r['verdict']}: {wall:.2f} s in all ({mb / wall:.1f} MiB/s over the whole flash); "
      f"transfer {t:.2f} s, {mb / t:.1f} MiB/s; tester CPU {(user + sys_) / mb * 1000:.1f} ms a MiB")
EOF
done
