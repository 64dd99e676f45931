/*
 * test_fcgi.c - FastCGI record codec: the writers byte for byte, and the
 * decoder fed every split of a realistic stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fcgi.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define REQ_ID 1
#define OTHER_ID 2
#define MiB (1024u * 1024u)

/* ---- writers ----------------------------------------------------------- */

static void test_put_header(void **state)
{
	static const uint8_t want[FCGI_HEADER_LEN] = {
		1, FCGI_STDIN, 0x12, 0x34, 0xff, 0xfe, 2, 0,
	};
	uint8_t buf[FCGI_HEADER_LEN];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	fcgi_put_header(buf, FCGI_STDIN, 0x1234, 0xfffe, 2);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_begin_request_bytes(void **state)
{
	/* FastCGI spec §5.1: header, then roleB1 roleB0 flags reserved[5]. */
	static const uint8_t want_keep[16] = {
		1, 1, 0, 1, 0, 8, 0, 0,
		0, 1, 1, 0, 0, 0, 0, 0,
	};
	static const uint8_t want_auth[16] = {
		1, 1, 0xbe, 0xef, 0, 8, 0, 0,
		0, 2, 0, 0, 0, 0, 0, 0,
	};
	uint8_t buf[16];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(fcgi_put_begin_request(buf, 1, FCGI_RESPONDER,
						FCGI_KEEP_CONN), 16);
	assert_memory_equal(buf, want_keep, sizeof(buf));
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(fcgi_put_begin_request(buf, 0xbeef, FCGI_AUTHORIZER,
						0), 16);
	assert_memory_equal(buf, want_auth, sizeof(buf));
}

static void test_abort_request_bytes(void **state)
{
	static const uint8_t want[8] = { 1, 2, 0x01, 0x02, 0, 0, 0, 0 };
	uint8_t buf[9];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(fcgi_put_abort_request(buf, 0x0102), 8);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[8], 0xaa);
}

