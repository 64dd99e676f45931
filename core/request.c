/*
 * request.c - the HTTP side of a client slot: read and parse a request
 * head, route it, answer what fcgate answers itself (errors, redirects),
 * and move on to the next request or close.
 */
#include <string.h>

#include "gw.h"
#include "log.h"
#include "romfs.h"
#include "slot.h"
#include "tls.h"

/* How long a closing connection is drained so the peer reads our answer. */
#define LINGER_MS 2000u

static const struct http_limits limits = {
	.line_max = CONFIG_REQUEST_LINE_MAX,
	.head_max = CONFIG_HEADER_MAX_BYTES,
	.count_max = CONFIG_HEADER_MAX_COUNT,
};

#if CONFIG_ACCESS_LOG
/*
 * One line per answered request: Common Log Format, then the duration in
 * milliseconds and the app's status ("-" when fcgate answered itself).
 */
static void access_log(struct client *c)
{
	static char line[CONFIG_LOG_LINE_MAX];
	char ip[48], date[HTTP_LOG_DATE_LEN + 1] = "-";
	int64_t now = CONFIG_WALL_CLOCK ? gw_wall_clock() : -1;
	uint64_t sent = c->bytes_out > c->resp_start ? c->bytes_out - c->resp_start : 0;
	const struct http_request *q = &c->req;
	size_t n;

	if (c->status == 0)
		return;
	if (now >= 0)
		http_format_log_date(now, date);
	cgi_format_ip(&c->peer, ip, sizeof(ip));
	n = log_format(line, sizeof(line) - 1, "%s - - [%s] \"%.*s %.*s HTTP/1.%u\" %u %llu %ums ",
		       ip, date, (int)q->method.len, q->method.p ? q->method.p : "-",
		       (int)q->target.len, q->target.p ? q->target.p : "-", q->version_minor,
		       c->status, (unsigned long long)sent, (unsigned)(gw_now - c->req_start));
	if (c->app_status)
		n += log_format(line + n, sizeof(line) - 1 - n, "app=%u", c->app_status);
	else
		n += log_format(line + n, sizeof(line) - 1 - n, "app=-");
	line[n++] = '\n';
	port_log_write(line, n);
	c->status = 0;
}
#else
static void access_log(struct client *c)
{
	c->status = 0;
}
#endif

void request_abandon(struct client *c)
{
	access_log(c);
	if (c->backend >= 0)
		proxy_release(c);
	slot_client_close(c);
}

void request_close(struct client *c)
{
	access_log(c);
	if (c->backend >= 0)
		proxy_release(c);
	slot_file_end(c);
	if (c->state == C_FREE || c->state == C_LINGER)
		return;
	/*
	 * Shut the write side and read until the peer closes: closing with
	 * unread input would send a reset that can destroy the answer we
	 * just wrote before the client has read it.
	 */
#if GW_TLS_SLOTS > 0
	if (c->tls) {
		/* close_notify, then the raw bytes that still come are only drained. */
		tls_close(slot_tls_index(c));
		c->tls = 0;
	}
#endif
	port_shutdown(c->sock);
	c->state = C_LINGER;
	c->deadline = slot_deadline(LINGER_MS);
}

