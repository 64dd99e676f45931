/*
 * test_route.c - the route parser (Apache mod_proxy syntax), the matcher,
 * and the per-request access rules (Require ip, require=) and body limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "route.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct route_table table;
static struct route_parser parser;

/* Feed text line by line (split at '\n'), then route_end(). */
static int parse_text(const char *text, struct route_error *err)
{
	route_begin(&parser, &table);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (route_parse_line(&parser, text, len, err))
			return -1;
		text += len + (nl ? 1 : 0);
	}
	return route_end(&parser, err);
}

static void parse_ok(const char *text)
{
	struct route_error err = { 0, "" };

	if (parse_text(text, &err)) {
		print_error("unexpected error %u: %s\nin: %s\n", err.line, err.msg, text);
		fail();
	}
}

static int str_is(const struct route_table *t, struct route_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(route_cstr(t, s), want, s.len) == 0;
}

#define assert_str(s, want) assert_true(str_is(&table, (s), (want)))

/* Every balancer's members are contiguous and point back at it. */
static void check_invariants(const struct route_table *t)
{
	unsigned owned = 0;

	for (unsigned b = 0; b < t->balancer_count; b++) {
		const struct route_balancer *bal = &t->balancers[b];

		assert_true(bal->member_count > 0);
		assert_true(bal->first_member + bal->member_count <= t->member_count);
		for (unsigned i = 0; i < bal->member_count; i++)
			assert_int_equal(t->members[bal->first_member + i].balancer, b);
		owned += bal->member_count;
	}
	for (unsigned i = 0, lone = 0; i < t->member_count; i++) {
		lone += t->members[i].balancer < 0;
		if (i + 1 == t->member_count)
			assert_int_equal(owned + lone, t->member_count);
	}
	for (unsigned r = 0; r < t->route_count; r++) {
		if (t->routes[r].kind == ROUTE_PROXY) {
			assert_true(t->routes[r].target < t->member_count);
			assert_int_equal(t->members[t->routes[r].target].balancer, -1);
		}
		if (t->routes[r].kind == ROUTE_BALANCER)
			assert_true(t->routes[r].target < t->balancer_count);
	}
	assert_true(t->strings_len <= CONFIG_ROUTE_STRINGS);
}

/* Each rule's blocks are in range, and every block belongs to exactly one rule. */
static void check_acls(const struct route_table *t)
{
	uint8_t owner[CONFIG_MAX_CIDRS] = { 0 };
	unsigned owned = 0;

	assert_true(t->cidr_count <= CONFIG_MAX_CIDRS);
	for (unsigned r = 0; r <= t->route_count; r++) {
		const struct route_acl *a = r < t->route_count ? &t->routes[r].acl : &t->global_acl;

		if (a->mode != ROUTE_ACL_IP) {
			assert_int_equal(a->count, 0);
			continue;
		}
		assert_true(a->count > 0);
		assert_true(a->first + a->count <= t->cidr_count);
		for (unsigned i = a->first; i < a->first + a->count; i++)
			assert_int_equal(owner[i]++, 0);
		owned += a->count;
	}
	assert_int_equal(owned, t->cidr_count);
}

static const struct route_member *route_member(unsigned r)
{
	assert_int_equal(table.routes[r].kind, ROUTE_PROXY);
	return &table.members[table.routes[r].target];
}

/* ---- the seed's examples ---------------------------------------------- */

static void test_seed_single(void **state)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	const struct route_member *m;

	(void)state;
	parse_ok("ProxyPass /myapp/ fcgi://localhost:4000/");
	assert_int_equal(table.route_count, 1);
	assert_int_equal(table.member_count, 1);
	assert_str(table.routes[0].prefix, "/myapp/");
	m = route_member(0);
	assert_int_equal(m->addr.family, PORT_AF_INET);
	assert_memory_equal(m->addr.ip, lo, 4);
	assert_int_equal(m->addr.port, 4000);
	assert_str(m->host, "localhost");
	assert_str(m->docroot, "/");
	assert_int_equal(m->balancer, -1);
	assert_int_equal(m->params.retry_ms, 0);
	assert_int_equal(m->params.ttl_ms, 30000);
	assert_int_equal(m->params.lbfactor, 1);
	assert_int_equal(m->params.max, 0);
	assert_int_equal(m->params.timeout_ms, 0);
	assert_int_equal(m->params.connect_timeout_ms, 0);
	assert_int_equal(m->params.flags, 0);
}

static void test_seed_disablereuse(void **state)
{
	(void)state;
	parse_ok("ProxyPass /myapp/ fcgi://localhost:4000/ disablereuse=on");
	assert_int_equal(route_member(0)->params.flags, ROUTE_F_NOREUSE);
}

static void test_seed_balancer(void **state)
{
	const struct route_balancer *b;

	(void)state;
	parse_ok("ProxyPass /myapp/ balancer://myappcluster/\n"
		 "<Proxy balancer://myappcluster/>\n"
		 "    BalancerMember fcgi://localhost:4000/\n"
		 "    BalancerMember fcgi://localhost:4001/\n"
		 "</Proxy>\n");
	assert_int_equal(table.route_count, 1);
	assert_int_equal(table.routes[0].kind, ROUTE_BALANCER);
	assert_int_equal(table.routes[0].target, 0);
	assert_int_equal(table.balancer_count, 1);
	b = &table.balancers[0];
	assert_str(b->name, "myappcluster");
	assert_int_equal(b->lbmethod, ROUTE_LB_BYREQUESTS);
	assert_int_equal(b->member_count, 2);
	assert_int_equal(table.members[b->first_member].addr.port, 4000);
	assert_int_equal(table.members[b->first_member + 1].addr.port, 4001);
	assert_int_equal(table.members[b->first_member].params.retry_ms, 60000);
	check_invariants(&table);
}

/* ---- keys ---------------------------------------------------------------- */

struct key_case {
	const char *line;
	struct route_params want;
};

static void check_params(const struct route_params *got, const struct route_params *want,
			 const char *line)
{
	if (memcmp(got, want, sizeof *got) != 0) {
		print_error("params differ for: %s\n", line);
		fail();
	}
}

static void test_proxypass_keys(void **state)
{
	static const struct key_case cases[] = {
		{ "disablereuse=on", { .ttl_ms = 30000, .lbfactor = 1, .flags = ROUTE_F_NOREUSE } },
		{ "disablereuse=OFF", { .ttl_ms = 30000, .lbfactor = 1 } },
		{ "enablereuse=off", { .ttl_ms = 30000, .lbfactor = 1, .flags = ROUTE_F_NOREUSE } },
		{ "disablereuse=on enablereuse=on", { .ttl_ms = 30000, .lbfactor = 1 } },
		{ "max=1", { .ttl_ms = 30000, .lbfactor = 1, .max = 1 } },
		{ "max=65535", { .ttl_ms = 30000, .lbfactor = 1, .max = 65535 } },
		{ "ttl=0", { .ttl_ms = 0, .lbfactor = 1 } },
		{ "ttl=86400", { .ttl_ms = 86400000u, .lbfactor = 1 } },
		{ "timeout=5", { .timeout_ms = 5000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "connectiontimeout=2", { .connect_timeout_ms = 2000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "retry=7", { .retry_ms = 7000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "Max=3 TTL=1 Timeout=4 ConnectionTimeout=6 Retry=0 DisableReuse=On",
		  { .timeout_ms = 4000, .connect_timeout_ms = 6000, .ttl_ms = 1000,
		    .max = 3, .lbfactor = 1, .flags = ROUTE_F_NOREUSE } },
		{ "max=2 max=9", { .ttl_ms = 30000, .lbfactor = 1, .max = 9 } },
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(line, sizeof line, "ProxyPass /a fcgi://127.0.0.1:1/ %s", cases[i].line);
		parse_ok(line);
		check_params(&route_member(0)->params, &cases[i].want, line);
	}
}

static void test_member_keys(void **state)
{
	static const struct key_case cases[] = {
		{ "", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "lbfactor=100", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 100 } },
		{ "lbfactor=1", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "status=+H", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1,
				 .flags = ROUTE_F_STANDBY } },
		{ "status=+D", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1,
				 .flags = ROUTE_F_DISABLED } },
		{ "status=+h+d", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1,
				   .flags = ROUTE_F_STANDBY | ROUTE_F_DISABLED } },
		{ "status=+H-H", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "status=+D status=-D", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1 } },
		{ "status=D", { .retry_ms = 60000, .ttl_ms = 30000, .lbfactor = 1,
				.flags = ROUTE_F_DISABLED } },
		{ "retry=0 max=4 disablereuse=on timeout=9 connectiontimeout=1 ttl=2",
		  { .timeout_ms = 9000, .connect_timeout_ms = 1000, .retry_ms = 0,
		    .ttl_ms = 2000, .max = 4, .lbfactor = 1, .flags = ROUTE_F_NOREUSE } },
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(line, sizeof line, "BalancerMember balancer://c fcgi://127.0.0.1:1/ %s",
			 cases[i].line);
		parse_ok(line);
		assert_int_equal(table.member_count, 1);
		check_params(&table.members[0].params, &cases[i].want, line);
	}
}

