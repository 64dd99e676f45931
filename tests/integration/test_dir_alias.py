"""Alias to a real folder (issue 8, POSIX port only): `Alias /d/ DIR/`
against build/host/fcgate (DIR_ALIAS=y), files read through the port
layer a client buffer at a time.

Every expectation comes from the files the test writes: bodies byte for
byte, Content-Type per extension (the issue's table, as for the ROM fs),
ETags in nginx's form ("MTIME-SIZE" in hex, quoted). Escapes are tried
with `..`, encoded dots and slashes, and symbolic links to a file and to
a folder outside; the secret's bytes must never come back. The gateway's
open descriptors are counted in /proc before and after: every way an
answer ends (done, HEAD, 304, 416, 404, a client leaving mid-body) must
close its file.
"""

import os
import re
import socket
import time

import pytest

import httpc
import support
from support import LOOPBACK, run

HTML = "text/html; charset=utf-8"
FILES = {
    "index.html": (b"<!doctype html><p>top</p>\n", HTML),
    "style.css": (b"body { color: red }\n" * 50, "text/css; charset=utf-8"),
    "app.js": (b"console.log(1);\n", "text/javascript; charset=utf-8"),
    "data.json": (b'{"a": 1}\n', "application/json"),
    "pic.PNG": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
    "noext": (b"no extension\n", "application/octet-stream"),
    "odd.zzz": (b"unknown extension\n", "application/octet-stream"),
    "empty.txt": (b"", "text/plain; charset=utf-8"),
    "sub/index.html": (b"<p>sub</p>\n", HTML),
    "sub/deeper/x.txt": (b"deep\n", "text/plain; charset=utf-8"),
    "big.bin": (support.random_bytes(5 * 1024 * 1024 + 123, 8), "application/octet-stream"),
}
SECRET = b"SECRET-OUTSIDE-THE-FOLDER\n"
FD_ROUNDS = 200
SETTLE_S = 5.0


def hdrs(d):
    """httpc takes header fields as (name, value) pairs."""
    return list(d.items())


def nginx_etag(path):
    st = os.stat(path)
    return '"%x-%x"' % (int(st.st_mtime), st.st_size)


