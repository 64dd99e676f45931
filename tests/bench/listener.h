/*
 * listener.h - the listening side of the bench's two servers (responder.c,
 * httpresponder.c): a non-blocking loopback socket whose port is printed
 * for bench.py, watched by an epoll instance.
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

/* An epoll instance with the listener lfd in it (its events carry lfd); -1 on failure. */
static int epoll_with_listener(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	int ep = lfd < 0 ? -1 : epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		close(ep);
		return -1;
	}
	return ep;
}

#endif
