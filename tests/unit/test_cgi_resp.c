/*
 * test_cgi_resp.c - the CGI response-header block: a table of blocks with
 * what the parser must make of them, then the line iterator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgi_resp.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NONE (-1)
#define END_OF_BLOCK (-3)   /* the block runs to the end of the input */

struct ok_case {
	const char *in;
	long ret;             /* block length, END_OF_BLOCK for strlen(in) */
	uint16_t status;
	const char *reason;
	int64_t length;
	uint8_t location;
};

static const struct ok_case ok_cases[] = {
	{ "Content-Type: text/html\r\n\r\n", END_OF_BLOCK, 200, "", NONE, 0 },
	{ "Content-Type: text/html\n\n", END_OF_BLOCK, 200, "", NONE, 0 },
	{ "Content-Type: text/html\r\n\r\n<html>", 27, 200, "", NONE, 0 },
	{ "\r\n", 2, 200, "", NONE, 0 },
	{ "\nbody", 1, 200, "", NONE, 0 },
	{ "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope", 51,
	  404, "Not Found", NONE, 0 },
	{ "Status: 404\n\n", END_OF_BLOCK, 404, "", NONE, 0 },
	{ "status: 503 Busy\r\n\r\n", END_OF_BLOCK, 503, "Busy", NONE, 0 },
	{ "STATUS:201 Created \t\r\n\r\n", END_OF_BLOCK, 201, "Created",
	  NONE, 0 },
	{ "Status: 100\r\n\r\n", END_OF_BLOCK, 100, "", NONE, 0 },
	{ "Status: 999 Odd but legal\r\n\r\n", END_OF_BLOCK, 999,
	  "Odd but legal", NONE, 0 },
	{ "Status: 200 \xc3\x9c\x62\x65rall\r\n\r\n", END_OF_BLOCK, 200,
	  "\xc3\x9c\x62\x65rall", NONE, 0 },
	{ "Status: 418 I'm a teapot\r\nStatus: 418 I'm a teapot\r\n\r\n",
	  END_OF_BLOCK, 418, "I'm a teapot", NONE, 0 },
	{ "Location: http://example.com/\r\n\r\n", END_OF_BLOCK, 302, "",
	  NONE, 1 },
	{ "location: /local\n\n", END_OF_BLOCK, 302, "", NONE, 1 },
	{ "Status: 301 Moved Permanently\r\nLocation: /new\r\n\r\n",
	  END_OF_BLOCK, 301, "Moved Permanently", NONE, 1 },
	{ "Location: /new\r\nStatus: 201 Created\r\n\r\n", END_OF_BLOCK, 201,
	  "Created", NONE, 1 },
	{ "Content-Length: 0\r\n\r\n", END_OF_BLOCK, 200, "", 0, 0 },
	{ "Content-Length: 42\r\n\r\n", END_OF_BLOCK, 200, "", 42, 0 },
	{ "Content-Length:   007  \r\n\r\n", END_OF_BLOCK, 200, "", 7, 0 },
	{ "Content-Length: 9223372036854775807\r\n\r\n", END_OF_BLOCK, 200,
	  "", INT64_MAX, 0 },
	{ "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", END_OF_BLOCK,
	  200, "", 5, 0 },
	{ "Content-Length: 09223372036854775807\r\n\r\n", END_OF_BLOCK, 200,
	  "", INT64_MAX, 0 },
	{ "Content-Length: 922337203685477580\r\n\r\n", END_OF_BLOCK, 200,
	  "", INT64_MAX / 10, 0 },
	{ "X-Empty:\r\nX-Blank: \t \r\n\r\n", END_OF_BLOCK, 200, "", NONE,
	  0 },
	{ "X-Tab: a\tb\r\nX-Colon: a:b::c\r\n\r\n", END_OF_BLOCK, 200, "",
	  NONE, 0 },
	{ "X-Obs-Text: caf\xc3\xa9 \xff\x80\r\n\r\n", END_OF_BLOCK, 200, "",
	  NONE, 0 },
	{ "!#$%&'*+-.^_`|~09azAZ: token name\r\n\r\n", END_OF_BLOCK, 200, "",
	  NONE, 0 },
	{ "A: mixed\nB: endings\r\n\n", END_OF_BLOCK, 200, "", NONE, 0 },
	{ "Status: 204 No Content\r\nContent-Length: 0\r\n"
	  "Location: /x\r\nSet-Cookie: a=1\r\n\r\n", END_OF_BLOCK, 204,
	  "No Content", 0, 1 },
};

