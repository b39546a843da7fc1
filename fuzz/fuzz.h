/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every fuzz target defines LLVMFuzzerTestOneInput. Built with -DUF_FUZZ=ON
 * (clang), libFuzzer drives it; otherwise replay_main.c replays a corpus,
 * which is how the committed corpora run in ctest.
 */
#ifndef UF_FUZZ_H
#define UF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
