"""scripts/romfs-pack.py: what it packs, what it refuses, and that its C
compiles warnings-clean with core/romfs.c and is found by romfs_find().

Run: /usr/bin/python3 -m pytest -q tests/unit/test_romfs_pack.py
"""

import gzip
import hashlib
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACK = os.path.join(ROOT, "scripts", "romfs-pack.py")
PY = "/usr/bin/python3"
WARN = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow",
        "-Wstrict-prototypes", "-Wmissing-prototypes"]

# Prints every entry, checks that romfs_find() returns it, and looks up
# the paths given on the command line ("found" / "missing").
DUMP_C = r"""
#include <stdio.h>
#include <string.h>
#include "romfs.h"

static void hex(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\t");
}

int main(int argc, char **argv)
{
	unsigned i;
	int a;

	for (i = 0; i < romfs_count; i++) {
		const struct romfs_file *f = &romfs_files[i];

		if (romfs_find(f->path, f->path_len) != f ||
		    strlen(f->path) != f->path_len)
			return 2;
		printf("F\t%s\t%s\t%s\t%s\t", f->path, f->type, f->etag,
		       f->gz_etag ? f->gz_etag : "-");
		hex(f->data, f->len);
		if (f->gz)
			hex(f->gz, f->gz_len);
		else
			printf("-\t");
		printf("\n");
	}
	for (a = 1; a < argc; a++)
		printf("L\t%s\t%s\n", argv[a],
		       romfs_find(argv[a], strlen(argv[a])) ? "found" : "missing");
	return 0;
}
"""


def pack(src, out, *extra):
    return subprocess.run([PY, PACK, str(src), str(out)] + list(extra),
                          capture_output=True, text=True)


def pack_ok(src, out, *extra):
    r = pack(src, out, *extra)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


