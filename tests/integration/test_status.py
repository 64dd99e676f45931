"""The status page (StatusPage PATH): its JSON must match what the test
did, counted independently by the test itself and by the apps' /stats."""

import json
import socket
import time

import pytest

import httpc
from support import (LOOPBACK, app_stats, gateway_status, spawn_testapp,
                     status_member)

STATUS = "StatusPage /status"
KEYS = {"uptime_s", "clients", "backends", "requests", "errors", "bytes_in",
        "bytes_out", "members"}
MEMBER_KEYS = {"address", "state", "busy", "connections", "max", "learned_max",
               "requests", "failures", "reused", "opened"}


@pytest.fixture
def pair(tmp_path):
    apps = []
    try:
        for i in range(2):
            apps.append(spawn_testapp(f"status-app{i}", tmp_path))
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield apps
    for app in apps:
        app.proc.stop()


@pytest.fixture
def refused():
    """A port bound but not listening: every connect to it is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((LOOPBACK, 0))
    yield s.getsockname()[1]
    s.close()


class Counted:
    """A client that counts the bytes it sends and receives: one request
    per connection (Connection: close), read to the end."""

    def __init__(self, gw):
        self.gw = gw
        self.sent = 0
        self.received = 0

    def get(self, target):
        """(status, body, bytes received) of GET target."""
        raw = httpc.build_request("GET", target, [("Connection", "close")])
        with httpc.Conn(self.gw.port) as c:
            c.send(raw)
            data = c.read_until_close()
        self.sent += len(raw)
        self.received += len(data)
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body, len(data)


def status_on(conn):
    """The status page asked on an open keep-alive connection: then the
    one busy client slot is this connection's."""
    r = conn.get("/status")
    assert r.status == 200, r
    return json.loads(r.body)


def test_status_page_shape(gateway, pair):
    gw = gateway(STATUS, pair[0].route("/a/"))
    r = gw.get("/status")
    assert r.status == 200 and r.header("Content-Type").startswith("application/json"), r
    with gw.conn() as c:
        st = status_on(c)
        for _ in range(20):         # earlier connections are reaped as they close
            if st["clients"]["busy"] == 1:
                break
            time.sleep(0.05)
            st = status_on(c)
    assert set(st) == KEYS, st
    assert set(st["clients"]) == {"busy", "free"}
    assert set(st["backends"]) == {"busy", "idle", "free"}
    assert len(st["members"]) == 1 and set(st["members"][0]) == MEMBER_KEYS, st
    # The question being answered is the one busy client.
    assert st["clients"]["busy"] == 1, st
    assert st["backends"] == {"busy": 0, "idle": 0, "free": st["backends"]["free"]}
    assert st["requests"] >= 2 and st["errors"] == 0, st


def test_status_counts_match_what_was_done(gateway, pair, refused):
    a1, a2 = pair
    gw = gateway(STATUS, a1.route("/a/"), f"ProxyPass /x/ fcgi://127.0.0.1:{refused}/",
                 "ProxyPass /b/ balancer://two/", "<Proxy balancer://two/>",
                 f"BalancerMember {a1.url()}", f"BalancerMember {a2.url()}", "</Proxy>")
    before = [app_stats(a) for a in pair]
    client = Counted(gw)
    assert client.get("/status")[0] == 200
    lone_n, bal_n, dead_n = 30, 40, 3
    for i in range(lone_n):
        assert client.get(f"/a/env?i={i}")[0] == 200
    for i in range(bal_n):
        assert client.get(f"/b/env?i={i}")[0] == 200
    for i in range(dead_n):         # a lone member: retry=0, so each one tries
        assert client.get(f"/x/env?i={i}")[0] == 502
    for i in range(2):              # an app's own 404 is no gateway error
        assert client.get(f"/a/nothing?i={i}")[0] == 404
    after = [app_stats(a) for a in pair]
    code, body, last_len = client.get("/status")
    assert code == 200
    st = json.loads(body)

    sent_requests = 1 + lone_n + bal_n + dead_n + 2 + 1
    assert st["requests"] == sent_requests, st
    assert st["errors"] == dead_n, st
    # Bytes in: every byte the clients sent, this question included.
    assert st["bytes_in"] == client.sent, (st["bytes_in"], client.sent)
    # Bytes out: every byte of the earlier answers; this one is being
    # written while it is counted, so it is not in yet.
    assert st["bytes_out"] == client.received - last_len, \
        (st["bytes_out"], client.received, last_len)

    lone = status_member(st, a1.port)
    m1, m2 = status_member(st, a1.port, "two"), status_member(st, a2.port, "two")
    dead = status_member(st, refused)
    assert lone["requests"] == lone_n + 2, lone
    assert m1["requests"] + m2["requests"] == bal_n and m1["requests"] == m2["requests"], (m1, m2)
    for m in (lone, m1, m2):
        assert m["failures"] == 0 and m["busy"] == 0 and m["state"] == "ok", m
        assert m["reused"] + m["opened"] == m["requests"], m
        assert m["opened"] >= 1 and m["connections"] <= m["opened"], m
    assert dead["failures"] == dead_n and dead["busy"] == 0 and dead["connections"] == 0, dead
    assert dead["state"] == "ok", dead     # retry=0: never held in error

    # The apps saw what the gateway says it sent them.
    served = [b["requests"] - a["requests"] - 1 for a, b in zip(before, after)]
    assert served == [lone["requests"] + m1["requests"], m2["requests"]], (served, st)
    conns = [b["connections"] - a["connections"] - 1 for a, b in zip(before, after)]
    assert conns == [lone["opened"] + m1["opened"], m2["opened"]], (conns, st)
    probes = [b["get_values"] - a["get_values"] for a, b in zip(before, after)]
    assert probes == conns, probes
    assert st["backends"]["idle"] == lone["connections"] + m1["connections"] + m2["connections"]
    assert st["backends"]["busy"] == 0, st


def test_status_counts_failover_and_no_usable_member(gateway, pair, refused):
    live = pair[0]
    gw = gateway(STATUS, "ProxyPass /b/ balancer://f/", "<Proxy balancer://f/>",
                 f"BalancerMember fcgi://127.0.0.1:{refused}/",
                 f"BalancerMember {live.url()}", "</Proxy>",
                 "ProxyPass /n/ balancer://none/", "<Proxy balancer://none/>",
                 f"BalancerMember fcgi://127.0.0.1:{refused}/", "</Proxy>")
    statuses = [gw.get(f"/b/env?i={i}").status for i in range(10)]
    # A refused connect moves on to the next member within the request.
    assert statuses == [200] * 10, statuses
    none = [gw.get(f"/n/env?i={i}").status for i in range(4)]
    assert none[0] in (502, 503) and none[1:] == [503] * 3, none
    st = gateway_status(gw)
    dead_b = status_member(st, refused, "f")
    ok_b = status_member(st, live.port, "f")
    dead_n = status_member(st, refused, "none")
    assert dead_b["state"] == "error" and dead_b["failures"] == 1, dead_b
    assert ok_b["requests"] == 10 and ok_b["failures"] == 0, ok_b
    assert dead_n["state"] == "error" and dead_n["failures"] == 1, dead_n
    assert st["errors"] == 4, st
    assert st["requests"] == 10 + 4 + 1, st
