"""A small raw-socket HTTP/1.x client for protocol assertions.

It sends exactly the bytes it is given and parses what comes back strictly
(status line, header fields, Content-Length / chunked / close-delimited
bodies), so a test can see framing the way a client would: how the body
was delimited, each chunk size, and whether the server closed the
connection afterwards. Every socket has a timeout: a test never hangs.
"""

import socket
import time

DEFAULT_TIMEOUT = 5.0
RECV_SIZE = 1 << 20
CRLF = b"\r\n"
HEX_DIGITS = b"0123456789abcdefABCDEF"


class ProtocolError(AssertionError):
    """The server sent something that is not valid HTTP/1.x framing."""


class ShortRead(ProtocolError):
    """The connection closed before a framed body was complete."""

    def __init__(self, have, want):
        super().__init__(f"connection closed after {have} of {want} bytes")
        self.have = have
        self.want = want


class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []           # [(name, value)] in received order
        self.body = b""
        self.framing = ""           # "length", "chunked", "close" or "none"
        self.chunk_sizes = []       # sizes of the chunks, final 0 excluded
        self.trailers = []
        self.interim = []           # 1xx responses seen before this one
        self.raw_head = b""

    def header(self, name):
        """The value of the only field called name, or None.

        Fails when the field appears more than once, so a test cannot
        overlook a duplicate."""
        values = self.header_all(name)
        if len(values) > 1:
            raise AssertionError(f"header {name} appears {len(values)} times: {values}")
        return values[0] if values else None

    def header_all(self, name):
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def header_names(self):
        return [n.lower() for n, _ in self.headers]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return (f"<Response {self.status} {self.reason!r} framing={self.framing} "
                f"headers={self.headers!r} body={self.body[:200]!r}"
                f"{'...' if len(self.body) > 200 else ''}>")


def build_request(method, target, headers=None, body=None, version="HTTP/1.1",
                  host="127.0.0.1"):
    """Bytes of one request. A Host field and, for a body, a Content-Length
    are added unless the caller gave them (by any capitalisation)."""
    headers = list(headers or [])
    names = {n.lower() for n, _ in headers}
    if "host" not in names and version == "HTTP/1.1":
        headers.insert(0, ("Host", host))
    if body is not None and "content-length" not in names \
            and "transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    head = f"{method} {target} {version}\r\n".encode("latin-1")
    for n, v in headers:
        head += n.encode("latin-1") + b": " + (v if isinstance(v, bytes) else v.encode("latin-1")) + CRLF
    head += CRLF
    return head + (body or b"")


def chunked(parts):
    """Encode parts (bytes) as a chunked message body."""
    out = b""
    for p in parts:
        if p:
            out += b"%x\r\n" % len(p) + p + CRLF
    return out + b"0\r\n\r\n"


