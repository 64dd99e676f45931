"""HTTPS against the QEMU image: a few portable cases over TLS.

The image listens for HTTPS on guest port 443 (CONFIG_TLS_PORT) with 4
TLS slots; fwtarget forwards a second host port there (target.tls_port).
Clients trust the development certificate the build generated into
<build>/certs/cert.pem (its names include 127.0.0.1). The routes are
those of test_portable.py: /app/ goes to fcgi-testapp on the host.

Run by `make test-qemu-tls` (tests/tls.mk); skipped on an image without
TLS (the tiny one) and on host-lwip, which has no HTTPS listener.
Handshake times (full and resumed, median of a few) are written to
FCGATE_LOGDIR/https-handshake.txt and printed with -s.
"""

import socket
import ssl
import statistics
import threading
import time
from pathlib import Path

import pytest

import fwtarget
from httpc import build_request, parse_env
from support import random_bytes, sha256
from test_tls import HandClient, TlsConn, client_context, wait_closed

MIB = 1 << 20
BIG_TIMEOUT = 90.0          # socket timeout for 1 MiB transfers through QEMU
HANDSHAKE_TIMEOUT = 30.0    # a full handshake on the emulated Cortex-M3
CONCURRENT = 4              # the image's TLS_SLOTS
TIMED_HANDSHAKES = 5


@pytest.fixture(scope="module")
def tls(target):
    """The target, checked to serve HTTPS; tls.ctx trusts its certificate."""
    if target.kind != "qemu":
        pytest.skip(f"{target.kind} has no HTTPS listener")
    if fwtarget.config_value(target.image, "TLS") != "y":
        pytest.skip(f"{target.image} is built without TLS")
    cafile = target.image.parent / "certs" / "cert.pem"
    if not cafile.is_file():
        pytest.fail(f"{cafile} not found: the image's development certificate "
                    f"(`make CONFIG=qemu-mps2-an385` generates it)", pytrace=False)
    target.cafile = str(cafile)
    target.tls_slots = int(fwtarget.config_value(target.image, "TLS_SLOTS"))
    return target


def tls_conn(t, timeout=HANDSHAKE_TIMEOUT, ctx=None, session=None):
    return TlsConn(t.tls_port, ctx or client_context(t.cafile), timeout, session)


def env_of(resp):
    assert resp.status == 200, resp
    env, pairs = parse_env(resp.body)
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), f"meta-variables sent more than once: {names}"
    return env


def test_get_with_query_over_https(tls):
    query = "a=1&b=two%20words"
    with tls_conn(tls) as c:
        r = c.get(f"/app/env?{query}", headers=[("Host", "fcgate.test")])
        assert c.sock.version() == "TLSv1.2"
    env = env_of(r)
    expected = {
        "HTTPS": "on",
        "REQUEST_SCHEME": "https",
        "SERVER_PORT": str(fwtarget.GUEST_TLS_PORT),
        "QUERY_STRING": query,
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/env",
        "REMOTE_ADDR": tls.client_addr,
    }
    assert {k: env.get(k) for k in expected} == expected


def test_plain_port_stays_http(tls):
    env = env_of(tls.get("/app/env?plain=1"))
    assert env["REQUEST_SCHEME"] == "http" and "HTTPS" not in env, env


def test_post_1mib_intact(tls):
    body = random_bytes(MIB, seed=443)
    with tls_conn(tls, BIG_TIMEOUT) as c:
        r = c.request("POST", "/app/echo",
                      headers=[("Content-Type", "application/octet-stream")], body=body)
        assert r.status == 200, r
        assert len(r.body) == len(body) and sha256(r.body) == sha256(body)
        # The connection stays good.
        assert env_of(c.get("/app/env?after=post"))["QUERY_STRING"] == "after=post"


def test_keep_alive_over_https(tls):
    with tls_conn(tls) as c:
        for i in range(20):
            r = c.get(f"/app/env?i={i}")
            assert env_of(r)["QUERY_STRING"] == f"i={i}"
            assert r.header("Connection") != "close", r
        assert not c.closed_by_peer(0.2)


