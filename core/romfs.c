/*
 * romfs.c - lookup in the packed asset table and the RFC 9110 rules for
 * answering GET and HEAD on it: If-None-Match (§13.1.2), Accept-Encoding
 * (§12.5.3), Range and If-Range (§14.2, §13.1.5).
 *
 * Every header value comes straight from a client, so each parser here
 * walks its slice once, never reads past it, and treats anything it does
 * not understand as absent: a malformed Range gets the whole file, a
 * malformed Accept-Encoding element is skipped, a malformed tag list
 * matches nothing. None of those can make the answer wrong, only larger.
 */
#include "romfs.h"

#include <limits.h>
#include <string.h>

#define ST_OK 200u
#define ST_PARTIAL 206u
#define ST_NOT_MODIFIED 304u
#define ST_NOT_FOUND 404u
#define ST_BAD_METHOD 405u
#define ST_UNSATISFIABLE 416u

/* qvalue in thousandths (RFC 9110 §12.4.2): "1.000" is the most. */
#define Q_MAX 1000
#define Q_UNSET (-1)
#define Q_DIGITS 3
#define DECIMAL_BASE 10u

#define CH_SP ' '
#define CH_HTAB '\t'
#define CH_C0_END 0x20
#define CH_DEL 0x7f

/* How romfs_decide() may use a Range field. */
enum range_use { RANGE_IGNORE, RANGE_OK, RANGE_UNSAT };

struct span {
	const char *p;
	size_t len;
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_ows(char c)
{
	return c == CH_SP || c == CH_HTAB;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Case-insensitive compare of a span with a lower-case literal. */
static int span_is(struct span s, const char *lit)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (lit[i] == '\0' || lower(s.p[i]) != lit[i])
			return 0;
	}
	return lit[i] == '\0';
}

