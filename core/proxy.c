/*
 * proxy.c - the FastCGI handler: one request of a client slot carried over
 * one backend slot.
 *
 * Request side: BEGIN_REQUEST, PARAMS (whole pairs, as many records as it
 * takes), then the body as STDIN records straight from the client's input
 * buffer. Response side: records are de-framed in place in the backend's
 * input buffer, the CGI header block is turned into an HTTP head, and the
 * body is copied to the client's output buffer (chunk-framed when the app
 * gave no length). Each buffer stops its reader when full: back-pressure
 * both ways with no memory beyond the slots.
 */
#include <string.h>

#include "cgi_resp.h"
#include "log.h"
#include "member.h"
#include "slot.h"

#define REQUEST_ID 1            /* one request per connection, as every peer does */
#define CHUNK_OVERHEAD 12       /* "%x\r\n" for a 32-bit size, and "\r\n" */
#define LAST_CHUNK "0\r\n\r\n"

static const struct route_member *member_of(const struct backend *b)
{
	return &gw_routes->members[b->member];
}

static struct client *client_of(const struct backend *b)
{
	return b->client >= 0 ? &gw_clients[b->client] : NULL;
}

static void detach(struct client *c)
{
	c->backend = -1;
}

/* Is this request with its route's authorizer (FCGI_ROLE=AUTHORIZER) rather than its handler? */
static int asking_authorizer(const struct client *c)
{
#if CONFIG_AUTHORIZER
	return c->auth == AUTH_ASKING || c->auth == AUTH_LETTING;
#else
	(void)c;
	return 0;
#endif
}

/* The authorizer said 200: its answer is not for the client. */
static int authorizer_let_through(const struct client *c)
{
#if CONFIG_AUTHORIZER
	return c->auth == AUTH_LETTING;
#else
	(void)c;
	return 0;
#endif
}

void proxy_release(struct client *c)
{
	if (c->backend >= 0) {
		struct backend *b = &gw_backends[c->backend];
		/* The client went away or was answered early: tell the app. */
		if (b->state == B_ACTIVE && !b->ended)
			backend_abort(b);
		else
			backend_close(b);
	}
	detach(c);
}

static void fail(struct client *c, unsigned status, const char *why)
{
	const struct route_member *m = &gw_routes->members[c->member];

	LOG_W("backend %.*s:%u: %s", (int)m->host.len, route_cstr(gw_routes, m->host),
	      m->addr.port, why);
	request_respond_error(c, status, why);
}

static int is_balanced(const struct client *c)
{
	return gw_routes->routes[c->route].kind == ROUTE_BALANCER && !asking_authorizer(c);
}

/*
 * The request has not reached the app (connect failed, or the app refused
 * it before a byte of answer): move on to another balancer member, or
 * answer. Returns 0 when c->member was changed for another try.
 */
static int try_elsewhere(struct client *c, unsigned status, const char *why)
{
	const struct route *r = &gw_routes->routes[c->route];
	int m;

	if (!is_balanced(c) ||
	    ++c->attempts >= gw_routes->balancers[r->target].member_count) {
		fail(c, is_balanced(c) ? 503 : status, why);
		return -1;
	}
	LOG_W("member %u: %s; trying another member", c->member, why);
	m = member_pick(gw_routes, r, gw_now);
	if (m < 0) {
		fail(c, 503, "no usable balancer member");
		return -1;
	}
	c->member = (uint16_t)m;
	return 0;
}

static void connect_failed(struct client *c, const char *why)
{
	member_failed(gw_routes, c->member, gw_now);
	if (try_elsewhere(c, 502, why) == 0) {
		c->state = C_WAIT;
		proxy_attach(c);
	}
}

static void pump_and_arm(struct client *c);

/* Give a waiting client a connection to its member: pooled or new. */
void proxy_attach(struct client *c)
{
	gw_touch_client(c);     /* called for waiting clients too, not only in their events */
	while (c->state == C_WAIT) {
		int r = backend_take(c);
		if (r == BACKEND_GOT && gw_backends[c->backend].state == B_ACTIVE)
			pump_and_arm(c);        /* a pooled connection: send at once */
		if (r != BACKEND_FAILED)
			return;                 /* attached, or waits for a slot */
		member_failed(gw_routes, c->member, gw_now);
		if (try_elsewhere(c, 502, "connect failed") < 0)
			return;
	}
}

