"""The demo router admin UI in a real browser: headless Chromium (Debian's
chromium, chromium-driver, python3-selenium) drives it through fcgate.

The page assets come from fcgate's ROM filesystem (config/ui), the API and
the authorizer from build/apps/fcgi-demo, with the routes of
config/host.routes.

Where it runs:
  FCGATE_UI_URL unset  the test starts build/apps/fcgi-demo (FCGATE_APPS)
                       and build/host/fcgate (FCGATE_BIN) itself, both on
                       free ports of 127.0.0.1: the gateway gets the lines
                       of config/host.routes as --conf lines with the
                       app's address 127.0.0.1:9000 replaced by the port
                       the app got, so a busy 9000 (`make run`, another
                       test) does not matter.
  FCGATE_UI_URL set    e.g. http://127.0.0.1:8080: a gateway started by
                       the caller (`make run`, the QEMU image). With
                       FCGATE_UI_APP_PORT=9000 too, the test starts (and
                       restarts) fcgi-demo on 127.0.0.1:9000 itself, where
                       that gateway's routes expect it; without it the app
                       is the caller's as well and the restart step is
                       skipped.
  FCGATE_UI_TAG        e.g. qemu: a suffix for the artefacts' names, so
                       that a run against another gateway keeps the host
                       run's (`make test-browser-qemu` sets it).

Artefacts in build/ui-test/: status.png (the status page), failure.png
(the page when a wait timed out), chromedriver.log, and run/ (the
gateway's and the app's logs, the app's state file); with FCGATE_UI_TAG=qemu
status-qemu.png, failure-qemu.png, chromedriver-qemu.log and run-qemu/.
Every wait is bounded.
"""

import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import support  # noqa: E402  (Proc, free_port, wait_ready, paths)

selenium = pytest.importorskip(
    "selenium", reason="python3-selenium is not installed (`make deps` installs it)")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "admin"
ROUTES = support.ROOT / "config" / "host.routes"
ROUTES_APP = "127.0.0.1:9000"
ARTEFACTS = support.ROOT / "build" / "ui-test"
TAG = os.environ.get("FCGATE_UI_TAG", "")
SUFFIX = f"-{TAG}" if TAG else ""
WAIT = 10           # seconds for any one thing to show up in the page
LOG_WAIT = 15       # two log events are 0.5 s apart; allow a reconnect
PAGE_LOAD = 20
WINDOW = (1200, 1000)


# --- the gateway and the app --------------------------------------------

class Stack:
    """Where the UI is, and (when we started it) the app to restart."""

    def __init__(self, url, workdir, app=None, app_argv=None):
        self.url = url.rstrip("/")
        self.workdir = workdir
        self.app = app
        self.app_argv = app_argv

    def restart_app(self):
        rc = self.app.stop()
        assert rc == 0, f"fcgi-demo exit status {rc}; {self.app.describe()}"
        port = int(self.app_argv[2].rsplit(":", 1)[1])
        self.app = support.Proc("fcgi-demo", self.app_argv,
                                self.workdir / f"fcgi-demo-{time.monotonic_ns()}.log")
        support.wait_ready(self.app, port, "demo listening on")


def _require(path, what):
    if not Path(path).is_file():
        pytest.fail(f"{what} not found at {path}: build it first "
                    f"(`make apps` and `make`)", pytrace=False)
    return path


def route_lines(app_port):
    """config/host.routes as --conf lines, with the app on app_port."""
    lines = []
    for raw in ROUTES.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line.replace(ROUTES_APP, f"127.0.0.1:{app_port}"))
    assert any(ROUTES_APP in ln for ln in ROUTES.read_text().splitlines()), \
        f"{ROUTES} no longer names the app at {ROUTES_APP}; update this test"
    return lines


