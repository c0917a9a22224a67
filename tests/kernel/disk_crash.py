#!/usr/bin/env python3
"""The unikernel keeps what it acknowledged (issue 14): the Hotel app on a
virtio-blk disk, QEMU killed with SIGKILL in the middle of concurrent
changes, booted again on the same disk.

1. 2,000 POSTs from 16 keep-alive clients, SIGKILL after about half were
   acknowledged: after the reboot every hotel whose 201 reached its client
   is there as acknowledged, none is there twice, and the next id is above
   every id handed out (no reuse).
2. The same with PUT and DELETE mixed in, against a model of what was
   acknowledged (an id whose change was in flight at the kill may show
   either side of it).
3. The same on a disk small enough that the journal is compacted again
   and again during the load (a snapshot to the other region, then the
   header switched), the SIGKILL landing wherever it lands.
4. A full disk: POSTs until 507, every acknowledged hotel kept; DELETEs
   still work (they shrink the snapshot that makes room), and POSTs work
   again after them; all of it survives a reboot. GET /readyz is 503
   ("not ready: the disk is full") from the first 507 until a change is
   committed again, then 200; /healthz is 200 throughout.
5. A failing device: the image on a tmpfs too small for it (as root), so
   the host's writes fail with ENOSPC and the guest sees I/O errors:
   503 from the first failed commit on, GET /readyz 503 ("not ready:
   the disk failed") for good (the disk is not used again; /healthz
   stays 200), and a reboot on a copy of the image finds exactly what
   was acknowledged.
6. Damage: a corrupted last record, and a corrupted record in the middle:
   the journal ends before it (the records after a damaged one are not
   trusted), and the app serves what came before.

Usage: tests/kernel/disk_crash.py KERNEL_ELF
"""
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import Guest, Report, access_lines, free_port, user_netdev, wait_until  # noqa: E402

CLIENTS = 16
POSTS = 2000
KILL_AFTER = 1000
DISK_BYTES = 16 * 1024 * 1024
# Regions of 32 KiB: compacted every few hundred changes under the load.
COMPACTING_DISK_BYTES = 64 * 1024 + 2 * 512
# Regions of 16 KiB: full after a few hundred hotels.
FULL_DISK_BYTES = 32 * 1024 + 2 * 512
# The tmpfs under a 16 MiB sparse image: room for a few thousand records.
FAILING_FS_BYTES = 160 * 1024
SECTOR = 512
BOOT_TIMEOUT_S = 30
report = Report("disk_crash")
check = report.check