static void start_with(struct client *c, int m)
{
	c->member = (uint16_t)m;
	c->attempts = 0;
	c->state = C_WAIT;
	c->wait_since = gw_now;
	c->deadline = slot_deadline(CONFIG_BACKEND_TIMEOUT * 1000u);
	proxy_attach(c);
}

int proxy_start(struct client *c)
{
	int m = member_pick(gw_routes, &gw_routes->routes[c->route], gw_now);

	if (m < 0)
		return 503;     /* every member is in error state: no connect attempt */
	request_send_continue(c);
	start_with(c, m);
	return 0;
}

#if CONFIG_AUTHORIZER
/*
 * Ask the route's authorizer first: the request without its body. No
 * 100 Continue yet: a refused client must not send the body.
 */
int proxy_ask_authorizer(struct client *c)
{
	const struct route *r = &gw_routes->routes[c->route];

	if (!member_usable(gw_routes, (unsigned)r->authorizer, gw_now))
		return 503;
	c->auth = AUTH_ASKING;
	c->auth_vars_len = 0;
	start_with(c, r->authorizer);
	return 0;
}
#endif

/* Backends freed up: serve waiting clients, oldest first. */
void proxy_serve_waiting(void)
{
	for (unsigned turn = 0; turn < GW_CLIENT_SLOTS; turn++) {
		struct client *oldest = NULL;

		for (unsigned i = 0; i < GW_CLIENT_SLOTS; i++) {
			struct client *c = &gw_clients[i];
			if (c->state == C_WAIT && backend_can_take(c) &&
			    (oldest == NULL || (int32_t)(c->wait_since - oldest->wait_since) < 0))
				oldest = c;
		}
		if (oldest == NULL)
			return;
		proxy_attach(oldest);
	}
}

/* --- request side ---------------------------------------------------- */

static size_t out_space(const struct backend *b)
{
	return sizeof(b->out) - b->out_len;
}

/*
 * After the meta-variables, the responder gets what the authorizer passed
 * on (its Variable-NAME headers) in a record of their own. Returns 0 when
 * they are out (or there are none), 1 to wait for room.
 */
static int put_auth_vars(struct client *c, struct backend *b)
{
#if CONFIG_AUTHORIZER
	if (b->vars_done || c->auth_vars_len == 0 || asking_authorizer(c))
		return 0;
	if (out_space(b) < 2u * FCGI_HEADER_LEN + c->auth_vars_len)
		return 1;
	fcgi_put_header(b->out + b->out_len, FCGI_PARAMS, REQUEST_ID, c->auth_vars_len, 0);
	memcpy(b->out + b->out_len + FCGI_HEADER_LEN, c->auth_vars, c->auth_vars_len);
	b->out_len += FCGI_HEADER_LEN + c->auth_vars_len;
	b->vars_done = 1;
#else
	(void)c;
	(void)b;
#endif
	return 0;
}

/*
 * Append one PARAMS record of whole pairs, and the empty record that ends
 * the stream once every pair is out. Returns 0 (possibly having written
 * nothing: wait for the buffer to drain), or -1 when the next pair cannot
 * fit even an empty buffer.
 */
static int put_params_record(struct client *c, struct backend *b)
{
	const struct route_member *m = member_of(b);
	struct cgi_request cr = {
		.req = &c->req,
		.path = c->path,
		.path_len = c->path_len,
		.script_len = c->script_len,
		.docroot = route_cstr(gw_routes, m->docroot),
		.docroot_len = m->docroot.len,
		.local = &c->local,
		.peer = &c->peer,
		.authorizer = (uint8_t)asking_authorizer(c),
		.https = (uint8_t)slot_is_tls_slot(c),
	};
	size_t space = out_space(b);
	long n;

	/* Room for this record's header and the stream's final empty record. */
	if (space <= 2 * FCGI_HEADER_LEN)
		return 0;
	space -= 2 * FCGI_HEADER_LEN;
	if (space > FCGI_MAX_CONTENT)
		space = FCGI_MAX_CONTENT;
	n = cgi_params_write(&cr, &b->cursor, b->out + b->out_len + FCGI_HEADER_LEN, space);
	if (n < 0)
		return b->out_len == 0 ? -1 : 0;
	if (n > 0) {
		fcgi_put_header(b->out + b->out_len, FCGI_PARAMS, REQUEST_ID, (uint16_t)n, 0);
		b->out_len += FCGI_HEADER_LEN + (uint32_t)n;
	}
	if (b->cursor == cgi_params_end(&cr) && put_auth_vars(c, b) == 0) {
		fcgi_put_header(b->out + b->out_len, FCGI_PARAMS, REQUEST_ID, 0, 0);
		b->out_len += FCGI_HEADER_LEN;
		b->params_done = 1;
	}
	return 0;
}

