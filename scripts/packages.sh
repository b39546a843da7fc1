# SPDX-License-Identifier: GPL-2.0-or-later
# Debian 12 packages udsflash needs, and a function that installs the missing
# ones. Sourced by setup.sh and test.sh; the README names the same list.
UF_PACKAGES=(
    build-essential cmake pkg-config   # C11 toolchain and build
    libglib2.0-dev                     # GOptionContext, GHashTable
    libjson-glib-dev                   # JSON parsing (tests, report fuzzing)
    libpcap-dev                        # pcap files and live capture
    libwireshark-dev libwiretap-dev    # wiretap: pcapng, BLF, Busmaster
    wireshark-dev                      # WiresharkConfig.cmake for the plugin
    tshark                             # interoperability tests
    libcriterion-dev                   # unit tests
    libxml2-dev                        # tests read the JUnit reports back
    zlib1g-dev                         # CRC-32 of udsecu's flash file
    libgcrypt20-dev                    # SHA-256 of the images where the CPU has no SHA extensions
    qemu-system-x86 busybox-static cpio  # the SocketCAN test VM (tests/vm)
    can-utils iproute2                 # in the VM: vcan0, the kernel's ISO-TP tools
    clang libclang-rt-14-dev           # libFuzzer builds
)

uf_install_packages() {
    local missing=()
    for p in "${UF_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "Installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}
