/*
 * romfs.h - static assets compiled into the image, and the decision of
 * what to answer for each request on them (RFC 9110: conditional GET,
 * content coding, one byte range).
 *
 * scripts/romfs-pack.py turns a folder into romfs_files[], sorted by
 * path. Everything here is pure: romfs_decide() looks at the request's
 * header values and says which status, which bytes and which fields; the
 * caller writes the status line and its own fields, then the
 * representation fields from romfs_write_head(), then sends the body
 * straight from flash. Nothing is copied, nothing is allocated.
 */
#ifndef FCGATE_ROMFS_H
#define FCGATE_ROMFS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct romfs_file {
	const char *path;       /* below the mount, no leading '/': "css/a.css" */
	const char *type;       /* Content-Type value */
	const char *etag;       /* strong, quoted, of the identity bytes */
	const char *gz_etag;    /* strong, quoted, of the gzip bytes; NULL without gz */
	const uint8_t *data;    /* identity bytes */
	const uint8_t *gz;      /* gzip variant, NULL when it would not be smaller */
	uint32_t len;
	uint32_t gz_len;
	uint16_t path_len;
};

/*
 * The packer's output, sorted by path (bytewise, a prefix first). Only
 * romfs_find() below refers to it, so an image that never looks a file
 * up links without a packed table.
 */
extern const struct romfs_file romfs_files[];
extern const unsigned romfs_count;

/*
 * Longest Content-Type and ETag (quotes included) the packer accepts;
 * with them the largest head romfs_write_head() writes (a 206 with Vary)
 * is ROMFS_HEAD_MAX bytes.
 */
#define ROMFS_TYPE_MAX 64
#define ROMFS_ETAG_MAX 40
#define ROMFS_HEAD_MAX 256

/* The file at path[0..len) (no leading '/') in files[0..count), or NULL. */
const struct romfs_file *romfs_find_in(const struct romfs_file *files,
				       unsigned count, const char *path,
				       size_t len);

/* The same in the packed table. */
static inline const struct romfs_file *romfs_find(const char *path, size_t len)
{
	return romfs_find_in(romfs_files, romfs_count, path, len);
}

/* Error returns of romfs_map_path(). */
#define ROMFS_EBADPATH (-1)   /* answer 404: no such file can exist */
#define ROMFS_ETOOLONG (-2)   /* answer 404 too (414 was the parser's job) */

/*
 * Map the URL path below the mount (already percent-decoded and
 * normalised by http_normalize_path(); one leading '/' is allowed) to a
 * ROM path in out, NUL-terminated. A path that is empty or ends in '/'
 * gets index appended (NULL or "" for none: then it is ROMFS_EBADPATH).
 * Refused as ROMFS_EBADPATH, in case the caller skipped normalising:
 * "." and ".." segments, empty segments ("//"), '%' (a second round of
 * encoding), '\\', and control bytes. Returns the length written, or a
 * negative ROMFS_E* code. The same rules keep a real directory (POSIX
 * Alias) from being escaped.
 */
int romfs_map_path(const char *url_path, size_t len, const char *index,
		   char *out, size_t cap);

enum romfs_method { ROMFS_GET = 0, ROMFS_HEAD = 1, ROMFS_OTHER = 2 };

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is ROMFS_OTHER. */
enum romfs_method romfs_method(const char *p, size_t len);

/*
 * The request fields the decision reads, as http_find_header() finds
 * them (the first field of each name). p == NULL means "absent", which
 * differs from an empty value for Accept-Encoding.
 */
struct romfs_request {
	struct http_slice if_none_match;
	struct http_slice accept_encoding;
	struct http_slice range;
	struct http_slice if_range;
	uint8_t method;             /* enum romfs_method */
};

struct romfs_answer {
	const uint8_t *body;        /* send body[0..body_len) after the head */
	uint32_t body_len;          /* 0 for HEAD, 304 and the error statuses */
	uint32_t body_off;          /* where body starts in the representation */
	uint32_t length;            /* Content-Length of a 200/206, HEAD included */
	uint32_t total_len;         /* identity length, the "/LEN" of Content-Range */
	uint32_t range_first;       /* 206: the bytes sent, inclusive */
	uint32_t range_last;
	uint16_t status;            /* 200, 206, 304, 404, 405, 416 */
	uint8_t gzip;               /* the gzip variant was chosen */
	uint8_t vary;               /* send Vary: Accept-Encoding */
};

/*
 * Decide the answer for file f (NULL: not found). In order: 404; 405 for
 * methods other than GET and HEAD; the representation (identity when a
 * Range will be honoured, else gzip when f has it and Accept-Encoding
 * prefers it); If-None-Match, weak comparison, against that
 * representation's ETag: 304; a GET with a single valid byte range (and
 * an If-Range, if sent, that matches the identity ETag strongly): 206, or
 * 416 when it starts past the end; anything else: 200. A Range with
 * several ranges, bad syntax or another unit is ignored (RFC 9110 §14.2),
 * as is a Range on HEAD (GET is the only method that has ranges).
 *
 * A file read at run time (Alias to a real folder) has no bytes in
 * memory: its data and gz are NULL, and then body is NULL too while
 * body_off and body_len still say which bytes to read and send.
 */
void romfs_decide(const struct romfs_file *f, const struct romfs_request *rq,
		  struct romfs_answer *a);

/*
 * Write the representation fields of answer a for file f into buf, each
 * ending in CRLF: 200/206 Content-Type, Content-Length, ETag,
 * Accept-Ranges, and Content-Encoding, Vary, Content-Range as they apply;
 * 304 ETag and Vary; 416 Content-Range (unsatisfied-range form, RFC
 * 9110 §14.4) and Accept-Ranges; 405 Allow. For 404, 405 and 416 the
 * caller sends its own error body with its own Content-Type and
 * Content-Length. Returns the length written (no NUL), or 0 when there
 * is nothing to write (404) or it does not fit cap (never when cap >=
 * ROMFS_HEAD_MAX for a packed file).
 */
size_t romfs_write_head(const struct romfs_answer *a,
			const struct romfs_file *f, char *buf, size_t cap);

#endif
