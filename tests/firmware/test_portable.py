"""The portable cases: what every lwIP build of fcgate must do end to end.

Run against the QEMU image (through QEMU's user network) and against
boards/host-lwip (over a TAP device, under ASan+UBSan); see conftest.py.
Every image routes /app/ to fcgi-testapp on port 9000 (SCRIPT_NAME=/app,
PATH_INFO=/env for /app/env) and /down/ to a port where nothing listens.
The tiny QEMU image and host-lwip route nothing else; the default QEMU
image also serves the demo admin UI (config/qemu-mps2-an385.routes): its
ROM fs at "/" behind an authorizer on port 9000 (fcgi-testapp here, which
refuses a request without credentials: 403, X-Auth: denied), its public
/assets/ folder without one. NOT_FOUND is 404 on all of them.
fcgi-testapp picks its behaviour by PATH_INFO: /env answers the PARAMS it
got as NAME=VALUE lines, /echo the request body, /bytes?n=N the pattern
i % 251 (nolen=1: without Content-Length), /pieces a body in timed pieces,
/slow?ms=N after a delay.

Tests marked smoke also run against the tiny image (4 client slots,
2 KiB buffers). Beyond the basic cases: pipelining, every slot held by a
slow client, and clients that reset right after sending beside a
well-behaved one. Every socket has a timeout and every wait a bound: no test
can hang. After each test conftest.still_serving checks that the gateway
is alive and answers again.
"""

import os
import signal
import socket
import struct
import threading
import time

import pytest

from httpc import ShortRead, build_request, parse_env
from support import pattern_bytes, random_bytes, sha256

MIB = 1 << 20
BIG_TIMEOUT = 90.0          # socket timeout for 1 MiB transfers
QUICK_S = 4.0               # "completes quickly": normal answers take milliseconds
BURST_CLIENTS = 50
# Each burst client is done within this. A connection beyond slots and
# listen backlog has its SYN dropped by lwIP; with QEMU it is slirp that
# retransmits it toward the guest (backing off to every 12 s) and gives up
# at 75 s, closing our side: a clean refusal.
BURST_S = {"qemu": 90.0, "host-lwip": 60.0}
# Our own connect() is retried this often. QEMU's hostfwd socket listens
# with a backlog of 1: left to the kernel's SYN backoff (1, 3, 7, 15 s...),
# a herd of clients would queue at QEMU's door, not at the gateway's.
CONNECT_RETRY_S = 1.0
# A burst client that has no answer byte after its patience (spread over
# this range, so that the herd does not come back all at once) starts
# again on a new connection, as browsers do. Through QEMU this avoids
# waiting for slirp's SYN retransmissions (a 12 s rhythm) toward a
# backlog that takes LISTEN_BACKLOG SYNs per wave; it cannot hide a
# gateway that hangs on a connection: after the burst every slot must
# serve at once.
PATIENCE_S = (3.0, 9.0)
TRICKLE_GAP_S = 0.3
TRICKLE_HEAD = b"GET /app/env?trickle=1 HTTP/1.1\r\nHost: slow.test\r\n\r\n"
ABUSERS = 3
ABUSE_S = 4.0
VANISH_BYTES = 4_000_000    # far more than fits in every buffer on the way
VANISH_READ = 32 * 1024     # read this much, then vanish
# 404 on every image: no route on those without a catch-all, a file that
# is not in the public ROM folder on the one that serves the UI.
NOT_FOUND = "/assets/no-such-file"


def env_of(resp):
    assert resp.status == 200, resp
    env, pairs = parse_env(resp.body)
    names = [n for n, _ in pairs]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, f"meta-variables sent more than once: {dups}"
    return env


def read_to_close(sock, bound, first_byte_s=None):
    """(bytes, how) read until the peer closes: how is 'eof', 'reset',
    'timeout' (the whole read took longer than bound) or 'impatient' (no
    byte at all within first_byte_s, when that is shorter than bound)."""
    got = bytearray()
    start = time.monotonic()
    deadline = start + bound
    while True:
        limit = deadline
        if not got and first_byte_s is not None and first_byte_s < bound:
            limit = start + first_byte_s
        left = limit - time.monotonic()
        if left <= 0:
            return bytes(got), "timeout" if limit == deadline else "impatient"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue            # the top of the loop says which limit passed
        except (ConnectionResetError, ConnectionAbortedError):
            return bytes(got), "reset"
        if not data:
            return bytes(got), "eof"
        got += data


