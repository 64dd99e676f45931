/*
 * fcgi-testapp: the FastCGI peer the integration tests talk to.
 *
 * Written from the FastCGI 1.0 specification alone, independent of the
 * gateway (nothing from core/ is used), so that the two check each other.
 * Single-threaded and poll-driven like the gateway: many connections at
 * once, one request per connection at a time, nothing ever blocks. Each
 * PATH_INFO selects a behaviour, some of them deliberately hostile
 * (garbage, dying mid-body, 1-byte records), listed in dispatch_table.
 *
 *   fcgi-testapp --listen 127.0.0.1:PORT | [::1]:PORT  [--max-conns N]
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* --- FastCGI 1.0 protocol constants ------------------------------------ */
enum {
	FCGI_VERSION_1 = 1,
	FCGI_HEADER_LEN = 8,
	FCGI_BEGIN_BODY_LEN = 8,
	FCGI_MAX_CONTENT = 65535,
	FCGI_NULL_REQUEST_ID = 0,
	FCGI_KEEP_CONN = 1,
	FCGI_RESPONDER = 1,
	FCGI_AUTHORIZER = 2,
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_UNKNOWN_ROLE = 3,
	FCGI_NV_LONG_FLAG = 0x80, /* a name/value length of 4 bytes */
};

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
};

/* --- this app's limits and tunables ------------------------------------ */
enum {
	STDOUT_RECORD_MAX = 32 * 1024, /* the largest STDOUT record we write */
	RECORD_ALIGN = 8,              /* pad records like the spec suggests */
	READ_CHUNK = 64 * 1024,
	OUT_HIGH_WATER = 256 * 1024,   /* stop generating /bytes above this */
	BYTES_PERIOD = 251,            /* /bytes: byte i is i % 251 */
	TINY_PADDING = 7,
	GARBAGE_LEN = 16,
	DIE_CONTENT_LENGTH = 1000000,
	DEFAULT_MAX_CONNS = 100,
	LISTEN_BACKLOG = 128,
	DRAIN_LIMIT = 16,              /* recv() calls before a graceful close */
	PORT_MAX = 65535,
};
#define BYTES_MAX (1ULL << 30)
#define BIGHEADER_MAX (64ULL << 20)
#define SLOW_MS_MAX (600ULL * 1000)

/* --- growable byte buffer ---------------------------------------------- */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "testapp: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return q;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* --- connections -------------------------------------------------------- */
struct pair {
	size_t name, name_len, value, value_len; /* offsets into params */
};

enum gen { GEN_NONE, GEN_BYTES, GEN_SLOW, GEN_PIECES };

struct conn {
	int fd;
	bool dead;
	bool closing;         /* close once out is flushed; read no more */
	struct buf in;        /* received bytes not yet parsed as records */
	struct buf out;       /* bytes queued for the peer */
	size_t out_off;       /* how much of out was already sent */

	/* the request in progress */
	bool active, dispatched, params_done, stdin_done, keep_conn;
	bool authorizer;      /* FCGI_ROLE=AUTHORIZER: ep_authorize answers */
	uint16_t id;
	struct buf params;    /* the whole PARAMS stream, as received */
	unsigned params_records;
	struct pair *pairs;
	size_t npairs, cap_pairs;
	struct buf body;      /* the whole STDIN stream */

	/* a response still being produced by the loop */
	enum gen gen;
	uint64_t gen_left, gen_pos;
	int64_t deadline;
	unsigned piece_k, piece_n, piece_ms;
};

static struct {
	unsigned long connections, requests, keep_conn, aborts, get_values;
} stats;

static struct conn **conns;
static size_t nconns, cap_conns;
static unsigned max_conns = DEFAULT_MAX_CONNS;
static volatile sig_atomic_t stop;
static unsigned char pattern[BYTES_PERIOD + STDOUT_RECORD_MAX];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- writing records ----------------------------------------------------- */
static void out_record(struct conn *c, int type, uint16_t id,
		       const void *data, size_t n, size_t pad)
{
	unsigned char h[FCGI_HEADER_LEN] = {
		FCGI_VERSION_1, (unsigned char)type,
		(unsigned char)(id >> 8), (unsigned char)id,
		(unsigned char)(n >> 8), (unsigned char)n,
		(unsigned char)pad, 0,
	};
	static const unsigned char zeros[256];
	buf_append(&c->out, h, sizeof h);
	buf_append(&c->out, data, n);
	buf_append(&c->out, zeros, pad);
}

