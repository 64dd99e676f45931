/*
 * clock_posix.c - the clocks and the log sink of a Linux process: used by
 * the host board with port/posix, and by host-lwip with port/lwip.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "port.h"

uint32_t port_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int64_t port_wall_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	return (int64_t)ts.tv_sec;
}

void port_log_write(const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, line, len);
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}
