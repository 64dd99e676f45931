"""Slow, stalled and numerous clients against build/host-test/fcgate
(FCGATE_TEST_BIN): 32 client slots, HEADER_TIMEOUT 3 s, BODY_TIMEOUT 3 s,
SEND_TIMEOUT 3 s, KEEPALIVE_TIMEOUT 2 s (config/host-test_defconfig).

One gateway serves the whole module, so that its slot counters see every
fault in turn: after each test the status page must show only the status
request itself busy and no backend busy, and at the end SIGTERM must make
it report `slots at stop: clients busy 0 ... backends busy 0`.

Every socket has a timeout or is non-blocking, and every wait is bounded.
"""

import errno
import json
import os
import re
import resource
import socket
import threading
import time
from pathlib import Path

import pytest

from httpc import Conn, build_request
from support import LOOPBACK, Gateway

HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 3.0
SEND_TIMEOUT = 3.0
KEEPALIVE_TIMEOUT = 2.0
TIMER_SLACK = 2.0           # a timeout may fire this much late (poll period, load)
SETTLE_S = 6.0              # slots must be back within this after a test
TRICKLERS = 200
IDLE_CONNS = 2000
FD_MARGIN = 256
TRICKLE_S = 5.0
NORMAL_WITHIN_TRICKLE_S = 2.0
NORMAL_WITHIN_IDLE_S = 5.0
BIG_DOWNLOAD = 64 << 20
SMALL_RCVBUF = 4096
STOP_LINE = re.compile(r"slots at stop: clients busy (\d+) \(plus (\d+) idle keep-alive\), "
                       r"backends busy (\d+)")


def _test_binary():
    value = os.environ.get("FCGATE_TEST_BIN")
    return Path(value).resolve() if value else Path(__file__).resolve().parents[2] / \
        "build/host-test/fcgate"



@pytest.fixture(scope="module")
def tgw(tmp_path_factory, testapp):
    binary = _test_binary()
    if not binary.is_file():
        pytest.fail(f"{binary} not found: `make test-integration` builds it", pytrace=False)
    gw = Gateway(binary, [testapp.route("/t/"), "StatusPage /status"],
                 tmp_path_factory.mktemp("slow") / "fcgate-test.log")
    yield gw
    rc = gw.stop()
    assert rc == 0 and not gw.proc.killed, f"exit {rc}; {gw.proc.describe()}"


def status(gw, timeout=3.0):
    with Conn(gw.port, timeout) as c:
        r = c.request("GET", "/status", headers=[("Connection", "close")])
    assert r.status == 200, r
    return json.loads(r.body)


def wait_settled(gw, timeout=SETTLE_S):
    """Wait until only the status request itself holds a client slot and
    no backend slot is busy; the last status seen."""
    deadline = time.monotonic() + timeout
    while True:
        st = status(gw)
        if st["clients"]["busy"] == 1 and st["backends"]["busy"] == 0:
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"slots not back to idle after {timeout} s: "
                                 f"clients {st['clients']}, backends {st['backends']}")
        time.sleep(0.2)


@pytest.fixture(autouse=True)
def settled(request, tgw):
    if request.node.name == "test_shutdown_reports_no_busy_slots":
        yield
        return
    wait_settled(tgw)
    yield
    wait_settled(tgw)


def normal_request(gw, limit_s):
    """A complete GET /t/env on a new connection, answered within limit_s
    (connect included); the elapsed seconds."""
    t0 = time.monotonic()
    with Conn(gw.port, timeout=limit_s) as c:
        r = c.get("/t/env?normal=1")
    elapsed = time.monotonic() - t0
    assert r.status == 200 and b"QUERY_STRING=normal=1" in r.body, r
    assert elapsed <= limit_s, f"normal request took {elapsed:.2f} s (limit {limit_s} s)"
    return elapsed


def wait_closed(c, limit_s):
    """Seconds until the server closes c (its bytes are kept in c.buf)."""
    t0 = time.monotonic()
    c.sock.settimeout(0.2)
    while time.monotonic() - t0 < limit_s:
        try:
            data = c.sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            data = b""
        if not data:
            c.eof = True
            return time.monotonic() - t0
        c.buf += data
    raise AssertionError(f"connection still open after {limit_s} s")


