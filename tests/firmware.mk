# Tests of the lwIP builds (port/lwip), included by tests/tests.mk: the
# firmware suite (tests/firmware) against the QEMU image and against
# boards/host-lwip. Nothing is skipped: a missing tool or privilege fails
# the target with a message that says what to do.
#
#   make test-qemu       builds both QEMU configurations; the whole suite
#                        against the default image, the smoke subset
#                        (-m smoke) against the tiny one
#   make test-host-lwip  builds host-lwip with ASan+UBSan into
#                        build/host-lwip-asan and runs the suite in a
#                        network namespace of its own (root)
#   make bench-qemu      requests/s through the QEMU image (informational)
#   make test-browser-qemu  the browser test of the demo admin UI
#                        (tests/browser) against the default QEMU image,
#                        fcgi-demo on 127.0.0.1:9000 (tests/firmware/qemu_ui.py)
#
# Consoles and app logs: build/firmware-tests/; the browser test's
# artefacts: build/ui-test/status-qemu.png, run-qemu/ and the like.

FW_LOGDIR := build/firmware-tests
FW_QEMU_DIR := build/qemu-mps2-an385
FW_TINY_DIR := build/qemu-mps2-an385-tiny
FW_LWIP_DIR := build/host-lwip-asan
FW_SUITE := tests/firmware/test_portable.py

.PHONY: test-qemu test-host-lwip bench-qemu test-browser-qemu fw-need-qemu fw-need-root

# The client slots a build was configured with, from its .config.
fw_slots = $$(sed -n 's/^CONFIG_CLIENT_SLOTS=//p' $(1)/.config)

# Environment of one suite run: target kind, image, build folder.
fw_env = FCGATE_TARGET=$(1) FCGATE_IMAGE=$(abspath $(2)) FCGATE_SLOTS=$(call fw_slots,$(3)) \
	FCGATE_APPS=$(abspath $(A)) FCGATE_LOGDIR=$(abspath $(FW_LOGDIR))

fw-need-qemu:
	@for t in qemu-system-arm:qemu-system-arm arm-none-eabi-gcc:gcc-arm-none-eabi \
			timeout:coreutils; do \
		command -v $${t%%:*} >/dev/null 2>&1 || { echo "error: $${t%%:*} is not" \
			"installed (Debian package $${t#*:}; \`make deps\` installs it)" >&2; exit 1; }; \
	done
	@case "$$(arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb --specs=nano.specs \
			-print-file-name=libc_nano.a)" in /*) ;; *) echo "error: newlib-nano for" \
		"arm-none-eabi is not installed (Debian package libnewlib-arm-none-eabi;" \
		"\`make deps\` installs it)" >&2; exit 1;; esac

fw-need-root:
	@[ "$$(id -u)" -eq 0 ] || { echo "error: test-host-lwip needs root (a network" \
		"namespace and a TAP device); run it as root" >&2; exit 1; }
	@[ -c /dev/net/tun ] || { echo "error: /dev/net/tun is missing: host-lwip needs" \
		"TAP devices (load the tun module)" >&2; exit 1; }
	@command -v ip >/dev/null 2>&1 || { echo "error: ip is not installed (Debian" \
		"package iproute2)" >&2; exit 1; }

# Both runs happen even when the first fails; the target fails if either did.
test-qemu: fw-need-qemu apps
	$(MAKE) CONFIG=qemu-mps2-an385
	$(MAKE) CONFIG=qemu-mps2-an385-tiny
	@rc=0; \
	echo "== firmware suite: $(FW_QEMU_DIR)/fcgate.elf"; \
	$(call fw_env,qemu,$(FW_QEMU_DIR)/fcgate.elf,$(FW_QEMU_DIR)) \
		$(PY) -m pytest $(FW_SUITE) || rc=1; \
	echo "== smoke subset: $(FW_TINY_DIR)/fcgate.elf"; \
	$(call fw_env,qemu,$(FW_TINY_DIR)/fcgate.elf,$(FW_TINY_DIR)) \
		$(PY) -m pytest -m smoke $(FW_SUITE) || rc=1; \
	exit $$rc

# A namespace named after this shell's PID, deleted whatever happens (an
# interrupt included); the suite's processes die with pytest.
test-host-lwip: fw-need-root apps
	$(MAKE) CONFIG=host-lwip O=$(FW_LWIP_DIR) SAN=1
	@ns=fcgate-test-$$$$; \
	bash scripts/netns.sh up $$ns || { echo "error: could not create network" \
		"namespace $$ns (scripts/netns.sh)" >&2; exit 1; }; \
	trap 'bash scripts/netns.sh down '$$ns'; exit 130' INT TERM HUP; \
	echo "== firmware suite: $(FW_LWIP_DIR)/fcgate-lwip in network namespace $$ns"; \
	rc=0; \
	$(call fw_env,host-lwip,$(FW_LWIP_DIR)/fcgate-lwip,$(FW_LWIP_DIR)) \
		ip netns exec $$ns $(PY) -m pytest $(FW_SUITE) || rc=1; \
	trap - INT TERM HUP; \
	bash scripts/netns.sh down $$ns || { echo "error: could not delete network" \
		"namespace $$ns" >&2; rc=1; }; \
	exit $$rc

bench-qemu: fw-need-qemu apps
	$(MAKE) CONFIG=qemu-mps2-an385
	$(PY) tests/firmware/qemu_rps.py --image $(FW_QEMU_DIR)/fcgate.elf --apps $(A) \
		--logdir $(FW_LOGDIR)

# The image boots first (its routes need no app to start); the test starts
# and restarts fcgi-demo itself; 'q' stops QEMU, which must exit 0.
test-browser-qemu: fw-need-qemu apps
	$(MAKE) CONFIG=qemu-mps2-an385
	FCGATE_APPS=$(abspath $(A)) FCGATE_ROOT=$(CURDIR) \
		$(PY) tests/firmware/qemu_ui.py --image $(FW_QEMU_DIR)/fcgate.elf \
		--logdir $(FW_LOGDIR)
