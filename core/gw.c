/*
 * gw.c - the event loop: wait for readiness, then step each ready slot.
 *
 * The poll set is kept from turn to turn, not rebuilt: every slot owns one
 * entry for good (the listeners first, then the client slots, then the
 * backend slots), and an entry is worked out again (want_client,
 * want_backend) only when its slot may have changed: it or its partner
 * had an event or a timer, or another module touched it
 * (gw_touch_client, gw_touch_backend). A slot with nothing to wait for
 * keeps its entry with no socket, which the port skips.
 */
#include <string.h>

#include "gw.h"
#include "log.h"
#include "member.h"
#include "slot.h"
#include "tls.h"

#define LISTENERS (1 + (GW_TLS_SLOTS > 0))
#define POLL_MAX (LISTENERS + GW_CLIENT_SLOTS + CONFIG_BACKEND_SLOTS)
/*
 * A new connection keeps its slot this long even when others wait: a
 * client sends its request right after connecting, and taking the slot
 * before it arrives would only make the client fail and come back.
 */
#define NEWCOMER_GRACE_MS 50
/*
 * A keep-alive connection just answered keeps it longer: its next request
 * is usually on the way, but a busy client takes a while to send it (wrk
 * with 1000 connections on one thread: tens of ms), and a request that
 * meets the close is an error to a client that does not retry. Waiting
 * clients wait at most this long for slots that idle browsers hold.
 */
#define KEEPALIVE_GRACE_MS 500
/* Whose entry is pollset[i]. */
#define CLIENT_ENTRY(i) (LISTENERS + (unsigned)(i))
#define BACKEND_ENTRY(i) (LISTENERS + GW_CLIENT_SLOTS + (unsigned)(i))
#define IS_LISTENER_ENTRY(e) ((e) < LISTENERS)
#define IS_CLIENT_ENTRY(e) ((e) >= LISTENERS && (e) < BACKEND_ENTRY(0))
#define CLIENT_OF_ENTRY(e) (&gw_clients[(e) - LISTENERS])
#define BACKEND_OF_ENTRY(e) (&gw_backends[(e) - BACKEND_ENTRY(0)])

/* A listener and the client slots its connections take: [first, first + count). */
struct listener {
	port_sock sock;
	uint16_t first, count;
	uint8_t tls;
	struct port_addr addr;
};

static struct listener listeners[LISTENERS] = {
	{ .sock = PORT_SOCK_NONE, .first = 0, .count = CONFIG_CLIENT_SLOTS },
#if GW_TLS_SLOTS > 0
	{ .sock = PORT_SOCK_NONE, .first = CONFIG_CLIENT_SLOTS, .count = GW_TLS_SLOTS, .tls = 1 },
#endif
};
static int accepting;
static struct port_poll pollset[POLL_MAX];
/* Entries to work out again before the next wait, each listed once. */
static uint16_t touched[POLL_MAX];
static uint8_t is_touched[POLL_MAX];
static unsigned touched_count;
struct gw_stats gw_counters;
int gw_slots_short;
int gw_retry_soon;
uint32_t gw_now;
static int64_t wall_now;
static uint8_t wall_valid;      /* wall_now was read this turn */
static uint32_t started_ms;

static void touch_entry(unsigned e)
{
	if (!is_touched[e]) {
		is_touched[e] = 1;
		touched[touched_count++] = (uint16_t)e;
	}
}

void gw_touch_client(const struct client *c)
{
	touch_entry(CLIENT_ENTRY(c - gw_clients));
}

void gw_touch_backend(const struct backend *b)
{
	touch_entry(BACKEND_ENTRY(b - gw_backends));
}

/* A client and the backend it has now: an event of one can change the other. */
static void touch_pair(const struct client *c)
{
	gw_touch_client(c);
	if (c->backend >= 0)
		gw_touch_backend(&gw_backends[c->backend]);
}

/* Read the clocks anew: at the start of a turn and after its wait. */
static void clock_turn(void)
{
	gw_now = port_now_ms();
	wall_valid = 0;
}

