"""The backend side: connection reuse and its limits, failover, hot
standby, aborts, streaming, and php-fpm as the prefork app reuse must not
starve (its capacity learned through FCGI_GET_VALUES, idle connections
given back after ttl, a unix socket).

Every number asserted is counted where it happens: at the app
(fcgi-testapp's /stats, asked directly over FastCGI) or on the gateway's
status page. The apps here are each test's own (started and stopped by
PID), so their counters hold only what the test did.
"""

import socket
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

import fcgi_client
import httpc
import support
from httpc import build_request, parse_env
from support import (App, Proc, app_stats, gateway_status, spawn_testapp,
                     status_member)

STATUS = "StatusPage /status"
SEQUENTIAL = 200                # requests of the reuse tests
PHP_FPM_NAMES = ("php-fpm8.2", "/usr/sbin/php-fpm8.2")
PHP_CHILDREN = 2                # pm.max_children of our php-fpm
PHP_SLEEP_US = 200000           # sleep.php's usleep()
PHP_CLIENTS = 50
PHP_MEMBER_MAX = 8
SETTLE_S = 2.0                  # how long a counter may take to settle


@pytest.fixture
def apps(tmp_path):
    """Factory: apps(port=0) -> a fresh fcgi-testapp of this test's own;
    all are stopped by PID at teardown (those the test killed already
    are left alone)."""
    started = []

    def start(port=0):
        try:
            app = spawn_testapp(f"app{len(started)}", tmp_path, port)
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        started.append(app)
        return app

    yield start
    for app in started:
        app.proc.stop()


def delta(before, after, key):
    """What the app counted between two /stats questions, not counting
    the second question itself (one connection, one request)."""
    own = 1 if key in ("connections", "requests") else 0
    return after[key] - before[key] - own


def balancer(name, members, method=None):
    conf = [f"ProxyPass /{name}/ balancer://{name}/", f"<Proxy balancer://{name}/>"]
    conf += [f"BalancerMember {m}" for m in members]
    if method:
        conf.append(f"ProxySet lbmethod={method}")
    return conf + ["</Proxy>"]


def get_env(gw, path, i, timeout=httpc.DEFAULT_TIMEOUT):
    """GET path?i=N from the testapp's /env through gw; the env dict."""
    r = gw.get(f"{path}?i={i}", timeout=timeout)
    assert r.status == 200, r
    env, _ = parse_env(r.body)
    assert env["QUERY_STRING"] == f"i={i}", env
    return env


def wait_for(predicate, timeout, step=0.05):
    """Poll predicate() until it returns a true value; that value, or the
    last false one after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def in_threads(n, fn):
    """fn(i) for i in range(n), each in its own thread; results (or the
    exception raised) in order."""
    out = [None] * n

    def run(i):
        try:
            out[i] = fn(i)
        except Exception as e:          # reported by the caller's assert
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def refused_port():
    """A socket bound to a port but not listening: connects to it are
    refused until .listen() is called, and the port stays ours."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((support.LOOPBACK, 0))
    return s


def accepts(sock):
    """How many connections wait on a listening socket (accepted and
    closed here)."""
    sock.setblocking(False)
    n = 0
    while True:
        try:
            c, _ = sock.accept()
        except BlockingIOError:
            return n
        c.close()
        n += 1


# --- reuse ------------------------------------------------------------------

def test_reuse_sequential_requests_share_connections(gateway, apps):
    app = apps()
    gw = gateway(app.route("/t/", keys="max=4"), STATUS)
    before = app_stats(app)
    for i in range(SEQUENTIAL):
        assert get_env(gw, "/t/env", i)["KEEP_CONN"] == "1"
    after = app_stats(app)
    conns = delta(before, after, "connections")
    assert delta(before, after, "requests") == SEQUENTIAL
    assert delta(before, after, "keep_conn") == SEQUENTIAL
    assert 1 <= conns <= 4, f"{conns} connections for {SEQUENTIAL} sequential requests"
    # Every new pooled connection is probed once with FCGI_GET_VALUES.
    assert delta(before, after, "get_values") == conns
    m = status_member(gateway_status(gw), app.port)
    assert m["requests"] == SEQUENTIAL
    assert m["opened"] == conns and m["reused"] == SEQUENTIAL - conns, m
    assert m["busy"] == 0 and m["failures"] == 0, m