static void test_padding(void **state)
{
	static const struct { uint16_t len; uint8_t pad; } cases[] = {
		{ 0, 0 }, { 1, 7 }, { 2, 6 }, { 7, 1 }, { 8, 0 }, { 9, 7 },
		{ 16, 0 }, { 100, 4 }, { 65528, 0 }, { 65535, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(fcgi_padding(cases[i].len), cases[i].pad);
}

/* The test's own reading of a length field (spec §3.4). */
static size_t read_nv_len(const uint8_t *p, size_t *len)
{
	if (!(p[0] & 0x80)) {
		*len = p[0];
		return 1;
	}
	*len = ((size_t)(p[0] & 0x7f) << 24) | ((size_t)p[1] << 16) |
	       ((size_t)p[2] << 8) | p[3];
	return 4;
}

static void test_nv_lengths(void **state)
{
	static const struct {
		size_t len;
		size_t bytes;
		uint8_t enc[4];
	} cases[] = {
		{ 0, 1, { 0 } },
		{ 1, 1, { 1 } },
		{ 127, 1, { 0x7f } },
		{ 128, 4, { 0x80, 0, 0, 0x80 } },
		{ 65535, 4, { 0x80, 0, 0xff, 0xff } },
		{ MiB, 4, { 0x80, 0x10, 0, 0 } },
		{ 0x7fffffff, 4, { 0xff, 0xff, 0xff, 0xff } },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		for (j = 0; j < ARRAY_LEN(cases); j++) {
			uint8_t buf[8];
			size_t n, name, value, off;

			memset(buf, 0xaa, sizeof(buf));
			n = fcgi_put_nv_lengths(buf, cases[i].len, cases[j].len);
			assert_int_equal(n, cases[i].bytes + cases[j].bytes);
			assert_memory_equal(buf, cases[i].enc, cases[i].bytes);
			assert_memory_equal(buf + cases[i].bytes, cases[j].enc,
					    cases[j].bytes);
			if (n < sizeof(buf))
				assert_int_equal(buf[n], 0xaa);
			off = read_nv_len(buf, &name);
			off += read_nv_len(buf + off, &value);
			assert_int_equal(off, n);
			assert_int_equal(name, cases[i].len);
			assert_int_equal(value, cases[j].len);
			assert_int_equal(fcgi_nv_size(cases[i].len, cases[j].len),
					 n + cases[i].len + cases[j].len);
		}
	}
}

static void test_nv_too_long(void **state)
{
	uint8_t buf[8];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(fcgi_nv_size((size_t)FCGI_NV_LEN_MAX + 1, 0), 0);
	assert_int_equal(fcgi_nv_size(0, (size_t)FCGI_NV_LEN_MAX + 1), 0);
	assert_int_equal(fcgi_put_nv_lengths(buf, (size_t)FCGI_NV_LEN_MAX + 1,
					     1), 0);
	assert_int_equal(fcgi_put_nv_lengths(buf, 1,
					     (size_t)FCGI_NV_LEN_MAX + 1), 0);
	assert_int_equal(buf[0], 0xaa);
}

/* ---- decoder: a stream builder and a splitting feeder ------------------- */

struct stream {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct stream *s, const void *data, size_t len)
{
	assert_true(s->len + len <= s->cap);
	if (len > 0)
		memcpy(s->p + s->len, data, len);
	s->len += len;
}

static void put_record(struct stream *s, uint8_t type, uint16_t id,
		       const void *data, uint16_t len, uint8_t pad)
{
	uint8_t hdr[FCGI_HEADER_LEN], zeros[255];

	memset(zeros, 0xee, sizeof(zeros));  /* padding content is junk */
	fcgi_put_header(hdr, type, id, len, pad);
	put(s, hdr, sizeof(hdr));
	put(s, data, len);
	put(s, zeros, pad);
}

static void put_end(struct stream *s, uint16_t id, uint32_t app,
		    uint8_t proto, uint16_t len, uint8_t pad)
{
	uint8_t body[64];

	assert_true(len <= sizeof(body));
	memset(body, 0x5a, sizeof(body));
	body[0] = (uint8_t)(app >> 24);
	body[1] = (uint8_t)(app >> 16);
	body[2] = (uint8_t)(app >> 8);
	body[3] = (uint8_t)app;
	body[4] = proto;
	put_record(s, FCGI_END_REQUEST, id, body, len, pad);
}

/* STDOUT records of at most `chunk` bytes with the spec's padding. */
static void put_stdout(struct stream *s, uint16_t id, const uint8_t *data,
		       size_t len, size_t chunk)
{
	while (len > 0) {
		uint16_t n = (uint16_t)(len < chunk ? len : chunk);

		put_record(s, FCGI_STDOUT, id, data, n, fcgi_padding(n));
		data += n;
		len -= n;
	}
}

struct result {
	uint8_t out[80000], err[256], values[256];
	size_t out_len, err_len, values_len;
	unsigned others, ends, nones;
	unsigned values_events, values_ends;  /* VALUES; OTHER for a GVR */
	uint32_t app_status;
	uint8_t protocol_status;
	int error;
	size_t end_at;          /* stream offset just past the END_REQUEST */
};

static void append_values(struct result *r, const struct fcgi_event *ev)
{
	assert_true(r->values_len + ev->len <= sizeof(r->values));
	if (ev->len > 0)
		memcpy(r->values + r->values_len, ev->data, ev->len);
	r->values_len += ev->len;
}

static void collect(struct result *r, const struct fcgi_event *ev,
		    size_t offset)
{
	switch (ev->type) {
	case FCGI_EV_STDOUT:
		assert_true(r->out_len + ev->len <= sizeof(r->out));
		memcpy(r->out + r->out_len, ev->data, ev->len);
		r->out_len += ev->len;
		break;
	case FCGI_EV_STDERR:
		assert_true(r->err_len + ev->len <= sizeof(r->err));
		memcpy(r->err + r->err_len, ev->data, ev->len);
		r->err_len += ev->len;
		break;
	case FCGI_EV_END:
		r->ends++;
		r->app_status = ev->app_status;
		r->protocol_status = ev->protocol_status;
		r->end_at = offset;
		break;
	case FCGI_EV_VALUES:
		assert_true(ev->len > 0);
		r->values_events++;
		append_values(r, ev);
		break;
	case FCGI_EV_OTHER:
		r->others++;
		if (ev->record_type == FCGI_GET_VALUES_RESULT) {
			r->values_ends++;
			append_values(r, ev);  /* last piece when unpadded */
		} else {
			assert_int_equal(ev->len, 0);
		}
		break;
	case FCGI_EV_NONE:
		r->nones++;
		break;
	default:
		fail_msg("unknown event %u", ev->type);
	}
}

/* Feed one chunk, as a caller would, until it is used up or an error. */
static void feed_chunk(struct fcgi_decoder *d, const uint8_t *chunk,
		       size_t len, size_t base, struct result *r)
{
	size_t pos = 0;

	while (pos < len && !r->error) {
		struct fcgi_event ev;
		long n = fcgi_decode(d, chunk + pos, len - pos, &ev);

		if (n == -1) {
			r->error = 1;
			return;
		}
		assert_true(n > 0 && (size_t)n <= len - pos);
		if (ev.type == FCGI_EV_STDOUT || ev.type == FCGI_EV_STDERR ||
		    ev.type == FCGI_EV_VALUES)
			assert_true(ev.len > 0);
		if (ev.len > 0) {
			/* Every piece is a slice of what this call consumed. */
			assert_true(ev.data >= chunk + pos);
			assert_true(ev.data + ev.len <= chunk + pos + (size_t)n);
		}
		pos += (size_t)n;
		collect(r, &ev, base + pos);
	}
}

/*
 * Decode s cut at the given offsets. Each piece is copied into a buffer of
 * exactly its size, so reading past a piece is caught by ASan.
 */
static void decode_split(const struct stream *s, const size_t *cuts,
			 size_t ncuts, struct result *r)
{
	struct fcgi_decoder d;
	size_t i, from = 0;

	memset(r, 0, sizeof(*r));
	fcgi_decoder_init(&d, REQ_ID);
	for (i = 0; i <= ncuts && !r->error; i++) {
		size_t to = i < ncuts ? cuts[i] : s->len;
		uint8_t *piece = malloc(to - from + 1);

		assert_non_null(piece);
		memcpy(piece, s->p + from, to - from);
		feed_chunk(&d, piece, to - from, from, r);
		free(piece);
		from = to;
	}
}

static const char body_text[] =
	"Content-Type: text/plain\r\n\r\nhello, world; this is the body "
	"of a FastCGI response split over records.";

/* Two GET_VALUES_RESULT answers: one padded, one not. */
static const uint8_t gv_padded[] = {
	15, 1, 'F', 'C', 'G', 'I', '_', 'M', 'P', 'X', 'S', '_', 'C', 'O', 'N',
	'N', 'S', '0',
};
static const uint8_t gv_unpadded[] = {
	13, 2, 'F', 'C', 'G', 'I', '_', 'M', 'A', 'X', '_', 'R', 'E', 'Q', 'S',
	'1', '6',
};

/* STDOUT (padded), STDERR, unknown type, management, empty STDOUT, END. */
static void build_mixed(struct stream *s)
{
	const uint8_t *b = (const uint8_t *)body_text;
	size_t blen = sizeof(body_text) - 1;

	put_record(s, FCGI_STDOUT, REQ_ID, b, 20, fcgi_padding(20));
	put_record(s, FCGI_STDERR, REQ_ID, "warn\n", 5, 3);
	put_record(s, 42, REQ_ID, "xyz", 3, 0);
	put_record(s, FCGI_GET_VALUES_RESULT, 0, gv_padded,
		   sizeof(gv_padded), fcgi_padding(sizeof(gv_padded)));
	put_record(s, FCGI_GET_VALUES_RESULT, 0, gv_unpadded,
		   sizeof(gv_unpadded), 0);
	put_record(s, FCGI_STDOUT, REQ_ID, b + 20, 0, 0);  /* no event */
	put_record(s, FCGI_STDOUT, REQ_ID, b + 20, 13, 0); /* unpadded */
	put_record(s, FCGI_STDERR, REQ_ID, "", 0, 2);
	put_record(s, FCGI_STDOUT, REQ_ID, b + 33, (uint16_t)(blen - 33), 255);
	put_record(s, FCGI_STDOUT, REQ_ID, NULL, 0, 0);
	put_end(s, REQ_ID, 0x01020304, FCGI_REQUEST_COMPLETE, 8, 0);
}

static void check_mixed(const struct result *r, const struct stream *s)
{
	assert_false(r->error);
	assert_int_equal(r->out_len, sizeof(body_text) - 1);
	assert_memory_equal(r->out, body_text, r->out_len);
	assert_int_equal(r->err_len, 5);
	assert_memory_equal(r->err, "warn\n", 5);
	assert_int_equal(r->values_len,
			 sizeof(gv_padded) + sizeof(gv_unpadded));
	assert_memory_equal(r->values, gv_padded, sizeof(gv_padded));
	assert_memory_equal(r->values + sizeof(gv_padded), gv_unpadded,
			    sizeof(gv_unpadded));
	assert_true(r->values_events >= 1);
	assert_int_equal(r->values_ends, 2);
	assert_int_equal(r->others, 3);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->app_status, 0x01020304);
	assert_int_equal(r->protocol_status, FCGI_REQUEST_COMPLETE);
	assert_int_equal(r->end_at, s->len);
}

/* Big enough for 70000 bytes sent as 1-byte records (16 bytes each). */
static uint8_t stream_buf[1200000];

static void test_decode_whole(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;

	(void)state;
	build_mixed(&s);
	decode_split(&s, NULL, 0, &r);
	check_mixed(&r, &s);
}

static void test_decode_every_split(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;
	size_t cut[2];

	(void)state;
	build_mixed(&s);
	for (cut[0] = 1; cut[0] < s.len; cut[0]++) {
		decode_split(&s, cut, 1, &r);
		check_mixed(&r, &s);
	}
}

static void test_decode_every_two_splits(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;
	size_t cut[2];

	(void)state;
	build_mixed(&s);
	for (cut[0] = 1; cut[0] < s.len; cut[0]++) {
		for (cut[1] = cut[0] + 1; cut[1] < s.len; cut[1]++) {
			decode_split(&s, cut, 2, &r);
			check_mixed(&r, &s);
		}
	}
}

static void test_decode_byte_at_a_time(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;
	static size_t cuts[4096];
	size_t i;

	(void)state;
	build_mixed(&s);
	assert_true(s.len <= ARRAY_LEN(cuts));
	for (i = 0; i + 1 < s.len; i++)
		cuts[i] = i + 1;
	decode_split(&s, cuts, s.len - 1, &r);
	check_mixed(&r, &s);
}

/* Encode a large body as max-size records and get it back unchanged. */
static void test_round_trip_large(void **state)
{
	static const size_t chunks[] = { FCGI_MAX_CONTENT, 8, 1, 1000 };
	static uint8_t body[70000];
	static struct result r;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 31 + (i >> 8));
	for (k = 0; k < ARRAY_LEN(chunks); k++) {
		struct stream s = { stream_buf, 0, sizeof(stream_buf) };
		size_t cuts[3] = { 3, 40000, 65540 };

		put_stdout(&s, REQ_ID, body, sizeof(body), chunks[k]);
		put_record(&s, FCGI_STDOUT, REQ_ID, NULL, 0, 0);
		put_end(&s, REQ_ID, 7, FCGI_REQUEST_COMPLETE, 8, 0);
		decode_split(&s, NULL, 0, &r);
		assert_false(r.error);
		assert_int_equal(r.out_len, sizeof(body));
		assert_memory_equal(r.out, body, sizeof(body));
		assert_int_equal(r.ends, 1);
		assert_int_equal(r.app_status, 7);
		decode_split(&s, cuts, 3, &r);
		assert_int_equal(r.out_len, sizeof(body));
		assert_memory_equal(r.out, body, sizeof(body));
		assert_int_equal(r.ends, 1);
	}
}