def split_response(raw):
    """(status, {lower name: value}, body) of one Content-Length framed
    response; status 0 when the head is incomplete."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return 0, {}, b""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, body


def abort_socket(sock):
    """Close with a TCP reset (SO_LINGER 0): a client that vanishes."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


# --- requests and routes ------------------------------------------------------

@pytest.mark.smoke
def test_get_with_query_string(target):
    query = "a=1&b=two%20words&c=%26"
    with target.conn() as c:
        r = c.get(f"/app/env?{query}", headers=[("Host", "fcgate.test"),
                                                 ("User-Agent", "fcgate-firmware-tests")])
    env = env_of(r)
    assert r.framing == "length" and r.header("Content-Length") == str(len(r.body)), r
    expected = {
        "QUERY_STRING": query,
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": f"/app/env?{query}",
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/env",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PORT": str(target.server_port),
        "REMOTE_ADDR": target.client_addr,
        "HTTP_HOST": "fcgate.test",
        "HTTP_USER_AGENT": "fcgate-firmware-tests",
        "STDIN_LENGTH": "0",
    }
    assert {k: env.get(k) for k in expected} == expected, env
    if "SERVER_ADDR" in env:
        assert env["SERVER_ADDR"] == target.server_addr, env
    # Decoded and normalised before routing, as on every board.
    env = env_of(target.get("/app/x/../%65nv?q"))
    assert (env["SCRIPT_NAME"], env["PATH_INFO"], env["QUERY_STRING"]) == ("/app", "/env", "q")


@pytest.mark.smoke
def test_post_1mib_intact(target):
    body = random_bytes(MIB, seed=7)
    r = target.request("POST", "/app/echo", headers=[("Content-Type", "application/octet-stream")],
                       body=body, timeout=BIG_TIMEOUT)
    assert r.status == 200, r
    assert len(r.body) == MIB and sha256(r.body) == sha256(body), \
        f"echoed {len(r.body)} bytes, sha256 {sha256(r.body)}; sent {MIB}, {sha256(body)}"
    # And what the app was told about it.
    env = env_of(target.request("POST", "/app/env", body=body, timeout=BIG_TIMEOUT))
    assert env["CONTENT_LENGTH"] == str(MIB) and env["STDIN_LENGTH"] == str(MIB), env


def test_keep_alive(target):
    ports = set()
    with target.conn() as c:
        for k in range(3):
            r = c.get(f"/app/env?k={k}")
            env = env_of(r)
            assert env["QUERY_STRING"] == f"k={k}"
            ports.add(env.get("REMOTE_PORT"))
            assert (r.header("Connection") or "").lower() != "close", r
            r = c.request("POST", "/app/echo", body=b"body %d" % k)
            assert (r.status, r.body) == (200, b"body %d" % k), r
            r = c.get("/app/bytes?n=20000")
            assert r.status == 200 and r.body == pattern_bytes(20000), r
            r = c.get("/app/bytes?n=5000&nolen=1")
            assert r.status == 200 and r.framing == "chunked" and r.body == pattern_bytes(5000), r
        r = c.get(NOT_FOUND)            # the gateway's own answer keeps it open too
        assert r.status == 404, r
        assert env_of(c.get("/app/env?last=1"))["QUERY_STRING"] == "last=1"
        assert not c.closed_by_peer(0.5), "the gateway closed a persistent connection"
    # Every request came on the one connection the app's REMOTE_PORT shows.
    assert len(ports) == 1, f"REMOTE_PORT changed within one connection: {ports}"


def test_pipelined_requests(target):
    with target.conn() as c:
        c.send(build_request("GET", "/app/env?p=1") + build_request("GET", "/app/bytes?n=3000")
               + build_request("GET", "/app/env?p=3"))
        assert env_of(c.read_response())["QUERY_STRING"] == "p=1"
        r = c.read_response()
        assert r.status == 200 and r.body == pattern_bytes(3000), r
        assert env_of(c.read_response())["QUERY_STRING"] == "p=3"


