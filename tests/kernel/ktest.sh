#!/usr/bin/env bash
# Runs the kernel's in-QEMU test runner (kernel/src/bin/ktest.rs) under
# both virtio-mmio transports, then checks that a deliberate panic, null
# read and undefined instruction are each reported on the UART and end
# QEMU with a failure status. Pass = exit status 33 from semihosting; any
# other status, a missing line or the timeout fails.
# Usage: tests/kernel/ktest.sh [path/to/ktest.elf]
set -uo pipefail
cd "$(dirname "$0")/../.."
ELF=${1:-kernel/target/aarch64-unknown-none/release/ktest}
TIMEOUT=${KTEST_TIMEOUT:-60}
LOGDIR=${KTEST_LOGDIR:-kernel/target/ktest-logs}
mkdir -p "$LOGDIR"
failures=0

boot() { # boot <force-legacy> <log> [extra qemu args...]
    local legacy=$1 log=$2
    shift 2
    timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a72 -m 128M \
        -nographic -semihosting-config enable=on,target=native,chardev=serial0 -kernel "$ELF" \
        -global virtio-mmio.force-legacy="$legacy" \
        -netdev user,id=n0 -device virtio-net-device,netdev=n0 \
        "$@" </dev/null >"$log" 2>&1
}

fail() { echo "ktest: FAIL: $*"; failures=$((failures + 1)); }

for legacy in false true; do
    want=modern
    [ "$legacy" = true ] && want=legacy
    log="$LOGDIR/ktest-$want.log"
    boot "$legacy" "$log"
    status=$?
    sed 's/^/    /' "$log" | tr -d '\r'
    if [ $status -ne 33 ]; then
        fail "test runner ($want transport) exited with status $status (124 = timeout), not 33"
    elif ! grep -q "transport: $want" "$log"; then
        fail "the NIC did not come up on the $want transport"
    else
        echo "ktest: PASS: in-kernel tests on the $want virtio transport (status 33)"
    fi
done

# Crashes must be loud and must fail.
check_crash() { # check_crash <mode> <text the report must contain>
    local log="$LOGDIR/crash-$1.log"
    boot false "$log" -append "crash=$1"
    local status=$?
    if [ $status -ne 1 ]; then
        fail "crash=$1 exited with status $status, not 1"
    elif ! tr -d '\r' <"$log" | grep -q "$2"; then
        fail "crash=$1 report lacks '$2'"; sed 's/^/    /' "$log"
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
