#!/usr/bin/python3
"""romfs-pack.py DIR OUT.c [--gzip-min N]

Pack every regular file under DIR into C const data for core/romfs.h:
romfs_files[] sorted by path (bytewise, as romfs_find() searches), each
with its Content-Type, a strong ETag from a hash of its bytes, and a gzip
variant when that is at least N bytes smaller (default 1).

The output depends only on the files' names and bytes: no time stamps,
no absolute paths, gzip with mtime 0. A name the server could never
serve safely (bytes outside printable ASCII, "..", '%', '\\') or a
symlink that leaves DIR stops the run with a message and exit status 1,
and OUT.c is left as it was.
"""

import argparse
import gzip
import hashlib
import os
import stat
import sys

# Mirrors core/romfs.h.
TYPE_MAX = 64
ETAG_HEX = 16
GZIP_LEVEL = 9
BYTES_PER_LINE = 16
UINT32_MAX = 0xFFFFFFFF
UINT16_MAX = 0xFFFF

UTF8 = "; charset=utf-8"
TYPES = {
    "html": "text/html" + UTF8,
    "htm": "text/html" + UTF8,
    "css": "text/css" + UTF8,
    "js": "text/javascript" + UTF8,
    "mjs": "text/javascript" + UTF8,
    "txt": "text/plain" + UTF8,
    "json": "application/json",     # RFC 8259: no charset parameter
    "map": "application/json",      # source maps
    "xml": "application/xml",       # RFC 7303: the document says its charset
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "ico": "image/x-icon",
    "webp": "image/webp",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "wasm": "application/wasm",
}
DEFAULT_TYPE = "application/octet-stream"


class PackError(Exception):
    pass


def content_type(name):
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return DEFAULT_TYPE
    return TYPES.get(base.rsplit(".", 1)[1].lower(), DEFAULT_TYPE)


def etag(data):
    return '"%s"' % hashlib.sha256(data).hexdigest()[:ETAG_HEX]


def check_name(rel):
    """Refuse names that romfs_map_path() would never produce."""
    raw = os.fsencode(rel)
    for b in raw:
        if b < 0x20 or b > 0x7E:
            raise PackError("%r: name has a byte outside printable ASCII (0x%02x)"
                            % (rel, b))
    if ".." in rel:
        raise PackError("%s: name contains '..'" % rel)
    for c in "%\\":
        if c in rel:
            raise PackError("%s: name contains %r, which the server refuses in "
                            "paths" % (rel, c))
    if len(raw) > UINT16_MAX:
        raise PackError("%s: name too long" % rel)


def inside(root, path):
    return path == root or path.startswith(root + os.sep)


def walk(top):
    """Yield (relative name, absolute path) of every file, sorted by name."""
    root = os.path.realpath(top)
    if not os.path.isdir(root):
        raise PackError("%s: not a directory" % top)
    found = []

    def visit(dirpath, rel, chain):
        try:
            names = sorted(os.listdir(dirpath))
        except OSError as e:
            raise PackError("%s: %s" % (dirpath, e.strerror))
        for name in names:
            path = os.path.join(dirpath, name)
            relname = rel + name
            check_name(relname)
            if os.path.islink(path):
                target = os.path.realpath(path)
                if not inside(root, target):
                    raise PackError("%s: symlink leaves %s (to %s)"
                                    % (relname, top, target))
            try:
                st = os.stat(path)
            except OSError as e:
                raise PackError("%s: %s" % (relname, e.strerror))
            if stat.S_ISDIR(st.st_mode):
                real = os.path.realpath(path)
                if real in chain:
                    raise PackError("%s: symlink loop" % relname)
                visit(path, relname + "/", chain | {real})
            elif stat.S_ISREG(st.st_mode):
                found.append((relname, path))
            else:
                raise PackError("%s: not a regular file" % relname)

    visit(root, "", frozenset([root]))
    found.sort(key=lambda f: f[0].encode("ascii"))
    return found


