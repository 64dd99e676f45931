/*
 * member.h - what fcgate knows at run time about each FastCGI member:
 * error state, requests in flight, open connections, and the choice of a
 * member for a request (Apache's byrequests and bybusyness).
 */
#ifndef FCGATE_MEMBER_H
#define FCGATE_MEMBER_H

#include <stdint.h>

#include "route.h"

struct member_state {
	uint32_t error_until;   /* port_now_ms() when the error state ends */
	uint8_t in_error;
	uint16_t busy;          /* requests in flight */
	uint16_t conns;         /* connections open: connecting, active or idle */
	uint16_t proven;        /* open connections an app worker has taken */
	uint16_t learned_max;   /* connections the app serves at once, 0: unknown */
	uint32_t learned_until; /* port_now_ms() when that limit is tried again */
	uint16_t declared_max;  /* FCGI_MAX_CONNS / FCGI_MAX_REQS the app gave, 0: none */
	int32_t lbstatus;       /* byrequests' running credit */
	uint32_t requests;      /* requests sent */
	uint32_t failures;      /* connect failures and refusals */
	uint32_t reused;        /* requests sent on a pooled connection */
	uint32_t opened;        /* connections opened */
};

extern struct member_state gw_member_state[CONFIG_MAX_MEMBERS];

void member_reset(void);

/* Can member m take a request now (not disabled, not in error)? */
int member_usable(const struct route_table *t, unsigned m, uint32_t now);

/*
 * The member for a request on route r: the route's own member, or a
 * balancer member by its lbmethod; standby members only when no other is
 * usable. Returns -1 when no member is usable (the caller answers 503).
 */
int member_pick(const struct route_table *t, const struct route *r, uint32_t now);

/* A connect to m failed: error state for its retry= time (none when 0). */
void member_failed(const struct route_table *t, unsigned m, uint32_t now);

/*
 * No worker took a new connection while `proven` others were served: cap
 * the member there for ttl= (then a probe may find the app has grown).
 */
void member_learn_capacity(const struct route_table *t, unsigned m, unsigned proven, uint32_t now);

/* A connect to m worked: it leaves the error state. */
void member_ok(unsigned m);

/*
 * Most connections m may have open: max= (default every backend slot), or
 * fewer when fcgate has learned that the app serves fewer at once.
 */
unsigned member_max_conns(const struct route_table *t, unsigned m, uint32_t now);

#endif