/*
 * Move body bytes from the client's input into STDIN records. The head
 * stays where it is until the request is done (the access log and a
 * second round of PARAMS still read it); the body streams behind it.
 */
static void put_stdin(struct client *c, struct backend *b)
{
	for (;;) {
		uint32_t buffered = slot_in_after_head(c);
		uint32_t avail = c->body_left < (int64_t)buffered ? (uint32_t)c->body_left : buffered;
		uint8_t *body = c->in + c->head_len;
		size_t space = out_space(b);
		uint32_t n;

		if (c->body_left == 0 || asking_authorizer(c)) {
			if (space >= FCGI_HEADER_LEN) {
				fcgi_put_header(b->out + b->out_len, FCGI_STDIN, REQUEST_ID, 0, 0);
				b->out_len += FCGI_HEADER_LEN;
				b->stdin_done = 1;
			}
			return;
		}
		if (avail == 0 || space <= FCGI_HEADER_LEN)
			return;
		n = (uint32_t)(space - FCGI_HEADER_LEN);
		if (n > avail)
			n = avail;
		if (n > FCGI_MAX_CONTENT)
			n = FCGI_MAX_CONTENT;
		fcgi_put_header(b->out + b->out_len, FCGI_STDIN, REQUEST_ID, (uint16_t)n, 0);
		memcpy(b->out + b->out_len + FCGI_HEADER_LEN, body, n);
		b->out_len += FCGI_HEADER_LEN + n;
		memmove(body, body + n, buffered - n);
		c->in_len -= n;
		c->body_left -= n;
	}
}

/* Fill the backend's output buffer from the request; -1 when it cannot be done. */
static int fill_request(struct client *c, struct backend *b)
{
	if (b->probing)
		return 0;       /* the request waits for the GET_VALUES answer */
	if (!b->begun) {
		if (out_space(b) < 2 * FCGI_HEADER_LEN)
			return 0;
		b->out_len += (uint32_t)fcgi_put_begin_request(b->out + b->out_len, REQUEST_ID,
							       asking_authorizer(c) ? FCGI_AUTHORIZER :
							       FCGI_RESPONDER,
							       backend_reuses(b->member) ? FCGI_KEEP_CONN : 0);
		b->begun = 1;
	}
	while (!b->params_done) {
		uint32_t before = b->out_len;
		if (put_params_record(c, b) < 0)
			return -1;
		if (b->out_len == before)
			return 0;
	}
	if (!b->stdin_done)
		put_stdin(c, b);
	return 0;
}

static int send_request(struct backend *b)
{
	while (b->out_off < b->out_len) {
		long n = port_send(b->sock, b->out + b->out_off, b->out_len - b->out_off);
		if (n == PORT_AGAIN)
			return 0;
		if (n < 0)
			return -1;
		b->out_off += (uint32_t)n;
		b->bytes_out += (uint64_t)n;
		if (!b->probing)        /* the probe keeps its own, shorter clock */
			b->deadline = slot_deadline(b->timeout_ms);
	}
	b->out_off = b->out_len = 0;
	return 0;
}

/* --- response side --------------------------------------------------- */

static int is_hop_by_hop(struct http_slice name)
{
	static const struct http_slice hop[] = {
		HTTP_LIT("Status"), HTTP_LIT("Content-Length"), HTTP_LIT("Connection"),
		HTTP_LIT("Keep-Alive"), HTTP_LIT("Transfer-Encoding"), HTTP_LIT("TE"),
		HTTP_LIT("Trailer"), HTTP_LIT("Upgrade"), HTTP_LIT("Proxy-Connection"),
	};
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (http_slice_ieq(name, hop[i].p, hop[i].len))
			return 1;
	return 0;
}

