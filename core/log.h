/*
 * log.h - leveled logging with a tiny formatter of our own, so that a
 * firmware image does not pull in printf. Lines above CONFIG_LOG_LEVEL are
 * compiled out. Output goes through port_log_write().
 *
 * Formats: %s %.*s %c %d %u %ld %lu %lld %llu %x %zu and %%.
 */
#ifndef FCGATE_LOG_H
#define FCGATE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "gw_config.h"

enum log_level { LOG_ERROR = 1, LOG_WARN = 2, LOG_INFO = 3, LOG_DEBUG = 4 };

void log_line(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Format into buf (at most cap-1 characters, always NUL-terminated).
 * Returns the length written; output that does not fit is cut.
 */
size_t log_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t log_format(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Room for any unsigned long long in decimal or hex. */
#define LOG_UTOA_MAX 20

/*
 * v in base 10 or 16, written backwards so that its digits end just
 * before end; returns where they start. Without 64-bit division, which
 * a Cortex-M3 does in a large library helper.
 */
char *log_utoa(char *end, unsigned long long v, unsigned base);

/*
 * A compiled-out line still type-checks its arguments (and counts them as
 * used), then vanishes: if (0) is dead code to every compiler.
 */
#define LOG_OFF(...) do { if (0) log_line(0, __VA_ARGS__); } while (0)

#if CONFIG_LOG_LEVEL >= 1
#define LOG_E(...) log_line(LOG_ERROR, __VA_ARGS__)
#else
#define LOG_E(...) LOG_OFF(__VA_ARGS__)
#endif
#if CONFIG_LOG_LEVEL >= 2
#define LOG_W(...) log_line(LOG_WARN, __VA_ARGS__)
#else
#define LOG_W(...) LOG_OFF(__VA_ARGS__)
#endif
#if CONFIG_LOG_LEVEL >= 3
#define LOG_I(...) log_line(LOG_INFO, __VA_ARGS__)
#else
#define LOG_I(...) LOG_OFF(__VA_ARGS__)
#endif
#if CONFIG_LOG_LEVEL >= 4
#define LOG_D(...) log_line(LOG_DEBUG, __VA_ARGS__)
#else
#define LOG_D(...) LOG_OFF(__VA_ARGS__)
#endif

#endif