/* A stream's content split into records of at most STDOUT_RECORD_MAX. */
static void out_stream(struct conn *c, int type, const void *data, size_t n)
{
	const unsigned char *p = data;
	while (n) {
		size_t k = n < STDOUT_RECORD_MAX ? n : STDOUT_RECORD_MAX;
		size_t pad = (RECORD_ALIGN - k % RECORD_ALIGN) % RECORD_ALIGN;
		out_record(c, type, c->id, p, k, pad);
		p += k;
		n -= k;
	}
}

static void out_str(struct conn *c, const char *s)
{
	out_stream(c, FCGI_STDOUT, s, strlen(s));
}

static void out_printf(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "testapp: out of memory\n");
		exit(1);
	}
	out_stream(c, FCGI_STDOUT, s, (size_t)n);
	free(s);
}

static void out_end_request(struct conn *c, uint16_t id, int proto_status)
{
	unsigned char body[8] = { 0, 0, 0, 0, (unsigned char)proto_status };
	out_record(c, FCGI_END_REQUEST, id, body, sizeof body, 0);
}

static void request_reset(struct conn *c)
{
	c->active = c->dispatched = c->params_done = c->stdin_done = false;
	c->keep_conn = false;
	buf_free(&c->params);
	buf_free(&c->body);
	free(c->pairs);
	c->pairs = NULL;
	c->npairs = c->cap_pairs = 0;
	c->params_records = 0;
	c->gen = GEN_NONE;
}

/* END_REQUEST, then either wait for the next request or close. */
static void request_end(struct conn *c)
{
	out_end_request(c, c->id, FCGI_REQUEST_COMPLETE);
	if (!c->keep_conn)
		c->closing = true;
	request_reset(c);
}

/* The normal end of a response: close STDOUT, then END_REQUEST. */
static void response_finish(struct conn *c)
{
	out_record(c, FCGI_STDOUT, c->id, NULL, 0, 0);
	request_end(c);
}

/* --- request params ------------------------------------------------------ */
static int nv_len(const unsigned char *p, size_t avail, size_t *used,
		  size_t *len)
{
	if (avail < 1)
		return -1;
	if (!(p[0] & FCGI_NV_LONG_FLAG)) {
		*used = 1;
		*len = p[0];
		return 0;
	}
	if (avail < 4)
		return -1;
	*used = 4;
	*len = ((size_t)(p[0] & 0x7f) << 24) | ((size_t)p[1] << 16) |
	       ((size_t)p[2] << 8) | p[3];
	return 0;
}

/* Walks a name-value stream; calls fn for each pair. -1 if malformed. */
static int nv_walk(const unsigned char *p, size_t n,
		   void (*fn)(void *ctx, size_t name, size_t nlen,
			      size_t value, size_t vlen),
		   void *ctx)
{
	size_t off = 0;
	while (off < n) {
		size_t u1, u2, nlen, vlen;
		if (nv_len(p + off, n - off, &u1, &nlen) < 0)
			return -1;
		if (nv_len(p + off + u1, n - off - u1, &u2, &vlen) < 0)
			return -1;
		size_t start = off + u1 + u2;
		if (nlen > n - start || vlen > n - start - nlen)
			return -1;
		fn(ctx, start, nlen, start + nlen, vlen);
		off = start + nlen + vlen;
	}
	return 0;
}

static void add_pair(void *ctx, size_t name, size_t nlen, size_t value,
		     size_t vlen)
{
	struct conn *c = ctx;
	if (c->npairs == c->cap_pairs) {
		c->cap_pairs = c->cap_pairs ? 2 * c->cap_pairs : 32;
		c->pairs = xrealloc(c->pairs, c->cap_pairs * sizeof *c->pairs);
	}
	c->pairs[c->npairs++] = (struct pair){ name, nlen, value, vlen };
}

