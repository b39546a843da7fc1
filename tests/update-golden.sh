#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates tests/golden/*.json from the bundled samples. Run it after a
# change that alters the output on purpose, then review `git diff tests/golden`
# before committing: the golden files are what the tests hold the tool to.
# Usage: tests/update-golden.sh [path/to/udsflash]
set -euo pipefail
cd "$(dirname "$0")/.."
udsflash=${1:-build/cli/udsflash}
samples=(flash-11bit.pcap flash-29bit-fd.pcapng flash-extended.candump flash-two-ecus.asc
         flash-two-buses.pcapng flash-11bit-console.candump flash-11bit.blf
         flash-11bit.busmaster flash-two-buses-sll2.pcap)
mkdir -p tests/golden
for s in "${samples[@]}"; do
    "$udsflash" messages --format=json "samples/$s" > "tests/golden/$s.json"
    echo "tests/golden/$s.json"
done
