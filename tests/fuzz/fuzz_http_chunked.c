/*
 * fuzz_http_chunked.c - the chunked-body decoder on arbitrary bytes.
 *
 * data[0] seeds how the rest is cut into pieces. The rest is decoded in
 * place three ways: whole in one call, cut into pieces in one buffer (out
 * is that buffer), and cut into pieces that each live in a buffer of
 * exactly their size (so ASan sees a read past a piece) with a separate
 * output. The outcome, consumed count, data, total and done must not
 * depend on the cut; the output never passes the bytes consumed, and the
 * bytes after the end of the body are never touched.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_chunked.h"

#define FUZZ_TRAILER_MAX 40   /* small, so the limit is reached often */
#define PIECE_SMALL 17
#define PIECE_BIG_ODDS 8
#define PIECE_BIG 300

enum mode { WHOLE, CUT_IN_PLACE, CUT_COPIES };

struct outcome {
	uint8_t *out;        /* the decoded data (the input buffer in place) */
	size_t out_len;
	long consumed;       /* -1 on error */
	int done;
	uint64_t total;
};

/* Piece sizes from a small LCG seeded by the first byte. */
static size_t next_piece(uint32_t *rng, size_t left)
{
	size_t n;

	*rng = *rng * 1103515245u + 12345u;
	n = (*rng >> 16) % PIECE_SMALL;   /* 0: an empty call now and then */
	if ((*rng >> 8) % PIECE_BIG_ODDS == 0)
		n += (*rng >> 12) % PIECE_BIG;
	return n < left ? n : left;
}

/* One call on in[0..n); returns the bytes consumed, or -1. */
static long feed(struct http_chunked *d, const uint8_t *in, size_t n,
		 struct outcome *o, size_t pos)
{
	long rc = http_chunked_decode(d, in, n, o->out, &o->out_len);

	assert(rc == -1 || (rc >= 0 && (size_t)rc <= n));
	if (rc < 0)
		return -1;
	assert(d->done || (size_t)rc == n);
	assert(o->out_len <= pos + (size_t)rc);
	assert(d->total == o->out_len);
	return rc;
}

static void run(const uint8_t *data, size_t size, uint32_t seed,
		enum mode mode, struct outcome *o)
{
	struct http_chunked d;
	uint8_t *buf = malloc(size ? size : 1);
	size_t pos = 0;
	uint32_t rng = seed;
	int error = 0;

	assert(buf != NULL && o->out != NULL);
	memcpy(buf, data, size);
	if (mode != CUT_COPIES) {
		free(o->out);
		o->out = buf;   /* in place: out is the input buffer */
	}
	http_chunked_init(&d, FUZZ_TRAILER_MAX);
	while (pos < size && !d.done && !error) {
		size_t n = mode == WHOLE ? size : next_piece(&rng, size - pos);
		const uint8_t *in = buf + pos;
		uint8_t *piece = NULL;
		long rc;

		if (mode == CUT_COPIES) {
			piece = malloc(n ? n : 1);
			assert(piece != NULL);
			memcpy(piece, in, n);
			in = piece;
		}
		rc = feed(&d, in, n, o, pos);
		free(piece);
		if (rc < 0)
			error = 1;
		else
			pos += (size_t)rc;
	}
	o->consumed = error ? -1 : (long)pos;
	o->done = d.done;
	o->total = d.total;
	/* What follows the body, a pipelined request, is left as it was. */
	if (!error)
		assert(memcmp(buf + pos, data + pos, size - pos) == 0);
	if (mode == CUT_COPIES)
		free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o[3];
	int m;

	if (size < 1)
		return 0;
	for (m = WHOLE; m <= CUT_COPIES; m++) {
		memset(&o[m], 0, sizeof(o[m]));
		o[m].out = malloc(size);
		run(data + 1, size - 1, data[0], (enum mode)m, &o[m]);
	}
	for (m = CUT_IN_PLACE; m <= CUT_COPIES; m++) {
		assert(o[m].consumed == o[WHOLE].consumed);
		assert(o[m].done == o[WHOLE].done);
		assert(o[m].total == o[WHOLE].total);
		assert(o[m].out_len == o[WHOLE].out_len);
		assert(memcmp(o[m].out, o[WHOLE].out, o[m].out_len) == 0);
	}
	assert(o[WHOLE].consumed == -1 || o[WHOLE].done ||
	       (size_t)o[WHOLE].consumed == size - 1);
	for (m = WHOLE; m <= CUT_COPIES; m++)
		free(o[m].out);
	return 0;
}
