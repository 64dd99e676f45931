"""Fixtures of the integration suite: real FastCGI apps and real gateways.

Session-scoped apps (started once, stopped at the end, by PID):
  testapp   build/apps/fcgi-testapp, the raw protocol test app
  testapp_pair  two more of them, for the balancer
  demo      build/apps/fcgi-demo, the libfcgi app
  php_fpm   Debian's php-fpm8.2 with a pool of our own, docroot = www/
  fcgiwrap  Debian's fcgiwrap running www/env.cgi
Per test:
  gateway   factory: gateway("ProxyPass ...", ..., large=False) starts an
            fcgate on 127.0.0.1:0 with those --conf lines; at teardown it
            is stopped with SIGTERM and must exit 0.

Binaries come from FCGATE_BIN, FCGATE_LARGE_BIN, FCGATE_APPS and
FCGATE_ROOT (see support.py); `make test-integration` sets them all.
"""

import re
import shutil
import stat
import textwrap
import time
from pathlib import Path

import pytest

import support
from support import App, Gateway, Proc, free_port, wait_ready

TESTAPP_READY_RE = re.compile(r"testapp listening on 127\.0\.0\.1:(\d+)")
DEMO_READY_LINE = "demo listening on"
PHP_FPM_NAMES = ("php-fpm8.2", "/usr/sbin/php-fpm8.2")
FCGIWRAP_NAMES = ("fcgiwrap", "/usr/sbin/fcgiwrap")
PHP_WORKERS = 4
PHP_POST_MAX = "64M"


def _which(names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def _require(path, what):
    if not Path(path).is_file():
        pytest.fail(f"{what} not found at {path}: build it first "
                    f"(`make test-integration` builds the gateway and the apps)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fcgate-it")


@pytest.fixture(scope="session")
def docroot(workdir):
    """A copy of www/ (scripts made executable); its path ends with '/',
    ready to be the path of an fcgi:// URL."""
    dst = workdir / "www"
    shutil.copytree(support.WWW, dst)
    for script in dst.glob("*.cgi"):
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(dst) + "/"


def _start_app(name, argv_for_port, workdir, ready_line=None):
    port = free_port()
    proc = Proc(name, argv_for_port(port), workdir / f"{name}.log")
    try:
        wait_ready(proc, port, ready_line)
    except RuntimeError as e:
        proc.stop()
        pytest.fail(str(e), pytrace=False)
    return App(name, port, proc)


def _stop_app(app):
    died = None if app.proc.alive() else app.proc.popen.returncode
    app.proc.stop()
    # An app that died during the session would make later failures
    # puzzling; say so where it is seen.
    assert died is None, f"{app.name} died during the session (exit {died}); {app.proc.describe()}"


def start_testapp(name, logdir):
    """fcgi-testapp on a port it picks itself (--listen 127.0.0.1:0), read
    back from its readiness line."""
    binary = _require(support.APPS / "fcgi-testapp", "fcgi-testapp")
    proc = Proc(name, [binary, "--listen", "127.0.0.1:0"], logdir / f"{name}.log")
    deadline = time.monotonic() + support.APP_START_TIMEOUT
    m = None
    while m is None and proc.alive() and time.monotonic() < deadline:
        m = TESTAPP_READY_RE.search(proc.output())
        if m is None:
            time.sleep(0.02)
    if m is None:
        proc.stop()
        pytest.fail(f"{name} did not print its readiness line; {proc.describe()}",
                    pytrace=False)
    return App(name, int(m.group(1)), proc)


@pytest.fixture(scope="session")
def testapp(workdir):
    app = start_testapp("testapp", workdir)
    yield app
    _stop_app(app)


@pytest.fixture(scope="session")
def testapp_pair(workdir):
    """Two more fcgi-testapp instances, for balancer tests (kept apart from
    `testapp` so that their request counters are theirs alone)."""
    apps = [start_testapp(f"testapp-m{i}", workdir) for i in (1, 2)]
    yield apps
    for app in apps:
        _stop_app(app)


@pytest.fixture(scope="session")
def demo(workdir):
    binary = _require(support.APPS / "fcgi-demo", "fcgi-demo")
    app = _start_app("demo", lambda p: [binary, "--listen", f"127.0.0.1:{p}"], workdir,
                     DEMO_READY_LINE)
    yield app
    _stop_app(app)


@pytest.fixture(scope="session")
def php_fpm(workdir, docroot):
    binary = _which(PHP_FPM_NAMES)
    if not binary:
        pytest.skip("php-fpm8.2 is not installed (Debian package php8.2-fpm; "
                    "`make deps` installs it)")
    rundir = workdir / "php-fpm"
    rundir.mkdir()

    def argv(port):
        conf = rundir / "php-fpm.conf"
        conf.write_text(textwrap.dedent(f"""\
            [global]
            pid = {rundir}/php-fpm.pid
            error_log = {rundir}/error.log
            daemonize = no

            [fcgate]
            listen = 127.0.0.1:{port}
            pm = static
            pm.max_children = {PHP_WORKERS}
            clear_env = yes
            catch_workers_output = yes
            security.limit_extensions = .php
            php_admin_value[post_max_size] = {PHP_POST_MAX}
            php_admin_value[upload_max_filesize] = {PHP_POST_MAX}
            php_admin_value[memory_limit] = 256M
            php_admin_value[error_log] = {rundir}/php-errors.log
            php_admin_flag[log_errors] = on
            php_admin_flag[display_errors] = off
            php_admin_flag[expose_php] = off
            """))
        # -R: the CI runs as root; -F: stay in the foreground, our child.
        return [binary, "-y", conf, "-F", "-R"]

    app = _start_app("php-fpm", argv, workdir)
    app.docroot = docroot
    yield app
    _stop_app(app)


@pytest.fixture(scope="session")
def fcgiwrap(workdir, docroot):
    binary = _which(FCGIWRAP_NAMES)
    if not binary:
        pytest.skip("fcgiwrap is not installed (Debian package fcgiwrap; "
                    "`make deps` installs it)")
    app = _start_app("fcgiwrap", lambda p: [binary, "-c", "2", "-s", f"tcp:127.0.0.1:{p}"],
                     workdir)
    app.docroot = docroot
    yield app
    _stop_app(app)


@pytest.fixture
def gateway(tmp_path):
    """Factory: gateway(*conf_lines, large=False, args=()) -> Gateway.

    Every gateway started is stopped at teardown with SIGTERM and must
    exit 0 within the timeout."""
    started = []

    def start(*conf, large=False, args=()):
        binary = support.FCGATE_LARGE_BIN if large else support.FCGATE_BIN
        _require(binary, "fcgate" + (" (large)" if large else ""))
        gw = Gateway(binary, conf, tmp_path / f"fcgate-{len(started)}.log", args)
        started.append(gw)
        return gw

    yield start
    problems = []
    for gw in started:
        rc = gw.stop()
        if rc != 0 or gw.proc.killed:
            problems.append(f"fcgate exit status {rc} after SIGTERM"
                            f"{' (killed after timeout)' if gw.proc.killed else ''}; "
                            f"{gw.proc.describe()}")
    assert not problems, "\n".join(problems)


def pytest_configure(config):
    support.enable_subreaper()


def pytest_report_header(config):
    return [f"fcgate: {support.FCGATE_BIN}", f"fcgate large: {support.FCGATE_LARGE_BIN}",
            f"apps: {support.APPS}", f"root: {support.ROOT}"]
