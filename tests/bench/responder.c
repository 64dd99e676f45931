/*
 * A fast FastCGI responder for the benchmark: it must never be the
 * bottleneck, so it is single-threaded on epoll, never blocks, never
 * allocates per request, reads large and writes large.
 *
 *   responder PORT        (PORT 0: any free port; the bound port is
 *                          printed as "listening on 127.0.0.1:PORT")
 *
 * What it answers:
 *   GET (anything but POST)  200, body of n bytes all 'x', n from the
 *                            query string "n=BYTES" (default 0), with
 *                            Content-Length; the body comes from one
 *                            static buffer and big bodies are streamed
 *                            as the socket takes them.
 *   POST                     200, body "len=N", N the bytes of FCGI_STDIN.
 *   FCGI_GET_VALUES          FCGI_MAX_CONNS=1000, FCGI_MAX_REQS=1000,
 *                            FCGI_MPXS_CONNS=0 (those that were asked).
 *
 * The request id comes from BEGIN_REQUEST; FCGI_KEEP_CONN keeps the
 * connection for the next request, without it the connection closes after
 * END_REQUEST, as the spec says. One request at a time per connection
 * (FCGI_MPXS_CONNS=0): whatever arrives while an answer is being written
 * is kept and parsed after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "listener.h"

/* FastCGI 1.0 protocol constants. */
enum {
	FCGI_VERSION_1 = 1,
	FCGI_HEADER_LEN = 8,
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
	FCGI_KEEP_CONN = 1,
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_END_BODY_LEN = 8,
	FCGI_BEGIN_BODY_LEN = 8,
	FCGI_MAX_CONTENT = 65535,
};

/* Sizes of this program. */
enum {
	MAX_FD = 16384,            /* connections are indexed by fd */
	READ_BUF = 256 * 1024,     /* one shared read buffer: read large */
	PARAMS_MAX = 8192,         /* PARAMS / GET_VALUES content kept per conn */
	PEND_MAX = 8192,           /* input that arrived while answering */
	HEAD_MAX = 256,            /* record header + CGI response head */
	BODY_CHUNK = 65528,        /* STDOUT content per record (<= 65535) */
	IOV_BATCH = 64,            /* iovecs per writev */
	WRITE_BATCH = 4 * 1024 * 1024, /* bytes offered per writev */
	EVENTS = 512,
	BACKLOG = 4096,
	TAIL_LEN = 2 * FCGI_HEADER_LEN + FCGI_END_BODY_LEN,
};

struct conn {
	int open;
	/* record parser */
	unsigned char hdr[FCGI_HEADER_LEN];
	unsigned hdr_len;
	unsigned type;
	unsigned id;
	unsigned left;             /* content bytes of the record still to come */
	unsigned pad;              /* padding bytes still to come */
	/* request */
	unsigned req_id;
	int in_request;
	int keep_conn;
	int params_done;
	char params[PARAMS_MAX];
	unsigned params_len;
	unsigned long long stdin_bytes;
	/* response: head, body records, tail, sent as one logical stream */
	int answering;
	unsigned char head[HEAD_MAX];
	unsigned head_len;
	unsigned long long body_len;
	unsigned long long body_region; /* body records incl. their headers */
	unsigned char tail[TAIL_LEN];
	unsigned long long out_total;
	unsigned long long out_pos;
	const char *small_body;    /* body text when it is not 'x's */
	unsigned char rec_full[FCGI_HEADER_LEN];
	unsigned char rec_last[FCGI_HEADER_LEN];
	/* input kept while answering */
	unsigned char pend[PEND_MAX];
	unsigned pend_len;
	int want_out;
	char post_text[32];
};

static struct conn conns[MAX_FD];
static unsigned char rbuf[READ_BUF];
static char xbuf[BODY_CHUNK];
static int epfd;

static void put_header(unsigned char *h, unsigned type, unsigned id, unsigned len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;
	h[7] = 0;
}

