/*
 * entropy_posix.c - the host's entropy source for mbedTLS: getrandom(2).
 *
 * mbedTLS is built with MBEDTLS_ENTROPY_HARDWARE_ALT and no platform
 * source of its own (port/mbedtls/mbedtls_config.h), so every board gives
 * mbedtls_hardware_poll(). getrandom() with no flags blocks only until
 * the kernel's pool has been seeded once after boot, then never.
 */
#include "autoconf.h"

#if defined(CONFIG_TLS)

#include <errno.h>
#include <sys/random.h>

#include "mbedtls/entropy.h"
#include "mbedtls/entropy_poll.h"

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	size_t got = 0;

	(void)data;
	while (got < len) {
		ssize_t n = getrandom(output + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	*olen = got;
	return got == len ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

#endif /* CONFIG_TLS */
