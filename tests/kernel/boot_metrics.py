#!/usr/bin/env python3
"""Boot metrics of the unikernel image, measured from the host.

Boots the image in QEMU several times and timestamps its console output
against the moment QEMU was launched: first UART byte, first line, and
the "network up" line. Then, on one boot left idle, samples QEMU's host CPU
use from /proc/<pid>/stat (the kernel sleeps in WFI: it must be near zero),
sends Ctrl-C on the console and expects a clean exit (status 0). Also
reports the image size (bytes of the ELF's loadable segments).

Usage: tests/kernel/boot_metrics.py path/to/bedrock-kernel [runs]
Fails (exit 1) if the network never comes up, idle CPU is above
IDLE_CPU_LIMIT percent, Ctrl-C does not stop QEMU, or the loadable image is
above IMAGE_FILE_LIMIT bytes.
"""
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import KERNEL_ELF, Guest  # noqa: E402

IDLE_CPU_LIMIT = 5.0  # percent of one host core
# The loaded image: code and constants only. The big statics (TCP and HTTP
# buffers, the 10,000-hotel store) are all zero bytes and must stay in
# .bss; one that is not would add megabytes here.
IMAGE_FILE_LIMIT = 1 << 20
BOOT_TIMEOUT = 10.0  # seconds to "network up"


def loadable_bytes(path):
    """(file bytes, memory bytes) of the ELF64's PT_LOAD segments."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not an ELF64 file"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    filesz = memsz = 0
    for i in range(phnum):
        p_type, _flags, _off, _va, _pa, p_filesz, p_memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            filesz += p_filesz
            memsz += p_memsz
    return filesz, memsz, len(data)


def main():
    elf = sys.argv[1] if len(sys.argv) > 1 else KERNEL_ELF
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ok = True
    firsts, ups, guest_ups = [], [], []
    for i in range(runs):
        b = Guest(elf)
        up = b.wait_for("network up", BOOT_TIMEOUT)
        lines = b.lines()
        first_line = lines[0][0] if lines else None
        if up is None:
            print("boot_metrics: FAIL: no 'network up' within %.0f s; console:" % BOOT_TIMEOUT)
            print(b.console(last=None))
            b.stop()
            return 1
        firsts.append(first_line)
        ups.append(up)
        for _, line in lines:
            if "network up" in line and line.startswith("["):
                guest_ups.append(float(line[1:line.index("]")]))
        last = i == runs - 1
        if not last:
            b.stop()
            continue
        # The last boot: idle CPU, then Ctrl-C.
        print("boot_metrics: console of the last boot:")
        for t, line in b.lines():
            print("    %7.1f ms  %s" % (t * 1000, line))
        time.sleep(1.0)  # let it settle
        c0, w0 = b.cpu_seconds(), time.monotonic()
        time.sleep(3.0)
        c1, w1 = b.cpu_seconds(), time.monotonic()
        idle = 100.0 * (c1 - c0) / (w1 - w0)
        b.send(b"\x03")
        try:
            status = b.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        b.stop()
        print("boot_metrics: idle QEMU host CPU over %.1f s: %.2f %%" % (w1 - w0, idle))
        if idle > IDLE_CPU_LIMIT:
            print("boot_metrics: FAIL: idle CPU above %.1f %%" % IDLE_CPU_LIMIT)
            ok = False
        if status != 0:
            print("boot_metrics: FAIL: Ctrl-C did not stop QEMU with status 0 (got %s)" % status)
            ok = False
        else:
            print("boot_metrics: Ctrl-C on the console stopped QEMU (status 0)")

    # Without semihosting the console probe must fall back to the UART:
    # the kernel boots and logs all the same (no crash on the HLT).
    b = Guest(elf, semihosting=False)
    up = b.wait_for("network up", BOOT_TIMEOUT)
    b.stop()
    if up is None:
        print("boot_metrics: FAIL: without -semihosting no 'network up' on the UART; console:")
        print(b.console(last=None))
        ok = False
    else:
        print("boot_metrics: without -semihosting: 'network up' on the UART after %.1f ms" % (up * 1000))

    def stats(xs):
        xs = sorted(x * 1000 for x in xs)
        return "median %.1f ms (min %.1f, max %.1f)" % (xs[len(xs) // 2], xs[0], xs[-1])

    filesz, memsz, elfsize = loadable_bytes(elf)
    print("boot_metrics: %d boots, QEMU launch -> first UART line: %s" % (runs, stats(firsts)))
    print("boot_metrics: %d boots, QEMU launch -> 'network up':     %s" % (runs, stats(ups)))
    if guest_ups:
        print("boot_metrics: %d boots, kernel entry -> 'network up' (guest clock): %s"
              % (runs, stats(guest_ups)))
    print("boot_metrics: host load average while measuring: %.2f (%d CPUs)"
          % (os.getloadavg()[0], os.cpu_count()))
    print("boot_metrics: image %s: %d bytes loadable (file), %d bytes in memory with .bss "
          "and stack, ELF file %d bytes" % (os.path.basename(elf), filesz, memsz, elfsize))
    if filesz > IMAGE_FILE_LIMIT:
        print("boot_metrics: FAIL: loadable image above %d bytes: a large static is not all "
              "zero bytes and went to .data" % IMAGE_FILE_LIMIT)
        ok = False
    print("boot_metrics: %s" % ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
