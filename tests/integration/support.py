"""Process and data helpers shared by conftest.py and the tests.

Processes are started in their own session (so their process group id is
their PID), stopped by that PID with SIGTERM, waited for, and killed --
the PID, then the group it leads -- only when they outlive a timeout.
Nothing is ever signalled by name.
"""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import fcgi_client
import httpc

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("FCGATE_ROOT") or HERE.parents[1]).resolve()


def _env_path(name, default):
    value = os.environ.get(name)
    return Path(value).resolve() if value else ROOT / default


FCGATE_BIN = _env_path("FCGATE_BIN", "build/host/fcgate")
FCGATE_LARGE_BIN = _env_path("FCGATE_LARGE_BIN", "build/host-large/fcgate")
APPS = _env_path("FCGATE_APPS", "build/apps")
WWW = HERE / "www"

LISTEN_RE = re.compile(r"listening on (\S+):(\d+)")
GATEWAY_START_TIMEOUT = 5.0
APP_START_TIMEOUT = 10.0
STOP_TIMEOUT = 8.0          # longer than the gateway's default shutdown grace (5 s)
LOOPBACK = "127.0.0.1"
PATTERN_MOD = 251           # /bytes: byte i is i % 251
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def can_connect(port, timeout=0.5):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def pattern_bytes(n):
    """The bytes /bytes?n=N answers: byte i is i % 251."""
    block = bytes(range(PATTERN_MOD))
    reps = n // PATTERN_MOD + 1
    return (block * reps)[:n]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def random_bytes(n, seed):
    """Deterministic incompressible-looking bytes (no os.urandom, so a
    failure is reproducible)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha512(b"%d:%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:n])


class Proc:
    """A process we started, with its output in a log file."""

    def __init__(self, name, argv, log_path, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        self.killed = False

    def output(self):
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.popen.poll() is None

    def describe(self):
        tail = self.output()[-4000:]
        return f"{self.name} (pid {self.pid}, argv {self.argv}) output:\n{tail}"

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal by PID, wait; kill the PID and its process group on
        timeout. Returns the exit status (negative: killed by a signal)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self._kill_group()
                self.popen.wait(timeout)
        # Helpers it forked (php-fpm workers, fcgiwrap's preforked
        # children) share its group; a leader that exited cleanly normally
        # took them with it, but fcgiwrap's does not.
        members = group_members(self.pid)
        self._kill_group()
        reap(members)
        self._log.close()
        return self.popen.returncode

    def _kill_group(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except ProcessLookupError:
                pass


def enable_subreaper():
    """Become the parent of orphaned descendants (Linux prctl
    PR_SET_CHILD_SUBREAPER), so that helpers left behind by an app we stop
    can be reaped by us instead of lingering as zombies."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def group_members(pgid):
    """PIDs in process group pgid other than its leader, from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if len(fields) > 2 and int(fields[2]) == pgid and pid != pgid:
            pids.append(pid)
    return pids


def reap(pids, timeout=2.0):
    """Wait for these (killed) orphans, which are ours as subreaper."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break           # not ours (no subreaper) or already reaped
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.01)


def wait_ready(proc, port, line=None, timeout=APP_START_TIMEOUT):
    """Wait until proc prints line (when given) or accepts connections."""
    start = time.monotonic()
    while True:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} "
                               f"before becoming ready; {proc.describe()}")
        if line and line in proc.output():
            return
        # Without a readiness line (or if it never flushes), a connect
        # tells us the socket is listening.
        if (not line or time.monotonic() - start > 1.0) and can_connect(port):
            return
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{proc.name} not ready after {timeout} s; {proc.describe()}")
        time.sleep(0.05)


def app_stats(app):
    """fcgi-testapp's counters (/stats), asked directly over FastCGI; the
    question itself counts as one connection and one request."""
    res = fcgi_client.request(app.port, fcgi_client.cgi_params("GET", "", "stats", "/"))
    return json.loads(res.split()[1])


