/*
 * route.c - Apache mod_proxy directives, one line at a time, into the
 * fixed-size route table of route.h.
 *
 * A line either applies completely or not at all: strings and balancers
 * a failing line added are rolled back, and members and routes are only
 * inserted once nothing else can fail. The same code runs in routegen at
 * build time and in the host program, so it formats its own messages
 * rather than pull printf into a firmware image.
 *
 * This file reads lines, tokens, URLs and the table; what a host or port
 * text means is addr.c's, what a key=value argument means route_keys.c's,
 * what an address block or a Require rule means route_acl.c's.
 */
#include <string.h>

#include "addr.h"
#include "route.h"
#include "route_acl.h"
#include "route_keys.h"
#include "route_text.h"

/* mod_proxy_fcgi's port when the fcgi:// URL names none. */
#define ROUTE_FCGI_DEFAULT_PORT 8000u

/* Redirect statuses (RFC 9110 section 15.4 and 15.5.11). */
#define ROUTE_HTTP_REDIRECT_MIN 300u
#define ROUTE_HTTP_REDIRECT_MAX 399u
#define ROUTE_HTTP_MOVED_PERMANENTLY 301u
#define ROUTE_HTTP_FOUND 302u
#define ROUTE_HTTP_SEE_OTHER 303u
#define ROUTE_HTTP_GONE 410u

#define ROUTE_MAX_TOKENS 16u            /* directive + arguments on one line */
#define ROUTE_ASCII_DEL 0x7f

/* An fcgi:// or unix:...|fcgi:// URL, taken apart. */
struct backend {
	struct port_addr addr;
	struct route_tok host;
	struct route_tok path;
	struct route_tok unix_path;     /* empty for fcgi://HOST */
};

typedef int (*directive_fn)(struct route_parser *p, const struct route_tok *a,
			    unsigned n, struct route_error *err);

/* Fail on the line being parsed; always -1. */
#define fail(p, err, ...) route_fail((err), (p)->line, __VA_ARGS__)

/* ---- small helpers ------------------------------------------------------ */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static struct route_tok tok_pool(const struct route_table *t, struct route_str s)
{
	return route_tok_from(route_cstr(t, s), s.len);
}

/* A decimal number min..max, digits only. */
static int parse_uint(const struct route_tok *t, uint32_t min, uint32_t max, uint32_t *out)
{
	return route_parse_uint(t->s, t->n, min, max, out);
}

/* ---- backends ----------------------------------------------------------- */

static int parse_host(const struct route_parser *p, const struct route_tok *h,
		      struct port_addr *a, struct route_error *err)
{
	static const char *const what[] = {
		[ADDR_KIND_NAME] = "host name",
		[ADDR_KIND_IPV4] = "IPv4 address",
		[ADDR_KIND_IPV6] = "IPv6 address",
	};

	if (addr_parse_host(h->s, h->n, a))
		return fail(p, err, "bad %s '%t'", what[addr_host_kind(h->s, h->n)], h);
	return 0;
}

/*
 * fcgi://HOST[:PORT][/PATH] taken apart; the path becomes the member's
 * docroot. What the host text means is parse_host()'s.
 */
static int split_fcgi_url(const struct route_parser *p, const struct route_tok *u,
			  struct backend *b, struct route_error *err)
{
	static const char scheme[] = "fcgi://";
	const char *s = u->s, *end = u->s + u->n, *h;
	uint16_t port = ROUTE_FCGI_DEFAULT_PORT;

	memset(b, 0, sizeof *b);
	if (!route_tok_iprefix(u, scheme))
		return fail(p, err, "unsupported backend '%t' (expected fcgi://HOST[:PORT]/PATH "
			    "or unix:/PATH|fcgi://HOST/PATH)", u);
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
	b->host = route_tok_from(h, (size_t)(s - h));
	if (b->host.n == 0)
		return fail(p, err, "missing host in '%t'", u);
	if (s < end && *s == ':') {
		struct route_tok pt;

		for (pt.s = ++s; s < end && *s != '/'; s++)
			;
		pt.n = (size_t)(s - pt.s);
		if (addr_parse_port(pt.s, pt.n, &port))
			return fail(p, err, "bad port '%t' (expected 1..65535)", &pt);
	}
	if (s < end && *s != '/')
		return fail(p, err, "bad host in '%t'", u);
	b->path = s < end ? route_tok_from(s, (size_t)(end - s)) : route_tok_from("/", 1);
	if (memchr(b->path.s, '?', b->path.n) || memchr(b->path.s, '#', b->path.n))
		return fail(p, err, "backend '%t' takes no query or fragment", u);
	b->addr.port = port;
	return 0;
}

