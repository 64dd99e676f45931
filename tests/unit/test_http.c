/*
 * test_http.c - request-head parser, framing, keep-alive, path
 * normalisation and reason phrases. Every head is also fed one byte at a
 * time, each prefix in a buffer of exactly that size, so ASan catches a
 * read past len and the incremental result must equal the one-shot one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HDR_CAP 16
#define LINE_MAX_T 64
#define HEAD_MAX_T 512
#define COUNT_MAX_T 12
#define WHOLE 0  /* expected return: the whole input is the head */

/* A string literal with its length, so heads may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static const struct http_limits lim_t = { LINE_MAX_T, HEAD_MAX_T, COUNT_MAX_T };

struct parsed {
	int rc;
	struct http_request req;
	struct http_header hdr[HDR_CAP];
};

static void req_init(struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->req.headers = p->hdr;
	p->req.header_cap = HDR_CAP;
}

/* One call on an exact-size copy; the copy lives on in *copy. */
static int parse_copy(const char *in, size_t len, size_t *scanned,
		      struct parsed *p, const struct http_limits *lim, char **copy)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, in, len);
	return http_parse_request(*copy, len, scanned, &p->req, lim);
}

static int parse_once(const char *in, size_t len, struct parsed *p,
		      const struct http_limits *lim, char **copy)
{
	size_t scanned = 0;

	req_init(p);
	p->rc = parse_copy(in, len, &scanned, p, lim, copy);
	return p->rc;
}

/*
 * Feed in[0..len) one more byte per call until the parser answers; the
 * answer must come exactly when the one-shot parse says it would.
 */
static void feed_bytewise(const char *in, size_t len, int want_rc,
			  uint16_t want_status, const struct http_limits *lim)
{
	struct parsed p;
	size_t scanned = 0;
	size_t k;
	int rc = HTTP_NEED_MORE;

	req_init(&p);
	for (k = 1; k <= len && rc == HTTP_NEED_MORE; k++) {
		char *copy;
		rc = parse_copy(in, k, &scanned, &p, lim, &copy);
		free(copy);
	}
	assert_int_equal(rc, want_rc);
	assert_int_equal(p.req.status, want_status);
	if (want_rc > 0)	/* no answer before the last byte of the head */
		assert_int_equal(k - 1, (size_t)want_rc);
}

