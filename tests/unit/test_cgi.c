/*
 * test_cgi.c - RFC 3875 meta-variables as FastCGI name-value pairs.
 *
 * Requests are real heads run through http_parse_request() and
 * http_request_framing(); the pairs cgi_params_write() produces are
 * decoded here by a decoder of the test's own and checked by name. Every
 * request is also written through small buffers (one per call, the same
 * cursor throughout): each piece must hold whole pairs, and the pieces
 * must add up to exactly what one large buffer gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"
#include "fcgi.h"
#include "gw_config.h"
#include "http.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1

#define HDR_MAX 64
#define HEAD_MAX (256u * 1024u)
#define LINE_MAX_T 8192u
#define OUT_MAX (512u * 1024u)
#define PAIRS_MAX 128
#define WHOLE_CAP OUT_MAX               /* "one large buffer" */
#define KiB 1024u
#define BIG_VALUE (60u * KiB)

/* FastCGI name-value lengths: 1 byte below 128, else 4 with the top bit set. */
#define NV_SHORT_MAX 127u
#define NV_LONG_FLAG 0x80u

static const struct http_limits lim = { LINE_MAX_T, HEAD_MAX, HDR_MAX };

/* ---- port_log_write(), which log.c calls: count lines, keep the last ---- */

static unsigned log_count;
static char log_last[256];

void port_log_write(const char *line, size_t len)
{
	if (len >= sizeof log_last)
		len = sizeof log_last - 1;
	memcpy(log_last, line, len);
	log_last[len] = '\0';
	log_count++;
}

/* ---- one request --------------------------------------------------------- */

static struct {
	char head[HEAD_MAX];
	struct http_header headers[HDR_MAX];
	struct http_request req;
	char path[LINE_MAX_T];
	struct port_addr local, peer;
	struct cgi_request cr;
} fx;

static struct port_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct port_addr x = { .family = PORT_AF_INET, .ip = { a, b, c, d }, .port = port };
	return x;
}

static struct port_addr v6(const uint8_t ip[16], uint16_t port)
{
	struct port_addr x = { .family = PORT_AF_INET6, .port = port };

	memcpy(x.ip, ip, sizeof x.ip);
	return x;
}

/*
 * Parse head (copied into fx.head) as the gateway does, and describe it
 * as a request for a route whose prefix is the first script_len bytes of
 * the decoded path, to an fcgi:// URL whose path is docroot.
 */
static void make_request_n(const char *head, size_t len, uint32_t script_len,
			   const char *docroot)
{
	size_t scanned = 0;
	int rc, n;

	assert_true(len <= sizeof fx.head);
	memmove(fx.head, head, len);
	memset(&fx.req, 0, sizeof fx.req);
	fx.req.headers = fx.headers;
	fx.req.header_cap = HDR_MAX;
	rc = http_parse_request(fx.head, len, &scanned, &fx.req, &lim);
	if (rc != (int)len) {
		print_error("head not parsed whole: rc %d status %u\n%.*s\n", rc,
			    fx.req.status, (int)(len < 200 ? len : 200), head);
		fail();
	}
	assert_int_equal(http_request_framing(&fx.req), 0);
	n = http_normalize_path(fx.req.path.p, fx.req.path.len, fx.path, sizeof fx.path);
	assert_true(n > 0);
	assert_true(script_len <= (uint32_t)n);
	fx.local = v4(192, 0, 2, 10, 8080);
	fx.peer = v4(198, 51, 100, 7, 54321);
	fx.cr = (struct cgi_request){
		.req = &fx.req,
		.path = fx.path,
		.path_len = (uint32_t)n,
		.script_len = script_len,
		.docroot = docroot,
		.docroot_len = (uint32_t)strlen(docroot),
		.local = &fx.local,
		.peer = &fx.peer,
	};
}

static void make_request(const char *head, uint32_t script_len, const char *docroot)
{
	make_request_n(head, strlen(head), script_len, docroot);
}

/* ---- decoding ------------------------------------------------------------ */

struct nv {
	const uint8_t *name, *value;
	size_t name_len, value_len;
	size_t at;                      /* offset of the pair in the stream */
};

static struct {
	uint8_t bytes[OUT_MAX];
	size_t len;
	struct nv nv[PAIRS_MAX];
	unsigned count;
} out;

/* One length field; checks that the shortest form was used. */
static size_t nv_len(const uint8_t *p, size_t avail, size_t *len)
{
	if (avail < 1)
		return 0;
	if (!(p[0] & NV_LONG_FLAG)) {
		*len = p[0];
		return 1;
	}
	if (avail < 4)
		return 0;
	*len = ((size_t)(p[0] & ~NV_LONG_FLAG) << 24) | ((size_t)p[1] << 16) |
	       ((size_t)p[2] << 8) | p[3];
	assert_true(*len > NV_SHORT_MAX);
	return 4;
}

