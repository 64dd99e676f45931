"""The gateway in front of fcgi-testapp: meta-variables, framing, bodies.

Route used: ProxyPass /t/ fcgi://127.0.0.1:PORT/srv/www/ -- so a request
for /t/env reaches the app with SCRIPT_NAME=/t, PATH_INFO=/env and
SCRIPT_FILENAME=/srv/www/env. fcgi-testapp picks its behaviour by
PATH_INFO; /env answers the PARAMS it received as NAME=VALUE lines.
"""

import threading
import time

import pytest

from httpc import build_request, chunked, parse_env
from support import app_stats, pattern_bytes, random_bytes, sha256

DOCROOT = "/srv/www/"
MIB = 1 << 20


@pytest.fixture
def gw(gateway, testapp):
    return gateway(testapp.route("/t/", DOCROOT))


def env_of(resp):
    assert resp.status == 200, resp
    env, pairs = parse_env(resp.body)
    names = [n for n, _ in pairs]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, f"meta-variables sent more than once: {dups}"
    return env



# --- meta-variables ---------------------------------------------------------

def test_get_with_query_string(gw):
    target = "/t/env?a=1&b=two%20words&c=%26"
    with gw.conn() as c:
        r = c.get(target, headers=[("User-Agent", "fcgate-tests/1.0")])
        client_port = c.local_port()
    env = env_of(r)
    assert r.framing == "length" and r.header("Content-Length") == str(len(r.body))
    assert r.header("Content-Type") == "text/plain"
    expected = {
        "QUERY_STRING": "a=1&b=two%20words&c=%26",
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": target,
        "SCRIPT_NAME": "/t",
        "PATH_INFO": "/env",
        "SCRIPT_FILENAME": DOCROOT + "env",
        "DOCUMENT_ROOT": DOCROOT,
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_PORT": str(gw.port),
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "fcgate-tests/1.0",
        "STDIN_LENGTH": "0",
    }
    assert {k: env.get(k) for k in expected} == expected
    # RFC 3875 4.1: these MUST be set.
    for name in ("SERVER_NAME", "SERVER_SOFTWARE"):
        assert env.get(name), f"{name} missing: {env}"
    if "REMOTE_PORT" in env:
        assert env["REMOTE_PORT"] == str(client_port)
    if "SERVER_ADDR" in env:
        assert env["SERVER_ADDR"] == "127.0.0.1"


def test_no_query_string_is_empty_not_absent(gw):
    env = env_of(gw.get("/t/env"))
    assert env["QUERY_STRING"] == ""
    assert env["REQUEST_URI"] == "/t/env"


def test_path_is_decoded_and_normalised(gw):
    # %65 is 'e'; dot segments are resolved before routing.
    for target in ("/t/%65nv", "/t/x/../env", "/t/./env"):
        env = env_of(gw.get(target))
        assert env["PATH_INFO"] == "/env", target
        assert env["SCRIPT_NAME"] == "/t", target
        assert env["SCRIPT_FILENAME"] == DOCROOT + "env", target


def test_request_headers_become_http_variables(gw):
    r = gw.get("/t/env", headers=[
        ("X-Custom-Thing", "hello  world"),
        ("x-lower-case", "v1"),
        ("Accept-Language", "de, en;q=0.5"),
        ("Proxy", "http://evil.example:8080/"),
    ])
    env = env_of(r)
    assert env["HTTP_X_CUSTOM_THING"] == "hello  world"
    assert env["HTTP_X_LOWER_CASE"] == "v1"
    assert env["HTTP_ACCEPT_LANGUAGE"] == "de, en;q=0.5"
    # httpoxy (CVE-2016-5385): a client's Proxy: header must never become
    # HTTP_PROXY, which CGI libraries read as their outgoing proxy.
    assert "HTTP_PROXY" not in env, env


def test_repeated_request_header_is_combined(gw):
    # RFC 3875 4.1.18: several fields of one name become one value.
    env = env_of(gw.get("/t/env", headers=[("Accept", "text/a"), ("Accept", "text/b")]))
    assert env["HTTP_ACCEPT"] == "text/a, text/b"


