/*
 * gw_config.h - the one place the core reads its configuration: the
 * autoconf.h that Kconfig generates, plus the checks that tie options
 * together, so a bad combination fails the build, not the device.
 */
#ifndef FCGATE_GW_CONFIG_H
#define FCGATE_GW_CONFIG_H

#include "autoconf.h"

#if CONFIG_HEADER_MAX_BYTES > CONFIG_CLIENT_IN_BUF
#error "HEADER_MAX_BYTES must not exceed CLIENT_IN_BUF: the request head is parsed in place"
#endif
#if CONFIG_REQUEST_LINE_MAX > CONFIG_HEADER_MAX_BYTES
#error "REQUEST_LINE_MAX must not exceed HEADER_MAX_BYTES"
#endif

#define GW_VERSION "0.1.0"

#endif