/* Drop the first n bytes of the input buffer. */
static void consume_input(struct client *c, uint32_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

#define DATE_FIELD "Date: "
#define DATE_LINE_LEN (sizeof(DATE_FIELD) - 1 + HTTP_DATE_LEN + 2)

/* The whole "Date: ...\r\n" line, formatted once a second; NULL without a clock. */
static const char *date_line(void)
{
	static char line[DATE_LINE_LEN + 1] = DATE_FIELD;
	static int64_t formatted_at = -1;
	int64_t now = CONFIG_WALL_CLOCK ? gw_wall_clock() : -1;

	if (now < 0)
		return NULL;
	if (now != formatted_at) {
		http_format_date(now, line + sizeof(DATE_FIELD) - 1);
		memcpy(line + DATE_LINE_LEN - 2, "\r\n", 3);
		formatted_at = now;
	}
	return line;
}

/* The status line; "200 OK", nearly every answer, as one piece. */
static int put_status_line(struct client *c, unsigned status, struct http_slice reason)
{
	int r = 0;

	if (status == 200 && reason.len == 0)
		return slot_out_str(c, "HTTP/1.1 200 OK\r\n");
	r |= slot_out_str(c, "HTTP/1.1 ");
	r |= slot_out_uint(c, status, 10);
	r |= slot_out_str(c, " ");
	if (reason.len)
		r |= slot_out_put(c, reason.p, reason.len);
	else
		r |= slot_out_str(c, http_reason(status));
	return r | slot_out_str(c, "\r\n");
}

/* Does Header set line h apply to this request (global, or under its <Location>)? */
static int header_applies(const struct client *c, const struct route_header *h)
{
	const char *prefix = route_cstr(gw_routes, h->prefix);

	if (h->prefix.len == 0)
		return 1;
	return c->path_len >= h->prefix.len && memcmp(c->path, prefix, h->prefix.len) == 0;
}

/*
 * Of the Header set lines for one name, the one under the longest
 * <Location> prefix wins (Apache applies <Location> after the server's
 * lines), the last one in the file among equals.
 */
static int header_wins(const struct client *c, unsigned i)
{
	const struct route_header *h = &gw_routes->headers[i];

	if (!header_applies(c, h))
		return 0;
	for (unsigned j = 0; j < gw_routes->header_count; j++) {
		const struct route_header *o = &gw_routes->headers[j];

		if (j == i || o->name.len != h->name.len || !header_applies(c, o) ||
		    !http_slice_ieq((struct http_slice){ route_cstr(gw_routes, o->name), o->name.len },
				    route_cstr(gw_routes, h->name), h->name.len))
			continue;
		if (o->prefix.len > h->prefix.len || (o->prefix.len == h->prefix.len && j > i))
			return 0;
	}
	return 1;
}

/* Is name set by a Header set line for this answer? */
static int is_set_here(const struct client *c, struct http_slice name)
{
	for (unsigned i = 0; i < gw_routes->header_count; i++) {
		const struct route_header *h = &gw_routes->headers[i];

		if (http_slice_ieq(name, route_cstr(gw_routes, h->name), h->name.len) &&
		    header_wins(c, i))
			return 1;
	}
	return 0;
}

/* Drop the head's fields (ours or the app's) that a Header set line replaces. */
static void drop_replaced_fields(struct client *c)
{
	uint8_t *line;

	if (gw_routes->header_count == 0)
		return;
	line = memchr(c->out + c->head_at, '\n', c->out_len - c->head_at);
	while (line != NULL && ++line < c->out + c->out_len) {
		uint8_t *end = memchr(line, '\n', (size_t)(c->out + c->out_len - line));
		uint8_t *colon = end ? memchr(line, ':', (size_t)(end - line)) : NULL;
		struct http_slice name = { (const char *)line, colon ? (uint32_t)(colon - line) : 0 };

		if (end == NULL)
			return;
		if (colon != NULL && is_set_here(c, name)) {
			size_t n = (size_t)(end + 1 - line);
			memmove(line, end + 1, (size_t)(c->out + c->out_len - (end + 1)));
			c->out_len -= (uint32_t)n;
			line--;         /* stand on the '\n' before the next line */
			continue;
		}
		line = end;
	}
}

int request_end_head(struct client *c)
{
	int r = 0;

	drop_replaced_fields(c);
	for (unsigned i = 0; i < gw_routes->header_count; i++) {
		const struct route_header *h = &gw_routes->headers[i];

		if (!header_wins(c, i))
			continue;
		r |= slot_out_put(c, route_cstr(gw_routes, h->name), h->name.len);
		r |= slot_out_str(c, ": ");
		r |= slot_out_put(c, route_cstr(gw_routes, h->value), h->value.len);
		r |= slot_out_str(c, "\r\n");
	}
	return r | slot_out_str(c, "\r\n");
}

/* Status line, Date, Server and Connection fields; the caller adds the rest. */
int request_write_head(struct client *c, unsigned status, struct http_slice reason)
{
	const char *date = date_line();
	int r;

	c->status = (uint16_t)status;
	c->head_at = c->out_len;
	/* Connections are waiting for a slot: this one gives its slot up after this answer. */
	if (gw_slots_short & (1 << slot_is_tls_slot(c)))
		c->keep_alive = 0;
	r = put_status_line(c, status, reason);
	if (date != NULL)
		r |= slot_out_put(c, date, DATE_LINE_LEN);
	if (CONFIG_SERVER_SOFTWARE[0] != '\0')
		r |= slot_out_str(c, "Server: " CONFIG_SERVER_SOFTWARE "\r\n");
	if (!c->keep_alive)
		r |= slot_out_str(c, "Connection: close\r\n");
	else if (c->req.version_minor == 0)
		r |= slot_out_str(c, "Connection: keep-alive\r\n");
#if CONFIG_TLS
	/* Only over TLS (RFC 6797 §7.2): not on the plain 400 of a TLS slot. */
	if (CONFIG_TLS_HSTS_MAX_AGE > 0 && c->tls) {
		r |= slot_out_str(c, "Strict-Transport-Security: max-age=");
		r |= slot_out_uint(c, CONFIG_TLS_HSTS_MAX_AGE, 10);
		r |= slot_out_str(c, "\r\n");
	}
#endif
	return r ? -1 : 0;
}

int request_file_fields(struct client *c, const struct romfs_file *f,
			const struct romfs_answer *a)
{
	size_t n;
	int r = 0;

	if (slot_out_space(c) <= ROMFS_HEAD_MAX)
		return -1;
	n = romfs_write_head(a, f, (char *)c->out + c->out_len, slot_out_space(c));
	c->out_len += (uint32_t)n;
	/* 405 and 416 carry no body of their own. */
	if (a->status >= 400)
		r |= slot_out_str(c, "Content-Length: 0\r\n");
	return n == 0 ? -1 : r;
}

void request_body_starts(struct client *c)
{
	c->resp_start = c->bytes_out + (c->out_len - c->out_off);
}

/* Bytes that may stand unescaped in a Location path (RFC 3986 pchar and '/'). */
static int is_path_char(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return 1;
	return strchr("-._~!$&'()*+,;=:@/", ch) != NULL && ch != '\0';
}

/* Append a decoded path, percent-encoding what may not stand as is. */
static int put_path_encoded(struct client *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		char esc[3] = { '%', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15] };
		if (is_path_char(ch) ? slot_out_put(c, p + i, 1) : slot_out_put(c, esc, 3))
			return -1;
	}
	return 0;
}