def probes(port, what, ready_body):
    """Checks GET /readyz answers 200 (`ready_body` None) or 503 with
    `ready_body`, and GET /healthz 200, on a new connection each."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/readyz")
    r = c.getresponse()
    got = (r.status, r.read())
    c.close()
    want = (200, b"ready\n") if ready_body is None else (503, ready_body)
    check(f"{what}: GET /readyz is {want[0]} {want[1]!r}", got == want, got)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/healthz")
    r = c.getresponse()
    got = (r.status, r.read())
    c.close()
    check(f"{what}: GET /healthz is 200 (alive)", got == (200, b"ok\n"), got)


def boot(elf, disk, disk_errors=False):
    port = free_port()
    guest = Guest(elf, user_netdev(port), disk=disk, disk_errors=disk_errors)
    up = guest.wait_for("serving HTTP on port 80", BOOT_TIMEOUT_S)
    if not up:
        raise RuntimeError("no boot:\n" + guest.console())
    return guest, port


def listed(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/api/hotels")
    body = c.getresponse().read()
    c.close()
    return json.loads(body)


class Load:
    """CLIENTS threads changing hotels over keep-alive connections until
    told to stop or the work runs out; what was acknowledged, by id."""

    def __init__(self, port, mix):
        self.port, self.mix = port, mix
        self.lock = threading.Lock()
        self.acked = {}        # id -> (name, city) or None (deleted), as acknowledged
        self.in_flight = {}    # thread -> (id or None, the change it sent)
        self.posts_acked = 0
        self.posts_left = POSTS
        self.ids_seen = set()
        self.duplicated_ids = 0
        self.stop = threading.Event()

    def run(self, t):
        rng = random.Random(t)
        mine = []
        made = 0
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while not self.stop.is_set():
                with self.lock:
                    if self.posts_left == 0:
                        return
                kind = "POST"
                if self.mix and mine and rng.random() < 0.4:
                    kind = rng.choice(["PUT", "DELETE"])
                if kind == "POST":
                    with self.lock:
                        self.posts_left -= 1
                    name = f"h{t}-{made}"
                    made += 1
                    with self.lock:
                        self.in_flight[t] = (None, (name, "Town"))
                    c.request("POST", "/api/hotels", f"{name},Town")
                    r = c.getresponse()
                    body = r.read()
                    if r.status != 201:
                        continue
                    record = json.loads(body)
                    with self.lock:
                        if record["id"] in self.ids_seen:
                            self.duplicated_ids += 1
                        self.ids_seen.add(record["id"])
                        self.acked[record["id"]] = (name, "Town")
                        self.posts_acked += 1
                        del self.in_flight[t]
                    mine.append(record["id"])
                else:
                    hid = rng.choice(mine)
                    change = None if kind == "DELETE" else (f"p{t}-{rng.randrange(10**6)}", "Moved")
                    with self.lock:
                        self.in_flight[t] = (hid, change)
                    if kind == "DELETE":
                        c.request("DELETE", f"/api/hotels/{hid}")
                    else:
                        c.request("PUT", f"/api/hotels/{hid}", f"{change[0]},{change[1]}")
                    r = c.getresponse()
                    r.read()
                    with self.lock:
                        if r.status in (200, 204):
                            self.acked[hid] = change
                        del self.in_flight[t]
                    if kind == "DELETE" and r.status == 204:
                        mine.remove(hid)
        except (OSError, http.client.HTTPException, ValueError):
            return  # the kill

    def start(self):
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(CLIENTS)]
        for th in self.threads:
            th.start()

    def wait_posts(self, n, timeout):
        deadline = timeout
        while deadline > 0:
            with self.lock:
                if self.posts_acked >= n or self.posts_left == 0:
                    return True
            self.stop.wait(0.05)
            deadline -= 0.05
        return False


def crash_run(elf, mix, disk_bytes=DISK_BYTES, what=None):
    what = what or ("POST, PUT and DELETE" if mix else "POSTs")
    disk = tempfile.NamedTemporaryFile(prefix="bedrock-disk-", suffix=".img", delete=False).name
    os.truncate(disk, disk_bytes)
    guest, port = boot(elf, disk)
    load = Load(port, mix)
    load.start()
    reached = load.wait_posts(KILL_AFTER, 120)
    guest.proc.kill()  # SIGKILL: no shutdown of any kind
    guest.proc.wait()
    first_console = guest.console(10**6)
    load.stop.set()
    for th in load.threads:
        th.join(10)
    check(f"{what}: {load.posts_acked} POSTs acknowledged before SIGKILL (of {POSTS})",
          reached and load.posts_acked >= KILL_AFTER, guest.console(20))
    check(f"{what}: no id was handed out twice", load.duplicated_ids == 0, load.duplicated_ids)
    guest, port = boot(elf, disk)
    try:
        got = {h["id"]: (h["name"], h["city"]) for h in listed(port)}
        names = [h[0] for h in got.values()]
        uncertain = {hid for hid, _ in load.in_flight.values() if hid is not None}
        in_flight_posts = {change[0] for hid, change in load.in_flight.values() if hid is None}
        lost, wrong = [], []
        for hid, state in load.acked.items():
            if hid in uncertain:
                continue
            if state is None:
                if hid in got:
                    wrong.append((hid, "deleted but present", got[hid]))
            elif got.get(hid) != state:
                lost.append((hid, state, got.get(hid)))
        extra = [hid for hid in got if hid not in load.acked and got[hid][0] not in in_flight_posts]
        check(f"{what}: every acknowledged change is there after the reboot "
              f"({len(load.acked)} hotels acknowledged, {len(got)} listed, {len(uncertain)} in flight at the kill)",
              not lost and not wrong, (lost[:5], wrong[:5]))
        check(f"{what}: nothing appears that was not sent", not extra, extra[:5])
        check(f"{what}: no hotel is there twice", len(names) == len(set(names)), len(names) - len(set(names)))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/api/hotels", "After,Reboot")
        new_id = json.loads(c.getresponse().read())["id"]
        check(f"{what}: ids continue without reuse (new id {new_id} > {max(load.ids_seen)})",
              new_id > max(load.ids_seen), new_id)
        return first_console
    finally:
        guest.stop()
        os.unlink(disk)


def full_disk(elf):
    disk = tempfile.NamedTemporaryFile(prefix="bedrock-disk-", suffix=".img", delete=False).name
    os.truncate(disk, FULL_DISK_BYTES)
    guest, port = boot(elf, disk)
    probes(port, "full disk: before it fills", None)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(method, path, body=None):
        c.request(method, path, body)
        r = c.getresponse()
        return r.status, r.read()

    made, status, body = [], 201, b""
    while status == 201 and len(made) < 5000:
        status, body = call("POST", "/api/hotels", f"Full {len(made)},Town")
        if status == 201:
            made.append(json.loads(body)["id"])
    check(f"full disk: POSTs get 507 once the disk is full ({len(made)} hotels on a "
          f"{FULL_DISK_BYTES // 1024} KiB disk)", status == 507 and b"disk is full" in body, (status, body))
    got = [h["id"] for h in listed(port)]
    check("full disk: every acknowledged hotel is there, nothing more", got == made, (len(got), len(made)))
    logged_as_answered(guest, len(made))
    probes(port, "full disk: after the 507", b"not ready: the disk is full\n")
    deleted = made[:100]
    statuses = {call("DELETE", f"/api/hotels/{i}")[0] for i in deleted}
    check("full disk: DELETEs work on the full disk (204)", statuses == {204}, statuses)
    probes(port, "full disk: once a DELETE is committed", None)
    again = [call("POST", "/api/hotels", f"Again {i},Town") for i in range(20)]
    check("full disk: POSTs work again after the DELETEs", all(s == 201 for s, _ in again),
          [s for s, _ in again])
    expected = made[100:] + [json.loads(b)["id"] for _, b in again]
    guest.proc.kill()
    guest.proc.wait()
    reboot_finds(elf, disk, expected, "full disk: all of it survives a SIGKILL and a reboot")


def logged_as_answered(guest, created):
    """The console's access lines for the POSTs say what each client got:
    `created` times 201, then the 507 that replaced the last one's 201
    when its commit failed (the line of a reply held for its commit is
    written when the commit ends)."""
    wait_until(lambda: guest.find("status=507") is not None, 2)
    posts = [line["status"] for line in access_lines("\n".join(text for _, text in guest.lines()))
             if line["method"] == "POST"]
    check(f"full disk: the access log has {created} POSTs 201 and then one 507",
          posts == [201] * created + [507], (len(posts), posts[-3:]))


def reboot_finds(elf, disk, ids, what):
    """Boots on `disk` and checks the hotels are exactly `ids`; removes
    the disk image."""
    guest, port = boot(elf, disk)
    try:
        got = [h["id"] for h in listed(port)]
        check(what, got == ids, (len(got), len(ids)))
    finally:
        guest.stop()
        os.unlink(disk)


def failing_device(elf):
    if os.geteuid() != 0:
        report.say("SKIP failing device: needs root to mount a small tmpfs")
        return
    mnt = tempfile.mkdtemp(prefix="bedrock-tmpfs-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FAILING_FS_BYTES}", "tmpfs", mnt]).returncode:
        report.say("SKIP failing device: cannot mount a tmpfs")
        os.rmdir(mnt)
        return
    copy = tempfile.NamedTemporaryFile(prefix="bedrock-disk-", suffix=".img", delete=False).name
    try:
        disk = os.path.join(mnt, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(DISK_BYTES)
        guest, port = boot(elf, disk, disk_errors=True)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        made, status, body = [], 201, b""
        while status == 201 and len(made) < 9000:
            c.request("POST", "/api/hotels", f"Failing {len(made)},Some City")
            r = c.getresponse()
            status, body = r.status, r.read()
            if status == 201:
                made.append(json.loads(body)["id"])
        check(f"failing device: 503 once the device fails ({len(made)} hotels acknowledged before)",
              status == 503 and b"disk failed" in body, (status, body))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/api/hotels", "After,Failure")
        check("failing device: changes are refused from then on (503)", c.getresponse().status == 503)
        probes(port, "failing device", b"not ready: the disk failed\n")
        check("failing device: the log says why", guest.find("commit failed (Device(") is not None,
              guest.console(10))
        guest.stop()
        shutil.copyfile(disk, copy)
    finally:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
    reboot_finds(elf, copy, made, "failing device: a reboot finds exactly the acknowledged hotels")


def journal_records(disk):
    """(offset, length) of each record in the journal's first region (from
    sector 2, after the two header slots)."""
    with open(disk, "rb") as f:
        f.seek(2 * SECTOR)
        data = f.read(4 * 1024 * 1024)
    out, at = [], 0
    while at + 8 <= len(data):
        n = int.from_bytes(data[at:at + 4], "little")
        if n == 0:
            break
        out.append((2 * SECTOR + at, 8 + n))
        at += 8 + n
    return out


def damage(elf):
    disk = tempfile.NamedTemporaryFile(prefix="bedrock-disk-", suffix=".img", delete=False).name
    os.truncate(disk, DISK_BYTES)
    guest, port = boot(elf, disk)
    check("damage: a new disk's boot reports no damage", guest.find("torn or damaged") is None,
          guest.console(10))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(10):
        c.request("POST", "/api/hotels", f"D{i},Damage")
        c.getresponse().read()
    guest.stop()
    records = journal_records(disk)
    check("damage: ten records on the disk", len(records) == 10, len(records))

    def flip(offset):
        with open(disk, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0x40]))

    last_off, last_len = records[-1]
    flip(last_off + last_len - 1)
    guest, port = boot(elf, disk)
    names = [h["name"] for h in listed(port)]
    check("damage: a corrupted last record is dropped, the nine before it served",
          names == [f"D{i}" for i in range(9)], names)
    check("damage: and the log says so", guest.find("torn or damaged record") is not None,
          guest.console(20))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/hotels", "New,After")
    check("damage: and the journal takes records after it", c.getresponse().status == 201)
    guest.stop()
    mid_off, mid_len = records[4]
    flip(mid_off + mid_len - 1)
    guest, port = boot(elf, disk)
    names = [h["name"] for h in listed(port)]
    check("damage: a corrupted middle record ends the journal there (the records after it are not trusted)",
          names == [f"D{i}" for i in range(4)], names)
    guest.stop()
    os.unlink(disk)


def main():
    elf = sys.argv[1]
    crash_run(elf, mix=False)
    crash_run(elf, mix=True)
    console = crash_run(elf, mix=True, disk_bytes=COMPACTING_DISK_BYTES, what="compacting")
    compactions = console.count("disk: compacted") if console else 0
    check(f"compacting: the journal was compacted under the load ({compactions} times before the kill)",
          compactions > 0, console[-2000:] if console else "")
    full_disk(elf)
    failing_device(elf)
    damage(elf)
    sys.exit(report.summary())


if __name__ == "__main__":
    main()
