#!/usr/bin/env python3
"""End to end: the unikernel serving the Hotel app over HTTP in QEMU.

Boots the release image with user networking and a host port forwarded to
the guest's port 80, then checks with real clients (curl and Python's
http.client): the seed's curl lines exactly, a thousand hotels POSTed over
one keep-alive connection and listed back as JSON, a name with quotes and
non-ASCII round-tripping through a JSON POST, the Host and field-text
rules (an invalid Host is 400; JSON strings kept exactly, text fields
trimmed, control characters 422), 64 concurrent clients, /metrics
counting known requests exactly,
clients that sit idle, reset mid-request or half-close not stopping others
from being served, and the connection table at and past its limit. Prints the time from QEMU's launch to the first HTTP
answer and a quick keep-alive requests/s figure. QEMU is always killed;
the whole script has a time limit.

Usage: e2e_http.py [ELF]   (default: the `make kernel` release image)
"""
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import (ACCESS_KEYS, KERNEL_ELF, Guest, Report, access_lines, exchange,  # noqa: E402
                          free_port, http_status, raw, status_of, user_netdev, wait_until)
from prom import counters_move  # noqa: E402

TOTAL_TIMEOUT = 120  # seconds for the whole script
BOOT_TIMEOUT = 10.0  # seconds to "serving HTTP"
HOTELS = 1000
CLIENTS = 64
SLOTS = 256  # bedrock_net::limits::TCP_MAX_CONNECTIONS, the kernel's slots
REQUESTS_PER_CLIENT = 3

REPORT = Report("e2e_http")
check = REPORT.check


def curl(port, *args):
    """Runs curl as the seed's lines do; returns (status, body)."""
    argv = ["curl", "-s", "-m", "10", "-w", "\n%{http_code}"] + list(args[:-1]) + \
        ["localhost:%d%s" % (port, args[-1])]
    out = subprocess.run(argv, stdout=subprocess.PIPE, timeout=15).stdout.decode()
    body, _, code = out.rpartition("\n")
    return int(code or 0), body


def first_answer(port, guest, deadline):
    """Retries GET / until it is answered; seconds since QEMU's launch."""
    if wait_until(lambda: http_status(port, "/", 0.5) == 200, deadline - time.monotonic(), 0.002):
        return time.monotonic() - guest.launched
    return None


def seed_lines(port):
    status, body = curl(port, "/")
    check("curl / -> 200 with a page (%d)" % status, status == 200 and len(body) > 0)
    status, body = curl(port, "/api/hotels")
    check("curl /api/hotels -> 200 [] (%d %r)" % (status, body[:60]),
          status == 200 and json.loads(body) == [])
    status, body = curl(port, "-X", "POST", "-d", "Hilton,Toronto", "/api/hotels")
    check("curl -X POST -d \"Hilton,Toronto\" -> 201 (%d %r)" % (status, body),
          status == 201 and json.loads(body) == {"id": 1, "name": "Hilton", "city": "Toronto"})
    status, body = curl(port, "/api/hotels/1")
    check("curl /api/hotels/1 -> 200 (%d %r)" % (status, body),
          status == 200 and json.loads(body) == {"id": 1, "name": "Hilton", "city": "Toronto"})
    status, body = curl(port, "-X", "DELETE", "/api/hotels/1")
    check("curl -X DELETE /api/hotels/1 -> 204 (%d)" % status, status == 204 and body == "")
    status, _ = curl(port, "/api/hotels/1")
    check("deleted hotel is gone -> 404 (%d)" % status, status == 404)


