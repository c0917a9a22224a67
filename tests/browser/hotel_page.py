#!/usr/bin/env python3
"""The Hotel web page in a real browser: Debian's headless Chromium driven by
selenium (Debian's python3-selenium and chromium-driver, nothing downloaded
at run time) against the real servers.

For each server given: load /hotels (and / with the browser's Accept), add a
hotel through the form and see it listed, edit it, delete it, add a hotel
named `<img src=x onerror=alert(1)>` and see it as text (no img element, no
alert), see the API's validation and 404 messages in the page, filter a
thousand hotels, check the browser logged no Content-Security-Policy
violation and no script error, check the policy is enforced (an injected
inline script is refused), and save a screenshot to target/browser/.

Usage: hotel_page.py [--server BEDROCK_SERVE] [--kernel ELF]
Skips (exit 0) with a message only when Chromium, its driver or selenium
is not installed (scripts/setup.sh browser installs them).
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import (Guest, Report, Server, free_port, http_status, user_netdev,  # noqa: E402
                          wait_until)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEBIAN_PYTHON = "/usr/bin/python3"
SHOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "browser")
XSS = "<img src=x onerror=alert(1)>"
MANY = 1000          # hotels for the filter test
STORE_CAPACITY = 10000  # bedrock_hotel::CAPACITY: past it, POST answers 507
WAIT = 10            # seconds any one page change may take
FILTER_BUDGET = 1.0  # seconds from a filter keystroke to the updated list
TOTAL_TIMEOUT = 180  # seconds for the whole script, so a stuck browser cannot hang `make test`

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    # Debian's python3-selenium lives in the system Python's dist-packages.
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    webdriver = None

REPORT = Report("browser")
check = REPORT.check


def wait_for_api(port, running, seconds):
    """Waits until GET /api/hotels answers 200; RuntimeError if the server
    stops running or `seconds` pass first."""
    answered = wait_until(lambda: not running() or http_status(port, "/api/hotels", 1) == 200, seconds)
    if not running():
        raise RuntimeError("the server exited")
    if not answered:
        raise RuntimeError("no HTTP answer on port %d within %ds" % (port, seconds))


class Api:
    """A keep-alive client for setting up and checking state behind the page."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, json.loads(raw) if raw and r.getheader("content-type") == "application/json" else raw
            except (OSError, http.client.HTTPException):
                # The server may close an idle keep-alive connection.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                if attempt == 2:
                    raise

    def hotels(self):
        return self.call("GET", "/api/hotels")[1]


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1000,800", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def until(driver, what, cond):
    try:
        found = WebDriverWait(driver, WAIT, poll_frequency=0.05).until(lambda d: cond(d))
        check(what, True)
        return found
    except TimeoutException:
        check(what, False, "timed out after %ds" % WAIT)
        return None


def row_of(driver, name):
    """The list row whose name cell reads exactly `name` (one round trip)."""
    return driver.execute_script("""
        for (const tr of document.querySelectorAll('#rows tr'))
            if (tr.cells.length === 4 && tr.cells[1].textContent === arguments[0]) return tr;
        return null;""", name)


def shown_names(driver):
    """Names in the rows the browser actually lays out."""
    return driver.execute_script("""
        return [...document.querySelectorAll('#rows tr')]
            .filter(tr => tr.getClientRects().length > 0)
            .map(tr => tr.cells[1].textContent);""")


def status_line(driver):
    el = driver.find_element(By.ID, "status")
    return el.text, el.get_attribute("class")


def submit(driver, name, city):
    for field, value in (("name", name), ("city", city)):
        el = driver.find_element(By.ID, field)
        el.clear()
        # send_keys types character by character: fast enough for short
        # values, set directly for long ones.
        if len(value) > 40:
            driver.execute_script("arguments[0].value = arguments[1]", el, value)
        else:
            el.send_keys(value)
    driver.find_element(By.ID, "save").click()


