"""Balancers as in the seed: ProxyPass PREFIX balancer://NAME/ with a
<Proxy balancer://NAME/> block of BalancerMember lines (lbmethod
byrequests by default), counted by each member's /stats."""

import time

import pytest

from httpc import Conn, build_request
from support import app_stats, free_port, gateway_status, status_member


def app_requests(app):
    """Requests the app has begun, not counting this question itself."""
    return app_stats(app)["requests"] - 1


def served(apps, action):
    """How many requests each app got while action() ran."""
    before = [app_requests(a) for a in apps]
    action()
    # Each later stats call counts itself too, hence the extra -1.
    return [app_requests(a) - b - 1 for a, b in zip(apps, before)]


def balancer_conf(members, name="pair"):
    return [f"ProxyPass /b/ balancer://{name}/", f"<Proxy balancer://{name}/>"] \
        + [f"BalancerMember {m}" for m in members] + ["</Proxy>"]


def send(gw, n, path="/b/env"):
    def go():
        for i in range(n):
            r = gw.get(f"{path}?i={i}")
            assert r.status == 200, r
            assert f"QUERY_STRING=i={i}\n".encode() in r.body
    return go


def test_byrequests_spreads_evenly(gateway, testapp_pair):
    gw = gateway(*balancer_conf([a.url() for a in testapp_pair]))
    counts = served(testapp_pair, send(gw, 20))
    assert sum(counts) == 20
    assert abs(counts[0] - counts[1]) <= 2, counts


def test_lbfactor_weights(gateway, testapp_pair):
    a, b = testapp_pair
    gw = gateway(*balancer_conf([f"{a.url()} lbfactor=3", f"{b.url()} lbfactor=1"]))
    counts = served(testapp_pair, send(gw, 40))
    assert sum(counts) == 40
    assert 27 <= counts[0] <= 33, counts


def test_dead_member_is_skipped(gateway, testapp_pair):
    # Apache fails over to another member within the same request; at
    # the least, once a member has failed it is in error (retry=, 60 s by
    # default) and no later request goes to it.
    live = testapp_pair[0]
    dead = f"fcgi://127.0.0.1:{free_port()}/"
    gw = gateway(*balancer_conf([dead, live.url()]))
    statuses = []

    def go():
        for i in range(10):
            statuses.append(gw.get(f"/b/env?i={i}").status)

    counts = served([live], go)
    assert statuses[0] in (200, 502) and statuses[1:] == [200] * 9, statuses
    assert counts == [statuses.count(200)]


def test_no_usable_member_is_503(gateway):
    gw = gateway(*balancer_conf([f"fcgi://127.0.0.1:{free_port()}/",
                                 f"fcgi://127.0.0.1:{free_port()}/"]))
    statuses = {gw.get("/b/env").status for _ in range(3)}
    assert 503 in statuses and statuses <= {502, 503}, statuses


def test_hot_standby_only_when_needed(gateway, testapp_pair):
    primary, standby = testapp_pair
    gw = gateway(*balancer_conf([primary.url(), f"{standby.url()} status=+H"]))
    counts = served(testapp_pair, send(gw, 10))
    assert counts == [10, 0]
    # With the only primary dead, the standby takes over (the very first
    # request may see the primary fail, as in test_dead_member_is_skipped).
    gw2 = gateway(*balancer_conf([f"fcgi://127.0.0.1:{free_port()}/",
                                  f"{standby.url()} status=+H"], name="other"))
    statuses = []

    def go():
        for i in range(5):
            statuses.append(gw2.get(f"/b/env?i={i}").status)

    counts = served([standby], go)
    assert statuses[0] in (200, 502) and statuses[1:] == [200] * 4, statuses
    assert counts == [statuses.count(200)]


@pytest.mark.parametrize("method", ["byrequests", "bybusyness"])
def test_lbmethod_set_with_proxyset(gateway, testapp_pair, method):
    conf = balancer_conf([a.url() for a in testapp_pair])
    conf.append(f"ProxySet balancer://pair lbmethod={method}")
    gw = gateway(*conf)
    counts = served(testapp_pair, send(gw, 10))
    assert sum(counts) == 10


def test_lbfactor_1_to_3_over_400_requests(gateway, testapp_pair):
    a, b = testapp_pair
    gw = gateway(*balancer_conf([f"{a.url()} lbfactor=1", f"{b.url()} lbfactor=3"]))
    counts = served(testapp_pair, send(gw, 400))
    assert sum(counts) == 400
    # Within 5 % of each share of 100:300.
    assert 95 <= counts[0] <= 105 and 285 <= counts[1] <= 315, counts


def test_bybusyness_avoids_the_member_stuck_on_a_slow_request(gateway, testapp_pair):
    conf = balancer_conf([a.url() for a in testapp_pair])
    conf += ["ProxySet balancer://pair lbmethod=bybusyness", "StatusPage /status"]
    gw = gateway(*conf)
    ports = [a.port for a in testapp_pair]
    slow = Conn(gw.port, timeout=10)
    busy = []

    def go():
        slow.send(build_request("GET", "/b/slow?ms=3000"))
        deadline = time.monotonic() + 2
        while not busy and time.monotonic() < deadline:
            st = gateway_status(gw)
            busy.extend(i for i, p in enumerate(ports)
                        if status_member(st, p, "pair")["busy"] == 1)
        assert len(busy) == 1, gateway_status(gw)
        send(gw, 10)()

    try:
        counts = served(testapp_pair, go)
        # The slow request on one member, all 10 quick ones on the other.
        expected = [1, 1]
        expected[1 - busy[0]] = 10
        assert counts == expected, f"slow request on member {busy[0]}; counts {counts}"
        r = slow.read_response()
        assert r.status == 200 and r.body == b"slow done\n", r
    finally:
        slow.close()
