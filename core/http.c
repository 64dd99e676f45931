/*
 * http.c - HTTP/1.1 request-head parser (RFC 9112) and the small helpers
 * around it (framing, keep-alive, path normalisation, reason phrases).
 *
 * The head is handled in two passes. The first, incremental one only
 * looks for the blank line that ends the head (and for the end of the
 * request line, so an endless line is refused early); it resumes where the
 * previous call stopped. The second pass runs once, on a complete head, and
 * validates every byte. Both passes stop at the head's final LF, which no
 * byte class accepts, so the inner loops need no bounds checks.
 */
#include "http.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* Status codes this module answers with. */
enum {
	HTTP_ST_BAD_REQUEST = 400,
	HTTP_ST_URI_TOO_LONG = 414,
	HTTP_ST_EXPECTATION_FAILED = 417,
	HTTP_ST_HEADERS_TOO_LARGE = 431,
	HTTP_ST_NOT_IMPLEMENTED = 501,
	HTTP_ST_VERSION = 505,
};

/*
 * RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
 * request line (old clients send a CRLF after a POST body). We ignore a
 * few; more than that is not a confused client, so it gets a 400.
 */
#define HTTP_LEADING_EMPTY_MAX 4

/* RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT */
#define HTTP_VERSION_NAME "HTTP/"
#define HTTP_VERSION_NAME_LEN 5
#define HTTP_VERSION_LEN 8
#define HTTP_VERSION_MAJOR_AT 5
#define HTTP_VERSION_DOT_AT 6
#define HTTP_VERSION_MINOR_AT 7

/* CRLF after the request line, counted when bounding the 414 search. */
#define HTTP_CRLF_LEN 2

/* RFC 9112 §6.1; the only transfer coding a request may use with us. */
#define HTTP_CODING_CHUNKED "chunked"
/* RFC 9112 §3.2.4: the asterisk-form is for OPTIONS only. */
#define HTTP_METHOD_OPTIONS "OPTIONS"
/* RFC 9110 §10.1.1 */
#define HTTP_EXPECT_100 "100-continue"

/* Byte classes (HTTP_CC_* in http.h). */
#define T   (HTTP_CC_TCHAR | HTTP_CC_VALUE)
#define V   HTTP_CC_VALUE
#define VG  (HTTP_CC_VALUE | HTTP_CC_TARGET)
#define TVG (HTTP_CC_TCHAR | HTTP_CC_VALUE | HTTP_CC_TARGET)
#define VO  (HTTP_CC_VALUE | HTTP_CC_OWS)
/* CR, LF, NUL, DEL and the other controls are in no class. */
const uint8_t http_cc[256] = {
	/* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, VO, 0, 0, 0, 0, 0, 0,
	/* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x20 */ VO, TVG, VG, T, TVG, TVG, TVG, TVG, VG, VG, TVG, TVG, VG, TVG, TVG, VG,
	/* 0x30 */ TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, VG, VG, VG, VG, VG, VG,
	/* 0x40 */ VG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG,
	/* 0x50 */ TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, VG, VG, VG, TVG, TVG,
	/* 0x60 */ TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG,
	/* 0x70 */ TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, TVG, VG, TVG, VG, TVG, 0,
	/* 0x80 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0x90 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xA0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xB0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xC0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xD0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xE0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	/* 0xF0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
};
#undef T
#undef V
#undef VG
#undef TVG
#undef VO

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Bytes are nearly always equal as they are ("Content-Length" both sides):
 * compared four at a time while they are, folded only where they differ.
 */
int http_mem_ieq(const char *a, const char *b, size_t n)
{
	size_t i = 0;
	uint32_t x, y;

	for (; i + sizeof(x) <= n; i += sizeof(x)) {
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		if (x != y)
			break;
	}
	for (; i < n; i++)
		if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i]))
			return 0;
	return 1;
}

const char *http_parse_digits(const char *p, const char *end, int64_t *n)
{
	const char *s = p;
	int64_t v = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';
		/* v * 10 + digit past INT64_MAX? Constants: no 64-bit division. */
		if (v > INT64_MAX / 10 || (v == INT64_MAX / 10 && digit > INT64_MAX % 10))
			return NULL;
		v = v * 10 + digit;
	}
	*n = v;
	return p == s ? NULL : p;
}

