/*
 * spool.c - chunked request bodies, de-chunked into the client slot.
 *
 * CGI gives the app CONTENT_LENGTH, which a chunked body does not have
 * until its last chunk. So the body is decoded in place behind the head
 * in the slot's input buffer, and the request goes to the app only when
 * it is complete, as an ordinary body with a length. The buffer bounds
 * the body: beyond CHUNKED_BODY_MAX (or the room left after the head)
 * the answer is 413.
 */
#include <string.h>

#include "log.h"
#include "slot.h"

#if CONFIG_CHUNKED_BODY_MAX > 0

/* Raw bytes not yet decoded move down behind the decoded body. */
static void compact_raw(struct client *c)
{
	uint32_t dst = c->head_len + (uint32_t)c->spool_len;
	uint32_t raw = c->in_len - c->spool_raw;

	if (dst == c->spool_raw)
		return;
	memmove(c->in + dst, c->in + c->spool_raw, raw);
	c->spool_raw = dst;
	c->in_len = dst + raw;
}

/* The last chunk is in: continue as a body with a Content-Length. */
static void spool_done(struct client *c)
{
	compact_raw(c);         /* a pipelined request moves up behind the body */
	c->req.content_length = (int64_t)c->spool_len;
	c->req.flags &= (uint8_t)~HTTP_BODY_CHUNKED;
	c->body_left = (int64_t)c->spool_len;
	request_proceed(c);
}

static void spool_step(struct client *c)
{
	uint32_t limit;
	long n = http_chunked_decode(&c->dechunk, c->in + c->spool_raw,
				     c->in_len - c->spool_raw, c->in + c->head_len, &c->spool_len);

	if (n < 0) {
		request_respond_error(c, 400, "malformed chunked body");
		return;
	}
	c->spool_raw += (uint32_t)n;
	if (c->spool_len > CONFIG_CHUNKED_BODY_MAX) {
		request_respond_error(c, 413, "chunked body larger than CHUNKED_BODY_MAX");
		return;
	}
	limit = route_body_limit(gw_routes, &gw_routes->routes[c->route]);
	if (limit != 0 && c->spool_len > limit) {
		request_respond_error(c, 413, "chunked body larger than LimitRequestBody");
		return;
	}
	if (c->dechunk.done) {
		spool_done(c);
		return;
	}
	compact_raw(c);
	if (c->in_len == sizeof(c->in))
		request_respond_error(c, 413, "chunked body larger than the input buffer");
}

void spool_start(struct client *c)
{
	http_chunked_init(&c->dechunk, CONFIG_HEADER_MAX_BYTES);
	c->spool_raw = c->head_len;
	c->spool_len = 0;
	c->body_left = INT64_MAX;       /* unknown until the last chunk */
	c->state = C_SPOOL;
	c->deadline = slot_deadline(CONFIG_BODY_TIMEOUT * 1000u);
	request_send_continue(c);
	spool_step(c);
}

void spool_read(struct client *c)
{
	while (c->state == C_SPOOL) {
		long n = slot_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n == PORT_AGAIN)
			return;
		if (n <= 0) {
			LOG_I("client gone during a chunked body");
			request_abandon(c);
			return;
		}
		c->in_len += (uint32_t)n;
		c->bytes_in += (uint64_t)n;
		c->deadline = slot_deadline(CONFIG_BODY_TIMEOUT * 1000u);
		spool_step(c);
	}
}

#endif
