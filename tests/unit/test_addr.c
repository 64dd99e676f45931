/*
 * test_addr.c - host and port text forms: IPv4, IPv6 (RFC 4291 2.2),
 * DNS names, ports, the host of a URL that picks between them, and the
 * address blocks of Require ip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define POISON 0xa5

struct ip_case {
	const char *text;
	int ok;
	uint8_t ip[ADDR_IPV6_LEN];
};

/*
 * Run one parser over a table. The input is copied to the end of a
 * buffer, with no NUL after it, so a parser that reads past len trips
 * ASan; a refused input must leave the output untouched.
 */
static void check_ips(const struct ip_case *cases, size_t n, size_t ip_len,
		      int (*parse)(const char *, size_t, uint8_t *))
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cases[i].text);
		char in[64];
		uint8_t out[ADDR_IPV6_LEN], poison[ADDR_IPV6_LEN];
		int rc;

		assert_true(len <= sizeof in);
		memcpy(in + sizeof in - len, cases[i].text, len);
		memset(out, POISON, sizeof out);
		memset(poison, POISON, sizeof poison);
		rc = parse(in + sizeof in - len, len, out);
		if ((rc == 0) != cases[i].ok) {
			print_error("'%s': got %d, want %s\n", cases[i].text, rc,
				    cases[i].ok ? "0" : "-1");
			fail();
		}
		if (cases[i].ok)
			assert_memory_equal(out, cases[i].ip, ip_len);
		else
			assert_memory_equal(out, poison, sizeof out);
	}
}

static int parse_v4(const char *s, size_t len, uint8_t *out)
{
	return addr_parse_ipv4(s, len, out);
}

static int parse_v6(const char *s, size_t len, uint8_t *out)
{
	return addr_parse_ipv6(s, len, out);
}

static void test_ipv4(void **state)
{
	static const struct ip_case cases[] = {
		{ "0.0.0.0", 1, { 0, 0, 0, 0 } },
		{ "255.255.255.255", 1, { 255, 255, 255, 255 } },
		{ "10.0.2.2", 1, { 10, 0, 2, 2 } },
		{ "192.168.100.1", 1, { 192, 168, 100, 1 } },
		{ "127.0.0.1", 1, { 127, 0, 0, 1 } },
		{ "", 0, { 0 } },
		{ "256.0.0.1", 0, { 0 } },
		{ "1.2.3.256", 0, { 0 } },
		{ "1.2.3", 0, { 0 } },
		{ "127.1", 0, { 0 } },
		{ "1.2.3.4.5", 0, { 0 } },
		{ "01.2.3.4", 0, { 0 } },
		{ "1.2.3.04", 0, { 0 } },
		{ "1.2.3.00", 0, { 0 } },
		{ "1..2.3", 0, { 0 } },
		{ ".1.2.3", 0, { 0 } },
		{ "1234.1.1.1", 0, { 0 } },
		{ "1.2.3.4.", 0, { 0 } },
		{ "4", 0, { 0 } },
		{ "a.1", 0, { 0 } },
		{ "0x7f.0.0.1", 0, { 0 } },
		{ "1.2.3.4 ", 0, { 0 } },
		{ " 1.2.3.4", 0, { 0 } },
		{ "+1.2.3.4", 0, { 0 } },
		{ "99999999999.1.1.1", 0, { 0 } },
	};

	(void)state;
	check_ips(cases, ARRAY_LEN(cases), ADDR_IPV4_LEN, parse_v4);
}

static void test_ipv4_length_ends_input(void **state)
{
	uint8_t out[ADDR_IPV4_LEN];
	static const uint8_t want[ADDR_IPV4_LEN] = { 1, 2, 3, 4 };

	(void)state;
	/* the length, not a NUL, ends the address */
	assert_int_equal(addr_parse_ipv4("1.2.3.45", 7, out), 0);
	assert_memory_equal(out, want, sizeof want);
	assert_int_equal(addr_parse_ipv4("1.2.3.4:80", 7, out), 0);
	assert_int_equal(addr_parse_ipv4("1.2.3.4:80", 8, out), -1);
}

