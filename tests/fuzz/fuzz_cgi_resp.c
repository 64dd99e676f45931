/*
 * fuzz_cgi_resp.c - the CGI response-header parser and its iterator on
 * arbitrary bytes. An accepted block must be iterable line by line with
 * every slice inside the block, and must be found again, at the same
 * length, when nothing follows it; one byte less must be incomplete.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_resp.h"

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void check_slice(struct http_slice s, const char *block, size_t len)
{
	assert(s.len == 0 || (s.p >= block && s.p + s.len <= block + len));
}

static void iterate(const char *block, size_t len, const struct cgi_resp *r)
{
	struct http_slice name, value;
	size_t pos = 0, lines = 0, i;

	while (cgi_resp_next(block, len, &pos, &name, &value)) {
		assert(pos <= len);
		check_slice(name, block, len);
		check_slice(value, block, len);
		assert(name.len > 0);
		for (i = 0; i < name.len; i++)
			assert(is_tchar((unsigned char)name.p[i]));
		for (i = 0; i < value.len; i++)
			assert(value.p[i] != '\r' && value.p[i] != '\n' &&
			       value.p[i] != '\0');
		if (value.len > 0) {
			assert(value.p[0] != ' ' && value.p[0] != '\t');
			assert(value.p[value.len - 1] != ' ' &&
			       value.p[value.len - 1] != '\t');
		}
		lines++;
		assert(lines <= len);
	}
	assert(!cgi_resp_next(block, len, &pos, &name, &value));
	assert(r->status >= 100 && r->status <= 999);
	check_slice(r->reason, block, len);
	assert(r->content_length >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct cgi_resp r, again;
	long n = cgi_resp_parse(buf, size, &r);

	assert(n == -1 || n == -2 || (n > 0 && (size_t)n <= size));
	if (n <= 0)
		return 0;
	iterate(buf, (size_t)n, &r);
	assert(cgi_resp_parse(buf, (size_t)n, &again) == n);
	assert(again.status == r.status && again.has_location == r.has_location &&
	       again.content_length == r.content_length);
	assert(cgi_resp_parse(buf, (size_t)n - 1, &again) == -2);
	return 0;
}