def open_nonblocking(port, n):
    """n sockets with a non-blocking connect to the gateway in progress."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setblocking(False)
            err = s.connect_ex((LOOPBACK, port))
            assert err in (0, errno.EINPROGRESS), f"connect: {os.strerror(err)}"
    except BaseException:
        close_all(socks)
        raise
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# --- timeouts ----------------------------------------------------------------------

def test_header_timeout_is_408_and_close(tgw):
    with Conn(tgw.port, timeout=HEADER_TIMEOUT + TIMER_SLACK + 2) as c:
        c.send(b"GET /t/env HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        t0 = time.monotonic()
        r = c.read_response()
        elapsed = time.monotonic() - t0
        assert r.status == 408, r
        assert HEADER_TIMEOUT - 0.5 <= elapsed <= HEADER_TIMEOUT + TIMER_SLACK, \
            f"408 after {elapsed:.2f} s (HEADER_TIMEOUT {HEADER_TIMEOUT} s)"
        assert c.closed_by_peer(wait=3.0), "connection left open after a 408"


def test_body_timeout_is_408_and_close(tgw):
    with Conn(tgw.port, timeout=BODY_TIMEOUT + TIMER_SLACK + 2) as c:
        c.send(build_request("POST", "/t/echo", headers=[("Content-Length", "100")])
               + b"0123456789")
        t0 = time.monotonic()
        r = c.read_response("POST")
        elapsed = time.monotonic() - t0
        assert r.status == 408, r
        assert BODY_TIMEOUT - 0.5 <= elapsed <= BODY_TIMEOUT + TIMER_SLACK, \
            f"408 after {elapsed:.2f} s (BODY_TIMEOUT {BODY_TIMEOUT} s)"
        assert c.closed_by_peer(wait=3.0), "connection left open after a 408"


def test_idle_keep_alive_connection_is_closed(tgw):
    with Conn(tgw.port) as c:
        assert c.get("/t/env").status == 200
        elapsed = wait_closed(c, KEEPALIVE_TIMEOUT + TIMER_SLACK + 2)
        assert not c.buf, f"bytes sent on an idle connection: {bytes(c.buf)[:200]!r}"
    assert KEEPALIVE_TIMEOUT - 0.5 <= elapsed <= KEEPALIVE_TIMEOUT + TIMER_SLACK, \
        f"idle connection closed after {elapsed:.2f} s (KEEPALIVE_TIMEOUT {KEEPALIVE_TIMEOUT} s)"


def test_send_timeout_closes_a_reader_that_stopped(tgw):
    """A client asks for 64 MiB and never reads: the gateway gives up on
    it after SEND_TIMEOUT without progress, serving others meanwhile."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
    s.settimeout(5)
    try:
        s.connect((LOOPBACK, tgw.port))
        s.sendall(build_request("GET", f"/t/bytes?n={BIG_DOWNLOAD}"))
        t0 = time.monotonic()
        closed_after = None
        limit = SEND_TIMEOUT + TIMER_SLACK + 3
        while time.monotonic() - t0 < limit:
            normal_request(tgw, NORMAL_WITHIN_TRICKLE_S)
            st = status(tgw)
            if st["clients"]["busy"] == 1:
                closed_after = time.monotonic() - t0
                break
            time.sleep(0.3)
        assert closed_after is not None, \
            f"stalled reader still holds its slot after {limit} s: {st['clients']}"
        assert closed_after >= SEND_TIMEOUT - 0.5, \
            f"stalled reader dropped after {closed_after:.2f} s, before SEND_TIMEOUT"
        # What reached us is far less than asked for, then the end.
        got, deadline = 0, time.monotonic() + 10
        s.settimeout(1)
        while time.monotonic() < deadline:
            try:
                data = s.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            got += len(data)
        else:
            raise AssertionError("stalled reader's connection still open after draining 10 s")
        assert got < BIG_DOWNLOAD, f"got all {got} bytes although never reading"
    finally:
        s.close()


# --- many clients -----------------------------------------------------------------

def test_200_tricklers_do_not_block_a_normal_request(tgw):
    head = build_request("GET", "/t/env?trickle=1")
    socks = open_nonblocking(tgw.port, TRICKLERS)
    stop = threading.Event()
    sent = [0] * len(socks)

    def trickle():
        while not stop.is_set():
            for i, s in enumerate(socks):
                if sent[i] >= len(head):
                    continue
                try:
                    sent[i] += s.send(head[sent[i]:sent[i] + 1])
                except OSError:
                    pass        # not connected yet, or answered 408 and closed
            stop.wait(1.0)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        times = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < TRICKLE_S:
            time.sleep(1.0)
            times.append(normal_request(tgw, NORMAL_WITHIN_TRICKLE_S))
        assert sum(1 for n in sent if n) > 0, "no trickler ever got connected"
    finally:
        stop.set()
        t.join(3)
        close_all(socks)
    assert len(times) >= 3, times


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need} descriptors needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return soft


def test_2000_idle_connections_do_not_block_a_normal_request(tgw):
    need = IDLE_CONNS + FD_MARGIN
    old_soft = raise_fd_limit(need)
    socks = []
    try:
        socks = open_nonblocking(tgw.port, IDLE_CONNS)
        time.sleep(0.5)
        normal_request(tgw, NORMAL_WITHIN_IDLE_S)
        time.sleep(1.0)
        normal_request(tgw, NORMAL_WITHIN_IDLE_S)
    finally:
        close_all(socks)
        if old_soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (old_soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    normal_request(tgw, NORMAL_WITHIN_IDLE_S)


# --- the end: nothing leaked --------------------------------------------------------

def test_shutdown_reports_no_busy_slots(tgw):
    """Last in this file: SIGTERM, exit 0, and the stop line shows no
    client and no backend still busy."""
    wait_settled(tgw)
    rc = tgw.stop()
    assert rc == 0 and not tgw.proc.killed, f"exit {rc}; {tgw.proc.describe()}"
    m = STOP_LINE.search(tgw.log())
    assert m, f"no 'slots at stop' line:\n{tgw.log()[-2000:]}"
    assert m.group(1) == "0" and m.group(3) == "0", m.group(0)
