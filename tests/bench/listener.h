/*
 * listener.h - the epoll plumbing of the bench's two servers (responder.c,
 * httpresponder.c): a non-blocking loopback listener whose port is printed
 * for bench.py, watched by an epoll instance, and each connection watched
 * for reading or for writing.
 */
#ifndef BENCH_LISTENER_H
#define BENCH_LISTENER_H

#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Listen on 127.0.0.1:port (0: any) and print "listening on 127.0.0.1:PORT"; -1 on failure. */
static int open_listener(int port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/*
 * Listen on 127.0.0.1:port as above, and an epoll instance watching the
 * listener (its events carry *lfd); -1 on failure.
 */
static int listen_with_epoll(int port, int backlog, int *lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep;

	*lfd = open_listener(port, backlog);
	ep = *lfd < 0 ? -1 : epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = *lfd;
	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, *lfd, &ev) < 0) {
		close(ep);
		return -1;
	}
	return ep;
}

/* Watch fd for writing (want_out 1) or reading (0); *now is what it is watched for. */
static void watch_for(int ep, int fd, int *now, int want_out)
{
	struct epoll_event ev = { .events = want_out ? EPOLLOUT : EPOLLIN, .data.fd = fd };

	if (*now == want_out)
		return;
	*now = want_out;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

#endif
