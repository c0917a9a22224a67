#!/usr/bin/env python3
"""`make image-test`: the OCI image of `make image` run with podman, as an
operator would, and talked to over HTTP:

- the image is under IMAGE_LIMIT_BYTES and runs as a numeric non-root user;
- `podman run` (read-only root file system, a site mounted read-only on
  /srv, a named volume on /data) to the first answer, timed;
- a file of the mounted site; POST /api/hotels; the image's HEALTHCHECK
  (`podman healthcheck run`, since these machines have no systemd to run
  its timer);
- `podman restart` keeps the hotel, and so does a new container on the
  same volume;
- the container, its volume and its site are removed at the end.

Skips (status 0, saying why) when podman is missing or cannot run a
container here.

Usage: image_test.py [--image localhost/bedrock-serve:latest]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import Report, free_port, http_request, wait_until  # noqa: E402

IMAGE_LIMIT_BYTES = 1_000_000
# The user deploy/Containerfile sets.
IMAGE_USER = "10001:10001"
FIRST_ANSWER_TIMEOUT_S = 15
# These machines' cgroup set-up needs runc and explicit limits
# (../shared/reference/platform.md, "Containers").
PODMAN = ["podman", "--runtime", "runc"]
RUN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
SITE_FILE = "hello.txt"
SITE_TEXT = b"served from the mounted directory\n"


def podman(*args, check=False):
    return subprocess.run(PODMAN + list(args), capture_output=True, text=True, check=check)


def get(port, path):
    try:
        return http_request(port, "GET", path, timeout=2)
    except OSError:
        return None, {}, b""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", default="localhost/bedrock-serve:latest")
    a = ap.parse_args()
    report = Report("image-test")
    if shutil.which("podman") is None:
        report.say("SKIP: podman is not installed (scripts/setup.sh container installs it)")
        return 0
    smoke = podman("run", "--rm", *RUN_LIMITS, a.image, "--help")
    if smoke.returncode != 0:
        report.say("SKIP: podman cannot run a container here: " + (smoke.stderr.strip().splitlines() or ["?"])[-1])
        return 0

    info = json.loads(podman("image", "inspect", a.image, check=True).stdout)[0]
    size = info["Size"]
    report.check(f"image size {size:,} bytes, under {IMAGE_LIMIT_BYTES:,}", size < IMAGE_LIMIT_BYTES)
    user = info["Config"].get("User", "")
    report.check(f"runs as the numeric non-root user {IMAGE_USER}", user == IMAGE_USER, repr(user))
    health = (info.get("Healthcheck") or info["Config"].get("Healthcheck") or {}).get("Test") or []
    report.check(f"has a HEALTHCHECK ({' '.join(health)})", "/bedrock-probe" in health, repr(health))

    tag = f"bedrock-image-test-{os.getpid()}"
    volume = tag + "-data"
    site = tempfile.mkdtemp(prefix="bedrock-image-site-")
    with open(os.path.join(site, SITE_FILE), "wb") as f:
        f.write(SITE_TEXT)
    os.chmod(site, 0o755)
    port = free_port()
    run = ["run", "-d", "--name", tag, *RUN_LIMITS, "--read-only", "-p", f"127.0.0.1:{port}:8080",
           "-v", f"{site}:/srv:ro", "-v", f"{volume}:/data", a.image]
    try:
        podman("volume", "create", volume, check=True)
        started = time.monotonic()
        out = podman(*run)
        if not report.check("podman run starts the container", out.returncode == 0, out.stderr):
            return report.summary()
        up = wait_until(lambda: get(port, "/" + SITE_FILE)[0] == 200, FIRST_ANSWER_TIMEOUT_S, 0.005)
        first_ms = (time.monotonic() - started) * 1000
        report.check(f"podman run to the first answer: {first_ms:.0f} ms", up, podman("logs", tag).stdout)
        status, _, body = get(port, "/" + SITE_FILE)
        report.check("GET /hello.txt serves the file of the mounted directory", status == 200 and body == SITE_TEXT,
                     (status, body))
        top = podman("top", tag, "user", "huser").stdout.split()
        report.check("the server's processes run as user 10001 (podman top)", "10001" in top and "root" not in top,
                     top)
        hc = podman("healthcheck", "run", tag)
        report.check("the HEALTHCHECK passes (podman healthcheck run)", hc.returncode == 0, hc.stdout + hc.stderr)

        status, headers, body = http_request(port, "POST", "/api/hotels", body=b"Ritz,Paris", timeout=5)
        created = status == 201 and json.loads(body).get("name") == "Ritz"
        report.check("POST /api/hotels creates a hotel (201)", created, (status, body))
        where = headers.get("location", "/api/hotels/1")

        def hotel_kept(what):
            ok = wait_until(lambda: get(port, where)[0] == 200, FIRST_ANSWER_TIMEOUT_S, 0.02)
            status, _, body = get(port, where)
            report.check(f"{what}: GET {where} still has the hotel", ok and b"Ritz" in body, (status, body))

        out = podman("restart", tag)
        report.check("podman restart", out.returncode == 0, out.stderr)
        hotel_kept("after podman restart")
        podman("rm", "-f", tag)
        out = podman(*run)
        report.check("a new container on the same volume starts", out.returncode == 0, out.stderr)
        hotel_kept("in a new container on the same data volume")
    finally:
        podman("rm", "-f", "-v", tag)
        podman("volume", "rm", "-f", volume)
        shutil.rmtree(site, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
