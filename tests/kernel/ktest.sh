#!/usr/bin/env bash
# Runs the kernel's in-QEMU test runner (kernel/src/bin/ktest.rs) under
# both virtio-mmio transports, then checks that a deliberate panic, null
# read and undefined instruction are each reported on the UART and end
# QEMU with a failure status. Pass = exit status 33 from semihosting; any
# other status, a missing line or the timeout fails.
# Usage: tests/kernel/ktest.sh [path/to/ktest.elf]
set -uo pipefail
NAME=ktest
source "$(dirname "$0")/../lib/lib.sh"
ELF=${1:-kernel/target/aarch64-unknown-none/release/ktest}
TIMEOUT=${KTEST_TIMEOUT:-60}
LOGDIR=${KTEST_LOGDIR:-kernel/target/ktest-logs}
mkdir -p "$LOGDIR"
failures=0

# A fresh 1 MiB disk for each boot (the runner's virtio-blk test).
DISK=$(mktemp --suffix=.img)
on_exit_rm "$DISK"

boot() { # boot <modern|legacy> <log> [extra qemu args...]
    local transport=$1 log=$2
    shift 2
    qemu_virt --virtio "$transport"
    truncate -s 0 "$DISK" && truncate -s 1M "$DISK"
    local disk_args
    mapfile -t disk_args < <("$PY" "$ROOT/tests/lib/bedrock_test.py" disk-args "$DISK")
    timeout "$TIMEOUT" "${QEMU_VIRT[@]}" -kernel "$ELF" \
        -netdev user,id=n0 -device virtio-net-device,netdev=n0 "${disk_args[@]}" \
        "$@" </dev/null >"$log" 2>&1
}

# Counts a failed check; the script goes on and fails at the end.
count_failure() { echo "ktest: FAIL: $*"; failures=$((failures + 1)); }

for want in modern legacy; do
    log="$LOGDIR/ktest-$want.log"
    boot "$want" "$log"
    status=$?
    sed 's/^/    /' "$log" | tr -d '\r'
    if [ $status -ne 33 ]; then
        count_failure "test runner ($want transport) exited with status $status (124 = timeout), not 33"
    elif ! grep -q "transport: $want" "$log"; then
        count_failure "the NIC did not come up on the $want transport"
    else
        echo "ktest: PASS: in-kernel tests on the $want virtio transport (status 33)"
    fi
done

# Crashes must be loud and must fail.
check_crash() { # check_crash <mode> <text the report must contain>
    local log="$LOGDIR/crash-$1.log"
    boot modern "$log" -append "crash=$1"
    local status=$?
    if [ $status -ne 1 ]; then
        count_failure "crash=$1 exited with status $status, not 1"
    elif ! tr -d '\r' <"$log" | grep -q "$2"; then
        count_failure "crash=$1 report lacks '$2'"; sed 's/^/    /' "$log"
    else
        echo "ktest: PASS: crash=$1 reported ('$2') and exited with status 1"
    fi
}
check_crash panic "PANIC: deliberate panic"
check_crash null "data abort, same EL"
check_crash udf "FATAL EXCEPTION: synchronous"

if [ $failures -ne 0 ]; then
    echo "ktest: $failures check(s) failed (logs in $LOGDIR)"
    exit 1
fi
echo "ktest: all in-QEMU checks passed"
