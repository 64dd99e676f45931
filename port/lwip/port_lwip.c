/*
 * port_lwip.c - port.h on lwIP's raw TCP API, NO_SYS=1.
 *
 * Every connection is an entry in a static socket table; a port_sock is
 * its index. lwIP's callbacks only record what happened in the entry
 * (data queued, peer closed, error, connected, accepted); the core learns
 * of it through port_wait(), which computes readiness from the entries
 * after feeding the netif and running lwIP's timers. So lwIP is entered
 * from one place at a time and the core stays the only state machine.
 *
 *  - Received pbufs wait on their entry's queue; port_recv() copies out of
 *    them and tells lwIP with tcp_recved(), so the window opens only as
 *    the core consumes (back-pressure, like a kernel socket buffer).
 *  - port_send() gives tcp_write() at most tcp_sndbuf() bytes (copied:
 *    the core reuses its buffer at once) and calls tcp_output().
 *  - Accepted connections get an entry at once and wait, marked queued,
 *    until the core takes them. lwIP counts handshakes in progress and
 *    the queued (tcp_backlog_delayed) against the listener's backlog,
 *    which the port keeps at the core's free slots plus its backlog: a
 *    burst of SYNs (a browser opens six connections at once) is answered
 *    while slots are free, and beyond that further SYNs are dropped and
 *    retried by the client rather than refused.
 *  - lwIP frees a PCB before its error callback runs: the entry keeps its
 *    error until the core closes it.
 */
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#if LWIP_DHCP
#include "lwip/dhcp.h"
#endif

#include "addr.h"
#include "gw_config.h"
#include "port.h"
#include "port_lwip.h"

#if LWIP_VERSION_MAJOR != 2 || LWIP_VERSION_MINOR != 1
#error "port/lwip is written for lwIP 2.1"
#endif

#if CONFIG_LISTEN_BACKLOG + FCGATE_CLIENT_SLOTS > 255
#error "LISTEN_BACKLOG plus CLIENT_SLOTS (and TLS_SLOTS) must be at most 255 on lwIP: it counts a listener's connections in a u8_t"
#endif

/* Client (plain and TLS) and backend slots, the listeners, and the accepted-not-taken. */
#define SOCKS (FCGATE_CLIENT_SLOTS + CONFIG_BACKEND_SLOTS + \
	       FCGATE_LISTENERS * (1 + CONFIG_LISTEN_BACKLOG))

enum sock_kind { K_FREE, K_CONN, K_LISTEN };

#define F_CONNECTING 0x01u      /* tcp_connect() issued, no answer yet */
#define F_CONNECTED  0x02u
#define F_EOF        0x04u      /* the peer sent FIN */
#define F_SHUT       0x08u      /* we sent FIN */
#define F_QUEUED     0x10u      /* accepted, waiting on the listener's queue */

struct sock {
	struct tcp_pcb *pcb;    /* NULL once lwIP has freed it */
	struct pbuf *rx;        /* received, not yet read (a chain) */
	uint8_t kind;
	uint8_t flags;
	int8_t err;             /* a port_result once the connection failed */
	int8_t listener;        /* an accepted connection's listener, else -1 */
	uint8_t queued;         /* K_LISTEN: accepted entries waiting */
	uint8_t taken;          /* K_LISTEN: connections the core took, not yet closed */
	uint8_t limit;          /* K_LISTEN: the core's slots plus its backlog */
	uint32_t seq;           /* F_QUEUED: accepted as the seq-th, for first come, first taken */
};

static struct sock socks[SOCKS];
static struct port_lwip_stats stats;
static uint32_t socks_used;
static uint32_t accept_seq;

static struct sock *sock_get(port_sock s)
{
	if (s < 0 || s >= SOCKS || socks[s].kind == K_FREE)
		return NULL;
	return &socks[s];
}

static port_sock sock_alloc(uint8_t kind)
{
	for (port_sock i = 0; i < SOCKS; i++) {
		if (socks[i].kind == K_FREE) {
			memset(&socks[i], 0, sizeof(socks[i]));
			socks[i].kind = kind;
			socks[i].listener = -1;
			if (++socks_used > stats.sock_peak)
				stats.sock_peak = socks_used;
			return i;
		}
	}
	return PORT_SOCK_NONE;
}