/* Decode p[0..len) into nv[]; it must be whole pairs, nothing left over. */
static unsigned decode(const uint8_t *p, size_t len, struct nv *nv, unsigned max)
{
	size_t i = 0;
	unsigned count = 0;

	while (i < len) {
		size_t a, b, nl, vl;

		a = nv_len(p + i, len - i, &nl);
		assert_true(a > 0);
		b = nv_len(p + i + a, len - i - a, &vl);
		assert_true(b > 0);
		if (nl + vl > len - i - a - b) {
			print_error("pair at %zu cut: %zu + %zu bytes, %zu left\n", i, nl, vl,
				    len - i - a - b);
			fail();
		}
		assert_true(count < max);
		nv[count].at = i;
		nv[count].name = p + i + a + b;
		nv[count].name_len = nl;
		nv[count].value = p + i + a + b + nl;
		nv[count].value_len = vl;
		count++;
		i += a + b + nl + vl;
	}
	return count;
}

/*
 * Write every pair through a buffer of exactly cap bytes (heap, so ASan
 * sees a write past cap), one call per piece with the same cursor, into
 * out. Each piece must be whole pairs and non-empty until the end.
 */
static void write_all(size_t cap)
{
	static struct nv piece[PAIRS_MAX];
	unsigned cursor = 0, end = cgi_params_end(&fx.cr);
	uint8_t *buf = malloc(cap);

	assert_non_null(buf);
	out.len = 0;
	while (cursor != end) {
		long n = cgi_params_write(&fx.cr, &cursor, buf, cap);

		if (n < 0) {
			print_error("cap %zu: -1 at cursor %u of %u\n", cap, cursor, end);
			fail();
		}
		assert_true((size_t)n <= cap);
		assert_true(n > 0 || cursor == end);
		(void)decode(buf, (size_t)n, piece, PAIRS_MAX);
		assert_true(out.len + (size_t)n <= sizeof out.bytes);
		memcpy(out.bytes + out.len, buf, (size_t)n);
		out.len += (size_t)n;
	}
	/* done: another call writes nothing and leaves the cursor alone */
	assert_int_equal(cgi_params_write(&fx.cr, &cursor, buf, cap), 0);
	assert_int_equal(cursor, end);
	free(buf);
	out.count = decode(out.bytes, out.len, out.nv, PAIRS_MAX);
}

static int name_is(const struct nv *v, const char *name)
{
	return v->name_len == strlen(name) && memcmp(v->name, name, v->name_len) == 0;
}

/* Index of the pair with this name, -1 if none; a name must not repeat. */
static int find(const char *name)
{
	int at = -1;

	for (unsigned i = 0; i < out.count; i++) {
		if (!name_is(&out.nv[i], name))
			continue;
		if (at >= 0) {
			print_error("%s sent twice\n", name);
			fail();
		}
		at = (int)i;
	}
	return at;
}

/* The variable has exactly this value; NULL: it is not sent at all. */
static void expect_n(const char *name, const char *value, size_t value_len)
{
	int i = find(name);

	if (value == NULL) {
		if (i >= 0) {
			print_error("%s sent (\"%.*s\"), should not be\n", name,
				    (int)out.nv[i].value_len, (const char *)out.nv[i].value);
			fail();
		}
		return;
	}
	if (i < 0) {
		print_error("%s missing (want \"%s\")\n", name, value);
		fail();
	}
	if (out.nv[i].value_len != value_len ||
	    memcmp(out.nv[i].value, value, value_len) != 0) {
		print_error("%s = \"%.*s\", want \"%.*s\"\n", name, (int)out.nv[i].value_len,
			    (const char *)out.nv[i].value, (int)value_len, value);
		fail();
	}
}

static void expect(const char *name, const char *value)
{
	expect_n(name, value, value ? strlen(value) : 0);
}

/* Write the request whole and through small pieces; both must agree. */
static void write_checked(void)
{
	static uint8_t whole[OUT_MAX];
	size_t whole_len, biggest = 0;

	write_all(WHOLE_CAP);
	whole_len = out.len;
	memcpy(whole, out.bytes, whole_len);
	for (unsigned i = 0; i < out.count; i++) {
		size_t end = i + 1 < out.count ? out.nv[i + 1].at : out.len;

		if (end - out.nv[i].at > biggest)
			biggest = end - out.nv[i].at;
	}
	for (size_t cap = biggest; cap < biggest + 40; cap++) {
		write_all(cap);
		assert_int_equal(out.len, whole_len);
		assert_memory_equal(out.bytes, whole, whole_len);
	}
	write_all(whole_len);
	assert_memory_equal(out.bytes, whole, whole_len);
}

/* ---- the meta-variables -------------------------------------------------- */

