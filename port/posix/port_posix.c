/*
 * port_posix.c - port.h on POSIX: non-blocking sockets and poll(2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gw_config.h"
#include "port.h"

/* Both listeners, every client slot (TLS ones too) and every backend slot. */
#define POLL_MAX (2 + GW_CLIENT_SLOTS + CONFIG_BACKEND_SLOTS)

static int map_errno(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINPROGRESS:
	case EINTR:
		return PORT_AGAIN;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return PORT_RESET;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ETIMEDOUT:
		return PORT_REFUSED;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return PORT_NOMEM;
	case EINVAL:
	case EAFNOSUPPORT:
	case EADDRNOTAVAIL:
		return PORT_INVALID;
	default:
		return PORT_ERROR;
	}
}

static socklen_t to_sockaddr(const struct port_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == PORT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(a->port);
	memcpy(&s4->sin_addr, a->ip, 4);
	return sizeof(*s4);
}

static void from_sockaddr(const struct sockaddr_storage *ss, struct port_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = PORT_AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->ip, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = PORT_AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->ip, &s4->sin_addr, 4);
	}
}

static int new_socket(int family)
{
	return socket(family == PORT_AF_INET6 ? AF_INET6 : AF_INET,
		      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* LISTEN_DEFER_ACCEPT: accept only once the first bytes are in (Linux). */
static void defer_accept(int fd)
{
#if defined(TCP_DEFER_ACCEPT) && CONFIG_LISTEN_DEFER_ACCEPT > 0
	int secs = CONFIG_LISTEN_DEFER_ACCEPT;

	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
#else
	(void)fd;
#endif
}

int port_listen(const struct port_addr *addr, int backlog, int slots, port_sock *out)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(addr, &ss);
	int one = 1;
	int fd = new_socket(addr->family);

	(void)slots;    /* the kernel answers handshakes apart from its accept queue */
	if (fd < 0)
		return map_errno(errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	defer_accept(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		int e = errno;
		close(fd);
		return e == EADDRINUSE ? PORT_ERROR : map_errno(e);
	}
	*out = fd;
	return PORT_OK;
}

int port_local_addr(port_sock s, struct port_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &len) < 0)
		return map_errno(errno);
	from_sockaddr(&ss, out);
	return PORT_OK;
}

int port_accept(port_sock listener, port_sock *out,
		struct port_addr *peer, struct port_addr *local)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(listener, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return map_errno(errno);
	if (peer != NULL)
		from_sockaddr(&ss, peer);
	if (local != NULL && port_local_addr(fd, local) != PORT_OK)
		memset(local, 0, sizeof(*local));
	*out = fd;
	return PORT_OK;
}

int port_accept_queue(port_sock listener)
{
#ifdef __linux__
	/* For a listening socket Linux reports its accept queue's length here. */
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(listener, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		return (int)ti.tcpi_unacked;
#else
	(void)listener;
#endif
	return PORT_ERROR;
}

int port_connect(const struct port_addr *addr, port_sock *out)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(addr, &ss);
	int one = 1;
	int fd;

	if (addr->family != PORT_AF_INET && addr->family != PORT_AF_INET6)
		return PORT_INVALID;
	fd = new_socket(addr->family);
	if (fd < 0)
		return map_errno(errno);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return map_errno(e);
	}
	*out = fd;
	return PORT_OK;
}