/*
 * What lwIP may hold for listener l beyond the connections the core has
 * taken: its free slots and the backlog, handshakes in progress included.
 */
static void set_backlog(struct sock *l)
{
	if (l->pcb != NULL)
		tcp_backlog_set(l->pcb, (u8_t)(l->limit - l->taken));
}

static void sock_release(struct sock *k)
{
	if (k->kind == K_CONN && k->listener >= 0 && !(k->flags & F_QUEUED)) {
		socks[k->listener].taken--;
		set_backlog(&socks[k->listener]);
	}
	if (k->rx != NULL)
		pbuf_free(k->rx);
	k->rx = NULL;
	k->kind = K_FREE;
	socks_used--;
}

static void addr_to_lwip(const struct port_addr *a, ip_addr_t *ip)
{
	IP4_ADDR(ip_2_ip4(ip), a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
}

static void addr_from_lwip(const ip_addr_t *ip, uint16_t port, struct port_addr *a)
{
	uint32_t v = ip4_addr_get_u32(ip_2_ip4(ip));   /* network order in memory */

	memset(a, 0, sizeof(*a));
	a->family = PORT_AF_INET;
	memcpy(a->ip, &v, 4);
	a->port = port;
}

/* --- lwIP callbacks: record, never act ----------------------------------- */

/* How a pool pbuf is laid out (as in lwIP's pbuf.c): header, then payload. */
#define POOL_PBUF_END(q) ((u8_t *)(q) + LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) + \
			  LWIP_MEM_ALIGN_SIZE(PBUF_POOL_BUFSIZE))

/*
 * Queue received data. A small segment is copied into the free tail of
 * the last queued pool buffer when it fits, so a peer that sends tiny
 * segments cannot pin one pool buffer per segment while the slot is not
 * reading (the pool is sized for full windows, not for segment counts).
 */
static void rx_append(struct sock *k, struct pbuf *p)
{
	struct pbuf *last;

	if (k->rx == NULL) {
		k->rx = p;
		return;
	}
	for (last = k->rx; last->next != NULL; last = last->next)
		;
	if (p->next == NULL && last->ref == 1 &&
	    pbuf_match_allocsrc(last, PBUF_POOL) &&
	    (u8_t *)last->payload + last->len + p->len <= POOL_PBUF_END(last)) {
		memcpy((u8_t *)last->payload + last->len, p->payload, p->len);
		last->len = (u16_t)(last->len + p->len);
		for (struct pbuf *q = k->rx; q != NULL; q = q->next)
			q->tot_len = (u16_t)(q->tot_len + p->len);
		pbuf_free(p);
		return;
	}
	pbuf_cat(k->rx, p);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *k = &socks[(port_sock)(uintptr_t)arg];

	(void)pcb;
	if (p == NULL) {
		k->flags |= F_EOF;
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return ERR_OK;
	}
	rx_append(k, p);
	return ERR_OK;
}

/*
 * Forget a connection that died while it waited to be accepted: lwIP no
 * longer counts it against the backlog, and the core must not be told
 * of it.
 */
static void unqueue(port_sock s)
{
	socks[socks[s].listener].queued--;
	sock_release(&socks[s]);
}

static void on_err(void *arg, err_t err)
{
	port_sock s = (port_sock)(uintptr_t)arg;
	struct sock *k = &socks[s];

	stats.resets++;
	if (k->flags & F_QUEUED) {
		k->pcb = NULL;
		unqueue(s);
		return;
	}
	k->pcb = NULL;          /* already freed by lwIP */
	if (k->flags & F_CONNECTING)
		k->err = PORT_REFUSED;
	else
		k->err = err == ERR_MEM ? PORT_NOMEM : PORT_RESET;
	k->flags &= (uint8_t)~(F_CONNECTING | F_CONNECTED);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *k = &socks[(port_sock)(uintptr_t)arg];

	(void)pcb;
	k->flags &= (uint8_t)~F_CONNECTING;
	if (err == ERR_OK)
		k->flags |= F_CONNECTED;
	else
		k->err = PORT_REFUSED;
	return ERR_OK;
}

