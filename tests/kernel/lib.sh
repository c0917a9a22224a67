# Shared by the kernel tests that put the image on a tap device in a
# network namespace (e2e_tap.sh, faulty_link.sh). Source it after setting
# NAME (the message prefix); it moves to the repository root and sets ROOT,
# CARGO, HOST_IP, GUEST_IP, QEMU_TAP. `fail` shows the end of $LOG (QEMU's
# console) when the sourcing script has set it.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
CARGO=${CARGO:-cargo}
# The tap subnet: Linux's end and the kernel's.
HOST_IP=10.0.3.1
GUEST_IP=10.0.3.15
# The QEMU command line every tap test shares (the NIC is added per test).
QEMU_TAP=(qemu-system-aarch64 -M virt -cpu cortex-a72 -m 128M -nographic -semihosting-config enable=on,target=native,chardev=serial0
          -global virtio-mmio.force-legacy=false)

skip() { echo "$NAME: SKIP: $*"; exit 0; }
fail() {
    echo "$NAME: FAIL: $*"
    if [ -s "${LOG:-}" ]; then echo "--- console:"; tr -d '\r' <"$LOG" | tail -60 | sed 's/^/    /'; fi
    exit 1
}

# Skips unless this machine can make a network namespace with a tap device.
require_tap() {
    [ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace and a tap device"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun on this machine"
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

# make_netns NS TAP: a namespace with loopback up and TAP at $HOST_IP/24
# (skips if the machine refuses either).
make_netns() {
    ip netns add "$1" || skip "cannot create a network namespace"
    ip netns exec "$1" ip link set lo up
    ip netns exec "$1" ip tuntap add dev "$2" mode tap || skip "cannot create a tap device"
    ip netns exec "$1" ip addr add "$HOST_IP/24" dev "$2"
    ip netns exec "$1" ip link set "$2" up
}

# wait_network_up PID: waits (10 s at most) for the kernel's "network up"
# line with the gateway resolved; fails if QEMU exits or it never comes.
wait_network_up() {
    for _ in $(seq 100); do
        grep -q "network up" "$LOG" && break
        kill -0 "$1" 2>/dev/null || fail "QEMU exited during boot"
        sleep 0.1
    done
    grep -q "network up: $GUEST_IP/24 via $HOST_IP (" "$LOG" \
        || fail "no 'network up' with the gateway $HOST_IP resolved within 10 s"
    echo "$NAME: kernel up: $(grep -o 'network up.*' "$LOG" | tr -d '\r')"
}