static struct http_slice slice(const char *from, const char *to)
{
	struct http_slice s = { from, (uint32_t)(to - from) };
	return s;
}

static int fail(struct http_request *req, uint16_t status)
{
	req->status = status;
	return HTTP_ERROR;
}

/* ---- pass 1: find the end of the head ------------------------------- */

/* Where the request line starts, past the empty lines we tolerate. */
static int skip_empty_lines(const char *buf, size_t len, size_t *start)
{
	size_t k = 0;

	for (unsigned n = 0;; n++) {
		if (k == len)
			return HTTP_NEED_MORE;
		if (buf[k] != '\r' && buf[k] != '\n')
			break;
		if (n == HTTP_LEADING_EMPTY_MAX)
			return HTTP_ERROR;
		if (buf[k] == '\r') {
			if (k + 1 == len)
				return HTTP_NEED_MORE;
			if (buf[k + 1] != '\n')
				return HTTP_ERROR;	/* bare CR */
			k++;
		}
		k++;
	}
	*start = k;
	return 0;
}

/*
 * Find the request line's LF. Only the first line_max + CRLF bytes are
 * searched, so an endless line is answered with 414 as soon as that much
 * has arrived instead of holding a slot until the head limit. When the head
 * limit is the smaller bound, it decides (431); both answers depend only on
 * the bytes seen, so any split of the input gives the same one.
 */
static int scan_request_line(const char *buf, size_t len, size_t start,
			     const struct http_limits *lim, size_t *lf,
			     struct http_request *req)
{
	size_t win_end = start + lim->line_max + HTTP_CRLF_LEN;
	size_t end = win_end <= lim->head_max ? win_end : lim->head_max;
	size_t stop = len < end ? len : end;
	const char *nl = NULL;
	size_t line;

	if (stop > start)
		nl = memchr(buf + start, '\n', stop - start);
	if (nl == NULL) {
		if (len < end)
			return HTTP_NEED_MORE;
		return fail(req, end == win_end ? HTTP_ST_URI_TOO_LONG
				  : HTTP_ST_HEADERS_TOO_LARGE);
	}
	*lf = (size_t)(nl - buf);
	/* buf[start] is neither CR nor LF, so *lf > start. */
	line = *lf - start - (buf[*lf - 1] == '\r');
	if (line > lim->line_max)
		return fail(req, HTTP_ST_URI_TOO_LONG);
	return 0;
}

/*
 * Look for the empty line that ends the head, from *scanned on. Callers
 * guarantee *scanned >= 2 (it is past the request line's LF), so the look
 * back at the two previous bytes stays in the buffer.
 */
static int scan_head_end(const char *buf, size_t len, size_t *scanned,
			 uint32_t head_max, size_t *head_len)
{
	size_t stop = len < head_max ? len : head_max;
	size_t i = *scanned;
	const char *nl;

	while (i < stop && (nl = memchr(buf + i, '\n', stop - i)) != NULL) {
		i = (size_t)(nl - buf);
		if (buf[i - 1] == '\n' ||
		    (buf[i - 1] == '\r' && buf[i - 2] == '\n')) {
			*head_len = i + 1;
			return 0;
		}
		i++;
	}
	if (stop > *scanned)
		*scanned = stop;
	return len >= head_max ? HTTP_ERROR : HTTP_NEED_MORE;
}

/* ---- pass 2: validate a complete head -------------------------------- */

/*
 * p is the byte that ended a run of some class. Return the start of the
 * next line when it is a CRLF or bare LF, else NULL. p[1] is readable when
 * p is a CR: the head ends with an LF after it.
 */
static const char *line_end(const char *p)
{
	if (*p == '\n')
		return p + 1;
	if (*p == '\r' && p[1] == '\n')
		return p + 2;
	return NULL;
}

static bool version_ok(const char *v, const char *e)
{
	return e - v == HTTP_VERSION_LEN &&
	       memcmp(v, HTTP_VERSION_NAME, HTTP_VERSION_NAME_LEN) == 0 &&
	       v[HTTP_VERSION_MAJOR_AT] >= '0' && v[HTTP_VERSION_MAJOR_AT] <= '9' &&
	       v[HTTP_VERSION_DOT_AT] == '.' &&
	       v[HTTP_VERSION_MINOR_AT] >= '0' && v[HTTP_VERSION_MINOR_AT] <= '9';
}

