#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite, as CI runs it: packages, a -Werror build with every
# Criterion test and the fuzz-corpus replay, the same again under ASan and
# UBSan, and the libFuzzer targets built with clang over their corpora.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/packages.sh
uf_install_packages
jobs=$(nproc)

echo "== build and test (gcc, -Werror)"
cmake -S . -B build-ci -DUF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-ci -j"$jobs"
ctest --test-dir build-ci --output-on-failure -j"$jobs"

echo "== build and test under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DUF_WERROR=ON -DUF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs"
# Criterion forks one process per test; ASan's leak check runs in each.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== libFuzzer targets (clang) over the committed corpora"
CC=clang cmake -S . -B build-fuzz -DUF_FUZZ=ON -DUF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-fuzz -j"$jobs"
for target in build-fuzz/fuzz/fuzz_*; do
    name=${target##*/fuzz_}
    LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan-wiretap.supp ASAN_OPTIONS=fast_unwind_on_malloc=0 \
        "$target" -runs=0 "fuzz/corpus/$name"
done
echo "== all tests passed"