def test_post_sets_content_variables(gw):
    body = b"name=value&x=1"
    r = gw.request("POST", "/t/env?q=2", headers=[
        ("Content-Type", "application/x-www-form-urlencoded")], body=body)
    env = env_of(r)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["CONTENT_LENGTH"] == str(len(body))
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["STDIN_LENGTH"] == str(len(body))
    assert env["QUERY_STRING"] == "q=2"
    # Already given as CONTENT_*; RFC 3875 4.1.18 says not to repeat them.
    assert "HTTP_CONTENT_LENGTH" not in env
    assert "HTTP_CONTENT_TYPE" not in env


def test_chunked_request_body_gets_content_length(gw):
    parts = [b"first part;", b"x" * 5000, b"last"]
    total = sum(len(p) for p in parts)
    r = gw.request("POST", "/t/env", headers=[("Transfer-Encoding", "chunked")],
                   body=chunked(parts))
    env = env_of(r)
    assert env["CONTENT_LENGTH"] == str(total)
    assert env["STDIN_LENGTH"] == str(total)
    assert "HTTP_TRANSFER_ENCODING" not in env
    r = gw.request("POST", "/t/echo", headers=[("Transfer-Encoding", "chunked")],
                   body=chunked(parts))
    assert r.status == 200 and r.body == b"".join(parts)


def test_expect_100_continue(gw):
    # RFC 9110 10.1.1: answer 100 (or a final status) without waiting for
    # the body; a client that waits for it must not be left hanging.
    with gw.conn(timeout=3) as c:
        c.send(build_request("POST", "/t/echo", headers=[
            ("Expect", "100-continue"), ("Content-Length", "5")]))
        interim = c.read_head()
        assert interim.status == 100, interim
        c.send(b"hello")
        r = c.read_response()
    assert r.status == 200 and r.body == b"hello"


# --- HEAD -------------------------------------------------------------------

def test_head_has_get_headers_and_no_body(gw):
    with gw.conn() as c:
        g = c.get("/t/bytes?n=1000")
        h = c.request("HEAD", "/t/bytes?n=1000")
        # The same connection still parses: no body bytes followed the HEAD.
        after = c.get("/t/env?after=head")
    assert g.status == h.status == 200
    assert g.body == pattern_bytes(1000)
    assert h.header("Content-Length") == "1000"
    assert h.header("Content-Type") == g.header("Content-Type") == "application/octet-stream"
    strip = {"date"}
    assert sorted(set(g.header_names()) - strip) == sorted(set(h.header_names()) - strip)
    assert env_of(after)["QUERY_STRING"] == "after=head"


def test_head_of_unframed_response(gw):
    with gw.conn() as c:
        h = c.request("HEAD", "/t/nolength")
        assert h.status == 200
        after = c.get("/t/nolength")
    assert after.body == b"no length here\n"


# --- connections ------------------------------------------------------------

def test_keep_alive_100_requests_one_connection(gw):
    with gw.conn() as c:
        ports = set()
        for i in range(100):
            r = c.get(f"/t/env?i={i}")
            env = env_of(r)
            assert env["QUERY_STRING"] == f"i={i}"
            assert "close" not in (r.header("Connection") or "").lower()
            ports.add(env.get("REMOTE_PORT"))
            assert not c.eof
        assert len(ports) == 1
        assert not c.closed_by_peer(wait=0.2)


def test_pipelined_requests_answered_in_order(gw):
    with gw.conn() as c:
        c.send(build_request("GET", "/t/env?p=1")
               + build_request("GET", "/t/bytes?n=5")
               + build_request("POST", "/t/echo", body=b"pipelined body")
               + build_request("GET", "/t/nolength")
               + build_request("GET", "/t/env?p=5"))
        r1, r2, r3, r4, r5 = (c.read_response() for _ in range(5))
    assert env_of(r1)["QUERY_STRING"] == "p=1"
    assert r2.body == pattern_bytes(5)
    assert r3.body == b"pipelined body"
    assert r4.body == b"no length here\n"
    assert env_of(r5)["QUERY_STRING"] == "p=5"


def test_connection_close_is_honoured(gw):
    with gw.conn() as c:
        r = c.get("/t/env?x=1", headers=[("Connection", "close")])
        assert env_of(r)["QUERY_STRING"] == "x=1"
        assert c.closed_by_peer(wait=3.0)


