"""Failures map cleanly: 404, 301, 502, 504, closed connections, bad requests,
exclusions and redirects."""

import time

import pytest

from httpc import Conn, build_request
from support import app_stats, free_port, pattern_bytes

DOCROOT = "/srv/www/"
APP_404_BODY = b"testapp: no such path\n"


@pytest.fixture
def gw(gateway, testapp):
    return gateway(testapp.route("/t/", DOCROOT))



def assert_complete_error(r, status):
    assert r.status == status, r
    if r.framing == "length":
        assert r.header("Content-Length") == str(len(r.body))


def test_app_down_is_502(gateway):
    port = free_port()              # nobody listens there
    gw = gateway(f"ProxyPass /down/ fcgi://127.0.0.1:{port}/")
    r = gw.get("/down/env")
    assert_complete_error(r, 502)
    assert "502" in gw.log(), "every error the gateway answers is logged with why"


def test_unknown_prefix_is_404(gw):
    # Matching is by whole segments and case-sensitive.
    for target in ("/nothing/here", "/", "/tx/env", "/T/env", "/x/t/env"):
        r = gw.get(target)
        assert_complete_error(r, 404)
        assert r.body != APP_404_BODY, f"{target} reached the app"
    assert gw.get("/t/env").status == 200


def test_prefix_without_slash_redirects(gateway, testapp):
    gw = gateway(testapp.route("/app/", DOCROOT))
    r = gw.get("/app")
    assert r.status == 301
    assert r.header("Location").endswith("/app/"), r
    r = gw.get("/app?x=1&y=two")
    assert r.status == 301
    assert r.header("Location").endswith("/app/?x=1&y=two"), r
    assert gw.get("/app/env").status == 200


@pytest.mark.parametrize("path", ["/t/garbage", "/t/noheaders"])
def test_invalid_app_answer_is_502(gw, path):
    with gw.conn() as c:
        r = c.get(path)
    assert_complete_error(r, 502)
    # The gateway itself is fine afterwards.
    assert gw.get("/t/bytes?n=9").body == pattern_bytes(9)


def test_response_head_larger_than_backend_buffer_is_502(gw):
    # The host build's backend buffer is 16 KiB; the CGI header block
    # must fit in it.
    r = gw.get("/t/bigheader?n=20000")
    assert_complete_error(r, 502)
    assert "x" * 20000 not in r.text()
    assert gw.get("/t/bigheader?n=100").header("X-Big") == "x" * 100


def test_no_answer_within_timeout_is_504(gateway, testapp):
    gw = gateway(testapp.route("/t/", DOCROOT, "timeout=1"))
    start = time.monotonic()
    r = gw.get("/t/slow?ms=3000")
    elapsed = time.monotonic() - start
    assert_complete_error(r, 504)
    assert 0.8 < elapsed < 2.8, f"504 after {elapsed:.2f} s with timeout=1"
    assert gw.get("/t/slow?ms=200").body == b"slow done\n"


def test_app_dying_mid_body_closes_client_connection(gw):
    with gw.conn() as c:
        c.send(build_request("GET", "/t/die"))
        head = c.read_head()
        if head.status == 502:
            # Acceptable: the gateway saw the app die before it had sent
            # anything, and answered a clean error instead.
            return
        assert head.status == 200, head
        rest = c.read_until_close(limit_s=5)
    # Never a truncated response that looks complete: the connection is
    # closed short of the announced length (or of the last chunk).
    assert rest.startswith(b"0123456789") or rest.startswith(b"a\r\n0123456789"), rest[:100]
    if head.header("Content-Length") is not None:
        assert head.header("Content-Length") == "1000000"
        assert len(rest) < 1000000
    else:
        assert not rest.endswith(b"0\r\n\r\n"), "chunked body was terminated as if complete"


