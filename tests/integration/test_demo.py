"""The gateway in front of fcgi-demo, the app built on Debian's libfcgi
(the FastCGI library most C apps use), so the gateway meets another
implementation of the protocol than its own test app.

Route used: ProxyPass /demo/ fcgi://127.0.0.1:PORT/ . The demo picks its
page by PATH_INFO: /env answers NAME=VALUE lines and then STDIN_LENGTH=n,
/echo answers the request body, /form the posted fields as an HTML
table, / an HTML page about the request with a form posting to
SCRIPT_NAME/form. libfcgi serves one connection at a time.
"""

import pytest

from httpc import parse_env
from support import random_bytes, sha256


@pytest.fixture
def gw(gateway, demo):
    return gateway(demo.route("/demo/"))


def test_env(gw):
    r = gw.get("/demo/env?x=1&y=%20", headers=[("X-Demo", "yes"),
                                               ("Proxy", "http://evil.example/")])
    assert r.status == 200, r
    env, _ = parse_env(r.body)
    assert env["QUERY_STRING"] == "x=1&y=%20"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == "/demo"
    assert env["PATH_INFO"] == "/env"
    assert env["SCRIPT_FILENAME"] == "/env"
    assert env["DOCUMENT_ROOT"] == "/"
    assert env["REQUEST_URI"] == "/demo/env?x=1&y=%20"
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["HTTP_X_DEMO"] == "yes"
    assert "HTTP_PROXY" not in env
    assert env["STDIN_LENGTH"] == "0"


def test_env_post(gw):
    body = b"a=1&b=2"
    r = gw.request("POST", "/demo/env", headers=[
        ("Content-Type", "application/x-www-form-urlencoded")], body=body)
    env, _ = parse_env(r.body)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["CONTENT_LENGTH"] == str(len(body))
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["STDIN_LENGTH"] == str(len(body))


def test_echo(gw):
    body = b"hello libfcgi\n"
    r = gw.request("POST", "/demo/echo", body=body)
    assert r.status == 200 and r.body == body


def test_echo_large(gw):
    body = random_bytes(2 << 20, seed=6)
    with gw.conn(timeout=30) as c:
        r = c.request("POST", "/demo/echo", body=body)
    assert r.status == 200
    assert len(r.body) == len(body) and sha256(r.body) == sha256(body)


def test_keep_alive(gw):
    with gw.conn() as c:
        for i in range(20):
            r = c.get(f"/demo/env?i={i}")
            assert parse_env(r.body)[0]["QUERY_STRING"] == f"i={i}"


def test_index_page_posts_to_the_prefix(gw):
    r = gw.get("/demo/?q=%3Cx%3E")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/html")
    page = r.text()
    assert "<tr><th>SCRIPT_NAME</th><td>/demo</td></tr>" in page
    assert "<tr><th>QUERY_STRING</th><td>q=%3Cx%3E</td></tr>" in page
    assert '<form method="post" action="/demo/form">' in page


def test_form_fields(gw):
    body = b"name=J%C3%B6rg+M&message=%3Cb%3Ehi%3C%2Fb%3E"
    r = gw.request("POST", "/demo/form", headers=[
        ("Content-Type", "application/x-www-form-urlencoded")], body=body)
    assert r.status == 200
    page = r.text()
    assert "<tr><th>name</th><td>J\u00f6rg M</td></tr>" in page
    assert "<tr><th>message</th><td>&lt;b&gt;hi&lt;/b&gt;</td></tr>" in page


def test_unknown_page_is_the_apps_404(gw):
    r = gw.get("/demo/nope")
    assert r.status == 404 and r.body == b"demo: no such page\n"
