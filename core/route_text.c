/*
 * route_text.c - slices and messages of the route parser (route_text.h).
 */
#include <stdarg.h>
#include <string.h>

#include "route_text.h"

#define ROUTE_MSG_TOKEN_MAX 32u         /* longest token quoted whole in a message */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int route_mem_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

int route_tok_ieq(const struct route_tok *t, const char *s)
{
	return t->n == strlen(s) && route_mem_ieq(t->s, s, t->n);
}

int route_tok_iprefix(const struct route_tok *t, const char *s)
{
	return t->n >= strlen(s) && route_mem_ieq(t->s, s, strlen(s));
}

static void msg_put(struct route_error *err, size_t *at, const char *s, size_t n)
{
	size_t room = sizeof err->msg - 1 - *at;

	if (n > room)
		n = room;
	memcpy(err->msg + *at, s, n);
	*at += n;
}

static void msg_put_uint(struct route_error *err, size_t *at, unsigned v)
{
	char digits[sizeof(unsigned) * 3];
	size_t i = sizeof digits;

	do {
		digits[--i] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	msg_put(err, at, digits + i, sizeof digits - i);
}

int route_fail(struct route_error *err, unsigned line, const char *fmt, ...)
{
	size_t at = 0;
	const struct route_tok *t;
	const char *s;
	va_list ap;

	if (!err)
		return -1;
	err->line = line;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (fmt[0] != '%' || !fmt[1]) {
			msg_put(err, &at, fmt, 1);
			continue;
		}
		switch (*++fmt) {
		case 's':
			s = va_arg(ap, const char *);
			msg_put(err, &at, s, strlen(s));
			break;
		case 'u':
			msg_put_uint(err, &at, va_arg(ap, unsigned));
			break;
		case 't':
			t = va_arg(ap, const struct route_tok *);
			if (t->n <= ROUTE_MSG_TOKEN_MAX) {
				msg_put(err, &at, t->s, t->n);
			} else {
				msg_put(err, &at, t->s, ROUTE_MSG_TOKEN_MAX - 3);
				msg_put(err, &at, "...", 3);
			}
			break;
		default:
			msg_put(err, &at, fmt, 1);
		}
	}
	va_end(ap);
	err->msg[at] = '\0';
	return -1;
}
