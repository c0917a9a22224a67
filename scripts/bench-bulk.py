#!/usr/bin/env python3
"""Bulk TCP throughput: one connection moving BYTES each way through the
unikernel's echo service over a tap device (Linux's TCP at the other end,
in a network namespace), with RFC 7323 window scaling on and off (two
images: BEDROCK_WINDOW_SCALING), and Linux to Linux over a veth pair on
the same machine for scale.

For each run: MiB/s each way (this script's `client` mode, run in the
namespace: a seeded pattern is sent while the echo is read back, and the
echo's SHA-256 checked), the window
in use (Linux's `ss -ti` of the connection, sampled mid-transfer: the
window scales negotiated, the window the guest offers, RTT), and, for the
unikernel, what the guest spent per byte from its console counters
('c'): CPU time, frames, and the host CPU QEMU took per MiB (all its
threads: the virtual CPU, the tap and virtio work). The scaling-on image
runs once more with every virtio-net offload switched off in QEMU
(checksums and segmentation both ways: the driver's fallbacks). One more
boot per run under `-icount shift=0` (one guest nanosecond per
instruction) turns the guest's busy time into instructions per byte
(each byte received and sent back once).

--profile ELF counts the guest's instructions by address during one
transfer (QEMU's -d in_asm,exec,nochain: exact, slow) and prints them by
function and source line; --profile-host ELF samples the PC through
QEMU's gdbstub instead (host time: where doorbells and the device's work
land). `make bench-bulk-profile` builds an image with debug information
and runs the first.

Usage: scripts/bench-bulk.py --on ELF --off ELF [--bytes N] [--icount-bytes N]
       scripts/bench-bulk.py --on - --off - --profile ELF [--bytes N]
The images need BEDROCK_ECHO_PORT=7, BEDROCK_IP=10.0.4.15/24,
BEDROCK_GATEWAY=10.0.4.1 and BEDROCK_LOG=warn (the Makefile's bench-bulk
builds them). Needs root (namespaces, tap, veth); skips without.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shlex
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
from bedrock_test import Guest  # noqa: E402

HOST_IP = "10.0.4.1"
GUEST_IP = "10.0.4.15"
ECHO_PORT = 7
MIB = 1024 * 1024
# veth: the client's end and the echo server's.
VETH_CLIENT_IP = "10.0.5.1"
VETH_SERVER_IP = "10.0.5.2"
# A Linux echo server for the veth run: recv and sendall on threads.
ECHO_SERVER = r"""
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(1)
print("listening", flush=True)
c, _ = ls.accept()
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    c.sendall(b)
c.shutdown(socket.SHUT_WR)
c.close()
"""


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


class Netns:
    """A network namespace, deleted on exit."""

    def __init__(self, name):
        self.name = name
        sh("ip", "netns", "add", name)
        self.exec = ["ip", "netns", "exec", name]
        sh(*self.exec, "ip", "link", "set", "lo", "up")

    def run(self, *cmd, **kw):
        return subprocess.run(self.exec + list(cmd), **kw)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def sample_window(ns, dst, done, out):
    """`ss -tin` of the connection to `dst` every 0.1 s until `done` is
    set; `out` keeps the latest sample of an established connection."""
    while not done.wait(0.1):
        r = ns.run("ss", "-tinH", "state", "established", "dst", dst,
                   capture_output=True, text=True)
        text = " ".join(r.stdout.split())
        fields = {}
        for key in ("wscale", "rtt", "snd_wnd", "rcv_space", "cwnd", "mss"):
            m = re.search(rf"\b{key}:(\S+)", text)
            if m:
                fields[key] = m.group(1)
        if "snd_wnd" in fields:
            out.clear()
            out.update(fields)


def transfer(ns, dst, port, nbytes, timeout):
    """The echo client in `ns` against dst:port; returns (MiB/s each way,
    the latest window sample)."""
    window, done = {}, threading.Event()
    sampler = threading.Thread(target=sample_window, args=(ns, dst, done, window), daemon=True)
    sampler.start()
    r = ns.run(sys.executable, os.path.abspath(__file__), "client", dst, str(port), str(nbytes),
               str(timeout), capture_output=True, text=True, timeout=timeout + 30)
    done.set()
    sampler.join(1)
    m = re.search(r"([\d.]+) MiB/s each way", r.stdout)
    if r.returncode != 0 or not m:
        sys.exit("bench-bulk: the echo transfer failed:\n" + r.stdout + r.stderr)
    return float(m.group(1)), window


def window_text(w):
    if not w:
        return "(no ss sample)"
    return ("wscale %s (the peer's, Linux's), the peer's window %s B, Linux's receive space %s B, "
            "cwnd %s, rtt %s ms" % (w.get("wscale", "none"), w.get("snd_wnd", "?"),
                                    w.get("rcv_space", "?"), w.get("cwnd", "?"), w.get("rtt", "?")))


def with_guest(elf, icount, body, qemu_args=()):
    """Boots `elf` on a tap in a namespace of its own and runs body(ns, guest);
    `qemu_args` go at the end of QEMU's command line."""
    ns = Netns(f"bedrock-bulk-{os.getpid()}")
    prefix = list(ns.exec)
    if qemu_args:
        # `sh -c 'exec "$0" "$@" ARGS' qemu ...`: QEMU's own arguments first.
        prefix += ["sh", "-c", 'exec "$0" "$@" ' + " ".join(map(shlex.quote, qemu_args))]
    guest = None
    try:
        ns.run("ip", "tuntap", "add", "dev", "tap0", "mode", "tap", check=True, capture_output=True)
        ns.run("ip", "addr", "add", f"{HOST_IP}/24", "dev", "tap0", check=True, capture_output=True)
        ns.run("ip", "link", "set", "tap0", "up", check=True, capture_output=True)
        guest = Guest(elf, "tap,id=n0,ifname=tap0,script=no,downscript=no", prefix=prefix,
                      icount=icount)
        # Benchmark images log at warn level: wait for the echo port to answer.
        deadline = time.monotonic() + 30
        while ns.run("python3", "-c", f"import socket; socket.create_connection(('{GUEST_IP}', "
                     f"{ECHO_PORT}), timeout=0.5).close()", capture_output=True).returncode != 0:
            if time.monotonic() > deadline or not guest.running():
                sys.exit("bench-bulk: the guest's echo port did not answer:\n" + guest.console(None))
            time.sleep(0.2)
        return body(ns, guest)
    finally:
        if guest:
            guest.stop()
        ns.delete()


