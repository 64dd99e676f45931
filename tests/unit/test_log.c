/*
 * test_log.c - the log formatter's numbers: log_utoa() against the C
 * library's division over edges and pseudo-random 64-bit values, and the
 * %u %llu %x %d forms that use it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

#define RANDOM_VALUES 200000

/* log.c writes finished lines here; these tests only format. */
void port_log_write(const char *line, size_t len)
{
	(void)line;
	(void)len;
}

static void check_utoa(unsigned long long v)
{
	char buf[LOG_UTOA_MAX + 1], want[32];
	char *p;

	buf[LOG_UTOA_MAX] = '\0';
	p = log_utoa(buf + LOG_UTOA_MAX, v, 10);
	snprintf(want, sizeof want, "%llu", v);
	assert_string_equal(p, want);
	p = log_utoa(buf + LOG_UTOA_MAX, v, 16);
	snprintf(want, sizeof want, "%llx", v);
	assert_string_equal(p, want);
}

static void test_utoa_edges(void **state)
{
	(void)state;
	check_utoa(0);
	check_utoa(UINT64_MAX);
	check_utoa((unsigned long long)UINT32_MAX + 1);
	for (unsigned long long p = 1; p != 0 && p <= UINT64_MAX / 10; p *= 10) {
		for (unsigned long long d = 0; d < 3; d++) {
			check_utoa(p + d);
			check_utoa(p - d);
		}
	}
	for (unsigned long long v = UINT64_MAX - 1000; v != 0; v++)
		check_utoa(v);
	for (unsigned long long v = 0; v < 100000; v++)
		check_utoa(v);
}

/* Shifts and adds stand in for division: compare on values of every size. */
static void test_utoa_random(void **state)
{
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (unsigned i = 0; i < RANDOM_VALUES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_utoa(x >> (i % 64));
	}
}

static void test_format_numbers(void **state)
{
	char buf[96];

	(void)state;
	log_format(buf, sizeof buf, "%u %llu %x %d %lld", 42u, 18446744073709551615ull, 0xbeefu, -7,
		   (long long)INT64_MIN);
	assert_string_equal(buf, "42 18446744073709551615 beef -7 -9223372036854775808");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utoa_edges),
		cmocka_unit_test(test_utoa_random),
		cmocka_unit_test(test_format_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
