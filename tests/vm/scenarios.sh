#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The SocketCAN scenarios, run inside the test VM on vcan0 against code
# no one here wrote: the kernel's ISO-TP (through can-utils' isotpsend and
# isotprecv) and the kernel's CAN stack. Each prints one line
#   RESULT <name> PASS|FAIL <detail>
# and, when it fails, LOG lines with the frames candump saw. Every step runs
# under a timeout: a hang is a failure with a reason, never a stuck VM.

# ---- reporting ---------------------------------------------------------------

# candump with an 8 MiB socket buffer: under emulation, on a loaded host, a
# flash at STmin 0 outruns the default one and frames go missing from the
# recording (the flash itself is fine; its capture is not).
CANDUMP="candump -r 8388608"

# The default profile with P2 = 200 ms, for the checks that expect no
# finding. The VM runs without KVM, so each udsecu announces P2 = 200 ms
# in its 0x50 response; the first request of a session is answered before
# that announcement, against the profile's 50 ms, and a busy emulated
# machine (two flashes at once, under ASan) once took 106 ms for it.
VM_PROFILE=/tmp/iso14229-vm.ini
udsflash profiles iso14229 --source |
    sed 's/^p2 = 50 ms$/p2 = 200 ms/; s/^name = iso14229$/name = iso14229-vm/' >$VM_PROFILE

begin() { # name [command prefix for candump, e.g. "taskset -c 0"]
    name=$1
    ${2:-} $CANDUMP -L vcan0 >trace 2>/dev/null &
    trace=$!
}

report() { # PASS|FAIL, detail
    kill $trace 2>/dev/null
    wait $trace 2>/dev/null
    echo "RESULT $name $1 $2"
    if [ "$1" != PASS ]; then
        echo "LOG $name: candump saw $(wc -l <trace) frames, the first and the last:"
        head -n 6 trace | sed 's/^/LOG   /'
        tail -n 10 trace | sed 's/^/LOG   /'
    fi
}

# ---- ISO-TP: our userspace endpoint against the kernel's ----------------------

# Our sender to the kernel's receiver: isotprecv prints what it got, in the
# format `uf-isotp pattern` prints the message sent.
ours_to_kernel() { # name, size, isotprecv options, uf-isotp options
    begin "$1"
    size=$2
    uf-isotp pattern --size "$size" >want
    timeout 20 isotprecv $3 vcan0 >got 2>err &
    rx=$!
    sleep 0.3
    if ! timeout 20 uf-isotp send vcan0 $4 --size "$size" 2>send.err; then
        kill $rx 2>/dev/null
        report FAIL "uf-isotp send: $(cat send.err)"
        return
    fi
    sleep 0.3
    kill $rx 2>/dev/null
    wait $rx 2>/dev/null
    if cmp -s got want; then
        report PASS "$size bytes"
    else
        report FAIL "isotprecv printed $(wc -c <got) characters for $(wc -c <want) expected: $(head -c 60 got) $(cat err)"
    fi
}

