"""The FastCGI authorizer (route key authorizer=fcgi://HOST:PORT/).

fcgi-testapp answers the AUTHORIZER role by the Authorization header:
"Bearer good" lets through with Variable-REMOTE_USER: alice and
Variable-AUTH_ROLE: admin, "Bearer slow" answers after ?ms=, "Bearer
params" refuses with the params it got, no header on a path with
"login-redirect" gives 302 to /login/, anything else 403.
"""

import os
from pathlib import Path

import pytest

from httpc import Conn, build_request, parse_env
from support import Gateway, free_port, random_bytes, sha256

GOOD = [("Authorization", "Bearer good")]


@pytest.fixture
def gw(gateway, testapp):
    auth = f"authorizer={testapp.url()}"
    return gateway(testapp.route("/p/", keys=auth),
                   testapp.route("/open/"),
                   f"ProxyPass /dead/ {testapp.url()} authorizer=fcgi://127.0.0.1:{free_port()}/")


def test_allow_passes_variables_to_the_responder(gw):
    r = gw.get("/p/env?x=1", headers=GOOD)
    assert r.status == 200, r
    env, _ = parse_env(r.body)
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_ROLE"] == "admin"
    assert env["QUERY_STRING"] == "x=1"
    assert env["SCRIPT_NAME"] == "/p" and env["PATH_INFO"] == "/env"
    assert b"not for the client" not in r.body


def test_deny_goes_to_the_client_as_it_is(gw):
    r = gw.get("/p/env")
    assert r.status == 403
    assert r.header("X-Auth") == "denied"
    assert r.body == b"denied by testapp\n"


def test_redirect_to_login(gw):
    r = gw.get("/p/login-redirect")
    assert r.status == 302
    assert r.header("Location") == "/login/"


def test_authorizer_gets_no_body_and_no_responder_variables(gw):
    body = b"secret=1"
    r = gw.request("POST", "/p/env", headers=[("Authorization", "Bearer params"),
                                              ("Content-Type", "text/plain")], body=body)
    assert r.status == 403
    env, _ = parse_env(r.body)
    for name in ("CONTENT_LENGTH", "PATH_INFO", "SCRIPT_NAME"):
        assert name not in env, f"{name} reached the authorizer"
    assert env["STDIN_LENGTH"] == "0"
    assert env["REQUEST_URI"] == "/p/env"
    assert env["CONTENT_TYPE"] == "text/plain"


def test_body_reaches_the_responder_after_the_authorizer(gw):
    body = random_bytes(300_000, seed=11)
    r = gw.request("POST", "/p/echo", headers=GOOD, body=body)
    assert r.status == 200, r
    assert sha256(r.body) == sha256(body)


def test_no_100_continue_before_a_refusal(gw):
    with Conn(gw.port) as c:
        c.send(build_request("POST", "/p/echo", headers=[("Expect", "100-continue"),
                                                         ("Content-Length", "10")]))
        r = c.read_response("POST")
    assert r.status == 403, "a refused client must not be told to send its body"


def test_keep_alive_across_authorized_requests(gw):
    with gw.conn() as c:
        for i in range(20):
            r = c.get(f"/p/env?i={i}", headers=GOOD)
            assert r.status == 200
            env, _ = parse_env(r.body)
            assert env["REMOTE_USER"] == "alice" and env["QUERY_STRING"] == f"i={i}"
        r = c.get("/open/env")
        env, _ = parse_env(r.body)
        assert "REMOTE_USER" not in env, "variables leaked into the next request"


def test_authorizer_unreachable_is_502(gw):
    r = gw.get("/dead/env", headers=GOOD)
    assert r.status == 502


def test_route_without_authorizer_is_not_asked(gw):
    r = gw.get("/open/env")
    assert r.status == 200


def _test_binary():
    value = os.environ.get("FCGATE_TEST_BIN")
    return Path(value).resolve() if value else Path(__file__).resolve().parents[2] / \
        "build/host-test/fcgate"


def test_authorizer_slow_is_504(tmp_path, testapp):
    """host-test has BACKEND_TIMEOUT=10 s; the authorizer answers after 30 s."""
    gw = Gateway(_test_binary(), [testapp.route("/p/", keys=f"authorizer={testapp.url()}")],
                 tmp_path / "fcgate.log")
    try:
        r = gw.get("/p/env?ms=30000", headers=[("Authorization", "Bearer slow")], timeout=25)
        assert r.status == 504
    finally:
        assert gw.stop() == 0


def test_previous_request_does_not_leak_into_the_authorizer(gw):
    """A longer SCRIPT_NAME of the request before (/open) must not reach
    the authorizer's params for a shorter path (/p/): it once gave 431."""
    with gw.conn() as c:
        assert c.get("/open/env").status == 200
        r = c.get("/p/", headers=GOOD)
        assert r.status != 431, r
        assert r.status == 404          # the testapp has no endpoint "/"
