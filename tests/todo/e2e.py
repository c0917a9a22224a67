#!/usr/bin/env python3
"""The Todo-Backend app end to end on both servers: the unikernel image
in QEMU (user networking, a forwarded port) and bedrock-serve (files
beside it). The same suite runs against each, with a real HTTP client:
the Todo-Backend spec's walk-through (root GET/POST/DELETE, per-item
GET/PATCH/DELETE, absolute urls from Host), CORS with a preflight, bad
bodies, and, on bedrock-serve, todos surviving a restart (the journal).

Usage: tests/todo/e2e.py --kernel KERNEL_ELF --server SERVER_BIN
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import Guest, Report, Server, free_port, http_request, user_netdev, wait_until  # noqa: E402

report = Report("todo e2e")
check = report.check


def call(port, method, path, body=None, headers=None):
    """(status, headers, parsed JSON or raw bytes)."""
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = json.dumps(body) if isinstance(body, (dict, list)) else body
    status, hdrs, raw = http_request(port, method, path, data, h)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = raw
    return status, hdrs, value


def path_of(todo):
    url = todo["url"]
    return url[url.index("/todos"):]


def spec(where, port):
    """The Todo-Backend walk-through and CORS, against one server."""
    host = f"127.0.0.1:{port}"
    s, h, v = call(port, "DELETE", "/todos")
    check(f"{where}: DELETE /todos empties the list", s in (200, 204), s)
    s, h, v = call(port, "GET", "/todos")
    check(f"{where}: GET /todos is []", (s, v) == (200, []), (s, v))
    check(f"{where}: every reply allows any origin", h.get("access-control-allow-origin") == "*", h)
    s, h, walk = call(port, "POST", "/todos", {"title": "walk the dog"})
    check(f"{where}: POST /todos creates a todo", s == 201 and walk["title"] == "walk the dog"
          and walk["completed"] is False, (s, walk))
    check(f"{where}: its url is absolute, from Host",
          isinstance(walk, dict) and walk["url"].startswith(f"http://{host}/todos/"), walk)
    s, h, shop = call(port, "POST", "/todos", {"title": "shop", "order": 7})
    check(f"{where}: POST keeps order", s == 201 and shop["order"] == 7, (s, shop))
    s, h, v = call(port, "GET", "/todos")
    check(f"{where}: GET /todos lists both", s == 200 and v == [walk, shop], v)
    s, h, v = call(port, "GET", path_of(shop))
    check(f"{where}: GET of an item's url", (s, v) == (200, shop), (s, v))
    for field, value in (("title", "walk the cat"), ("completed", True), ("order", 95)):
        s, h, v = call(port, "PATCH", path_of(walk), {field: value})
        check(f"{where}: PATCH {field}", s == 200 and v[field] == value, (s, v))
    s, h, v = call(port, "GET", path_of(walk))
    check(f"{where}: PATCHes stick", v == {"title": "walk the cat", "completed": True, "order": 95,
                                         "url": walk["url"]}, v)
    s, h, v = call(port, "OPTIONS", path_of(walk), None, {
        "Origin": "http://elsewhere", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "content-type"})
    methods = h.get("access-control-allow-methods", "")
    check(f"{where}: CORS preflight answered",
          s in (200, 204) and "PATCH" in methods and "DELETE" in methods
          and "content-type" in h.get("access-control-allow-headers", "").lower()
          and h.get("access-control-allow-origin") == "*", (s, h))
    s, h, v = call(port, "DELETE", path_of(walk))
    check(f"{where}: DELETE of an item", s in (200, 204), s)
    s, h, v = call(port, "GET", path_of(walk))
    check(f"{where}: a deleted item is 404", s == 404, s)
    s, h, v = call(port, "POST", "/todos", "not json")
    check(f"{where}: a body that is not JSON is 400", s == 400, (s, v))
    s, h, v = call(port, "POST", "/todos", {"completed": True})
    check(f"{where}: a todo without a title is 422", s == 422, (s, v))
    s, h, v = call(port, "POST", "/todos", {"title": "bell\u0007"})
    check(f"{where}: a control character is 422", s == 422, (s, v))
    s, h, v = call(port, "GET", "/todo", headers={"Accept": "text/html"})
    check(f"{where}: the app's page at /todo", s == 200 and b"<title>Todos" in v, (s, v[:80] if v else v))
    s, h, v = call(port, "DELETE", "/todos")
    s2, h2, v2 = call(port, "GET", "/todos")
    check(f"{where}: DELETE /todos again empties it", s in (200, 204) and v2 == [], (s, v2))
    # The health endpoints every app gets (bedrock-conn's probes).
    s, h, v = call(port, "GET", "/healthz")
    check(f"{where}: GET /healthz is 200 ok", (s, v) == (200, b"ok\n"), (s, v))
    s, h, v = call(port, "GET", "/readyz")
    check(f"{where}: GET /readyz is 200 ready", (s, v) == (200, b"ready\n"), (s, v))


def against_kernel(elf):
    port = free_port()
    guest = Guest(elf, user_netdev(port))
    try:
        up = guest.wait_for("serving HTTP on port 80", 30)
        check("unikernel: boots and serves", up, guest.console())
        if up:
            spec("unikernel", port)
            s, h, v = call(port, "GET", "/", headers={"Accept": "text/html"})
            check("unikernel: the page at /", s == 200 and b"<title>Todos" in v, s)
    finally:
        guest.stop()


def against_server(binary):
    root, data = tempfile.mkdtemp(prefix="todo-root-"), tempfile.mkdtemp(prefix="todo-data-")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!doctype html><title>files</title>")
    server = Server(binary, root, data=data)
    try:
        server.start()
        spec("bedrock-serve", server.port)
        s, h, v = call(server.port, "GET", "/")
        check("bedrock-serve: files stay at /", s == 200 and b"<title>files" in v, (s, v))
        s, h, kept = call(server.port, "POST", "/todos", {"title": "survives", "order": 1})
        check("bedrock-serve: a todo to keep", s == 201, s)
        server.stop()
        check("bedrock-serve: the journal is todos.journal",
              os.path.getsize(os.path.join(data, "todos.journal")) > 0, os.listdir(data))
        server = Server(binary, root, data=data)
        server.start()
        s, h, v = call(server.port, "GET", "/todos")
        titles = [t["title"] for t in v] if isinstance(v, list) else v
        check("bedrock-serve: todos survive a restart", titles == ["survives"], titles)
        s, h, v = call(server.port, "POST", "/todos", {"title": "next"})
        check("bedrock-serve: ids continue after a restart",
              isinstance(v, dict) and int(v["url"].rsplit("/", 1)[1]) > int(kept["url"].rsplit("/", 1)[1]), v)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--server", required=True)
    a = ap.parse_args()
    against_server(a.server)
    against_kernel(a.kernel)
    sys.exit(report.summary())


if __name__ == "__main__":
    main()
