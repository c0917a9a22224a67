#!/usr/bin/env python3
"""End-to-end tests of bedrock-serve at its capacity limits: listings of
100,000 entries (complete, sorted, fast, and the worker keeps serving its
other clients meanwhile; the entry and name-byte caps at and past the
limit).

Usage: capacity.py [--qemu qemu-aarch64] BINARY

Under --qemu (qemu-user, several times slower than the host) the time
limits are multiplied by QEMU_SLOWDOWN; everything else is checked the
same way.
"""
import argparse
import http.client
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import FAILED, PASSED, Server, check  # noqa: E402

# The server's caps (server/src/listing.rs).
MAX_LISTING_ENTRIES = 131_072
MAX_LISTING_NAME_BYTES = 8 << 20
BIG_LISTING = 100_000
LIST_LIMIT = 0.5        # seconds for the 100,000-entry listing
SECOND_CLIENT_LIMIT = 0.3
QEMU_SLOWDOWN = 4


def touch_all(d, names):
    for n in names:
        os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_WRONLY, 0o644))


def get_listing(port, path, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.time()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    elapsed = time.time() - t0
    c.close()
    return r.status, body, elapsed


def links(body):
    return [urllib.parse.unquote_to_bytes(h)
            for h in re.findall(rb'<li><a href="([^"]*)"', body.replace(b"&amp;", b"&"))]


def small_get(port):
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/hello.txt")
        r = c.getresponse()
        ok = r.status == 200 and r.read() == b"hello\n"
    except OSError:
        ok = False
    c.close()
    return ok, time.time() - t0


def test_big_listing(binary, root, qemu, slow):
    big = os.path.join(root, "big")
    rng = random.Random(15)
    names = set()
    while len(names) < BIG_LISTING:
        names.add(f"f{rng.getrandbits(48):012x}")
    names = sorted(names)
    shuffled = names[:]
    rng.shuffle(shuffled)
    os.makedirs(big)
    touch_all(big, shuffled)
    srv = Server(binary, root, ["--quiet"], qemu=qemu, workers=1).start()
    try:
        port = srv.port
        s, body, elapsed = get_listing(port, "/big/")
        shown = links(body)
        want = [b"../"] + [n.encode() for n in names]
        check("100,000-entry listing complete and sorted", s == 200 and shown == want,
              (s, len(shown), [x for x, y in zip(shown, want) if x != y][:3]))
        check(f"100,000-entry listing under {LIST_LIMIT * slow:.1f} s", elapsed < LIST_LIMIT * slow,
              f"{elapsed:.3f} s")
        print(f"capacity: 100,000-entry listing in {elapsed:.3f} s", flush=True)

        # A second client of the same (only) worker while the listing is
        # being produced: its small GETs are answered promptly.
        first_byte = []
        done = threading.Event()

        def lister():
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            sock.sendall(b"GET /big/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = 0
            while True:
                b = sock.recv(1 << 20)
                if not b:
                    break
                if not first_byte:
                    first_byte.append(time.time())
                got += len(b)
            sock.close()
            done.set()

        during = []
        t = threading.Thread(target=lister)
        t.start()
        while not done.is_set():
            start = time.time()
            ok, lat = small_get(port)
            if not first_byte or start < first_byte[0]:
                during.append((ok, lat))
        t.join()
        worst = max((lat for _, lat in during), default=None)
        check("second client served while the listing is produced",
              during and all(ok for ok, _ in during) and worst < SECOND_CLIENT_LIMIT * slow,
              (len(during), worst))
        if worst is not None:
            print(f"capacity: {len(during)} GETs of a second client during the listing, "
                  f"slowest {worst * 1000:.1f} ms", flush=True)

        # The entry cap: at it, listed; one past it, 403 saying why.
        more = [f"g{i:07d}" for i in range(MAX_LISTING_ENTRIES - BIG_LISTING)]
        touch_all(big, more)
        s, body, _ = get_listing(port, "/big/")
        check("listing at the entry cap complete", s == 200 and len(links(body)) == MAX_LISTING_ENTRIES + 1,
              (s, len(links(body))))
        touch_all(big, ["h-one-too-many"])
        s, body, _ = get_listing(port, "/big/")
        check("listing past the entry cap 403 saying why",
              s == 403 and b"too large to list" in body and str(MAX_LISTING_ENTRIES).encode() in body,
              (s, body[:200]))
        ok, _ = small_get(port)
        check("served after a listing past the cap", ok)

        # The name-byte cap: 255-byte names up to exactly the cap, then one
        # byte more.
        long = os.path.join(root, "long")
        os.makedirs(long)
        count, rest = divmod(MAX_LISTING_NAME_BYTES, 255)
        touch_all(long, [f"{i:06d}" + "x" * 249 for i in range(count)] + ["y" * rest])
        s, body, _ = get_listing(port, "/long/")
        check("listing at the name-byte cap complete", s == 200 and len(links(body)) == count + 2,
              (s, len(links(body))))
        touch_all(long, ["z"])
        s, body, _ = get_listing(port, "/long/")
        check("listing past the name-byte cap 403", s == 403 and b"MiB of names" in body, (s, body[:200]))
    finally:
        srv.stop()
        shutil.rmtree(big, ignore_errors=True)
        shutil.rmtree(os.path.join(root, "long"), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--qemu")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    slow = QEMU_SLOWDOWN if a.qemu else 1
    # Many files: on tmpfs when there is one.
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = tempfile.mkdtemp(prefix="bedrock-serve-capacity-", dir=base)
    t0 = time.time()
    try:
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        with open(os.path.join(root, "hello.txt"), "w") as f:
            f.write("hello\n")
        with open(os.path.join(root, "big.bin"), "wb") as f:
            f.truncate(64 << 20)
        test_big_listing(binary, root, a.qemu, slow)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"server capacity: {len(PASSED)} passed, {len(FAILED)} failed ({time.time() - t0:.1f} s)")
    if FAILED:
        sys.exit(1)


if __name__ == "__main__":
    main()
