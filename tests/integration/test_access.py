"""Access control (Require ip / all, per-route require=) and request-body
limits (LimitRequestBody, per-route limitrequestbody=), over raw sockets.

The tests connect from 127.0.0.1 (and ::1 for the IPv6 ones), so a rule
for 10.0.0.0/8 is one that does not match the client.
"""

import socket

import pytest

from httpc import Conn, build_request, chunked, parse_env
from support import LOOPBACK

CLOSE_WAIT = 3.0


def env_of(resp):
    assert resp.status == 200, resp
    env, _ = parse_env(resp.body)
    return env


def assert_complete(resp, status):
    assert resp.status == status, resp
    assert resp.framing == "length" and resp.header("Content-Length") == str(len(resp.body)), resp


# --- Require -------------------------------------------------------------------

@pytest.mark.parametrize("rule,status", [
    ("Require ip 10.0.0.0/8", 403),
    ("Require ip 127.0.0.0/8", 200),
    ("Require ip 127.0.0.1", 200),
    ("Require ip 10.0.0.0/8 127.0.0.1/32", 200),
    ("Require all denied", 403),
    ("Require all granted", 200),
])
def test_global_require(gateway, testapp, rule, status):
    gw = gateway(testapp.route("/t/"), rule)
    with gw.conn() as c:
        r = c.get("/t/env")
        assert r.status == status, f"{rule}: {r!r}"
        if status == 403:
            assert_complete(r, 403)
            assert b"GATEWAY_INTERFACE" not in r.body


def test_route_require_guards_only_its_route(gateway, testapp):
    gw = gateway(testapp.route("/admin/", keys="require=10.0.0.0/8"),
                 testapp.route("/open/"),
                 testapp.route("/local/", keys="require=127.0.0.0/8"))
    with gw.conn() as c:
        assert_complete(c.get("/admin/env"), 403)
        assert env_of(c.get("/open/env"))["SCRIPT_NAME"] == "/open"
        assert env_of(c.get("/local/env"))["SCRIPT_NAME"] == "/local"
        # A body-less 403 leaves the connection usable.
        assert_complete(c.get("/admin/env"), 403)
        assert c.get("/open/env").status == 200


def _ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("rule,status", [
    ("Require ip ::1", 200),
    ("Require ip ::1/128", 200),
    ("Require ip 127.0.0.1", 403),
    ("Require ip 127.0.0.0/8", 403),
])
def test_require_over_ipv6(gateway, testapp, rule, status):
    if not _ipv6_loopback_available():
        pytest.skip("IPv6 loopback ::1 is not available on this machine")
    gw = gateway(testapp.route("/t/"), rule, args=("--listen", "[::1]:0"))
    assert gw.host == "[::1]", f"gateway did not listen on [::1]: {gw.host}"
    with Conn(gw.port, host="::1") as c:
        r = c.request("GET", "/t/env", headers=[("Host", f"[::1]:{gw.port}")])
    assert r.status == status, f"{rule} from ::1: {r!r}"
    if status == 200:
        assert env_of(r)["REMOTE_ADDR"] == "::1"


# --- LimitRequestBody ----------------------------------------------------------------

def post(port, target, body, headers=()):
    """POST on a new connection; (conn, response). The caller closes conn."""
    c = Conn(port)
    try:
        c.send(build_request("POST", target, headers=list(headers), body=body))
    except (BrokenPipeError, ConnectionResetError):
        pass
    return c, c.read_response("POST")


def test_global_limit_request_body(gateway, testapp):
    gw = gateway(testapp.route("/t/"), "LimitRequestBody 100")
    c, r = post(gw.port, "/t/echo", b"a" * 100)
    with c:
        assert r.status == 200 and r.body == b"a" * 100, r
        assert c.get("/t/env").status == 200        # kept
    c, r = post(gw.port, "/t/echo", b"b" * 101)
    with c:
        assert_complete(r, 413)
        assert c.closed_by_peer(wait=CLOSE_WAIT), "connection left open after a 413"


def test_global_limit_applies_to_chunked_bodies(gateway, testapp):
    gw = gateway(testapp.route("/t/"), "LimitRequestBody 100")
    te = [("Transfer-Encoding", "chunked")]
    c, r = post(gw.port, "/t/echo", chunked([b"a" * 60, b"a" * 40]), te)
    with c:
        assert r.status == 200 and r.body == b"a" * 100, r
    c, r = post(gw.port, "/t/echo", chunked([b"a" * 60, b"a" * 41]), te)
    with c:
        assert_complete(r, 413)
        assert c.closed_by_peer(wait=CLOSE_WAIT), "connection left open after a 413"


def test_route_limit_request_body(gateway, testapp):
    gw = gateway(testapp.route("/small/", keys="limitrequestbody=10"), testapp.route("/t/"))
    c, r = post(gw.port, "/small/echo", b"0123456789")
    with c:
        assert r.status == 200 and r.body == b"0123456789", r
    c, r = post(gw.port, "/small/echo", b"0123456789X")
    with c:
        assert_complete(r, 413)
        assert c.closed_by_peer(wait=CLOSE_WAIT), "connection left open after a 413"
    # The other route has no such limit.
    c, r = post(gw.port, "/t/echo", b"x" * 5000)
    with c:
        assert r.status == 200 and len(r.body) == 5000, r


def test_limit_is_checked_before_reading_the_body(gateway, testapp):
    """A Content-Length over the limit is refused from the head alone: the
    client that sent only the head gets its 413 at once."""
    gw = gateway(testapp.route("/t/"), "LimitRequestBody 100")
    with Conn(gw.port, timeout=3) as c:
        c.send(b"POST /t/echo HTTP/1.1\r\nHost: " + LOOPBACK.encode()
               + b"\r\nContent-Length: 1000000\r\n\r\n")
        r = c.read_response("POST")
        assert_complete(r, 413)
        assert c.closed_by_peer(wait=CLOSE_WAIT)
