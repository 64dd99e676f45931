/*
 * fuzz_http.c - request-head parser, framing and path normalisation.
 *
 * The first two input bytes pick the limits and a split point; the rest
 * is the head. Every copy handed to the parser is exactly as long as the
 * data, so ASan sees any read past len. Beyond "no crash", the harness
 * checks properties the parser promises:
 *   - feeding the input in two pieces gives the same answer as in one;
 *   - slices lie inside the buffer, the count within the caps;
 *   - a normalised path starts with '/', fits, has no dot segments and
 *     is stable (normalising it again changes nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define FUZZ_HDR_CAP 24
#define FUZZ_PATH_CAP 256
#define FUZZ_PARAM_BYTES 2

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

struct run {
	int rc;
	struct http_request req;
	struct http_header hdr[FUZZ_HDR_CAP];
};

static void run_init(struct run *r, uint16_t cap)
{
	memset(r, 0, sizeof(*r));
	r->req.headers = r->hdr;
	r->req.header_cap = cap;
}

static void check_slice(struct http_slice s, const char *buf, size_t len)
{
	if (s.len == 0)
		return;
	CHECK(s.p >= buf && s.p + s.len <= buf + len);
}

static void check_normalized(const char *out, int n)
{
	char again[FUZZ_PATH_CAP];

	CHECK(n >= 1 && n <= FUZZ_PATH_CAP && out[0] == '/');
	for (int i = 0; i < n; i++) {
		if (out[i] != '/')
			continue;
		/* no "/." or "/.." segment left */
		CHECK(!(i + 1 < n && out[i + 1] == '.' &&
			(i + 2 == n || out[i + 2] == '/')));
		CHECK(!(i + 2 < n && out[i + 1] == '.' && out[i + 2] == '.' &&
			(i + 3 == n || out[i + 3] == '/')));
	}
	/* Stable, unless decoding met a literal '%' that forms a new escape. */
	if (memchr(out, '%', (size_t)n) == NULL) {
		CHECK(http_normalize_path(out, (size_t)n, again, sizeof(again)) == n);
		CHECK(memcmp(out, again, (size_t)n) == 0);
	}
}

static void check_request(const struct run *r, const char *buf, size_t len)
{
	char out[FUZZ_PATH_CAP];
	int n;

	CHECK(r->req.header_count <= r->req.header_cap);
	CHECK(r->req.version_minor <= 1);
	check_slice(r->req.method, buf, len);
	check_slice(r->req.target, buf, len);
	check_slice(r->req.query, buf, len);
	for (uint16_t i = 0; i < r->req.header_count; i++) {
		check_slice(r->hdr[i].name, buf, len);
		check_slice(r->hdr[i].value, buf, len);
	}
	n = http_normalize_path(r->req.path.p, r->req.path.len, out, sizeof(out));
	if (n >= 0)
		check_normalized(out, n);
}

static void check_framing(struct run *r)
{
	int rc = http_request_framing(&r->req);

	if (rc < 0) {
		CHECK(rc == HTTP_ERROR);
		CHECK(r->req.status == 400 || r->req.status == 417 ||
		      r->req.status == 501);
		return;
	}
	CHECK(rc == 0);
	if (r->req.flags & HTTP_BODY_CHUNKED)
		CHECK(r->req.content_length == -1);
	(void)http_keep_alive(&r->req);
	(void)http_find_header(&r->req, "Host");
}

static int parse_copy(const uint8_t *data, size_t len, size_t *scanned,
		      struct run *r, const struct http_limits *lim)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	rc = http_parse_request(copy, len, scanned, &r->req, lim);
	free(copy);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct run whole, split;
	size_t scanned = 0, cut;
	uint16_t parse_status;
	char *copy;

	if (size < FUZZ_PARAM_BYTES)
		return 0;
	/* Small limits, so the fuzzer reaches 414 and 431 often. */
	lim.line_max = 8u + (data[0] & 0x3fu) * 4u;
	lim.head_max = lim.line_max + 2u + (data[0] >> 6) * 200u;
	lim.count_max = (uint16_t)(data[1] & 0x1fu);
	cut = data[1] >> 5;
	data += FUZZ_PARAM_BYTES;
	size -= FUZZ_PARAM_BYTES;
	cut = size * cut / 8;

	run_init(&whole, FUZZ_HDR_CAP);
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	whole.rc = http_parse_request(copy, size, &scanned, &whole.req, &lim);
	CHECK(whole.rc == HTTP_NEED_MORE || whole.rc == HTTP_ERROR ||
	      (whole.rc > 0 && (size_t)whole.rc <= size &&
	       (uint32_t)whole.rc <= lim.head_max));
	parse_status = whole.req.status;
	if (whole.rc == HTTP_ERROR)
		CHECK(whole.req.status == 400 || whole.req.status == 414 ||
		      whole.req.status == 431 || whole.req.status == 505);
	if (whole.rc > 0) {
		CHECK(whole.req.header_count <= lim.count_max);
		check_request(&whole, copy, size);
		check_framing(&whole);
	}
	free(copy);

	/* The same bytes in two pieces must get the same answer. */
	run_init(&split, FUZZ_HDR_CAP);
	scanned = 0;
	split.rc = parse_copy(data, cut, &scanned, &split, &lim);
	if (split.rc == HTTP_NEED_MORE)
		split.rc = parse_copy(data, size, &scanned, &split, &lim);
	CHECK(split.rc == whole.rc);
	CHECK(split.req.status == parse_status);
	if (whole.rc > 0)
		CHECK(split.req.header_count == whole.req.header_count);

	/* The input as a raw path, too. */
	{
		char out[FUZZ_PATH_CAP];
		int n = http_normalize_path((const char *)data, size, out,
					    sizeof(out));
		if (n >= 0)
			check_normalized(out, n);
		else
			CHECK(n == -1);
	}
	return 0;
}