static void test_all_variables(void **state)
{
	const char *const want[][2] = {
		{ "GATEWAY_INTERFACE", "CGI/1.1" },
		{ "SERVER_SOFTWARE", CONFIG_SERVER_SOFTWARE[0] ? CONFIG_SERVER_SOFTWARE : "fcgate" },
		{ "SERVER_NAME", "example.com" },
		{ "SERVER_PORT", "8080" },
		{ "SERVER_ADDR", "192.0.2.10" },
		{ "SERVER_PROTOCOL", "HTTP/1.1" },
		{ "REMOTE_ADDR", "198.51.100.7" },
		{ "REMOTE_PORT", "54321" },
		{ "REQUEST_METHOD", "POST" },
		{ "REQUEST_URI", "/app/index.php/a%20b?x=1&y=%41" },
		{ "QUERY_STRING", "x=1&y=%41" },
		{ "SCRIPT_NAME", "/app" },
		{ "PATH_INFO", "/index.php/a b" },
		{ "DOCUMENT_ROOT", "/srv/www" },
		{ "SCRIPT_FILENAME", "/srv/www/index.php/a b" },
		{ "CONTENT_LENGTH", "11" },
		{ "CONTENT_TYPE", "text/plain; charset=utf-8" },
		{ "REQUEST_SCHEME", "http" },
		{ "HTTP_HOST", "example.com:8080" },
		{ "HTTP_USER_AGENT", "curl/8.0 (x)" },
		{ "HTTP_ACCEPT", "*/*" },
	};

	(void)state;
	make_request("POST /app/index.php/a%20b?x=1&y=%41 HTTP/1.1\r\n"
		     "Host: example.com:8080\r\n"
		     "User-Agent: curl/8.0 (x)\r\n"
		     "Content-Length: 11\r\n"
		     "Accept: */*\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "\r\n", 4, "/srv/www");
	write_checked();
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		expect(want[i][0], want[i][1]);
	/* nothing else: not HTTP_CONTENT_LENGTH, not HTTP_CONTENT_TYPE */
	assert_int_equal(out.count, ARRAY_LEN(want));
	/* CGI's own variables come first, the HTTP_* ones in field order */
	assert_true(find("CONTENT_TYPE") < find("HTTP_HOST"));
	assert_true(find("HTTP_HOST") < find("HTTP_USER_AGENT"));
	assert_true(find("HTTP_USER_AGENT") < find("HTTP_ACCEPT"));
}

static void test_server_name(void **state)
{
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a };
	static const struct {
		const char *host;       /* NULL: no Host field (HTTP/1.0) */
		int local6;
		const char *want;
	} cases[] = {
		{ "example.com", 0, "example.com" },
		{ "example.com:8080", 0, "example.com" },
		{ "Example.COM:80", 0, "Example.COM" },
		{ "example.com:", 0, "example.com" },
		{ "192.0.2.1:81", 0, "192.0.2.1" },
		{ "[::1]:8080", 0, "[::1]" },
		{ "[::1]", 0, "[::1]" },
		{ "[2001:db8::1]:443", 0, "[2001:db8::1]" },
		{ NULL, 0, "192.0.2.10" },
		/* RFC 3875 4.1.14: server-name is ... | "[" ipv6-address "]" */
		{ NULL, 1, "[2001:db8::a]" },
	};
	char head[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (cases[i].host)
			snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
				 cases[i].host);
		else
			snprintf(head, sizeof head, "GET / HTTP/1.0\r\n\r\n");
		make_request(head, 0, "/");
		if (cases[i].local6)
			fx.local = v6(ip6, 8443);
		write_checked();
		expect("SERVER_NAME", cases[i].want);
		expect("HTTP_HOST", cases[i].host);
	}
}

static void test_addresses(void **state)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t doc6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					  0, 1, 0, 0, 0, 0, 0, 1 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 203, 0, 113, 9 };
	struct {
		struct port_addr local, peer;
		const char *server_addr, *server_port, *remote_addr, *remote_port;
	} cases[] = {
		{ v4(127, 0, 0, 1, 80), v4(127, 0, 0, 1, 1), "127.0.0.1", "80", "127.0.0.1", "1" },
		{ v4(0, 0, 0, 0, 65535), v4(255, 255, 255, 255, 65535),
		  "0.0.0.0", "65535", "255.255.255.255", "65535" },
		{ v6(lo6, 8080), v6(doc6, 40000), "::1", "8080", "2001:db8::1:0:0:1", "40000" },
		{ v6(doc6, 443), v6(mapped, 5000),
		  "2001:db8::1:0:0:1", "443", "::ffff:203.0.113.9", "5000" },
		{ v4(10, 0, 2, 15, 8080), v6(lo6, 0), "10.0.2.15", "8080", "::1", "0" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		make_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, "/");
		fx.local = cases[i].local;
		fx.peer = cases[i].peer;
		write_checked();
		expect("SERVER_ADDR", cases[i].server_addr);
		expect("SERVER_PORT", cases[i].server_port);
		expect("REMOTE_ADDR", cases[i].remote_addr);
		expect("REMOTE_PORT", cases[i].remote_port);
	}
}