static void attach(port_sock s, struct tcp_pcb *pcb)
{
	socks[s].pcb = pcb;
	tcp_arg(pcb, (void *)(uintptr_t)s);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
	/* lwIP's Nagle can hold the tail of a first send: off from the start. */
	tcp_nagle_disable(pcb);
}

static void detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_sent(pcb, NULL);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = &socks[(port_sock)(uintptr_t)arg];
	port_sock s;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	if ((s = sock_alloc(K_CONN)) == PORT_SOCK_NONE) {
		stats.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	attach(s, pcb);
	tcp_setprio(pcb, TCP_PRIO_NORMAL);     /* above the listener's newcomers */
	socks[s].flags = F_CONNECTED | F_QUEUED;
	socks[s].listener = (int8_t)(l - socks);
	socks[s].seq = accept_seq++;
	l->queued++;
	tcp_backlog_delayed(pcb);       /* counts against the backlog until taken */
	return ERR_OK;
}

/* The connection queued longest on listener l, or PORT_SOCK_NONE. */
static port_sock first_queued(const struct sock *l)
{
	port_sock best = PORT_SOCK_NONE;

	for (port_sock i = 0; i < SOCKS; i++) {
		const struct sock *k = &socks[i];
		if (k->kind == K_CONN && (k->flags & F_QUEUED) && k->listener == l - socks &&
		    (best == PORT_SOCK_NONE || (int32_t)(k->seq - socks[best].seq) < 0))
			best = i;
	}
	return best;
}

/* --- port.h --------------------------------------------------------------- */

/* A socket entry with a fresh PCB, and addr in lwIP's form. */
static int sock_with_pcb(const struct port_addr *addr, uint8_t kind, port_sock *s,
			 struct tcp_pcb **pcb, ip_addr_t *ip)
{
	if (addr->family != PORT_AF_INET)
		return PORT_INVALID;
	*s = sock_alloc(kind);
	if (*s == PORT_SOCK_NONE)
		return PORT_NOMEM;
	*pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (*pcb == NULL) {
		sock_release(&socks[*s]);
		return PORT_NOMEM;
	}
	addr_to_lwip(addr, ip);
	return PORT_OK;
}

int port_listen(const struct port_addr *addr, int backlog, int slots, port_sock *out)
{
	struct tcp_pcb *pcb, *lpcb;
	ip_addr_t ip;
	port_sock s;
	int limit = backlog + slots;
	int r;

	if (backlog < 1 || slots < 0 || limit > UINT8_MAX)
		return PORT_INVALID;    /* lwIP counts a listener's connections in a u8_t */
	r = sock_with_pcb(addr, K_LISTEN, &s, &pcb, &ip);

	if (r != PORT_OK)
		return r;
	if (tcp_bind(pcb, &ip, addr->port) != ERR_OK) {
		tcp_abort(pcb);
		sock_release(&socks[s]);
		return PORT_ERROR;
	}
	lpcb = tcp_listen_with_backlog(pcb, (u8_t)limit);
	if (lpcb == NULL) {
		tcp_abort(pcb);
		sock_release(&socks[s]);
		return PORT_NOMEM;
	}
	/*
	 * When lwIP runs out of PCBs it kills the oldest one of the same or a
	 * lower priority. Half-open newcomers (the listener's) are the
	 * lowest, accepted clients above them, connections to apps the
	 * highest: a flood of SYNs cannot cost a request in progress.
	 */
	tcp_setprio(lpcb, TCP_PRIO_MIN);
	socks[s].pcb = lpcb;
	socks[s].limit = (uint8_t)limit;
	tcp_arg(lpcb, (void *)(uintptr_t)s);
	tcp_accept(lpcb, on_accept);
	*out = s;
	return PORT_OK;
}

int port_local_addr(port_sock s, struct port_addr *out)
{
	struct sock *k = sock_get(s);

	if (k == NULL || k->pcb == NULL)
		return PORT_INVALID;
	addr_from_lwip(&k->pcb->local_ip, k->pcb->local_port, out);
	return PORT_OK;
}