def c_string(s):
    out = []
    for c in s:
        if c in '"\\?':     # '?' too: -std=c11 has trigraphs
            out.append("\\" + c)
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def c_bytes(name, data):
    lines = ["static const uint8_t %s[%d] = {" % (name, len(data))]
    for i in range(0, len(data), BYTES_PER_LINE):
        chunk = data[i:i + BYTES_PER_LINE]
        lines.append("\t" + ", ".join("0x%02x" % b for b in chunk) + ",")
    lines.append("};")
    return "\n".join(lines)


def load(files, gzip_min):
    entries = []
    for rel, path in files:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > UINT32_MAX:
            raise PackError("%s: larger than 4 GiB" % rel)
        gz = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
        if len(data) - len(gz) < gzip_min:
            gz = None
        entries.append({"path": rel, "type": content_type(rel),
                        "data": data, "gz": gz})
    return entries


def emit(entries, src_name):
    total = sum(len(e["data"]) for e in entries)
    gz_total = sum(len(e["gz"]) for e in entries if e["gz"] is not None)
    gz_count = sum(1 for e in entries if e["gz"] is not None)
    out = [
        "/*",
        " * Generated by scripts/romfs-pack.py from %s; do not edit." % src_name,
        " * %d files (%d bytes), %d gzip variants (%d bytes)."
        % (len(entries), total, gz_count, gz_total),
        " */",
        '#include "romfs.h"',
        "",
    ]
    types = sorted({e["type"] for e in entries})
    for t in types:
        assert len(t) <= TYPE_MAX
    type_name = {t: "type_%d" % i for i, t in enumerate(types)}
    for t in types:
        out.append("static const char %s[] = %s;" % (type_name[t], c_string(t)))
    out.append("")
    for i, e in enumerate(entries):
        if e["data"]:
            out.append(c_bytes("data_%d" % i, e["data"]))
        if e["gz"] is not None:
            out.append(c_bytes("gz_%d" % i, e["gz"]))
    out.append("")
    if entries:
        out.append("const struct romfs_file romfs_files[%d] = {" % len(entries))
        for i, e in enumerate(entries):
            out.extend(entry_lines(i, e, type_name[e["type"]]))
        out.append("};")
    else:
        # C has no empty arrays; romfs_count keeps this one unread.
        out.append("const struct romfs_file romfs_files[1] = { { 0 } };")
    out.append("const unsigned romfs_count = %d;" % len(entries))
    return "\n".join(out) + "\n"


def entry_lines(i, e, type_ref):
    gz = e["gz"]
    return [
        "\t{",
        "\t\t.path = %s," % c_string(e["path"]),
        "\t\t.type = %s," % type_ref,
        "\t\t.etag = %s," % c_string(etag(e["data"])),
        "\t\t.gz_etag = %s," % (c_string(etag(gz)) if gz is not None else "NULL"),
        "\t\t.data = %s," % ("data_%d" % i if e["data"] else '(const uint8_t *)""'),
        "\t\t.gz = %s," % ("gz_%d" % i if gz is not None else "NULL"),
        "\t\t.len = %du," % len(e["data"]),
        "\t\t.gz_len = %du," % (len(gz) if gz is not None else 0),
        "\t\t.path_len = %d," % len(e["path"]),
        "\t},",
    ]


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(
        description="Pack a folder of assets into C const data (core/romfs.h).")
    ap.add_argument("dir", help="folder of assets")
    ap.add_argument("out", help="C file to write")
    ap.add_argument("--gzip-min", type=int, default=1, metavar="N",
                    help="store gzip only when at least N bytes smaller (default 1)")
    args = ap.parse_args(argv)
    if args.gzip_min < 1:
        ap.error("--gzip-min must be at least 1")
    try:
        entries = load(walk(args.dir), args.gzip_min)
        text = emit(entries, os.path.basename(os.path.normpath(args.dir)))
        write_atomic(args.out, text)
    except PackError as e:
        print("romfs-pack: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("romfs-pack: %s: %s" % (e.filename or args.out, e.strerror),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
