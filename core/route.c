/*
 * route.c - Apache mod_proxy directives, one line at a time, into the
 * fixed-size route table of route.h.
 *
 * A line either applies completely or not at all: strings and balancers
 * a failing line added are rolled back, and members and routes are only
 * inserted once nothing else can fail. The same code runs in routegen at
 * build time and in the host program, so it formats its own messages
 * rather than pull printf into a firmware image.
 */
#include <stdarg.h>
#include <string.h>

#include "route.h"

/* mod_proxy_fcgi's port when the fcgi:// URL names none. */
#define ROUTE_FCGI_DEFAULT_PORT 8000u
#define ROUTE_PORT_MAX 65535u

/* Limits and defaults of the worker keys (mod_proxy's ProxyPass). */
#define ROUTE_SECONDS_MAX 86400u        /* ttl, timeout, retry: one day */
#define ROUTE_MS_PER_S 1000u
#define ROUTE_TTL_DEFAULT_S 30u
#define ROUTE_MEMBER_RETRY_S 60u        /* mod_proxy's retry for a worker */
#define ROUTE_CONN_MAX 65535u
#define ROUTE_LBFACTOR_MIN 1u
#define ROUTE_LBFACTOR_MAX 100u

/* Redirect statuses (RFC 9110 section 15.4 and 15.5.11). */
#define ROUTE_HTTP_REDIRECT_MIN 300u
#define ROUTE_HTTP_REDIRECT_MAX 399u
#define ROUTE_HTTP_MOVED_PERMANENTLY 301u
#define ROUTE_HTTP_FOUND 302u
#define ROUTE_HTTP_SEE_OTHER 303u
#define ROUTE_HTTP_GONE 410u

#define ROUTE_IPV4_LEN 4u
#define ROUTE_IPV4_OCTET_MAX 255u
#define ROUTE_IPV6_LEN 16u
#define ROUTE_IPV6_GROUP_DIGITS 4u
#define ROUTE_DNS_NAME_MAX 253u         /* RFC 1035 2.3.4, without the root dot */
#define ROUTE_DNS_LABEL_MAX 63u

#define ROUTE_MAX_TOKENS 16u            /* directive + arguments on one line */
#define ROUTE_MSG_TOKEN_MAX 32u         /* longest token quoted whole in a message */
#define ROUTE_ASCII_DEL 0x7f

#define ROUTE_KEYS_WORKER "disablereuse, enablereuse, max, ttl, timeout, connectiontimeout, retry"
#define ROUTE_KEYS_MEMBER ROUTE_KEYS_WORKER ", lbfactor, status"

/* A slice of the line being parsed. */
struct tok {
	const char *s;
	size_t n;
};

/* An fcgi:// URL, taken apart. */
struct backend {
	struct port_addr addr;
	struct tok host;
	struct tok path;
};

typedef int (*directive_fn)(struct route_parser *p, const struct tok *a,
			    unsigned n, struct route_error *err);

/* ---- messages ----------------------------------------------------------- */

static void msg_put(struct route_error *err, size_t *at, const char *s, size_t n)
{
	size_t room = sizeof err->msg - 1 - *at;

	if (n > room)
		n = room;
	memcpy(err->msg + *at, s, n);
	*at += n;
}

static void msg_put_uint(struct route_error *err, size_t *at, unsigned v)
{
	char digits[sizeof(unsigned) * 3];
	size_t i = sizeof digits;

	do {
		digits[--i] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	msg_put(err, at, digits + i, sizeof digits - i);
}

/*
 * Format a message: %s a C string, %u an unsigned, %t a struct tok *
 * (clipped, so that a 4 KB token cannot push out the explanation).
 */
static int fail_line(struct route_error *err, unsigned line, const char *fmt, ...)
{
	size_t at = 0;
	const struct tok *t;
	const char *s;
	va_list ap;

	if (!err)
		return -1;
	err->line = line;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (fmt[0] != '%' || !fmt[1]) {
			msg_put(err, &at, fmt, 1);
			continue;
		}
		switch (*++fmt) {
		case 's':
			s = va_arg(ap, const char *);
			msg_put(err, &at, s, strlen(s));
			break;
		case 'u':
			msg_put_uint(err, &at, va_arg(ap, unsigned));
			break;
		case 't':
			t = va_arg(ap, const struct tok *);
			if (t->n <= ROUTE_MSG_TOKEN_MAX) {
				msg_put(err, &at, t->s, t->n);
			} else {
				msg_put(err, &at, t->s, ROUTE_MSG_TOKEN_MAX - 3);
				msg_put(err, &at, "...", 3);
			}
			break;
		default:
			msg_put(err, &at, fmt, 1);
		}
	}
	va_end(ap);
	err->msg[at] = '\0';
	return -1;
}

