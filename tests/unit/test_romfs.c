/*
 * test_romfs.c - the ROM filesystem's lookup, path mapping and answers:
 * tables of request fields with the status, bytes and head each must
 * give, against a small table of files written out by hand below.
 *
 * Header values are copied to heap blocks of their exact length (no NUL)
 * so that ASan catches any read past a value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "romfs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define STR_LEN(s) (sizeof(s) - 1)

/* --- the fixture: what scripts/romfs-pack.py would emit, sorted ----------- */

static const uint8_t app_js[] = "console.log(1);\n";
static const uint8_t digits[] = "0123456789";
static const uint8_t digits_gz[] = "GZ-OF-DIGITS";   /* bytes only, never decoded */
static const uint8_t index_html[] = "<html>top</html>\n";
static const uint8_t index_gz[] = "GZ-INDEX";
static const uint8_t sub_html[] = "<html>sub</html>\n";

#define TAG_APP "\"aaaaaaaaaaaaaaaa\""
#define TAG_DIGITS "\"0123456789abcdef\""
#define TAG_DIGITS_GZ "\"fedcba9876543210\""
#define TAG_EMPTY "\"e3b0c44298fc1c14\""
#define TAG_INDEX "\"1111111111111111\""
#define TAG_INDEX_GZ "\"2222222222222222\""
#define TAG_SUB "\"3333333333333333\""
#define HTML "text/html; charset=utf-8"

#define FILE_ENTRY(p, t, e, ge, d, dl, g, gl) \
	{ p, t, e, ge, d, g, dl, gl, STR_LEN(p) }

const struct romfs_file romfs_files[] = {
	FILE_ENTRY("app.js", "text/javascript; charset=utf-8", TAG_APP, NULL,
		   app_js, STR_LEN(app_js), NULL, 0),
	FILE_ENTRY("digits.txt", "text/plain; charset=utf-8", TAG_DIGITS,
		   TAG_DIGITS_GZ, digits, STR_LEN(digits), digits_gz,
		   STR_LEN(digits_gz)),
	FILE_ENTRY("empty.txt", "text/plain; charset=utf-8", TAG_EMPTY, NULL,
		   (const uint8_t *)"", 0, NULL, 0),
	FILE_ENTRY("index.html", HTML, TAG_INDEX, TAG_INDEX_GZ, index_html,
		   STR_LEN(index_html), index_gz, STR_LEN(index_gz)),
	FILE_ENTRY("sub/index.html", HTML, TAG_SUB, NULL, sub_html,
		   STR_LEN(sub_html), NULL, 0),
};
const unsigned romfs_count = ARRAY_LEN(romfs_files);

enum { F_APP, F_DIGITS, F_EMPTY, F_INDEX, F_SUB };

/* --- helpers ------------------------------------------------------------- */

static char *held[8];
static unsigned n_held;

/* An exact-length heap copy of s (NULL stays NULL: the field is absent). */
static struct http_slice field(const char *s)
{
	struct http_slice sl = { NULL, 0 };
	size_t len;
	char *p;

	if (s == NULL)
		return sl;
	len = strlen(s);
	p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	assert_true(n_held < ARRAY_LEN(held));
	held[n_held++] = p;
	sl.p = p;
	sl.len = (uint32_t)len;
	return sl;
}

static void release(void)
{
	while (n_held > 0)
		free(held[--n_held]);
}

struct req {
	uint8_t method;
	const char *inm, *ae, *range, *if_range;
};

static void decide(const struct romfs_file *f, const struct req *r,
		   struct romfs_answer *a)
{
	struct romfs_request rq;

	rq.method = r->method;
	rq.if_none_match = field(r->inm);
	rq.accept_encoding = field(r->ae);
	rq.range = field(r->range);
	rq.if_range = field(r->if_range);
	romfs_decide(f, &rq, a);
	release();
}

/* The head as a NUL-terminated string (empty for nothing written). */
static const char *head_of(const struct romfs_answer *a,
			   const struct romfs_file *f)
{
	static char buf[ROMFS_HEAD_MAX + 1];
	size_t n = romfs_write_head(a, f, buf, ROMFS_HEAD_MAX);

	buf[n] = '\0';
	return buf;
}

static const struct romfs_file *file(int i)
{
	return &romfs_files[i];
}

