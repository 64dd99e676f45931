#!/usr/bin/python3
"""The browser test of the demo admin UI (tests/browser) against the QEMU
image: `make test-browser-qemu`.

Boots IMAGE in qemu-system-arm as the firmware suite does (fwtarget: a
free hostfwd port on 127.0.0.1 to the guest's port 80), then runs
tests/browser with
  FCGATE_UI_URL=http://127.0.0.1:PORT  the forwarded port
  FCGATE_UI_APP_PORT=9000              the test starts (and restarts)
                                       fcgi-demo on 127.0.0.1:9000, which
                                       the image's routes reach as
                                       10.0.2.2:9000; its state file is
                                       build/ui-test/run-qemu/settings.conf
  FCGATE_UI_TAG=qemu                   artefacts: build/ui-test/status-qemu.png
                                       and the like, beside the host run's
and stops the image with 'q' on its console: it must exit 0 with no
fault dump. The console goes to LOGDIR/qemu-ui-console.log.

  qemu_ui.py [--image build/qemu-mps2-an385/fcgate.elf]
             [--logdir build/firmware-tests] [pytest arguments...]

Exit status 0 when the browser test passed and the image stopped cleanly.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fwtarget  # noqa: E402
from fwtarget import ROOT, SetupError  # noqa: E402

APP_PORT = fwtarget.APP_PORT
TAG = "qemu"
BROWSER_TEST_LIMIT = 600    # seconds; the test itself takes well under a minute


def run_browser_test(url, extra):
    """pytest on tests/browser against url; its exit status."""
    env = dict(os.environ, FCGATE_UI_URL=url, FCGATE_UI_APP_PORT=str(APP_PORT),
               FCGATE_UI_TAG=TAG)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-ra",
            "tests/browser"] + extra
    try:
        return subprocess.run(argv, cwd=ROOT, env=env, timeout=BROWSER_TEST_LIMIT).returncode
    except subprocess.TimeoutExpired:
        print(f"qemu_ui: the browser test did not finish within {BROWSER_TEST_LIMIT} s",
              file=sys.stderr)
        return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image", type=Path, default=ROOT / "build/qemu-mps2-an385/fcgate.elf")
    ap.add_argument("--logdir", type=Path, default=ROOT / "build/firmware-tests")
    args, extra = ap.parse_known_args()
    args.logdir.mkdir(parents=True, exist_ok=True)

    # The test starts fcgi-demo there; say so before booting anything.
    if fwtarget.port_busy(fwtarget.support.LOOPBACK, APP_PORT):
        print(f"qemu_ui: 127.0.0.1:{APP_PORT} is busy: the image's routes point there "
              f"and the browser test must start fcgi-demo on it. Stop whatever listens "
              f"there (`ss -ltnp 'sport = :{APP_PORT}'` shows it) and retry.",
              file=sys.stderr)
        return 1
    try:
        slots = int(fwtarget.config_value(args.image, "CLIENT_SLOTS"))
        tgt = fwtarget.make_target("qemu", args.image, slots, args.logdir, tag="qemu-ui")
        started = time.monotonic()
        tgt.start()
    except SetupError as e:
        print(f"qemu_ui: {e}", file=sys.stderr)
        return 1
    print(f"qemu_ui: {args.image} booted in {time.monotonic() - started:.1f} s, "
          f"serving {tgt.base_url}/ (console {tgt.proc.log_path})", flush=True)

    rc = run_browser_test(tgt.base_url, extra)
    problems = tgt.stop()
    print(f"qemu_ui: QEMU exit status {tgt.exit_code} after 'q', up "
          f"{time.monotonic() - started:.1f} s")
    for line in tgt.stats_lines():
        print(f"  {line}")
    for p in problems:
        print(f"qemu_ui: {p}", file=sys.stderr)
    return 1 if rc or problems else 0


if __name__ == "__main__":
    sys.exit(main())