/* Fail on the line being parsed; always -1. */
#define fail(p, err, ...) fail_line((err), (p)->line, __VA_ARGS__)

/* ---- small helpers ------------------------------------------------------ */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return lower(c) >= 'a' && lower(c) <= 'z';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (lower(c) >= 'a' && lower(c) <= 'f')
		return lower(c) - 'a' + 10;
	return -1;
}

/* ASCII case-insensitive comparison of n bytes. */
static int mem_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

static int tok_iprefix(const struct tok *t, const char *s)
{
	return t->n >= strlen(s) && mem_ieq(t->s, s, strlen(s));
}

static int tok_ieq(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && mem_ieq(t->s, s, t->n);
}

static struct tok tok_from(const char *s, size_t n)
{
	struct tok t = { s, n };
	return t;
}

static struct tok tok_pool(const struct route_table *t, struct route_str s)
{
	return tok_from(route_cstr(t, s), s.len);
}

/* A decimal number min..max, digits only. */
static int parse_uint(const struct tok *t, uint32_t min, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if (t->n == 0)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (!is_digit(t->s[i]))
			return -1;
		v = v * 10u + (uint32_t)(t->s[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* Dotted quad only: no octal (leading zero), hex or short forms. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[ROUTE_IPV4_LEN])
{
	size_t i = 0;

	for (unsigned part = 0; part < ROUTE_IPV4_LEN; part++) {
		size_t start;
		unsigned v = 0;

		if (part) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		for (start = i; i < n && is_digit(s[i]); i++) {
			v = v * 10u + (unsigned)(s[i] - '0');
			if (v > ROUTE_IPV4_OCTET_MAX)
				return -1;
		}
		if (i == start || (i - start > 1 && s[start] == '0'))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == n ? 0 : -1;
}

/* Is the group at s (up to the next ':') the dotted IPv4 tail? */
static int ipv6_group_is_ipv4(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != ':'; i++)
		if (s[i] == '.')
			return 1;
	return 0;
}

/*
 * RFC 4291 section 2.2 text forms: eight groups of 1-4 hex digits, one
 * "::" standing for one or more zero groups, and an optional dotted IPv4
 * address as the last 32 bits.
 */
static int parse_ipv6(const char *s, size_t n, uint8_t out[ROUTE_IPV6_LEN])
{
	uint8_t buf[ROUTE_IPV6_LEN];
	size_t i = 0, k = 0, gap = 0, tail;
	int has_gap = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		has_gap = 1;
		i = 2;
	}
	while (i < n) {
		unsigned v = 0, digits = 0;

		if (k >= ROUTE_IPV6_LEN)
			return -1;
		if (ipv6_group_is_ipv4(s + i, n - i)) {
			if (k > ROUTE_IPV6_LEN - ROUTE_IPV4_LEN || parse_ipv4(s + i, n - i, buf + k))
				return -1;
			k += ROUTE_IPV4_LEN;
			break;
		}
		for (; i < n && hex_value(s[i]) >= 0; i++, digits++) {
			if (digits == ROUTE_IPV6_GROUP_DIGITS)
				return -1;
			v = v * 16u + (unsigned)hex_value(s[i]);
		}
		if (digits == 0)
			return -1;
		buf[k++] = (uint8_t)(v >> 8);
		buf[k++] = (uint8_t)(v & 0xffu);
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return -1;
		if (s[i] == ':') {
			if (has_gap)
				return -1;
			has_gap = 1;
			gap = k;
			i++;
		}
	}
	/* Without "::" all eight groups are there; "::" stands for at least one. */
	if (has_gap ? k > ROUTE_IPV6_LEN - 2 : k != ROUTE_IPV6_LEN)
		return -1;
	tail = k - gap;
	memset(out, 0, ROUTE_IPV6_LEN);
	memcpy(out, buf, gap);
	memcpy(out + ROUTE_IPV6_LEN - tail, buf + gap, tail);
	return 0;
}

/* RFC 1123 host name; '_' allowed too, as container names use it. */
static int valid_dns_name(const char *s, size_t n)
{
	size_t label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > ROUTE_DNS_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > ROUTE_DNS_LABEL_MAX ||
			    s[i - 1] == '-' || s[i - label] == '-')
				return 0;
			label = 0;
		} else if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_') {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* A name whose last label is all digits can only be a (bad) IPv4 address. */
