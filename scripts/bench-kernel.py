#!/usr/bin/env python3
"""wrk against the unikernel in QEMU, over QEMU user networking (hostfwd,
what `make run` uses without root), over a tap device in a network
namespace (host client -> tap -> guest, no slirp: the guest's own ceiling),
and over `make run`'s path as root (127.0.0.1 -> scripts/forward.py -> the
same tap).

For each workload: requests/s, latency percentiles, errors, and what the
guest spent per request, from its console counters read before and after
the run ('c' on the serial console): CPU time outside WFI, interrupts,
frames and doorbells. One more boot under `-icount shift=0` (one guest
nanosecond per instruction) turns the guest's busy time into instructions
per request. Also times QEMU launch -> first HTTP answer over several boots.

The reference is SlowAPI's 410 req/s (wrk -t2 -c16 keep-alive, best of its
runs on this kind of machine, ../shared/reference/peers.md); the issue's
goals are 30x that with 16 keep-alive connections and 2,000 req/s with a
new connection per request.

Usage: scripts/bench-kernel.py --elf SLIRP_ELF [--tap-elf TAP_ELF] [--seconds N]
The images should be built with BEDROCK_LOG=warn (no per-request log line).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from bedrock_test import Guest, free_port, raw, user_netdev, wait_until  # noqa: E402

SLOWAPI_KEEPALIVE_RPS = 410
GOAL_KEEPALIVE_RPS = 30 * SLOWAPI_KEEPALIVE_RPS
GOAL_NEW_CONN_RPS = 2000
SLOWAPI_FIRST_ANSWER_MS = (63, 78)
TAP_HOST_IP = "10.0.4.1"
TAP_GUEST_IP = "10.0.4.15"
PATH = "/api/hotels/1"
BOOT_RUNS = 5
FORWARDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forward.py")

# (name, wrk threads, connections, extra wrk args)
WORKLOADS = [
    ("keep-alive c=1", 1, 1, []),
    ("keep-alive c=16", 2, 16, []),
    ("keep-alive c=64", 2, 64, []),
    ("new conn c=1", 1, 1, ["-H", "Connection: close"]),
    ("new conn c=16", 2, 16, ["-H", "Connection: close"]),
    # Past the hostfwd backlog of one: what `make run`'s forwarder is for.
    ("new conn c=64", 2, 64, ["-H", "Connection: close"]),
]


def wait_http(guest, host, port, timeout, prefix=()):
    """Polls GET / until the guest answers (benchmark images log nothing
    at start-up). Returns the milliseconds since QEMU was launched."""
    while time.monotonic() - guest.launched < timeout:
        if not guest.running():
            break
        try:
            if prefix:
                ok = subprocess.run(list(prefix) + ["curl", "-sf", "-m", "0.5", "-o", "/dev/null",
                                                    f"http://{host}:{port}/"]).returncode == 0
            else:
                ok = http_get(host, port, "/", timeout=0.5).startswith(b"HTTP/1.1 200")
            if ok:
                return (time.monotonic() - guest.launched) * 1000
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit(f"bench-kernel: the guest did not answer HTTP within {timeout} s:\n{guest.console(None)}")


def answers(host, port):
    """Whether GET / on a new connection gets a 200."""
    try:
        return http_get(host, port, "/", timeout=0.5).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def http_get(host, port, path, timeout=5):
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
               timeout=timeout, host=host)


def http_post(host, port, path, body):
    return raw(port, (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n{body}").encode(), host=host)


def parse_wrk(out):
    def ms(v):
        n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
        return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for p in ("50", "90", "99"):
        r["p" + p] = ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1))
    r["max"] = ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1))
    r["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["errors"] = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return r


def run_workloads(guest, host, port, seconds, prefix=()):
    rows = []
    url = f"http://{host}:{port}{PATH}"
    # Warm-up: the first connections pay ARP and QEMU's backlog-1 hostfwd.
    subprocess.run(list(prefix) + ["wrk", "-t1", "-c4", "-d1s", url], capture_output=True)
    for name, threads, conns, extra in WORKLOADS:
        before = guest.counters()
        out = subprocess.run(list(prefix) + ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s",
                                             "--latency", *extra, url],
                             capture_output=True, text=True).stdout
        after = guest.counters()
        r = parse_wrk(out)
        served = max(after["requests"] - before["requests"], 1)
        d = {k: after[k] - before[k] for k in after if k != "tcp"}
        r["busy_us"] = d["busy_us"] / served
        r["cpu_pct"] = 100.0 * d["busy_us"] / max(d["up_us"], 1)
        r["irqs"] = (d["virtio_irqs"] + d["timer_irqs"]) / served
        r["frames"] = (d["rx"] + d["tx"]) / served
        r["retransmits"] = after["tcp"].get("retransmits", 0) - before["tcp"].get("retransmits", 0)
        rows.append((name, r))
    return rows


def print_table(title, rows):
    print(f"\n{title}")
    print("| workload | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | guest CPU | busy us/req | irqs/req | frames/req | retransmits |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | "
              f"{r['max']:.0f} | {r['errors']} | {r['cpu_pct']:.0f}% | {r['busy_us']:.1f} | "
              f"{r['irqs']:.2f} | {r['frames']:.2f} | {r['retransmits']} |")


def goals(rows, where):
    by = dict(rows)
    ka, nc = by["keep-alive c=16"]["rps"], by["new conn c=16"]["rps"]
    print(f"{where}: keep-alive c=16 {ka:.0f} req/s = {ka / SLOWAPI_KEEPALIVE_RPS:.1f}x SlowAPI's "
          f"{SLOWAPI_KEEPALIVE_RPS} (goal 30x = {GOAL_KEEPALIVE_RPS}: {'met' if ka >= GOAL_KEEPALIVE_RPS else 'NOT met'}); "
          f"new conn c=16 {nc:.0f} req/s (goal {GOAL_NEW_CONN_RPS}: "
          f"{'met' if nc >= GOAL_NEW_CONN_RPS else 'NOT met'})")


def bench_slirp(elf, seconds):
    port = free_port()
    guest = Guest(elf, user_netdev(port))
    try:
        wait_http(guest, "127.0.0.1", port, 10)
        assert b"201" in http_post("127.0.0.1", port, "/api/hotels", "Hilton,Toronto").split(b"\r\n")[0]
        rows = run_workloads(guest, "127.0.0.1", port, seconds)
    finally:
        guest.stop()
    print_table("QEMU user networking (hostfwd 127.0.0.1 -> guest:80), GET " + PATH, rows)
    goals(rows, "hostfwd")


def bench_tap(elf, seconds):
    ns = f"bedrock-bench-{os.getpid()}"

    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    try:
        sh("ip", "netns", "add", ns)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"\ntap: SKIP: cannot create a network namespace ({e})")
        return
    inns = ["ip", "netns", "exec", ns]
    guest = None
    try:
        sh(*inns, "ip", "link", "set", "lo", "up")
        sh(*inns, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        sh(*inns, "ip", "addr", "add", f"{TAP_HOST_IP}/24", "dev", "tap0")
        sh(*inns, "ip", "link", "set", "tap0", "up")
        guest = Guest(elf, "tap,id=n0,ifname=tap0,script=no,downscript=no", prefix=inns)
        wait_http(guest, TAP_GUEST_IP, 80, 10, prefix=inns)
        post = subprocess.run(inns + ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                      "-d", "Hilton,Toronto", f"http://{TAP_GUEST_IP}/api/hotels"],
                              capture_output=True, text=True).stdout
        assert post == "201", post
        rows = run_workloads(guest, TAP_GUEST_IP, 80, seconds, prefix=inns)
        # `make run`'s path as root: the same guest behind scripts/forward.py.
        fport = free_port()
        forwarder = subprocess.Popen([sys.executable, FORWARDER, "--listen", f"127.0.0.1:{fport}",
                                      "--target", f"{TAP_GUEST_IP}:80", "--netns", ns])
        try:
            if not wait_until(lambda: answers("127.0.0.1", fport), 10):
                sys.exit(f"bench-kernel: no answer through scripts/forward.py on 127.0.0.1:{fport} within 10 s")
            fwd_rows = run_workloads(guest, "127.0.0.1", fport, seconds)
        finally:
            forwarder.terminate()
            forwarder.wait()
    finally:
        if guest:
            guest.stop()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    print_table(f"tap device in a network namespace (no slirp), GET {PATH}", rows)
    goals(rows, "tap")
    print_table(f"make run as root: 127.0.0.1 -> scripts/forward.py -> tap -> guest:80, GET {PATH}", fwd_rows)
    goals(fwd_rows, "make run (forwarder)")


def instructions_per_request(elf):
    """Guest instructions per request, from a boot under -icount shift=0."""
    port = free_port()
    guest = Guest(elf, user_netdev(port), icount=True)
    try:
        wait_http(guest, "127.0.0.1", port, 30)
        http_post("127.0.0.1", port, "/api/hotels", "Hilton,Toronto")
        url = f"http://127.0.0.1:{port}{PATH}"
        print("\nguest instructions per request (-icount shift=0: busy ns = instructions):")
        for name, extra in (("keep-alive", []), ("new connection", ["-H", "Connection: close"])):
            before = guest.counters()
            subprocess.run(["wrk", "-t1", "-c1", "-d3s", *extra, url], capture_output=True)
            after = guest.counters()
            n = max(after["requests"] - before["requests"], 1)
            insns = (after["busy_us"] - before["busy_us"]) * 1000 / n
            frames = ((after["rx"] - before["rx"]) + (after["tx"] - before["tx"])) / n
            print(f"  {name}: {insns:,.0f} instructions/request over {n} requests, {frames:.1f} frames/request")
    finally:
        guest.stop()


def first_answer(elf):
    times = []
    for _ in range(BOOT_RUNS):
        port = free_port()
        guest = Guest(elf, user_netdev(port))
        try:
            times.append(wait_http(guest, "127.0.0.1", port, 10))
        finally:
            guest.stop()
    print(f"\nQEMU launch -> first HTTP answer over {BOOT_RUNS} boots: "
          f"min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
          f"(SlowAPI: {SLOWAPI_FIRST_ANSWER_MS[0]}-{SLOWAPI_FIRST_ANSWER_MS[1]} ms)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elf", required=True)
    ap.add_argument("--tap-elf")
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    print(f"wrk, {a.seconds} s per workload, {os.cpu_count()} host CPUs (shared with QEMU's threads)")
    bench_slirp(a.elf, a.seconds)
    if a.tap_elf:
        bench_tap(a.tap_elf, a.seconds)
    instructions_per_request(a.elf)
    first_answer(a.elf)


if __name__ == "__main__":
    main()