/* Turn the CGI header block into the HTTP response head; -1 if it does not fit. */
static int write_response_head(struct client *c, const char *block, size_t len,
			       const struct cgi_resp *resp)
{
	struct http_slice name, value;
	size_t pos = 0;
	int r;

	c->no_body = (c->req.method.len == 4 && memcmp(c->req.method.p, "HEAD", 4) == 0) ||
		     resp->status == 204 || resp->status == 304;
	/* Without a body, whatever the app sends after the head is dropped. */
	c->resp_left = c->no_body ? -1 : resp->content_length;
	if (resp->content_length < 0 && !c->no_body) {
		if (c->req.version_minor >= 1)
			c->chunked = 1;
		else
			c->keep_alive = 0;      /* HTTP/1.0: the close ends the body */
	}
	if (c->body_left > 0)
		c->keep_alive = 0;              /* the app did not read the whole body */
	r = request_write_head(c, resp->status, resp->reason);
	while (cgi_resp_next(block, len, &pos, &name, &value)) {
		if (is_hop_by_hop(name))
			continue;
		r |= slot_out_put(c, name.p, name.len);
		r |= slot_out_str(c, ": ");
		r |= slot_out_put(c, value.p, value.len);
		r |= slot_out_str(c, "\r\n");
	}
	if (resp->content_length >= 0 && resp->status != 204) {
		r |= slot_out_str(c, "Content-Length: ");
		r |= slot_out_uint(c, (unsigned long long)resp->content_length, 10);
		r |= slot_out_str(c, "\r\n");
	} else if (c->chunked) {
		r |= slot_out_str(c, "Transfer-Encoding: chunked\r\n");
	}
	r |= request_end_head(c);
	request_body_starts(c);
	return r ? -1 : 0;
}

#if CONFIG_AUTHORIZER
/* "Variable-NAME: value" headers of an authorizer's 200, as FastCGI pairs NAME=value. */
static int take_auth_vars(struct client *c, const char *block, size_t len)
{
	static const char prefix[] = "Variable-";
	const size_t plen = sizeof(prefix) - 1;
	struct http_slice name, value;
	size_t pos = 0;

	while (cgi_resp_next(block, len, &pos, &name, &value)) {
		struct http_slice head = { name.p, plen };
		uint8_t *dst = c->auth_vars + c->auth_vars_len;
		size_t need;

		if (name.len <= plen || !http_slice_ieq(head, prefix, plen))
			continue;
		name.p += plen;
		name.len -= plen;
		need = fcgi_nv_size(name.len, value.len);
		if (need == 0 || need > sizeof(c->auth_vars) - c->auth_vars_len)
			return -1;
		dst += fcgi_put_nv_lengths(dst, name.len, value.len);
		memcpy(dst, name.p, name.len);
		memcpy(dst + name.len, value.p, value.len);
		c->auth_vars_len = (uint16_t)(c->auth_vars_len + need);
	}
	return 0;
}
#endif

/* Parse the CGI header block once it is complete; -1 after answering an error. */
static int take_headers(struct client *c, struct backend *b)
{
	const char *block = (const char *)b->in + b->pay_off;
	struct cgi_resp resp;
	long n;

	if (b->pay_len == b->pay_off && !b->ended)
		return 0;       /* nothing from the app yet */
	n = cgi_resp_parse(block, b->pay_len - b->pay_off, &resp);
	if (n == -2) {
		if (b->ended) {
			fail(c, 502, "the app sent no CGI header block");
			return -1;
		}
		if (b->pay_off == 0 && b->raw_off == b->in_len && b->in_len == sizeof(b->in)) {
			fail(c, 502, "CGI header block larger than BACKEND_IN_BUF");
			return -1;
		}
		return 0;
	}
	if (n < 0 || resp.status < 200) {
		fail(c, 502, "invalid CGI header block");
		return -1;
	}
#if CONFIG_AUTHORIZER
	if (asking_authorizer(c) && resp.status == 200) {
		/* Let through: keep the variables, drop the rest of its answer. */
		if (take_auth_vars(c, block, (size_t)n) < 0) {
			fail(c, 500, "authorizer variables larger than AUTH_VARS_MAX");
			return -1;
		}
		c->auth = AUTH_LETTING;
		b->headers_done = 1;
		b->pay_off += (uint32_t)n;
		return 0;
	}
	/* Any other answer of the authorizer goes to the client as it is. */
#endif
	c->out_off = c->out_len = 0;
	if (write_response_head(c, block, (size_t)n, &resp) < 0) {
		c->out_off = c->out_len = 0;
		fail(c, 502, "response head larger than CLIENT_OUT_BUF");
		return -1;
	}
	c->head_sent = 1;
	c->app_status = resp.status;
	b->headers_done = 1;
	b->pay_off += (uint32_t)n;
	return 0;
}