static int looks_numeric(const char *s, size_t n)
{
	size_t i;

	if (n && s[n - 1] == '.')
		n--;
	i = n;

	while (i > 0 && s[i - 1] != '.')
		i--;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

static int parse_host(const struct route_parser *p, const struct tok *h,
		      struct port_addr *a, struct route_error *err)
{
	static const uint8_t loopback[ROUTE_IPV4_LEN] = { 127, 0, 0, 1 };

	if (h->n >= 2 && h->s[0] == '[') {
		if (parse_ipv6(h->s + 1, h->n - 2, a->ip))
			return fail(p, err, "bad IPv6 address '%t'", h);
		a->family = PORT_AF_INET6;
	} else if (tok_ieq(h, "localhost")) {
		memcpy(a->ip, loopback, sizeof loopback);
		a->family = PORT_AF_INET;
	} else if (looks_numeric(h->s, h->n)) {
		if (parse_ipv4(h->s, h->n, a->ip))
			return fail(p, err, "bad IPv4 address '%t'", h);
		a->family = PORT_AF_INET;
	} else if (!valid_dns_name(h->s, h->n)) {
		return fail(p, err, "bad host name '%t'", h);
	}
	return 0;
}

/* fcgi://HOST[:PORT][/PATH]; the path becomes the member's docroot. */
static int parse_fcgi_url(const struct route_parser *p, const struct tok *u,
			  struct backend *b, struct route_error *err)
{
	static const char scheme[] = "fcgi://";
	const char *s = u->s, *end = u->s + u->n, *h;
	uint32_t port = ROUTE_FCGI_DEFAULT_PORT;

	memset(b, 0, sizeof *b);
	if (!tok_iprefix(u, scheme))
		return fail(p, err, "unsupported backend '%t' (expected fcgi://HOST[:PORT]/PATH)", u);
	h = s = u->s + sizeof scheme - 1;
	if (s < end && *s == '[') {
		while (s < end && *s != ']')
			s++;
		if (s == end)
			return fail(p, err, "missing ']' in '%t'", u);
		s++;
	} else {
		while (s < end && *s != ':' && *s != '/')
			s++;
	}
	b->host = tok_from(h, (size_t)(s - h));
	if (b->host.n == 0)
		return fail(p, err, "missing host in '%t'", u);
	if (s < end && *s == ':') {
		struct tok pt;

		for (pt.s = ++s; s < end && *s != '/'; s++)
			;
		pt.n = (size_t)(s - pt.s);
		if (parse_uint(&pt, 1, ROUTE_PORT_MAX, &port))
			return fail(p, err, "bad port '%t' (expected 1..65535)", &pt);
	}
	if (s < end && *s != '/')
		return fail(p, err, "bad host in '%t'", u);
	b->path = s < end ? tok_from(s, (size_t)(end - s)) : tok_from("/", 1);
	if (memchr(b->path.s, '?', b->path.n) || memchr(b->path.s, '#', b->path.n))
		return fail(p, err, "backend '%t' takes no query or fragment", u);
	b->addr.port = (uint16_t)port;
	return parse_host(p, &b->host, &b->addr, err);
}

/* ---- the table ---------------------------------------------------------- */

/* Add a string to the pool, sharing an identical run already there. */
static int pool_add(const struct route_parser *p, const struct tok *s,
		    struct route_str *out, struct route_error *err)
{
	struct route_table *t = p->t;

	out->off = 0;
	out->len = (uint16_t)s->n;
	if (s->n == 0)
		return 0;
	for (size_t off = 0; off + s->n <= t->strings_len; off++) {
		if (memcmp(t->strings + off, s->s, s->n) == 0) {
			out->off = (uint16_t)off;
			return 0;
		}
	}
	if (s->n > (size_t)CONFIG_ROUTE_STRINGS - t->strings_len)
		return fail(p, err, "route strings full (CONFIG_ROUTE_STRINGS=%u)",
			    (unsigned)CONFIG_ROUTE_STRINGS);
	memcpy(t->strings + t->strings_len, s->s, s->n);
	out->off = t->strings_len;
	t->strings_len = (uint16_t)(t->strings_len + s->n);
	return 0;
}

/*
 * Start a route: check its prefix and that there is room, intern the
 * prefix. The caller appends it once nothing else can fail.
 */
static int route_start(const struct route_parser *p, const struct tok *prefix,
		       struct route *r, struct route_error *err)
{
	memset(r, 0, sizeof *r);
	if (prefix->n == 0 || prefix->s[0] != '/')
		return fail(p, err, "prefix '%t' must start with '/'", prefix);
	if (p->t->route_count >= CONFIG_MAX_ROUTES)
		return fail(p, err, "too many routes (CONFIG_MAX_ROUTES=%u)",
			    (unsigned)CONFIG_MAX_ROUTES);
	return pool_add(p, prefix, &r->prefix, err);
}

/* balancer://NAME[/] -> NAME */
static int parse_balancer_url(const struct route_parser *p, const struct tok *u,
			      struct tok *name, struct route_error *err)
{
	static const char scheme[] = "balancer://";

	*name = tok_from(u->s + sizeof scheme - 1, u->n - (sizeof scheme - 1));
	if (name->n && name->s[name->n - 1] == '/')
		name->n--;
	if (name->n == 0)
		return fail(p, err, "missing balancer name in '%t'", u);
	if (memchr(name->s, '/', name->n))
		return fail(p, err, "balancer URL '%t' takes no path", u);
	return 0;
}

static int is_balancer_url(const struct tok *u)
{
	return tok_iprefix(u, "balancer://");
}

/* The balancer named by URL u, created on first mention. */
static int balancer_get(struct route_parser *p, const struct tok *u, struct route_error *err)
{
	struct route_table *t = p->t;
	struct tok name, have;
	struct route_balancer *b;

	if (parse_balancer_url(p, u, &name, err))
		return -1;
	/* Case-insensitive, as the host part of a URL is (RFC 3986 3.2.2). */
	for (unsigned i = 0; i < t->balancer_count; i++) {
		have = tok_pool(t, t->balancers[i].name);
		if (have.n == name.n && mem_ieq(have.s, name.s, name.n))
			return (int)i;
	}
	if (t->balancer_count >= CONFIG_MAX_BALANCERS)
		return fail(p, err, "too many balancers (CONFIG_MAX_BALANCERS=%u)",
			    (unsigned)CONFIG_MAX_BALANCERS);
	b = &t->balancers[t->balancer_count];
	memset(b, 0, sizeof *b);
	if (pool_add(p, &name, &b->name, err))
		return -1;
	b->lbmethod = ROUTE_LB_BYREQUESTS;
	p->balancer_line[t->balancer_count] = p->line;
	return t->balancer_count++;
}

/*
 * Insert a member, keeping each balancer's members contiguous: a member
 * of a balancer that has some goes right after them, and every index at
 * or past that point moves up by one.
 */
static int member_add(struct route_parser *p, const struct route_member *m,
		      int bal, uint16_t *index, struct route_error *err)
{
	struct route_table *t = p->t;
	uint16_t pos = t->member_count;

	if (t->member_count >= CONFIG_MAX_MEMBERS)
		return fail(p, err, "too many members (CONFIG_MAX_MEMBERS=%u)",
			    (unsigned)CONFIG_MAX_MEMBERS);
	if (bal >= 0 && t->balancers[bal].member_count)
		pos = (uint16_t)(t->balancers[bal].first_member + t->balancers[bal].member_count);
	memmove(&t->members[pos + 1], &t->members[pos],
		(size_t)(t->member_count - pos) * sizeof t->members[0]);
	for (unsigned i = 0; i < t->route_count; i++)
		if (t->routes[i].kind == ROUTE_PROXY && t->routes[i].target >= pos)
			t->routes[i].target++;
	for (unsigned i = 0; i < t->balancer_count; i++)
		if ((int)i != bal && t->balancers[i].member_count &&
		    t->balancers[i].first_member >= pos)
			t->balancers[i].first_member++;
	t->members[pos] = *m;
	t->member_count++;
	if (bal >= 0) {
		if (t->balancers[bal].member_count++ == 0)
			t->balancers[bal].first_member = pos;
	}
	*index = pos;
	return 0;
}

/* ---- keys --------------------------------------------------------------- */

enum param_key {
	P_DISABLEREUSE, P_ENABLEREUSE, P_MAX, P_TTL, P_TIMEOUT, P_CONNTIMEOUT,
	P_RETRY, P_WORKER_KEYS = P_RETRY + 1, P_LBFACTOR = P_WORKER_KEYS, P_STATUS,
	P_MEMBER_KEYS
};

static const char *const param_names[P_MEMBER_KEYS] = {
	"disablereuse", "enablereuse", "max", "ttl", "timeout",
	"connectiontimeout", "retry", "lbfactor", "status",
};

static void param_defaults(struct route_params *pr, int member)
{
	memset(pr, 0, sizeof *pr);
	pr->ttl_ms = ROUTE_TTL_DEFAULT_S * ROUTE_MS_PER_S;
	pr->retry_ms = member ? ROUTE_MEMBER_RETRY_S * ROUTE_MS_PER_S : 0;
	pr->lbfactor = ROUTE_LBFACTOR_MIN;
}

/* on/off -> 1/0, case-insensitive like Apache's flags. */
static int parse_onoff(const struct tok *v)
{
	if (tok_ieq(v, "on"))
		return 1;
	if (tok_ieq(v, "off"))
		return 0;
	return -1;
}

/* status=: a run of [+-]H / [+-]D; no sign means '+', as in Apache. */
static int parse_status(const struct tok *v, uint8_t *flags)
{
	uint8_t f = *flags;
	size_t i = 0;

	if (v->n == 0)
		return -1;
	while (i < v->n) {
		int set = 1;
		uint8_t bit;

		if (v->s[i] == '+' || v->s[i] == '-')
			set = v->s[i++] == '+';
		if (i == v->n)
			return -1;
		bit = lower(v->s[i]) == 'h' ? ROUTE_F_STANDBY :
		      lower(v->s[i]) == 'd' ? ROUTE_F_DISABLED : 0;
		if (!bit)
			return -1;
		f = set ? (uint8_t)(f | bit) : (uint8_t)(f & ~bit);
		i++;
	}
	*flags = f;
	return 0;
}

static int set_flag(struct route_params *pr, const struct tok *v, int noreuse_when_on)
{
	int on = parse_onoff(v);

	if (on < 0)
		return -1;
	if (on == noreuse_when_on)
		pr->flags |= ROUTE_F_NOREUSE;
	else
		pr->flags &= (uint8_t)~ROUTE_F_NOREUSE;
	return 0;
}

static int set_seconds(uint32_t *ms, const struct tok *v)
{
	uint32_t s;

	if (parse_uint(v, 0, ROUTE_SECONDS_MAX, &s))
		return -1;
	*ms = s * ROUTE_MS_PER_S;
	return 0;
}

static int apply_param(struct route_params *pr, enum param_key k, const struct tok *v)
{
	uint32_t n;

	switch (k) {
	case P_DISABLEREUSE: return set_flag(pr, v, 1);
	case P_ENABLEREUSE:  return set_flag(pr, v, 0);
	case P_TTL:          return set_seconds(&pr->ttl_ms, v);
	case P_TIMEOUT:      return set_seconds(&pr->timeout_ms, v);
	case P_CONNTIMEOUT:  return set_seconds(&pr->connect_timeout_ms, v);
	case P_RETRY:        return set_seconds(&pr->retry_ms, v);
	case P_STATUS:       return parse_status(v, &pr->flags);
	case P_MAX:
		if (parse_uint(v, 1, ROUTE_CONN_MAX, &n))
			return -1;
		pr->max = (uint16_t)n;
		return 0;
	case P_LBFACTOR:
		if (parse_uint(v, ROUTE_LBFACTOR_MIN, ROUTE_LBFACTOR_MAX, &n))
			return -1;
		pr->lbfactor = (uint8_t)n;
		return 0;
	default:
		return -1;
	}
}

static const char *param_expect(enum param_key k)
{
	switch (k) {
	case P_DISABLEREUSE:
	case P_ENABLEREUSE: return "on or off";
	case P_MAX:         return "1..65535";
	case P_LBFACTOR:    return "1..100";
	case P_STATUS:      return "+H, -H, +D or -D";
	default:            return "seconds, 0..86400";
	}
}

/* Split key=value; the key is matched case-insensitively. */
static int split_key(const struct route_parser *p, const struct tok *a,
		     struct tok *key, struct tok *val, struct route_error *err)
{
	const char *eq = memchr(a->s, '=', a->n);

	if (!eq || eq == a->s)
		return fail(p, err, "expected key=value, got '%t'", a);
	*key = tok_from(a->s, (size_t)(eq - a->s));
	*val = tok_from(eq + 1, a->n - key->n - 1);
	return 0;
}

/* Worker keys of a ProxyPass backend, plus lbfactor and status for a member. */
static int parse_params(const struct route_parser *p, const struct tok *a, unsigned n,
			int member, struct route_params *pr, struct route_error *err)
{
	unsigned nkeys = member ? P_MEMBER_KEYS : P_WORKER_KEYS;

	param_defaults(pr, member);
	for (unsigned i = 0; i < n; i++) {
		struct tok key, val;
		unsigned k = 0;

		if (split_key(p, &a[i], &key, &val, err))
			return -1;
		while (k < nkeys && !tok_ieq(&key, param_names[k]))
			k++;
		if (k == nkeys)
			return fail(p, err, "unknown key '%t' (%s accepts: %s)", &key,
				    member ? "BalancerMember" : "ProxyPass",
				    member ? ROUTE_KEYS_MEMBER : ROUTE_KEYS_WORKER);
		if (apply_param(pr, (enum param_key)k, &val))
			return fail(p, err, "bad value '%t' for %s (expected %s)", &val,
				    param_names[k], param_expect((enum param_key)k));
	}
	return 0;
}

/* ---- directives --------------------------------------------------------- */

/* A member from an fcgi:// URL and its keys, inserted into balancer bal. */
static int add_backend(struct route_parser *p, const struct tok *a, unsigned n,
		       int bal, uint16_t *index, struct route_error *err)
{
	struct route_member m;
	struct backend b;

	memset(&m, 0, sizeof m);
	if (parse_fcgi_url(p, &a[0], &b, err) ||
	    parse_params(p, a + 1, n - 1, bal >= 0, &m.params, err) ||
	    pool_add(p, &b.host, &m.host, err) || pool_add(p, &b.path, &m.docroot, err))
		return -1;
	m.addr = b.addr;
	m.balancer = (int16_t)bal;
	return member_add(p, &m, bal, index, err);
}

static int not_in_block(const struct route_parser *p, const char *what,
			struct route_error *err)
{
	if (p->open_balancer >= 0)
		return fail(p, err, "%s is not allowed inside <Proxy> (opened on line %u)",
			    what, p->open_line);
	return 0;
}

static int do_proxypass(struct route_parser *p, const struct tok *a, unsigned n,
			struct route_error *err)
{
	struct route r;
	int bal;

	if (not_in_block(p, "ProxyPass", err))
		return -1;
	if (n < 2)
		return fail(p, err, "ProxyPass needs PREFIX and URL");
	if (route_start(p, &a[0], &r, err))
		return -1;
	if (a[1].n == 1 && a[1].s[0] == '!') {
		if (n > 2)
			return fail(p, err, "too many arguments (ProxyPass PREFIX ! takes no keys)");
		r.kind = ROUTE_EXCLUDE;
	} else if (is_balancer_url(&a[1])) {
		if (n > 2)
			return fail(p, err, "ProxyPass to a balancer takes no keys "
				    "(set them on BalancerMember or ProxySet)");
		bal = balancer_get(p, &a[1], err);
		if (bal < 0)
			return -1;
		r.kind = ROUTE_BALANCER;
		r.target = (uint16_t)bal;
	} else {
		if (add_backend(p, a + 1, n - 1, -1, &r.target, err))
			return -1;
		r.kind = ROUTE_PROXY;
	}
	p->t->routes[p->t->route_count++] = r;
	return 0;
}

/*
 * The balancer a BalancerMember or ProxySet line is about: the open
 * <Proxy> block's, or else the one its first argument names (consumed).
 */
static int line_balancer(struct route_parser *p, const char *what,
			 const struct tok **a, unsigned *n, struct route_error *err)
{
	int bal = p->open_balancer;

	if (bal >= 0)
		return bal;
	if (*n == 0 || !is_balancer_url(&(*a)[0]))
		return fail(p, err, "%s outside <Proxy> needs balancer://NAME first", what);
	bal = balancer_get(p, &(*a)[0], err);
	(*a)++;
	(*n)--;
	return bal;
}

static int do_member(struct route_parser *p, const struct tok *a, unsigned n,
		     struct route_error *err)
{
	int bal = line_balancer(p, "BalancerMember", &a, &n, err);
	uint16_t index;

	if (bal < 0)
		return -1;
	if (n == 0)
		return fail(p, err, "BalancerMember needs an fcgi:// URL");
	return add_backend(p, a, n, bal, &index, err);
}

static int do_proxyset(struct route_parser *p, const struct tok *a, unsigned n,
		       struct route_error *err)
{
	int bal = line_balancer(p, "ProxySet", &a, &n, err);
	uint8_t method;

	if (bal < 0)
		return -1;
	if (n == 0)
		return fail(p, err, "ProxySet needs key=value");
	method = p->t->balancers[bal].lbmethod;
	for (unsigned i = 0; i < n; i++) {
		struct tok key, val;

		if (split_key(p, &a[i], &key, &val, err))
			return -1;
		if (!tok_ieq(&key, "lbmethod"))
			return fail(p, err, "unknown key '%t' (ProxySet accepts: lbmethod)", &key);
		if (tok_ieq(&val, "byrequests"))
			method = ROUTE_LB_BYREQUESTS;
		else if (tok_ieq(&val, "bybusyness"))
			method = ROUTE_LB_BYBUSYNESS;
		else
			return fail(p, err, "bad value '%t' for lbmethod (expected byrequests or bybusyness)", &val);
	}
	p->t->balancers[bal].lbmethod = method;
	return 0;
}

static int parse_redirect_status(const struct tok *t, uint16_t *status)
{
	static const struct { const char *name; uint16_t status; } names[] = {
		{ "permanent", ROUTE_HTTP_MOVED_PERMANENTLY }, { "temp", ROUTE_HTTP_FOUND },
		{ "seeother", ROUTE_HTTP_SEE_OTHER }, { "gone", ROUTE_HTTP_GONE },
	};
	uint32_t v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (tok_ieq(t, names[i].name)) {
			*status = names[i].status;
			return 0;
		}
	}
	if (parse_uint(t, ROUTE_HTTP_REDIRECT_MIN, ROUTE_HTTP_GONE, &v) ||
	    (v > ROUTE_HTTP_REDIRECT_MAX && v != ROUTE_HTTP_GONE))
		return -1;
	*status = (uint16_t)v;
	return 0;
}