static void test_ipv6(void **state)
{
	static const struct ip_case cases[] = {
		{ "::", 1, { 0 } },
		{ "::1", 1, { [15] = 1 } },
		{ "1::", 1, { 0, 1 } },
		{ "2001:db8::1", 1, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		{ "2001:DB8:0:0:8:800:200C:417A", 1,
		  { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a } },
		{ "2001:db8::8:800:200c:417a", 1,
		  { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a } },
		{ "ff01::101", 1, { 0xff, 0x01, [14] = 1, [15] = 1 } },
		{ "::ffff:192.0.2.1", 1, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 } },
		{ "::13.1.68.3", 1, { [12] = 13, 1, 68, 3 } },
		{ "0:0:0:0:0:0:13.1.68.3", 1, { [12] = 13, 1, 68, 3 } },
		{ "1:2:3:4:5:6:1.2.3.4", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4 } },
		{ "1:2:3:4:5:6:7::", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0 } },
		{ "::2:3:4:5:6:7:8", 1, { 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 } },
		{ "1:2:3:4:5:6::8", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0, 0, 8 } },
		{ "1:2:3:4:5:6:7:8", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 } },
		{ "1::1.2.3.4", 1, { 0, 1, [12] = 1, 2, 3, 4 } },
		{ "fFfF::", 1, { 0xff, 0xff } },
		{ "0001:0002::000a", 1, { 0, 1, 0, 2, [15] = 0x0a } },
		{ "", 0, { 0 } },
		{ ":", 0, { 0 } },
		{ ":::", 0, { 0 } },
		{ "1:2:3:4:5:6:7:8:9", 0, { 0 } },
		{ "1:2:3:4:5:6:7", 0, { 0 } },
		{ "1::2::3", 0, { 0 } },
		{ "12345::", 0, { 0 } },
		{ "00001::", 0, { 0 } },
		{ "1:", 0, { 0 } },
		{ ":1", 0, { 0 } },
		{ "1:::2", 0, { 0 } },
		{ "::g", 0, { 0 } },
		{ "::1.2.3", 0, { 0 } },
		{ "::1.2.3.4.5", 0, { 0 } },
		{ "1.2.3.4", 0, { 0 } },
		{ "::256.1.1.1", 0, { 0 } },
		{ "::01.2.3.4", 0, { 0 } },
		{ "1:2:3:4:5:6:7:1.2.3.4", 0, { 0 } },
		{ "1:2:3:4:5:6:7:8::", 0, { 0 } },
		{ "::1:2:3:4:5:6:7:8", 0, { 0 } },
		{ "::1.2.3.4:5", 0, { 0 } },
		{ "fe80::1%eth0", 0, { 0 } },
		{ "[::1]", 0, { 0 } },
		{ " ::1", 0, { 0 } },
	};

	(void)state;
	check_ips(cases, ARRAY_LEN(cases), ADDR_IPV6_LEN, parse_v6);
}

static void test_dns_names(void **state)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "a", 1 }, { "php-fpm", 1 }, { "php_fpm", 1 }, { "app.example.com", 1 },
		{ "app.example.com.", 1 }, { "a1.b2.c3", 1 }, { "LocalHost", 1 }, { "1a", 1 },
		{ "a12345678901234567890123456789012345678901234567890123456789012", 1 },
		{ "", 0 }, { ".", 0 }, { "-a", 0 }, { "a-", 0 }, { "a..b", 0 }, { "a@b", 0 },
		{ "a.-b.c", 0 }, { "a.b-.c", 0 }, { ".a", 0 }, { "a..", 0 }, { "a b", 0 },
		{ "a:b", 0 }, { "user@h", 0 }, { "a/b", 0 }, { "[::1]", 0 },
		/* a label of 64 characters */
		{ "a123456789012345678901234567890123456789012345678901234567890123", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int rc = addr_check_dns_name(cases[i].name, strlen(cases[i].name));

		if ((rc == 0) != cases[i].ok) {
			print_error("'%s': got %d\n", cases[i].name, rc);
			fail();
		}
	}
}

/* 253 characters is the longest name; the root dot does not count. */
static void test_dns_name_length(void **state)
{
	char name[300];
	size_t n = 0;

	(void)state;
	while (n + 4 <= 252) {          /* "aaa." labels up to 252 characters */
		memcpy(name + n, "aaa.", 4);
		n += 4;
	}
	name[n++] = 'b';                 /* 253 */
	assert_int_equal(n, 253);
	assert_int_equal(addr_check_dns_name(name, n), 0);
	name[n] = '.';
	assert_int_equal(addr_check_dns_name(name, n + 1), 0);
	name[n] = 'c';
	assert_int_equal(addr_check_dns_name(name, n + 1), -1);
}