def test_client_gone_aborts_the_request(gateway, testapp):
    gw = gateway(testapp.route("/t/", DOCROOT))
    time.sleep(0.2)     # let the app notice connections of earlier tests closing
    before = app_stats(testapp)
    c = Conn(gw.port)
    c.send(build_request("GET", "/t/slow?ms=5000"))
    time.sleep(0.5)
    c.close()
    closed_at = time.monotonic()
    # Within 3 s (the app would answer after 5 s), the gateway must have
    # sent FCGI_ABORT_REQUEST or closed its backend connection.
    while time.monotonic() - closed_at < 3:
        now = app_stats(testapp)
        if now["aborts"] > before["aborts"] or now["open"] <= before["open"]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"app not told of the abort: before {before}, now {now}")
    assert gw.get("/t/env").status == 200


def test_proxypass_exclusion(gateway, testapp):
    gw = gateway("ProxyPass /t/private/ !", testapp.route("/t/", DOCROOT))
    r = gw.get("/t/private/secret")
    assert_complete_error(r, 404)
    assert r.body != APP_404_BODY, "an excluded path reached the app"
    assert gw.get("/t/env").status == 200
    # /t/privateer is not under /t/private/: it goes to the app (its 404).
    r = gw.get("/t/privateer")
    assert r.status == 404 and r.body == APP_404_BODY


def test_redirect_directives(gateway):
    gw = gateway("Redirect 302 /old/ http://example.com/new/",
                 "Redirect 301 /moved http://example.com/else",
                 "Redirect 410 /gone/")
    r = gw.get("/old/page.html")
    assert r.status == 302
    assert r.header("Location") == "http://example.com/new/page.html"
    r = gw.get("/moved")
    assert r.status == 301 and r.header("Location") == "http://example.com/else"
    r = gw.get("/gone/thing")
    assert r.status == 410 and r.header("Location") is None
    assert gw.get("/elsewhere").status == 404


def test_host_routes_style_redirect(gateway, testapp):
    # config/host.routes: the app first, then everything else to it.
    gw = gateway(testapp.route("/app/", DOCROOT), "Redirect 302 / /app/")
    r = gw.get("/")
    assert r.status == 302 and r.header("Location").endswith("/app/"), r
    assert gw.get("/app/env").status == 200


def test_request_head_too_large_is_431(gw):
    big = [(f"X-Big-{i:02d}", "y" * 4000) for i in range(24)]
    with gw.conn() as c:
        c.send(build_request("GET", "/t/env", headers=big))
        r = c.read_response()
    assert_complete_error(r, 431)


# (id, raw request, status, must the connection close afterwards?)
# A request whose framing is in doubt must end the connection (RFC 9112
# 6.3, 11.2): what follows could be a smuggled request.
BAD_REQUESTS = [
    ("garbage", b"GARBAGE\r\n\r\n", 400, True),
    ("no host", b"GET /t/env HTTP/1.1\r\n\r\n", 400, False),
    ("cl and te", b"POST /t/env HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, True),
    ("two lengths", b"POST /t/env HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Content-Length: 6\r\n\r\nhello!", 400, True),
    ("bad length", b"POST /t/env HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello",
     400, True),
    ("space before colon", b"GET /t/env HTTP/1.1\r\nHost : x\r\n\r\n", 400, True),
    ("climbs above root", b"GET /t/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, False),
    ("encoded slash", b"GET /t/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n", 400, False),
    ("long line", b"GET /t/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, False),
    ("unknown coding", b"POST /t/env HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
     501, True),
    ("http/2.0", b"GET /t/env HTTP/2.0\r\nHost: x\r\n\r\n", 505, False),
]


@pytest.mark.parametrize("raw,status,must_close", [b[1:] for b in BAD_REQUESTS],
                         ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests(gw, raw, status, must_close):
    with gw.conn() as c:
        c.send(raw)
        r = c.read_response()
        assert_complete_error(r, status)
        if must_close:
            assert c.closed_by_peer(wait=3.0)
    # The app never saw any of these.
    assert r.body != APP_404_BODY and b"GATEWAY_INTERFACE" not in r.body


def test_errors_do_not_leak_slots(gateway):
    """More failing requests than the host build has client slots (64)."""
    port = free_port()
    gw = gateway(f"ProxyPass /down/ fcgi://127.0.0.1:{port}/")
    for _ in range(80):
        assert gw.get("/down/x", timeout=5).status == 502
    for _ in range(80):
        assert gw.get("/nowhere", timeout=5).status == 404
