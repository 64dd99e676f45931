/*
 * port.h - the narrow interface between fcgate's core and a network stack.
 *
 * The core drives every connection through these calls and nothing else.
 * They are non-blocking and readiness-based, so that the same core runs on
 * poll(2) (port/posix) and on lwIP's raw API with NO_SYS=1 (port/lwip),
 * where readiness comes from callbacks and port_wait() also feeds the
 * netif and runs the stack's timers. TLS sits on top of port_recv() and
 * port_send() (mbedTLS BIO callbacks), so it needs nothing more from here.
 *
 * A port_sock is a small integer: a file descriptor on POSIX, an index in
 * a static table on lwIP. Negative means none.
 */
#ifndef FCGATE_PORT_H
#define FCGATE_PORT_H

#include <stddef.h>
#include <stdint.h>

typedef int port_sock;

#define PORT_SOCK_NONE (-1)

/* Results shared by every port call that can fail. */
enum port_result {
	PORT_OK = 0,
	PORT_AGAIN = -1,    /* would block: wait for readiness and retry */
	PORT_EOF = -2,      /* the peer closed its side (recv only) */
	PORT_RESET = -3,    /* connection reset or aborted by the peer */
	PORT_REFUSED = -4,  /* connect refused or host unreachable */
	PORT_NOMEM = -5,    /* out of sockets, PCBs or buffers */
	PORT_INVALID = -6,  /* bad address or argument */
	PORT_ERROR = -7,    /* anything else */
};

enum port_family { PORT_AF_INET = 4, PORT_AF_INET6 = 6 };

/* An address without socket headers: bytes in network order. */
struct port_addr {
	uint8_t family;         /* enum port_family */
	uint8_t ip[16];         /* 4 bytes used for PORT_AF_INET */
	uint16_t port;          /* host order */
};

/* Readiness bits, for port_wait(). */
#define PORT_IN  0x01u      /* readable, or a connection waits to be accepted */
#define PORT_OUT 0x02u      /* writable, or a non-blocking connect finished */
#define PORT_ERR 0x04u      /* error or hang-up (reported even if not asked) */
#define PORT_HUP 0x08u      /* the peer closed its side (ask for it to learn of a
			     * client gone while its data is not being read) */

struct port_poll {
	port_sock sock;
	uint8_t want;           /* PORT_IN | PORT_OUT */
	uint8_t got;            /* set by port_wait() */
};

/*
 * Bind and listen; *out gets the listening socket. backlog: connections
 * the stack may hold while the core has all of its slots (how many
 * connections of this listener it holds at most) in use. A stack that
 * counts handshakes in progress against the backlog (lwIP) must let as
 * many more in as the core has slots free, or a burst of SYNs is dropped
 * while slots are free.
 */
int port_listen(const struct port_addr *addr, int backlog, int slots, port_sock *out);

/* The address a socket is bound to (to learn the port chosen for 0). */
int port_local_addr(port_sock s, struct port_addr *out);

/*
 * Accept one waiting connection, non-blocking. PORT_AGAIN when none.
 * peer and local may be NULL.
 */
int port_accept(port_sock listener, port_sock *out,
		struct port_addr *peer, struct port_addr *local);

/*
 * How many connections wait to be accepted on the listener, or a negative
 * result when the stack cannot tell. Asked only when the slots have just
 * run out, to learn whether clients are left waiting.
 */
int port_accept_queue(port_sock listener);

/*
 * Start a non-blocking connect. PORT_OK means in progress (or done): wait
 * for PORT_OUT, then port_connect_result() tells how it ended.
 */
int port_connect(const struct port_addr *addr, port_sock *out);
int port_connect_result(port_sock s);

/*
 * The same for a unix-domain socket at path[0..len) (POSIX only; other
 * ports answer PORT_INVALID).
 */
int port_connect_unix(const char *path, size_t len, port_sock *out);

