#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two builds of udsflash side by side: `udsflash check` of one capture by A
# and by B, taking turns, RUNS times each; the medians of their elapsed and
# CPU times, and B's against A's. For a change of a few percent, which one
# run of each cannot show on a shared host: a run of half a second catches
# the host in a fast or a slow spell (docs/performance.md), and runs that
# take turns see the same spells. Also says whether the two JSON reports
# are the same, byte for byte.
#
#   bash bench/ab.sh A B CAPTURE [RUNS]                   (RUNS: 11)
#
# A and B are udsflash executables, or git revisions, which are built
# (Release, as bench/analyzer.sh builds) in worktrees of a temporary
# directory. For example, a commit against its parent:
#   bash bench/ab.sh HEAD~1 HEAD capture.pcap
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk's numbers
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: bash bench/ab.sh A B CAPTURE [RUNS]  (A, B: udsflash executables or git revisions)" >&2
    exit 2
fi
[ -r "$3" ] || { echo "bench/ab.sh: cannot read $3" >&2; exit 2; }
# Paths as the caller gave them, before the script moves to the tree's top.
capture=$(realpath -- "$3")
side_a=$1 side_b=$2
[ -f "$side_a" ] && side_a=$(realpath -- "$side_a")
[ -f "$side_b" ] && side_b=$(realpath -- "$side_b")
runs=${4:-11}
cd "$(dirname "$0")/.."
case $runs in
    '' | *[!0-9]* | 0) echo "bench/ab.sh: RUNS must be a number of 1 or more, not '$runs'" >&2; exit 2 ;;
esac

. scripts/packages.sh
UF_PACKAGES+=(time) # GNU time: the CPU time
uf_install_packages
work=$(mktemp -d)
cleanup() {
    for side in a b; do
        [ -d "$work/$side/tree" ] && git worktree remove --force "$work/$side/tree"
    done
    rm -rf "$work"
}
trap cleanup EXIT
bench_time_file=$work/time
. bench/timing.sh

# The udsflash executable of one side, built from a revision if need be.
binary_of() { # A_OR_B SIDE
    local what=$1 side=$2
    if [ -f "$what" ] && [ -x "$what" ]; then
        echo "$what"
        return
    fi
    local rev
    rev=$(git rev-parse --verify --quiet "$what^{commit}") ||
        { echo "bench/ab.sh: '$what' is neither an executable nor a git revision" >&2; return 2; }
    mkdir -p "$work/$side"
    git worktree add --quiet --detach "$work/$side/tree" "$rev" >&2
    echo "building $what ($(git rev-parse --short "$rev"))" >&2
    cmake -S "$work/$side/tree" -B "$work/$side/build" -DCMAKE_BUILD_TYPE=Release -DUF_TESTS=OFF >/dev/null
    cmake --build "$work/$side/build" -j"$(nproc)" --target udsflash >/dev/null
    echo "$work/$side/build/cli/udsflash"
}
bin_a=$(binary_of "$side_a" a)
bin_b=$(binary_of "$side_b" b)

# The reports first: a change made for speed should not change them.
"$bin_a" check --format json -o "$work/a.json" "$capture" >/dev/null 2>&1 || true
"$bin_b" check --format json -o "$work/b.json" "$capture" >/dev/null 2>&1 || true
[ -s "$work/a.json" ] || { echo "bench/ab.sh: A wrote no report of $capture" >&2; exit 1; }
[ -s "$work/b.json" ] || { echo "bench/ab.sh: B wrote no report of $capture" >&2; exit 1; }
if cmp -s "$work/a.json" "$work/b.json"; then
    reports="the same, byte for byte"
else
    kept=$(mktemp -d "${TMPDIR:-/tmp}/ab-reports.XXXXXX") # outlives $work
    cp "$work/a.json" "$work/b.json" "$kept/"
    reports="DIFFERENT (cmp $kept/a.json $kept/b.json)"
fi

cat "$capture" >/dev/null # into the page cache, for both sides alike
: >"$work/a.runs"
: >"$work/b.runs"
for _ in $(seq "$runs"); do
    one_run "$bin_a" check --format json -o /dev/null "$capture" >>"$work/a.runs"
    one_run "$bin_b" check --format json -o /dev/null "$capture" >>"$work/b.runs"
done

# The medians of the elapsed and of the CPU times, each on its own.
medians() { # RUNS_FILE: "elapsed fastest cpu"
    local elapsed fastest cpu
    elapsed=$(median_run "$runs" <"$1" | awk '{print $1}')
    fastest=$(sort -n "$1" | awk 'NR == 1 {print $1}')
    cpu=$(awk '{print $3}' "$1" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "$elapsed $fastest $cpu"
}
read -r ea fa ca < <(medians "$work/a.runs")
read -r eb fb cb < <(medians "$work/b.runs")
echo "udsflash check of $capture, $runs runs each, taking turns; medians:"
awk -v a="$1" -v b="$2" -v ea="$ea" -v fa="$fa" -v ca="$ca" -v eb="$eb" -v fb="$fb" -v cb="$cb" 'BEGIN {
    f = "  %-3s %-24s elapsed %.4f s (fastest %.4f s)   CPU %.2f s\n"
    printf f, "A", a, ea, fa, ca
    printf f, "B", b, eb, fb, cb
    printf "  B against A: elapsed %.3fx, ", eb / ea
    if (ca > 0)
        printf "CPU %.3fx\n", cb / ca
    else
        printf "CPU too short to compare (GNU time counts 10 ms)\n"
}'
echo "  reports: $reports"
[ "${reports#the same}" != "$reports" ]