static void conn_close(int fd)
{
	conns[fd].open = 0;
	close(fd);
}

static void set_events(int fd, int want_out)
{
	watch_for(epfd, fd, &conns[fd].want_out, want_out);
}

/* A FastCGI name-value length: 1 byte, or 4 with the top bit set. */
static int nv_len(const unsigned char *p, unsigned avail, unsigned *len)
{
	if (avail < 1)
		return -1;
	if (!(p[0] & 0x80)) {
		*len = p[0];
		return 1;
	}
	if (avail < 4)
		return -1;
	*len = ((unsigned)(p[0] & 0x7f) << 24) | ((unsigned)p[1] << 16) |
	       ((unsigned)p[2] << 8) | p[3];
	return 4;
}

/* Calls fn(name, nlen, value, vlen) for each pair of a PARAMS-style block. */
typedef void (*nv_fn)(void *ctx, const char *n, unsigned nl, const char *v, unsigned vl);

static void nv_walk(const char *buf, unsigned len, nv_fn fn, void *ctx)
{
	const unsigned char *p = (const unsigned char *)buf;
	unsigned off = 0;

	while (off < len) {
		unsigned nl, vl;
		int a = nv_len(p + off, len - off, &nl);
		if (a < 0)
			return;
		off += (unsigned)a;
		a = nv_len(p + off, len - off, &vl);
		if (a < 0)
			return;
		off += (unsigned)a;
		if (nl > len - off || vl > len - off - nl)
			return;
		fn(ctx, buf + off, nl, buf + off + nl, vl);
		off += nl + vl;
	}
}

struct req_info {
	int is_post;
	unsigned long long n;
};

static unsigned long long query_n(const char *q, unsigned len)
{
	unsigned i = 0;
	unsigned long long n = 0;

	while (i < len) {
		if (len - i >= 2 && q[i] == 'n' && q[i + 1] == '=') {
			for (i += 2; i < len && q[i] >= '0' && q[i] <= '9'; i++)
				n = n * 10 + (unsigned long long)(q[i] - '0');
			return n;
		}
		while (i < len && q[i] != '&')
			i++;
		i++;
	}
	return 0;
}

static void req_param(void *ctx, const char *n, unsigned nl, const char *v, unsigned vl)
{
	struct req_info *ri = ctx;

	if (nl == 14 && !memcmp(n, "REQUEST_METHOD", 14))
		ri->is_post = vl == 4 && !memcmp(v, "POST", 4);
	else if (nl == 12 && !memcmp(n, "QUERY_STRING", 12))
		ri->n = query_n(v, vl);
}

/* Lays out the answer: head record, body records, empty STDOUT, END. */
static void start_response(struct conn *c)
{
	struct req_info ri = { 0, 0 };
	char text[HEAD_MAX - FCGI_HEADER_LEN];
	int tl;

	nv_walk(c->params, c->params_len, req_param, &ri);
	c->small_body = NULL;
	if (ri.is_post) {
		int pl = snprintf(c->post_text, sizeof c->post_text, "len=%llu", c->stdin_bytes);
		c->small_body = c->post_text;
		ri.n = (unsigned long long)pl;
	}
	tl = snprintf(text, sizeof text,
		      "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %llu\r\n\r\n",
		      ri.n);
	put_header(c->head, FCGI_STDOUT, c->req_id, (unsigned)tl);
	memcpy(c->head + FCGI_HEADER_LEN, text, (size_t)tl);
	c->head_len = FCGI_HEADER_LEN + (unsigned)tl;

	c->body_len = ri.n;
	{
		unsigned long long nrec = (ri.n + BODY_CHUNK - 1) / BODY_CHUNK;
		unsigned last = (unsigned)(ri.n - (nrec ? (nrec - 1) * BODY_CHUNK : 0));
		c->body_region = nrec * FCGI_HEADER_LEN + ri.n;
		put_header(c->rec_full, FCGI_STDOUT, c->req_id, BODY_CHUNK);
		put_header(c->rec_last, FCGI_STDOUT, c->req_id, last);
	}
	put_header(c->tail, FCGI_STDOUT, c->req_id, 0);
	put_header(c->tail + FCGI_HEADER_LEN, FCGI_END_REQUEST, c->req_id, FCGI_END_BODY_LEN);
	memset(c->tail + 2 * FCGI_HEADER_LEN, 0, FCGI_END_BODY_LEN);
	c->tail[2 * FCGI_HEADER_LEN + 4] = FCGI_REQUEST_COMPLETE;
	c->out_total = c->head_len + c->body_region + TAIL_LEN;
	c->out_pos = 0;
	c->answering = 1;
}