def build(tmp, out_c, cc="gcc"):
    main_c = tmp / "dump_main.c"
    main_c.write_text(DUMP_C)
    exe = tmp / ("dump-" + cc)
    r = subprocess.run([cc] + WARN + ["-I", os.path.join(ROOT, "core"),
                       "-o", str(exe), str(main_c), str(out_c),
                       os.path.join(ROOT, "core", "romfs.c")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def dump(exe, *lookups):
    r = subprocess.run([str(exe)] + list(lookups), capture_output=True, text=True)
    assert r.returncode == 0, "romfs_find() missed a packed file"
    files, found = {}, {}
    order = []
    for line in r.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "F":
            path, typ, etag, gz_etag, data, gz = parts[1:7]
            order.append(path)
            files[path] = {
                "type": typ, "etag": etag,
                "gz_etag": None if gz_etag == "-" else gz_etag,
                "data": bytes.fromhex(data),
                "gz": None if gz == "-" else bytes.fromhex(gz),
            }
        else:
            found[parts[1]] = parts[2] == "found"
    return order, files, found


def tag(b):
    return '"%s"' % hashlib.sha256(b).hexdigest()[:16]


def noise(n):
    """Incompressible, but the same on every run."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d" % i).digest()
        i += 1
    return out[:n]


@pytest.fixture
def assets(tmp_path):
    d = tmp_path / "ui"
    (d / "css").mkdir(parents=True)
    (d / "sub").mkdir()
    (d / "index.html").write_bytes(b"<!doctype html>" + b"<p>hello</p>\n" * 100)
    (d / "css" / "site.css").write_bytes(b"body { color: #333; }\n" * 50)
    (d / "sub" / "index.html").write_bytes(b"<p>sub</p>\n")
    (d / "logo.png").write_bytes(noise(300))
    (d / "empty.txt").write_bytes(b"")
    return d


def test_compiles_and_finds(tmp_path, assets):
    out = tmp_path / "romfs_data.c"
    pack_ok(assets, out)
    exe = build(tmp_path, out)
    order, files, found = dump(exe, "index.html", "css/site.css", "sub/index.html",
                               "nope.html", "css", "/index.html", "")
    assert order == ["css/site.css", "empty.txt", "index.html", "logo.png",
                     "sub/index.html"]
    assert found == {"index.html": True, "css/site.css": True,
                     "sub/index.html": True, "nope.html": False, "css": False,
                     "/index.html": False, "": False}
    for path, f in files.items():
        raw = (assets / path).read_bytes()
        assert f["data"] == raw
        assert f["etag"] == tag(raw)
        if f["gz"] is not None:
            assert gzip.decompress(f["gz"]) == raw
            assert f["gz_etag"] == tag(f["gz"])
            assert f["gz_etag"] != f["etag"]
        else:
            assert f["gz_etag"] is None


def test_compiles_with_clang(tmp_path, assets):
    if shutil.which("clang") is None:
        pytest.skip("no clang")
    out = tmp_path / "romfs_data.c"
    pack_ok(assets, out)
    order, _, _ = dump(build(tmp_path, out, "clang"))
    assert len(order) == 5


def test_deterministic(tmp_path, assets):
    a = pack_ok(assets, tmp_path / "a.c")
    assert pack_ok(assets, tmp_path / "b.c") == a
    # Another place, other times, files created in another order.
    other = tmp_path / "elsewhere" / "ui"
    other.mkdir(parents=True)
    for rel in sorted(p.relative_to(assets) for p in assets.rglob("*")
                      if p.is_file())[::-1]:
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_bytes((assets / rel).read_bytes())
        os.utime(other / rel, (1, 1))
    assert pack_ok(other, tmp_path / "c.c") == a


def test_gzip_only_when_smaller(tmp_path, assets):
    out = tmp_path / "o.c"
    pack_ok(assets, out)
    _, files, _ = dump(build(tmp_path, out))
    assert files["index.html"]["gz"] is not None
    assert files["css/site.css"]["gz"] is not None
    assert files["logo.png"]["gz"] is None          # noise does not shrink
    assert files["empty.txt"]["gz"] is None
    assert files["sub/index.html"]["gz"] is None    # 11 bytes: gzip's header alone is 18
    for f in files.values():
        if f["gz"] is not None:
            assert len(f["gz"]) < len(f["data"])


def test_gzip_min(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    body = b"abcabcabc" * 20
    (d / "a.txt").write_bytes(body)
    saving = len(body) - len(gzip.compress(body, compresslevel=9, mtime=0))
    assert saving > 0
    for n, stored in ((1, True), (saving, True), (saving + 1, False)):
        out = tmp_path / ("o%d.c" % n)
        pack_ok(d, out, "--gzip-min", str(n))
        _, files, _ = dump(build(tmp_path, out))
        assert (files["a.txt"]["gz"] is not None) == stored, n
    r = pack(d, tmp_path / "x.c", "--gzip-min", "0")
    assert r.returncode != 0 and "--gzip-min" in r.stderr


TYPES = {
    "a.html": "text/html; charset=utf-8",
    "a.htm": "text/html; charset=utf-8",
    "a.css": "text/css; charset=utf-8",
    "a.js": "text/javascript; charset=utf-8",
    "a.mjs": "text/javascript; charset=utf-8",
    "a.txt": "text/plain; charset=utf-8",
    "a.json": "application/json",
    "a.js.map": "application/json",
    "a.xml": "application/xml",
    "a.svg": "image/svg+xml",
    "a.png": "image/png",
    "a.jpg": "image/jpeg",
    "a.jpeg": "image/jpeg",
    "a.gif": "image/gif",
    "a.ico": "image/x-icon",
    "a.webp": "image/webp",
    "a.woff": "font/woff",
    "a.woff2": "font/woff2",
    "a.wasm": "application/wasm",
    "UPPER.HTML": "text/html; charset=utf-8",
    "noext": "application/octet-stream",
    "a.tar.gz": "application/octet-stream",
    "a.exe": "application/octet-stream",
    ".hidden": "application/octet-stream",
    "dir.css/plain": "application/octet-stream",
}


def test_types(tmp_path):
    d = tmp_path / "d"
    for name in TYPES:
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(b"x")
    out = tmp_path / "o.c"
    pack_ok(d, out)
    _, files, _ = dump(build(tmp_path, out))
    assert {p: f["type"] for p, f in files.items()} == TYPES


def test_awkward_but_legal_names(tmp_path):
    """Quotes, '?' (a trigraph in C11 could form "??="), spaces, sort order."""
    d = tmp_path / "d"
    d.mkdir()
    names = ['q"uote.txt', "tri??=graph.txt", "sp ace.txt", "B.txt", "a.txt",
             "a-b", "a.b", "a0", "~x", "{}.txt"]
    (d / "a").mkdir()
    names.append("a/b")
    for n in names:
        (d / n).write_bytes(n.encode())
    out = tmp_path / "o.c"
    pack_ok(d, out)
    order, files, found = dump(build(tmp_path, out), *names)
    assert order == sorted(names, key=lambda s: s.encode())
    assert all(found[n] for n in names)
    assert all(files[n]["data"] == n.encode() for n in names)


@pytest.mark.parametrize("name, why", [
    ("a..b.txt", ".."),
    ("50%.txt", "'%'"),
    ("back\\slash", "'\\\\'"),
    ("tab\there", "printable"),
    ("new\nline", "printable"),
    ("caf\u00e9.txt", "printable"),
    ("del\x7f", "printable"),
])
def test_refuses_bad_names(tmp_path, name, why):
    d = tmp_path / "d"
    d.mkdir()
    (d / "good.txt").write_bytes(b"ok")
    (d / name).write_bytes(b"bad")
    out = tmp_path / "o.c"
    out.write_bytes(b"previous")
    r = pack(d, out)
    assert r.returncode == 1
    assert r.stderr.startswith("romfs-pack: ")
    assert why in r.stderr
    assert out.read_bytes() == b"previous"      # left as it was
    assert not (tmp_path / "o.c.tmp").exists()


def test_refuses_bad_directory_name(tmp_path):
    d = tmp_path / "d"
    (d / "x..y").mkdir(parents=True)
    (d / "x..y" / "f.txt").write_bytes(b"f")
    r = pack(d, tmp_path / "o.c")
    assert r.returncode == 1 and ".." in r.stderr


def test_refuses_non_utf8_name(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    with open(os.path.join(os.fsencode(d), b"bad\xff"), "wb") as f:
        f.write(b"x")
    r = pack(d, tmp_path / "o.c")
    assert r.returncode == 1 and "printable" in r.stderr


def test_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    d = tmp_path / "d"
    (d / "real").mkdir(parents=True)
    (d / "real" / "f.txt").write_bytes(b"inside")
    # Links that stay inside are followed.
    os.symlink("real/f.txt", d / "alias.txt")
    os.symlink("real", d / "dirlink")
    out = tmp_path / "o.c"
    pack_ok(d, out)
    order, files, _ = dump(build(tmp_path, out))
    assert order == ["alias.txt", "dirlink/f.txt", "real/f.txt"]
    assert files["alias.txt"]["data"] == b"inside"

    cases = {
        "file": lambda: os.symlink(outside / "secret", d / "leak"),
        "relative": lambda: os.symlink("../outside/secret", d / "leak"),
        "dir": lambda: os.symlink(outside, d / "leak"),
        "nested": lambda: os.symlink("../../outside", d / "real" / "leak"),
        "root": lambda: os.symlink("/", d / "leak"),
    }
    for what, make in cases.items():
        make()
        r = pack(d, tmp_path / "x.c")
        assert r.returncode == 1, what
        assert "leaves" in r.stderr, (what, r.stderr)
        assert not (tmp_path / "x.c").exists()
        leak = d / "real" / "leak" if what == "nested" else d / "leak"
        os.unlink(leak)


def test_symlink_loop_and_dangling(tmp_path):
    d = tmp_path / "d"
    (d / "a").mkdir(parents=True)
    os.symlink("..", d / "a" / "up")
    r = pack(d, tmp_path / "o.c")
    assert r.returncode == 1 and "loop" in r.stderr
    os.unlink(d / "a" / "up")
    os.symlink("nowhere", d / "a" / "dangling")
    r = pack(d, tmp_path / "o.c")
    assert r.returncode == 1 and "a/dangling" in r.stderr


def test_refuses_special_files(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    os.mkfifo(d / "fifo")
    r = pack(d, tmp_path / "o.c")
    assert r.returncode == 1 and "not a regular file" in r.stderr


def test_empty_dir(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    out = tmp_path / "o.c"
    pack_ok(d, out)
    order, _, found = dump(build(tmp_path, out), "index.html")
    assert order == [] and found == {"index.html": False}


def test_missing_dir(tmp_path):
    r = pack(tmp_path / "nope", tmp_path / "o.c")
    assert r.returncode == 1 and "not a directory" in r.stderr