int port_accept_queue(port_sock listener)
{
	struct sock *l = sock_get(listener);

	return l != NULL && l->kind == K_LISTEN ? (int)l->queued : PORT_INVALID;
}

int port_accept(port_sock listener, port_sock *out,
		struct port_addr *peer, struct port_addr *local)
{
	struct sock *l = sock_get(listener);
	struct sock *k;
	port_sock s;

	if (l == NULL || l->kind != K_LISTEN)
		return PORT_INVALID;
	s = first_queued(l);
	if (s == PORT_SOCK_NONE)
		return PORT_AGAIN;
	l->queued--;
	l->taken++;
	k = &socks[s];
	k->flags &= (uint8_t)~F_QUEUED;
	stats.accepted++;
	if (k->pcb != NULL) {
		tcp_backlog_accepted(k->pcb);
		set_backlog(l);
		if (peer != NULL)
			addr_from_lwip(&k->pcb->remote_ip, k->pcb->remote_port, peer);
		if (local != NULL)
			addr_from_lwip(&k->pcb->local_ip, k->pcb->local_port, local);
	} else {
		/* Reset while it waited: the core reads the error and closes. */
		if (peer != NULL)
			memset(peer, 0, sizeof(*peer));
		if (local != NULL)
			memset(local, 0, sizeof(*local));
	}
	*out = s;
	return PORT_OK;
}

int port_connect(const struct port_addr *addr, port_sock *out)
{
	struct tcp_pcb *pcb;
	ip_addr_t ip;
	port_sock s;
	int r = sock_with_pcb(addr, K_CONN, &s, &pcb, &ip);

	if (r != PORT_OK)
		return r;
	attach(s, pcb);
	tcp_setprio(pcb, TCP_PRIO_MAX);
	socks[s].flags = F_CONNECTING;
	if (tcp_connect(pcb, &ip, addr->port, on_connected) != ERR_OK) {
		detach(pcb);
		tcp_abort(pcb);
		sock_release(&socks[s]);
		return PORT_NOMEM;
	}
	*out = s;
	return PORT_OK;
}

int port_connect_result(port_sock s)
{
	struct sock *k = sock_get(s);

	if (k == NULL)
		return PORT_INVALID;
	if (k->err != PORT_OK)
		return k->err;
	return (k->flags & F_CONNECTED) ? PORT_OK : PORT_AGAIN;
}

int port_connect_unix(const char *path, size_t len, port_sock *out)
{
	(void)path;
	(void)len;
	(void)out;
	return PORT_INVALID;
}

/* No filesystem behind lwIP: Alias to a directory is for POSIX boards. */
int port_file_open(const char *dir, size_t dir_len, const char *rel, size_t rel_len,
		   port_file *f, uint64_t *size, int64_t *mtime)
{
	(void)dir;
	(void)dir_len;
	(void)rel;
	(void)rel_len;
	(void)f;
	(void)size;
	(void)mtime;
	return PORT_INVALID;
}

long port_file_read(port_file f, uint64_t off, void *buf, size_t len)
{
	(void)f;
	(void)off;
	(void)buf;
	(void)len;
	return PORT_INVALID;
}

void port_file_close(port_file f)
{
	(void)f;
}

long port_recv(port_sock s, void *buf, size_t len)
{
	struct sock *k = sock_get(s);
	size_t n;

	if (k == NULL || k->kind != K_CONN)
		return PORT_ERROR;
	if (k->rx == NULL) {
		if (k->err != PORT_OK)
			return k->err == PORT_REFUSED ? PORT_RESET : k->err;
		return (k->flags & F_EOF) ? PORT_EOF : PORT_AGAIN;
	}
	n = k->rx->tot_len;
	if (n > len)
		n = len;
	pbuf_copy_partial(k->rx, buf, (u16_t)n, 0);
	k->rx = pbuf_free_header(k->rx, (u16_t)n);
	if (k->pcb != NULL)
		tcp_recved(k->pcb, (u16_t)n);
	return (long)n;
}