def thousand_hotels(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ids = {}
    t = time.monotonic()
    ok = True
    for i in range(HOTELS):
        status, _, body = exchange(c, "POST", "/api/hotels", "Hotel %d,City %d" % (i, i % 37))
        if status != 201:
            ok = False
            break
        ids[json.loads(body)["id"]] = i
    dt = time.monotonic() - t
    check("%d POSTs over one keep-alive connection (%.0f req/s)" % (HOTELS, HOTELS / dt),
          ok and len(ids) == HOTELS)
    status, _, body = exchange(c, "GET", "/api/hotels")
    c.close()
    try:
        listed = json.loads(body)
    except ValueError as e:
        listed = None
        print("e2e_http: list is not JSON: %s" % e)
    good = status == 200 and isinstance(listed, list)
    if good:
        by_id = {h["id"]: h for h in listed}
        good = all(by_id.get(k, {}).get("name") == "Hotel %d" % i and
                   by_id[k].get("city") == "City %d" % (i % 37) for k, i in ids.items())
    check("GET /api/hotels parses as JSON and holds all %d (%d bytes)" % (HOTELS, len(body)),
          good)


def unicode_roundtrip(port):
    name = 'The "Grand" Hôtel — 東京 ✓ \\ /'
    city = "Zürich"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, _, body = exchange(c, "POST", "/api/hotels",
                           json.dumps({"name": name, "city": city}).encode(),
                           {"Content-Type": "application/json"})
    made = json.loads(body) if status == 201 else {}
    status2, _, body2 = exchange(c, "GET", "/api/hotels/%s" % made.get("id", 0))
    c.close()
    got = json.loads(body2) if status2 == 200 else {}
    check("quotes and non-ASCII round-trip via JSON (%d %d)" % (status, status2),
          status == 201 and made.get("name") == name and got.get("name") == name
          and got.get("city") == city)


def host_and_field_rules(port):
    """RFC 9112 3.2: an invalid Host value is a 400. Field text: JSON strings
    are stored exactly as decoded, text fields trimmed, control characters
    refused with 422."""
    r = raw(port, b"GET /api/hotels HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n")
    check("Host: a b -> 400 (%r)" % r[:40], status_of(r) == 400)
    r = raw(port, b"GET /api/hotels/1 HTTP/1.1\r\nHost: [::1]:8888\r\nConnection: close\r\n\r\n")
    check("Host: [::1]:8888 is valid (%r)" % r[:40], status_of(r) in (200, 404))
    as_json = {"Content-Type": "application/json"}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, _, body = exchange(c, "POST", "/api/hotels",
                               json.dumps({"name": "asd ", "city": " x"}).encode(), as_json)
    made = json.loads(body) if status == 201 else {}
    status2, _, body2 = exchange(c, "GET", "/api/hotels/%s" % made.get("id", 0))
    check("JSON strings stored exactly (%d %r)" % (status, body2[:60]),
          status == 201 and made.get("name") == "asd " and made.get("city") == " x"
          and status2 == 200 and json.loads(body2) == made)
    status, _, body = exchange(c, "POST", "/api/hotels", b" Ritz \t, Paris\n")
    made = json.loads(body) if status == 201 else {}
    check("text fields trimmed (%d %r)" % (status, body[:60]),
          made.get("name") == "Ritz" and made.get("city") == "Paris")
    for label, body, headers in [("JSON \\b", json.dumps({"name": "a\bb", "city": "c"}).encode(), as_json),
                                 ("form %00", b"name=a%00&city=c",
                                  {"Content-Type": "application/x-www-form-urlencoded"}),
                                 ("text tab", b"a\tb,c", {})]:
        status, _, _ = exchange(c, "POST", "/api/hotels", body, headers)
        check("control character (%s) -> 422 (%d)" % (label, status), status == 422)
    c.close()


def concurrent(port):
    """CLIENTS connections open at once, their requests sent in parallel.

    The connections are opened one after another (each answered once) and
    only then used from CLIENTS threads: QEMU's user-network port forward
    accepts through a socket with a listen backlog of one, so a burst of
    parallel connects waits on the host's SYN-ACK retries, which under a
    loaded host outlast a client's time-out (QEMU's limit, not the
    guest's: `make run-test` shows 64 parallel connects over the tap).
    """
    results = []
    lock = threading.Lock()

    def first(n):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status, _, body = exchange(c, "GET", "/api/hotels/2")
            return c, int(status == 200 and b'"id":2' in body)
        except (OSError, http.client.HTTPException) as e:
            print("e2e_http: client %d: %r" % (n, e))
            return None, 0

    def client(n, c, ok):
        try:
            for k in range(1, REQUESTS_PER_CLIENT):
                if k == 1:
                    status, _, body = exchange(c, "POST", "/api/hotels", "C%d,Town" % n)
                    ok += status == 201
                else:
                    status, _, body = exchange(c, "GET", "/api/hotels/2")
                    ok += status == 200 and b'"id":2' in body
            c.close()
        except (OSError, http.client.HTTPException) as e:
            print("e2e_http: client %d: %r" % (n, e))
        with lock:
            results.append(ok)

    t = time.monotonic()
    opened = [first(n) for n in range(CLIENTS)]
    threads = [threading.Thread(target=client, args=(n, c, ok))
               for n, (c, ok) in enumerate(opened) if c is not None]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    dt = time.monotonic() - t
    good = sum(1 for r in results if r == REQUESTS_PER_CLIENT)
    check("%d concurrent clients x %d requests: %d all answered (%.2f s)"
          % (CLIENTS, REQUESTS_PER_CLIENT, good, dt),
          good == CLIENTS)


def served_quickly(port, what):
    t = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        status, _, _ = exchange(c, "GET", "/api/hotels/2")
        c.close()
    except (OSError, http.client.HTTPException) as e:
        status = repr(e)
    check("%s: another client served (%s in %.0f ms)"
          % (what, status, (time.monotonic() - t) * 1000),
          status == 200)


def bad_clients(port):
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    served_quickly(port, "one client idle")
    # Half a request, then a reset (SO_LINGER 0 close).
    rst = socket.create_connection(("127.0.0.1", port), timeout=5)
    rst.sendall(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nHalf,")
    time.sleep(0.1)
    rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rst.close()
    served_quickly(port, "a client reset mid-request")
    # Half a head, then a half-close.
    half = socket.create_connection(("127.0.0.1", port), timeout=5)
    half.sendall(b"GET /api/hot")
    half.shutdown(socket.SHUT_WR)
    served_quickly(port, "a client half-closed mid-head")
    half.settimeout(5)
    try:
        rest = half.recv(4096)
        closed = rest == b"" or rest.startswith(b"HTTP/1.1 4")
    except OSError:
        closed = True
    check("the half-closed client is answered or closed", closed)
    half.close()
    # Vanished: a request head never finished, socket left open.
    gone = socket.create_connection(("127.0.0.1", port), timeout=5)
    gone.sendall(b"GET /api/hotels HTTP/1.1\r\nHo")
    served_quickly(port, "a client stalled mid-head")
    idle.close()
    gone.close()


def slot_limit(port):
    """SLOTS keep-alive connections, each served once, fill the table; one
    more is refused (RST from the guest: the client sees EOF or a reset,
    never a hang); the SLOTS connections still work; once one closes, a
    new connection is served. All within the 5 s keep-alive idle timeout."""
    get = b"GET /api/hotels/2 HTTP/1.1\r\nHost: x\r\n\r\n"

    def answered(sock):
        sock.sendall(get)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                return False
            data += chunk
        return data.startswith(b"HTTP/1.1 200")

    conns = []
    try:
        t = time.monotonic()
        for _ in range(SLOTS):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            conns.append(s)
            if not answered(s):
                break
        check("%d keep-alive connections open and served (%.2f s)"
              % (len(conns), time.monotonic() - t),
              len(conns) == SLOTS)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            refused = not answered(extra)
        except OSError:
            refused = True
        extra.close()
        check("connection %d is refused (no answer, no hang)" % (SLOTS + 1), refused)
        still = sum(1 for s in conns if answered(s))
        check("the %d connections are still served (%d)" % (SLOTS, still), still == SLOTS)
        conns.pop().close()
        time.sleep(0.2)
        served_quickly(port, "one of %d closed" % SLOTS)
    except OSError as e:
        check("slot limit: %r" % e, False)
    finally:
        for s in conns:
            s.close()
    # The closed connections free their slots once their FIN exchanges end;
    # until then a new connection may still find the table full.
    if not wait_until(lambda: http_status(port, "/api/hotels/2", 0.5) == 200, 3):
        check("slots free again within 3 s of closing the %d connections" % SLOTS, False)


def keepalive_rate(port, seconds=2.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    n = 0
    end = time.monotonic() + seconds
    t = time.monotonic()
    while time.monotonic() < end:
        status, _, _ = exchange(c, "GET", "/api/hotels/2")
        if status != 200:
            break
        n += 1
    c.close()
    rate = n / (time.monotonic() - t)
    print("e2e_http: keep-alive GET /api/hotels/2, 1 connection: %.0f req/s" % rate)


def access_log(guest, port):
    """The console's access lines (logfmt, the default BEDROCK_LOG_FORMAT):
    each parses with the hosted server's fields but `uptime_us` for
    `time`; GET /api/hotels/2 is there with its peer (the host, behind
    QEMU's user network: 10.0.2.2), status and bytes; an unreadable
    request line (a bare CR and a forged field in it) is logged as '-'."""
    forged = raw(port, b"GET /api/hotels\rstatus=500 peer=6.6.6.6:6 HTTP/1.1\r\nHost: x\r\n\r\n")
    check("a request line with a bare CR is refused (400)", status_of(forged) == 400, forged[:60])
    wait_until(lambda: guest.find("status=400") is not None, 2)
    text = "\n".join(line for _, line in guest.lines())
    try:
        lines = access_lines(text)
    except ValueError as e:
        check("every access line on the console parses as logfmt", False, e)
        return
    keys = ["uptime_us"] + ACCESS_KEYS[1:]
    check("every access line on the console parses as logfmt, its fields in order (%d lines)" % len(lines),
          lines and all(list(d) == keys for d in lines), lines[:2])
    hotel = [d for d in lines if (d["method"], d["path"], d["status"]) == ("GET", "/api/hotels/2", 200)]
    check("GET /api/hotels/2 logged with the peer's address and port, its bytes and duration",
          hotel and re.fullmatch(r"10\.0\.2\.2:\d+", hotel[0]["peer"]) and hotel[0]["bytes"] > 0
          and hotel[0]["duration_us"] >= 0, hotel[:1] or lines[-3:])
    ups = [d["uptime_us"] for d in lines]
    check("uptime_us never goes back", ups == sorted(ups), ups[:10])
    check("an unreadable request is logged with method and path '-' (400), no forged field",
          any(d["method"] == "-" and d["path"] == "-" and d["status"] == 400 for d in lines)
          and not any(d["peer"].startswith("6.6.6.6") or d["status"] == 500 for d in lines),
          [d for d in lines if d["status"] >= 400][:3])


def main():
    elf = sys.argv[1] if len(sys.argv) > 1 else KERNEL_ELF
    port = free_port()
    guest = Guest(elf, user_netdev(port))

    def on_alarm(_sig, _frame):
        print("e2e_http: FAIL: over %d s; console:\n%s" % (TOTAL_TIMEOUT, guest.console()))
        guest.stop()
        os._exit(1)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TOTAL_TIMEOUT)
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT
        first = first_answer(port, guest, deadline)
        # The first answer may come before the line is printed.
        serving = guest.wait_for("serving HTTP", deadline - time.monotonic())
        if first is None or serving is None:
            print("e2e_http: FAIL: no HTTP answer or no 'serving HTTP' within %.0f s; console:\n%s"
                  % (BOOT_TIMEOUT, guest.console()))
            return 1
        print("e2e_http: QEMU launch -> 'serving HTTP' %.1f ms, -> first HTTP answer %.1f ms"
              % (serving * 1000, first * 1000))
        seed_lines(port)
        thousand_hotels(port)
        unicode_roundtrip(port)
        host_and_field_rules(port)
        concurrent(port)
        bad_clients(port)
        slot_limit(port)
        keepalive_rate(port)
        counters_move(check, "metrics", port)
        if not guest.running():
            check("QEMU still running (exited %s)" % guest.proc.returncode, False)
        access_log(guest, port)
    finally:
        guest.stop()
        signal.alarm(0)
    if REPORT.failed:
        print("e2e_http: console tail:\n%s" % guest.console())
    return REPORT.summary()


if __name__ == "__main__":
    sys.exit(main())
