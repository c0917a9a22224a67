#!/usr/bin/env bash
# Issue 15's proof against bedrock-serve: tests/hostile/hostile.py, the same
# scenarios as against the unikernel, with the server in a network
# namespace of its own (10.0.5.2, port 80, one worker, --max-conns 256 so
# that 1,000 hostile connections exceed its cap) and the clients in another
# (10.0.5.1 hostile, 10.0.5.3 legitimate), joined by a veth pair: the SYN
# flood's frames go onto the client's end with AF_PACKET, and the server's
# SYN-ACKs to 198.18.0.0/15 come back to a namespace that does not forward
# and drops them. Slots are the connection sockets of the worker process
# (/proc/PID/fd). Bounded (hostile.py's time limit, backed up by
# `timeout`); cleans up the server and both namespaces on every exit;
# skips (status 0) only without root or network namespaces.
#
# Usage: server.sh [BINARY]   (default server/target/release/bedrock-serve)
# HOSTILE_ARGS passes more arguments to hostile.py, e.g. "--only half,flood"
# or "--pool 100".
set -uo pipefail
NAME=hostile_server
source "$(dirname "$0")/../lib/lib.sh"
BIN=${1:-server/target/release/bedrock-serve}
NS_C=bedrock-hc-$$
NS_S=bedrock-hs-$$
VETH_C=veth-hc
VETH_S=veth-hs
CLIENT_IP=10.0.5.1
LEGIT_IP=10.0.5.3
SERVER_IP=10.0.5.2
MAX_CONNS=256
OUT=$ROOT/server/target/hostile
# Per run (runs side by side); removed when the run passes.
LOG=$OUT/server-$$.log
WWW=$OUT/www
[ -x "$BIN" ] || { echo "$NAME: FAIL: no server binary at $BIN (make server)"; exit 1; }
require_root "create network namespaces"
mkdir -p "$OUT" "$WWW"
# shellcheck disable=SC2206 # words on purpose
extra=(${HOSTILE_ARGS:-})

add_netns "$NS_C"
add_netns "$NS_S"
ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S" \
    || skip "cannot create a veth pair"
ip netns exec "$NS_C" ip addr add "$CLIENT_IP/24" dev "$VETH_C"
ip netns exec "$NS_C" ip addr add "$LEGIT_IP/24" dev "$VETH_C"
ip netns exec "$NS_S" ip addr add "$SERVER_IP/24" dev "$VETH_S"
ip netns exec "$NS_C" ip link set "$VETH_C" up
ip netns exec "$NS_S" ip link set "$VETH_S" up
# SYN-ACKs to the flood's spoofed sources go to the client's namespace,
# which does not forward them (and says nothing).
ip netns exec "$NS_S" ip route add default via "$CLIENT_IP"

# Started with ip netns exec (not in a function) so that $! is its pid.
ip netns exec "$NS_S" "$BIN" --root "$WWW" --listen "$SERVER_IP:80" --workers 1 \
    --max-conns "$MAX_CONNS" --quiet >"$LOG" 2>&1 &
SERVER_PID=$!
on_exit_stop "$SERVER_PID"
poll_while_running "$SERVER_PID" 50 ip netns exec "$NS_C" bash -c "exec 3<>/dev/tcp/$SERVER_IP/80" 2>/dev/null
[ $? -ne 2 ] || fail "bedrock-serve exited at start"
echo "$NAME: bedrock-serve (pid $SERVER_PID) on $SERVER_IP:80, --workers 1 --max-conns $MAX_CONNS"

ip netns exec "$NS_C" timeout -k 5 420 "$PY" tests/hostile/hostile.py --name bedrock-serve \
    --target "$SERVER_IP:80" --legit-src "$LEGIT_IP" --link "$VETH_C" \
    --server-pid "$SERVER_PID" --max-conns "$MAX_CONNS" "${extra[@]}"
status=$?
kill -0 "$SERVER_PID" 2>/dev/null || fail "bedrock-serve exited during the test"
# Its own account of the cap (evictions, 503s), if it keeps one.
grep -i "evict\|at its cap" "$LOG" | tail -3 | sed 's/^/    /'

[ "$status" -eq 0 ] || fail "hostile.py failed (status $status; server log: $LOG)"
rm -f "$LOG"
echo "$NAME: PASS"
