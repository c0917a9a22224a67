#!/usr/bin/env python3
"""/metrics on both servers checked by Prometheus's own tools (issue 17):
the unikernel in QEMU (user networking, a forwarded port) and
bedrock-serve (2 workers, 1 s head and keep-alive timeouts) each get some
traffic, then:

- `promtool check metrics` passes on both pages (format and lint);
- the page holds what each server must expose (the unikernel: interface
  and TCP counters, drops by reason, virtio queues, CPU busy and idle);
- deadlines are counted: a head left half-sent gets 408 and moves
  `timeouts{kind="head"}`, a connection left idle moves `kind="idle"`;
- a real Prometheus server (Debian's `prometheus`, scrape interval 1 s, a
  temporary storage directory, a free port on 127.0.0.1) scrapes both, and
  its HTTP API says `up` is 1 for each and returns a bedrock metric.

The counters' exact movements under known requests are checked in the
servers' own suites (tests/kernel/e2e_http.py, tests/server/e2e.py).
Everything it starts is stopped; the whole script has a time limit.

Usage: metrics_test.py --server SERVER_BIN --kernel KERNEL_ELF
"""
import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import Guest, Report, Server, free_port, http_request, raw, status_of, user_netdev  # noqa: E402
from prom import Prometheus, parse, promtool, scrape, series  # noqa: E402

TOTAL_TIMEOUT = 90  # seconds for the whole script
BOOT_TIMEOUT = 10.0
PROMETHEUS_TIMEOUT = 30.0  # seconds for Prometheus to start and scrape both
KERNEL_IDLE_S = 5  # bedrock_conn::IDLE_TIMEOUT_US, the unikernel's

REPORT = Report("metrics")
check = REPORT.check


def traffic(port):
    """A few requests of several kinds, so no family is all zeros."""
    for method, path in [("GET", "/api/hotels"), ("POST", "/api/hotels"), ("GET", "/api/hotels/1"),
                         ("GET", "/nope"), ("BREW", "/"), ("GET", "/healthz")]:
        http_request(port, method, path, body=b"Ritz,Paris" if method == "POST" else None)


def promtool_passes(where, port):
    """The page passes promtool; returns it parsed."""
    status, _, _, text = scrape(port)
    code, out = promtool(text)
    check(f"{where}: promtool check metrics passes ({len(text)} bytes)", status == 200 and code == 0,
          out[:2000])
    return parse(text)


def kernel_page(m):
    wanted = [
        series("bedrock_net_rx_frames_total"),
        series("bedrock_net_tx_frames_total"),
        series("bedrock_net_dropped_packets_total", reason="not_for_us"),
        series("bedrock_net_arp_requests_sent_total"),
        series("bedrock_tcp_segs_in_total"),
        series("bedrock_tcp_retransmits_total"),
        series("bedrock_tcp_timeouts_total"),
        series("bedrock_tcp_resets_sent_total"),
        series("bedrock_tcp_sack_recoveries_total"),
        series("bedrock_tcp_dropped_segments_total", reason="bad_checksum"),
        series("bedrock_virtio_queue_size", device="net", queue="rx"),
        series("bedrock_virtio_net_rx_frames_total"),
        series("bedrock_cpu_seconds_total", mode="busy"),
        series("bedrock_cpu_seconds_total", mode="idle"),
    ]
    missing = [k for k in wanted if k not in m]
    check("unikernel: the stack's, virtio's and the CPU's series are there", not missing, missing)
    check("unikernel: frames and segments counted",
          m.get(wanted[0], 0) > 0 and m.get(wanted[4], 0) > 0, (m.get(wanted[0]), m.get(wanted[4])))
    busy, idle = m.get(wanted[12], 0), m.get(wanted[13], 0)
    check("unikernel: CPU busy and idle seconds both counted", busy > 0 and idle > 0, (busy, idle))


def timeouts(m):
    return {k: m.get(series("bedrock_http_timeouts_total", kind=k), 0) for k in ("head", "idle")}