static void test_proxyset(void **state)
{
	(void)state;
	parse_ok("ProxySet balancer://a lbmethod=bybusyness\n"
		 "BalancerMember balancer://a fcgi://127.0.0.1:1/\n"
		 "<Proxy balancer://b>\n"
		 "ProxySet lbmethod=bybusyness\n"
		 "ProxySet LBMethod=ByRequests\n"
		 "BalancerMember fcgi://127.0.0.1:2/\n"
		 "</Proxy>\n"
		 "<Proxy balancer://c>\n"
		 "BalancerMember fcgi://127.0.0.1:3/\n"
		 "</Proxy>\n"
		 "ProxySet balancer://C/ lbmethod=bybusyness\n");
	assert_int_equal(table.balancer_count, 3);
	assert_int_equal(table.balancers[0].lbmethod, ROUTE_LB_BYBUSYNESS);
	assert_int_equal(table.balancers[1].lbmethod, ROUTE_LB_BYREQUESTS);
	assert_int_equal(table.balancers[2].lbmethod, ROUTE_LB_BYBUSYNESS);
	check_invariants(&table);
}

/* ---- lines and tokens -------------------------------------------------- */

static void test_syntax(void **state)
{
	(void)state;
	parse_ok("# a comment\n"
		 "\n"
		 "   \t  # indented comment\n"
		 "  \t\n"
		 "proxypass\t/a   fcgi://127.0.0.1:1/\t\r\n"
		 "PROXYPASS \"/my app/\" \"fcgi://127.0.0.1:2/srv dir/\" \"max=3\"\r\n"
		 "<proxy balancer://x>\r\n"
		 "balancermember fcgi://127.0.0.1:3/\n"
		 "</PROXY>\n"
		 "<Proxy \"balancer://y\" >\n"
		 "BalancerMember fcgi://127.0.0.1:4/\n"
		 "</Proxy >\n"
		 "redirect /r /a\n");
	assert_int_equal(table.route_count, 3);
	assert_str(table.routes[0].prefix, "/a");
	assert_str(table.routes[1].prefix, "/my app/");
	assert_str(route_member(1)->docroot, "/srv dir/");
	assert_int_equal(route_member(1)->params.max, 3);
	assert_int_equal(table.balancer_count, 2);
	assert_str(table.balancers[1].name, "y");
	assert_int_equal(parser.line, 13);
	check_invariants(&table);
}

static void test_fcgi_urls(void **state)
{
	static const struct {
		const char *url;
		uint8_t family;
		uint16_t port;
		const char *host, *docroot;
	} cases[] = {
		{ "fcgi://127.0.0.1/", PORT_AF_INET, 8000, "127.0.0.1", "/" },
		{ "fcgi://127.0.0.1", PORT_AF_INET, 8000, "127.0.0.1", "/" },
		{ "fcgi://127.0.0.1:9000", PORT_AF_INET, 9000, "127.0.0.1", "/" },
		{ "fcgi://10.0.2.2:65535/srv/app/", PORT_AF_INET, 65535, "10.0.2.2", "/srv/app/" },
		{ "FCGI://LocalHost:1/index.php", PORT_AF_INET, 1, "LocalHost", "/index.php" },
		{ "fcgi://[::1]:9000/x", PORT_AF_INET6, 9000, "[::1]", "/x" },
		{ "fcgi://[::1]", PORT_AF_INET6, 8000, "[::1]", "/" },
		{ "fcgi://php-fpm:9000/", 0, 9000, "php-fpm", "/" },
		{ "fcgi://php_fpm/", 0, 8000, "php_fpm", "/" },
		{ "fcgi://app.example.com./", 0, 8000, "app.example.com.", "/" },
		{ "fcgi://a1.b2.c3/", 0, 8000, "a1.b2.c3", "/" },
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct route_member *m;

		snprintf(line, sizeof line, "ProxyPass / %s", cases[i].url);
		parse_ok(line);
		m = route_member(0);
		assert_int_equal(m->addr.family, cases[i].family);
		assert_int_equal(m->addr.port, cases[i].port);
		assert_str(m->host, cases[i].host);
		assert_str(m->docroot, cases[i].docroot);
	}
}

/*
 * Host text itself is addr.c's (test_addr.c). Here: the address lands in
 * the member, and a refusal names what the host was taken for.
 */