/* --- a file with no bytes in memory (Alias to a real folder) ------------- */

/*
 * dir.c hands romfs_decide() a view with data and gz NULL: the answer
 * must say which bytes to read (body_off, body_len) and never point
 * anywhere (body NULL, and no arithmetic on the NULL pointer either).
 */
static void test_file_without_data(void **state)
{
	static const struct romfs_file disk = {
		"big.bin", "application/octet-stream", "\"6b07a0cc-4c4b40\"", NULL,
		NULL, NULL, 5000000, 0, 7,
	};
	static const struct {
		struct req rq;
		uint16_t status;
		uint32_t off, len, length;
	} cases[] = {
		{ { ROMFS_GET, NULL, "gzip", NULL, NULL }, 200, 0, 5000000, 5000000 },
		{ { ROMFS_HEAD, NULL, NULL, NULL, NULL }, 200, 0, 0, 5000000 },
		{ { ROMFS_GET, NULL, NULL, "bytes=4000000-", NULL }, 206, 4000000, 1000000, 1000000 },
		{ { ROMFS_GET, NULL, NULL, "bytes=-10", NULL }, 206, 4999990, 10, 10 },
		{ { ROMFS_GET, NULL, NULL, "bytes=10-19", "\"6b07a0cc-4c4b40\"" }, 206, 10, 10, 10 },
		{ { ROMFS_GET, NULL, NULL, "bytes=10-19", "\"other\"" }, 200, 0, 5000000, 5000000 },
		{ { ROMFS_GET, NULL, NULL, "bytes=5000000-", NULL }, 416, 0, 0, 0 },
		{ { ROMFS_GET, "\"6b07a0cc-4c4b40\"", NULL, NULL, NULL }, 304, 0, 0, 0 },
		{ { ROMFS_OTHER, NULL, NULL, NULL, NULL }, 405, 0, 0, 0 },
	};
	struct romfs_answer a;

	(void)state;
	for (unsigned i = 0; i < ARRAY_LEN(cases); i++) {
		decide(&disk, &cases[i].rq, &a);
		assert_int_equal(a.status, cases[i].status);
		assert_null(a.body);
		assert_int_equal(a.body_off, cases[i].off);
		assert_int_equal(a.body_len, cases[i].len);
		assert_int_equal(a.length, cases[i].length);
		assert_int_equal(a.gzip, 0);
		assert_int_equal(a.vary, 0);
	}
}

/* --- lookup -------------------------------------------------------------- */

static void test_find(void **state)
{
	static const char *const missing[] = {
		"", "a", "app", "app.j", "app.jsx", "App.js", "/app.js",
		"index.htm", "index.html/", "sub", "sub/", "sub/index",
		"zzz", "\xff",
	};
	unsigned i;

	(void)state;
	for (i = 0; i + 1 < romfs_count; i++)
		assert_true(strcmp(romfs_files[i].path, romfs_files[i + 1].path) < 0);
	for (i = 0; i < romfs_count; i++) {
		const char *p = romfs_files[i].path;

		assert_ptr_equal(romfs_find(p, strlen(p)), &romfs_files[i]);
	}
	for (i = 0; i < ARRAY_LEN(missing); i++) {
		if (romfs_find(missing[i], strlen(missing[i])) != NULL)
			fail_msg("\"%s\" found", missing[i]);
	}
	/* The length counts, not a NUL. */
	assert_ptr_equal(romfs_find("app.js.map", 6), file(F_APP));
}

static void test_method(void **state)
{
	(void)state;
	assert_int_equal(romfs_method("GET", 3), ROMFS_GET);
	assert_int_equal(romfs_method("HEAD", 4), ROMFS_HEAD);
	assert_int_equal(romfs_method("get", 3), ROMFS_OTHER);
	assert_int_equal(romfs_method("GETS", 4), ROMFS_OTHER);
	assert_int_equal(romfs_method("GET", 2), ROMFS_OTHER);
	assert_int_equal(romfs_method("POST", 4), ROMFS_OTHER);
	assert_int_equal(romfs_method("", 0), ROMFS_OTHER);
}

/* --- plain answers ------------------------------------------------------- */

