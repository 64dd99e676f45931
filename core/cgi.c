/*
 * cgi.c - RFC 3875 meta-variables as FastCGI PARAMS pairs.
 *
 * Each pair is described by a name (a literal, or "HTTP_" plus a header
 * name to transform) and a value made of at most two slices, or of every
 * field with one header name joined by ", " (RFC 3875 §4.1.18). Its size
 * is known before a byte is written, so pairs go out whole.
 */
#include <string.h>

#include "cgi.h"
#include "copy.h"
#include "fcgi.h"
#include "gw_config.h"
#include "log.h"

enum meta {
	META_GATEWAY_INTERFACE,
	META_SERVER_SOFTWARE,
	META_SERVER_NAME,
	META_SERVER_PORT,
	META_SERVER_ADDR,
	META_SERVER_PROTOCOL,
	META_REMOTE_ADDR,
	META_REMOTE_PORT,
	META_REQUEST_METHOD,
	META_REQUEST_URI,
	META_QUERY_STRING,
	META_SCRIPT_NAME,
	META_PATH_INFO,
	META_DOCUMENT_ROOT,
	META_SCRIPT_FILENAME,
	META_CONTENT_LENGTH,
	META_CONTENT_TYPE,
	META_REQUEST_SCHEME,
	META_HTTPS,
	META_COUNT
};

/* Names with their lengths: written for every request, never measured. */
static const struct http_slice meta_names[META_COUNT] = {
	HTTP_LIT("GATEWAY_INTERFACE"), HTTP_LIT("SERVER_SOFTWARE"), HTTP_LIT("SERVER_NAME"),
	HTTP_LIT("SERVER_PORT"), HTTP_LIT("SERVER_ADDR"), HTTP_LIT("SERVER_PROTOCOL"),
	HTTP_LIT("REMOTE_ADDR"), HTTP_LIT("REMOTE_PORT"), HTTP_LIT("REQUEST_METHOD"),
	HTTP_LIT("REQUEST_URI"), HTTP_LIT("QUERY_STRING"), HTTP_LIT("SCRIPT_NAME"),
	HTTP_LIT("PATH_INFO"), HTTP_LIT("DOCUMENT_ROOT"), HTTP_LIT("SCRIPT_FILENAME"),
	HTTP_LIT("CONTENT_LENGTH"), HTTP_LIT("CONTENT_TYPE"), HTTP_LIT("REQUEST_SCHEME"),
	HTTP_LIT("HTTPS"),
};

#define CGI_SCRATCH 48  /* an IPv6 address or a 64-bit number in text */

/* RFC 4291 2.5.5.2: ::ffff:a.b.c.d, how a dual-stack socket shows IPv4 peers. */
#define CGI_V4MAPPED_PREFIX_LEN 12
static const uint8_t cgi_v4mapped_prefix[CGI_V4MAPPED_PREFIX_LEN] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};
#define HTTP_PREFIX "HTTP_"
#define HTTP_PREFIX_LEN 5

/* Is name one of the tokens of a Connection field (RFC 9110 §7.6.1)? */
static int listed_in_connection(const struct http_request *req, struct http_slice name)
{
	for (unsigned i = 0; i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		const char *p = h->value.p, *end = p + h->value.len;

		if (!http_slice_eq(h->name, "Connection"))
			continue;
		while (p < end) {
			const char *tok;
			while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
				p++;
			tok = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if (p > tok && http_slice_ieq(name, tok, (size_t)(p - tok)))
				return 1;
		}
	}
	return 0;
}

/* Hop-by-hop fields and those CGI passes another way never become HTTP_*. */
static int header_is_hidden(const struct http_request *req, struct http_slice name)
{
	static const struct http_slice hidden[] = {
		HTTP_LIT("Content-Length"), HTTP_LIT("Content-Type"), HTTP_LIT("Connection"),
		HTTP_LIT("Keep-Alive"), HTTP_LIT("TE"), HTTP_LIT("Transfer-Encoding"), HTTP_LIT("Upgrade"),
		HTTP_LIT("Proxy-Connection"), HTTP_LIT("Trailer"),
		HTTP_LIT("Proxy"),  /* httpoxy, CVE-2016-5385: never HTTP_PROXY */
	};
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (http_slice_ieq(name, hidden[i].p, hidden[i].len))
			return 1;
	return listed_in_connection(req, name);
}