/* An absolute URL (scheme://...) or an absolute path. */
static int valid_redirect_url(const struct tok *u)
{
	size_t i = 0;

	if (u->n && u->s[0] == '/')
		return 1;
	if (u->n == 0 || !is_alpha(u->s[0]))
		return 0;
	while (i < u->n && (is_alpha(u->s[i]) || is_digit(u->s[i]) ||
			    u->s[i] == '+' || u->s[i] == '-' || u->s[i] == '.'))
		i++;
	return u->n - i > 3 && memcmp(u->s + i, "://", 3) == 0;
}

static int do_redirect(struct route_parser *p, const struct tok *a, unsigned n,
		       struct route_error *err)
{
	uint16_t status = ROUTE_HTTP_FOUND;
	struct route r;
	unsigned i = 0;

	if (not_in_block(p, "Redirect", err))
		return -1;
	if (n && (a[0].n == 0 || a[0].s[0] != '/')) {
		if (parse_redirect_status(&a[0], &status))
			return fail(p, err, "bad Redirect status '%t' (expected 300..399, 410, "
				    "permanent, temp, seeother or gone)", &a[0]);
		i++;
	}
	if (i >= n)
		return fail(p, err, "Redirect needs a PREFIX");
	if (route_start(p, &a[i], &r, err))
		return -1;
	if (status == ROUTE_HTTP_GONE && n > i + 1)
		return fail(p, err, "too many arguments (Redirect 410 takes no URL)");
	if (status != ROUTE_HTTP_GONE) {
		if (n < i + 2)
			return fail(p, err, "Redirect %u needs a URL", (unsigned)status);
		if (n > i + 2)
			return fail(p, err, "too many arguments to Redirect");
		if (!valid_redirect_url(&a[i + 1]))
			return fail(p, err, "Redirect URL '%t' must be absolute (scheme://...) "
				    "or start with '/'", &a[i + 1]);
		if (pool_add(p, &a[i + 1], &r.url, err))
			return -1;
	}
	r.kind = ROUTE_REDIRECT;
	r.status = status;
	p->t->routes[p->t->route_count++] = r;
	return 0;
}