/* A param's value as a NUL-terminated copy (caller frees), NULL if absent. */
static char *param(struct conn *c, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < c->npairs; i++) {
		struct pair *pr = &c->pairs[i];
		if (pr->name_len == n && !memcmp(c->params.p + pr->name, name, n))
			return strndup((char *)c->params.p + pr->value,
				       pr->value_len);
	}
	return NULL;
}

/* The value of name=... in a query string, as a number; def if absent. */
static int query_num(const char *q, const char *name, unsigned long long def,
		     unsigned long long *out)
{
	size_t n = strlen(name);
	for (const char *p = q; p && *p; p = strchr(p, '&'), p = p ? p + 1 : p) {
		if (strncmp(p, name, n) || p[n] != '=')
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p + n + 1, &end, 10);
		if (errno || end == p + n + 1 || (*end && *end != '&'))
			return -1;
		*out = v;
		return 0;
	}
	*out = def;
	return 0;
}

static bool query_has(const char *q, const char *pair)
{
	size_t n = strlen(pair);
	for (const char *p = q; p && *p; p = strchr(p, '&'), p = p ? p + 1 : p)
		if (!strncmp(p, pair, n) && (p[n] == '&' || !p[n]))
			return true;
	return false;
}

/* --- the endpoints ------------------------------------------------------- */
enum outcome { DONE, PENDING, ABRUPT };

static enum outcome bad_request(struct conn *c, const char *why)
{
	out_printf(c, "Status: 400 Bad Request\r\nContent-Type: text/plain\r\n"
		      "\r\ntestapp: %s\n", why);
	return DONE;
}

static enum outcome ep_env(struct conn *c, const char *q)
{
	(void)q;
	struct buf b = { 0 };
	for (size_t i = 0; i < c->npairs; i++) {
		struct pair *pr = &c->pairs[i];
		buf_append(&b, c->params.p + pr->name, pr->name_len);
		buf_append(&b, "=", 1);
		buf_append(&b, c->params.p + pr->value, pr->value_len);
		buf_append(&b, "\n", 1);
	}
	buf_printf(&b, "STDIN_LENGTH=%zu\nKEEP_CONN=%d\n", c->body.len,
		   c->keep_conn);
	out_printf(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n"
		      "Content-Length: %zu\r\n\r\n", b.len);
	out_stream(c, FCGI_STDOUT, b.p, b.len);
	buf_free(&b);
	return DONE;
}

static enum outcome ep_echo(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "Content-Type: application/octet-stream\r\n\r\n");
	out_stream(c, FCGI_STDOUT, c->body.p, c->body.len);
	return DONE;
}

static enum outcome ep_bytes(struct conn *c, const char *q)
{
	unsigned long long n;
	if (query_num(q, "n", 0, &n) < 0 || n > BYTES_MAX)
		return bad_request(c, "bad n");
	if (query_has(q, "nolen=1"))
		out_str(c, "Content-Type: application/octet-stream\r\n\r\n");
	else
		out_printf(c, "Content-Type: application/octet-stream\r\n"
			      "Content-Length: %llu\r\n\r\n", n);
	c->gen = GEN_BYTES;
	c->gen_left = n;
	c->gen_pos = 0;
	return PENDING;
}

static enum outcome ep_tiny(struct conn *c, const char *q)
{
	(void)q;
	static const char msg[] = "Content-Type: text/plain\r\n\r\n"
				  "hello tiny records\n";
	for (size_t i = 0; i < sizeof msg - 1; i++)
		out_record(c, FCGI_STDOUT, c->id, &msg[i], 1, TINY_PADDING);
	return DONE;
}

static enum outcome ep_stderr(struct conn *c, const char *q)
{
	(void)q;
	static const char msg[] = "testapp: stderr message\n";
	out_stream(c, FCGI_STDERR, msg, sizeof msg - 1);
	out_record(c, FCGI_STDERR, c->id, NULL, 0, 0);
	out_str(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n");
	return DONE;
}

static enum outcome ep_nolength(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
		   "no length here\n");
	return DONE;
}

static enum outcome ep_cookies(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "Content-Type: text/plain\r\n"
		   "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
		   "\r\ncookies\n");
	return DONE;
}

