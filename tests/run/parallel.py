#!/usr/bin/env python3
"""`make run` as a person runs it, in a terminal (a pty here), then checks:

- it boots and answers on 127.0.0.1:PORT;
- BURST_CONNECTIONS parallel new connections (all released at once, each
  GET /api/hotels with Connection: close) all get a 200 within
  BURST_DEADLINE_S, BURST_ROUNDS times (QEMU's user network fails this:
  its forwarded port listens with a backlog of one and late clients wait
  for SYN retries of 1 s and more; --compare-user shows it);
- Ctrl-C on that terminal stops it and leaves nothing behind: make exits,
  the network namespace is gone, nothing listens on the port, no process of
  the run is left.

As root with /dev/net/tun this is the tap and forwarder path; elsewhere
`make run` falls back to the user network, which this test then reports
as a skip (the burst cannot be met there).

Usage: parallel.py [--compare-user]
"""
import argparse
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bedrock_test  # noqa: E402
from bedrock_test import REPO, Report, free_port, http_status, status_of, wait_until  # noqa: E402

BURST_CONNECTIONS = 64
BURST_DEADLINE_S = 1.0
BURST_ROUNDS = 3
# Booting includes `make`'s set-up and cargo's up-to-date checks.
BOOT_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 15
PATH = "/api/hotels"


class Terminal:
    """`make run` on a pty of its own: its output collected by a thread."""

    def __init__(self, *make_args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(REPO)
            os.execvp("make", ["make", "--no-print-directory", "run", *make_args])
        self.out = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.status = None

    def _read(self):
        while True:
            try:
                b = os.read(self.fd, 4096)
            except OSError:
                return
            if not b:
                return
            with self.lock:
                self.out += b

    def text(self):
        with self.lock:
            return self.out.decode(errors="replace").replace("\r", "")

    def type(self, keys):
        os.write(self.fd, keys)

    def exited(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
        return self.status is not None

    def kill(self):
        if not self.exited():
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)

    def tail(self, n=30):
        return "\n".join("    " + line for line in self.text().splitlines()[-n:])


def one_request(port, results, i, start, go):
    go.wait()
    try:
        resp = bedrock_test.raw(port, f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
                                timeout=5)
        results[i] = (status_of(resp), time.monotonic() - start[0])
    except OSError as e:
        results[i] = (str(e), time.monotonic() - start[0])


def burst(port):
    """BURST_CONNECTIONS new connections released together: (answered
    with 200 within the deadline, slowest seconds, statuses not 200)."""
    results = [None] * BURST_CONNECTIONS
    start = [0.0]
    go = threading.Event()
    threads = [threading.Thread(target=one_request, args=(port, results, i, start, go))
               for i in range(BURST_CONNECTIONS)]
    for t in threads:
        t.start()
    start[0] = time.monotonic()
    go.set()
    for t in threads:
        t.join()
    in_time = sum(1 for st, t in results if st == 200 and t <= BURST_DEADLINE_S)
    bad = [st for st, _ in results if st != 200]
    return in_time, max(t for _, t in results), bad


def descendants(root):
    """The pids of every process below `root`, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port):
    """Whether a socket listens on 127.0.0.1:port (ss; a bind test would
    trip over the burst's connections in TIME_WAIT)."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
    return out.strip() != ""


def boot(term, port, report, what):
    up = wait_until(lambda: http_status(port, PATH, timeout=1) == 200 or term.exited(), BOOT_TIMEOUT_S, 0.2)
    return report.check(f"{what}: answers GET {PATH} on 127.0.0.1:{port}",
                        up and not term.exited(), "\n" + term.tail())


def compare_user(report):
    port = free_port()
    term = Terminal(f"PORT={port}", "NET=user")
    try:
        if boot(term, port, report, "NET=user"):
            in_time, slowest, bad = burst(port)
            report.say(f"for comparison, QEMU's user network: {in_time} of {BURST_CONNECTIONS} answered "
                       f"within {BURST_DEADLINE_S:.0f} s, slowest {slowest * 1000:.0f} ms, failed {len(bad)}")
    finally:
        term.type(b"\x03")
        wait_until(term.exited, EXIT_TIMEOUT_S, 0.1)
        term.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compare-user", action="store_true",
                    help="also time the burst over QEMU's user network (reported, not checked)")
    a = ap.parse_args()
    report = Report("run-test")
    port = free_port()
    # The app's disk: a fresh image, so that the user's own data
    # (target/disk/) is not touched, and a second `make run` on it must
    # find what the first one kept.
    disk_dir = tempfile.mkdtemp(prefix="bedrock-run-disk-")
    disk = os.path.join(disk_dir, "hotel.img")
    term = Terminal(f"PORT={port}", f"DISK={disk}")
    try:
        if not boot(term, port, report, "make run"):
            return report.summary()
        text = term.text()
        m = re.search(r"network namespace (\S+) ", text)
        if m is None:
            report.say("SKIP the burst: make run used QEMU's user network here ("
                       + next((line for line in text.splitlines() if "warning" in line), "?") + ")")
            return report.summary()
        ns = m.group(1)
        report.say(f"make run put the guest in network namespace {ns} behind scripts/forward.py")
        made = bedrock_test.http_request(port, "POST", PATH, "Kept,Across Runs")
        report.check("a hotel POSTed through make run (201)", made[0] == 201, made)
        for r in range(1, BURST_ROUNDS + 1):
            in_time, slowest, bad = burst(port)
            report.check(f"round {r}: {in_time} of {BURST_CONNECTIONS} parallel new connections answered "
                         f"200 within {BURST_DEADLINE_S:.0f} s (slowest {slowest * 1000:.0f} ms)",
                         in_time == BURST_CONNECTIONS, f"not 200: {bad[:8]}")
        # Ctrl-C on the terminal, as a person stops it.
        run_pids = [term.pid] + descendants(term.pid)
        term.type(b"\x03")
        report.check("Ctrl-C ends make run", wait_until(term.exited, EXIT_TIMEOUT_S, 0.1), term.tail())
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        report.check(f"the namespace {ns} is gone", ns not in netns, netns)
        report.check(f"nothing listens on port {port}", wait_until(lambda: not listening(port), 2))
        left = [p for p in run_pids if alive(p)]
        report.check(f"none of the run's {len(run_pids)} processes (make, run.sh, QEMU, forwarder) is left",
                     len(run_pids) >= 4 and not left, f"processes {run_pids}, left {left}")
        term.kill()
        # The same disk again: the hotel is still there.
        term = Terminal(f"PORT={port}", f"DISK={disk}")
        if boot(term, port, report, "make run on the same disk"):
            listed = bedrock_test.http_request(port, "GET", PATH)[2]
            report.check("the hotel survived make run's restart (DISK keeps the journal)",
                         b'"name":"Kept","city":"Across Runs"' in listed, listed[:200])
        term.type(b"\x03")
        wait_until(term.exited, EXIT_TIMEOUT_S, 0.1)
    finally:
        term.kill()
        shutil.rmtree(disk_dir, ignore_errors=True)
    if a.compare_user:
        compare_user(report)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