static void test_get_head(void **state)
{
	struct req get = { ROMFS_GET, NULL, NULL, NULL, NULL };
	struct req head = { ROMFS_HEAD, NULL, NULL, NULL, NULL };
	struct romfs_answer a;

	(void)state;
	decide(file(F_APP), &get, &a);
	assert_int_equal(a.status, 200);
	assert_ptr_equal(a.body, app_js);
	assert_int_equal(a.body_len, STR_LEN(app_js));
	assert_int_equal(a.length, STR_LEN(app_js));
	assert_int_equal(a.gzip, 0);
	assert_int_equal(a.vary, 0);
	assert_string_equal(head_of(&a, file(F_APP)),
		"Content-Type: text/javascript; charset=utf-8\r\n"
		"Content-Length: 16\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_APP "\r\n");

	decide(file(F_APP), &head, &a);
	assert_int_equal(a.status, 200);
	assert_null(a.body);
	assert_int_equal(a.body_len, 0);
	assert_int_equal(a.length, STR_LEN(app_js));
	assert_string_equal(head_of(&a, file(F_APP)),
		"Content-Type: text/javascript; charset=utf-8\r\n"
		"Content-Length: 16\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_APP "\r\n");

	decide(file(F_EMPTY), &get, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.body_len, 0);
	assert_string_equal(head_of(&a, file(F_EMPTY)),
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 0\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_EMPTY "\r\n");
}

static void test_not_found_and_method(void **state)
{
	struct req get = { ROMFS_GET, "*", "gzip", "bytes=0-1", NULL };
	struct req post = { ROMFS_OTHER, "*", "gzip", "bytes=0-1", NULL };
	struct romfs_answer a;
	char buf[8];

	(void)state;
	decide(NULL, &get, &a);
	assert_int_equal(a.status, 404);
	assert_null(a.body);
	assert_int_equal(romfs_write_head(&a, NULL, buf, sizeof(buf)), 0);

	/* A missing file is 404 whatever the method. */
	decide(NULL, &post, &a);
	assert_int_equal(a.status, 404);

	decide(file(F_INDEX), &post, &a);
	assert_int_equal(a.status, 405);
	assert_null(a.body);
	assert_int_equal(a.body_len, 0);
	assert_string_equal(head_of(&a, file(F_INDEX)), "Allow: GET, HEAD\r\n");
}

/* --- If-None-Match ------------------------------------------------------- */

struct inm_case {
	int file;
	uint8_t method;
	const char *inm, *ae;
	uint16_t status;
};

static const struct inm_case inm_cases[] = {
	{ F_APP, ROMFS_GET, TAG_APP, NULL, 304 },
	{ F_APP, ROMFS_HEAD, TAG_APP, NULL, 304 },
	{ F_APP, ROMFS_GET, "W/" TAG_APP, NULL, 304 },      /* weak comparison */
	{ F_APP, ROMFS_GET, "\"x\", " TAG_APP ", \"y\"", NULL, 304 },
	{ F_APP, ROMFS_GET, "\"x\",W/" TAG_APP, NULL, 304 },
	{ F_APP, ROMFS_GET, " ,, " TAG_APP " ,", NULL, 304 },
	{ F_APP, ROMFS_GET, "*", NULL, 304 },
	{ F_APP, ROMFS_GET, " * ", NULL, 304 },
	{ F_APP, ROMFS_GET, "\"x\"", NULL, 200 },
	{ F_APP, ROMFS_GET, "", NULL, 200 },
	{ F_APP, ROMFS_GET, TAG_INDEX, NULL, 200 },
	{ F_APP, ROMFS_GET, "aaaaaaaaaaaaaaaa", NULL, 200 },       /* unquoted */
	{ F_APP, ROMFS_GET, "\"aaaaaaaaaaaaaaaa", NULL, 200 },     /* unclosed */
	{ F_APP, ROMFS_GET, "w/" TAG_APP, NULL, 200 },          /* "W/" is case-sensitive */
	{ F_APP, ROMFS_GET, "W/ " TAG_APP, NULL, 200 },
	{ F_APP, ROMFS_GET, TAG_APP "x", NULL, 200 },
	{ F_APP, ROMFS_GET, "\"x\"junk, " TAG_APP, NULL, 200 },   /* stops at junk */
	{ F_APP, ROMFS_GET, TAG_APP ", junk", NULL, 304 },        /* matched before */
	{ F_APP, ROMFS_GET, "**", NULL, 200 },
	{ F_APP, ROMFS_GET, "*, " TAG_APP, NULL, 200 },         /* "*" stands alone */
	/* The tag of the representation that would be sent. */
	{ F_INDEX, ROMFS_GET, TAG_INDEX, NULL, 304 },
	{ F_INDEX, ROMFS_GET, TAG_INDEX_GZ, NULL, 200 },
	{ F_INDEX, ROMFS_GET, TAG_INDEX_GZ, "gzip", 304 },
	{ F_INDEX, ROMFS_GET, TAG_INDEX, "gzip", 200 },
	{ F_INDEX, ROMFS_GET, TAG_INDEX ", " TAG_INDEX_GZ, "gzip", 304 },
	{ F_INDEX, ROMFS_GET, "*", "gzip", 304 },
	{ F_INDEX, ROMFS_GET, TAG_INDEX, "gzip;q=0", 304 },
};

static void test_if_none_match(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(inm_cases); i++) {
		const struct inm_case *c = &inm_cases[i];
		struct req r = { c->method, c->inm, c->ae, NULL, NULL };
		struct romfs_answer a;

		decide(file(c->file), &r, &a);
		if (a.status != c->status)
			fail_msg("case %zu If-None-Match '%s': %u, want %u", i,
				 c->inm, a.status, c->status);
		if (a.status == 304) {
			assert_null(a.body);
			assert_int_equal(a.body_len, 0);
		}
	}
}

static void test_304_head(void **state)
{
	struct req plain = { ROMFS_GET, TAG_APP, NULL, NULL, NULL };
	struct req gz = { ROMFS_GET, TAG_INDEX_GZ, "gzip", NULL, NULL };
	struct req id = { ROMFS_GET, TAG_INDEX, NULL, NULL, NULL };
	struct romfs_answer a;

	(void)state;
	decide(file(F_APP), &plain, &a);
	assert_string_equal(head_of(&a, file(F_APP)), "ETag: " TAG_APP "\r\n");
	decide(file(F_INDEX), &gz, &a);
	assert_string_equal(head_of(&a, file(F_INDEX)),
			    "ETag: " TAG_INDEX_GZ "\r\nVary: Accept-Encoding\r\n");
	decide(file(F_INDEX), &id, &a);
	assert_string_equal(head_of(&a, file(F_INDEX)),
			    "ETag: " TAG_INDEX "\r\nVary: Accept-Encoding\r\n");
}

/* --- Accept-Encoding ----------------------------------------------------- */

struct ae_case {
	const char *ae;
	uint8_t gzip;
};

static const struct ae_case ae_cases[] = {
	{ NULL, 0 },                    /* absent: identity */
	{ "", 0 },                      /* only identity */
	{ "gzip", 1 },
	{ "GZip", 1 },
	{ "x-gzip", 1 },
	{ "gzip, deflate, br, zstd", 1 },
	{ "br;q=1.0, gzip;q=0.8, *;q=0.1", 1 },
	{ "deflate, br", 0 },
	{ "identity", 0 },
	{ "gzip;q=0", 0 },
	{ "gzip; q=0", 0 },
	{ "gzip ;q=0.000", 0 },
	{ "gzip;Q=0", 0 },
	{ "gzip;q=0.001", 1 },          /* identity has no weight unless given one */
	{ "gzip;q=0.5", 1 },
	{ "gzip;q=1", 1 },
	{ "gzip;q=1.000", 1 },
	{ "gzip;q=0.", 0 },             /* "0." and "1." are legal */
	{ "gzip;q=1.", 1 },
	{ "*", 1 },
	{ "*;q=0.5", 1 },               /* ties with identity: the smaller wins */
	{ "*;q=0", 0 },                 /* both excluded: identity anyway */
	{ "gzip;q=0, *", 0 },
	{ "*, gzip;q=0", 0 },
	{ "identity;q=0", 0 },          /* gzip not named */
	{ "identity;q=0, gzip;q=0.1", 1 },
	{ "identity;q=0, *", 1 },
	{ "gzip;q=0.5, identity", 0 },  /* identity preferred */
	{ "gzip;q=0.5, identity;q=0.4", 1 },
	{ "gzip;q=0.5, identity;q=0.5", 1 },
	{ "identity;q=0.9, *;q=0.95", 1 },
	{ "gzip, gzip;q=0", 1 },        /* the first mention counts */
	{ " , ,gzip , ", 1 },
	/* malformed elements are skipped */
	{ "gzip;q=1.5", 0 },
	{ "gzip;q=2", 0 },
	{ "gzip;q=0.0001", 0 },
	{ "gzip;q=1.001", 0 },
	{ "gzip;q=", 0 },
	{ "gzip;q", 0 },
	{ "gzip;level=1", 0 },
	{ "gzip;q =1", 0 },
	{ "gzip;q=.5", 0 },
	{ "gzip;q=-0", 0 },
	{ "gzip;q=1.5, *", 1 },         /* then * speaks for gzip */
	{ ";q=1", 0 },
	{ "gzipper", 0 },
	{ "gzi", 0 },
	{ "g zip", 0 },
};

static void test_accept_encoding(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ae_cases); i++) {
		const struct ae_case *c = &ae_cases[i];
		struct req r = { ROMFS_GET, NULL, c->ae, NULL, NULL };
		struct romfs_answer a;

		decide(file(F_INDEX), &r, &a);
		assert_int_equal(a.status, 200);
		if (a.gzip != c->gzip)
			fail_msg("case %zu Accept-Encoding '%s': gzip %u, want %u",
				 i, c->ae ? c->ae : "(absent)", a.gzip, c->gzip);
		assert_int_equal(a.vary, 1);
		assert_ptr_equal(a.body, c->gzip ? index_gz : index_html);
		assert_int_equal(a.body_len, c->gzip ? STR_LEN(index_gz) :
				 STR_LEN(index_html));
		/* Without a gzip variant there is nothing to choose, nor Vary. */
		decide(file(F_SUB), &r, &a);
		assert_int_equal(a.gzip, 0);
		assert_int_equal(a.vary, 0);
		assert_ptr_equal(a.body, sub_html);
	}
}