int64_t gw_wall_clock(void)
{
	if (!wall_valid) {
		wall_now = port_wall_clock();
		wall_valid = 1;
	}
	return wall_now;
}

static void client_init(struct client *c, port_sock s)
{
	memset(c, 0, offsetof(struct client, headers));
	c->sock = s;
	c->wait_since = gw_now;
	c->state = C_HEAD;
	c->backend = -1;
	c->route = -1;
	c->resp_left = -1;
	c->deadline = slot_deadline(CONFIG_HEADER_TIMEOUT * 1000u);
}

static struct client *free_client(const struct listener *l)
{
	for (unsigned i = l->first; i < l->first + l->count; i++)
		if (gw_clients[i].state == C_FREE)
			return &gw_clients[i];
	return NULL;
}

/*
 * A slot that may be taken for a new connection when none is free: first
 * the longest-idle keep-alive connection, then the one that has waited
 * longest for a complete request head. A slot mid-request never is.
 */
static struct client *reclaimable_client(const struct listener *l)
{
	struct client *idle = NULL, *slow = NULL;
	uint32_t now = gw_now;

	for (unsigned i = l->first; i < l->first + l->count; i++) {
		struct client *c = &gw_clients[i];
		struct client **best = c->in_len == 0 && c->served > 0 ? &idle : &slow;

		/* Never a handshake in progress: TLS must not harm one to start another. */
		if (c->state != C_HEAD)
			continue;
		if (c->in_len == 0 &&
		    now - c->wait_since < (c->served > 0 ? KEEPALIVE_GRACE_MS : NEWCOMER_GRACE_MS))
			continue;
		if (*best == NULL || (int32_t)(c->wait_since - (*best)->wait_since) < 0)
			*best = c;
	}
	return idle != NULL ? idle : slow;
}

/*
 * Read what a candidate has sent before taking its slot: a request that
 * arrived meanwhile makes it busy (and served), a close makes it free.
 * Returns 1 when the slot is free to take now.
 */
static int still_reclaimable(struct client *c)
{
	touch_pair(c);
	request_read(c);
	touch_pair(c);
	return c->state == C_FREE || c->state == C_HEAD;
}

static struct client *take_client_slot(const struct listener *l)
{
	struct client *c = free_client(l);

	if (c != NULL)
		return c;
	while ((c = reclaimable_client(l)) != NULL && !still_reclaimable(c))
		;
	if (c != NULL && c->state == C_FREE)
		return c;
	if (c != NULL) {
		LOG_I("all client slots busy: reclaiming %s slot %u",
		      c->in_len == 0 && c->served > 0 ? "an idle keep-alive" : "a slow",
		      (unsigned)(c - gw_clients));
		request_abandon(c);
		gw_touch_client(c);
	}
	return c;
}

#if GW_TLS_SLOTS > 0
/* Move a TLS handshake on; when it is done the slot reads its request head. */
static void tls_step(struct client *c)
{
	unsigned idx = slot_tls_index(c);
	int r = tls_handshake(idx);

	/* A handshake step can take a slow CPU hundreds of ms: deadlines set after it count from now. */
	clock_turn();
	if (r == PORT_AGAIN)
		return;
	if (r != PORT_OK && tls_plain_http(idx)) {
		/* nginx's and Apache's habit: a 400 in plain HTTP, not a silent close. */
		tls_close(idx);
		c->tls = 0;
		request_respond_error(c, 400, "plain HTTP sent to the TLS port");
		return;
	}
	if (r != PORT_OK) {
		/* A browser's spare connection closing (EOF) is normal; say why only for the rest. */
		if (r != PORT_EOF)
			LOG_I("TLS handshake failed: %s", tls_error_text());
		slot_client_close(c);
		return;
	}
	c->state = C_HEAD;
	c->deadline = slot_deadline(CONFIG_HEADER_TIMEOUT * 1000u);
	/* Its request comes now: the newcomer's grace starts again, not at accept. */
	c->wait_since = gw_now;
	request_read(c);
}