/* The code is passed through unchecked: tests feed the gateway bad ones. */
static enum outcome ep_status(struct conn *c, const char *q)
{
	unsigned long long code;
	if (query_num(q, "code", 200, &code) < 0 || code > 999)
		return bad_request(c, "bad code");
	if (code == 204 || code == 304)
		out_printf(c, "Status: %llu Custom Reason\r\n\r\n", code);
	else
		out_printf(c, "Status: %llu Custom Reason\r\n"
			      "Content-Type: text/plain\r\n\r\nstatus %llu\n",
			   code, code);
	return DONE;
}

static enum outcome ep_location(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "Location: http://example.com/target\r\n\r\n");
	return DONE;
}

static enum outcome ep_params(struct conn *c, const char *q)
{
	(void)q;
	out_printf(c, "Content-Type: text/plain\r\n\r\n"
		      "params_bytes=%zu params_records=%u params_count=%zu\n",
		   c->params.len, c->params_records, c->npairs);
	return DONE;
}

static enum outcome ep_bigheader(struct conn *c, const char *q)
{
	unsigned long long n;
	if (query_num(q, "n", 0, &n) < 0 || n > BIGHEADER_MAX)
		return bad_request(c, "bad n");
	struct buf b = { 0 };
	buf_printf(&b, "Content-Type: text/plain\r\nX-Big: ");
	buf_reserve(&b, n);
	memset(b.p + b.len, 'x', n);
	b.len += n;
	buf_printf(&b, "\r\n\r\nbig\n");
	out_stream(c, FCGI_STDOUT, b.p, b.len);
	buf_free(&b);
	return DONE;
}

static enum outcome ep_garbage(struct conn *c, const char *q)
{
	(void)q;
	unsigned char junk[GARBAGE_LEN];
	memset(junk, 0xff, sizeof junk);
	buf_append(&c->out, junk, sizeof junk);
	return ABRUPT;
}

static enum outcome ep_noheaders(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "just a body, no blank line");
	return DONE;
}

static enum outcome ep_slow(struct conn *c, const char *q)
{
	unsigned long long ms;
	if (query_num(q, "ms", 0, &ms) < 0 || ms > SLOW_MS_MAX)
		return bad_request(c, "bad ms");
	c->gen = GEN_SLOW;
	c->deadline = now_ms() + (int64_t)ms;
	return PENDING;
}

static enum outcome ep_pieces(struct conn *c, const char *q)
{
	unsigned long long n, ms;
	if (query_num(q, "n", 1, &n) < 0 || n > 1000000 ||
	    query_num(q, "ms", 0, &ms) < 0 || ms > SLOW_MS_MAX)
		return bad_request(c, "bad n or ms");
	out_str(c, "Content-Type: text/plain\r\n\r\n");
	if (n == 0)
		return DONE;
	c->gen = GEN_PIECES;
	c->piece_k = 0;
	c->piece_n = (unsigned)n;
	c->piece_ms = (unsigned)ms;
	c->deadline = now_ms() + (int64_t)ms;
	return PENDING;
}

static enum outcome ep_die(struct conn *c, const char *q)
{
	(void)q;
	out_printf(c, "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
		      "0123456789", DIE_CONTENT_LENGTH);
	return ABRUPT;
}

static enum outcome ep_stats(struct conn *c, const char *q)
{
	(void)q;
	size_t open = 0;
	for (size_t i = 0; i < nconns; i++)
		open += !conns[i]->dead;
	struct buf b = { 0 };
	buf_printf(&b, "{\"connections\":%lu,\"requests\":%lu,\"keep_conn\":%lu,"
		       "\"aborts\":%lu,\"get_values\":%lu,\"open\":%zu}",
		   stats.connections, stats.requests, stats.keep_conn,
		   stats.aborts, stats.get_values, open);
	out_printf(c, "Content-Type: application/json\r\n"
		      "Content-Length: %zu\r\n\r\n", b.len);
	out_stream(c, FCGI_STDOUT, b.p, b.len);
	buf_free(&b);
	return DONE;
}

static enum outcome ep_not_found(struct conn *c, const char *q)
{
	(void)q;
	out_str(c, "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n"
		   "testapp: no such path\n");
	return DONE;
}

