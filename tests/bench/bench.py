#!/usr/bin/python3
"""`make bench`: fcgate, nginx and lighttpd side by side in front of the
same FastCGI responder, plus the floor (a bare TCP relay).

What it does, in order:
  1. installs what is missing from Debian (nginx, lighttpd, wrk), with a
     policy-rc.d that keeps the packages from starting their services;
  2. builds fcgate from config/host-bench_defconfig (host with only error
     logs and no access log) into build/bench/, and the responder, relay and
     relay load with -O2 next to it; build/host/ is never touched;
  3. starts the responder (tests/bench/responder.c) on a free loopback port;
  4. for each repeat: measures the relay floor, then for each workload and
     each gateway starts that gateway with its own config under
     build/bench/, warms up, measures one wrk run, reads the gateway's CPU
     time and peak RSS from /proc, and stops it (by PID); before each
     gateway's GET 128 B run after the first the floor is measured again,
     so that every such run has a floor of its own seconds before it;
     after each gateway's GET 128 B run, the relay once more between wrk
     and an HTTP responder: the gateways' client (a diagnostic, see
     docs/bench.md);
  5. prints the medians as markdown and writes them to build/bench/results.md.

Gateways run on CPU 0; wrk, the responder and the relay load on CPU 1.

Environment: BENCH_TIME (whole seconds measured per run, default 4; wrk
takes whole seconds), BENCH_WARMUP (default 1), BENCH_REPEAT (default 3),
BENCH_GATEWAYS (comma list, default fcgate,nginx,lighttpd),
BENCH_WORKLOADS (comma list of workload keys, default all).
Only the standard library of Debian's /usr/bin/python3 is used.
"""

import datetime
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
B = ROOT / "build" / "bench"
SRC = ROOT / "tests" / "bench"
LOOPBACK = "127.0.0.1"

# wrk takes whole seconds only
BENCH_TIME = max(1, int(float(os.environ.get("BENCH_TIME", "4"))))
WARMUP = max(0, int(float(os.environ.get("BENCH_WARMUP", "1"))))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
GATEWAYS = os.environ.get("BENCH_GATEWAYS", "fcgate,nginx,lighttpd").split(",")

WRK_TIMEOUT = "2s"          # wrk's default; a slower answer counts as an error
START_TIMEOUT = 10.0
STOP_TIMEOUT = 8.0          # longer than fcgate's shutdown grace (5 s)
NOFILE_WANTED = 65536       # descriptors for every process we start (up to the hard limit)
RELAY_CONNS = 64            # client (and backend) connections of the floor
POST_BYTES = 16384
CC_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow",
            "-Wstrict-prototypes", "-Wmissing-prototypes", "-O2", "-g"]

# key, label, path, connections, extra wrk arguments
WORKLOADS = [
    ("get128", "GET 128 B, 64 keep-alive conns", "/?n=128", 64, []),
    ("get64k", "GET 64 KiB, 16 conns", "/?n=65536", 16, []),
    ("get1m", "GET 1 MiB, 4 conns", "/?n=1048576", 4, []),
    ("post16k", "POST 16 KiB, 16 conns", "/", 16, ["-s", str(B / "post.lua")]),
    ("close", "Connection: close, 16 conns", "/?n=128", 16, ["-H", "Connection: close"]),
    ("c1000", "GET 128 B, 1000 keep-alive conns", "/?n=128", 1000, []),
]
GET128 = WORKLOADS[0]        # also the diagnostic floor's load
if os.environ.get("BENCH_WORKLOADS"):
    wanted = os.environ["BENCH_WORKLOADS"].split(",")
    WORKLOADS = [w for w in WORKLOADS if w[0] in wanted]

NPROC = os.cpu_count() or 1
GATEWAY_CPU = 0
LOAD_CPU = 1 if NPROC > 1 else 0
CLK_TCK = os.sysconf("SC_CLK_TCK")
_HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
NOFILE = NOFILE_WANTED if _HARD == resource.RLIM_INFINITY else min(NOFILE_WANTED, _HARD)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- packages and builds ----------------------------------------------------

def as_root(cmd):
    return cmd if os.geteuid() == 0 else ["sudo"] + cmd


def ensure_policy_rc():
    """No service may start while packages install (there is no init here)."""
    path = Path("/usr/sbin/policy-rc.d")
    if path.exists():
        return
    subprocess.run(as_root(["sh", "-c", "printf '#!/bin/sh\\nexit 101\\n' > %s && chmod +x %s"
                            % (path, path)]), check=True)


