/*
 * addr.c - host and port text forms (addr.h).
 *
 * The route parser uses it at build time (routegen) and for --conf lines;
 * the host board later hands these bytes to the socket layer, so an
 * address accepted here must mean what inet_pton() would make of it.
 */
#include <string.h>

#include "addr.h"

#define ADDR_IPV4_OCTET_MAX 255u
#define ADDR_IPV6_GROUP_DIGITS 4u
#define ADDR_IPV6_GROUP_LEN 2u          /* bytes of one 16-bit group */
#define ADDR_DNS_NAME_MAX 253u          /* RFC 1035 2.3.4, without the root dot */
#define ADDR_DNS_LABEL_MAX 63u
#define ADDR_BITS_PER_BYTE 8u

static const uint8_t addr_loopback4[ADDR_IPV4_LEN] = { 127, 0, 0, 1 };

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return lower(c) >= 'a' && lower(c) <= 'z';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (lower(c) >= 'a' && lower(c) <= 'f')
		return lower(c) - 'a' + 10;
	return -1;
}

/* ---- IPv4 ---------------------------------------------------------------- */

/*
 * One to four dotted decimal octets covering all of s[0..len): how many,
 * or -1. No octal (leading zero), hex or empty parts.
 */
static int ipv4_octets(const char *s, size_t len, uint8_t out[ADDR_IPV4_LEN])
{
	size_t i = 0;
	unsigned part;

	for (part = 0; part < ADDR_IPV4_LEN; part++) {
		size_t start;
		unsigned v = 0;

		if (part) {
			if (i == len)
				break;
			if (s[i] != '.')
				return -1;
			i++;
		}
		for (start = i; i < len && is_digit(s[i]); i++) {
			v = v * 10u + (unsigned)(s[i] - '0');
			if (v > ADDR_IPV4_OCTET_MAX)
				return -1;
		}
		if (i == start || (i - start > 1 && s[start] == '0'))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == len ? (int)part : -1;
}

/* Only the full dotted quad: inet_aton() reads short forms differently. */
int addr_parse_ipv4(const char *s, size_t len, uint8_t out[ADDR_IPV4_LEN])
{
	uint8_t buf[ADDR_IPV4_LEN];

	if (ipv4_octets(s, len, buf) != (int)ADDR_IPV4_LEN)
		return -1;
	memcpy(out, buf, sizeof buf);
	return 0;
}

/* ---- IPv6 ---------------------------------------------------------------- */

/* Is the group at s (up to the next ':') the dotted IPv4 tail? */
static int ipv6_group_is_ipv4(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != ':'; i++)
		if (s[i] == '.')
			return 1;
	return 0;
}

/* One group of 1-4 hex digits at s[*i]; -1 when there is none or too long. */
static int ipv6_group(const char *s, size_t n, size_t *i, uint8_t *out)
{
	unsigned v = 0, digits = 0;

	for (; *i < n && hex_value(s[*i]) >= 0; (*i)++, digits++) {
		if (digits == ADDR_IPV6_GROUP_DIGITS)
			return -1;
		v = v * 16u + (unsigned)hex_value(s[*i]);
	}
	if (digits == 0)
		return -1;
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)(v & 0xffu);
	return 0;
}

int addr_parse_ipv6(const char *s, size_t len, uint8_t out[ADDR_IPV6_LEN])
{
	uint8_t buf[ADDR_IPV6_LEN];
	size_t i = 0, k = 0, gap = 0, tail;
	int has_gap = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		has_gap = 1;
		i = 2;
	}
	while (i < len) {
		if (k >= ADDR_IPV6_LEN)
			return -1;
		if (ipv6_group_is_ipv4(s + i, len - i)) {
			if (k > ADDR_IPV6_LEN - ADDR_IPV4_LEN ||
			    addr_parse_ipv4(s + i, len - i, buf + k))
				return -1;
			k += ADDR_IPV4_LEN;
			break;
		}
		if (ipv6_group(s, len, &i, buf + k))
			return -1;
		k += ADDR_IPV6_GROUP_LEN;
		if (i == len)
			break;
		if (s[i++] != ':' || i == len)
			return -1;
		if (s[i] == ':') {
			if (has_gap)
				return -1;
			has_gap = 1;
			gap = k;
			i++;
		}
	}
	/* Without "::" all eight groups are there; "::" stands for at least one. */
	if (has_gap ? k > ADDR_IPV6_LEN - ADDR_IPV6_GROUP_LEN : k != ADDR_IPV6_LEN)
		return -1;
	tail = k - gap;
	memset(out, 0, ADDR_IPV6_LEN);
	memcpy(out, buf, gap);
	memcpy(out + ADDR_IPV6_LEN - tail, buf + gap, tail);
	return 0;
}