static int do_proxy_open(struct route_parser *p, const struct tok *a, unsigned n,
			 struct route_error *err)
{
	int bal;

	if (p->open_balancer >= 0)
		return fail(p, err, "nested <Proxy> (the one on line %u is not closed)",
			    p->open_line);
	if (n == 0)
		return fail(p, err, "<Proxy> needs balancer://NAME");
	if (n > 1)
		return fail(p, err, "too many arguments to <Proxy>");
	if (!is_balancer_url(&a[0]))
		return fail(p, err, "<Proxy> supports only balancer://NAME, got '%t'", &a[0]);
	bal = balancer_get(p, &a[0], err);
	if (bal < 0)
		return -1;
	p->open_balancer = (int16_t)bal;
	p->open_line = p->line;
	return 0;
}

static int do_proxy_close(struct route_parser *p, const struct tok *a, unsigned n,
			  struct route_error *err)
{
	(void)a;
	if (n)
		return fail(p, err, "</Proxy> takes no arguments");
	if (p->open_balancer < 0)
		return fail(p, err, "</Proxy> without <Proxy>");
	p->open_balancer = -1;
	return 0;
}

static const struct {
	const char *name;
	directive_fn fn;
} directives[] = {
	{ "ProxyPass", do_proxypass },
	{ "BalancerMember", do_member },
	{ "ProxySet", do_proxyset },
	{ "Redirect", do_redirect },
	{ "<Proxy", do_proxy_open },
	{ "</Proxy", do_proxy_close },
};