/* Case-sensitive, as methods are (RFC 9110 §9.1). */
static bool slice_is(struct http_slice s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* The path of "http://host/p?q": NULL unless it is well formed. */
static const char *absolute_path(const char *p, const char *end)
{
	static const char *const schemes[] = { "http://", "https://" };
	const char *a = NULL;

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i]);
		if ((size_t)(end - p) >= n && http_mem_ieq(p, schemes[i], n))
			a = p + n;
	}
	if (a == NULL)
		return NULL;
	for (p = a; p < end && *p != '/' && *p != '?'; p++)
		if (*p == '@')
			return NULL;	/* userinfo: RFC 9110 §4.2.4 */
	return p > a ? p : NULL;
}

/*
 * Set path and query from the target. Origin-form, "*" for OPTIONS, and
 * absolute-form (whose authority the gateway checks against its host).
 */
static int split_target(struct http_request *req)
{
	static const char root[] = "/";
	const char *p = req->target.p, *end = p + req->target.len;
	const char *q;

	req->query.p = NULL;
	req->query.len = 0;
	if (req->target.len == 1 && *p == '*') {
		if (!slice_is(req->method, HTTP_METHOD_OPTIONS))
			return HTTP_ERROR;
		req->path = req->target;
		return 0;
	}
	if (slice_is(req->method, "CONNECT")) {
		/* authority-form: parsed so the gateway can answer 405, never used */
		req->path = slice(root, root + 1);
		return 0;
	}
	if (*p != '/' && (p = absolute_path(p, end)) == NULL)
		return HTTP_ERROR;
	q = memchr(p, '?', (size_t)(end - p));
	if (q != NULL)
		req->query = slice(q + 1, end);
	else
		q = end;
	req->path = q > p ? slice(p, q) : slice(root, root + 1);
	return 0;
}

/* method SP request-target SP HTTP-version CRLF: the start of the next line. */
static const char *parse_request_line(const char *p, struct http_request *req)
{
	const char *s = p, *next;

	while (http_is_tchar(*p))
		p++;
	if (p == s || *p != ' ')
		return NULL;
	req->method = slice(s, p);
	s = ++p;
	while (http_cc_is(*p, HTTP_CC_TARGET))
		p++;
	if (p == s || *p != ' ')
		return NULL;
	req->target = slice(s, p);
	s = ++p;
	while (http_cc_is(*p, HTTP_CC_TARGET))
		p++;
	if ((next = line_end(p)) == NULL || !version_ok(s, p))
		return NULL;
	if (s[HTTP_VERSION_MAJOR_AT] != '1' ||
	    (s[HTTP_VERSION_MINOR_AT] != '0' && s[HTTP_VERSION_MINOR_AT] != '1')) {
		req->status = HTTP_ST_VERSION;
		return NULL;
	}
	req->version_minor = (uint8_t)(s[HTTP_VERSION_MINOR_AT] - '0');
	if (split_target(req) < 0)
		return NULL;
	return next;
}

/*
 * field-name ":" OWS field-value OWS CRLF. A line starting with SP/HTAB
 * (obs-fold) and whitespace before the colon both fail the token loop:
 * proxies disagree on them, which is how requests get smuggled.
 */
static const char *parse_header_line(const char *p, struct http_header *h)
{
	const char *s = p, *e, *next;

	while (http_is_tchar(*p))
		p++;
	if (p == s || *p != ':')
		return NULL;
	h->name = slice(s, p);
	p++;
	while (http_is_ows(*p))
		p++;
	s = p;
	while (http_is_field_byte(*p))
		p++;
	if ((next = line_end(p)) == NULL)
		return NULL;
	for (e = p; e > s && http_is_ows(e[-1]); e--)
		;
	h->value = slice(s, e);
	return next;
}

/* Validate buf[start..head_len), which ends with its empty line. */
static int parse_head(const char *buf, size_t start, size_t head_len,
		      struct http_request *req, const struct http_limits *lim)
{
	const char *p = buf + start;
	uint16_t cap = req->header_cap < lim->count_max ? req->header_cap
						       : lim->count_max;
	struct http_header scratch;

