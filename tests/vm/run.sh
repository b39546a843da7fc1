#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the SocketCAN scenarios on a real Linux kernel: this machine's kernel
# may have no AF_CAN, so a Debian kernel boots under qemu with a busybox
# initramfs that holds the project's programs, can-utils and iproute2,
# loads can, can-raw, can-isotp, can-dev and vcan, creates vcan0, runs
# tests/vm/scenarios.sh and reports each result on the serial console.
#
#   tests/vm/run.sh BUILD_DIR RESULTS_FILE
#
# UF_VM_CACHE: where the kernel is kept (default ~/.cache/udsflash/vm);
# UF_VM_KVM=1: use KVM; UF_VM_SCENARIOS=FILE: run FILE in the VM instead;
# UF_VM_PROGRAMS="PATH...": more programs to put in the VM (benchmarks).
#
# Exit status: 0 the VM ran (RESULTS_FILE holds "RESULT name PASS|FAIL
# detail" lines), 77 something this needs is missing (the reason on
# stderr), 1 the VM did not run to its end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
results=$2
# The kernel package is downloaded once per machine, shared by every build.
cache=${UF_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/udsflash/vm}
skip() { echo "SKIP: $*" >&2; exit 77; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
    skip "a static busybox is missing (apt-get install busybox-static)"
for tool in isotpsend isotprecv candump cansend; do
    command -v $tool >/dev/null || skip "$tool is missing (apt-get install can-utils)"
done
command -v ip >/dev/null || skip "ip is missing (apt-get install iproute2)"
command -v cpio >/dev/null || skip "cpio is missing (apt-get install cpio)"

# The kernel: the package linux-image-amd64 points at, downloaded once
# (apt-get download, no install) and kept in the cache.
mkdir -p "$cache"
if [ ! -f "$cache/ready" ]; then
    kernel_package() {
        apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
    }
    pkg=$(kernel_package)
    # A machine whose packages were all there never ran apt-get update.
    if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
        pkg=$(kernel_package)
    fi
    [ -n "$pkg" ] || skip "apt knows no linux-image-amd64 (run apt-get update as root)"
    rm -rf "$cache/root" "$cache"/*.deb
    (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) ||
        skip "cannot download $pkg from the Debian mirror"
    mkdir -p "$cache/root"
    dpkg-deb -x "$cache"/"$pkg"_*.deb "$cache/root"
    rm -f "$cache"/*.deb
    # Keep the kernel and the CAN modules: 12 MB of the package's 400.
    find "$cache/root" -type f ! -path '*/boot/vmlinuz-*' ! -name can.ko ! -name can-raw.ko \
        ! -name can-isotp.ko ! -name can-dev.ko ! -name vcan.ko -delete
    touch "$cache/ready"
fi
vmlinuz=$(ls "$cache"/root/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
mods=$cache/root/lib/modules/$kver/kernel

# The initramfs: busybox, the programs and every library they load.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,lib,lib64,proc,sys,dev,tmp,modules,usr/bin}
cp "$busybox" "$root/bin/busybox"
copy_with_libs() {
    cp "$1" "$root/usr/bin/"
    ldd "$1" | awk '/=> \// {print $3} /^\t\/lib64/ {print $1}' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
    done
}
for p in "$build/replay/udsecu" "$build/replay/udsreplay" "$build/tests/uf-flash-client" \
         "$build/tests/uf-isotp" "$build/cli/udsflash" "$(command -v ip)" \
         "$(command -v isotpsend)" "$(command -v isotprecv)" "$(command -v candump)" \
         "$(command -v cansend)" "$(command -v chrt)" ${UF_VM_PROGRAMS:-}; do
    copy_with_libs "$p"
done
# udsreplay's golden captures and the sample key library, for its flashes.
mkdir -p "$root/samples"
cp "$here"/../../samples/{flash-11bit,flash-two-ecus,flash-29bit-fd,fault-stmin,fault-p2}.pcap \
    "$root/samples/"
copy_with_libs "$build/samples/libudsecu_seedkey.so"
for m in net/can/can.ko net/can/can-raw.ko net/can/can-isotp.ko \
         drivers/net/can/dev/can-dev.ko drivers/net/can/vcan.ko; do
    cp "$mods/$m" "$root/modules/"
done
cp "$here/init.sh" "$root/init"
# UF_VM_SCENARIOS runs another script in the VM (to debug one scenario).
cp "${UF_VM_SCENARIOS:-$here/scenarios.sh}" "$root/scenarios.sh"
chmod +x "$root/init" "$root/scenarios.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

# Boot. Software emulation by default: a /dev/kvm that opens is no proof
# that KVM works (in a sandbox the guest hangs at "Booting from ROM"), so
# KVM is opt-in with UF_VM_KVM=1. The guest reads the time from the TSC:
# its default under emulation is the HPET, whose every reading is an
# emulated device access, slow and uneven, which frame timestamps and
# udsreplay reproduce's deadlines would carry.
log=$work/console.log
accel=(-accel tcg,thread=multi)
[ "${UF_VM_KVM:-0}" = 1 ] && accel=(-enable-kvm -cpu host)
timeout 900 qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nographic -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 clocksource=tsc tsc=reliable" >"$log" 2>&1 || true
# The firmware's terminal escapes may share a line with the first result.
tr -d '\r' <"$log" | grep -ao 'RESULT .*' >"$results" || true
tr -d '\r' <"$log" | grep -ao 'LOG .*' >&2 || true
if ! tr -d '\r' <"$log" | grep -aq '^SCENARIOS DONE'; then
    echo "the VM did not run to its end; its console:" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
