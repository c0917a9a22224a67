# Shared by the shell tests and benchmarks (tests/kernel/*.sh,
# tests/hostile/*.sh, scripts/bench-serve.sh). Source it after setting NAME
# (the message prefix); it moves to the repository root and sets ROOT,
# CARGO, PY (python3), HOST_IP and GUEST_IP (the tap subnet), and installs
# the exit trap that undoes whatever the on_exit_* functions registered.
# `fail` shows the end of $LOG (QEMU's console) when the sourcing script
# has set it.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
CARGO=${CARGO:-cargo}
PY=$(command -v python3) || { echo "$NAME: FAIL: python3 missing"; exit 1; }
# The tap subnet: Linux's end and the kernel's.
HOST_IP=10.0.3.1
GUEST_IP=10.0.3.15

skip() { echo "$NAME: SKIP: $*"; exit 0; }
fail() {
    echo "$NAME: FAIL: $*"
    if [ -s "${LOG:-}" ]; then echo "--- console:"; tr -d '\r' <"$LOG" | tail -60 | sed 's/^/    /'; fi
    exit 1
}

# ---- cleanup on every exit --------------------------------------------------
# Processes are stopped (killed and reaped), then the console FIFO is closed
# and removed, then paths removed, then network namespaces deleted.
EXIT_PIDS=()
EXIT_PATHS=()
EXIT_NETNS=()
CONSOLE_IN=

on_exit_stop() { EXIT_PIDS+=("$1"); }
on_exit_rm() { EXIT_PATHS+=("$1"); }
on_exit_netns() { EXIT_NETNS+=("$1"); }

# stop_pid PID: kills and reaps PID now (and not again on exit).
stop_pid() {
    local keep=() p
    { kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; } || true
    for p in "${EXIT_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    EXIT_PIDS=("${keep[@]}")
    return 0
}