/*
 * A header field becomes HTTP_* only at its first occurrence (later ones
 * are joined into it), and never when its name holds '_': the CGI name
 * cannot tell "X_A" from "X-A", so "X_Forwarded_For" could pose as
 * "X-Forwarded-For".
 */
static int header_is_passed(const struct http_request *req, unsigned i)
{
	struct http_slice name = req->headers[i].name;

	if (memchr(name.p, '_', name.len) != NULL) {
		LOG_I("dropped header with '_' in its name: %.*s", (int)name.len, name.p);
		return 0;
	}
	if (header_is_hidden(req, name))
		return 0;
	for (unsigned j = 0; j < i; j++)
		if (http_slice_ieq(req->headers[j].name, name.p, name.len))
			return 0;
	return 1;
}

static struct http_slice slice(const char *p, size_t len)
{
	struct http_slice s = { p, (uint32_t)len };
	return s;
}

/* A literal's slice, its length known when compiled. */
#define LIT(s) slice((s), sizeof(s) - 1)

/* v in decimal at the end of buf[0..CGI_SCRATCH). */
static struct http_slice fmt_u(char *buf, unsigned long long v)
{
	char *p = log_utoa(buf + CGI_SCRATCH, v, 10);

	return slice(p, (size_t)(buf + CGI_SCRATCH - p));
}

/* SERVER_NAME: the Host field without its port, else the local address. */
static struct http_slice server_name(const struct cgi_request *cr, char *scratch)
{
	const struct http_header *h = http_find_header(cr->req, "Host");

	if (h != NULL && h->value.len > 0) {
		const char *p = h->value.p;
		uint32_t n = h->value.len;
		if (p[0] == '[') {
			const char *close = memchr(p, ']', n);
			if (close != NULL)
				return slice(p, (size_t)(close - p) + 1);
		} else {
			const char *colon = memchr(p, ':', n);
			if (colon != NULL)
				n = (uint32_t)(colon - p);
		}
		return slice(p, n);
	}
	/* RFC 3875 4.1.14: server-name is ... | "[" ipv6-address "]". */
	if (cr->local->family == PORT_AF_INET6) {
		size_t n = cgi_format_ip(cr->local, scratch + 1, CGI_SCRATCH - 2);

		scratch[0] = '[';
		scratch[n + 1] = ']';
		return slice(scratch, n + 2);
	}
	return slice(scratch, cgi_format_ip(cr->local, scratch, CGI_SCRATCH));
}

/* SCRIPT_FILENAME: DOCUMENT_ROOT joined to the path below the prefix by one '/'. */
static void script_filename(const struct cgi_request *cr, struct http_slice v[2])
{
	const char *rest = cr->path + cr->script_len;
	uint32_t rest_len = cr->path_len - cr->script_len;
	uint32_t root_len = cr->docroot_len;

	if (root_len > 0 && cr->docroot[root_len - 1] == '/' && rest_len > 0 && rest[0] == '/')
		root_len--;
	v[0] = slice(cr->docroot, root_len);
	v[1] = slice(rest, rest_len);
}

/*
 * The value of meta-variable idx in v[0] then v[1] (scratch holds any
 * text made for it); 0 when the request has no such variable.
 */
static int meta_value(const struct cgi_request *cr, enum meta idx, char *scratch,
		      struct http_slice v[2])
{
	const struct http_request *req = cr->req;
	const struct http_header *h;