static void check_ok(const struct ok_case *c)
{
	size_t in_len = strlen(c->in);
	size_t block = c->ret == END_OF_BLOCK ? in_len : (size_t)c->ret;
	struct cgi_resp r;
	char *buf = malloc(in_len + 1);  /* exact size: ASan sees overreads */
	size_t k;
	long n;

	assert_non_null(buf);
	memcpy(buf, c->in, in_len);
	n = cgi_resp_parse(buf, in_len, &r);
	if (n != (long)block)
		fail_msg("\"%s\": returned %ld, want %zu", c->in, n, block);
	assert_int_equal(r.status, c->status);
	assert_int_equal(r.reason.len, strlen(c->reason));
	if (r.reason.len > 0) {
		assert_memory_equal(r.reason.p, c->reason, r.reason.len);
		assert_true(r.reason.p >= buf &&
			    r.reason.p + r.reason.len <= buf + block);
	}
	assert_true(r.content_length == c->length);
	assert_int_equal(r.has_location, c->location);
	/* Every shorter prefix of a good block is still incomplete. */
	for (k = 0; k < block; k++)
		assert_int_equal(cgi_resp_parse(buf, k, &r), -2);
	free(buf);
}

static void test_valid_blocks(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ok_cases); i++)
		check_ok(&ok_cases[i]);
}

struct bad_case {
	const char *in;
	size_t len;           /* 0: strlen(in); for inputs holding a NUL */
	long ret;
};

static const struct bad_case bad_cases[] = {
	/* incomplete */
	{ "", 0, -2 },
	{ "Content-Type: text/html", 0, -2 },
	{ "Content-Type: text/html\r", 0, -2 },
	{ "Content-Type: text/html\r\n", 0, -2 },
	{ "Content-Type: text/html\r\n\r", 0, -2 },
	{ "Status: 200 OK\nX: y\n", 0, -2 },
	{ "\r", 0, -2 },
	/* lines and names */
	{ "NoColon\r\n\r\n", 0, -1 },
	{ "NoColon\r\nX: y", 0, -1 },       /* refused before the end */
	{ ": no name\r\n\r\n", 0, -1 },
	{ "Bad Name: x\r\n\r\n", 0, -1 },
	{ "Name : x\r\n\r\n", 0, -1 },
	{ "Name\t: x\r\n\r\n", 0, -1 },
	{ " Name: x\r\n\r\n", 0, -1 },
	{ "A: b\r\n folded\r\n\r\n", 0, -1 },
	{ "A: b\r\n\tfolded: c\r\n\r\n", 0, -1 },
	{ "N(me: x\r\n\r\n", 0, -1 },
	{ "N\xc3\xa4me: x\r\n\r\n", 0, -1 },
	{ "Na\0me: x\r\n\r\n", 12, -1 },
	{ "\rX: y\r\n\r\n", 0, -1 },
	{ "\r\r\n", 0, -1 },
	{ "\r\r\n\r\n", 0, -1 },
	{ "Na\rme: x\r\n\r\n", 0, -1 },
	{ "Name\r: x\r\n\r\n", 0, -1 },
	{ "Name\r\n\r\n", 0, -1 },
	{ "N\x7fme: x\r\n\r\n", 0, -1 },
	{ "Name:x\r\n x\r\n\r\n", 0, -1 },
	{ "A: b\n\r\r\n", 0, -1 },
	/* values */
	{ "X: a\x01" "b\r\n\r\n", 0, -1 },
	{ "X: a\rb\r\n\r\n", 0, -1 },
	{ "X: ab\r\r\n\r\n", 0, -1 },
	{ "X: a\x7f\r\n\r\n", 0, -1 },
	{ "X: a\x1b[31m\r\n\r\n", 0, -1 },
	{ "X: a\0b\r\n\r\n", 10, -1 },
	{ "X: a\r\r\n\r\n", 0, -1 },
	{ "X: \ra\r\n\r\n", 0, -1 },
	{ "X:\r\r\n\r\n", 0, -1 },
	{ "X: \x7f\r\n\r\n", 0, -1 },
	{ "X: a\x1f\r\n\r\n", 0, -1 },
	{ "X: a\n\x7f\r\n\r\n", 0, -1 },
	/* Status */
	{ "Status:\r\n\r\n", 0, -1 },
	{ "Status: 99\r\n\r\n", 0, -1 },
	{ "Status: 099 Low\r\n\r\n", 0, -1 },
	{ "Status: 000\r\n\r\n", 0, -1 },
	{ "Status: 1000\r\n\r\n", 0, -1 },
	{ "Status: 20x\r\n\r\n", 0, -1 },
	{ "Status: OK 200\r\n\r\n", 0, -1 },
	{ "Status: 404\tNot Found\r\n\r\n", 0, -1 },
	{ "Status: 404-Not Found\r\n\r\n", 0, -1 },
	{ "Status: +99\r\n\r\n", 0, -1 },
	{ "Status: 200 OK\r\nStatus: 404 Not Found\r\n\r\n", 0, -1 },
	{ "Status: 200 OK\r\nStatus: 200\r\n\r\n", 0, -1 },
	/* Content-Length */
	{ "Content-Length:\r\n\r\n", 0, -1 },
	{ "Content-Length: -1\r\n\r\n", 0, -1 },
	{ "Content-Length: +5\r\n\r\n", 0, -1 },
	{ "Content-Length: 1 2\r\n\r\n", 0, -1 },
	{ "Content-Length: 5,5\r\n\r\n", 0, -1 },
	{ "Content-Length: 0x10\r\n\r\n", 0, -1 },
	{ "Content-Length: 12a\r\n\r\n", 0, -1 },
	{ "Content-Length: 9223372036854775808\r\n\r\n", 0, -1 },
	{ "Content-Length: 99999999999999999999999\r\n\r\n", 0, -1 },
	{ "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, -1 },
};

/*
 * A bad line is only judged once its LF is in: the prefixes of a bad
 * block are incomplete up to some length (at least up to its first LF),
 * invalid from there on.
 */
static void check_prefixes(const char *buf, size_t len, size_t i)
{
	const char *lf = memchr(buf, '\n', len);
	size_t first_lf = lf ? (size_t)(lf - buf) : len, k;
	struct cgi_resp r;
	long was = -2, n;

	for (k = 0; k <= len; k++) {
		n = cgi_resp_parse(buf, k, &r);
		if (n == -1 && k <= first_lf)
			fail_msg("case %zu: refused at %zu bytes, before an LF",
				 i, k);
		if (n != -1 && (n != -2 || was == -1))
			fail_msg("case %zu, %zu bytes: returned %ld after %ld",
				 i, k, n, was);
		was = n;
	}
}

static void test_invalid_and_incomplete(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		char *buf = malloc(len + 1);
		struct cgi_resp r;
		long n;

		assert_non_null(buf);
		memcpy(buf, c->in, len);
		n = cgi_resp_parse(buf, len, &r);
		if (n != c->ret)
			fail_msg("case %zu \"%s\": returned %ld, want %ld", i,
				 c->in, n, c->ret);
		check_prefixes(buf, len, i);
		free(buf);
	}
}