def page_test(driver, base, api, label):
    start = time.monotonic()
    driver.get(base + "/hotels")
    until(driver, "%s: page loads the list" % label,
          lambda d: d.find_element(By.ID, "count").text.endswith("hotels"))
    check("%s: /hotels is the page" % label, driver.title.startswith("Hotels"), driver.title)

    # Add through the form.
    submit(driver, "Grand Budapest", "Zubrowka")
    row = until(driver, "%s: added hotel appears" % label, lambda d: row_of(d, "Grand Budapest"))
    created = [h for h in api.hotels() if h["name"] == "Grand Budapest"]
    check("%s: POST reached the store" % label, len(created) == 1 and created[0]["city"] == "Zubrowka", created)
    hid = created[0]["id"] if created else 0

    # Edit it.
    if row:
        row.find_element(By.CSS_SELECTOR, "button[data-action=edit]").click()
        check("%s: edit fills the form" % label,
              driver.find_element(By.ID, "name").get_attribute("value") == "Grand Budapest")
        submit(driver, "Grand Budapest Hotel", "Nebelsbad")
        until(driver, "%s: edited hotel shows" % label, lambda d: row_of(d, "Grand Budapest Hotel"))
        s, h = api.call("GET", "/api/hotels/%d" % hid)
        check("%s: PUT reached the store" % label,
              s == 200 and h["name"] == "Grand Budapest Hotel" and h["city"] == "Nebelsbad", (s, h))

    # A second hotel, and the script-injection name, which must stay text.
    submit(driver, "Hotel Chevalier", "Paris")
    until(driver, "%s: second hotel appears" % label, lambda d: row_of(d, "Hotel Chevalier"))
    submit(driver, XSS, "Nowhere")
    xss_row = until(driver, "%s: XSS-named hotel appears as text" % label, lambda d: row_of(d, XSS))
    check("%s: no img element in the page" % label, not driver.find_elements(By.TAG_NAME, "img"))
    try:
        driver.switch_to.alert
        check("%s: no alert ran" % label, False)
    except NoAlertPresentException:
        check("%s: no alert ran" % label, True)
    if xss_row:
        cell_html = xss_row.find_elements(By.TAG_NAME, "td")[1].get_attribute("innerHTML")
        check("%s: name is escaped in the DOM" % label, cell_html == "&lt;img src=x onerror=alert(1)&gt;",
              cell_html)

    # Errors from the API, shown in the page.
    submit(driver, "No City", "")
    until(driver, "%s: 422 for an empty city is shown" % label,
          lambda d: status_line(d) == ("Error 422: city must not be empty", "error"))
    submit(driver, "x" * 101, "Toolong")
    until(driver, "%s: 422 for a 101-byte name is shown" % label,
          lambda d: status_line(d) == ("Error 422: name is too long", "error"))
    check("%s: rejected hotel not listed" % label, row_of(driver, "x" * 101) is None)
    # The page as a person sees it after a rejected add.
    os.makedirs(SHOTS, exist_ok=True)
    shot = os.path.join(SHOTS, "hotels.png" if label == "server" else "hotels-%s.png" % label)
    check("%s: screenshot %s" % (label, os.path.relpath(shot)), driver.save_screenshot(shot))
    submit(driver, "y" * 5000, "Big")
    until(driver, "%s: 413 for a 5000-byte name is shown" % label,
          lambda d: status_line(d) == ("Error 413: request body too large", "error"))

    # A hotel deleted behind the page's back: its Delete shows the 404.
    _, ghost_hotel = api.call("POST", "/api/hotels", {"name": "Ghost", "city": "Gone"})
    driver.refresh()
    ghost = until(driver, "%s: ghost hotel listed" % label, lambda d: row_of(d, "Ghost"))
    api.call("DELETE", "/api/hotels/%d" % ghost_hotel["id"])
    if ghost:
        ghost.find_element(By.CSS_SELECTOR, "button[data-action=delete]").click()
        until(driver, "%s: 404 is shown" % label,
              lambda d: status_line(d) == ("Error 404: no hotel with this id", "error"))
        until(driver, "%s: vanished hotel leaves the list" % label, lambda d: row_of(d, "Ghost") is None)

    # Delete through the page.
    row = row_of(driver, "Grand Budapest Hotel")
    if row:
        row.find_element(By.CSS_SELECTOR, "button[data-action=delete]").click()
        until(driver, "%s: deleted hotel leaves the list" % label,
              lambda d: row_of(d, "Grand Budapest Hotel") is None)
        check("%s: DELETE reached the store" % label, api.call("GET", "/api/hotels/%d" % hid)[0] == 404)

    # A thousand hotels: the list loads and the filter answers quickly.
    t = time.monotonic()
    for i in range(MANY):
        api.call("POST", "/api/hotels", {"name": "Bulk %04d" % i, "city": "City %d" % (i % 37)})
    posted = time.monotonic() - t
    total = len(api.hotels())
    t = time.monotonic()
    driver.refresh()
    until(driver, "%s: %d hotels listed" % (label, total),
          lambda d: d.find_element(By.ID, "count").text == "%d hotels" % total)
    loaded = time.monotonic() - t
    box = driver.find_element(By.ID, "filter")
    t = time.monotonic()
    box.send_keys("bulk 0999")
    until(driver, "%s: filter narrows %d hotels to one" % (label, total),
          lambda d: d.find_element(By.ID, "count").text == "%d hotels, 1 shown" % total)
    filtered = time.monotonic() - t
    shown = shown_names(driver)
    check("%s: the one match is shown" % label, shown == ["Bulk 0999"], shown[:3])
    check("%s: filter answered in %.2fs (budget %.1fs)" % (label, filtered, FILTER_BUDGET), filtered < FILTER_BUDGET)
    print("browser: %s: %d POSTs in %.2fs, page with %d hotels loaded in %.2fs" % (label, MANY, posted, total, loaded))

    # The browser's log: no CSP violation, no script error.
    entries = driver.get_log("browser")
    bad = [e["message"] for e in entries
           if "Content Security Policy" in e["message"] or "Refused to" in e["message"]
           or "Uncaught" in e["message"]]
    check("%s: no CSP violation or script error in the console (%d entries)" % (label, len(entries)), not bad, bad)

    # The policy is really enforced: an inline script added now is refused.
    ran = driver.execute_script("""
        window.__injected = false;
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true';
        document.body.append(s);
        return window.__injected;""")
    check("%s: an injected inline script is blocked by the policy" % label, ran is False)
    # ... and the console check above would have seen it: the refusal is logged.
    refusals = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    check("%s: the refusal shows in the console log" % label, len(refusals) == 1, refusals)

    if label == "server":
        # A full store: the form's POST gets 507 and the page says so.
        # (Once, on the hosted server: 10,000 POSTs take about a second.)
        t = time.monotonic()
        for i in range(STORE_CAPACITY - len(api.hotels())):
            api.call("POST", "/api/hotels", {"name": "Fill %05d" % i, "city": "Full"})
        check("%s: the API answers 507 with %d hotels" % (label, STORE_CAPACITY),
              api.call("POST", "/api/hotels", {"name": "One more", "city": "Full"})[0] == 507)
        driver.refresh()
        until(driver, "%s: %d hotels listed" % (label, STORE_CAPACITY),
              lambda d: d.find_element(By.ID, "count").text == "%d hotels" % STORE_CAPACITY)
        submit(driver, "Overflow Inn", "Nowhere")
        until(driver, "%s: 507 for a full store is shown" % label,
              lambda d: status_line(d) == ("Error 507: the hotel store is full", "error"))
        print("browser: %s: filled the store and saw 507 in %.1fs" % (label, time.monotonic() - t))

    if label == "kernel":
        # The unikernel's `/` gives a browser the page (Accept: text/html ...);
        # the hosted server's `/` is its file root.
        driver.get(base + "/")
        until(driver, "%s: / gives a browser the page" % label, lambda d: d.title.startswith("Hotels"))
    print("browser: %s: done in %.1fs" % (label, time.monotonic() - start), flush=True)


