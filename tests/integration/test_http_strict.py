"""The front end under strict and hostile clients: framing, persistence,
strict parsing (no request smuggling), header mapping, not being an open
proxy, path normalisation and the logs.

Every request here is written byte by byte with httpc's raw client, and
every answer is checked for its exact status and, where the rules say so,
for whether the gateway closes the connection afterwards:

- 400/413/414/431/501/505 and anything whose framing is in doubt close
  (RFC 9112 6.3, 11.2: what follows could be a smuggled request);
- 404/405 to a request without a body keep the connection (proved by a
  second request on it that is answered).

Routes: /t/ -> fcgi-testapp (which picks its behaviour by PATH_INFO; /env
lists its PARAMS as NAME=VALUE lines plus STDIN_LENGTH). A few path tests
need to see PATH_INFO values that fcgi-testapp does not dispatch on; they
use EnvApp, a small FastCGI responder in this file that answers every
request with its PARAMS.
"""

import email.utils
import os
import re
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

import support
from httpc import Conn, build_request, chunked, parse_env
from support import Gateway, free_port

# build/host limits (config/host_defconfig); the host-test build keeps the
# head limits and halves CHUNKED_BODY_MAX.
REQUEST_LINE_MAX = 8192
HEADER_MAX_BYTES = 12288
HEADER_MAX_COUNT = 100
CHUNKED_BODY_MAX = 16384
HOST_TEST_SERVER_NAME = "gw.test"     # config/host-test_defconfig SERVER_NAMES
HOST_TEST_CHUNKED_BODY_MAX = 8192

CLOSE_WAIT = 3.0        # how long a connection that must close may take
HOST = b"Host: 127.0.0.1\r\n"
SMUGGLED = b"GET /t/env?smuggled=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"\d{4} \d\d:\d\d:\d\d GMT$")
DATE_SKEW_S = 5
LOG_WAIT_S = 2.0


def _test_bin():
    """build/host-test/fcgate (FCGATE_TEST_BIN)."""
    value = os.environ.get("FCGATE_TEST_BIN")
    return Path(value).resolve() if value else support.ROOT / "build/host-test/fcgate"


# --- a FastCGI responder that answers every path with its PARAMS ---------

FCGI_HEADER = struct.Struct(">BBHHBB")
FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_END_REQUEST = 1, 2, 3
FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 4, 5, 6
FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT, FCGI_UNKNOWN_TYPE = 9, 10, 11
FCGI_KEEP_CONN = 1
FCGI_LONG_LENGTH = 0x80


def _fcgi_record(rtype, rid, content):
    return FCGI_HEADER.pack(1, rtype, rid, len(content), 0, 0) + content


def _fcgi_pairs(data):
    pairs, i = [], 0
    while i < len(data):
        lens = []
        for _ in range(2):
            if data[i] & FCGI_LONG_LENGTH:
                lens.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
            else:
                lens.append(data[i])
                i += 1
        n, v = lens
        pairs.append((data[i:i + n].decode("latin-1"), data[i + n:i + n + v].decode("latin-1")))
        i += n + v
    return pairs