def head_timeout(where, port, wait):
    """A head left half-sent gets 408 once the head deadline passed."""
    before = timeouts(parse(scrape(port)[3]))
    got = raw(port, b"GET / HTTP/1.1\r\nHo", timeout=wait + 5)
    after = timeouts(parse(scrape(port)[3]))
    check(f"{where}: a half-sent head gets 408 and counts a head timeout",
          status_of(got) == 408 and after["head"] - before["head"] == 1, (got[:40], before, after))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--kernel", required=True)
    a = ap.parse_args()
    for tool in ("promtool", "prometheus"):
        if shutil.which(tool) is None:
            print("metrics: FAIL: no %s (make metrics-test installs Debian's prometheus)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="bedrock-metrics-")
    os.makedirs(os.path.join(tmp, "www"))
    kport = free_port()
    guest = Guest(os.path.abspath(a.kernel), user_netdev(kport))
    srv = Server(os.path.abspath(a.server), os.path.join(tmp, "www"),
                 ["--head-timeout", "1", "--keepalive-timeout", "1"], workers=2)
    prom = None
    idle = []

    def on_alarm(_sig, _frame):
        print("metrics: FAIL: over %d s" % TOTAL_TIMEOUT)
        guest.stop()
        srv.stop()
        if prom:
            prom.stop()
        os._exit(1)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TOTAL_TIMEOUT)
    try:
        srv.start()
        if guest.wait_for("serving HTTP", BOOT_TIMEOUT) is None:
            check("unikernel boots", False, guest.console())
            return REPORT.summary()
        # Connections that send nothing: each server's idle deadline
        # closes them (1 s here, 5 s on the unikernel).
        idle_started = time.monotonic()
        idle_before = {}
        for where, port in (("unikernel", kport), ("bedrock-serve", srv.port)):
            idle_before[where] = timeouts(parse(scrape(port)[3]))["idle"]
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        for where, port in (("unikernel", kport), ("bedrock-serve", srv.port)):
            traffic(port)
            m = promtool_passes(where, port)
            if where == "unikernel":
                kernel_page(m)
        head_timeout("bedrock-serve", srv.port, 1)

        prom = Prometheus(["127.0.0.1:%d" % kport, "127.0.0.1:%d" % srv.port])
        up = prom.wait_for("up", lambda r: len(r) == 2 and all(x["value"][1] == "1" for x in r),
                           PROMETHEUS_TIMEOUT)
        check("Prometheus scrapes both servers: up == 1 for each",
              up is not None and len(up) == 2 and all(x["value"][1] == "1" for x in up),
              (up, prom.output()[-1500:]))
        gets = prom.wait_for('bedrock_http_requests_total{method="GET",status="2xx"}',
                             lambda r: len(r) == 2 and all(float(x["value"][1]) > 0 for x in r), 5)
        check("Prometheus has both servers' GET 2xx counts",
              gets is not None and len(gets) == 2 and all(float(x["value"][1]) > 0 for x in gets), gets)
        segs = prom.wait_for("bedrock_tcp_segs_in_total", lambda r: len(r) == 1, 5)
        check("Prometheus has the unikernel's TCP segments",
              segs is not None and len(segs) == 1 and float(segs[0]["value"][1]) > 0, segs)

        time.sleep(max(0.0, idle_started + KERNEL_IDLE_S + 0.5 - time.monotonic()))
        for where, port in (("unikernel", kport), ("bedrock-serve", srv.port)):
            after = timeouts(parse(scrape(port)[3]))["idle"]
            check(f"{where}: a connection left idle counts an idle timeout",
                  after - idle_before[where] >= 1, (idle_before[where], after))
        if not guest.running():
            check("QEMU still running", False, guest.console())
    finally:
        signal.alarm(0)
        for s in idle:
            s.close()
        if prom:
            prom.stop()
        srv.stop()
        guest.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return REPORT.summary()


if __name__ == "__main__":
    sys.exit(main())