struct field {
	const char *name, *value;
};

static void check_iteration(const char *block, const struct field *want,
			    size_t count)
{
	size_t len = strlen(block), pos = 0, i;
	struct http_slice name, value;
	struct cgi_resp r;
	long n = cgi_resp_parse(block, len, &r);

	assert_true(n > 0);
	for (i = 0; i < count; i++) {
		assert_int_equal(cgi_resp_next(block, (size_t)n, &pos, &name,
					       &value), 1);
		assert_int_equal(name.len, strlen(want[i].name));
		assert_memory_equal(name.p, want[i].name, name.len);
		assert_int_equal(value.len, strlen(want[i].value));
		if (value.len > 0)
			assert_memory_equal(value.p, want[i].value, value.len);
		assert_true(value.p >= block &&
			    value.p + value.len <= block + n);
	}
	assert_int_equal(cgi_resp_next(block, (size_t)n, &pos, &name, &value),
			 0);
	/* The end is sticky. */
	assert_int_equal(cgi_resp_next(block, (size_t)n, &pos, &name, &value),
			 0);
}

static void test_iteration_order(void **state)
{
	static const char block[] =
		"Status: 200 OK\r\n"
		"Set-Cookie: a=1; Path=/\r\n"
		"Content-Type: text/html; charset=utf-8\n"
		"Set-Cookie: b=2\r\n"
		"X-Trim: \t padded value \t\r\n"
		"X-Empty:\r\n"
		"Location: /x?a=b:c\r\n"
		"Content-Length: 12\r\n"
		"\r\n"
		"body follows";
	static const struct field want[] = {
		{ "Status", "200 OK" },
		{ "Set-Cookie", "a=1; Path=/" },
		{ "Content-Type", "text/html; charset=utf-8" },
		{ "Set-Cookie", "b=2" },
		{ "X-Trim", "padded value" },
		{ "X-Empty", "" },
		{ "Location", "/x?a=b:c" },
		{ "Content-Length", "12" },
	};

	(void)state;
	check_iteration(block, want, ARRAY_LEN(want));
}

static void test_iteration_empty_block(void **state)
{
	(void)state;
	check_iteration("\r\n", NULL, 0);
	check_iteration("\n", NULL, 0);
}

/* Iterating over more than the block stops at its empty line. */
static void test_iteration_stops_at_empty_line(void **state)
{
	static const char *const texts[] = {
		"A: 1\n\nB: 2\n\n",
		"A: 1\n\nbody without a line end",
		"A: 1\r\n\r\nB: 2",
	};
	struct http_slice name, value;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		size_t len = strlen(texts[i]), pos = 0;

		assert_int_equal(cgi_resp_next(texts[i], len, &pos, &name,
					       &value), 1);
		assert_int_equal(name.len, 1);
		assert_memory_equal(name.p, "A", 1);
		assert_int_equal(value.len, 1);
		assert_memory_equal(value.p, "1", 1);
		assert_int_equal(cgi_resp_next(texts[i], len, &pos, &name,
					       &value), 0);
		assert_int_equal(cgi_resp_next(texts[i], len, &pos, &name,
					       &value), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_blocks),
		cmocka_unit_test(test_invalid_and_incomplete),
		cmocka_unit_test(test_iteration_order),
		cmocka_unit_test(test_iteration_empty_block),
		cmocka_unit_test(test_iteration_stops_at_empty_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