/* A TLS slot that reads holds decrypted bytes poll cannot see. */
static int tls_has_input(const struct client *c, uint8_t want)
{
	return c->tls && (want & PORT_IN) && tls_pending(slot_tls_index(c)) > 0;
}

/* TLS slots come after the plain ones. */
#define TLS_ENTRIES_FROM CLIENT_ENTRY(CONFIG_CLIENT_SLOTS)
#define TLS_ENTRIES_TO CLIENT_ENTRY(GW_CLIENT_SLOTS)

/* Any such slot in the set? Then the wait must not block. */
static int tls_readable(void)
{
	for (unsigned e = TLS_ENTRIES_FROM; e < TLS_ENTRIES_TO; e++)
		if (pollset[e].sock != PORT_SOCK_NONE && tls_has_input(CLIENT_OF_ENTRY(e), pollset[e].want))
			return 1;
	return 0;
}

/* After the wait: report those slots readable. */
static int mark_tls_readable(void)
{
	int more = 0;

	for (unsigned e = TLS_ENTRIES_FROM; e < TLS_ENTRIES_TO; e++) {
		struct port_poll *p = &pollset[e];

		if (p->sock != PORT_SOCK_NONE && tls_has_input(CLIENT_OF_ENTRY(e), p->want)) {
			more += p->got == 0;
			p->got |= PORT_IN;
		}
	}
	return more;
}
#endif

static void slots_short(const struct listener *l, int yes)
{
	unsigned bit = 1u << l->tls;

	gw_slots_short = yes ? gw_slots_short | (int)bit : gw_slots_short & (int)~bit;
}

/* A connection on a TLS slot starts with the handshake; nothing else is read before it ends. */
static void client_start(struct client *c)
{
#if GW_TLS_SLOTS > 0
	if (c->tls) {
		unsigned idx = slot_tls_index(c);

		port_nodelay(c->sock);  /* the handshake's flights are many small sends */

		if (tls_open(idx, c->sock) != PORT_OK) {
			/* The arena cannot hold another connection: refuse this one cleanly. */
			LOG_W("TLS connection refused: %s", tls_error_text());
			port_close(c->sock);
			c->state = C_FREE;
			return;
		}
		c->state = C_TLS;
		tls_step(c);    /* the ClientHello often came with the connection */
		return;
	}
#endif
	request_read(c);        /* the head often came with the handshake */
}

/* Bound to one address (not a wildcard): every connection's local address is the listener's. */
static int bound_to_one_address(const struct listener *l)
{
	for (unsigned i = 0; i < sizeof(l->addr.ip); i++)
		if (l->addr.ip[i] != 0)
			return 1;
	return 0;
}

/*
 * Take waiting connections while a slot can be had. While connections
 * wait and no slot is free (gw_slots_short, a bit per listener), answers
 * carry "Connection: close" so that slots turn over. The flag is set when
 * the listener is ready and no slot can be had, or when the slots run out
 * with connections still queued; it clears when the backlog is seen empty
 * (an accept that finds none, or a wait that does not report the listener).
 */
static void accept_clients(struct listener *l)
{
	/* Asking the stack for the local address costs a system call per connection. */
	int ask_local = !bound_to_one_address(l);

	/* At most a slot table's worth per turn, so the loop stays fair. */
	for (unsigned n = 0; accepting && n < l->count; n++) {
		struct port_addr peer, local;
		struct client *c;
		port_sock s;
		int r;

		if (free_client(l) == NULL && reclaimable_client(l) == NULL) {
			/* The listener was ready, so someone waits unless we took the last. */
			slots_short(l, n == 0 || port_accept_queue(l->sock) != 0);
			return;
		}
		/* Accept first: a slot is only taken for a connection that exists. */
		r = port_accept(l->sock, &s, &peer, ask_local ? &local : NULL);
		if (r != PORT_OK) {
			if (r == PORT_AGAIN)
				slots_short(l, 0);
			return;
		}
		c = take_client_slot(l);
		if (c == NULL) {
			/* Every candidate turned out busy when read: no room after all. */
			slots_short(l, 1);
			port_close(s);
			return;
		}
		client_init(c, s);
		c->tls = l->tls;
		c->peer = peer;
		c->local = ask_local ? local : l->addr;
		client_start(c);
		touch_pair(c);
		/* A TLS handshake costs a lot: one per turn keeps the others moving. */
		if (l->tls)
			return;
	}
}