/*
 * Send out[] (the head, a chunk's size line) and body[0..n) (and a chunk's
 * CRLF) in one write, straight from the backend's buffer; what the socket
 * does not take is copied into out[], which has room for it.
 */
static void send_body_through(struct client *c, const uint8_t *body, uint32_t n)
{
	struct port_iov tail[2] = { { body, n }, { "\r\n", 2 } };
	long sent = slot_send_through(c, tail, c->chunked ? 2 : 1);
	/* A failed send leaves it all to out[]: the next flush reports the error. */
	uint32_t done = sent > 0 ? (uint32_t)sent : 0;

	if (done < n) {
		slot_out_put(c, body + done, n - done);
		done = n;
	}
	if (c->chunked && done < n + 2)
		slot_out_put(c, "\r\n" + (done - n), n + 2 - done);
}

/* Pass payload to the client, chunk-framed or bounded by Content-Length. */
static void deliver_body(struct client *c, struct backend *b)
{
	uint32_t avail = b->pay_len - b->pay_off;
	size_t space = slot_out_space(c);

	if (avail == 0)
		return;
	if (c->no_body || authorizer_let_through(c)) {
		b->pay_off = b->pay_len;
		return;
	}
	if (c->resp_left >= 0 && avail > c->resp_left) {
		LOG_W("the app sent more body than its Content-Length; the rest is dropped");
		b->pay_off += avail - (uint32_t)c->resp_left;
		avail = (uint32_t)c->resp_left;
		c->close_after = 1;
		if (avail == 0)
			return;
	}
	/* Bounded by out[]'s room, so that what the socket does not take fits there. */
	if (c->chunked) {
		if (space <= CHUNK_OVERHEAD)
			return;
		if (avail > space - CHUNK_OVERHEAD)
			avail = (uint32_t)(space - CHUNK_OVERHEAD);
		slot_out_uint(c, avail, 16);
		slot_out_str(c, "\r\n");
	} else if (avail > space) {
		avail = (uint32_t)space;
	}
	b->pay_off += avail;
	if (c->resp_left >= 0)
		c->resp_left -= avail;
	send_body_through(c, b->in + b->pay_off - avail, avail);
}

/* A number in a GET_VALUES_RESULT value; 0 when it is not one. */
static unsigned parse_count(const uint8_t *p, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v > UINT16_MAX ? UINT16_MAX : v;
}

/*
 * FCGI_MAX_CONNS and FCGI_MAX_REQS from a piece of GET_VALUES_RESULT cap
 * the member's connections. A pair split across pieces is not read (the
 * answer is a few dozen bytes and comes in one piece in practice).
 */
static void take_values(struct backend *b, const uint8_t *p, size_t len)
{
	struct member_state *st = &gw_member_state[b->member];
	struct fcgi_nv nv;
	long n;

	while ((n = fcgi_nv_next(p, len, &nv)) > 0) {
		unsigned v = parse_count(nv.value, nv.value_len);
		int is_max = (nv.name_len == 14 && memcmp(nv.name, "FCGI_MAX_CONNS", 14) == 0) ||
			     (nv.name_len == 13 && memcmp(nv.name, "FCGI_MAX_REQS", 13) == 0);
		if (is_max && v > 0 && (st->declared_max == 0 || v < st->declared_max))
			st->declared_max = (uint16_t)v;
		p += n;
		len -= (size_t)n;
	}
}

/* END_REQUEST said CANT_MPX_CONN, OVERLOADED or UNKNOWN_ROLE before any answer. */
static void refused(struct client *c, struct backend *b)
{
	backend_close(b);
	detach(c);
	if (try_elsewhere(c, 502, "the app refused the request") == 0) {
		c->state = C_WAIT;
		proxy_attach(c);
	}
}

/*
 * Decode every raw byte in in[]. STDOUT payload joins the payload region:
 * where none is pending, the region simply starts where the payload lies
 * (behind its record header); only payload that follows pending payload
 * is moved down to join it.
 */