/* ---- decoder: single behaviours ---------------------------------------- */

static void test_decode_empty_input(void **state)
{
	struct fcgi_decoder d;
	struct fcgi_event ev;
	uint8_t b = 1;

	(void)state;
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, &b, 0, &ev), -2);
	assert_int_equal(fcgi_decode(&d, NULL, 0, &ev), -2);
}

static void test_decode_zero_length_stdout(void **state)
{
	uint8_t rec[FCGI_HEADER_LEN];
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	fcgi_decoder_init(&d, REQ_ID);
	fcgi_put_header(rec, FCGI_STDOUT, REQ_ID, 0, 0);
	assert_int_equal(fcgi_decode(&d, rec, sizeof(rec), &ev), 8);
	assert_int_equal(ev.type, FCGI_EV_NONE);
	fcgi_put_header(rec, FCGI_STDERR, REQ_ID, 0, 0);
	assert_int_equal(fcgi_decode(&d, rec, sizeof(rec), &ev), 8);
	assert_int_equal(ev.type, FCGI_EV_NONE);
}

/* One STDOUT record: the slice, then the padding eaten as framing. */
static void test_decode_slice_and_padding(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;
	long n;

	(void)state;
	put_record(&s, FCGI_STDOUT, REQ_ID, "abc", 3, 5);
	fcgi_decoder_init(&d, REQ_ID);
	n = fcgi_decode(&d, s.p, s.len, &ev);
	assert_int_equal(n, 11);
	assert_int_equal(ev.type, FCGI_EV_STDOUT);
	assert_ptr_equal(ev.data, s.p + 8);
	assert_int_equal(ev.len, 3);
	n = fcgi_decode(&d, s.p + 11, s.len - 11, &ev);
	assert_int_equal(n, 5);
	assert_int_equal(ev.type, FCGI_EV_NONE);
}

