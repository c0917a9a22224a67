#!/usr/bin/env python3
"""What bedrock's end-to-end scripts share (Python 3 stdlib only).

Import it with one line from any script in the repository:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import bedrock_test

It holds:
  free_port()                     a free TCP port on 127.0.0.1
  qemu_virt(...), qemu_command()  the QEMU command line of the unikernel,
                                  written here once (the Makefile and the
                                  shell tests print it: see main() below)
  Guest                           one QEMU run: the console captured by a
                                  thread with timestamps, wait for a line,
                                  send keys, read the 'c' counters, stop
  console_counters(text)          the counters block that 'c' prints, parsed
  Server                          one bedrock-serve process on a free port
  raw(), status_of(), exchange(), http_request(), http_status()
                                  HTTP over a socket or http.client
  wait_until(cond, seconds)       polls a condition with a deadline
  parse_logfmt(line), access_lines(text, fmt)
                                  the access log's lines (logfmt or JSON,
                                  crates/conn/src/access.rs), parsed
  Report                          named checks printing ok/FAIL, a summary
                                  and the exit status

Run as a program it prints, one word a line, for make and the shell tests:
  bedrock_test.py qemu-virt [--virtio legacy|modern] [--no-semihosting]
  bedrock_test.py free-port
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# The image `make kernel` builds, relative to the repository root.
KERNEL_ELF = "kernel/target/aarch64-unknown-none/release/bedrock-kernel"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the unikernel in QEMU --------------------------------------------------

def qemu_virt(legacy_virtio=False, semihosting=True):
    """The machine every unikernel run uses, without image or NIC.

    Semihosting's console goes to the serial port's chardev: the kernel
    writes whole log lines through it (one trap per line, not per byte);
    without it the kernel falls back to the UART. virtio-mmio is the modern
    transport unless `legacy_virtio`."""
    cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-m", "128M", "-nographic"]
    if semihosting:
        cmd += ["-semihosting-config", "enable=on,target=native,chardev=serial0"]
    return cmd + ["-global", "virtio-mmio.force-legacy=%s" % ("true" if legacy_virtio else "false")]


def user_netdev(forward_port=None):
    """QEMU user networking; with `forward_port`, 127.0.0.1:forward_port
    reaches the guest's port 80."""
    if forward_port is None:
        return "user,id=n0"
    return "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:80" % forward_port


def qemu_command(elf, netdev="user,id=n0", semihosting=True, icount=False, disk=None,
                 disk_errors=False):
    """The whole command line: machine, image, one virtio NIC on `netdev`
    (which must have id=n0); `icount` runs one guest nanosecond per
    instruction; `disk`, a raw image file, becomes a virtio-blk device
    (`disk_errors`: the host's I/O errors reach the guest rather than
    pausing the VM)."""
    cmd = qemu_virt(semihosting=semihosting) + ["-kernel", elf, "-netdev", netdev,
                                                "-device", "virtio-net-device,netdev=n0"]
    if disk:
        cmd += disk_args(disk, disk_errors)
    return cmd + (["-icount", "shift=0"] if icount else [])


def disk_args(path, report_errors=False):
    """QEMU arguments for a raw image file as the guest's virtio-blk disk;
    `report_errors`: a failed host write or read is an I/O error for the
    guest (QEMU's default stops the VM on ENOSPC)."""
    errors = ",werror=report,rerror=report" if report_errors else ""
    return ["-drive", f"file={path},if=none,format=raw,id=d0{errors}",
            "-device", "virtio-blk-device,drive=d0"]


# The counters block printed by 'c' on the console (kernel/src/main.rs,
# print_counters): the TCP slots and the non-zero TCP counters, the NIC,
# the interrupts, and last the CPU line.
COUNTERS_BLOCK = re.compile(
    r"--- tcp: (\d+) of (\d+) slots in use(?:, \d+ in TIME-WAIT)?\n(.*?)"
    r"--- virtio-net: rx (\d+) tx (\d+) rx_bad (\d+) tx_full (\d+) doorbells (\d+)\n"
    r"--- interrupts: timer (\d+) virtio (\d+) uart (\d+) other (\d+)\n"
    r"--- cpu: up (\d+) us, busy (\d+) us, requests (\d+),[^\n]*\n", re.S)
COUNTER_FIELDS = ("slots_in_use", "slots", None, "rx", "tx", "rx_bad", "tx_full", "doorbells",
                  "timer_irqs", "virtio_irqs", "uart_irqs", "other_irqs", "up_us", "busy_us",
                  "requests")


def console_counters(text):
    """The first complete counters block in `text` as a dict of numbers
    (keys COUNTER_FIELDS), with the TCP counters by name in "tcp"; None
    while no block is complete."""
    m = COUNTERS_BLOCK.search(text.replace("\r", ""))
    if m is None:
        return None
    c = {k: int(v) for k, v in zip(COUNTER_FIELDS, m.groups()) if k}
    c["tcp"] = {name: int(v) for name, v in re.findall(r"^    (\w+) (\d+)$", m.group(3), re.M)}
    return c


