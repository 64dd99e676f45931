# Board "qemu-mps2-an385": Cortex-M3 firmware on lwIP for QEMU's
# mps2-an385 (CMSDK UART, SysTick, LAN9118). Builds build/<config>/fcgate.elf.
CC := arm-none-eabi-gcc
SIZE := arm-none-eabi-size
PORT := lwip
include port/lwip/lwip.mk
BDIR := boards/qemu-mps2-an385
BOARD_SRC := $(addprefix $(BDIR)/, main.c startup.c fault.c hw.c lan9118.c entropy.c)
BOARD_CFLAGS := -mcpu=cortex-m3 -mthumb -Os -g -ffunction-sections -fdata-sections \
	-I$(BDIR) $(LWIP_CFLAGS)
BOARD_LDFLAGS := --specs=nano.specs -nostartfiles -T $(BDIR)/link.ld -Wl,--gc-sections \
	-Wl,--defsym=__stack_size=$(CONFIG_BOARD_STACK_SIZE) -Wl,-Map=$(B)/fcgate.map
ROUTEGEN_FLAGS := --numeric-only
TARGET := $(B)/fcgate.elf
TARGET_DEPS := $(BDIR)/link.ld

QEMU_PORT ?= 8081
QEMU_TIMEOUT ?= 3600
# Boot the image with its listener on http://127.0.0.1:$(QEMU_PORT)/ and the
# console on stdio; Ctrl-C (or QEMU_TIMEOUT seconds) stops it, 'q' drains.
qemu-run: $(TARGET)
	timeout --foreground $(QEMU_TIMEOUT) qemu-system-arm -M mps2-an385 -display none \
		-serial stdio -semihosting -kernel $(TARGET) \
		-nic user,hostfwd=tcp:127.0.0.1:$(QEMU_PORT)-:80
