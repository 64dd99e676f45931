"""A minimal FastCGI 1.0 client, to talk to the apps without the gateway.

Used by test_peers.py to prove each app fixture works on its own, so that
a failing gateway test points at the gateway, not at its peer.
"""

import socket
import struct

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1
FCGI_HEADER = struct.Struct(">BBHHBB")
FCGI_MAX_CONTENT = 65535
REQUEST_ID = 1


def _record(rtype, content):
    return FCGI_HEADER.pack(FCGI_VERSION_1, rtype, REQUEST_ID, len(content), 0, 0) + content


def _stream(rtype, data):
    out = b""
    for i in range(0, len(data), FCGI_MAX_CONTENT):
        out += _record(rtype, data[i:i + FCGI_MAX_CONTENT])
    return out + _record(rtype, b"")


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    out = b""
    for name, value in params:
        n, v = name.encode("latin-1"), value.encode("latin-1")
        out += _length(len(n)) + _length(len(v)) + n + v
    return out


class Result:
    def __init__(self):
        self.stdout = b""
        self.stderr = b""
        self.app_status = None
        self.protocol_status = None

    def split(self):
        """(CGI header lines, body) of stdout."""
        head, sep, body = self.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = self.stdout.partition(b"\n\n")
        lines = [ln.rstrip(b"\r").decode("latin-1") for ln in head.split(b"\n") if ln]
        return lines, body


def request(port, params, stdin=b"", timeout=10.0):
    """One RESPONDER request on a fresh connection (no KEEP_CONN)."""
    begin = struct.pack(">HB5x", FCGI_RESPONDER, 0)
    msg = _record(FCGI_BEGIN_REQUEST, begin)
    msg += _stream(FCGI_PARAMS, encode_params(params))
    msg += _stream(FCGI_STDIN, stdin)
    res = Result()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(msg)
        buf = b""
        while True:
            while len(buf) >= FCGI_HEADER.size:
                _, rtype, _, clen, plen, _ = FCGI_HEADER.unpack_from(buf)
                if len(buf) < FCGI_HEADER.size + clen + plen:
                    break
                content = buf[FCGI_HEADER.size:FCGI_HEADER.size + clen]
                buf = buf[FCGI_HEADER.size + clen + plen:]
                if rtype == FCGI_STDOUT:
                    res.stdout += content
                elif rtype == FCGI_STDERR:
                    res.stderr += content
                elif rtype == FCGI_END_REQUEST:
                    res.app_status, res.protocol_status = struct.unpack(">IB", content[:5])
                    return res
            data = s.recv(1 << 16)
            if not data:
                raise AssertionError("app closed the connection before FCGI_END_REQUEST")
            buf += data


def cgi_params(method, prefix, rest, docroot, query="", extra=()):
    """The meta-variables the gateway sends for PREFIX/REST?QUERY (REST is
    already decoded), per the design; used to ask the apps directly."""
    uri = prefix + "/" + rest + ("?" + query if query else "")
    params = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_SOFTWARE", "fcgi-client-test"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", "80"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REQUEST_METHOD", method),
        ("REQUEST_URI", uri),
        ("QUERY_STRING", query),
        ("SCRIPT_NAME", prefix),
        ("PATH_INFO", "/" + rest),
        ("DOCUMENT_ROOT", docroot),
        ("SCRIPT_FILENAME", docroot + rest),
    ]
    return params + list(extra)
