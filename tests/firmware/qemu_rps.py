#!/usr/bin/python3
"""Requests per second through the QEMU image: informational, not a test.

Boots IMAGE in qemu-system-arm (as the firmware suite does), starts
fcgi-testapp on 127.0.0.1:9000 where the image's /app/ route points, and
drives small GETs (/app/bytes?n=SIZE) over CONNS keep-alive connections
for SECONDS, with wrk when it is installed, else a pure Python client.
Prints one markdown table line:

  | image | client | conns | seconds | requests/s | mean latency | errors |

The number says more about QEMU's emulation and its user network (slirp)
than about a Cortex-M3: emulated code runs much faster than a real 25 MHz
core, and every frame crosses slirp. Compare runs on one machine only.

  qemu_rps.py [--image build/qemu-mps2-an385/fcgate.elf] [--apps build/apps]
              [--conns 4] [--seconds 5] [--size 64] [--client auto|wrk|python]
"""

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fwtarget  # noqa: E402
from fwtarget import ROOT, SetupError  # noqa: E402
from httpc import build_request  # noqa: E402  (tests/integration/httpc.py)

WRK_TIME_RE = re.compile(r"^([\d.]+)(us|ms|s|m)$")
WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
SOCKET_TIMEOUT = 10.0


def python_client(tgt, path, conns, seconds):
    """(requests, errors, mean latency ms) from conns threads, each with
    one keep-alive connection (a new one after an error)."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    totals = {"n": 0, "errors": 0, "lat": 0.0}
    req = build_request("GET", path)

    def worker():
        n = errors = 0
        lat = 0.0
        c = None
        while time.monotonic() < stop_at:
            try:
                if c is None:
                    c = tgt.conn(SOCKET_TIMEOUT)
                t0 = time.perf_counter()
                c.send(req)
                r = c.read_response()
                lat += time.perf_counter() - t0
                if r.status == 200:
                    n += 1
                else:
                    errors += 1
            except (OSError, AssertionError):
                errors += 1
                if c is not None:
                    c.close()
                c = None
        if c is not None:
            c.close()
        with lock:
            totals["n"] += n
            totals["errors"] += errors
            totals["lat"] += lat

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 2 * SOCKET_TIMEOUT)
    n = totals["n"]
    return n, totals["errors"], (totals["lat"] / n * 1e3) if n else float("nan")


def wrk_client(tgt, path, conns, seconds):
    out = subprocess.run(
        ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{seconds}s",
         "--timeout", f"{int(SOCKET_TIMEOUT)}s", tgt.base_url + path],
        capture_output=True, text=True, timeout=seconds + 60).stdout
    n = int(re.search(r"(\d+) requests in", out).group(1))
    lat = re.search(r"Latency\s+(\S+)", out).group(1)
    m = WRK_TIME_RE.match(lat)
    mean_ms = float(m.group(1)) * WRK_UNITS[m.group(2)] if m else float("nan")
    errors = 0
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups())
    e = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if e:
        errors += int(e.group(1))
    return n, errors, mean_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", default=str(ROOT / "build/qemu-mps2-an385/fcgate.elf"))
    ap.add_argument("--apps", default=str(ROOT / "build/apps"))
    ap.add_argument("--logdir", default=str(ROOT / "build/firmware-tests"))
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--size", type=int, default=64, help="response body bytes")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = ap.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    logdir = Path(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    image = Path(args.image).resolve()

    try:
        app = fwtarget.start_testapp(args.apps, fwtarget.app_host("qemu"), logdir,
                                     "bench-testapp")
    except SetupError as e:
        sys.exit(f"qemu_rps: {e}")
    tgt = fwtarget.make_target("qemu", image, 0, logdir)
    try:
        tgt.start()
    except SetupError as e:
        app.stop()
        sys.exit(f"qemu_rps: {e}")
    path = f"/app/bytes?n={args.size}"
    try:
        tgt.get(path)           # warm: the first backend connection
        run = wrk_client if client == "wrk" else python_client
        n, errors, mean_ms = run(tgt, path, args.conns, args.seconds)
    finally:
        problems = tgt.stop()
        app.stop()
    name = image.parent.name if image.parent.name.startswith("qemu") else image.name
    print(f"| {name} | {client} | {args.conns} | {args.seconds} | {n / args.seconds:.0f} "
          f"| {mean_ms:.2f} ms | {errors} |")
    for line in tgt.stats_lines():
        print(line, file=sys.stderr)
    if problems:
        sys.exit("qemu_rps: the image did not stop cleanly:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
