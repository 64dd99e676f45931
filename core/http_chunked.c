/*
 * http_chunked.c - in-place decoder of the chunked transfer coding
 * (RFC 9112 §7.1):
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *
 * A byte-at-a-time state machine, except that chunk data is moved in one
 * memmove, so any split of the input decodes the same. Everything a
 * smuggling attack could play on is strict: hex digits only (no sign, no
 * "0x", no whitespace before or inside the size), a capped digit count,
 * a capped extension, CR only as part of CRLF. Extensions and trailer
 * fields carry nothing the gateway uses, so they are checked loosely and
 * dropped.
 */
#include <limits.h>
#include <string.h>

#include "http_chunked.h"

#define CHUNK_CR '\r'
#define CHUNK_LF '\n'
#define CHUNK_SP ' '
#define CHUNK_HTAB '\t'
#define CHUNK_EXT_SEP ';'
#define CHUNK_FIELD_SEP ':'
#define CHUNK_DEL 0x7f   /* the one control byte above the C0 range */
#define CHUNK_C0_END 0x20
#define HEX_BITS 4
#define HEX_LETTER_BASE 10

enum chunk_state {
	ST_SIZE,        /* chunk-size digits (none yet if d->digits == 0) */
	ST_EXT_BWS,     /* whitespace after the size: ';' must follow */
	ST_EXT,         /* chunk-ext bytes, skipped */
	ST_SIZE_LF,     /* CR of the size line seen */
	ST_DATA,        /* chunk-data, d->remaining bytes left */
	ST_DATA_CR,     /* CRLF due after chunk-data */
	ST_DATA_LF,     /* CR after chunk-data seen */
	ST_TRAILER,     /* start of a trailer field line or of the final CRLF */
	ST_FIELD_NAME,  /* in a trailer field line, before its colon */
	ST_FIELD_VALUE, /* in a trailer field line, after its colon */
	ST_FIELD_LF,    /* CR of a trailer field line seen */
	ST_END_LF,      /* CR of the final empty line seen */
	ST_DONE,
	ST_ERROR,
};

void http_chunked_init(struct http_chunked *d, uint32_t trailer_max)
{
	memset(d, 0, sizeof(*d));
	d->state = ST_SIZE;
	d->trailer_max = trailer_max;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + HEX_LETTER_BASE;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + HEX_LETTER_BASE;
	return -1;
}

/* CTL per RFC 5234, less HTAB, which field values and BWS allow. */
static int is_ctl(uint8_t c)
{
	return (c < CHUNK_C0_END && c != CHUNK_HTAB) || c == CHUNK_DEL;
}

/*
 * CRLF or a bare LF ends a line (as for the head); a CR moves to cr_state
 * to wait for its LF, and anything else there - another CR included - is
 * a bare CR, which some peers would take as a line end and others not.
 */
static int line_end(struct http_chunked *d, uint8_t c, uint8_t cr_state,
		    uint8_t next)
{
	if (c == CHUNK_CR && d->state != cr_state) {
		d->state = cr_state;
		return 0;
	}
	if (c != CHUNK_LF)
		return -1;
	d->state = next;
	return 0;
}

/* A byte of the extension, the BWS before its ';' included. */
static int ext_byte(struct http_chunked *d, uint8_t state)
{
	if (++d->ext_len > HTTP_CHUNK_EXT_MAX)
		return -1;
	d->state = state;
	return 0;
}

/* The size line is over; its counters start again on the next one. */
static int size_line_end(struct http_chunked *d, uint8_t c)
{
	if (line_end(d, c, ST_SIZE_LF, d->remaining ? ST_DATA : ST_TRAILER) < 0)
		return -1;
	if (d->state != ST_SIZE_LF) {
		d->digits = 0;
		d->ext_len = 0;
	}
	return 0;
}

static int size_line_byte(struct http_chunked *d, uint8_t c)
{
	int v = hex_value(c);

	switch (d->state) {
	case ST_SIZE:
		if (v >= 0) {
			if (++d->digits > HTTP_CHUNK_SIZE_DIGITS)
				return -1;
			d->remaining = d->remaining << HEX_BITS | (uint64_t)v;
			return 0;
		}
		if (d->digits == 0)
			return -1;   /* no size, or a sign, space, ... before it */
		if (c == CHUNK_SP || c == CHUNK_HTAB)
			return ext_byte(d, ST_EXT_BWS);
		if (c == CHUNK_EXT_SEP)
			return ext_byte(d, ST_EXT);
		break;   /* CR, LF, or an error such as "0x5" */
	case ST_EXT_BWS:
		/* BWS belongs to an extension: "5 \r\n" is an error too. */
		if (c == CHUNK_SP || c == CHUNK_HTAB)
			return ext_byte(d, ST_EXT_BWS);
		return c == CHUNK_EXT_SEP ? ext_byte(d, ST_EXT) : -1;
	case ST_EXT:
		if (c != CHUNK_CR && c != CHUNK_LF)
			return is_ctl(c) ? -1 : ext_byte(d, ST_EXT);
		break;
	default:
		break;
	}
	return size_line_end(d, c);
}

/* A byte of a trailer field line: counted, loosely checked, dropped. */
static int field_byte(struct http_chunked *d, uint8_t c)
{
	if (d->trailer_len >= d->trailer_max)
		return -1;
	d->trailer_len++;
	if (d->state == ST_FIELD_NAME && c == CHUNK_FIELD_SEP) {
		d->state = ST_FIELD_VALUE;
		return 0;
	}
	if (c == CHUNK_CR || c == CHUNK_LF) {
		if (d->state == ST_FIELD_NAME)
			return -1;   /* a field line without a colon */
		return line_end(d, c, ST_FIELD_LF, ST_TRAILER);
	}
	if (d->state == ST_FIELD_LF || is_ctl(c))
		return -1;
	return 0;
}

static int step(struct http_chunked *d, uint8_t c)
{
	switch (d->state) {
	case ST_SIZE:
	case ST_EXT_BWS:
	case ST_EXT:
	case ST_SIZE_LF:
		return size_line_byte(d, c);
	case ST_DATA_CR:
	case ST_DATA_LF:
		return line_end(d, c, ST_DATA_LF, ST_SIZE);
	case ST_TRAILER:
		if (c != CHUNK_CR && c != CHUNK_LF) {
			d->state = ST_FIELD_NAME;
			return field_byte(d, c);
		}
		return line_end(d, c, ST_END_LF, ST_DONE);
	case ST_END_LF:
		return line_end(d, c, ST_END_LF, ST_DONE);
	case ST_FIELD_NAME:
	case ST_FIELD_VALUE:
	case ST_FIELD_LF:
		return field_byte(d, c);
	default:
		return -1;
	}
}

long http_chunked_decode(struct http_chunked *d, const uint8_t *in, size_t len,
			 uint8_t *out, size_t *out_len)
{
	size_t i = 0;

	if (d->state == ST_ERROR)
		return -1;
	if (len > LONG_MAX)
		len = LONG_MAX;   /* the rest is left for the next call */
	while (i < len && !d->done) {
		if (d->state == ST_DATA) {
			size_t n = len - i;

			if (n > d->remaining)
				n = (size_t)d->remaining;
			memmove(out + *out_len, in + i, n);
			*out_len += n;
			d->total += n;
			d->remaining -= n;
			i += n;
			if (d->remaining == 0)
				d->state = ST_DATA_CR;
			continue;
		}
		if (step(d, in[i++]) < 0) {
			d->state = ST_ERROR;
			return -1;
		}
		d->done = d->state == ST_DONE;
	}
	return (long)i;
}