static const struct http_slice no_reason = { NULL, 0 };

/* A small answer of fcgate's own; location may be NULL. */
static void respond(struct client *c, unsigned status, const char *loc,
		    size_t loc_len, const char *loc_rest, size_t rest_len)
{
	static const char type[] = "Content-Type: text/plain\r\n";
	const char *reason = http_reason(status);
	int r;

	c->out_off = c->out_len = 0;
	c->no_body = c->req.method.len == 4 && memcmp(c->req.method.p, "HEAD", 4) == 0;
#if CONFIG_ROMFS
	/* ErrorDocument: the UI's own page for fcgate's errors. */
	if (loc == NULL && status >= 400) {
		r = rom_error_document(c, status);
		if (r > 0)
			request_send_local(c);
		if (r != 0)
			return;
	}
#endif
	r = request_write_head(c, status, no_reason);
	if (loc != NULL) {
		r |= slot_out_str(c, "Location: ");
		r |= slot_out_put(c, loc, loc_len);
		r |= put_path_encoded(c, loc_rest, rest_len);
		if (c->req.query.p != NULL) {
			r |= slot_out_str(c, "?");
			r |= slot_out_put(c, c->req.query.p, c->req.query.len);
		}
		r |= slot_out_str(c, "\r\n");
	}
	r |= slot_out_str(c, type);
	r |= slot_out_str(c, "Content-Length: ");
	r |= slot_out_uint(c, strlen(reason) + 5, 10);
	r |= slot_out_str(c, "\r\n");
	r |= request_end_head(c);
	request_body_starts(c);
	if (!c->no_body) {
		r |= slot_out_uint(c, status, 10);
		r |= slot_out_str(c, " ");
		r |= slot_out_str(c, reason);
		r |= slot_out_str(c, "\n");
	}
	if (r) {
		LOG_E("client out buffer too small for a %u answer", status);
		request_close(c);
		return;
	}
	request_send_local(c);
}

