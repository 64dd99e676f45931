/*
 * cgi_resp.c - the CGI response-header block (RFC 3875 §6), checked in
 * place. The app's header lines are relayed to a client, so they get the
 * same scrutiny as a request head: a control byte, a bare CR or a space
 * before the colon could split or smuggle a response, so each is refused.
 */
#include "cgi_resp.h"

#include <stdint.h>

#define PARSE_NEED_MORE (-2)
#define PARSE_ERROR (-1)

#define CH_CR '\r'
#define CH_LF '\n'
#define CH_SP ' '
#define CH_COLON ':'

/* Status: three digits, 100..999 (RFC 3875 §6.3.3, RFC 9110 §15). */
#define STATUS_DIGITS 3u
#define STATUS_MIN 100u
#define STATUS_DEFAULT 200u
#define STATUS_REDIRECT 302u  /* Location without Status: RFC 3875 §6.2.4 */

#define DECIMAL_BASE 10

/* Nothing larger is looked at: lengths must fit a long and a slice. */
#define SCAN_MAX ((size_t)INT32_MAX)

/* scan_line()'s answers besides PARSE_ERROR and PARSE_NEED_MORE. */
#define LINE_FIELD 1
#define LINE_EMPTY 0

struct seen {
	uint8_t status;
	uint8_t length;
	struct http_slice status_value;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int slice_same(struct http_slice a, struct http_slice b)
{
	uint32_t i;

	if (a.len != b.len)
		return 0;
	for (i = 0; i < a.len; i++) {
		if (a.p[i] != b.p[i])
			return 0;
	}
	return 1;
}

static struct http_slice mk_slice(const char *p, size_t len)
{
	struct http_slice s = { p, (uint32_t)len };
	return s;
}

/* Where a value in [b, e) ends without its trailing SP/HTAB. */
static const char *trim_ows(const char *b, const char *e)
{
	while (e > b && http_is_ows(e[-1]))
		e--;
	return e;
}

/*
 * A line's scan stopped at p, on a byte the line may not hold there: the
 * line is invalid once its LF is in, and merely incomplete until then.
 */
static int refuse(const char *p, const char *end)
{
	while (p < end && *p != CH_LF)
		p++;
	return p < end ? PARSE_ERROR : PARSE_NEED_MORE;
}

/* The line must end at p, with LF or CRLF: then *at goes past it. */
static int end_line(const char *p, const char *end, const char **at, int line)
{
	if (p < end && *p == CH_CR)
		p++;
	if (p == end || *p != CH_LF)
		return refuse(p, end);
	*at = p + 1;
	return line;
}

/*
 * Check and split the line at *at in one pass: 1*tchar, a colon, field
 * bytes, then LF or CRLF. Returns LINE_FIELD with name and value (trimmed
 * of SP/HTAB), LINE_EMPTY for the line that ends the block, both with *at
 * past the line; else PARSE_ERROR or PARSE_NEED_MORE. A space before the
 * colon (obs-fold's leading whitespace is one too) stops the name short
 * of it; a control byte or a bare CR stops the value short of its LF.
 */
static int scan_line(const char **at, const char *end,
		     struct http_slice *name, struct http_slice *value)
{
	const char *s = *at, *p = s, *b;

