# Board "host": fcgate as a Linux process on POSIX sockets.
# SAN=1 builds it with ASan+UBSan (make test does, into build/host-asan).
CC := gcc
PORT := posix
BOARD_SRC := boards/host/main.c
BOARD_CFLAGS := -O2 -g -D_GNU_SOURCE
BOARD_LDFLAGS :=
ifeq ($(CONFIG_HOST_STATIC),y)
ifeq ($(shell command -v musl-gcc),)
$(error HOST_STATIC needs musl-gcc: install Debian's musl-tools (make deps does))
endif
CC := musl-gcc
BOARD_LDFLAGS := -static
endif
ifeq ($(SAN),1)
BOARD_CFLAGS := -O1 -g -D_GNU_SOURCE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BOARD_LDFLAGS := -fsanitize=address,undefined
endif
TARGET := $(B)/fcgate