static void test_gzip_head(void **state)
{
	struct req gz = { ROMFS_GET, NULL, "gzip", NULL, NULL };
	struct req id = { ROMFS_HEAD, NULL, "br", NULL, NULL };
	struct romfs_answer a;

	(void)state;
	decide(file(F_INDEX), &gz, &a);
	assert_string_equal(head_of(&a, file(F_INDEX)),
		"Content-Type: " HTML "\r\n"
		"Content-Length: 8\r\n"
		"Content-Encoding: gzip\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_INDEX_GZ "\r\n"
		"Vary: Accept-Encoding\r\n");
	decide(file(F_INDEX), &id, &a);
	assert_null(a.body);
	assert_string_equal(head_of(&a, file(F_INDEX)),
		"Content-Type: " HTML "\r\n"
		"Content-Length: 17\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_INDEX "\r\n"
		"Vary: Accept-Encoding\r\n");
}

/* --- Range --------------------------------------------------------------- */

struct range_case {
	int file;
	uint8_t method;
	const char *range, *if_range, *ae;
	uint16_t status;
	uint32_t first, last;          /* 206 only */
};

#define GET ROMFS_GET
static const struct range_case range_cases[] = {
	{ F_DIGITS, GET, "bytes=0-4", NULL, NULL, 206, 0, 4 },
	{ F_DIGITS, GET, "bytes=0-0", NULL, NULL, 206, 0, 0 },
	{ F_DIGITS, GET, "bytes=9-9", NULL, NULL, 206, 9, 9 },
	{ F_DIGITS, GET, "bytes=5-", NULL, NULL, 206, 5, 9 },
	{ F_DIGITS, GET, "bytes=0-", NULL, NULL, 206, 0, 9 },
	{ F_DIGITS, GET, "bytes=-3", NULL, NULL, 206, 7, 9 },
	{ F_DIGITS, GET, "bytes=-10", NULL, NULL, 206, 0, 9 },
	{ F_DIGITS, GET, "bytes=-20", NULL, NULL, 206, 0, 9 },
	{ F_DIGITS, GET, "bytes=3-100", NULL, NULL, 206, 3, 9 },
	{ F_DIGITS, GET, "bytes=007-008", NULL, NULL, 206, 7, 8 },
	{ F_DIGITS, GET, "BYTES=1-2", NULL, NULL, 206, 1, 2 },
	{ F_DIGITS, GET, "bytes= 1-2", NULL, NULL, 206, 1, 2 },
	{ F_DIGITS, GET, "bytes=1-2 ,", NULL, NULL, 206, 1, 2 },
	{ F_DIGITS, GET, "bytes=,, 1-2", NULL, NULL, 206, 1, 2 },
	{ F_DIGITS, GET, "bytes=0-99999999999999999999", NULL, NULL, 206, 0, 9 },
	{ F_DIGITS, GET, "bytes=-99999999999999999999", NULL, NULL, 206, 0, 9 },
	{ F_DIGITS, GET, "bytes=4294967295-", NULL, NULL, 416, 0, 0 },
	/* unsatisfiable */
	{ F_DIGITS, GET, "bytes=10-", NULL, NULL, 416, 0, 0 },
	{ F_DIGITS, GET, "bytes=10-20", NULL, NULL, 416, 0, 0 },
	{ F_DIGITS, GET, "bytes=-0", NULL, NULL, 416, 0, 0 },
	{ F_DIGITS, GET, "bytes=99999999999999999999-", NULL, NULL, 416, 0, 0 },
	{ F_EMPTY, GET, "bytes=0-", NULL, NULL, 416, 0, 0 },
	{ F_EMPTY, GET, "bytes=-5", NULL, NULL, 200, 0, 0 },  /* no byte to name */
	/* ignored: several ranges, bad syntax, another unit */
	{ F_DIGITS, GET, "bytes=0-1,3-4", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-1, 20-30", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=5-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=99999999999999999999-99999999999999999998",
	  NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=,", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=-", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=a-b", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=1 -2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=1- 2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=1-2-3", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=+1-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=--1", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes = 1-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes 1-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "byte=1-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "items=1-2", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "", NULL, NULL, 200, 0, 0 },
	/* Range is for GET only (RFC 9110 §14.2) */
	{ F_DIGITS, ROMFS_HEAD, "bytes=0-4", NULL, NULL, 200, 0, 0 },
	{ F_DIGITS, ROMFS_HEAD, "bytes=20-", NULL, NULL, 200, 0, 0 },
	/* If-Range: a strong match with the identity tag, else the whole file */
	{ F_DIGITS, GET, "bytes=0-4", TAG_DIGITS, NULL, 206, 0, 4 },
	{ F_DIGITS, GET, "bytes=0-4", " " TAG_DIGITS " ", NULL, 206, 0, 4 },
	{ F_DIGITS, GET, "bytes=20-", TAG_DIGITS, NULL, 416, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-4", "W/" TAG_DIGITS, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-4", TAG_DIGITS_GZ, NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-4", "\"other\"", NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=20-", "\"other\"", NULL, 200, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-4", "Sun, 06 Nov 1994 08:49:37 GMT", NULL,
	  200, 0, 0 },
	{ F_DIGITS, GET, "bytes=0-4", "", NULL, 200, 0, 0 },
	{ F_DIGITS, GET, NULL, TAG_DIGITS, NULL, 200, 0, 0 },
};
#undef GET