def install_missing():
    """nginx, lighttpd, wrk and musl-gcc (fcgate's release build) from Debian,
    when missing. Returns notes."""
    wanted = {"wrk": ["wrk"], "nginx": ["nginx", "nginx-light"], "lighttpd": ["lighttpd"],
              "musl-gcc": ["musl-tools"]}
    missing = {prog: pkgs for prog, pkgs in wanted.items() if not find_program(prog)}
    if not missing:
        return []
    log("bench: installing %s" % " ".join(p[0] for p in missing.values()))
    ensure_policy_rc()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = as_root(["apt-get", "install", "-y", "-q", "--no-install-recommends"])
    updated = False
    notes = []
    for prog, pkgs in missing.items():
        for pkg in pkgs:
            r = subprocess.run(apt + [pkg], env=env, stdout=subprocess.DEVNULL)
            if r.returncode != 0 and not updated:
                subprocess.run(as_root(["apt-get", "update", "-q"]), env=env,
                               stdout=subprocess.DEVNULL)
                updated = True
                r = subprocess.run(apt + [pkg], env=env, stdout=subprocess.DEVNULL)
            if r.returncode == 0 and find_program(prog):
                break
        if not find_program(prog):
            notes.append("%s could not be installed (tried %s)" % (prog, ", ".join(pkgs)))
    return notes


def find_program(name):
    return shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/sbin/" + name) if os.access(p, os.X_OK)), None)