static void assert_slice(struct http_slice s, const char *want)
{
	if (want == NULL) {
		assert_null(s.p);
		assert_int_equal(s.len, 0);
		return;
	}
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

/* ---- valid heads ------------------------------------------------------- */

struct valid_case {
	const char *in;
	size_t len;
	int rc;                 /* WHOLE, or the head length */
	const char *method, *target, *path, *query;
	uint8_t minor;
	uint16_t count;
	const char *name0, *value0;  /* first header, if any */
};

static const struct valid_case valid_cases[] = {
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), WHOLE,
	  "GET", "/", "/", NULL, 1, 1, "Host", "a" },
	{ S("GET / HTTP/1.0\r\n\r\n"), WHOLE, "GET", "/", "/", NULL, 0, 0, NULL, NULL },
	{ S("GET / HTTP/1.1\n\n"), WHOLE, "GET", "/", "/", NULL, 1, 0, NULL, NULL },
	{ S("GET /a?b=c&d HTTP/1.1\nHost: x\n\n"), WHOLE,
	  "GET", "/a?b=c&d", "/a", "b=c&d", 1, 1, "Host", "x" },
	{ S("GET /a? HTTP/1.1\r\n\r\n"), WHOLE, "GET", "/a?", "/a", "", 1, 0, NULL, NULL },
	{ S("GET /a?x?y HTTP/1.1\r\n\r\n"), WHOLE, "GET", "/a?x?y", "/a", "x?y", 1, 0, NULL, NULL },
	/* CONNECT's authority-form is parsed (the gateway answers 405) */
	{ S("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), WHOLE,
	  "CONNECT", "example.com:443", "/", NULL, 1, 0, NULL, NULL },
	/* mixed line ends */
	{ S("GET / HTTP/1.1\r\nA: 1\nB: 2\r\n\n"), WHOLE, "GET", "/", "/", NULL, 1, 2, "A", "1" },
	{ S("GET / HTTP/1.1\nA: 1\n\r\n"), WHOLE, "GET", "/", "/", NULL, 1, 1, "A", "1" },
	/* leading empty lines are skipped, and counted in the head */
	{ S("\r\nGET / HTTP/1.1\r\n\r\n"), WHOLE, "GET", "/", "/", NULL, 1, 0, NULL, NULL },
	{ S("\n\r\n\nGET / HTTP/1.1\r\n\r\n"), WHOLE, "GET", "/", "/", NULL, 1, 0, NULL, NULL },
	/* a body (or the next request) after the head is not consumed */
	{ S("POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), 39,
	  "POST", "/p", "/p", NULL, 1, 1, "Content-Length", "3" },
	{ S("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 18,
	  "GET", "/", "/", NULL, 1, 0, NULL, NULL },
	/* values: trimmed of SP/HTAB, inner spaces, obs-text and empty kept */
	{ S("GET / HTTP/1.1\r\nX: \t a b \t\r\n\r\n"), WHOLE,
	  "GET", "/", "/", NULL, 1, 1, "X", "a b" },
	{ S("GET / HTTP/1.1\r\nX:\r\n\r\n"), WHOLE, "GET", "/", "/", NULL, 1, 1, "X", "" },
	{ S("GET / HTTP/1.1\r\nX:   \r\n\r\n"), WHOLE, "GET", "/", "/", NULL, 1, 1, "X", "" },
	{ S("GET / HTTP/1.1\r\nX: caf\xc3\xa9 \xff\r\n\r\n"), WHOLE,
	  "GET", "/", "/", NULL, 1, 1, "X", "caf\xc3\xa9 \xff" },
	{ S("GET / HTTP/1.1\r\nX: a:b \"q\" (c) {}\r\n\r\n"), WHOLE,
	  "GET", "/", "/", NULL, 1, 1, "X", "a:b \"q\" (c) {}" },
	/* every tchar in a name and a method */
	{ S("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"), WHOLE,
	  "!#$%&'*+-.^_`|~09azAZ", "/", "/", NULL, 1, 1, "!#$%&'*+-.^_`|~09azAZ", "v" },
	/* asterisk-form for OPTIONS */
	{ S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), WHOLE,
	  "OPTIONS", "*", "*", NULL, 1, 1, "Host", "a" },
	/* absolute-form: the path part, "/" when it is empty */
	{ S("GET http://example.com/x/y?q=1 HTTP/1.1\r\n\r\n"), WHOLE,
	  "GET", "http://example.com/x/y?q=1", "/x/y", "q=1", 1, 0, NULL, NULL },
	{ S("GET HTTPS://example.com:8443 HTTP/1.1\r\n\r\n"), WHOLE,
	  "GET", "HTTPS://example.com:8443", "/", NULL, 1, 0, NULL, NULL },
	{ S("GET http://h?q HTTP/1.1\r\n\r\n"), WHOLE,
	  "GET", "http://h?q", "/", "q", 1, 0, NULL, NULL },
	/* VCHARs in the target other than '#' are left to the router */
	{ S("GET /%7e/a;b,c!$&'()*+=:@[]|^\\{}\"<>` HTTP/1.1\r\n\r\n"), WHOLE,
	  "GET", "/%7e/a;b,c!$&'()*+=:@[]|^\\{}\"<>`",
	  "/%7e/a;b,c!$&'()*+=:@[]|^\\{}\"<>`", NULL, 1, 0, NULL, NULL },
	/* a typical browser head */
	{ S("GET /app/index.php?page=2&sort=name HTTP/1.1\r\n"
	    "Host: router.local:8080\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
	    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	    "Accept-Language: en-US,en;q=0.5\r\n"
	    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
	    "Connection: keep-alive\r\n"
	    "Cookie: session=3f2a9c0d5e; theme=dark\r\n"
	    "Upgrade-Insecure-Requests: 1\r\n"
	    "Sec-Fetch-Dest: document\r\n"
	    "Priority: u=0, i\r\n\r\n"), WHOLE,
	  "GET", "/app/index.php?page=2&sort=name", "/app/index.php",
	  "page=2&sort=name", 1, 10, "Host", "router.local:8080" },
};

static void check_valid(const struct valid_case *c)
{
	struct parsed p;
	char *copy;
	int want = c->rc == WHOLE ? (int)c->len : c->rc;

	parse_once(c->in, c->len, &p, &lim_t, &copy);
	assert_int_equal(p.rc, want);
	assert_int_equal(p.req.status, 0);
	assert_int_equal(p.req.content_length, -1);
	assert_int_equal(p.req.flags, 0);
	assert_slice(p.req.method, c->method);
	assert_slice(p.req.target, c->target);
	assert_slice(p.req.path, c->path);
	assert_slice(p.req.query, c->query);
	assert_int_equal(p.req.version_minor, c->minor);
	assert_int_equal(p.req.header_count, c->count);
	if (c->name0 != NULL) {
		assert_slice(p.hdr[0].name, c->name0);
		assert_slice(p.hdr[0].value, c->value0);
	}
	free(copy);
	feed_bytewise(c->in, c->len, want, 0, &lim_t);
}

static void test_valid_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(valid_cases); i++) {
		print_message("valid case %zu\n", i);
		check_valid(&valid_cases[i]);
	}
}

