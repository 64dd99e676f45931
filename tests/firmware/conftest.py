"""Fixtures of the firmware suite: one lwIP build of fcgate per session.

The environment picks the target (tests/firmware.mk sets all of it):
  FCGATE_TARGET  qemu | host-lwip
  FCGATE_IMAGE   the ELF (qemu) or binary (host-lwip); default: the
                 build/ path of the default configuration
  FCGATE_APPS    folder of fcgi-testapp (default build/apps)
  FCGATE_SLOTS   the image's client slots (default 8)
  FCGATE_LOGDIR  where console and app logs go (default build/firmware-tests)
  FCGATE_QEMU_PCAP  (qemu, optional) record the guest's frames in this pcap file

`target` starts fcgi-testapp where the image's /app/ route points
(127.0.0.1:9000 for QEMU, 10.0.3.1:9000 in the host-lwip namespace),
boots the gateway and waits for an HTTP answer. At the end it stops the
gateway ('q' on QEMU's console, SIGTERM for host-lwip), which must exit 0
with no fault dump or sanitizer report; the gateway's "stats:" lines are
printed in the terminal summary.
"""

import os
import time
from pathlib import Path

import pytest

import fwtarget
from fwtarget import ROOT, SetupError

DEFAULT_IMAGE = {
    "qemu": "build/qemu-mps2-an385/fcgate.elf",
    "host-lwip": "build/host-lwip-asan/fcgate-lwip",
}
# After a test, back to serving. QEMU's user network drops frames to the
# guest when several large answers flow at once (its console: "Slirp:
# Failed to send packet"); a backend SYN-ACK lost twice costs lwIP 3 + 6 s
# of retransmission, past the 5 s connect timeout, so a check that every
# slot serves again may need a few 5 s attempts there.
RECOVER_S = {"qemu": 40.0, "host-lwip": 10.0}
_summary = []


def _path(name, default):
    value = os.environ.get(name)
    return Path(value).resolve() if value else ROOT / default


def _settings():
    kind = os.environ.get("FCGATE_TARGET", "")
    if kind not in DEFAULT_IMAGE:
        pytest.fail(f"FCGATE_TARGET={kind!r}: set it to qemu or host-lwip "
                    f"(`make test-qemu` and `make test-host-lwip` do)", pytrace=False)
    try:
        slots = int(os.environ.get("FCGATE_SLOTS", "8"))
    except ValueError:
        pytest.fail("FCGATE_SLOTS must be a number (the image's CLIENT_SLOTS)", pytrace=False)
    return (kind, _path("FCGATE_IMAGE", DEFAULT_IMAGE[kind]),
            _path("FCGATE_APPS", "build/apps"), slots,
            _path("FCGATE_LOGDIR", "build/firmware-tests"))


@pytest.fixture(scope="session")
def target():
    kind, image, apps, slots, logdir = _settings()
    logdir.mkdir(parents=True, exist_ok=True)
    # The app first: the guest must find it listening when it connects.
    # (pytest.fail outside the except blocks: one message, not a chain.)
    failed = None
    try:
        app = fwtarget.start_testapp(apps, fwtarget.app_host(kind), logdir,
                                     f"{image.parent.name}-testapp")
    except SetupError as e:
        failed = str(e)
    if failed:
        pytest.fail(failed, pytrace=False)
    tgt = fwtarget.make_target(kind, image, slots, logdir)
    try:
        tgt.routes = fwtarget.route_file(image)
        tgt.catch_all = fwtarget.has_catch_all(tgt.routes)
    except (SetupError, OSError) as e:
        failed = f"the image's routes: {e}"
    if failed:
        app.stop()
        pytest.fail(failed, pytrace=False)
    started = time.monotonic()
    try:
        tgt.start()
    except SetupError as e:
        failed = str(e)
    if failed:
        app.stop()
        pytest.fail(failed, pytrace=False)
    tgt.app = app
    tgt.recover_s = RECOVER_S[kind]
    yield tgt

    problems = tgt.stop()
    elapsed = time.monotonic() - started
    _summary.append(f"{kind} {image.relative_to(ROOT) if image.is_relative_to(ROOT) else image}"
                    f" ({slots} client slots): exit {tgt.exit_code}, up {elapsed:.1f} s, "
                    f"console {tgt.proc.log_path}")
    _summary.extend("  " + line for line in tgt.stats_lines())
    app_problem = app.stop()
    if app_problem:
        problems.append(app_problem)
    assert not problems, "\n".join(problems)


@pytest.fixture(autouse=True)
def still_serving(target):
    """After every test: the gateway is alive and answers a plain request
    again within a bound, so a test that wedges it fails where it did."""
    yield
    if not target.alive():
        pytest.fail(f"the gateway died during this test; {target.describe()}", pytrace=False)
    deadline = time.monotonic() + target.recover_s
    last = None
    while time.monotonic() < deadline:
        try:
            r = target.get("/app/env?health=1", headers=[("Connection", "close")],
                           timeout=min(5.0, target.recover_s))
            if r.status == 200:
                return
            last = r
        except (OSError, AssertionError) as e:
            last = e
        time.sleep(0.2)
    pytest.fail(f"after this test the gateway did not answer GET /app/env with 200 within "
                f"{target.recover_s:.0f} s (last: {last!r}); {target.describe()}",
                pytrace=False)


def pytest_report_header(config):
    kind = os.environ.get("FCGATE_TARGET", "?")
    image = os.environ.get("FCGATE_IMAGE") or DEFAULT_IMAGE.get(kind, "?")
    return [f"fcgate target: {kind}, image {image}, "
            f"{os.environ.get('FCGATE_SLOTS', '8')} client slots"]


def pytest_terminal_summary(terminalreporter):
    if _summary:
        terminalreporter.section("fcgate target")
        for line in _summary:
            terminalreporter.write_line(line)