class EnvApp:
    """FastCGI responder on 127.0.0.1:port, one thread per connection:
    every request is answered 200 with its PARAMS as NAME=VALUE lines
    (and STDIN_LENGTH), whatever its PATH_INFO."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((support.LOOPBACK, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def route(self, prefix, keys=""):
        line = f"ProxyPass {prefix} fcgi://{support.LOOPBACK}:{self.port}/"
        return f"{line} {keys}" if keys else line

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()

    def _accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv_record(conn, buf):
        while True:
            if len(buf) >= FCGI_HEADER.size:
                _, rtype, rid, clen, plen, _ = FCGI_HEADER.unpack_from(buf)
                end = FCGI_HEADER.size + clen + plen
                if len(buf) >= end:
                    content = bytes(buf[FCGI_HEADER.size:FCGI_HEADER.size + clen])
                    del buf[:end]
                    return rtype, rid, content
            data = conn.recv(65536)
            if not data:
                return None
            buf += data

    def _serve(self, conn):
        conn.settimeout(30)
        buf = bytearray()
        params, stdin, keep = b"", b"", False
        try:
            while True:
                rec = self._recv_record(conn, buf)
                if rec is None:
                    return
                rtype, rid, content = rec
                if rtype == FCGI_GET_VALUES:
                    conn.sendall(_fcgi_record(FCGI_GET_VALUES_RESULT, 0, b""))
                elif rtype == FCGI_BEGIN_REQUEST:
                    keep = bool(content[2] & FCGI_KEEP_CONN)
                    params, stdin = b"", b""
                elif rtype == FCGI_PARAMS:
                    params += content
                elif rtype == FCGI_STDIN and content:
                    stdin += content
                elif rtype in (FCGI_STDIN, FCGI_ABORT_REQUEST):
                    self._answer(conn, rid, params, stdin)
                    if not keep:
                        return
                elif rtype != FCGI_STDIN:
                    conn.sendall(_fcgi_record(FCGI_UNKNOWN_TYPE, 0, bytes([rtype]) + bytes(7)))
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _answer(conn, rid, params, stdin):
        body = "".join(f"{n}={v}\n" for n, v in _fcgi_pairs(params))
        body = (body + f"STDIN_LENGTH={len(stdin)}\n").encode("latin-1")
        head = (f"Status: 200 OK\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        conn.sendall(_fcgi_record(FCGI_STDOUT, rid, head + body)
                     + _fcgi_record(FCGI_STDOUT, rid, b"")
                     + _fcgi_record(FCGI_END_REQUEST, rid, bytes(8)))


@pytest.fixture(scope="module")
def envapp():
    app = EnvApp()
    yield app
    app.close()


# --- fixtures and helpers ----------------------------------------------------

@pytest.fixture
def gw(gateway, testapp):
    return gateway(testapp.route("/t/"))


@pytest.fixture
def test_gateway(tmp_path):
    """Factory like `gateway`, for build/host-test/fcgate."""
    started = []

    def start(*conf):
        binary = _test_bin()
        if not binary.is_file():
            pytest.fail(f"{binary} not found: `make test-integration` builds it", pytrace=False)
        g = Gateway(binary, conf, tmp_path / f"fcgate-test-{len(started)}.log")
        started.append(g)
        return g

    yield start
    for g in started:
        rc = g.stop()
        assert rc == 0 and not g.proc.killed, f"exit {rc}; {g.proc.describe()}"


def env_of(resp):
    assert resp.status == 200, resp
    env, _ = parse_env(resp.body)
    return env


def assert_complete(resp, status):
    """The exact status, and a body framed so that the client knows where
    it ends (Content-Length), never close-delimited."""
    assert resp.status == status, resp
    assert resp.framing == "length", resp
    assert resp.header("Content-Length") == str(len(resp.body)), resp


def assert_closes(c, what):
    assert c.closed_by_peer(wait=CLOSE_WAIT), \
        f"connection not closed by the gateway after {what} (or more bytes came: {bytes(c.buf)[:200]!r})"


def assert_kept(c, what):
    """The connection is still usable: a second request on it is answered."""
    r = c.get("/t/env?kept=1")
    assert r.status == 200, f"after {what}: {r!r}"
    assert env_of(r)["QUERY_STRING"] == "kept=1"


def exchange(port, raw, method="GET", timeout=5.0):
    """Send raw bytes on a new connection, read one answer; (conn, response).
    The caller closes conn."""
    c = Conn(port, timeout)
    try:
        c.send(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass        # the gateway may answer and close before it read it all
    return c, c.read_response(method)


def wait_log(gw, pattern, timeout=LOG_WAIT_S):
    """The first match of pattern (a compiled regex) in the gateway's log,
    waiting for the line to be written."""
    deadline = time.monotonic() + timeout
    while True:
        m = pattern.search(gw.log())
        if m or time.monotonic() > deadline:
            return m
        time.sleep(0.05)


# --- persistent connections and pipelining ---------------------------------

def test_three_pipelined_gets_in_one_send(gw):
    with gw.conn() as c:
        c.send(b"".join(build_request("GET", f"/t/env?n={i}") for i in (1, 2, 3)))
        answers = [c.read_response() for _ in range(3)]
        assert [env_of(r)["QUERY_STRING"] for r in answers] == ["n=1", "n=2", "n=3"]
        assert_kept(c, "three pipelined GETs")


def test_http10_closes_by_default(gw):
    with gw.conn() as c:
        r = c.request("GET", "/t/env", version="HTTP/1.0")
        assert env_of(r)["SERVER_PROTOCOL"] == "HTTP/1.0"
        assert "keep-alive" not in (r.header("Connection") or "").lower(), r
        assert_closes(c, "an HTTP/1.0 request without keep-alive")


def test_http10_keep_alive_is_honoured(gw):
    with gw.conn() as c:
        for i in range(3):
            r = c.request("GET", f"/t/env?i={i}", headers=[("Connection", "keep-alive")],
                          version="HTTP/1.0")
            assert env_of(r)["QUERY_STRING"] == f"i={i}"
            assert (r.header("Connection") or "").lower() == "keep-alive", r
            assert r.framing == "length", r
        assert not c.closed_by_peer(wait=0.3)


def test_connection_close_from_client(gw):
    with gw.conn() as c:
        r = c.get("/t/env", headers=[("Connection", "close")])
        assert r.status == 200
        assert (r.header("Connection") or "").lower() == "close", r
        assert_closes(c, "Connection: close")


def test_server_and_date_headers(gw):
    with gw.conn() as c:
        app = c.get("/t/env")
        own = c.get("/no/such/route")
    assert app.status == 200 and own.status == 404
    for r in (app, own):
        assert r.header("Server") == "fcgate", r
        date = r.header("Date")
        assert date and IMF_FIXDATE.match(date), f"Date not in IMF-fixdate form: {date!r}"
        when = email.utils.parsedate_to_datetime(date).timestamp()
        assert abs(when - time.time()) <= DATE_SKEW_S, f"Date {date!r} is off by {when - time.time():.0f} s"


# --- Expect: 100-continue ----------------------------------------------------

def test_expect_100_on_proxied_route(gw):
    with gw.conn(timeout=3) as c:
        c.send(build_request("POST", "/t/echo", headers=[
            ("Expect", "100-continue"), ("Content-Length", "5")]))
        interim = c.read_head()
        assert interim.raw_head.startswith(b"HTTP/1.1 100 Continue\r\n"), interim.raw_head
        c.send(b"hello")
        r = c.read_response("POST")
        assert r.status == 200 and r.body == b"hello", r
        assert not r.interim
        assert_kept(c, "an Expect: 100-continue POST")


def test_expect_100_on_unknown_route_gets_final_status_only(gw):
    with gw.conn(timeout=3) as c:
        c.send(build_request("POST", "/nowhere/x", headers=[
            ("Expect", "100-continue"), ("Content-Length", "5")]))
        r = c.read_head()   # within 3 s, without the body having been sent
        assert r.status == 404, f"expected a final 404 and no 100 Continue, got {r.raw_head!r}"


def test_expect_100_over_limit_gets_413_only(gateway, testapp):
    gw = gateway(testapp.route("/t/"), "LimitRequestBody 100")
    with gw.conn(timeout=3) as c:
        c.send(build_request("POST", "/t/echo", headers=[
            ("Expect", "100-continue"), ("Content-Length", "1000")]))
        r = c.read_response("POST")
        assert not r.interim, f"100 Continue sent for a body that will not be read: {r.interim}"
        assert_complete(r, 413)
        assert_closes(c, "a 413 to an Expect: 100-continue POST")


# --- HEAD ----------------------------------------------------------------------

@pytest.mark.parametrize("target,status", [
    ("/t/nolength", 200),          # the app gives no Content-Length
    ("/t/bytes?n=1000", 200),
    ("/t/status?code=404", 404),   # the app's own error page
    ("/nowhere", 404),             # fcgate's own answer
])
def test_head_never_carries_a_body(gw, target, status):
    with gw.conn() as c:
        c.send(build_request("HEAD", target))
        r = c.read_head()
        assert r.status == status, r
        # Nothing may follow the head: any byte would be read as the start
        # of the next answer.
        assert not c.closed_by_peer(wait=0.5), "connection closed after a HEAD"
        assert not c.buf, f"HEAD answer followed by body bytes: {bytes(c.buf)[:200]!r}"
        assert_kept(c, f"HEAD {target}")


# --- chunked request bodies -----------------------------------------------------

CHUNKED_WITH_EXTRAS = (b"5;name=value\r\nhello\r\n"
                       b"6;a;b=\"quoted\"\r\n world\r\n"
                       b"0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n")


def test_chunked_body_with_extensions_and_trailers(gw):
    head = b"POST /t/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    with gw.conn() as c:
        c.send(head % b"env" + CHUNKED_WITH_EXTRAS)
        env = env_of(c.read_response("POST"))
        assert env.get("CONTENT_LENGTH") == "11" and env["STDIN_LENGTH"] == "11", env
        assert "HTTP_TRANSFER_ENCODING" not in env
        c.send(head % b"echo" + CHUNKED_WITH_EXTRAS)
        r = c.read_response("POST")
        assert r.status == 200 and r.body == b"hello world", r
        assert_kept(c, "a chunked POST with extensions and trailers")


@pytest.fixture(params=["host", "host-test"])
def chunked_gw(request, gateway, test_gateway, testapp):
    """(gateway, its CHUNKED_BODY_MAX) for build/host and build/host-test."""
    if request.param == "host":
        return gateway(testapp.route("/t/")), CHUNKED_BODY_MAX
    return test_gateway(testapp.route("/t/")), HOST_TEST_CHUNKED_BODY_MAX


def test_chunked_body_at_the_limit_passes(chunked_gw):
    gw, limit = chunked_gw
    body = support.random_bytes(limit, 7)
    parts = [body[i:i + 4000] for i in range(0, len(body), 4000)]
    r = gw.request("POST", "/t/echo", headers=[("Transfer-Encoding", "chunked")],
                   body=chunked(parts))
    assert r.status == 200 and r.body == body, \
        f"a chunked body of exactly CHUNKED_BODY_MAX ({limit}) bytes: {r!r}"


def test_chunked_body_over_the_limit_is_413(chunked_gw):
    gw, limit = chunked_gw
    body = support.random_bytes(limit + 1, 8)
    parts = [body[i:i + 4000] for i in range(0, len(body), 4000)]
    c, r = exchange(gw.port, build_request("POST", "/t/echo", headers=[
        ("Transfer-Encoding", "chunked")], body=chunked(parts)), "POST")
    with c:
        assert_complete(r, 413)
        assert_closes(c, "a chunked body over CHUNKED_BODY_MAX")


# --- response framing ------------------------------------------------------------

def test_unframed_answer_is_chunked_for_http11(gw):
    with gw.conn() as c:
        r = c.get("/t/nolength")
        assert r.framing == "chunked" and r.body == b"no length here\n", r
        assert_kept(c, "a chunked answer")


@pytest.mark.parametrize("keep_alive", [False, True])
def test_unframed_answer_is_close_delimited_for_http10(gw, keep_alive):
    headers = [("Connection", "keep-alive")] if keep_alive else []
    with gw.conn() as c:
        r = c.request("GET", "/t/nolength", headers=headers, version="HTTP/1.0")
        assert r.status == 200 and r.framing == "close", r
        assert r.body == b"no length here\n"
        assert r.header("Transfer-Encoding") is None
        assert c.eof


# --- strict parsing, no smuggling --------------------------------------------------

def _post(fields, body=b"", target=b"/t/env"):
    return b"POST " + target + b" HTTP/1.1\r\n" + HOST + fields + b"\r\n" + body


def _chunked_post(size_line):
    return _post(b"Transfer-Encoding: chunked\r\n", size_line + b"\r\nhello\r\n0\r\n\r\n",
                 b"/t/echo")


def _get(fields=b"", target=b"/t/env", version=b"HTTP/1.1", method=b"GET", host=HOST):
    return method + b" " + target + b" " + version + b"\r\n" + host + fields + b"\r\n"


def _many_fields(n):
    return b"".join(b"X-F-%d: %d\r\n" % (i, i) for i in range(n))


# (id, raw request, accepted statuses); every one of these must close.
MUST_CLOSE = [
    ("cl-and-te", _post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                        b"0\r\n\r\n" + SMUGGLED), {400}),
    ("te-and-cl", _post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                        b"0\r\n\r\n" + SMUGGLED), {400}),
    ("two-differing-cl", _post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"), {400}),
    ("cl-list-differing", _post(b"Content-Length: 5, 6\r\n", b"hello!"), {400}),
    ("cl-abc", _post(b"Content-Length: abc\r\n", b"abc"), {400}),
    ("cl-minus-1", _post(b"Content-Length: -1\r\n", b"x"), {400}),
    ("cl-1-space-2", _post(b"Content-Length: 1 2\r\n", b"x" * 12), {400}),
    ("cl-plus-5", _post(b"Content-Length: +5\r\n", b"hello"), {400}),
    ("te-gzip", _post(b"Transfer-Encoding: gzip\r\n", b"xxxx"), {501}),
    ("te-chunked-gzip", _post(b"Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n"), {400, 501}),
    ("obs-fold", _get(b"X-A: 1\r\n folded\r\n"), {400}),
    ("obs-fold-tab", _get(b"X-A: 1\r\n\tfolded\r\n"), {400}),
    ("space-before-colon", b"GET /t/env HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
    ("bare-cr-in-value", _get(b"X-A: a\rb\r\n"), {400}),
    ("bare-cr-line-end", _get(b"X-A: a\rX-B: b\r\n"), {400}),
    ("nul-in-value", _get(b"X-A: a\x00b\r\n"), {400}),
    ("nul-in-name", _get(b"X-\x00A: a\r\n"), {400}),
    ("nul-in-target", _get(target=b"/t/e\x00nv"), {400}),
    ("ctl-01-in-value", _get(b"X-A: a\x01b\r\n"), {400}),
    ("del-7f-in-value", _get(b"X-A: a\x7fb\r\n"), {400}),
    ("chunk-size-zz", _chunked_post(b"zz"), {400}),
    ("chunk-size-minus-1", _chunked_post(b"-1"), {400}),
    ("chunk-size-16-hex-digits", _chunked_post(b"f" * 16), {400}),
    ("chunk-size-17-hex-digits", _chunked_post(b"1" + b"0" * 16), {400}),
    ("chunk-extension-flood", _chunked_post(b"5;" + b"e" * 1000), {400}),
    ("request-line-over-limit",
     _get(target=b"/t/env?q=" + b"a" * REQUEST_LINE_MAX), {414}),
    ("head-over-limit",
     _get(b"".join(b"X-Big-%d: %s\r\n" % (i, b"y" * 3300) for i in range(4))), {431}),
    ("more-than-100-fields", _get(_many_fields(HEADER_MAX_COUNT)), {431}),
    ("http-2.0", _get(version=b"HTTP/2.0"), {505}),
    ("http-1.2", _get(version=b"HTTP/1.2"), {505}),
    ("http-1-no-minor", _get(version=b"HTTP/1"), {400}),
    ("http-lowercase", _get(version=b"http/1.1"), {400}),
    ("method-bad-token", _get(method=b"GE(T"), {400}),
    ("http11-without-host", _get(host=b""), {400}),
    ("two-host-fields", _get(b"Host: 127.0.0.1\r\n"), {400}),
    ("foreign-absolute-form", _get(target=b"http://other.example/t/env",
                                   host=b"Host: other.example\r\n"), {400}),
    ("encoded-slash", _get(target=b"/t/a%2Fb"), {400}),
]


@pytest.mark.parametrize("raw,statuses", [m[1:] for m in MUST_CLOSE],
                         ids=[m[0] for m in MUST_CLOSE])
def test_bad_request_is_answered_and_closes(gw, raw, statuses):
    c, r = exchange(gw.port, raw, "POST" if raw.startswith(b"POST") else "GET")
    with c:
        assert r.status in statuses and r.framing == "length", \
            f"sent {raw[:300]!r}: expected {sorted(statuses)}, got {r!r}"
        assert r.header("Content-Length") == str(len(r.body))
        assert_closes(c, f"a {r.status} to {raw[:120]!r}")


def test_limits_are_not_hit_below_them(gw):
    """Just under each limit the same shapes pass, so the limits above are
    the ones that tripped."""
    line = _get(target=b"/t/env?q=" + b"a" * (REQUEST_LINE_MAX - 200))
    head = _get(b"".join(b"X-Big-%d: %s\r\n" % (i, b"y" * 2900) for i in range(4)))
    fields = _get(_many_fields(HEADER_MAX_COUNT - 1))      # plus Host: 100
    for raw in (line, head, fields):
        c, r = exchange(gw.port, raw)
        with c:
            assert r.status == 200, f"{len(raw)} bytes: {r!r}"


# (id, raw, status): answered by fcgate, and the connection stays usable.
KEEPS = [
    ("trace", _get(method=b"TRACE"), 405),
    ("connect", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405),
    ("no-route", _get(target=b"/nowhere/env"), 404),
]


@pytest.mark.parametrize("raw,status", [k[1:] for k in KEEPS], ids=[k[0] for k in KEEPS])
def test_bodyless_404_405_keep_the_connection(gw, raw, status):
    c, r = exchange(gw.port, raw)
    with c:
        assert_complete(r, status)
        assert_kept(c, f"a {status} to {raw[:60]!r}")


@pytest.mark.parametrize("method,body", [
    ("PUT", b"put body"), ("DELETE", None), ("PATCH", b"patch body"), ("PROPFIND", None),
])
def test_methods_reach_the_app_unchanged(gw, method, body):
    r = gw.request(method, "/t/env", body=body)
    env = env_of(r)
    assert env["REQUEST_METHOD"] == method
    assert env["STDIN_LENGTH"] == str(len(body or b""))


# --- header mapping ------------------------------------------------------------

def test_repeated_field_is_joined(gw):
    env = env_of(gw.get("/t/env", headers=[("X-A", "1"), ("X-A", "2")]))
    assert env["HTTP_X_A"] == "1, 2"


def test_underscore_field_is_dropped_and_logged(gw):
    env = env_of(gw.get("/t/env", headers=[("X_Forwarded_For", "evil"),
                                           ("X-Forwarded-For", "10.1.2.3")]))
    # Only the dash form may arrive; the underscore one would collide with it.
    assert env.get("HTTP_X_FORWARDED_FOR") == "10.1.2.3", env
    env = env_of(gw.get("/t/env", headers=[("X_Forwarded_For", "evil")]))
    assert "HTTP_X_FORWARDED_FOR" not in env, env
    assert "evil" not in "".join(env.values())
    assert wait_log(gw, re.compile(r"X_Forwarded_For")), \
        f"the dropped field's name is not in the gateway log:\n{gw.log()[-2000:]}"


def test_proxy_field_never_becomes_http_proxy(gw):
    env = env_of(gw.get("/t/env", headers=[("Proxy", "x")]))
    assert "HTTP_PROXY" not in env, env


def test_hop_by_hop_fields_are_not_passed(gw):
    raw = (b"POST /t/env HTTP/1.1\r\n" + HOST
           + b"Connection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n"
           b"TE: trailers\r\nUpgrade: websocket\r\nX-Hop: 1\r\nX-End: 2\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + chunked([b"abc"]))
    c, r = exchange(gw.port, raw, "POST")
    with c:
        env = env_of(r)
    for name in ("HTTP_CONNECTION", "HTTP_KEEP_ALIVE", "HTTP_TE", "HTTP_UPGRADE",
                 "HTTP_TRANSFER_ENCODING", "HTTP_X_HOP"):
        assert name not in env, f"{name} passed to the app: {env}"
    assert env["HTTP_X_END"] == "2" and env["CONTENT_LENGTH"] == "3"


# --- not an open proxy; paths ---------------------------------------------------------

def test_absolute_form_for_own_address(gw):
    authority = f"127.0.0.1:{gw.port}".encode()
    c, r = exchange(gw.port, _get(target=b"http://" + authority + b"/t/env",
                                  host=b"Host: " + authority + b"\r\n"))
    with c:
        env = env_of(r)
    assert env["PATH_INFO"] == "/env" and env["SCRIPT_NAME"] == "/t", env


def test_absolute_form_for_configured_server_name(test_gateway, testapp):
    gw = test_gateway(testapp.route("/t/"))
    for authority in (HOST_TEST_SERVER_NAME, HOST_TEST_SERVER_NAME + ":8080"):
        a = authority.encode()
        c, r = exchange(gw.port, _get(target=b"http://" + a + b"/t/env",
                                      host=b"Host: " + a + b"\r\n"))
        with c:
            assert r.status == 200, f"absolute-form target for SERVER_NAMES entry {authority}: {r!r}"
            assert env_of(r)["PATH_INFO"] == "/env", authority
    c, r = exchange(gw.port, _get(target=b"http://other.example/t/env",
                                  host=b"Host: other.example\r\n"))
    with c:
        assert r.status == 400, r


def test_connect_is_405_and_opens_no_tunnel(gw):
    target = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    target.bind((support.LOOPBACK, 0))
    target.listen(4)
    target.settimeout(0.5)
    authority = f"127.0.0.1:{target.getsockname()[1]}".encode()
    try:
        c, r = exchange(gw.port, b"CONNECT " + authority + b" HTTP/1.1\r\nHost: "
                        + authority + b"\r\n\r\n")
        with c:
            assert_complete(r, 405)
            # The stream is still HTTP to the gateway, not a tunnel.
            assert_kept(c, "a CONNECT")
        with pytest.raises(socket.timeout):
            target.accept()
    finally:
        target.close()


def test_dot_segments_cannot_cross_into_a_guarded_prefix(gateway, testapp, envapp):
    gw = gateway(testapp.route("/admin/", keys="require=10.0.0.0/8"),
                 testapp.route("/t/"), envapp.route("/other/"))
    assert gw.get("/admin/env").status == 403
    for target in ("/t/../admin/env", "/t/%2e%2e/admin/env", "/t/%2E%2E/admin/env",
                   "/t/.%2e/admin/env", "/t/x/../../admin/env"):
        r = gw.get(target)
        assert r.status == 403, f"{target}: {r!r}"
        assert b"PATH_INFO" not in r.body
    # Where normalisation says it lands is where it goes.
    env = env_of(gw.get("/t/%2e%2e/other/x%2ey"))
    assert env["SCRIPT_NAME"] == "/other" and env["PATH_INFO"] == "/x.y", env
    assert env["REQUEST_URI"] == "/t/%2e%2e/other/x%2ey"
    assert ".." not in env["PATH_INFO"]


def test_request_uri_as_received_path_info_normalised(gateway, envapp):
    gw = gateway(envapp.route("/t/"))
    env = env_of(gw.get("/t/./env?x=%41"))
    assert env["REQUEST_URI"] == "/t/./env?x=%41"
    assert env["PATH_INFO"] == "/env" and env["QUERY_STRING"] == "x=%41", env
    env = env_of(gw.get("/t/a%20b"))
    assert env["PATH_INFO"] == "/a b" and env["REQUEST_URI"] == "/t/a%20b", env
    assert env["SCRIPT_NAME"] == "/t"


# --- logs ----------------------------------------------------------------------------

CLF_PREFIX = r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '


def access_re(request_line, status, app):
    return re.compile(CLF_PREFIX + re.escape(f'"{request_line}" {status} ')
                      + r"(\d+) (\d+)ms " + re.escape(f"app={app}") + "$", re.M)


def test_access_log_line_for_a_proxied_request(gw):
    r = gw.get("/t/env?log=1")
    assert r.status == 200
    m = wait_log(gw, access_re("GET /t/env?log=1 HTTP/1.1", 200, 200))
    assert m, f"no access-log line:\n{gw.log()[-2000:]}"
    assert int(m.group(1)) == len(r.body), \
        f"logged {m.group(1)} bytes for a body of {len(r.body)} (line {m.group(0)!r})"
    r = gw.get("/t/status?code=404")
    assert r.status == 404
    assert wait_log(gw, access_re("GET /t/status?code=404 HTTP/1.1", 404, 404)), gw.log()[-2000:]


def test_access_log_and_reason_for_own_answers(gateway, testapp):
    down = free_port()
    gw = gateway(testapp.route("/t/"), f"ProxyPass /down/ fcgi://127.0.0.1:{down}/")
    assert gw.get("/nowhere").status == 404
    assert gw.get("/down/x").status == 502
    assert wait_log(gw, access_re("GET /nowhere HTTP/1.1", 404, "-")), gw.log()[-2000:]
    assert wait_log(gw, access_re("GET /down/x HTTP/1.1", 502, "-")), gw.log()[-2000:]
    assert wait_log(gw, re.compile(r"^fcgate: warning: 502 for GET /down/x: \S", re.M)), \
        gw.log()[-2000:]
    assert wait_log(gw, re.compile(r"^fcgate: info: 404 for GET /nowhere: \S", re.M)), \
        gw.log()[-2000:]
    # A 400 is logged too, with its reason, at info level.
    c, r = exchange(gw.port, _get(target=b"/t/a%2Fb"))
    c.close()
    assert r.status == 400
    assert wait_log(gw, re.compile(r"^fcgate: info: 400 for GET /t/a%2Fb: \S", re.M)), \
        gw.log()[-2000:]
    # A request line that does not parse: the reason alone, no empty method and target.
    c, r = exchange(gw.port, b"GET\r\n\r\n")
    c.close()
    assert r.status == 400
    assert wait_log(gw, re.compile(r"^fcgate: info: 400: \S", re.M)), gw.log()[-2000:]
    assert "400 for  " not in gw.log(), gw.log()[-2000:]