/* Slices point into the caller's buffer: zero copy. */
static void test_slices_in_place(void **state)
{
	static const char in[] = "GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n";
	struct parsed p;
	size_t scanned = 0;

	(void)state;
	req_init(&p);
	assert_int_equal(http_parse_request(in, sizeof(in) - 1, &scanned, &p.req,
					    &lim_t), (int)sizeof(in) - 1);
	assert_ptr_equal(p.req.method.p, in);
	assert_ptr_equal(p.req.path.p, in + 4);
	assert_ptr_equal(p.req.query.p, in + 7);
	assert_ptr_equal(p.hdr[0].value.p, in + 25);
}

/* ---- invalid heads ----------------------------------------------------- */

struct bad_case {
	const char *in;
	size_t len;
	uint16_t status;
};

static const struct bad_case bad_cases[] = {
	/* request line shape */
	{ S("GET  / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /  HTTP/1.1\r\n\r\n"), 400 },
	{ S(" GET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1 \r\n\r\n"), 400 },
	{ S("GET\t/ HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\r\n\r\n"), 400 },
	{ S("GET /\r\n\r\n"), 400 },
	{ S("GET\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1 x\r\n\r\n"), 400 },
	{ S("/ HTTP/1.1\r\n\r\n"), 400 },
	/* method must be a token */
	{ S("G(T / HTTP/1.1\r\n\r\n"), 400 },
	{ S("G\x80T / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GE\"T / HTTP/1.1\r\n\r\n"), 400 },
	/* target forms */
	{ S("GET * HTTP/1.1\r\n\r\n"), 400 },
	{ S("options * HTTP/1.1\r\n\r\n"), 400 },
	{ S("OPTIONS *x HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET a/b HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET ftp://h/x HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET http:///x HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET http:// HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET http://user@h/x HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /a#frag HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /a\x7f HTTP/1.1\r\n\r\n"), 400 },
	/* versions */
	{ S("GET / HTTP/2.0\r\n\r\n"), 505 },
	{ S("GET / HTTP/1.2\r\n\r\n"), 505 },
	{ S("GET / HTTP/0.9\r\n\r\n"), 505 },
	{ S("GET / HTTP/9.9\r\n\r\n"), 505 },
	{ S("GET / HTTP/1.10\r\n\r\n"), 400 },
	{ S("GET / HTTP/11\r\n\r\n"), 400 },
	{ S("GET / HTTP/1\r\n\r\n"), 400 },
	{ S("GET / http/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.x\r\n\r\n"), 400 },
	{ S("GET / HTTPS/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/2\r\n\r\n"), 400 },
	{ S("GET / HTTP/a.1\r\n\r\n"), 400 },
	/* header names */
	{ S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHo\x80st: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: 1\r\n B: 2\r\n\r\n"), 400 },
	/* obs-fold */
	{ S("GET / HTTP/1.1\r\nA: 1\r\n  continued\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: 1\r\n\tcontinued\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n folded: 1\r\n\r\n"), 400 },
	/* control bytes anywhere */
	{ S("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: x\ry\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: x\r\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: x\x7fy\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: x\x1b[0m\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA\0: x\r\n\r\n"), 400 },
	{ S("GET /\0 HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n\r\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nA: 1\r\n\rB: 2\r\n\r\n"), 400 },
	/* leading garbage */
	{ S("\rGET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"), 400 },
};

static void test_bad_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct parsed p;
		char *copy;

		print_message("bad case %zu\n", i);
		parse_once(c->in, c->len, &p, &lim_t, &copy);
		assert_int_equal(p.rc, HTTP_ERROR);
		assert_int_equal(p.req.status, c->status);
		free(copy);
		feed_bytewise(c->in, c->len, HTTP_ERROR, c->status, &lim_t);
	}
}