	req->header_count = 0;
	if ((p = parse_request_line(p, req)) == NULL)
		return fail(req, req->status ? req->status : HTTP_ST_BAD_REQUEST);
	while (line_end(p) == NULL) {
		struct http_header *h = req->header_count < cap ?
			&req->headers[req->header_count] : &scratch;
		if ((p = parse_header_line(p, h)) == NULL)
			return fail(req, HTTP_ST_BAD_REQUEST);
		if (h == &scratch)
			return fail(req, HTTP_ST_HEADERS_TOO_LARGE);
		req->header_count++;
	}
	return (int)head_len;
}

int http_parse_request(const char *buf, size_t len, size_t *scanned,
		       struct http_request *req, const struct http_limits *lim)
{
	size_t start = 0, lf, head_len;
	int rc;

	req->status = 0;
	req->flags = 0;
	req->content_length = -1;
	/* Our return type bounds the head; so does any sane configuration. */
	if (lim->head_max > INT_MAX)
		return fail(req, HTTP_ST_HEADERS_TOO_LARGE);
	rc = skip_empty_lines(buf, len, &start);
	if (rc == HTTP_ERROR)
		return fail(req, HTTP_ST_BAD_REQUEST);
	if (rc == HTTP_NEED_MORE)
		return HTTP_NEED_MORE;
	/* *scanned == 0 means the request line has not been seen whole yet. */
	if (*scanned == 0) {
		rc = scan_request_line(buf, len, start, lim, &lf, req);
		if (rc != 0)
			return rc;
		*scanned = lf + 1;
	}
	rc = scan_head_end(buf, len, scanned, lim->head_max, &head_len);
	if (rc == HTTP_ERROR)
		return fail(req, HTTP_ST_HEADERS_TOO_LARGE);
	if (rc == HTTP_NEED_MORE)
		return HTTP_NEED_MORE;
	return parse_head(buf, start, head_len, req, lim);
}

/* ---- framing ---------------------------------------------------------- */

struct framing {
	int64_t cl;          /* -1: no Content-Length */
	bool cl_bad;
	unsigned te_count;   /* transfer codings, all fields together */
	unsigned te_chunked; /* how many of them are "chunked" */
	bool te_last_chunked;
	bool te_bad;
	bool expect_bad;
	bool expect_continue;
};

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && http_is_tchar(*p))
		p++;
	return p;
}

/*
 * One list element separator: OWS then "," or the end. Returns the start
 * of the next element, end when the list is done, or NULL when malformed
 * (an empty element counts as malformed: these lists frame the body).
 */
static const char *list_next(const char *p, const char *end)
{
	p = http_skip_ows(p, end);
	if (p == end)
		return end;
	if (*p != ',')
		return NULL;
	p = http_skip_ows(p + 1, end);
	return p == end ? NULL : p;
}

/* Content-Length = 1*DIGIT, as a list only of identical values (RFC 9110 §8.6). */
static void frame_content_length(struct framing *f, struct http_slice v)
{
	const char *p = v.p, *end = v.p + v.len;

	if (p == end)
		f->cl_bad = true;
	while (p != NULL && p != end) {
		int64_t n;

		p = http_parse_digits(p, end, &n);
		if (p == NULL || (f->cl >= 0 && f->cl != n)) {
			f->cl_bad = true;
			return;
		}
		f->cl = n;
		p = list_next(p, end);
	}
	if (p == NULL)
		f->cl_bad = true;
}

/* quoted-string (RFC 9110 §5.6.4): past the closing quote, or NULL. */
static const char *skip_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == end)
			return NULL;
	}
	return NULL;
}

/* *( OWS ";" OWS token "=" ( token / quoted-string ) ), or NULL. */
static const char *skip_params(const char *p, const char *end, bool *any)
{
	for (;;) {
		const char *s = http_skip_ows(p, end), *t;
		if (s == end || *s != ';')
			return p;
		*any = true;
		s = http_skip_ows(s + 1, end);
		t = skip_token(s, end);
		if (t == s || t == end || *t != '=')
			return NULL;
		s = t + 1;
		p = (s < end && *s == '"') ? skip_quoted(s, end) : skip_token(s, end);
		if (p == NULL || p == s)
			return NULL;
	}
}