/* RFC 5952 section 4 and 5: the one text form of each IPv6 address. */
static void test_format_ip(void **state)
{
	static const struct {
		uint8_t family;
		uint8_t ip[16];
		const char *want;
	} cases[] = {
		{ PORT_AF_INET, { 192, 0, 2, 1 }, "192.0.2.1" },
		{ PORT_AF_INET, { 0, 0, 0, 0 }, "0.0.0.0" },
		{ PORT_AF_INET6, { 0 }, "::" },
		{ PORT_AF_INET6, { [15] = 1 }, "::1" },
		{ PORT_AF_INET6, { 0, 1 }, "1::" },
		{ PORT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, "2001:db8::1" },
		/* 4.1: no leading zeros; 4.3: lower case */
		{ PORT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0x0b, 0xCD, 0xEF, 0, 0, 0, 0,
				   0x0f, 0xff }, "2001:db8:aa:b:cdef::fff" },
		/* 4.2.2: one 16-bit 0 field is not shortened */
		{ PORT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 },
		  "2001:db8:0:1:1:1:1:1" },
		/* 4.2.3: the longest run; of equal runs the first */
		{ PORT_AF_INET6, { 0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },
		  "2001:0:0:1::1" },
		{ PORT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 },
		  "2001:db8::1:0:0:1" },
		{ PORT_AF_INET6, { 0xfe, 0x80, [8] = 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 },
		  "fe80::211:22ff:fe33:4455" },
		{ PORT_AF_INET6, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				   0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ PORT_AF_INET6, { 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0 },
		  "1:0:2:0:3:0:4:0" },
		/* 5: IPv4-mapped addresses in mixed notation */
		{ PORT_AF_INET6, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 128 }, "::ffff:192.0.2.128" },
		{ PORT_AF_INET6, { [10] = 0xff, [11] = 0xfe, 192, 0, 2, 128 }, "::fffe:c000:280" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct port_addr a = { .family = cases[i].family };
		size_t n;

		memcpy(a.ip, cases[i].ip, sizeof a.ip);
		memset(buf, 'x', sizeof buf);
		n = cgi_format_ip(&a, buf, sizeof buf);
		if (n != strlen(cases[i].want) || strcmp(buf, cases[i].want) != 0) {
			print_error("case %zu: got \"%s\" (%zu), want \"%s\"\n", i, buf, n,
				    cases[i].want);
			fail();
		}
	}
}

/* Too small a buffer cuts the text but still ends it with a NUL. */
static void test_format_ip_small(void **state)
{
	struct port_addr a6 = { .family = PORT_AF_INET6, .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct port_addr a4 = v4(192, 0, 2, 1, 0);
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof buf);
	assert_true(cgi_format_ip(&a6, buf, 5) <= 4);
	assert_string_equal(buf, "2001");
	assert_int_equal(buf[5], 'x');
	memset(buf, 'x', sizeof buf);
	assert_true(cgi_format_ip(&a4, buf, 4) <= 3);
	assert_string_equal(buf, "192");
	assert_int_equal(buf[4], 'x');
}

