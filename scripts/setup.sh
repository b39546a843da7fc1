#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fresh Debian 12 to a working udsflash: installs the packages it needs,
# builds it in build/, and checks a bundled sample flash session (the main job).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/packages.sh
uf_install_packages
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
build/cli/udsflash check samples/flash-11bit.pcap