def test_reuse_concurrent_requests_stay_within_max(gateway, apps):
    app = apps()
    gw = gateway(app.route("/t/", keys="max=4"), STATUS)
    before = app_stats(app)

    def client(t):
        with gw.conn() as c:            # 8 keep-alive clients, 25 each
            for i in range(SEQUENTIAL // 8):
                r = c.get(f"/t/env?i={t}-{i}")
                assert r.status == 200 and f"QUERY_STRING=i={t}-{i}\n".encode() in r.body, r
        return True

    assert in_threads(8, client) == [True] * 8
    after = app_stats(app)
    conns = delta(before, after, "connections")
    assert delta(before, after, "requests") == SEQUENTIAL
    assert 1 <= conns <= 4, f"{conns} connections with max=4"
    m = status_member(gateway_status(gw), app.port)
    assert m["opened"] == conns and m["opened"] + m["reused"] == SEQUENTIAL, m


@pytest.mark.parametrize("key", ["disablereuse=on", "enablereuse=off"])
def test_no_reuse_is_one_connection_per_request(gateway, apps, key):
    app = apps()
    gw = gateway(app.route("/t/", keys=key), STATUS)
    before = app_stats(app)
    for i in range(SEQUENTIAL):
        assert get_env(gw, "/t/env", i)["KEEP_CONN"] == "0"
    after = app_stats(app)
    assert delta(before, after, "connections") == SEQUENTIAL
    assert delta(before, after, "requests") == SEQUENTIAL
    assert delta(before, after, "keep_conn") == 0
    assert delta(before, after, "get_values") == 0, "probe sent on a one-shot connection"
    m = status_member(gateway_status(gw), app.port)
    assert m["opened"] == SEQUENTIAL and m["reused"] == 0, m
    assert m["connections"] == 0, m
    assert after["open"] == 1, "connections left open (only /stats's own should be)"


def test_max_caps_open_connections(gateway, apps):
    app = apps()
    gw = gateway(app.route("/t/", keys="max=2"), STATUS)
    slow_ms, n = 500, 10
    before = app_stats(app)
    peak_app, peak_gw = 0, 0
    start = time.monotonic()
    results = []
    worker = threading.Thread(target=lambda: results.extend(in_threads(
        n, lambda i: httpc.get(gw.port, f"/t/slow?ms={slow_ms}&i={i}", timeout=20))))
    worker.start()
    polls = 0
    while worker.is_alive():
        peak_app = max(peak_app, app_stats(app)["open"] - 1)    # minus /stats's own
        polls += 1
        peak_gw = max(peak_gw, status_member(gateway_status(gw), app.port)["connections"])
        time.sleep(0.05)
    worker.join()
    elapsed = time.monotonic() - start
    after = app_stats(app)
    bad = [r for r in results if not isinstance(r, httpc.Response) or r.status != 200
           or r.body != b"slow done\n"]
    assert len(results) == n and not bad, bad
    assert peak_app == 2, f"the app saw {peak_app} connections open at once with max=2"
    assert peak_gw <= 2, f"status page showed {peak_gw} connections with max=2"
    assert delta(before, after, "connections") - polls <= 2
    assert status_member(gateway_status(gw), app.port)["opened"] <= 2
    # 10 requests of 0.5 s through 2 connections take 5 rounds.
    assert elapsed >= n // 2 * slow_ms / 1000 - 0.1, elapsed


# --- failover, retry, standby, no usable member -------------------------------

def test_killed_member_fails_over_and_comes_back_after_retry(gateway, apps):
    a, b = apps(), apps()
    gw = gateway(*balancer("k", [f"{a.url()} retry=2", f"{b.url()} retry=2"]), STATUS)
    results = []                        # (start time, status or exception)
    stop = threading.Event()

    def loop():
        i = 0
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = gw.get(f"/k/env?i={i}", timeout=10)
                ok = r.status == 200 and f"QUERY_STRING=i={i}\n".encode() in r.body
                results.append((t, r.status if ok else r))
            except Exception as e:      # noqa: BLE001 - any failure is a lost request
                results.append((t, e))
            i += 1

    before_b = app_stats(b)
    runner = threading.Thread(target=loop)
    runner.start()
    time.sleep(0.5)
    killed_at = time.monotonic()
    rc = a.proc.stop()                  # SIGTERM, by PID, waited for
    time.sleep(0.7)
    stop.set()
    runner.join()
    assert rc == 0, a.proc.describe()
    # Every request in the loop is a GET without body: one on a pooled
    # connection the app closed before answering is sent again, and a
    # refused connect moves on to the other member, so none is lost.
    lost = [(round(t - killed_at, 3), s) for t, s in results if s != 200]
    after_kill = [s for t, s in results if t > killed_at]
    assert not lost, f"requests lost around the kill (time after SIGTERM, outcome): {lost}"
    assert len(after_kill) >= 20, f"only {len(after_kill)} requests ran after the kill"
    st = gateway_status(gw)
    ma, mb = status_member(st, a.port, "k"), status_member(st, b.port, "k")
    assert ma["state"] == "error" and ma["failures"] >= 1, ma
    assert mb["state"] == "ok" and mb["failures"] == 0, mb
    # The survivor takes everything now.
    mid_b = app_stats(b)
    for i in range(20):
        get_env(gw, "/k/env", i)
    assert delta(mid_b, app_stats(b), "requests") == 20
    assert delta(before_b, mid_b, "requests") >= len(after_kill) - 1

    # Back on the same port: not used inside the retry window...
    a2 = apps(port=a.port)
    early = 0
    while time.monotonic() < killed_at + 1.8:
        get_env(gw, "/k/env", early)
        early += 1
    s = app_stats(a2)
    assert s["requests"] - 1 == 0, f"member in error got {s['requests'] - 1} of {early} requests"
    # ... and used again once it is over.
    time.sleep(max(0.0, killed_at + 2.5 - time.monotonic()))
    for i in range(20):
        get_env(gw, "/k/env", i)
    s2 = app_stats(a2)
    assert delta(s, s2, "requests") >= 5, f"restarted member got {delta(s, s2, 'requests')} of 20"
    assert status_member(gateway_status(gw), a.port, "k")["state"] == "ok"


class Dropper:
    """A member that takes each connection, reads what comes and closes it
    without a byte of answer: an app that dies while answering."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((support.LOOPBACK, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.taken = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return                  # closed: the test is over
            self.taken += 1
            c.settimeout(2)
            try:
                c.recv(65536)
            except OSError:
                pass
            c.close()

    def close(self):
        self.sock.close()


def test_new_connection_dropped_unanswered_moves_a_get_on(gateway, apps):
    """A new connection the app closes before any answer: a GET goes to
    another member and the dropping one is put in error state, as after a
    refused connect (nginx's proxy_next_upstream error); a POST, which the
    app may have acted on, is answered 502 and not sent twice."""
    good, drop = apps(), Dropper()
    try:
        gw = gateway(*balancer("d", [f"fcgi://{support.LOOPBACK}:{drop.port}/ retry=60",
                                     good.url()]), STATUS)
        for i in range(4):
            get_env(gw, "/d/env", i)            # each one 200, whichever member it met
        assert drop.taken >= 1, "the dropping member was never tried"
        st = status_member(gateway_status(gw), drop.port, "d")
        assert st["state"] == "error" and st["failures"] >= 1, st

        gw2 = gateway(*balancer("p", [f"fcgi://{support.LOOPBACK}:{drop.port}/ retry=60",
                                      good.url()]))
        outcomes = []
        for i in range(4):
            taken = drop.taken
            r = gw2.request("POST", "/p/echo", body=b"x" * 10)
            outcomes.append((drop.taken > taken, r.status))
        assert (True, 502) in outcomes, outcomes
        assert all(s == (502 if dropped else 200) for dropped, s in outcomes), outcomes
    finally:
        drop.close()


def served_by(apps_, action):
    """Requests each (live) app got while action() ran."""
    before = [app_stats(x) for x in apps_]
    action()
    return [delta(b, app_stats(x), "requests") for x, b in zip(apps_, before)]


def send_env(gw, path, n):
    return lambda: [get_env(gw, path, i) for i in range(n)]


def test_standby_serves_only_when_all_others_are_down(gateway, apps):
    p1, p2, hot = apps(), apps(), apps()
    gw = gateway(*balancer("s", [p1.url(), p2.url(), f"{hot.url()} status=+H"]), STATUS)
    assert served_by([p1, p2, hot], send_env(gw, "/s/env", 20)) == [10, 10, 0]
    assert p1.proc.stop() == 0
    # One primary left: it takes everything, the standby still nothing;
    # no request fails (GETs on a lost pooled connection go again).
    assert served_by([p2, hot], send_env(gw, "/s/env", 20)) == [20, 0]
    assert p2.proc.stop() == 0
    assert served_by([hot], send_env(gw, "/s/env", 20)) == [20]
    st = gateway_status(gw)
    assert status_member(st, p1.port, "s")["state"] == "error"
    assert status_member(st, p2.port, "s")["state"] == "error"
    assert status_member(st, hot.port, "s")["requests"] == 20


def test_all_members_down_is_503_without_connecting(gateway):
    socks = [refused_port(), refused_port()]
    try:
        ports = [s.getsockname()[1] for s in socks]
        gw = gateway(*balancer("d", [f"fcgi://127.0.0.1:{p}/" for p in ports]), STATUS)
        first = gw.get("/d/env")
        # This request found both members refusing: 503 (no usable member
        # left) or 502 (the last connect failed) are both fair.
        assert first.status in (502, 503), first
        # The members are in error for retry= (60 s): now they listen and
        # count, and no request may knock.
        for s in socks:
            s.listen(16)
        statuses = [gw.get(f"/d/env?i={i}").status for i in range(10)]
        assert statuses == [503] * 10, statuses
        time.sleep(0.2)
        assert [accepts(s) for s in socks] == [0, 0], "connect attempted with no usable member"
        st = gateway_status(gw)
        for p in ports:
            m = status_member(st, p, "d")
            assert m["state"] == "error" and m["failures"] == 1, m
            assert m["connections"] == 0 and m["busy"] == 0, m
        assert st["errors"] == 11, st
    finally:
        for s in socks:
            s.close()


# --- client gone -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/t/slow?ms=3000", "/t/pieces?n=10&ms=300"])
def test_client_gone_aborts_and_frees_both_slots(gateway, apps, path):
    app = apps()
    gw = gateway(app.route("/t/"), STATUS)
    base = gateway_status(gw)
    # Counted before the request goes out: the gateway may hand it over
    # faster than a /stats question comes back.
    first = app_stats(app)
    c = httpc.Conn(gw.port, timeout=5)
    c.send(build_request("GET", path))
    if "pieces" in path:
        head = c.read_head()            # the answer has begun: a mid-response leave
        assert head.status == 200, head
        while b"piece 0\n" not in c.buf:
            assert c._fill(), "closed before the first piece"
    else:
        # Wait until the app has the request: its own /stats questions
        # count one request each, the gateway's is the one more.
        asked = [0]

        def app_has_it():
            asked[0] += 1
            s = app_stats(app)
            return s["open"] == 2 and s["requests"] - first["requests"] - asked[0] == 1

        assert wait_for(app_has_it, SETTLE_S), app_stats(app)
    before = app_stats(app)
    assert before["open"] == 2          # the gateway's connection and ours
    c.close()
    left = time.monotonic()

    def app_saw_it():
        s = app_stats(app)
        return s if s["aborts"] > before["aborts"] and s["open"] == 1 else None

    seen = wait_for(app_saw_it, SETTLE_S)
    assert seen, f"app after the client left: {app_stats(app)} (before: {before})"
    assert time.monotonic() - left < SETTLE_S + 0.5
    assert seen["aborts"] - before["aborts"] == 1

    def back_to_base():
        st = gateway_status(gw)
        m = status_member(st, app.port)
        same = (st["clients"] == base["clients"] and st["backends"] == base["backends"]
                and m["busy"] == 0 and m["connections"] == 0)
        return st if same else None

    st = wait_for(back_to_base, SETTLE_S)
    assert st, f"slots not back to baseline {base['clients']} {base['backends']}: " \
               f"{gateway_status(gw)}"


def test_client_gone_while_waiting_for_a_backend_frees_its_slot(gateway, apps):
    """A client that leaves while its request waits for a connection to the
    app (the member's one connection is busy) gives its slot back at once,
    not when the connection frees: slots held by clients already gone
    would keep the next ones waiting in the backlog."""
    app = apps()
    gw = gateway(app.route("/t/", keys="max=1"), STATUS)
    base = gateway_status(gw)["clients"]["busy"]
    busy = httpc.Conn(gw.port, timeout=10)
    busy.send(build_request("GET", "/t/slow?ms=3000"))
    assert wait_for(lambda: gateway_status(gw)["clients"]["busy"] == base + 1, SETTLE_S)
    waiting = httpc.Conn(gw.port, timeout=10)
    waiting.send(build_request("GET", "/t/env?waiting=1"))
    assert wait_for(lambda: gateway_status(gw)["clients"]["busy"] == base + 2, SETTLE_S), \
        gateway_status(gw)
    waiting.close()
    left = time.monotonic()
    assert wait_for(lambda: gateway_status(gw)["clients"]["busy"] == base + 1, SETTLE_S), \
        f"the waiting client's slot is still held: {gateway_status(gw)}"
    assert time.monotonic() - left < 1.0, "freed only when the busy connection was"
    r = busy.read_response()
    assert r.status == 200, r
    busy.close()


# --- streaming ---------------------------------------------------------------

def test_pieces_reach_the_client_as_they_are_sent(gateway, apps):
    app = apps()
    gw = gateway(app.route("/t/"))
    n, gap = 5, 1.0
    with socket.create_connection((support.LOOPBACK, gw.port), timeout=10) as s:
        s.sendall(build_request("GET", f"/t/pieces?n={n}&ms={int(gap * 1000)}"))
        start = time.monotonic()
        data, arrived = b"", {}
        while len(arrived) < n and time.monotonic() - start < n * gap + 5:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            now = time.monotonic() - start
            for k in range(n):
                if k not in arrived and b"piece %d\n" % k in data:
                    arrived[k] = now
    assert sorted(arrived) == list(range(n)), (arrived, data)
    times = [round(arrived[k], 2) for k in range(n)]
    # The app sends piece k at (k + 1) * gap seconds.
    assert times[0] < 1.5, f"first piece after {times[0]} s (sent at 1 s): {times}"
    for k in range(n):
        assert (k + 1) * gap - 0.3 <= times[k] <= (k + 1) * gap + 0.5, \
            f"piece {k} arrived at {times[k]} s, sent at {(k + 1) * gap} s: {times}"


# --- php-fpm -------------------------------------------------------------------

SLEEP_PHP = f"""<?php
usleep({PHP_SLEEP_US});
header('Content-Type: text/plain');
echo 'slept ', $_GET['i'] ?? '-', ' in ', getmypid(), "\\n";
"""
HELLO_PHP = """<?php
header('Content-Type: text/plain');
echo 'hello from ', php_sapi_name(), "\\n";
"""


def php_fpm_binary():
    import shutil
    for name in PHP_FPM_NAMES:
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("php-fpm8.2 is not installed (Debian package php8.2-fpm)")


def start_php_fpm(rundir, listen, children):
    """php-fpm with a pm=static pool of `children` workers listening on
    `listen` (127.0.0.1:PORT or a socket path), docroot rundir/www/ with
    sleep.php and hello.php. Like conftest's php_fpm, with our own pool."""
    binary = php_fpm_binary()
    rundir = Path(rundir)
    www = rundir / "www"
    www.mkdir(parents=True, exist_ok=True)
    (www / "sleep.php").write_text(SLEEP_PHP)
    (www / "hello.php").write_text(HELLO_PHP)
    conf = rundir / "php-fpm.conf"
    conf.write_text(textwrap.dedent(f"""\
        [global]
        pid = {rundir}/php-fpm.pid
        error_log = {rundir}/error.log
        daemonize = no

        [fcgate-backends]
        listen = {listen}
        listen.backlog = 64
        pm = static
        pm.max_children = {children}
        clear_env = yes
        catch_workers_output = yes
        security.limit_extensions = .php
        php_admin_value[error_log] = {rundir}/php-errors.log
        php_admin_flag[log_errors] = on
        php_admin_flag[display_errors] = off
        """))
    proc = Proc("php-fpm", [binary, "-y", conf, "-F", "-R"], rundir / "php-fpm.log")
    return proc, str(www) + "/"


def wait_php_ready(proc, connect):
    """Wait until php-fpm answers a FastCGI request; connect() -> socket."""
    deadline = time.monotonic() + support.APP_START_TIMEOUT
    while time.monotonic() < deadline:
        if not proc.alive():
            break
        try:
            connect().close()
            return
        except OSError:
            time.sleep(0.05)
    proc.stop()
    pytest.fail(f"php-fpm not ready; {proc.describe()}", pytrace=False)


@pytest.fixture(scope="module")
def php2(tmp_path_factory):
    """php-fpm with pm=static and 2 workers on a TCP port."""
    rundir = tmp_path_factory.mktemp("php-fpm-2")
    port = support.free_port()
    proc, docroot = start_php_fpm(rundir, f"127.0.0.1:{port}", PHP_CHILDREN)
    wait_php_ready(proc, lambda: socket.create_connection((support.LOOPBACK, port), 0.5))
    app = App("php-fpm-2", port, proc)
    app.docroot = docroot
    yield app
    died = None if proc.alive() else proc.popen.returncode
    proc.stop()
    assert died is None, f"php-fpm died during the tests (exit {died}); {proc.describe()}"


def php_hello_direct(app, timeout):
    """hello.php asked straight from php-fpm, not through the gateway."""
    res = fcgi_client.request(app.port, fcgi_client.cgi_params(
        "GET", "", "hello.php", app.docroot), timeout=timeout)
    head, body = res.split()
    return body


def test_php_fpm_capacity_is_learned(gateway, php2):
    gw = gateway(php2.route("/p/", php2.docroot, f"max={PHP_MEMBER_MAX}"), STATUS)
    start = time.monotonic()
    results = in_threads(PHP_CLIENTS, lambda i: httpc.get(
        gw.port, f"/p/sleep.php?i={i}", timeout=30))
    elapsed = time.monotonic() - start
    bad, pids = [], set()
    for i, r in enumerate(results):
        if isinstance(r, httpc.Response) and r.status == 200 \
                and r.body.startswith(b"slept %d in " % i):
            pids.add(r.body.split()[-1])
        else:
            bad.append((i, r))
    assert not bad, f"{len(bad)} of {PHP_CLIENTS} failed after {elapsed:.1f} s: {bad[:5]}"
    assert len(pids) == PHP_CHILDREN, pids
    m = status_member(gateway_status(gw), php2.port)
    assert m["learned_max"] == PHP_CHILDREN, m
    assert m["max"] == PHP_CHILDREN, m
    assert m["requests"] - m["reused"] - m["opened"] >= 0, m
    # 50 x 0.2 s on 2 workers is 5 s of work; the probes cost little.
    assert elapsed < 15, elapsed


def test_php_fpm_ttl_gives_workers_back(gateway, php2):
    gw = gateway(php2.route("/p/", php2.docroot, f"max={PHP_MEMBER_MAX} ttl=2"), STATUS)
    results = in_threads(6, lambda i: httpc.get(gw.port, f"/p/sleep.php?i={i}", timeout=20))
    done = time.monotonic()
    assert all(isinstance(r, httpc.Response) and r.status == 200 for r in results), results
    m = status_member(gateway_status(gw), php2.port)
    assert m["connections"] == PHP_CHILDREN, m  # pooled: each holds a worker
    # While they are pooled, php-fpm has no worker for anyone else.
    with pytest.raises(OSError):
        php_hello_direct(php2, timeout=0.5)

    def closed():
        return status_member(gateway_status(gw), php2.port)["connections"] == 0

    assert wait_for(closed, 5.0), status_member(gateway_status(gw), php2.port)
    idle_for = time.monotonic() - done
    assert 1.5 <= idle_for <= 4.0, f"idle connections closed after {idle_for:.2f} s with ttl=2"
    t = time.monotonic()
    assert php_hello_direct(php2, timeout=1.0) == b"hello from fpm-fcgi\n"
    assert time.monotonic() - t < 1.0


def test_php_fpm_over_unix_socket(gateway):
    # A short folder of our own: sun_path holds 108 bytes.
    rundir = Path(tempfile.mkdtemp(prefix="fcg-", dir="/tmp"))
    sock_path = rundir / "php.sock"
    proc, docroot = start_php_fpm(rundir, sock_path, 1)
    try:
        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(sock_path))
            except OSError:
                s.close()
                raise
            return s

        wait_php_ready(proc, connect)
        gw = gateway(f"ProxyPass /u/ unix:{sock_path}|fcgi://localhost{docroot}", STATUS)
        for i in range(3):
            r = gw.get(f"/u/hello.php?i={i}")
            assert r.status == 200, r
            assert r.body == b"hello from fpm-fcgi\n", r
        r = gw.get("/u/sleep.php?i=7")
        assert r.status == 200 and r.body.startswith(b"slept 7 in "), r
        m = status_member(gateway_status(gw), address=f"unix:{sock_path}")
        assert m["requests"] == 4 and m["opened"] + m["reused"] == 4, m
        assert m["opened"] == 1, m          # one worker, one pooled connection
    finally:
        proc.stop()
        for f in sorted(rundir.rglob("*"), reverse=True):
            f.rmdir() if f.is_dir() else f.unlink()
        rundir.rmdir()
