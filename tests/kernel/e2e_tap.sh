#!/usr/bin/env bash
# End to end against Linux's own network stack: a network namespace with a
# tap device (10.0.3.1/24), the real kernel image built with
# BEDROCK_IP=10.0.3.15/24 BEDROCK_GATEWAY=10.0.3.1 and attached to the tap,
# then from Linux: `ping -c 5` must get 5 replies, `arping -c 3` must get
# answers, and the pcap QEMU recorded (filter-dump) must decode in tshark
# with no malformed packet and every IPv4/ICMP checksum verified good.
# Cleans up the namespace on exit. Skips (status 0, clear message) only
# where a tap device cannot be created (not root, no /dev/net/tun).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
NS=bedrock-e2e-$$
TAP=tap-bedrock
HOST_IP=10.0.3.1
GUEST_IP=10.0.3.15
OUT=$ROOT/kernel/target/e2e
ELF=$OUT/aarch64-unknown-none/release/bedrock-kernel
PCAP=$OUT/e2e.pcap
LOG=$OUT/console.log
CARGO=${CARGO:-cargo}
mkdir -p "$OUT"

skip() { echo "e2e_tap: SKIP: $*"; exit 0; }
fail() { echo "e2e_tap: FAIL: $*"; echo "--- console:"; tr -d '\r' <"$LOG" | sed 's/^/    /'; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace and a tap device"
[ -c /dev/net/tun ] || skip "no /dev/net/tun on this machine"

# The image with the tap subnet's addresses (a separate target dir, so the
# default image of `make run` is not rebuilt back and forth).
echo "e2e_tap: building the image with BEDROCK_IP=$GUEST_IP/24 BEDROCK_GATEWAY=$HOST_IP"
(cd kernel && BEDROCK_IP=$GUEST_IP/24 BEDROCK_GATEWAY=$HOST_IP CARGO_TARGET_DIR=$OUT \
    $CARGO build --quiet --release --bin bedrock-kernel) || { echo "e2e_tap: FAIL: build"; exit 1; }

QEMU_PID=
cleanup() {
    [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT INT TERM

ip netns add "$NS" || skip "cannot create a network namespace"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
in_ns ip tuntap add dev "$TAP" mode tap || skip "cannot create a tap device"
in_ns ip addr add "$HOST_IP/24" dev "$TAP"
in_ns ip link set "$TAP" up

rm -f "$PCAP"
# vnet_hdr=off: with a vnet header on the tap, QEMU 7.2's filter-dump
# writes it in front of every frame and the pcap does not decode.
in_ns qemu-system-aarch64 -M virt -cpu cortex-a72 -m 128M -nographic -semihosting \
    -kernel "$ELF" -global virtio-mmio.force-legacy=false \
    -netdev tap,id=n0,ifname="$TAP",script=no,downscript=no,vnet_hdr=off \
    -device virtio-net-device,netdev=n0 \
    -object filter-dump,id=f0,netdev=n0,file="$PCAP" \
    </dev/null >"$LOG" 2>&1 &
QEMU_PID=$!

for _ in $(seq 100); do
    grep -q "network up" "$LOG" && break
    kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited during boot"
    sleep 0.1
done
grep -q "network up: $GUEST_IP/24 via $HOST_IP (" "$LOG" \
    || fail "no 'network up' with the gateway $HOST_IP resolved within 10 s"
echo "e2e_tap: kernel up: $(grep -o 'network up.*' "$LOG" | tr -d '\r')"

checks=0
ping_out=$(in_ns ping -c 5 -i 0.2 -W 2 "$GUEST_IP" 2>&1)
echo "$ping_out" | sed 's/^/    /'
echo "$ping_out" | grep -q "5 packets transmitted, 5 received" \
    || fail "ping -c 5 did not get 5 replies"
checks=$((checks + 1))

# A fresh neighbour entry makes Linux ARP again, and arping asks directly.
in_ns ip neigh flush dev "$TAP"
arping_out=$(in_ns arping -c 3 -w 5 -I "$TAP" "$GUEST_IP" 2>&1)
echo "$arping_out" | sed 's/^/    /'
echo "$arping_out" | grep -Eq "Received [1-9][0-9]* response" \
    || fail "arping -c 3 got no answer"
checks=$((checks + 1))

# A ping of maximum size (1472 bytes of data: a 1514-byte frame).
in_ns ping -c 2 -i 0.2 -W 2 -s 1472 "$GUEST_IP" >/dev/null 2>&1 \
    || fail "ping with 1472 data bytes (full 1500-byte packet) failed"
checks=$((checks + 1))

# Stop QEMU (Ctrl-C is for a terminal; here the process is simply ended)
# so the pcap is complete, then decode it.
kill "$QEMU_PID"; wait "$QEMU_PID" 2>/dev/null; QEMU_PID=

TSHARK=(tshark -r "$PCAP" -o ip.check_checksum:TRUE)
if ! command -v tshark >/dev/null 2>&1; then
    fail "tshark missing (scripts/setup.sh qemu installs it)"
fi
"${TSHARK[@]}" >"$OUT/pcap.txt" 2>"$OUT/tshark.err" || fail "tshark could not read the pcap: $(cat "$OUT/tshark.err")"
frames=$(wc -l <"$OUT/pcap.txt")
count() { "${TSHARK[@]}" -Y "$1" 2>/dev/null | wc -l; }
malformed=$(count "_ws.malformed || _ws.expert.severity >= error")
bad_sums=$(count "ip.checksum.status == 0 || icmp.checksum.status == 0")
good_ip=$(count "ip.src == $GUEST_IP && ip.checksum.status == 1")
replies=$(count "ip.src == $GUEST_IP && icmp.type == 0 && icmp.checksum.status == 1")
arp_replies=$(count "arp.opcode == 2 && arp.src.proto_ipv4 == $GUEST_IP")
echo "e2e_tap: pcap: $frames frames; from the kernel: $good_ip IPv4 packets with good header checksums," \
     "$replies echo replies with good ICMP checksums, $arp_replies ARP replies; malformed $malformed, bad checksums $bad_sums"
[ "$malformed" -eq 0 ] || { "${TSHARK[@]}" -Y "_ws.malformed || _ws.expert.severity >= error" -V | head -60; fail "malformed frames in the pcap"; }
[ "$bad_sums" -eq 0 ] || fail "frames with bad checksums in the pcap"
[ "$replies" -ge 7 ] || fail "expected at least 7 echo replies from $GUEST_IP in the pcap"
[ "$arp_replies" -ge 3 ] || fail "expected at least 3 ARP replies from $GUEST_IP in the pcap"
checks=$((checks + 1))
echo "e2e_tap: PASS: ping (5/5, and full-size), arping, clean pcap ($checks checks)"