/* ---- lines -------------------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split on SP/HTAB; a token that starts with '"' runs to the next '"'. */
static int tokenise(const struct route_parser *p, const char *s, size_t n,
		    struct tok *out, unsigned *count, struct route_error *err)
{
	size_t i = 0;

	*count = 0;
	for (;;) {
		size_t start;

		while (i < n && is_blank(s[i]))
			i++;
		if (i == n)
			return 0;
		if (*count == ROUTE_MAX_TOKENS)
			return fail(p, err, "too many arguments (at most %u)",
				    ROUTE_MAX_TOKENS - 1);
		if (s[i] == '"') {
			start = ++i;
			while (i < n && s[i] != '"')
				i++;
			if (i == n)
				return fail(p, err, "missing closing '\"'");
			out[(*count)++] = tok_from(s + start, i - start);
			if (++i < n && !is_blank(s[i]))
				return fail(p, err, "missing space after closing '\"'");
		} else {
			for (start = i; i < n && !is_blank(s[i]); i++)
				;
			out[(*count)++] = tok_from(s + start, i - start);
		}
	}
}

/* Control characters have no place in a route and would corrupt the C output. */
static int check_chars(const struct route_parser *p, const char *s, size_t n,
		       size_t column, struct route_error *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < ' ' && c != '\t') || c == ROUTE_ASCII_DEL)
			return fail(p, err, "control character (byte %u) at column %u",
				    (unsigned)c, (unsigned)(column + i));
	}
	return 0;
}

