"""HTTPS on the host gateway (--tls-listen): the request path over TLS,
what the handshake accepts and refuses, and bad input on the TLS port.

Clients: Python's ssl module (through httpc, so framing is checked as
strictly as over plain TCP), curl --cacert and `openssl s_client`. Each
gateway build compiles in its own development pair, generated into
<build>/certs/ (cert.pem is the CA file the clients trust); one test
starts the gateway with --cert/--key of a pair made here instead.

Most tests run against FCGATE_BIN (HEADER_TIMEOUT 20 s, 16 TLS slots);
the bad-input tests run against one FCGATE_TEST_BIN gateway for the
module (HEADER_TIMEOUT 3 s, 16 TLS slots), whose status page must show
every slot back after each of them, and whose 16 TLS slots must all take
a connection at once afterwards.

Every socket has a timeout and every subprocess a time limit.
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from pathlib import Path

import pytest

import httpc
from httpc import build_request, parse_env
from support import LOOPBACK, Gateway, free_port, pattern_bytes, random_bytes, run, sha256
import support

DOCROOT = "/srv/www/"
MIB = 1 << 20
TLS_SLOTS = 16                  # TLS_SLOTS of config/host_defconfig and host-test
TEST_HEADER_TIMEOUT = 3.0       # HEADER_TIMEOUT of config/host-test_defconfig
TEST_DEFER_ACCEPT = 3.0         # its LISTEN_DEFER_ACCEPT
TIMER_SLACK = 2.0
CLOSE_WITHIN = 5.0              # bad input must be closed on within this
SETTLE_S = 6.0
TLS_LINE = re.compile(r"listening on (\S+):(\d+) \(TLS\)")
# What the server may agree to: ECDHE (forward secrecy) with an AEAD.
ALLOWED_SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
}
# Everything OpenSSL knows for TLS 1.2 but an AEAD suite; @SECLEVEL=0 so
# that the client really offers the weak ones.
NON_AEAD = "ALL:COMPLEMENTOFALL:!AESGCM:!CHACHA20:@SECLEVEL=0"
STOP_LINE = re.compile(r"slots at stop: clients busy (\d+) \(plus (\d+) idle keep-alive\), "
                       r"backends busy (\d+)")


def _binary_env(name, default):
    value = os.environ.get(name)
    return Path(value).resolve() if value else support.ROOT / default


TEST_BIN = _binary_env("FCGATE_TEST_BIN", "build/host-test/fcgate")


def certs_of(binary):
    """The development pair a build compiled in (Makefile: $(B)/certs/)."""
    d = Path(binary).parent / "certs"
    return d / "cert.pem", d / "key.pem"


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed")
    return path


# --- a gateway with a TLS listener --------------------------------------------------

class TlsGateway:
    """A Gateway plus its TLS port and the CA file that verifies it."""

    def __init__(self, gw, cafile):
        self.gw = gw
        self.port = gw.port
        self.cafile = str(cafile)
        self.tls_port = self._tls_port()

    def _tls_port(self):
        deadline = time.monotonic() + support.GATEWAY_START_TIMEOUT
        while time.monotonic() < deadline:
            m = TLS_LINE.search(self.gw.log())
            if m:
                return int(m.group(2))
            time.sleep(0.02)
        raise AssertionError(f"no 'listening on ... (TLS)' line; {self.gw.proc.describe()}")

    def log(self):
        return self.gw.log()

    def context(self, **kw):
        return client_context(self.cafile, **kw)

    def conn(self, timeout=httpc.DEFAULT_TIMEOUT, ctx=None, session=None):
        return TlsConn(self.tls_port, ctx or self.context(), timeout, session)

    def request(self, method, target, headers=None, body=None, timeout=httpc.DEFAULT_TIMEOUT):
        with self.conn(timeout) as c:
            return c.request(method, target, headers, body)

    def get(self, target, headers=None, timeout=httpc.DEFAULT_TIMEOUT):
        return self.request("GET", target, headers, timeout=timeout)

    def plain(self, timeout=httpc.DEFAULT_TIMEOUT):
        return httpc.Conn(self.port, timeout)


def client_context(cafile, minimum=ssl.TLSVersion.TLSv1_2, maximum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # TLSv1 / TLSv1_1
        ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


class TlsConn(httpc.Conn):
    """httpc.Conn over TLS: the same strict reading of responses."""

    def __init__(self, port, ctx, timeout=httpc.DEFAULT_TIMEOUT, session=None):
        raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=LOOPBACK, session=session)
        except BaseException:
            raw.close()
            raise
        self.sock.settimeout(timeout)
        self.port = port
        self.buf = bytearray()
        self.eof = False


def start_tls_gateway(gateway, routes, args=()):
    gw = gateway(*routes, args=("--tls-listen", f"{LOOPBACK}:0") + tuple(args))
    return TlsGateway(gw, certs_of(support.FCGATE_BIN)[0])


@pytest.fixture
def tgw(gateway, testapp):
    """FCGATE_BIN with a TLS listener: /t/ -> testapp, /dead/ -> nobody,
    the status page on /status."""
    return start_tls_gateway(gateway, [testapp.route("/t/", DOCROOT),
                                       f"ProxyPass /dead/ fcgi://{LOOPBACK}:{free_port()}/",
                                       "StatusPage /status"])


def env_of(resp):
    assert resp.status == 200, resp
    env, pairs = parse_env(resp.body)
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), f"meta-variables sent more than once: {names}"
    return env


# --- a client driven by hand, to stop inside a handshake --------------------------

class HandClient:
    """A TLS client over memory BIOs: hello() sends the ClientHello and
    reads the server's whole first flight (so the server has done its
    ECDHE and signature and holds the handshake state), holding our answer
    back; finish() completes the handshake later."""

    def __init__(self, port, ctx, timeout=10.0):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=LOOPBACK)

    def close(self):
        self.sock.close()

    def client_hello(self):
        """The bytes of our ClientHello, not sent."""
        self._step()
        return self.outgoing.read()

    def _step(self):
        try:
            self.tls.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _feed(self):
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            raise ConnectionError("server closed during the handshake")
        self.incoming.write(data)

    def hello(self):
        self._step()
        self._flush()
        while not self.outgoing.pending:
            self._feed()
            assert not self._step(), "handshake finished without our second flight"

    def finish(self):
        while True:
            done = self._step()
            self._flush()
            if done:
                return
            self._feed()

    def exchange(self, request):
        """Send one request and read everything until the server closes."""
        self.tls.write(request)
        self._flush()
        out = bytearray()
        while True:
            try:
                while True:
                    data = self.tls.read(65536)
                    if not data:
                        return bytes(out)
                    out += data
            except ssl.SSLWantReadError:
                pass
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return bytes(out)
            try:
                self._feed()
            except ConnectionError:
                return bytes(out)


# --- raw sockets ---------------------------------------------------------------------

def wait_closed(sock, limit_s):
    """(seconds until the server closed sock, bytes it sent before, how:
    'fin' or 'reset'); fails when it stays open past limit_s."""
    t0 = time.monotonic()
    got = bytearray()
    sock.settimeout(0.2)
    while time.monotonic() - t0 < limit_s:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - t0, bytes(got), "reset"
        if not data:
            return time.monotonic() - t0, bytes(got), "fin"
        got += data
    raise AssertionError(f"connection still open after {limit_s} s (got {bytes(got[:64])!r})")


def is_tls_alert(data):
    """True when data is one or more plaintext TLS alert records (type 21)."""
    while data:
        if len(data) < 5 or data[0] != 21 or data[1] != 3:
            return False
        n = int.from_bytes(data[3:5], "big")
        data = data[5 + n:]
    return True


def status(port, timeout=3.0):
    with httpc.Conn(port, timeout) as c:
        r = c.request("GET", "/status", headers=[("Connection", "close")])
    assert r.status == 200, r
    return json.loads(r.body)


def wait_settled(port, timeout=SETTLE_S):
    """Until only the status request holds a client slot (TLS slots are
    client slots) and no backend is busy."""
    deadline = time.monotonic() + timeout
    while True:
        st = status(port)
        if st["clients"]["busy"] == 1 and st["backends"]["busy"] == 0:
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"slots not back after {timeout} s: clients {st['clients']}, "
                                 f"backends {st['backends']}")
        time.sleep(0.1)


def all_tls_slots_work(g, n=TLS_SLOTS, tag="all"):
    """n TLS connections open at once, each answered on its own; all kept
    open until every one has had its answer."""
    conns = []
    try:
        for _ in range(n):
            conns.append(g.conn(timeout=10.0))
        for i, c in enumerate(conns):
            r = c.get(f"/t/env?{tag}={i}")
            env = env_of(r)
            assert env["QUERY_STRING"] == f"{tag}={i}" and env["HTTPS"] == "on"
    finally:
        for c in conns:
            c.close()


def s_client(port, cafile, args=(), stdin=b"", timeout=20):
    argv = [tool("openssl"), "s_client", "-connect", f"{LOOPBACK}:{port}",
            "-CAfile", str(cafile), "-verify_return_error", *args]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)


# --- the request path over TLS ------------------------------------------------------

def test_get_with_query_over_https(tgw):
    target = "/t/env?a=1&b=two%20words"
    with tgw.conn() as c:
        r = c.get(target, headers=[("User-Agent", "fcgate-tests/tls")])
        client_port = c.local_port()
        assert c.sock.version() == "TLSv1.2"
    env = env_of(r)
    expected = {
        "HTTPS": "on",
        "REQUEST_SCHEME": "https",
        "SERVER_PORT": str(tgw.tls_port),
        "QUERY_STRING": "a=1&b=two%20words",
        "REQUEST_URI": target,
        "SCRIPT_NAME": "/t",
        "PATH_INFO": "/env",
        "REMOTE_ADDR": LOOPBACK,
        "HTTP_USER_AGENT": "fcgate-tests/tls",
    }
    assert {k: env.get(k) for k in expected} == expected
    if "REMOTE_PORT" in env:
        assert env["REMOTE_PORT"] == str(client_port)


def test_plain_port_stays_http(tgw):
    with tgw.plain() as c:
        env = env_of(c.get("/t/env?x=1"))
    assert env["REQUEST_SCHEME"] == "http"
    assert "HTTPS" not in env, env
    assert env["SERVER_PORT"] == str(tgw.port)


def test_curl_get_post_and_connection_reuse(tgw, tmp_path):
    curl = tool("curl")
    body = random_bytes(300 * 1024, seed=7)
    (tmp_path / "body").write_bytes(body)
    base = f"https://{LOOPBACK}:{tgw.tls_port}"
    r = run([curl, "-sS", "-v", "--cacert", tgw.cafile, f"{base}/t/env?n=1",
             f"{base}/t/env?n=2"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("HTTPS=on") == 2 and "QUERY_STRING=n=2" in r.stdout, r.stdout
    assert re.search(r"Re-?using existing connection", r.stderr), r.stderr
    r = subprocess.run([curl, "-sS", "--cacert", tgw.cafile, "--data-binary",
                        f"@{tmp_path / 'body'}", "-H", "Content-Type: application/octet-stream",
                        f"{base}/t/echo"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert sha256(r.stdout) == sha256(body)


def test_openssl_s_client_get(tgw):
    req = (f"GET /t/env?via=s_client HTTP/1.1\r\nHost: {LOOPBACK}\r\n"
           "Connection: close\r\n\r\n").encode()
    r = s_client(tgw.tls_port, tgw.cafile, ["-quiet", "-tls1_2"], stdin=req)
    out = r.stdout.decode("latin-1")
    assert out.startswith("HTTP/1.1 200 "), (out, r.stderr)
    assert "HTTPS=on" in out and "QUERY_STRING=via=s_client" in out, out


def test_post_4mib_intact(tgw):
    body = random_bytes(4 * MIB, seed=4)
    with tgw.conn(timeout=30) as c:
        r = c.request("POST", "/t/echo", headers=[("Content-Type", "application/octet-stream")],
                      body=body)
        assert r.status == 200, r
        assert len(r.body) == len(body) and sha256(r.body) == sha256(body)
        # The connection is still good for the next request.
        env = env_of(c.request("POST", "/t/env", body=body[:MIB]))
    assert env["STDIN_LENGTH"] == str(MIB) and env["HTTPS"] == "on"


def test_keep_alive_100_requests_one_connection(tgw):
    with tgw.conn() as c:
        for i in range(100):
            r = c.get(f"/t/env?i={i}")
            assert env_of(r)["QUERY_STRING"] == f"i={i}"
            assert r.header("Connection") != "close", r
        assert not c.closed_by_peer(0.2)
        assert c.sock.session_reused is False


def test_chunked_response_over_tls(tgw):
    n = 3 * MIB + 17
    with tgw.conn(timeout=30) as c:
        r = c.get(f"/t/bytes?n={n}&nolen=1")
        assert r.status == 200 and r.framing == "chunked", r
        assert sha256(r.body) == sha256(pattern_bytes(n))
        r = c.get("/t/pieces?n=5&ms=20")
        assert r.status == 200 and r.framing == "chunked" and len(r.chunk_sizes) >= 2, r


@pytest.mark.parametrize("query", ["", "&nolen=1"], ids=["length", "chunked"])
def test_large_response_to_a_slow_reader(tgw, query):
    """The gateway's records wait on a full socket (tls_send AGAIN with a
    record half sent) and go on intact, also when more bytes (the next
    chunk's size line, the body behind a head) are queued behind the
    pending record before it is finished; the connection stays usable."""
    n = 8 * MIB
    with tgw.conn(timeout=30) as c:
        c.send(build_request("GET", f"/t/bytes?n={n}{query}"))
        time.sleep(1.0)
        c.sock.settimeout(30)
        got = bytearray()
        while len(got) < 64 * 1024:
            got += c.sock.recv(4096)
            time.sleep(0.001)
        c.buf = got
        r = c.read_response()
        assert r.status == 200 and sha256(r.body) == sha256(pattern_bytes(n))
        r = c.get("/t/env?after=slow")
        assert r.status == 200 and env_of(r)["QUERY_STRING"] == "after=slow"


def test_502_and_404_keep_the_connection(tgw):
    with tgw.conn() as c:
        r = c.get("/dead/x")
        assert r.status == 502, r
        r = c.get("/nothing/here")
        assert r.status == 404, r
        assert env_of(c.get("/t/env?after=errors"))["HTTPS"] == "on"


def test_head_over_tls(tgw):
    with tgw.conn() as c:
        r = c.request("HEAD", "/t/bytes?n=5000")
        assert r.status == 200 and r.header("Content-Length") == "5000" and r.body == b"", r
        # No body bytes were sent after the head: the next answer is clean.
        assert env_of(c.get("/t/env?after=head"))["QUERY_STRING"] == "after=head"


def test_pipelined_requests_over_tls(tgw):
    n = 20
    with tgw.conn() as c:
        c.send(b"".join(build_request("GET", f"/t/env?p={i}") for i in range(n)))
        for i in range(n):
            assert env_of(c.read_response())["QUERY_STRING"] == f"p={i}"


def test_request_head_in_one_byte_records(tgw):
    """Each byte of the head in a TLS record of its own: the head is
    assembled across records like across TCP segments."""
    req = build_request("GET", "/t/env?tiny=records", headers=[("X-Pad", "p" * 300)])
    with tgw.conn() as c:
        for i in range(len(req)):
            c.sock.send(req[i:i + 1])       # one write, one record
        env = env_of(c.read_response())
    assert env["QUERY_STRING"] == "tiny=records" and env["HTTP_X_PAD"] == "p" * 300


def test_chunked_request_body_and_expect_continue(tgw):
    body = random_bytes(10000, seed=5)
    parts = [body[i:i + 1000] for i in range(0, len(body), 1000)]
    with tgw.conn() as c:
        r = c.request("POST", "/t/echo", headers=[("Transfer-Encoding", "chunked")],
                      body=httpc.chunked(parts))
        assert r.status == 200 and r.body == body, r
        c.send(build_request("POST", "/t/env", headers=[("Expect", "100-continue"),
                                                        ("Content-Length", "5")]))
        head = c.read_head()
        assert head.status == 100, head
        c.send(b"hello")
        env = env_of(c.read_response())
    assert env["STDIN_LENGTH"] == "5"


def test_client_vanishing_mid_response_frees_the_slot(tgw):
    for how in ("close", "reset"):
        c = tgw.conn()
        c.send(build_request("GET", f"/t/bytes?n={16 * MIB}"))
        c.sock.recv(1000)
        if how == "reset":
            raw = raw_under(c)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            raw.close()
        c.close()
    wait_settled(tgw.port, timeout=10)
    env_of(tgw.get("/t/env?after=vanish"))


def test_pipelined_burst_larger_than_the_input_buffer(tgw):
    """More pipelined requests in one go than CLIENT_IN_BUF holds (32 KiB
    on host): what mbedTLS has decrypted but the slot has not taken yet
    must not be forgotten (poll cannot see it)."""
    n = 400
    reqs = b"".join(build_request("GET", f"/t/env?q={i}", headers=[("X-Pad", "x" * 60)])
                    for i in range(n))
    assert len(reqs) > 32 * 1024
    with tgw.conn(timeout=20) as c:
        c.send(reqs)
        for i in range(n):
            assert env_of(c.read_response())["QUERY_STRING"] == f"q={i}"


# --- handshakes -----------------------------------------------------------------------

def test_session_resumption_python(tgw):
    ctx = tgw.context()
    with tgw.conn(ctx=ctx) as c:
        env_of(c.get("/t/env"))
        session = c.sock.session
        assert not c.sock.session_reused
    assert session is not None and session.has_ticket, "no session ticket issued"
    for i in range(5):
        with tgw.conn(ctx=ctx, session=session) as c:
            assert c.sock.session_reused, f"connection {i} was not resumed"
            assert env_of(c.get(f"/t/env?resumed={i}"))["HTTPS"] == "on"
            session = c.sock.session


def test_session_resumption_s_client(tgw):
    r = s_client(tgw.tls_port, tgw.cafile, ["-tls1_2", "-reconnect"])
    out = r.stdout.decode("latin-1")
    lines = [ln for ln in out.splitlines() if ln.startswith(("New,", "Reused,"))]
    assert lines and lines[0].startswith("New, TLSv1.2"), out
    assert len(lines) == 6 and all(ln.startswith("Reused, TLSv1.2") for ln in lines[1:]), lines


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
                         ids=["tls1.0", "tls1.1"])
def test_old_protocol_versions_refused(tgw, version):
    ctx = tgw.context(minimum=version, maximum=version, ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as e:
        tgw.conn(ctx=ctx).close()
    assert "PROTOCOL_VERSION" in str(e.value), e.value
    env_of(tgw.get("/t/env"))


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_old_protocol_versions_refused_s_client(tgw, flag):
    r = s_client(tgw.tls_port, tgw.cafile, [flag, "-cipher", "DEFAULT:@SECLEVEL=0"])
    out = r.stdout.decode("latin-1") + r.stderr.decode("latin-1")
    assert r.returncode != 0 and "alert protocol version" in out, out
    assert "Cipher is (NONE)" in out, out


def test_tls13_only_client_refused_cleanly(tgw):
    ctx = tgw.context(minimum=ssl.TLSVersion.TLSv1_3)
    t0 = time.monotonic()
    with pytest.raises(ssl.SSLError) as e:
        tgw.conn(ctx=ctx).close()
    assert time.monotonic() - t0 < 2.0, "the refusal was not prompt"
    assert "ALERT" in str(e.value), e.value
    env_of(tgw.get("/t/env"))


def test_only_ecdhe_aead_suites_accepted(tgw):
    """Every TLS 1.2 suite this OpenSSL knows, offered alone."""
    probe = tgw.context(ciphers="ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    names = sorted({c["name"] for c in probe.get_ciphers() if c["protocol"] == "TLSv1.2"})
    assert len(names) > 30, names
    accepted = []
    for name in names:
        ctx = tgw.context(maximum=ssl.TLSVersion.TLSv1_2, ciphers=name + ":@SECLEVEL=0")
        try:
            with tgw.conn(ctx=ctx) as c:
                accepted.append(c.sock.cipher()[0])
        except ssl.SSLError as e:
            assert "HANDSHAKE_FAILURE" in str(e) or "NO_CIPHERS" in str(e).upper(), (name, e)
    assert accepted, "no suite accepted at all"
    assert set(accepted) <= ALLOWED_SUITES, accepted
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in accepted
    assert "ECDHE-ECDSA-CHACHA20-POLY1305" in accepted


@pytest.mark.parametrize("ciphers", [NON_AEAD, "RC4:3DES:DES:NULL:EXPORT:LOW:aNULL:@SECLEVEL=0",
                                     "kRSA:kDHE:@SECLEVEL=0"],
                         ids=["cbc-and-other-non-aead", "rc4-3des-null-export", "no-ecdhe"])
def test_weak_suites_refused_s_client(tgw, ciphers):
    r = s_client(tgw.tls_port, tgw.cafile, ["-tls1_2", "-cipher", ciphers])
    out = r.stdout.decode("latin-1") + r.stderr.decode("latin-1")
    assert r.returncode != 0 and "Cipher is (NONE)" in out, out


def hold_handshakes(g, n):
    """Up to n handshakes stopped halfway; stops at the first one the
    gateway refuses, which must be refused at once (not left hanging).
    Returns (held clients, the refusal or None)."""
    held = []
    for _ in range(n):
        h = HandClient(g.tls_port, g.context(), timeout=5.0)
        try:
            h.hello()
        except (ConnectionError, ssl.SSLError) as e:
            h.close()
            return held, repr(e)
        held.append(h)
    return held, None


def finish_and_ask(held, tag):
    for i, h in enumerate(held):
        h.finish()
        out = h.exchange(build_request("GET", f"/t/env?{tag}={i}",
                                       headers=[("Connection", "close")]))
        assert out.startswith(b"HTTP/1.1 200 ") and f"QUERY_STRING={tag}={i}\n".encode() in out, \
            out[:300]


def test_arena_holds_a_handshake_on_every_tls_slot(tgw):
    """TLS_SLOTS handshakes in flight at once (a browser opening several
    connections to a page, times a few clients): the arena of the same
    configuration must hold them all."""
    held, refused = hold_handshakes(tgw, TLS_SLOTS)
    try:
        assert refused is None, (f"handshake {len(held) + 1} of {TLS_SLOTS} refused ({refused}); "
                                 f"log: {tgw.log()[-600:]}")
        finish_and_ask(held, "held")
    finally:
        for h in held:
            h.close()


def test_more_connections_than_tls_slots(tgw):
    """Handshakes stopped halfway on as many TLS slots as will take one,
    then more connections than there are slots: each of those is refused
    cleanly or waits, and the halfway ones then finish unharmed."""
    extra = 8
    held, _ = hold_handshakes(tgw, TLS_SLOTS)
    try:
        assert len(held) >= TLS_SLOTS // 2, len(held)
        results = [None] * extra

        def late(i):
            try:
                with tgw.conn(timeout=15) as c:
                    results[i] = ("ok", env_of(c.get(f"/t/env?late={i}"))["QUERY_STRING"])
            except (OSError, ssl.SSLError) as e:
                results[i] = ("refused", repr(e))

        threads = [threading.Thread(target=late, args=(i,)) for i in range(extra)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        finish_and_ask(held, "held")
        for t in threads:
            t.join(20)
        assert not any(t.is_alive() for t in threads)
    finally:
        for h in held:
            h.close()
    for i, res in enumerate(results):
        assert res is not None, i
        if res[0] == "ok":
            assert res[1] == f"late={i}"
        else:
            # Refused: a clean end of the connection, not a hang.
            assert "timed out" not in res[1], res
    wait_settled(tgw.port)


def test_idle_keep_alive_tls_slot_is_reclaimed(tgw):
    """Every TLS slot held by an idle keep-alive connection: a new client
    is served at once, on the slot of the longest idle one."""
    conns = []
    try:
        for i in range(TLS_SLOTS):
            c = tgw.conn()
            conns.append(c)
            env_of(c.get(f"/t/env?idle={i}"))
        t0 = time.monotonic()
        with tgw.conn() as c:
            env_of(c.get("/t/env?newcomer=1"))
        assert time.monotonic() - t0 < 2.0
        assert conns[0].closed_by_peer(2.0), "the longest idle connection was not the one closed"
        env_of(conns[-1].get("/t/env?still=1"))
    finally:
        for c in conns:
            c.close()


# --- start-up errors ------------------------------------------------------------------

def start_fails(args, timeout=10):
    r = run([support.FCGATE_BIN, "--listen", f"{LOOPBACK}:0",
             "--conf", f"ProxyPass /t/ fcgi://{LOOPBACK}:9/", *args], timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def test_missing_cert_file_is_a_clear_error(tmp_path):
    _, key = certs_of(support.FCGATE_BIN)
    missing = tmp_path / "no-such-cert.pem"
    rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:0", "--cert", missing, "--key", key])
    assert rc == 1, out
    assert str(missing) in out and "No such file" in out, out


def test_unparsable_cert_is_a_clear_error(tmp_path):
    _, key = certs_of(support.FCGATE_BIN)
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                   "-----END CERTIFICATE-----\n")
    rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:0", "--cert", bad, "--key", key])
    assert rc == 1 and "certificate" in out.lower(), out
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x00\x01 this is not PEM at all\n")
    rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:0", "--cert", junk, "--key", key])
    assert rc == 1 and "certificate" in out.lower(), out


def test_key_that_does_not_match_is_a_clear_error(tmp_path):
    cert, _ = certs_of(support.FCGATE_BIN)
    other = tmp_path / "other.key"
    r = run([tool("openssl"), "ecparam", "-name", "prime256v1", "-genkey", "-noout",
             "-out", other])
    assert r.returncode == 0, r.stderr
    rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:0", "--cert", cert, "--key", other])
    assert rc == 1 and "does not match" in out, out


@pytest.mark.parametrize("which", ["cert", "key"])
def test_cert_and_key_go_together(which):
    cert, key = certs_of(support.FCGATE_BIN)
    arg = ["--cert", cert] if which == "cert" else ["--key", key]
    rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:0", *arg])
    assert rc == 1 and "--cert and --key" in out, out


def test_cert_without_tls_listen_is_an_error():
    cert, key = certs_of(support.FCGATE_BIN)
    rc, out = start_fails(["--cert", cert, "--key", key])
    assert rc == 1 and "--tls-listen" in out, out


def test_tls_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc, out = start_fails(["--tls-listen", f"{LOOPBACK}:{port}"])
    assert rc == 1 and "HTTPS" in out and "in use" in out, out


def test_bad_tls_listen_address_is_an_error():
    rc, out = start_fails(["--tls-listen", "nonsense"])
    assert rc == 1 and "--tls-listen" in out, out


SHUTDOWN_GRACE = 5.0            # SHUTDOWN_GRACE of config/host_defconfig (the default)


def test_shutdown_drains_tls_requests(tgw):
    """SIGTERM with an HTTPS request in flight and an idle keep-alive TLS
    connection: the request is answered whole, the gateway exits 0 with
    no slot left busy."""
    idle = tgw.conn()
    env_of(idle.get("/t/env?idle=1"))
    result = {}

    def slow():
        try:
            with tgw.conn(timeout=15) as c:
                result["r"] = c.get("/t/slow?ms=1500")
        except Exception as e:      # reported below
            result["r"] = e

    t = threading.Thread(target=slow)
    t.start()
    try:
        time.sleep(0.5)
        rc = tgw.gw.stop()
        t.join(15)
    finally:
        idle.close()
    assert rc == 0 and not tgw.gw.proc.killed, tgw.gw.proc.describe()
    r = result.get("r")
    assert not isinstance(r, Exception) and r is not None and r.status == 200, r
    assert r.body == b"slow done\n", r
    m = STOP_LINE.search(tgw.log())
    assert m and m.group(1) == "0" and m.group(3) == "0", tgw.log()[-2000:]


def test_shutdown_does_not_wait_for_a_handshake(tgw):
    """A handshake stopped halfway (or a TLS connection that never sent
    its ClientHello) is no request in flight: SIGTERM closes it at once
    instead of waiting out SHUTDOWN_GRACE, and the stop line shows no
    busy slot."""
    half = HandClient(tgw.tls_port, tgw.context())
    silent = socket.create_connection((LOOPBACK, tgw.tls_port), timeout=5)
    try:
        half.hello()
        time.sleep(0.2)
        t0 = time.monotonic()
        rc = tgw.gw.stop()
        took = time.monotonic() - t0
    finally:
        half.close()
        silent.close()
    assert rc == 0 and not tgw.gw.proc.killed, tgw.gw.proc.describe()
    m = STOP_LINE.search(tgw.log())
    assert took < SHUTDOWN_GRACE - 1, (f"stop took {took:.1f} s (grace {SHUTDOWN_GRACE} s): "
                                       f"{tgw.log()[-600:]}")
    assert m and m.group(1) == "0", tgw.log()[-600:]


def test_cert_and_key_from_files_are_served(gateway, testapp, tmp_path):
    r = run(["bash", support.ROOT / "scripts/certs.sh", tmp_path / "pair"])
    assert r.returncode == 0, r.stdout + r.stderr
    cert, key = tmp_path / "pair/cert.pem", tmp_path / "pair/key.pem"
    gw = gateway(testapp.route("/t/", DOCROOT),
                 args=("--tls-listen", f"{LOOPBACK}:0", "--cert", cert, "--key", key))
    g = TlsGateway(gw, cert)
    with g.conn() as c:
        served = c.sock.getpeercert(binary_form=True)
        assert env_of(c.get("/t/env"))["HTTPS"] == "on"
    assert served == ssl.PEM_cert_to_DER_cert(cert.read_text())
    # The compiled-in pair is not the one served now.
    with pytest.raises(ssl.SSLCertVerificationError):
        TlsGateway(gw, certs_of(support.FCGATE_BIN)[0]).conn().close()


# --- bad input on the TLS port (FCGATE_TEST_BIN: HEADER_TIMEOUT 3 s) -----------------

@pytest.fixture(scope="module")
def bgw(tmp_path_factory, testapp):
    if not TEST_BIN.is_file():
        pytest.fail(f"{TEST_BIN} not found: `make test-integration` builds it", pytrace=False)
    check = run([TEST_BIN, "--check-config"])
    if " TLS" not in check.stdout:
        pytest.skip(f"{TEST_BIN} has no TLS compiled in")
    gw = Gateway(TEST_BIN, [testapp.route("/t/", DOCROOT), "StatusPage /status"],
                 tmp_path_factory.mktemp("tls-bad") / "fcgate-test.log",
                 ("--tls-listen", f"{LOOPBACK}:0"))
    g = TlsGateway(gw, certs_of(TEST_BIN)[0])
    yield g
    rc = gw.stop()
    assert rc == 0 and not gw.proc.killed, f"exit {rc}; {gw.proc.describe()}"
    m = STOP_LINE.search(gw.log())
    assert m and m.group(1) == "0" and m.group(3) == "0", gw.log()[-2000:]


@pytest.fixture
def settled(bgw):
    """Before and after a bad-input test: every slot back."""
    wait_settled(bgw.port)
    yield bgw
    wait_settled(bgw.port)


def raw_tls(g, timeout=10.0):
    return socket.create_connection((LOOPBACK, g.tls_port), timeout=timeout)


def test_hsts_over_tls_only(settled):
    """TLS_HSTS_MAX_AGE (31536000 in host-test): on HTTPS answers, fcgate's
    own errors included; never on the plain port (RFC 6797 7.2)."""
    g = settled
    for target, status in (("/t/env", 200), ("/nothing/here", 404)):
        r = g.get(target)
        assert r.status == status, r
        assert r.header("Strict-Transport-Security") == "max-age=31536000", r
    with g.plain() as c:
        r = c.get("/t/env")
    assert r.status == 200 and r.header("Strict-Transport-Security") is None, r


def test_plain_http_to_the_tls_port_gets_400(settled):
    """As nginx and Apache do: a 400 in plain HTTP, no TLS alert before it,
    no HSTS over plain HTTP (RFC 6797 7.2), then a graceful close."""
    g = settled
    with raw_tls(g) as s:
        s.sendall(build_request("GET", "/t/env"))
        took, got, how = wait_closed(s, CLOSE_WITHIN)
    assert got.startswith(b"HTTP/1.1 400 Bad Request\r\n"), got
    head = got.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nconnection: close" in head, got
    assert b"strict-transport-security" not in head, got
    assert how == "fin", how
    # No request was parsed: the log line names none (not "400 for  : ...").
    assert re.search(r"^fcgate: info: 400: plain HTTP sent to the TLS port$", g.log(), re.M), \
        g.log()[-2000:]


def test_garbage_to_the_tls_port_is_closed(settled):
    g = settled
    for seed in range(5):
        with raw_tls(g) as s:
            s.sendall(random_bytes(2000, seed))
            wait_closed(s, CLOSE_WITHIN)
    # Garbage that looks like a handshake record header, then junk.
    with raw_tls(g) as s:
        s.sendall(b"\x16\x03\x01\x00\x40" + random_bytes(64, 99))
        took, got, _ = wait_closed(s, CLOSE_WITHIN)
    assert got == b"" or is_tls_alert(got), got
    all_tls_slots_work(g, tag="garbage")


def test_truncated_client_hello_then_silence_times_out(settled):
    g = settled
    hello = HandClient(g.tls_port, g.context()).client_hello()
    assert len(hello) > 100
    with raw_tls(g) as s:
        s.sendall(hello[:60])
        took, got, _ = wait_closed(s, TEST_HEADER_TIMEOUT + TIMER_SLACK + 2)
    assert TEST_HEADER_TIMEOUT - 0.5 <= took <= TEST_HEADER_TIMEOUT + TIMER_SLACK, took


def test_silent_connections_take_no_tls_slot(settled):
    """Silence from the start: the kernel keeps the connection until its
    first bytes (LISTEN_DEFER_ACCEPT), so more silent connections than TLS
    slots leave every slot free; once handed over after the defer time, the
    head timeout closes them."""
    g = settled
    silent = [raw_tls(g) for _ in range(TLS_SLOTS + 2)]
    try:
        t0 = time.monotonic()
        all_tls_slots_work(g, tag="silent")
        assert time.monotonic() - t0 < TEST_HEADER_TIMEOUT, "silent connections held TLS slots"
        limit = TEST_DEFER_ACCEPT + TEST_HEADER_TIMEOUT + TIMER_SLACK + 2
        for s in silent:
            wait_closed(s, limit - (time.monotonic() - t0))
    finally:
        for s in silent:
            s.close()


def test_truncated_client_hello_then_close(settled):
    g = settled
    hello = HandClient(g.tls_port, g.context()).client_hello()
    for cut in (1, 5, 6, 60, len(hello) - 1):
        with raw_tls(g) as s:
            s.sendall(hello[:cut])
            s.shutdown(socket.SHUT_WR)
            wait_closed(s, CLOSE_WITHIN)


def raw_under(c):
    """The TCP stream under a TLS connection, as a socket of its own: bytes
    written or read there bypass the TLS layer."""
    raw = socket.socket(fileno=os.dup(c.sock.fileno()))
    raw.settimeout(c.sock.gettimeout())
    return raw


def test_truncated_record_after_the_handshake(settled):
    g = settled
    # A record header announcing 100 bytes, 10 of them, then the end.
    with g.conn() as c, raw_under(c) as raw:
        raw.sendall(b"\x17\x03\x03\x00\x64" + b"x" * 10)
        raw.shutdown(socket.SHUT_WR)
        _, got, _ = wait_closed(raw, CLOSE_WITHIN)
    assert got == b"" or is_tls_alert(got), got
    # The same, then silence: the head timeout.
    with g.conn() as c, raw_under(c) as raw:
        raw.sendall(b"\x17\x03\x03\x00\x64" + b"x" * 10)
        took, got, _ = wait_closed(raw, TEST_HEADER_TIMEOUT + TIMER_SLACK + 2)
    assert took <= TEST_HEADER_TIMEOUT + TIMER_SLACK, took
    # A whole record that fails authentication: an alert (encrypted
    # under the session's keys), then the end.
    with g.conn() as c, raw_under(c) as raw:
        raw.sendall(b"\x17\x03\x03\x00\x40" + random_bytes(64, 3))
        _, got, _ = wait_closed(raw, CLOSE_WITHIN)
    assert got == b"" or is_tls_alert(got), got


def test_renegotiation_attempt_is_refused(settled):
    g = settled
    # s_client's "R" line asks for a renegotiation; the request after it
    # must not be answered on a renegotiated session.
    script = (b"R\n")
    argv = [tool("openssl"), "s_client", "-connect", f"{LOOPBACK}:{g.tls_port}",
            "-CAfile", g.cafile, "-tls1_2", "-legacy_renegotiation"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        p.stdin.write(script)
        p.stdin.flush()
        time.sleep(1.0)
        try:
            p.stdin.write(b"GET /t/env?reneg=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass
        out, _ = p.communicate(timeout=CLOSE_WITHIN + 5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = out.decode("latin-1")
    assert "RENEGOTIATING" in text, text
    assert "QUERY_STRING=reneg=1" not in text, text
    assert re.search(r"no renegotiation|alert", text), text


def test_handshakes_stay_healthy_after_bad_input(settled):
    """Many bad connections in a row leave neither slots nor arena behind:
    all TLS slots then take a connection at once."""
    g = settled
    hello = HandClient(g.tls_port, g.context()).client_hello()
    for i in range(150):
        with raw_tls(g) as s:
            kind = i % 3
            if kind == 0:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            elif kind == 1:
                s.sendall(random_bytes(300, i))
            else:
                s.sendall(hello[:len(hello) // 2])
                s.shutdown(socket.SHUT_WR)
            wait_closed(s, CLOSE_WITHIN)
    # Handshakes abandoned halfway, their state held in the arena.
    for _ in range(40):
        h = HandClient(g.tls_port, g.context())
        try:
            h.hello()
        finally:
            h.close()
    wait_settled(g.port)
    all_tls_slots_work(g, tag="after")
    assert "TLS connection refused" not in g.log(), g.log()[-3000:]


def test_silent_connections_do_not_lock_https_out_for_ever(settled):
    """TLS_SLOTS connections that never send a byte: a real client still
    gets through, at the latest when HEADER_TIMEOUT has closed them."""
    g = settled
    silent = [raw_tls(g) for _ in range(TLS_SLOTS)]
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        with g.conn(timeout=TEST_HEADER_TIMEOUT + TIMER_SLACK + 5) as c:
            env_of(c.get("/t/env?past=silent"))
        took = time.monotonic() - t0
        assert took <= TEST_HEADER_TIMEOUT + TIMER_SLACK, took
    finally:
        for s in silent:
            s.close()


def test_all_tls_slots_at_once(settled):
    all_tls_slots_work(settled, tag="full")
