"""The peers on their own: each app fixture answers a plain FastCGI client.

These run without the gateway, so when a gateway test fails and these
pass, the gateway is the one to look at.
"""

import json

import fcgi_client
from support import random_bytes, sha256


def test_php_fpm_direct(php_fpm):
    params = fcgi_client.cgi_params("GET", "/php", "info.php", php_fpm.docroot, "a=1&b[]=x")
    res = fcgi_client.request(php_fpm.port, params)
    assert res.protocol_status == 0, res.stderr
    headers, body = res.split()
    assert "Content-Type: application/json" in headers
    data = json.loads(body)
    assert data["get"] == {"a": "1", "b": ["x"]}
    assert data["server"]["SCRIPT_FILENAME"] == php_fpm.docroot + "info.php"


def test_php_fpm_direct_body(php_fpm):
    body = random_bytes(200000, seed=7)
    params = fcgi_client.cgi_params("POST", "/php", "hash.php", php_fpm.docroot, extra=[
        ("CONTENT_LENGTH", str(len(body))), ("CONTENT_TYPE", "application/octet-stream")])
    res = fcgi_client.request(php_fpm.port, params, body)
    _, out = res.split()
    assert out.decode() == f"length={len(body)}\nsha256={sha256(body)}\n"


def test_fcgiwrap_direct(fcgiwrap):
    body = b"hello cgi\n"
    params = fcgi_client.cgi_params("POST", "/cgi", "env.cgi", fcgiwrap.docroot, "x=1", extra=[
        ("CONTENT_LENGTH", str(len(body)))])
    res = fcgi_client.request(fcgiwrap.port, params, body)
    headers, out = res.split()
    assert "X-Cgi: fcgiwrap" in headers
    lines = out.decode().splitlines()
    assert "QUERY_STRING=x=1" in lines
    assert f"BODY_LENGTH={len(body)}" in lines
    assert f"BODY_SHA256={sha256(body)}" in lines


def test_demo_direct(demo):
    params = fcgi_client.cgi_params("GET", "/demo", "env", "/", "q=1")
    res = fcgi_client.request(demo.port, params)
    _, out = res.split()
    assert "QUERY_STRING=q=1" in out.decode().splitlines()


def test_testapp_direct(testapp):
    params = fcgi_client.cgi_params("GET", "/t", "env", "/", "q=1")
    res = fcgi_client.request(testapp.port, params)
    _, out = res.split()
    lines = out.decode().splitlines()
    assert "QUERY_STRING=q=1" in lines
    assert "KEEP_CONN=0" in lines