/* ---- names and ports ----------------------------------------------------- */

int addr_check_dns_name(const char *s, size_t len)
{
	size_t label = 0;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > ADDR_DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > ADDR_DNS_LABEL_MAX ||
			    s[i - 1] == '-' || s[i - label] == '-')
				return -1;
			label = 0;
		} else if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_') {
			label++;
		} else {
			return -1;
		}
	}
	return 0;
}

int addr_parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10u + (unsigned)(s[i] - '0');
		if (v > ADDR_PORT_MAX)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* ---- hosts --------------------------------------------------------------- */

/*
 * A name whose last label is all digits can only be a (bad) IPv4 address:
 * RFC 1123 2.1 keeps top-level labels alphabetic for exactly this reason.
 */
static int looks_numeric(const char *s, size_t n)
{
	size_t i;

	if (n && s[n - 1] == '.')
		n--;
	i = n;
	while (i > 0 && s[i - 1] != '.')
		i--;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

enum addr_kind addr_host_kind(const char *s, size_t len)
{
	if (len >= 1 && s[0] == '[')
		return ADDR_KIND_IPV6;
	if (looks_numeric(s, len))
		return ADDR_KIND_IPV4;
	return ADDR_KIND_NAME;
}

static int is_localhost(const char *s, size_t len)
{
	static const char name[] = "localhost";

	if (len != sizeof name - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (lower(s[i]) != name[i])
			return 0;
	return 1;
}

int addr_parse_host(const char *s, size_t len, struct port_addr *a)
{
	switch (addr_host_kind(s, len)) {
	case ADDR_KIND_IPV6:
		if (len < 2 || s[len - 1] != ']' || addr_parse_ipv6(s + 1, len - 2, a->ip))
			return -1;
		a->family = PORT_AF_INET6;
		return 0;
	case ADDR_KIND_IPV4:
		if (addr_parse_ipv4(s, len, a->ip))
			return -1;
		a->family = PORT_AF_INET;
		return 0;
	case ADDR_KIND_NAME:
		break;
	}
	if (is_localhost(s, len)) {
		memcpy(a->ip, addr_loopback4, sizeof addr_loopback4);
		a->family = PORT_AF_INET;
		return 0;
	}
	if (addr_check_dns_name(s, len))
		return -1;
	a->family = 0;
	return 0;
}

/* ---- address blocks ------------------------------------------------------ */

/* Prefix length 0..max, decimal without leading zeros. */
static int parse_bits(const char *s, size_t len, unsigned max, uint8_t *bits)
{
	unsigned v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10u + (unsigned)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*bits = (uint8_t)v;
	return 0;
}

/* Clear the host bits past the prefix, as Apache (APR) does silently. */
static void mask_host_bits(uint8_t *ip, size_t ip_len, unsigned bits)
{
	for (size_t i = 0; i < ip_len; i++) {
		if (bits < ADDR_BITS_PER_BYTE)
			ip[i] &= (uint8_t)(0xffu << (ADDR_BITS_PER_BYTE - bits));
		bits = bits > ADDR_BITS_PER_BYTE ? bits - ADDR_BITS_PER_BYTE : 0;
	}
}

int addr_parse_cidr(const char *s, size_t len, struct port_addr *a, uint8_t *bits)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint8_t ip[ADDR_IPV6_LEN] = { 0 }, b;
	int v6 = memchr(s, ':', alen) != NULL, parts;

	if (v6) {
		if (addr_parse_ipv6(s, alen, ip))
			return -1;
		b = (uint8_t)(ADDR_IPV6_LEN * ADDR_BITS_PER_BYTE);
	} else {
		/* "10.1" is 10.1.0.0/16, but only without an explicit /BITS */
		parts = ipv4_octets(s, alen, ip);
		if (parts < 1 || (slash && parts != (int)ADDR_IPV4_LEN))
			return -1;
		b = (uint8_t)((unsigned)parts * ADDR_BITS_PER_BYTE);
	}
	if (slash && parse_bits(slash + 1, len - alen - 1, b, &b))
		return -1;
	mask_host_bits(ip, v6 ? ADDR_IPV6_LEN : ADDR_IPV4_LEN, b);
	a->family = v6 ? PORT_AF_INET6 : PORT_AF_INET;
	memcpy(a->ip, ip, sizeof a->ip);
	*bits = b;
	return 0;
}
