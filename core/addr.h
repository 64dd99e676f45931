/*
 * addr.h - the text forms of hosts and ports, as route files and URLs
 * write them: IPv4 dotted quads, RFC 4291 IPv6 text, DNS names, decimal
 * ports. Everything is parsed from (pointer, length), never needs a NUL,
 * and is strict: a form some libc accepts but a reader would misread
 * (octal "010.0.0.1", short "127.1", a zone "%eth0") is refused.
 *
 * Whole-string validators: each returns 0 when all of s[0..len) is the
 * form, else -1 with nothing written.
 */
#ifndef FCGATE_ADDR_H
#define FCGATE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"

#define ADDR_IPV4_LEN 4u        /* bytes of an IPv4 address */
#define ADDR_IPV6_LEN 16u       /* bytes of an IPv6 address */
#define ADDR_PORT_MAX 65535u

/* Dotted quad, four decimal octets without leading zeros. */
int addr_parse_ipv4(const char *s, size_t len, uint8_t out[ADDR_IPV4_LEN]);

/*
 * RFC 4291 section 2.2: eight groups of 1-4 hex digits, at most one "::"
 * (one or more zero groups), optionally a dotted IPv4 tail. No brackets.
 */
int addr_parse_ipv6(const char *s, size_t len, uint8_t out[ADDR_IPV6_LEN]);

/*
 * RFC 1123 host name, one trailing root dot allowed; '_' is accepted as
 * well, as container and compose service names use it. 0 when valid.
 */
int addr_check_dns_name(const char *s, size_t len);

/* Decimal port 1..65535, digits only (port 0 cannot be connected to). */
int addr_parse_port(const char *s, size_t len, uint16_t *out);

/* What a host string is taken for, which also tells why it was refused. */
enum addr_kind {
	ADDR_KIND_NAME = 0,     /* DNS name, resolved later (or "localhost") */
	ADDR_KIND_IPV4,         /* its last label is all digits */
	ADDR_KIND_IPV6,         /* "[...]" */
};

enum addr_kind addr_host_kind(const char *s, size_t len);

/*
 * A URL's host: "[IPv6]", a dotted quad, "localhost" (127.0.0.1, so that
 * builds without a resolver can use it) or a DNS name. Sets a->family and
 * a->ip for an address; a name leaves a->family 0 (unresolved). a->port
 * is not touched. Returns 0, or -1 when the host is not valid as the kind
 * addr_host_kind() gives it.
 */
int addr_parse_host(const char *s, size_t len, struct port_addr *a);

/*
 * An address block as Apache's "Require ip" writes it: ADDR or ADDR/BITS,
 * ADDR a dotted quad (BITS 0..32, default 32) or RFC 4291 text (0..128,
 * default 128). A dotted quad cut short without /BITS is a network:
 * "10.1" is 10.1.0.0/16. Host bits past the prefix are cleared. Sets
 * a->family and all of a->ip (a->port is not touched) and *bits; 0 or -1.
 */
int addr_parse_cidr(const char *s, size_t len, struct port_addr *a, uint8_t *bits);

#endif
