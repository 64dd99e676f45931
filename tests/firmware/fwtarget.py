"""Boot and stop the lwIP builds of fcgate for the firmware suite.

Two targets run the same port/lwip code and the same routes:

  qemu       the Cortex-M3 image in `qemu-system-arm -M mps2-an385`. The
             host reaches the guest's port 80 through a hostfwd port on
             127.0.0.1 (and its port 443 through a second one); the guest reaches the host's 127.0.0.1:9000 (the
             app) as 10.0.2.2:9000. Stopped by 'q' on its console, which
             drains, prints "stats:" lines and exits QEMU with code 0.
  host-lwip  boards/host-lwip (ASan+UBSan) in the network namespace this
             process runs in, on the TAP fcg0: the gateway is 10.0.3.2:80,
             the app listens on 10.0.3.1:9000. Stopped by SIGTERM, exit 0.

Both write their console (boot lines, logs, "listening on", "stats:") to
stdout; a thread copies it into a log file and keeps it for the tests.
Every process is started in its own session and stopped by its PID (and
the group it leads, on a timeout), never by name. Every wait is bounded.

Shared by conftest.py (the suite) and qemu_rps.py (the benchmark).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import httpc  # noqa: E402  (tests/integration/httpc.py)
import support  # noqa: E402  (tests/integration/support.py)

APP_PORT = 9000             # fixed by the routes of both images
DOWN_PORT = 9009            # routed as /down/, where nothing may listen
GUEST_PORT = 80
GUEST_TLS_PORT = 443        # the QEMU image's HTTPS listener (CONFIG_TLS_PORT)
QEMU_BOOT_TIMEOUT = 60.0    # first HTTP answer after starting QEMU
LWIP_BOOT_TIMEOUT = 30.0
QEMU_STOP_TIMEOUT = 30.0    # 'q' -> exit: drain (SHUTDOWN_GRACE 2 s) and stats
LWIP_STOP_TIMEOUT = 20.0    # SIGTERM -> exit, under ASan
QEMU_TIME_LIMIT = int(os.environ.get("FCGATE_QEMU_TIME_LIMIT", "1800"))
PROBE_TIMEOUT = 3.0
PR_SET_PDEATHSIG = 1        # <linux/prctl.h>
APP_STOP_TIMEOUT = 8.0
TAP = "fcg0"
TAP_HOST_ADDR = "10.0.3.1"
LWIP_ADDR = "10.0.3.2"
QEMU_HOST_ADDR = "10.0.2.2"  # the host's 127.0.0.1 as the guest sees it
QEMU_GUEST_ADDR = "10.0.2.15"

# A crash on either target: the Cortex-M fault dump (fault.c), an lwIP
# assertion (port_lwip_assert), a sanitizer report (host-lwip).
FAULT_RE = re.compile(r"\*\*\* FAULT|lwIP assertion failed")
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                          r"SUMMARY: \w*Sanitizer|UndefinedBehaviorSanitizer")
STATS_RE = re.compile(r"^.*\bstats: .*$|^.*slots at stop.*$|^fcgate-lwip: .*$", re.M)
ASAN_OPTIONS = "abort_on_error=1:detect_leaks=1"
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1"


class SetupError(RuntimeError):
    """The target could not be brought up; the message says why and what to do."""


try:
    import ctypes
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent():
    """In the child before exec: SIGTERM when the test process dies, so an
    interrupted run leaves no gateway, QEMU or app behind (in particular
    none inside a network namespace that is being deleted). Only a call
    here: nothing that could take a lock another thread held at fork."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Console:
    """A process whose stdout+stderr is its console: copied by a thread
    into log_path and kept in memory for console()."""

    def __init__(self, name, argv, log_path, stdin_pipe=False, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self.killed = False
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        self._log = open(self.log_path, "wb")
        self._thread = threading.Thread(target=self._pump, name=f"console-{name}",
                                        daemon=True)
        self._thread.start()

    def _pump(self):
        fd = self.popen.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            with self._lock:
                self._buf += data
                self._log.write(data)
                self._log.flush()

    def text(self):
        with self._lock:
            return self._buf.decode("utf-8", "replace")

    def size(self):
        with self._lock:
            return len(self._buf)

    def text_since(self, offset):
        with self._lock:
            return self._buf[offset:].decode("utf-8", "replace")

    def tail(self, n=4000):
        return self.text()[-n:]

    def describe(self):
        return (f"{self.name} (pid {self.pid}, argv {' '.join(self.argv)}), console in "
                f"{self.log_path}, last lines:\n{self.tail()}")

    def alive(self):
        return self.popen.poll() is None

    def send(self, data):
        """Write to its stdin; False when it is gone."""
        try:
            self.popen.stdin.write(data)
            self.popen.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError, AttributeError):
            return False

    def wait(self, timeout):
        """Exit status within timeout, or None."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """SIGKILL to the PID and the group it leads (its own session)."""
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except ProcessLookupError:
                pass
        self.wait(10)

    def terminate(self, timeout):
        """SIGTERM by PID, wait; kill on timeout. The exit status."""
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.wait(timeout) is None:
            self.kill()
        self.close()
        return self.popen.returncode

    def close(self):
        """After the process is gone: let the reader finish, close files."""
        self._thread.join(5)
        with self._lock:
            self._log.close()
        if self.popen.stdin:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
        self.popen.stdout.close()


def port_busy(host, port):
    """True when something listens on host:port (a bind that fails for
    EADDRINUSE even with SO_REUSEADDR means a listener)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


