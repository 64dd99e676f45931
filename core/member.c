/*
 * member.c - member state and load balancing.
 *
 * byrequests is Apache's weighted round robin: every usable member earns
 * its lbfactor in credit on each pick, the richest wins and pays back the
 * total, so over time each member's share is lbfactor / sum(lbfactor).
 * bybusyness picks the member with the fewest requests in flight and uses
 * the same credit to break ties.
 */
#include <string.h>

#include "member.h"
#include "port.h"

struct member_state gw_member_state[CONFIG_MAX_MEMBERS];

void member_reset(void)
{
	memset(gw_member_state, 0, sizeof(gw_member_state));
}

int member_usable(const struct route_table *t, unsigned m, uint32_t now)
{
	const struct member_state *st = &gw_member_state[m];

	if (t->members[m].params.flags & ROUTE_F_DISABLED)
		return 0;
	return !st->in_error || (int32_t)(now - st->error_until) >= 0;
}

/* Does a better than b for this lbmethod? */
static int better(unsigned lbmethod, const struct member_state *a, const struct member_state *b)
{
	if (b == NULL)
		return 1;
	if (lbmethod == ROUTE_LB_BYBUSYNESS && a->busy != b->busy)
		return a->busy < b->busy;
	return a->lbstatus > b->lbstatus;
}

/* One round among the balancer's members of one kind (standby or not). */
static int pick_among(const struct route_table *t, const struct route_balancer *bal,
		      int standby, uint32_t now)
{
	struct member_state *best = NULL;
	int best_m = -1, total = 0;

	for (unsigned i = 0; i < bal->member_count; i++) {
		unsigned m = bal->first_member + i;
		const struct route_params *p = &t->members[m].params;
		struct member_state *st = &gw_member_state[m];

		if (!!(p->flags & ROUTE_F_STANDBY) != standby || !member_usable(t, m, now))
			continue;
		st->lbstatus += p->lbfactor;
		total += p->lbfactor;
		if (better(bal->lbmethod, st, best)) {
			best = st;
			best_m = (int)m;
		}
	}
	if (best != NULL)
		best->lbstatus -= total;
	return best_m;
}

int member_pick(const struct route_table *t, const struct route *r, uint32_t now)
{
	const struct route_balancer *bal;
	int m;

	if (r->kind == ROUTE_PROXY)
		return member_usable(t, r->target, now) ? r->target : -1;
	bal = &t->balancers[r->target];
	m = pick_among(t, bal, 0, now);
	return m >= 0 ? m : pick_among(t, bal, 1, now);
}

void member_failed(const struct route_table *t, unsigned m, uint32_t now)
{
	struct member_state *st = &gw_member_state[m];
	uint32_t retry = t->members[m].params.retry_ms;

	st->failures++;
	if (retry == 0)
		return;
	st->in_error = 1;
	st->error_until = now + retry;
}

void member_learn_capacity(const struct route_table *t, unsigned m, unsigned proven, uint32_t now)
{
	struct member_state *st = &gw_member_state[m];

	st->learned_max = (uint16_t)proven;
	st->learned_until = now + t->members[m].params.ttl_ms;
}

void member_ok(unsigned m)
{
	gw_member_state[m].in_error = 0;
}

unsigned member_max_conns(const struct route_table *t, unsigned m, uint32_t now)
{
	const struct member_state *st = &gw_member_state[m];
	unsigned max = t->members[m].params.max;
	unsigned learned = st->learned_max;

	if (max == 0 || max > CONFIG_BACKEND_SLOTS)
		max = CONFIG_BACKEND_SLOTS;
	/* What the app declared caps it too; after ttl= a learned limit lets one more connection try its luck. */
	if (learned != 0 && (int32_t)(now - st->learned_until) >= 0)
		learned++;
	if (st->declared_max != 0 && st->declared_max < max)
		max = st->declared_max;
	return learned != 0 && learned < max ? learned : max;
}