static struct span trim(struct span s)
{
	while (s.len > 0 && is_ows(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_ows(s.p[s.len - 1]))
		s.len--;
	return s;
}

/*
 * Next element of a comma-separated list (RFC 9110 §5.6.1), trimmed of
 * OWS. Empty elements are returned too; the callers skip them. *rest
 * shrinks past the element and its comma; returns 0 once the list is
 * used up.
 */
static int next_elem(struct span *rest, struct span *elem)
{
	const char *comma;

	if (rest->p == NULL)
		return 0;
	comma = rest->len ? memchr(rest->p, ',', rest->len) : NULL;
	elem->p = rest->p;
	elem->len = comma ? (size_t)(comma - rest->p) : rest->len;
	if (comma) {
		rest->len -= elem->len + 1;
		rest->p = comma + 1;
	} else {
		rest->p = NULL;
		rest->len = 0;
	}
	*elem = trim(*elem);
	return 1;
}

static struct span from_slice(struct http_slice s)
{
	struct span sp = { s.p, s.p ? s.len : 0 };
	return sp;
}

/* --- lookup -------------------------------------------------------------- */

/* Bytewise order, a prefix before what extends it: the packer's sort. */
static int path_cmp(const struct romfs_file *f, const char *path, size_t len)
{
	size_t n = f->path_len < len ? f->path_len : len;
	int c = n ? memcmp(f->path, path, n) : 0;

	if (c != 0)
		return c;
	if (f->path_len == len)
		return 0;
	return f->path_len < len ? -1 : 1;
}

const struct romfs_file *romfs_find_in(const struct romfs_file *files,
				       unsigned count, const char *path,
				       size_t len)
{
	unsigned lo = 0, hi = count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = path_cmp(&files[mid], path, len);

		if (c == 0)
			return &files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* --- path mapping -------------------------------------------------------- */

static int path_byte_ok(unsigned char c)
{
	return c >= CH_C0_END && c != CH_DEL && c != '%' && c != '\\';
}

/*
 * Every segment non-empty and neither "." nor "..": with no byte that
 * could be decoded again, nothing below can name a parent directory.
 */
static int path_ok(const char *p, size_t len)
{
	size_t i, seg = 0;

	for (i = 0; i <= len; i++) {
		size_t n;

		if (i < len && p[i] != '/') {
			if (!path_byte_ok((unsigned char)p[i]))
				return 0;
			continue;
		}
		n = i - seg;
		if (n == 0 || (p[seg] == '.' && (n == 1 ||
		    (n == 2 && p[seg + 1] == '.'))))
			return 0;
		seg = i + 1;
	}
	return 1;
}

int romfs_map_path(const char *url_path, size_t len, const char *index,
		   char *out, size_t cap)
{
	size_t ilen = 0, total;

	if (len > 0 && url_path[0] == '/') {
		url_path++;
		len--;
	}
	if (len == 0 || url_path[len - 1] == '/') {
		ilen = index ? strlen(index) : 0;
		if (ilen == 0)
			return ROMFS_EBADPATH;
	}
	total = len + ilen;
	if (total < len || total >= cap || total > INT_MAX)
		return ROMFS_ETOOLONG;
	if (len)
		memcpy(out, url_path, len);
	if (ilen)
		memcpy(out + len, index, ilen);
	out[total] = '\0';
	if (!path_ok(out, total))
		return ROMFS_EBADPATH;
	return (int)total;
}

enum romfs_method romfs_method(const char *p, size_t len)
{
	if (len == 3 && memcmp(p, "GET", 3) == 0)
		return ROMFS_GET;
	if (len == 4 && memcmp(p, "HEAD", 4) == 0)
		return ROMFS_HEAD;
	return ROMFS_OTHER;
}

/* --- If-None-Match, If-Range --------------------------------------------- */

/*
 * Does the If-None-Match list name etag? Weak comparison: "W/" is
 * dropped and the opaque tags (quotes included) compared. "*" matches
 * any current representation. Scanning stops at the first malformed
 * element; what came before it still counts.
 */
static int etag_list_match(struct span v, const char *etag)
{
	size_t elen = strlen(etag), i = 0;

	v = trim(v);
	if (v.len == 1 && v.p[0] == '*')
		return 1;
	while (i < v.len) {
		size_t start;

		if (is_ows(v.p[i]) || v.p[i] == ',') {
			i++;
			continue;
		}
		if (v.p[i] == 'W' && i + 1 < v.len && v.p[i + 1] == '/')
			i += 2;
		if (i >= v.len || v.p[i] != '"')
			return 0;
		start = i++;
		while (i < v.len && v.p[i] != '"')
			i++;
		if (i >= v.len)
			return 0;
		i++;
		if (i < v.len && !is_ows(v.p[i]) && v.p[i] != ',')
			return 0;
		if (i - start == elen && memcmp(v.p + start, etag, elen) == 0)
			return 1;
	}
	return 0;
}

/*
 * If-Range (RFC 9110 §13.1.5): absent, or a strong tag equal to the
 * identity ETag. A date never matches, since the files carry no
 * Last-Modified; a weak tag never passes a strong comparison.
 */
static int if_range_ok(struct span v, const struct romfs_file *f)
{
	if (v.p == NULL)
		return 1;
	v = trim(v);
	return v.len == strlen(f->etag) && memcmp(v.p, f->etag, v.len) == 0;
}

/* --- Accept-Encoding ----------------------------------------------------- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). */
static int parse_qvalue(struct span v)
{
	int q = 0, scale = Q_MAX;
	size_t i;

	if (v.len == 0 || (v.p[0] != '0' && v.p[0] != '1'))
		return Q_UNSET;
	if (v.len > 1 && (v.p[1] != '.' || v.len > 2 + Q_DIGITS))
		return Q_UNSET;
	for (i = 2; i < v.len; i++) {
		if (!is_digit(v.p[i]))
			return Q_UNSET;
		scale /= (int)DECIMAL_BASE;
		q += (v.p[i] - '0') * scale;
	}
	if (v.p[0] == '1')
		return q == 0 ? Q_MAX : Q_UNSET;
	return q;
}

/*
 * One element: codings [ OWS ";" OWS "q=" qvalue ]. Fills the coding
 * and returns its q, or Q_UNSET when the element is malformed.
 */
static int parse_coding(struct span e, struct span *coding)
{
	const char *semi = memchr(e.p, ';', e.len);
	struct span w;

	coding->p = e.p;
	coding->len = semi ? (size_t)(semi - e.p) : e.len;
	*coding = trim(*coding);
	if (coding->len == 0)
		return Q_UNSET;
	if (!semi)
		return Q_MAX;
	w.p = semi + 1;
	w.len = e.len - (size_t)(w.p - e.p);
	w = trim(w);
	if (w.len < 2 || lower(w.p[0]) != 'q' || w.p[1] != '=')
		return Q_UNSET;
	w.p += 2;
	w.len -= 2;
	return parse_qvalue(w);
}

/*
 * Is gzip acceptable and at least as welcome as identity? An absent
 * field gets identity: RFC 9110 §12.5.3 lets any coding through then,
 * but a client that says nothing may not decode anything. The first
 * mention of a coding counts; "*" stands for the ones not mentioned.
 * Identity is "acceptable by default", which is not a weight: unless the
 * field gives it one (by name or through "*"), any gzip weight above 0
 * wins. When both are excluded identity is still sent, ignoring the
 * field as §12.5.3 allows.
 */
static int gzip_preferred(struct span v)
{
	int q_gzip = Q_UNSET, q_id = Q_UNSET, q_any = Q_UNSET;
	struct span rest = v, e, coding;

	if (v.p == NULL)
		return 0;
	while (next_elem(&rest, &e)) {
		int q;

		if (e.len == 0)
			continue;
		q = parse_coding(e, &coding);
		if (q == Q_UNSET)
			continue;
		if ((span_is(coding, "gzip") || span_is(coding, "x-gzip")) &&
		    q_gzip == Q_UNSET)
			q_gzip = q;
		else if (span_is(coding, "identity") && q_id == Q_UNSET)
			q_id = q;
		else if (span_is(coding, "*") && q_any == Q_UNSET)
			q_any = q;
	}
	if (q_gzip == Q_UNSET)
		q_gzip = q_any == Q_UNSET ? 0 : q_any;
	if (q_id == Q_UNSET)
		q_id = q_any == Q_UNSET ? 0 : q_any;
	return q_gzip > 0 && q_gzip >= q_id;
}

/* --- Range --------------------------------------------------------------- */

/* 1*DIGIT, saturating at UINT32_MAX (past the end of any file). */
static uint32_t dec_value(struct span d)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < d.len; i++) {
		uint32_t digit = (uint32_t)(d.p[i] - '0');

		if (n > (UINT32_MAX - digit) / DECIMAL_BASE)
			return UINT32_MAX;
		n = n * DECIMAL_BASE + digit;
	}
	return n;
}

