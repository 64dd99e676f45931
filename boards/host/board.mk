# Board "host": fcgate as a Linux process on POSIX sockets.
CC := gcc
PORT := posix
BOARD_SRC := boards/host/main.c
BOARD_CFLAGS := -O2 -g -D_GNU_SOURCE
BOARD_LDFLAGS :=
TARGET := $(B)/fcgate