static void test_ports(void **state)
{
	static const struct {
		const char *text;
		int ok;
		uint16_t port;
	} cases[] = {
		{ "1", 1, 1 }, { "80", 1, 80 }, { "8000", 1, 8000 }, { "65535", 1, 65535 },
		{ "08080", 1, 8080 },
		{ "", 0, 0 }, { "0", 0, 0 }, { "00", 0, 0 }, { "65536", 0, 0 },
		{ "99999999999999999999", 0, 0 }, { "-1", 0, 0 }, { "+80", 0, 0 },
		{ "8x", 0, 0 }, { " 80", 0, 0 }, { "80 ", 0, 0 }, { "0x50", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint16_t port = 0xbeef;
		int rc = addr_parse_port(cases[i].text, strlen(cases[i].text), &port);

		if ((rc == 0) != cases[i].ok) {
			print_error("'%s': got %d\n", cases[i].text, rc);
			fail();
		}
		assert_int_equal(port, cases[i].ok ? cases[i].port : 0xbeef);
	}
}

/* ---- hosts: which parser a host goes to, and what it yields -------------- */

static void test_hosts(void **state)
{
	static const struct {
		const char *host;
		enum addr_kind kind;
		int ok;
		uint8_t family;
		uint8_t ip[ADDR_IPV6_LEN];
	} cases[] = {
		{ "127.0.0.1", ADDR_KIND_IPV4, 1, PORT_AF_INET, { 127, 0, 0, 1 } },
		{ "10.0.2.2.", ADDR_KIND_IPV4, 0, 0, { 0 } },
		{ "localhost", ADDR_KIND_NAME, 1, PORT_AF_INET, { 127, 0, 0, 1 } },
		{ "LocalHost", ADDR_KIND_NAME, 1, PORT_AF_INET, { 127, 0, 0, 1 } },
		{ "localhost.", ADDR_KIND_NAME, 1, 0, { 0 } },
		{ "[::1]", ADDR_KIND_IPV6, 1, PORT_AF_INET6, { [15] = 1 } },
		{ "[2001:db8::7]", ADDR_KIND_IPV6, 1, PORT_AF_INET6,
		  { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } },
		{ "[::ffff:10.0.0.1]", ADDR_KIND_IPV6, 1, PORT_AF_INET6,
		  { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 } },
		{ "[]", ADDR_KIND_IPV6, 0, 0, { 0 } },
		{ "[", ADDR_KIND_IPV6, 0, 0, { 0 } },
		{ "[::1", ADDR_KIND_IPV6, 0, 0, { 0 } },
		{ "[1.2.3.4]", ADDR_KIND_IPV6, 0, 0, { 0 } },
		{ "[fe80::1%eth0]", ADDR_KIND_IPV6, 0, 0, { 0 } },
		{ "php-fpm", ADDR_KIND_NAME, 1, 0, { 0 } },
		{ "app.example.com", ADDR_KIND_NAME, 1, 0, { 0 } },
		{ "a1.b2", ADDR_KIND_NAME, 1, 0, { 0 } },
		/* a last label of digits can only be a (bad) address */
		{ "a.1", ADDR_KIND_IPV4, 0, 0, { 0 } },
		{ "1.2.3", ADDR_KIND_IPV4, 0, 0, { 0 } },
		{ "4", ADDR_KIND_IPV4, 0, 0, { 0 } },
		{ "0123456789", ADDR_KIND_IPV4, 0, 0, { 0 } },
		{ "1.2.3.4x", ADDR_KIND_NAME, 1, 0, { 0 } },
		{ "user@h", ADDR_KIND_NAME, 0, 0, { 0 } },
		{ "", ADDR_KIND_NAME, 0, 0, { 0 } },
		{ "::1", ADDR_KIND_NAME, 0, 0, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *h = cases[i].host;
		struct port_addr a;
		int rc;

		memset(&a, POISON, sizeof a);
		a.family = 0;
		assert_int_equal(addr_host_kind(h, strlen(h)), cases[i].kind);
		rc = addr_parse_host(h, strlen(h), &a);
		if ((rc == 0) != cases[i].ok) {
			print_error("'%s': got %d\n", h, rc);
			fail();
		}
		if (!cases[i].ok)
			continue;
		assert_int_equal(a.family, cases[i].family);
		if (a.family)
			assert_memory_equal(a.ip, cases[i].ip,
					    a.family == PORT_AF_INET6 ? ADDR_IPV6_LEN : ADDR_IPV4_LEN);
		/* the port is the caller's */
		assert_int_equal(a.port, (uint16_t)(POISON << 8 | POISON));
	}
}

/* ---- address blocks (Require ip) ------------------------------------------ */

static void test_cidr(void **state)
{
	static const struct {
		const char *text;
		int ok;
		uint8_t family, bits;
		uint8_t ip[ADDR_IPV6_LEN];
	} cases[] = {
		{ "10.0.0.0/8", 1, PORT_AF_INET, 8, { 10 } },
		{ "192.168.1.5", 1, PORT_AF_INET, 32, { 192, 168, 1, 5 } },
		{ "192.168.1.5/32", 1, PORT_AF_INET, 32, { 192, 168, 1, 5 } },
		{ "0.0.0.0/0", 1, PORT_AF_INET, 0, { 0 } },
		/* host bits are cleared, as Apache does */
		{ "10.1.2.3/8", 1, PORT_AF_INET, 8, { 10 } },
		{ "10.1.2.3/0", 1, PORT_AF_INET, 0, { 0 } },
		{ "192.168.255.255/17", 1, PORT_AF_INET, 17, { 192, 168, 128, 0 } },
		{ "255.255.255.255/31", 1, PORT_AF_INET, 31, { 255, 255, 255, 254 } },
		/* Apache's partial address: a network of the octets given */
		{ "10", 1, PORT_AF_INET, 8, { 10 } },
		{ "10.1", 1, PORT_AF_INET, 16, { 10, 1 } },
		{ "172.16.5", 1, PORT_AF_INET, 24, { 172, 16, 5 } },
		{ "fd00::/8", 1, PORT_AF_INET6, 8, { 0xfd } },
		{ "::1", 1, PORT_AF_INET6, 128, { [15] = 1 } },
		{ "::/0", 1, PORT_AF_INET6, 0, { 0 } },
		{ "2001:db8::ff/120", 1, PORT_AF_INET6, 120, { 0x20, 0x01, 0x0d, 0xb8 } },
		{ "2001:db8:f234::/35", 1, PORT_AF_INET6, 35, { 0x20, 0x01, 0x0d, 0xb8, 0xe0 } },
		{ "::ffff:10.0.0.1/128", 1, PORT_AF_INET6, 128,
		  { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 } },
		{ "", 0, 0, 0, { 0 } },
		{ "/8", 0, 0, 0, { 0 } },
		{ "10.0.0.0/", 0, 0, 0, { 0 } },
		{ "10.0.0.0/33", 0, 0, 0, { 0 } },
		{ "10.0.0.0/08", 0, 0, 0, { 0 } },
		{ "10.0.0.0/-1", 0, 0, 0, { 0 } },
		{ "10.0.0.0/8/8", 0, 0, 0, { 0 } },
		{ "10.0.0.0/255.0.0.0", 0, 0, 0, { 0 } },
		{ "10.1/16", 0, 0, 0, { 0 } },
		{ "10.", 0, 0, 0, { 0 } },
		{ "10..1", 0, 0, 0, { 0 } },
		{ "010.1", 0, 0, 0, { 0 } },
		{ "1.2.3.4.5", 0, 0, 0, { 0 } },
		{ "256", 0, 0, 0, { 0 } },
		{ "::1/129", 0, 0, 0, { 0 } },
		{ "[::1]", 0, 0, 0, { 0 } },
		{ "fe80::1%eth0", 0, 0, 0, { 0 } },
		{ "example.com", 0, 0, 0, { 0 } },
		{ "10.0.0.0 /8", 0, 0, 0, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len = strlen(cases[i].text);
		char in[64];
		struct port_addr a;
		uint8_t bits = POISON;
		int rc;

		/* at the end of the buffer, so a read past len trips ASan */
		memcpy(in + sizeof in - len, cases[i].text, len);
		memset(&a, POISON, sizeof a);
		rc = addr_parse_cidr(in + sizeof in - len, len, &a, &bits);
		if ((rc == 0) != cases[i].ok) {
			print_error("'%s': got %d\n", cases[i].text, rc);
			fail();
		}
		if (!cases[i].ok) {
			assert_int_equal(bits, POISON);
			assert_int_equal(a.family, POISON);
			continue;
		}
		assert_int_equal(a.family, cases[i].family);
		assert_int_equal(bits, cases[i].bits);
		/* every byte of ip is written, IPv4's unused ones zero */
		assert_memory_equal(a.ip, cases[i].ip, ADDR_IPV6_LEN);
		assert_int_equal(a.port, (uint16_t)(POISON << 8 | POISON));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv4_length_ends_input),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_dns_name_length),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
