/*
 * backend.c - backend slots: connecting, lending, and the reuse pool.
 *
 * A connection opened with FCGI_KEEP_CONN goes back to an idle pool per
 * member after END_REQUEST (reuse is on unless disablereuse=on). Idle
 * connections stay in the poll set so that an app closing one is noticed
 * at once; one taken from the pool is checked again just before use, and
 * ttl= closes those left idle too long, which matters for prefork apps
 * like php-fpm where every open connection holds a worker.
 */
#include <string.h>

#include "log.h"
#include "member.h"
#include "slot.h"

#define REQUEST_ID 1            /* one request per connection, as every peer does */

/*
 * The pool: indices of the B_IDLE slots in the order they went idle, the
 * most recent on top. Taking one looks down from the top for the member,
 * so with one app it is the top; it never walks the slots themselves,
 * which lie a page or more apart.
 */
static uint16_t pool[CONFIG_BACKEND_SLOTS];
static unsigned pooled;

/* Searched from the top: it is nearly always the most recently pooled one that is taken. */
static void pool_remove(const struct backend *b)
{
	unsigned i = (unsigned)(b - gw_backends), k = pooled;

	while (k > 0 && pool[k - 1] != i)
		k--;
	if (k-- == 0)
		return;
	memmove(&pool[k], &pool[k + 1], (pooled - k - 1) * sizeof(pool[0]));
	pooled--;
}

static uint32_t or_default(uint32_t ms, uint32_t seconds)
{
	return ms ? ms : seconds * 1000u;
}

static const struct route_member *member_cfg(unsigned m)
{
	return &gw_routes->members[m];
}

int backend_reuses(unsigned m)
{
	return !(member_cfg(m)->params.flags & ROUTE_F_NOREUSE);
}

/* Close (or, for an aborted request, reset) b and free its slot. */
static void backend_drop(struct backend *b, int reset)
{
	struct member_state *st = &gw_member_state[b->member];

	if (b->state == B_FREE)
		return;
	if (b->state == B_IDLE)
		pool_remove(b);
	if (b->client >= 0 && st->busy > 0)
		st->busy--;
	if (st->conns > 0)
		st->conns--;
	if (b->proven && st->proven > 0)
		st->proven--;
	if (reset)
		port_abort(b->sock);
	else
		port_close(b->sock);
	b->state = B_FREE;
	b->client = -1;
	gw_touch_backend(b);
}

void backend_close(struct backend *b)
{
	backend_drop(b, 0);
}

void backend_abort(struct backend *b)
{
	uint8_t rec[FCGI_HEADER_LEN];

	/* Best effort: many apps ignore it, and the reset that follows is the real abort. */
	if (b->state == B_ACTIVE && b->out_off == b->out_len)
		port_send(b->sock, rec, fcgi_put_abort_request(rec, REQUEST_ID));
	backend_drop(b, 1);
}

/* Hand a connection of member m to client c and prepare its first records. */
static void lend(struct backend *b, struct client *c)
{
	unsigned m = c->member;

	b->client = (int16_t)(c - gw_clients);
	b->member = (uint16_t)m;
	b->params_done = b->stdin_done = b->headers_done = b->ended = b->readable = 0;
	b->begun = b->keep = b->vars_done = 0;
	b->cursor = 0;
	b->pay_off = b->pay_len = b->raw_off = b->in_len = 0;
	b->out_off = 0;
	b->bytes_in = b->bytes_out = 0;
	b->timeout_ms = or_default(member_cfg(m)->params.timeout_ms, CONFIG_BACKEND_TIMEOUT);
	fcgi_decoder_init(&b->dec, REQUEST_ID);
	b->out_len = 0;
	gw_member_state[m].busy++;
	gw_member_state[m].requests++;
	c->backend = (int16_t)(b - gw_backends);
	c->state = C_PROXY;
	c->deadline = 0;        /* the backend's timers govern from here */
	gw_touch_backend(b);
	gw_touch_client(c);
}

/*
 * FCGI_GET_VALUES with the three names the spec defines. An app answers
 * it only once a worker has accepted the connection.
 */
static uint32_t put_get_values(uint8_t *dst)
{
	static const char *const names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
	uint32_t n = FCGI_HEADER_LEN;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = strlen(names[i]);
		n += (uint32_t)fcgi_put_nv_lengths(dst + n, len, 0);
		memcpy(dst + n, names[i], len);
		n += (uint32_t)len;
	}
	fcgi_put_header(dst, FCGI_GET_VALUES, 0, (uint16_t)(n - FCGI_HEADER_LEN), 0);
	return n;
}