def test_http10_request(gw):
    # No chunked coding for HTTP/1.0: Content-Length or close-delimited.
    with gw.conn() as c:
        r = c.request("GET", "/t/nolength", version="HTTP/1.0")
        assert r.status == 200 and r.framing in ("length", "close")
        assert r.body == b"no length here\n"
        assert c.closed_by_peer(wait=3.0)
    with gw.conn() as c:
        r = c.request("GET", "/t/bytes?n=10", version="HTTP/1.0")
        assert r.framing == "length" and r.body == pattern_bytes(10)
        assert env_of(gw.request("GET", "/t/env", version="HTTP/1.0"))["SERVER_PROTOCOL"] \
            == "HTTP/1.0"


def test_backend_connection_is_reused(gw, testapp):
    before = app_stats(testapp)
    with gw.conn() as c:
        for i in range(20):
            assert env_of(c.get(f"/t/env?r={i}"))["KEEP_CONN"] == "1"
    after = app_stats(testapp)
    assert after["requests"] - before["requests"] == 21      # 20 + the stats call
    assert after["keep_conn"] - before["keep_conn"] == 20
    assert after["connections"] - before["connections"] - 1 <= 2


def test_disablereuse_opens_a_connection_per_request(gateway, testapp):
    gw = gateway(testapp.route("/t/", DOCROOT, "disablereuse=on"))
    before = app_stats(testapp)
    with gw.conn() as c:
        for i in range(10):
            assert env_of(c.get(f"/t/env?r={i}"))["KEEP_CONN"] == "0"
    after = app_stats(testapp)
    assert after["connections"] - before["connections"] - 1 == 10
    assert after["keep_conn"] == before["keep_conn"]


def test_concurrent_slow_requests_overlap(gw):
    results = []

    def one():
        try:
            results.append(gw.get("/t/slow?ms=700").body)
        except Exception as e:      # reported below, in the test's thread
            results.append(e)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(10)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    elapsed = time.monotonic() - start
    assert results == [b"slow done\n"] * 10
    assert elapsed < 3.5, f"10 x 0.7 s requests took {elapsed:.1f} s: not served concurrently"


# --- response framing and headers -----------------------------------------

def test_nolength_is_chunked_and_connection_stays(gw):
    with gw.conn() as c:
        r = c.get("/t/nolength")
        assert r.framing == "chunked" and r.header("Content-Length") is None
        assert r.body == b"no length here\n"
        assert env_of(c.get("/t/env?again=1"))["QUERY_STRING"] == "again=1"


def test_echo_is_chunked(gw):
    body = b"echo me \x00\xff" * 100
    with gw.conn() as c:
        r = c.request("POST", "/t/echo", body=body)
        assert r.framing == "chunked" and r.body == body
        assert r.header("Content-Type") == "application/octet-stream"
        assert c.get("/t/bytes?n=3").body == pattern_bytes(3)


def test_bytes_without_length_is_chunked(gw):
    r = gw.get("/t/bytes?n=200000&nolen=1")
    assert r.framing == "chunked" and r.body == pattern_bytes(200000)


def test_pieces_stream(gw):
    r = gw.get("/t/pieces?n=5&ms=50")
    assert r.framing == "chunked"
    assert r.body == b"".join(b"piece %d\n" % i for i in range(5))


def test_tiny_records(gw):
    r = gw.get("/t/tiny")
    assert r.status == 200 and r.body == b"hello tiny records\n"
    assert r.header("Content-Type") == "text/plain"


def test_stderr_goes_to_the_log(gw):
    r = gw.get("/t/stderr")
    assert r.status == 200 and r.body == b"ok\n"
    deadline = time.monotonic() + 2
    while "testapp: stderr message" not in gw.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "testapp: stderr message" in gw.log()


def test_two_set_cookie_headers_stay_separate(gw):
    r = gw.get("/t/cookies")
    assert r.status == 200 and r.body == b"cookies\n"
    assert r.header_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]


@pytest.mark.parametrize("code", [201, 403, 404, 418, 500, 503])
def test_status_header_sets_the_status(gw, code):
    r = gw.get(f"/t/status?code={code}")
    assert r.status == code
    assert r.body == b"status %d\n" % code
    assert r.header("Status") is None, "the CGI Status field is not an HTTP header"