/* Transfer-Encoding = #transfer-coding (RFC 9112 §6.1). */
static void frame_transfer_encoding(struct framing *f, struct http_slice v)
{
	const char *p = v.p, *end = v.p + v.len;

	if (p == end)
		f->te_bad = true;
	while (p != NULL && p != end) {
		const char *t = skip_token(p, end);
		bool params = false;
		bool chunked = (size_t)(t - p) == strlen(HTTP_CODING_CHUNKED) &&
			http_mem_ieq(p, HTTP_CODING_CHUNKED, (size_t)(t - p));
		if (t == p || (p = skip_params(t, end, &params)) == NULL ||
		    (chunked && params)) {
			f->te_bad = true;
			return;
		}
		f->te_count++;
		f->te_chunked += chunked;
		f->te_last_chunked = chunked;
		p = list_next(p, end);
	}
	if (p == NULL)
		f->te_bad = true;
}

/* Connection = #connection-option; only close and keep-alive matter here. */
static uint8_t frame_connection(struct http_slice v)
{
	const char *p = v.p, *end = v.p + v.len;
	uint8_t flags = 0;

	while (p < end) {
		const char *t = skip_token(p, end);
		struct http_slice opt = slice(p, t);
		if (http_slice_eq(opt, "close"))
			flags |= HTTP_CONN_CLOSE;
		else if (http_slice_eq(opt, "keep-alive"))
			flags |= HTTP_CONN_KEEPALIVE;
		/* Skip whatever else is there up to the next comma. */
		while (t < end && *t != ',')
			t++;
		p = http_skip_ows(t < end ? t + 1 : t, end);
	}
	return flags;
}

static void frame_header(struct framing *f, const struct http_header *h,
			 uint8_t *flags)
{
	if (http_slice_eq(h->name, "Content-Length")) {
		frame_content_length(f, h->value);
	} else if (http_slice_eq(h->name, "Transfer-Encoding")) {
		frame_transfer_encoding(f, h->value);
	} else if (http_slice_eq(h->name, "Connection")) {
		*flags |= frame_connection(h->value);
	} else if (http_slice_eq(h->name, "Expect")) {
		if (http_slice_eq(h->value, HTTP_EXPECT_100))
			f->expect_continue = true;
		else
			f->expect_bad = true;
	}
}

/* The status that the collected framing facts call for, or 0. */
static uint16_t framing_status(const struct framing *f, uint8_t minor)
{
	if (f->cl_bad || f->te_bad)
		return HTTP_ST_BAD_REQUEST;
	if (f->te_count > 0) {
		/* RFC 9112 §6.1: CL with TE is a smuggling attempt; 1.0 has no TE. */
		if (f->cl >= 0 || minor == 0)
			return HTTP_ST_BAD_REQUEST;
		/* §6.3: chunked must be final, and applied once. */
		if (f->te_chunked > 1 || (f->te_chunked == 1 && !f->te_last_chunked))
			return HTTP_ST_BAD_REQUEST;
		if (f->te_count > f->te_chunked)
			return HTTP_ST_NOT_IMPLEMENTED;
	}
	if (f->expect_bad)
		return HTTP_ST_EXPECTATION_FAILED;
	return 0;
}

int http_request_framing(struct http_request *req)
{
	struct framing f = { .cl = -1 };
	uint8_t flags = 0;
	uint16_t status;

	for (uint16_t i = 0; i < req->header_count; i++)
		frame_header(&f, &req->headers[i], &flags);
	status = framing_status(&f, req->version_minor);
	if (status != 0)
		return fail(req, status);
	if (f.te_count > 0)
		flags |= HTTP_BODY_CHUNKED;
	/* RFC 9110 §10.1.1: ignore 100-continue from an HTTP/1.0 client. */
	if (f.expect_continue && req->version_minor > 0)
		flags |= HTTP_EXPECT_CONTINUE;
	req->flags = flags;
	req->content_length = f.cl;
	return 0;
}

int http_keep_alive(const struct http_request *req)
{
	if (req->flags & HTTP_CONN_CLOSE)
		return 0;
	if (req->version_minor >= 1)
		return 1;
	return (req->flags & HTTP_CONN_KEEPALIVE) != 0;
}

