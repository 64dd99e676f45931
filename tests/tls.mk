# HTTPS checks, included by tests/tests.mk.
#
#   make test-tls-scan  testssl.sh (Debian's testssl.sh, installed when
#                       missing) against the HTTPS listener of build/host/fcgate;
#                       fails when SSLv2, SSLv3, TLS 1.0 or 1.1 is offered, when
#                       a NULL, anonymous, export, LOW, 3DES/IDEA, RC4 or CBC
#                       suite is, or when a suite lacks forward secrecy.
#                       Output: build/tls/testssl.txt (and .json)
#   make bench-tls      full and resumed TLS handshakes per second against
#                       build/host/fcgate (openssl s_time -new / -reuse for
#                       BENCH_TLS_TIME seconds, with 1 and BENCH_TLS_CLIENTS
#                       clients), as markdown on stdout and in build/tls/bench.md
#   make test-qemu-tls  the HTTPS cases of tests/firmware/test_https.py
#                       against the QEMU image (host port -> guest 443)
#
# The gateway and fcgi-testapp run on free loopback ports and are stopped by
# PID when the recipe ends, whatever happened; their logs are in build/tls/.

TLS_OUT := build/tls
TLS_GW := build/host/fcgate
TLS_SCAN_TIMEOUT ?= 300
BENCH_TLS_TIME ?= 10
BENCH_TLS_CLIENTS ?= 4

.PHONY: test-tls-scan bench-tls test-qemu-tls tls-need-testssl

# Like tests/bench: the gateway on CPU 0, the clients on CPU 1 (when there is one).
TLS_NPROC := $(shell nproc 2>/dev/null || echo 1)
TLS_PIN_GW := $(if $(filter-out 1,$(TLS_NPROC)),taskset -c 0)
TLS_PIN_LOAD := $(if $(filter-out 1,$(TLS_NPROC)),taskset -c 1)
TLS_PIN_TEXT := $(if $(filter-out 1,$(TLS_NPROC)),gateway on CPU 0 and clients on CPU 1,unpinned: one CPU)

# Shell text that starts fcgi-testapp and $(TLS_GW) (behind the prefix $(1),
# e.g. taskset) with an HTTPS listener, both on free loopback ports, in the
# background. It leaves their PIDs in app and gw and the HTTPS port in
# tls_port, and stops both by PID when the shell exits. End it with "\" in
# the recipe: the rest of the recipe must run in the same shell.
define tls_start_gw
mkdir -p $(TLS_OUT); \
app=; gw=; \
trap 'for p in $$gw $$app; do kill $$p 2>/dev/null; wait $$p 2>/dev/null; done' EXIT; \
: > $(TLS_OUT)/testapp.log; : > $(TLS_OUT)/fcgate.log; \
$(A)/fcgi-testapp --listen 127.0.0.1:0 > $(TLS_OUT)/testapp.log 2>&1 & app=$$!; \
app_port=; \
for i in $$(seq 100); do \
	app_port=$$(sed -n 's/^testapp listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' $(TLS_OUT)/testapp.log); \
	[ -n "$$app_port" ] && break; sleep 0.05; \
done; \
[ -n "$$app_port" ] || { echo "error: fcgi-testapp did not start:" >&2; cat $(TLS_OUT)/testapp.log >&2; exit 1; }; \
$(1) $(TLS_GW) --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 \
	--conf "ProxyPass / fcgi://127.0.0.1:$$app_port/" > $(TLS_OUT)/fcgate.log 2>&1 & gw=$$!; \
tls_port=; \
for i in $$(seq 100); do \
	tls_port=$$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (TLS)$$/\1/p' $(TLS_OUT)/fcgate.log); \
	[ -n "$$tls_port" ] && break; sleep 0.05; \
done; \
[ -n "$$tls_port" ] || { echo "error: fcgate did not listen for HTTPS:" >&2; cat $(TLS_OUT)/fcgate.log >&2; exit 1; };
endef

tls-need-testssl:
	@command -v testssl >/dev/null 2>&1 || { \
		echo "testssl is missing: installing Debian's testssl.sh"; \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends testssl.sh || \
		{ $$SUDO apt-get update -q; DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
			--no-install-recommends testssl.sh; }; }
	@command -v testssl >/dev/null 2>&1 || { echo "error: testssl is still missing" >&2; exit 1; }

# What testssl must report (lines of its text output, as extended regular
# expressions): each protocol and weak category "not offered", forward
# secrecy offered, no RC4.
TLS_SCAN_MUST := \
	'^ SSLv2 +not offered' \
	'^ SSLv3 +not offered' \
	'^ TLS 1 +not offered' \
	'^ TLS 1\.1 +not offered' \
	'^ TLS 1\.2 +offered' \
	'^ NULL ciphers .* not offered' \
	'^ Anonymous NULL Ciphers .* not offered' \
	'^ Export ciphers .* not offered' \
	'^ LOW: 64 Bit .* not offered' \
	'^ Triple DES Ciphers / IDEA +not offered' \
	'^ Obsolete CBC ciphers .* not offered' \
	'^ PFS is offered \(OK\)' \
	'^ RC4 \(CVE-2013-2566, CVE-2015-2808\) +no RC4 ciphers detected'

# -p protocols, -s cipher categories, -f forward secrecy, -P the server's
# picks, -S server defaults, -U vulnerabilities, -E every suite per protocol
# (the table the suite checks below read). 20-40 s on the host.
TLS_SCAN_OPTS := --quiet --color 0 --warnings off --nodns none --connect-timeout 5 \
	--openssl-timeout 10 -p -s -f -P -S -U -E