	/* FastCGI 1.0 §6.3: an Authorizer gets neither of these. */
	if (cr->authorizer && (idx == META_CONTENT_LENGTH || idx == META_PATH_INFO ||
			       idx == META_SCRIPT_NAME))
		return 0;
	v[1] = slice(NULL, 0);
	switch (idx) {
	case META_GATEWAY_INTERFACE: v[0] = LIT("CGI/1.1"); break;
	case META_SERVER_SOFTWARE:
		v[0] = CONFIG_SERVER_SOFTWARE[0] ? LIT(CONFIG_SERVER_SOFTWARE) : LIT("fcgate");
		break;
	case META_SERVER_NAME: v[0] = server_name(cr, scratch); break;
	case META_SERVER_PORT: v[0] = fmt_u(scratch, cr->local->port); break;
	case META_SERVER_ADDR: v[0] = slice(scratch, cgi_format_ip(cr->local, scratch, CGI_SCRATCH)); break;
	case META_SERVER_PROTOCOL: v[0] = req->version_minor ? LIT("HTTP/1.1") : LIT("HTTP/1.0"); break;
	case META_REMOTE_ADDR: v[0] = slice(scratch, cgi_format_ip(cr->peer, scratch, CGI_SCRATCH)); break;
	case META_REMOTE_PORT: v[0] = fmt_u(scratch, cr->peer->port); break;
	case META_REQUEST_METHOD: v[0] = req->method; break;
	case META_REQUEST_URI: v[0] = req->target; break;
	case META_QUERY_STRING: v[0] = slice(req->query.p ? req->query.p : "", req->query.len); break;
	case META_SCRIPT_NAME: v[0] = slice(cr->path, cr->script_len); break;
	case META_PATH_INFO: v[0] = slice(cr->path + cr->script_len, cr->path_len - cr->script_len); break;
	case META_DOCUMENT_ROOT: v[0] = slice(cr->docroot, cr->docroot_len); break;
	case META_SCRIPT_FILENAME: script_filename(cr, v); break;
	case META_CONTENT_LENGTH:
		if (req->content_length < 0)
			return 0;
		v[0] = fmt_u(scratch, (unsigned long long)req->content_length);
		break;
	case META_CONTENT_TYPE:
		h = http_find_header(req, "Content-Type");
		if (h == NULL)
			return 0;
		v[0] = h->value;
		break;
	case META_REQUEST_SCHEME: v[0] = cr->https ? LIT("https") : LIT("http"); break;
	case META_HTTPS:
		/* Apache's and nginx's convention: present, "on", only over TLS. */
		if (!cr->https)
			return 0;
		v[0] = LIT("on");
		break;
	default:
		return 0;
	}
	return 1;
}

/* What putting one pair did: its bytes, nothing (no such pair), or no room. */
#define PAIR_NONE 0
#define PAIR_NO_ROOM (-1)

/* Meta-variable idx as a pair at w, if it fits in room. */
static long put_meta(const struct cgi_request *cr, enum meta idx, uint8_t *w, size_t room)
{
	char scratch[CGI_SCRATCH];
	struct http_slice v[2];
	struct http_slice name = meta_names[idx];
	size_t vlen, need;

	if (!meta_value(cr, idx, scratch, v))
		return PAIR_NONE;
	vlen = (size_t)v[0].len + v[1].len;
	/* need 0: a length past FastCGI's 31 bits, which no buffer can carry */
	need = fcgi_nv_size(name.len, vlen);
	if (need == 0 || need > room)
		return PAIR_NO_ROOM;
	w += fcgi_put_nv_lengths(w, name.len, vlen);
	copy_bytes(w, name.p, name.len);
	w += name.len;
	copy_bytes(w, v[0].p, v[0].len);
	copy_bytes(w + v[0].len, v[1].p, v[1].len);
	return (long)need;
}

/* Every value of the fields named like header i, joined by ", ", at w (w NULL: just measure). */
static size_t join_values(const struct http_request *req, unsigned i, uint8_t *w)
{
	struct http_slice name = req->headers[i].name;
	size_t n = 0;

	for (; i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		if (!http_slice_ieq(h->name, name.p, name.len))
			continue;
		if (n > 0) {
			if (w)
				memcpy(w + n, ", ", 2);
			n += 2;
		}
		if (w)
			copy_bytes(w + n, h->value.p, h->value.len);
		n += h->value.len;
	}
	return n;
}