@pytest.fixture(scope="module")
def workdir():
    """build/ui-test/run (run-TAG): the logs of the gateway and the app,
    and the app's state file; emptied at the start, kept afterwards."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", TAG):
        pytest.fail(f"FCGATE_UI_TAG={TAG!r}: letters, digits, - and _ only", pytrace=False)
    d = ARTEFACTS / f"run{SUFFIX}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def start_app(workdir, port):
    """fcgi-demo on 127.0.0.1:port with its state file in workdir."""
    demo = _require(support.APPS / "fcgi-demo", "fcgi-demo")
    if support.can_connect(port):
        pytest.fail(f"127.0.0.1:{port} is busy: cannot start fcgi-demo there", pytrace=False)
    argv = [str(a) for a in (demo, "--listen", f"127.0.0.1:{port}", "--password", PASSWORD,
                             "--state", workdir / "settings.conf")]
    app = support.Proc("fcgi-demo", argv, workdir / "fcgi-demo.log")
    try:
        support.wait_ready(app, port, "demo listening on")
    except RuntimeError as e:
        app.stop()
        pytest.fail(str(e), pytrace=False)
    return app, argv


@pytest.fixture(scope="module")
def stack(workdir):
    url = os.environ.get("FCGATE_UI_URL")
    app_port = os.environ.get("FCGATE_UI_APP_PORT")
    if url and not app_port:
        yield Stack(url, workdir)
        return
    support.enable_subreaper()
    app_port = int(app_port) if app_port else support.free_port()
    app, argv = start_app(workdir, app_port)
    st = Stack(url or "", workdir, app, argv)
    gw = None
    if not url:
        gateway = _require(support.FCGATE_BIN, "fcgate")
        try:
            gw = support.Gateway(gateway, route_lines(app_port), workdir / "fcgate.log")
        except RuntimeError as e:
            app.stop()
            pytest.fail(str(e), pytrace=False)
        st.url = f"http://127.0.0.1:{gw.port}"
    yield st
    rc = gw.stop() if gw else 0
    st.app.stop()
    assert rc == 0 and not (gw and gw.proc.killed), \
        f"fcgate exit status {rc}; {gw.proc.describe()}"


# --- the browser -----------------------------------------------------------

@pytest.fixture(scope="module")
def browser(workdir):
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            pytest.skip(f"{path} is missing (Debian package {pkg}; `make deps` installs it)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"failure{SUFFIX}.png").unlink(missing_ok=True)    # of an earlier run
    profile = tempfile.mkdtemp(prefix="fcgate-ui-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_path=str(ARTEFACTS / f"chromedriver{SUFFIX}.log"))
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        driver.set_page_load_timeout(PAGE_LOAD)
        driver.set_script_timeout(WAIT)
        driver.set_window_size(*WINDOW)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, what, cond, timeout=WAIT):
    """cond(driver) until truthy; fails naming what and the page's URL."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(cond)
    except TimeoutException:
        driver.save_screenshot(str(ARTEFACTS / f"failure{SUFFIX}.png"))
        pytest.fail(f"timed out after {timeout} s waiting for {what}; at {driver.current_url}; "
                    f"console: {console(driver)}", pytrace=False)


def console(driver):
    try:
        return [e["message"] for e in driver.get_log("browser")]
    except Exception:   # a driver without the log endpoint
        return []


def el(driver, id_):
    return driver.find_element(By.ID, id_)


def visible_text(id_):
    def cond(d):
        found = d.find_elements(By.ID, id_)
        return found and found[0].is_displayed() and found[0].text.strip()
    return cond


def on_login_page(base):
    return lambda d: (d.current_url.split("?")[0] == base + "/login/"
                      and d.find_elements(By.ID, "login-form"))


def log_in(driver, base, password):
    box = el(driver, "password")
    box.clear()
    box.send_keys(password)
    el(driver, "login-form").submit()