static uint8_t want_client(const struct client *c)
{
	uint8_t w = c->out_off < c->out_len ? PORT_OUT : 0;

	switch (c->state) {
	case C_HEAD:
	case C_SPOOL:
	case C_LINGER:
		return w | PORT_IN;
	case C_PROXY:
		/* Reading the body; else only watching for the client to leave. */
		return w | (slot_wants_body(c) ? PORT_IN : PORT_HUP);
	case C_WAIT:
		/* The body waits unread for the app; else watch for the client to leave. */
		return w | (slot_wants_body(c) ? 0 : PORT_HUP);
	case C_RESPOND:
		return PORT_OUT;
#if GW_TLS_SLOTS > 0
	case C_TLS:
		return tls_want(slot_tls_index(c));
#endif
	default:
		return w;
	}
}

static uint8_t want_backend(const struct backend *b)
{
	if (b->state == B_CONNECTING)
		return PORT_OUT;
	if (b->state == B_IDLE)
		return PORT_IN;
	if (b->state != B_ACTIVE)
		return 0;
	return (uint8_t)((b->out_off < b->out_len ? PORT_OUT : 0) |
			 (b->in_len < sizeof(b->in) && !b->ended ? PORT_IN : 0));
}

static void set_entry(unsigned e, port_sock s, uint8_t want)
{
	pollset[e].sock = want ? s : PORT_SOCK_NONE;
	pollset[e].want = want;
}

static void work_out_entry(unsigned e)
{
	if (IS_CLIENT_ENTRY(e)) {
		const struct client *c = CLIENT_OF_ENTRY(e);
		set_entry(e, c->sock, c->state != C_FREE ? want_client(c) : 0);
	} else {
		const struct backend *b = BACKEND_OF_ENTRY(e);
		set_entry(e, b->sock, want_backend(b));
	}
}

static int is_short(const struct listener *l)
{
	return (gw_slots_short >> l->tls) & 1;
}

/*
 * The listener is watched while a slot can be had, and while slots are
 * full but no shortage is known yet: its readiness is how one is learned.
 * Once known, it is left out until a slot frees (else it would be ready on
 * every turn and the loop would spin).
 */
static void update_pollset(void)
{
	for (unsigned i = 0; i < LISTENERS; i++) {
		const struct listener *l = &listeners[i];
		set_entry(i, l->sock, accepting && l->sock != PORT_SOCK_NONE &&
			  (!is_short(l) || free_client(l) != NULL || reclaimable_client(l) != NULL) ?
			  PORT_IN : 0);
	}
	while (touched_count > 0) {
		unsigned e = touched[--touched_count];
		is_touched[e] = 0;
		work_out_entry(e);
	}
}

#ifdef __SANITIZE_ADDRESS__
/*
 * Sanitizer builds (the test suites) check that no change of interest
 * went untouched: a missed one would leave a slot waiting for ever.
 */
static void check_pollset(void)
{
	for (unsigned e = LISTENERS; e < POLL_MAX; e++) {
		struct port_poll kept = pollset[e];

		work_out_entry(e);
		if (kept.sock != pollset[e].sock || kept.want != pollset[e].want) {
			LOG_E("poll entry %u went stale: socket %d want %u, should be %d want %u",
			      e, kept.sock, kept.want, pollset[e].sock, pollset[e].want);
			__builtin_trap();
		}
	}
}
#else
static void check_pollset(void)
{
}
#endif

/* Milliseconds until the nearest deadline, at most max_ms. */
static int next_timeout(int max_ms, uint32_t now)
{
	int32_t best = max_ms;

	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		uint32_t d = gw_clients[i].deadline;
		if (gw_clients[i].state != C_FREE && d && (int32_t)(d - now) < best)
			best = (int32_t)(d - now);
	}
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++) {
		uint32_t d = gw_backends[i].deadline;
		if (gw_backends[i].state != B_FREE && d && (int32_t)(d - now) < best)
			best = (int32_t)(d - now);
	}
	return best < 0 ? 0 : (int)best;
}

