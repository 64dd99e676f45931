/*
 * cgi.h - the RFC 3875 meta-variables of one request, written as FastCGI
 * name-value pairs.
 *
 * Pairs are produced one at a time from the parsed request (nothing is
 * copied first), so a PARAMS stream of any size goes out through a small
 * buffer: the caller opens a record, lets cgi_params_write() fill it with
 * whole pairs, sends it, and calls again with the same cursor.
 */
#ifndef FCGATE_CGI_H
#define FCGATE_CGI_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "port.h"

struct cgi_request {
	const struct http_request *req;
	const char *path;           /* decoded, normalised request path */
	uint32_t path_len;
	uint32_t script_len;        /* path[0..script_len) is SCRIPT_NAME */
	const char *docroot;        /* path of the fcgi:// URL */
	uint32_t docroot_len;
	const struct port_addr *local;
	const struct port_addr *peer;
	uint8_t authorizer;         /* FCGI_AUTHORIZER: no CONTENT_LENGTH, PATH_INFO, SCRIPT_NAME */
	uint8_t https;              /* over TLS: HTTPS=on, REQUEST_SCHEME=https */
};

/*
 * Append whole pairs, starting at *cursor, to dst[0..cap). Returns the
 * bytes written, and advances *cursor past every pair written; when
 * *cursor reaches cgi_params_end() everything has been written. Returns
 * -1 when the next pair alone is larger than cap (the caller gives up on
 * the request: a pair is never split, as php-fpm reads each PARAMS record
 * on its own).
 */
long cgi_params_write(const struct cgi_request *cr, unsigned *cursor,
		      uint8_t *dst, size_t cap);
unsigned cgi_params_end(const struct cgi_request *cr);

/* "a.b.c.d" or the RFC 5952 form of an IPv6 address; returns the length. */
size_t cgi_format_ip(const struct port_addr *a, char *out, size_t cap);

#endif