def build():
    """fcgate (release, host-bench config) and the bench's own programs."""
    log("bench: building fcgate (CONFIG=host-bench) into %s" % B.relative_to(ROOT))
    subprocess.run(["make", "-s", "CONFIG=host-bench", "O=build/bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    for prog in ("responder", "relay", "relayload", "httpresponder"):
        out, src = B / prog, SRC / (prog + ".c")
        newest = max(src.stat().st_mtime, (SRC / "listener.h").stat().st_mtime)
        if not out.exists() or out.stat().st_mtime < newest:
            subprocess.run(["gcc"] + CC_FLAGS + ["-o", str(out), str(src)], check=True)
    (B / "post.lua").write_text(
        "-- POST %d bytes to the responder, which answers len=N\n"
        "wrk.method = \"POST\"\n"
        "wrk.body = string.rep(\"a\", %d)\n"
        "wrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n"
        % (POST_BYTES, POST_BYTES))


# --- processes --------------------------------------------------------------

def pinned(cpu):
    """preexec_fn: run on one CPU, with many file descriptors."""
    def setup():
        if NPROC > 1:
            os.sched_setaffinity(0, {cpu})
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    return setup


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def stop(proc):
    """SIGTERM to our own process, then SIGKILL to that PID if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_listen_port(proc):
    line = proc.stdout.readline()
    m = re.search(r"listening on [\d.]+:(\d+)", line)
    if not m:
        raise RuntimeError("no listening line from %s: %r" % (proc.args, line))
    return int(m.group(1))


def descendants(pid):
    """PID and every process below it (nginx: master and worker)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path("/proc/%s/stat" % d).read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pids):
    """utime + stime (fields 14, 15 of /proc/PID/stat) summed, in ticks."""
    total = 0
    for pid in pids:
        try:
            stat = Path("/proc/%d/stat" % pid).read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def peak_rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            for line in Path("/proc/%d/status" % pid).read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def cpu_times(cpu):
    """(busy, total) ticks of one CPU from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        f = line.split()
        if f[0] == "cpu%d" % cpu:
            v = [int(x) for x in f[1:]]
            return sum(v) - v[3] - v[4], sum(v)
    return 0, 0


def busy_pct(before, after):
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total else None


def http_ready(port, deadline):
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
            c.request("GET", "/?n=1")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return False


# --- the gateways -----------------------------------------------------------

def start_fcgate(port, rport):
    cmd = [str(B / "fcgate"), "--listen", "%s:%d" % (LOOPBACK, port),
           "--conf", "ProxyPass / fcgi://%s:%d/" % (LOOPBACK, rport)]
    return cmd, None


NGINX_CONF = """# written by tests/bench/bench.py
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {b}/nginx.pid;
error_log {b}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    # nginx's defaults would close every 1000th keep-alive connection and
    # spool a body over 8 KiB to a temporary file (then stall ~40 ms on
    # Nagle + delayed ACK toward the app, see docs/bench.md): not measured.
    keepalive_requests 1000000;
    client_body_buffer_size 32k;
    client_body_temp_path {b}/nginx-tmp/body;
    fastcgi_temp_path {b}/nginx-tmp/fastcgi;
    proxy_temp_path {b}/nginx-tmp/proxy;
    uwsgi_temp_path {b}/nginx-tmp/uwsgi;
    scgi_temp_path {b}/nginx-tmp/scgi;
    upstream responder {{
        server {lo}:{rport};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen {lo}:{port};
        location / {{
            fastcgi_pass responder;
            fastcgi_keep_conn on;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param DOCUMENT_URI $document_uri;
            fastcgi_param DOCUMENT_ROOT $document_root;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param REMOTE_PORT $remote_port;
            fastcgi_param SERVER_ADDR $server_addr;
            fastcgi_param SERVER_PORT $server_port;
            fastcgi_param SERVER_NAME $server_name;
        }}
    }}
}}
"""


def start_nginx(port, rport):
    for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        (B / "nginx-tmp" / d).mkdir(parents=True, exist_ok=True)
    conf = B / "nginx.conf"
    conf.write_text(NGINX_CONF.format(b=B, lo=LOOPBACK, port=port, rport=rport, nofile=NOFILE))
    return [find_program("nginx"), "-p", str(B), "-c", str(conf), "-e",
            str(B / "nginx-error.log")], None


LIGHTTPD_CONF = """# written by tests/bench/bench.py
server.document-root = "{b}/www"
server.bind = "{lo}"
server.port = {port}
server.errorlog = "{b}/lighttpd-error.log"
server.upload-dirs = ( "{b}/lighttpd-tmp" )
server.max-fds = {nofile}
server.max-connections = {maxconns}
server.max-keep-alive-requests = 1000000
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/" => ( (
    "host" => "{lo}",
    "port" => {rport},
    "check-local" => "disable"
) ) )
"""


def start_lighttpd(port, rport):
    (B / "www").mkdir(exist_ok=True)
    (B / "lighttpd-tmp").mkdir(exist_ok=True)
    conf = B / "lighttpd.conf"
    conf.write_text(LIGHTTPD_CONF.format(b=B, lo=LOOPBACK, port=port, rport=rport,
                                         nofile=NOFILE, maxconns=NOFILE // 2))
    return [find_program("lighttpd"), "-D", "-f", str(conf)], None


STARTERS = {"fcgate": start_fcgate, "nginx": start_nginx, "lighttpd": start_lighttpd}


class Gateway:
    def __init__(self, name, rport):
        self.name, self.rport = name, rport
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        cmd, _ = STARTERS[self.name](self.port, self.rport)
        errlog = open(B / ("%s-stderr.log" % self.name), "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errlog,
                                     stderr=errlog, preexec_fn=pinned(GATEWAY_CPU))
        errlog.close()
        if not http_ready(self.port, time.monotonic() + START_TIMEOUT):
            self.stop()
            raise RuntimeError("%s did not answer on port %d" % (self.name, self.port))

    def pids(self):
        return descendants(self.proc.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop(self.proc)


# --- wrk --------------------------------------------------------------------

UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def run_wrk(port, workload, seconds):
    _, _, path, conns, extra = workload
    cmd = [find_program("wrk"), "-t1", "-c%d" % conns, "-d%ds" % seconds,
           "--timeout", WRK_TIMEOUT] + extra + ["http://%s:%d%s" % (LOOPBACK, port, path)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=seconds + 60, preexec_fn=pinned(LOAD_CPU))
    return parse_wrk(r.stdout)


def parse_wrk(out):
    res = {"requests": 0, "rps": 0.0, "mibps": 0.0, "non2xx": 0, "connect": 0,
           "read": 0, "write": 0, "timeout": 0, "raw": out}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    if m:
        res["mibps"] = float(m.group(1)) * UNITS.get(m.group(2), 1) / 1024 ** 2
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        for k, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            res[k] = int(v)
    res["errors"] = sum(res[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    return res


RESPONDER_PID = None        # set by main(): its CPU per request shows it was not the limit


def measure(gw, workload):
    """One run: start, warm up, measure, read /proc, stop."""
    gw.start()
    try:
        if WARMUP > 0:
            run_wrk(gw.port, workload, WARMUP)
        pids = gw.pids()
        t0, load0, w0 = cpu_ticks(pids), cpu_times(LOAD_CPU), time.monotonic()
        r0 = cpu_ticks([RESPONDER_PID])
        res = run_wrk(gw.port, workload, BENCH_TIME)
        pids = sorted(set(pids) | set(gw.pids()))
        t1, load1, w1 = cpu_ticks(pids), cpu_times(LOAD_CPU), time.monotonic()
        r1 = cpu_ticks([RESPONDER_PID])
        res["rss_kib"] = peak_rss_kib(pids)
        res["alive"] = gw.alive()
        res["exit"] = gw.proc.returncode
    finally:
        gw.stop()
    cpu_us = (t1 - t0) * 1e6 / CLK_TCK
    # how busy the gateway and the load CPU were: which side was the limit
    res["gw_pct"] = 100.0 * (t1 - t0) / CLK_TCK / (w1 - w0)
    res["load_pct"] = busy_pct(load0, load1) if NPROC > 1 else None
    del res["raw"]
    res["cpu_us"] = cpu_us / res["requests"] if res["requests"] else None
    res["resp_us"] = ((r1 - r0) * 1e6 / CLK_TCK / res["requests"]) if res["requests"] else None
    return res


def measure_floor():
    """The relay's CPU per 128/200-byte round trip over 64 connection pairs."""
    bport = free_port()
    relay = subprocess.Popen([str(B / "relay"), "0", str(bport)], stdout=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True,
                             preexec_fn=pinned(GATEWAY_CPU))
    try:
        rport = read_listen_port(relay)
        r = subprocess.run([str(B / "relayload"), str(rport), str(bport), str(RELAY_CONNS),
                            "%g" % WARMUP, "%g" % BENCH_TIME, str(relay.pid)],
                           stdout=subprocess.PIPE, text=True, timeout=BENCH_TIME + WARMUP + 30,
                           preexec_fn=pinned(LOAD_CPU), check=True)
    finally:
        stop(relay)
    kv = dict(f.split("=") for f in r.stdout.split())
    rts = int(kv["roundtrips"])
    return {"rtps": rts / float(kv["seconds"]),
            "cpu_us": int(kv["relay_ticks"]) * 1e6 / int(kv["clk_tck"]) / rts if rts else None}


