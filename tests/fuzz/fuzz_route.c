/*
 * fuzz_route.c - the route parser fed arbitrary files, one line at a time.
 *
 * Besides memory errors it checks what the rest of the gateway relies on:
 * every index and pool string in the table is in range, each balancer's
 * members are contiguous, and every address block belongs to exactly one
 * access rule, in range and with its host bits clear, whether lines
 * failed or not. The access check is then asked about a peer taken from
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct route_table table;
static struct route_parser parser;

static void check_str(struct route_str s)
{
	if ((size_t)s.off + s.len > table.strings_len)
		abort();
}

/* A block's prefix fits its family and nothing is set past it. */
static void check_cidr(const struct route_cidr *c)
{
	unsigned max = c->family == PORT_AF_INET ? 32 : c->family == PORT_AF_INET6 ? 128 : 0;

	if (max == 0 || c->bits > max)
		abort();
	for (unsigned bit = c->bits; bit < 128; bit++)
		if (c->ip[bit / 8] & (0x80u >> (bit % 8)))
			abort();
}

static void check_acls(const struct route_table *t)
{
	static uint8_t owner[CONFIG_MAX_CIDRS];
	unsigned owned = 0;

	if (t->cidr_count > CONFIG_MAX_CIDRS)
		abort();
	memset(owner, 0, sizeof owner);
	for (unsigned r = 0; r <= t->route_count; r++) {
		const struct route_acl *a = r < t->route_count ? &t->routes[r].acl : &t->global_acl;

		if (a->mode > ROUTE_ACL_DENIED || (a->mode != ROUTE_ACL_IP && a->count) ||
		    (a->mode == ROUTE_ACL_IP && !a->count) || a->first + a->count > t->cidr_count)
			abort();
		for (unsigned i = a->first; i < (unsigned)a->first + a->count; i++)
			if (owner[i]++)
				abort();
		owned += a->count;
	}
	if (owned != t->cidr_count)
		abort();
	for (unsigned i = 0; i < t->cidr_count; i++)
		check_cidr(&t->cidrs[i]);
	if (t->global_limit_body > 2147483647u)
		abort();
}

static void check_table(void)
{
	const struct route_table *t = &table;

	if (t->route_count > CONFIG_MAX_ROUTES || t->member_count > CONFIG_MAX_MEMBERS ||
	    t->balancer_count > CONFIG_MAX_BALANCERS || t->strings_len > CONFIG_ROUTE_STRINGS)
		abort();
	for (unsigned i = 0; i < t->route_count; i++) {
		const struct route *r = &t->routes[i];

		check_str(r->prefix);
		check_str(r->url);
		if (r->prefix.len == 0 || route_cstr(t, r->prefix)[0] != '/')
			abort();
		if (r->kind == ROUTE_PROXY &&
		    (r->target >= t->member_count || t->members[r->target].balancer != -1))
			abort();
		if (r->kind == ROUTE_BALANCER && r->target >= t->balancer_count)
			abort();
	}
	for (unsigned i = 0; i < t->member_count; i++) {
		const struct route_member *m = &t->members[i];

		check_str(m->host);
		check_str(m->docroot);
		check_str(m->unix_path);
		if (m->unix_path.len && (m->unix_path.len > ROUTE_UNIX_PATH_MAX || m->addr.family ||
					  m->host.len || route_cstr(t, m->unix_path)[0] != '/'))
			abort();
		if (m->balancer >= (int)t->balancer_count || m->docroot.len == 0)
			abort();
		if (m->balancer >= 0) {
			const struct route_balancer *b = &t->balancers[m->balancer];

			if (i < b->first_member || i >= (unsigned)b->first_member + b->member_count)
				abort();
		}
	}
	for (unsigned i = 0; i < t->balancer_count; i++) {
		check_str(t->balancers[i].name);
		if (t->balancers[i].first_member + t->balancers[i].member_count > t->member_count)
			abort();
	}
	check_acls(t);
}

/* The first 17 input bytes as a peer (family from the first), against every route. */
static void ask_acl(const uint8_t *data, size_t size)
{
	struct port_addr peer;

	memset(&peer, 0, sizeof peer);
	if (size >= 1 + sizeof peer.ip) {
		peer.family = (data[0] & 1) ? PORT_AF_INET6 : PORT_AF_INET;
		memcpy(peer.ip, data + 1, sizeof peer.ip);
	}
	for (unsigned i = 0; i < table.route_count; i++) {
		if (route_acl_allows(&table, &table.routes[i], &peer) > 1)
			abort();
		(void)route_body_limit(&table, &table.routes[i]);
	}
	if (route_acl_allows(&table, NULL, &peer) > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	struct route_error err;
	int slash;

	route_begin(&parser, &table);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (route_parse_line(&parser, s, len, &err) && strlen(err.msg) >= sizeof err.msg)
			abort();
		check_table();
		s += len + (nl ? 1 : 0);
	}
	(void)route_end(&parser, &err);
	ask_acl(data, size);
	/* the input, up to its first newline, as a path */
	s = (const char *)data;
	(void)route_match(&table, s, memchr(s, '\n', size) ?
			  (size_t)((const char *)memchr(s, '\n', size) - s) : size, &slash);
	return 0;
}