test-tls-scan: apps tls-need-testssl
	$(MAKE) CONFIG=host
	@$(call tls_start_gw,) \
	out=$(TLS_OUT)/testssl.txt; rm -f $$out $(TLS_OUT)/testssl.json; \
	echo "testssl against 127.0.0.1:$$tls_port (output: $$out)"; \
	timeout $(TLS_SCAN_TIMEOUT) testssl $(TLS_SCAN_OPTS) --jsonfile $(TLS_OUT)/testssl.json \
		127.0.0.1:$$tls_port > $$out 2>&1; rc=$$?; \
	[ $$rc -eq 0 ] || { echo "error: testssl exited with $$rc:" >&2; tail -20 $$out >&2; exit 1; }; \
	fail=0; \
	for re in $(TLS_SCAN_MUST); do \
		grep -Eq "$$re" $$out || { echo "FAIL: no line matching /$$re/" >&2; fail=1; }; \
	done; \
	suites=$$(grep -Ec '^ x[0-9a-f]+ ' $$out); \
	[ "$$suites" -gt 0 ] || { echo "FAIL: no cipher suite listed (-E)" >&2; fail=1; }; \
	nofs=$$(grep -E '^ x[0-9a-f]+ ' $$out | awk '$$3 != "ECDH" && $$3 != "DH"'); \
	[ -z "$$nofs" ] || { echo "FAIL: suites without forward secrecy:" >&2; echo "$$nofs" >&2; fail=1; }; \
	weak=$$(grep -E '^ x[0-9a-f]+ ' $$out | grep -Ev 'GCM|CHACHA20|POLY1305' || true); \
	[ -z "$$weak" ] || { echo "FAIL: suites other than AES-GCM and ChaCha20-Poly1305:" >&2; \
		echo "$$weak" >&2; fail=1; }; \
	sed -n -e '/^ SSLv2 /,/^ ALPN/p' -e '/^ NULL ciphers/,/^ Strong encryption/p' \
		-e '/^ PFS is offered/p' -e '/^ x[0-9a-f]* /p' $$out; \
	[ $$fail -eq 0 ] && echo "test-tls-scan: OK ($$suites suites, all ECDHE with AEAD; no protocol below TLS 1.2)"; \
	exit $$fail

# One measurement: $$1 clients of "openssl s_time -$$2" for BENCH_TLS_TIME s;
# prints "handshakes-per-second server-CPU-microseconds-per-handshake reused-percent".
define tls_bench_fn
bench() { \
	n=$$1; mode=$$2; pids=; hz=$$(getconf CLK_TCK); \
	c0=$$(awk '{print $$14 + $$15}' /proc/$$gw/stat); t0=$$(date +%s.%N); \
	for i in $$(seq $$n); do \
		$(TLS_PIN_LOAD) openssl s_time -connect 127.0.0.1:$$tls_port -$$mode \
			-time $(BENCH_TLS_TIME) > $(TLS_OUT)/s_time-$$mode-$$n-$$i.txt 2>&1 & pids="$$pids $$!"; \
	done; \
	for p in $$pids; do wait $$p || { echo "error: s_time failed, see $(TLS_OUT)/s_time-*" >&2; exit 1; }; done; \
	t1=$$(date +%s.%N); c1=$$(awk '{print $$14 + $$15}' /proc/$$gw/stat); \
	cat $(TLS_OUT)/s_time-$$mode-$$n-*.txt | awk -v t0=$$t0 -v t1=$$t1 -v c0=$$c0 -v c1=$$c1 -v hz=$$hz ' \
		/connections in [0-9]+ real seconds/ { conns += $$1 } \
		/^[*r]+$$/ { reused += gsub(/r/, "r"); fresh += gsub(/[*]/, "*") } \
		END { if (conns == 0 || reused + fresh == 0) exit 1; \
			printf "%.0f %.0f %.0f\n", conns / (t1 - t0), (c1 - c0) / hz * 1e6 / conns, \
				100 * reused / (reused + fresh) }'; \
};
endef

bench-tls: apps
	$(MAKE) CONFIG=host
	@$(call tls_start_gw,$(TLS_PIN_GW)) \
	$(tls_bench_fn) \
	md=$(TLS_OUT)/bench.md; \
	{ echo "TLS handshakes against $(TLS_GW) ($(TLS_PIN_TEXT)), openssl s_time, $(BENCH_TLS_TIME) s each"; \
	  echo; \
	  echo "| handshake | clients | handshakes/s | gateway CPU per handshake | resumed |"; \
	  echo "|---|---|---|---|---|"; } > $$md; \
	for row in "full new 1" "full new $(BENCH_TLS_CLIENTS)" "resumed reuse 1" "resumed reuse $(BENCH_TLS_CLIENTS)"; do \
		set -- $$row; r=$$(bench $$3 $$2) || exit 1; set -- $$1 $$3 $$r; \
		printf '| %s | %s | %s | %s µs | %s %% |\n' $$1 $$2 $$3 $$4 $$5 >> $$md; \
	done; \
	cat $$md

# The QEMU image with its HTTPS listener: fcgi-testapp on 127.0.0.1:9000
# (which must be free), the image booted by tests/firmware/fwtarget.py with
# a second host port forwarded to guest port 443.
test-qemu-tls: fw-need-qemu apps
	$(MAKE) CONFIG=qemu-mps2-an385
	@rc=0; rm -f $(FW_LOGDIR)/https-handshake.txt; \
	$(call fw_env,qemu,$(FW_QEMU_DIR)/fcgate.elf,$(FW_QEMU_DIR)) \
		$(PY) -m pytest tests/firmware/test_https.py || rc=1; \
	cat $(FW_LOGDIR)/https-handshake.txt 2>/dev/null; \
	exit $$rc
