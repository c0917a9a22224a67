#!/usr/bin/env python3
"""End-to-end tests of bedrock-serve: real clients (raw sockets, http.client,
curl) against the real binary on a temporary root.

Usage: e2e.py [--qemu qemu-aarch64] [--hotels N] BINARY

--qemu runs the binary under qemu-user (the aarch64 build runs the whole
suite that way). --hotels N sets how many concurrent POSTs the store test makes (default
10000, the store's capacity).
"""
import argparse
import concurrent.futures as cf
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import (ACCESS_KEYS, Report, Server, access_lines, http_request, raw,  # noqa: E402
                          status_of, wait_until)
from prom import counters_move, parse, requests_of, scrape, series  # noqa: E402

REPORT = Report("server e2e", show_passes=False)
check = REPORT.check


req = http_request


def get(port, path, headers=None):
    return req(port, "GET", path, headers=headers)


def make_root(tmp):
    root = os.path.join(tmp, "www")
    os.makedirs(os.path.join(root, "sub", "deeper"))
    os.makedirs(os.path.join(root, "err"))
    os.makedirs(os.path.join(root, "noindex"))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<h1>home</h1>\n")
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello world\n")
    with open(os.path.join(root, "ohwell...txt"), "w") as f:
        f.write("dots are fine\n")
    with open(os.path.join(root, "sp ace.txt"), "w") as f:
        f.write("space\n")
    with open(os.path.join(root, "style.css"), "w") as f:
        f.write("body{}\n")
    with open(os.path.join(root, "sub", "a.json"), "w") as f:
        f.write("{}\n")
    with open(os.path.join(root, "noindex", "<script>&x.txt"), "w") as f:
        f.write("x\n")
    with open(os.path.join(root, "noindex", ".bedrock-put-0123456789abcdef"), "w") as f:
        f.write("half an upload\n")
    with open(os.path.join(root, "digits.txt"), "wb") as f:
        f.write(b"0123456789" * 10)  # 100 bytes
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(3 << 20))
    with open(os.path.join(root, "err", "418.html"), "w") as f:
        f.write("custom\n")
    # Listings: names created in shuffled order; more than one sorting
    # batch of the server (128 names) and exactly two batches.
    rng = random.Random(6)
    for dirname, count in (("many", 300), ("exact", 256)):
        os.makedirs(os.path.join(root, dirname))
        names = [f"f{rng.getrandbits(40):x}" for _ in range(count - 8)]
        names += ["B", "a", "_x", "Z", "\u00e9t\u00e9", "10", "9", "a b"]
        rng.shuffle(names)
        for n in names:
            open(os.path.join(root, dirname, n), "w").close()
        os.makedirs(os.path.join(root, dirname, "dir-Y"))
    # Outside the root: must never be served.
    secret_dir = os.path.join(tmp, "secret")
    os.makedirs(secret_dir)
    with open(os.path.join(secret_dir, "secret.txt"), "w") as f:
        f.write("TOPSECRET\n")
    # Symlinks in every position.
    os.symlink(os.path.join(secret_dir, "secret.txt"), os.path.join(root, "link-out.txt"))
    os.symlink("hello.txt", os.path.join(root, "link-in.txt"))
    os.symlink(secret_dir, os.path.join(root, "dirlink"))
    os.symlink("sub", os.path.join(root, "sublink"))
    os.symlink(secret_dir, os.path.join(root, "sub", "deeper", "up"))
    return root


