/*
 * log.c - a small printf subset and leveled log lines.
 *
 * Firmware images cannot afford newlib's vfprintf (several KiB of flash)
 * for a handful of log formats, so the core formats its own lines.
 */
#include <stdint.h>

#include "log.h"
#include "port.h"

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s, size_t max)
{
	if (s == NULL)
		s = "(null)";
	for (size_t i = 0; i < max && s[i] != '\0'; i++)
		put_char(o, s[i]);
}

/*
 * v / 10 with shifts and adds (Hacker's Delight, divu10, widened to 64
 * bits): a 64-bit division would pull the C library's 700-byte helper
 * into a Cortex-M3 image, which has no 64-bit divide instruction.
 */
static unsigned long long div10(unsigned long long v, unsigned *rem)
{
	unsigned long long q = (v >> 1) + (v >> 2);
	unsigned long long r;

	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q += q >> 32;
	q >>= 3;
	r = v - ((q << 2) + q) * 2;     /* q is v / 10 or one less */
	if (r > 9) {
		q++;
		r -= 10;
	}
	*rem = (unsigned)r;
	return q;
}

char *log_utoa(char *end, unsigned long long v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	unsigned w, d;

	if (base == 16) {
		do {
			*--end = digits[v & 15u];
			v >>= 4;
		} while (v != 0);
		return end;
	}
	while (v > UINT32_MAX) {
		v = div10(v, &d);
		*--end = digits[d];
	}
	/* Nearly every number fits 32 bits: divided by a constant, that is a multiply. */
	w = (unsigned)v;
	do {
		*--end = digits[w % 10];
		w /= 10;
	} while (w != 0);
	return end;
}

static void put_unsigned(struct out *o, unsigned long long v, unsigned base)
{
	char tmp[LOG_UTOA_MAX];
	char *p = log_utoa(tmp + sizeof(tmp), v, base);

	while (p < tmp + sizeof(tmp))
		put_char(o, *p++);
}

static void put_signed(struct out *o, long long v)
{
	if (v < 0) {
		put_char(o, '-');
		put_unsigned(o, (unsigned long long)(-(v + 1)) + 1u, 10);
	} else {
		put_unsigned(o, (unsigned long long)v, 10);
	}
}

/* Length modifier: 0 none, 1 'l', 2 'll', 3 'z'. */
static const char *read_length(const char *f, int *mod)
{
	*mod = 0;
	if (*f == 'z') {
		*mod = 3;
		return f + 1;
	}
	while (*f == 'l' && *mod < 2) {
		(*mod)++;
		f++;
	}
	return f;
}

static unsigned long long arg_unsigned(va_list *ap, int mod)
{
	switch (mod) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned);
	}
}

static long long arg_signed(va_list *ap, int mod)
{
	switch (mod) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (long long)va_arg(*ap, size_t);
	default: return va_arg(*ap, int);
	}
}

size_t log_vformat(char *buf, size_t cap, const char *fmt, va_list ap_in)
{
	struct out o = { buf, cap, 0 };
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f != '\0'; f++) {
		size_t prec = SIZE_MAX;
		int mod;

		if (*f != '%') {
			put_char(&o, *f);
			continue;
		}
		f++;
		if (f[0] == '.' && f[1] == '*') {
			prec = (size_t)va_arg(ap, int);
			f += 2;
		}
		f = read_length(f, &mod);
		switch (*f) {
		case 's': put_str(&o, va_arg(ap, const char *), prec); break;
		case 'c': put_char(&o, (char)va_arg(ap, int)); break;
		case 'd': put_signed(&o, arg_signed(&ap, mod)); break;
		case 'u': put_unsigned(&o, arg_unsigned(&ap, mod), 10); break;
		case 'x': put_unsigned(&o, arg_unsigned(&ap, mod), 16); break;
		case '%': put_char(&o, '%'); break;
		case '\0': f--; break;
		default: put_char(&o, '?'); break;
		}
	}
	va_end(ap);
	if (cap > 0)
		buf[o.len] = '\0';
	return o.len;
}

size_t log_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_vformat(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

static const char *const level_names[] = { "", "error", "warning", "info", "debug" };

void log_line(int level, const char *fmt, ...)
{
	static char line[CONFIG_LOG_LINE_MAX];
	va_list ap;
	size_t n;

	n = log_format(line, sizeof(line) - 1, "fcgate: %s: ", level_names[level]);
	va_start(ap, fmt);
	n += log_vformat(line + n, sizeof(line) - 1 - n, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	port_log_write(line, n);
}