static void client_timeout(struct client *c)
{
	switch (c->state) {
	case C_HEAD:
		if (c->in_len > 0) {
			c->keep_alive = 0;
			request_respond_error(c, 408, "request head timeout");
		} else {
			request_abandon(c);     /* idle: nothing unread, nothing to protect */
		}
		break;
	case C_WAIT:
		request_respond_error(c, 503, "no backend slot became free in time");
		break;
	case C_SPOOL:
		request_respond_error(c, 408, "request body timeout");
		break;
	case C_LINGER:
	case C_TLS:             /* a handshake that never finishes */
		slot_client_close(c);
		break;
	case C_PROXY:
		if (slot_wants_body(c) && !c->head_sent) {
			c->keep_alive = 0;
			request_respond_error(c, 408, "request body timeout");
			break;
		}
		/* fall through */
	default:
		LOG_I("client %u: send timeout", (unsigned)(c - gw_clients));
		request_close(c);
		break;
	}
}

static void dispatch_backend_timeout(struct backend *b)
{
	struct client *c = b->client >= 0 ? &gw_clients[b->client] : NULL;

	gw_touch_backend(b);
	if (c != NULL)
		touch_pair(c);
	proxy_backend_timeout(b);
	if (c != NULL)
		touch_pair(c);
}

static void run_timers(void)
{
	uint32_t now = gw_now;

#if GW_TLS_SLOTS > 0
	tls_tick();     /* TLS's seconds clock across port_now_ms()'s wrap */
#endif
	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		struct client *c = &gw_clients[i];
		if (c->state != C_FREE && slot_expired(c->deadline, now)) {
			touch_pair(c);
			client_timeout(c);
			touch_pair(c);
		}
	}
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++) {
		struct backend *b = &gw_backends[i];
		if (b->state == B_IDLE && slot_expired(b->deadline, now))
			backend_close(b);       /* ttl= reached */
		else if (b->state != B_FREE && slot_expired(b->deadline, now))
			dispatch_backend_timeout(b);
	}
}

static void client_event(struct client *c, uint8_t got)
{
	switch (c->state) {
	case C_HEAD:
		request_read(c);
		break;
	case C_PROXY:
		proxy_client_event(c, got);
		break;
	case C_WAIT:            /* only a 100 Continue can be pending */
		if (got & (PORT_ERR | PORT_HUP)) {
			/* Gone before a backend was free: its slot is someone else's now. */
			LOG_I("client gone while waiting for a backend");
			request_abandon(c);
		} else if (slot_flush(c) < 0) {
			request_close(c);
		}
		break;
#if CONFIG_CHUNKED_BODY_MAX > 0
	case C_SPOOL:
		if (slot_flush(c) < 0)
			request_close(c);
		else
			spool_read(c);
		break;
#endif
	case C_RESPOND:
		if (slot_flush(c) < 0)
			request_close(c);
		else if (!slot_pending(c))
			request_done(c);
		break;
#if GW_TLS_SLOTS > 0
	case C_TLS:
		tls_step(c);
		break;
#endif
	case C_LINGER: {
		uint8_t sink[256];
		long n;
		while ((n = slot_recv(c, sink, sizeof(sink))) > 0)
			;
		if (n != PORT_AGAIN) {
			slot_client_close(c);
		}
		break;
	}
	default:
		break;
	}
}

/* An event for a client slot: it and its backend, before and after, may change. */
static void dispatch_client(struct client *c, uint8_t got)
{
	touch_pair(c);
	client_event(c, got);
	touch_pair(c);
}