static void test_range(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		const struct romfs_file *f = file(c->file);
		struct req r = { c->method, NULL, c->ae, c->range, c->if_range };
		struct romfs_answer a;

		decide(f, &r, &a);
		if (a.status != c->status)
			fail_msg("case %zu Range '%s' If-Range '%s': %u, want %u",
				 i, c->range ? c->range : "(absent)",
				 c->if_range ? c->if_range : "(absent)",
				 a.status, c->status);
		assert_int_equal(a.total_len, f->len);
		if (a.status == 206) {
			assert_int_equal(a.range_first, c->first);
			assert_int_equal(a.range_last, c->last);
			assert_ptr_equal(a.body, f->data + c->first);
			assert_int_equal(a.body_len, c->last - c->first + 1);
			assert_int_equal(a.length, a.body_len);
		} else if (a.status == 416) {
			assert_null(a.body);
			assert_int_equal(a.body_len, 0);
		} else if (c->method == ROMFS_GET) {
			assert_ptr_equal(a.body, f->data);
			assert_int_equal(a.body_len, f->len);
		}
	}
}

/* Ranges count identity bytes: gzip is set aside, Vary still goes out. */
static void test_range_and_gzip(void **state)
{
	struct req ranged = { ROMFS_GET, NULL, "gzip", "bytes=2-5", NULL };
	struct req multi = { ROMFS_GET, NULL, "gzip", "bytes=0-1,4-5", NULL };
	struct req unsat = { ROMFS_GET, NULL, "gzip", "bytes=50-", NULL };
	struct req stale = { ROMFS_GET, NULL, "gzip", "bytes=2-5", "\"old\"" };
	struct req inm = { ROMFS_GET, TAG_DIGITS, "gzip", "bytes=2-5", NULL };
	struct req inm_unsat = { ROMFS_GET, TAG_DIGITS, NULL, "bytes=50-", NULL };
	struct romfs_answer a;

	(void)state;
	decide(file(F_DIGITS), &ranged, &a);
	assert_int_equal(a.status, 206);
	assert_int_equal(a.gzip, 0);
	assert_int_equal(a.vary, 1);
	assert_ptr_equal(a.body, digits + 2);
	assert_string_equal(head_of(&a, file(F_DIGITS)),
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 4\r\n"
		"Content-Range: bytes 2-5/10\r\n"
		"Accept-Ranges: bytes\r\n"
		"ETag: " TAG_DIGITS "\r\n"
		"Vary: Accept-Encoding\r\n");

	/* An ignored Range leaves the choice to Accept-Encoding. */
	decide(file(F_DIGITS), &multi, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.gzip, 1);
	assert_ptr_equal(a.body, digits_gz);
	decide(file(F_DIGITS), &stale, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.gzip, 1);

	decide(file(F_DIGITS), &unsat, &a);
	assert_int_equal(a.status, 416);
	assert_int_equal(a.gzip, 0);
	assert_string_equal(head_of(&a, file(F_DIGITS)),
		"Content-Range: bytes */10\r\n"
		"Accept-Ranges: bytes\r\n");

	/* If-None-Match comes before Range (RFC 9110 §13.2.2). */
	decide(file(F_DIGITS), &inm, &a);
	assert_int_equal(a.status, 304);
	decide(file(F_DIGITS), &inm_unsat, &a);
	assert_int_equal(a.status, 304);
}

