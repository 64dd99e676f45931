/*
 * Load for the relay floor: one process plays both the clients and an
 * echoing backend. It listens on BACKEND_PORT, opens CONNS connections to
 * the relay (which connects each to BACKEND_PORT), and then every client
 * sends a REQ-byte "request", the backend side answers each REQ bytes it
 * receives with a RESP-byte "response", and the client counts a round
 * trip when the whole response is back, and sends the next request.
 *
 *   relayload RELAY_PORT BACKEND_PORT CONNS WARMUP_S MEASURE_S RELAY_PID
 *
 * After WARMUP_S it reads the relay's utime+stime from /proc/RELAY_PID/stat,
 * counts round trips for MEASURE_S, reads it again and prints
 *   roundtrips=N seconds=S relay_ticks=T clk_tck=C
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNS = 256, REQ = 128, RESP = 200, BUF = 65536, STAT_FIELD_UTIME = 14 };

static char zeros[BUF];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of PID in clock ticks (fields 14 and 15 of stat). */
static long long cpu_ticks(const char *pid)
{
	char path[64], line[1024], *p;
	long long ut = 0, st = 0;
	FILE *f;
	int field = 3;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
	fclose(f);
	if (!p)
		return -1;
	for (p += 2; *p && field < STAT_FIELD_UTIME; p++)
		if (*p == ' ')
			field++;
	if (sscanf(p, "%lld %lld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sa;
}

/* Sends all of len bytes; the amounts are tiny, so a short wait is fine. */
static int send_all(int fd, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, zeros, len, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w > 0)
			len -= (size_t)w;
	}
	return 0;
}

/*
 * Level-triggered read interest through epoll, the way wrk and the
 * responder wait: what a sender pays to wake a reader depends on how the
 * reader waits (epoll's callback runs in the sender's system call), so the
 * floor is measured against readers that wait like the gateways' peers.
 */
static int watch(int ep, int fd, int index)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)index };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Read what is there; a client sends its next request per response, the backend answers each request. */
static int answer(int fd, int is_client, long *got, long long *rts)
{
	static char buf[BUF];
	ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

	if (r == 0 || (r < 0 && errno != EAGAIN))
		return fprintf(stderr, "relayload: connection lost\n"), -1;
	if (r < 0)
		return 0;
	*got += r;
	for (; *got >= (is_client ? RESP : REQ); *got -= is_client ? RESP : REQ) {
		if (send_all(fd, is_client ? REQ : RESP))
			return -1;
		*rts += is_client;
	}
	return 0;
}

/* The relay's connections to the backend side; once all are paired, every client sends. */
static int accept_backends(int ep, int *fds, int *is_client, long *got, int *n, int *accepted,
			   int conns)
{
	int fd, one = 1;

	while (*n < 1 + 2 * MAX_CONNS && (fd = accept4(fds[0], NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (watch(ep, fd, *n))
			return -1;
		fds[*n] = fd;
		is_client[*n] = 0;
		got[(*n)++] = 0;
		if (++*accepted == conns)
			for (int i = 1; i < *n; i++)
				if (is_client[i] && send_all(fds[i], REQ))
					return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct epoll_event evs[1 + 2 * MAX_CONNS];
	int fds[1 + 2 * MAX_CONNS], ep;
	long got[1 + 2 * MAX_CONNS];
	int is_client[1 + 2 * MAX_CONNS];
	int conns, n, ready, one = 1, accepted = 0, measuring = 0;
	long long rts = 0, t0 = 0;
	double start, mstart = 0;
	struct sockaddr_in ba, ra;

	if (argc != 7)
		return fprintf(stderr, "usage: relayload RELAY_PORT BACKEND_PORT CONNS WARMUP MEASURE RELAY_PID\n"), 2;
	conns = atoi(argv[3]);
	if (conns < 1 || conns > MAX_CONNS)
		return 2;
	ra = loopback(atoi(argv[1]));
	ba = loopback(atoi(argv[2]));
	ep = epoll_create1(0);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fds[0], (struct sockaddr *)&ba, sizeof ba) || listen(fds[0], MAX_CONNS) ||
	    watch(ep, fds[0], 0))
		return perror("relayload: backend listener"), 1;
	n = 1;
	for (int i = 0; i < conns; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ra, sizeof ra))
			return perror("relayload: connect to relay"), 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (watch(ep, fd, n))
			return perror("relayload: epoll"), 1;
		fds[n] = fd;
		is_client[n] = 1;
		got[n++] = 0;
	}
	start = now_s();
	for (;;) {
		double t = now_s();
		if (!measuring && accepted == conns && t - start >= atof(argv[4])) {
			measuring = 1;
			mstart = t;
			rts = 0;
			t0 = cpu_ticks(argv[6]);
		}
		if (measuring && t - mstart >= atof(argv[5]))
			break;
		ready = epoll_wait(ep, evs, 1 + 2 * MAX_CONNS, 100);
		if (ready < 0)
			return 1;
		for (int e = 0; e < ready; e++) {
			int i = (int)evs[e].data.u32, r;

			r = i == 0 ? accept_backends(ep, fds, is_client, got, &n, &accepted, conns)
				   : answer(fds[i], is_client[i], &got[i], &rts);
			if (r < 0)
				return 1;
		}
	}
	printf("roundtrips=%lld seconds=%.3f relay_ticks=%lld clk_tck=%ld\n", rts, now_s() - mstart,
	       cpu_ticks(argv[6]) - t0, sysconf(_SC_CLK_TCK));
	return 0;
}
