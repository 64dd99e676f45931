"""Configuration: the seed's examples are accepted as written, bad lines
are rejected naming the line -- at run time (--conf) and at build time
(a bad route file fails `make`) -- and the host program's basic options."""

import os
import re

import pytest

import support
from support import run

SEED_SINGLE = ["ProxyPass /myapp/ fcgi://localhost:4000/"]
SEED_NOREUSE = ["ProxyPass /myapp/ fcgi://localhost:4000/ disablereuse=on"]
SEED_BALANCER = [
    "ProxyPass /myapp/ balancer://myappcluster/",
    "<Proxy balancer://myappcluster/>",
    "BalancerMember fcgi://localhost:4000/",
    "BalancerMember fcgi://localhost:4001/",
    "</Proxy>",
]
BUILD_TIMEOUT = 120


@pytest.fixture(scope="module")
def fcgate():
    if not support.FCGATE_BIN.is_file():
        pytest.fail(f"fcgate not found at {support.FCGATE_BIN}: build it first", pytrace=False)
    return support.FCGATE_BIN


def check_config(binary, lines):
    argv = [binary, "--check-config"]
    for line in lines:
        argv += ["--conf", line]
    return run(argv, timeout=10)


def test_seed_single_instance(fcgate):
    r = check_config(fcgate, SEED_SINGLE)
    assert r.returncode == 0, r.stderr
    assert re.search(r"/myapp/ .*fcgi://localhost:4000/", r.stdout), r.stdout
    assert "reuse=on" in r.stdout


def test_seed_no_reuse(fcgate):
    r = check_config(fcgate, SEED_NOREUSE)
    assert r.returncode == 0, r.stderr
    assert re.search(r"/myapp/ .*fcgi://localhost:4000/", r.stdout), r.stdout
    assert "reuse=off" in r.stdout and "reuse=on" not in r.stdout


@pytest.mark.parametrize("indent", ["", "    ", "\t"], ids=["flat", "spaces", "tab"])
def test_seed_balancer(fcgate, indent):
    lines = [ln if not ln.startswith("BalancerMember") else indent + ln for ln in SEED_BALANCER]
    r = check_config(fcgate, lines)
    assert r.returncode == 0, r.stderr
    assert "myappcluster" in r.stdout
    assert re.search(r"member fcgi://localhost:4000/", r.stdout), r.stdout
    assert re.search(r"member fcgi://localhost:4001/", r.stdout), r.stdout


def test_host_route_file_lines(fcgate):
    r = check_config(fcgate, ["# comment", "", "ProxyPass /app/ fcgi://127.0.0.1:9000/",
                              "Redirect 302 / /app/"])
    assert r.returncode == 0, r.stderr
    assert "/app/" in r.stdout


BAD_LINES = [
    ("unknown directive", "Frobnicate /x/"),
    ("wrong scheme", "ProxyPass /x/ http://127.0.0.1:9000/"),
    ("missing url", "ProxyPass /x/"),
    ("unknown key", "ProxyPass /x/ fcgi://127.0.0.1:9000/ nosuchkey=1"),
    ("bad port", "ProxyPass /x/ fcgi://127.0.0.1:99999/"),
    ("bad timeout", "ProxyPass /x/ fcgi://127.0.0.1:9000/ timeout=soon"),
    ("member outside proxy", "BalancerMember fcgi://127.0.0.1:9000/"),
]


@pytest.mark.parametrize("bad", [b[1] for b in BAD_LINES], ids=[b[0] for b in BAD_LINES])
def test_bad_line_names_its_number(fcgate, bad):
    lines = ["# routes", "ProxyPass /ok/ fcgi://127.0.0.1:9000/", bad]
    r = check_config(fcgate, lines)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "--conf:3:" in r.stderr, r.stderr
    assert r.stdout == "", "nothing is printed for a configuration that failed"


@pytest.mark.parametrize("lines", [
    ["ProxyPass /x/ balancer://undefined/"],
    ["<Proxy balancer://c/>", "BalancerMember fcgi://127.0.0.1:9000/"],
], ids=["undefined balancer", "unclosed proxy"])
def test_whole_file_errors(fcgate, lines):
    r = check_config(fcgate, lines)
    assert r.returncode == 1
    assert re.search(r"--conf:\d+: \S", r.stderr), r.stderr


def test_bad_conf_stops_the_gateway_from_starting(fcgate):
    r = run([fcgate, "--listen", "127.0.0.1:0", "--conf", "ProxyPass /x/ gopher://h/"],
            timeout=10)
    assert r.returncode == 1
    assert "--conf:1:" in r.stderr


def test_help_and_version(fcgate):
    r = run([fcgate, "--help"], timeout=10)
    assert r.returncode == 0
    assert "--listen" in r.stdout and "--conf" in r.stdout
    r = run([fcgate, "--version"], timeout=10)
    assert r.returncode == 0
    assert re.match(r"fcgate \d+\.\d+", r.stdout), r.stdout


def test_unknown_option_fails(fcgate):
    r = run([fcgate, "--no-such-option"], timeout=10)
    assert r.returncode != 0
    assert "--no-such-option" in r.stderr


# --- the build -----------------------------------------------------------------

def make_routes(tmp_path, route_lines):
    """Run the build's route step on a route file of our own, in a build
    folder of our own (O=...), so build/host is never touched."""
    route_file = tmp_path / "test.routes"
    route_file.write_text("".join(line + "\n" for line in route_lines))
    out = tmp_path / "build"
    r = run(["make", "-C", support.ROOT, f"O={out}", f"ROUTE_FILE={route_file}",
             f"{out}/routes.c"], timeout=BUILD_TIMEOUT)
    return r, route_file, out


def _host_build_stamp():
    binary = support.ROOT / "build" / "host" / "fcgate"
    return binary.stat().st_mtime_ns if binary.exists() else None


def test_bad_route_file_fails_the_build(tmp_path):
    stamp = _host_build_stamp()
    r, route_file, out = make_routes(tmp_path, [
        "# a route file with a mistake on line 3",
        "ProxyPass /ok/ fcgi://127.0.0.1:9000/",
        "ProxyPass /bad/ fcgi://127.0.0.1:9000/ disablereuse=maybe",
        "ProxyPass /later/ fcgi://127.0.0.1:9001/",
    ])
    assert r.returncode != 0, r.stdout
    assert f"{route_file}:3:" in r.stderr + r.stdout, r.stderr
    assert not (out / "routes.c").exists(), "a failed route step must not leave routes.c"
    assert _host_build_stamp() == stamp


def test_seed_route_file_builds(tmp_path):
    r, _, out = make_routes(tmp_path, SEED_SINGLE + ["ProxyPass /other/ balancer://myappcluster/"]
                            + SEED_BALANCER[1:])
    assert r.returncode == 0, r.stderr
    text = (out / "routes.c").read_text()
    assert "route_table_builtin" in text
    assert os.path.getsize(out / "routes.c") > 0