void request_redirect_slash(struct client *c)
{
	/* The caller made sure the slash fits in path[]. */
	c->path[c->path_len] = '/';
	respond(c, 301, "", 0, c->path, c->path_len + 1);
}

void request_send_local(struct client *c)
{
	c->state = C_RESPOND;
	c->deadline = slot_deadline(CONFIG_SEND_TIMEOUT * 1000u);
	if (slot_flush(c) < 0)
		request_abandon(c);
	else if (!slot_pending(c))
		request_done(c);
}

/* "502 for GET /x: why", or "400: why" when no request line was read. */
static void log_error_answer(const struct client *c, unsigned status, const char *why)
{
	const struct http_slice *m = &c->req.method, *t = &c->req.target;

	if (status >= 500) {
		gw_counters.errors++;
		if (m->len == 0)
			LOG_W("%u: %s", status, why);
		else
			LOG_W("%u for %.*s %.*s: %s", status, (int)m->len, m->p, (int)t->len, t->p, why);
	} else if (m->len == 0) {
		LOG_I("%u: %s", status, why);
	} else {
		LOG_I("%u for %.*s %.*s: %s", status, (int)m->len, m->p, (int)t->len, t->p, why);
	}
}

void request_respond_error(struct client *c, unsigned status, const char *why)
{
	log_error_answer(c, status, why);
	if (c->backend >= 0)
		proxy_release(c);
	if (c->head_sent) {
		/* Part of the answer is out: only closing tells the client. */
		request_close(c);
		return;
	}
	/* Unread body bytes would be taken for the next request: close. */
	if (c->body_left > 0)
		c->keep_alive = 0;
	/* After a malformed or oversized request nothing on the line is trusted. */
	if (status == 400 || status == 408 || status == 413 || status == 414 ||
	    status == 431 || status == 501 || status == 505)
		c->keep_alive = 0;
	respond(c, status, NULL, 0, NULL, 0);
}

static void respond_redirect(struct client *c, const struct route *r)
{
	const char *url = route_cstr(gw_routes, r->url);
	size_t plen = r->prefix.len;
	const char *rest = c->path + plen;
	size_t rest_len = c->path_len - plen;

	if (r->status == 410 || url == NULL || r->url.len == 0) {
		respond(c, r->status, NULL, 0, NULL, 0);
		return;
	}
	/* Apache's Redirect appends what follows the prefix to the URL. */
	if (rest_len > 0 && rest[0] == '/' && r->url.len > 0 && url[r->url.len - 1] == '/') {
		rest++;
		rest_len--;
	}
	respond(c, r->status, url, r->url.len, rest, rest_len);
}

static int is_method(const struct client *c, const char *m)
{
	size_t n = strlen(m);
	return c->req.method.len == n && memcmp(c->req.method.p, m, n) == 0;
}

/* Case-insensitive: does s[0..n) equal the NUL-terminated lit? */
static int same_text(const char *s, size_t n, const char *lit)
{
	struct http_slice sl = { s, (uint32_t)n };
	return http_slice_eq(sl, lit);
}

/* Is name[0..n) one of the space-separated SERVER_NAMES entries? */
static int is_server_name(const char *name, size_t n)
{
	const char *names = CONFIG_SERVER_NAMES;

	while (*names != '\0') {
		size_t len = 0;
		while (*names == ' ')
			names++;
		while (names[len] != '\0' && names[len] != ' ')
			len++;
		if (len > 0 && len == n &&
		    memcmp(names, name, n) == 0)
			return 1;
		names += len;
	}
	return 0;
}

