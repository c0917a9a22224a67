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
NAME=e2e_tap
source "$(dirname "$0")/../lib/lib.sh"
TAP=tap-bedrock
OUT=$ROOT/kernel/target/e2e
ELF=$OUT/aarch64-unknown-none/release/bedrock-kernel
PCAP=$OUT/e2e.pcap
LOG=$OUT/console.log
mkdir -p "$OUT"

require_tap
build_tap_image "$OUT"

make_netns "bedrock-e2e-$$" "$TAP"

rm -f "$PCAP"
start_guest_on_tap "$ELF" "$TAP" -object filter-dump,id=f0,netdev=n0,file="$PCAP"
wait_network_up

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
stop_pid "$QEMU_PID"

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
