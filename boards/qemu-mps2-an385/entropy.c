/*
 * entropy.c - mbedTLS's entropy source on the QEMU mps2-an385 image.
 *
 * !!! TEST ONLY. NOT A SOURCE OF ENTROPY FOR A REAL DEVICE. !!!
 *
 * The AN385 has no TRNG. This file reads the *host's* /dev/urandom through
 * ARM semihosting (SYS_OPEN, SYS_READ), which exists only under QEMU (run
 * with -semihosting, i.e. -semihosting-config enable=on,target=native) or
 * a debugger. On real silicon there is no host to ask and the BKPT
 * faults: a real board must implement mbedtls_hardware_poll() with its
 * TRNG (the STM32 RNG, the nRF RNG, ...). The first call prints a warning
 * on the console, so that no image built from this file passes for a
 * product.
 */
#include "autoconf.h"

#if defined(CONFIG_TLS)

#include <stdint.h>

#include "mbedtls/entropy.h"
#include "mbedtls/entropy_poll.h"

#include "hw.h"

#define SEMI_SYS_OPEN   0x01u
#define SEMI_SYS_READ   0x06u
#define SEMI_MODE_RB    1u      /* fopen() mode "rb" */

static const char entropy_path[] = "/dev/urandom";
static const char entropy_warning[] =
	"WARNING: TLS entropy comes from the QEMU host through semihosting: "
	"TEST IMAGE ONLY, not for a real device\r\n";

static int entropy_fd = -1;

static uint32_t semihost_call(uint32_t op, void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

static int entropy_open(void)
{
	uint32_t args[3] = {
		(uint32_t)(uintptr_t)entropy_path, SEMI_MODE_RB, sizeof(entropy_path) - 1
	};

	uart_write(entropy_warning, sizeof(entropy_warning) - 1);
	entropy_fd = (int)semihost_call(SEMI_SYS_OPEN, args);
	return entropy_fd;
}

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	uint32_t args[3];
	uint32_t left;

	(void)data;
	*olen = 0;
	if (entropy_fd < 0 && entropy_open() < 0)
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	args[0] = (uint32_t)entropy_fd;
	args[1] = (uint32_t)(uintptr_t)output;
	args[2] = (uint32_t)len;
	left = semihost_call(SEMI_SYS_READ, args);     /* bytes NOT read */
	if (left > len)
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	*olen = len - left;
	return 0;
}

#endif /* CONFIG_TLS */