/* Incomplete heads ask for more, whatever they end in. */
static void test_need_more(void **state)
{
	static const struct { const char *in; size_t len; } cases[] = {
		{ S("") }, { S("\r") }, { S("\r\n") }, { S("\n\r") }, { S("G") },
		{ S("GET / HTTP/1.1") }, { S("GET / HTTP/1.1\r") },
		{ S("GET / HTTP/1.1\r\n") }, { S("GET / HTTP/1.1\r\n\r") },
		{ S("GET / HTTP/1.1\r\nA: 1\r\n") }, { S("GET / HTTP/1.1\nA: 1\n\r") },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct parsed p;
		char *copy;
		assert_int_equal(parse_once(cases[i].in, cases[i].len, &p, &lim_t,
					    &copy), HTTP_NEED_MORE);
		assert_int_equal(p.req.status, 0);
		free(copy);
	}
}

/* ---- limits -------------------------------------------------------------- */

/* "GET /aaa...a HTTP/1.1" of exactly line_len bytes, CRLF, extra, CRLF. */
static size_t make_head(char *buf, size_t cap, size_t line_len,
			const char *extra)
{
	static const char tail[] = " HTTP/1.1\r\n";
	size_t path = line_len - strlen("GET ") - strlen(" HTTP/1.1");
	size_t n;

	assert_true(line_len + strlen(extra) + 16 < cap);
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', path - 1);
	n = 4 + path;
	memcpy(buf + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	memcpy(buf + n, extra, strlen(extra));
	n += strlen(extra);
	memcpy(buf + n, "\r\n", 2);
	return n + 2;
}

static void expect(const char *in, size_t len, int rc, uint16_t status,
		   const struct http_limits *lim)
{
	struct parsed p;
	char *copy;

	parse_once(in, len, &p, lim, &copy);
	assert_int_equal(p.rc, rc);
	assert_int_equal(p.req.status, status);
	free(copy);
	feed_bytewise(in, len, rc, status, lim);
}

static void test_line_limit(void **state)
{
	char buf[HEAD_MAX_T * 2];
	size_t n;

	(void)state;
	n = make_head(buf, sizeof(buf), LINE_MAX_T, "");
	expect(buf, n, (int)n, 0, &lim_t);
	n = make_head(buf, sizeof(buf), LINE_MAX_T + 1, "");
	expect(buf, n, HTTP_ERROR, 414, &lim_t);
	/* LF-only: the line still counts without its line end */
	n = make_head(buf, sizeof(buf), LINE_MAX_T, "");
	memmove(buf + LINE_MAX_T, buf + LINE_MAX_T + 1, n - LINE_MAX_T - 1);
	expect(buf, n - 1, (int)n - 1, 0, &lim_t);
}

/* An endless request line is refused once line_max + CRLF bytes are in. */
static void test_line_limit_early(void **state)
{
	char buf[LINE_MAX_T + 2];
	struct parsed p;
	size_t scanned = 0;

	(void)state;
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', sizeof(buf) - 5);
	req_init(&p);
	assert_int_equal(http_parse_request(buf, sizeof(buf) - 1, &scanned,
					    &p.req, &lim_t), HTTP_NEED_MORE);
	assert_int_equal(http_parse_request(buf, sizeof(buf), &scanned,
					    &p.req, &lim_t), HTTP_ERROR);
	assert_int_equal(p.req.status, 414);
	/* line_max bytes and a CR may still end in LF */
	buf[LINE_MAX_T] = '\r';
	scanned = 0;
	assert_int_equal(http_parse_request(buf, LINE_MAX_T + 1, &scanned,
					    &p.req, &lim_t), HTTP_NEED_MORE);
	buf[LINE_MAX_T + 1] = '\n';
	assert_int_equal(http_parse_request(buf, LINE_MAX_T + 2, &scanned,
					    &p.req, &lim_t), HTTP_NEED_MORE);
	assert_int_equal(p.req.status, 0);
}

static void test_head_limit(void **state)
{
	char buf[HEAD_MAX_T * 2];
	char extra[HEAD_MAX_T];
	size_t n, fill;
	struct parsed p;
	size_t scanned = 0;

	(void)state;
	/* One header that brings the head to exactly head_max. */
	n = make_head(buf, sizeof(buf), 20, "X: \r\n");
	fill = HEAD_MAX_T - n;
	memcpy(extra, "X: ", 3);
	memset(extra + 3, 'v', fill);
	memcpy(extra + 3 + fill, "\r\n", 3);
	n = make_head(buf, sizeof(buf), 20, extra);
	assert_int_equal(n, HEAD_MAX_T);
	expect(buf, n, HEAD_MAX_T, 0, &lim_t);
	extra[3] = 'w';
	memcpy(extra + 3 + fill, "w\r\n", 4);
	n = make_head(buf, sizeof(buf), 20, extra);
	expect(buf, n, HTTP_ERROR, 431, &lim_t);
	/* No end in sight after head_max bytes: 431 without waiting. */
	req_init(&p);
	assert_int_equal(http_parse_request(buf, HEAD_MAX_T - 1, &scanned,
					    &p.req, &lim_t), HTTP_NEED_MORE);
	assert_int_equal(http_parse_request(buf, HEAD_MAX_T, &scanned,
					    &p.req, &lim_t), HTTP_ERROR);
	assert_int_equal(p.req.status, 431);
}

/* A head limit below line_max + CRLF decides for the request line too. */
static void test_head_limit_small(void **state)
{
	static const struct http_limits lim = { 100, 40, 8 };
	char buf[64];

	(void)state;
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', sizeof(buf) - 5);
	expect(buf, sizeof(buf), HTTP_ERROR, 431, &lim);
	expect(S("GET / HTTP/1.1\r\nA: 1\r\n\r\n"), 24, 0, &lim);
}

static void test_count_limit(void **state)
{
	char buf[HEAD_MAX_T];
	char extra[HEAD_MAX_T] = "";
	struct http_limits lim = lim_t;
	size_t n;

	(void)state;
	for (int i = 0; i < COUNT_MAX_T; i++)
		sprintf(extra + strlen(extra), "H%d: %d\r\n", i, i);
	n = make_head(buf, sizeof(buf), 20, extra);
	expect(buf, n, (int)n, 0, &lim);
	strcat(extra, "Hx: x\r\n");
	n = make_head(buf, sizeof(buf), 20, extra);
	expect(buf, n, HTTP_ERROR, 431, &lim);
	/* the caller's array is the tighter bound */
	lim.count_max = 1000;
	expect(buf, n, (int)n, 0, &lim);
	strcpy(extra, "");
	for (int i = 0; i <= HDR_CAP; i++)
		sprintf(extra + strlen(extra), "H%d: %d\r\n", i, i);
	n = make_head(buf, sizeof(buf), 20, extra);
	expect(buf, n, HTTP_ERROR, 431, &lim);
}

/* A bad header before the count runs out is still a 400. */
static void test_count_limit_zero(void **state)
{
	static const struct http_limits lim = { LINE_MAX_T, HEAD_MAX_T, 0 };

	(void)state;
	expect(S("GET / HTTP/1.1\r\n\r\n"), 18, 0, &lim);
	expect(S("GET / HTTP/1.1\r\nA: 1\r\n\r\n"), HTTP_ERROR, 431, &lim);
	expect(S("GET / HTTP/1.1\r\nA : 1\r\n\r\n"), HTTP_ERROR, 400, &lim);
}

/* The header array may be absent when no header fits anyway. */
static void test_no_header_array(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nA: 1\r\n\r\n";
	struct http_request req;
	size_t scanned = 0;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(http_parse_request(in, sizeof(in) - 1, &scanned, &req,
					    &lim_t), HTTP_ERROR);
	assert_int_equal(req.status, 431);
}

/* ---- framing ------------------------------------------------------------- */

struct framing_case {
	const char *head;   /* header lines after "POST / HTTP/1.x\r\n" */
	uint8_t minor;
	int rc;
	uint16_t status;
	uint8_t flags;
	int64_t cl;
};

#define CL HTTP_CONN_CLOSE
#define KA HTTP_CONN_KEEPALIVE
#define EC HTTP_EXPECT_CONTINUE
#define CH HTTP_BODY_CHUNKED

static const struct framing_case framing_cases[] = {
	{ "", 1, 0, 0, 0, -1 },
	{ "Content-Length: 0\r\n", 1, 0, 0, 0, 0 },
	{ "Content-Length: 42\r\n", 1, 0, 0, 0, 42 },
	{ "content-length: 007\r\n", 1, 0, 0, 0, 7 },
	{ "Content-Length: 9223372036854775807\r\n", 1, 0, 0, 0, INT64_MAX },
	{ "Content-Length: 9223372036854775808\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 99999999999999999999999\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5, 5\r\n", 1, 0, 0, 0, 5 },
	{ "Content-Length: 5,5 ,\t5\r\n", 1, 0, 0, 0, 5 },
	{ "Content-Length: 5\r\nContent-Length: 5\r\n", 1, 0, 0, 0, 5 },
	{ "Content-Length: 5\r\nContent-Length: 05\r\n", 1, 0, 0, 0, 5 },
	{ "Content-Length: 5, 6\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5\r\nContent-Length: 6\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5,\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: ,5\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5,,5\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length:\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: +5\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: -1\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 0x10\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 1 2\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5.0\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\n", 1, 0, 0, CH, -1 },
	{ "Transfer-Encoding: CHUNKED\r\n", 1, 0, 0, CH, -1 },
	{ "Transfer-Encoding: chunked, chunked\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked, gzip\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: gzip, chunked\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: gzip\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: deflate\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: compress\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: identity\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: x-custom;q=1;a=\"b,c\"\r\n", 1, -1, 501, 0, -1 },
	{ "Transfer-Encoding: chunked;a=b\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding:\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: ,chunked\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked,\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunk ed\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: \"chunked\"\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: gzip;q\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: gzip;a=\"b\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 1, -1, 400, 0, -1 },
	{ "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\n", 0, -1, 400, 0, -1 },
	{ "Connection: close\r\n", 1, 0, 0, CL, -1 },
	{ "Connection: Keep-Alive\r\n", 0, 0, 0, KA, -1 },
	{ "Connection: upgrade, CLOSE\r\n", 1, 0, 0, CL, -1 },
	{ "Connection: te,keep-alive , x\r\n", 1, 0, 0, KA, -1 },
	{ "Connection: closed, keep-alive2\r\n", 1, 0, 0, 0, -1 },
	{ "Connection: keep-alive\r\nConnection: close\r\n", 1, 0, 0, CL | KA, -1 },
	{ "Expect: 100-continue\r\nContent-Length: 10\r\n", 1, 0, 0, EC, 10 },
	{ "Expect: 100-Continue\r\n", 1, 0, 0, EC, -1 },
	{ "Expect: 100-continue\r\n", 0, 0, 0, 0, -1 },
	{ "Expect: 200-ok\r\n", 1, -1, 417, 0, -1 },
	{ "Expect:\r\n", 1, -1, 417, 0, -1 },
	{ "Expect: 100-continue, foo\r\n", 1, -1, 417, 0, -1 },
	{ "Expect: 100-continue\r\nExpect: x\r\n", 1, -1, 417, 0, -1 },
	/* a bad body framing is answered before an expectation */
	{ "Expect: x\r\nContent-Length: y\r\n", 1, -1, 400, 0, -1 },
	{ "Transfer-Encoding: chunked\r\nConnection: close\r\n"
	  "Expect: 100-continue\r\n", 1, 0, 0, CH | CL | EC, -1 },
};

static void test_framing(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(framing_cases); i++) {
		const struct framing_case *c = &framing_cases[i];
		char in[HEAD_MAX_T];
		struct parsed p;
		char *copy;
		int n = snprintf(in, sizeof(in), "POST / HTTP/1.%u\r\n%s\r\n",
				 c->minor, c->head);

		print_message("framing case %zu\n", i);
		assert_int_equal(parse_once(in, (size_t)n, &p, &lim_t, &copy), n);
		assert_int_equal(http_request_framing(&p.req), c->rc);
		assert_int_equal(p.req.status, c->status);
		if (c->rc == 0) {
			assert_int_equal(p.req.flags, c->flags);
			assert_int_equal(p.req.content_length, c->cl);
		}
		free(copy);
	}
}

/* ---- keep-alive, lookups -------------------------------------------------- */

static void test_keep_alive(void **state)
{
	static const struct { uint8_t minor, flags; int keep; } cases[] = {
		{ 1, 0, 1 }, { 1, CL, 0 }, { 1, KA, 1 }, { 1, CL | KA, 0 },
		{ 0, 0, 0 }, { 0, KA, 1 }, { 0, CL, 0 }, { 0, CL | KA, 0 },
		{ 1, CH | EC, 1 },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct http_request req;
		memset(&req, 0, sizeof(req));
		req.version_minor = cases[i].minor;
		req.flags = cases[i].flags;
		assert_int_equal(http_keep_alive(&req), cases[i].keep);
	}
}

static void test_slice_eq(void **state)
{
	static const char s[] = "Content-Type";
	struct http_slice sl = { s, sizeof(s) - 1 };
	struct http_slice empty = { NULL, 0 };

	(void)state;
	assert_true(http_slice_eq(sl, "content-type"));
	assert_true(http_slice_eq(sl, "CONTENT-TYPE"));
	assert_false(http_slice_eq(sl, "content-typ"));
	assert_false(http_slice_eq(sl, "content-types"));
	assert_false(http_slice_eq(sl, "content_type"));
	assert_true(http_slice_eq(empty, ""));
	assert_false(http_slice_eq(empty, "a"));
	/* only ASCII letters fold: '@' is not '`' */
	struct http_slice at = { "@", 1 };
	assert_false(http_slice_eq(at, "`"));
	/* a difference in the first bytes, in the last ones, past a word */
	assert_true(http_slice_eq(sl, "cONTENT-TYPe"));
	assert_false(http_slice_eq(sl, "Dontent-Type"));
	assert_false(http_slice_eq(sl, "Content-Typf"));
	struct http_slice word = { "AB@D", 4 };
	assert_false(http_slice_eq(word, "ab`d"));
	assert_true(http_slice_eq(word, "aB@d"));
}

static void test_find_header(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n"
				 "x-a: 2\r\n\r\n";
	struct parsed p;
	const struct http_header *h;
	size_t scanned = 0;

	(void)state;
	req_init(&p);
	assert_int_equal(http_parse_request(in, sizeof(in) - 1, &scanned,
					    &p.req, &lim_t), (int)sizeof(in) - 1);
	h = http_find_header(&p.req, "X-a");
	assert_non_null(h);
	assert_slice(h->value, "1");
	assert_ptr_equal(http_find_header(&p.req, "HOST"), &p.hdr[0]);
	assert_null(http_find_header(&p.req, "Hos"));
	assert_null(http_find_header(&p.req, "Cookie"));
}

/* ---- path normalisation ---------------------------------------------------- */

static const struct { const char *in; const char *out; } norm_cases[] = {
	{ "/", "/" },
	{ "", "/" },
	{ "/a/b", "/a/b" },
	{ "/a/./b/../c", "/a/c" },
	{ "/app/%2e%2e/x", "/x" },
	{ "/app/%2E%2E/x", "/x" },
	{ "/app/.%2e/x", "/x" },
	{ "/a/%2e/b", "/a/b" },
	{ "/a/.", "/a/" },
	{ "/a/..", "/" },
	{ "/a/../", "/" },
	{ "/a/b/..", "/a/" },
	{ "/.", "/" },
	{ "/./", "/" },
	{ "/./a", "/a" },
	{ "/a//b", "/a//b" },
	{ "//", "//" },
	{ "//..", "/" },
	{ "/a/...", "/a/..." },
	{ "/a/..b/.c", "/a/..b/.c" },
	{ "/%41%42c", "/ABc" },
	{ "/a%20b", "/a b" },
	{ "/%7e%7E", "/~~" },
	{ "/caf%C3%A9", "/caf\xc3\xa9" },
	{ "/a+b", "/a+b" },
	{ "/%25/%2541", "/%/%41" },
	{ "/%3F?", "/??" },
	{ "/a/b/c/../../d/./e/", "/a/d/e/" },
	{ "/%2e%2e", NULL },
	{ "/%2e%2e/x", NULL },
	{ "/..", NULL },
	{ "/../a", NULL },
	{ "/a/../..", NULL },
	{ "/a/../../b", NULL },
	{ "/./..", NULL },
	{ "/a%2Fb", NULL },
	{ "/a%2fb", NULL },
	{ "/a%00b", NULL },
	{ "/a%", NULL },
	{ "/a%4", NULL },
	{ "/a%4g", NULL },
	{ "/a%g4", NULL },
	{ "/a%%41", NULL },
	{ "a/b", NULL },
	{ "*", NULL },
};

static void test_normalize(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(norm_cases); i++) {
		const char *in = norm_cases[i].in;
		const char *want = norm_cases[i].out;
		size_t len = strlen(in);
		char *raw = malloc(len ? len : 1);
		char out[64];
		int n;

		print_message("normalize \"%s\"\n", in);
		memcpy(raw, in, len);
		memset(out, '#', sizeof(out));
		n = http_normalize_path(raw, len, out, sizeof(out));
		if (want == NULL) {
			assert_int_equal(n, -1);
		} else {
			assert_int_equal(n, (int)strlen(want));
			assert_memory_equal(out, want, (size_t)n);
		}
		free(raw);
	}
}