/* --- the head's bounds --------------------------------------------------- */

static void test_head_fits_or_nothing(void **state)
{
	struct req gz = { ROMFS_GET, NULL, "gzip", NULL, NULL };
	struct romfs_answer a;
	char buf[ROMFS_HEAD_MAX];
	size_t full, cap;

	(void)state;
	decide(file(F_INDEX), &gz, &a);
	full = romfs_write_head(&a, file(F_INDEX), buf, sizeof(buf));
	assert_true(full > 0);
	for (cap = 0; cap < full; cap++)
		assert_int_equal(romfs_write_head(&a, file(F_INDEX), buf, cap), 0);
	assert_int_equal(romfs_write_head(&a, file(F_INDEX), buf, full), full);
}

/* The longest head: a 206 of the largest range with the longest type and tag. */
static void test_head_max(void **state)
{
	static char type[ROMFS_TYPE_MAX + 1], tag[ROMFS_ETAG_MAX + 1];
	struct romfs_file big = { "big", type, tag, tag, digits, digits, 0, 0, 3 };
	struct romfs_answer a;
	char buf[ROMFS_HEAD_MAX];

	(void)state;
	memset(type, 't', ROMFS_TYPE_MAX);
	memset(tag, 'e', ROMFS_ETAG_MAX);
	memset(&a, 0, sizeof(a));
	a.status = 206;
	a.vary = 1;
	a.length = UINT32_MAX;
	a.range_first = UINT32_MAX - 1;
	a.range_last = UINT32_MAX - 1;
	a.total_len = UINT32_MAX;
	assert_int_equal(romfs_write_head(&a, &big, buf, sizeof(buf)),
			 ROMFS_HEAD_MAX);
	a.status = 200;
	a.gzip = 1;
	assert_true(romfs_write_head(&a, &big, buf, sizeof(buf)) > 0);
}