	while (p < end && http_is_tchar(*p))
		p++;
	if (p == s)
		return end_line(p, end, at, LINE_EMPTY);
	if (p == end || *p != CH_COLON)
		return refuse(p, end);
	*name = mk_slice(s, (size_t)(p - s));
	b = p = http_skip_ows(p + 1, end);
	while (p < end && http_is_field_byte(*p))
		p++;
	*value = mk_slice(b, (size_t)(trim_ows(b, p) - b));
	return end_line(p, end, at, LINE_FIELD);
}

/* "404" or "404 Not Found": code in r->status, phrase in r->reason. */
static int parse_status(struct http_slice v, struct cgi_resp *r)
{
	unsigned code = 0;
	uint32_t i;

	if (v.len < STATUS_DIGITS)
		return PARSE_ERROR;
	for (i = 0; i < STATUS_DIGITS; i++) {
		if (!is_digit(v.p[i]))
			return PARSE_ERROR;
		code = code * DECIMAL_BASE + (unsigned)(v.p[i] - '0');
	}
	if (code < STATUS_MIN)
		return PARSE_ERROR;
	if (v.len > STATUS_DIGITS && v.p[STATUS_DIGITS] != CH_SP)
		return PARSE_ERROR;
	r->status = (uint16_t)code;
	if (v.len > STATUS_DIGITS)
		r->reason = mk_slice(v.p + STATUS_DIGITS + 1,
				     v.len - STATUS_DIGITS - 1);
	else
		r->reason = mk_slice(v.p + STATUS_DIGITS, 0);
	return 0;
}

/*
 * A repeated Status or Content-Length is only tolerated when it says the
 * same thing: two differing ones leave the real answer ambiguous.
 */
static int take_status(struct http_slice v, struct cgi_resp *r,
		       struct seen *s)
{
	if (s->status)
		return slice_same(v, s->status_value) ? 0 : PARSE_ERROR;
	s->status = 1;
	s->status_value = v;
	return parse_status(v, r);
}

static int take_length(struct http_slice v, struct cgi_resp *r,
		       struct seen *s)
{
	int64_t n;

	if (http_parse_digits(v.p, v.p + v.len, &n) != v.p + v.len ||
	    (s->length && n != r->content_length))
		return PARSE_ERROR;
	s->length = 1;
	r->content_length = n;
	return 0;
}

static int take_field(struct http_slice name, struct http_slice value,
		      struct cgi_resp *r, struct seen *s)
{
	if (http_slice_eq(name, "Status"))
		return take_status(value, r, s);
	if (http_slice_eq(name, "Content-Length"))
		return take_length(value, r, s);
	if (http_slice_eq(name, "Location"))
		r->has_location = 1;
	return 0;
}

static void resp_init(struct cgi_resp *r)
{
	r->status = STATUS_DEFAULT;
	r->reason = mk_slice(NULL, 0);
	r->content_length = -1;
	r->has_location = 0;
}

long cgi_resp_parse(const char *buf, size_t len, struct cgi_resp *r)
{
	struct seen s = { 0, 0, { NULL, 0 } };
	size_t scan = len < SCAN_MAX ? len : SCAN_MAX;
	const char *p = buf;
	/* Set by scan_line() for LINE_FIELD; zeroed only for the compiler's sake. */
	struct http_slice name = { NULL, 0 }, value = name;
	int rc;

	resp_init(r);
	while ((rc = scan_line(&p, buf + scan, &name, &value)) == LINE_FIELD) {
		if (take_field(name, value, r, &s) < 0)
			return PARSE_ERROR;
	}
	if (rc == LINE_EMPTY) {
		if (!s.status && r->has_location)
			r->status = STATUS_REDIRECT;
		return (long)(p - buf);
	}
	/* Past SCAN_MAX the block could not be described anyway. */
	return rc == PARSE_NEED_MORE && scan < len ? PARSE_ERROR : rc;
}

/*
 * The block was checked, so this only walks it: each line up to the
 * empty one is "name:value" and its LF, so looking for the colon and
 * then the LF is enough.
 */
int cgi_resp_next(const char *block, size_t len, size_t *pos,
		  struct http_slice *name, struct http_slice *value)
{
	size_t scan = len < SCAN_MAX ? len : SCAN_MAX;
	const char *end = block + scan, *s, *p, *b, *e;

	/* *pos stays on the empty line, so calling again still says 0. */
	if (*pos >= scan)
		return 0;
	s = block + *pos;
	if (*s == CH_CR || *s == CH_LF)
		return 0;
	for (p = s; p < end && *p != CH_COLON; p++)
		;
	if (p == end)
		return 0;
	b = http_skip_ows(p + 1, end);
	for (e = b; e < end && *e != CH_LF; e++)
		;
	if (e == end)
		return 0;
	*pos = (size_t)(e + 1 - block);
	if (e > b && e[-1] == CH_CR)
		e--;
	*name = mk_slice(s, (size_t)(p - s));
	*value = mk_slice(b, (size_t)(trim_ows(b, e) - b));
	return 1;
}