/* After END_REQUEST the call stops: what follows is the next request's. */
static void test_decode_stops_after_end(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	put_end(&s, REQ_ID, 0xfffffffe, FCGI_OVERLOADED, 8, 0);
	put_record(&s, FCGI_STDOUT, REQ_ID, "next", 4, 4);
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, s.p, s.len, &ev), 16);
	assert_int_equal(ev.type, FCGI_EV_END);
	assert_int_equal(ev.app_status, 0xfffffffe);
	assert_int_equal(ev.protocol_status, FCGI_OVERLOADED);
	assert_int_equal(fcgi_decode(&d, s.p + 16, s.len - 16, &ev), 12);
	assert_int_equal(ev.type, FCGI_EV_STDOUT);
	assert_int_equal(ev.len, 4);
}

/* A longer END_REQUEST body and its padding are eaten; it still ends. */
static void test_decode_long_end_request(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;
	size_t cut[1];

	(void)state;
	put_end(&s, REQ_ID, 300, FCGI_UNKNOWN_ROLE, 20, 4);
	for (cut[0] = 1; cut[0] < s.len; cut[0]++) {
		decode_split(&s, cut, 1, &r);
		assert_false(r.error);
		assert_int_equal(r.ends, 1);
		assert_int_equal(r.app_status, 300);
		assert_int_equal(r.protocol_status, FCGI_UNKNOWN_ROLE);
		assert_int_equal(r.end_at, 32);
	}
}