/*
 * The AUTHORIZER role (FastCGI 1.0 §6.3), by the Authorization header:
 * "Bearer good" lets through with two variables, "Bearer slow" answers
 * after ?ms= (default 30 s), "Bearer params" refuses with the params it
 * got as the body, no header redirects to /login/ when the path has
 * "login-redirect" in it, anything else is refused with 403.
 */
static enum outcome ep_authorize(struct conn *c, const char *q)
{
	char *auth = param(c, "HTTP_AUTHORIZATION");
	char *uri = param(c, "REQUEST_URI");
	enum outcome o = DONE;

	if (auth && !strcmp(auth, "Bearer good")) {
		out_str(c, "Status: 200\r\nVariable-REMOTE_USER: alice\r\n"
			   "Variable-AUTH_ROLE: admin\r\nContent-Type: text/plain\r\n\r\n"
			   "this body is not for the client\n");
	} else if (auth && !strcmp(auth, "Bearer slow")) {
		unsigned long long ms;
		if (query_num(q, "ms", 30000, &ms) < 0 || ms > SLOW_MS_MAX)
			ms = 30000;
		c->gen = GEN_SLOW;
		c->deadline = now_ms() + (int64_t)ms;
		o = PENDING;
	} else if (auth && !strcmp(auth, "Bearer params")) {
		/* The params it got, under a refusal the client sees. */
		out_str(c, "Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n");
		for (size_t i = 0; i < c->npairs; i++)
			out_printf(c, "%.*s=%.*s\n", (int)c->pairs[i].name_len,
				   c->params.p + c->pairs[i].name, (int)c->pairs[i].value_len,
				   c->params.p + c->pairs[i].value);
		out_printf(c, "STDIN_LENGTH=%zu\n", c->body.len);
	} else if (!auth && uri && strstr(uri, "login-redirect")) {
		out_str(c, "Status: 302 Found\r\nLocation: /login/\r\n"
			   "Content-Type: text/plain\r\n\r\nlog in first\n");
	} else {
		out_str(c, "Status: 403 Forbidden\r\nX-Auth: denied\r\n"
			   "Content-Type: text/plain\r\n\r\ndenied by testapp\n");
	}
	free(auth);
	free(uri);
	return o;
}

static const struct {
	const char *path;
	enum outcome (*fn)(struct conn *c, const char *query);
} dispatch_table[] = {
	{ "/env", ep_env },           { "/echo", ep_echo },
	{ "/bytes", ep_bytes },       { "/tiny", ep_tiny },
	{ "/stderr", ep_stderr },     { "/nolength", ep_nolength },
	{ "/cookies", ep_cookies },   { "/status", ep_status },
	{ "/location", ep_location }, { "/params", ep_params },
	{ "/bigheader", ep_bigheader }, { "/garbage", ep_garbage },
	{ "/noheaders", ep_noheaders }, { "/slow", ep_slow },
	{ "/pieces", ep_pieces },     { "/die", ep_die },
	{ "/stats", ep_stats },
};

/* PATH_INFO picks the endpoint; without one, the path of REQUEST_URI. */
static void dispatch(struct conn *c)
{
	char *path = param(c, "PATH_INFO");
	char *query = param(c, "QUERY_STRING");
	if (!path || !*path) {
		free(path);
		char *uri = param(c, "REQUEST_URI");
		path = strdup(uri ? uri : "");
		char *qmark = strchr(path, '?');
		if (qmark) {
			*qmark = '\0';
			if (!query)
				query = strdup(qmark + 1);
		}
		free(uri);
	}
	enum outcome (*fn)(struct conn *, const char *) = ep_not_found;
	for (size_t i = 0; i < sizeof dispatch_table / sizeof *dispatch_table; i++)
		if (!strcmp(path, dispatch_table[i].path))
			fn = dispatch_table[i].fn;
	if (c->authorizer)
		fn = ep_authorize;
	c->dispatched = true;
	enum outcome o = fn(c, query ? query : "");
	free(path);
	free(query);
	if (o == DONE) {
		response_finish(c);
	} else if (o == ABRUPT) {
		request_reset(c);
		c->closing = true;
	}
}