/* The iovecs of the answer from out_pos on, at most WRITE_BATCH bytes. */
static int build_iov(struct conn *c, struct iovec *iov)
{
	unsigned long long pos = c->out_pos, budget = WRITE_BATCH;
	int n = 0;

	while (pos < c->out_total && n < IOV_BATCH && budget > 0) {
		const void *base;
		unsigned long long len;

		if (pos < c->head_len) {
			base = c->head + pos;
			len = c->head_len - pos;
		} else if (pos < c->head_len + c->body_region) {
			unsigned long long o = pos - c->head_len;
			unsigned long long rec = o / (FCGI_HEADER_LEN + BODY_CHUNK);
			unsigned long long in = o % (FCGI_HEADER_LEN + BODY_CHUNK);
			unsigned long long clen = c->body_len - rec * BODY_CHUNK;
			int last = clen <= BODY_CHUNK;

			if (!last)
				clen = BODY_CHUNK;
			if (in < FCGI_HEADER_LEN) {
				base = (last ? c->rec_last : c->rec_full) + in;
				len = FCGI_HEADER_LEN - in;
			} else {
				in -= FCGI_HEADER_LEN;
				base = (c->small_body ? c->small_body : xbuf) + in;
				len = clen - in;
			}
		} else {
			unsigned long long in = pos - c->head_len - c->body_region;
			base = c->tail + in;
			len = TAIL_LEN - in;
		}
		if (len > budget)
			len = budget;
		iov[n].iov_base = (void *)base;
		iov[n].iov_len = (size_t)len;
		n++;
		pos += len;
		budget -= len;
	}
	return n;
}

static void reset_request(struct conn *c)
{
	c->in_request = 0;
	c->params_done = 0;
	c->params_len = 0;
	c->stdin_bytes = 0;
}

/* Writes what the socket takes. 1: answer done, 0: more to write, -1: error. */
static int write_out(int fd)
{
	struct conn *c = &conns[fd];
	struct iovec iov[IOV_BATCH];

	while (c->out_pos < c->out_total) {
		int n = build_iov(c, iov);
		ssize_t w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		c->out_pos += (unsigned long long)w;
	}
	c->answering = 0;
	return 1;
}

static void add_value(char *out, unsigned *len, const char *name, const char *val)
{
	unsigned nl = (unsigned)strlen(name), vl = (unsigned)strlen(val);
	out[(*len)++] = (char)nl;
	out[(*len)++] = (char)vl;
	memcpy(out + *len, name, nl);
	*len += nl;
	memcpy(out + *len, val, vl);
	*len += vl;
}

struct gv_ctx {
	char out[256];
	unsigned len;
};

static void gv_param(void *ctx, const char *n, unsigned nl, const char *v, unsigned vl)
{
	struct gv_ctx *g = ctx;
	static const char *const known[][2] = {
		{ "FCGI_MAX_CONNS", "1000" },
		{ "FCGI_MAX_REQS", "1000" },
		{ "FCGI_MPXS_CONNS", "0" },
	};
	(void)v;
	(void)vl;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i][0]) == nl && !memcmp(n, known[i][0], nl))
			add_value(g->out, &g->len, known[i][0], known[i][1]);
}

