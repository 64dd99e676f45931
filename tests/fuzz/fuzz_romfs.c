/*
 * fuzz_romfs.c - the ROM filesystem's header-value parsers (If-None-Match,
 * Accept-Encoding, Range, If-Range) and its path mapping.
 *
 * Input: two flag bytes, then up to five values separated by '\n' (which
 * no parsed header value can hold): If-None-Match, Accept-Encoding,
 * Range, If-Range, URL path. The first byte picks the method (bits 0-1)
 * and the file (bits 2-4, past the table: none); the second marks each
 * header absent (bits 0-3) and may shrink the path buffer (bits 4-7). Every
 * value is copied to a heap block of its exact length, so ASan sees any
 * read past it. Beyond "no crash", the harness checks what romfs.h
 * promises:
 *   - the status is one of the six, and consistent with what was sent
 *     (206 and 416 only for a GET with a Range, 304 only with
 *     If-None-Match, gzip only with a variant and an Accept-Encoding);
 *   - the body lies inside the file's bytes and matches the status;
 *   - a 206 range, asked again in canonical form, comes back the same;
 *   - the head is whole CRLF lines of printable bytes, and any smaller
 *     buffer gets all of it or nothing;
 *   - a mapped path has no empty, "." or ".." segment, no '%', '\\' or
 *     control byte, and maps to itself again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "romfs.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define STR_LEN(s) (sizeof(s) - 1)

#define FLAG_BYTES 2
#define N_VALUES 5
#define V_INM 0
#define V_AE 1
#define V_RANGE 2
#define V_IF_RANGE 3
#define V_PATH 4
#define PATH_CAP 128

static const uint8_t ten[] = "0123456789";
static const uint8_t ten_gz[] = "gz-of-ten";
static const uint8_t page[] = "<!doctype html><title>x</title>\n";
static const uint8_t page_gz[] = "gz";

/* A fixture in the packer's shape: sorted, one empty, two with gzip. */
const struct romfs_file romfs_files[] = {
	{ "a.txt", "text/plain; charset=utf-8", "\"0123456789abcdef\"",
	  "\"fedcba9876543210\"", ten, ten_gz, STR_LEN(ten), STR_LEN(ten_gz), 5 },
	{ "empty", "application/octet-stream", "\"e3b0c44298fc1c14\"", NULL,
	  (const uint8_t *)"", NULL, 0, 0, 5 },
	{ "index.html", "text/html; charset=utf-8", "\"1111111111111111\"",
	  "\"2222222222222222\"", page, page_gz, STR_LEN(page),
	  STR_LEN(page_gz), 10 },
	{ "x.bin", "application/octet-stream", "\"3333333333333333\"", NULL,
	  ten, NULL, 1, 0, 5 },
};
const unsigned romfs_count = ARRAY_LEN(romfs_files);

static int has_ci(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit), i, j;

	for (i = 0; i + n <= len; i++) {
		for (j = 0; j < n; j++) {
			char c = p[i + j];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != lit[j])
				break;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

static void check_head(const struct romfs_answer *a,
		       const struct romfs_file *f)
{
	char buf[ROMFS_HEAD_MAX], small[ROMFS_HEAD_MAX];
	size_t n = romfs_write_head(a, f, buf, sizeof(buf)), i, cap;

	CHECK((n == 0) == (a->status == 404));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r') {
			CHECK(i + 1 < n && buf[i + 1] == '\n');
			i++;
			continue;
		}
		CHECK(c >= 0x20 && c < 0x7f);
	}
	CHECK(n == 0 || (buf[n - 2] == '\r' && buf[n - 1] == '\n'));
	cap = n / 2;
	if (n > 0) {
		CHECK(romfs_write_head(a, f, small, cap) == 0);
		CHECK(romfs_write_head(a, f, small, n) == n);
		CHECK(memcmp(small, buf, n) == 0);
	}
}

/* A 206 asked again as "bytes=FIRST-LAST" gives the same bytes. */
static void check_canonical(const struct romfs_file *f,
			    const struct romfs_answer *a)
{
	struct romfs_request rq;
	struct romfs_answer b;
	char txt[40];
	int n = snprintf(txt, sizeof(txt), "bytes=%lu-%lu",
			 (unsigned long)a->range_first,
			 (unsigned long)a->range_last);

	memset(&rq, 0, sizeof(rq));
	rq.method = ROMFS_GET;
	rq.range.p = txt;
	rq.range.len = (uint32_t)n;
	romfs_decide(f, &rq, &b);
	CHECK(b.status == 206 && b.range_first == a->range_first &&
	      b.range_last == a->range_last);
}