static void dispatch_backend(struct backend *b, uint8_t got)
{
	struct client *c = b->client >= 0 ? &gw_clients[b->client] : NULL;

	/* Pooled ones are read before the rest; one pooled since has no event to take. */
	if (b->state != B_ACTIVE && b->state != B_CONNECTING)
		return;
	gw_touch_backend(b);
	if (c != NULL)
		touch_pair(c);
	proxy_backend_event(b, got);
	if (c != NULL)
		touch_pair(c);
}

/* Did the slot behind entry e change hands this turn? Then its event is stale. */
static int entry_is_stale(unsigned e)
{
	port_sock now = IS_CLIENT_ENTRY(e) ? CLIENT_OF_ENTRY(e)->sock : BACKEND_OF_ENTRY(e)->sock;

	return now != pollset[e].sock;
}

void gw_poll(int max_wait_ms)
{
	int ready;
	unsigned listener_ready = 0;    /* a bit per listener */

	clock_turn();
	update_pollset();
	check_pollset();

	/* Slots full with newcomers in their grace: look at the listener again soon. */
	if (accepting && free_client(&listeners[0]) == NULL && max_wait_ms > NEWCOMER_GRACE_MS)
		max_wait_ms = NEWCOMER_GRACE_MS;
#if GW_TLS_SLOTS > 0
	/* Decrypted bytes wait inside TLS, where poll cannot see them. */
	if (tls_readable() && max_wait_ms > 0)
		max_wait_ms = 0;
#endif
	/* A connect had no socket: retry the waiting clients after a short wait. */
	if (gw_retry_soon && max_wait_ms > NEWCOMER_GRACE_MS)
		max_wait_ms = NEWCOMER_GRACE_MS;
	gw_retry_soon = 0;
	ready = port_wait(pollset, POLL_MAX, next_timeout(max_wait_ms, gw_now));
	clock_turn();
#if GW_TLS_SLOTS > 0
	if (ready >= 0)
		ready += mark_tls_readable();
#endif

	/* A listener watched and not reported: nobody waits there. */
	for (unsigned i = 0; ready >= 0 && i < LISTENERS; i++)
		if (pollset[i].sock != PORT_SOCK_NONE && pollset[i].got == 0)
			slots_short(&listeners[i], 0);

	/*
	 * Pooled connections first: one the app closed must be gone before a
	 * client could be given it. Then the other connections, and the
	 * listener last: a slot whose next request has just arrived must be
	 * seen busy before a newcomer may take it.
	 */
	for (unsigned e = BACKEND_ENTRY(0); ready > 0 && e < POLL_MAX; e++) {
		if (pollset[e].got != 0 && BACKEND_OF_ENTRY(e)->state == B_IDLE) {
			backend_idle_event(BACKEND_OF_ENTRY(e));
			pollset[e].got = 0;
		}
	}
	for (unsigned e = 0, seen = 0; ready > 0 && e < POLL_MAX && seen < (unsigned)ready; e++) {
		uint8_t got = pollset[e].got;

		if (got == 0)
			continue;
		seen++;
		if (IS_LISTENER_ENTRY(e))
			listener_ready |= 1u << e;
		else if (entry_is_stale(e))
			continue;       /* the slot was freed and taken again this round */
		else if (IS_CLIENT_ENTRY(e))
			dispatch_client(CLIENT_OF_ENTRY(e), got);
		else
			dispatch_backend(BACKEND_OF_ENTRY(e), got);
	}
	for (unsigned i = 0; i < LISTENERS; i++)
		if (listener_ready & (1u << i))
			accept_clients(&listeners[i]);
	run_timers();
	proxy_serve_waiting();
}

static int listen_on(struct listener *l, const struct port_addr *addr)
{
	char ip[48];
	int r = port_listen(addr, CONFIG_LISTEN_BACKLOG, l->count, &l->sock);

	if (r != PORT_OK)
		return r;
	if (port_local_addr(l->sock, &l->addr) != PORT_OK)
		l->addr = *addr;
	cgi_format_ip(&l->addr, ip, sizeof(ip));
	if (l->addr.family == PORT_AF_INET6)
		LOG_I("listening on [%s]:%u%s", ip, l->addr.port, l->tls ? " (TLS)" : "");
	else
		LOG_I("listening on %s:%u%s", ip, l->addr.port, l->tls ? " (TLS)" : "");
	return 0;
}