class App:
    """fcgi-testapp where the image's /app/ route points."""

    def __init__(self, host, proc):
        self.host = host
        self.port = APP_PORT
        self.proc = proc

    def alive(self):
        return self.proc.alive()

    def stop(self):
        """Stop it; a problem ('' if none): it must not have died before."""
        died = None if self.proc.alive() else self.proc.popen.returncode
        self.proc.terminate(APP_STOP_TIMEOUT)
        if died is not None:
            return f"fcgi-testapp died during the run (exit {died}); {self.proc.describe()}"
        return ""


def start_testapp(apps, host, logdir, tag="testapp"):
    """fcgi-testapp on host:APP_PORT, its output in logdir/TAG.log; an App.
    SetupError when the port is taken or the app does not come up."""
    binary = Path(apps) / "fcgi-testapp"
    if not binary.is_file():
        raise SetupError(f"{binary} not found: `make apps` builds it")
    if port_busy(host, APP_PORT):
        raise SetupError(
            f"{host}:{APP_PORT} is busy: the image's /app/ route points there and "
            f"this suite must start its own fcgi-testapp on it. Stop whatever "
            f"listens there (a `make run` or `make qemu-run` session, say) and retry.")
    if port_busy(host, DOWN_PORT):
        raise SetupError(f"something listens on {host}:{DOWN_PORT}, the image's /down/ "
                         f"route, which must stay unanswered (502 test); stop it")
    proc = Console("testapp", [binary, "--listen", f"{host}:{APP_PORT}"],
                   Path(logdir) / f"{tag}.log")
    deadline = time.monotonic() + support.APP_START_TIMEOUT
    while proc.alive() and time.monotonic() < deadline:
        if support.TESTAPP_READY in proc.text():
            return App(host, proc)
        time.sleep(0.02)
    proc.terminate(APP_STOP_TIMEOUT)
    raise SetupError(f"fcgi-testapp did not print its readiness line; {proc.describe()}")


class Target:
    """A booted gateway on lwIP, seen from the client's side."""

    kind = ""
    client_addr = ""        # REMOTE_ADDR the app sees for our requests
    server_addr = ""        # the gateway's own address (SERVER_ADDR)
    server_port = GUEST_PORT
    tls_port = 0            # a host port forwarded to GUEST_TLS_PORT (qemu only)

    def __init__(self, image, slots, logdir, timeout, tag=None):
        self.image = Path(image)
        # Names its console log (TAG-console.log): the build folder's name
        # unless a caller that must not overwrite the suite's log says.
        self.tag = tag or self.image.parent.name
        self.slots = slots
        self.logdir = Path(logdir)
        self.timeout = timeout  # default socket timeout for this target
        self.host = ""
        self.port = 0
        self.proc = None
        self.stopped = False
        self.exit_code = None
        self.routes = None      # its route file (route_file)
        self.catch_all = False  # whether a route of "/" takes every path

    # --- the client's side ------------------------------------------------

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    def conn(self, timeout=None):
        return httpc.Conn(self.port, timeout or self.timeout, host=self.host)

    def request(self, method, target, headers=None, body=None, version="HTTP/1.1",
                timeout=None):
        with self.conn(timeout) as c:
            return c.request(method, target, headers, body, version)

    def get(self, target, headers=None, timeout=None):
        return self.request("GET", target, headers, timeout=timeout)

    def raw_socket(self, timeout=None):
        s = socket.create_connection((self.host, self.port), timeout=timeout or self.timeout)
        s.settimeout(timeout or self.timeout)
        return s

    # --- the gateway's side ----------------------------------------------

    def console(self):
        return self.proc.text() if self.proc else ""

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def describe(self):
        return self.proc.describe() if self.proc else f"{self.kind}: not started"

    def crash_report(self):
        """The lines of the console that show a crash ('' if none)."""
        text = self.console()
        lines = [ln for ln in text.splitlines() if FAULT_RE.search(ln)]
        return "\n".join(lines)

    def stats_lines(self):
        """The counters the gateway printed as it stopped (QEMU prints them
        after "stopping"; earlier ones answered an 's')."""
        text = self.console()
        cut = text.rfind("\nstopping")
        return [m.group(0).strip() for m in STATS_RE.finditer(text[cut if cut >= 0 else 0:])]

    def wait_http(self, limit):
        """Until the gateway answers any HTTP request (whatever the routes
        make of the probe's path). A connect alone proves nothing with
        QEMU's hostfwd."""
        deadline = time.monotonic() + limit
        last = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise SetupError(f"{self.kind} exited (status {self.proc.popen.returncode}) "
                                 f"before answering HTTP; {self.describe()}")
            try:
                with self.conn(PROBE_TIMEOUT) as c:
                    c.get("/firmware-tests-probe", headers=[("Connection", "close")])
                return
            except (OSError, httpc.ProtocolError) as e:
                last = e
            time.sleep(0.25)
        raise SetupError(f"{self.kind} gave no HTTP answer within {limit:.0f} s "
                         f"(last error: {last!r}); {self.describe()}")

    def stop(self):
        """Stop the gateway; a list of problems ([] when all went well)."""
        raise NotImplementedError