/* --- the loop's part of a response (timers, streaming) ------------------- */
static void gen_bytes(struct conn *c)
{
	while (c->gen_left && c->out.len - c->out_off < OUT_HIGH_WATER) {
		size_t k = c->gen_left < STDOUT_RECORD_MAX ? (size_t)c->gen_left
							   : STDOUT_RECORD_MAX;
		out_stream(c, FCGI_STDOUT, pattern + c->gen_pos % BYTES_PERIOD, k);
		c->gen_pos += k;
		c->gen_left -= k;
	}
	if (!c->gen_left)
		response_finish(c);
}

static void gen_timer(struct conn *c, int64_t now)
{
	if (now < c->deadline)
		return;
	if (c->gen == GEN_SLOW) {
		out_str(c, "Content-Type: text/plain\r\n\r\nslow done\n");
		response_finish(c);
		return;
	}
	out_printf(c, "piece %u\n", c->piece_k);
	if (++c->piece_k == c->piece_n)
		response_finish(c);
	else
		c->deadline = now + c->piece_ms;
}

/* --- reading records ------------------------------------------------------ */
static void on_get_values(struct conn *c, const unsigned char *p, size_t n);

static void on_begin(struct conn *c, uint16_t id, const unsigned char *p,
		     size_t n)
{
	if (n < FCGI_BEGIN_BODY_LEN) {
		fprintf(stderr, "testapp: short BEGIN_REQUEST body\n");
		c->dead = true;
		return;
	}
	int role = p[0] << 8 | p[1];
	bool keep = p[2] & FCGI_KEEP_CONN;
	if (c->active) {
		/* One request at a time: FCGI_MPXS_CONNS is 0. */
		if (id != c->id)
			out_end_request(c, id, FCGI_CANT_MPX_CONN);
		return;
	}
	if (role != FCGI_RESPONDER && role != FCGI_AUTHORIZER) {
		out_end_request(c, id, FCGI_UNKNOWN_ROLE);
		if (!keep)
			c->closing = true;
		return;
	}
	request_reset(c);
	c->active = true;
	c->authorizer = role == FCGI_AUTHORIZER;
	c->id = id;
	c->keep_conn = keep;
	stats.requests++;
	if (keep)
		stats.keep_conn++;
}

static void on_request_record(struct conn *c, int type, uint16_t id,
			      const unsigned char *p, size_t n)
{
	if (type == FCGI_ABORT_REQUEST)
		stats.aborts++;
	if (!c->active || id != c->id)
		return; /* the spec says: ignore records of inactive requests */
	switch (type) {
	case FCGI_ABORT_REQUEST:
		request_end(c);
		return;
	case FCGI_PARAMS:
		if (c->params_done)
			return;
		if (n) {
			buf_append(&c->params, p, n);
			c->params_records++;
		} else {
			c->params_done = true;
			if (nv_walk(c->params.p, c->params.len, add_pair, c) < 0) {
				fprintf(stderr, "testapp: malformed PARAMS\n");
				c->dead = true;
				return;
			}
		}
		break;
	case FCGI_STDIN:
		if (c->stdin_done)
			return;
		if (n)
			buf_append(&c->body, p, n);
		else
			c->stdin_done = true;
		break;
	default:
		return; /* FCGI_DATA and the like mean nothing to a responder */
	}
	if (c->params_done && c->stdin_done && !c->dispatched)
		dispatch(c);
}

static void on_record(struct conn *c, int type, uint16_t id,
		      const unsigned char *p, size_t n)
{
	if (id == FCGI_NULL_REQUEST_ID) {
		if (type == FCGI_GET_VALUES) {
			on_get_values(c, p, n);
		} else {
			unsigned char body[8] = { (unsigned char)type };
			out_record(c, FCGI_UNKNOWN_TYPE, 0, body, sizeof body, 0);
		}
	} else if (type == FCGI_BEGIN_REQUEST) {
		on_begin(c, id, p, n);
	} else {
		on_request_record(c, type, id, p, n);
	}
}

struct nv_ctx {
	const unsigned char *src;
	struct buf *reply;
};

static void nv_put_len(struct buf *b, size_t n)
{
	unsigned char l[4] = { (unsigned char)(n >> 24 | FCGI_NV_LONG_FLAG),
			       (unsigned char)(n >> 16), (unsigned char)(n >> 8),
			       (unsigned char)n };
	if (n <= 127)
		buf_append(b, l + 3, 1);
	else
		buf_append(b, l, 4);
}