int port_connect_unix(const char *path, size_t len, port_sock *out)
{
	struct sockaddr_un sa;
	int fd;

	if (len == 0 || len >= sizeof(sa.sun_path))
		return PORT_INVALID;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return map_errno(errno);
	/* EAGAIN here is a full backlog, not a connect in progress: a failure. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return e == ENOENT || e == EAGAIN ? PORT_REFUSED : map_errno(e);
	}
	*out = fd;
	return PORT_OK;
}

int port_connect_result(port_sock s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return map_errno(errno);
	return err ? map_errno(err) : PORT_OK;
}

long port_recv(port_sock s, void *buf, size_t len)
{
	ssize_t n = recv(s, buf, len, 0);

	if (n > 0)
		return (long)n;
	if (n == 0)
		return len ? PORT_EOF : 0;
	return map_errno(errno);
}

long port_send(port_sock s, const void *buf, size_t len)
{
	ssize_t n = send(s, buf, len, MSG_NOSIGNAL);

	return n >= 0 ? (long)n : map_errno(errno);
}

long port_sendv(port_sock s, const struct port_iov *iov, unsigned n)
{
	struct iovec v[PORT_IOV_MAX];
	struct msghdr msg;
	ssize_t r;

	if (n > PORT_IOV_MAX)
		return PORT_INVALID;
	for (unsigned i = 0; i < n; i++) {
		v[i].iov_base = (void *)(uintptr_t)iov[i].p;
		v[i].iov_len = iov[i].len;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = v;
	msg.msg_iovlen = n;
	r = sendmsg(s, &msg, MSG_NOSIGNAL);
	return r >= 0 ? (long)r : map_errno(errno);
}

void port_nodelay(port_sock s)
{
	int one = 1;

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void port_shutdown(port_sock s)
{
	shutdown(s, SHUT_WR);
}

void port_close(port_sock s)
{
	if (s >= 0)
		close(s);
}

void port_abort(port_sock s)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };

	if (s < 0)
		return;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(s);
}

/*
 * The pollfd array is kept like the core's set: an entry is converted
 * only when its socket or interest changed (a negative fd is skipped by
 * poll(2), as PORT_SOCK_NONE must be).
 */
static short poll_events(uint8_t want)
{
	return (short)(((want & PORT_IN) ? POLLIN : 0) | ((want & PORT_OUT) ? POLLOUT : 0) |
		       ((want & PORT_HUP) ? POLLRDHUP : 0));
}

static uint8_t port_events(short ev)
{
	return (uint8_t)(((ev & POLLIN) ? PORT_IN : 0) | ((ev & POLLOUT) ? PORT_OUT : 0) |
			 ((ev & POLLRDHUP) ? PORT_HUP : 0) |
			 ((ev & (POLLERR | POLLHUP | POLLNVAL)) ? PORT_ERR : 0));
}

int port_wait(struct port_poll *set, unsigned n, int timeout_ms)
{
	static struct pollfd pfd[POLL_MAX];
	static uint8_t kept_want[POLL_MAX];
	int r;

	if (n > POLL_MAX)
		return PORT_INVALID;
	for (unsigned i = 0; i < n; i++) {
		set[i].got = 0;
		if (pfd[i].fd == set[i].sock && kept_want[i] == set[i].want)
			continue;
		pfd[i].fd = set[i].sock;
		pfd[i].events = poll_events(set[i].want);
		kept_want[i] = set[i].want;
	}
	r = poll(pfd, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : map_errno(errno);
	for (unsigned i = 0, found = 0; found < (unsigned)r && i < n; i++) {
		if (pfd[i].revents != 0) {
			set[i].got = port_events(pfd[i].revents);
			found++;
		}
	}
	return r;
}

#if CONFIG_DIR_ALIAS
/* A missing, unreadable or symlinked name is simply not there (404), not an error. */
static int file_errno(int e)
{
	if (e == EMFILE || e == ENFILE || e == ENOMEM)
		return PORT_NOMEM;
	if (e == ENOENT || e == ENOTDIR || e == ELOOP || e == EACCES ||
	    e == ENAMETOOLONG || e == EISDIR || e == ENXIO)
		return PORT_INVALID;
	return PORT_ERROR;
}

/* Open name[0..len) in the folder at, never through a symbolic link. */
static int open_below(int at, const char *name, size_t len, int last)
{
	char buf[NAME_MAX + 1];
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

	if (len == 0 || len > NAME_MAX) {
		errno = ENOENT;
		return -1;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	/* O_NONBLOCK: a FIFO put in the folder must not stall the loop in open(). */
	return openat(at, buf, last ? flags : flags | O_DIRECTORY);
}

int port_file_open(const char *dir, size_t dir_len, const char *rel, size_t rel_len,
		   port_file *f, uint64_t *size, int64_t *mtime)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (dir_len == 0 || dir_len >= sizeof(path))
		return PORT_INVALID;
	memcpy(path, dir, dir_len);
	path[dir_len] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	while (fd >= 0 && rel_len > 0) {
		const char *slash = memchr(rel, '/', rel_len);
		size_t n = slash ? (size_t)(slash - rel) : rel_len;
		int next = open_below(fd, rel, n, slash == NULL);

		close(fd);
		fd = next;
		rel += slash ? n + 1 : n;
		rel_len -= slash ? n + 1 : n;
	}
	if (fd < 0)
		return file_errno(errno);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return PORT_INVALID;
	}
	*f = fd;
	*size = (uint64_t)st.st_size;
	*mtime = (int64_t)st.st_mtime;
	return PORT_OK;
}

long port_file_read(port_file f, uint64_t off, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = pread(f, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? PORT_ERROR : (long)n;
}

void port_file_close(port_file f)
{
	close(f);
}
#endif
