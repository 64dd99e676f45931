/*
 * The floor: a bare TCP relay with no parsing. Each client connection it
 * accepts gets its own connection to the backend; poll(2) over all of them
 * and bytes are copied across as they come. Under relayload it is the
 * floor the gateways are held to; between wrk and httpresponder, the same
 * relay under the gateways' client (a diagnostic, docs/bench.md).
 *
 *   relay LISTEN_PORT BACKEND_PORT   (prints "listening on 127.0.0.1:PORT")
 *
 * A pair one side of which closes is closed and its place taken by the
 * next client (wrk closes its connections between runs). The sockets
 * block: fine for the bench's small answers, not for bulk transfers.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PAIRS = 64, ENTRIES = 1 + 2 * PAIRS, BUF = 16384 };

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sa;
}

static struct pollfd pf[ENTRIES];
static int peer[ENTRIES], used;

/* Entry i and its peer are free again. */
static void close_pair(int i)
{
	close(pf[i].fd);
	close(pf[peer[i]].fd);
	pf[i].fd = pf[peer[i]].fd = -1;
	used -= 2;
	pf[0].events = POLLIN;
}

/* The first free pair of entries (a client's at an odd index, its backend's after it). */
static int free_pair(void)
{
	int i = 1;

	while (pf[i].fd >= 0)
		i += 2;
	return i;
}

int main(int argc, char **argv)
{
	static char buf[BUF];
	int one = 1;
	struct sockaddr_in la = loopback(argc == 3 ? atoi(argv[1]) : 0), ba;
	socklen_t sl = sizeof la;

	if (argc != 3)
		return 2;
	signal(SIGPIPE, SIG_IGN);       /* a write to a client gone closes its pair */
	ba = loopback(atoi(argv[2]));
	for (int i = 1; i < ENTRIES; i++)
		pf[i] = (struct pollfd){ .fd = -1, .events = POLLIN };
	pf[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	pf[0].events = POLLIN;
	setsockopt(pf[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(pf[0].fd, (struct sockaddr *)&la, sizeof la) || listen(pf[0].fd, PAIRS) ||
	    getsockname(pf[0].fd, (struct sockaddr *)&la, &sl))
		return perror("relay"), 1;
	printf("listening on 127.0.0.1:%u\n", ntohs(la.sin_port));
	fflush(stdout);
	for (;;) {
		if (poll(pf, ENTRIES, -1) < 0)
			return 1;
		for (int i = 1; i < ENTRIES; i++) {
			ssize_t r;
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, buf, sizeof buf);
			if (r <= 0 || write(pf[peer[i]].fd, buf, (size_t)r) != r)
				close_pair(i);
		}
		if ((pf[0].revents & POLLIN) && used < 2 * PAIRS) {
			int c = accept(pf[0].fd, NULL, NULL), b = socket(AF_INET, SOCK_STREAM, 0);
			int k = free_pair();
			if (c < 0 || b < 0 || connect(b, (struct sockaddr *)&ba, sizeof ba))
				return perror("relay"), 1;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			pf[k].fd = c;
			pf[k + 1].fd = b;
			peer[k] = k + 1;
			peer[k + 1] = k;
			used += 2;
			if (used == 2 * PAIRS)
				pf[0].events = 0; /* full: leave further clients waiting */
		}
	}
}