class Guest:
    """One QEMU run of the unikernel. A thread collects the console (QEMU's
    stdout and stderr) as lines stamped with the seconds since launch;
    stdin is a pipe, for console keys. `prefix` goes in front of QEMU (for
    example ip netns exec NS)."""

    def __init__(self, elf, netdev="user,id=n0", prefix=(), semihosting=True, icount=False,
                 disk=None, disk_errors=False):
        cmd = list(prefix) + qemu_command(elf, netdev, semihosting=semihosting, icount=icount,
                                          disk=disk, disk_errors=disk_errors)
        self.launched = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._lines = []  # (seconds since launch, text without the line end)
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        pending = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            now = time.monotonic() - self.launched
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with self._lock:
                self._lines += [(now, line.decode(errors="replace").rstrip("\r")) for line in complete]
        if pending:
            with self._lock:
                self._lines.append((now, pending.decode(errors="replace").rstrip("\r")))

    def lines(self, start=0):
        """The console lines so far, from line number `start`, as (time, text)."""
        with self._lock:
            return self._lines[start:]

    def find(self, text, start=0):
        """Seconds from launch to the first line (from `start`) holding
        `text`, or None."""
        return next((t for t, line in self.lines(start) if text in line), None)

    def wait_for(self, text, timeout, start=0):
        """Like find, waiting up to `timeout` seconds, or until QEMU has
        exited and its whole console is read."""
        end = time.monotonic() + timeout
        while True:
            found = self.find(text, start)
            if found is not None or time.monotonic() >= end or not self._reader.is_alive():
                return found if found is not None else self.find(text, start)
            time.sleep(0.01)

    def console(self, last=40):
        """The last `last` console lines (all if None), indented, for a
        failure report."""
        lines = self.lines()
        return "\n".join("    " + line for _, line in (lines if last is None else lines[-last:]))

    def send(self, keys):
        """Types `keys` (bytes) on the console."""
        self.proc.stdin.write(keys)
        self.proc.stdin.flush()

    def counters(self, timeout=5.0):
        """Sends 'c' and returns the counters block it prints, parsed by
        console_counters; RuntimeError if none comes within `timeout`."""
        start = len(self.lines())
        self.send(b"c")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            c = console_counters("".join(line + "\n" for _, line in self.lines(start)))
            if c is not None:
                return c
            time.sleep(0.02)
        raise RuntimeError("no counters on the console within %.0f s of 'c':\n%s"
                           % (timeout, self.console()))

    def cpu_seconds(self):
        """QEMU's host CPU time so far (user + system), from /proc."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Kills QEMU (if it still runs) and reaps it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(1)


# ---- bedrock-serve ----------------------------------------------------------

class Server:
    """One bedrock-serve process on a free port of 127.0.0.1 serving
    `root`, optionally under qemu-user (`qemu`), its output in a log file."""

    def __init__(self, binary, root, args=(), qemu=None, data=None, workers=2, log=None):
        self.binary, self.root, self.args, self.qemu = binary, root, list(args), qemu
        self.data, self.workers = data, workers
        self.port = free_port()
        self.log = log or tempfile.NamedTemporaryFile(prefix="bedrock-serve-log-", delete=False).name
        self.proc = None

    def cmd(self):
        c = [self.binary, "--root", self.root, "--listen", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers)] + self.args
        if self.data:
            c += ["--data", self.data]
        return ([self.qemu] if self.qemu else []) + c

    def start(self):
        """Starts it and waits (10 s at most) until it accepts connections."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.cmd(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited: " + self.output())
                time.sleep(0.05)
        raise RuntimeError("server did not start: " + self.output())

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def kill9(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM, then SIGKILL after 15 s; its exit status (None if killed)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
                return None
        return self.proc.returncode if self.proc else None

    def workers_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


# ---- HTTP -------------------------------------------------------------------

def raw(port, data, timeout=5, read_all=True, host="127.0.0.1"):
    """Sends raw bytes on a new connection; returns everything read until
    the server closes (or one read if not `read_all`, or what came before
    `timeout`)."""
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(data)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            if not read_all:
                break
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


def status_of(resp):
    """The status code of a raw response, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp)
    return int(m.group(1)) if m else None


def exchange(conn, method, path, body=None, headers=None):
    """One request on an http.client connection: (status, headers with
    lower-case names, body)."""
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def http_request(port, method, path, body=None, headers=None, timeout=10, host="127.0.0.1"):
    """One request on a new connection: (status, headers, body)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        return exchange(c, method, path, body, headers)
    finally:
        c.close()


def http_status(port, path, timeout, host="127.0.0.1"):
    """The status of GET `path` on a new connection, or None if there is
    no answer."""
    try:
        return http_request(port, "GET", path, timeout=timeout, host=host)[0]
    except (OSError, http.client.HTTPException):
        return None


def wait_until(cond, seconds, pause=0.05):
    """Polls `cond` until it is true or `seconds` have passed; its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(pause)
    return cond()


# ---- the access log ---------------------------------------------------------

ACCESS_KEYS = ["time", "peer", "method", "path", "status", "bytes", "duration_us"]
# A quoted logfmt value's escapes (crates/conn/src/access.rs).
_LOGFMT_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def parse_logfmt(line):
    """A logfmt line as a list of (key, value) pairs, in order; values
    with their quotes and escapes undone (\\xHH gives the character of
    that byte, U+0000..U+00FF). ValueError when it is not logfmt."""
    pairs, i, n = [], 0, len(line)
    while i < n:
        eq = line.find("=", i)
        key = line[i:eq] if eq > i else ""
        if not re.fullmatch(r"[A-Za-z0-9_]+", key):
            raise ValueError("bad key at %d: %r" % (i, line))
        i = eq + 1
        if i < n and line[i] == '"':
            i += 1
            value = []
            while True:
                if i >= n:
                    raise ValueError("unterminated quote: %r" % line)
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    e = line[i + 1:i + 2]
                    if e == "x":
                        value.append(chr(int(line[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    if e not in _LOGFMT_ESCAPES:
                        raise ValueError("bad escape at %d: %r" % (i, line))
                    value.append(_LOGFMT_ESCAPES[e])
                    i += 2
                    continue
                value.append(c)
                i += 1
            value = "".join(value)
        else:
            end = line.find(" ", i)
            end = n if end < 0 else end
            value = line[i:end]
            if '"' in value or "=" in value:
                raise ValueError("unquoted value with quote or '=': %r" % line)
            i = end
        pairs.append((key, value))
        if i < n:
            if line[i] != " ":
                raise ValueError("no space after a value at %d: %r" % (i, line))
            i += 1
    return pairs


def access_lines(text, fmt="logfmt"):
    """The access-log lines in `text` (other lines skipped: a unikernel
    console, a server's messages) as dicts, numbers as ints; `fmt` is
    "logfmt" or "json"."""
    out = []
    for line in text.splitlines():
        line = line.rstrip("\r")
        if fmt == "json":
            if not line.startswith("{"):
                continue
            out.append(json.loads(line))
            continue
        if not (line.startswith("time=") or line.startswith("uptime_us=")):
            continue
        d = dict(parse_logfmt(line))
        for k in ("status", "bytes", "duration_us", "uptime_us"):
            if k in d:
                d[k] = int(d[k])
        out.append(d)
    return out


# ---- checks -----------------------------------------------------------------

class Report:
    """Named checks of one script. Each prints "PREFIX: ok   name" or
    "PREFIX: FAIL name  detail" (passes only with `show_passes`); summary()
    prints the counts and the failed names, and returns the exit status."""

    def __init__(self, prefix, show_passes=True):
        self.prefix, self.show_passes = prefix, show_passes
        self.passed, self.failed = [], []
        self.started = time.monotonic()

    def say(self, msg):
        print("%s: %s" % (self.prefix, msg), flush=True)

    def check(self, name, cond, detail=""):
        """Records `name` as passed if `cond` is true; returns `cond`."""
        (self.passed if cond else self.failed).append(name)
        if not cond:
            self.say("FAIL %s%s" % (name, "  %s" % (detail,) if detail != "" else ""))
        elif self.show_passes:
            self.say("ok   %s" % name)
        return cond

    def summary(self):
        """Prints the counts, time taken and every failed name; 1 if any
        check failed, else 0."""
        self.say("%d passed, %d failed (%.1f s)"
                 % (len(self.passed), len(self.failed), time.monotonic() - self.started))
        for name in self.failed:
            self.say("    failed: %s" % name)
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description="prints shared test settings, one word a line")
    sub = ap.add_subparsers(dest="what", required=True)
    q = sub.add_parser("qemu-virt", help="the unikernel's QEMU machine (no image, no NIC)")
    q.add_argument("--virtio", choices=("modern", "legacy"), default="modern")
    q.add_argument("--no-semihosting", action="store_true")
    sub.add_parser("free-port", help="a free TCP port on 127.0.0.1")
    d = sub.add_parser("disk-args", help="QEMU arguments for a raw image as the guest's disk")
    d.add_argument("path")
    a = ap.parse_args()
    if a.what == "qemu-virt":
        words = qemu_virt(legacy_virtio=a.virtio == "legacy", semihosting=not a.no_semihosting)
    elif a.what == "disk-args":
        words = disk_args(a.path)
    else:
        words = [str(free_port())]
    print("\n".join(words))


if __name__ == "__main__":
    main()
