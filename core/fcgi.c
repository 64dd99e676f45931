/*
 * fcgi.c - FastCGI 1.0 record codec.
 *
 * The decoder never copies payload: STDOUT/STDERR and GET_VALUES_RESULT
 * content is handed out as slices of the caller's buffer. The only bytes
 * it keeps are a partial record header and the 8-byte END_REQUEST body,
 * both in d->hdr, so it can be fed any split of the stream, down to one
 * byte per call.
 */
#include "copy.h"
#include "fcgi.h"

#include <limits.h>
#include <string.h>

/* Record header layout (FastCGI spec §3.3, FCGI_Header). */
enum {
	HDR_VERSION = 0,
	HDR_TYPE = 1,
	HDR_ID_B1 = 2,
	HDR_ID_B0 = 3,
	HDR_CLEN_B1 = 4,
	HDR_CLEN_B0 = 5,
	HDR_PADDING = 6,
	HDR_RESERVED = 7,
};

/* FCGI_BeginRequestBody (§5.1): role (2 bytes), flags, 5 reserved. */
#define BEGIN_BODY_LEN 8u
#define BEGIN_ROLE_B1 0
#define BEGIN_ROLE_B0 1
#define BEGIN_FLAGS 2

/* FCGI_EndRequestBody (§5.5): appStatus (4 bytes BE), protocolStatus. */
#define END_BODY_LEN 8u
#define END_PROTOCOL_STATUS 4

/* Records are padded so the next header is 8-byte aligned (§3.3). */
#define FCGI_ALIGN 8u

#define BYTE_MASK 0xffu

/* Decoder states; 0 is "expecting a header" so a zeroed decoder works. */
enum {
	ST_HEADER = 0,
	ST_CONTENT,     /* STDOUT/STDERR/VALUES content: handed out as slices */
	ST_END_BODY,    /* collecting the 8-byte END_REQUEST body in hdr */
	ST_SKIP,        /* content to drop (other records, END extra bytes) */
	ST_PADDING,
	ST_FAILED,      /* a protocol error was seen; the stream is unusable */
};

/* rec_type of a record that is skipped whole, whatever its wire type. */
#define REC_SKIPPED 0

/* Step results: an event was filled in, nothing to report, or an error. */
#define STEP_EVENT 1
#define STEP_NONE 0
#define STEP_ERROR (-1)

#define DECODE_NEED_MORE (-2)
#define DECODE_ERROR (-1)

void fcgi_put_header(uint8_t *dst, uint8_t type, uint16_t request_id,
		     uint16_t content_len, uint8_t padding_len)
{
	dst[HDR_VERSION] = FCGI_VERSION_1;
	dst[HDR_TYPE] = type;
	dst[HDR_ID_B1] = (uint8_t)(request_id >> 8);
	dst[HDR_ID_B0] = (uint8_t)(request_id & BYTE_MASK);
	dst[HDR_CLEN_B1] = (uint8_t)(content_len >> 8);
	dst[HDR_CLEN_B0] = (uint8_t)(content_len & BYTE_MASK);
	dst[HDR_PADDING] = padding_len;
	dst[HDR_RESERVED] = 0;
}

size_t fcgi_put_begin_request(uint8_t *dst, uint16_t request_id,
			      uint16_t role, uint8_t flags)
{
	uint8_t *body = dst + FCGI_HEADER_LEN;

	fcgi_put_header(dst, FCGI_BEGIN_REQUEST, request_id, BEGIN_BODY_LEN, 0);
	memset(body, 0, BEGIN_BODY_LEN);
	body[BEGIN_ROLE_B1] = (uint8_t)(role >> 8);
	body[BEGIN_ROLE_B0] = (uint8_t)(role & BYTE_MASK);
	body[BEGIN_FLAGS] = flags;
	return FCGI_HEADER_LEN + BEGIN_BODY_LEN;
}

size_t fcgi_put_abort_request(uint8_t *dst, uint16_t request_id)
{
	fcgi_put_header(dst, FCGI_ABORT_REQUEST, request_id, 0, 0);
	return FCGI_HEADER_LEN;
}

uint8_t fcgi_padding(uint16_t content_len)
{
	return (uint8_t)((FCGI_ALIGN - content_len % FCGI_ALIGN) % FCGI_ALIGN);
}