static int parse_fcgi_url(const struct route_parser *p, const struct route_tok *u,
			  struct backend *b, struct route_error *err)
{
	if (split_fcgi_url(p, u, b, err))
		return -1;
	return parse_host(p, &b->host, &b->addr, err);
}

/*
 * Apache's unix:/PATH|fcgi://HOST/[DOCROOT]: the socket is PATH, the
 * fcgi:// part gives the docroot; its host names nothing and is dropped.
 */
static int parse_unix_url(const struct route_parser *p, const struct route_tok *u,
			  struct backend *b, struct route_error *err)
{
	static const char scheme[] = "unix:";
	const char *bar = memchr(u->s, '|', u->n);
	struct route_tok path, rest;

	if (!bar)
		return fail(p, err, "missing '|fcgi://HOST/' after the socket path in '%t'", u);
	path = route_tok_from(u->s + sizeof scheme - 1, (size_t)(bar - u->s) - (sizeof scheme - 1));
	rest = route_tok_from(bar + 1, u->n - (size_t)(bar - u->s) - 1);
	if (path.n == 0 || path.s[0] != '/')
		return fail(p, err, "socket path '%t' must be absolute", &path);
	if (path.n > ROUTE_UNIX_PATH_MAX)
		return fail(p, err, "socket path is too long (at most %u bytes)",
			    (unsigned)ROUTE_UNIX_PATH_MAX);
	if (split_fcgi_url(p, &rest, b, err))
		return -1;
	memset(&b->addr, 0, sizeof b->addr);
	b->host = route_tok_from(path.s, 0);
	b->unix_path = path;
	return 0;
}

static int parse_backend_url(const struct route_parser *p, const struct route_tok *u,
			     struct backend *b, struct route_error *err)
{
	if (route_tok_iprefix(u, "unix:"))
		return parse_unix_url(p, u, b, err);
	return parse_fcgi_url(p, u, b, err);
}

/* ---- the table ---------------------------------------------------------- */

