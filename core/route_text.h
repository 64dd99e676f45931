/*
 * route_text.h - the route parser's text plumbing, shared by route.c and
 * route_acl.c: slices of the line being parsed, and messages formatted
 * without printf (the parser runs in firmware too, for --conf lines).
 */
#ifndef FCGATE_ROUTE_TEXT_H
#define FCGATE_ROUTE_TEXT_H

#include <stddef.h>

#include "route.h"

/* A slice of the line being parsed (no NUL). */
struct route_tok {
	const char *s;
	size_t n;
};

static inline struct route_tok route_tok_from(const char *s, size_t n)
{
	struct route_tok t = { s, n };
	return t;
}

/* ASCII case-insensitive: n bytes equal; t equals s; t starts with s. */
int route_mem_ieq(const char *a, const char *b, size_t n);
int route_tok_ieq(const struct route_tok *t, const char *s);
int route_tok_iprefix(const struct route_tok *t, const char *s);

/*
 * Fill err (when not NULL) with line and a message: %s a C string, %u an
 * unsigned, %t a const struct route_tok * (clipped, so that a 4 KB token
 * cannot push out the explanation). Always returns -1.
 */
int route_fail(struct route_error *err, unsigned line, const char *fmt, ...);

#endif