static int decode_records(struct client *c, struct backend *b)
{
	while (b->raw_off < b->in_len && !b->ended) {
		struct fcgi_event ev;
		long n = fcgi_decode(&b->dec, b->in + b->raw_off, b->in_len - b->raw_off, &ev);

		if (n < 0) {
			fail(c, 502, "invalid FastCGI record");
			return -1;
		}
		b->raw_off += (uint32_t)n;
		if (ev.type == FCGI_EV_STDOUT) {
			if (b->pay_off == b->pay_len)
				b->pay_off = b->pay_len = (uint32_t)(ev.data - b->in);
			else
				memmove(b->in + b->pay_len, ev.data, ev.len);
			b->pay_len += (uint32_t)ev.len;
		} else if (ev.type == FCGI_EV_STDERR) {
			LOG_W("app stderr: %.*s", (int)(ev.len && ev.data[ev.len - 1] == '\n' ? ev.len - 1 : ev.len),
			      (const char *)ev.data);
		} else if (ev.type == FCGI_EV_VALUES) {
			take_values(b, ev.data, ev.len);
		} else if (ev.type == FCGI_EV_OTHER) {
			take_values(b, ev.data, ev.len);        /* len 0 but for GET_VALUES_RESULT */
			if (b->probing) {
				/* GET_VALUES_RESULT (or UNKNOWN_TYPE): a worker reads this connection */
				backend_proven(b);
				b->deadline = slot_deadline(b->timeout_ms);
			}
		} else if (ev.type == FCGI_EV_END) {
			b->ended = 1;
			b->keep = ev.protocol_status == FCGI_REQUEST_COMPLETE;
			if (!b->keep && !b->headers_done) {
				refused(c, b);
				return -1;
			}
		}
	}
	return 0;
}

/* Make room in in[]: payload region to the front, raw bytes after it. */
static void compact_input(struct backend *b)
{
	uint32_t pay = b->pay_len - b->pay_off;
	uint32_t raw = b->in_len - b->raw_off;

	if (b->pay_off == 0 && b->pay_len == b->raw_off)
		return;
	memmove(b->in, b->in + b->pay_off, pay);
	memmove(b->in + pay, b->in + b->raw_off, raw);
	b->pay_off = 0;
	b->pay_len = pay;
	b->raw_off = pay;
	b->in_len = pay + raw;
}

#if CONFIG_AUTHORIZER
/* The authorizer let the request through: free its connection, run the route's handler. */
static void authorized(struct client *c, struct backend *b)
{
	if (b->keep)
		backend_proven(b);
	backend_release(b, b->keep && b->stdin_done && b->out_off == b->out_len);
	detach(c);
	c->auth = AUTH_PASSED;
	request_route(c);
}
#endif

/* The app has answered completely and every byte went to out[]. */
static void finish(struct client *c, struct backend *b)
{
#if CONFIG_AUTHORIZER
	if (authorizer_let_through(c)) {
		authorized(c, b);
		return;
	}
#endif
	if (c->chunked && slot_out_put(c, LAST_CHUNK, sizeof(LAST_CHUNK) - 1) < 0)
		return;         /* wait for room in out[] */
	if (c->resp_left > 0) {
		LOG_W("the app sent less body than its Content-Length; closing the connection");
		c->close_after = 1;
	}
	if (!b->stdin_done || c->body_left > 0)
		c->keep_alive = 0;
	/* Pool it only if the app read the whole request and ended cleanly. */
	if (b->keep)
		backend_proven(b);
	backend_release(b, b->keep && b->stdin_done && b->out_off == b->out_len);
	detach(c);
	c->state = C_RESPOND;
	c->deadline = slot_deadline(CONFIG_HEADER_TIMEOUT * 1000u);
	if (slot_flush(c) < 0)
		request_close(c);
	else if (c->out_len == 0)
		request_done(c);
}

/* A GET or HEAD without a body, not a byte of its answer in: sending it again is harmless. */
static int unanswered_idempotent(const struct client *c, const struct backend *b)
{
	const struct http_slice m = c->req.method;

	return !c->head_sent && b->bytes_in == 0 && c->req.content_length <= 0 &&
	       ((m.len == 3 && memcmp(m.p, "GET", 3) == 0) ||
		(m.len == 4 && memcmp(m.p, "HEAD", 4) == 0));
}