/* The connection a send may queue on, or the error to give. */
static long send_check(struct sock *k)
{
	if (k == NULL || k->kind != K_CONN)
		return PORT_ERROR;
	if (k->err != PORT_OK)
		return k->err == PORT_REFUSED ? PORT_RESET : k->err;
	if (k->pcb == NULL || (k->flags & F_SHUT))
		return PORT_ERROR;
	return PORT_OK;
}

/* Queue up to len bytes (copied) without sending yet: bytes queued, or PORT_AGAIN. */
static long queue_write(struct sock *k, const void *buf, size_t len)
{
	size_t room = tcp_sndbuf(k->pcb);

	if (tcp_sndqueuelen(k->pcb) >= TCP_SND_QUEUELEN - 1)
		room = 0;
	if (room == 0 || len == 0)
		return PORT_AGAIN;
	if (len > room)
		len = room;
	/* Out of lwIP heap: try a smaller piece before giving up this turn. */
	while (tcp_write(k->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY) == ERR_MEM) {
		if (len <= TCP_MSS)
			return PORT_AGAIN;
		len /= 2;
	}
	return (long)len;
}

long port_send(port_sock s, const void *buf, size_t len)
{
	struct port_iov one = { buf, len };

	return port_sendv(s, &one, 1);
}

long port_sendv(port_sock s, const struct port_iov *iov, unsigned n)
{
	struct sock *k = sock_get(s);
	long r = send_check(k), total = 0;

	if (r != PORT_OK)
		return r;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len == 0)
			continue;
		r = queue_write(k, iov[i].p, iov[i].len);
		if (r > 0)
			total += r;
		if (r < 0 || (size_t)r < iov[i].len)
			break;
	}
	if (total == 0)
		return PORT_AGAIN;
	tcp_output(k->pcb);     /* the pieces leave together */
	return total;
}

void port_nodelay(port_sock s)
{
	struct sock *k = sock_get(s);

	if (k != NULL && k->pcb != NULL)
		tcp_nagle_disable(k->pcb);
}

void port_shutdown(port_sock s)
{
	struct sock *k = sock_get(s);

	if (k == NULL || k->pcb == NULL || (k->flags & F_SHUT))
		return;
	if (tcp_shutdown(k->pcb, 0, 1) == ERR_OK)
		k->flags |= F_SHUT;
}