def fetch_status(driver, path):
    """fetch(path) in the page; the HTTP status it got."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {cache: 'no-store'})"
        ".then((r) => done(r.status), (e) => done(String(e)));", path)


def save_hostname(driver, name):
    box = el(driver, "hostname")
    box.clear()
    box.send_keys(name)
    el(driver, "settings").find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def status_page_ready(d):
    rows = d.find_elements(By.CSS_SELECTOR, "#ifaces tr")
    return (len(rows) == 3 and el(d, "user").text == "admin"
            and el(d, "uptime").text not in ("", "-")
            and el(d, "hostname").get_attribute("value"))


# --- the tests ---------------------------------------------------------------

def http_get(url):
    """GET without following redirects: (status, headers, body)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=WAIT) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_routes_without_a_session(stack):
    """What the route file promises, checked without a browser."""
    status, headers, _ = http_get(stack.url + "/")
    assert status == 302 and headers["Location"] == "/login/", (status, dict(headers))
    status, headers, body = http_get(stack.url + "/login/")
    assert status == 200 and b'action="/api/login"' in body
    assert headers["Content-Security-Policy"] == "default-src 'self'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    status, headers, body = http_get(stack.url + "/assets/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    status, headers, body = http_get(stack.url + "/login/no-such-page")
    assert status == 404 and b"Not found" in body and headers["Content-Type"].startswith("text/html")
    status, headers, body = http_get(stack.url + "/api/status")
    assert status == 401 and json.loads(body) == {"error": "not logged in"}


def test_admin_ui(stack, browser):
    d, base = browser, stack.url

    # Not logged in: / sends the browser to the login page.
    d.get(base + "/")
    wait_for(d, "the redirect to /login/", on_login_page(base))

    # A wrong password comes back to the login page with the error shown.
    log_in(d, base, "not-the-password")
    wait_for(d, "the wrong-password error", visible_text("login-error"))
    assert "failed=1" in d.current_url

    # The right one opens the status page, with data from /api/status,
    # including the user name the authorizer passed to the responder.
    log_in(d, base, PASSWORD)
    wait_for(d, "the status page", lambda d: d.current_url == base + "/")
    wait_for(d, "the status data (3 interfaces, user admin)", status_page_ready)

    # An invalid host name is refused, with the field marked.
    save_hostname(d, "Not_Valid")
    wait_for(d, "the validation error", visible_text("err-hostname"))
    assert "Not saved" in el(d, "save-msg").text

    # A valid one is saved and is still there after a reload.
    name = "router-" + secrets.token_hex(3)
    save_hostname(d, name)
    wait_for(d, "the save", lambda d: el(d, "save-msg").text == "Saved.")
    assert not el(d, "err-hostname").is_displayed()
    d.refresh()
    wait_for(d, "the saved host name after a reload",
             lambda d: el(d, "hostname").get_attribute("value") == name)
    wait_for(d, "the host name from /api/status", lambda d: el(d, "host-shown").text == name)

    # The live log: at least two lines arrive over server-sent events.
    # The stream was open during the saves above: had it held up the API,
    # they would have waited for its 30 s to end.
    wait_for(d, "two live-log lines",
             lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log li")) >= 2, LOG_WAIT)
    wait_for(d, "the status data", status_page_ready)
    assert d.save_screenshot(str(ARTEFACTS / f"status{SUFFIX}.png"))
    assert not [m for m in console(d) if "Content Security Policy" in m]

    # The app restarted (sessions are in its memory, the settings in its
    # state file): log in again and the host name is still the new one.
    if stack.app is not None:
        stack.restart_app()
        d.get(base + "/")
        wait_for(d, "the login page after the app restarted", on_login_page(base))
        log_in(d, base, PASSWORD)
        wait_for(d, "the status page after the restart", lambda d: d.current_url == base + "/")
        wait_for(d, "the saved host name after the app restarted",
                 lambda d: el(d, "hostname").get_attribute("value") == name)

    # Log out: back to the login page; / and the API refuse.
    el(d, "logout").click()
    wait_for(d, "the login page after logging out", on_login_page(base))
    d.get(base + "/")
    wait_for(d, "the redirect to /login/ after logging out", on_login_page(base))
    assert fetch_status(d, "/api/status") == 401
    assert fetch_status(d, "/api/settings") == 401
