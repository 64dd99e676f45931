# Test targets, included by the top Makefile.
#   make test-unit         cmocka unit tests of core modules, ASan+UBSan
#   make test-integration  pytest against real FastCGI apps
#   make test              installs what is missing, then all of the above

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
U := $(B)/unit
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(U)/%)
UNIT_CORE_OBJ := $(CORE_SRC:core/%.c=$(U)/obj/%.o)

$(U)/obj/%.o: core/%.c $(B)/autoconf.h
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

# The core modules each unit test links (the module under test and what
# it needs); anything else is mocked inside the test.
MODS_http := http
MODS_http_chunked := http_chunked
MODS_fcgi := fcgi
MODS_cgi_resp := cgi_resp http
MODS_route := route route_keys route_acl route_text addr
MODS_addr := addr
MODS_cgi := cgi http fcgi log
MODS_log := log
MODS_romfs := romfs

.PRECIOUS: $(U)/obj/%.o
unit_objs = $(patsubst %,$(U)/obj/%.o,$(MODS_$(1)))
.SECONDEXPANSION:
$(U)/test_%: tests/unit/test_%.c $$(call unit_objs,$$*)
	gcc $(CFLAGS_COMMON) -Wno-missing-prototypes -O1 -g $(SAN) -o $@ $^ -lcmocka

-include $(UNIT_CORE_OBJ:.o=.d)

test-unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# FastCGI apps the tests (and `make run`) use; plain host builds.
A := build/apps
APP_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g
APPS := $(A)/fcgi-testapp $(A)/fcgi-demo

$(A)/fcgi-testapp: tests/apps/testapp.c
	@mkdir -p $(A)
	gcc $(APP_CFLAGS) -o $@ $<

# The demo (and the tests' libfcgi peer) is built on Debian's libfcgi.
$(A)/fcgi-demo: tests/apps/demo.c
	@mkdir -p $(A)
	gcc $(APP_CFLAGS) -o $@ $< -lfcgi

apps: $(APPS)

deps:
	bash scripts/deps.sh
	bash scripts/fetch-sources.sh

# The suite against gateway builds DIR/fcgate, DIR-large/fcgate (128 KiB
# heads) and DIR-test/fcgate (32 slots, short timeouts).
run_integration = FCGATE_BIN=$(abspath $(1))/fcgate FCGATE_LARGE_BIN=$(abspath $(1))-large/fcgate \
	FCGATE_TEST_BIN=$(abspath $(1))-test/fcgate \
	FCGATE_APPS=$(abspath $(A)) FCGATE_ROOT=$(CURDIR) $(PY) -m pytest -q tests/integration

test-integration: apps
	$(MAKE) CONFIG=host
	$(MAKE) CONFIG=host-large O=build/host-large
	$(MAKE) CONFIG=host-test O=build/host-test
	$(call run_integration,build/host)

# The same suite against an ASan+UBSan build of the gateway.
test-integration-asan: apps
	$(MAKE) CONFIG=host O=build/host-asan SAN=1
	$(MAKE) CONFIG=host-large O=build/host-asan-large SAN=1
	$(MAKE) CONFIG=host-test O=build/host-asan-test SAN=1
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(call run_integration,build/host-asan)

# The demo admin UI in headless Chromium through the host gateway (artefacts: build/ui-test/).
test-browser: apps
	$(MAKE) CONFIG=host
	FCGATE_BIN=$(abspath build/host)/fcgate FCGATE_APPS=$(abspath $(A)) FCGATE_ROOT=$(CURDIR) \
		$(PY) -m pytest -q -p no:cacheprovider -ra tests/browser

# The ROM packer's own tests.
test-pack:
	$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_romfs_pack.py

test: deps
	$(MAKE) all check-nomalloc
	$(MAKE) CONFIG=host-minimal      # every optional feature compiled out
	$(MAKE) test-unit test-pack
	$(MAKE) test-integration
	$(MAKE) test-integration-asan
	$(MAKE) test-browser
	$(MAKE) test-qemu
	$(MAKE) test-browser-qemu
	$(MAKE) test-host-lwip
	$(MAKE) test-tls-scan
	$(MAKE) test-qemu-tls
	$(MAKE) fuzz FUZZ_TIME=10

# libFuzzer harnesses (Debian's clang), one per parser. Each links the
# same core modules as its unit test (MODS_<target>). `make fuzz` runs
# each for FUZZ_TIME seconds (or FUZZ_RUNS executions, when set) on a copy
# of its seed corpus; crashes are written to $(B)/fuzz/ and fail the target.
FZ := $(B)/fuzz
FUZZ_TIME ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC := clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

fuzz_srcs = $(patsubst %,core/%.c,$(MODS_$(1)))
$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_srcs,$$*) $(B)/autoconf.h
	@mkdir -p $(FZ)
	$(FUZZ_CC) -Icore -Iport -I$(B) -o $@ $< $(call fuzz_srcs,$*)

fuzz: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		rm -rf $(FZ)/work-$$t && mkdir -p $(FZ)/work-$$t && \
		echo "== fuzz_$$t $(if $(FUZZ_RUNS),for $(FUZZ_RUNS) runs,for $(FUZZ_TIME) s)" && \
		$(FZ)/fuzz_$$t $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_TIME)) -print_final_stats=1 \
			-artifact_prefix=$(FZ)/crash-$$t- \
			$(FZ)/work-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs|ERROR|SUMMARY|crash-' ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
include tests/firmware.mk
include tests/tls.mk
