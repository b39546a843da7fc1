#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the SocketCAN test VM: mounts, loads the CAN modules (vcan
# needs can-dev), creates vcan0 and vcan1 (CAN FD capable: MTU 72), runs the
# scenarios and powers off. Reports of the sanitizers (in a sanitizer
# build) are a result of their own.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in can can-raw can-isotp can-dev vcan; do
    insmod /modules/$m.ko || echo "LOG insmod $m failed"
done
for bus in vcan0 vcan1; do
    ip link add dev $bus type vcan && ip link set $bus mtu 72 && ip link set $bus up ||
        echo "LOG $bus could not be created"
done
ip link set lo up
cd /tmp
# Programs of a sanitizer build report into files, shown after the scenarios.
mkdir -p /tmp/sanitizer
export ASAN_OPTIONS=log_path=/tmp/sanitizer/report:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=log_path=/tmp/sanitizer/report:print_stacktrace=1
sh /scenarios.sh
reports=$(ls /tmp/sanitizer)
if [ -n "$reports" ]; then
    echo "RESULT sanitizers FAIL $(echo $reports | wc -w) reports from ASan / UBSan"
    cat /tmp/sanitizer/* | head -n 80 | sed 's/^/LOG   /'
else
    echo "RESULT sanitizers PASS no report from ASan / UBSan"
fi
echo "SCENARIOS DONE"
poweroff -f