/*
 * Is the authority host[:port] this gateway: a SERVER_NAMES entry as
 * written, or the local address / localhost / a name, with no port or
 * the local port.
 */
static int is_own_authority(const struct client *c, const char *a, size_t n)
{
	char ip[48], port[8];
	size_t host_len = n, iplen;

	if (is_server_name(a, n))
		return 1;
	for (size_t i = n; i > 0; i--) {
		if (a[i - 1] == ']')
			break;
		if (a[i - 1] == ':') {
			size_t plen = log_format(port, sizeof(port), "%u", c->local.port);
			if (n - i != plen || memcmp(a + i, port, plen) != 0)
				return 0;
			host_len = i - 1;
			break;
		}
	}
	iplen = cgi_format_ip(&c->local, ip, sizeof(ip));
	if (c->local.family == PORT_AF_INET6) {
		if (host_len == iplen + 2 && a[0] == '[' && memcmp(a + 1, ip, iplen) == 0)
			return 1;
	} else if (host_len == iplen && memcmp(a, ip, iplen) == 0) {
		return 1;
	}
	return same_text(a, host_len, "localhost") || is_server_name(a, host_len);
}

/*
 * RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host field; never
 * more than one. An absolute-form target must name this gateway: fcgate
 * is no forward proxy and never fetches another host's URL.
 */
static int check_host(struct client *c)
{
	const struct http_slice t = c->req.target;
	unsigned hosts = 0;

	for (unsigned i = 0; i < c->req.header_count; i++)
		hosts += http_slice_eq(c->req.headers[i].name, "Host");
	if (hosts > 1 || (hosts == 0 && c->req.version_minor >= 1))
		return -1;
	if (t.len > 0 && t.p[0] != '/' && t.p[0] != '*') {
		const char *a = memchr(t.p, ':', t.len);
		const char *end = t.p + t.len, *e;

		if (a == NULL || end - a < 3)
			return -1;
		a += 3;                 /* past "://" */
		for (e = a; e < end && *e != '/' && *e != '?'; e++)
			;
		if (!is_own_authority(c, a, (size_t)(e - a)))
			return -1;
	}
	return 0;
}

/* A complete head is in in[0..head_len): decide what answers it. */
#if CONFIG_TLS && CONFIG_TLS_REDIRECT
/* TLS_REDIRECT: 301 to https://HOST[:TLS_PORT] + the same path and query. */
static void redirect_to_https(struct client *c)
{
	const struct http_header *h = http_find_header(&c->req, "Host");
	char loc[128] = "https://";
	size_t n = 8, host_len = 0;
	unsigned port;
	int len;

	if (h != NULL) {
		const char *end = h->value.p[0] == '[' ? memchr(h->value.p, ']', h->value.len) :
			memchr(h->value.p, ':', h->value.len);
		host_len = end == NULL ? h->value.len :
			(size_t)(end - h->value.p) + (h->value.p[0] == '[');
	}
	len = http_normalize_path(c->req.path.p, c->req.path.len, c->path, sizeof(c->path));
	if (host_len == 0 || host_len > sizeof(loc) - 16 || len < 0) {
		request_respond_error(c, 400, "no usable Host for the HTTPS redirect");
		return;
	}
	memcpy(loc + n, h->value.p, host_len);
	n += host_len;
	/* The port the HTTPS listener really has (the host's --tls-listen may differ). */
	port = gw_tls_listen_addr()->port ? gw_tls_listen_addr()->port : CONFIG_TLS_PORT;
	if (port != 443)
		n += log_format(loc + n, sizeof(loc) - n, ":%u", (unsigned)port);
	c->keep_alive = 0;
	respond(c, 301, loc, n, c->path, (size_t)len);
}
#endif