/* Management records and any output on id 0 are skipped whole. */
static void test_decode_skips_id_zero(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	put_record(&s, FCGI_STDOUT, 0, "ignored", 7, 1);
	put_record(&s, FCGI_UNKNOWN_TYPE, 0, "\x2a\0\0\0\0\0\0\0", 8, 0);
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, s.p, s.len, &ev), 16);
	assert_int_equal(ev.type, FCGI_EV_OTHER);
	assert_int_equal(fcgi_decode(&d, s.p + 16, s.len - 16, &ev), 16);
	assert_int_equal(ev.type, FCGI_EV_OTHER);
}

/* GET_VALUES_RESULT: the piece, then the padding eaten with the end. */
static void test_decode_values_padded(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	put_record(&s, FCGI_GET_VALUES_RESULT, 0, gv_padded, sizeof(gv_padded),
		   6);
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, s.p, s.len, &ev), 26);
	assert_int_equal(ev.type, FCGI_EV_VALUES);
	assert_ptr_equal(ev.data, s.p + 8);
	assert_int_equal(ev.len, sizeof(gv_padded));
	assert_int_equal(fcgi_decode(&d, s.p + 26, s.len - 26, &ev), 6);
	assert_int_equal(ev.type, FCGI_EV_OTHER);
	assert_int_equal(ev.record_type, FCGI_GET_VALUES_RESULT);
	assert_int_equal(ev.len, 0);
}

