#!/usr/bin/env python3
"""A faulty Ethernet link between QEMU and a tap device, for fault tests
against Linux's TCP (this machine's kernel has no netem qdisc).

QEMU sends and receives raw frames as UDP datagrams on 127.0.0.1
(`-netdev dgram`); this relay forwards them to and from the tap device and,
in each direction on its own, drops, duplicates and reorders them with
probabilities given in percent, from a seeded generator. Each frame takes
exactly three draws, so a run's decisions depend only on the seed and the
order of the frames (timing still changes which frames there are: a
retransmission is a new frame).

Reordering holds one frame back and lets it go right after the next frame
forwarded in the same direction, or after --hold-ms if none comes. Runs
until SIGTERM or SIGINT, then prints what it did per direction.

Run it inside the tap's network namespace, as root:
  faulty_link.py --tap tap0 --port 40001 --qemu-port 40000 --seed 1
with QEMU given
  -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=40000,
          remote.type=inet,remote.host=127.0.0.1,remote.port=40001
"""

import argparse
import fcntl
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
# Larger than any frame QEMU or the tap hands over (no offloads are on).
MAX_FRAME = 65536
# Room for bursts towards the relay while it is busy the other way.
SOCKET_BUFFER = 4 * 1024 * 1024
# Frames read from one side per wake-up before looking at the other.
BURST = 64


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Direction:
    """One direction of the link: its own generator, held frame and counts."""

    def __init__(self, name, seed, args, send):
        self.name = name
        self.rng = random.Random(seed)
        self.loss = args.loss / 100
        self.dup = args.dup / 100
        self.reorder = args.reorder / 100
        self.hold = args.hold_ms / 1000
        self.send = send
        self.held = None  # (frame, release deadline)
        self.counts = dict.fromkeys(
            ["frames", "dropped", "duplicated", "reordered", "released_by_next",
             "released_by_timer", "sent"], 0)

    def _out(self, frame, twice):
        self.send(frame)
        self.counts["sent"] += 1
        if twice:
            self.send(frame)
            self.counts["sent"] += 1
            self.counts["duplicated"] += 1

    def frame(self, frame, now):
        self.counts["frames"] += 1
        drop, dup, hold = (self.rng.random() for _ in range(3))
        if drop < self.loss:
            self.counts["dropped"] += 1
            return
        if hold < self.reorder and self.held is None:
            self.held = (frame, dup < self.dup, now + self.hold)
            self.counts["reordered"] += 1
            return
        self._out(frame, dup < self.dup)
        if self.held is not None:
            held, twice, _ = self.held
            self.held = None
            self._out(held, twice)
            self.counts["released_by_next"] += 1

    def deadline(self):
        return None if self.held is None else self.held[2]

    def timer(self, now):
        if self.held is not None and self.held[2] <= now:
            held, twice, _ = self.held
            self.held = None
            self._out(held, twice)
            self.counts["released_by_timer"] += 1

    def report(self):
        c = self.counts
        return ("%s: %d frames in, %d dropped, %d duplicated, %d reordered "
                "(%d released after the next frame, %d by the timer), %d sent"
                % (self.name, c["frames"], c["dropped"], c["duplicated"], c["reordered"],
                   c["released_by_next"], c["released_by_timer"], c["sent"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tap", required=True, help="tap device to attach to (exists already)")
    ap.add_argument("--port", type=int, required=True, help="UDP port of the relay on 127.0.0.1")
    ap.add_argument("--qemu-port", type=int, required=True, help="QEMU's UDP port on 127.0.0.1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loss", type=float, default=5.0, help="percent dropped")
    ap.add_argument("--dup", type=float, default=5.0, help="percent duplicated")
    ap.add_argument("--reorder", type=float, default=5.0, help="percent held back")
    ap.add_argument("--hold-ms", type=float, default=3.0,
                    help="longest a held frame waits for a successor")
    args = ap.parse_args()

    tap = open_tap(args.tap)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
    sock.bind(("127.0.0.1", args.port))
    sock.setblocking(False)
    qemu = ("127.0.0.1", args.qemu_port)

    def to_tap(frame):
        try:
            os.write(tap, frame)
        except BlockingIOError:
            pass  # the tap's queue is full: lost like on a real wire

    def to_qemu(frame):
        try:
            sock.sendto(frame, qemu)
        except OSError:
            pass  # QEMU not listening yet, or its queue is full: lost on the wire

    # Seeds per direction derived from the one seed, so the two differ.
    to_guest = Direction("to guest (tap -> QEMU)", args.seed * 2, args, to_qemu)
    from_guest = Direction("from guest (QEMU -> tap)", args.seed * 2 + 1, args, to_tap)
    print("faulty_link: seed %d: loss %g%%, duplication %g%%, reordering %g%% (hold %g ms) "
          "each way; relay 127.0.0.1:%d <-> QEMU 127.0.0.1:%d, tap %s"
          % (args.seed, args.loss, args.dup, args.reorder, args.hold_ms, args.port,
             args.qemu_port, args.tap), flush=True)

    # The handler raises: a flag alone would wait for the next frame,
    # since poll() is resumed after a signal (PEP 475).
    def stop(*_):
        raise Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        relay(tap, sock, to_guest, from_guest)
    except Stop:
        pass
    print("faulty_link: " + to_guest.report())
    print("faulty_link: " + from_guest.report(), flush=True)


class Stop(Exception):
    """SIGTERM or SIGINT: time to report and exit."""


def relay(tap, sock, to_guest, from_guest):
    """Forwards frames both ways until a signal ends it."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poller.register(tap, select.POLLIN)
    while True:
        now = time.monotonic()
        deadlines = [d for d in (to_guest.deadline(), from_guest.deadline()) if d is not None]
        timeout = None if not deadlines else max(0.0, min(deadlines) - now) * 1000
        events = poller.poll(timeout)
        now = time.monotonic()
        for fd, _ in events:
            # Drain what is queued: one poll per burst, not per frame.
            direction, read = ((to_guest, lambda: os.read(tap, MAX_FRAME)) if fd == tap
                               else (from_guest, lambda: sock.recv(MAX_FRAME)))
            for _ in range(BURST):
                try:
                    direction.frame(read(), now)
                except BlockingIOError:
                    break
        to_guest.timer(now)
        from_guest.timer(now)


if __name__ == "__main__":
    sys.exit(main())
