# Board "host-lwip": fcgate on port/lwip in a Linux process, over a TAP
# device (root; see scripts/netns.sh). SAN=1 builds it with ASan+UBSan.
CC := gcc
PORT := lwip
include port/lwip/lwip.mk
BOARD_SRC := boards/host-lwip/main.c boards/host-lwip/tapif.c port/posix/entropy_posix.c port/posix/clock_posix.c
BOARD_CFLAGS := -O2 -g -D_GNU_SOURCE -Iboards/host-lwip $(LWIP_CFLAGS)
BOARD_LDFLAGS :=
ifeq ($(SAN),1)
BOARD_CFLAGS := -O1 -g -D_GNU_SOURCE -Iboards/host-lwip $(LWIP_CFLAGS) \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BOARD_LDFLAGS := -fsanitize=address,undefined
endif
ROUTEGEN_FLAGS := --numeric-only
TARGET := $(B)/fcgate-lwip