class App:
    """A FastCGI app listening on 127.0.0.1:port."""

    def __init__(self, name, port, proc):
        self.name = name
        self.port = port
        self.proc = proc

    def url(self, docroot="/"):
        return f"fcgi://{LOOPBACK}:{self.port}{docroot}"

    def route(self, prefix, docroot="/", keys=""):
        """A ProxyPass line for this app."""
        line = f"ProxyPass {prefix} {self.url(docroot)}"
        return f"{line} {keys}" if keys else line


class Gateway:
    """A running fcgate."""

    def __init__(self, binary, conf, log_path, extra_args=()):
        self.conf = list(conf)
        argv = [binary, "--listen", f"{LOOPBACK}:0"]
        for line in self.conf:
            argv += ["--conf", line]
        argv += list(extra_args)
        self.proc = Proc("fcgate", argv, log_path)
        self.host, self.port = self._wait_listening()
        self.exit_code = None

    def _wait_listening(self):
        deadline = time.monotonic() + GATEWAY_START_TIMEOUT
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.proc.output())
            if m:
                return m.group(1), int(m.group(2))
            if not self.proc.alive():
                break
            time.sleep(0.02)
        out = self.proc.describe()
        self.proc.stop()
        raise RuntimeError(f"fcgate did not report 'listening on HOST:PORT' within "
                           f"{GATEWAY_START_TIMEOUT} s; {out}")

    def log(self):
        return self.proc.output()

    def conn(self, timeout=httpc.DEFAULT_TIMEOUT):
        return httpc.Conn(self.port, timeout)

    def request(self, method, target, headers=None, body=None, version="HTTP/1.1",
                timeout=httpc.DEFAULT_TIMEOUT):
        return httpc.request(self.port, method, target, headers, body, version, timeout)

    def get(self, target, headers=None, timeout=httpc.DEFAULT_TIMEOUT):
        return self.request("GET", target, headers, timeout=timeout)

    def stop(self):
        """SIGTERM; returns the exit status (0 expected)."""
        if self.exit_code is None:
            self.exit_code = self.proc.stop()
        return self.exit_code


def run(argv, timeout=60, **kw):
    """Run a short-lived command; CompletedProcess with text output."""
    return subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, **kw)


# --- helpers of the backend / status tests ------------------------------------

TESTAPP_READY = "testapp listening on"


def spawn_testapp(name, logdir, port=0, max_conns=None):
    """An fcgi-testapp of the caller's own on 127.0.0.1:PORT (0: a port it
    picks itself, read back from its readiness line). The caller stops it
    with app.proc.stop(). RuntimeError when it does not come up."""
    argv = [APPS / "fcgi-testapp", "--listen", f"{LOOPBACK}:{port}"]
    if max_conns is not None:
        argv += ["--max-conns", str(max_conns)]
    proc = Proc(name, argv, Path(logdir) / f"{name}-{time.monotonic_ns()}.log")
    ready = re.compile(re.escape(TESTAPP_READY) + r" 127\.0\.0\.1:(\d+)")
    deadline = time.monotonic() + APP_START_TIMEOUT
    while proc.alive() and time.monotonic() < deadline:
        m = ready.search(proc.output())
        if m:
            return App(name, int(m.group(1)), proc)
        time.sleep(0.02)
    proc.stop()
    raise RuntimeError(f"{name} did not print its readiness line; {proc.describe()}")


def gateway_status(gw, path="/status"):
    """The gateway's status page (a StatusPage route at path) as a dict."""
    r = gw.get(path)
    assert r.status == 200, r
    return json.loads(r.body)


def status_member(status, port=None, balancer=None, address=None):
    """The one member of a status dict at 127.0.0.1:port (or at address),
    in the given balancer (None: a lone ProxyPass member)."""
    where = address if address is not None else f"{LOOPBACK}:{port}"
    found = [m for m in status["members"]
             if m["address"] == where and m.get("balancer") == balancer]
    assert len(found) == 1, f"member {where} balancer={balancer}: {status['members']}"
    return found[0]
