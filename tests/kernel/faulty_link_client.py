#!/usr/bin/env python3
"""Linux's TCP as the client of the kernel over the faulty link
(tests/kernel/faulty_link.sh runs it inside the network namespace).

  echo HOST PORT: sends --bytes seeded pseudo-random bytes to the kernel's
      echo service while reading the echo back on another thread, then
      half-closes and reads to the end; the echo must equal what was sent
      (length, SHA-256, first differing offset if not). Prints elapsed time
      and throughput. Fails, never hangs, past --timeout seconds.
  hotel HOST PORT: a few POSTs and the list over one keep-alive connection
      (the Hotel API over the same link, as a smoke check).

Exit status 0 on success, 1 on failure (with the reason on stdout).
"""

import argparse
import hashlib
import http.client
import json
import random
import socket
import sys
import threading
import time

# Bytes per send() call.
SEND_CHUNK = 64 * 1024


def fail(msg):
    print("faulty_link: FAIL: " + msg, flush=True)
    sys.exit(1)


def echo(args):
    data = random.Random(args.seed).randbytes(args.bytes)
    deadline = time.monotonic() + args.timeout
    start = time.monotonic()
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent = [0]
    send_error = []

    def sender():
        try:
            view = memoryview(data)
            while sent[0] < len(data):
                sent[0] += s.send(view[sent[0]:sent[0] + SEND_CHUNK])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_error.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    first_byte = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout
            s.settimeout(left)
            piece = s.recv(256 * 1024)
            if not piece:
                break
            if first_byte is None:
                first_byte = time.monotonic() - start
            got += piece
    except socket.timeout:
        fail("echo: not done after %d s: sent %d of %d bytes, received %d"
             % (args.timeout, sent[0], len(data), len(got)))
    except OSError as e:
        fail("echo: %s after sending %d and receiving %d bytes" % (e, sent[0], len(got)))
    elapsed = time.monotonic() - start
    t.join(1)
    s.close()
    if send_error:
        fail("echo: send failed after %d bytes: %s" % (sent[0], send_error[0]))
    want = hashlib.sha256(data).hexdigest()
    have = hashlib.sha256(got).hexdigest()
    print("faulty_link: echo: sent %d bytes (sha256 %s...), received %d bytes (sha256 %s...)"
          % (len(data), want[:16], len(got), have[:16]))
    if len(got) != len(data) or have != want:
        where = next((i for i, (a, b) in enumerate(zip(data, got)) if a != b), min(len(data), len(got)))
        fail("echo: the echo differs from what was sent, first at offset %d" % where)
    mib = len(data) / (1024 * 1024)
    print("faulty_link: echo: %.1f MiB each way byte-exact in %.2f s (first echoed byte after "
          "%.3f s): %.2f MiB/s each way, %.2f MiB/s both ways"
          % (mib, elapsed, first_byte or 0, mib / elapsed, 2 * mib / elapsed), flush=True)


def hotel(args):
    c = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
    made = []
    for i in range(args.posts):
        c.request("POST", "/api/hotels", "Faulty %d,Link Town" % i)
        r = c.getresponse()
        body = r.read()
        if r.status != 201:
            fail("hotel: POST %d -> %d %r" % (i, r.status, body[:80]))
        made.append(json.loads(body))
    c.request("GET", "/api/hotels")
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        fail("hotel: GET /api/hotels -> %d" % r.status)
    listed = json.loads(body)
    missing = [h for h in made if h not in listed]
    if missing:
        fail("hotel: the list lacks %d of the %d hotels POSTed, e.g. %r"
             % (len(missing), len(made), missing[0]))
    print("faulty_link: hotel: %d POSTs -> 201, GET /api/hotels lists them all (%d bytes)"
          % (len(made), len(body)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--bytes", type=int, default=10 * 1024 * 1024)
    e.add_argument("--seed", type=int, default=1)
    h = sub.add_parser("hotel")
    h.add_argument("--posts", type=int, default=5)
    for p in (e, h):
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    try:
        echo(args) if args.cmd == "echo" else hotel(args)
    except (OSError, http.client.HTTPException, ValueError) as e:
        fail("%s: %s: %s" % (args.cmd, type(e).__name__, e))


if __name__ == "__main__":
    main()