/* Nothing is written past cap, and a result that does not fit fails. */
static void test_normalize_cap(void **state)
{
	char out[16];

	(void)state;
	memset(out, '#', sizeof(out));
	assert_int_equal(http_normalize_path("/abcd", 5, out, 5), 5);
	assert_memory_equal(out, "/abcd#", 6);
	memset(out, '#', sizeof(out));
	assert_int_equal(http_normalize_path("/abcde", 6, out, 5), -1);
	assert_int_equal(out[5], '#');
	assert_int_equal(http_normalize_path("/%41bcde", 8, out, 5), -1);
	assert_int_equal(out[5], '#');
	assert_int_equal(http_normalize_path("/abc/", 5, out, 5), 5);
	assert_int_equal(http_normalize_path("/abcd/", 6, out, 5), -1);
	assert_int_equal(out[5], '#');
	assert_int_equal(http_normalize_path("/..", 3, out, 1), -1);
	assert_int_equal(http_normalize_path("/.", 2, out, 1), -1);
	assert_int_equal(http_normalize_path("/", 1, out, 1), 1);
	assert_int_equal(out[0], '/');
	/* the decoded path must fit before its dot segments go */
	assert_int_equal(http_normalize_path("/abcdef/..", 10, out, 5), -1);
	assert_int_equal(http_normalize_path("/", 1, out, 0), -1);
	assert_int_equal(http_normalize_path("", 0, out, 0), -1);
}

/* ---- reason phrases ------------------------------------------------------- */

static void test_reason(void **state)
{
	static const unsigned known[] = {
		100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
		400, 401, 403, 404, 405, 408, 410, 411, 413, 414, 415, 416, 417,
		431, 500, 501, 502, 503, 504, 505,
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(known); i++) {
		assert_non_null(http_reason(known[i]));
		assert_string_not_equal(http_reason(known[i]), "Unknown");
	}
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(505), "HTTP Version Not Supported");
	assert_string_equal(http_reason(0), "Unknown");
	assert_string_equal(http_reason(299), "Unknown");
	assert_string_equal(http_reason(999), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_heads),
		cmocka_unit_test(test_slices_in_place),
		cmocka_unit_test(test_bad_heads),
		cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_line_limit_early),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_head_limit_small),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_count_limit_zero),
		cmocka_unit_test(test_no_header_array),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_slice_eq),
		cmocka_unit_test(test_find_header),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_cap),
		cmocka_unit_test(test_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
