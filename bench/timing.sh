# SPDX-License-Identifier: GPL-2.0-or-later
# What the benchmark scripts share: one timed run of a command, and the
# median of several. Sourced; the sourcing script sets bench_time_file,
# where GNU time writes (scripts/packages.sh installs it: package time).

# "seconds peak_kB cpu_seconds" of one run of a command (CPU: user and
# system time of all its threads). GNU time gives the peak memory and the
# CPU time, but the elapsed time only to 10 ms, 2% of a check of half a
# second: the shell's microsecond clock times the run (LC_ALL=C for its
# decimal point).
one_run() {
    local start=$EPOCHREALTIME
    # udsflash check exits 1 when it has findings: the run still counts.
    /usr/bin/time -f "%M %U %S" -o "$bench_time_file" "$@" >/dev/null 2>&1 || true
    local end=$EPOCHREALTIME
    tail -n1 "$bench_time_file" | awk -v s="$start" -v e="$end" '{
        printf "%.4f %s %.2f\n", e - s, $1, $2 + $3 }'
}

median_run() { # N, the runs on standard input: the run with the median time
    sort -n | sed -n "$(( ($1 + 1) / 2 ))p"
}