/* a < b for digit strings of any length, leading zeros allowed. */
static int dec_less(struct span a, struct span b)
{
	while (a.len > 1 && a.p[0] == '0') {
		a.p++;
		a.len--;
	}
	while (b.len > 1 && b.p[0] == '0') {
		b.p++;
		b.len--;
	}
	if (a.len != b.len)
		return a.len < b.len;
	return memcmp(a.p, b.p, a.len) < 0;
}

static size_t digits(struct span s, size_t from)
{
	size_t i = from;

	while (i < s.len && is_digit(s.p[i]))
		i++;
	return i - from;
}

/*
 * One range-spec against a representation of len bytes (RFC 9110
 * §14.1.2): "a-b", "a-" or "-n". Syntax errors and last < first make the
 * field invalid: RANGE_IGNORE. A zero-length file has no byte to put in
 * a Content-Range, so a suffix range on it is ignored too.
 */
static enum range_use range_spec(struct span s, uint32_t len,
				 uint32_t *first, uint32_t *last)
{
	struct span a = { s.p, digits(s, 0) }, b;
	uint32_t n;

	if (a.len >= s.len || s.p[a.len] != '-')
		return RANGE_IGNORE;
	b.p = s.p + a.len + 1;
	b.len = digits(s, a.len + 1);
	if (a.len + 1 + b.len != s.len || (a.len == 0 && b.len == 0))
		return RANGE_IGNORE;
	if (a.len == 0) {
		n = dec_value(b);
		if (n == 0)
			return RANGE_UNSAT;
		if (len == 0)
			return RANGE_IGNORE;
		*first = n < len ? len - n : 0;
		*last = len - 1;
		return RANGE_OK;
	}
	if (b.len > 0 && dec_less(b, a))
		return RANGE_IGNORE;
	*first = dec_value(a);
	if (*first >= len)
		return RANGE_UNSAT;
	n = b.len > 0 ? dec_value(b) : UINT32_MAX;
	*last = n < len ? n : len - 1;
	return RANGE_OK;
}

/* "bytes=" and exactly one range-spec; more than one is not served. */
static enum range_use parse_range(struct span v, uint32_t len,
				  uint32_t *first, uint32_t *last)
{
	static const char unit[] = "bytes=";
	struct span head = { v.p, sizeof(unit) - 1 }, rest, e, one = { NULL, 0 };
	unsigned count = 0;

	v = trim(v);
	head.p = v.p;
	if (v.len < head.len || !span_is(head, unit))
		return RANGE_IGNORE;
	rest.p = v.p + head.len;
	rest.len = v.len - head.len;
	while (next_elem(&rest, &e)) {
		if (e.len == 0)
			continue;
		one = e;
		if (++count > 1)
			return RANGE_IGNORE;
	}
	if (count == 0)
		return RANGE_IGNORE;
	return range_spec(one, len, first, last);
}