def measure_floor_under_wrk():
    """The relay between wrk and the HTTP responder, GET 128 B: its CPU per
    request and the requests/s (a diagnostic: the floor's relay under the
    gateways' client); None when wrk saw errors."""
    httpd = subprocess.Popen([str(B / "httpresponder"), "0", "128"], stdout=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True, preexec_fn=pinned(LOAD_CPU))
    try:
        relay = subprocess.Popen([str(B / "relay"), "0", str(read_listen_port(httpd))],
                                 stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                 preexec_fn=pinned(GATEWAY_CPU))
        try:
            port = read_listen_port(relay)
            if WARMUP > 0:
                run_wrk(port, GET128, WARMUP)
            t0 = cpu_ticks([relay.pid])
            res = run_wrk(port, GET128, BENCH_TIME)
            t1 = cpu_ticks([relay.pid])
        finally:
            stop(relay)
    finally:
        stop(httpd)
    if res.get("errors") or not res.get("requests"):
        return None
    return {"cpu_us": (t1 - t0) * 1e6 / CLK_TCK / res["requests"], "rps": res["rps"]}


# --- report -----------------------------------------------------------------

def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else "%.2f" % (a / b)


def versions(gateways):
    out = []
    for name, cmd in (("nginx", ["nginx", "-v"]), ("lighttpd", ["lighttpd", "-v"]),
                      ("wrk", ["wrk", "-v"])):
        prog = find_program(name)
        if not prog or name not in gateways + ["wrk"]:
            continue
        r = subprocess.run([prog] + cmd[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        first = r.stdout.strip().splitlines()
        out.append(first[0] if first else name)
    r = subprocess.run([str(B / "fcgate"), "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    out.insert(0, r.stdout.strip().splitlines()[0] + " (config/host-bench_defconfig)")
    return out


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def paired_ratios(runs):
    """Each run's CPU per request ÷ the floor measured just before it, in run order."""
    return [r["cpu_us"] / r["floor_us"] for r in runs if r.get("cpu_us") and r.get("floor_us")]


def add_paired(add, results, floors, gateways):
    """GET 128 B against the floor run by run: the machine's speed drifts
    between runs (the same binary measures ~20 % apart), and a floor and
    the gateway run right after it share the drift that a ratio of two
    medians does not."""
    runs = {g: paired_ratios(results.get(("get128", g), [])) for g in gateways}
    if not floors or not any(runs.values()):
        return
    add("")
    add("GET 128 B ÷ the floor measured just before it, run by run (median in bold):")
    add("")
    for g in gateways:
        if runs[g]:
            add("- %s: %s → **%.2f**" % (g, ", ".join("%.2f" % x for x in runs[g]),
                                        statistics.median(runs[g])))
    under = {g: [(r["cpu_us"] / r["floor_wrk"]["cpu_us"], r["floor_wrk"])
                 for r in results.get(("get128", g), [])
                 if r.get("cpu_us") and r.get("floor_wrk")] for g in gateways}
    floor_wrk = [f for g in gateways for _, f in under[g]]
    if floor_wrk:
        add("")
        add("Diagnostic, not the target's floor: the same relay between wrk and an HTTP "
            "responder built like the FastCGI one (`tests/bench/httpresponder.c`), measured "
            "just after each gateway's run, i.e. under the gateways' client: %.1f µs per "
            "request at %.0f requests/s; each gateway ÷ it, run by run:" % (
                statistics.median(f["cpu_us"] for f in floor_wrk),
                statistics.median(f["rps"] for f in floor_wrk)))
        add("")
        for g in gateways:
            if under[g]:
                add("- %s: %s → **%.2f**" % (g, ", ".join("%.2f" % x for x, _ in under[g]),
                                            statistics.median(x for x, _ in under[g])))


def report(results, floors, gateways, notes):
    lines = []
    add = lines.append
    fl_us = med(floors, "cpu_us")
    fl_rt = med(floors, "rtps")
    add("# fcgate benchmark")
    add("")
    add("%s, %d CPUs (%s), gateways on CPU %d, wrk + responder + load on CPU %d; "
        "%g s warm-up + %g s measured per run, median of %d runs."
        % (datetime.date.today().isoformat(), NPROC, cpu_model(), GATEWAY_CPU, LOAD_CPU,
           WARMUP, BENCH_TIME, REPEAT))
    add("")
    add("Versions: " + "; ".join(versions(gateways)) + ".")
    add("")
    add("Command: `make bench` (BENCH_TIME=%d BENCH_WARMUP=%d BENCH_REPEAT=%d).  "
        % (BENCH_TIME, WARMUP, REPEAT))
    add("")
    add("Floor (tests/bench/relay.c, 64 client + 64 backend connections, 128-byte request, "
        "200-byte answer, its load waiting in epoll like wrk and the responder): "
        "**%s µs CPU per round trip**, %s round trips/s."
        % (fmt(fl_us, ".1f"), fmt(fl_rt, ".0f")))
    add("")
    add("errors: non-2xx answers + socket errors (connect, read, write, timeout) as wrk "
        "counts them. CPU µs/req: utime+stime of the gateway's processes (nginx: master + "
        "worker) over the measured run ÷ completed requests. Peak RSS: VmHWM summed over "
        "them at the end of the run. Gateway CPU %%: of one CPU during the measured run "
        "(near 100: the gateway was the limit). CPU %d busy %%: the CPU that runs wrk and "
        "the responder (and whatever else runs on the machine). Responder µs/req: the "
        "FastCGI responder's own CPU per request." % LOAD_CPU)
    add("")
    add("| workload | gateway | req/s | MiB/s | errors | CPU µs/req | peak RSS KiB "
        "| gateway CPU %% | CPU %d busy %% | responder µs/req |" % LOAD_CPU)
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        for g in gateways:
            runs = results.get((w[0], g), [])
            add("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                w[1], g, fmt(med(runs, "rps"), ".0f"), fmt(med(runs, "mibps"), ".1f"),
                fmt(med(runs, "errors"), ".0f"), fmt(med(runs, "cpu_us"), ".1f"),
                fmt(med(runs, "rss_kib"), ".0f"), fmt(med(runs, "gw_pct"), ".0f"),
                fmt(med(runs, "load_pct"), ".0f"), fmt(med(runs, "resp_us"), ".1f")))
    if "fcgate" in gateways and "nginx" in gateways:
        add("")
        add("fcgate ÷ nginx (req/s and MiB/s: higher is better for fcgate; CPU and RSS: lower "
            "is better), and fcgate's CPU per request ÷ the floor's CPU per round trip:")
        add("")
        add("| workload | req/s | MiB/s | errors (fcgate / nginx) | CPU µs/req | peak RSS "
            "| CPU ÷ floor |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for w in WORKLOADS:
            f, n = results.get((w[0], "fcgate"), []), results.get((w[0], "nginx"), [])
            add("| %s | %s | %s | %s / %s | %s | %s | %s |" % (
                w[1], ratio(med(f, "rps"), med(n, "rps")),
                ratio(med(f, "mibps"), med(n, "mibps")),
                fmt(med(f, "errors"), ".0f"), fmt(med(n, "errors"), ".0f"),
                ratio(med(f, "cpu_us"), med(n, "cpu_us")),
                ratio(med(f, "rss_kib"), med(n, "rss_kib")),
                ratio(med(f, "cpu_us"), fl_us)))
    add_paired(add, results, floors, gateways)
    details = []
    for w in WORKLOADS:
        for g in gateways:
            for i, r in enumerate(results.get((w[0], g), [])):
                if r.get("failed"):
                    details.append("- %s, %s, run %d: %s" % (g, w[0], i + 1, r["failed"]))
                elif r["errors"] or not r["alive"]:
                    details.append(
                        "- %s, %s, run %d: %d requests, non-2xx %d, connect %d, read %d, "
                        "write %d, timeout %d%s" % (
                            g, w[0], i + 1, r["requests"], r["non2xx"], r["connect"], r["read"],
                            r["write"], r["timeout"],
                            "" if r["alive"] else ", gateway exited (%s)" % r["exit"]))
    if details or notes:
        add("")
        add("Errors and notes (every run):")
        add("")
        lines.extend(notes and ["- " + n for n in notes] or [])
        lines.extend(details)
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------

def main():
    B.mkdir(parents=True, exist_ok=True)
    notes = install_missing()
    if not find_program("wrk"):
        sys.exit("bench: wrk is missing and could not be installed")
    build()
    gateways = [g for g in GATEWAYS if g == "fcgate" or find_program(g)]
    for g in GATEWAYS:
        if g not in gateways:
            notes.append("%s is not installed: not measured" % g)
    for log_name in ("fcgate-stderr.log", "nginx-stderr.log", "lighttpd-stderr.log",
                     "nginx-error.log", "lighttpd-error.log"):
        if (B / log_name).exists():
            (B / log_name).unlink()
    responder = subprocess.Popen([str(B / "responder"), "0"], stdout=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, text=True,
                                 preexec_fn=pinned(LOAD_CPU))
    global RESPONDER_PID
    RESPONDER_PID = responder.pid
    results, floors = {}, []
    started = time.monotonic()
    try:
        rport = read_listen_port(responder)
        for rep in range(REPEAT):
            log("bench: run %d of %d: floor" % (rep + 1, REPEAT))
            floors.append(measure_floor())
            for w in WORKLOADS:
                for g in gateways:
                    floor = floors[-1] if w[0] == "get128" else None
                    if floor is not None and g != gateways[0]:
                        log("bench: run %d of %d: floor again, for %s" % (rep + 1, REPEAT, g))
                        floor = measure_floor()
                    log("bench: run %d of %d: %s, %s" % (rep + 1, REPEAT, g, w[1]))
                    try:
                        r = measure(Gateway(g, rport), w)
                    except (RuntimeError, subprocess.SubprocessError) as e:
                        r = {"failed": str(e), "errors": None, "alive": False}
                    if floor is not None:
                        r["floor_us"] = floor["cpu_us"]
                    if floor is not None:
                        log("bench: run %d of %d: the relay under wrk" % (rep + 1, REPEAT))
                        try:
                            r["floor_wrk"] = measure_floor_under_wrk()
                            if r["floor_wrk"] is None:
                                notes.append("the relay under wrk, run %d: wrk saw errors"
                                             % (rep + 1))
                        except (RuntimeError, subprocess.SubprocessError) as e:
                            notes.append("the relay under wrk, run %d: %s" % (rep + 1, e))
                    results.setdefault((w[0], g), []).append(r)
                    if r.get("errors"):
                        log("bench:   %d errors: %s" % (r["errors"], " ".join(
                            "%s=%d" % (k, r[k]) for k in
                            ("non2xx", "connect", "read", "write", "timeout"))))
    finally:
        if responder.poll() is not None:
            notes.append("the responder exited early (status %s)" % responder.returncode)
        stop(responder)
    text = report(results, floors, gateways, notes)
    (B / "results.md").write_text(text)
    (B / "runs.json").write_text(json.dumps(
        {"floor": floors, "runs": {"%s/%s" % k: v for k, v in results.items()}}, indent=1))
    print(text, end="")
    log("bench: %.0f s; written to %s" % (time.monotonic() - started, B / "results.md"))


if __name__ == "__main__":
    main()