static void request_begin(struct client *c)
{
	const struct route *r;
	int slash = 0, idx, len;

	gw_counters.requests++;
	if (http_request_framing(&c->req) < 0) {
		c->keep_alive = 0;
		request_respond_error(c, c->req.status, "bad framing");
		return;
	}
	c->keep_alive = CONFIG_KEEPALIVE_TIMEOUT > 0 && http_keep_alive(&c->req);
	c->body_left = c->req.content_length > 0 ? c->req.content_length : 0;
	if (c->req.flags & HTTP_BODY_CHUNKED) {
		/* Unread until spooled: an early answer must close the connection. */
		c->body_left = INT64_MAX;
		if (CONFIG_CHUNKED_BODY_MAX == 0) {
			request_respond_error(c, 411, "chunked request bodies are off (CHUNKED_BODY_MAX=0)");
			return;
		}
	}
	if (is_method(c, "CONNECT") || is_method(c, "TRACE")) {
		request_respond_error(c, 405, "method not allowed");
		return;
	}
	if (check_host(c) < 0) {
		c->keep_alive = 0;
		request_respond_error(c, 400, "missing, repeated or foreign Host");
		return;
	}
#if CONFIG_TLS && CONFIG_TLS_REDIRECT
	if (!slot_is_tls_slot(c)) {
		redirect_to_https(c);
		return;
	}
#endif
	if (c->req.target.len == 1 && c->req.target.p[0] == '*') {
		respond(c, 200, NULL, 0, NULL, 0);
		return;
	}
	len = http_normalize_path(c->req.path.p, c->req.path.len, c->path, sizeof(c->path));
	if (len < 0) {
		request_respond_error(c, 400, "bad path");
		return;
	}
	c->path_len = (uint32_t)len;
	idx = route_match(gw_routes, c->path, c->path_len, &slash);
	if (idx < 0) {
		request_respond_error(c, 404, "no route");
		return;
	}
	r = &gw_routes->routes[idx];
	c->route = (int16_t)idx;
	c->script_len = 0;      /* set by request_route() for proxied routes */
	if (!route_acl_allows(gw_routes, r, &c->peer)) {
		request_respond_error(c, 403, "client address not allowed (Require / require=)");
		return;
	}
	if (route_body_limit(gw_routes, r) != 0 &&
	    c->req.content_length > (int64_t)route_body_limit(gw_routes, r)) {
		request_respond_error(c, 413, "body larger than LimitRequestBody");
		return;
	}
	if (slash) {
		/* "/app" for the prefix "/app/": the prefix is the slashed form. */
		respond(c, 301, route_cstr(gw_routes, r->prefix), r->prefix.len, "", 0);
		return;
	}
#if CONFIG_AUTHORIZER
	if (r->authorizer >= 0) {
		int status = proxy_ask_authorizer(c);
		if (status != 0)
			request_respond_error(c, (unsigned)status, "the authorizer is not usable");
		return;
	}
#endif
	request_route(c);
}

void request_route(struct client *c)
{
	const struct route *r = &gw_routes->routes[c->route];

	switch (r->kind) {
	case ROUTE_EXCLUDE:
		request_respond_error(c, 404, "excluded by ProxyPass !");
		return;
	case ROUTE_REDIRECT:
		respond_redirect(c, r);
		return;
	case ROUTE_STATUS:
#if CONFIG_STATUS_PAGE
		status_respond(c);
#else
		request_respond_error(c, 404, "status page compiled out (STATUS_PAGE=n)");
#endif
		return;
#if CONFIG_ROMFS
	case ROUTE_ROM:
		rom_respond(c, r);
		return;
#endif
#if CONFIG_DIR_ALIAS
	case ROUTE_DIR:
		dir_respond(c, r);
		return;
#endif
	default:
		break;
	}
	c->script_len = r->prefix.len;
	if (c->script_len > 0 && route_cstr(gw_routes, r->prefix)[c->script_len - 1] == '/')
		c->script_len--;
#if CONFIG_CHUNKED_BODY_MAX > 0
	if (c->req.flags & HTTP_BODY_CHUNKED) {
		spool_start(c);
		return;
	}
#endif
	request_proceed(c);
}

void request_proceed(struct client *c)
{
	int status = proxy_start(c);

	if (status != 0)
		request_respond_error(c, (unsigned)status, "cannot start the request");
}

