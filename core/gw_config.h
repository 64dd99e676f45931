/*
 * gw_config.h - the one place the core reads its configuration: the
 * autoconf.h that Kconfig generates, plus the checks that tie options
 * together, so a bad combination fails the build, not the device.
 */
#ifndef FCGATE_GW_CONFIG_H
#define FCGATE_GW_CONFIG_H

#include "autoconf.h"

/*
 * The request head stays in the client input buffer for the whole request
 * and the body streams behind it, so some room must be left after the
 * largest head.
 */
#define GW_MIN_BODY_WINDOW 256
#if CONFIG_HEADER_MAX_BYTES + GW_MIN_BODY_WINDOW > CONFIG_CLIENT_IN_BUF
#error "CLIENT_IN_BUF must exceed HEADER_MAX_BYTES by at least 256 bytes: the head is parsed in place and the body streams behind it"
#endif
/* A chunked body is spooled behind the head: the limit must be reachable. */
#if CONFIG_CHUNKED_BODY_MAX + CONFIG_HEADER_MAX_BYTES > CONFIG_CLIENT_IN_BUF
#error "CHUNKED_BODY_MAX + HEADER_MAX_BYTES must not exceed CLIENT_IN_BUF: the chunked body is spooled behind the head"
#endif
#if CONFIG_REQUEST_LINE_MAX > CONFIG_HEADER_MAX_BYTES
#error "REQUEST_LINE_MAX must not exceed HEADER_MAX_BYTES"
#endif

/* Kconfig leaves a bool that is off undefined; these are also tested in C. */
#ifndef CONFIG_ROMFS
#define CONFIG_ROMFS 0
#endif
#ifndef CONFIG_AUTHORIZER
#define CONFIG_AUTHORIZER 0
#endif
#ifndef CONFIG_DIR_ALIAS
#define CONFIG_DIR_ALIAS 0
#endif

#ifndef CONFIG_TLS
#define CONFIG_TLS 0
#endif
#ifndef CONFIG_WALL_CLOCK
#define CONFIG_WALL_CLOCK 0
#endif
#ifndef CONFIG_TLS_REDIRECT
#define CONFIG_TLS_REDIRECT 0
#endif
#ifndef CONFIG_SLOT_PAGE_ALIGN
#define CONFIG_SLOT_PAGE_ALIGN 0
#endif
#if CONFIG_SLOT_PAGE_ALIGN & (CONFIG_SLOT_PAGE_ALIGN - 1)
#error "SLOT_PAGE_ALIGN must be 0 or a power of two (the page size, 4096 on Linux)"
#endif

/* Client slots: CLIENT_SLOTS for plain HTTP, then TLS_SLOTS for HTTPS. */
#if CONFIG_TLS
#define GW_TLS_SLOTS CONFIG_TLS_SLOTS
#if CONFIG_TLS_ARENA_SIZE < 8192 + CONFIG_TLS_IN_BUF + CONFIG_TLS_OUT_BUF + 4096
#error "TLS_ARENA_SIZE cannot hold even one TLS connection: give it at least 12 KiB + TLS_IN_BUF + TLS_OUT_BUF"
#endif
#else
#define GW_TLS_SLOTS 0
#endif
#define GW_CLIENT_SLOTS (CONFIG_CLIENT_SLOTS + GW_TLS_SLOTS)

#define GW_VERSION "0.1.0"

#endif
