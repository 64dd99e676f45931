/*
 * slot.c - helpers for the fixed slots: deadlines and the client output
 * buffer.
 */
#include <string.h>

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

long slot_send(struct client *c, const void *buf, size_t len)
{
#if GW_TLS_SLOTS > 0
	if (c->tls)
		return tls_send(slot_tls_index(c), buf, len);
#endif
	/* Only a second send can be held back by Nagle (port_nodelay()). */
	if (c->sends < 2 && c->sends++ == 1)
		port_nodelay(c->sock);
	return port_send(c->sock, buf, len);
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

int slot_expired(uint32_t deadline, uint32_t now)
{
	return deadline != 0 && (int32_t)(now - deadline) >= 0;
}

size_t slot_out_space(const struct client *c)
{
	return sizeof(c->out) - c->out_len;
}

int slot_out_put(struct client *c, const void *p, size_t n)
{
	if (n > slot_out_space(c))
		return -1;
	memcpy(c->out + c->out_len, p, n);
	c->out_len += (uint32_t)n;
	return 0;
}

int slot_out_str(struct client *c, const char *s)
{
	return slot_out_put(c, s, strlen(s));
}

int slot_out_uint(struct client *c, unsigned long long v, unsigned base)
{
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	return slot_out_put(c, tmp + n, sizeof(tmp) - n);
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
	if (send_out(c) < 0)
		return -1;
#if CONFIG_ROMFS
	/* out[] is out: a ROM body follows straight from flash. */
	while (c->out_off == c->out_len && c->rom_left > 0) {
		long n = slot_send(c, c->rom_body, c->rom_left);
		if (n == PORT_AGAIN)
			break;
		if (n < 0)
			return -1;
		c->rom_body += n;
		c->rom_left -= (uint32_t)n;
		c->bytes_out += (uint64_t)n;
	}
#endif
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