/* Unpadded, the last piece and the end are one call: OTHER carries it. */
static void test_decode_values_unpadded(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	put_record(&s, FCGI_GET_VALUES_RESULT, 0, gv_unpadded,
		   sizeof(gv_unpadded), 0);
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, s.p, 10, &ev), 10);
	assert_int_equal(ev.type, FCGI_EV_VALUES);
	assert_ptr_equal(ev.data, s.p + 8);
	assert_int_equal(ev.len, 2);
	assert_int_equal(fcgi_decode(&d, s.p + 10, s.len - 10, &ev),
			 (long)s.len - 10);
	assert_int_equal(ev.type, FCGI_EV_OTHER);
	assert_int_equal(ev.record_type, FCGI_GET_VALUES_RESULT);
	assert_ptr_equal(ev.data, s.p + 10);
	assert_int_equal(ev.len, sizeof(gv_unpadded) - 2);
}

/* An empty GET_VALUES_RESULT is only its end, at every split. */
static void test_decode_values_empty(void **state)
{
	static const uint8_t pads[] = { 0, 3 };
	static struct result r;
	size_t i, cut[1];

	(void)state;
	for (i = 0; i < ARRAY_LEN(pads); i++) {
		struct stream s = { stream_buf, 0, sizeof(stream_buf) };

		put_record(&s, FCGI_GET_VALUES_RESULT, 0, NULL, 0, pads[i]);
		put_record(&s, FCGI_STDOUT, REQ_ID, "ok", 2, 6);
		decode_split(&s, NULL, 0, &r);
		assert_false(r.error);
		assert_int_equal(r.values_events, 0);
		assert_int_equal(r.values_len, 0);
		assert_int_equal(r.values_ends, 1);
		assert_int_equal(r.others, 1);
		assert_int_equal(r.out_len, 2);
		for (cut[0] = 1; cut[0] < s.len; cut[0]++) {
			decode_split(&s, cut, 1, &r);
			assert_int_equal(r.values_events, 0);
			assert_int_equal(r.values_ends, 1);
			assert_int_equal(r.others, 1);
			assert_int_equal(r.out_len, 2);
		}
	}
}

/* GET_VALUES_RESULT on a request id is not the management answer: skipped. */
static void test_decode_values_needs_id_zero(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	struct fcgi_decoder d;
	struct fcgi_event ev;

	(void)state;
	put_record(&s, FCGI_GET_VALUES_RESULT, REQ_ID, gv_unpadded,
		   sizeof(gv_unpadded), 0);
	fcgi_decoder_init(&d, REQ_ID);
	assert_int_equal(fcgi_decode(&d, s.p, s.len, &ev), (long)s.len);
	assert_int_equal(ev.type, FCGI_EV_OTHER);
	assert_int_equal(ev.record_type, FCGI_GET_VALUES_RESULT);
	assert_int_equal(ev.len, 0);
}

/* ---- name-value pairs -------------------------------------------------- */

