/*
 * http_chunked.h - the chunked transfer coding of request bodies
 * (RFC 9112 §7.1), decoded in place.
 *
 * CGI needs CONTENT_LENGTH, so fcgate spools a chunked body in the client
 * slot's input buffer before the request goes to the app: the decoder
 * turns "5\r\nhello\r\n0\r\n\r\n" into "hello" where it stands, and is
 * resumable at any byte boundary, so the body can arrive in any pieces.
 */
#ifndef FCGATE_HTTP_CHUNKED_H
#define FCGATE_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

/* Longest chunk extension (";name=value...") accepted on one size line. */
#define HTTP_CHUNK_EXT_MAX 256
/* Most hex digits in a chunk size: 2^60 bytes is beyond any body. */
#define HTTP_CHUNK_SIZE_DIGITS 15

struct http_chunked {
	uint8_t state;
	uint8_t done;           /* the last chunk and the trailer section are in */
	uint8_t digits;         /* hex digits on the current size line */
	uint16_t ext_len;       /* bytes of extension on the current size line */
	uint32_t trailer_len;   /* bytes of trailer section so far */
	uint32_t trailer_max;   /* limit for the trailer section (else error) */
	uint64_t remaining;     /* data bytes left in the current chunk */
	uint64_t total;         /* data bytes decoded so far */
};

void http_chunked_init(struct http_chunked *d, uint32_t trailer_max);

/*
 * Decode raw bytes in[0..len) and append the chunk data at out + *out_len,
 * which may lie in the same buffer at the same or a lower address than in
 * (memmove semantics; out never gets ahead of in, since the output grows
 * by no more than the bytes consumed). Returns the number of raw bytes
 * consumed (>= 0; it stops right after the end of the body once done is
 * set, so the bytes after it — a pipelined request — are left alone) and
 * adds the data bytes written to *out_len. Returns -1 on a malformed
 * coding: a bad or too long size (more than HTTP_CHUNK_SIZE_DIGITS digits,
 * leading zeros included, so endless zeros are refused too), an extension
 * longer than HTTP_CHUNK_EXT_MAX, bare CR or LF where CRLF is due (a bare
 * LF is accepted as line end, as for the head), a missing CRLF after the
 * data, or a trailer section longer than trailer_max. Trailer fields are
 * read and dropped. Chunk extensions are skipped (token / quoted-string
 * syntax is checked loosely: no control bytes). An error is sticky: later
 * calls return -1 too; once done, later calls return 0.
 */
long http_chunked_decode(struct http_chunked *d, const uint8_t *in, size_t len,
			 uint8_t *out, size_t *out_len);

#endif