class QemuTarget(Target):
    kind = "qemu"
    client_addr = QEMU_HOST_ADDR    # slirp's address for hostfwd connections
    server_addr = QEMU_GUEST_ADDR

    def start(self):
        if not self.image.is_file():
            raise SetupError(f"{self.image} not found: `make CONFIG=qemu-mps2-an385` "
                             f"(or -tiny) builds it")
        for tool in ("qemu-system-arm", "timeout"):
            if not _which(tool):
                raise SetupError(f"{tool} is not installed (Debian package "
                                 f"{'qemu-system-arm' if tool != 'timeout' else 'coreutils'}; "
                                 f"`make deps` installs it)")
        self.host = support.LOOPBACK
        self.port = support.free_port()
        self.tls_port = support.free_port()
        while self.tls_port == self.port:
            self.tls_port = support.free_port()
        # A second port for HTTPS; an image without TLS leaves it unanswered.
        fwd = (f"hostfwd=tcp:{self.host}:{self.port}-:{GUEST_PORT},"
               f"hostfwd=tcp:{self.host}:{self.tls_port}-:{GUEST_TLS_PORT}")
        argv = ["timeout", "-k", "10", str(QEMU_TIME_LIMIT),
                "qemu-system-arm", "-M", "mps2-an385", "-display", "none",
                "-monitor", "none", "-serial", "stdio", "-semihosting",
                "-kernel", self.image]
        pcap = os.environ.get("FCGATE_QEMU_PCAP")
        if pcap:
            # Every frame the guest sends or receives, for Wireshark.
            argv += ["-netdev", f"user,id=net0,{fwd}", "-net", "nic,netdev=net0",
                     "-object", f"filter-dump,id=dump0,netdev=net0,file={pcap}"]
        else:
            argv += ["-nic", f"user,{fwd}"]
        self.proc = Console("qemu", argv, self.logdir / f"{self.tag}-console.log",
                            stdin_pipe=True)
        try:
            self.wait_http(QEMU_BOOT_TIMEOUT)
        except SetupError:
            self._kill()
            raise

    def _kill(self):
        self.proc.kill()
        self.exit_code = self.proc.popen.returncode
        self.proc.close()
        self.stopped = True

    def stats(self, timeout=10.0):
        """Ask the console for its counters ('s'); the new "stats:" lines."""
        before = self.proc.size()
        if not self.proc.send(b"s"):
            return []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = self.proc.text_since(before)
            if "stack_peak" in new:
                return [m.group(0).strip() for m in STATS_RE.finditer(new)]
            time.sleep(0.05)
        return []

    def stop(self):
        if self.stopped:
            return []
        problems = []
        self.proc.send(b"q")
        rc = self.proc.wait(QEMU_STOP_TIMEOUT)
        if rc is None:
            problems.append(f"QEMU did not exit within {QEMU_STOP_TIMEOUT:.0f} s of 'q' "
                            f"on its console: killed (pid {self.proc.pid})")
            self.proc.kill()
            rc = self.proc.popen.returncode
        elif rc == 124:
            problems.append(f"QEMU was stopped by `timeout` after {QEMU_TIME_LIMIT} s")
        elif rc != 0:
            problems.append(f"QEMU exited with status {rc} after 'q' (0 expected)")
        self.proc.close()
        self.exit_code = rc
        self.stopped = True
        crash = self.crash_report()
        if crash:
            problems.append(f"the console shows a crash:\n{crash}")
        if problems:
            problems.append(self.describe())
        return problems