void backend_proven(struct backend *b)
{
	struct member_state *st = &gw_member_state[b->member];

	b->probing = 0;
	if (!b->proven) {
		b->proven = 1;
		st->proven++;
	}
	/* More workers than last learned: the app has grown; forget the limit. */
	if (st->learned_max != 0 && st->proven > st->learned_max)
		st->learned_max = 0;
}

/*
 * The most recently pooled connection of member m, or NULL. Pooled
 * connections stay in the poll set and gw_poll() handles their events
 * before any client's, so one the app has closed is gone by now: no
 * probing read is needed here. (A close that lands after the poll is
 * caught by the resend rule for idempotent requests.)
 */
static struct backend *find_idle(unsigned m)
{
	for (unsigned k = pooled; k-- > 0;)
		if (gw_backends[pool[k]].member == m)
			return &gw_backends[pool[k]];
	return NULL;
}

static struct backend *take_idle(unsigned m)
{
	struct backend *b = find_idle(m);

	if (b != NULL)
		pool_remove(b);
	return b;
}

/* A free slot, or one freed by closing the longest-idle pooled connection. */
static struct backend *free_slot(void)
{
	struct backend *oldest;

	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++)
		if (gw_backends[i].state == B_FREE)
			return &gw_backends[i];
	if (pooled == 0)
		return NULL;
	oldest = &gw_backends[pool[0]];
	backend_close(oldest);
	return oldest;
}

int backend_can_take(const struct client *c)
{
	unsigned m = c->member;

	if (find_idle(m) != NULL)
		return 1;
	if (gw_member_state[m].conns >= member_max_conns(gw_routes, m, gw_now))
		return 0;
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++)
		if (gw_backends[i].state == B_FREE || gw_backends[i].state == B_IDLE)
			return 1;
	return 0;
}

int backend_take(struct client *c)
{
	unsigned m = c->member;
	struct backend *b = take_idle(m);
	port_sock s;
	int r;

	if (b != NULL) {
		b->state = B_ACTIVE;
		b->reused = 1;
		gw_member_state[m].reused++;
		lend(b, c);
		b->deadline = slot_deadline(b->timeout_ms);
		return BACKEND_GOT;
	}
	if (gw_member_state[m].conns >= member_max_conns(gw_routes, m, gw_now))
		return BACKEND_WAIT;
	b = free_slot();
	if (b == NULL)
		return BACKEND_WAIT;
	if (member_cfg(m)->unix_path.len > 0)
		r = port_connect_unix(route_cstr(gw_routes, member_cfg(m)->unix_path),
				      member_cfg(m)->unix_path.len, &s);
	else
		r = port_connect(&member_cfg(m)->addr, &s);
	if (r == PORT_NOMEM) {
		/* Out of sockets (lwIP: PCBs in closing states): not the app's fault, wait. */
		gw_retry_soon = 1;
		return BACKEND_WAIT;
	}
	if (r != PORT_OK) {
		LOG_I("member %u: connect failed at once (port result %d)", m, r);
		return BACKEND_FAILED;
	}
	memset(b, 0, offsetof(struct backend, in));
	b->sock = s;
	b->state = B_CONNECTING;
	gw_member_state[m].conns++;
	gw_member_state[m].opened++;
	lend(b, c);
	if (backend_reuses(m) && CONFIG_BACKEND_PROBE_MS > 0) {
		b->probing = 1;
		b->out_len = put_get_values(b->out);
	}
	b->deadline = slot_deadline(or_default(member_cfg(m)->params.connect_timeout_ms,
					       CONFIG_BACKEND_CONNECT_TIMEOUT));
	return BACKEND_GOT;
}

void backend_release(struct backend *b, int reusable)
{
	struct member_state *st = &gw_member_state[b->member];

	if (!reusable || !backend_reuses(b->member) || b->raw_off != b->in_len) {
		backend_close(b);
		return;
	}
	if (st->busy > 0)
		st->busy--;
	b->client = -1;
	b->state = B_IDLE;
	pool[pooled++] = (uint16_t)(b - gw_backends);
	b->deadline = slot_deadline(member_cfg(b->member)->params.ttl_ms);
	gw_touch_backend(b);
}

void backend_idle_event(struct backend *b)
{
	/* An idle connection has nothing to say: readable means closed or broken. */
	LOG_D("pooled connection to member %u closed by the app", b->member);
	backend_close(b);
}
