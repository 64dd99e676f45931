/*
 * http.h - HTTP/1.1 request-head parser (RFC 9112), zero-copy.
 *
 * The parser returns slices of the caller's buffer and fills the caller's
 * header array; it allocates nothing. Return convention of every parser in
 * fcgate: bytes consumed (> 0), -1 for an error (the HTTP status to answer
 * is left in req->status), -2 for "need more bytes".
 */
#ifndef FCGATE_HTTP_H
#define FCGATE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTTP_NEED_MORE (-2)
#define HTTP_ERROR (-1)

struct http_slice {
	const char *p;
	uint32_t len;
};

/*
 * Byte classes: http_cc[c] holds the classes of byte c. CR, LF, NUL, DEL
 * and the other controls are in none.
 */
#define HTTP_CC_TCHAR  0x01u  /* RFC 9110 §5.6.2 token character */
#define HTTP_CC_VALUE  0x02u  /* field-vchar, obs-text, SP, HTAB (§5.5) */
#define HTTP_CC_TARGET 0x04u  /* VCHAR except '#': a fragment is never sent */
#define HTTP_CC_OWS    0x08u  /* SP, HTAB */

extern const uint8_t http_cc[256];

static inline int http_cc_is(char c, unsigned cls)
{
	return (http_cc[(unsigned char)c] & cls) != 0;
}

/* A byte of a field name or method. */
static inline int http_is_tchar(char c)
{
	return http_cc_is(c, HTTP_CC_TCHAR);
}

/* A byte a field value may hold: HTAB and obs-text yes, other controls no. */
static inline int http_is_field_byte(char c)
{
	return http_cc_is(c, HTTP_CC_VALUE);
}

static inline int http_is_ows(char c)
{
	return http_cc_is(c, HTTP_CC_OWS);
}

/* p moved past SP and HTAB, short of end. */
static inline const char *http_skip_ows(const char *p, const char *end)
{
	while (p < end && http_is_ows(*p))
		p++;
	return p;
}

/* A slice initialiser for a string literal: its length is counted when compiled. */
#define HTTP_LIT(s) { (s), sizeof(s) - 1 }

struct http_header {
	struct http_slice name;
	struct http_slice value;    /* without leading/trailing spaces and tabs */
};

struct http_limits {
	uint32_t line_max;          /* request line, without CRLF: else 414 */
	uint32_t head_max;          /* whole head with final blank line: else 431 */
	uint16_t count_max;         /* header fields: else 431 */
};

/* Framing facts taken from the header fields by http_request_framing(). */
#define HTTP_CONN_CLOSE      0x01u  /* Connection: close */
#define HTTP_CONN_KEEPALIVE  0x02u  /* Connection: keep-alive */
#define HTTP_EXPECT_CONTINUE 0x04u  /* Expect: 100-continue */
#define HTTP_BODY_CHUNKED    0x08u  /* Transfer-Encoding: chunked */

struct http_request {
	struct http_slice method;
	struct http_slice target;   /* request-target as received */
	struct http_slice path;     /* target up to '?' (raw, not decoded) */
	struct http_slice query;    /* after '?', len 0 and p NULL when absent */
	uint8_t version_minor;      /* HTTP/1.<minor>: 0 or 1 */
	uint8_t flags;              /* HTTP_CONN_* etc. after framing */
	uint16_t status;            /* status to answer when a call returns -1 */
	int64_t content_length;     /* -1 when the request has none */
	struct http_header *headers;/* caller's array ... */
	uint16_t header_cap;        /* ... and its size */
	uint16_t header_count;
};

/*
 * Parse a request head in buf[0..len). *scanned keeps how far a previous
 * call looked for the end of the head (start at 0), so feeding a slowly
 * arriving head costs linear time. Returns the head length including its
 * blank line, -2 when incomplete (and within limits), -1 on error with
 * req->status set (400, 414, 431, 505). Both CRLF and bare LF end a line;
 * a bare CR, NUL or other control byte, an obs-fold line and whitespace
 * before a colon are errors (request smuggling vectors).
 * Accepted targets: origin-form ("/path"), asterisk-form ("*", OPTIONS
 * only) and absolute-form ("http://host/path", path set to its path part,
 * "/" when empty; the caller checks the authority in req->target).
 * Up to a few empty lines before the request line are skipped and
 * counted in the returned length (RFC 9112 §2.2).
 */
int http_parse_request(const char *buf, size_t len, size_t *scanned,
		       struct http_request *req, const struct http_limits *lim);

/*
 * Derive framing from a parsed request's headers: content_length, the
 * HTTP_* flags. Returns 0, or -1 with req->status set: 400 for both
 * Content-Length and Transfer-Encoding, differing or malformed
 * Content-Length, a malformed Transfer-Encoding list, "chunked" repeated
 * or not last, Transfer-Encoding in an HTTP/1.0 request; 501 for any
 * other transfer coding; 417 for an Expect other than 100-continue
 * (which sets HTTP_EXPECT_CONTINUE on HTTP/1.1 only, RFC 9110 §10.1.1).
 */
int http_request_framing(struct http_request *req);

/* Does this request keep the connection open after the response? */
int http_keep_alive(const struct http_request *req);

/* Case-insensitive (ASCII) compare of a[0..n) and b[0..n). */
int http_mem_ieq(const char *a, const char *b, size_t n);

/* Case-insensitive compare of a slice with p[0..n), which needs no NUL. */
static inline int http_slice_ieq(struct http_slice s, const char *p, size_t n)
{
	return s.len == n && http_mem_ieq(s.p, p, n);
}

/*
 * The same with a NUL-terminated string. Inline because it is nearly
 * always given a literal: its length is then known when compiled, and
 * most names are told apart by length alone, without a call.
 */
static inline int http_slice_eq(struct http_slice s, const char *lit)
{
	return http_slice_ieq(s, lit, strlen(lit));
}

/*
 * 1*DIGIT from p, short of end, as an int64_t in *n: returns where the
 * digits stop, or NULL when there are none or they pass INT64_MAX.
 */
const char *http_parse_digits(const char *p, const char *end, int64_t *n);

/* First header with this name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req,
					   const char *name);

/*
 * Percent-decode and normalise a raw path (RFC 3986 §5.2.4 dot segments,
 * after decoding, so "%2e%2e" counts as ".."). Writes at most cap bytes
 * to out and returns the length, or -1 (status 400) for a bad escape, an
 * encoded slash (%2F) or NUL, a path that climbs above the root, or one
 * that does not fit (the decoded path must fit before its dot segments
 * go; cap >= len is always enough). The result always starts with '/'.
 */
int http_normalize_path(const char *raw, size_t len, char *out, size_t cap);

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 chars + NUL) for a Date field. */
#define HTTP_DATE_LEN 29
void http_format_date(int64_t unix_seconds, char out[HTTP_DATE_LEN + 1]);

/* Common Log Format time ("10/Oct/2000:13:55:36 +0000", 26 chars + NUL). */
#define HTTP_LOG_DATE_LEN 26
void http_format_log_date(int64_t unix_seconds, char out[HTTP_LOG_DATE_LEN + 1]);

/* Reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_reason(unsigned status);

#endif