def test_chunked_response(target):
    n = 100_000
    with target.conn() as c:
        r = c.get(f"/app/bytes?n={n}&nolen=1")
        assert r.status == 200, r
        assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None, r
        assert r.framing == "chunked" and len(r.body) == n and r.body == pattern_bytes(n), \
            f"{len(r.body)} bytes in {len(r.chunk_sizes)} chunks"
        # A body the app writes in timed pieces streams through the same way.
        r = c.get("/app/pieces?n=5&ms=50")
        assert r.status == 200 and r.framing == "chunked", r
        assert r.body == b"".join(b"piece %d\n" % k for k in range(5)), r
    # HTTP/1.0 cannot take chunks: the body ends with the connection.
    with target.conn() as c:
        r = c.request("GET", f"/app/bytes?n={n}&nolen=1", version="HTTP/1.0")
        assert r.status == 200 and r.framing == "close", r
        assert r.body == pattern_bytes(n)


@pytest.mark.smoke
def test_app_down_is_502(target):
    with target.conn() as c:
        r = c.get("/down/env")
        assert r.status == 502, r
    # And the app that is up is not affected.
    assert env_of(target.get("/app/env?after=502"))["QUERY_STRING"] == "after=502"


@pytest.mark.smoke
def test_unknown_route_is_404(target):
    r = target.get(NOT_FOUND)
    assert r.status == 404, r
    # Paths that only begin like a route's prefix do not reach it: with no
    # catch-all they have no route (404); under the UI's `Alias / rom:/
    # authorizer=...` its authorizer refuses them, so neither the app's
    # responder nor the ROM fs answers.
    for path in ("/", "/nowhere", "/apple", "/application/env", "/down-other"):
        r = target.get(path)
        if target.catch_all:
            assert r.status == 403 and r.header("X-Auth") == "denied", (path, r)
        else:
            assert r.status == 404, (path, r)
    # A prefix without its slash is sent to the slashed one.
    r = target.get("/app")
    assert r.status == 301 and (r.header("Location") or "").endswith("/app/"), r


def test_head(target):
    with target.conn() as c:
        r = c.request("HEAD", "/app/bytes?n=5000")
        assert r.status == 200 and r.header("Content-Length") == "5000", r
        r = c.request("HEAD", "/app/bytes?n=7000&nolen=1")
        assert r.status == 200 and r.header("Content-Length") in (None, "7000"), r
        r = c.request("HEAD", "/app/env?h=1")
        assert r.status == 200, r
        # Had any body byte come after a HEAD answer, this would not parse.
        env = env_of(c.get("/app/env?after=head"))
        assert env["QUERY_STRING"] == "after=head" and env["REQUEST_METHOD"] == "GET"
        assert not c.buf, f"bytes after the last answer: {bytes(c.buf[:100])!r}"


@pytest.mark.parametrize("head", [
    b"POST /app/env HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"POST /app/env HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /app/env HTTP/1.1\r\nHost : a\r\n\r\n",
    b"this is not http\r\n\r\n",
], ids=["two-content-lengths", "length-and-chunked", "space-before-colon", "garbage"])
def test_bad_request_is_400(target, head):
    with target.conn() as c:
        c.send(head)
        r = c.read_response()
        assert r.status == 400, r
        assert c.closed_by_peer(QUICK_S), "a 400 must close the connection"


# --- many, slow and vanishing clients ------------------------------------------

