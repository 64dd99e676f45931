/*
 * test_http_chunked.c - the chunked-body decoder. Every case of the table
 * is decoded whole from an exact-size buffer, then in place (out is the
 * input buffer itself) cut at every split point and fed one byte at a
 * time, then one byte per exact-size copy into a separate output: the
 * result, the data, total and done must be the same each way, and the
 * bytes after the body (a pipelined request) must be left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_chunked.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TMAX 64          /* trailer limit of most cases */

/* A string literal with its length, so inputs may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

enum want { DONE, MORE, BAD };

struct chunk_case {
	const char *in;
	size_t len;
	enum want want;
	size_t tail;         /* DONE: bytes after the body, left unconsumed */
	const char *data;    /* DONE, MORE: the decoded data */
	size_t data_len;
	uint32_t tmax;
};

static const struct chunk_case cases[] = {
	/* valid bodies */
	{ S("0\r\n\r\n"), DONE, 0, S(""), TMAX },
	{ S("5\r\nhello\r\n0\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n"), DONE, 0,
	  S("abcdefgh"), TMAX },
	{ S("A\r\n0123456789\r\n0\r\n\r\n"), DONE, 0, S("0123456789"), TMAX },
	{ S("b\r\n0123456789a\r\n0\r\n\r\n"), DONE, 0, S("0123456789a"), TMAX },
	{ S("1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"), DONE, 0,
	  S("abcdefghijklmnopqrstuvwxyz"), TMAX },
	{ S("0005\r\nhello\r\n000\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("000000000000005\r\nhello\r\n000000000000000\r\n\r\n"), DONE, 0,
	  S("hello"), TMAX },
	/* chunk data is opaque: CRLF, NUL, a size-like line inside it */
	{ S("4\r\n\r\n\0\xff\r\n7\r\n0\r\n\r\nxy\r\n0\r\n\r\n"), DONE, 0,
	  S("\r\n\0\xff" "0\r\n\r\nxy"), TMAX },
	/* extensions, with BWS before ';' and around '=' */
	{ S("5;name=value\r\nhello\r\n0;last\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("5;a=\"b c;d\";e\r\nhello\r\n0\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("5 ;a\r\nhello\r\n0\t \t;z\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("5\t; a = b\r\nhello\r\n0\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("5;a=\"\x80\xff\"\r\nhello\r\n0\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	{ S("5;\r\nhello\r\n0\r\n\r\n"), DONE, 0, S("hello"), TMAX },
	/* trailers are read and dropped */
	{ S("5\r\nhello\r\n0\r\nX-A: 1\r\nX-B:\t2 3\r\n\r\n"), DONE, 0,
	  S("hello"), TMAX },
	{ S("0\r\nX: 1\r\n\r\n"), DONE, 0, S(""), 6 },
	{ S("0\r\nX: 1\n\n"), DONE, 0, S(""), 5 },
	{ S("0\r\nX:\r\n\r\n"), DONE, 0, S(""), TMAX },
	/* bare LF as line end, alone or mixed with CRLF */
	{ S("5\nhello\n0\n\n"), DONE, 0, S("hello"), TMAX },
	{ S("5;x\nhello\r\n0\nT: v\n\r\n"), DONE, 0, S("hello"), TMAX },
	/* pipelined bytes after the body are not consumed */
	{ S("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), DONE, 18,
	  S("hello"), TMAX },
	{ S("0\r\n\r\n0\r\n\r\n"), DONE, 5, S(""), TMAX },
	{ S("0\n\n\n"), DONE, 1, S(""), TMAX },
	{ S("0\r\nX: 1\r\n\r\n\r"), DONE, 1, S(""), TMAX },

	/* incomplete: all consumed, not done, data so far written */
	{ S(""), MORE, 0, S(""), TMAX },
	{ S("5"), MORE, 0, S(""), TMAX },
	{ S("5\r"), MORE, 0, S(""), TMAX },
	{ S("5\r\nhel"), MORE, 0, S("hel"), TMAX },
	{ S("5\r\nhello"), MORE, 0, S("hello"), TMAX },
	{ S("5\r\nhello\r"), MORE, 0, S("hello"), TMAX },
	{ S("5\r\nhello\r\n"), MORE, 0, S("hello"), TMAX },
	{ S("5;a=b"), MORE, 0, S(""), TMAX },
	{ S("0\r\n"), MORE, 0, S(""), TMAX },
	{ S("0\r\nX: y\r\n"), MORE, 0, S(""), TMAX },
	{ S("0\r\nX: y\r\n\r"), MORE, 0, S(""), TMAX },
	{ S("FFFFFFFFFFFFFFF\r\nabc"), MORE, 0, S("abc"), TMAX },

	/* a bad size */
	{ S("\r\n"), BAD, 0, S(""), TMAX },
	{ S("\n"), BAD, 0, S(""), TMAX },
	{ S(";a\r\n"), BAD, 0, S(""), TMAX },
	{ S("x\r\n"), BAD, 0, S(""), TMAX },
	{ S("g\r\n"), BAD, 0, S(""), TMAX },
	{ S("-5\r\n"), BAD, 0, S(""), TMAX },
	{ S("+5\r\n"), BAD, 0, S(""), TMAX },
	{ S("0x5\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S(" 5\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("\t5\r\n"), BAD, 0, S(""), TMAX },
	{ S("5 5\r\n"), BAD, 0, S(""), TMAX },
	{ S("5 \r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5\t\n"), BAD, 0, S(""), TMAX },
	{ S("5,6\r\n"), BAD, 0, S(""), TMAX },
	{ S("0000000000000005\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("1000000000000000\r\n"), BAD, 0, S(""), TMAX },
	{ S("0000000000000000\r\n\r\n"), BAD, 0, S(""), TMAX },
	/* bare CR, or no CRLF where one is due */
	{ S("5\rhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5\r\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5;a\rb\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5\r\nhelloX\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5\r\nhello0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5\r\nhello\rX"), BAD, 0, S(""), TMAX },
	{ S("5\r\nhello\r\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("4\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\n\rX"), BAD, 0, S(""), TMAX },
	{ S("0\r\n\r\r\n"), BAD, 0, S(""), TMAX },
	/* control bytes in an extension */
	{ S("5;a\x01\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5;\0\r\nhello\r\n0\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("5 x\r\n"), BAD, 0, S(""), TMAX },
	/* bad trailers */
	{ S("0\r\nfoo\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nfoo\n\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nX: a\x01\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nX\x7f: a\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nX: a\rb\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nX: a\r\r\n\r\n"), BAD, 0, S(""), TMAX },
	{ S("0\r\nX: 1\r\n\r\n"), BAD, 0, S(""), 5 },
	{ S("0\r\nX: 1\n\n"), BAD, 0, S(""), 4 },
	{ S("0\r\nX: 1\r\n\r\n"), BAD, 0, S(""), 0 },
};

struct run {
	long rc;             /* -1, or all bytes consumed over the calls */
	int done;
	uint64_t total;
	size_t out_len;
};

/*
 * Decode buf[0..len) in place: the first piece ends at first, the next
 * ones are step bytes long. Each call must consume its whole piece unless
 * it finished the body, and out_len must never pass what was consumed.
 */
static struct run run_in_place(uint8_t *buf, size_t len, uint32_t tmax,
			       size_t first, size_t step)
{
	struct http_chunked d;
	struct run r = { 0, 0, 0, 0 };
	size_t pos = 0, end = first;

	http_chunked_init(&d, tmax);
	while (pos < len && !d.done) {
		long rc;

		if (end > len)
			end = len;
		rc = http_chunked_decode(&d, buf + pos, end - pos, buf,
					 &r.out_len);
		if (rc < 0) {
			assert_int_equal(rc, -1);
			r.rc = -1;
			return r;
		}
		assert_true((size_t)rc <= end - pos);
		if (!d.done)
			assert_int_equal(rc, end - pos);
		pos += (size_t)rc;
		assert_true(r.out_len <= pos);
		end += step;
	}
	r.rc = (long)pos;
	r.done = d.done;
	r.total = d.total;
	return r;
}

static void check(const struct chunk_case *c, const struct run *r,
		  const uint8_t *out, const uint8_t *raw)
{
	if (c->want == BAD) {
		assert_int_equal(r->rc, -1);
		return;
	}
	assert_int_equal(r->done, c->want == DONE);
	assert_int_equal(r->rc, c->len - (c->want == DONE ? c->tail : 0));
	assert_int_equal(r->out_len, c->data_len);
	assert_int_equal(r->total, c->data_len);
	assert_memory_equal(out, c->data, c->data_len);
	if (raw != NULL && c->tail > 0)
		assert_memory_equal(raw + c->len - c->tail,
				    c->in + c->len - c->tail, c->tail);
}

/* A fresh exact-size copy of the input, so ASan sees a read past it. */
static uint8_t *copy_of(const struct chunk_case *c)
{
	uint8_t *buf = malloc(c->len ? c->len : 1);

	assert_non_null(buf);
	memcpy(buf, c->in, c->len);
	return buf;
}

static void test_whole(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t *buf = copy_of(&cases[i]);
		struct run r = run_in_place(buf, cases[i].len, cases[i].tmax,
					    cases[i].len, 1);

		check(&cases[i], &r, buf, buf);
		free(buf);
	}
}

static void test_every_split_in_place(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		for (k = 0; k <= cases[i].len; k++) {
			uint8_t *buf = copy_of(&cases[i]);
			struct run r = run_in_place(buf, cases[i].len,
						    cases[i].tmax, k,
						    cases[i].len + 1);

			check(&cases[i], &r, buf, buf);
			free(buf);
		}
	}
}

static void test_bytewise_in_place(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t *buf = copy_of(&cases[i]);
		struct run r = run_in_place(buf, cases[i].len, cases[i].tmax,
					    1, 1);

		check(&cases[i], &r, buf, buf);
		free(buf);
	}
}

/* One byte per exact-size copy, into a separate output. */
static void test_bytewise_copies(void **state)
{
	size_t i, pos;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct chunk_case *c = &cases[i];
		uint8_t *out = malloc(c->len + 1);
		struct http_chunked d;
		struct run r = { 0, 0, 0, 0 };

		assert_non_null(out);
		http_chunked_init(&d, c->tmax);
		for (pos = 0; pos < c->len && !d.done; pos++) {
			uint8_t *byte = malloc(1);
			long rc;

			assert_non_null(byte);
			*byte = (uint8_t)c->in[pos];
			rc = http_chunked_decode(&d, byte, 1, out, &r.out_len);
			free(byte);
			if (rc < 0)
				break;
			assert_int_equal(rc, 1);
		}
		r.rc = pos < c->len && !d.done ? -1 : (long)pos;
		r.done = d.done;
		r.total = d.total;
		check(c, &r, out, NULL);
		free(out);
	}
}

/* An extension of exactly HTTP_CHUNK_EXT_MAX bytes, ';' included, is fine. */
static void test_ext_limit(void **state)
{
	static const char head[] = "5", rest[] = "\r\nhello\r\n0\r\n\r\n";
	uint8_t buf[sizeof(head) + HTTP_CHUNK_EXT_MAX + sizeof(rest)];
	size_t ext, len, out_len;
	struct http_chunked d;

	(void)state;
	for (ext = HTTP_CHUNK_EXT_MAX; ext <= HTTP_CHUNK_EXT_MAX + 1; ext++) {
		memcpy(buf, head, 1);
		buf[1] = ';';
		memset(buf + 2, 'e', ext - 1);
		memcpy(buf + 1 + ext, rest, sizeof(rest) - 1);
		len = 1 + ext + sizeof(rest) - 1;
		out_len = 0;
		http_chunked_init(&d, TMAX);
		if (ext == HTTP_CHUNK_EXT_MAX) {
			assert_int_equal(http_chunked_decode(&d, buf, len, buf,
							     &out_len), len);
			assert_true(d.done);
			assert_memory_equal(buf, "hello", 5);
		} else {
			assert_int_equal(http_chunked_decode(&d, buf, len, buf,
							     &out_len), -1);
		}
	}
}

/* The limit is per size line: long extensions on many lines are fine. */
static void test_ext_limit_per_line(void **state)
{
	uint8_t buf[2 * (HTTP_CHUNK_EXT_MAX + 8)];
	size_t len = 0, out_len = 0, n;
	struct http_chunked d;

	(void)state;
	for (n = 0; n < 2; n++) {
		buf[len++] = n ? '0' : '1';
		buf[len++] = ';';
		memset(buf + len, 'e', HTTP_CHUNK_EXT_MAX - 1);
		len += HTTP_CHUNK_EXT_MAX - 1;
		memcpy(buf + len, n ? "\r\n\r\n" : "\r\nZ\r\n", n ? 4 : 5);
		len += n ? 4 : 5;
	}
	http_chunked_init(&d, TMAX);
	assert_int_equal(http_chunked_decode(&d, buf, len, buf, &out_len), len);
	assert_true(d.done);
	assert_int_equal(out_len, 1);
	assert_int_equal(buf[0], 'Z');
}

/* The output is appended at out + *out_len; the size is kept in full. */
static void test_append_and_remaining(void **state)
{
	uint8_t in[] = "FFFFFFFFFFFFFFF\r\nab";
	uint8_t out[8] = "xy";
	size_t out_len = 2;
	struct http_chunked d;

	(void)state;
	http_chunked_init(&d, TMAX);
	assert_int_equal(http_chunked_decode(&d, in, sizeof(in) - 1, out,
					     &out_len), sizeof(in) - 1);
	assert_int_equal(out_len, 4);
	assert_memory_equal(out, "xyab", 4);
	assert_true(d.remaining == 0xFFFFFFFFFFFFFFFull - 2);
	assert_true(d.total == 2);
	assert_false(d.done);
}

static void test_error_sticky_and_done_stays(void **state)
{
	static const uint8_t bad[] = "5\rX", good[] = "1\r\na\r\n0\r\n\r\n";
	static const uint8_t more[] = "1\r\nb\r\n0\r\n\r\n";
	uint8_t out[16];
	size_t out_len = 0;
	struct http_chunked d;

	(void)state;
	http_chunked_init(&d, TMAX);
	assert_int_equal(http_chunked_decode(&d, bad, 3, out, &out_len), -1);
	assert_int_equal(http_chunked_decode(&d, good, sizeof(good) - 1, out,
					     &out_len), -1);
	assert_int_equal(out_len, 0);

	http_chunked_init(&d, TMAX);
	assert_int_equal(http_chunked_decode(&d, good, sizeof(good) - 1, out,
					     &out_len), sizeof(good) - 1);
	assert_true(d.done);
	assert_int_equal(http_chunked_decode(&d, more, sizeof(more) - 1, out,
					     &out_len), 0);
	assert_int_equal(out_len, 1);
	assert_true(d.total == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_every_split_in_place),
		cmocka_unit_test(test_bytewise_in_place),
		cmocka_unit_test(test_bytewise_copies),
		cmocka_unit_test(test_ext_limit),
		cmocka_unit_test(test_ext_limit_per_line),
		cmocka_unit_test(test_append_and_remaining),
		cmocka_unit_test(test_error_sticky_and_done_stays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