/* Bytes read (> 0), or PORT_AGAIN, PORT_EOF, PORT_RESET, PORT_ERROR. */
long port_recv(port_sock s, void *buf, size_t len);

/* Bytes accepted (> 0, maybe fewer than len), or PORT_AGAIN / an error. */
long port_send(port_sock s, const void *buf, size_t len);

/* One piece of a gathered send. */
struct port_iov {
	const void *p;
	size_t len;
};

#define PORT_IOV_MAX 4

/*
 * Send pieces iov[0..n) (n <= PORT_IOV_MAX) in order as one write
 * (writev): a response head and a body that lives elsewhere go out in one
 * system call, and the body is not copied behind the head first. Bytes
 * accepted in all (> 0, maybe fewer than the sum), or PORT_AGAIN / an error.
 */
long port_sendv(port_sock s, const struct port_iov *iov, unsigned n);

/*
 * Send what is written at once, without waiting for earlier segments to be
 * acknowledged (TCP_NODELAY). Accepted connections start without it: the
 * first send on a connection is not held back (Linux's Nagle waits only
 * while a small segment is unacknowledged), so a connection that is
 * answered once and closed needs no extra call; the core asks before the
 * second send. Connections from port_connect() have it from the start. A
 * stack with the classic Nagle rule, which can hold the tail of even the
 * first send (lwIP), turns it off at accept, and this call is then free.
 */
void port_nodelay(port_sock s);

/* Half-close: no more sends; reads go on until the peer closes. */
void port_shutdown(port_sock s);

/* Release the socket (and on lwIP, its queued buffers). */
void port_close(port_sock s);

/*
 * Release it at once with a reset, dropping unsent data: for a connection
 * whose request is being aborted, so that nothing lingers in FIN_WAIT
 * (on lwIP such connections would hold PCBs that new connects need).
 */
void port_abort(port_sock s);

/*
 * Wait until one of the sockets is ready or timeout_ms passes (-1: no
 * limit). Fills each entry's got; returns how many are ready (0 on
 * timeout) or a negative result. An interrupted wait (a signal on POSIX)
 * returns 0 early. An entry whose sock is PORT_SOCK_NONE is skipped (got
 * 0): the core keeps one entry per slot from call to call, and a port may
 * keep what it derived from an entry until the entry changes.
 */
int port_wait(struct port_poll *set, unsigned n, int timeout_ms);

/* A monotonic millisecond clock; wraps after 49 days, compare by difference. */
uint32_t port_now_ms(void);

/*
 * Seconds since 1970-01-01 UTC from a real-time clock, or -1 when the
 * board has none (then responses carry no Date field, RFC 9110 §6.6.1).
 */
int64_t port_wall_clock(void);

/* Write one finished log line (with its newline) to the board's console. */
void port_log_write(const char *line, size_t len);

/*
 * Read-only files, for Alias PREFIX /DIR/ (POSIX only; other ports answer
 * PORT_INVALID). A port_file is a file descriptor on POSIX.
 *
 * port_file_open() opens rel[0..rel_len) below the folder
 * dir[0..dir_len): dir is the route's, trusted as written; rel comes from
 * a request and must already be free of "." and ".." segments
 * (romfs_map_path()). No component of rel may be a symbolic link, so
 * nothing placed in the folder can lead out of it, and the last one must
 * be a regular file. *size and *mtime (seconds since 1970) describe it.
 * PORT_INVALID when there is no such regular file, PORT_NOMEM when out of
 * descriptors, PORT_ERROR otherwise.
 */
typedef int port_file;

int port_file_open(const char *dir, size_t dir_len, const char *rel, size_t rel_len,
		   port_file *f, uint64_t *size, int64_t *mtime);

/* Up to len bytes at offset off: bytes read (0 at the end), or PORT_ERROR. */
long port_file_read(port_file f, uint64_t off, void *buf, size_t len);

void port_file_close(port_file f);

#endif