const struct http_header *http_find_header(const struct http_request *req,
					   const char *name)
{
	for (uint16_t i = 0; i < req->header_count; i++)
		if (http_slice_eq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

/* ---- path normalisation ---------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode one segment, raw[*i] up to the next '/' or the end, onto out.
 * An encoded '/' would turn one segment into two after the router looked
 * at it, and an encoded NUL would cut the path short in the application:
 * both are refused.
 */
static int decode_segment(const char *raw, size_t len, size_t *i,
			  char *out, size_t cap, size_t *o)
{
	while (*i < len && raw[*i] != '/') {
		char c = raw[*i];
		if (c == '%') {
			int hi, lo;
			if (len - *i < 3)
				return -1;
			hi = hex_value(raw[*i + 1]);
			lo = hex_value(raw[*i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) ||
			    (hi << 4 | lo) == '/')
				return -1;
			c = (char)(hi << 4 | lo);
			*i += 2;
		}
		(*i)++;
		if (*o == cap)
			return -1;
		out[(*o)++] = c;
	}
	return 0;
}

/*
 * out[seg..o) is the segment just decoded, with its leading '/'. Apply
 * RFC 3986 §5.2.4 to it: "." goes away, ".." takes the previous segment
 * with it; when it was the last segment the path keeps a trailing '/'.
 */
static int drop_dot_segment(char *out, size_t seg, size_t *o, bool last)
{
	size_t n = *o - seg - 1;
	const char *s = out + seg + 1;

	if (n == 1 && s[0] == '.') {
		*o = seg;
	} else if (n == 2 && s[0] == '.' && s[1] == '.') {
		if (seg == 0)
			return -1;	/* above the root */
		while (out[--seg] != '/')
			;
		*o = seg;
	} else {
		return 0;
	}
	if (last)
		out[(*o)++] = '/';	/* fits: it replaces a longer segment */
	return 0;
}

int http_normalize_path(const char *raw, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (cap > INT_MAX)
		cap = INT_MAX;
	if (cap == 0 || (len > 0 && raw[0] != '/'))
		return -1;
	if (len == 0)
		out[o++] = '/';
	/* Each turn takes one '/' and the segment after it. */
	while (i < len) {
		size_t seg = o;
		if (o == cap)
			return -1;
		out[o++] = '/';
		i++;
		if (decode_segment(raw, len, &i, out, cap, &o) < 0 ||
		    drop_dot_segment(out, seg, &o, i == len) < 0)
			return -1;
	}
	return (int)o;
}

/* ---- reason phrases (RFC 9110 §15, RFC 6585 for 431) ------------------ */

const char *http_reason(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian calendar). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

struct civil_time {
	int year;
	unsigned month, day, hour, min, sec, wday;     /* wday 0 = Sunday */
};

static void civil_time(int64_t t, struct civil_time *ct)
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400;
	int64_t secs = t - days * 86400;

	civil_from_days(days, &ct->year, &ct->month, &ct->day);
	ct->wday = (unsigned)(((days + 4) % 7 + 7) % 7);  /* 1970-01-01 was a Thursday */
	ct->hour = (unsigned)(secs / 3600);
	ct->min = (unsigned)(secs / 60 % 60);
	ct->sec = (unsigned)(secs % 60);
}

static const char month_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static void put_year(char *p, int year)
{
	put2(p, (unsigned)year / 100);
	put2(p + 2, (unsigned)year % 100);
}

static void put_clock(char *p, const struct civil_time *ct)
{
	put2(p, ct->hour);
	p[2] = ':';
	put2(p + 3, ct->min);
	p[5] = ':';
	put2(p + 6, ct->sec);
}

void http_format_date(int64_t t, char out[HTTP_DATE_LEN + 1])
{
	static const char wday[] = "SunMonTueWedThuFriSat";
	struct civil_time ct;

	civil_time(t, &ct);
	memcpy(out, wday + 3 * ct.wday, 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, ct.day);
	out[7] = ' ';
	memcpy(out + 8, month_names + 3 * (ct.month - 1), 3);
	out[11] = ' ';
	put_year(out + 12, ct.year);
	out[16] = ' ';
	put_clock(out + 17, &ct);
	memcpy(out + 25, " GMT", 5);
}

void http_format_log_date(int64_t t, char out[HTTP_LOG_DATE_LEN + 1])
{
	struct civil_time ct;

	civil_time(t, &ct);
	put2(out, ct.day);
	out[2] = '/';
	memcpy(out + 3, month_names + 3 * (ct.month - 1), 3);
	out[6] = '/';
	put_year(out + 7, ct.year);
	out[11] = ':';
	put_clock(out + 12, &ct);
	memcpy(out + 20, " +0000", 7);
}