class HostLwipTarget(Target):
    kind = "host-lwip"
    client_addr = TAP_HOST_ADDR
    server_addr = LWIP_ADDR

    def start(self):
        if not self.image.is_file():
            raise SetupError(f"{self.image} not found: `make CONFIG=host-lwip "
                             f"O=build/host-lwip-asan SAN=1` builds it")
        if not Path(f"/sys/class/net/{TAP}").exists():
            raise SetupError(f"no {TAP} device here: the host-lwip suite runs inside the "
                             f"network namespace `make test-host-lwip` creates "
                             f"(scripts/netns.sh up NS; ip netns exec NS ...)")
        self.host = LWIP_ADDR
        self.port = GUEST_PORT
        env = dict(os.environ, ASAN_OPTIONS=ASAN_OPTIONS, UBSAN_OPTIONS=UBSAN_OPTIONS)
        self.proc = Console("fcgate-lwip", [self.image, "--tap", TAP],
                            self.logdir / f"{self.tag}-console.log", env=env)
        try:
            self.wait_http(LWIP_BOOT_TIMEOUT)
        except SetupError:
            self.proc.kill()
            self.proc.close()
            self.stopped = True
            raise

    def stats(self, timeout=0):
        return []

    def sanitizer_report(self):
        return "\n".join(ln for ln in self.console().splitlines() if SANITIZER_RE.search(ln))

    def stop(self):
        if self.stopped:
            return []
        problems = []
        if self.proc.alive():
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        else:
            problems.append(f"fcgate-lwip died before the end of the suite "
                            f"(status {self.proc.popen.returncode})")
        rc = self.proc.wait(LWIP_STOP_TIMEOUT)
        if rc is None:
            problems.append(f"fcgate-lwip did not exit within {LWIP_STOP_TIMEOUT:.0f} s "
                            f"of SIGTERM: killed (pid {self.proc.pid})")
            self.proc.kill()
            rc = self.proc.popen.returncode
        elif rc != 0 and not problems:
            problems.append(f"fcgate-lwip exited with status {rc} after SIGTERM (0 expected)")
        self.proc.close()
        self.exit_code = rc
        self.stopped = True
        for what, report in (("a sanitizer report", self.sanitizer_report()),
                             ("a crash", self.crash_report())):
            if report:
                problems.append(f"the console shows {what}:\n{report}")
        if problems:
            problems.append(self.describe())
        return problems


def _which(name):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def make_target(kind, image, slots, logdir, timeout=None, tag=None):
    """An unstarted target of that kind ("qemu" or "host-lwip")."""
    if kind == "qemu":
        return QemuTarget(image, slots, logdir, timeout or 20.0, tag)
    if kind == "host-lwip":
        return HostLwipTarget(image, slots, logdir, timeout or 10.0, tag)
    raise SetupError(f"FCGATE_TARGET={kind!r}: expected qemu or host-lwip")


def config_value(image, name):
    """CONFIG_<name> of the build the image came from, from the .config
    beside it (every build folder has one), unquoted; SetupError when it
    is not there."""
    config = Path(image).parent / ".config"
    try:
        text = config.read_text()
    except OSError as e:
        raise SetupError(f"cannot read {config} (the image's build configuration): "
                         f"{e}") from None
    m = re.search(rf'^CONFIG_{name}=(.*)$', text, re.M)
    if not m:
        raise SetupError(f"{config} has no CONFIG_{name}")
    value = m.group(1)
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def route_file(image):
    """The route file the image was built with (SetupError if unknown)."""
    path = Path(config_value(image, "ROUTE_FILE"))
    return path if path.is_absolute() else ROOT / path


def has_catch_all(routes):
    """True when the route file routes every path (a ProxyPass or Alias of
    "/"), so that no path is left for "no route: 404"."""
    for line in Path(routes).read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ProxyPass", "Alias") and words[1] == "/":
            return True
    return False


def app_host(kind):
    """Where the app listens for this target."""
    return support.LOOPBACK if kind == "qemu" else TAP_HOST_ADDR