# QEMU properties that switch every virtio-net offload the driver uses off
# (checksums both ways, segmentation both ways): the driver's fallbacks.
NO_OFFLOADS = ["-global", "virtio-net-device.csum=off", "-global", "virtio-net-device.guest_csum=off",
               "-global", "virtio-net-device.host_tso4=off", "-global", "virtio-net-device.guest_tso4=off"]


def qemu_cpu_seconds(pid):
    """User and system CPU seconds QEMU (all its threads) has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_guest(name, elf, nbytes, timeout, qemu_args=()):
    def body(ns, guest):
        before = guest.counters()
        cpu_before = qemu_cpu_seconds(guest.proc.pid)
        mibs, window = transfer(ns, GUEST_IP, ECHO_PORT, nbytes, timeout)
        qemu_cpu = qemu_cpu_seconds(guest.proc.pid) - cpu_before
        after = guest.counters()
        d = {k: after[k] - before[k] for k in after if k != "tcp"}
        tcp = {k: after["tcp"].get(k, 0) - before["tcp"].get(k, 0)
               for k in ("retransmits", "timeouts", "zero_window_probes")}
        return mibs, window, d, tcp, qemu_cpu
    mibs, window, d, tcp, qemu_cpu = with_guest(elf, False, body, qemu_args)
    cpu = 100.0 * d["busy_us"] / max(d["up_us"], 1)
    frames = (d["rx"] + d["tx"]) / max(nbytes, 1) * 1024
    print(f"| unikernel, {name} | {mibs:.2f} | {cpu:.0f}% | {1000 * qemu_cpu / (nbytes / MIB):.1f} | "
          f"{frames:.2f} | {tcp['retransmits']} | {window_text(window)} |")
    return mibs


def instructions_per_byte(name, elf, nbytes, timeout, qemu_args=()):
    def body(ns, guest):
        before = guest.counters()
        transfer(ns, GUEST_IP, ECHO_PORT, nbytes, timeout)
        after = guest.counters()
        return (after["busy_us"] - before["busy_us"]) * 1000 / nbytes
    per_byte = with_guest(elf, True, body, qemu_args)
    print(f"  {name}: {per_byte:.1f} guest instructions per byte echoed "
          f"({nbytes // MIB} MiB each way under -icount shift=0)")


class GdbStub:
    """Just enough of the GDB remote protocol to sample the guest's PC
    through QEMU's gdbstub: interrupt, read the registers (the PC of an
    AArch64 core is the 33rd), continue. A stopped vCPU is at a translation block's
    boundary with its PC written back, which a PC read through the
    monitor, with the vCPU running, is not."""

    def __init__(self, path, deadline=10.0):
        self.sock = socket.socket(socket.AF_UNIX)
        end = time.monotonic() + deadline
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(10)
        self.pending = b""
        # QEMU stops the VM when a debugger connects: let it run again.
        self.command("?")
        self.send("c")

    def send(self, packet):
        body = packet.encode()
        self.sock.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))

    def reply(self):
        while True:
            start = self.pending.find(b"$")
            end = self.pending.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self.pending) >= end + 3:
                body = self.pending[start + 1:end].decode()
                self.pending = self.pending[end + 3:]
                self.sock.sendall(b"+")
                return body
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("gdbstub closed")
            self.pending += chunk

    def command(self, packet):
        self.send(packet)
        return self.reply()

    def sample_pc(self):
        self.sock.sendall(b"\x03")
        self.reply()  # the stop reply
        # 'g': every core register (x0-x30, sp, pc, 8 bytes each; 'p'
        # needs the XML target description). A stop reply may come twice:
        # skip all but the registers.
        self.send("g")
        while True:
            r = self.reply()
            if re.fullmatch(r"[0-9a-fx]{528,}", r):
                break
        pc = int.from_bytes(bytes.fromhex(r[512:528]), "little")
        self.send("c")
        return pc


def symbol_name(name):
    """A Rust symbol as a reader wants it: legacy mangling escapes undone,
    hash and crate paths dropped (`conn::recv::<impl Conn>::take_ack`)."""
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    for code, text in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$C$", ","),
                       ("$RF$", "&"), ("$BP$", "*"), ("..", "::")):
        name = name.replace(code, text)
    name = re.sub(r"\b(bedrock_[a-z_]+|core)::", "", name)
    return name.lstrip("_")


def symbolize(elf, pcs):
    """{pc: (innermost function, outermost function, innermost file:line)} from the image's
    debug information (llvm-addr2line -i): with LTO most of the stack is
    inlined into a few symbols, so the innermost frame says more."""
    pcs = sorted(set(pcs))
    r = subprocess.run(["llvm-addr2line", "--output-style=JSON", "-f", "-i", "-C", "-e", elf]
                       + ["0x%x" % pc for pc in pcs], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        for entry in json.loads(line):
            frames = [symbol_name(f["FunctionName"]) for f in entry["Symbol"]] or ["?"]
            where = "?"
            if entry["Symbol"]:
                f = entry["Symbol"][0]
                where = "%s:%s" % (re.sub(r".*/(crates|kernel|library)/", r"\1/", f["FileName"]),
                                   f["Line"])
            out[int(entry["Address"], 16)] = (frames[0], frames[-1], where)
    return out


def print_profile(elf, weights, per):
    """Tables of `weights` ({pc: count}) by innermost function, symbol
    and source line, as count / `per` and as a share."""
    names = symbolize(elf, list(weights))
    total = max(sum(weights.values()), 1)
    for title, which in (("innermost function", 0), ("symbol (outermost frame)", 1),
                         ("source line (innermost)", 2)):
        counts = {}
        for pc, n in weights.items():
            key = names[pc][which]
            counts[key] = counts.get(key, 0) + n
        print(f"| {title} | per byte | share |")
        print("|---|---:|---:|")
        for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:25]:
            print(f"| {name[:110]} | {n / per:.3f} | {100.0 * n / total:.1f}% |")


def profile(elf, nbytes, timeout):
    """Counts every guest instruction run during one transfer of `nbytes`
    each way, by address: QEMU (under -icount) logs each translation
    block it translates (-d in_asm: its instructions) and each one it runs
    (-d exec, with chaining off so that none is skipped), into a FIFO this
    reads. Exact, where sampling is not; slow (keep `nbytes` to a few
    MiB). `elf` should carry debug information (the Makefile's
    bench-bulk-profile builds one) for the tables."""
    fifo = f"/tmp/bedrock-bulk-log-{os.getpid()}.fifo"
    os.mkfifo(fifo)
    runs, blocks, state = {}, {}, {"on": False}

    def reader():
        with open(fifo, errors="replace") as log:
            block = None
            for line in log:
                if line.startswith("Trace "):
                    if state["on"]:
                        pc = int(line.split("[", 1)[1].split("/")[1], 16)
                        runs[pc] = runs.get(pc, 0) + 1
                elif line.startswith("IN:"):
                    block = []
                elif line.startswith("0x") and block is not None:
                    block.append(int(line.split(":", 1)[0], 16))
                elif not line.strip() and block:
                    blocks[block[0]] = block
                    block = None

    def body(ns, guest):
        state["on"] = True
        mibs = transfer(ns, GUEST_IP, ECHO_PORT, nbytes, timeout)[0]
        state["on"] = False
        return mibs

    log = threading.Thread(target=reader, daemon=True)
    log.start()
    try:
        with_guest(elf, True, body, ["-d", "in_asm,exec,nochain", "-D", fifo])
        log.join(10)
    finally:
        os.unlink(fifo)
    weights = {}
    for pc, n in runs.items():
        for addr in blocks.get(pc, [pc]):
            weights[addr] = weights.get(addr, 0) + n
    total = sum(weights.values())
    print(f"profile: {total} guest instructions for {nbytes / MIB:.1f} MiB each way: "
          f"{total / nbytes:.2f} per byte echoed")
    print_profile(elf, weights, nbytes)


def profile_host(elf, nbytes, timeout, rate):
    """Samples the guest's PC `rate` times a second through the gdbstub
    while one transfer of `nbytes` each way runs, and prints where the
    samples fell. Samples are host time, not instructions: an MMIO access
    (a doorbell) or the device's work under QEMU's lock lands on the
    block after it, which is what it says that instructions do not."""
    path = f"/tmp/bedrock-bulk-gdb-{os.getpid()}.sock"

    def body(ns, guest):
        stub = GdbStub(path)
        pcs, result = {}, {}
        worker = threading.Thread(target=lambda: result.update(
            mibs=transfer(ns, GUEST_IP, ECHO_PORT, nbytes, timeout)[0]), daemon=True)
        worker.start()
        while worker.is_alive():
            pc = stub.sample_pc()
            pcs[pc] = pcs.get(pc, 0) + 1
            time.sleep(1.0 / rate)
        worker.join()
        return pcs, result.get("mibs", 0.0)

    try:
        pcs, mibs = with_guest(elf, False, body, ["-gdb", f"unix:{path},server=on,wait=off"])
    finally:
        if os.path.exists(path):
            os.unlink(path)
    samples = sum(pcs.values())
    print(f"profile: {samples} PC samples during {nbytes // MIB} MiB each way "
          f"({mibs:.2f} MiB/s with the sampling); 'per byte' is samples per MiB")
    print_profile(elf, pcs, nbytes / MIB)


def bench_veth(nbytes, timeout):
    a = Netns(f"bedrock-bulk-a-{os.getpid()}")
    b = Netns(f"bedrock-bulk-b-{os.getpid()}")
    server = None
    try:
        sh("ip", "link", "add", "vbulk0", "netns", a.name, "type", "veth", "peer", "name", "vbulk1",
           "netns", b.name)
        sh(*a.exec, "ip", "addr", "add", f"{VETH_CLIENT_IP}/24", "dev", "vbulk0")
        sh(*b.exec, "ip", "addr", "add", f"{VETH_SERVER_IP}/24", "dev", "vbulk1")
        sh(*a.exec, "ip", "link", "set", "vbulk0", "up")
        sh(*b.exec, "ip", "link", "set", "vbulk1", "up")
        server = subprocess.Popen(b.exec + [sys.executable, "-c", ECHO_SERVER, VETH_SERVER_IP,
                                            str(ECHO_PORT)], stdout=subprocess.PIPE, text=True)
        server.stdout.readline()
        mibs, window = transfer(a, VETH_SERVER_IP, ECHO_PORT, nbytes, timeout)
        print(f"| Linux to Linux over veth | {mibs:.2f} | - | - | - | - | {window_text(window)} |")
        return mibs
    finally:
        if server:
            server.kill()
            server.wait()
        a.delete()
        b.delete()


def client(host, port, nbytes, timeout):
    """Sends `nbytes` of a repeated seeded 1 MiB block to host:port while
    reading the echo back on another thread; exits 1 unless the echo is
    the same bytes. Prints MiB/s each way."""
    block = random.Random(1).randbytes(MIB)
    want = hashlib.sha256()
    for off in range(0, nbytes, MIB):
        want.update(block[:min(MIB, nbytes - off)])
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()

    def sender():
        view, left = memoryview(block), nbytes
        while left > 0:
            n = min(left, MIB)
            s.sendall(view[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got, have = 0, hashlib.sha256()
    while True:
        piece = s.recv(1 << 20)
        if not piece:
            break
        got += len(piece)
        have.update(piece)
    elapsed = time.monotonic() - start
    t.join(timeout)
    s.close()
    if got != nbytes or have.digest() != want.digest():
        print(f"bench-bulk: client: FAIL: sent {nbytes} bytes, the echo is {got} bytes"
              f"{'' if got != nbytes else ' that differ'}")
        sys.exit(1)
    print(f"bench-bulk: client: {nbytes / MIB:.1f} MiB each way in {elapsed:.2f} s: "
          f"{nbytes / MIB / elapsed:.2f} MiB/s each way")


def main():
    if sys.argv[1:2] == ["client"]:
        host, port, nbytes, timeout = sys.argv[2:6]
        return client(host, int(port), int(nbytes), float(timeout))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--on", required=True, help="image with window scaling on")
    ap.add_argument("--off", required=True, help="image built with BEDROCK_WINDOW_SCALING=0")
    ap.add_argument("--bytes", type=int, default=256 * MIB)
    ap.add_argument("--icount-bytes", type=int, default=32 * MIB)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--profile", metavar="ELF",
                    help="instead of the benchmark: count the instructions of this image (with "
                         "debug information) by address during one transfer of --bytes")
    ap.add_argument("--profile-host", metavar="ELF",
                    help="instead of the benchmark: sample the PC of this image through QEMU's "
                         "gdbstub (host time) during one transfer of --bytes")
    ap.add_argument("--profile-rate", type=float, default=200, help="PC samples per second")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-bulk: SKIP: needs root (network namespaces, tap, veth)")
        return
    if a.profile:
        return profile(a.profile, a.bytes, a.timeout)
    if a.profile_host:
        return profile_host(a.profile_host, a.bytes, a.timeout, a.profile_rate)
    print(f"bulk echo, {a.bytes // MIB} MiB each way over one connection, "
          f"{os.cpu_count()} host CPUs (shared with QEMU's threads)")
    print("| path | MiB/s each way | guest CPU | QEMU CPU ms/MiB | frames/KiB | retransmits "
          "| window in use |")
    print("|---|---:|---:|---:|---:|---:|---|")
    on = bench_guest("window scaling on", a.on, a.bytes, a.timeout)
    off = bench_guest("window scaling off", a.off, a.bytes, a.timeout)
    bench_guest("window scaling on, virtio-net offloads off", a.on, a.bytes, a.timeout,
                NO_OFFLOADS)
    bench_veth(a.bytes, a.timeout)
    print(f"window scaling on / off: {on / max(off, 1e-9):.2f}x (the issue's goal: 4x)")
    print("guest instructions per byte (-icount shift=0: busy ns = instructions):")
    instructions_per_byte("window scaling on", a.on, a.icount_bytes, a.timeout)
    instructions_per_byte("window scaling off", a.off, a.icount_bytes, a.timeout)
    instructions_per_byte("window scaling on, offloads off", a.on, a.icount_bytes, a.timeout,
                          NO_OFFLOADS)


if __name__ == "__main__":
    main()
