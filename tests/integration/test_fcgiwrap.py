"""The gateway in front of Debian's fcgiwrap running the shell script
www/env.cgi (it prints meta-variables, then the length and sha256 of
what it read from stdin).

Route used: ProxyPass /cgi/ fcgi://127.0.0.1:PORT/<docroot>/ ; fcgiwrap
runs SCRIPT_FILENAME = <docroot>env.cgi.
"""

import pytest

from httpc import parse_env
from support import random_bytes, sha256


@pytest.fixture
def gw(gateway, fcgiwrap):
    return gateway(fcgiwrap.route("/cgi/", fcgiwrap.docroot))


def cgi_env(resp):
    assert resp.status == 200, resp
    assert resp.header("X-Cgi") == "fcgiwrap"
    return parse_env(resp.body)[0]


def test_get_env(gw, fcgiwrap):
    r = gw.get("/cgi/env.cgi?x=1&y=%41", headers=[("X-Test", "from client"),
                                                  ("Proxy", "http://evil.example/")])
    env = cgi_env(r)
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "x=1&y=%41"
    assert env["REQUEST_URI"] == "/cgi/env.cgi?x=1&y=%41"
    assert env["SCRIPT_NAME"] == "/cgi"
    assert env["PATH_INFO"] == "/env.cgi"
    assert env["SCRIPT_FILENAME"] == fcgiwrap.docroot + "env.cgi"
    assert env["DOCUMENT_ROOT"] == fcgiwrap.docroot
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["HTTP_X_TEST"] == "from client"
    assert env["HTTP_HOST"] == "127.0.0.1"
    assert "HTTP_PROXY" not in env
    assert env["BODY_LENGTH"] == "0"


def test_post_body_reaches_script_stdin(gw):
    body = random_bytes(300000, seed=5)
    r = gw.request("POST", "/cgi/env.cgi", headers=[("Content-Type", "application/x-test")],
                   body=body)
    env = cgi_env(r)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["CONTENT_LENGTH"] == str(len(body))
    assert env["CONTENT_TYPE"] == "application/x-test"
    assert env["BODY_LENGTH"] == str(len(body))
    assert env["BODY_SHA256"] == sha256(body)


def test_large_streamed_output(gw):
    n = 3 << 20
    with gw.conn(timeout=30) as c:
        r = c.get(f"/cgi/env.cgi?big={n}")
        assert r.status == 200 and r.framing == "chunked"
        line = b"0123456789abcdef\n"
        assert r.body == (line * (n // len(line) + 1))[:n]
        # The connection stays usable after a chunked response.
        assert cgi_env(c.get("/cgi/env.cgi?again=1"))["QUERY_STRING"] == "again=1"


def test_keep_alive_with_fcgiwrap(gw):
    with gw.conn() as c:
        for i in range(10):
            assert cgi_env(c.get(f"/cgi/env.cgi?i={i}"))["QUERY_STRING"] == f"i={i}"


def test_missing_script_status_passes_through(gw):
    r = gw.get("/cgi/missing.cgi")
    assert r.status == 403
    assert b"403 Forbidden" in r.body