/* "HTTP_" and the field name upper-cased, '-' as '_'. */
static uint8_t *put_cgi_name(uint8_t *w, struct http_slice name)
{
	memcpy(w, HTTP_PREFIX, HTTP_PREFIX_LEN);
	w += HTTP_PREFIX_LEN;
	for (uint32_t k = 0; k < name.len; k++) {
		char c = name.p[k];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		else if (c == '-')
			c = '_';
		*w++ = (uint8_t)c;
	}
	return w;
}

/* Header field i as HTTP_NAME (RFC 3875 §4.1.18) at w, if passed and it fits in room. */
static long put_header(const struct http_request *req, unsigned i, uint8_t *w, size_t room)
{
	size_t nlen, vlen, need;

	if (!header_is_passed(req, i))
		return PAIR_NONE;
	nlen = HTTP_PREFIX_LEN + req->headers[i].name.len;
	vlen = join_values(req, i, NULL);
	need = fcgi_nv_size(nlen, vlen);
	if (need == 0 || need > room)
		return PAIR_NO_ROOM;
	w += fcgi_put_nv_lengths(w, nlen, vlen);
	w = put_cgi_name(w, req->headers[i].name);
	join_values(req, i, w);
	return (long)need;
}

unsigned cgi_params_end(const struct cgi_request *cr)
{
	return META_COUNT + cr->req->header_count;
}

long cgi_params_write(const struct cgi_request *cr, unsigned *cursor,
		      uint8_t *dst, size_t cap)
{
	unsigned end = cgi_params_end(cr);
	size_t used = 0;

	for (; *cursor < end; (*cursor)++) {
		long n = *cursor < META_COUNT ?
			 put_meta(cr, (enum meta)*cursor, dst + used, cap - used) :
			 put_header(cr->req, *cursor - META_COUNT, dst + used, cap - used);
		if (n == PAIR_NO_ROOM)
			return used == 0 ? -1 : (long)used;
		used += (size_t)n;
	}
	return (long)used;
}

static char hex_digit(unsigned v)
{
	return "0123456789abcdef"[v & 15u];
}

/* tmp[0..n) into out as a C string, cut to fit cap; its length. */
static size_t put_text(char *out, size_t cap, const char *tmp, size_t n)
{
	if (n >= cap)
		n = cap ? cap - 1 : 0;
	memcpy(out, tmp, n);
	if (cap)
		out[n] = '\0';
	return n;
}

/* RFC 5952: lowercase, leading zeros dropped, longest run (>1) of zero groups as "::". */
static size_t format_ipv6(const uint8_t *ip, char *out, size_t cap)
{
	uint16_t g[8];
	int best = -1, best_len = 0;
	size_t n = 0;
	char tmp[48];

	/* RFC 5952 section 5: mixed notation for IPv4-mapped addresses. */
	if (memcmp(ip, cgi_v4mapped_prefix, CGI_V4MAPPED_PREFIX_LEN) == 0)
		return log_format(out, cap, "::ffff:%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(ip[2 * i] << 8 | ip[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len && j - i > 1) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			tmp[n++] = ':';
			tmp[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			tmp[n++] = ':';
		int started = 0;
		for (int s = 12; s >= 0; s -= 4) {
			unsigned d = (g[i] >> s) & 15u;
			if (d || started || s == 0) {
				tmp[n++] = hex_digit(d);
				started = 1;
			}
		}
	}
	return put_text(out, cap, tmp, n);
}

/* Dotted quad, written directly: two of these go into every request's parameters. */
static size_t format_ipv4(const uint8_t *ip, char *out, size_t cap)
{
	char tmp[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = ip[i];
		if (i > 0)
			tmp[n++] = '.';
		if (v >= 100)
			tmp[n++] = (char)('0' + v / 100);
		if (v >= 10)
			tmp[n++] = (char)('0' + v / 10 % 10);
		tmp[n++] = (char)('0' + v % 10);
	}
	return put_text(out, cap, tmp, n);
}

size_t cgi_format_ip(const struct port_addr *a, char *out, size_t cap)
{
	if (a->family == PORT_AF_INET6)
		return format_ipv6(a->ip, out, cap);
	return format_ipv4(a->ip, out, cap);
}