/* The app closed or failed before END_REQUEST. */
static void backend_lost(struct client *c, const char *why)
{
	struct backend *b = &gw_backends[c->backend];
	int reused = b->reused;

	if (unanswered_idempotent(c, b) && (reused || is_balanced(c))) {
		/*
		 * nginx's rule: only an idempotent request the app never
		 * answered goes again. A pooled connection the app closed is
		 * normal (the request is sent on another one); a new one lost
		 * before any answer counts against the member, as a refused
		 * connect does, and the request moves to another member.
		 */
		backend_close(b);
		detach(c);
		if (!reused) {
			connect_failed(c, why);
			return;
		}
		LOG_I("pooled connection lost (%s); sending the request again", why);
		c->state = C_WAIT;
		proxy_attach(c);
		return;
	}
	if (!c->head_sent) {
		fail(c, 502, why);
		return;
	}
	LOG_W("%s after the response began; closing the client connection", why);
	c->close_after = 1;
	c->keep_alive = 0;
	backend_close(b);
	detach(c);
	c->state = C_RESPOND;   /* flush what we have, then close: never a false end */
}

static void read_backend(struct client *c, struct backend *b)
{
	long n;

	if (sizeof(b->in) - b->in_len < sizeof(b->in) / 4)
		compact_input(b);
	if (b->in_len == sizeof(b->in))
		return;
	n = port_recv(b->sock, b->in + b->in_len, sizeof(b->in) - b->in_len);
	if (n == PORT_AGAIN) {
		b->readable = 0;
		return;
	}
	if (n <= 0) {
		b->readable = 0;
		backend_lost(c, n == PORT_EOF ? "the app closed the connection" : "connection reset");
		return;
	}
	b->in_len += (uint32_t)n;
	b->bytes_in += (uint64_t)n;
	b->deadline = slot_deadline(b->timeout_ms);
}

static void read_client_body(struct client *c)
{
	long n;

	if (!slot_wants_body(c))
		return;
	n = slot_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n == PORT_AGAIN) {
		c->readable = 0;
		return;
	}
	if (n <= 0) {
		LOG_I("client gone during the request body");
		c->keep_alive = 0;
		request_close(c);
		return;
	}
	c->in_len += (uint32_t)n;
	c->bytes_in += (uint64_t)n;
}

/*
 * Where the data of a pair stands; pump() loops while this changes. The
 * byte counters matter: buffers can come back to the very same offsets
 * after a turn that moved a whole buffer's worth of data.
 */
struct pump_mark {
	uint64_t io;
	uint32_t v[8];
};

static void mark(const struct client *c, const struct backend *b, struct pump_mark *m)
{
	m->io = c->bytes_in + c->bytes_out + b->bytes_in + b->bytes_out;
	m->v[0] = c->in_len;
	m->v[1] = c->out_len;
	m->v[2] = b->out_len;
	m->v[3] = b->in_len;
	m->v[4] = b->pay_off;
	m->v[5] = b->pay_len;
	m->v[6] = b->raw_off;
	m->v[7] = (uint32_t)b->ended << 1 | b->stdin_done;
}

/*
 * Move everything that can move without blocking, on both sides, until
 * nothing changes. The slot may be freed or change state inside.
 */
static void pump(struct client *c)
{
	for (int progress = 1; progress && c->state == C_PROXY && c->backend >= 0;) {
		struct backend *b = &gw_backends[c->backend];
		struct pump_mark before, after;

		mark(c, b, &before);
		if (b->state == B_CONNECTING)
			return;
		if (c->readable)
			read_client_body(c);
		if (c->state != C_PROXY)
			return;
		if (fill_request(c, b) < 0) {
			fail(c, 431, "a request header does not fit BACKEND_OUT_BUF");
			return;
		}
		if (send_request(b) < 0) {
			/* The app stopped reading; its answer may still come. */
			b->stdin_done = 1;
			b->out_off = b->out_len = 0;
			c->keep_alive = 0;
		}
		if (b->readable)
			read_backend(c, b);
		if (c->backend < 0 || c->state != C_PROXY)
			return;
		if (decode_records(c, b) < 0)
			return;
		if (!b->headers_done && take_headers(c, b) < 0)
			return;
		if (b->headers_done)
			deliver_body(c, b);
		if (b->pay_off == b->pay_len && b->raw_off == b->in_len) {
			b->pay_off = b->pay_len = b->raw_off = b->in_len = 0;
		}
		if (slot_flush(c) < 0) {
			request_close(c);
			return;
		}
		if (b->ended && b->headers_done && b->pay_off == b->pay_len) {
			finish(c, b);
			return;
		}
		mark(c, b, &after);
		progress = memcmp(&before, &after, sizeof(before)) != 0;
	}
}