/* --- path mapping -------------------------------------------------------- */

struct map_case {
	const char *in;
	size_t len;                   /* 0: strlen(in) */
	const char *index;
	int ret;                      /* > 0: strlen(out) */
	const char *out;
};

#define IDX "index.html"
static const struct map_case map_cases[] = {
	{ "", 0, IDX, 1, "index.html" },
	{ "/", 0, IDX, 1, "index.html" },
	{ "app.js", 0, IDX, 1, "app.js" },
	{ "/app.js", 0, IDX, 1, "app.js" },
	{ "/sub/", 0, IDX, 1, "sub/index.html" },
	{ "sub/", 0, IDX, 1, "sub/index.html" },
	{ "/a/b/c.css", 0, IDX, 1, "a/b/c.css" },
	{ "/.well-known/x", 0, IDX, 1, ".well-known/x" },
	{ "/...", 0, IDX, 1, "..." },
	{ "/a..b", 0, IDX, 1, "a..b" },
	{ "/sub", 0, IDX, 1, "sub" },       /* a file name; no redirect here */
	{ "/", 0, "home.htm", 1, "home.htm" },
	/* no index */
	{ "/", 0, NULL, ROMFS_EBADPATH, NULL },
	{ "/sub/", 0, "", ROMFS_EBADPATH, NULL },
	/* traversal and things a normaliser should have removed */
	{ "..", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/..", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/../etc/passwd", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a/../../etc/passwd", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a/..", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a/../", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/.", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/./a", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a/./b", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "//a", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "//", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a//b", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a//", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/%2e%2e/etc/passwd", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a%2f..%2fb", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/%252e%252e/x", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a%00", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/..\\..\\etc", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a\\b", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a\x01", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a\x7f", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a\nb", 0, IDX, ROMFS_EBADPATH, NULL },
	{ "/a\0/../b", 8, IDX, ROMFS_EBADPATH, NULL },
	{ "/ok\0", 4, IDX, ROMFS_EBADPATH, NULL },
	/* a bad index is refused like a bad path */
	{ "/", 0, "../secret", ROMFS_EBADPATH, NULL },
	{ "/", 0, "/index.html", ROMFS_EBADPATH, NULL },
	{ "/sub/", 0, "x/", ROMFS_EBADPATH, NULL },
};
#undef IDX

static void test_map_path(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(map_cases); i++) {
		const struct map_case *c = &map_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		char out[64];
		int n;

		memset(out, 'X', sizeof(out));
		n = romfs_map_path(c->in, len, c->index, out, sizeof(out));
		if (c->ret > 0) {
			if (n != (int)strlen(c->out) || strcmp(out, c->out) != 0)
				fail_msg("case %zu '%s': %d '%s', want '%s'", i, c->in,
					 n, n >= 0 ? out : "", c->out);
		} else if (n != c->ret) {
			fail_msg("case %zu '%s': %d, want %d", i, c->in, n, c->ret);
		}
	}
}

