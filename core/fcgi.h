/*
 * fcgi.h - FastCGI 1.0 record codec (the FastCGI specification, 1996).
 *
 * Encoding writes into caller buffers; decoding is a resumable state
 * machine that can be fed any split of the byte stream and hands out the
 * content of STDOUT and STDERR records as slices of the input, so the
 * caller can de-frame in place.
 */
#ifndef FCGATE_FCGI_H
#define FCGATE_FCGI_H

#include <stddef.h>
#include <stdint.h>

#define FCGI_VERSION_1 1
#define FCGI_HEADER_LEN 8
#define FCGI_MAX_CONTENT 65535u

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
};

enum fcgi_role { FCGI_RESPONDER = 1, FCGI_AUTHORIZER = 2, FCGI_FILTER = 3 };

#define FCGI_KEEP_CONN 1

enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_OVERLOADED = 2,
	FCGI_UNKNOWN_ROLE = 3,
};

/* Write an 8-byte record header. */
void fcgi_put_header(uint8_t *dst, uint8_t type, uint16_t request_id,
		     uint16_t content_len, uint8_t padding_len);

/* Write a whole BEGIN_REQUEST record (16 bytes); returns 16. */
size_t fcgi_put_begin_request(uint8_t *dst, uint16_t request_id,
			      uint16_t role, uint8_t flags);

/* Write a whole ABORT_REQUEST record (8 bytes); returns 8. */
size_t fcgi_put_abort_request(uint8_t *dst, uint16_t request_id);

/* Padding that brings content_len to a multiple of 8. */
uint8_t fcgi_padding(uint16_t content_len);

/* Longest name or value a name-value pair can carry (31-bit length). */
#define FCGI_NV_LEN_MAX 0x7fffffffu

/* Name-value lengths (§3.4): 0..127 in one byte, else 4 bytes, top bit set. */
#define FCGI_NV_SHORT_MAX 127u
#define FCGI_NV_LONG_FLAG 0x80u

/*
 * The pair functions are inline: some twenty pairs go out per request,
 * nearly all with one-byte lengths.
 */
static inline size_t fcgi_nv_len_bytes(size_t len)
{
	return len <= FCGI_NV_SHORT_MAX ? 1 : 4;
}

/*
 * Bytes a name-value pair takes: 1- or 4-byte lengths plus the data;
 * 0 when a length exceeds FCGI_NV_LEN_MAX (the pair cannot be encoded).
 */
static inline size_t fcgi_nv_size(size_t name_len, size_t value_len)
{
	if (name_len > FCGI_NV_LEN_MAX || value_len > FCGI_NV_LEN_MAX)
		return 0;
	return fcgi_nv_len_bytes(name_len) + fcgi_nv_len_bytes(value_len) + name_len + value_len;
}

static inline size_t fcgi_put_nv_len(uint8_t *dst, size_t len)
{
	if (len <= FCGI_NV_SHORT_MAX) {
		dst[0] = (uint8_t)len;
		return 1;
	}
	dst[0] = (uint8_t)((len >> 24) | FCGI_NV_LONG_FLAG);
	dst[1] = (uint8_t)(len >> 16);
	dst[2] = (uint8_t)(len >> 8);
	dst[3] = (uint8_t)len;
	return 4;
}

/*
 * Write the two length fields of a pair; returns bytes written (2..8), or
 * 0 (nothing written) when a length exceeds FCGI_NV_LEN_MAX.
 */
static inline size_t fcgi_put_nv_lengths(uint8_t *dst, size_t name_len, size_t value_len)
{
	size_t n;

	if (name_len > FCGI_NV_LEN_MAX || value_len > FCGI_NV_LEN_MAX)
		return 0;
	n = fcgi_put_nv_len(dst, name_len);
	return n + fcgi_put_nv_len(dst + n, value_len);
}

/* One name-value pair read by fcgi_nv_next(): slices of its buffer. */
struct fcgi_nv {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

/*
 * Read the pair at the start of buf[0..len) (§3.4: each length is one byte
 * below 128, else four bytes whose top bit is a flag, not part of the
 * length). Returns bytes consumed (> 0) with out filled, or -2 when the
 * pair does not fit in buf (len 0 included). Every byte string starts a
 * well-formed pair, so -1 (malformed) is not returned today.
 */
long fcgi_nv_next(const uint8_t *buf, size_t len, struct fcgi_nv *out);

/* What fcgi_decode() found. */
enum fcgi_event_type {
	FCGI_EV_NONE = 0,       /* consumed framing only; call again */
	FCGI_EV_STDOUT,         /* data/len: a piece of STDOUT content */
	FCGI_EV_STDERR,         /* data/len: a piece of STDERR content */
	FCGI_EV_END,            /* app_status, protocol_status are set */
	FCGI_EV_OTHER,          /* a whole record of another type was skipped */
	FCGI_EV_VALUES,         /* data/len: a piece of GET_VALUES_RESULT content */
};

struct fcgi_event {
	uint8_t type;           /* enum fcgi_event_type */
	uint8_t protocol_status;
	uint8_t record_type;    /* FCGI_EV_OTHER: the record's wire type */
	const uint8_t *data;
	size_t len;
	uint32_t app_status;
};

struct fcgi_decoder {
	uint16_t request_id;    /* the request the decoder belongs to */
	uint8_t state;
	uint8_t rec_type;
	uint8_t skip_type;      /* wire type of a record being skipped */
	uint8_t hdr[FCGI_HEADER_LEN];
	uint8_t got;            /* bytes of hdr or END_REQUEST body held */
	uint8_t padding;
	uint32_t remaining;     /* content bytes left in the current record */
};

void fcgi_decoder_init(struct fcgi_decoder *d, uint16_t request_id);

/*
 * Consume bytes from buf[0..len) and report at most one event. Returns
 * bytes consumed (> 0) with ev filled (FCGI_EV_NONE when only framing was
 * eaten), -2 when len is 0, or -1 on a protocol error (wrong version, a
 * STDOUT/STDERR/END_REQUEST for another request id, a malformed
 * END_REQUEST). STDOUT/STDERR/VALUES slices point into buf. A zero-length
 * STDOUT record (end of stream) gives no event.
 *
 * The content of a GET_VALUES_RESULT on request id 0 comes out as VALUES
 * pieces; its end is still an FCGI_EV_OTHER (record_type
 * FCGI_GET_VALUES_RESULT). When that record has no padding, its last
 * content piece and its end are one call, so that OTHER event carries the
 * last piece in data/len (len 0 otherwise): collect data/len from VALUES
 * and from this OTHER alike. Other records' OTHER events have len 0.
 *
 * After FCGI_EV_END, bytes that follow belong to the next request (or are
 * an error for the caller). After -1 the stream is out of step: every
 * later call returns -1 too.
 */
long fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
		 struct fcgi_event *ev);

#endif