static void check_answer(const struct romfs_file *f,
			 const struct romfs_request *rq,
			 const struct romfs_answer *a)
{
	const uint8_t *rep;
	uint32_t rep_len;

	if (f == NULL) {
		CHECK(a->status == 404 && a->body == NULL && a->body_len == 0);
		return;
	}
	if (rq->method == ROMFS_OTHER) {
		CHECK(a->status == 405 && a->body == NULL && a->body_len == 0);
		return;
	}
	CHECK(a->vary == (f->gz != NULL));
	CHECK(!a->gzip || (f->gz != NULL && rq->accept_encoding.p != NULL &&
			   (has_ci(rq->accept_encoding.p, rq->accept_encoding.len,
				   "gzip") ||
			    memchr(rq->accept_encoding.p, '*',
				   rq->accept_encoding.len) != NULL)));
	CHECK(a->total_len == f->len);
	if (rq->method == ROMFS_HEAD)
		CHECK(a->body == NULL && a->body_len == 0);
	rep = a->gzip ? f->gz : f->data;
	rep_len = a->gzip ? f->gz_len : f->len;
	switch (a->status) {
	case 200:
		CHECK(a->length == rep_len);
		if (rq->method == ROMFS_GET)
			CHECK(a->body == rep && a->body_len == rep_len);
		break;
	case 206:
		CHECK(rq->method == ROMFS_GET && rq->range.p != NULL && !a->gzip);
		CHECK(a->range_first <= a->range_last && a->range_last < f->len);
		CHECK(a->body == f->data + a->range_first);
		CHECK(a->body_len == a->range_last - a->range_first + 1);
		CHECK(a->length == a->body_len);
		check_canonical(f, a);
		break;
	case 304:
		CHECK(rq->if_none_match.p != NULL && a->body == NULL);
		break;
	case 416:
		CHECK(rq->method == ROMFS_GET && rq->range.p != NULL);
		CHECK(!a->gzip && a->body == NULL && a->body_len == 0);
		break;
	default:
		CHECK(0);
	}
}

static void check_mapped(const char *out, int n, size_t cap)
{
	char again[PATH_CAP];
	int i, seg = 0;

	CHECK(n > 0 && (size_t)n < cap && out[n] == '\0');
	for (i = 0; i <= n; i++) {
		if (i < n && out[i] != '/') {
			unsigned char c = (unsigned char)out[i];

			CHECK(c >= 0x20 && c != 0x7f && c != '%' && c != '\\');
			continue;
		}
		CHECK(i > seg);
		CHECK(!(out[seg] == '.' && (i - seg == 1 ||
		      (i - seg == 2 && out[seg + 1] == '.'))));
		seg = i + 1;
	}
	CHECK(romfs_map_path(out, (size_t)n, NULL, again, sizeof(again)) == n);
	CHECK(memcmp(out, again, (size_t)n + 1) == 0);
	(void)romfs_find(out, (size_t)n);
}

static void check_path(const char *p, size_t len, size_t cap)
{
	char out[PATH_CAP];
	int n = romfs_map_path(p, len, "index.html", out, cap);

	CHECK(n > 0 || n == ROMFS_EBADPATH || n == ROMFS_ETOOLONG);
	if (n > 0)
		check_mapped(out, n, cap);
	n = romfs_map_path(p, len, NULL, out, sizeof(out));
	CHECK(n > 0 || n == ROMFS_EBADPATH || n == ROMFS_ETOOLONG);
	if (n > 0)
		check_mapped(out, n, sizeof(out));
}

/* Split data[pos..size) at '\n' into exact-length heap copies. */
static void split(const uint8_t *data, size_t size, size_t pos,
		  struct http_slice *v, char **copy)
{
	size_t i;

	for (i = 0; i < N_VALUES && pos <= size; i++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

		copy[i] = malloc(len ? len : 1);
		CHECK(copy[i] != NULL);
		memcpy(copy[i], data + pos, len);
		v[i].p = copy[i];
		v[i].len = (uint32_t)len;
		pos += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_slice v[N_VALUES];
	char *copy[N_VALUES] = { NULL };
	struct romfs_request rq;
	struct romfs_answer a, again;
	const struct romfs_file *f;
	unsigned which, shrink, i;

	if (size < FLAG_BYTES)
		return 0;
	memset(v, 0, sizeof(v));
	split(data, size, FLAG_BYTES, v, copy);
	for (i = 0; i < V_PATH; i++) {
		if (data[1] & (1u << i)) {
			v[i].p = NULL;
			v[i].len = 0;
		}
	}
	rq.method = (uint8_t)((data[0] & 3) == 3 ? ROMFS_GET : (data[0] & 3));
	rq.if_none_match = v[V_INM];
	rq.accept_encoding = v[V_AE];
	rq.range = v[V_RANGE];
	rq.if_range = v[V_IF_RANGE];
	which = (data[0] >> 2) & 7;
	f = which < romfs_count ? &romfs_files[which] : NULL;

	romfs_decide(f, &rq, &a);
	check_answer(f, &rq, &a);
	check_head(&a, f);
	romfs_decide(f, &rq, &again);
	CHECK(memcmp(&a, &again, sizeof(a)) == 0);

	shrink = data[1] >> 4;
	if (v[V_PATH].p != NULL)
		check_path(v[V_PATH].p, v[V_PATH].len,
			   shrink ? shrink * 2u : PATH_CAP);
	for (i = 0; i < N_VALUES; i++)
		free(copy[i]);
	return 0;
}
