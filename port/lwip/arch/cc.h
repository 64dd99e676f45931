/*
 * arch/cc.h - lwIP's compiler and platform glue for fcgate's lwIP boards.
 *
 * lwIP's diagnostics and assertions go to the board's console through
 * port_log_write(), never to printf: the firmware links no stdio.
 */
#ifndef FCGATE_LWIP_ARCH_CC_H
#define FCGATE_LWIP_ARCH_CC_H

#include <stdint.h>

/* Both lwIP boards (Cortex-M3 and x86-64) are little-endian; glibc may have said so already. */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* Errno values are not used: NO_SYS has no socket API. */
#define LWIP_PROVIDE_ERRNO 0

uint32_t port_lwip_rand(void);
#define LWIP_RAND() port_lwip_rand()

void port_lwip_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) port_lwip_assert((x), __FILE__, __LINE__)
/* lwIP's debug messages are compiled out (LWIP_DEBUG is off). */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)

#endif
