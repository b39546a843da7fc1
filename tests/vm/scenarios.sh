#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The SocketCAN scenarios, run inside the test VM on vcan0 against code
# no one here wrote: the kernel's ISO-TP (through can-utils' isotpsend and
# isotprecv) and the kernel's CAN stack. Each prints one line:
#   RESULT <name> PASS|FAIL <detail>

result() { # name, status, detail
    echo "RESULT $1 $2 $3"
}

# Our userspace sender to the kernel's receiver: isotprecv prints what it
# got, which must be the pattern uf-isotp sent.
ours_to_kernel() { # name, size, isotprecv options, uf-isotp options
    name=$1 size=$2 kopts=$3 uopts=$4
    rm -f got
    isotprecv $kopts vcan0 >got 2>err &
    rx=$!
    sleep 0.3
    if ! uf-isotp send vcan0 $uopts --size "$size" 2>send.err; then
        kill $rx 2>/dev/null
        result "$name" FAIL "uf-isotp send: $(cat send.err)"
        return
    fi
    sleep 0.3
    kill $rx 2>/dev/null
    wait $rx 2>/dev/null
    uf-isotp pattern --size "$size" >want
    if cmp -s got want; then
        result "$name" PASS "$size bytes"
    else
        result "$name" FAIL "isotprecv got $(wc -c <got) characters, expected $(wc -c <want): $(head -c 120 got) $(cat err)"
    fi
}

# The kernel's sender (isotpsend) to our userspace receiver.
kernel_to_ours() { # name, size, isotpsend options, uf-isotp options
    name=$1 size=$2 kopts=$3 uopts=$4
    rm -f got
    uf-isotp recv vcan0 $uopts --timeout 10 >got 2>recv.err &
    rx=$!
    sleep 0.3
    uf-isotp pattern --size "$size" >want
    if ! isotpsend $kopts vcan0 <want 2>send.err; then
        kill $rx 2>/dev/null
        result "$name" FAIL "isotpsend: $(cat send.err)"
        return
    fi
    wait $rx
    if cmp -s got want; then
        result "$name" PASS "$size bytes"
    else
        result "$name" FAIL "uf-isotp got $(wc -c <got) characters: $(cat recv.err)"
    fi
}

N="-s 321 -d 123"         # isotprecv: its FCs on 0x321, data from 0x123
U="--tx 0x123 --rx 0x321"
ours_to_kernel tp_ours_to_kernel_bs0 100 "$N" "$U"
ours_to_kernel tp_ours_to_kernel_bs4_stmin5ms 500 "$N -b 4 -m 5" "$U"
ours_to_kernel tp_ours_to_kernel_bs1_stmin300us 300 "$N -b 1 -m F3" "$U"
ours_to_kernel tp_ours_to_kernel_4095 4095 "$N -b 8 -m 0" "$U"
ours_to_kernel tp_ours_to_kernel_extended 600 "$N -x F1:12 -b 3" "$U --ext 12:F1"
ours_to_kernel tp_ours_to_kernel_fd 1000 "$N -L 72:64:1" "$U --fd"
ours_to_kernel tp_ours_to_kernel_fd_escape 4500 "$N -L 72:64:1 -b 16" "$U --fd"
K="-s 123 -d 321"         # isotpsend: data on 0x123, FCs from 0x321
R="--tx 0x321 --rx 0x123"
kernel_to_ours tp_kernel_to_ours_bs0 100 "$K" "$R"
kernel_to_ours tp_kernel_to_ours_bs2_stmin5ms 400 "$K" "$R --bs 2 --stmin 5"
kernel_to_ours tp_kernel_to_ours_stmin500us 200 "$K" "$R --bs 0 --stmin 0xF5"
kernel_to_ours tp_kernel_to_ours_4095 4095 "$K" "$R --bs 16"
kernel_to_ours tp_kernel_to_ours_extended 600 "$K -x 12:F1" "$R --ext F1:12 --bs 4"
kernel_to_ours tp_kernel_to_ours_fd 2000 "$K -L 72:64:1" "$R --fd"
kernel_to_ours tp_kernel_to_ours_fd_escape 4500 "$K -L 72:64:1" "$R --fd"

# A flash of udsecu by uf-flash-client, captured by candump -l and by
# udsflash's own live capture (libpcap), both analyzed with no finding.
# The ECU announces P2 = 200 ms: the VM runs without KVM.
flash() { # name, udsecu options, client options
    name=$1 eopts=$2 copts=$3
    rm -rf cap && mkdir cap
    udsecu $eopts --p2 200 --flash cap/ecu.flash --duration 300 >cap/ecu.out 2>cap/ecu.err &
    ecu=$!
    (cd cap && exec candump -l vcan0) &
    dump=$!
    udsflash check -i vcan0 --fail-on info --format json -o cap/live.json 2>cap/live.err &
    live=$!
    sleep 0.5
    if ! uf-flash-client $copts --size 20000 >cap/client.out 2>cap/client.err; then
        kill $ecu $dump $live 2>/dev/null
        result "$name" FAIL "the flash failed: $(cat cap/client.err) / udsecu: $(cat cap/ecu.err)"
        return
    fi
    sleep 0.3
    kill -INT $dump
    kill -INT $live
    wait $live
    live_rc=$?
    kill -TERM $ecu
    wait $ecu
    ecu_rc=$?
    log=$(ls cap/candump-*.log 2>/dev/null | head -n1)
    udsflash check --fail-on info "$log" >cap/check.out 2>&1
    check_rc=$?
    if [ $ecu_rc -ne 0 ]; then
        result "$name" FAIL "udsecu ended with $ecu_rc: $(cat cap/ecu.err)"
    elif [ $check_rc -ne 0 ]; then
        result "$name" FAIL "udsflash check of the candump log: exit $check_rc: $(tr '\n' ' ' <cap/check.out | head -c 600)"
    elif [ $live_rc -ne 0 ]; then
        result "$name" FAIL "udsflash check -i vcan0: exit $live_rc: $(cat cap/live.err) $(head -c 400 cap/live.json)"
    elif ! grep -q '"verdict": *"pass"' cap/live.json; then
        result "$name" FAIL "the live capture found no passing session: $(head -c 400 cap/live.json)"
    else
        result "$name" PASS "$(cat cap/client.out); candump -l and the live capture: no finding"
    fi
}

flash uds_raw_can "--can vcan0" "--can vcan0"
flash uds_kernel_isotp "--kernel-isotp vcan0" "--kernel-isotp vcan0"
flash uds_ours_to_kernel_ecu "--kernel-isotp vcan0" "--can vcan0 --functional"
flash uds_kernel_to_our_ecu "--can vcan0" "--kernel-isotp vcan0"
flash uds_fd_extended "--can vcan0 --fd --addressing extended --tx-id 0x612 --rx-id 0x6F1 --address 0x12 --tester-address 0xF1" \
      "--can vcan0 --fd --extended"
