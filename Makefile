# fcgate build. `make` builds CONFIG=host into build/host/fcgate;
# `make CONFIG=<name>` builds config/<name>_defconfig into build/<name>/.
# See README.md for every target.

# `make bench` builds and measures config/host-bench in build/bench only.
ifeq ($(MAKECMDGOALS),bench)
CONFIG := host-bench
O := build/bench
endif
CONFIG ?= host
B := $(or $(O),build/$(CONFIG))
DEFCONFIG := config/$(CONFIG)_defconfig
PY := /usr/bin/python3
SHELL := /bin/bash
KCONF := $(PY) -m

ifeq ($(wildcard $(DEFCONFIG)),)
$(error no configuration '$(CONFIG)': $(DEFCONFIG) does not exist (see config/))
endif

# The resolved configuration, as make variables (CONFIG_BOARD="host" ...).
-include $(B)/.config
unquote = $(patsubst "%",%,$(1))
BOARD := $(call unquote,$(CONFIG_BOARD))
ROUTE_FILE := $(call unquote,$(CONFIG_ROUTE_FILE))

ifneq ($(BOARD),)
include boards/$(BOARD)/board.mk
endif
# TLS: mbedTLS from Debian's source package, with our configuration.
ifeq ($(CONFIG_TLS),y)
include port/mbedtls/mbedtls.mk
BOARD_CFLAGS += $(MBEDTLS_CFLAGS)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_COMMON := -std=c11 $(WARN) -Icore -Iport -I$(B)
CORE_SRC := $(sort $(wildcard core/*.c))
PORT_SRC := $(sort $(wildcard port/$(PORT)/*.c))
OBJ_CORE := $(CORE_SRC:%.c=$(B)/obj/%.o)
OBJ_PORT := $(PORT_SRC:%.c=$(B)/obj/%.o)
OBJ_BOARD := $(BOARD_SRC:%.c=$(B)/obj/%.o) $(B)/obj/routes.o
ifeq ($(CONFIG_TLS),y)
OBJ_BOARD += $(B)/obj/tls_cert.o
endif
ifeq ($(CONFIG_ROMFS),y)
ROMFS_DIR := $(call unquote,$(CONFIG_ROMFS_DIR))
OBJ_BOARD += $(B)/obj/romfs_data.o
endif
HOSTCC := gcc

.PHONY: all run test test-unit test-integration check-nomalloc menuconfig \
	savedefconfig clean deps apps bench size size-one qemu-run certs
.DEFAULT_GOAL := all

all: $(TARGET)

# --- configuration -------------------------------------------------------
$(B)/.config: $(DEFCONFIG) Kconfig
	@mkdir -p $(B)
	KCONFIG_CONFIG=$(DEFCONFIG) $(KCONF) genconfig --config-out $@ \
		--header-path $(B)/autoconf.h Kconfig

$(B)/autoconf.h: $(B)/.config Kconfig
	KCONFIG_CONFIG=$(B)/.config $(KCONF) genconfig --header-path $@ Kconfig

menuconfig: $(B)/.config
	KCONFIG_CONFIG=$(B)/.config $(KCONF) menuconfig Kconfig
	KCONFIG_CONFIG=$(B)/.config $(KCONF) genconfig --header-path $(B)/autoconf.h Kconfig

savedefconfig: $(B)/.config
	KCONFIG_CONFIG=$(B)/.config $(KCONF) savedefconfig --kconfig Kconfig --out $(DEFCONFIG)
	@echo "wrote $(DEFCONFIG)"

# --- routes, compiled in ------------------------------------------------
# The route parser of the core, built for the build machine.
ROUTEGEN_SRC := scripts/routegen.c core/route.c core/route_keys.c core/route_acl.c \
	core/route_text.c core/addr.c

$(B)/routegen: $(ROUTEGEN_SRC) core/route.h core/route_keys.h core/route_acl.h \
	core/route_text.h core/addr.h $(B)/autoconf.h
	$(HOSTCC) $(CFLAGS_COMMON) -O1 -g -o $@ $(ROUTEGEN_SRC)

# Boards without a resolver set ROUTEGEN_FLAGS := --numeric-only.
$(B)/routes.c: $(ROUTE_FILE) $(B)/routegen
	$(B)/routegen $(ROUTEGEN_FLAGS) $(ROUTE_FILE) > $@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# TLS certificate and key, compiled in: the configured files, or else a
# self-signed development pair generated into the build folder.
TLS_CERT := $(or $(call unquote,$(CONFIG_TLS_CERT_FILE)),$(B)/certs/cert.pem)
TLS_KEY := $(or $(call unquote,$(CONFIG_TLS_KEY_FILE)),$(B)/certs/key.pem)

$(B)/certs/cert.pem $(B)/certs/key.pem &:
	@echo "TLS: no certificate configured (TLS_CERT_FILE): generating a development pair"
	bash scripts/certs.sh $(B)/certs

$(B)/tls_cert.c: $(TLS_CERT) $(TLS_KEY) scripts/embed.py
	$(PY) scripts/embed.py $(TLS_CERT) tls_builtin_cert $@.cert.tmp
	$(PY) scripts/embed.py $(TLS_KEY) tls_builtin_key $@.key.tmp
	cat $@.cert.tmp $@.key.tmp > $@ && rm -f $@.cert.tmp $@.key.tmp

$(B)/obj/tls_cert.o: $(B)/tls_cert.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(BOARD_CFLAGS) -c -o $@ $<

# `make certs`: a self-signed P-256 pair for development and tests.
certs:
	bash scripts/certs.sh build/certs

# The ROM filesystem: every file under ROMFS_DIR, packed into const data.
$(B)/romfs_data.c: scripts/romfs-pack.py $(shell find $(ROMFS_DIR) -type f 2>/dev/null) | $(B)/.config
	$(PY) scripts/romfs-pack.py $(ROMFS_DIR) $@.tmp && mv $@.tmp $@

$(B)/obj/romfs_data.o: $(B)/romfs_data.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(BOARD_CFLAGS) -c -o $@ $<

# --- objects --------------------------------------------------------------
$(B)/obj/%.o: %.c $(B)/autoconf.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(BOARD_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/routes.o: $(B)/routes.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(BOARD_CFLAGS) -c -o $@ $<

# lwIP boards: fetch lwIP before compiling anything that includes it.
ifneq ($(LWIP_STAMP),)
$(OBJ_CORE) $(OBJ_PORT) $(OBJ_BOARD): | $(LWIP_STAMP)
endif

ifneq ($(MBEDTLS_STAMP),)
$(OBJ_CORE) $(OBJ_PORT) $(OBJ_BOARD): | $(MBEDTLS_STAMP)
endif

$(TARGET): $(OBJ_CORE) $(OBJ_PORT) $(OBJ_BOARD) $(OBJ_LWIP) $(OBJ_MBEDTLS) $(TARGET_DEPS)
	$(CC) $(BOARD_CFLAGS) $(BOARD_LDFLAGS) -o $@ $(filter %.o,$^)

-include $(OBJ_CORE:.o=.d) $(OBJ_PORT:.o=.d) $(OBJ_BOARD:.o=.d) $(OBJ_LWIP:.o=.d)

# The core never allocates: fail if any core object references the heap.
check-nomalloc: $(OBJ_CORE)
	@bad=$$(nm -u $(OBJ_CORE) | grep -wE 'malloc|calloc|realloc|free' || true); \
	if [ -n "$$bad" ]; then echo "core references the heap:"; \
		nm -A -u $(OBJ_CORE) | grep -wE 'malloc|calloc|realloc|free'; exit 1; fi; \
	echo "check-nomalloc: no core object references malloc/calloc/realloc/free"

# --- tests ----------------------------------------------------------------
include tests/tests.mk

clean:
	rm -rf build

run: deps
	$(MAKE) CONFIG=host all build/apps/fcgi-demo
	bash scripts/run.sh build/host/fcgate build/apps/fcgi-demo

# fcgate, nginx and lighttpd side by side, and the relay floor (docs/bench.md).
bench:
	$(PY) tests/bench/bench.py

# Flash and RAM of the host program and of both firmware images.
SIZE_CONFIGS ?= host qemu-mps2-an385 qemu-mps2-an385-tiny
size:
	@for c in $(SIZE_CONFIGS); do $(MAKE) -s --no-print-directory CONFIG=$$c size-one || exit 1; done

# The tiny image's goals (flash, RAM): under 48 KiB and 64 KiB, lwIP and libc included.
SIZE_GOALS_qemu-mps2-an385-tiny := 49152 65536

# One configuration: sections and static RAM (firmware: by component).
SIZE ?= size
size-one: $(TARGET)
	@echo; echo "## $(CONFIG): $(TARGET)"; echo
ifeq ($(suffix $(TARGET)),.elf)
	@$(PY) scripts/size-report.py $(TARGET) $(B)/fcgate.map $(B)/autoconf.h arm-none-eabi-nm $(SIZE_GOALS_$(CONFIG))
else
	@$(SIZE) $(TARGET)
	@$(TARGET) --check-config | awk '/^RAM budget/ { p = 1 } p && !/^(RAM budget|[[:space:]])/ { p = 0 } p'
endif
