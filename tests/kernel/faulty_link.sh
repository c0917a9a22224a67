#!/usr/bin/env bash
# Linux's TCP against the kernel's through a faulty link: 5% loss, 5%
# duplication and 5% reordering in each direction, from a seed
# (FAULTY_LINK_SEED, default 1; printed). This machine's kernel has no
# netem, so tests/kernel/faulty_link.py does it: QEMU (-netdev dgram, UDP on
# the namespace's 127.0.0.1) <-> relay <-> tap <-> Linux, all inside one
# network namespace.
#
# The image is built with an echo service (BEDROCK_ECHO_PORT=7). From
# Linux, tests/kernel/faulty_link_client.py sends 10 MiB of seeded
# pseudo-random bytes while reading the echo back, and checks length and
# SHA-256; then a few Hotel API requests on port 80. Prints elapsed time,
# throughput, the relay's counts, Linux's and the kernel's retransmission
# counters. Bounded: the transfer fails after FAULTY_LINK_TIMEOUT seconds
# (default 90). FAULTY_LINK_PCAP=1 also records a pcap (QEMU's side of the
# relay) for tshark. Cleans up on every exit; skips (status 0) only without
# root, /dev/net/tun or network namespaces.
set -uo pipefail
NAME=faulty_link
source "$(dirname "$0")/../lib/lib.sh"
TAP=tap-faulty
OUT=$ROOT/kernel/target/faulty-link
ELF=$OUT/aarch64-unknown-none/release/bedrock-kernel
LOG=$OUT/console.log
RELAY_LOG=$OUT/relay.log
PCAP=$OUT/faulty-link.pcap
CONSOLE_IN=$OUT/console.in
ECHO_PORT=7
SEED=${FAULTY_LINK_SEED:-1}
BYTES=${FAULTY_LINK_BYTES:-$((10 * 1024 * 1024))}
TIMEOUT=${FAULTY_LINK_TIMEOUT:-90}
# UDP ports on the namespace's own loopback: nothing else uses them.
QEMU_UDP=40000
RELAY_UDP=40001
mkdir -p "$OUT"

require_tap
build_tap_image "$OUT" BEDROCK_ECHO_PORT=$ECHO_PORT

make_netns "bedrock-faulty-$$" "$TAP"

# (ip netns exec, not in_ns, so that $! is the relay's pid.)
ip netns exec "$NS" "$PY" tests/kernel/faulty_link.py --tap "$TAP" --port "$RELAY_UDP" \
    --qemu-port "$QEMU_UDP" --seed "$SEED" >"$RELAY_LOG" 2>&1 &
RELAY_PID=$!
on_exit_stop "$RELAY_PID"
poll_while_running "$RELAY_PID" 50 grep -q "faulty_link: seed" "$RELAY_LOG"
[ $? -ne 2 ] || { cat "$RELAY_LOG"; fail "the relay did not start"; }
sed 's/^/    /' "$RELAY_LOG"

console_fifo "$CONSOLE_IN"
rm -f "$PCAP"
dump=()
[ "${FAULTY_LINK_PCAP:-0}" = 1 ] && dump=(-object filter-dump,id=f0,netdev=n0,file="$PCAP")
start_guest "$ELF" \
    -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$QEMU_UDP,remote.type=inet,remote.host=127.0.0.1,remote.port=$RELAY_UDP \
    -device virtio-net-device,netdev=n0 "${dump[@]}"
wait_network_up
grep -q "echo service on TCP port $ECHO_PORT" "$LOG" || fail "the image has no echo service"

# Linux's retransmission counters, from zero for this namespace.
in_ns nstat -n >/dev/null 2>&1

# Stops the relay and prints what it did to the frames.
relay_report() {
    [ -n "$RELAY_PID" ] || return 0
    stop_pid "$RELAY_PID"; RELAY_PID=
    echo "$NAME: the relay's counts:"
    grep -v "faulty_link: seed" "$RELAY_LOG" | sed 's/^/    /'
}

in_ns timeout $((TIMEOUT + 15)) "$PY" tests/kernel/faulty_link_client.py echo "$GUEST_IP" "$ECHO_PORT" \
    --bytes "$BYTES" --seed "$SEED" --timeout "$TIMEOUT" || { relay_report; fail "the echo transfer failed"; }
in_ns timeout 60 "$PY" tests/kernel/faulty_link_client.py hotel "$GUEST_IP" 80 --timeout 30 \
    || { relay_report; fail "the Hotel API smoke check failed"; }

echo "$NAME: Linux's TCP counters for the namespace (nstat):"
in_ns nstat -as TcpInSegs TcpOutSegs TcpRetransSegs TcpExtTCPFastRetrans TcpExtTCPTimeouts \
    TcpExtTCPLossProbes TcpExtTCPSpuriousRTOs TcpExtTCPRenoRecovery TcpExtTCPRenoReorder TcpExtTCPOFOQueue \
    TcpExtTCPWinProbe TcpExtTCPZeroWindowDrop TcpExtTCPFromZeroWindowAdv TcpExtTCPToZeroWindowAdv \
    2>/dev/null | grep -v '^#' | sed 's/^/    /'

# The kernel's counters: 'c' on the console.
printf c >&3
poll_while_running "$QEMU_PID" 30 grep -q -- "--- interrupts" "$LOG"
echo "$NAME: the kernel's counters (console 'c'):"
tr -d '\r' <"$LOG" | sed -n '/--- bedrock-net counters/,/--- interrupts/p' | sed 's/^/    /'
grep -Eq "panicked|exception" "$LOG" && fail "the kernel reported a panic or an exception"

relay_report
echo "$NAME: PASS: $BYTES bytes each way byte-exact and the Hotel API, through the faulty link (seed $SEED)"
