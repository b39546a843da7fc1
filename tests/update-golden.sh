#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates tests/golden/{messages,check}/*.json from the bundled samples
# listed in tests/golden/samples.list. Run it after a change that alters the
# output on purpose, then review `git diff tests/golden` before committing: the
# golden files are what the tests hold the tool to.
# Usage: tests/update-golden.sh [path/to/udsflash]
set -euo pipefail
cd "$(dirname "$0")/.."
udsflash=${1:-build/cli/udsflash}
while read -r command sample profile; do
    case "$command" in ''|'#'*) continue ;; esac
    mkdir -p "tests/golden/$command"
    out="tests/golden/$command/$sample${profile:+.$profile}.json"
    args=("$command" --format=json)
    [ -n "$profile" ] && args+=(--profile="$profile")
    # check exits 1 when a sample has findings on purpose; only 2 and 3 are errors.
    status=0
    "$udsflash" "${args[@]}" "samples/$sample" > "$out" || status=$?
    if [ "$status" -ge 2 ]; then
        echo "$out: udsflash exited $status" >&2
        exit 1
    fi
    echo "$out"
done < tests/golden/samples.list
