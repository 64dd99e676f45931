/*
 * route_acl.c - address blocks and who may use a route (route_acl.h),
 * and the per-request questions of route.h: may this peer use this
 * route, and how large may its request body be.
 *
 * Matching follows Apache (APR's apr_ipsubnet_test): an IPv4 client
 * matches IPv4 blocks, also when it arrives IPv4-mapped on an IPv6
 * socket; an IPv6 block never matches an IPv4 client. A block written
 * IPv4-mapped (::ffff:10.0.0.0/104) is kept as the IPv4 block it means.
 */
#include <string.h>

#include "addr.h"
#include "route_acl.h"

#define ROUTE_BITS_PER_BYTE 8u
#define ROUTE_ACL_LINE_BLOCKS 32u       /* more than a line's tokens can hold */

/* RFC 4291 2.5.5.2: ::ffff:a.b.c.d, an IPv4 address in IPv6 form. */
static const uint8_t route_v4_mapped[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
#define ROUTE_V4_MAPPED_BITS (sizeof route_v4_mapped * ROUTE_BITS_PER_BYTE)

/* An IPv4-mapped address (and block, when bits is given) as plain IPv4. */
static void unmap_v4(uint8_t *family, uint8_t ip[ADDR_IPV6_LEN], uint8_t *bits)
{
	if (*family != PORT_AF_INET6 ||
	    memcmp(ip, route_v4_mapped, sizeof route_v4_mapped) != 0 ||
	    (bits && *bits < ROUTE_V4_MAPPED_BITS))
		return;
	*family = PORT_AF_INET;
	memmove(ip, ip + sizeof route_v4_mapped, ADDR_IPV4_LEN);
	memset(ip + ADDR_IPV4_LEN, 0, ADDR_IPV6_LEN - ADDR_IPV4_LEN);
	if (bits)
		*bits = (uint8_t)(*bits - ROUTE_V4_MAPPED_BITS);
}

/* ADDR[/BITS] (addr_parse_cidr()) as a block; 0 or -1. */
static int cidr_parse(const struct route_tok *w, struct route_cidr *c)
{
	struct port_addr a;
	uint8_t bits;

	if (addr_parse_cidr(w->s, w->n, &a, &bits))
		return -1;
	memset(c, 0, sizeof *c);
	c->family = a.family;
	c->bits = bits;
	memcpy(c->ip, a.ip, sizeof c->ip);
	unmap_v4(&c->family, c->ip, &c->bits);
	return 0;
}

static int fail_full(unsigned line, struct route_error *err)
{
	return route_fail(err, line, "too many address blocks (CONFIG_MAX_CIDRS=%u)",
			  (unsigned)CONFIG_MAX_CIDRS);
}

/* ---- parsing ------------------------------------------------------------ */

int route_acl_key(struct route_table *t, unsigned line, struct route_acl *acl,
		  const struct route_tok *val, struct route_error *err)
{
	const char *s = val->s, *end = val->s + val->n;

	/* a repeated require= replaces the blocks this line gave the first */
	if (acl->count) {
		memset(&t->cidrs[acl->first], 0, acl->count * sizeof t->cidrs[0]);
		t->cidr_count = acl->first;
	}
	memset(acl, 0, sizeof *acl);
	if (route_tok_ieq(val, "all") || route_tok_ieq(val, "none")) {
		acl->mode = route_tok_ieq(val, "all") ? ROUTE_ACL_GRANTED : ROUTE_ACL_DENIED;
		return 0;
	}
	acl->mode = ROUTE_ACL_IP;
	acl->first = t->cidr_count;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		struct route_tok w = route_tok_from(s, comma ? (size_t)(comma - s) : (size_t)(end - s));
		struct route_cidr c;

		if (cidr_parse(&w, &c))
			return route_fail(err, line, "bad address block '%t' in require "
					  "(expected all, none or ADDR[/BITS],...)", &w);
		if (t->cidr_count >= CONFIG_MAX_CIDRS)
			return fail_full(line, err);
		t->cidrs[t->cidr_count++] = c;
		acl->count++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/*
 * The global blocks stay contiguous: new ones go right after them, and
 * the blocks of routes that lie past that point move up.
 */
static void insert_global(struct route_table *t, const struct route_cidr *c, unsigned n)
{
	struct route_acl *g = &t->global_acl;
	unsigned pos = g->mode == ROUTE_ACL_IP ? (unsigned)g->first + g->count : t->cidr_count;

	memmove(&t->cidrs[pos + n], &t->cidrs[pos], (t->cidr_count - pos) * sizeof t->cidrs[0]);
	for (unsigned i = 0; i < t->route_count; i++) {
		struct route_acl *a = &t->routes[i].acl;

		if (a->count && a->first >= pos)
			a->first = (uint16_t)(a->first + n);
	}
	memcpy(&t->cidrs[pos], c, n * sizeof t->cidrs[0]);
	t->cidr_count = (uint16_t)(t->cidr_count + n);
	if (g->mode != ROUTE_ACL_IP)
		g->first = (uint16_t)pos;
	g->mode = ROUTE_ACL_IP;
	g->count = (uint16_t)(g->count + n);
}

/* Require all granted|denied, or else a's words as blocks in c; the mode either way. */
static int require_words(unsigned line, const struct route_tok *a, unsigned n,
			 struct route_cidr *c, struct route_error *err)
{
	if (n == 0)
		return route_fail(err, line, "Require needs ip or all");
	if (route_tok_ieq(&a[0], "all")) {
		if (n != 2 || !(route_tok_ieq(&a[1], "granted") || route_tok_ieq(&a[1], "denied")))
			return route_fail(err, line, "Require all takes granted or denied");
		return route_tok_ieq(&a[1], "granted") ? ROUTE_ACL_GRANTED : ROUTE_ACL_DENIED;
	}
	if (!route_tok_ieq(&a[0], "ip"))
		return route_fail(err, line, "unsupported Require '%t' (expected ip or all)", &a[0]);
	if (n < 2)
		return route_fail(err, line, "Require ip needs ADDR[/BITS]");
	for (unsigned i = 1; i < n; i++)
		if (cidr_parse(&a[i], &c[i - 1]))
			return route_fail(err, line, "bad address block '%t' (expected ADDR[/BITS])",
					  &a[i]);
	return ROUTE_ACL_IP;
}

int route_acl_require(struct route_table *t, unsigned line, const struct route_tok *a,
		      unsigned n, struct route_error *err)
{
	struct route_cidr c[ROUTE_ACL_LINE_BLOCKS];
	int mode;

	if (n > ROUTE_ACL_LINE_BLOCKS)
		return route_fail(err, line, "too many arguments (at most %u)",
				  (unsigned)ROUTE_ACL_LINE_BLOCKS);
	mode = require_words(line, a, n, c, err);
	if (mode < 0)
		return -1;
	/* no silent winner between rules that contradict each other */
	if (t->global_acl.mode != ROUTE_ACL_NONE && t->global_acl.mode != mode)
		return route_fail(err, line, "conflicting Require lines");
	if (mode != ROUTE_ACL_IP) {
		t->global_acl.mode = (uint8_t)mode;
		return 0;
	}
	if (n - 1 > (unsigned)CONFIG_MAX_CIDRS - t->cidr_count)
		return fail_full(line, err);
	insert_global(t, c, n - 1);
	return 0;
}

/* ---- per request -------------------------------------------------------- */

/* The first bits bits of a and b are equal. */
static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	size_t whole = bits / ROUTE_BITS_PER_BYTE;
	unsigned rest = bits % ROUTE_BITS_PER_BYTE;

	if (memcmp(a, b, whole) != 0)
		return 0;
	return rest == 0 ||
	       ((a[whole] ^ b[whole]) & (uint8_t)(0xffu << (ROUTE_BITS_PER_BYTE - rest))) == 0;
}

static int block_has(const struct route_cidr *c, const struct port_addr *peer)
{
	unsigned max = (c->family == PORT_AF_INET ? ADDR_IPV4_LEN : ADDR_IPV6_LEN) *
		       ROUTE_BITS_PER_BYTE;

	return c->family != 0 && c->family == peer->family && c->bits <= max &&
	       prefix_equal(c->ip, peer->ip, c->bits);
}

int route_acl_allows(const struct route_table *t, const struct route *r,
		     const struct port_addr *peer)
{
	const struct route_acl *acl = r && r->acl.mode != ROUTE_ACL_NONE ? &r->acl : &t->global_acl;
	struct port_addr p;

	switch (acl->mode) {
	case ROUTE_ACL_DENIED:
		return 0;
	case ROUTE_ACL_IP:
		break;
	default:
		return 1;
	}
	if (!peer)
		return 0;
	p = *peer;
	unmap_v4(&p.family, p.ip, NULL);
	for (unsigned i = acl->first; i < (unsigned)acl->first + acl->count && i < t->cidr_count; i++)
		if (block_has(&t->cidrs[i], &p))
			return 1;
	return 0;
}

uint32_t route_body_limit(const struct route_table *t, const struct route *r)
{
	return r && r->limit_body ? r->limit_body : t->global_limit_body;
}