@pytest.mark.parametrize("code", [204, 304])
def test_bodyless_status_keeps_connection_usable(gw, code):
    with gw.conn() as c:
        r = c.get(f"/t/status?code={code}")
        assert r.status == code and r.body == b""
        assert r.header("Transfer-Encoding") is None
        assert env_of(c.get("/t/env?next=1"))["QUERY_STRING"] == "next=1"


def test_location_without_status_is_302(gw):
    r = gw.get("/t/location")
    assert r.status == 302
    assert r.header("Location") == "http://example.com/target"
    assert r.header("Status") is None


def test_response_header_of_a_few_kib_passes(gw):
    r = gw.get("/t/bigheader?n=8000")
    assert r.status == 200
    assert r.header("X-Big") == "x" * 8000
    assert r.body == b"big\n"


# --- large PARAMS and bodies --------------------------------------------------

def test_params_beyond_64k_reach_the_app(gateway, testapp):
    gw = gateway(testapp.route("/t/", DOCROOT), large=True)
    big = [(f"X-Big-{i:02d}", "".join(chr(0x41 + (i + j) % 26) for j in range(4000)))
           for i in range(24)]
    r = gw.get("/t/params", headers=big)
    assert r.status == 200, r
    fields = dict(kv.split("=") for kv in r.text().split())
    assert int(fields["params_bytes"]) > 65535
    assert int(fields["params_records"]) >= 2
    env = env_of(gw.get("/t/env", headers=big))
    for name, value in big:
        assert env["HTTP_" + name.upper().replace("-", "_")] == value, name
    assert env["PATH_INFO"] == "/env"


def test_8mib_post_echoed_intact(gw):
    body = random_bytes(8 * MIB, seed=1)
    with gw.conn(timeout=30) as c:
        r = c.request("POST", "/t/echo", body=body)
    assert r.status == 200
    assert len(r.body) == len(body)
    assert sha256(r.body) == sha256(body)


def test_8mib_post_length_reaches_app(gw):
    body = random_bytes(8 * MIB, seed=2)
    with gw.conn(timeout=30) as c:
        env = env_of(c.request("POST", "/t/env", body=body))
    assert env["CONTENT_LENGTH"] == env["STDIN_LENGTH"] == str(8 * MIB)


def test_32mib_response_intact(gw):
    n = 32 * MIB
    with gw.conn(timeout=30) as c:
        r = c.get(f"/t/bytes?n={n}")
        assert r.framing == "length" and r.header("Content-Length") == str(n)
        assert len(r.body) == n
        assert sha256(r.body) == sha256(pattern_bytes(n))
        # ... and the connection carries on.
        assert c.get("/t/bytes?n=7").body == pattern_bytes(7)


def test_32mib_chunked_response_intact(gw):
    n = 32 * MIB
    with gw.conn(timeout=30) as c:
        r = c.get(f"/t/bytes?n={n}&nolen=1")
    assert r.framing == "chunked" and len(r.body) == n
    assert sha256(r.body) == sha256(pattern_bytes(n))


def test_slow_reader_gets_everything(gw):
    """Back-pressure: a client that reads slowly still gets every byte."""
    n = 4 * MIB
    with gw.conn(timeout=30) as c:
        c.send(build_request("GET", f"/t/bytes?n={n}"))
        time.sleep(1.0)         # let every buffer on the way fill up
        r = c.read_response()
    assert len(r.body) == n and sha256(r.body) == sha256(pattern_bytes(n))


def test_response_to_closed_client_does_not_hurt(gw):
    with gw.conn() as c:
        c.send(build_request("GET", f"/t/bytes?n={16 * MIB}"))
        c.sock.recv(1000)
    # The gateway must drop that response and keep serving.
    assert gw.get("/t/bytes?n=11").body == pattern_bytes(11)


def test_http_client_module_interop(gw):
    """http.client (the standard library's client) reads our framing too."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        conn.request("GET", "/t/nolength")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"no length here\n"
        conn.request("POST", "/t/echo", body=b"abc", headers={"Content-Type": "x/y"})
        r = conn.getresponse()
        assert r.read() == b"abc"
    finally:
        conn.close()

