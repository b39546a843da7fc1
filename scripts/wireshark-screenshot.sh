#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Refreshes docs/wireshark.png: the real Wireshark GUI, under Xvfb, with a
# sample flash capture open, a frame's udsflash tree expanded and
# Statistics > UDS flash sessions shown.
#
#   bash scripts/wireshark-screenshot.sh [CAPTURE [FRAME [PNG]]]
#
# Installs what it needs besides the build's packages (the Qt GUI, Xvfb,
# xdotool to drive the menu, xwd and netpbm to grab the screen), builds the
# plugin, and runs Wireshark with a throw-away HOME that holds the plugin
# and a two-pane layout. Wireshark started as root ignores plugin folders,
# so as root it runs as nobody.
set -euo pipefail
cd "$(dirname "$0")/.."
capture=${1:-samples/flash-11bit-faults.pcap}
frame=${2:-4}
png=${3:-docs/wireshark.png}
width=1600 height=1000

. scripts/packages.sh
UF_PACKAGES+=(wireshark-qt xvfb xdotool x11-apps netpbm)
uf_install_packages

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target udsflash_plugin
abi=$(ls build/plugins) # Wireshark's major.minor, as the plugin folders name it

work=$(mktemp -d)
xvfb_pid= wireshark_pid=
cleanup() {
    [ -n "$wireshark_pid" ] && kill "$wireshark_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The throw-away HOME: the plugin, a capture copy anyone can read, and a
# layout with the packet list above the details (no bytes pane).
home=$work/home
plugin_dir=$home/.local/lib/wireshark/plugins/$abi/epan
mkdir -p "$plugin_dir" "$home/.config/wireshark" "$work/run"
cp build/plugins/"$abi"/epan/udsflash.so "$plugin_dir/"
cp "$capture" "$home/"
cat >"$home/.config/wireshark/preferences" <<'EOF'
gui.layout_type: 1
gui.layout_content_1: PLIST
gui.layout_content_2: PDETAILS
gui.layout_content_3: NONE
EOF
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R 65534:65534 "$work"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod 700 "$work/run"

# A free display number.
display=99
while [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
export DISPLAY=:$display
Xvfb "$DISPLAY" -screen 0 "${width}x${height}x24" -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.2; done
xdotool getdisplaygeometry >/dev/null 2>&1 || { cat "$work/xvfb.log" >&2; echo "Xvfb did not start" >&2; exit 1; }

name=$(basename "$capture")
"${run_as[@]}" env HOME="$home" XDG_RUNTIME_DIR="$work/run" DISPLAY="$DISPLAY" \
    wireshark -r "$home/$name" -g "$frame" >"$work/wireshark.log" 2>&1 &
wireshark_pid=$!

# Waits up to 30 s for a window whose title matches $1; prints its id.
window() {
    local id
    for _ in $(seq 150); do
        id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n1) || true
        [ -n "$id" ] && { echo "$id"; return 0; }
        kill -0 "$wireshark_pid" 2>/dev/null || break
        sleep 0.2
    done
    cat "$work/wireshark.log" >&2
    echo "no window named \"$1\" appeared" >&2
    return 1
}

main=$(window "$name")
xdotool windowmove "$main" 0 0 windowsize "$main" "$width" "$height"
sleep 3 # the file loads and the frame is selected

# Statistics > UDS flash sessions: the menu's last entry.
xdotool windowfocus --sync "$main" key alt+s
sleep 1
xdotool key Up Return
stats=$(window "UDS flash sessions")
dx=390 dy=235 dw=800 dh=450
xdotool windowmove "$stats" "$dx" "$dy" windowsize "$stats" "$dw" "$dh"
sleep 1
# The dialog sorts by name, descending; one click on the header lists the
# sessions, phases and downloads in their order.
xdotool mousemove "$((dx + 60))" "$((dy + 20))" click 1
sleep 2

xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng >"$png"
echo "wrote $png (${width}x${height}) from $capture, frame $frame"
