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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	static char buf[BUF];
	struct pollfd pf[1 + 2 * MAX_CONNS];
	long got[1 + 2 * MAX_CONNS];
	int is_client[1 + 2 * MAX_CONNS];
	int conns, n, one = 1, accepted = 0, measuring = 0;
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
	pf[0] = (struct pollfd){ .fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), .events = POLLIN };
	setsockopt(pf[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(pf[0].fd, (struct sockaddr *)&ba, sizeof ba) || listen(pf[0].fd, MAX_CONNS))
		return perror("relayload: backend listener"), 1;
	n = 1;
	for (int i = 0; i < conns; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ra, sizeof ra))
			return perror("relayload: connect to relay"), 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pf[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
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
		if (poll(pf, (nfds_t)n, 100) < 0)
			return 1;
		if (pf[0].revents & POLLIN) {
			int fd;
			while ((fd = accept4(pf[0].fd, NULL, NULL, SOCK_NONBLOCK)) >= 0 && n < 1 + 2 * MAX_CONNS) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				pf[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
				is_client[n] = 0;
				got[n++] = 0;
				if (++accepted == conns) /* all paired: start the traffic */
					for (int i = 1; i < n; i++)
						if (is_client[i] && send_all(pf[i].fd, REQ))
							return 1;
			}
		}
		for (int i = 1; i < n; i++) {
			ssize_t r;
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recv(pf[i].fd, buf, sizeof buf, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN))
				return fprintf(stderr, "relayload: connection lost\n"), 1;
			if (r < 0)
				continue;
			got[i] += r;
			/* a client completes one response at a time; the backend may see several requests */
			for (; got[i] >= (is_client[i] ? RESP : REQ); got[i] -= is_client[i] ? RESP : REQ) {
				if (send_all(pf[i].fd, is_client[i] ? REQ : RESP))
					return 1;
				rts += is_client[i];
			}
		}
	}
	printf("roundtrips=%lld seconds=%.3f relay_ticks=%lld clk_tck=%ld\n", rts, now_s() - mstart,
	       cpu_ticks(argv[6]) - t0, sysconf(_SC_CLK_TCK));
	return 0;
}
