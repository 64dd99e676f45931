/*
 * route_acl.h - who may use a route, as far as the route parser is
 * concerned: Apache's "Require ip|all" lines and fcgate's require= route
 * key, whose address blocks go into the table's cidrs[] (route.h).
 *
 * Part of the route parser: route.c reads lines and tokens and hands the
 * arguments over. The per-request side, route_acl_allows() and
 * route_body_limit(), is declared in route.h.
 */
#ifndef FCGATE_ROUTE_ACL_H
#define FCGATE_ROUTE_ACL_H

#include "route.h"
#include "route_text.h"

/*
 * The arguments of a Require line (after "Require"), into the global
 * rule: "ip ADDR[/BITS] ..." adds blocks (several lines add up: Apache's
 * implicit RequireAny), "all granted" / "all denied" sets it; mixing the
 * two kinds, or granted with denied, is an error. 0, or -1 with err
 * filled for line; on -1 the table is unchanged.
 */
int route_acl_require(struct route_table *t, unsigned line, const struct route_tok *a,
		      unsigned n, struct route_error *err);

/*
 * require=all, require=none or require=ADDR[/BITS][,ADDR[/BITS]...] into
 * *acl, appending its blocks to t->cidrs; a second require= on the same
 * line replaces the first (a line's blocks are the table's last). 0, or
 * -1 with err filled; blocks appended before a failure are the caller's
 * to roll back with the rest of the line.
 */
int route_acl_key(struct route_table *t, unsigned line, struct route_acl *acl,
		  const struct route_tok *val, struct route_error *err);

#endif
