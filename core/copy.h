/*
 * copy.h - copy_bytes(): memcpy for the many short copies of a request
 * (parameter names and values, response head pieces: 1 to 20 bytes, some
 * fifty per request). A C library's memcpy is a call each time, and on a
 * small one (musl's) a slow one for these sizes; this one is inline and
 * copies up to 16 bytes with two overlapping loads and stores. A build
 * for size (-Os: the firmware) calls memcpy instead: flash counts more
 * there than the cycles.
 */
#ifndef FCGATE_COPY_H
#define FCGATE_COPY_H

#include <stdint.h>
#include <string.h>

static inline void copy_bytes(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

#ifdef __OPTIMIZE_SIZE__
	if (n > 0) {
#else
	if (n > 16) {
#endif
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, s, 8);               /* constant sizes: compiled inline */
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n > 0) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}
#endif