/* Close a connection's PCB; abort it when lwIP cannot queue the FIN. */
static void pcb_close(struct tcp_pcb *pcb)
{
	detach(pcb);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

void port_abort(port_sock s)
{
	struct sock *k = sock_get(s);

	if (k == NULL || k->kind != K_CONN) {
		port_close(s);
		return;
	}
	if (k->pcb != NULL) {
		detach(k->pcb);
		tcp_abort(k->pcb);
		k->pcb = NULL;
	}
	sock_release(k);
}

void port_close(port_sock s)
{
	struct sock *k = sock_get(s);

	if (k == NULL)
		return;
	if (k->kind == K_LISTEN) {
		port_sock q;

		while ((q = first_queued(k)) != PORT_SOCK_NONE) {
			if (socks[q].pcb != NULL) {
				detach(socks[q].pcb);
				tcp_abort(socks[q].pcb);
			}
			unqueue(q);
		}
		/* Connections it gave the core outlive it: they no longer count for it. */
		for (port_sock i = 0; i < SOCKS; i++)
			if (socks[i].kind == K_CONN && socks[i].listener == k - socks)
				socks[i].listener = -1;
		if (k->pcb != NULL) {
			tcp_arg(k->pcb, NULL);
			tcp_accept(k->pcb, NULL);
			tcp_close(k->pcb);      /* never fails for a listening PCB */
		}
	} else if (k->pcb != NULL) {
		/*
		 * Count unread data as read, or lwIP answers the close with a
		 * reset that could overtake the response still in flight.
		 */
		if (k->rx != NULL)
			tcp_recved(k->pcb, k->rx->tot_len);
		pcb_close(k->pcb);
	}
	sock_release(k);
}

/* Readiness of one entry, as port_wait() reports it. */
static uint8_t readiness(const struct sock *k, uint8_t want)
{
	uint8_t got = 0;

	if (k == NULL)
		return PORT_ERR;
	if (k->kind == K_LISTEN)
		return k->queued > 0 ? (want & PORT_IN) : 0;
	if (k->rx != NULL || (k->flags & F_EOF) || k->err != PORT_OK)
		got |= want & PORT_IN;
	if (k->flags & F_EOF)
		got |= want & PORT_HUP;
	if (k->err != PORT_OK) {
		got |= PORT_ERR | (want & PORT_OUT);
	} else if (want & PORT_OUT) {
		if ((k->flags & F_CONNECTED) && k->pcb != NULL &&
		    tcp_sndbuf(k->pcb) > 0 && tcp_sndqueuelen(k->pcb) < TCP_SND_QUEUELEN - 1)
			got |= PORT_OUT;
	}
	return got;
}

static int mark_ready(struct port_poll *set, unsigned n)
{
	int ready = 0;

	for (unsigned i = 0; i < n; i++) {
		set[i].got = set[i].sock == PORT_SOCK_NONE ? 0 :
			     readiness(sock_get(set[i].sock), set[i].want);
		if (set[i].got)
			ready++;
	}
	return ready;
}

int port_wait(struct port_poll *set, unsigned n, int timeout_ms)
{
	uint32_t start = sys_now();

	for (;;) {
		uint32_t waited, sleep;
		int ready;

		board_net_poll();
		sys_check_timeouts();
		ready = mark_ready(set, n);
		if (ready > 0 || timeout_ms == 0)
			return ready;
		waited = sys_now() - start;
		if (timeout_ms > 0 && waited >= (uint32_t)timeout_ms)
			return 0;
		sleep = sys_timeouts_sleeptime();
		if (timeout_ms > 0 && sleep > (uint32_t)timeout_ms - waited)
			sleep = (uint32_t)timeout_ms - waited;
		if (board_net_idle(sleep))
			return 0;
	}
}

/* --- start-up and glue ------------------------------------------------------ */

/* A dotted quad from Kconfig, with the core's parser (lwIP's is larger). */
static int parse_ip4(const char *s, ip4_addr_t *out)
{
	uint8_t b[ADDR_IPV4_LEN];

	if (addr_parse_ipv4(s, strlen(s), b) != 0)
		return -1;
	IP4_ADDR(out, b[0], b[1], b[2], b[3]);
	return 0;
}

int port_lwip_start(struct netif *nif, int8_t (*init)(struct netif *nif), void *state)
{
	ip4_addr_t ip, mask, gw;

	if (parse_ip4(CONFIG_NET_IPADDR, &ip) || parse_ip4(CONFIG_NET_NETMASK, &mask) ||
	    parse_ip4(CONFIG_NET_GATEWAY, &gw))
		return -1;
	lwip_init();
	if (netif_add(nif, &ip, &mask, &gw, state, init, ethernet_input) == NULL)
		return -1;
	netif_set_default(nif);
	netif_set_up(nif);
#if LWIP_DHCP
	if (dhcp_start(nif) != ERR_OK)
		return -1;
#endif
	return 0;
}

void port_lwip_get_stats(struct port_lwip_stats *out)
{
	*out = stats;
}

/* xorshift32 for lwIP's initial sequence numbers and local ports. */
static uint32_t rand_state;

uint32_t port_lwip_rand(void)
{
	uint32_t x = rand_state;

	if (x == 0)
		x = 0x9e3779b9u ^ sys_now();
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rand_state = x;
	return x;
}

void port_lwip_assert(const char *msg, const char *file, int line)
{
	static const char head[] = "lwIP assertion failed: ";
	char num[12];
	int i = (int)sizeof(num);

	port_log_write(head, sizeof(head) - 1);
	port_log_write(msg, strlen(msg));
	port_log_write(" at ", 4);
	port_log_write(file, strlen(file));
	num[--i] = '\n';
	do {
		num[--i] = (char)('0' + line % 10);
		line /= 10;
	} while (line > 0 && i > 1);
	num[--i] = ':';
	port_log_write(num + i, sizeof(num) - (size_t)i);
	board_halt();
}