/* The test's own length encoder; long_form forces 4 bytes (§3.4). */
static size_t enc_nv_len(uint8_t *p, size_t len, int long_form)
{
	if (!long_form) {
		p[0] = (uint8_t)len;
		return 1;
	}
	p[0] = (uint8_t)(0x80 | (len >> 24));
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

struct nv_case {
	const char *what;
	size_t name_len, value_len;
	int name_long, value_long;
};

static void test_nv_next(void **state)
{
	static const struct nv_case cases[] = {
		{ "short, short", 14, 1, 0, 0 },
		{ "empty name and value", 0, 0, 0, 0 },
		{ "empty name", 0, 5, 0, 0 },
		{ "empty value", 9, 0, 0, 0 },
		{ "127 both", 127, 127, 0, 0 },
		{ "long name", 128, 3, 1, 0 },
		{ "long value", 2, 300, 0, 1 },
		{ "long both", 1000, 70000, 1, 1 },
		{ "small length in long form", 3, 0, 1, 1 },
	};
	static uint8_t buf[80000];
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct nv_case *c = &cases[i];
		struct fcgi_nv nv;
		size_t n = 0, name_at, value_at, j;
		uint8_t *piece;

		n += enc_nv_len(buf + n, c->name_len, c->name_long);
		n += enc_nv_len(buf + n, c->value_len, c->value_long);
		name_at = n;
		for (j = 0; j < c->name_len; j++)
			buf[n++] = (uint8_t)('a' + j % 26);
		value_at = n;
		for (j = 0; j < c->value_len; j++)
			buf[n++] = (uint8_t)('0' + j % 10);
		assert_true(n < sizeof(buf));
		buf[n] = 0x77;  /* the next pair's first byte: not eaten */
		if (fcgi_nv_next(buf, n + 1, &nv) != (long)n)
			fail_msg("%s: wrong length", c->what);
		assert_ptr_equal(nv.name, buf + name_at);
		assert_int_equal(nv.name_len, c->name_len);
		assert_ptr_equal(nv.value, buf + value_at);
		assert_int_equal(nv.value_len, c->value_len);
		/* Cut anywhere short of the end, in an exact-size buffer. */
		for (k = 0; k <= n; k++) {
			piece = malloc(k + 1);
			assert_non_null(piece);
			memcpy(piece, buf, k);
			if (fcgi_nv_next(piece, k, &nv) != (k < n ? -2 : (long)n))
				fail_msg("%s: cut at %zu", c->what, k);
			free(piece);
		}
	}
}

/* The flag bit is not part of a length: all ones reads as 2^31 - 1. */
static void test_nv_next_top_bit(void **state)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0, 'x' };
	static const uint8_t flag_only[] = { 0x80, 0, 0, 0, 0x80, 0, 0, 1, 'v' };
	struct fcgi_nv nv;

	(void)state;
	assert_int_equal(fcgi_nv_next(huge, sizeof(huge), &nv), -2);
	assert_int_equal(fcgi_nv_next(flag_only, sizeof(flag_only), &nv), 9);
	assert_int_equal(nv.name_len, 0);
	assert_int_equal(nv.value_len, 1);
	assert_memory_equal(nv.value, "v", 1);
	assert_int_equal(fcgi_nv_next(NULL, 0, &nv), -2);
}

/* The answers in the mixed stream, back to back, read pair by pair. */
static void test_nv_next_walk(void **state)
{
	static const struct {
		const uint8_t *p;
		size_t len;
		const char *name, *value;
	} answers[] = {
		{ gv_padded, sizeof(gv_padded), "FCGI_MPXS_CONNS", "0" },
		{ gv_unpadded, sizeof(gv_unpadded), "FCGI_MAX_REQS", "16" },
	};
	uint8_t buf[sizeof(gv_padded) + sizeof(gv_unpadded)];
	struct fcgi_nv nv;
	size_t i, pos = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(answers); i++) {
		memcpy(buf + pos, answers[i].p, answers[i].len);
		pos += answers[i].len;
	}
	for (i = 0, pos = 0; i < ARRAY_LEN(answers); i++) {
		long n = fcgi_nv_next(buf + pos, sizeof(buf) - pos, &nv);

		assert_int_equal(n, (long)answers[i].len);
		assert_int_equal(nv.name_len, strlen(answers[i].name));
		assert_memory_equal(nv.name, answers[i].name, nv.name_len);
		assert_int_equal(nv.value_len, strlen(answers[i].value));
		assert_memory_equal(nv.value, answers[i].value, nv.value_len);
		pos += (size_t)n;
	}
	assert_int_equal(pos, sizeof(buf));
}