def connect_retrying(target, deadline):
    """A connected socket; connect() timing out (a dropped SYN) is tried
    again every CONNECT_RETRY_S until deadline, then socket.timeout."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("not connected before the deadline")
        try:
            s = socket.create_connection((target.host, target.port),
                                         timeout=min(CONNECT_RETRY_S, left))
        except socket.timeout:
            continue
        s.settimeout(left)
        return s


def burst_client(target, i, barrier, bound, results):
    """One of the burst: GET /app/env?client=i, Connection: close. Records
    (outcome, seconds, attempts, detail); outcome is ok, 503, refused
    (closed or reset before any response byte), hung (nothing complete
    within bound) or something wrong."""
    start = time.monotonic()
    attempts, got, how = 0, b"", "eof"
    lo, hi = PATIENCE_S
    patience = lo + (i * 0.37) % (hi - lo)
    try:
        barrier.wait(bound)
        start = time.monotonic()
        deadline = start + bound
        while True:
            attempts += 1
            with connect_retrying(target, deadline) as s:
                try:
                    s.sendall(build_request("GET", f"/app/env?client={i}",
                                            [("Connection", "close")]))
                except (BrokenPipeError, ConnectionResetError):
                    pass        # refused while we sent; what was read says the rest
                got, how = read_to_close(s, deadline - time.monotonic(), patience)
            if how != "impatient":
                break
    except (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError):
        how = "reset"
    except (socket.timeout, threading.BrokenBarrierError):
        how = "timeout"
    took = time.monotonic() - start
    if how == "timeout":
        results[i] = ("hung", took, attempts, got[:200])
        return
    if not got:
        results[i] = ("refused", took, attempts, how)
        return
    status, fields, body = split_response(got)
    if status == 503:
        results[i] = ("503", took, attempts, "")
    elif status != 200:
        results[i] = (f"status {status}", took, attempts, got[:300])
    elif fields.get("content-length") != str(len(body)) \
            or f"QUERY_STRING=client={i}\n".encode() not in body:
        results[i] = ("wrong", took, attempts, got[:600])
    else:
        results[i] = ("ok", took, attempts, "")


def every_slot_serves(target, size=100_000):
    """As many requests at once as there are client slots, each answered
    in full: no slot was lost. Retried until target.recover_s, for slots
    that are still being given back. Returns the number of tries."""
    deadline = time.monotonic() + target.recover_s
    tries = 0
    while True:
        tries += 1
        conns = []
        try:
            conns = [target.conn() for _ in range(target.slots)]
            for c in conns:
                c.send(build_request("GET", f"/app/bytes?n={size}"))
            for c in conns:
                r = c.read_response()
                assert r.status == 200 and r.body == pattern_bytes(size), r
            return tries
        except (OSError, ShortRead, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            for c in conns:
                c.close()


@pytest.mark.smoke
def test_concurrent_clients_more_than_slots(target):
    bound = BURST_S[target.kind]
    results = [None] * BURST_CLIENTS
    barrier = threading.Barrier(BURST_CLIENTS)
    threads = [threading.Thread(target=burst_client, args=(target, i, barrier, bound, results))
               for i in range(BURST_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(bound + 15)
    stuck = sum(t.is_alive() for t in threads)
    assert not stuck, f"{stuck} client threads still running after {bound + 15:.0f} s"
    counts = {}
    for outcome, *_ in results:
        counts[outcome] = counts.get(outcome, 0) + 1
    took = sorted(r[1] for r in results)
    retried = sum(1 for r in results if r[2] > 1)
    summary = (f"{BURST_CLIENTS} clients, {target.slots} slots: {counts}, {retried} started "
               f"again after their patience; seconds to done: median {took[len(took) // 2]:.1f}, "
               f"90% {took[len(took) * 9 // 10]:.1f}, slowest {took[-1]:.1f}; "
               f"gateway: {target.stats()}")
    print(summary)
    bad = [(i, r) for i, r in enumerate(results) if r[0] not in ("ok", "503", "refused")]
    assert not bad, f"{summary}\nclients answered wrongly or hung: {bad[:5]}"
    assert counts.get("ok", 0) > BURST_CLIENTS // 2, f"most must succeed; {summary}"
    # Nothing the burst did holds a slot now.
    every_slot_serves(target)


# A Linux client sends a dropped SYN again after 1 s: SYN_PAUSE_S into
# the gateway's pause, so 0.7 s after it resumes. Answers must come sooner.
SYN_PAUSE_S = 0.3
SYN_BURST_S = 0.5


def test_connections_opened_together_while_slots_are_free(target):
    """A browser opens six connections at once. As many as there are
    slots plus a few, their SYNs arriving in one burst while every slot is
    free, must all be answered at once: a stack that counts handshakes in
    progress against the listen backlog alone (lwIP, unless the port counts
    the free slots in) drops the SYNs beyond it, and those clients wait
    for a retransmission. The burst is made by stopping the gateway while
    the clients connect (SIGSTOP, by PID), so that its next pass over the
    network device reads every SYN at once."""
    if target.kind == "qemu":
        pytest.skip("QEMU's host-side listener (backlog 1) spaces connects out by itself")
    every_slot_serves(target)
    time.sleep(0.5)             # the gateway sees those clients close and frees their slots
    n = target.slots + 2
    answered = [None] * n

    def one(i):
        with socket.create_connection((target.host, target.port), timeout=target.timeout) as s:
            s.sendall(build_request("GET", f"/app/env?together={i}", [("Connection", "close")]))
            got, _ = read_to_close(s, target.timeout)
        if f"QUERY_STRING=together={i}\n".encode() in got:
            answered[i] = time.monotonic()

    pid = target.proc.popen.pid
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    os.kill(pid, signal.SIGSTOP)
    try:
        for t in threads:
            t.start()
        time.sleep(SYN_PAUSE_S)     # every SYN is in the device's queue
    finally:
        resumed = time.monotonic()
        os.kill(pid, signal.SIGCONT)
    for t in threads:
        t.join(target.timeout + 5)
    took = [round(a - resumed, 3) if a else None for a in answered]
    print(f"{n} connections opened together on {target.slots} slots, "
          f"seconds to their answers: {took}")
    assert None not in took, f"some were not answered: {took}"
    assert max(took) < SYN_BURST_S, f"some waited for a SYN retransmission: {took}"


def trickle(conn, data, gap, out):
    """Send data one byte every gap seconds, then read the answer."""
    try:
        for k in range(len(data)):
            conn.send(data[k:k + 1])
            time.sleep(gap)
        out["resp"] = conn.read_response()
    except (OSError, AssertionError) as e:
        out["error"] = e


# QEMU's user network now and then loses a frame (its console says "Slirp:
# Failed to send packet"); TCP's retransmission then delays one answer by
# seconds. That is the emulator, not a stalled gateway: on QEMU one slow
# answer per run is allowed, every other one must be quick.
QEMU_SLOW_ALLOWED = 1
RETRANSMIT_S = 15.0


def quick_requests_while(target, busy, min_count):
    """Plain requests, one after another, while busy() is true: each must
    be answered within QUICK_S (see QEMU_SLOW_ALLOWED). Returns how many
    were made."""
    done, slow = 0, []
    allowed = QEMU_SLOW_ALLOWED if target.kind == "qemu" else 0
    while busy() or done < min_count:
        t0 = time.monotonic()
        r = target.get(f"/app/env?quick={done}", headers=[("Connection", "close")],
                       timeout=(RETRANSMIT_S if allowed else QUICK_S) + 2)
        took = time.monotonic() - t0
        assert r.status == 200 and f"QUERY_STRING=quick={done}\n".encode() in r.body, r
        if took >= QUICK_S:
            slow.append(round(took, 2))
        assert len(slow) <= allowed, \
            f"answers took {slow} s while a slow client was sending (request {done})"
        done += 1
        time.sleep(0.25)
    return done


def test_slow_client_does_not_block_others(target):
    out = {}
    with target.conn(timeout=len(TRICKLE_HEAD) * TRICKLE_GAP_S + 20) as slow:
        th = threading.Thread(target=trickle, args=(slow, TRICKLE_HEAD, TRICKLE_GAP_S, out))
        t0 = time.monotonic()
        th.start()
        try:
            n = quick_requests_while(target, lambda: th.is_alive() and "resp" not in out, 5)
        finally:
            th.join(len(TRICKLE_HEAD) * TRICKLE_GAP_S + 25)
        took = time.monotonic() - t0
        assert not th.is_alive(), "the slow client never got an answer"
    assert "error" not in out, f"slow client: {out['error']!r}"
    env = env_of(out["resp"])
    assert env["QUERY_STRING"] == "trickle=1" and env["HTTP_HOST"] == "slow.test", env
    assert n >= 5 and took > len(TRICKLE_HEAD) * TRICKLE_GAP_S * 0.9, (n, took)


def test_slow_clients_in_every_slot_do_not_block_others(target):
    # As many tricklers as there are slots: a newcomer must still get a
    # slot (fcgate takes the one that has waited longest for its head).
    outs = [{} for _ in range(target.slots)]
    conns = []
    threads = []
    limit = len(TRICKLE_HEAD) * TRICKLE_GAP_S + 20
    try:
        for k in range(target.slots):
            c = target.conn(timeout=limit)
            conns.append(c)
            threads.append(threading.Thread(target=trickle,
                                            args=(c, TRICKLE_HEAD, TRICKLE_GAP_S, outs[k])))
        for th in threads:
            th.start()
        time.sleep(1.0)         # every trickler has its slot and sent a few bytes
        quick_requests_while(target, lambda: any(th.is_alive() for th in threads), 3)
        for th in threads:
            th.join(limit + 5)
        assert not any(th.is_alive() for th in threads), "a slow client was left hanging"
    finally:
        for c in conns:
            c.close()
    # Each trickler was either served in the end or let go; none got junk.
    ends = [out["resp"].status if "resp" in out else type(out.get("error")).__name__
            for out in outs]
    print(f"slow clients ended with: {ends}")
    for out in outs:
        if "resp" in out:
            assert out["resp"].status in (200, 408, 503), out["resp"]


def newcomer(target, what):
    """A connection that must be taken: the gateway has free slots."""
    try:
        return target.raw_socket()
    except (ConnectionResetError, ConnectionRefusedError) as e:
        pytest.fail(f"{what}: the gateway refused a new connection ({e!r}) although "
                    f"the clients before it were gone", pytrace=False)


def test_client_vanishes_mid_response(target):
    # More times than there are slots: a slot (client or backend) that
    # leaked each time would leave nothing to serve with.
    t0 = time.monotonic()
    for k in range(target.slots + 2):
        s = newcomer(target, f"mid-response round {k}")
        s.sendall(build_request("GET", f"/app/bytes?n={VANISH_BYTES}"))
        got = 0
        while got < VANISH_READ:
            data = s.recv(65536)
            assert data, f"round {k}: closed after {got} bytes"
            got += len(data)
        if k % 2:
            abort_socket(s)     # reset
        else:
            s.close()           # FIN with unread data: the kernel resets too
    t1 = time.monotonic()
    # Gone before the app answered, too.
    for k in range(target.slots + 2):
        s = newcomer(target, f"before-the-answer round {k}")
        s.sendall(build_request("GET", f"/app/slow?ms=300&k={k}"))
        abort_socket(s)
    t2 = time.monotonic()
    # Every slot serves again: all at once, each a complete body.
    tries = every_slot_serves(target)
    print(f"mid-response: {t1 - t0:.1f} s, before the answer: {t2 - t1:.1f} s, "
          f"every slot again: {time.monotonic() - t2:.1f} s in {tries} tries")


def test_resetting_clients_do_not_get_others_refused(target):
    """Clients that connect, send a request and reset at once (scanners,
    impatient browsers) must not get a well-behaved client's connection
    reset: while slots are free it is served, when none are it waits."""
    stop = time.monotonic() + ABUSE_S

    def abuser():
        while time.monotonic() < stop:
            try:
                s = target.raw_socket()
                s.sendall(build_request("GET", "/app/slow?ms=300"))
                abort_socket(s)
            except OSError:
                pass

    threads = [threading.Thread(target=abuser) for _ in range(ABUSERS)]
    for th in threads:
        th.start()
    outcomes = {}
    k = 0
    try:
        while time.monotonic() < stop:
            k += 1
            try:
                with connect_retrying(target, time.monotonic() + target.timeout) as s:
                    s.sendall(build_request("GET", f"/app/env?k={k}", [("Connection", "close")]))
                    got, how = read_to_close(s, target.timeout)
                status, _, body = split_response(got)
                if status == 200 and f"QUERY_STRING=k={k}\n".encode() in body:
                    outcome = "ok"
                else:
                    outcome = f"{how} after {len(got)} bytes, status {status}"
            except (ConnectionResetError, BrokenPipeError) as e:
                outcome = f"reset while sending ({type(e).__name__})"
            except socket.timeout:
                outcome = "timeout"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        for th in threads:
            th.join(target.timeout + 5)
    print(f"well-behaved client beside {ABUSERS} connect-and-reset clients: {outcomes}")
    assert set(outcomes) == {"ok"}, f"a well-behaved client was refused or failed: {outcomes}"