static void answer_value(void *ctx, size_t name, size_t nlen, size_t value,
			 size_t vlen)
{
	(void)value;
	(void)vlen;
	struct nv_ctx *x = ctx;
	char v[32];
	const char *nm = (const char *)x->src + name;
	if (nlen == 14 && !memcmp(nm, "FCGI_MAX_CONNS", nlen))
		snprintf(v, sizeof v, "%u", max_conns);
	else if (nlen == 13 && !memcmp(nm, "FCGI_MAX_REQS", nlen))
		snprintf(v, sizeof v, "%u", max_conns);
	else if (nlen == 15 && !memcmp(nm, "FCGI_MPXS_CONNS", nlen))
		snprintf(v, sizeof v, "0");
	else
		return; /* unknown names are left out of the answer */
	nv_put_len(x->reply, nlen);
	nv_put_len(x->reply, strlen(v));
	buf_append(x->reply, nm, nlen);
	buf_append(x->reply, v, strlen(v));
}

static void on_get_values(struct conn *c, const unsigned char *p, size_t n)
{
	struct buf reply = { 0 };
	struct nv_ctx x = { p, &reply };
	stats.get_values++;
	if (nv_walk(p, n, answer_value, &x) < 0)
		fprintf(stderr, "testapp: malformed GET_VALUES\n");
	if (reply.len <= FCGI_MAX_CONTENT)
		out_record(c, FCGI_GET_VALUES_RESULT, 0, reply.p, reply.len, 0);
	buf_free(&reply);
}

/* Parses every complete record in c->in, whatever way it was split. */
static void parse_records(struct conn *c)
{
	size_t off = 0;
	while (!c->dead && !c->closing && c->in.len - off >= FCGI_HEADER_LEN) {
		const unsigned char *h = c->in.p + off;
		if (h[0] != FCGI_VERSION_1) {
			fprintf(stderr, "testapp: bad record version %d\n", h[0]);
			c->dead = true;
			break;
		}
		size_t clen = (size_t)h[4] << 8 | h[5];
		size_t total = FCGI_HEADER_LEN + clen + h[6];
		if (c->in.len - off < total)
			break;
		on_record(c, h[1], (uint16_t)(h[2] << 8 | h[3]),
			  h + FCGI_HEADER_LEN, clen);
		off += total;
	}
	memmove(c->in.p, c->in.p + off, c->in.len - off);
	c->in.len -= off;
}

/* --- sockets -------------------------------------------------------------- */
static void conn_read(struct conn *c)
{
	buf_reserve(&c->in, READ_CHUNK);
	ssize_t n = recv(c->fd, c->in.p + c->in.len, READ_CHUNK, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		c->dead = true; /* the peer closed: the request is abandoned */
		return;
	}
	if (c->closing)
		return; /* nothing more is wanted on this connection */
	c->in.len += (size_t)n;
	parse_records(c);
}

static void conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off,
				 c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = c->out_off = 0;
	if (c->out.cap > 4 * OUT_HIGH_WATER)
		buf_free(&c->out); /* give back what a big echo took */
}

/*
 * Unread input at close() makes the kernel send RST, which can destroy
 * our last records before the peer reads them; so read what is left.
 */