static int parse_tokens(struct route_parser *p, const char *s, size_t n,
			struct route_error *err)
{
	struct tok tok[ROUTE_MAX_TOKENS];
	unsigned count;

	/* <Proxy ...> and </Proxy>: the '>' closes the section tag. */
	if (s[0] == '<') {
		if (s[n - 1] != '>')
			return fail(p, err, "missing '>' at the end of the section line");
		n--;
	}
	if (tokenise(p, s, n, tok, &count, err))
		return -1;
	for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
		if (tok_ieq(&tok[0], directives[i].name))
			return directives[i].fn(p, tok + 1, count - 1, err);
	return fail(p, err, "unknown directive '%t'", &tok[0]);
}

void route_begin(struct route_parser *p, struct route_table *t)
{
	memset(t, 0, sizeof *t);
	memset(p, 0, sizeof *p);
	p->t = t;
	p->open_balancer = -1;
}

int route_parse_line(struct route_parser *p, const char *line, size_t len,
		     struct route_error *err)
{
	struct route_table *t = p->t;
	uint16_t strings_len = t->strings_len, balancer_count = t->balancer_count;
	const char *start = line;

	p->line++;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	while (len && is_blank(line[len - 1]))
		len--;
	while (len && is_blank(*line)) {
		line++;
		len--;
	}
	if (len == 0 || line[0] == '#')
		return 0;
	if (check_chars(p, line, len, (size_t)(line - start) + 1, err))
		return -1;
	if (parse_tokens(p, line, len, err) == 0)
		return 0;
	/* Undo what the failed line added, so the table stays as it was. */
	memset(t->strings + strings_len, 0, (size_t)(t->strings_len - strings_len));
	t->strings_len = strings_len;
	memset(&t->balancers[balancer_count], 0,
	       (size_t)(t->balancer_count - balancer_count) * sizeof t->balancers[0]);
	t->balancer_count = balancer_count;
	return -1;
}

