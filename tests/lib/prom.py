"""What the end-to-end scripts share about /metrics: scraping a server,
reading the Prometheus text exposition format (0.0.4) back into numbers,
`promtool check metrics`, and a real Prometheus server scraping targets.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from bedrock_test import free_port, http_request

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# One sample line: name, optional {labels}, value (no timestamps here).
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """The samples of an exposition as {(name, ((label, value), ...)): float},
    labels sorted; raises ValueError on a line that is neither a comment
    nor a sample."""
    samples = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise ValueError("not a sample line: %r" % line)
        name, labels, value = m.groups()
        pairs = tuple(sorted(LABEL.findall(labels or "")))
        samples[(name, pairs)] = float(value)
    return samples


def series(name, **labels):
    """The key of one sample in parse()'s result."""
    return (name, tuple(sorted(labels.items())))


def scrape(port, host="127.0.0.1"):
    """GET /metrics: (status, content type, cache-control, text)."""
    status, headers, body = http_request(port, "GET", "/metrics", host=host)
    return status, headers.get("content-type"), headers.get("cache-control"), body.decode()


def promtool(text):
    """`promtool check metrics` on `text`: (exit status, its output)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace").strip()


class Prometheus:
    """Debian's prometheus on a free port of 127.0.0.1, scraping `targets`
    ("host:port" each, job "bedrock") every second, its storage in a
    temporary directory; stop() ends it and removes the directory."""

    def __init__(self, targets):
        self.dir = tempfile.mkdtemp(prefix="bedrock-prometheus-")
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: bedrock\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join('"%s"' % t for t in targets))
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def query(self, expr):
        """The result vector of an instant query, or None if the API did
        not answer."""
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.port, urllib.parse.quote(expr))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                answer = json.load(r)
        except OSError:
            return None
        return answer["data"]["result"] if answer.get("status") == "success" else None

    def wait_for(self, expr, want, seconds):
        """Polls `expr` until `want(result)`; the last result (None if it
        never answered)."""
        deadline = time.monotonic() + seconds
        result = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            result = self.query(expr)
            if result is not None and want(result):
                return result
            time.sleep(0.25)
        return result

    def output(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def requests_of(samples, method, status):
    return samples.get(series("bedrock_http_requests_total", method=method, status=status), 0)


def counters_move(check, where, port):
    """Scrapes `port`'s /metrics, makes known requests that change nothing
    (each on a new connection), scrapes again, and checks that the
    counters moved by exactly what they made."""
    status, ctype, cache, text = scrape(port)
    check(f"{where}: GET /metrics -> 200, {CONTENT_TYPE}, no-store",
          (status, ctype, cache) == (200, CONTENT_TYPE, "no-store"), (status, ctype, cache))
    try:
        before = parse(text)
    except ValueError as e:
        check(f"{where}: /metrics is the text format", False, e)
        return
    sent = 0
    for path in ["/api/hotels"] * 3 + ["/api/hotels/999999"]:
        s, _, _ = http_request(port, "GET", path)
        sent += len("GET %s HTTP/1.1\r\n" % path)
        check(f"{where}: GET {path} answered", s in (200, 404), s)
    s, _, _ = http_request(port, "DELETE", "/api/hotels/999999")
    check(f"{where}: DELETE of no hotel -> 404", s == 404, s)
    s, h, body = http_request(port, "HEAD", "/metrics")
    check(f"{where}: HEAD /metrics -> 200, no body", (s, body) == (200, b"")
          and h.get("content-type") == CONTENT_TYPE, (s, body[:40]))
    status, _, _, text = scrape(port)
    after = parse(text)

    def moved(key):
        return after.get(key, 0) - before.get(key, 0)

    # The second scrape counts itself: its request is logged when its
    # reply's head is queued, before the page is written.
    for (method, status_class, n) in [("GET", "2xx", 4), ("GET", "4xx", 1), ("DELETE", "4xx", 1),
                                      ("HEAD", "2xx", 1), ("POST", "2xx", 0)]:
        got = requests_of(after, method, status_class) - requests_of(before, method, status_class)
        check(f"{where}: {method} {status_class} requests +{n}", got == n, got)
    count = moved(series("bedrock_http_request_duration_seconds_count"))
    inf = moved(series("bedrock_http_request_duration_seconds_bucket", le="+Inf"))
    check(f"{where}: 7 more request durations (+Inf bucket too)", (count, inf) == (7, 7), (count, inf))
    accepted = moved(series("bedrock_http_accepted_connections_total"))
    check(f"{where}: 7 more connections accepted", accepted == 7, accepted)
    received = moved(series("bedrock_http_received_bytes_total"))
    check(f"{where}: received bytes grew by the requests' at least", received >= sent, (received, sent))
    out = moved(series("bedrock_http_sent_bytes_total"))
    check(f"{where}: sent bytes grew", out > 0, out)
    open_now = after.get(series("bedrock_http_open_connections"), -1)
    check(f"{where}: open connections counts the scrape's own", 1 <= open_now <= 8, open_now)