static void conn_close(struct conn *c)
{
	unsigned char sink[4096];
	for (int i = 0; i < DRAIN_LIMIT; i++)
		if (recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
			break;
	close(c->fd);
	request_reset(c);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* Timers, streaming and writing for one connection; true = wants more. */
static bool conn_service(struct conn *c, int64_t now)
{
	if (!c->dead && (c->gen == GEN_SLOW || c->gen == GEN_PIECES))
		gen_timer(c, now);
	if (!c->dead && c->gen == GEN_BYTES)
		gen_bytes(c);
	if (!c->dead)
		conn_flush(c);
	if (!c->dead && c->closing && c->out_off == c->out.len)
		c->dead = true;
	return !c->dead && c->gen == GEN_BYTES && c->out.len == 0;
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				perror("testapp: accept");
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = xrealloc(NULL, sizeof *c);
		*c = (struct conn){ .fd = fd };
		if (nconns == cap_conns) {
			cap_conns = cap_conns ? 2 * cap_conns : 64;
			conns = xrealloc(conns, cap_conns * sizeof *conns);
		}
		conns[nconns++] = c;
		stats.connections++;
	}
}

static int listen_on(const char *spec, char *shown, size_t shown_len)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= sizeof host)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	char *h = host;
	if (h[0] == '[') { /* [::1]:PORT */
		size_t hl = strlen(h);
		if (hl < 2 || h[hl - 1] != ']')
			return -1;
		h[hl - 1] = '\0';
		h++;
	}
	char *end;
	unsigned long port_num = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port_num > PORT_MAX)
		return -1;
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*ai;
	int rc = getaddrinfo(h, colon + 1, &hints, &ai);
	if (rc) {
		fprintf(stderr, "testapp: %s: %s\n", spec, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		perror("testapp: listen");
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	/* Show the port really bound, so that PORT 0 is usable too. */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		port = ntohs(s6->sin6_port);
		snprintf(shown, shown_len, "[%s]:%d", ip, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		port = ntohs(s4->sin_port);
		snprintf(shown, shown_len, "%s:%d", ip, port);
	}
	return fd;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Waits for readiness; SIGTERM is let in only while waiting. */
static int wait_ready(struct pollfd *pfd, size_t n, int timeout_ms,
		      const sigset_t *waitmask)
{
	struct timespec ts, *tsp = NULL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	return ppoll(pfd, n, tsp, waitmask);
}

static void sweep_dead(void)
{
	for (size_t i = 0; i < nconns;) {
		if (conns[i]->dead) {
			conn_close(conns[i]);
			conns[i] = conns[--nconns];
		} else {
			i++;
		}
	}
}

static void run(int lfd, const sigset_t *waitmask)
{
	struct pollfd *pfd = NULL;
	size_t cap_pfd = 0;
	while (!stop) {
		int64_t now = now_ms();
		int timeout = -1;
		for (size_t i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			if (conn_service(c, now))
				timeout = 0;
			if (!c->dead && (c->gen == GEN_SLOW || c->gen == GEN_PIECES)) {
				int64_t left = c->deadline > now ? c->deadline - now : 0;
				if (timeout < 0 || left < timeout)
					timeout = (int)left;
			}
		}
		sweep_dead();
		if (cap_pfd < nconns + 1) {
			cap_pfd = 2 * (nconns + 1);
			pfd = xrealloc(pfd, cap_pfd * sizeof *pfd);
		}
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			short ev = c->closing ? 0 : POLLIN;
			if (c->out_off < c->out.len)
				ev |= POLLOUT;
			pfd[i + 1] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		size_t polled = nconns;
		if (wait_ready(pfd, polled + 1, timeout, waitmask) < 0) {
			if (errno != EINTR) {
				perror("testapp: poll");
				break;
			}
			continue;
		}
		for (size_t i = 0; i < polled; i++) {
			struct conn *c = conns[i];
			short re = pfd[i + 1].revents;
			if (re & (POLLIN | POLLHUP | POLLERR))
				conn_read(c);
			if (!c->dead && (re & POLLOUT))
				conn_flush(c);
		}
		if (pfd[0].revents & POLLIN)
			accept_all(lfd);
	}
	free(pfd);
}

static void usage(void)
{
	fprintf(stderr, "usage: fcgi-testapp --listen HOST:PORT|[V6]:PORT "
			"[--max-conns N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *spec = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			spec = argv[++i];
		else if (!strcmp(argv[i], "--max-conns") && i + 1 < argc)
			max_conns = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!spec)
		usage();
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i % BYTES_PERIOD);

	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char shown[300];
	int lfd = listen_on(spec, shown, sizeof shown);
	if (lfd < 0) {
		fprintf(stderr, "testapp: cannot listen on %s\n", spec);
		return 1;
	}
	printf("testapp listening on %s\n", shown);
	fflush(stdout);
	run(lfd, &waitmask);
	for (size_t i = 0; i < nconns; i++)
		conn_close(conns[i]);
	free(conns);
	close(lfd);
	return 0;
}