/*
 * While a request is with the app, the client has two clocks: the body
 * timeout while fcgate waits for body bytes, the send timeout while the
 * answer waits in out[]. Either restarts when the client moves bytes.
 */
static void arm_client_timer(struct client *c, uint64_t io_before)
{
	uint32_t ms;

	if (c->state != C_PROXY)
		return;
	if (slot_wants_body(c))
		ms = CONFIG_BODY_TIMEOUT * 1000u;
	else if (c->out_off < c->out_len)
		ms = CONFIG_SEND_TIMEOUT * 1000u;
	else
		ms = 0;
	if (ms == 0)
		c->deadline = 0;
	else if (c->deadline == 0 || c->bytes_in + c->bytes_out != io_before)
		c->deadline = slot_deadline(ms);
}

static void pump_and_arm(struct client *c)
{
	uint64_t io = c->bytes_in + c->bytes_out;

	pump(c);
	arm_client_timer(c, io);
}

void proxy_client_event(struct client *c, uint8_t got)
{
	if (got & PORT_IN)
		c->readable = 1;
	if ((got & (PORT_ERR | PORT_HUP)) && !slot_wants_body(c)) {
		/* Client gone before the answer ended: abort at the app, free both. */
		LOG_I("client gone before the response ended");
		request_abandon(c);
		return;
	}
	if (c->backend >= 0 && gw_backends[c->backend].state == B_CONNECTING) {
		if (slot_flush(c) < 0)
			request_close(c);
		return;
	}
	pump_and_arm(c);
}

void proxy_backend_event(struct backend *b, uint8_t got)
{
	struct client *c = client_of(b);

	if (c == NULL) {
		backend_close(b);
		return;
	}
	if (b->state == B_CONNECTING) {
		int r = port_connect_result(b->sock);
		if (r == PORT_AGAIN)
			return;         /* a stale event of the slot's previous socket */
		if (r != PORT_OK) {
			LOG_I("member %u: connect failed (port result %d)", b->member, r);
			backend_close(b);
			detach(c);
			connect_failed(c, "connect failed");
			return;
		}
		member_ok(b->member);
		b->state = B_ACTIVE;
		b->deadline = slot_deadline(b->probing ? CONFIG_BACKEND_PROBE_MS : b->timeout_ms);
	}
	if (got & (PORT_IN | PORT_ERR))
		b->readable = 1;
	pump_and_arm(c);
}

/*
 * No answer to GET_VALUES in time. If other connections to the member are
 * being served, the app has no worker for this one: remember the limit,
 * close it, and let the request wait for a served connection. Otherwise
 * the app may just not answer GET_VALUES: send the request anyway.
 */
static void probe_timeout(struct client *c, struct backend *b)
{
	struct member_state *st = &gw_member_state[b->member];

	if (st->proven == 0) {
		b->probing = 0;
		b->deadline = slot_deadline(b->timeout_ms);
		pump_and_arm(c);
		return;
	}
	if (st->learned_max != st->proven)
		LOG_I("member %u serves %u connections at once; using no more", b->member, st->proven);
	member_learn_capacity(gw_routes, b->member, st->proven, gw_now);
	c->deadline = slot_deadline(b->timeout_ms);
	backend_close(b);
	detach(c);
	c->state = C_WAIT;
	proxy_attach(c);
}

void proxy_backend_timeout(struct backend *b)
{
	struct client *c = client_of(b);

	if (c == NULL) {
		backend_close(b);
		return;
	}
	if (b->state == B_CONNECTING) {
		backend_close(b);
		detach(c);
		connect_failed(c, "connect timeout");
	} else if (b->probing) {
		probe_timeout(c, b);
	} else if (!c->head_sent)
		fail(c, 504, "no answer within the backend timeout");
	else
		backend_lost(c, "backend timeout");
}
