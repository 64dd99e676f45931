/*
 * rom.c - the ROM filesystem handler: Alias PREFIX rom:/DIR/ routes and
 * ErrorDocument bodies, answered from const data. romfs.c decides the
 * answer (304, gzip, range, HEAD, 405); this file writes the head into
 * the slot and points the slot at the body in flash, which slot_flush()
 * sends without copying it through out[].
 */
#include <string.h>

#include "log.h"
#include "romfs.h"
#include "slot.h"

#if CONFIG_ROMFS

/* Longest ROM path looked up; longer ones cannot exist (the packer keeps them short). */
#define ROM_PATH_MAX 128u
#define ROM_DEFAULT_INDEX "index.html"

static struct http_slice header_value(const struct client *c, const char *name)
{
	const struct http_header *h = http_find_header(&c->req, name);
	struct http_slice none = { NULL, 0 };

	return h != NULL ? h->value : none;
}

/* DirectoryIndex as a C string (romfs_map_path wants one). */
static void dir_index(char *buf, size_t cap)
{
	struct route_str s = gw_routes->dir_index;

	if (s.len == 0 || s.len >= cap) {
		memcpy(buf, ROM_DEFAULT_INDEX, sizeof(ROM_DEFAULT_INDEX));
		return;
	}
	memcpy(buf, route_cstr(gw_routes, s), s.len);
	buf[s.len] = '\0';
}

/* The ROM file a request below route r names, or NULL. */
static const struct romfs_file *rom_lookup(const struct client *c, const struct route *r)
{
	char path[ROM_PATH_MAX], index[ROM_PATH_MAX / 2];
	size_t dir_len = r->url.len;
	int n;

	if (dir_len >= sizeof(path))
		return NULL;
	memcpy(path, route_cstr(gw_routes, r->url), dir_len);
	dir_index(index, sizeof(index));
	n = romfs_map_path(c->path + r->prefix.len, c->path_len - r->prefix.len, index,
			   path + dir_len, sizeof(path) - dir_len);
	if (n < 0)
		return NULL;
	return romfs_find(path, dir_len + (size_t)n);
}

/* fcgate's fields for f: romfs.c's, or for an error document its type and length. */
static int write_fields(struct client *c, const struct romfs_file *f,
			const struct romfs_answer *a, int errdoc)
{
	int r = 0;

	if (errdoc) {
		r |= slot_out_str(c, "Content-Type: ");
		r |= slot_out_str(c, f->type);
		r |= slot_out_str(c, "\r\nContent-Length: ");
		r |= slot_out_uint(c, f->len, 10);
		return r | slot_out_str(c, "\r\n");
	}
	return request_file_fields(c, f, a);
}

/* The whole head of a's answer; the body will be sent from flash. */
static int write_answer(struct client *c, const struct romfs_file *f,
			const struct romfs_answer *a, int errdoc)
{
	static const struct http_slice no_reason = { NULL, 0 };
	int r;

	c->out_off = c->out_len = 0;
	r = request_write_head(c, a->status, no_reason);
	r |= write_fields(c, f, a, errdoc);
	r |= request_end_head(c);
	if (r) {
		LOG_E("client out buffer too small for a ROM answer");
		request_close(c);
		return -1;
	}
	request_body_starts(c);
	c->rom_body = a->body;
	c->rom_left = a->body_len;
	return 0;
}

/* Does the path, with a '/' added, name a folder that has its index file? */
static int is_folder(struct client *c, const struct route *r)
{
	const struct romfs_file *f;

	if (c->path_len == 0 || c->path[c->path_len - 1] == '/' ||
	    c->path_len + 1 >= sizeof(c->path))
		return 0;
	c->path[c->path_len] = '/';
	c->path_len++;
	f = rom_lookup(c, r);
	c->path_len--;
	return f != NULL;
}

void rom_respond(struct client *c, const struct route *r)
{
	const struct romfs_file *f = rom_lookup(c, r);
	struct romfs_request rq;
	struct romfs_answer a;

	memset(&rq, 0, sizeof(rq));
	rq.method = (uint8_t)romfs_method(c->req.method.p, c->req.method.len);
	rq.if_none_match = header_value(c, "If-None-Match");
	rq.accept_encoding = header_value(c, "Accept-Encoding");
	rq.range = header_value(c, "Range");
	rq.if_range = header_value(c, "If-Range");
	romfs_decide(f, &rq, &a);
	if (a.status == 404 && is_folder(c, r)) {
		/* "/ui/sub" names a folder: its slashed form, as Apache's mod_dir does. */
		request_redirect_slash(c);
		return;
	}
	if (a.status == 404) {
		request_respond_error(c, 404, "no such file in the ROM filesystem");
		return;
	}
	/* A body the client sent with a GET is not read: close after the answer. */
	if (c->body_left > 0)
		c->keep_alive = 0;
	c->no_body = rq.method == ROMFS_HEAD;
	if (write_answer(c, f, &a, 0) == 0)
		request_send_local(c);
}

int rom_error_document(struct client *c, unsigned status)
{
	const struct romfs_file *f = NULL;
	struct romfs_answer a;

	for (unsigned i = 0; i < gw_routes->errdoc_count; i++) {
		const struct route_errdoc *d = &gw_routes->errdocs[i];
		if (d->status == status) {
			f = romfs_find(route_cstr(gw_routes, d->path), d->path.len);
			break;
		}
	}
	if (f == NULL)
		return 0;
	/* The identity bytes, as they are, under the error's status. */
	memset(&a, 0, sizeof(a));
	a.status = (uint16_t)status;
	a.length = a.total_len = f->len;
	a.body = c->no_body ? NULL : f->data;
	a.body_len = c->no_body ? 0 : f->len;
	return write_answer(c, f, &a, 1) == 0 ? 1 : -1;
}

#endif