void fcgi_decoder_init(struct fcgi_decoder *d, uint16_t request_id)
{
	memset(d, 0, sizeof(*d));
	d->request_id = request_id;
	d->state = ST_HEADER;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* One length field at p; 0 when avail is too short to hold it. */
static size_t get_nv_len(const uint8_t *p, size_t avail, size_t *len)
{
	if (avail < 1)
		return 0;
	if (!(p[0] & FCGI_NV_LONG_FLAG)) {
		*len = p[0];
		return 1;
	}
	if (avail < 4)
		return 0;
	*len = get_be32(p) & FCGI_NV_LEN_MAX;  /* the flag is not length */
	return 4;
}

long fcgi_nv_next(const uint8_t *buf, size_t len, struct fcgi_nv *out)
{
	size_t name_len, value_len, n, pos;

	if (len > LONG_MAX)
		len = LONG_MAX;  /* the count must fit the return value */
	pos = get_nv_len(buf, len, &name_len);
	if (pos == 0)
		return DECODE_NEED_MORE;
	n = get_nv_len(buf + pos, len - pos, &value_len);
	if (n == 0)
		return DECODE_NEED_MORE;
	pos += n;
	/* Compared one at a time so 31-bit lengths cannot overflow a sum. */
	if (name_len > len - pos || value_len > len - pos - name_len)
		return DECODE_NEED_MORE;
	out->name = buf + pos;
	out->name_len = name_len;
	out->value = buf + pos + name_len;
	out->value_len = value_len;
	return (long)(pos + name_len + value_len);
}

/* A record is over: report what it amounts to and expect a header. */
static int finish_record(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	d->state = ST_HEADER;
	d->got = 0;
	switch (d->rec_type) {
	case FCGI_END_REQUEST:
		ev->type = FCGI_EV_END;
		ev->app_status = get_be32(d->hdr);
		ev->protocol_status = d->hdr[END_PROTOCOL_STATUS];
		return STEP_EVENT;
	case FCGI_STDOUT:
	case FCGI_STDERR:
		return STEP_NONE;  /* content was already reported piecewise */
	default:
		ev->type = FCGI_EV_OTHER;
		ev->record_type = d->skip_type;
		return STEP_EVENT;
	}
}

/* The content of the record is consumed: padding next, or its end. */
static int content_done(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	if (d->padding > 0) {
		d->state = ST_PADDING;
		return STEP_NONE;
	}
	return finish_record(d, ev);
}

static int is_for_request(uint8_t type)
{
	return type == FCGI_STDOUT || type == FCGI_STDERR ||
	       type == FCGI_END_REQUEST;
}

/* The 8 header bytes are in: check them and pick the record's state. */
static int start_record(struct fcgi_decoder *d, struct fcgi_event *ev)
{
	uint8_t type = d->hdr[HDR_TYPE];
	uint16_t id = get_be16(d->hdr + HDR_ID_B1);

	if (d->hdr[HDR_VERSION] != FCGI_VERSION_1)
		return STEP_ERROR;
	d->remaining = get_be16(d->hdr + HDR_CLEN_B1);
	d->padding = d->hdr[HDR_PADDING];
	d->got = 0;
	/*
	 * Request id 0 is the management channel: GET_VALUES_RESULT is handed
	 * out (the caller learns the app's limits from it), the rest and
	 * other record types are not ours to act on: skip them. Output for
	 * another request on this connection means the app is confused.
	 */
	if (id == 0 && type == FCGI_GET_VALUES_RESULT) {
		d->rec_type = type;
		d->skip_type = type;  /* its end is reported as a skipped record */
		d->state = ST_CONTENT;
	} else if (id == 0 || !is_for_request(type)) {
		d->rec_type = REC_SKIPPED;
		d->skip_type = type;
		d->state = ST_SKIP;
	} else if (id != d->request_id) {
		return STEP_ERROR;
	} else if (type == FCGI_END_REQUEST) {
		if (d->remaining < END_BODY_LEN)
			return STEP_ERROR;
		d->rec_type = type;
		d->state = ST_END_BODY;
		return STEP_NONE;
	} else {
		d->rec_type = type;
		d->state = ST_CONTENT;
	}
	return d->remaining == 0 ? content_done(d, ev) : STEP_NONE;
}

static int step_header(struct fcgi_decoder *d, const uint8_t *p, size_t avail,
		       size_t *used, struct fcgi_event *ev)
{
	size_t n = min_size(FCGI_HEADER_LEN - d->got, avail);

	copy_bytes(d->hdr + d->got, p, n);
	d->got = (uint8_t)(d->got + n);
	*used = n;
	if (d->got < FCGI_HEADER_LEN)
		return STEP_NONE;
	return start_record(d, ev);
}

static uint8_t content_event(uint8_t rec_type)
{
	switch (rec_type) {
	case FCGI_STDOUT:
		return FCGI_EV_STDOUT;
	case FCGI_STDERR:
		return FCGI_EV_STDERR;
	default:
		return FCGI_EV_VALUES;
	}
}

static int step_content(struct fcgi_decoder *d, const uint8_t *p, size_t avail,
			size_t *used, struct fcgi_event *ev)
{
	size_t n = min_size(d->remaining, avail);

	ev->type = content_event(d->rec_type);
	ev->data = p;
	ev->len = n;
	d->remaining -= (uint32_t)n;
	*used = n;
	/*
	 * STDOUT/STDERR end adds no event. An unpadded GET_VALUES_RESULT ends
	 * here: its OTHER event takes the type and keeps this piece in data/len.
	 */
	if (d->remaining == 0)
		(void)content_done(d, ev);
	return STEP_EVENT;
}

static int step_end_body(struct fcgi_decoder *d, const uint8_t *p,
			 size_t avail, size_t *used, struct fcgi_event *ev)
{
	size_t n = min_size(END_BODY_LEN - d->got, avail);

	copy_bytes(d->hdr + d->got, p, n);
	d->got = (uint8_t)(d->got + n);
	d->remaining -= (uint32_t)n;
	*used = n;
	if (d->got < END_BODY_LEN)
		return STEP_NONE;
	/* A longer body than the spec's is tolerated: drop the rest. */
	d->state = ST_SKIP;
	return d->remaining == 0 ? content_done(d, ev) : STEP_NONE;
}

static int step_skip(struct fcgi_decoder *d, size_t avail, size_t *used,
		     struct fcgi_event *ev)
{
	size_t n = min_size(d->remaining, avail);

	d->remaining -= (uint32_t)n;
	*used = n;
	return d->remaining == 0 ? content_done(d, ev) : STEP_NONE;
}

static int step_padding(struct fcgi_decoder *d, size_t avail, size_t *used,
			struct fcgi_event *ev)
{
	size_t n = min_size(d->padding, avail);

	d->padding = (uint8_t)(d->padding - n);
	*used = n;
	return d->padding == 0 ? finish_record(d, ev) : STEP_NONE;
}

static int step(struct fcgi_decoder *d, const uint8_t *p, size_t avail,
		size_t *used, struct fcgi_event *ev)
{
	switch (d->state) {
	case ST_HEADER:
		return step_header(d, p, avail, used, ev);
	case ST_CONTENT:
		return step_content(d, p, avail, used, ev);
	case ST_END_BODY:
		return step_end_body(d, p, avail, used, ev);
	case ST_SKIP:
		return step_skip(d, avail, used, ev);
	case ST_PADDING:
		return step_padding(d, avail, used, ev);
	default:
		return STEP_ERROR;
	}
}

/*
 * Framing is eaten in a loop so a caller is not woken for every header;
 * the loop stops at the first event, so at most one is reported per call.
 */
long fcgi_decode(struct fcgi_decoder *d, const uint8_t *buf, size_t len,
		 struct fcgi_event *ev)
{
	size_t pos = 0;

	memset(ev, 0, sizeof(*ev));
	ev->type = FCGI_EV_NONE;
	if (len == 0)
		return DECODE_NEED_MORE;
	if (len > LONG_MAX)
		len = LONG_MAX;  /* the count must fit the return value */
	while (pos < len) {
		size_t used = 0;
		int r = step(d, buf + pos, len - pos, &used, ev);

		pos += used;
		if (r == STEP_ERROR) {
			d->state = ST_FAILED;
			memset(ev, 0, sizeof(*ev));
			return DECODE_ERROR;
		}
		if (r == STEP_EVENT)
			break;
	}
	return (long)pos;
}