def test_concurrent_tls_clients(tls):
    """As many clients as TLS slots, each handshaking and asking at once."""
    results = [None] * CONCURRENT
    start = threading.Barrier(CONCURRENT)

    def client(i):
        try:
            start.wait(10)
            with tls_conn(tls, BIG_TIMEOUT) as c:
                results[i] = env_of(c.get(f"/app/env?client={i}"))["QUERY_STRING"]
        except Exception as e:      # reported below, per client
            results[i] = repr(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BIG_TIMEOUT + 20)
    assert not any(t.is_alive() for t in threads)
    assert results == [f"client={i}" for i in range(CONCURRENT)], results


def test_handshakes_in_flight_on_every_tls_slot(tls):
    """TLS_SLOTS handshakes stopped halfway (the guest holds each one's
    state in its arena); then each finishes and is served."""
    held = []
    try:
        for i in range(tls.tls_slots):
            h = HandClient(tls.tls_port, client_context(tls.cafile), timeout=HANDSHAKE_TIMEOUT)
            held.append(h)
            try:
                h.hello()
            except (ConnectionError, ssl.SSLError) as e:
                pytest.fail(f"handshake {i + 1} of {tls.tls_slots} in flight refused ({e!r}); "
                            f"console: {tls.console()[-800:]}")
        for i, h in enumerate(held):
            h.finish()
            out = h.exchange(build_request("GET", f"/app/env?held={i}",
                                           headers=[("Connection", "close")]))
            assert out.startswith(b"HTTP/1.1 200 ") and f"held={i}".encode() in out, out[:300]
    finally:
        for h in held:
            h.close()


def test_plaintext_to_the_tls_port_gets_400(tls):
    with socket.create_connection((tls.host, tls.tls_port), timeout=10) as s:
        s.sendall(build_request("GET", "/app/env"))
        _, got, _ = wait_closed(s, 15.0)
    assert got.startswith(b"HTTP/1.1 400 Bad Request\r\n"), got
    assert b"strict-transport-security" not in got.lower(), got
    # The slot is back: a real client is served.
    with tls_conn(tls) as c:
        assert env_of(c.get("/app/env?after=plain"))["HTTPS"] == "on"


def test_handshake_time(tls):
    """Full and resumed handshakes, timed from the client (connect to
    Finished) through QEMU's user network: informational, written to
    FCGATE_LOGDIR/https-handshake.txt; bounded so that a hang fails."""
    ctx = client_context(tls.cafile)
    full, resumed = [], []
    session = None
    for _ in range(TIMED_HANDSHAKES):
        t0 = time.monotonic()
        with tls_conn(tls, ctx=ctx) as c:
            full.append(time.monotonic() - t0)
            assert not c.sock.session_reused
            env_of(c.get("/app/env"))
            session = c.sock.session
    for _ in range(TIMED_HANDSHAKES):
        t0 = time.monotonic()
        with tls_conn(tls, ctx=ctx, session=session) as c:
            resumed.append(time.monotonic() - t0)
            assert c.sock.session_reused, "not resumed"
            env_of(c.get("/app/env"))
    stats = tls.stats()
    line = (f"QEMU mps2-an385 handshake (client side, median of {TIMED_HANDSHAKES}): "
            f"full {statistics.median(full) * 1000:.0f} ms "
            f"(min {min(full) * 1000:.0f}, max {max(full) * 1000:.0f}), "
            f"resumed {statistics.median(resumed) * 1000:.0f} ms "
            f"(min {min(resumed) * 1000:.0f}, max {max(resumed) * 1000:.0f})")
    out = Path(tls.logdir) / "https-handshake.txt"
    out.write_text(line + "\n" + "".join(s + "\n" for s in stats))
    print("\n" + line)
    for s in stats:
        print(s)
    assert statistics.median(full) < HANDSHAKE_TIMEOUT