cleanup() {
    local p
    for p in "${EXIT_PIDS[@]}"; do { kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; } || true; done
    if [ -n "$CONSOLE_IN" ]; then exec 3>&- 2>/dev/null; rm -f "$CONSOLE_IN"; fi
    for p in "${EXIT_PATHS[@]}"; do rm -rf "$p"; done
    for p in "${EXIT_NETNS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# poll_while_running PID TRIES CMD...: runs CMD every 0.1 s, TRIES times at
# most, until it succeeds (status 0); 1 if it never did, 2 if PID exited
# first.
poll_while_running() {
    local pid=$1 tries=$2 _
    shift 2
    for _ in $(seq "$tries"); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || return 2
        sleep 0.1
    done
    return 1
}

# ---- network namespaces -----------------------------------------------------

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root to $*"; }

# Skips unless this machine can make a network namespace with a tap device.
require_tap() {
    require_root "create a network namespace and a tap device"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun on this machine"
}

# add_netns NS: a namespace with loopback up, deleted on exit (skips if the
# machine refuses).
add_netns() {
    ip netns add "$1" || skip "cannot create a network namespace"
    on_exit_netns "$1"
    ip netns exec "$1" ip link set lo up
}

# make_netns NS TAP: add_netns NS with TAP at $HOST_IP/24 (skips if the
# machine refuses either). Sets NS for in_ns.
make_netns() {
    NS=$1
    add_netns "$1"
    ip netns exec "$1" ip tuntap add dev "$2" mode tap || skip "cannot create a tap device"
    ip netns exec "$1" ip addr add "$HOST_IP/24" dev "$2"
    ip netns exec "$1" ip link set "$2" up
}

# in_ns CMD...: CMD in the namespace $NS. Not for the background: a
# function run with & is a subshell, and $! would be its pid, not CMD's.
in_ns() { ip netns exec "$NS" "$@"; }

# ---- the unikernel -----------------------------------------------------------

# qemu_virt [--virtio legacy] [--no-semihosting]: the unikernel's QEMU
# machine into the array QEMU_VIRT; tests/lib/bedrock_test.py owns it.
QEMU_VIRT=()
QEMU_PID=
qemu_virt() {
    mapfile -t QEMU_VIRT < <("$PY" "$ROOT/tests/lib/bedrock_test.py" qemu-virt "$@")
    [ "${#QEMU_VIRT[@]}" -gt 0 ] || { echo "$NAME: FAIL: no QEMU command line from bedrock_test.py"; exit 1; }
}

# build_tap_image TARGET_DIR [VAR=value ...]: the kernel image with the tap
# subnet's addresses (and any extra build settings) in its own target dir,
# so the default image of `make run` is not rebuilt back and forth.
build_tap_image() {
    local dir=$1
    shift
    echo "$NAME: building the image with BEDROCK_IP=$GUEST_IP/24 BEDROCK_GATEWAY=$HOST_IP $*"
    (cd kernel && env BEDROCK_IP="$GUEST_IP/24" BEDROCK_GATEWAY="$HOST_IP" "$@" \
        CARGO_TARGET_DIR="$dir" $CARGO build --quiet --release --bin bedrock-kernel) \
        || { echo "$NAME: FAIL: build"; exit 1; }
}

# console_fifo PATH: a FIFO for QEMU's console input, held open here on fd 3
# so that keys can be sent ('c' prints the counters) and QEMU never sees
# the end of its input; closed and removed on exit.
console_fifo() {
    rm -f "$1"
    mkfifo "$1"
    exec 3<>"$1"
    CONSOLE_IN=$1
}

# start_guest ELF QEMU_ARGS...: the image in QEMU inside $NS, console to
# $LOG, input from the console FIFO if there is one (else nothing); sets
# QEMU_PID and stops QEMU on exit.
start_guest() {
    local elf=$1
    shift
    [ "${#QEMU_VIRT[@]}" -gt 0 ] || qemu_virt
    ip netns exec "$NS" "${QEMU_VIRT[@]}" -kernel "$elf" "$@" <"${CONSOLE_IN:-/dev/null}" >"$LOG" 2>&1 &
    QEMU_PID=$!
    on_exit_stop "$QEMU_PID"
}

# start_guest_on_tap ELF TAP [QEMU_ARGS...]: start_guest with its NIC on TAP.
# vnet_hdr=off: with a vnet header on the tap, QEMU 7.2's filter-dump writes
# it in front of every frame and the pcap does not decode.
start_guest_on_tap() {
    local elf=$1 tap=$2
    shift 2
    start_guest "$elf" -netdev tap,id=n0,ifname="$tap",script=no,downscript=no,vnet_hdr=off \
        -device virtio-net-device,netdev=n0 "$@"
}

# NETWORK_UP_RE: the kernel's "network up" line with the gateway resolved,
# "network up: GUEST/24 via GW (MAC) in N us" (kernel/src/serve/mod.rs),
# as an extended regex; not "via GW (unresolved)", which it prints when the
# gateway never answered ARP.
NETWORK_UP_RE="network up: ${GUEST_IP//./\\.}/24 via ${HOST_IP//./\\.} \\(([0-9a-f]{2}:){5}[0-9a-f]{2}\\) in [0-9]+ us"

# wait_network_up: waits (10 s at most) for the kernel's "network up" line
# with the gateway resolved to a MAC address (NETWORK_UP_RE); fails if QEMU
# exits or that line never comes.
wait_network_up() {
    poll_while_running "$QEMU_PID" 100 grep -q "network up" "$LOG"
    [ $? -ne 2 ] || fail "QEMU exited during boot"
    grep -Eq "$NETWORK_UP_RE" "$LOG" \
        || fail "no 'network up' with the gateway $HOST_IP resolved to a MAC address within 10 s"
    echo "$NAME: kernel up: $(grep -o 'network up.*' "$LOG" | tr -d '\r')"
}