/* Management records are tiny: a blocking-free best-effort send. */
static int send_small(int fd, const void *buf, size_t len)
{
	ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
	return w == (ssize_t)len ? 0 : -1;
}

static int answer_get_values(int fd, struct conn *c)
{
	struct gv_ctx g;
	unsigned char msg[FCGI_HEADER_LEN + sizeof g.out];

	g.len = 0;
	nv_walk(c->params, c->params_len, gv_param, &g);
	put_header(msg, FCGI_GET_VALUES_RESULT, 0, g.len);
	memcpy(msg + FCGI_HEADER_LEN, g.out, g.len);
	c->params_len = 0;
	return send_small(fd, msg, FCGI_HEADER_LEN + g.len);
}

static int answer_unknown(int fd, unsigned type)
{
	unsigned char msg[2 * FCGI_HEADER_LEN];
	put_header(msg, FCGI_UNKNOWN_TYPE, 0, FCGI_HEADER_LEN);
	memset(msg + FCGI_HEADER_LEN, 0, FCGI_HEADER_LEN);
	msg[FCGI_HEADER_LEN] = (unsigned char)type;
	return send_small(fd, msg, sizeof msg);
}

static void keep_params(struct conn *c, const unsigned char *p, unsigned n)
{
	unsigned room = PARAMS_MAX - c->params_len;
	if (n > room)
		n = room;
	memcpy(c->params + c->params_len, p, n);
	c->params_len += n;
}

/* A whole record's content has arrived (or an empty record): act on it. */
static int record_done(int fd, struct conn *c)
{
	switch (c->type) {
	case FCGI_GET_VALUES:
		return answer_get_values(fd, c);
	case FCGI_PARAMS:
		if (c->hdr[4] == 0 && c->hdr[5] == 0)
			c->params_done = 1;
		return 0;
	case FCGI_STDIN:
		if (c->hdr[4] == 0 && c->hdr[5] == 0 && c->in_request)
			start_response(c);
		return 0;
	default:
		return 0;
	}
}

static int begin_record(int fd, struct conn *c)
{
	c->type = c->hdr[1];
	c->id = ((unsigned)c->hdr[2] << 8) | c->hdr[3];
	c->left = ((unsigned)c->hdr[4] << 8) | c->hdr[5];
	c->pad = c->hdr[6];
	if (c->hdr[0] != FCGI_VERSION_1)
		return -1;
	if (c->id == 0 && c->type != FCGI_GET_VALUES)
		return answer_unknown(fd, c->type);
	if (c->type == FCGI_GET_VALUES)
		c->params_len = 0;
	return 0;
}

/*
 * Feeds input to the record parser. Returns bytes consumed (it stops right
 * after the record that starts an answer) or -1 to close.
 */
static long parse(int fd, const unsigned char *p, size_t len)
{
	struct conn *c = &conns[fd];
	size_t off = 0;

	while (off < len && !c->answering) {
		if (c->hdr_len < FCGI_HEADER_LEN) {
			size_t take = FCGI_HEADER_LEN - c->hdr_len;
			if (take > len - off)
				take = len - off;
			memcpy(c->hdr + c->hdr_len, p + off, take);
			c->hdr_len += (unsigned)take;
			off += take;
			if (c->hdr_len < FCGI_HEADER_LEN)
				break;
			if (begin_record(fd, c) < 0)
				return -1;
			if (c->type == FCGI_BEGIN_REQUEST) {
				/* its 8-byte body is read below like any content */
			}
		}
		if (c->left > 0) {
			size_t take = c->left < len - off ? c->left : len - off;
			if (c->type == FCGI_BEGIN_REQUEST) {
				/* byte 2 of the body is flags; keep them as they pass */
				unsigned done = FCGI_BEGIN_BODY_LEN - c->left;
				for (size_t i = 0; i < take; i++, done++)
					if (done == 2) {
						c->keep_conn = p[off + i] & FCGI_KEEP_CONN;
						c->req_id = c->id;
						c->in_request = 1;
						c->params_done = 0;
						c->params_len = 0;
						c->stdin_bytes = 0;
					}
			} else if (c->type == FCGI_PARAMS || c->type == FCGI_GET_VALUES) {
				keep_params(c, p + off, (unsigned)take);
			} else if (c->type == FCGI_STDIN) {
				c->stdin_bytes += take;
			}
			c->left -= (unsigned)take;
			off += take;
			if (c->left > 0)
				break;
		}
		if (c->pad > 0) {
			size_t take = c->pad < len - off ? c->pad : len - off;
			c->pad -= (unsigned)take;
			off += take;
			if (c->pad > 0)
				break;
		}
		/* header, content and padding complete */
		c->hdr_len = 0;
		if (record_done(fd, c) < 0)
			return -1;
	}
	return (long)off;
}