void request_send_continue(struct client *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	/* The body will be read: tell a client that waits for it (RFC 9110 §10.1.1). */
	if ((c->req.flags & HTTP_EXPECT_CONTINUE) && c->body_left > 0 && c->out_len == 0) {
		slot_out_str(c, cont);
		if (slot_flush(c) < 0)
			c->close_after = 1;
	}
}

/* Try to parse what is in in[]; returns 1 when the slot left C_HEAD. */
static int request_parse(struct client *c)
{
	int r;

	c->req.headers = c->headers;
	c->req.header_cap = CONFIG_HEADER_MAX_COUNT;
	r = http_parse_request((const char *)c->in, c->in_len, &c->scan, &c->req, &limits);
	if (r == HTTP_NEED_MORE)
		return 0;
	if (r < 0) {
		c->keep_alive = 0;
		c->req_start = gw_now;
		request_respond_error(c, c->req.status, "bad request head");
		return 1;
	}
	c->head_len = (uint32_t)r;
	c->req_start = gw_now;
	request_begin(c);
	return 1;
}

void request_read(struct client *c)
{
	for (;;) {
		size_t space = sizeof(c->in) - c->in_len;
		long n;

		if (space == 0) {
			request_respond_error(c, 431, "request head too large");
			return;
		}
		n = slot_recv(c, c->in + c->in_len, space);
		if (n == PORT_AGAIN)
			return;
		if (n <= 0) {
			request_abandon(c);
			return;
		}
		if (c->in_len == 0)  /* first byte: the head timeout starts */
			c->deadline = slot_deadline(CONFIG_HEADER_TIMEOUT * 1000u);
		c->in_len += (uint32_t)n;
		c->bytes_in += (uint64_t)n;
		if (request_parse(c))
			return;
	}
}

/*
 * After a complete answer that ends the connection: can it be closed at
 * once? Only when nothing more can be on its way from the client, since
 * closing with unread input sends a reset that can destroy the answer
 * before the client reads it: the whole request was read, nothing follows
 * it in in[], and the client said it sends no more (Connection: close, or
 * HTTP/1.0 without keep-alive), or a read finds nothing there (nginx's
 * lingering-close heuristic). TLS connections always take the slow way,
 * behind their close_notify, and so do errors fcgate answered itself: a
 * request refused for its framing may have a body still on its way.
 */
static int nothing_more_coming(struct client *c, int own_error)
{
	uint8_t probe;
	long n;

	if (c->tls || own_error || c->body_left > 0 || c->in_len > c->head_len)
		return 0;
	if (c->head_len > 0 && !http_keep_alive(&c->req))
		return 1;
	n = slot_recv(c, &probe, 1);
	return n == PORT_AGAIN || n == PORT_EOF;
}

void request_done(struct client *c)
{
	int own_error = c->status >= 400 && c->app_status == 0;

	access_log(c);          /* clears c->status */
	if (c->backend >= 0)
		proxy_release(c);
	slot_file_end(c);
	if (!c->keep_alive || c->close_after) {
		if (nothing_more_coming(c, own_error))
			slot_client_close(c);
		else
			request_close(c);       /* half-close and drain */
		return;
	}
	if (c->head_len > 0)
		consume_input(c, c->head_len);
	memset(&c->req, 0, sizeof(c->req));
	c->state = C_HEAD;
	c->scan = 0;
	c->head_len = 0;
	c->head_sent = c->chunked = c->no_body = c->close_after = 0;
	c->app_status = 0;
	c->path_len = 0;        /* <Location> headers of an early error look at it */
#if CONFIG_AUTHORIZER
	c->auth = AUTH_NONE;
	c->auth_vars_len = 0;
#endif
	c->body_left = 0;
	c->resp_left = -1;
	c->route = -1;
	c->served++;
	c->wait_since = gw_now;
	c->deadline = slot_deadline(CONFIG_KEEPALIVE_TIMEOUT * 1000u);
	if (c->in_len > 0)   /* a pipelined request is already here */
		request_parse(c);
}