def test_basics(port, root):
    s, h, b = get(port, "/hello.txt")
    check("GET file 200", s == 200 and b == b"hello world\n", (s, b))
    check("GET MIME text/plain", h.get("content-type", "").startswith("text/plain"), h)
    check("GET ETag and Last-Modified", "etag" in h and "last-modified" in h, h)
    check("GET Accept-Ranges", h.get("accept-ranges") == "bytes", h)
    s, h, _ = get(port, "/style.css")
    check("MIME text/css", h.get("content-type", "").startswith("text/css"), h)
    s, h, _ = get(port, "/sub/a.json")
    check("MIME application/json", h.get("content-type", "").startswith("application/json"), h)
    s, h, b = req(port, "HEAD", "/hello.txt")
    check("HEAD no body, length", s == 200 and b == b"" and h.get("content-length") == "12", (s, h))
    s, h, b = get(port, "/")
    check("directory index.html", s == 200 and b == b"<h1>home</h1>\n", (s, b))
    s, h, b = get(port, "/noindex/")
    check("listing 200", s == 200 and b"<ul>" in b, (s, b))
    check("listing escapes names", b"&lt;script&gt;&amp;x.txt" in b and b"<script>" not in b, b)
    check("listing hides temp files", b".bedrock-put-" not in b, b)
    s, h, b = get(port, "/noindex")
    check("directory without slash redirects", s == 301 and h.get("location") == "/noindex/", (s, h))
    s, _, b = get(port, "/ohwell...txt")
    check("ohwell...txt allowed", s == 200 and b == b"dots are fine\n", (s, b))
    s, _, b = get(port, "/sp%20ace.txt")
    check("percent-decoded path", s == 200 and b == b"space\n", (s, b))
    s, _, _ = get(port, "/nope.txt")
    check("missing 404", s == 404, s)
    s, _, _ = get(port, "/noindex/.bedrock-put-0123456789abcdef")
    check("temp file hidden 404", s == 404, s)
    s, _, b = get(port, "/err-test")
    check("404 page is html", b.startswith(b"<!doctype html>"), b)
    # Request line and header rules.
    r = raw(port, b"GET /hello.txt HTTP/1.0\r\n\r\n")
    check("HTTP/1.0 without Host", status_of(r) == 200 and r.endswith(b"hello world\n"), r[:80])
    r = raw(port, b"GET /hello.txt HTTP/1.1\r\n\r\n")
    check("HTTP/1.1 without Host 400", status_of(r) == 400, r[:80])
    # RFC 9112 3.2: an invalid Host value, or two Host lines, is a 400.
    r = raw(port, b"GET /hello.txt HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n")
    check("Host: a b 400", status_of(r) == 400, r[:80])
    r = raw(port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("two Host lines 400", status_of(r) == 400, r[:80])
    r = raw(port, b"GET /hello.txt HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n")
    check("Host: [::1]:8080 200", status_of(r) == 200, r[:80])
    r = raw(port, b"GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n")
    check("HTTP/2.0 505", status_of(r) == 505, r[:80])
    r = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 17000 + b"\r\n\r\n")
    check("head over 16 KiB 431", status_of(r) == 431, r[:80])
    r = raw(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check("path over 4096 414", status_of(r) == 414, r[:80])
    r = raw(port, b"BREW /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    check("unknown method 501", status_of(r) == 501, r[:80])
    s, h, _ = req(port, "POST", "/hello.txt", body=b"x")
    check("POST on a file 405 with Allow", s == 405 and "GET" in h.get("allow", ""), (s, h))
    s, h, _ = req(port, "OPTIONS", "/hello.txt")
    check("OPTIONS 204 Allow", s == 204 and "OPTIONS" in h.get("allow", ""), (s, h))
    s, h, _ = req(port, "PUT", "/x.txt", body=b"x")
    check("PUT read-only 405 Allow", s == 405 and "PUT" not in h.get("allow", "x"), (s, h))
    s, _, _ = req(port, "DELETE", "/hello.txt")
    check("DELETE read-only 405", s == 405 and os.path.exists(os.path.join(root, "hello.txt")), s)
    # Keep-alive and pipelining.
    r = raw(port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("pipelined requests answered in order",
          r.count(b"HTTP/1.1 200") == 2 and r.index(b"hello world") < r.index(b"0123456789"), r[:200])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    ok = True
    for _ in range(5):
        c.request("GET", "/hello.txt")
        rr = c.getresponse()
        ok &= rr.status == 200 and rr.read() == b"hello world\n"
    c.close()
    check("keep-alive: five requests, one connection", ok)
    # Big file with sendfile.
    s, h, b = get(port, "/big.bin")
    with open(os.path.join(root, "big.bin"), "rb") as f:
        want = f.read()
    check("3 MiB file intact", s == 200 and b == want, (s, len(b)))


def test_listing_order(port, root):
    for dirname in ("many", "exact", "noindex"):
        s, _, b = get(port, f"/{dirname}/")
        shown = [urllib.parse.unquote_to_bytes(h) for h in re.findall(rb'<li><a href="([^"]*)"', b.replace(b"&amp;", b"&"))]
        names = sorted(os.fsencode(n) + (b"/" if os.path.isdir(os.path.join(root, dirname, n)) else b"")
                       for n in os.listdir(os.path.join(root, dirname)) if not n.startswith(".bedrock-put-"))
        # Directories carry a slash after the name; the order is by name.
        want = [b"../"] + sorted(names, key=lambda n: n.rstrip(b"/"))
        check(f"listing of /{dirname}/ sorted by name, bytewise", s == 200 and shown == want,
              (len(shown), len(want), [x for x, y in zip(shown, want) if x != y][:3]))


def test_traversal(port):
    corpus = [
        "/../secret/secret.txt", "/..%2fsecret%2fsecret.txt", "/%2e%2e/secret/secret.txt",
        "/%2e%2e%2fsecret%2fsecret.txt", "/%252e%252e/secret/secret.txt", "/sub/../../secret/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret/secret.txt", "/..\\secret\\secret.txt", "/%5c..%5csecret%5csecret.txt",
        "//etc/passwd", "/%2fetc%2fpasswd", "/etc/passwd%00.txt", "/hello.txt%00", "/./../secret/secret.txt",
        "/link-out.txt", "/link-in.txt", "/dirlink/secret.txt", "/sublink/a.json", "/sub/deeper/up/secret.txt",
        "/dirlink/", "/sublink/", "http://x/../secret/secret.txt", "/sub/deeper/up/",
        "/....//secret/secret.txt", "/%c0%ae%c0%ae/secret/secret.txt",
    ]
    for t in corpus:
        r = raw(port, b"GET " + t.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st = status_of(r)
        check(f"traversal {t} refused", st in (400, 403, 404) and b"TOPSECRET" not in r and b"\"a.json\"" not in r,
              (st, r[:120]))
    r = raw(port, b"GET /link-out.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("symlink refused with 403", status_of(r) == 403, r[:80])
    r = raw(port, b"GET /../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("dot-dot segment 403", status_of(r) == 403, r[:80])
    r = raw(port, b"GET /a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("encoded NUL 403", status_of(r) == 403, r[:80])


def test_ranges(port):
    d = b"0123456789" * 10
    cases = [
        ("bytes=0-9", 206, d[0:10], "bytes 0-9/100"),
        ("bytes=90-", 206, d[90:], "bytes 90-99/100"),
        ("bytes=-5", 206, d[95:], "bytes 95-99/100"),
        ("bytes=-500", 206, d, "bytes 0-99/100"),
        ("bytes=95-200", 206, d[95:], "bytes 95-99/100"),
        ("bytes=50-50", 206, d[50:51], "bytes 50-50/100"),
        ("bytes=100-", 416, None, "bytes */100"),
        ("bytes=200-300", 416, None, "bytes */100"),
        ("bytes=5-2", 200, d, None),
        ("items=0-5", 200, d, None),
        ("bytes=abc", 200, d, None),
    ]
    for value, want, body, cr in cases:
        s, h, b = get(port, "/digits.txt", {"Range": value})
        ok = s == want and (body is None or b == body) and (cr is None or h.get("content-range") == cr)
        check(f"range {value} -> {want}", ok, (s, h.get("content-range"), b[:40]))
    s, h, b = get(port, "/digits.txt", {"Range": "bytes=0-1,5-6"})
    ct = h.get("content-type", "")
    check("multiple ranges multipart/byteranges", s == 206 and ct.startswith("multipart/byteranges")
          and b"Content-Range: bytes 0-1/100" in b and b"Content-Range: bytes 5-6/100" in b
          and b"\r\n\r\n01\r\n" in b and b"\r\n\r\n56\r\n" in b, (s, ct, b[:300]))
    _, h, _ = get(port, "/digits.txt")
    etag, lm = h["etag"], h["last-modified"]
    s, _, b = get(port, "/digits.txt", {"Range": "bytes=0-4", "If-Range": etag})
    check("If-Range matching ETag 206", s == 206 and b == b"01234", s)
    s, _, b = get(port, "/digits.txt", {"Range": "bytes=0-4", "If-Range": '"other"'})
    check("If-Range stale ETag 200 whole", s == 200 and b == d, s)
    s, _, b = get(port, "/digits.txt", {"Range": "bytes=0-4", "If-Range": lm})
    check("If-Range matching date 206", s == 206 and b == b"01234", s)
    s, _, b = req(port, "HEAD", "/digits.txt", headers={"Range": "bytes=0-4"})
    check("HEAD ignores Range", s == 200 and b == b"", s)


def test_conditionals(port):
    _, h, _ = get(port, "/hello.txt")
    etag, lm = h["etag"], h["last-modified"]
    s, h2, b = get(port, "/hello.txt", {"If-None-Match": etag})
    check("If-None-Match 304", s == 304 and b == b"" and h2.get("etag") == etag, s)
    s, _, _ = get(port, "/hello.txt", {"If-None-Match": 'W/' + etag})
    check("If-None-Match weak 304", s == 304, s)
    s, _, _ = get(port, "/hello.txt", {"If-None-Match": '"nope"'})
    check("If-None-Match other 200", s == 200, s)
    s, _, _ = get(port, "/hello.txt", {"If-Modified-Since": lm})
    check("If-Modified-Since 304", s == 304, s)
    s, _, _ = get(port, "/hello.txt", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    check("If-Modified-Since old 200", s == 200, s)
    s, _, _ = get(port, "/hello.txt", {"If-Match": '"nope"'})
    check("If-Match mismatch 412", s == 412, s)
    s, _, _ = get(port, "/hello.txt", {"If-Match": etag})
    check("If-Match match 200", s == 200, s)
    s, _, _ = get(port, "/hello.txt", {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    check("If-Unmodified-Since old 412", s == 412, s)


def test_writes(port, root, token):
    auth = {"Authorization": f"Bearer {token}"}
    s, h, _ = req(port, "PUT", "/new.txt", body=b"first")
    check("PUT without token 401", s == 401 and "bearer" in h.get("www-authenticate", "").lower(), s)
    s, _, _ = req(port, "PUT", "/new.txt", body=b"first", headers={"Authorization": "Bearer wrong"})
    check("PUT wrong token 401", s == 401, s)
    s, _, _ = req(port, "PUT", "/new.txt", body=b"first", headers=auth)
    check("PUT create 201", s == 201 and open(os.path.join(root, "new.txt"), "rb").read() == b"first", s)
    s, _, _ = req(port, "PUT", "/new.txt", body=b"second", headers=auth)
    check("PUT replace 204", s == 204 and open(os.path.join(root, "new.txt"), "rb").read() == b"second", s)
    s, _, b = get(port, "/new.txt")
    check("GET after PUT", b == b"second", b)
    r = raw(port, b"PUT /nolen.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n")
    check("PUT without length 411", status_of(r) == 411, r[:80])
    r = raw(port, b"PUT /big.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nContent-Length: 99999999999\r\n\r\n")
    check("PUT over --max-body 413", status_of(r) == 413, r[:80])
    r = raw(port, b"PUT /dup.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    check("PUT duplicate Content-Length 400", status_of(r) == 400, r[:80])
    r = raw(port, b"PUT /chunked.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    check("PUT chunked 201", status_of(r) == 201 and open(os.path.join(root, "chunked.txt"), "rb").read() == b"hello world", r[:80])
    r = raw(port, b"PUT /cont.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", read_all=False)
    check("Expect: 100-continue", r.startswith(b"HTTP/1.1 100 Continue"), r[:80])
    s, _, _ = req(port, "PUT", "/new.txt", body=b"x", headers={**auth, "If-None-Match": "*"})
    check("conditional PUT If-None-Match * on existing 412", s == 412, s)
    s, _, _ = req(port, "PUT", "/new.txt", body=b"x", headers={**auth, "If-Match": '"stale"'})
    check("conditional PUT If-Match stale 412", s == 412 and open(os.path.join(root, "new.txt"), "rb").read() == b"second", s)
    s, _, _ = req(port, "PUT", "/nodir/x.txt", body=b"x", headers=auth)
    check("PUT into a missing directory 409", s == 409, s)
    s, _, _ = req(port, "PUT", "/sub", body=b"x", headers=auth)
    check("PUT onto a directory 403", s == 403, s)
    s, _, _ = req(port, "PUT", "/link-in.txt", body=b"x", headers=auth)
    check("PUT onto a symlink 403", s == 403 and os.path.islink(os.path.join(root, "link-in.txt")), s)
    s, _, _ = req(port, "PUT", "/dirlink/x.txt", body=b"x", headers=auth)
    check("PUT through a symlinked dir 403", s == 403, s)
    s, _, _ = req(port, "DELETE", "/new.txt", headers=auth)
    check("DELETE 204", s == 204 and not os.path.exists(os.path.join(root, "new.txt")), s)
    s, _, _ = req(port, "DELETE", "/new.txt", headers=auth)
    check("DELETE missing 404", s == 404, s)
    s, _, _ = req(port, "DELETE", "/sub", headers=auth)
    check("DELETE directory 403", s == 403, s)
    s, _, _ = req(port, "DELETE", "/hello.txt")
    check("DELETE without token 401", s == 401, s)
    s, h, _ = req(port, "OPTIONS", "/x")
    check("OPTIONS with writes lists PUT", "PUT" in h.get("allow", ""), h)
    leftovers = [n for n in os.listdir(root) if n.startswith(".bedrock-put-")]
    check("no temp files left behind", not leftovers, leftovers)


def test_put_atomicity(port, root, token):
    a, b = b"A" * (1 << 20), b"B" * (1 << 20)
    auth = {"Authorization": f"Bearer {token}"}
    req(port, "PUT", "/atom.bin", body=a, headers=auth)
    stop = threading.Event()
    torn = []
    reads = [0]

    def reader():
        while not stop.is_set():
            s, _, body = get(port, "/atom.bin")
            reads[0] += 1
            if s == 200 and body not in (a, b):
                torn.append(len(body))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(20):
        req(port, "PUT", "/atom.bin", body=b if i % 2 == 0 else a, headers=auth)
    stop.set()
    for t in threads:
        t.join()
    check("PUT atomic under concurrent readers", not torn and reads[0] > 0, (torn[:5], reads[0]))


def temps_in(d):
    return [n for n in os.listdir(d) if n.startswith(".bedrock-put-")]


def test_put_kill9(binary, root, qemu, token):
    """kill -9 in the middle of an upload: the old file stays whole, the
    orphaned temp file is never listed or served, and the next server
    with writes removes it, but not the temp file of a live upload."""
    d = os.path.join(root, "noindex")
    path = os.path.join(d, "survivor.bin")
    with open(path, "wb") as f:
        f.write(b"O" * 100000)
    head = (b"PUT /noindex/survivor.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nContent-Length: 200000\r\n\r\n")
    write_args = ["--allow-write", "--write-token", token, "--quiet"]
    srv = Server(binary, root, write_args, qemu=qemu).start()
    before = set(temps_in(d))
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    s.sendall(head + b"N" * 150000)
    wait_until(lambda: temps_in(d), 5)
    time.sleep(0.2)
    srv.kill9()
    s.close()
    with open(path, "rb") as f:
        content = f.read()
    check("kill -9 mid-PUT leaves the old file whole", content == b"O" * 100000, len(content))
    orphans = [n for n in temps_in(d) if n not in before]
    check("kill -9 mid-PUT leaves one orphaned temp file", len(orphans) == 1, orphans)
    ro = Server(binary, root, ["--quiet"], qemu=qemu).start()
    st, _, body = get(ro.port, "/noindex/survivor.bin")
    check("after kill -9 the old file is served", st == 200 and body == b"O" * 100000, (st, len(body)))
    for name in orphans:
        st, _, _ = get(ro.port, "/noindex/" + name)
        check("orphaned temp file not served", st == 404, st)
    st, _, listing = get(ro.port, "/noindex/")
    check("orphaned temp file not listed", st == 200 and b"survivor.bin" in listing
          and b".bedrock-put-" not in listing, listing)
    ro.stop()
    check("a read-only server leaves the root alone", set(orphans) <= set(temps_in(d)), temps_in(d))
    # A server with writes sweeps orphans at start-up.
    rw = Server(binary, root, write_args[:-1], qemu=qemu).start()
    try:
        gone = wait_until(lambda: not temps_in(d), 10)
        check("orphaned temp file removed at start-up", gone and re.search(r"removed \d+ temp files", rw.output()),
              (temps_in(d), rw.output()[-300:]))
        st, _, body = get(rw.port, "/noindex/survivor.bin")
        check("target intact after the sweep", st == 200 and body == b"O" * 100000, (st, len(body)))
        # A live upload's temp file survives another server's sweep.
        live = socket.create_connection(("127.0.0.1", rw.port), timeout=10)
        live.sendall(head + b"L" * 100000)
        wait_until(lambda: temps_in(d), 5)
        live_temp = temps_in(d)
        planted = os.path.join(root, "sub", "deeper", ".bedrock-put-00000000000000ff")
        with open(planted, "wb") as f:
            f.write(b"left by a crash")
        other = Server(binary, root, write_args, qemu=qemu).start()
        swept = wait_until(lambda: not os.path.exists(planted), 10)
        other.stop()
        check("sweep reaches nested directories", swept)
        check("sweep spares a live upload's temp file", len(live_temp) == 1 and temps_in(d) == live_temp,
              (live_temp, temps_in(d)))
        live.sendall(b"L" * 100000)
        r = b""
        while b"\r\n\r\n" not in r:
            chunk = live.recv(4096)
            if not chunk:
                break
            r += chunk
        live.close()
        with open(path, "rb") as f:
            content = f.read()
        check("live upload completes after the sweep", status_of(r) == 204 and content == b"L" * 200000,
              (r[:60], len(content)))
    finally:
        rw.stop()


def test_limits(binary, root, qemu):
    srv = Server(binary, root, ["--head-timeout", "2", "--read-timeout", "2", "--max-conns", "4", "--quiet"],
                 qemu=qemu, workers=1).start()
    try:
        port = srv.port
        # Slowloris: a client trickling a head is cut off; others are served.
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.time()
        got = b""
        lat = []
        try:
            for ch in b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                slow.send(bytes([ch]))
                s0 = time.time()
                s, _, _ = get(port, "/hello.txt")
                lat.append(time.time() - s0)
                time.sleep(0.3)
                if time.time() - t0 > 6:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            slow.settimeout(3)
            got = slow.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
        elapsed = time.time() - t0
        slow.close()
        check("slowloris cut off with 408", status_of(got) == 408 and elapsed < 5, (got[:60], elapsed))
        check("others served promptly during slowloris", lat and max(lat) < 0.5, max(lat) if lat else None)
        # Connection cap: 4 idle connections, the fifth takes the place of
        # the longest idle (tests/server/capacity.py: the order, and 503
        # when every connection is being answered).
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        time.sleep(0.2)
        r = raw(port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
        check("connection cap: an idle connection makes room", status_of(r) == 200, r[:100])
        for h in held:
            h.close()
        time.sleep(0.4)
        s, _, _ = get(port, "/hello.txt")
        check("served again below the cap", s == 200, s)
    finally:
        srv.stop()


def test_api(port):
    s, h, b = req(port, "POST", "/api/hotels", body=b"Hilton,Toronto")
    check("API POST 201", s == 201 and json.loads(b)["name"] == "Hilton" and h.get("location", "").startswith("/api/hotels/"), (s, b))
    hid = json.loads(b)["id"]
    s, _, b = get(port, f"/api/hotels/{hid}")
    check("API GET one", s == 200 and json.loads(b)["city"] == "Toronto", (s, b))
    s, _, b = req(port, "POST", "/api/hotels", body=json.dumps({"name": 'Ri"tz', "city": "Paris"}),
                  headers={"Content-Type": "application/json"})
    check("API POST JSON", s == 201 and json.loads(b)["name"] == 'Ri"tz', (s, b))
    s, _, b = req(port, "PUT", f"/api/hotels/{hid}", body=b"Hilton Garden,Toronto")
    check("API PUT 200", s == 200 and json.loads(b)["name"] == "Hilton Garden", (s, b))
    s, _, b = get(port, "/api/hotels")
    check("API list", s == 200 and any(x["name"] == "Hilton Garden" for x in json.loads(b)), (s, b[:100]))
    s, _, _ = req(port, "DELETE", f"/api/hotels/{hid}")
    check("API DELETE 204", s == 204, s)
    s, h, b = get(port, f"/api/hotels/{hid}")
    check("API GET deleted 404 JSON", s == 404 and json.loads(b)["status"] == 404, (s, b))
    s, h, b = get(port, "/hotels")
    check("hotel page at /hotels", s == 200 and b.startswith(b"<!doctype html>")
          and h.get("content-type") == "text/html; charset=utf-8"
          and "script-src 'sha256-" in h.get("content-security-policy", ""), (s, h, b[:40]))
    s, _, b = get(port, "/hotels?x=1")
    check("hotel page with a query", s == 200 and b.startswith(b"<!doctype html>"), (s, b[:40]))
    r = raw(port, b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"3\r\nA,B\r\n0\r\n\r\n")
    check("API chunked POST", status_of(r) == 201, r[:80])
    s, _, b = req(port, "POST", "/api/hotels", body=b"x" * 5000)
    check("API body over 4 KiB 413", s == 413, s)
    # One rule for field text: JSON strings stored exactly as decoded, text
    # fields trimmed, control characters 422 in every form.
    as_json = {"Content-Type": "application/json"}
    s, _, b = req(port, "POST", "/api/hotels", body=json.dumps({"name": "asd ", "city": " x"}),
                  headers=as_json)
    made = json.loads(b) if s == 201 else {}
    s2, _, b2 = get(port, f"/api/hotels/{made.get('id', 0)}")
    check("API JSON strings stored exactly", s == 201 and made.get("name") == "asd "
          and s2 == 200 and json.loads(b2) == made and made.get("city") == " x", (s, b, s2, b2))
    s, _, b = req(port, "POST", "/api/hotels", body=b" Ritz \t, Paris\n")
    check("API text fields trimmed", s == 201 and json.loads(b)["name"] == "Ritz"
          and json.loads(b)["city"] == "Paris", (s, b))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for label, body, headers in [("JSON \\b", json.dumps({"name": "a\bb", "city": "c"}), as_json),
                                 ("JSON \\u007f", '{"name":"a\\u007f","city":"c"}', as_json),
                                 ("form %00", b"name=a%00&city=c", form),
                                 ("text tab", b"a\tb,c", None)]:
        s, _, b = req(port, "POST", "/api/hotels", body=body, headers=headers)
        check(f"API control character ({label}) 422", s == 422 and json.loads(b)["status"] == 422, (s, b))


def test_hotel_concurrency(binary, root, qemu, n, data):
    srv = Server(binary, root, ["--quiet"], qemu=qemu, data=data, workers=2).start()
    try:
        port = srv.port
        per = 16
        counts = [n // per + (1 if i < n % per else 0) for i in range(per)]

        def worker(k):
            ids = []
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for j in range(k):
                c.request("POST", "/api/hotels", body=f"H{j},C")
                r = c.getresponse()
                body = r.read()
                if r.status == 201:
                    ids.append(json.loads(body)["id"])
            c.close()
            return ids

        t0 = time.time()
        with cf.ThreadPoolExecutor(per) as ex:
            ids = [i for part in ex.map(worker, counts) for i in part]
        dt = time.time() - t0
        s, _, b = get(port, "/api/hotels")
        listed = json.loads(b)
        check(f"{n} concurrent POSTs: {n} created, unique ids", len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids))))
        check(f"{n} concurrent POSTs: list holds exactly {n}", len(listed) == n, len(listed))
        print(f"  {n} POSTs (fsync each) in {dt:.2f} s", flush=True)
        # The journal survives kill -9.
        srv.kill9()
        srv2 = Server(binary, root, ["--quiet"], qemu=qemu, data=data, workers=2).start()
        s, _, b = get(srv2.port, "/api/hotels")
        check("journal survives kill -9", len(json.loads(b)) == n, len(json.loads(b)))
        srv2.stop()
    finally:
        if srv.proc.poll() is None:
            srv.stop()


def test_journal(binary, root, qemu, tmp):
    data = os.path.join(tmp, "journal-data")
    srv = Server(binary, root, ["--quiet"], qemu=qemu, data=data).start()
    for i in range(5):
        req(srv.port, "POST", "/api/hotels", body=f"Hotel{i},City{i}".encode())
    req(srv.port, "PUT", "/api/hotels/2", body=b"Renamed,Town")
    req(srv.port, "DELETE", "/api/hotels/3")
    s, _, before = get(srv.port, "/api/hotels")
    srv.kill9()
    path = os.path.join(data, "hotels.journal")
    good = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(b"\x40\x00\x00\x00\x12\x34\x56\x78\x01\x09")  # a torn record
    srv2 = Server(binary, root, ["--quiet"], qemu=qemu, data=data).start()
    s, _, after = get(srv2.port, "/api/hotels")
    check("journal replay restores state", json.loads(after) == json.loads(before), (before, after))
    check("torn record dropped and logged", "torn" in srv2.output() and os.path.getsize(path) == good,
          (srv2.output(), os.path.getsize(path), good))
    s, _, b = req(srv2.port, "POST", "/api/hotels", body=b"After,Crash")
    check("ids continue after replay", s == 201 and json.loads(b)["id"] == 6, b)
    srv2.stop()


def test_journal_disk_full(binary, root, qemu, tmp):
    """The journal's disk fills up (a real 64 KiB tmpfs): each change that
    cannot be recorded fails with 507 and a log line, and the store stays
    exactly what the journal holds (kill -9 and replay agree)."""
    mnt = os.path.join(tmp, "full-data")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"SKIP journal on a full disk: cannot mount a tmpfs ({r.stderr.strip()})", flush=True)
        return
    srv = None
    try:
        srv = Server(binary, root, [], qemu=qemu, data=mnt).start()
        st, _, b = get(srv.port, "/readyz")
        check("full journal: /readyz is 200 while the journal has room", (st, b) == (200, b"ready\n"), (st, b))
        with open(os.path.join(mnt, "filler"), "wb") as f:
            f.write(b"x" * (48 << 10))
        expect = {}
        name, city = "N" * 100, "C" * 100
        first_fail = None
        for i in range(200):
            st, _, b = req(srv.port, "POST", "/api/hotels", body=f"{name},{city}".encode())
            if st == 201:
                expect[json.loads(b)["id"]] = (name, city)
            else:
                first_fail = (st, b)
                break

        def listed():
            _, _, b = get(srv.port, "/api/hotels")
            return {h["id"]: (h["name"], h["city"]) for h in json.loads(b)}

        check("full journal: POST fails with 507", first_fail is not None and first_fail[0] == 507
              and len(expect) > 0, (first_fail, len(expect)))
        check("full journal: failed POST not in the store", listed() == expect, (len(listed()), len(expect)))
        some = min(expect)
        st, _, _ = req(srv.port, "PUT", f"/api/hotels/{some}", body=f"{'M' * 100},{'D' * 100}".encode())
        check("full journal: PUT fails with 507, old record kept", st == 507 and listed() == expect, st)
        # Deletes are small records: they fit in the last page until it is full.
        statuses = []
        for hid in sorted(expect)[:40]:
            st, _, _ = req(srv.port, "DELETE", f"/api/hotels/{hid}")
            statuses.append(st)
            if st == 204:
                del expect[hid]
            else:
                break
        check("full journal: DELETE fails with 507, record kept", statuses[-1] == 507 and listed() == expect,
              statuses)
        log = srv.output()
        check("full journal: failures logged", "journal: append failed (no space left on device)" in log, log[-400:])
        st, _, b = get(srv.port, "/readyz")
        check("full journal: /readyz is 503 and says why", st == 503
              and b == b"not ready: journal: its file system has no room for another change\n", (st, b))
        st, _, b = get(srv.port, "/healthz")
        check("full journal: /healthz stays 200 (alive, not ready)", (st, b) == (200, b"ok\n"), (st, b))
        srv.kill9()
        srv = Server(binary, root, [], qemu=qemu, data=mnt).start()
        check("full journal: replay after kill -9 matches the store", listed() == expect,
              (len(listed()), len(expect)))
        os.remove(os.path.join(mnt, "filler"))
        st, _, b = get(srv.port, "/readyz")
        check("full journal: /readyz is 200 again once space is freed, before any change", st == 200, (st, b))
        st, _, b = req(srv.port, "POST", "/api/hotels", body=b"After,Space")
        ok = st == 201 and json.loads(b)["id"] not in expect
        if ok:
            expect[json.loads(b)["id"]] = ("After", "Space")
        check("full journal: space freed, POST works again", ok, (st, b))
        srv.kill9()
        srv = Server(binary, root, [], qemu=qemu, data=mnt).start()
        check("full journal: final replay matches", listed() == expect, (len(listed()), len(expect)))
    finally:
        if srv is not None:
            srv.stop()
        subprocess.run(["umount", mnt])


# How long the supervisor may take to fork its workers (start() waits for
# the port only, which the first worker opens) and to restart a dead one:
# a fork under qemu-user on a loaded machine can lag by a second or more.
FORK_WAIT_S = 5


def test_process_model(binary, root, qemu):
    srv = Server(binary, root, ["--quiet"], qemu=qemu, workers=2).start()
    try:
        wait_until(lambda: len(srv.workers_pids()) == 2, FORK_WAIT_S)
        pids = srv.workers_pids()
        check("N workers forked", len(pids) == 2, pids)
        os.kill(pids[0], signal.SIGKILL)

        def restarted():
            after = srv.workers_pids()
            return len(after) == 2 and pids[0] not in after

        wait_until(restarted, FORK_WAIT_S)
        after = srv.workers_pids()
        check("dead worker restarted", len(after) == 2 and pids[0] not in after, (pids, after))
        ok = all(get(srv.port, "/hello.txt")[0] == 200 for _ in range(20))
        check("served after a worker died", ok)
        m = parse(scrape(srv.port)[3])
        check("metrics: the restart counted, the dead worker's counts kept",
              m.get(series("bedrock_serve_worker_restarts_total")) == 1
              and requests_of(m, "GET", "2xx") >= 21, m.get(series("bedrock_serve_worker_restarts_total")))
        open_now = m.get(series("bedrock_http_open_connections"))
        check("metrics: the dead worker's connections are not open", open_now is not None and open_now <= 2, open_now)
        # SIGTERM: an in-flight request finishes, then exit 0.
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        s.sendall(b"\r\n")
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        s.close()
        code = srv.proc.wait(timeout=15)
        check("SIGTERM finishes the in-flight request", status_of(data) == 200 and len(data) > (3 << 20), len(data))
        check("SIGTERM exits 0", code == 0, code)
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def test_cli(binary, qemu):
    pre = [qemu] if qemu else []
    r = subprocess.run(pre + [binary, "--help"], capture_output=True, text=True)
    flags = ["--root", "--listen", "--workers", "--allow-write", "--write-token", "--data", "--quiet",
             "--log-format"]
    check("--help documents every flag", r.returncode == 0 and all(f in r.stdout for f in flags), r.stdout[:100])
    r = subprocess.run(pre + [binary, "--root", "/tmp", "--bogus"], capture_output=True, text=True)
    check("bad flag exits 2 with a message", r.returncode == 2 and "--bogus" in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run(pre + [binary, "--root", "/tmp", "--listen", "nope"], capture_output=True, text=True)
    check("bad --listen exits 2", r.returncode == 2, r.returncode)
    r = subprocess.run(pre + [binary, "--root", "/tmp", "--log-format=bogus"], capture_output=True, text=True)
    check("--log-format=bogus exits 2 naming the formats",
          r.returncode == 2 and "--log-format takes logfmt or json, not bogus" in r.stderr,
          (r.returncode, r.stderr))


# A target with what a logfmt value must quote ('=' and a would-be field;
# the parser takes only URI characters, so no space, quote or backslash).
HOSTILE_TARGET = "/hello.txt?a=b=c&p=status=500&q='x'"
# A request line with a bare CR and a forged field: 400, logged as "-".
FORGED_LINE = "/hello.txt\rstatus=500 peer=6.6.6.6:6"


def logged_request(port, target):
    """GET `target` from a socket whose port is known: (that port, the
    reply's status)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    mine = s.getsockname()[1]
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return mine, status_of(data)


def check_access_log(srv, fmt, before):
    """GET /hello.txt and the hostile target, then the server's log lines
    in `fmt`: each parses, has the fields in order, and holds what was
    sent (peer port, path, status, bytes); `before`: time.time() before."""
    plain_port, plain = logged_request(srv.port, "/hello.txt")
    hostile_port, hostile = logged_request(srv.port, HOSTILE_TARGET)
    forged_port, forged = logged_request(srv.port, FORGED_LINE)
    after = time.time()
    # The log is written at the end of the worker's turn, maybe after the
    # client has its reply: wait for the three lines.
    peers = {f"127.0.0.1:{p}" for p in (plain_port, hostile_port, forged_port)}
    ok = wait_until(lambda: peers <= {d["peer"] for d in access_lines(srv.output(), fmt)}, 10)
    try:
        lines = access_lines(srv.output(), fmt)
    except ValueError as e:
        check(f"{fmt}: every access-log line parses", False, e)
        return
    check(f"{fmt}: every access-log line parses ({len(lines)} lines)",
          ok and plain == hostile == 200 and forged == 400, (plain, hostile, forged, srv.output()[-300:]))
    check(f"{fmt}: the fields, in order", all(list(d)[:7] == ACCESS_KEYS for d in lines),
          [list(d) for d in lines[:3]])
    mine = [d for d in lines if d["peer"] == f"127.0.0.1:{plain_port}"]
    want = {"method": "GET", "path": "/hello.txt", "status": 200, "bytes": 12}
    got = {k: mine[0][k] for k in want} if mine else None
    check(f"{fmt}: GET /hello.txt logged with its peer, path, status and bytes", got == want, (got, lines[-2:]))
    if mine:
        t = mine[0]["time"]
        m = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t)
        stamp = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() if m else 0
        check(f"{fmt}: time is RFC 3339 UTC with milliseconds, of the request ({t})",
              m is not None and before - 1 <= stamp <= after + 1, (t, before, after))
        check(f"{fmt}: duration_us is a number of microseconds",
              isinstance(mine[0]["duration_us"], int) and 0 <= mine[0]["duration_us"] < 5_000_000, mine[0])
    bad = [d for d in lines if d["peer"] == f"127.0.0.1:{hostile_port}"]
    check(f"{fmt}: a target with '=' and a would-be field comes back as sent, status intact",
          len(bad) == 1 and bad[0]["path"] == HOSTILE_TARGET and bad[0]["status"] == 200
          and list(bad[0]) == ACCESS_KEYS, bad)
    forged = [d for d in lines if d["peer"] == f"127.0.0.1:{forged_port}"]
    check(f"{fmt}: a request line with a CR and a forged field: one line, 400, method and path '-'",
          [(d["method"], d["path"], d["status"]) for d in forged] == [("-", "-", 400)]
          and not any(d["peer"].startswith("6.6.6.6") or d["status"] == 500 for d in lines), forged)


def test_error_pages(port):
    s, _, b = req(port, "BREW", "/x")
    check("501 built-in page", s == 501 and b"501" in b, (s, b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--qemu")
    ap.add_argument("--hotels", type=int, default=10000)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    tmp = tempfile.mkdtemp(prefix="bedrock-serve-e2e-")
    try:
        root = make_root(tmp)
        test_cli(binary, a.qemu)
        started = time.time()
        ro = Server(binary, root, [], qemu=a.qemu).start()
        try:
            test_basics(ro.port, root)
            test_listing_order(ro.port, root)
            test_traversal(ro.port)
            test_ranges(ro.port)
            test_conditionals(ro.port)
            test_api(ro.port)
            test_error_pages(ro.port)
            counters_move(check, "metrics summed over 2 workers", ro.port)
            check_access_log(ro, "logfmt", started)
        finally:
            ro.stop()
        js = Server(binary, root, ["--log-format", "json"], qemu=a.qemu).start()
        try:
            check_access_log(js, "json", time.time())
        finally:
            js.stop()
        token = "s3cret-token"
        rw = Server(binary, root, ["--allow-write", "--write-token", token, "--max-body", "1000000000",
                                   "--quiet"], qemu=a.qemu).start()
        try:
            test_writes(rw.port, root, token)
            test_put_atomicity(rw.port, root, token)
        finally:
            rw.stop()
        test_put_kill9(binary, root, a.qemu, token)
        test_journal(binary, root, a.qemu, tmp)
        test_journal_disk_full(binary, root, a.qemu, tmp)
        test_limits(binary, root, a.qemu)
        test_process_model(binary, root, a.qemu)
        test_hotel_concurrency(binary, root, a.qemu, a.hotels, os.path.join(tmp, "conc-data"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(REPORT.summary())


if __name__ == "__main__":
    main()