static void test_request_line(void **state)
{
	static const struct {
		const char *head;
		const char *method, *protocol, *uri, *query;
	} cases[] = {
		{ "GET /app/x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "HTTP/1.1", "/app/x", "" },
		{ "GET /app/x? HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "HTTP/1.1", "/app/x?", "" },
		{ "HEAD /app/x?a HTTP/1.0\r\n\r\n", "HEAD", "HTTP/1.0", "/app/x?a", "a" },
		{ "DELETE /app/%7Euser/./x/../y?q=%20&r HTTP/1.1\r\nHost: h\r\n\r\n", "DELETE",
		  "HTTP/1.1", "/app/%7Euser/./x/../y?q=%20&r", "q=%20&r" },
		{ "GET http://example.com/app/x?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET",
		  "HTTP/1.1", "http://example.com/app/x?q=1", "q=1" },
		{ "PROPFIND /app/?a=b?c HTTP/1.1\r\nHost: h\r\n\r\n", "PROPFIND", "HTTP/1.1",
		  "/app/?a=b?c", "a=b?c" },
		{ "\r\nGET /app HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "HTTP/1.1", "/app", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		make_request(cases[i].head, 0, "/");
		write_checked();
		expect("REQUEST_METHOD", cases[i].method);
		expect("SERVER_PROTOCOL", cases[i].protocol);
		expect("REQUEST_URI", cases[i].uri);
		expect("QUERY_STRING", cases[i].query);
	}
}

/* SCRIPT_NAME is the route prefix, PATH_INFO the decoded rest, and
 * SCRIPT_FILENAME the docroot and that rest with exactly one '/'. */
static void test_script_split(void **state)
{
	static const struct {
		const char *target;
		uint32_t script_len;
		const char *docroot;
		const char *script_name, *path_info, *filename;
	} cases[] = {
		{ "/app/index.php", 4, "/srv/www", "/app", "/index.php", "/srv/www/index.php" },
		{ "/app/index.php", 4, "/srv/www/", "/app", "/index.php", "/srv/www/index.php" },
		{ "/app/a/b.php", 4, "/", "/app", "/a/b.php", "/a/b.php" },
		{ "/x.php", 0, "/srv/www", "", "/x.php", "/srv/www/x.php" },
		{ "/x.php", 0, "/srv/www/", "", "/x.php", "/srv/www/x.php" },
		{ "/app", 4, "/srv/www", "/app", "", "/srv/www" },
		{ "/app", 4, "/srv/www/", "/app", "", "/srv/www/" },
		{ "/app/", 4, "/srv/www/", "/app", "/", "/srv/www/" },
		{ "/app/", 4, "/srv/www", "/app", "/", "/srv/www/" },
		{ "/a/b/c.cgi/extra/info", 10, "/usr/lib/cgi-bin/",
		  "/a/b/c.cgi", "/extra/info", "/usr/lib/cgi-bin/extra/info" },
		{ "/app/%7Euser/a%20b/../c?q", 4, "/srv", "/app", "/~user/c", "/srv/~user/c" },
		{ "/app//x", 4, "/srv/", "/app", "//x", "/srv//x" },
	};
	char head[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
		make_request(head, cases[i].script_len, cases[i].docroot);
		write_checked();
		expect("SCRIPT_NAME", cases[i].script_name);
		expect("PATH_INFO", cases[i].path_info);
		expect("DOCUMENT_ROOT", cases[i].docroot);
		expect("SCRIPT_FILENAME", cases[i].filename);
	}
}

static void test_content(void **state)
{
	static const struct {
		const char *head;
		const char *length, *type;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: h\r\n\r\n", NULL, NULL },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "0", NULL },
		{ "POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 5000000000\r\n"
		  "content-type: application/x-www-form-urlencoded\r\n\r\n",
		  "5000000000", "application/x-www-form-urlencoded" },
		{ "PUT / HTTP/1.1\r\nHost: h\r\nContent-Type: \r\nContent-Length: 3\r\n\r\n",
		  "3", "" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nContent-Type: text/html\r\n\r\n", NULL, "text/html" },
		/* a chunked body has no length until the gateway has spooled it */
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		make_request(cases[i].head, 0, "/");
		write_checked();
		expect("CONTENT_LENGTH", cases[i].length);
		expect("CONTENT_TYPE", cases[i].type);
		expect("HTTP_CONTENT_LENGTH", NULL);
		expect("HTTP_CONTENT_TYPE", NULL);
		expect("HTTP_TRANSFER_ENCODING", NULL);
	}
}

/* The spooled length of a chunked upload is what CONTENT_LENGTH says. */
static void test_content_length_after_spooling(void **state)
{
	(void)state;
	make_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0, "/");
	fx.req.content_length = 11;
	write_checked();
	expect("CONTENT_LENGTH", "11");
}

/* ---- HTTP_* variables ---------------------------------------------------- */

static void test_http_names(void **state)
{
	static const char *const want[][2] = {
		{ "HTTP_HOST", "h" },
		{ "HTTP_X_FORWARDED_FOR", "203.0.113.1" },
		{ "HTTP_ACCEPT_LANGUAGE", "de-CH, en;q=0.5" },
		{ "HTTP_DNT", "1" },
		{ "HTTP_X_MIXED_CASE_2", "inner  spaces  kept" },
		{ "HTTP_EMPTY", "" },
		{ "HTTP_AUTHORIZATION", "Basic dXNlcjpwYXNz" },
		{ "HTTP_COOKIE", "a=1; b=2" },
		{ "HTTP_X.DOT!", "odd but a token" },
	};

	(void)state;
	make_request("GET / HTTP/1.1\r\n"
		     "Host: h\r\n"
		     "X-Forwarded-For: 203.0.113.1\r\n"
		     "accept-language: de-CH, en;q=0.5\r\n"
		     "DNT: 1\r\n"
		     "x-MiXeD-case-2:   inner  spaces  kept \t\r\n"
		     "Empty:\r\n"
		     "Authorization: Basic dXNlcjpwYXNz\r\n"
		     "Cookie: a=1; b=2\r\n"
		     "X.dot!: odd but a token\r\n"
		     "\r\n", 0, "/");
	write_checked();
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		expect(want[i][0], want[i][1]);
		if (i)
			assert_true(find(want[i - 1][0]) < find(want[i][0]));
	}
}

/* RFC 3875 4.1.18: fields with one name become one variable, ", " joined. */
static void test_repeated_fields(void **state)
{
	(void)state;
	make_request("GET / HTTP/1.1\r\n"
		     "Accept: text/html\r\n"
		     "Host: h\r\n"
		     "X-One: 1\r\n"
		     "accept: application/json\r\n"
		     "Cookie: a=1\r\n"
		     "ACCEPT: */*;q=0.1\r\n"
		     "Cookie: b=2\r\n"
		     "\r\n", 0, "/");
	write_checked();
	expect("HTTP_ACCEPT", "text/html, application/json, */*;q=0.1");
	expect("HTTP_COOKIE", "a=1, b=2");
	expect("HTTP_X_ONE", "1");
	/* at the place of the first occurrence */
	assert_true(find("HTTP_ACCEPT") < find("HTTP_HOST"));
	assert_true(find("HTTP_HOST") < find("HTTP_X_ONE"));
	assert_true(find("HTTP_X_ONE") < find("HTTP_COOKIE"));
}

/* "X_Forwarded_For" would pose as "X-Forwarded-For": dropped, and logged. */
static void test_underscore_dropped(void **state)
{
	unsigned logged = log_count;

	(void)state;
	make_request("GET / HTTP/1.1\r\n"
		     "Host: h\r\n"
		     "X_Forwarded_For: 10.6.6.6\r\n"
		     "X-Forwarded-For: 203.0.113.1\r\n"
		     "x_forwarded-for: 10.6.6.7\r\n"
		     "_: x\r\n"
		     "\r\n", 0, "/");
	write_all(WHOLE_CAP);
	expect("HTTP_X_FORWARDED_FOR", "203.0.113.1");
	expect("HTTP__", NULL);
	for (unsigned i = 0, http = 0; i < out.count; i++) {
		http += out.nv[i].name_len > 5 && memcmp(out.nv[i].name, "HTTP_", 5) == 0;
		if (i + 1 == out.count)
			assert_int_equal(http, 2);      /* HTTP_HOST, HTTP_X_FORWARDED_FOR */
	}
	assert_true(log_count > logged);
	assert_non_null(strstr(log_last, "_"));
}

/* httpoxy (CVE-2016-5385): a Proxy field must never become HTTP_PROXY. */
static void test_proxy_field(void **state)
{
	(void)state;
	make_request("GET / HTTP/1.1\r\nHost: h\r\nProxy: http://evil.example:3128/\r\n"
		     "PROXY: http://evil2.example/\r\nProxy-Authorization: Basic eA==\r\n\r\n",
		     0, "/");
	write_checked();
	expect("HTTP_PROXY", NULL);
	/* other Proxy-* fields are not the httpoxy name */
	expect("HTTP_PROXY_AUTHORIZATION", "Basic eA==");
}

/* Hop-by-hop fields (RFC 9110 7.6.1) are the connection's, not the app's. */
static void test_hop_by_hop(void **state)
{
	static const char *const dropped[] = {
		"HTTP_CONNECTION", "HTTP_KEEP_ALIVE", "HTTP_TE", "HTTP_TRANSFER_ENCODING",
		"HTTP_UPGRADE", "HTTP_PROXY_CONNECTION", "HTTP_TRAILER", "HTTP_X_SECRET",
		"HTTP_X_OTHER", "HTTP_X_THIRD", "HTTP_CLOSE", "HTTP_Z",
	};

	(void)state;
	make_request("POST /app HTTP/1.1\r\n"
		     "Host: h\r\n"
		     "Connection: keep-alive, X-Secret ,\tx-other\r\n"
		     "Keep-Alive: timeout=5\r\n"
		     "TE: trailers\r\n"
		     "Upgrade: websocket\r\n"
		     "Proxy-Connection: keep-alive\r\n"
		     "Trailer: X-T\r\n"
		     "X-Secret: s\r\n"
		     "X-Other: o\r\n"
		     "X-Kept: k\r\n"
		     "Transfer-Encoding: chunked\r\n"
		     "connection: X-THIRD,,close, Z\r\n"
		     "Z: z\r\n"
		     "X-Third: 3\r\n"
		     "Close: c\r\n"
		     "X-Secretive: kept too\r\n"
		     "\r\n", 0, "/");
	write_checked();
	for (size_t i = 0; i < ARRAY_LEN(dropped); i++)
		expect(dropped[i], NULL);
	expect("HTTP_HOST", "h");
	expect("HTTP_X_KEPT", "k");
	expect("HTTP_X_SECRETIVE", "kept too");
}

/* ---- buffers ------------------------------------------------------------- */

/* A typical browser request through every buffer size down to its largest pair. */
static void test_every_cap(void **state)
{
	static uint8_t whole[OUT_MAX];
	size_t whole_len, biggest = 0;

	(void)state;
	make_request("GET /app/index.php/x?q=search+term&page=2 HTTP/1.1\r\n"
		     "Host: www.example.com\r\n"
		     "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
		     "Firefox/128.0\r\n"
		     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		     "Accept-Language: en-US,en;q=0.5\r\n"
		     "Accept-Encoding: gzip, deflate, br, zstd\r\n"
		     "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
		     "Accept: text/plain\r\n"
		     "Connection: keep-alive\r\n"
		     "Upgrade-Insecure-Requests: 1\r\n"
		     "\r\n", 4, "/srv/www/");
	write_all(WHOLE_CAP);
	whole_len = out.len;
	memcpy(whole, out.bytes, whole_len);
	for (unsigned i = 0; i < out.count; i++) {
		size_t end = i + 1 < out.count ? out.nv[i + 1].at : out.len;

		if (end - out.nv[i].at > biggest)
			biggest = end - out.nv[i].at;
	}
	for (size_t cap = biggest; cap <= whole_len; cap++) {
		write_all(cap);
		assert_int_equal(out.len, whole_len);
		assert_memory_equal(out.bytes, whole, whole_len);
	}
}

/*
 * -1 when the next pair alone is larger than cap: nothing is written for
 * it and the cursor stays, so a larger buffer can carry on.
 */
static void test_pair_larger_than_cap(void **state)
{
	static uint8_t whole[OUT_MAX];
	size_t whole_len, first_len, at = 0;
	unsigned cursor = 0, end;
	uint8_t *buf;
	long n;

	(void)state;
	make_request("GET / HTTP/1.1\r\nHost: h\r\n"
		     "X-Long: 0123456789012345678901234567890123456789012345678901234567890123"
		     "456789\r\n\r\n", 0, "/");
	write_all(WHOLE_CAP);
	whole_len = out.len;
	memcpy(whole, out.bytes, whole_len);
	end = cgi_params_end(&fx.cr);

	/* nothing fits in 0 bytes */
	buf = malloc(1);
	assert_int_equal(cgi_params_write(&fx.cr, &cursor, buf, 0), -1);
	assert_int_equal(cursor, 0);
	free(buf);

	/* exactly the first pair */
	first_len = out.nv[1].at;
	buf = malloc(first_len);
	assert_int_equal(cgi_params_write(&fx.cr, &cursor, buf, first_len), (long)first_len);
	assert_memory_equal(buf, whole, first_len);
	free(buf);
	at = first_len;

	/* X-Long's pair is the largest: one byte short of it, and it stops there */
	{
		const struct nv *last = &out.nv[out.count - 1];
		size_t last_len = out.len - last->at;
		unsigned stuck;

		assert_true(name_is(last, "HTTP_X_LONG"));
		buf = malloc(last_len - 1);
		for (;;) {
			n = cgi_params_write(&fx.cr, &cursor, buf, last_len - 1);
			if (n < 0)
				break;
			assert_true(n > 0);
			assert_memory_equal(buf, whole + at, (size_t)n);
			at += (size_t)n;
		}
		assert_int_equal(at, last->at);
		stuck = cursor;
		assert_true(cursor < end);
		assert_int_equal(cgi_params_write(&fx.cr, &cursor, buf, last_len - 1), -1);
		assert_int_equal(cursor, stuck);
		free(buf);

		/* a buffer of its exact size carries on and finishes */
		buf = malloc(last_len);
		n = cgi_params_write(&fx.cr, &cursor, buf, last_len);
		assert_int_equal(n, (long)last_len);
		assert_memory_equal(buf, whole + at, last_len);
		assert_int_equal(cursor, end);
		free(buf);
	}
}

/* Values over 127 bytes get 4-byte lengths; a 60 KiB field still fits a record. */
static void test_big_value(void **state)
{
	static char head[HEAD_MAX];
	static const char name[] = "HTTP_X_BIG";
	const struct nv *big;
	size_t n = 0, pair_len;
	int i;

	(void)state;
	n += (size_t)snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(head + n, 'v', BIG_VALUE);
	n += BIG_VALUE;
	n += (size_t)snprintf(head + n, sizeof head - n, "\r\nX-After: a\r\n\r\n");
	make_request_n(head, n, 0, "/");
	write_checked();
	i = find(name);
	assert_true(i >= 0);
	big = &out.nv[i];
	assert_int_equal(big->value_len, BIG_VALUE);
	for (size_t k = 0; k < BIG_VALUE; k++)
		if (big->value[k] != 'v')
			fail_msg("value differs at %zu", k);
	/* 1-byte name length, 4-byte value length, big-endian with the top bit */
	{
		static const uint8_t want[] = {
			sizeof name - 1, NV_LONG_FLAG, 0, (BIG_VALUE >> 8) & 0xff, BIG_VALUE & 0xff,
		};
		assert_memory_equal(out.bytes + big->at, want, sizeof want);
	}
	pair_len = 5 + (sizeof name - 1) + BIG_VALUE;
	assert_true(pair_len <= FCGI_MAX_CONTENT);
	expect("HTTP_X_AFTER", "a");

	/* through FastCGI-record-sized buffers too (write_all fails on -1) */
	write_all(FCGI_MAX_CONTENT);
	assert_int_equal(out.nv[find(name)].value_len, BIG_VALUE);
}

/* Two 40 KiB fields join into one variable longer than a record can carry. */
static void test_joined_too_big(void **state)
{
	static char head[HEAD_MAX];
	size_t n = 0, half = 40u * KiB;
	unsigned cursor = 0;
	uint8_t *buf;
	long got;
	int i;

	(void)state;
	n += (size_t)snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: h\r\nX-J: ");
	memset(head + n, 'a', half);
	n += half;
	n += (size_t)snprintf(head + n, sizeof head - n, "\r\nX-J: ");
	memset(head + n, 'b', half);
	n += half;
	n += (size_t)snprintf(head + n, sizeof head - n, "\r\n\r\n");
	make_request_n(head, n, 0, "/");

	buf = malloc(FCGI_MAX_CONTENT);
	do {
		got = cgi_params_write(&fx.cr, &cursor, buf, FCGI_MAX_CONTENT);
	} while (got > 0);
	assert_int_equal(got, -1);
	assert_true(cursor < cgi_params_end(&fx.cr));
	free(buf);

	write_all(WHOLE_CAP);
	i = find("HTTP_X_J");
	assert_true(i >= 0);
	assert_int_equal(out.nv[i].value_len, 2 * half + 2);
	assert_int_equal(out.nv[i].value[half - 1], 'a');
	assert_memory_equal(out.nv[i].value + half, ", ", 2);
	assert_int_equal(out.nv[i].value[half + 2], 'b');
}

/* A name over 127 bytes gets a 4-byte length too. */
static void test_long_name(void **state)
{
	char head[512], name[201], want[256];
	int i;

	(void)state;
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: h\r\nX-%s: v\r\n\r\n", name);
	make_request(head, 0, "/");
	write_checked();
	for (size_t k = 0; k < sizeof name - 1; k++)
		name[k] = 'N';
	snprintf(want, sizeof want, "HTTP_X_%s", name);
	expect(want, "v");
	i = find(want);
	assert_int_equal(out.bytes[out.nv[i].at], NV_LONG_FLAG);
	assert_int_equal(out.bytes[out.nv[i].at + 3], strlen(want));
	assert_int_equal(out.bytes[out.nv[i].at + 4], 1);
}

/*
 * A value longer than FastCGI's 31-bit length cannot be encoded at all
 * (fcgi_nv_size() says 0): it must count as not fitting, whatever cap.
 * The request is built by hand; its slice claims 2 GiB over 4 bytes, so
 * any attempt to copy it would trip ASan.
 */
static void test_value_over_31_bits(void **state)
{
	static const char huge[4] = "huge";
	size_t caps[] = { 0, 64, FCGI_MAX_CONTENT, WHOLE_CAP };

	(void)state;
	make_request("GET / HTTP/1.1\r\nHost: h\r\nX-Huge: x\r\nX-After: a\r\n\r\n", 0, "/");
	fx.headers[1].value.p = huge;
	fx.headers[1].value.len = FCGI_NV_LEN_MAX + 1u;
	for (size_t c = 0; c < ARRAY_LEN(caps); c++) {
		unsigned cursor = 0;
		uint8_t *buf = malloc(caps[c] ? caps[c] : 1);
		long n;

		do {
			n = cgi_params_write(&fx.cr, &cursor, buf, caps[c]);
		} while (n > 0);
		assert_int_equal(n, -1);
		assert_true(cursor < cgi_params_end(&fx.cr));
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_variables),
		cmocka_unit_test(test_server_name),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_format_ip),
		cmocka_unit_test(test_format_ip_small),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_script_split),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_content_length_after_spooling),
		cmocka_unit_test(test_http_names),
		cmocka_unit_test(test_repeated_fields),
		cmocka_unit_test(test_underscore_dropped),
		cmocka_unit_test(test_proxy_field),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_every_cap),
		cmocka_unit_test(test_pair_larger_than_cap),
		cmocka_unit_test(test_big_value),
		cmocka_unit_test(test_joined_too_big),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_value_over_31_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