static void test_map_path_cap(void **state)
{
	char out[16];

	(void)state;
	/* "sub/index.html" is 14 bytes: with its NUL it needs 15. */
	assert_int_equal(romfs_map_path("/sub/", 5, "index.html", out, 15), 14);
	assert_string_equal(out, "sub/index.html");
	assert_int_equal(romfs_map_path("/sub/", 5, "index.html", out, 14),
			 ROMFS_ETOOLONG);
	assert_int_equal(romfs_map_path("/app.js", 7, NULL, out, 7), 6);
	assert_int_equal(romfs_map_path("/app.js", 7, NULL, out, 6),
			 ROMFS_ETOOLONG);
	assert_int_equal(romfs_map_path("/x", 2, NULL, out, 0), ROMFS_ETOOLONG);
}

/* Mapped, then found: what the integrator's handler does. */
static void test_map_then_find(void **state)
{
	char out[64];
	int n;

	(void)state;
	n = romfs_map_path("/", 1, "index.html", out, sizeof(out));
	assert_ptr_equal(romfs_find(out, (size_t)n), file(F_INDEX));
	n = romfs_map_path("/sub/", 5, "index.html", out, sizeof(out));
	assert_ptr_equal(romfs_find(out, (size_t)n), file(F_SUB));
	n = romfs_map_path("/nope.css", 9, "index.html", out, sizeof(out));
	assert_null(romfs_find(out, (size_t)n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_get_head),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_304_head),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_gzip_head),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_and_gzip),
		cmocka_unit_test(test_head_fits_or_nothing),
		cmocka_unit_test(test_head_max),
		cmocka_unit_test(test_map_path),
		cmocka_unit_test(test_map_path_cap),
		cmocka_unit_test(test_map_then_find),
		cmocka_unit_test(test_file_without_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
