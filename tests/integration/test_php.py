"""The gateway in front of Debian's php-fpm 8.2 (scripts in www/).

Route used: ProxyPass /php/ fcgi://127.0.0.1:PORT/<docroot>/ where the
docroot is a temporary copy of www/.
"""

import json
import threading
import urllib.parse

import pytest

from support import random_bytes, sha256

MIB = 1 << 20


@pytest.fixture
def gw(gateway, php_fpm):
    return gateway(php_fpm.route("/php/", php_fpm.docroot))


def info(resp):
    assert resp.status == 200, resp
    assert resp.header("Content-Type").startswith("application/json")
    return json.loads(resp.body)


def test_get_query_reaches_php_get(gw, php_fpm):
    target = "/php/info.php?a=1&b[]=x&b[]=y&s=hello%20world&e="
    r = gw.get(target, headers=[("X-Test", "php header"),
                                ("Proxy", "http://evil.example:3128/")])
    data = info(r)
    assert data["get"] == {"a": "1", "b": ["x", "y"], "s": "hello world", "e": ""}
    assert data["post"] == {}
    s = data["server"]
    assert s["REQUEST_METHOD"] == "GET"
    assert s["QUERY_STRING"] == "a=1&b[]=x&b[]=y&s=hello%20world&e="
    assert s["REQUEST_URI"] == target
    assert s["SCRIPT_NAME"] == "/php"
    assert s["PATH_INFO"] == "/info.php"
    assert s["SCRIPT_FILENAME"] == php_fpm.docroot + "info.php"
    assert s["DOCUMENT_ROOT"] == php_fpm.docroot
    assert s["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert s["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert s["SERVER_PORT"] == str(gw.port)
    assert s["REMOTE_ADDR"] == "127.0.0.1"
    assert s["HTTP_X_TEST"] == "php header"
    assert s["HTTP_PROXY"] is None, "Proxy: header passed as HTTP_PROXY (httpoxy)"


def test_post_form_reaches_php_post(gw):
    form = {"name": "J\u00f6rg", "n": "42", "arr[k]": "v", "text": "a&b=c d"}
    body = urllib.parse.urlencode(form).encode()
    r = gw.request("POST", "/php/info.php?from=query", headers=[
        ("Content-Type", "application/x-www-form-urlencoded")], body=body)
    data = info(r)
    assert data["post"] == {"name": "J\u00f6rg", "n": "42", "arr": {"k": "v"}, "text": "a&b=c d"}
    assert data["get"] == {"from": "query"}
    assert data["server"]["REQUEST_METHOD"] == "POST"
    assert data["server"]["CONTENT_LENGTH"] == str(len(body))
    assert data["server"]["CONTENT_TYPE"] == "application/x-www-form-urlencoded"


def test_multipart_form_with_file(gw):
    boundary = "fcgateBoundary7MA4YWxk"
    file_data = random_bytes(100000, seed=3)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\n"
            f"value one\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; "
            f"filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + file_data + f"\r\n--{boundary}--\r\n".encode()
    r = gw.request("POST", "/php/info.php", headers=[
        ("Content-Type", f"multipart/form-data; boundary={boundary}")], body=body)
    data = info(r)
    assert data["post"] == {"field": "value one"}
    assert data["files"] == {"upload": {"name": "data.bin", "size": len(file_data)}}


def test_path_info_under_the_prefix(gw, php_fpm):
    # The gateway sends SCRIPT_NAME=/php, PATH_INFO=/info.php/extra/path,
    # SCRIPT_FILENAME=<docroot>info.php/extra/path (as mod_proxy_fcgi
    # does). php-fpm's cgi.fix_pathinfo then finds the real script and
    # reports the values below -- SCRIPT_NAME=/info.php without the
    # prefix is php's own reading of these variables, kept as ORIG_*.
    target = "/php/info.php/extra/path?x=1"
    s = info(gw.get(target))["server"]
    assert s["SCRIPT_FILENAME"] == php_fpm.docroot + "info.php"
    assert s["PATH_INFO"] == "/extra/path"
    assert s["ORIG_PATH_INFO"] == "/info.php/extra/path"
    assert s["ORIG_SCRIPT_NAME"] == "/php"
    assert s["SCRIPT_NAME"] == "/info.php"
    assert s["PHP_SELF"] == "/info.php/extra/path"
    assert s["REQUEST_URI"] == target
    assert s["QUERY_STRING"] == "x=1"
    assert s["DOCUMENT_ROOT"] == php_fpm.docroot


def test_path_info_is_decoded(gw):
    s = info(gw.get("/php/info.php/a%20b/c%C3%A9"))["server"]
    assert s["PATH_INFO"] == "/a b/c\u00e9"
    assert s["REQUEST_URI"] == "/php/info.php/a%20b/c%C3%A9"


def test_php_headers_and_cookies(gw):
    r = gw.get("/php/headers.php")
    assert r.status == 202
    assert r.body == b"headers sent\n"
    assert r.header("X-Php-Test") == "yes"
    assert r.header_all("Set-Cookie") == ["first=one; path=/",
                                          "second=two; path=/; HttpOnly"]
    assert r.header("Status") is None


def test_head_request(gw):
    with gw.conn() as c:
        r = c.request("HEAD", "/php/info.php?h=1")
        assert r.status == 200 and r.body == b""
        assert r.header("Content-Type").startswith("application/json")
        assert info(c.get("/php/info.php?h=2"))["get"] == {"h": "2"}


def test_missing_script_is_php_fpm_404(gw):
    r = gw.get("/php/nope.php")
    assert r.status == 404
    assert b"File not found" in r.body


def test_8mib_post_hashed_by_php(gw):
    body = random_bytes(8 * MIB, seed=4)
    with gw.conn(timeout=30) as c:
        r = c.request("POST", "/php/hash.php", headers=[
            ("Content-Type", "application/octet-stream")], body=body)
    assert r.status == 200, r
    assert r.text() == f"length={len(body)}\nsha256={sha256(body)}\n"


def test_keep_alive_with_php(gw):
    with gw.conn() as c:
        for i in range(30):
            assert info(c.get(f"/php/info.php?i={i}"))["get"] == {"i": str(i)}


def test_more_clients_than_php_workers(gw):
    """8 clients, 4 php-fpm workers, reuse on: pooled idle connections
    must not tie up the workers so that the others wait forever."""
    errors = []

    def client(k):
        try:
            with gw.conn(timeout=20) as c:
                for i in range(5):
                    got = info(c.get(f"/php/info.php?k={k}&i={i}"))["get"]
                    assert got == {"k": str(k), "i": str(i)}
        except Exception as e:      # reported below, in the test's thread
            errors.append(f"client {k}: {e!r}")

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert not errors, errors