class Conn:
    """One client connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT, host="127.0.0.1"):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def local_port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, target, headers=None, body=None, version="HTTP/1.1"):
        self.send(build_request(method, target, headers, body, version))
        return self.read_response(method)

    def get(self, target, headers=None):
        return self.request("GET", target, headers)

    # --- reading -------------------------------------------------------

    def _fill(self):
        """Read more bytes into buf; False at end of stream."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(RECV_SIZE)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _read_line(self, limit=1 << 20):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                if not line.endswith(CRLF):
                    raise ProtocolError(f"line not ended by CRLF: {line[:200]!r}")
                return line[:-2]
            if len(self.buf) > limit:
                raise ProtocolError("line too long")
            if not self._fill():
                raise ProtocolError(f"connection closed inside a line: {bytes(self.buf[:200])!r}")

    def _read_exact(self, n):
        if len(self.buf) >= n:
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out
        parts = [bytes(self.buf)]
        have = len(self.buf)
        self.buf = bytearray()
        while have < n:
            try:
                data = self.sock.recv(min(RECV_SIZE, max(n - have, 65536)))
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                raise ShortRead(have, n)
            parts.append(data)
            have += len(data)
        data = b"".join(parts)
        self.buf = bytearray(data[n:])
        return data[:n]

    def _read_to_close(self):
        while self._fill():
            pass
        out = bytes(self.buf)
        self.buf = bytearray()
        return out

    def read_head(self):
        """Status line and header fields of the next response (1xx included)."""
        resp = Response()
        line = self._read_line()
        raw = [line]
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or len(parts[1]) != 3 \
                or not parts[1].isdigit():
            raise ProtocolError(f"bad status line: {line!r}")
        resp.version = parts[0]
        resp.status = int(parts[1])
        resp.reason = parts[2] if len(parts) > 2 else ""
        while True:
            line = self._read_line()
            raw.append(line)
            if not line:
                break
            if line[:1] in (b" ", b"\t"):
                raise ProtocolError(f"obs-fold in response: {line!r}")
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line: {line!r}")
            resp.headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        resp.raw_head = CRLF.join(raw) + CRLF
        return resp

    def read_response(self, method="GET"):
        """Read one complete response, skipping (and keeping) 1xx ones."""
        interim = []
        while True:
            resp = self.read_head()
            if 100 <= resp.status < 200 and resp.status != 101:
                interim.append(resp)
                continue
            break
        resp.interim = interim
        self._read_body(resp, method)
        return resp

    def _read_body(self, resp, method):
        te = resp.header_all("Transfer-Encoding")
        cl = resp.header_all("Content-Length")
        if te and cl:
            raise ProtocolError(f"both Transfer-Encoding and Content-Length: {resp!r}")
        if len(set(cl)) > 1:
            raise ProtocolError(f"conflicting Content-Length: {cl}")
        if method == "HEAD" or resp.status in (204, 304):
            resp.framing = "none"
            return
        if te:
            if [t.strip().lower() for t in ",".join(te).split(",")] != ["chunked"]:
                raise ProtocolError(f"unexpected Transfer-Encoding: {te}")
            resp.framing = "chunked"
            resp.body = self._read_chunked(resp)
        elif cl:
            if not cl[0].isdigit():
                raise ProtocolError(f"bad Content-Length: {cl[0]!r}")
            resp.framing = "length"
            resp.body = self._read_exact(int(cl[0]))
        else:
            resp.framing = "close"
            resp.body = self._read_to_close()

    def _read_chunked(self, resp):
        parts = []
        while True:
            line = self._read_line()
            size_txt = line.split(b";", 1)[0].rstrip(b" \t")
            if not size_txt or size_txt.strip(HEX_DIGITS):
                raise ProtocolError(f"bad chunk size line: {line!r}")
            size = int(size_txt, 16)
            if size == 0:
                break
            parts.append(self._read_exact(size))
            resp.chunk_sizes.append(size)
            if self._read_exact(2) != CRLF:
                raise ProtocolError("chunk data not followed by CRLF")
        while True:
            line = self._read_line()
            if not line:
                break
            resp.trailers.append(line)
        return b"".join(parts)

    def closed_by_peer(self, wait=2.0):
        """True when the server has closed (or reset) the connection within
        wait seconds with no further bytes; False when it stays open (or
        sends more bytes, which are kept in buf)."""
        if self.eof:
            return True
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(RECV_SIZE)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = True
            return True
        finally:
            try:
                self.sock.settimeout(DEFAULT_TIMEOUT)
            except OSError:
                pass
        if not data:
            self.eof = True
            return True
        self.buf += data
        return False

    def read_until_close(self, limit_s=DEFAULT_TIMEOUT):
        """Everything until the server closes; fails after limit_s."""
        deadline = time.monotonic() + limit_s
        while not self.eof:
            if time.monotonic() > deadline:
                raise AssertionError("server did not close the connection")
            self._fill()
        out = bytes(self.buf)
        self.buf = bytearray()
        return out


def request(port, method, target, headers=None, body=None, version="HTTP/1.1",
            timeout=DEFAULT_TIMEOUT):
    """One request on a fresh connection; returns the Response."""
    with Conn(port, timeout) as c:
        return c.request(method, target, headers, body, version)


def get(port, target, headers=None, timeout=DEFAULT_TIMEOUT):
    return request(port, "GET", target, headers, timeout=timeout)


def parse_env(body):
    """NAME=VALUE lines into (dict of first values, list of pairs in order)."""
    pairs = []
    for line in body.decode("latin-1").split("\n"):
        if not line:
            continue
        name, sep, value = line.partition("=")
        assert sep, f"not a NAME=VALUE line: {line!r}"
        pairs.append((name, value))
    env = {}
    for n, v in pairs:
        env.setdefault(n, v)
    return env, pairs