# The kernel's sender (isotpsend) to our receiver.
kernel_to_ours() { # name, size, isotpsend options, uf-isotp options
    begin "$1"
    size=$2
    uf-isotp pattern --size "$size" >want
    uf-isotp recv vcan0 $4 --timeout 10 >got 2>recv.err &
    rx=$!
    sleep 0.3
    if ! timeout 20 isotpsend $3 vcan0 <want 2>send.err; then
        kill $rx 2>/dev/null
        report FAIL "isotpsend: $(cat send.err)"
        return
    fi
    wait $rx
    if cmp -s got want; then
        report PASS "$size bytes"
    else
        report FAIL "uf-isotp printed $(wc -c <got) characters for $(wc -c <want) expected: $(cat recv.err)"
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

# ---- UDS: flashes of udsecu, recorded and analyzed ----------------------------

# uf-flash-client flashes udsecu; candump -l and udsflash's own live
# capture (libpcap) record it, and udsflash check finds no finding in
# either. The ECU announces P2 = 200 ms: the VM runs without KVM.
flash() { # name, udsecu options, client options
    begin "$1"
    rm -rf cap && mkdir cap
    udsecu $2 --p2 200 --flash cap/ecu.flash --duration 120 >cap/ecu.out 2>cap/ecu.err &
    ecu=$!
    (cd cap && exec $CANDUMP -l vcan0 >/dev/null 2>&1) &
    dump=$!
    udsflash check -i vcan0 -p $VM_PROFILE --fail-on info --format json -o cap/live.json \
        2>cap/live.err &
    live=$!
    sleep 0.5
    if ! timeout 100 uf-flash-client $3 --size 20000 >cap/client.out 2>cap/client.err; then
        kill -9 $ecu $dump $live 2>/dev/null
        report FAIL "the flash failed: $(cat cap/client.err) / udsecu: $(cat cap/ecu.err)"
        return
    fi
    sleep 0.3
    kill -TERM $dump $live $ecu
    # The live capture must end on SIGTERM and write its report.
    (sleep 10 && kill -9 $live $ecu 2>/dev/null) &
    watchdog=$!
    wait $live
    live_rc=$?
    wait $ecu
    ecu_rc=$?
    wait $dump
    kill $watchdog 2>/dev/null
    log=$(ls cap/candump-*.log 2>/dev/null | head -n1)
    timeout 60 udsflash check -p $VM_PROFILE --fail-on info "$log" >cap/check.out 2>&1
    check_rc=$?
    if [ $ecu_rc -ne 0 ]; then
        report FAIL "udsecu ended with $ecu_rc: $(cat cap/ecu.err)"
    elif [ $check_rc -ne 0 ]; then
        report FAIL "udsflash check of the candump log: exit $check_rc: $(sed -n '/findings/,$p' cap/check.out | tr -s ' \n' ' ' | head -c 1500)"
    elif [ $live_rc -ne 0 ]; then
        report FAIL "udsflash check -i vcan0: exit $live_rc: $(cat cap/live.err) $(head -c 400 cap/live.json)"
    elif ! grep -q '"verdict": *"pass"' cap/live.json; then
        report FAIL "the live capture found no passing session: $(head -c 400 cap/live.json)"
    else
        report PASS "$(cat cap/client.out); candump -l and the live capture: no finding"
    fi
}

# Two ECUs flashed at once, one on vcan0 and one on vcan1, recorded by one
# candump -l and one live capture of every interface ("any"): two sessions,
# kept apart by interface, both passing.
flash_two_buses() {
    begin uds_two_buses
    kill $trace; $CANDUMP -L vcan0 vcan1 >trace 2>/dev/null &
    trace=$!
    rm -rf cap && mkdir cap
    udsecu --can vcan0 --p2 200 --duration 120 >/dev/null 2>cap/ecu0.err &
    ecu0=$!
    udsecu --kernel-isotp vcan1 --p2 200 --duration 120 >/dev/null 2>cap/ecu1.err &
    ecu1=$!
    (cd cap && exec $CANDUMP -l vcan0 vcan1 >/dev/null 2>&1) &
    dump=$!
    udsflash check -i any -p $VM_PROFILE --fail-on info --format json -o cap/live.json \
        2>cap/live.err &
    live=$!
    sleep 0.5
    timeout 100 uf-flash-client --can vcan0 --size 12000 >cap/client0.out 2>cap/client0.err &
    c0=$!
    timeout 100 uf-flash-client --kernel-isotp vcan1 --size 9000 >cap/client1.out 2>cap/client1.err
    c1_rc=$?
    wait $c0
    c0_rc=$?
    sleep 0.3
    kill -TERM $dump $live $ecu0 $ecu1
    wait $live
    live_rc=$?
    wait $dump $ecu0 $ecu1
    log=$(ls cap/candump-*.log 2>/dev/null | head -n1)
    timeout 60 udsflash check -p $VM_PROFILE --fail-on info --format json -o cap/log.json "$log" \
        2>cap/check.err
    check_rc=$?
    sessions=$(grep -o '"sessions": [0-9]*' cap/log.json | grep -o '[0-9]*$')
    if [ $c0_rc -ne 0 ] || [ $c1_rc -ne 0 ]; then
        report FAIL "a flash failed: $(cat cap/client0.err cap/client1.err cap/ecu0.err cap/ecu1.err)"
    elif [ $check_rc -ne 0 ] || [ $live_rc -ne 0 ]; then
        report FAIL "udsflash check: candump log exit $check_rc, live exit $live_rc: $(cat cap/check.err cap/live.err) findings of the live capture: $(grep -o '"rule": "[^"]*"' cap/live.json | sort | uniq -c | tr -s ' \n' ' ') verdicts: $(grep -o '"verdict": "[^"]*"' cap/live.json | tr '\n' ' ') $(grep -A3 '"buses"' cap/live.json | tr -s ' \n' ' ')"
    elif ! grep -q '"vcan0"' cap/log.json || ! grep -q '"vcan1"' cap/log.json ||
         ! grep -q '"vcan0"' cap/live.json || ! grep -q '"vcan1"' cap/live.json; then
        report FAIL "the reports do not name both buses: $(head -c 600 cap/log.json)"
    elif [ "$sessions" != 2 ]; then
        report FAIL "$sessions sessions in the candump log's report, expected 2"
    else
        report PASS "two flashes at once on vcan0 and vcan1: 2 sessions, no finding, in candump -l and in the live capture of any"
    fi
}

# ---- udsreplay flash: golden captures replayed into udsecu -------------------

# The sample's golden image is now in the ECU's flash file (a header of
# 4096 bytes, then the region from 0x10000): its SHA-256 against udsflash
# check's, for the download of session `index` (1-based).
golden_in_flash() { # sample, flash file, index
    udsflash check --format json "$1" >golden.json
    member() { grep -o "\"$1\": [\"0-9a-f]*" golden.json | sed -n "${2}p" | grep -o '[0-9a-f]*\"*$' | tr -d '"'; }
    want=$(member sha256 "$3")
    size=$(member size "$3")
    address=$(member address "$3")
    [ -n "$want" ] && [ -n "$size" ] && [ -n "$address" ] || return 1
    got=$(tail -c +$((4096 + address - 65536 + 1)) "$2" | head -c "$size" | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ]
}

# udsreplay flash SAMPLE against udsecu instances on vcan0 / vcan1; the
# recording it makes must pass udsflash check with `sessions` sessions, and
# ECU i must hold the image of the sample's session golden[i].
replay() { # name, sample, sessions, "golden sessions", "udsecu options"..., --, udsreplay options
    begin "$1"
    sample=/samples/$2
    sessions=$3
    golden=$4
    shift 4
    rm -rf cap && mkdir cap
    ecus=""
    n=0
    while [ "$1" != -- ]; do
        n=$((n + 1))
        udsecu $1 --p2 200 --flash cap/ecu$n.flash --duration 120 >/dev/null 2>cap/ecu$n.err &
        ecus="$ecus $!"
        shift
    done
    shift
    sleep 0.5
    timeout 100 udsreplay flash "$sample" "$@" --seedkey /usr/bin/libudsecu_seedkey.so \
        --record cap/replay.pcapng --progress never >cap/replay.out 2>cap/replay.err
    rc=$?
    kill -TERM $ecus 2>/dev/null
    wait $ecus 2>/dev/null
    timeout 60 udsflash check -p $VM_PROFILE --fail-on info --format json -o cap/check.json \
        cap/replay.pcapng 2>cap/check.err
    check_rc=$?
    found=$(grep -o '"sessions": [0-9]*' cap/check.json | grep -o '[0-9]*$')
    images=yes
    i=0
    for s in $golden; do
        i=$((i + 1))
        golden_in_flash "$sample" cap/ecu$i.flash $s || images="no (ECU $i)"
    done
    if [ $rc -ne 0 ]; then
        report FAIL "udsreplay flash exit $rc: $(tr '\n' ' ' <cap/replay.out) $(tr '\n' ' ' <cap/replay.err | head -c 800) udsecu: $(cat cap/ecu*.err)"
    elif [ $check_rc -ne 0 ]; then
        report FAIL "udsflash check of the recording: exit $check_rc $(cat cap/check.err) $(grep -o '"rule": "[^"]*"' cap/check.json | sort | uniq -c | tr -s ' \n' ' ')"
    elif [ "$found" != "$sessions" ]; then
        report FAIL "$found sessions in the recording, expected $sessions"
    elif [ "$images" != yes ]; then
        report FAIL "the golden image is not in the flash: $images"
    else
        report PASS "$(tail -n 1 cap/replay.out); the recording passes; golden images in flash"
    fi
}

replay replay_raw_can flash-11bit.pcap 1 1 "--can vcan0" -- --can vcan0
replay replay_kernel_isotp flash-11bit.pcap 1 1 "--can vcan0" -- --kernel-isotp vcan0
replay replay_fd_29bit flash-29bit-fd.pcap 1 1 \
    "--can vcan0 --fd --rx-id 0x18DA10F1 --tx-id 0x18DAF110 --functional-id 0x18DB33F1" \
    -- --can vcan0
# Both ECUs of the two-ECU capture at once on one bus.
replay replay_parallel_one_bus flash-two-ecus.pcap 2 "1 2" "--can vcan0" \
    "--kernel-isotp vcan0 --rx-id 0x7E1 --tx-id 0x7E9" -- --session 1 --session 2 --can vcan0
# The same golden session into two ECUs at once, one per bus.
replay replay_parallel_two_buses flash-11bit.pcap 2 "1 1" "--can vcan0" "--kernel-isotp vcan1" \
    -- /samples/flash-11bit.pcap --can vcan0 --can vcan1

# ---- udsreplay reproduce and ecu: field failures again, from either side ----

# The tester's STmin violation sent again to udsecu on vcan0 (the field
# ECU's flow control, BS 16 STmin 1 ms) at real-time priority: the
# recording shows it again, and the scheduling error against the recorded
# gaps stays within 1 ms p99 (issue 8).
#
# Every process on the bus shares vCPU 0, the ECU above the tester's
# priority as a separate ECU would be: under emulation, a frame written to
# vcan wakes its readers, and waking one on the other vCPU is an emulated
# IPI that kept write() in the kernel for up to 3.5 ms after the frame had
# left, delaying the next one (p99 0.6-1.8 ms, half the runs over 1 ms;
# on one vCPU 0.23-0.58 ms, with a busy loop on the host too). The VM's
# CPUs are still threads of a shared host: of up to three runs one must
# meet the bound, and the line reports each run's p99.
reproduce_vcan() {
    begin reproduce_vcan "taskset -c 0"
    runs=""
    for attempt in 1 2 3; do
        reproduce_once || return
        runs="$runs ${p99}us"
        awk "BEGIN { exit !($p99 < 1000) }" && break
    done
    if ! awk "BEGIN { exit !($p99 < 1000) }"; then
        report FAIL "scheduling error p99 over 1 ms in each of three runs:$runs (median $median us)"
    else
        report PASS "$sent frames, scheduling error median $median us, p99 $p99 us (runs:$runs); isotp.stmin reproduced"
    fi
}

# One run of reproduce_vcan: p99, median and sent set; false (reported)
# if the run failed or the STmin violation is not in its recording.
reproduce_once() {
    rm -rf cap && mkdir cap
    taskset -c 0 chrt -f 60 udsecu --can vcan0 --p2 200 --bs 16 --stmin 1 \
        --flash cap/ecu.flash --duration 120 >/dev/null 2>cap/ecu.err &
    ecu=$!
    sleep 0.5
    timeout 100 taskset -c 0 udsreplay reproduce /samples/fault-stmin.pcap --can vcan0 --realtime \
        --on-divergence continue --seedkey /usr/bin/libudsecu_seedkey.so \
        --record cap/again.pcapng --format json --quiet >cap/report.json 2>cap/report.err
    rc=$?
    kill -TERM $ecu 2>/dev/null
    wait $ecu 2>/dev/null
    p99=$(grep -o '"p99": [0-9.]*' cap/report.json | grep -o '[0-9.]*$')
    median=$(grep -o '"median": [0-9.]*' cap/report.json | grep -o '[0-9.]*$')
    sent=$(grep -o '"sent": [0-9]*' cap/report.json | grep -o '[0-9]*$')
    timeout 60 udsflash check --format json -o cap/check.json cap/again.pcapng 2>cap/check.err
    if [ $rc -gt 1 ] || [ -z "$p99" ]; then
        report FAIL "udsreplay reproduce exit $rc: $(head -c 600 cap/report.json) $(head -c 600 cap/report.err)"
        return 1
    fi
    if ! grep -q '"rule": "isotp.stmin"' cap/check.json; then
        report FAIL "the STmin violation is not in the recording: $(grep -o '"rule": "[^"]*"' cap/check.json | sort | uniq -c | tr -s ' \n' ' ')"
        return 1
    fi
}

# The field ECU of a late answer on vcan0, flashed by udsreplay flash: the
# recording raises timing.p2 at the preconditions again; nothing unforeseen.
ecu_vcan() {
    begin ecu_vcan
    rm -rf cap && mkdir cap
    udsreplay ecu /samples/fault-p2.pcap --can vcan0 --format json --quiet --duration 60 \
        >cap/ecu.json 2>cap/ecu.err &
    ecu=$!
    sleep 0.5
    timeout 60 udsreplay flash /samples/fault-p2.pcap --can vcan0 --margin 1500 \
        --record cap/flash.pcapng --progress never >cap/flash.out 2>cap/flash.err
    rc=$?
    kill -TERM $ecu 2>/dev/null
    wait $ecu 2>/dev/null
    timeout 60 udsflash check --format json -o cap/check.json cap/flash.pcapng 2>cap/check.err
    if [ $rc -ne 0 ]; then
        report FAIL "udsreplay flash exit $rc: $(tr '\n' ' ' <cap/flash.out | head -c 600) $(tr '\n' ' ' <cap/flash.err | head -c 600) ecu: $(head -c 400 cap/ecu.err)"
    elif ! grep -q '"unforeseen": \[\]' cap/ecu.json; then
        report FAIL "the recorded ECU met unforeseen requests: $(head -c 800 cap/ecu.json)"
    elif ! grep -q '"rule": "timing.p2"' cap/check.json; then
        report FAIL "the late answer is not in the recording: $(grep -o '"rule": "[^"]*"' cap/check.json | sort | uniq -c | tr -s ' \n' ' ')"
    else
        report PASS "$(head -n 1 cap/flash.out); timing.p2 reproduced; $(grep -o '"requests": [0-9]*' cap/ecu.json)"
    fi
}

# Faults on a real bus (--fault): udsreplay flash over vcan0 into udsecu,
# its own controller bus-off for 100 ms from block 2 and one consecutive
# frame of block 3 lost; the replay rides both out (blocks sent again),
# the image is whole in the ECU, and the report names both faults.
faults_vcan() {
    begin faults_vcan
    rm -rf cap && mkdir cap
    udsecu --can vcan0 --p2 200 --flash cap/ecu.flash --duration 60 >/dev/null 2>cap/ecu.err &
    ecu=$!
    sleep 0.5
    # udsecu's P2 is 200 ms: its first answer, cold under emulation, may
    # take that long, past the recording's 50 ms and the default margin.
    timeout 60 udsreplay flash /samples/flash-11bit.pcap --can vcan0 --margin 150 \
        --seedkey /usr/bin/libudsecu_seedkey.so --fault bus-off,block=2,ms=100 \
        --fault drop,frame=400 --format json --progress never >cap/flash.json 2>cap/flash.err
    rc=$?
    kill -TERM $ecu 2>/dev/null
    wait $ecu 2>/dev/null
    if [ $rc -ne 0 ]; then
        report FAIL "udsreplay flash exit $rc: $(tr '\n' ' ' <cap/flash.json | head -c 600) $(tr '\n' ' ' <cap/flash.err | head -c 600)"
    elif ! grep -q 'bus-off over after 100 ms' cap/flash.json; then
        report FAIL "the bus-off is not in the report: $(tr '\n' ' ' <cap/flash.json | head -c 800)"
    elif ! grep -q 'dropped sent frame 400' cap/flash.json; then
        report FAIL "the dropped frame is not in the report: $(tr '\n' ' ' <cap/flash.json | head -c 800)"
    elif ! golden_in_flash /samples/flash-11bit.pcap cap/ecu.flash 1; then
        report FAIL "the golden image is not in the flash"
    else
        report PASS "$(grep -o '"repeats": [0-9]*' cap/flash.json); both faults reported; golden image in flash"
    fi
}

reproduce_vcan
ecu_vcan
faults_vcan

flash uds_raw_can "--can vcan0" "--can vcan0"
flash uds_kernel_isotp "--kernel-isotp vcan0" "--kernel-isotp vcan0"
flash uds_ours_to_kernel_ecu "--kernel-isotp vcan0" "--can vcan0 --functional"
flash uds_kernel_to_our_ecu "--can vcan0" "--kernel-isotp vcan0"
flash uds_fd_extended "--can vcan0 --fd --addressing extended --tx-id 0x612 --rx-id 0x6F1 --address 0x12 --tester-address 0xF1" \
      "--can vcan0 --fd --extended"
flash_two_buses
