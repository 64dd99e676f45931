/*
 * dir.c - Alias PREFIX /DIR/: files of a real folder, read through the
 * port layer (POSIX boards; DIR_ALIAS).
 *
 * The answer is the ROM filesystem's: romfs_map_path() turns the URL
 * path into a name below the folder (no "." or ".." segment, no '%', no
 * control byte), the port opens it without following any symbolic link
 * below the folder, and romfs_decide() gets a romfs_file view of it
 * (no bytes in memory, no gzip variant) for 304, HEAD, Range and 405.
 * The body is then read into out[] a buffer at a time by slot_flush();
 * the file stays open only while body bytes remain (slot_file_end()).
 */
#include <string.h>

#include "log.h"
#include "romfs.h"
#include "slot.h"

#if CONFIG_DIR_ALIAS

/* Longest name below the folder; a longer request path is a 404. */
#define DIR_REL_MAX 1024u
#define DIR_INDEX_MAX 64u
#define DIR_DEFAULT_INDEX "index.html"
#define DIR_DEFAULT_TYPE "application/octet-stream"
#define UTF8 "; charset=utf-8"

/* Content-Type by extension: the same table as scripts/romfs-pack.py. */
static const struct {
	const char *ext;
	const char *type;
} dir_types[] = {
	{ "html", "text/html" UTF8 },
	{ "htm", "text/html" UTF8 },
	{ "css", "text/css" UTF8 },
	{ "js", "text/javascript" UTF8 },
	{ "mjs", "text/javascript" UTF8 },
	{ "txt", "text/plain" UTF8 },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "ico", "image/x-icon" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "wasm", "application/wasm" },
};

/* Does ext[0..n) equal the lower-case lit, ignoring case? */
static int ext_is(const char *ext, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = ext[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (lit[i] == '\0' || ch != lit[i])
			return 0;
	}
	return lit[i] == '\0';
}

static const char *dir_type(const char *name, size_t len)
{
	size_t dot = len;

	while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/')
		dot--;
	if (dot == 0 || name[dot - 1] != '.')
		return DIR_DEFAULT_TYPE;
	for (size_t i = 0; i < sizeof(dir_types) / sizeof(dir_types[0]); i++)
		if (ext_is(name + dot, len - dot, dir_types[i].ext))
			return dir_types[i].type;
	return DIR_DEFAULT_TYPE;
}

static char *put_hex(char *p, uint64_t v)
{
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15u];
		v >>= 4;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * "MTIME-SIZE" in hex, quoted, as nginx makes it: it changes whenever
 * the file is rewritten (unless within the same second at the same size).
 */
static void dir_etag(char *buf, int64_t mtime, uint64_t size)
{
	char *p = buf;

	*p++ = '"';
	p = put_hex(p, (uint64_t)mtime);
	*p++ = '-';
	p = put_hex(p, size);
	*p++ = '"';
	*p = '\0';
}

static struct http_slice header_value(const struct client *c, const char *name)
{
	const struct http_header *h = http_find_header(&c->req, name);
	struct http_slice none = { NULL, 0 };

	return h != NULL ? h->value : none;
}

/* The name below r's folder that the request path means, or a negative ROMFS_E*. */
static int dir_map(const struct client *c, const struct route *r, char *rel)
{
	struct route_str s = gw_routes->dir_index;
	char index[DIR_INDEX_MAX] = DIR_DEFAULT_INDEX;

	if (s.len > 0 && s.len < sizeof(index)) {
		memcpy(index, route_cstr(gw_routes, s), s.len);
		index[s.len] = '\0';
	}
	return romfs_map_path(c->path + r->prefix.len, c->path_len - r->prefix.len, index,
			      rel, DIR_REL_MAX);
}

/* The name last opened below a folder: its extension gives the type. */
static char rel[DIR_REL_MAX];
static size_t rel_len;

static int dir_open(const struct client *c, const struct route *r, port_file *f,
		    uint64_t *size, int64_t *mtime)
{
	int n = dir_map(c, r, rel);

	if (n < 0)
		return PORT_INVALID;
	rel_len = (size_t)n;
	return port_file_open(route_cstr(gw_routes, r->url), r->url.len, rel, rel_len,
			      f, size, mtime);
}

/* Does the path, with a '/' added, name a folder that has its index file? */
static int is_folder(struct client *c, const struct route *r)
{
	uint64_t size;
	int64_t mtime;
	port_file f;
	int rc;

	if (c->path_len == 0 || c->path[c->path_len - 1] == '/' ||
	    c->path_len + 1 >= sizeof(c->path))
		return 0;
	c->path[c->path_len++] = '/';
	rc = dir_open(c, r, &f, &size, &mtime);
	c->path_len--;
	if (rc != PORT_OK)
		return 0;
	port_file_close(f);
	return 1;
}

/* Status line, fcgate's fields, romfs.c's fields for a, Header set lines. */
static int write_head(struct client *c, const struct romfs_file *f,
		      const struct romfs_answer *a)
{
	static const struct http_slice no_reason = { NULL, 0 };
	int r;

	c->out_off = c->out_len = 0;
	r = request_write_head(c, a->status, no_reason);
	r |= request_file_fields(c, f, a);
	return r | request_end_head(c);
}

/* Answer from the open file fd; it belongs to the slot from here on. */
static void dir_answer(struct client *c, port_file fd, uint64_t size, int64_t mtime)
{
	char etag[ROMFS_ETAG_MAX];
	struct romfs_file f;
	struct romfs_request rq;
	struct romfs_answer a;

	memset(&f, 0, sizeof(f));
	dir_etag(etag, mtime, size);
	f.type = dir_type(rel, rel_len);
	f.etag = etag;
	f.len = (uint32_t)size;
	memset(&rq, 0, sizeof(rq));
	rq.method = (uint8_t)romfs_method(c->req.method.p, c->req.method.len);
	rq.if_none_match = header_value(c, "If-None-Match");
	rq.range = header_value(c, "Range");
	rq.if_range = header_value(c, "If-Range");
	romfs_decide(&f, &rq, &a);
	c->file = fd;
	c->file_off = a.body_off;
	c->file_left = a.body_len;
	if (a.body_len == 0)
		port_file_close(fd);
	/* A body the client sent with a GET is not read: close after the answer. */
	if (c->body_left > 0)
		c->keep_alive = 0;
	c->no_body = rq.method == ROMFS_HEAD;
	if (write_head(c, &f, &a) != 0) {
		LOG_E("client out buffer too small for a file answer");
		request_close(c);
		return;
	}
	request_body_starts(c);
	request_send_local(c);
}

void dir_respond(struct client *c, const struct route *r)
{
	uint64_t size;
	int64_t mtime;
	port_file fd;
	int rc = dir_open(c, r, &fd, &size, &mtime);

	if (rc == PORT_NOMEM) {
		request_respond_error(c, 503, "out of file descriptors");
		return;
	}
	if (rc != PORT_OK) {
		if (is_folder(c, r))
			request_redirect_slash(c);  /* as Apache's mod_dir does */
		else
			request_respond_error(c, 404, "no such regular file in the folder");
		return;
	}
	if (size > UINT32_MAX) {
		port_file_close(fd);
		request_respond_error(c, 404, "file of 4 GiB or more (not served)");
		return;
	}
	dir_answer(c, fd, size, mtime);
}

#endif
