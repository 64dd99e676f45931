/*
 * slot.c - helpers for the fixed slots: deadlines and the client output
 * buffer.
 */
#include <string.h>

#include "copy.h"
#include "log.h"
#include "slot.h"
#include "tls.h"

struct client gw_clients[GW_CLIENT_SLOTS];
struct backend gw_backends[CONFIG_BACKEND_SLOTS];
const struct route_table *gw_routes;

long slot_recv(struct client *c, void *buf, size_t len)
{
#if GW_TLS_SLOTS > 0
	if (c->tls)
		return tls_recv(slot_tls_index(c), buf, len);
#endif
	return port_recv(c->sock, buf, len);
}

/* Only a connection's second send can be held back by Nagle (port_nodelay()). */
static void before_plain_send(struct client *c)
{
	if (c->sends < 2 && c->sends++ == 1)
		port_nodelay(c->sock);
}

long slot_send(struct client *c, const void *buf, size_t len)
{
#if GW_TLS_SLOTS > 0
	if (c->tls)
		return tls_send(slot_tls_index(c), buf, len);
#endif
	before_plain_send(c);
	return port_send(c->sock, buf, len);
}

/* Pieces in order, as one write on a plain connection; through TLS one by one. */
static long slot_sendv(struct client *c, const struct port_iov *iov, unsigned n)
{
#if GW_TLS_SLOTS > 0
	if (c->tls) {
		long total = 0;
		for (unsigned i = 0; i < n; i++) {
			long r = iov[i].len ? tls_send(slot_tls_index(c), iov[i].p, iov[i].len) : 0;
			if (r < 0)
				return total > 0 ? total : r;
			total += r;
			if ((size_t)r < iov[i].len)
				break;
		}
		return total > 0 ? total : PORT_AGAIN;
	}
#endif
	before_plain_send(c);
	return port_sendv(c->sock, iov, n);
}

long slot_send_through(struct client *c, const struct port_iov *tail, unsigned n)
{
	struct port_iov iov[PORT_IOV_MAX];
	uint32_t pending = c->out_len - c->out_off;
	unsigned k = 0;
	long sent;

	if (pending > 0)
		iov[k++] = (struct port_iov){ c->out + c->out_off, pending };
	for (unsigned i = 0; i < n && k < PORT_IOV_MAX; i++)
		iov[k++] = tail[i];
	sent = slot_sendv(c, iov, k);
	if (sent == PORT_AGAIN)
		return 0;
	if (sent < 0)
		return -1;
	c->bytes_out += (uint64_t)sent;
	if ((uint32_t)sent < pending) {
		c->out_off += (uint32_t)sent;
		return 0;
	}
	c->out_off = c->out_len = 0;
	return sent - (long)pending;
}

void slot_client_close(struct client *c)
{
	gw_counters.bytes_in += c->bytes_in;
	gw_counters.bytes_out += c->bytes_out;
#if GW_TLS_SLOTS > 0
	if (c->tls)
		tls_close(slot_tls_index(c));
#endif
	slot_file_end(c);
	port_close(c->sock);
	c->state = C_FREE;
}

uint32_t slot_deadline(uint32_t ms)
{
	uint32_t d = gw_now + ms;
	return d ? d : 1;
}

size_t slot_out_space(const struct client *c)
{
	return sizeof(c->out) - c->out_len;
}

int slot_out_put(struct client *c, const void *p, size_t n)
{
	if (n > slot_out_space(c))
		return -1;
	copy_bytes(c->out + c->out_len, p, n);
	c->out_len += (uint32_t)n;
	return 0;
}

int slot_out_uint(struct client *c, unsigned long long v, unsigned base)
{
	char tmp[LOG_UTOA_MAX];
	char *p = log_utoa(tmp + sizeof(tmp), v, base);

	return slot_out_put(c, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Send out[] until it is empty or the socket would block. */
static int send_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		long n = slot_send(c, c->out + c->out_off, c->out_len - c->out_off);
		if (n == PORT_AGAIN)
			break;
		if (n < 0)
			return -1;
		c->out_off += (uint32_t)n;
		c->bytes_out += (uint64_t)n;
	}
	return 0;
}

#if CONFIG_DIR_ALIAS
/* Fill the empty out[] with the file's next bytes; closed after the last. */
static int file_refill(struct client *c)
{
	size_t want = c->file_left < sizeof(c->out) ? c->file_left : sizeof(c->out);
	long n = port_file_read(c->file, c->file_off, c->out, want);

	if (n <= 0) {
		/* Shrunk or unreadable: the head promised more, only closing can tell. */
		LOG_W("client %u: file read failed at %llu", (unsigned)(c - gw_clients),
		      (unsigned long long)c->file_off);
		return -1;
	}
	c->out_off = 0;
	c->out_len = (uint32_t)n;
	c->file_off += (uint64_t)n;
	c->file_left -= (uint32_t)n;
	if (c->file_left == 0)
		port_file_close(c->file);
	return 0;
}
#endif

int slot_flush(struct client *c)
{
#if CONFIG_ROMFS
	/* A ROM body follows out[] straight from flash, in the same write. */
	while (c->rom_left > 0) {
		struct port_iov body = { c->rom_body, c->rom_left };
		uint32_t pending = c->out_len - c->out_off;
		long n = slot_send_through(c, &body, 1);
		if (n < 0)
			return -1;
		c->rom_body += n;
		c->rom_left -= (uint32_t)n;
		if (n == 0 && c->out_len - c->out_off == pending)
			break;  /* the socket is full */
	}
#endif
	if (send_out(c) < 0)
		return -1;
#if CONFIG_DIR_ALIAS
	/* out[] is out: a file's body goes through it a buffer at a time. */
	while (c->out_off == c->out_len && c->file_left > 0) {
		if (file_refill(c) < 0 || send_out(c) < 0)
			return -1;
	}
#endif
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	} else if (c->out_off > sizeof(c->out) / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return 0;
}
