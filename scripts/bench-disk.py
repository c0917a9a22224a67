#!/usr/bin/env python3
"""The unikernel's disk journal under load (issue 14): wrk, 16 keep-alive
connections, every request a PUT (one change record each), side by side
in the same run:

- no disk (changes kept in memory only),
- a disk with group commit (one append and flush per loop turn: the
  default image),
- a disk with one append and flush per request (BEDROCK_COMMIT=each),

as requests/s and as ratios to the run without a disk, plus what each
request cost the guest in busy time. Over QEMU user networking (the
connections are opened once, so its backlog of one does not matter).

Usage: scripts/bench-disk.py --elf GROUP_ELF --each-elf EACH_ELF [--seconds N]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from bedrock_test import Guest, free_port, http_request, http_status, user_netdev, wait_until  # noqa: E402

DISK_BYTES = 256 * 1024 * 1024
LUA = """
wrk.method = "PUT"
wrk.body = "Hilton Garden,Toronto"
"""


def run(elf, disk, seconds):
    port = free_port()
    guest = Guest(elf, user_netdev(port), disk=disk)
    try:
        # Benchmark images log at warn level: nothing says "serving".
        if not wait_until(lambda: http_status(port, "/", 0.5) == 200, 30):
            sys.exit("bench-disk: no boot:\n" + guest.console())
        assert http_request(port, "POST", "/api/hotels", "Hilton,Toronto")[0] == 201
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA)
            lua = f.name
        url = f"http://127.0.0.1:{port}/api/hotels/1"
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", "-s", lua, url], capture_output=True)
        before = guest.counters()
        out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", lua, url],
                             capture_output=True, text=True).stdout
        after = guest.counters()
        os.unlink(lua)
        rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
        served = max(after["requests"] - before["requests"], 1)
        busy = (after["busy_us"] - before["busy_us"]) / served
        errors = "Non-2xx" in out or "Socket errors" in out
        return rps, busy, errors
    finally:
        guest.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elf", required=True)
    ap.add_argument("--each-elf", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    rows = []
    for name, elf, with_disk in (("no disk", a.elf, False), ("disk, group commit", a.elf, True),
                                 ("disk, a flush per request", a.each_elf, True)):
        disk = None
        if with_disk:
            disk = tempfile.NamedTemporaryFile(prefix="bench-disk-", suffix=".img", delete=False).name
            os.truncate(disk, DISK_BYTES)
        try:
            rows.append((name, *run(elf, disk, a.seconds)))
        finally:
            if disk:
                os.unlink(disk)
    base = rows[0][1]
    print(f"\nPUT /api/hotels/1, wrk -t2 -c16 keep-alive, {a.seconds} s each, QEMU user networking")
    print("| journal | req/s | vs no disk | guest busy us/request | errors |")
    print("|---|---:|---:|---:|---|")
    for name, rps, busy, errors in rows:
        print(f"| {name} | {rps:.0f} | {rps / base:.2f}x | {busy:.1f} | {'yes' if errors else 'none'} |")


if __name__ == "__main__":
    main()
