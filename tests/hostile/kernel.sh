#!/usr/bin/env bash
# Issue 15's proof against the unikernel: tests/hostile/hostile.py (1,000
# hostile connections of each kind, 256 clients that never read a large
# reply, a spoofed SYN flood; a legitimate client meanwhile) from Linux,
# over a tap device in a network namespace (no slirp in the way). The image
# is the tap build of e2e_tap.sh (same settings and target dir, so `make
# test` builds it once). Slots and counters are read from the console: 'c'
# on QEMU's stdin, a FIFO held open here. The legitimate client has an
# address of its own (10.0.3.3) on the tap. Bounded: hostile.py stops itself
# after its TOTAL_TIMEOUT, and `timeout` backs that up. Cleans up QEMU and
# the namespace on every exit; skips (status 0) only without root,
# /dev/net/tun or network namespaces.
#
# Usage: kernel.sh [ELF]   (default: the tap image, built here; an ELF given
# must be built with BEDROCK_IP=10.0.3.15/24 BEDROCK_GATEWAY=10.0.3.1)
#
# The flood fails unless the kernel's syn_cookies_sent and
# syn_cookies_accepted counters move; HOSTILE_SYN_COOKIES=0 turns that off
# (for an image without SYN cookies).
# HOSTILE_PCAP=1 records the legitimate client's frames (host 10.0.3.3) on
# the tap in kernel/target/hostile/legit.pcap (dumpcap), for tshark.
# HOSTILE_ARGS passes more arguments to hostile.py, e.g. "--only half,flood"
# or "--pool 100".
set -uo pipefail
NAME=hostile_kernel
source "$(dirname "$0")/../lib/lib.sh"
TAP=tap-hostile
IMAGE_DIR=$ROOT/kernel/target/e2e
ELF=${1:-$IMAGE_DIR/aarch64-unknown-none/release/bedrock-kernel}
OUT=$ROOT/kernel/target/hostile
# Per run, so that runs side by side do not read each other's counters;
# removed when the run passes.
LOG=$OUT/console-$$.log
CONSOLE_IN=$OUT/console-$$.in
LEGIT_IP=10.0.3.3
mkdir -p "$OUT"

cookies=(--require-syn-cookies)
[ "${HOSTILE_SYN_COOKIES:-1}" = 0 ] && cookies=()
# shellcheck disable=SC2206 # words on purpose
extra=(${HOSTILE_ARGS:-})

require_tap
[ $# -gt 0 ] || build_tap_image "$IMAGE_DIR"
[ -f "$ELF" ] || { echo "$NAME: FAIL: no image at $ELF"; exit 1; }

make_netns "bedrock-hostile-$$" "$TAP"
in_ns ip addr add "$LEGIT_IP/24" dev "$TAP"

# hostile.py sends 'c' on the console.
console_fifo "$CONSOLE_IN"
start_guest_on_tap "$ELF" "$TAP"
wait_network_up
in_ns ping -c 1 -W 2 "$GUEST_IP" >/dev/null || fail "the guest does not answer ping"
if [ "${HOSTILE_PCAP:-0}" = 1 ]; then
    rm -f "$OUT/legit.pcap"
    ip netns exec "$NS" dumpcap -q -i "$TAP" -f "host $LEGIT_IP" -w "$OUT/legit.pcap" 2>/dev/null &
    on_exit_stop $!
    sleep 1
fi

in_ns timeout -k 5 420 "$PY" tests/hostile/hostile.py --name unikernel \
    --target "$GUEST_IP:80" --legit-src "$LEGIT_IP" --link "$TAP" \
    --console-in "$CONSOLE_IN" --console-log "$LOG" "${cookies[@]}" "${extra[@]}"
status=$?
kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited during the test"
grep -Eq "panicked|exception" "$LOG" && fail "the kernel reported a panic or an exception"
[ "$status" -eq 0 ] || fail "hostile.py failed (status $status; console: $LOG)"
rm -f "$LOG"
echo "$NAME: PASS"