int route_end(struct route_parser *p, struct route_error *err)
{
	const struct route_table *t = p->t;

	if (p->open_balancer >= 0) {
		struct tok name = tok_pool(t, t->balancers[p->open_balancer].name);

		return fail_line(err, p->open_line, "<Proxy balancer://%t> is not closed", &name);
	}
	for (unsigned i = 0; i < t->balancer_count; i++) {
		if (t->balancers[i].member_count == 0) {
			struct tok name = tok_pool(t, t->balancers[i].name);

			return fail_line(err, p->balancer_line[i],
					 "balancer '%t' has no BalancerMember", &name);
		}
	}
	return 0;
}

/*
 * Prefixes match at a segment boundary: "/app" takes "/app" and "/app/x"
 * but not "/apple"; a prefix ending in '/' is its own boundary.
 */
int route_match(const struct route_table *t, const char *path, size_t len,
		int *slash_redirect)
{
	if (slash_redirect)
		*slash_redirect = 0;
	for (unsigned i = 0; i < t->route_count; i++) {
		const char *pre = route_cstr(t, t->routes[i].prefix);
		size_t m = t->routes[i].prefix.len;

		if (m == 0)
			continue;
		if (len >= m && memcmp(path, pre, m) == 0 &&
		    (pre[m - 1] == '/' || len == m || path[m] == '/'))
			return (int)i;
		if (m > 1 && pre[m - 1] == '/' && len == m - 1 && memcmp(path, pre, len) == 0) {
			if (slash_redirect)
				*slash_redirect = 1;
			return (int)i;
		}
	}
	return -1;
}