struct error_case {
	const char *what;
	uint8_t version, type;
	uint16_t id, len;
};

static void test_decode_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "version 0", 0, FCGI_STDOUT, REQ_ID, 4 },
		{ "version 2", 2, FCGI_STDOUT, REQ_ID, 4 },
		{ "version 2, other type", 2, 42, REQ_ID, 0 },
		{ "stdout for another id", 1, FCGI_STDOUT, OTHER_ID, 4 },
		{ "empty stdout, another id", 1, FCGI_STDOUT, OTHER_ID, 0 },
		{ "stderr for another id", 1, FCGI_STDERR, OTHER_ID, 4 },
		{ "end for another id", 1, FCGI_END_REQUEST, OTHER_ID, 8 },
		{ "end, 7-byte body", 1, FCGI_END_REQUEST, REQ_ID, 7 },
		{ "end, empty body", 1, FCGI_END_REQUEST, REQ_ID, 0 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct error_case *c = &cases[i];
		uint8_t rec[FCGI_HEADER_LEN + 16];
		struct fcgi_decoder d;
		struct fcgi_event ev;
		long n = 0;

		memset(rec, 0, sizeof(rec));
		fcgi_put_header(rec, c->type, c->id, c->len, 0);
		rec[0] = c->version;
		/* Whole, then a byte at a time: the 8th header byte fails. */
		fcgi_decoder_init(&d, REQ_ID);
		n = fcgi_decode(&d, rec, sizeof(rec), &ev);
		if (n != -1)
			fail_msg("%s: got %ld", c->what, n);
		fcgi_decoder_init(&d, REQ_ID);
		for (k = 0; k < FCGI_HEADER_LEN - 1; k++)
			assert_int_equal(fcgi_decode(&d, rec + k, 1, &ev), 1);
		assert_int_equal(fcgi_decode(&d, rec + k, 1, &ev), -1);
		/* The error sticks: the stream is out of step. */
		assert_int_equal(fcgi_decode(&d, rec, sizeof(rec), &ev), -1);
	}
}

/* An error after good records: the good ones come out first. */
static void test_decode_error_mid_stream(void **state)
{
	struct stream s = { stream_buf, 0, sizeof(stream_buf) };
	static struct result r;
	size_t cut[1];

	(void)state;
	put_record(&s, FCGI_STDOUT, REQ_ID, "good", 4, 4);
	put_record(&s, FCGI_STDOUT, OTHER_ID, "evil", 4, 4);
	for (cut[0] = 1; cut[0] < s.len; cut[0]++) {
		decode_split(&s, cut, 1, &r);
		assert_true(r.error);
		assert_int_equal(r.out_len, 4);
		assert_memory_equal(r.out, "good", 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_header),
		cmocka_unit_test(test_begin_request_bytes),
		cmocka_unit_test(test_abort_request_bytes),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_nv_lengths),
		cmocka_unit_test(test_nv_too_long),
		cmocka_unit_test(test_decode_whole),
		cmocka_unit_test(test_decode_every_split),
		cmocka_unit_test(test_decode_every_two_splits),
		cmocka_unit_test(test_decode_byte_at_a_time),
		cmocka_unit_test(test_round_trip_large),
		cmocka_unit_test(test_decode_empty_input),
		cmocka_unit_test(test_decode_zero_length_stdout),
		cmocka_unit_test(test_decode_slice_and_padding),
		cmocka_unit_test(test_decode_stops_after_end),
		cmocka_unit_test(test_decode_long_end_request),
		cmocka_unit_test(test_decode_skips_id_zero),
		cmocka_unit_test(test_decode_values_padded),
		cmocka_unit_test(test_decode_values_unpadded),
		cmocka_unit_test(test_decode_values_empty),
		cmocka_unit_test(test_decode_values_needs_id_zero),
		cmocka_unit_test(test_nv_next),
		cmocka_unit_test(test_nv_next_top_bit),
		cmocka_unit_test(test_nv_next_walk),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_error_mid_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
