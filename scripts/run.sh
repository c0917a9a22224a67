#!/usr/bin/env bash
# `make run`: the unikernel in QEMU, its port 80 on 127.0.0.1:PORT.
#
# As root (with /dev/net/tun and network namespaces) the guest sits on a
# tap device in a network namespace of its own, and scripts/forward.py
# relays 127.0.0.1:PORT to it with a real listen backlog: parallel new
# connections are answered at once. Otherwise QEMU's user network forwards
# the port (hostfwd), whose listening socket has a backlog of one, so bursts
# of new connections wait for SYN retries of a second and more; a one-line
# warning says so. NET=user picks the user network, NET=tap insists on the
# tap (fails without it).
#
# The tap image is built with the tap subnet's addresses (tests/lib/lib.sh:
# guest $GUEST_IP, gateway $HOST_IP) in kernel/target/e2e, the target dir of
# the tap tests, so `make test` builds it once. QEMU runs in the foreground
# on this terminal: Ctrl-C (or Ctrl-A X) stops it, and the exit trap then
# stops the forwarder and deletes the namespace with its tap.
#
# DISK (in the environment): a raw image file that becomes the guest's
# virtio-blk disk, where the app's journal lives (created, 64 MiB sparse,
# on first use); empty: no disk, nothing persists.
#
# Usage: scripts/run.sh APP PORT   (APP: hotel or todo; NET, DISK in the environment)
set -uo pipefail
NAME="make run"
source "$(dirname "$0")/../tests/lib/lib.sh"
# A closed terminal cleans up as Ctrl-C does (lib.sh traps INT and TERM).
trap 'exit 129' HUP
APP=${1:?usage: run.sh APP PORT}
PORT=${2:?usage: run.sh APP PORT}
NET=${NET:-auto}
SUFFIX=$([ "$APP" = hotel ] || echo "-$APP")
USER_ELF=kernel/target/aarch64-unknown-none/release/bedrock-kernel$SUFFIX
TAP_DIR=$ROOT/kernel/target/e2e
TAP_ELF=$TAP_DIR/aarch64-unknown-none/release/bedrock-kernel$SUFFIX
TAP=tap-run
# How long the forwarder may take to listen (tenths of a second).
LISTEN_WAIT_TENTHS=50

[ -e "$USER_ELF" ] || { echo "$NAME: no app '$APP' (APP=hotel or APP=todo)"; exit 2; }

# The disk: QEMU arguments for it, after making it on first use.
DISK=${DISK:-}
# Size of a new disk image (sparse: it takes room as the journal grows).
DISK_SIZE=64M
DISK_ARGS=()
if [ -n "$DISK" ]; then
    if [ ! -e "$DISK" ]; then
        mkdir -p "$(dirname "$DISK")"
        truncate -s "$DISK_SIZE" "$DISK" || fail "cannot create the disk image $DISK"
        echo "$NAME: created the disk image $DISK ($DISK_SIZE, sparse); delete it to start over"
    fi
    mapfile -t DISK_ARGS < <("$PY" "$ROOT/tests/lib/bedrock_test.py" disk-args "$DISK")
    echo "$NAME: the app's data is in $DISK (DISK=none: no disk)"
fi

# Why the tap cannot be had here, or nothing if it can.
why_no_tap() {
    if [ "$(id -u)" -ne 0 ]; then echo "not root"
    elif [ ! -c /dev/net/tun ]; then echo "no /dev/net/tun"
    elif ! command -v ip >/dev/null; then echo "no ip (iproute2)"
    fi
}

run_user() {
    qemu_virt
    exec "${QEMU_VIRT[@]}" -kernel "$USER_ELF" "${DISK_ARGS[@]}" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:80" -device virtio-net-device,netdev=n0
}

fallback() {
    [ "$NET" = tap ] && { echo "$NAME: FAIL: NET=tap but $1"; exit 1; }
    echo "$NAME: warning: $1, so QEMU's user network forwards port $PORT (backlog 1: parallel new connections can stall for seconds)"
    run_user
}

case "$NET" in
    user) run_user ;;
    auto | tap) ;;
    *) echo "$NAME: NET=$NET: use auto, tap or user"; exit 2 ;;
esac
why=$(why_no_tap)
[ -z "$why" ] || fallback "$why"

(cd kernel && BEDROCK_IP="$GUEST_IP/24" BEDROCK_GATEWAY="$HOST_IP" CARGO_TARGET_DIR="$TAP_DIR" \
    $CARGO build --quiet --release --bin "bedrock-kernel$SUFFIX") || fail "building the tap image"

NS=bedrock-run-$$
if ! ip netns add "$NS" 2>/dev/null; then fallback "cannot create a network namespace"; fi
on_exit_netns "$NS"
in_ns ip link set lo up
if ! in_ns ip tuntap add dev "$TAP" mode tap 2>/dev/null; then
    cleanup
    fallback "cannot create a tap device"
fi
in_ns ip addr add "$HOST_IP/24" dev "$TAP"
in_ns ip link set "$TAP" up

"$PY" scripts/forward.py --listen "127.0.0.1:$PORT" --target "$GUEST_IP:80" --netns "$NS" &
FORWARDER=$!
on_exit_stop "$FORWARDER"
listening() { [ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ]; }
poll_while_running "$FORWARDER" "$LISTEN_WAIT_TENTHS" listening || fail "the forwarder is not listening on 127.0.0.1:$PORT"

echo "$NAME: the guest is on a tap in network namespace $NS ($GUEST_IP); scripts/forward.py relays 127.0.0.1:$PORT to its port 80"
# QEMU runs in the background on this terminal's input (<&0: bash would give
# a background job /dev/null) and the script waits for it, so that a signal
# to this script alone (SIGTERM, SIGHUP) runs the exit trap at once, which
# stops QEMU too. Ctrl-C reaches QEMU and the script together.
qemu_virt
ip netns exec "$NS" "${QEMU_VIRT[@]}" -kernel "$TAP_ELF" "${DISK_ARGS[@]}" \
    -netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vnet_hdr=off" \
    -device virtio-net-device,netdev=n0 <&0 &
QEMU_PID=$!
on_exit_stop "$QEMU_PID"
wait "$QEMU_PID"
