/*
 * The backend of a diagnostic floor (docs/bench.md): the relay between
 * wrk and this HTTP server has the gateways' client, wrk, on one side and
 * a backend in a second process on the other, with no HTTP or FastCGI
 * work in the relay (the backend speaks HTTP, not FastCGI, so the bytes
 * differ). Built like the FastCGI responder: one thread on epoll,
 * non-blocking, indexed by fd, no allocation.
 *
 *   httpresponder PORT BYTES   (PORT 0: any; prints "listening on 127.0.0.1:PORT")
 *
 * Every request head (bytes up to an empty line) is answered "200 OK"
 * with BYTES of 'x' and a Content-Length. Request bodies are not read:
 * the diagnostic sends GETs only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "listener.h"

enum {
	MAX_FD = 16384,            /* connections are indexed by fd */
	READ_BUF = 64 * 1024,
	ANSWER_MAX = 64 * 1024,
	IOV_BATCH = 64,
	EVENTS = 512,
	BACKLOG = 4096,
};

struct conn {
	unsigned matched;          /* bytes of "\r\n\r\n" seen at the end of the input */
	unsigned long long owed;   /* answer bytes still to write */
	int want_out;
};

static struct conn conns[MAX_FD];
static unsigned char rbuf[READ_BUF];
static char answer[ANSWER_MAX];
static size_t answer_len;
static int epfd;

/* Request heads completed by p[0..n): each ends with CRLF CRLF. */
static unsigned count_heads(struct conn *c, const unsigned char *p, size_t n)
{
	static const char end[] = "\r\n\r\n";
	unsigned heads = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == (unsigned char)end[c->matched])
			c->matched++;
		else
			c->matched = p[i] == '\r' ? 1 : 0;
		if (c->matched == 4) {
			heads++;
			c->matched = 0;
		}
	}
	return heads;
}

static void set_events(int fd, int want_out)
{
	watch_for(epfd, fd, &conns[fd].want_out, want_out);
}

/* Write the owed answers (the same bytes over and over). 0 done, 1 wait, -1 error. */
static int write_owed(int fd)
{
	struct conn *c = &conns[fd];

	while (c->owed > 0) {
		struct iovec iov[IOV_BATCH];
		size_t at = answer_len - (size_t)(c->owed % answer_len);
		unsigned long long left = c->owed;
		int n = 0;
		ssize_t w;

		if (at == answer_len)
			at = 0;
		while (left > 0 && n < IOV_BATCH) {
			size_t len = answer_len - at;
			if (len > left)
				len = (size_t)left;
			iov[n].iov_base = answer + at;
			iov[n++].iov_len = len;
			left -= len;
			at = 0;
		}
		w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? 1 : -1;
		c->owed -= (unsigned long long)w;
	}
	return 0;
}

static void on_event(int fd, unsigned events)
{
	struct conn *c = &conns[fd];
	int r;

	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		close(fd);
		return;
	}
	if (events & EPOLLIN) {
		ssize_t n = read(fd, rbuf, sizeof rbuf);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(fd);
			return;
		}
		if (n > 0)
			c->owed += (unsigned long long)count_heads(c, rbuf, (size_t)n) * answer_len;
	}
	r = write_owed(fd);
	if (r < 0)
		close(fd);
	else
		set_events(fd, r);
}

static void on_accept(int lfd)
{
	int one = 1, fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (fd >= MAX_FD) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		memset(&conns[fd], 0, sizeof conns[fd]);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	static struct epoll_event evs[EVENTS];
	long bytes = argc == 3 ? atol(argv[2]) : -1;
	int lfd, head;

	if (argc != 3 || bytes < 0 || bytes > ANSWER_MAX / 2) {
		fprintf(stderr, "usage: %s PORT BYTES (BYTES up to %d)\n", argv[0], ANSWER_MAX / 2);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	head = snprintf(answer, sizeof answer,
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %ld\r\n\r\n",
			bytes);
	memset(answer + head, 'x', (size_t)bytes);
	answer_len = (size_t)head + (size_t)bytes;
	epfd = listen_with_epoll(atoi(argv[1]), BACKLOG, &lfd);
	if (epfd < 0) {
		perror("httpresponder");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(epfd, evs, EVENTS, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				on_accept(lfd);
			else
				on_event(evs[i].data.fd, evs[i].events);
		}
	}
}