/* After an answer: close, or go on with input that waited. */
static void answer_finished(int fd)
{
	struct conn *c = &conns[fd];
	long used;

	if (!c->keep_conn) {
		conn_close(fd);
		return;
	}
	reset_request(c);
	while (c->pend_len > 0 && !c->answering) {
		used = parse(fd, c->pend, c->pend_len);
		if (used < 0) {
			conn_close(fd);
			return;
		}
		memmove(c->pend, c->pend + used, c->pend_len - (size_t)used);
		c->pend_len -= (unsigned)used;
		if (c->answering) {
			int r = write_out(fd);
			if (r < 0) {
				conn_close(fd);
				return;
			}
			if (r == 0) {
				set_events(fd, 1);
				return;
			}
			if (!c->keep_conn) {
				conn_close(fd);
				return;
			}
			reset_request(c);
		}
	}
	set_events(fd, 0);
}

static void on_writable(int fd)
{
	int r = write_out(fd);
	if (r < 0)
		conn_close(fd);
	else if (r > 0)
		answer_finished(fd);
}

static void on_readable(int fd)
{
	struct conn *c = &conns[fd];
	ssize_t n = read(fd, rbuf, sizeof rbuf);
	size_t off = 0;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(fd);
		return;
	}
	while (off < (size_t)n) {
		long used = parse(fd, rbuf + off, (size_t)n - off);
		if (used < 0) {
			conn_close(fd);
			return;
		}
		off += (size_t)used;
		if (!c->answering)
			continue;
		/* keep what follows the request for after the answer */
		if ((size_t)n - off > PEND_MAX - c->pend_len) {
			conn_close(fd);
			return;
		}
		memcpy(c->pend + c->pend_len, rbuf + off, (size_t)n - off);
		c->pend_len += (unsigned)((size_t)n - off);
		off = (size_t)n;
		{
			int r = write_out(fd);
			if (r < 0) {
				conn_close(fd);
				return;
			}
			if (r == 0) {
				set_events(fd, 1);
				return;
			}
			answer_finished(fd);
			return;
		}
	}
}

static void on_accept(int lfd)
{
	for (;;) {
		int one = 1;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		if (fd >= MAX_FD) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		memset(&conns[fd], 0, offsetof(struct conn, params));
		conns[fd].open = 1;
		conns[fd].params_len = 0;
		conns[fd].pend_len = 0;
		conns[fd].answering = 0;
		conns[fd].want_out = 0;
		reset_request(&conns[fd]);
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(fd);
	}
}

int main(int argc, char **argv)
{
	static struct epoll_event evs[EVENTS];
	int lfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(xbuf, 'x', sizeof xbuf);
	epfd = listen_with_epoll(atoi(argv[1]), BACKLOG, &lfd);
	if (epfd < 0) {
		perror("responder");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(epfd, evs, EVENTS, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				on_accept(lfd);
				continue;
			}
			if (!conns[fd].open)
				continue;
			if (conns[fd].answering)
				on_writable(fd);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(fd);
		}
	}
}