/* --- the decision -------------------------------------------------------- */

/* Bytes [off, off + n) of the representation at base (NULL: not in memory). */
static void set_body(const struct romfs_request *rq, struct romfs_answer *a,
		     const uint8_t *base, uint32_t off, uint32_t n)
{
	a->length = n;
	if (rq->method == ROMFS_GET) {
		a->body = base != NULL ? base + off : NULL;
		a->body_off = off;
		a->body_len = n;
	}
}

void romfs_decide(const struct romfs_file *f, const struct romfs_request *rq,
		  struct romfs_answer *a)
{
	enum range_use range = RANGE_IGNORE;
	uint32_t first = 0, last = 0;
	const char *etag;

	memset(a, 0, sizeof(*a));
	if (f == NULL) {
		a->status = ST_NOT_FOUND;
		return;
	}
	if (rq->method != ROMFS_GET && rq->method != ROMFS_HEAD) {
		a->status = ST_BAD_METHOD;
		return;
	}
	a->total_len = f->len;
	a->vary = f->gz != NULL;
	if (rq->method == ROMFS_GET && rq->range.p &&
	    if_range_ok(from_slice(rq->if_range), f))
		range = parse_range(from_slice(rq->range), f->len, &first, &last);
	/* A range counts bytes of the identity representation only. */
	a->gzip = range == RANGE_IGNORE && f->gz &&
		  gzip_preferred(from_slice(rq->accept_encoding));
	etag = a->gzip ? f->gz_etag : f->etag;
	if (rq->if_none_match.p &&
	    etag_list_match(from_slice(rq->if_none_match), etag)) {
		a->status = ST_NOT_MODIFIED;
		return;
	}
	if (range == RANGE_UNSAT) {
		a->status = ST_UNSATISFIABLE;
		return;
	}
	if (range == RANGE_OK) {
		a->status = ST_PARTIAL;
		a->range_first = first;
		a->range_last = last;
		set_body(rq, a, f->data, first, last - first + 1);
		return;
	}
	a->status = ST_OK;
	if (a->gzip)
		set_body(rq, a, f->gz, 0, f->gz_len);
	else
		set_body(rq, a, f->data, 0, f->len);
}

/* --- the head ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u32(struct out *o, uint32_t v)
{
	char tmp[10];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % DECIMAL_BASE);
		v /= DECIMAL_BASE;
	} while (v);
	put(o, tmp + i, sizeof(tmp) - i);
}

static void put_field(struct out *o, const char *name, const char *value)
{
	put_str(o, name);
	put_str(o, value);
	put_str(o, "\r\n");
}

static void put_content_range(struct out *o, const struct romfs_answer *a)
{
	put_str(o, "Content-Range: bytes ");
	if (a->status == ST_PARTIAL) {
		put_u32(o, a->range_first);
		put_str(o, "-");
		put_u32(o, a->range_last);
	} else {
		put_str(o, "*");
	}
	put_str(o, "/");
	put_u32(o, a->total_len);
	put_str(o, "\r\n");
}

static void put_validators(struct out *o, const struct romfs_answer *a,
			   const struct romfs_file *f)
{
	put_field(o, "ETag: ", a->gzip ? f->gz_etag : f->etag);
	if (a->vary)
		put_field(o, "Vary: ", "Accept-Encoding");
}

static void put_representation(struct out *o, const struct romfs_answer *a,
			       const struct romfs_file *f)
{
	put_field(o, "Content-Type: ", f->type);
	put_str(o, "Content-Length: ");
	put_u32(o, a->length);
	put_str(o, "\r\n");
	if (a->gzip)
		put_field(o, "Content-Encoding: ", "gzip");
	if (a->status == ST_PARTIAL)
		put_content_range(o, a);
	put_field(o, "Accept-Ranges: ", "bytes");
	put_validators(o, a, f);
}

size_t romfs_write_head(const struct romfs_answer *a,
			const struct romfs_file *f, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };

	switch (a->status) {
	case ST_OK:
	case ST_PARTIAL:
		put_representation(&o, a, f);
		break;
	case ST_NOT_MODIFIED:
		put_validators(&o, a, f);
		break;
	case ST_UNSATISFIABLE:
		put_content_range(&o, a);
		put_field(&o, "Accept-Ranges: ", "bytes");
		break;
	case ST_BAD_METHOD:
		put_field(&o, "Allow: ", "GET, HEAD");
		break;
	default:
		break;
	}
	return o.full ? 0 : o.len;
}