/* Add a string to the pool, sharing an identical run already there. */
static int pool_add(const struct route_parser *p, const struct route_tok *s,
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
static int route_start(const struct route_parser *p, const struct route_tok *prefix,
		       struct route *r, struct route_error *err)
{
	memset(r, 0, sizeof *r);
	r->authorizer = -1;
	if (prefix->n == 0 || prefix->s[0] != '/')
		return fail(p, err, "prefix '%t' must start with '/'", prefix);
	if (p->t->route_count >= CONFIG_MAX_ROUTES)
		return fail(p, err, "too many routes (CONFIG_MAX_ROUTES=%u)",
			    (unsigned)CONFIG_MAX_ROUTES);
	return pool_add(p, prefix, &r->prefix, err);
}

/* balancer://NAME[/] -> NAME */
static int parse_balancer_url(const struct route_parser *p, const struct route_tok *u,
			      struct route_tok *name, struct route_error *err)
{
	static const char scheme[] = "balancer://";

	*name = route_tok_from(u->s + sizeof scheme - 1, u->n - (sizeof scheme - 1));
	if (name->n && name->s[name->n - 1] == '/')
		name->n--;
	if (name->n == 0)
		return fail(p, err, "missing balancer name in '%t'", u);
	if (memchr(name->s, '/', name->n))
		return fail(p, err, "balancer URL '%t' takes no path", u);
	return 0;
}

static int is_balancer_url(const struct route_tok *u)
{
	return route_tok_iprefix(u, "balancer://");
}

/* The balancer named by URL u, created on first mention. */
static int balancer_get(struct route_parser *p, const struct route_tok *u, struct route_error *err)
{
	struct route_table *t = p->t;
	struct route_tok name, have;
	struct route_balancer *b;

	if (parse_balancer_url(p, u, &name, err))
		return -1;
	/* Case-insensitive, as the host part of a URL is (RFC 3986 3.2.2). */
	for (unsigned i = 0; i < t->balancer_count; i++) {
		have = tok_pool(t, t->balancers[i].name);
		if (have.n == name.n && route_mem_ieq(have.s, name.s, name.n))
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
	for (unsigned i = 0; i < t->route_count; i++) {
		if (t->routes[i].kind == ROUTE_PROXY && t->routes[i].target >= pos)
			t->routes[i].target++;
		if (t->routes[i].authorizer >= (int)pos)
			t->routes[i].authorizer++;
	}
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

/* Split key=value; the key is matched case-insensitively. */
/*
 * authorizer=fcgi://HOST:PORT/: a lone member (ProxyPass's defaults) that
 * the route asks first with FCGI_ROLE=AUTHORIZER.
 */
static int add_authorizer(struct route_parser *p, struct route *r,
			  const struct route_tok *url, struct route_error *err)
{
	struct route_member m;
	struct backend b;
	uint16_t index;

	if (!CONFIG_AUTHORIZER)
		return fail(p, err, "authorizer= is compiled out (AUTHORIZER=n)");
	if (r->authorizer >= 0)
		return fail(p, err, "authorizer= given twice");
	memset(&m, 0, sizeof m);
	route_params_defaults(&m.params, 0);
	if (parse_backend_url(p, url, &b, err) ||
	    pool_add(p, &b.host, &m.host, err) || pool_add(p, &b.path, &m.docroot, err) ||
	    pool_add(p, &b.unix_path, &m.unix_path, err))
		return -1;
	m.addr = b.addr;
	m.balancer = -1;
	if (member_add(p, &m, -1, &index, err))
		return -1;
	r->authorizer = (int16_t)index;
	return 0;
}

static int split_key(const struct route_parser *p, const struct route_tok *a,
		     struct route_tok *key, struct route_tok *val, struct route_error *err)
{
	const char *eq = memchr(a->s, '=', a->n);

	if (!eq || eq == a->s)
		return fail(p, err, "expected key=value, got '%t'", a);
	*key = route_tok_from(a->s, (size_t)(eq - a->s));
	*val = route_tok_from(eq + 1, a->n - key->n - 1);
	return 0;
}

/* require= and limitrequestbody=, the route's own keys: 1 if key is one, 0 if not. */
static int route_key(struct route_parser *p, struct route *r, const struct route_tok *key,
		     const struct route_tok *val, struct route_error *err)
{
	uint32_t v;

	if (route_tok_ieq(key, "require"))
		return route_acl_key(p->t, p->line, &r->acl, val, err) ? -1 : 1;
	if (route_tok_ieq(key, "authorizer"))
		return add_authorizer(p, r, val, err) ? -1 : 1;
	if (!route_tok_ieq(key, "limitrequestbody"))
		return 0;
	if (parse_uint(val, 1, ROUTE_BODY_LIMIT_MAX, &v))
		return fail(p, err, "bad value '%t' for limitrequestbody (expected 1..%u)",
			    val, ROUTE_BODY_LIMIT_MAX);
	r->limit_body = v;
	return 1;
}

/* Where a key that a balancer's ProxyPass refuses goes instead; NULL if nowhere. */
static const char *balancer_key_home(const struct route_tok *key, const struct route_tok *val)
{
	struct route_params scratch;
	const char *name, *expect;

	if (route_tok_ieq(key, "lbmethod"))
		return "ProxySet";
	route_params_defaults(&scratch, 1);
	if (route_param_set(&scratch, 1, key->s, key->n, val->s, val->n, &name, &expect) !=
	    ROUTE_KEY_UNKNOWN)
		return "BalancerMember";
	return NULL;
}

/* Keys of a route without a member of its own (a balancer's, StatusPage): route keys only. */
static int parse_route_keys(struct route_parser *p, const struct route_tok *a, unsigned n,
			    const char *what, struct route *r, struct route_error *err)
{
	for (unsigned i = 0; i < n; i++) {
		struct route_tok key, val;
		const char *home;
		int rc;

		if (split_key(p, &a[i], &key, &val, err))
			return -1;
		rc = route_key(p, r, &key, &val, err);
		if (rc < 0)
			return -1;
		if (rc)
			continue;
		home = r->kind == ROUTE_BALANCER ? balancer_key_home(&key, &val) : NULL;
		if (home)
			return fail(p, err, "key '%t' goes on %s (%s accepts: %s)", &key, home,
				    what, ROUTE_KEYS_ROUTE);
		return fail(p, err, "unknown key '%t' (%s accepts: %s)", &key, what,
			    ROUTE_KEYS_ROUTE);
	}
	return 0;
}

/*
 * Worker keys of a ProxyPass backend and the route keys of its route r,
 * or (r NULL) the keys of a BalancerMember, with lbfactor and status.
 */
static int parse_params(struct route_parser *p, const struct route_tok *a, unsigned n,
			struct route *r, struct route_params *pr, struct route_error *err)
{
	int member = r == NULL;

	route_params_defaults(pr, member);
	for (unsigned i = 0; i < n; i++) {
		struct route_tok key, val;
		const char *name, *expect;
		int rc;

		if (split_key(p, &a[i], &key, &val, err))
			return -1;
		rc = r ? route_key(p, r, &key, &val, err) : 0;
		if (rc < 0)
			return -1;
		if (rc)
			continue;
		rc = route_param_set(pr, member, key.s, key.n, val.s, val.n, &name, &expect);
		if (rc == ROUTE_KEY_UNKNOWN)
			return fail(p, err, "unknown key '%t' (%s accepts: %s)", &key,
				    member ? "BalancerMember" : "ProxyPass", member ?
				    ROUTE_KEYS_MEMBER : ROUTE_KEYS_WORKER ", " ROUTE_KEYS_ROUTE);
		if (rc == ROUTE_KEY_BAD_VALUE)
			return fail(p, err, "bad value '%t' for %s (expected %s)", &val, name, expect);
	}
	return 0;
}

/* ---- directives --------------------------------------------------------- */

/*
 * A member from a backend URL and its keys, inserted into balancer bal;
 * a ProxyPass's route r (NULL for a BalancerMember) takes the route keys.
 */
static int add_backend(struct route_parser *p, const struct route_tok *a, unsigned n,
		       int bal, struct route *r, uint16_t *index, struct route_error *err)
{
	struct route_member m;
	struct backend b;

	memset(&m, 0, sizeof m);
	if (parse_backend_url(p, &a[0], &b, err) ||
	    parse_params(p, a + 1, n - 1, r, &m.params, err) ||
	    pool_add(p, &b.host, &m.host, err) || pool_add(p, &b.path, &m.docroot, err) ||
	    pool_add(p, &b.unix_path, &m.unix_path, err))
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
	if (p->in_location)
		return fail(p, err, "%s is not allowed inside <Location> (opened on line %u; "
			    "only Header set is)", what, p->open_line);
	return 0;
}

static int do_proxypass(struct route_parser *p, const struct route_tok *a, unsigned n,
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
		r.kind = ROUTE_BALANCER;
		if (parse_route_keys(p, a + 2, n - 2, "ProxyPass to a balancer", &r, err))
			return -1;
		bal = balancer_get(p, &a[1], err);
		if (bal < 0)
			return -1;
		r.target = (uint16_t)bal;
	} else {
		if (add_backend(p, a + 1, n - 1, -1, &r, &r.target, err))
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
			 const struct route_tok **a, unsigned *n, struct route_error *err)
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

static int do_member(struct route_parser *p, const struct route_tok *a, unsigned n,
		     struct route_error *err)
{
	int bal = line_balancer(p, "BalancerMember", &a, &n, err);
	uint16_t index;

	if (bal < 0)
		return -1;
	if (n == 0)
		return fail(p, err, "BalancerMember needs an fcgi:// URL");
	return add_backend(p, a, n, bal, NULL, &index, err);
}

static int do_proxyset(struct route_parser *p, const struct route_tok *a, unsigned n,
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
		struct route_tok key, val;

		if (split_key(p, &a[i], &key, &val, err))
			return -1;
		if (!route_tok_ieq(&key, "lbmethod"))
			return fail(p, err, "unknown key '%t' (ProxySet accepts: lbmethod)", &key);
		if (route_parse_lbmethod(val.s, val.n, &method))
			return fail(p, err, "bad value '%t' for lbmethod (expected byrequests or bybusyness)", &val);
	}
	p->t->balancers[bal].lbmethod = method;
	return 0;
}

static int parse_redirect_status(const struct route_tok *t, uint16_t *status)
{
	static const struct { const char *name; uint16_t status; } names[] = {
		{ "permanent", ROUTE_HTTP_MOVED_PERMANENTLY }, { "temp", ROUTE_HTTP_FOUND },
		{ "seeother", ROUTE_HTTP_SEE_OTHER }, { "gone", ROUTE_HTTP_GONE },
	};
	uint32_t v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (route_tok_ieq(t, names[i].name)) {
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
static int valid_redirect_url(const struct route_tok *u)
{
	size_t i = 0;

	if (u->n && u->s[0] == '/')
		return 1;
	if (u->n == 0 || !is_alpha(u->s[0]))
		return 0;
	while (i < u->n && (is_alpha(u->s[i]) || (u->s[i] >= '0' && u->s[i] <= '9') ||
			    u->s[i] == '+' || u->s[i] == '-' || u->s[i] == '.'))
		i++;
	return u->n - i > 3 && memcmp(u->s + i, "://", 3) == 0;
}

static int do_redirect(struct route_parser *p, const struct route_tok *a, unsigned n,
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

static int do_status_page(struct route_parser *p, const struct route_tok *a, unsigned n,
			  struct route_error *err)
{
	struct route r;

	if (not_in_block(p, "StatusPage", err))
		return -1;
	if (n == 0)
		return fail(p, err, "StatusPage needs a PREFIX");
	if (route_start(p, &a[0], &r, err))
		return -1;
	r.kind = ROUTE_STATUS;
	if (parse_route_keys(p, a + 1, n - 1, "StatusPage", &r, err))
		return -1;
	p->t->routes[p->t->route_count++] = r;
	return 0;
}

static int do_require(struct route_parser *p, const struct route_tok *a, unsigned n,
		      struct route_error *err)
{
	if (not_in_block(p, "Require", err))
		return -1;
	return route_acl_require(p->t, p->line, a, n, err);
}

static int do_limit_body(struct route_parser *p, const struct route_tok *a, unsigned n,
			 struct route_error *err)
{
	uint32_t v;

	if (not_in_block(p, "LimitRequestBody", err))
		return -1;
	if (n != 1)
		return fail(p, err, "LimitRequestBody needs one value (bytes, 0..%u)",
			    ROUTE_BODY_LIMIT_MAX);
	if (parse_uint(&a[0], 0, ROUTE_BODY_LIMIT_MAX, &v))
		return fail(p, err, "bad value '%t' for LimitRequestBody (expected 0..%u)",
			    &a[0], ROUTE_BODY_LIMIT_MAX);
	p->t->global_limit_body = v;
	return 0;
}

static int do_proxy_open(struct route_parser *p, const struct route_tok *a, unsigned n,
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

static int do_proxy_close(struct route_parser *p, const struct route_tok *a, unsigned n,
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

/*
 * The target of Alias PREFIX /DIR/: an absolute folder. It is the
 * administrator's, so it is taken as written (symbolic links in it are
 * followed); only what a request adds below it is checked, at run time.
 */
static int dir_target(struct route_parser *p, const struct route_tok *t, struct route *r,
		      struct route_error *err)
{
	if (!CONFIG_DIR_ALIAS)
		return fail(p, err, "Alias to the folder '%t' needs DIR_ALIAS=y (POSIX boards "
			    "only); rom:/DIR/ serves the ROM filesystem", t);
	if (t->s[t->n - 1] != '/')
		return fail(p, err, "Alias folder '%t' must end with '/'", t);
	r->kind = ROUTE_DIR;
	return pool_add(p, t, &r->url, err);
}

/* Alias PREFIX rom:/[DIR/] | /DIR/ [keys]: files of the ROM filesystem or a folder. */
static int do_alias(struct route_parser *p, const struct route_tok *a, unsigned n,
		    struct route_error *err)
{
	struct route_tok dir;
	struct route r;
	int is_dir;

	if (not_in_block(p, "Alias", err))
		return -1;
	if (n < 2)
		return fail(p, err, "Alias needs PREFIX and rom:/DIR/ or /DIR/");
	is_dir = a[1].n > 0 && a[1].s[0] == '/';
	if (!is_dir && !route_tok_iprefix(&a[1], "rom:/"))
		return fail(p, err, "Alias target '%t' must be rom:/[DIR/] (a ROM filesystem "
			    "folder) or an absolute /DIR/", &a[1]);
	if (!is_dir && !CONFIG_ROMFS)
		return fail(p, err, "Alias rom:/ needs the ROM filesystem (ROMFS=n)");
	if (route_start(p, &a[0], &r, err))
		return -1;
	if (r.prefix.len > 0 && route_cstr(p->t, r.prefix)[r.prefix.len - 1] != '/')
		return fail(p, err, "Alias prefix '%t' must end with '/'", &a[0]);
	if (is_dir) {
		if (dir_target(p, &a[1], &r, err))
			return -1;
	} else {
		dir = route_tok_from(a[1].s + 5, a[1].n - 5);
		if (dir.n > 0 && dir.s[dir.n - 1] != '/')
			return fail(p, err, "Alias target '%t' must end with '/'", &a[1]);
		if (pool_add(p, &dir, &r.url, err))
			return -1;
		r.kind = ROUTE_ROM;
	}
	if (parse_route_keys(p, a + 2, n - 2, "Alias", &r, err))
		return -1;
	p->t->routes[p->t->route_count++] = r;
	return 0;
}

static int do_directory_index(struct route_parser *p, const struct route_tok *a, unsigned n,
			      struct route_error *err)
{
	if (not_in_block(p, "DirectoryIndex", err))
		return -1;
	if (n != 1 || a[0].n == 0 || memchr(a[0].s, '/', a[0].n))
		return fail(p, err, "DirectoryIndex needs one file name (no '/')");
	return pool_add(p, &a[0], &p->t->dir_index, err);
}

/*
 * A header field name is a token (RFC 9110 §5.6.2); a value needs no
 * check beyond the line's (no control characters).
 */
static int is_token(const struct route_tok *t)
{
	if (t->n == 0)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		char c = t->s[i];
		if (!is_alpha(c) && !(c >= '0' && c <= '9') && !strchr("!#$%&'*+-.^_`|~", c))
			return 0;
	}
	return 1;
}

static int do_header(struct route_parser *p, const struct route_tok *a, unsigned n,
		     struct route_error *err)
{
	struct route_table *t = p->t;
	struct route_header h;

	if (p->open_balancer >= 0)
		return fail(p, err, "Header is not allowed inside <Proxy>");
	if (n != 3 || !route_tok_ieq(&a[0], "set"))
		return fail(p, err, "Header supports only: Header set NAME \"VALUE\"");
	if (!is_token(&a[1]))
		return fail(p, err, "bad header name '%t'", &a[1]);
	if (route_tok_ieq(&a[1], "Content-Length") || route_tok_ieq(&a[1], "Transfer-Encoding") ||
	    route_tok_ieq(&a[1], "Connection"))
		return fail(p, err, "Header set cannot change '%t': fcgate frames the message", &a[1]);
	if (t->header_count >= CONFIG_MAX_HEADERS)
		return fail(p, err, "too many Header lines (CONFIG_MAX_HEADERS=%u)",
			    (unsigned)CONFIG_MAX_HEADERS);
	memset(&h, 0, sizeof h);
	if (pool_add(p, &a[1], &h.name, err) || pool_add(p, &a[2], &h.value, err))
		return -1;
	if (p->in_location)
		h.prefix = p->location;
	t->headers[t->header_count++] = h;
	return 0;
}

static int do_error_document(struct route_parser *p, const struct route_tok *a, unsigned n,
			     struct route_error *err)
{
	struct route_table *t = p->t;
	struct route_errdoc d;
	uint32_t status;
	struct route_tok path;

	if (not_in_block(p, "ErrorDocument", err))
		return -1;
	if (n != 2 || parse_uint(&a[0], 400, 599, &status))
		return fail(p, err, "ErrorDocument needs a STATUS (400..599) and a /PATH");
	if (a[1].n < 2 || a[1].s[0] != '/')
		return fail(p, err, "ErrorDocument path '%t' must be a file of the ROM "
			    "filesystem, starting with '/'", &a[1]);
	if (!CONFIG_ROMFS)
		return fail(p, err, "ErrorDocument needs the ROM filesystem (ROMFS=n)");
	if (t->errdoc_count >= CONFIG_MAX_ERROR_DOCS)
		return fail(p, err, "too many ErrorDocument lines (CONFIG_MAX_ERROR_DOCS=%u)",
			    (unsigned)CONFIG_MAX_ERROR_DOCS);
	path = route_tok_from(a[1].s + 1, a[1].n - 1);
	memset(&d, 0, sizeof d);
	d.status = (uint16_t)status;
	if (pool_add(p, &path, &d.path, err))
		return -1;
	t->errdocs[t->errdoc_count++] = d;
	return 0;
}

static int do_location_open(struct route_parser *p, const struct route_tok *a, unsigned n,
			    struct route_error *err)
{
	if (not_in_block(p, "<Location>", err))
		return -1;
	if (n != 1 || a[0].n == 0 || a[0].s[0] != '/')
		return fail(p, err, "<Location> needs one PREFIX starting with '/'");
	if (pool_add(p, &a[0], &p->location, err))
		return -1;
	p->in_location = 1;
	p->open_line = p->line;
	return 0;
}

static int do_location_close(struct route_parser *p, const struct route_tok *a, unsigned n,
			     struct route_error *err)
{
	(void)a;
	if (n)
		return fail(p, err, "</Location> takes no arguments");
	if (!p->in_location)
		return fail(p, err, "</Location> without <Location>");
	p->in_location = 0;
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
	{ "StatusPage", do_status_page },
	{ "Require", do_require },
	{ "LimitRequestBody", do_limit_body },
	{ "<Proxy", do_proxy_open },
	{ "</Proxy", do_proxy_close },
	{ "Alias", do_alias },
	{ "DirectoryIndex", do_directory_index },
	{ "Header", do_header },
	{ "ErrorDocument", do_error_document },
	{ "<Location", do_location_open },
	{ "</Location", do_location_close },
};

/* ---- lines -------------------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split on SP/HTAB; a token that starts with '"' runs to the next '"'. */
static int tokenise(const struct route_parser *p, const char *s, size_t n,
		    struct route_tok *out, unsigned *count, struct route_error *err)
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
			out[(*count)++] = route_tok_from(s + start, i - start);
			if (++i < n && !is_blank(s[i]))
				return fail(p, err, "missing space after closing '\"'");
		} else {
			for (start = i; i < n && !is_blank(s[i]); i++)
				;
			out[(*count)++] = route_tok_from(s + start, i - start);
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
	struct route_tok tok[ROUTE_MAX_TOKENS];
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
		if (route_tok_ieq(&tok[0], directives[i].name))
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
	uint16_t cidr_count = t->cidr_count, member_count = t->member_count;
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
	memset(&t->cidrs[cidr_count], 0, (size_t)(t->cidr_count - cidr_count) * sizeof t->cidrs[0]);
	t->cidr_count = cidr_count;
	/* Only an authorizer= member can be in place before its line failed. */
	t->member_count = member_count;
	return -1;
}

int route_end(struct route_parser *p, struct route_error *err)
{
	const struct route_table *t = p->t;

	if (p->open_balancer >= 0) {
		struct route_tok name = tok_pool(t, t->balancers[p->open_balancer].name);

		return route_fail(err, p->open_line, "<Proxy balancer://%t> is not closed", &name);
	}
	if (p->in_location)
		return route_fail(err, p->open_line, "<Location> is not closed");
	for (unsigned i = 0; i < t->balancer_count; i++) {
		if (t->balancers[i].member_count == 0) {
			struct route_tok name = tok_pool(t, t->balancers[i].name);

			return route_fail(err, p->balancer_line[i],
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