static void test_hosts(void **state)
{
	static const struct {
		const char *url;
		uint8_t family;
		uint8_t ip[16];
	} cases[] = {
		{ "fcgi://10.0.2.2:1/", PORT_AF_INET, { 10, 0, 2, 2 } },
		{ "fcgi://LOCALHOST/", PORT_AF_INET, { 127, 0, 0, 1 } },
		{ "fcgi://[2001:db8::1]:1/", PORT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		{ "fcgi://[::ffff:192.0.2.1]/", PORT_AF_INET6,
		  { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 } },
		{ "fcgi://app.internal:9000/", 0, { 0 } },
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct route_member *m;

		snprintf(line, sizeof line, "ProxyPass / %s", cases[i].url);
		parse_ok(line);
		m = route_member(0);
		assert_int_equal(m->addr.family, cases[i].family);
		assert_memory_equal(m->addr.ip, cases[i].ip,
				    cases[i].family == PORT_AF_INET6 ? 16 : 4);
	}
}

/* ---- Redirect ------------------------------------------------------------ */

static void test_redirect(void **state)
{
	static const struct {
		const char *line;
		unsigned status;
		const char *prefix, *url;
	} cases[] = {
		{ "Redirect /a /b", 302, "/a", "/b" },
		{ "Redirect permanent /a http://example.com/b", 301, "/a", "http://example.com/b" },
		{ "Redirect Temp /a /b", 302, "/a", "/b" },
		{ "Redirect seeother /a /b", 303, "/a", "/b" },
		{ "Redirect gone /a", 410, "/a", "" },
		{ "Redirect 410 /a", 410, "/a", "" },
		{ "Redirect 300 /a /b", 300, "/a", "/b" },
		{ "Redirect 307 /a https://h:8443/x?y", 307, "/a", "https://h:8443/x?y" },
		{ "Redirect 399 /a svn+ssh://h/", 399, "/a", "svn+ssh://h/" },
		{ "Redirect 308 / /new/", 308, "/", "/new/" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		parse_ok(cases[i].line);
		assert_int_equal(table.route_count, 1);
		assert_int_equal(table.routes[0].kind, ROUTE_REDIRECT);
		assert_int_equal(table.routes[0].status, cases[i].status);
		assert_str(table.routes[0].prefix, cases[i].prefix);
		assert_str(table.routes[0].url, cases[i].url);
	}
}

static void test_exclude(void **state)
{
	(void)state;
	parse_ok("ProxyPass /static/ !");
	assert_int_equal(table.routes[0].kind, ROUTE_EXCLUDE);
	assert_int_equal(table.member_count, 0);
}

/* ---- errors ---------------------------------------------------------------- */

struct err_case {
	const char *text;
	unsigned line;
	const char *msg;
};

static void check_errors(const struct err_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route_error err = { 0, "" };

		if (parse_text(cases[i].text, &err) == 0) {
			print_error("accepted: %s\n", cases[i].text);
			fail();
		}
		if (err.line != cases[i].line || strcmp(err.msg, cases[i].msg) != 0) {
			print_error("for: %s\n got %u: %s\nwant %u: %s\n", cases[i].text,
				    err.line, err.msg, cases[i].line, cases[i].msg);
			fail();
		}
	}
}

#define PP "ProxyPass /a fcgi://127.0.0.1:1/ "
#define BM "BalancerMember balancer://b fcgi://127.0.0.1:1/ "
#define KEYS_WORKER "disablereuse, enablereuse, max, ttl, timeout, connectiontimeout, retry"
#define KEYS_PP KEYS_WORKER ", require, limitrequestbody, authorizer"
#define UNSUPPORTED "(expected fcgi://HOST[:PORT]/PATH or unix:/PATH|fcgi://HOST/PATH)"

static void test_errors_keys(void **state)
{
	static const struct err_case cases[] = {
		{ PP "foo=1", 1, "unknown key 'foo' (ProxyPass accepts: " KEYS_PP ")" },
		{ PP "lbfactor=2", 1, "unknown key 'lbfactor' (ProxyPass accepts: " KEYS_PP ")" },
		{ PP "status=+H", 1, "unknown key 'status' (ProxyPass accepts: " KEYS_PP ")" },
		{ BM "foo=1", 1, "unknown key 'foo' (BalancerMember accepts: " KEYS_WORKER
		  ", lbfactor, status)" },
		{ BM "require=all", 1, "unknown key 'require' (BalancerMember accepts: " KEYS_WORKER
		  ", lbfactor, status)" },
		{ PP "novalue", 1, "expected key=value, got 'novalue'" },
		{ PP "=1", 1, "expected key=value, got '=1'" },
		{ PP "max=0", 1, "bad value '0' for max (expected 1..65535)" },
		{ PP "max=65536", 1, "bad value '65536' for max (expected 1..65535)" },
		{ PP "max=x", 1, "bad value 'x' for max (expected 1..65535)" },
		{ PP "max=", 1, "bad value '' for max (expected 1..65535)" },
		{ PP "max=99999999999999999999", 1,
		  "bad value '99999999999999999999' for max (expected 1..65535)" },
		{ PP "ttl=86401", 1, "bad value '86401' for ttl (expected seconds, 0..86400)" },
		{ PP "timeout=-1", 1, "bad value '-1' for timeout (expected seconds, 0..86400)" },
		{ PP "connectiontimeout=1s", 1,
		  "bad value '1s' for connectiontimeout (expected seconds, 0..86400)" },
		{ PP "retry=+1", 1, "bad value '+1' for retry (expected seconds, 0..86400)" },
		{ PP "disablereuse=yes", 1, "bad value 'yes' for disablereuse (expected on or off)" },
		{ PP "enablereuse=1", 1, "bad value '1' for enablereuse (expected on or off)" },
		{ BM "lbfactor=0", 1, "bad value '0' for lbfactor (expected 1..100)" },
		{ BM "lbfactor=101", 1, "bad value '101' for lbfactor (expected 1..100)" },
		{ BM "status=+X", 1, "bad value '+X' for status (expected +H, -H, +D or -D)" },
		{ BM "status=+", 1, "bad value '+' for status (expected +H, -H, +D or -D)" },
		{ BM "status=", 1, "bad value '' for status (expected +H, -H, +D or -D)" },
		{ BM "status=+H+", 1, "bad value '+H+' for status (expected +H, -H, +D or -D)" },
		{ PP "max=1 max=2 max=3 max=4 max=5 max=6 max=7 max=8 max=9 max=10 max=11 "
		  "max=12 max=13 max=14", 1, "too many arguments (at most 15)" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_errors_urls(void **state)
{
	static const struct err_case cases[] = {
		{ "ProxyPass /a http://127.0.0.1/", 1,
		  "unsupported backend 'http://127.0.0.1/' " UNSUPPORTED },
		{ "ProxyPass /a fcgi:/h/", 1, "unsupported backend 'fcgi:/h/' " UNSUPPORTED },
		{ "ProxyPass /a fcgi://127.0.0.1:0/", 1, "bad port '0' (expected 1..65535)" },
		{ "ProxyPass /a fcgi://127.0.0.1:65536/", 1, "bad port '65536' (expected 1..65535)" },
		{ "ProxyPass /a fcgi://127.0.0.1:/", 1, "bad port '' (expected 1..65535)" },
		{ "ProxyPass /a fcgi://127.0.0.1:8x/", 1, "bad port '8x' (expected 1..65535)" },
		{ "ProxyPass /a fcgi:///", 1, "missing host in 'fcgi:///'" },
		{ "ProxyPass /a fcgi://", 1, "missing host in 'fcgi://'" },
		{ "ProxyPass /a fcgi://::1/", 1, "missing host in 'fcgi://::1/'" },
		{ "ProxyPass /a fcgi://[::1/", 1, "missing ']' in 'fcgi://[::1/'" },
		{ "ProxyPass /a fcgi://[::1]x/", 1, "bad host in 'fcgi://[::1]x/'" },
		{ "ProxyPass /a fcgi://h/x?y", 1, "backend 'fcgi://h/x?y' takes no query or fragment" },
		{ "ProxyPass /a fcgi://h/x#y", 1, "backend 'fcgi://h/x#y' takes no query or fragment" },
		{ "ProxyPass /a fcgi://user@h/", 1, "bad host name 'user@h'" },
		{ "ProxyPass /a fcgi://a..b/", 1, "bad host name 'a..b'" },
		{ "ProxyPass /a fcgi://app-:9/", 1, "bad host name 'app-'" },
		{ "ProxyPass /a fcgi://1.2.3.256/", 1, "bad IPv4 address '1.2.3.256'" },
		{ "ProxyPass /a fcgi://127.1:9/", 1, "bad IPv4 address '127.1'" },
		{ "ProxyPass /a fcgi://[::g]/", 1, "bad IPv6 address '[::g]'" },
		{ "ProxyPass /a fcgi://[1.2.3.4]:9/", 1, "bad IPv6 address '[1.2.3.4]'" },
		{ "ProxyPass /a fcgi://[]/", 1, "bad IPv6 address '[]'" },
		{ "ProxyPass /a fcgi://0123456789012345678901234567890123456789/", 1,
		  "bad IPv4 address '01234567890123456789012345678...'" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_errors_directives(void **state)
{
	static const struct err_case cases[] = {
		{ "Foo /a", 1, "unknown directive 'Foo'" },
		{ "ProxyPassMatch ^/a fcgi://h/", 1, "unknown directive 'ProxyPassMatch'" },
		{ "ProxyPass", 1, "ProxyPass needs PREFIX and URL" },
		{ "ProxyPass /a", 1, "ProxyPass needs PREFIX and URL" },
		{ "ProxyPass a fcgi://h/", 1, "prefix 'a' must start with '/'" },
		{ "ProxyPass \"\" fcgi://h/", 1, "prefix '' must start with '/'" },
		{ "ProxyPass /a ! x=1", 1, "too many arguments (ProxyPass PREFIX ! takes no keys)" },
		{ "ProxyPass /a balancer://b/ max=1", 1, "key 'max' goes on BalancerMember "
		  "(ProxyPass to a balancer accepts: require, limitrequestbody, authorizer)" },
		{ "ProxyPass /a balancer://", 1, "missing balancer name in 'balancer://'" },
		{ "ProxyPass /a balancer:///", 1, "missing balancer name in 'balancer:///'" },
		{ "ProxyPass /a balancer://b/c", 1, "balancer URL 'balancer://b/c' takes no path" },
		{ "BalancerMember fcgi://h/", 1,
		  "BalancerMember outside <Proxy> needs balancer://NAME first" },
		{ "BalancerMember", 1, "BalancerMember outside <Proxy> needs balancer://NAME first" },
		{ "BalancerMember balancer://b", 1, "BalancerMember needs an fcgi:// URL" },
		{ "<Proxy balancer://b>\nBalancerMember", 2, "BalancerMember needs an fcgi:// URL" },
		{ "<Proxy balancer://b>\nBalancerMember balancer://b fcgi://h/", 2,
		  "unsupported backend 'balancer://b' " UNSUPPORTED },
		{ "ProxySet lbmethod=bybusyness", 1,
		  "ProxySet outside <Proxy> needs balancer://NAME first" },
		{ "ProxySet balancer://b", 1, "ProxySet needs key=value" },
		{ "ProxySet balancer://b foo=1", 1, "unknown key 'foo' (ProxySet accepts: lbmethod)" },
		{ "ProxySet balancer://b lbmethod=bytraffic", 1,
		  "bad value 'bytraffic' for lbmethod (expected byrequests or bybusyness)" },
		{ "ProxySet balancer://b lbmethod", 1, "expected key=value, got 'lbmethod'" },
		{ "<Proxy balancer://b>\nProxySet balancer://b lbmethod=bybusyness", 2,
		  "expected key=value, got 'balancer://b'" },
		{ "Redirect", 1, "Redirect needs a PREFIX" },
		{ "Redirect 301", 1, "Redirect needs a PREFIX" },
		{ "Redirect /a", 1, "Redirect 302 needs a URL" },
		{ "Redirect permanent /a", 1, "Redirect 301 needs a URL" },
		{ "Redirect 200 /a /b", 1, "bad Redirect status '200' (expected 300..399, 410, "
		  "permanent, temp, seeother or gone)" },
		{ "Redirect 400 /a", 1, "bad Redirect status '400' (expected 300..399, 410, "
		  "permanent, temp, seeother or gone)" },
		{ "Redirect forever /a /b", 1, "bad Redirect status 'forever' (expected 300..399, "
		  "410, permanent, temp, seeother or gone)" },
		{ "Redirect 301 a /b", 1, "prefix 'a' must start with '/'" },
		{ "Redirect 410 /a /b", 1, "too many arguments (Redirect 410 takes no URL)" },
		{ "Redirect gone /a /b", 1, "too many arguments (Redirect 410 takes no URL)" },
		{ "Redirect /a /b /c", 1, "too many arguments to Redirect" },
		{ "Redirect /a b", 1, "Redirect URL 'b' must be absolute (scheme://...) or start "
		  "with '/'" },
		{ "Redirect /a http:/b", 1, "Redirect URL 'http:/b' must be absolute (scheme://...) "
		  "or start with '/'" },
		{ "Redirect /a http://", 1, "Redirect URL 'http://' must be absolute (scheme://...) "
		  "or start with '/'" },
		{ "Redirect /a 1http://h/", 1, "Redirect URL '1http://h/' must be absolute "
		  "(scheme://...) or start with '/'" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_errors_blocks(void **state)
{
	static const struct err_case cases[] = {
		{ "# c\n<Proxy balancer://a>\n<Proxy balancer://b>", 3,
		  "nested <Proxy> (the one on line 2 is not closed)" },
		{ "</Proxy>", 1, "</Proxy> without <Proxy>" },
		{ "<Proxy balancer://a>\nBalancerMember fcgi://h/\n</Proxy>\n</Proxy>", 4,
		  "</Proxy> without <Proxy>" },
		{ "<Proxy balancer://a>\n</Proxy x>", 2, "</Proxy> takes no arguments" },
		{ "<Proxy balancer://a", 1, "missing '>' at the end of the section line" },
		{ "<Proxy>", 1, "<Proxy> needs balancer://NAME" },
		{ "<Proxy http://h/>", 1, "<Proxy> supports only balancer://NAME, got 'http://h/'" },
		{ "<Proxy balancer://a balancer://b>", 1, "too many arguments to <Proxy>" },
		{ "<Proxy balancer://>", 1, "missing balancer name in 'balancer://'" },
		{ "<Proxy balancer://a/b>", 1, "balancer URL 'balancer://a/b' takes no path" },
		{ "<VirtualHost *:80>", 1, "unknown directive '<VirtualHost'" },
		{ "<Proxy balancer://a>\nProxyPass /x fcgi://h/", 2,
		  "ProxyPass is not allowed inside <Proxy> (opened on line 1)" },
		{ "<Proxy balancer://a>\n\nRedirect /x /y", 3,
		  "Redirect is not allowed inside <Proxy> (opened on line 1)" },
		/* route_end(): what only the whole file tells */
		{ "\n<Proxy balancer://a>\nBalancerMember fcgi://h/", 2,
		  "<Proxy balancer://a> is not closed" },
		{ "ProxyPass /a fcgi://h/\nProxyPass /b balancer://zz/\n", 2,
		  "balancer 'zz' has no BalancerMember" },
		{ "# x\n\nProxySet balancer://q lbmethod=bybusyness", 3,
		  "balancer 'q' has no BalancerMember" },
		{ "<Proxy balancer://e>\n</Proxy>", 1, "balancer 'e' has no BalancerMember" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_errors_tokens(void **state)
{
	static const struct err_case cases[] = {
		{ "ProxyPass \"/a fcgi://h/", 1, "missing closing '\"'" },
		{ "ProxyPass \"/a\"fcgi://h/", 1, "missing space after closing '\"'" },
		{ "ProxyPass /a\x01 fcgi://h/", 1, "control character (byte 1) at column 13" },
		{ "  ProxyPass /a\x7f fcgi://h/", 1, "control character (byte 127) at column 15" },
		{ "ProxyPass /a fcgi://h/\r\r", 1, "control character (byte 13) at column 23" },
		{ "\n\n\nBogus", 4, "unknown directive 'Bogus'" },
		{ "\"\"", 1, "unknown directive ''" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

/* A route line that fails changes nothing in the table. */
static void test_failed_line_is_undone(void **state)
{
	static const char *const bad[] = {
		"ProxyPass /new fcgi://127.0.0.1:2/ bogus=1",
		"ProxyPass /new balancer://newbal max=1",
		"BalancerMember balancer://newbal fcgi://127.0.0.1:0/",
		"BalancerMember balancer://newbal fcgi://127.0.0.1:3/ lbfactor=0",
		"ProxySet balancer://newbal lbmethod=bybusyness foo=1",
		"ProxySet balancer://b lbmethod=bybusyness foo=1",
		"Redirect 301 /newprefix relative",
		"<Proxy balancer://newbal extra>",
		"ProxyPass /new fcgi://127.0.0.1:2/ require=10.0.0.0/8 bogus=1",
		"ProxyPass /new fcgi://127.0.0.1:2/ require=10.0.0.0/8,::1 require=all max=0",
		"ProxyPass /new balancer://newbal require=10.0.0.0/8 max=1",
		"ProxyPass /new unix:/run/a.sock|fcgi://h/ require=::1 max=0",
		"StatusPage /new require=10.0.0.0/8,x",
		"StatusPage /new limitrequestbody=9 require=10.0.0.0/8 foo=1",
		"Require ip 10.0.0.0/8 x",
		"Require all granted",
		"LimitRequestBody x",
	};
	static struct route_table before;
	struct route_error err;

	(void)state;
	parse_ok("ProxyPass /a fcgi://127.0.0.1:1/ require=127.0.0.1\n"
		 "BalancerMember balancer://b fcgi://127.0.0.1:2/\n"
		 "Require ip 192.168.0.0/16\n"
		 "LimitRequestBody 100\n");
	before = table;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(route_parse_line(&parser, bad[i], strlen(bad[i]), &err), -1);
		assert_memory_equal(&table, &before, sizeof table);
	}
}

/* ---- members of one balancer stay together ------------------------------ */

static void test_member_contiguity(void **state)
{
	const struct route_balancer *a, *b;
	const uint16_t want_a[] = { 1, 3, 4 }, want_b[] = { 2, 5 };

	(void)state;
	parse_ok("<Proxy balancer://a>\n"
		 "BalancerMember fcgi://127.0.0.1:1/\n"
		 "</Proxy>\n"
		 "ProxyPass /x fcgi://127.0.0.1:9/\n"
		 "<Proxy balancer://b>\n"
		 "BalancerMember fcgi://127.0.0.1:2/\n"
		 "</Proxy>\n"
		 "BalancerMember balancer://a fcgi://127.0.0.1:3/\n"
		 "ProxyPass /y fcgi://127.0.0.1:10/\n"
		 "<Proxy balancer://A/>\n"
		 "BalancerMember fcgi://127.0.0.1:4/\n"
		 "</Proxy>\n"
		 "BalancerMember balancer://b/ fcgi://127.0.0.1:5/\n"
		 "ProxyPass /z fcgi://127.0.0.1:11/\n"
		 "ProxyPass /pa balancer://a\n"
		 "ProxyPass /pb balancer://b\n");
	check_invariants(&table);
	assert_int_equal(table.member_count, 8);
	assert_int_equal(table.balancer_count, 2);
	a = &table.balancers[0];
	b = &table.balancers[1];
	assert_int_equal(a->member_count, 3);
	assert_int_equal(b->member_count, 2);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(table.members[a->first_member + i].addr.port, want_a[i]);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(table.members[b->first_member + i].addr.port, want_b[i]);
	assert_int_equal(route_member(0)->addr.port, 9);
	assert_int_equal(route_member(1)->addr.port, 10);
	assert_int_equal(route_member(2)->addr.port, 11);
	assert_int_equal(table.routes[3].target, 0);
	assert_int_equal(table.routes[4].target, 1);
}

/* ---- capacity -------------------------------------------------------------- */

/* Parse fmt with 1, 2, 3 ... until it fails; that must be with want. */
static void fill_until_error(const char *fmt, const char *want)
{
	struct route_error err = { 0, "" };
	char line[1024];
	unsigned i;

	route_begin(&parser, &table);
	for (i = 1; i < 65536; i++) {
		snprintf(line, sizeof line, fmt, i);
		if (route_parse_line(&parser, line, strlen(line), &err))
			break;
	}
	assert_string_equal(err.msg, want);
	assert_int_equal(err.line, i);
}

static void test_table_full(void **state)
{
	char want[96], fmt[600];

	(void)state;
	snprintf(want, sizeof want, "too many routes (CONFIG_MAX_ROUTES=%d)", CONFIG_MAX_ROUTES);
	fill_until_error("Redirect gone /%u", want);
	assert_int_equal(table.route_count, CONFIG_MAX_ROUTES);

	snprintf(want, sizeof want, "too many members (CONFIG_MAX_MEMBERS=%d)", CONFIG_MAX_MEMBERS);
	fill_until_error("BalancerMember balancer://b fcgi://127.0.0.1:%u/", want);
	assert_int_equal(table.member_count, CONFIG_MAX_MEMBERS);
	check_invariants(&table);

	snprintf(want, sizeof want, "too many balancers (CONFIG_MAX_BALANCERS=%d)",
		 CONFIG_MAX_BALANCERS);
	fill_until_error("ProxySet balancer://b%u lbmethod=bybusyness", want);
	assert_int_equal(table.balancer_count, CONFIG_MAX_BALANCERS);

	snprintf(want, sizeof want, "route strings full (CONFIG_ROUTE_STRINGS=%d)",
		 CONFIG_ROUTE_STRINGS);
	/* long unique prefixes, so the pool fills before the routes do */
	memset(fmt, 'a', sizeof fmt);
	memcpy(fmt, "Redirect gone /%u/", strlen("Redirect gone /%u/"));
	fmt[20 + 2 * CONFIG_ROUTE_STRINGS / CONFIG_MAX_ROUTES] = '\0';
	fill_until_error(fmt, want);
	assert_true(table.route_count < CONFIG_MAX_ROUTES);
}

static void test_strings_shared(void **state)
{
	(void)state;
	parse_ok("ProxyPass /app/ fcgi://127.0.0.1:1/app/\n"
		 "ProxyPass /app/ fcgi://127.0.0.1:1/app/\n"
		 "Redirect /ap /app/\n");
	/* "/app/" and "127.0.0.1" once each; "/ap" and "/" are inside "/app/" */
	assert_int_equal(table.strings_len, 14);
	assert_str(table.routes[2].prefix, "/ap");
	assert_str(table.members[1].docroot, "/app/");
}

/* ---- access: Require and require= ---------------------------------------- */

static void assert_cidr(unsigned i, uint8_t family, unsigned bits, const uint8_t *ip)
{
	const struct route_cidr *c = &table.cidrs[i];

	assert_true(i < table.cidr_count);
	assert_int_equal(c->family, family);
	assert_int_equal(c->bits, bits);
	assert_memory_equal(c->ip, ip, sizeof c->ip);
}

static void assert_acl(const struct route_acl *a, unsigned mode, unsigned first, unsigned count)
{
	assert_int_equal(a->mode, mode);
	assert_int_equal(a->first, first);
	assert_int_equal(a->count, count);
}

static void test_require_directive(void **state)
{
	static const uint8_t net10[16] = { 10 }, host[16] = { 192, 168, 1, 5 },
		ula[16] = { 0xfd }, lo6[16] = { [15] = 1 }, net10_1[16] = { 10, 1 },
		mapped[16] = { 172, 16 };

	(void)state;
	parse_ok("Require ip 10.1.2.3/8 192.168.1.5\n"
		 "Require ip fd00::/8 ::1\n"
		 "REQUIRE IP 10.1 ::ffff:172.16.0.0/108\n");
	assert_acl(&table.global_acl, ROUTE_ACL_IP, 0, 6);
	assert_int_equal(table.cidr_count, 6);
	assert_cidr(0, PORT_AF_INET, 8, net10);
	assert_cidr(1, PORT_AF_INET, 32, host);
	assert_cidr(2, PORT_AF_INET6, 8, ula);
	assert_cidr(3, PORT_AF_INET6, 128, lo6);
	assert_cidr(4, PORT_AF_INET, 16, net10_1);
	/* an IPv4-mapped block is kept as the IPv4 block it stands for */
	assert_cidr(5, PORT_AF_INET, 12, mapped);
	check_acls(&table);

	parse_ok("Require all denied\nrequire ALL Denied\n");
	assert_acl(&table.global_acl, ROUTE_ACL_DENIED, 0, 0);
	parse_ok("Require all granted");
	assert_acl(&table.global_acl, ROUTE_ACL_GRANTED, 0, 0);
	parse_ok("ProxyPass /a fcgi://127.0.0.1:1/");
	assert_acl(&table.global_acl, ROUTE_ACL_NONE, 0, 0);
	assert_acl(&table.routes[0].acl, ROUTE_ACL_NONE, 0, 0);
	assert_int_equal(table.cidr_count, 0);
}

static void test_require_key(void **state)
{
	static const uint8_t net10[16] = { 10 }, lo6[16] = { [15] = 1 },
		net192[16] = { 192, 168 };

	(void)state;
	parse_ok("ProxyPass /a/ fcgi://127.0.0.1:1/ require=10.0.0.0/8,::1 max=2\n"
		 "ProxyPass /b/ balancer://c require=all\n"
		 "StatusPage /status require=NONE\n"
		 "ProxyPass /d/ fcgi://127.0.0.1:2/ Require=10.0.0.0/8 require=192.168.0.0/16\n"
		 "ProxyPass /e/ fcgi://127.0.0.1:3/ require=10.0.0.0/8,::1 require=All\n"
		 "ProxyPass /f/ balancer://c require=::1\n"
		 "BalancerMember balancer://c fcgi://127.0.0.1:4/\n");
	assert_int_equal(route_member(0)->params.max, 2);
	assert_acl(&table.routes[0].acl, ROUTE_ACL_IP, 0, 2);
	assert_cidr(0, PORT_AF_INET, 8, net10);
	assert_cidr(1, PORT_AF_INET6, 128, lo6);
	assert_acl(&table.routes[1].acl, ROUTE_ACL_GRANTED, 0, 0);
	assert_int_equal(table.routes[2].kind, ROUTE_STATUS);
	assert_acl(&table.routes[2].acl, ROUTE_ACL_DENIED, 0, 0);
	/* a repeated require= replaces the earlier one, blocks and all */
	assert_acl(&table.routes[3].acl, ROUTE_ACL_IP, 2, 1);
	assert_cidr(2, PORT_AF_INET, 16, net192);
	assert_acl(&table.routes[4].acl, ROUTE_ACL_GRANTED, 0, 0);
	assert_acl(&table.routes[5].acl, ROUTE_ACL_IP, 3, 1);
	assert_int_equal(table.cidr_count, 4);
	assert_acl(&table.global_acl, ROUTE_ACL_NONE, 0, 0);
	check_acls(&table);
	check_invariants(&table);
}

/* Require ip lines around route keys: the global blocks stay one run. */
static void test_global_blocks_contiguous(void **state)
{
	static const unsigned global[] = { 10, 11, 12, 13 };

	(void)state;
	parse_ok("Require ip 10.0.0.0/8\n"
		 "ProxyPass /a fcgi://127.0.0.1:1/ require=1.0.0.0/8,2.0.0.0/8\n"
		 "Require ip 11.0.0.0/8\n"
		 "StatusPage /s require=3.0.0.0/8\n"
		 "Require ip 12.0.0.0/8 13.0.0.0/8\n");
	check_acls(&table);
	assert_acl(&table.global_acl, ROUTE_ACL_IP, 0, 4);
	for (unsigned i = 0; i < ARRAY_LEN(global); i++)
		assert_int_equal(table.cidrs[i].ip[0], global[i]);
	assert_acl(&table.routes[0].acl, ROUTE_ACL_IP, 4, 2);
	assert_int_equal(table.cidrs[4].ip[0], 1);
	assert_int_equal(table.cidrs[5].ip[0], 2);
	assert_acl(&table.routes[1].acl, ROUTE_ACL_IP, 6, 1);
	assert_int_equal(table.cidrs[6].ip[0], 3);
}

static struct port_addr peer_of(const char *text)
{
	struct port_addr a;

	memset(&a, 0, sizeof a);
	if (strchr(text, ':')) {
		assert_int_equal(addr_parse_ipv6(text, strlen(text), a.ip), 0);
		a.family = PORT_AF_INET6;
	} else {
		assert_int_equal(addr_parse_ipv4(text, strlen(text), a.ip), 0);
		a.family = PORT_AF_INET;
	}
	return a;
}

struct allow_case {
	int route;              /* -1: no route */
	const char *peer;
	int allowed;
};

static void check_allows(const struct allow_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct route *r = cases[i].route < 0 ? NULL : &table.routes[cases[i].route];
		struct port_addr peer = peer_of(cases[i].peer);

		if (route_acl_allows(&table, r, &peer) != cases[i].allowed) {
			print_error("route %d, peer %s: want %d\n", cases[i].route, cases[i].peer,
				    cases[i].allowed);
			fail();
		}
	}
}

static void test_acl_allows(void **state)
{
	static const struct allow_case cases[] = {
		/* no rule of its own: the global Require ip lines */
		{ 4, "10.1.2.3", 1 }, { 4, "11.0.0.1", 0 }, { -1, "10.255.255.255", 1 },
		{ 4, "192.168.1.5", 1 }, { 4, "192.168.1.6", 0 }, { -1, "9.255.255.255", 0 },
		{ 4, "2001:db8::1", 1 }, { 4, "2001:db9::1", 0 },
		{ 4, "::ffff:10.9.9.9", 1 }, { 4, "::ffff:11.0.0.1", 0 },
		/* require=all / none replace the global rule */
		{ 0, "11.0.0.1", 1 }, { 0, "::2", 1 }, { 1, "10.0.0.1", 0 }, { 1, "::1", 0 },
		/* /32 and /128 */
		{ 2, "127.0.0.1", 1 }, { 2, "127.0.0.2", 0 }, { 2, "10.0.0.1", 0 },
		{ 2, "::1", 1 }, { 2, "::2", 0 }, { 2, "::ffff:127.0.0.1", 1 },
		{ 2, "::ffff:127.0.0.2", 0 }, { 2, "::127.0.0.1", 0 },
		/* IPv4 /0: every IPv4 client, mapped or not, and no IPv6 one */
		{ 3, "1.2.3.4", 1 }, { 3, "255.255.255.255", 1 }, { 3, "0.0.0.0", 1 },
		{ 3, "::ffff:1.2.3.4", 1 }, { 3, "::1", 0 },
	};
	static const struct allow_case cases2[] = {
		/* IPv6 /0: no IPv4 client, as in Apache, even IPv4-mapped */
		{ 0, "::1", 1 }, { 0, "2001:db8::1", 1 }, { 0, "1.2.3.4", 0 },
		{ 0, "::ffff:1.2.3.4", 0 },
		/* prefixes that end inside a byte, written with host bits */
		{ 1, "172.16.0.0", 1 }, { 1, "172.31.255.255", 1 }, { 1, "172.32.0.0", 0 },
		{ 1, "172.15.255.255", 0 }, { 1, "fe80::1", 1 }, { 1, "febf:ffff::", 1 },
		{ 1, "fec0::", 0 }, { 1, "fe7f:ffff::", 0 },
		/* an IPv4-mapped block matches IPv4 and IPv4-mapped clients */
		{ 2, "100.64.0.1", 1 }, { 2, "100.127.255.255", 1 }, { 2, "100.128.0.0", 0 },
		{ 2, "::ffff:100.100.0.1", 1 }, { 2, "::ffff:100.128.0.1", 0 },
		/* a partial address is a network */
		{ 3, "10.1.200.3", 1 }, { 3, "10.2.0.0", 0 },
		/* no Require line: everyone */
		{ 4, "10.2.0.0", 1 }, { -1, "::1", 1 },
	};
	struct port_addr none;

	(void)state;
	parse_ok("Require ip 10.0.0.0/8 192.168.1.5\n"
		 "Require ip 2001:db8::/32\n"
		 "ProxyPass /open/ fcgi://127.0.0.1:1/ require=all\n"
		 "ProxyPass /closed/ fcgi://127.0.0.1:1/ require=none\n"
		 "ProxyPass /lo/ fcgi://127.0.0.1:1/ require=127.0.0.1,::1\n"
		 "ProxyPass /any/ fcgi://127.0.0.1:1/ require=0.0.0.0/0\n"
		 "ProxyPass /g/ fcgi://127.0.0.1:1/\n");
	check_acls(&table);
	check_allows(cases, ARRAY_LEN(cases));
	/* a peer of no known family, or none, matches no block */
	memset(&none, 0, sizeof none);
	assert_int_equal(route_acl_allows(&table, &table.routes[3], &none), 0);
	assert_int_equal(route_acl_allows(&table, &table.routes[3], NULL), 0);
	assert_int_equal(route_acl_allows(&table, &table.routes[0], NULL), 1);

	parse_ok("ProxyPass /any6/ fcgi://127.0.0.1:1/ require=::/0\n"
		 "ProxyPass /mask/ fcgi://127.0.0.1:1/ require=172.16.99.99/12,fe80::1234/10\n"
		 "ProxyPass /mapped/ fcgi://127.0.0.1:1/ require=::ffff:100.64.0.0/106\n"
		 "ProxyPass /partial/ fcgi://127.0.0.1:1/ require=10.1\n"
		 "ProxyPass /g/ fcgi://127.0.0.1:1/\n");
	check_acls(&table);
	check_allows(cases2, ARRAY_LEN(cases2));
}

static void test_acl_global_modes(void **state)
{
	struct port_addr lo = peer_of("127.0.0.1");

	(void)state;
	parse_ok("ProxyPass /a fcgi://127.0.0.1:1/");
	assert_int_equal(route_acl_allows(&table, &table.routes[0], &lo), 1);
	assert_int_equal(route_acl_allows(&table, NULL, &lo), 1);

	parse_ok("Require all denied\n"
		 "ProxyPass /a fcgi://127.0.0.1:1/\n"
		 "ProxyPass /b fcgi://127.0.0.1:1/ require=all\n"
		 "StatusPage /s require=127.0.0.0/8\n");
	assert_int_equal(route_acl_allows(&table, &table.routes[0], &lo), 0);
	assert_int_equal(route_acl_allows(&table, NULL, &lo), 0);
	assert_int_equal(route_acl_allows(&table, &table.routes[1], &lo), 1);
	assert_int_equal(route_acl_allows(&table, &table.routes[2], &lo), 1);

	parse_ok("Require all granted\nProxyPass /a fcgi://127.0.0.1:1/ require=none\n");
	assert_int_equal(route_acl_allows(&table, NULL, &lo), 1);
	assert_int_equal(route_acl_allows(&table, &table.routes[0], &lo), 0);
}

/* ---- LimitRequestBody ------------------------------------------------------- */

static void test_limit_body(void **state)
{
	(void)state;
	parse_ok("LimitRequestBody 0");
	assert_int_equal(table.global_limit_body, 0);
	parse_ok("LimitRequestBody 2147483647");
	assert_int_equal(table.global_limit_body, 2147483647u);
	parse_ok("limitrequestbody 1000\nLimitRequestBody 2000\n");
	assert_int_equal(table.global_limit_body, 2000);
	assert_int_equal(route_body_limit(&table, NULL), 2000);

	parse_ok("LimitRequestBody 4096\n"
		 "ProxyPass /a fcgi://127.0.0.1:1/ limitrequestbody=1\n"
		 "ProxyPass /b balancer://c LimitRequestBody=2147483647 limitrequestbody=7\n"
		 "StatusPage /s limitrequestbody=5\n"
		 "ProxyPass /d fcgi://127.0.0.1:1/\n"
		 "BalancerMember balancer://c fcgi://127.0.0.1:2/\n");
	assert_int_equal(table.routes[0].limit_body, 1);
	assert_int_equal(route_body_limit(&table, &table.routes[0]), 1);
	assert_int_equal(route_body_limit(&table, &table.routes[1]), 7);
	assert_int_equal(route_body_limit(&table, &table.routes[2]), 5);
	assert_int_equal(table.routes[3].limit_body, 0);
	assert_int_equal(route_body_limit(&table, &table.routes[3]), 4096);

	parse_ok("ProxyPass /a fcgi://127.0.0.1:1/");
	assert_int_equal(route_body_limit(&table, &table.routes[0]), 0);
}

/* ---- unix: sockets and StatusPage ------------------------------------------ */

static void test_unix(void **state)
{
	static const struct {
		const char *url, *path, *docroot;
	} cases[] = {
		{ "unix:/run/php/php-fpm.sock|fcgi://localhost/", "/run/php/php-fpm.sock", "/" },
		{ "unix:/run/a.sock|fcgi://localhost", "/run/a.sock", "/" },
		{ "UNIX:/a|FCGI://any-name.example:9000/var/www/", "/a", "/var/www/" },
		{ "unix:/a|fcgi://[::1]/x/index.php", "/a", "/x/index.php" },
		/* the host names nothing and is not checked, as in Apache */
		{ "unix:/a|fcgi://a..b_c/", "/a", "/" },
		{ "unix:/|fcgi://h/", "/", "/" },
	};
	char line[256];
	const struct route_member *m;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(line, sizeof line, "ProxyPass /p/ %s", cases[i].url);
		parse_ok(line);
		m = route_member(0);
		assert_int_equal(m->addr.family, 0);
		assert_int_equal(m->addr.port, 0);
		assert_int_equal(m->host.len, 0);
		assert_str(m->unix_path, cases[i].path);
		assert_str(m->docroot, cases[i].docroot);
	}
	parse_ok("ProxyPass /p/ \"unix:/run/my app.sock|fcgi://localhost/srv/\" max=3 "
		 "require=127.0.0.1\n"
		 "<Proxy balancer://c>\n"
		 "BalancerMember unix:/run/b.sock|fcgi://localhost/ lbfactor=3\n"
		 "BalancerMember fcgi://127.0.0.1:9000/\n"
		 "</Proxy>\n"
		 "ProxyPass /tcp/ fcgi://127.0.0.1:9001/\n");
	m = route_member(0);
	assert_str(m->unix_path, "/run/my app.sock");
	assert_int_equal(m->params.max, 3);
	assert_acl(&table.routes[0].acl, ROUTE_ACL_IP, 0, 1);
	m = &table.members[table.balancers[0].first_member];
	assert_str(m->unix_path, "/run/b.sock");
	assert_int_equal(m->params.lbfactor, 3);
	assert_int_equal(m[1].unix_path.len, 0);
	assert_int_equal(route_member(1)->unix_path.len, 0);
	check_invariants(&table);
}

/* sun_path holds 108 bytes with the NUL: 107 of path at most. */
static void test_unix_path_length(void **state)
{
	struct route_error err = { 0, "" };
	char line[400], path[ROUTE_UNIX_PATH_MAX + 2];

	(void)state;
	memset(path, 'x', sizeof path);
	path[0] = '/';
	path[ROUTE_UNIX_PATH_MAX] = '\0';
	snprintf(line, sizeof line, "ProxyPass /p unix:%s|fcgi://localhost/", path);
	parse_ok(line);
	assert_int_equal(route_member(0)->unix_path.len, ROUTE_UNIX_PATH_MAX);
	path[ROUTE_UNIX_PATH_MAX] = 'x';
	path[ROUTE_UNIX_PATH_MAX + 1] = '\0';
	snprintf(line, sizeof line, "ProxyPass /p unix:%s|fcgi://localhost/", path);
	assert_int_equal(parse_text(line, &err), -1);
	assert_string_equal(err.msg, "socket path is too long (at most 107 bytes)");
}

static void test_status_page(void **state)
{
	int slash;

	(void)state;
	parse_ok("StatusPage /server-status\n"
		 "statuspage /s/ require=127.0.0.1\n"
		 "ProxyPass / fcgi://127.0.0.1:1/\n");
	assert_int_equal(table.route_count, 3);
	assert_int_equal(table.routes[0].kind, ROUTE_STATUS);
	assert_str(table.routes[0].prefix, "/server-status");
	assert_int_equal(table.routes[0].target, 0);
	assert_int_equal(table.routes[1].kind, ROUTE_STATUS);
	assert_acl(&table.routes[1].acl, ROUTE_ACL_IP, 0, 1);
	assert_int_equal(table.member_count, 0 + 1);
	assert_int_equal(route_match(&table, "/server-status", 14, &slash), 0);
	assert_int_equal(route_match(&table, "/s", 2, &slash), 1);
	assert_int_equal(slash, 1);
}

#define PPB "ProxyPass /a balancer://b "
#define RKEYS "require, limitrequestbody, authorizer"
#define BAD_REQ(x) "bad address block '" x "' in require (expected all, none or ADDR[/BITS],...)"
#define LRB_RANGE "0..2147483647"

static void test_errors_access(void **state)
{
	static const struct err_case cases[] = {
		{ "Require", 1, "Require needs ip or all" },
		{ "Require all", 1, "Require all takes granted or denied" },
		{ "Require all maybe", 1, "Require all takes granted or denied" },
		{ "Require all granted denied", 1, "Require all takes granted or denied" },
		{ "Require ip", 1, "Require ip needs ADDR[/BITS]" },
		{ "Require host example.com", 1, "unsupported Require 'host' (expected ip or all)" },
		{ "Require not ip 10.0.0.1", 1, "unsupported Require 'not' (expected ip or all)" },
		{ "Require ip 10.0.0.0/33", 1,
		  "bad address block '10.0.0.0/33' (expected ADDR[/BITS])" },
		{ "Require ip 10.0.0.1 example.com", 1,
		  "bad address block 'example.com' (expected ADDR[/BITS])" },
		{ "Require ip 10.0.0.0/8\nRequire all granted", 2, "conflicting Require lines" },
		{ "Require all denied\n\nRequire ip 10.0.0.0/8", 3, "conflicting Require lines" },
		{ "Require all denied\nRequire all granted", 2, "conflicting Require lines" },
		{ "<Proxy balancer://b>\nRequire all denied", 2,
		  "Require is not allowed inside <Proxy> (opened on line 1)" },
		{ PP "require=", 1, BAD_REQ("") },
		{ PP "require=10.0.0.0/8,", 1, BAD_REQ("") },
		{ PP "require=,10.0.0.0/8", 1, BAD_REQ("") },
		{ PP "require=all,10.0.0.0/8", 1, BAD_REQ("all") },
		{ PP "require=10.0.0.0/8;192.168.0.0/16", 1, BAD_REQ("10.0.0.0/8;192.168.0.0/16") },
		{ PP "require=granted", 1, BAD_REQ("granted") },
		{ PP "require=::1/129", 1, BAD_REQ("::1/129") },
		{ "ProxyPass /a ! require=all", 1, "too many arguments (ProxyPass PREFIX ! takes no keys)" },
		{ "Redirect /a /b require=all", 1, "too many arguments to Redirect" },
		{ "Redirect gone /a require=all", 1, "too many arguments (Redirect 410 takes no URL)" },
		{ PPB "foo=1", 1, "unknown key 'foo' (ProxyPass to a balancer accepts: " RKEYS ")" },
		{ PPB "lbmethod=bybusyness", 1,
		  "key 'lbmethod' goes on ProxySet (ProxyPass to a balancer accepts: " RKEYS ")" },
		{ PPB "Status=+H", 1,
		  "key 'Status' goes on BalancerMember (ProxyPass to a balancer accepts: " RKEYS ")" },
		{ PPB "require", 1, "expected key=value, got 'require'" },
		{ PPB "require=x", 1, BAD_REQ("x") },
		{ "StatusPage", 1, "StatusPage needs a PREFIX" },
		{ "StatusPage status", 1, "prefix 'status' must start with '/'" },
		{ "StatusPage /s max=1", 1, "unknown key 'max' (StatusPage accepts: " RKEYS ")" },
		{ "StatusPage /s fcgi://h/", 1, "expected key=value, got 'fcgi://h/'" },
		{ "<Proxy balancer://b>\nStatusPage /s", 2,
		  "StatusPage is not allowed inside <Proxy> (opened on line 1)" },
		{ "LimitRequestBody", 1, "LimitRequestBody needs one value (bytes, " LRB_RANGE ")" },
		{ "LimitRequestBody 1 2", 1, "LimitRequestBody needs one value (bytes, " LRB_RANGE ")" },
		{ "LimitRequestBody 2147483648", 1,
		  "bad value '2147483648' for LimitRequestBody (expected " LRB_RANGE ")" },
		{ "LimitRequestBody -1", 1, "bad value '-1' for LimitRequestBody (expected " LRB_RANGE ")" },
		{ "LimitRequestBody 1k", 1, "bad value '1k' for LimitRequestBody (expected " LRB_RANGE ")" },
		{ "<Proxy balancer://b>\n# c\nLimitRequestBody 1", 3,
		  "LimitRequestBody is not allowed inside <Proxy> (opened on line 1)" },
		{ PP "limitrequestbody=0", 1,
		  "bad value '0' for limitrequestbody (expected 1..2147483647)" },
		{ PP "limitrequestbody=2147483648", 1,
		  "bad value '2147483648' for limitrequestbody (expected 1..2147483647)" },
		{ PP "limitrequestbody=", 1, "bad value '' for limitrequestbody (expected 1..2147483647)" },
		{ "StatusPage /s limitrequestbody=x", 1,
		  "bad value 'x' for limitrequestbody (expected 1..2147483647)" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_errors_unix(void **state)
{
	static const struct err_case cases[] = {
		{ "ProxyPass /a unix:/run/a.sock", 1,
		  "missing '|fcgi://HOST/' after the socket path in 'unix:/run/a.sock'" },
		{ "ProxyPass /a unix:run/a.sock|fcgi://localhost/", 1,
		  "socket path 'run/a.sock' must be absolute" },
		{ "ProxyPass /a unix:|fcgi://localhost/", 1, "socket path '' must be absolute" },
		{ "ProxyPass /a unix:/a|http://localhost/", 1,
		  "unsupported backend 'http://localhost/' " UNSUPPORTED },
		{ "ProxyPass /a unix:/a|unix:/b|fcgi://h/", 1,
		  "unsupported backend 'unix:/b|fcgi://h/' " UNSUPPORTED },
		{ "ProxyPass /a unix:/a|", 1, "unsupported backend '' " UNSUPPORTED },
		{ "ProxyPass /a unix:/a|fcgi:///", 1, "missing host in 'fcgi:///'" },
		{ "ProxyPass /a unix:/a|fcgi://h/x?y", 1, "backend 'fcgi://h/x?y' takes no query or fragment" },
		{ "ProxyPass /a unix:/a|fcgi://h:0/", 1, "bad port '0' (expected 1..65535)" },
		{ "ProxyPass /a unix:/a|fcgi://h/ lbfactor=2", 1,
		  "unknown key 'lbfactor' (ProxyPass accepts: " KEYS_PP ")" },
		{ "BalancerMember balancer://b unix:/a", 1,
		  "missing '|fcgi://HOST/' after the socket path in 'unix:/a'" },
	};

	(void)state;
	check_errors(cases, ARRAY_LEN(cases));
}

static void test_cidrs_full(void **state)
{
	struct route_error err = { 0, "" };
	char want[96], line[64];
	static struct route_table before;

	(void)state;
	snprintf(want, sizeof want, "too many address blocks (CONFIG_MAX_CIDRS=%d)",
		 CONFIG_MAX_CIDRS);
	fill_until_error("Require ip 10.%u.0.0/16", want);
	assert_int_equal(table.cidr_count, CONFIG_MAX_CIDRS);
	assert_acl(&table.global_acl, ROUTE_ACL_IP, 0, CONFIG_MAX_CIDRS);

	fill_until_error("StatusPage /%u require=10.0.0.0/8", want);
	assert_int_equal(table.cidr_count, CONFIG_MAX_CIDRS);
	assert_int_equal(table.route_count, CONFIG_MAX_CIDRS);
	check_acls(&table);

	/* a Require ip line that does not fit adds none of its blocks */
	route_begin(&parser, &table);
	for (unsigned i = 1; i < CONFIG_MAX_CIDRS; i++) {
		snprintf(line, sizeof line, "Require ip 10.%u.0.0/16", i);
		assert_int_equal(route_parse_line(&parser, line, strlen(line), &err), 0);
	}
	before = table;
	snprintf(line, sizeof line, "Require ip 11.0.0.0/8 12.0.0.0/8");
	assert_int_equal(route_parse_line(&parser, line, strlen(line), &err), -1);
	assert_string_equal(err.msg, want);
	assert_memory_equal(&table, &before, sizeof table);
	snprintf(line, sizeof line, "ProxyPass /x fcgi://127.0.0.1:1/ require=1.0.0.0/8,2.0.0.0/8");
	assert_int_equal(route_parse_line(&parser, line, strlen(line), &err), -1);
	assert_string_equal(err.msg, want);
	assert_memory_equal(&table, &before, sizeof table);
}

/* ---- matching ---------------------------------------------------------------- */

static void test_match(void **state)
{
	static const struct {
		const char *path;
		int route, slash;
	} cases[] = {
		{ "/app/static/x.css", 0, 0 },
		{ "/app/static/", 0, 0 },
		{ "/app/static", 0, 1 },
		{ "/app/x", 1, 0 },
		{ "/app/", 1, 0 },
		{ "/app", 1, 1 },
		{ "/apple", 6, 0 },
		{ "/api", 2, 0 },
		{ "/api/", 2, 0 },
		{ "/api/v1/x", 2, 0 },
		{ "/apix", 6, 0 },
		{ "/old", 4, 0 },
		{ "/old/x", 4, 0 },
		{ "/older", 6, 0 },
		{ "/Old", 6, 0 },
		{ "/gone/x", 5, 0 },
		{ "/", 6, 0 },
		{ "/x", 6, 0 },
	};
	int slash;

	(void)state;
	parse_ok("ProxyPass /app/static/ !\n"
		 "ProxyPass /app/ fcgi://127.0.0.1:1/\n"
		 "ProxyPass /api fcgi://127.0.0.1:2/\n"
		 "ProxyPass /api fcgi://127.0.0.1:3/\n"
		 "Redirect 301 /old http://example.com/new\n"
		 "Redirect gone /gone/\n"
		 "ProxyPass / fcgi://127.0.0.1:4/\n");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int got = route_match(&table, cases[i].path, strlen(cases[i].path), &slash);

		if (got != cases[i].route || slash != cases[i].slash) {
			print_error("%s: got %d/%d, want %d/%d\n", cases[i].path, got, slash,
				    cases[i].route, cases[i].slash);
			fail();
		}
	}
	assert_int_equal(route_member(2)->addr.port, 2);

	parse_ok("ProxyPass /a/ fcgi://127.0.0.1:1/\nProxyPass /b fcgi://127.0.0.1:1/\n");
	assert_int_equal(route_match(&table, "/c", 2, &slash), -1);
	assert_int_equal(slash, 0);
	assert_int_equal(route_match(&table, "", 0, &slash), -1);
	assert_int_equal(route_match(&table, "/a", 2, NULL), 0);
	/* the length, not a NUL, ends the path */
	assert_int_equal(route_match(&table, "/bcd", 2, &slash), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_single),
		cmocka_unit_test(test_seed_disablereuse),
		cmocka_unit_test(test_seed_balancer),
		cmocka_unit_test(test_proxypass_keys),
		cmocka_unit_test(test_member_keys),
		cmocka_unit_test(test_proxyset),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_fcgi_urls),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_urls),
		cmocka_unit_test(test_errors_directives),
		cmocka_unit_test(test_errors_blocks),
		cmocka_unit_test(test_errors_tokens),
		cmocka_unit_test(test_failed_line_is_undone),
		cmocka_unit_test(test_member_contiguity),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_strings_shared),
		cmocka_unit_test(test_require_directive),
		cmocka_unit_test(test_require_key),
		cmocka_unit_test(test_global_blocks_contiguous),
		cmocka_unit_test(test_acl_allows),
		cmocka_unit_test(test_acl_global_modes),
		cmocka_unit_test(test_limit_body),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_unix_path_length),
		cmocka_unit_test(test_status_page),
		cmocka_unit_test(test_errors_access),
		cmocka_unit_test(test_errors_unix),
		cmocka_unit_test(test_cidrs_full),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
