/*
 * fuzz_route.c - the route parser fed arbitrary files, one line at a time.
 *
 * Besides memory errors it checks what the rest of the gateway relies on:
 * every index and pool string in the table is in range and each
 * balancer's members are contiguous, whether lines failed or not.
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
	/* the input, up to its first newline, as a path */
	s = (const char *)data;
	(void)route_match(&table, s, memchr(s, '\n', size) ?
			  (size_t)((const char *)memchr(s, '\n', size) - s) : size, &slash);
	return 0;
}
