/*
 * tls.h - TLS 1.2 server connections on top of port.h (mbedTLS 2.28).
 *
 * One mbedTLS context per TLS slot (0 .. CONFIG_TLS_SLOTS-1), reserved
 * statically; everything mbedTLS allocates (record buffers, handshake
 * state, the parsed certificate) comes from one static arena of
 * CONFIG_TLS_ARENA_SIZE bytes. The calls are non-blocking and follow
 * port_recv()/port_send(): PORT_AGAIN means "wait for tls_want() on the
 * socket, then call again", so the gateway's one state machine drives
 * TLS and plain connections alike.
 *
 * Only tls.c includes mbedTLS headers; this one can be included anywhere.
 * With CONFIG_TLS off, tls.c compiles to nothing.
 */
#ifndef FCGATE_TLS_H
#define FCGATE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"

/*
 * Once, before any tls_open(): set up the arena, seed the DRBG from the
 * board's entropy (mbedtls_hardware_poll), parse the certificate chain and
 * the private key (PEM, the length including the terminating NUL, or
 * DER), check that they belong together and that the chain fits the
 * outgoing record buffer, create the session-ticket keys. Returns 0, or a
 * negative value with the reason in tls_error_text().
 */
int tls_init(const unsigned char *cert_pem, size_t cert_len,
	     const unsigned char *key_pem, size_t key_len);

/*
 * Start a server connection on an accepted socket in TLS slot idx. The
 * slot must be free (never opened, or tls_close()d). PORT_NOMEM when the
 * arena cannot take another connection (nothing stays allocated; the
 * caller closes the socket); PORT_INVALID for a bad idx or a busy slot.
 */
int tls_open(unsigned idx, port_sock s);

/*
 * Run the handshake as far as the socket allows. PORT_OK: done, data may
 * flow. PORT_AGAIN: wait for tls_want(idx), then call again. Anything
 * else ends the connection (call tls_close()): PORT_EOF (the client closed
 * first), PORT_RESET, PORT_ERROR (bad input, plain HTTP, no common cipher
 * suite or version, a fatal alert; tls_error_text() says which).
 */
int tls_handshake(unsigned idx);

/*
 * The handshake failed on an HTTP request (its first bytes were a method
 * in capitals): nothing was sent, so the caller may answer in plain HTTP.
 */
int tls_plain_http(unsigned idx);

/*
 * After the handshake, the same contract as port_recv(): bytes (> 0),
 * PORT_AGAIN (see tls_want()), PORT_EOF (close_notify, or the TCP stream
 * ended), PORT_RESET, PORT_ERROR (bad record, a renegotiation attempt
 * the client insists on, a fatal alert).
 */
long tls_recv(unsigned idx, void *buf, size_t len);

/*
 * The same contract as port_send(): bytes taken (> 0, maybe fewer than
 * len: at most one record of CONFIG_TLS_OUT_BUF), or PORT_AGAIN / an
 * error. After PORT_AGAIN, call again with the same bytes (mbedTLS holds
 * an encrypted record half sent and completes it on the next call).
 */
long tls_send(unsigned idx, const void *buf, size_t len);

/*
 * Nonzero when tls_recv() has something without reading the socket
 * (decrypted bytes, or a record already read but not yet decrypted), so
 * the caller must not wait for PORT_IN first: poll cannot see these. The
 * value is the number of decrypted bytes, or 1 for an undecrypted record.
 */
size_t tls_pending(unsigned idx);

/* What the last PORT_AGAIN waits for: PORT_IN or PORT_OUT. */
uint8_t tls_want(unsigned idx);

/*
 * Send close_notify if the handshake had finished (best effort, without
 * waiting) and give the slot's arena memory back. The caller closes the
 * socket. Safe on a free slot.
 */
void tls_close(unsigned idx);

/*
 * Call now and then (at least once a day; the gateway's timer sweep will
 * do): keeps TLS's seconds clock counting across the 49-day wrap of
 * port_now_ms() even when no TLS connection comes for weeks.
 */
void tls_tick(void);

/* What the last failure was, in a short line for the log. */
const char *tls_error_text(void);

/* The RAM bill, for --check-config and make size. */
struct tls_budget {
	size_t slot_bytes;      /* static RAM per TLS slot (the mbedTLS context) */
	unsigned slots;         /* CONFIG_TLS_SLOTS */
	size_t shared_bytes;    /* static RAM once: config, DRBG, entropy, tickets, cert */
	size_t arena_bytes;     /* CONFIG_TLS_ARENA_SIZE */
	size_t in_buf;          /* incoming record content, per connection */
	size_t out_buf;         /* outgoing record content, per connection */
	size_t conn_reserve;    /* arena a new connection must find free */
};
void tls_get_budget(struct tls_budget *b);

struct tls_stats {
	uint32_t handshakes_full;
	uint32_t handshakes_resumed;    /* by session ticket */
	uint32_t handshake_failures;    /* bad input, no common suite, alerts */
	uint32_t handshake_aborts;      /* the client closed or reset first */
	uint32_t refused_nomem;         /* tls_open() found the arena full */
	uint32_t tickets_issued;
	unsigned active;                /* slots open now */
	size_t arena_used;              /* bytes handed out now (without headers) */
	size_t arena_peak;              /* the most ever handed out at once */
	size_t arena_fixed;             /* held from tls_init() on: cert, key, tickets */
};
void tls_get_stats(struct tls_stats *s);

#endif