@pytest.fixture
def site(tmp_path):
    """The folder served, a secret next to it, links that lead out."""
    root = tmp_path / "site"
    for name, (data, _) in FILES.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "noindex").mkdir()
    (root / "noindex" / "a.txt").write_bytes(b"a\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside)
    (root / "rel.txt").symlink_to("../secret.txt")
    os.mkfifo(root / "fifo.txt")
    return root


@pytest.fixture
def gw(gateway, site):
    return gateway(f"Alias /d/ {site}/")


def assert_file(resp, name, site):
    data, ctype = FILES[name]
    assert resp.status == 200, resp
    assert resp.framing == "length", resp
    assert resp.body == data, f"{name}: body differs from the file"
    assert resp.header("Content-Type") == ctype
    assert resp.header("Content-Length") == str(len(data))
    assert resp.header("ETag") == nginx_etag(site / name)
    assert resp.header("Accept-Ranges") == "bytes"
    assert resp.header("Content-Encoding") is None
    assert resp.header("Vary") is None


def fd_count(gw):
    return len(os.listdir(f"/proc/{gw.proc.pid}/fd"))


def settled_fd_count(gw, want):
    """The gateway's descriptor count once it is back to want (or the last seen)."""
    deadline = time.monotonic() + SETTLE_S
    n = fd_count(gw)
    while n != want and time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count(gw)
    return n


# --- files ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FILES))
def test_files_byte_for_byte_with_type_and_etag(gw, site, name):
    assert_file(gw.get("/d/" + name, timeout=20), name, site)


def test_big_file_then_more_on_the_same_connection(gw, site):
    with gw.conn(timeout=20) as c:
        r = c.get("/d/big.bin")
        assert support.sha256(r.body) == support.sha256(FILES["big.bin"][0])
        assert r.header("Connection") is None
        assert_file(c.get("/d/app.js"), "app.js", site)


def test_gzip_is_never_offered(gw, site):
    r = gw.get("/d/style.css", hdrs({"Accept-Encoding": "gzip"}))
    assert_file(r, "style.css", site)


def test_directory_index_and_slash_redirect(gw, site):
    assert_file(gw.get("/d/"), "index.html", site)
    r = gw.get("/d/sub/")
    assert r.status == 200 and r.body == FILES["sub/index.html"][0]
    assert r.header("Content-Type") == HTML
    r = gw.get("/d/sub")
    assert r.status == 301
    assert r.header("Location") == "/d/sub/"


def test_directory_index_is_configurable(gateway, site):
    (site / "sub" / "main.htm").write_bytes(b"<p>main</p>\n")
    g = gateway(f"Alias /d/ {site}/", "DirectoryIndex main.htm")
    r = g.get("/d/sub/")
    assert r.status == 200 and r.body == b"<p>main</p>\n"
    assert g.get("/d/").status == 404


def test_folder_without_index_and_missing_files_are_404(gw):
    for target in ("/d/noindex/", "/d/noindex", "/d/nosuch.txt", "/d/sub/nosuch",
                   "/d/nosuchdir/", "/d/app.js/", "/d/app.js/x", "/d/fifo.txt"):
        r = gw.get(target)
        assert r.status == 404, (target, r)


# --- validators, ranges, methods --------------------------------------------------

def test_etag_304_and_change(gw, site):
    tag = gw.get("/d/app.js").header("ETag")
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', tag), tag
    r = gw.get("/d/app.js", hdrs({"If-None-Match": tag}))
    assert r.status == 304 and r.body == b""
    assert r.header("ETag") == tag
    assert r.header("Content-Length") is None
    r = gw.get("/d/app.js", hdrs({"If-None-Match": f'"x", W/{tag}'}))
    assert r.status == 304
    assert gw.get("/d/app.js", hdrs({"If-None-Match": '"other"'})).status == 200
    # A rewrite (new mtime) is a new representation.
    st = os.stat(site / "app.js")
    os.utime(site / "app.js", (st.st_atime, st.st_mtime + 100))
    r = gw.get("/d/app.js", hdrs({"If-None-Match": tag}))
    assert r.status == 200 and r.header("ETag") != tag


def test_ranges(gw, site):
    big = FILES["big.bin"][0]
    n = len(big)
    r = gw.get("/d/big.bin", hdrs({"Range": "bytes=100-199"}))
    assert r.status == 206 and r.body == big[100:200]
    assert r.header("Content-Range") == f"bytes 100-199/{n}"
    assert r.header("Content-Length") == "100"
    r = gw.get("/d/big.bin", hdrs({"Range": "bytes=-5"}))
    assert r.status == 206 and r.body == big[-5:]
    r = gw.get("/d/big.bin", hdrs({"Range": f"bytes={n - 70000}-"}), timeout=10)
    assert r.status == 206 and r.body == big[n - 70000:]
    r = gw.get("/d/big.bin", hdrs({"Range": f"bytes={n}-"}))
    assert r.status == 416 and r.body == b""
    assert r.header("Content-Range") == f"bytes */{n}"
    tag = nginx_etag(site / "big.bin")
    r = gw.get("/d/big.bin", hdrs({"Range": "bytes=0-9", "If-Range": tag}))
    assert r.status == 206 and r.body == big[:10]
    r = gw.get("/d/big.bin", hdrs({"Range": "bytes=0-9", "If-Range": '"old"'}), timeout=20)
    assert r.status == 200 and len(r.body) == n
    r = gw.get("/d/app.js", hdrs({"Range": "bytes=0-1,5-6"}))
    assert r.status == 200 and r.body == FILES["app.js"][0]


def test_head_and_405(gw, site):
    with gw.conn() as c:
        r = c.request("HEAD", "/d/big.bin")
        assert r.status == 200 and r.body == b""
        assert r.header("Content-Length") == str(len(FILES["big.bin"][0]))
        assert r.header("ETag") == nginx_etag(site / "big.bin")
        for method in ("POST", "PUT", "DELETE"):
            r = c.request(method, "/d/app.js", body=b"" if method != "DELETE" else None)
            assert r.status == 405, (method, r)
            assert r.header("Allow") == "GET, HEAD"
        assert_file(c.get("/d/app.js"), "app.js", site)
    assert gw.request("POST", "/d/nosuch").status == 404


# --- escapes ----------------------------------------------------------------------

ESCAPES = [
    "/d/../secret.txt",
    "/d/%2e%2e/secret.txt",
    "/d/%2E%2E/secret.txt",
    "/d/sub/../../secret.txt",
    "/d/sub/%2e%2e/%2e%2e/secret.txt",
    "/d/..%2fsecret.txt",
    "/d/%2e%2e%2fsecret.txt",
    "/d/sub%2f..%2f..%2fsecret.txt",
    "/d/..%5csecret.txt",
    "/d/%252e%252e/secret.txt",
    "/d/.%2e/outside/secret.txt",
    "/d/link.txt",
    "/d/rel.txt",
    "/d/linkdir/secret.txt",
    "/d/linkdir/",
    "/d/./link.txt",
    "/d//link.txt",
    "/d/sub/./../link.txt",
    "/d/%00secret.txt",
]


@pytest.mark.parametrize("target", ESCAPES)
def test_no_way_out_of_the_folder(gw, target):
    with gw.conn() as c:
        c.send(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = c.read_until_close()
    assert SECRET not in raw, target
    status = int(raw.split(b" ", 2)[1])
    assert status in (400, 403, 404), (target, raw[:200])


# --- descriptors and keep-alive ---------------------------------------------------

def abandon_mid_body(gw):
    """Start big.bin and go away after a few bytes, with a reset."""
    s = socket.create_connection((LOOPBACK, gw.port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /d/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(1024)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


def test_no_descriptor_leaks(gw, site):
    base = fd_count(gw)         # stdio and the listener: no connection yet
    tag = nginx_etag(site / "app.js")
    kinds = [
        lambda c: c.get("/d/app.js"),
        lambda c: c.request("HEAD", "/d/style.css"),
        lambda c: c.get("/d/app.js", hdrs({"If-None-Match": tag})),
        lambda c: c.get("/d/big.bin", hdrs({"Range": "bytes=10-20000"})),
        lambda c: c.get("/d/big.bin", hdrs({"Range": "bytes=999999999-"})),
        lambda c: c.get("/d/nosuch"),
        lambda c: c.request("POST", "/d/app.js", body=b""),
        lambda c: c.get("/d/sub/"),
        lambda c: c.get("/d/empty.txt"),
    ]
    with gw.conn(timeout=10) as c:
        for i in range(FD_ROUNDS):
            r = kinds[i % len(kinds)](c)
            assert r.status in (200, 206, 304, 404, 405, 416), r
    for _ in range(10):
        abandon_mid_body(gw)
    assert settled_fd_count(gw, base) == base, os.listdir(f"/proc/{gw.proc.pid}/fd")
    assert gw.proc.alive(), gw.proc.describe()
    assert_file(gw.get("/d/app.js"), "app.js", site)


def test_keep_alive_mixed(gw, site):
    big = FILES["big.bin"][0]
    with gw.conn(timeout=20) as c:
        for _ in range(3):
            assert_file(c.get("/d/index.html"), "index.html", site)
            assert c.request("HEAD", "/d/app.js").body == b""
            assert c.get("/d/app.js", hdrs({"If-None-Match": nginx_etag(site / "app.js")})).status == 304
            r = c.get("/d/big.bin", hdrs({"Range": "bytes=70000-90000"}))
            assert r.status == 206 and r.body == big[70000:90001]
            assert c.get("/d/nosuch").status == 404
            assert c.request("PUT", "/d/app.js", body=b"").status == 405
            r = c.get("/d/big.bin")
            assert r.body == big
            assert_file(c.get("/d/data.json"), "data.json", site)


def test_pipelined_answers_stay_in_order(gw, site):
    names = ["app.js", "big.bin", "data.json", "index.html", "big.bin", "noext"]
    with gw.conn(timeout=20) as c:
        c.send(b"".join(f"GET /d/{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in names))
        for n in names:
            assert_file(c.read_response(), n, site)


# --- route lines ------------------------------------------------------------------

@pytest.mark.parametrize("line, fragment", [
    ("Alias /x/ /srv/x", "must end with '/'"),
    ("Alias /x /srv/x/", "prefix '/x' must end with '/'"),
    ("Alias /x/ srv/x/", "must be rom:/"),
    ("Alias /x/ /srv/x/ nosuch=1", "unknown key 'nosuch'"),
])
def test_bad_folder_alias_lines(line, fragment):
    r = run([support.FCGATE_BIN, "--check-config", "--conf", line], timeout=10)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert fragment in r.stderr, r.stderr


def test_check_config_lists_the_folder(site):
    r = run([support.FCGATE_BIN, "--check-config", "--conf", f"Alias /d/ {site}/",
             "--conf", f"Alias /e/ {site}/sub/ require=127.0.0.1"], timeout=10)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^\s+dir\s+/d/ -> folder {re.escape(str(site))}/$", r.stdout, re.M), r.stdout