def run_server(binary, driver):
    root = tempfile.mkdtemp(prefix="bedrock-browser-")
    log = os.path.join(root, "..", os.path.basename(root) + ".log")
    srv = Server(binary, root, ["--quiet"], workers=1, log=log).start()
    try:
        wait_for_api(srv.port, lambda: srv.proc.poll() is None, 10)
        page_test(driver, "http://127.0.0.1:%d" % srv.port, Api(srv.port), "server")
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def run_kernel(elf, driver):
    port = free_port()
    guest = Guest(elf, user_netdev(port))
    try:
        wait_for_api(port, guest.running, 20)
        page_test(driver, "http://127.0.0.1:%d" % port, Api(port), "kernel")
    finally:
        guest.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="the bedrock-serve binary")
    ap.add_argument("--kernel", help="the unikernel ELF image")
    a = ap.parse_args()
    if not a.server and not a.kernel:
        ap.error("give --server and/or --kernel")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if webdriver is None:
        missing.append("selenium (python3-selenium)")
    if missing:
        print("browser: SKIP: not installed: %s (scripts/setup.sh browser installs them)" % ", ".join(missing))
        return 0
    def out_of_time(*_):
        raise RuntimeError("browser test took over %ds" % TOTAL_TIMEOUT)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TOTAL_TIMEOUT)
    driver = browser()
    try:
        if a.server:
            run_server(a.server, driver)
        if a.kernel:
            run_kernel(a.kernel, driver)
    finally:
        driver.quit()
    return REPORT.summary()


if __name__ == "__main__":
    sys.exit(main())