int gw_start(const struct route_table *routes, const struct port_addr *addr)
{
	int r;

	/*
	 * The slots start free as zeroed static memory (C_FREE and B_FREE are
	 * 0), and gw_drain() leaves them free: writing every slot's state here
	 * would make a page of each resident before it is ever used.
	 */
	gw_routes = routes;
	for (unsigned e = 0; e < POLL_MAX; e++)
		pollset[e].sock = PORT_SOCK_NONE;
	member_reset();
	clock_turn();
	started_ms = gw_now;
	r = listen_on(&listeners[0], addr);
	if (r == 0)
		accepting = 1;
	return r;
}

int gw_start_tls(const struct port_addr *addr)
{
#if GW_TLS_SLOTS > 0
	return listen_on(&listeners[1], addr);
#else
	(void)addr;
	return PORT_INVALID;
#endif
}

const struct port_addr *gw_listen_addr(void)
{
	return &listeners[0].addr;
}

const struct port_addr *gw_tls_listen_addr(void)
{
	return &listeners[LISTENERS - 1].addr;
}

static unsigned busy_clients(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		const struct client *c = &gw_clients[i];
		/* Idle keep-alive connections and handshakes are not requests in flight. */
		if (c->state != C_FREE && c->state != C_TLS && !(c->state == C_HEAD && c->in_len == 0))
			n++;
	}
	return n;
}

/* What is still open when the loop ends: after a clean run, no request. */
static void log_slots_in_use(void)
{
	unsigned idle_clients = 0, clients = 0, pooled = 0, backends = 0;

	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		clients += gw_clients[i].state != C_FREE;
		idle_clients += (gw_clients[i].state == C_HEAD && gw_clients[i].in_len == 0) ||
				gw_clients[i].state == C_TLS;
	}
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++) {
		backends += gw_backends[i].state != B_FREE;
		pooled += gw_backends[i].state == B_IDLE;
	}
	LOG_I("slots at stop: clients busy %u (plus %u idle keep-alive), backends busy %u (plus %u pooled)",
	      clients - idle_clients, idle_clients, backends - pooled, pooled);
}

void gw_drain(uint32_t grace_ms)
{
	uint32_t end;

	clock_turn();
	end = slot_deadline(grace_ms);
	accepting = 0;
	for (unsigned i = 0; i < LISTENERS; i++) {
		if (listeners[i].sock != PORT_SOCK_NONE)
			port_close(listeners[i].sock);
		listeners[i].sock = PORT_SOCK_NONE;
	}
	LOG_I("stopping: %u requests in flight", busy_clients());
	while (busy_clients() > 0 && !slot_expired(end, gw_now))
		gw_poll(GW_POLL_MAX_MS);
	log_slots_in_use();
	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		struct client *c = &gw_clients[i];
		if (c->state == C_FREE)
			continue;
		if (c->backend >= 0)
			proxy_release(c);
		slot_client_close(c);
	}
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++)
		backend_close(&gw_backends[i]);
}

void gw_get_stats(struct gw_stats *out)
{
	*out = gw_counters;
	out->clients_busy = 0;
	out->backends_busy = 0;
	out->uptime_ms = gw_now - started_ms;
	for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
		const struct client *c = &gw_clients[i];
		if (c->state == C_FREE)
			continue;
		out->clients_busy++;
		out->bytes_in += c->bytes_in;
		out->bytes_out += c->bytes_out;
	}
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++)
		out->backends_busy += gw_backends[i].state != B_FREE;
}

void gw_get_budget(struct gw_budget *out)
{
	out->client_slot = sizeof(struct client);
	out->backend_slot = sizeof(struct backend);
	out->clients = sizeof(gw_clients);
	out->backends = sizeof(gw_backends);
	out->route_table = sizeof(struct route_table);
	out->poll_set = sizeof(pollset) + sizeof(touched) + sizeof(is_touched);
	out->total = out->clients + out->backends + out->route_table + out->poll_set;
}
