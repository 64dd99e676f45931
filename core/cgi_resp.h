/*
 * cgi_resp.h - the CGI response-header block an app sends at the start of
 * its STDOUT (RFC 3875 §6.2, §6.3).
 */
#ifndef FCGATE_CGI_RESP_H
#define FCGATE_CGI_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct cgi_resp {
	uint16_t status;            /* from Status:, else 302 with Location, else 200 */
	struct http_slice reason;   /* from Status: after the code; may be empty */
	int64_t content_length;     /* from Content-Length:, -1 when absent */
	uint8_t has_location;
};

/*
 * Find and check the header block in buf[0..len): header lines ended by
 * CRLF or LF, then an empty line. Returns the block length including the
 * empty line, -2 when the empty line has not arrived yet, -1 when the
 * block is invalid (a line without a colon, an empty or non-token name,
 * a space before the colon, obs-fold (a line starting with a space or
 * tab), a bare CR or a control byte other than tab anywhere but in the
 * line end, a bad Status: line (not three digits 100-999, then nothing
 * or a space and the reason), a malformed Content-Length, a Status: or
 * Content-Length: repeated with another value). A line is judged once
 * its LF is in. An app's Status: wins over Location:; Location: without
 * Status: is a 302 (RFC 3875 §6.2.3 and §6.2.4, as Apache answers both).
 */
long cgi_resp_parse(const char *buf, size_t len, struct cgi_resp *r);

/*
 * Walk the header lines of a block that cgi_resp_parse() accepted: fills
 * name and value (value trimmed of spaces and tabs) and returns 1, or 0
 * at the end. *pos starts at 0. Every line is returned in order,
 * Status and Content-Length included; the caller filters. Nothing is
 * checked again, each line's colon and LF are only looked for; len may
 * run past the block, the walk ends at its empty line.
 */
int cgi_resp_next(const char *block, size_t len, size_t *pos,
		  struct http_slice *name, struct http_slice *value);

#endif
