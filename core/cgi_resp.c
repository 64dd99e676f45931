/*
 * cgi_resp.c - the CGI response-header block (RFC 3875 §6), checked in
 * place. The app's header lines are relayed to a client, so they get the
 * same scrutiny as a request head: a control byte, a bare CR or a space
 * before the colon could split or smuggle a response, so each is refused.
 */
#include "cgi_resp.h"

#include <stdint.h>
#include <string.h>

#define PARSE_NEED_MORE (-2)
#define PARSE_ERROR (-1)

#define CH_CR '\r'
#define CH_LF '\n'
#define CH_SP ' '
#define CH_HTAB '\t'
#define CH_COLON ':'
#define CH_DEL 0x7f     /* a control byte, though above the C0 range */
#define CH_C0_END 0x20  /* bytes below are C0 controls */

/* Status: three digits, 100..999 (RFC 3875 §6.3.3, RFC 9110 §15). */
#define STATUS_DIGITS 3u
#define STATUS_MIN 100u
#define STATUS_DEFAULT 200u
#define STATUS_REDIRECT 302u  /* Location without Status: RFC 3875 §6.2.4 */

#define DECIMAL_BASE 10

/* Nothing larger is looked at: lengths must fit a long and a slice. */
#define SCAN_MAX ((size_t)INT32_MAX)

struct line {
	const char *p;     /* start of the line */
	size_t len;        /* without its CRLF or LF */
};

struct seen {
	uint8_t status;
	uint8_t length;
	struct http_slice status_value;
};

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return 1;
	default:
		return 0;
	}
}

static int is_ows(char c)
{
	return c == CH_SP || c == CH_HTAB;
}

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

/*
 * The line at buf[*pos..): 1 with *pos moved past its LF, or 0 when its
 * LF is not in buf[0..len) yet. A CR is only stripped right before LF.
 */
static int next_line(const char *buf, size_t len, size_t *pos, struct line *ln)
{
	const char *lf = *pos < len ? memchr(buf + *pos, CH_LF, len - *pos) : NULL;

	if (lf == NULL)
		return 0;
	ln->p = buf + *pos;
	ln->len = (size_t)(lf - ln->p);
	if (ln->len > 0 && ln->p[ln->len - 1] == CH_CR)
		ln->len--;
	*pos = (size_t)(lf - buf) + 1;
	return 1;
}

/* Split "name:value": the value loses its leading and trailing SP/HTAB. */
static void split_line(const struct line *ln, struct http_slice *name,
		       struct http_slice *value)
{
	size_t colon = 0, b, e;

	while (colon < ln->len && ln->p[colon] != CH_COLON)
		colon++;
	*name = mk_slice(ln->p, colon);
	b = colon < ln->len ? colon + 1 : ln->len;
	e = ln->len;
	while (b < e && is_ows(ln->p[b]))
		b++;
	while (e > b && is_ows(ln->p[e - 1]))
		e--;
	*value = mk_slice(ln->p + b, e - b);
}

/*
 * Does the line start with a field name (1*tchar) and a colon? This
 * refuses "Name :", obs-fold (leading whitespace) and a line without one.
 */
static int has_name(const struct line *ln)
{
	size_t i = 0;

	while (i < ln->len && is_tchar((unsigned char)ln->p[i]))
		i++;
	return i > 0 && i < ln->len && ln->p[i] == CH_COLON;
}

/* Field content: anything but controls; HTAB and obs-text are allowed. */
static int value_ok(struct http_slice v)
{
	uint32_t i;

	for (i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if ((c < CH_C0_END && c != CH_HTAB) || c == CH_DEL)
			return 0;
	}
	return 1;
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

/* 1*DIGIT that fits an int64_t; -1 otherwise. */
static int64_t parse_length(struct http_slice v)
{
	int64_t n = 0;
	uint32_t i;

	if (v.len == 0)
		return PARSE_ERROR;
	for (i = 0; i < v.len; i++) {
		int d;

		if (!is_digit(v.p[i]))
			return PARSE_ERROR;
		d = v.p[i] - '0';
		if (n > (INT64_MAX - d) / DECIMAL_BASE)
			return PARSE_ERROR;
		n = n * DECIMAL_BASE + d;
	}
	return n;
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
	int64_t n = parse_length(v);

	if (n < 0 || (s->length && n != r->content_length))
		return PARSE_ERROR;
	s->length = 1;
	r->content_length = n;
	return 0;
}

static int take_line(const struct line *ln, struct cgi_resp *r,
		     struct seen *s)
{
	struct http_slice name, value;

	if (!has_name(ln))
		return PARSE_ERROR;
	split_line(ln, &name, &value);
	if (!value_ok(value))
		return PARSE_ERROR;
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
	size_t pos = 0, scan = len < SCAN_MAX ? len : SCAN_MAX;
	struct line ln;

	resp_init(r);
	while (next_line(buf, scan, &pos, &ln)) {
		if (ln.len == 0) {
			if (!s.status && r->has_location)
				r->status = STATUS_REDIRECT;
			return (long)pos;
		}
		if (take_line(&ln, r, &s) < 0)
			return PARSE_ERROR;
	}
	/* Past SCAN_MAX the block could not be described anyway. */
	return scan < len ? PARSE_ERROR : PARSE_NEED_MORE;
}

int cgi_resp_next(const char *block, size_t len, size_t *pos,
		  struct http_slice *name, struct http_slice *value)
{
	size_t scan = len < SCAN_MAX ? len : SCAN_MAX;
	size_t at = *pos;
	struct line ln;

	/* *pos stays on the empty line, so calling again still says 0. */
	if (at >= scan || !next_line(block, scan, &at, &ln) || ln.len == 0)
		return 0;
	*pos = at;
	split_line(&ln, name, value);
	return 1;
}
