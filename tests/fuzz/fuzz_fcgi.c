/*
 * fuzz_fcgi.c - the FastCGI decoder on arbitrary bytes.
 *
 * data[0] seeds how the rest is cut into pieces; each piece lives in a
 * buffer of exactly its size, so a read past it is caught. The same bytes
 * are also decoded in one piece: the STDOUT/STDERR/GET_VALUES_RESULT bytes,
 * the events and the outcome must not depend on how the stream was cut.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

#define FUZZ_REQ_ID 1

struct outcome {
	uint8_t *out, *err, *values; /* content of each kind, concatenated */
	size_t out_len, err_len, values_len, cap;
	unsigned ends, others, values_ends;
	uint32_t last_app_status;
	int error;
	size_t consumed;
};

static void append(uint8_t *dst, size_t *dst_len, size_t cap,
		   const struct fcgi_event *ev)
{
	assert(*dst_len + ev->len <= cap);
	if (ev->len > 0)
		memcpy(dst + *dst_len, ev->data, ev->len);
	*dst_len += ev->len;
}

static void record(struct outcome *o, const struct fcgi_event *ev)
{
	switch (ev->type) {
	case FCGI_EV_STDOUT:
		assert(ev->len > 0);
		append(o->out, &o->out_len, o->cap, ev);
		break;
	case FCGI_EV_STDERR:
		assert(ev->len > 0);
		append(o->err, &o->err_len, o->cap, ev);
		break;
	case FCGI_EV_VALUES:
		assert(ev->len > 0);
		append(o->values, &o->values_len, o->cap, ev);
		break;
	case FCGI_EV_END:
		o->ends++;
		o->last_app_status = ev->app_status;
		break;
	case FCGI_EV_OTHER:
		o->others++;
		/* An unpadded GET_VALUES_RESULT ends with its last piece. */
		if (ev->record_type == FCGI_GET_VALUES_RESULT) {
			o->values_ends++;
			append(o->values, &o->values_len, o->cap, ev);
		} else {
			assert(ev->len == 0);
		}
		break;
	case FCGI_EV_NONE:
		break;
	default:
		assert(0 && "unknown event type");
	}
}

static void feed(struct fcgi_decoder *d, const uint8_t *p, size_t len,
		 struct outcome *o)
{
	size_t pos = 0;

	while (pos < len && !o->error) {
		struct fcgi_event ev;
		long n = fcgi_decode(d, p + pos, len - pos, &ev);

		assert(n == -1 || (n > 0 && (size_t)n <= len - pos));
		if (n == -1) {
			o->error = 1;
			return;
		}
		if (ev.len > 0) {
			assert(ev.data >= p + pos);
			assert(ev.data + ev.len <= p + pos + (size_t)n);
		}
		pos += (size_t)n;
		o->consumed += (size_t)n;
		record(o, &ev);
	}
}

/* Piece sizes from a small LCG seeded by the first byte. */
static size_t next_piece(uint32_t *rng, size_t left)
{
	size_t n;

	*rng = *rng * 1103515245u + 12345u;
	n = 1 + ((*rng >> 16) % 17);
	if ((*rng >> 8) % 8 == 0)
		n += (*rng >> 12) % 300;
	return n < left ? n : left;
}

static void run(const uint8_t *data, size_t size, uint32_t seed, int split,
		struct outcome *o)
{
	struct fcgi_decoder d;
	size_t pos = 0;
	uint32_t rng = seed;

	fcgi_decoder_init(&d, FUZZ_REQ_ID);
	while (pos < size && !o->error) {
		size_t n = split ? next_piece(&rng, size - pos) : size - pos;
		uint8_t *piece = malloc(n);

		assert(piece != NULL);
		memcpy(piece, data + pos, n);
		feed(&d, piece, n, o);
		free(piece);
		pos += n;
	}
}

/* Read the GET_VALUES_RESULT bytes as pairs, from an exact-size copy. */
static void walk_pairs(const uint8_t *values, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	size_t pos = 0;

	assert(buf != NULL);
	memcpy(buf, values, len);
	while (pos < len) {
		struct fcgi_nv nv;
		long n = fcgi_nv_next(buf + pos, len - pos, &nv);

		assert(n == -2 || (n > 0 && (size_t)n <= len - pos));
		if (n == -2)
			break;
		assert(nv.name >= buf + pos && nv.value == nv.name + nv.name_len);
		assert(nv.value + nv.value_len == buf + pos + (size_t)n);
		pos += (size_t)n;
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, cut;

	if (size < 1)
		return 0;
	memset(&whole, 0, sizeof(whole));
	memset(&cut, 0, sizeof(cut));
	whole.cap = cut.cap = size;
	whole.out = malloc(size);
	whole.err = malloc(size);
	whole.values = malloc(size);
	cut.out = malloc(size);
	cut.err = malloc(size);
	cut.values = malloc(size);
	assert(whole.out && whole.err && whole.values && cut.out && cut.err &&
	       cut.values);
	run(data + 1, size - 1, data[0], 0, &whole);
	run(data + 1, size - 1, data[0], 1, &cut);
	/* Content may come out in more pieces when cut: compare the bytes. */
	assert(whole.error == cut.error);
	assert(whole.ends == cut.ends);
	assert(whole.others == cut.others);
	assert(whole.values_ends == cut.values_ends);
	assert(whole.last_app_status == cut.last_app_status);
	assert(whole.error || (whole.consumed == size - 1 &&
			       cut.consumed == size - 1));
	/* Everything before a bad header comes out either way. */
	assert(whole.out_len == cut.out_len);
	assert(whole.err_len == cut.err_len);
	assert(memcmp(whole.out, cut.out, whole.out_len) == 0);
	assert(memcmp(whole.err, cut.err, whole.err_len) == 0);
	assert(whole.values_len == cut.values_len);
	assert(memcmp(whole.values, cut.values, whole.values_len) == 0);
	walk_pairs(whole.values, whole.values_len);
	free(whole.out);
	free(whole.err);
	free(whole.values);
	free(cut.out);
	free(cut.err);
	free(cut.values);
	return 0;
}
