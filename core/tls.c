/*
 * tls.c - TLS 1.2 server connections with mbedTLS, in fixed memory.
 *
 * Memory: the mbedTLS contexts live in a static table, one per TLS slot;
 * everything mbedTLS allocates comes from one static arena through
 * MEMORY_BUFFER_ALLOC_C (see port/mbedtls/mbedtls_config.h). A connection
 * takes its two record buffers and its handshake state at tls_open(), so
 * a full arena shows there, before any byte is read, and the connection is
 * refused whole; after that, only the handshake in progress allocates a
 * little more (key exchange, cipher contexts), and tls_open() keeps room
 * for that. An established connection never allocates again (no
 * renegotiation), so a full arena cannot harm it.
 *
 * I/O: mbedTLS reads and writes through port_recv()/port_send() (its BIO
 * callbacks). PORT_AGAIN becomes WANT_READ/WANT_WRITE, which come back up
 * as PORT_AGAIN with tls_want() telling which readiness to wait for.
 *
 * Resumption: session tickets (RFC 5077) sealed with AES-256-GCM under a
 * key made at boot and rotated every ticket lifetime. Nothing is stored
 * per session on the server, so resumption costs no RAM.
 */
#include "gw_config.h"

#if CONFIG_TLS

#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/net_sockets.h"        /* MBEDTLS_ERR_NET_* codes only */
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_time.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"

#include "log.h"
#include "tls.h"

#ifndef CONFIG_TLS_TICKET_LIFETIME
#define CONFIG_TLS_TICKET_LIFETIME 86400        /* RFC 5077 suggests a day at most */
#endif

/*
 * Arena a new connection must leave free after taking its record buffers
 * and handshake state: what its handshake allocates on top. That is the
 * temporaries of one ECC or RSA private-key operation (one at a time: the
 * loop is single-threaded) plus what each handshake keeps between steps
 * (its key-exchange key pair, the peer's share, two cipher contexts), for
 * every handshake in flight. Measured with margin (on x86-64, where the
 * structures are largest): an EC handshake peaks 2.4 KiB above its
 * tls_open() figure, an RSA-2048 one 6.8 KiB, and the first RSA handshake
 * also leaves about 2.5 KiB for good in the key (blinding values and
 * Montgomery constants, which mbedTLS computes on first use).
 */
#define TLS_RESERVE_EC          4096
#define TLS_RESERVE_RSA         10240
#define TLS_RESERVE_IN_FLIGHT   2048

/* The allocator's per-block header (memory_buffer_alloc.c: eight words). */
#define TLS_ARENA_HDR   (8 * sizeof(void *))

/* The DRBG's personalisation string: any constant will do (NIST SP 800-90A). */
#define TLS_DRBG_PERS   "fcgate tls"

enum tls_state { TLS_FREE, TLS_HANDSHAKE, TLS_OPEN, TLS_DEAD };

struct tls_slot {
	mbedtls_ssl_context ssl;
	port_sock sock;
	int8_t io;              /* the port result that broke the BIO, else 0 */
	uint8_t want;           /* PORT_IN / PORT_OUT after an AGAIN */
	uint8_t state;          /* enum tls_state */
	uint8_t resumed;        /* the handshake took a session ticket */
	uint8_t got_bytes;      /* anything read yet (plain-HTTP detection) */
	uint8_t plain_http;     /* the first bytes read look like an HTTP method */
	uint32_t write_len;     /* a write that met WANT_WRITE: the length its retry must repeat */
};

static struct tls_slot tls_slots[CONFIG_TLS_SLOTS];

/* Everything shared by the connections. */
static struct {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	mbedtls_ssl_ticket_context ticket;
	struct tls_slot *current;       /* whose handshake is running (ticket hook) */
	size_t reserve;                 /* TLS_RESERVE_* for the key type */
	int ready;
} tls;

static struct tls_stats tls_st;
static char tls_err[120];

static _Alignas(8) unsigned char tls_arena[CONFIG_TLS_ARENA_SIZE];

/* --- the clock mbedTLS reads (MBEDTLS_PLATFORM_TIME_ALT) ------------------- */

/*
 * Seconds = base + port_now_ms() extended past its 49-day wrap. base makes
 * the clock read the wall time when the board has one, and is random
 * otherwise, so the time field of ServerHello does not give the uptime
 * away. Only differences matter to mbedTLS: ticket age and key rotation.
 */
static struct {
	int64_t base;
	uint64_t high;          /* wraps of port_now_ms(), times 2^32 */
	uint32_t last;
} tls_clk;

static mbedtls_time_t tls_time(mbedtls_time_t *out)
{
	uint32_t now = port_now_ms();
	mbedtls_time_t t;

	if (now < tls_clk.last)
		tls_clk.high += (uint64_t)1 << 32;
	tls_clk.last = now;
	t = (mbedtls_time_t)(tls_clk.base + (int64_t)((tls_clk.high + now) / 1000u));
	if (out)
		*out = t;
	return t;
}

void tls_tick(void)
{
	(void)tls_time(NULL);
}

static int tls_clock_start(void)
{
	int64_t wall = port_wall_clock();
	uint32_t r;
	int ret;

	tls_clk.last = port_now_ms();
	if (wall >= 0) {
		tls_clk.base = wall - (int64_t)(tls_clk.last / 1000u);
	} else {
		ret = mbedtls_ctr_drbg_random(&tls.drbg, (unsigned char *)&r, sizeof(r));
		if (ret != 0)
			return ret;
		tls_clk.base = (int64_t)(r >> 2);       /* below 2^30: no 32-bit wrap for decades */
	}
	mbedtls_platform_set_time(tls_time);
	return 0;
}

/* --- errors --------------------------------------------------------------- */

struct tls_code {
	int code;
	const char *text;
};

/* mbedTLS errors are a high-level code plus a low-level one; these are high. */
static const struct tls_code tls_codes[] = {
	{ MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN, "no cipher suite in common" },
	{ MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE, "no cipher suite in common (or the client lacks P-256)" },
	{ MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION, "the client does not offer TLS 1.2" },
	{ MBEDTLS_ERR_SSL_INVALID_RECORD, "not a TLS record" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, "malformed ClientHello" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE, "bad ClientKeyExchange" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_RP, "bad ClientKeyExchange" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_CS, "bad ClientKeyExchange" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC, "bad ChangeCipherSpec" },
	{ MBEDTLS_ERR_SSL_BAD_HS_FINISHED, "bad Finished" },
	{ MBEDTLS_ERR_SSL_INVALID_MAC, "record authentication failed" },
	{ MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE, "unexpected message" },
	{ MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the client sent a fatal alert" },
	{ MBEDTLS_ERR_SSL_ALLOC_FAILED, "TLS arena full (CONFIG_TLS_ARENA_SIZE)" },
	{ MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE, "certificate chain larger than CONFIG_TLS_OUT_BUF" },
	{ MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL, "record larger than the buffers" },
	{ MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT, "no PEM BEGIN/END lines" },
	{ MBEDTLS_ERR_PEM_INVALID_DATA, "bad PEM data" },
	{ MBEDTLS_ERR_PEM_PASSWORD_REQUIRED, "the key is encrypted: store it unencrypted" },
	{ MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE, "the key is encrypted: store it unencrypted" },
	{ MBEDTLS_ERR_PK_PASSWORD_REQUIRED, "the key is encrypted: store it unencrypted" },
	{ MBEDTLS_ERR_PK_KEY_INVALID_FORMAT, "not a private key" },
#if defined(MBEDTLS_RSA_C)
	{ MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "key type not supported (EC P-256 or RSA only)" },
#else
	{ MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "key type not supported (EC P-256 only; RSA needs CONFIG_TLS_RSA)" },
#endif
	{ MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE, "curve not supported (P-256 only)" },
	{ MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE, "key not supported (P-256 only)" },
	{ MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE, "curve not supported (P-256 only)" },
#if defined(MBEDTLS_RSA_C)
	{ MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, "signature algorithm not built in (SHA-256/384 only)" },
#else
	{ MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, "signature algorithm not built in (ECDSA with SHA-256/384; RSA needs CONFIG_TLS_RSA)" },
#endif
	{ MBEDTLS_ERR_X509_INVALID_FORMAT, "not an X.509 certificate" },
	{ MBEDTLS_ERR_X509_UNKNOWN_VERSION, "unsupported certificate version" },
	{ MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE, "certificate feature not supported" },
	{ MBEDTLS_ERR_X509_ALLOC_FAILED, "TLS arena full (CONFIG_TLS_ARENA_SIZE)" },
	{ MBEDTLS_ERR_ENTROPY_SOURCE_FAILED, "the board's entropy source failed" },
	{ MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED, "the board's entropy source failed" },
};

static const char *tls_code_text(int ret)
{
	int high = -((-ret) & 0xff80);
	int low = -((-ret) & 0x7f);

	for (size_t i = 0; i < sizeof(tls_codes) / sizeof(tls_codes[0]); i++)
		if (tls_codes[i].code == ret || tls_codes[i].code == high)
			return tls_codes[i].text;
	for (size_t i = 0; i < sizeof(tls_codes) / sizeof(tls_codes[0]); i++)
		if (low != 0 && tls_codes[i].code == low)
			return tls_codes[i].text;
	return "TLS error";
}

static void tls_set_error(const char *what, int ret)
{
	log_format(tls_err, sizeof(tls_err), "%s: %s (mbedTLS -0x%x)",
		   what, tls_code_text(ret), (unsigned)-ret);
}

const char *tls_error_text(void)
{
	return tls_err;
}

/* --- BIO: mbedTLS's transport is port.h ------------------------------------ */

static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_slot *t = ctx;
	long n = port_send(t->sock, buf, len);

	if (n > 0)
		return (int)n;
	if (n == 0 || n == PORT_AGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	t->io = (int8_t)n;
	return n == PORT_RESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

/*
 * The first bytes of a connection: a TLS record starts with a type byte of
 * 20..23 (or 0x80 for an SSLv2 hello), an HTTP request with a method in
 * capitals and a space ("GET ", "POST").
 */
static int tls_looks_like_http(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n && i < 4; i++)
		if (!((buf[i] >= 'A' && buf[i] <= 'Z') || buf[i] == ' '))
			return 0;
	return 1;
}

static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_slot *t = ctx;
	long n = port_recv(t->sock, buf, len);

	if (n > 0) {
		if (!t->got_bytes && tls_looks_like_http(buf, (size_t)n)) {
			/* Fail here, before mbedTLS could answer the "record" with an alert. */
			t->plain_http = 1;
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
		t->got_bytes = 1;
		return (int)n;
	}
	if (n == PORT_AGAIN)
		return MBEDTLS_ERR_SSL_WANT_READ;
	t->io = (int8_t)(n == 0 ? PORT_EOF : n);
	if (t->io == PORT_EOF)
		return 0;       /* mbedTLS: MBEDTLS_ERR_SSL_CONN_EOF */
	return n == PORT_RESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/*
 * An mbedTLS result as a port result. AGAIN records what to wait for; a
 * failure of the socket underneath wins over the TLS error it caused.
 */
static int tls_result(struct tls_slot *t, int ret, const char *what)
{
	if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
		t->want = PORT_IN;
		return PORT_AGAIN;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->want = PORT_OUT;
		return PORT_AGAIN;
	}
	if (t->plain_http) {
		log_format(tls_err, sizeof(tls_err), "%s: plain HTTP sent to the TLS port", what);
		return PORT_ERROR;
	}
	if (t->io != 0 || ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
	    ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		int r = t->io != 0 ? t->io : PORT_EOF;

		log_format(tls_err, sizeof(tls_err), "%s: %s", what,
			   r == PORT_EOF ? "the client closed the connection" :
			   r == PORT_RESET ? "connection reset" : "socket error");
		return r;
	}
	tls_set_error(what, ret);
	return PORT_ERROR;
}

static struct tls_slot *tls_slot_get(unsigned idx)
{
	return idx < CONFIG_TLS_SLOTS ? &tls_slots[idx] : NULL;
}

/* --- tickets: mbedTLS's own, counted ------------------------------------ */

static int tls_ticket_write(void *p, const mbedtls_ssl_session *session,
			    unsigned char *start, const unsigned char *end,
			    size_t *tlen, uint32_t *lifetime)
{
	int ret = mbedtls_ssl_ticket_write(p, session, start, end, tlen, lifetime);

	if (ret == 0)
		tls_st.tickets_issued++;
	return ret;
}

static int tls_ticket_parse(void *p, mbedtls_ssl_session *session,
			    unsigned char *buf, size_t len)
{
	int ret = mbedtls_ssl_ticket_parse(p, session, buf, len);

	/* A ticket that opens is a resumption: mbedTLS skips the key exchange. */
	if (ret == 0 && tls.current != NULL)
		tls.current->resumed = 1;
	return ret;
}

/* --- arena ------------------------------------------------------------------ */

static size_t tls_arena_free(void)
{
	size_t used, blocks, taken;

	mbedtls_memory_buffer_alloc_cur_get(&used, &blocks);
	taken = used + (blocks + 1) * TLS_ARENA_HDR;
	return taken < sizeof(tls_arena) ? sizeof(tls_arena) - taken : 0;
}

/* What a new connection must leave free: see TLS_RESERVE_EC. */
static size_t tls_reserve(void)
{
	size_t n = tls.reserve;

	for (unsigned i = 0; i < CONFIG_TLS_SLOTS; i++)
		if (tls_slots[i].state == TLS_HANDSHAKE)
			n += TLS_RESERVE_IN_FLIGHT;
	return n;
}

/* --- setup ------------------------------------------------------------------ */

/* The Certificate message must fit one record: TLS does not fragment it. */
static int tls_chain_fits(void)
{
	size_t n = 4 + 3;       /* handshake header, certificate_list length */

	for (const mbedtls_x509_crt *c = &tls.cert; c != NULL && c->raw.len > 0; c = c->next)
		n += 3 + c->raw.len;
	if (n <= MBEDTLS_SSL_OUT_CONTENT_LEN)
		return 1;
	log_format(tls_err, sizeof(tls_err),
		   "certificate chain: %zu bytes do not fit CONFIG_TLS_OUT_BUF (%u)",
		   n, (unsigned)MBEDTLS_SSL_OUT_CONTENT_LEN);
	return 0;
}

static void tls_teardown(void)
{
	mbedtls_ssl_ticket_free(&tls.ticket);
	mbedtls_ssl_config_free(&tls.conf);
	mbedtls_pk_free(&tls.key);
	mbedtls_x509_crt_free(&tls.cert);
	mbedtls_ctr_drbg_free(&tls.drbg);
	mbedtls_entropy_free(&tls.entropy);
	tls.ready = 0;
}

static int tls_contains(const unsigned char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, s, n) == 0)
			return 1;
	return 0;
}

/*
 * mbedTLS takes text as PEM only when its last byte is the NUL; without it
 * the text would be parsed as DER and fail with a misleading message.
 */
static int tls_pem_unterminated(const unsigned char *buf, size_t len)
{
	return len > 0 && buf[len - 1] != '\0' && tls_contains(buf, len, "-----BEGIN ");
}

static int tls_setup_keys(const unsigned char *cert, size_t cert_len,
			  const unsigned char *key, size_t key_len)
{
	int ret;

	if (tls_pem_unterminated(cert, cert_len) || tls_pem_unterminated(key, key_len)) {
		log_format(tls_err, sizeof(tls_err),
			   "PEM text must end with a NUL counted in its length");
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	}
	ret = mbedtls_x509_crt_parse(&tls.cert, cert, cert_len);
	if (ret != 0) {
		tls_set_error("certificate", ret);
		return ret;
	}
	ret = mbedtls_pk_parse_key(&tls.key, key, key_len, NULL, 0);
	if (ret != 0) {
		/* No PKCS#5/#12 built in: say why rather than "not a key". */
		if (tls_contains(key, key_len, "ENCRYPTED"))
			log_format(tls_err, sizeof(tls_err),
				   "private key: it is encrypted: store it unencrypted (mbedTLS -0x%x)",
				   (unsigned)-ret);
		else
			tls_set_error("private key", ret);
		return ret;
	}
	ret = mbedtls_pk_check_pair(&tls.cert.pk, &tls.key);
	if (ret != 0) {
		log_format(tls_err, sizeof(tls_err),
			   "private key: it does not match the certificate (mbedTLS -0x%x)",
			   (unsigned)-ret);
		return ret;
	}
	if (!tls_chain_fits())
		return MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE;
	tls.reserve = mbedtls_pk_can_do(&tls.key, MBEDTLS_PK_ECKEY) ?
		      TLS_RESERVE_EC : TLS_RESERVE_RSA;
	return 0;
}

static int tls_setup_conf(void)
{
	/* Server preference: X25519 first, the cheaper key exchange. */
	static const mbedtls_ecp_group_id curves[] = {
		MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE
	};
	int ret;

	ret = mbedtls_ssl_config_defaults(&tls.conf, MBEDTLS_SSL_IS_SERVER,
					  MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		tls_set_error("TLS configuration", ret);
		return ret;
	}
	mbedtls_ssl_conf_rng(&tls.conf, mbedtls_ctr_drbg_random, &tls.drbg);
	mbedtls_ssl_conf_authmode(&tls.conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_min_version(&tls.conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_curves(&tls.conf, curves);
	ret = mbedtls_ssl_conf_own_cert(&tls.conf, &tls.cert, &tls.key);
	if (ret != 0) {
		tls_set_error("TLS configuration", ret);
		return ret;
	}
	ret = mbedtls_ssl_ticket_setup(&tls.ticket, mbedtls_ctr_drbg_random, &tls.drbg,
				       MBEDTLS_CIPHER_AES_256_GCM,
				       CONFIG_TLS_TICKET_LIFETIME);
	if (ret != 0) {
		tls_set_error("session tickets", ret);
		return ret;
	}
	mbedtls_ssl_conf_session_tickets_cb(&tls.conf, tls_ticket_write,
					    tls_ticket_parse, &tls.ticket);
	return 0;
}

int tls_init(const unsigned char *cert_pem, size_t cert_len,
	     const unsigned char *key_pem, size_t key_len)
{
	int ret;

	if (tls.ready)
		return 0;
	tls_err[0] = '\0';
	memset(tls_slots, 0, sizeof(tls_slots));
	for (unsigned i = 0; i < CONFIG_TLS_SLOTS; i++)
		tls_slots[i].sock = PORT_SOCK_NONE;
	mbedtls_memory_buffer_alloc_init(tls_arena, sizeof(tls_arena));
	mbedtls_entropy_init(&tls.entropy);
	mbedtls_ctr_drbg_init(&tls.drbg);
	mbedtls_x509_crt_init(&tls.cert);
	mbedtls_pk_init(&tls.key);
	mbedtls_ssl_config_init(&tls.conf);
	mbedtls_ssl_ticket_init(&tls.ticket);

	ret = mbedtls_ctr_drbg_seed(&tls.drbg, mbedtls_entropy_func, &tls.entropy,
				    (const unsigned char *)TLS_DRBG_PERS,
				    sizeof(TLS_DRBG_PERS) - 1);
	if (ret != 0) {
		tls_set_error("random generator", ret);
		goto fail;
	}
	ret = tls_clock_start();
	if (ret != 0) {
		tls_set_error("random generator", ret);
		goto fail;
	}
	if (cert_pem == NULL || key_pem == NULL) {
		log_format(tls_err, sizeof(tls_err), "no certificate or key");
		ret = MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
		goto fail;
	}
	ret = tls_setup_keys(cert_pem, cert_len, key_pem, key_len);
	if (ret != 0)
		goto fail;
	ret = tls_setup_conf();
	if (ret != 0)
		goto fail;
	mbedtls_memory_buffer_alloc_cur_get(&tls_st.arena_fixed, &(size_t){ 0 });
	tls.ready = 1;
	return 0;
fail:
	tls_teardown();
	return ret < 0 ? ret : -1;
}

/* --- connections ------------------------------------------------------------ */

int tls_open(unsigned idx, port_sock s)
{
	struct tls_slot *t = tls_slot_get(idx);
	int ret;

	if (t == NULL || !tls.ready || t->state != TLS_FREE)
		return PORT_INVALID;
	memset(t, 0, sizeof(*t));
	t->sock = s;
	mbedtls_ssl_init(&t->ssl);
	ret = mbedtls_ssl_setup(&t->ssl, &tls.conf);
	if (ret == 0 && tls_arena_free() < tls_reserve())
		ret = MBEDTLS_ERR_SSL_ALLOC_FAILED;
	if (ret != 0) {
		mbedtls_ssl_free(&t->ssl);
		t->sock = PORT_SOCK_NONE;
		tls_set_error("new connection", ret);
		if (ret != MBEDTLS_ERR_SSL_ALLOC_FAILED)
			return PORT_ERROR;
		tls_st.refused_nomem++;
		return PORT_NOMEM;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, tls_bio_send, tls_bio_recv, NULL);
	t->state = TLS_HANDSHAKE;
	t->want = PORT_IN;
	tls_st.active++;
	return PORT_OK;
}

int tls_handshake(unsigned idx)
{
	struct tls_slot *t = tls_slot_get(idx);
	int ret, r;

	if (t == NULL || t->state == TLS_FREE || t->state == TLS_DEAD)
		return PORT_INVALID;
	if (t->state == TLS_OPEN)
		return PORT_OK;
	tls.current = t;
	ret = mbedtls_ssl_handshake(&t->ssl);
	tls.current = NULL;
	if (ret == 0) {
		t->state = TLS_OPEN;
		if (t->resumed)
			tls_st.handshakes_resumed++;
		else
			tls_st.handshakes_full++;
		return PORT_OK;
	}
	r = tls_result(t, ret, "handshake");
	if (r == PORT_AGAIN)
		return r;
	t->state = TLS_DEAD;
	if (r == PORT_EOF || r == PORT_RESET)
		tls_st.handshake_aborts++;
	else
		tls_st.handshake_failures++;
	return r;
}

long tls_recv(unsigned idx, void *buf, size_t len)
{
	struct tls_slot *t = tls_slot_get(idx);
	int ret, r;

	if (t == NULL || t->state != TLS_OPEN)
		return PORT_INVALID;
	if (len == 0)
		return 0;
	ret = mbedtls_ssl_read(&t->ssl, buf, len);
	if (ret > 0)
		return ret;
	r = tls_result(t, ret, "read");
	if (r != PORT_AGAIN)
		t->state = TLS_DEAD;
	return r;
}

long tls_send(unsigned idx, const void *buf, size_t len)
{
	struct tls_slot *t = tls_slot_get(idx);
	int ret, r;

	if (t == NULL || t->state != TLS_OPEN)
		return PORT_INVALID;
	if (len == 0)
		return 0;
	/*
	 * A record that met WANT_WRITE is finished by calling again with the
	 * same length, and mbedTLS then answers that length whatever buffer
	 * it is given. The caller's unsent bytes still start its buffer, but
	 * it may have appended more: ask for exactly the pending record, or
	 * the bytes behind it would be counted as sent and lost.
	 */
	if (t->write_len != 0) {
		len = t->write_len;
	} else {
		ret = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
		if (ret > 0 && len > (size_t)ret)
			len = (size_t)ret;
	}
	ret = mbedtls_ssl_write(&t->ssl, buf, len);
	if (ret > 0) {
		t->write_len = 0;
		return ret;
	}
	r = tls_result(t, ret, "write");
	if (r == PORT_EOF)
		r = PORT_RESET;         /* a send has no end-of-file: the peer is gone */
	if (r == PORT_AGAIN)
		t->write_len = (uint32_t)len;
	else
		t->state = TLS_DEAD;
	return r;
}

size_t tls_pending(unsigned idx)
{
	struct tls_slot *t = tls_slot_get(idx);
	size_t n;

	if (t == NULL || t->state != TLS_OPEN)
		return 0;
	n = mbedtls_ssl_get_bytes_avail(&t->ssl);
	if (n == 0 && mbedtls_ssl_check_pending(&t->ssl))
		n = 1;
	return n;
}

int tls_plain_http(unsigned idx)
{
	struct tls_slot *t = tls_slot_get(idx);

	return t != NULL && t->plain_http;
}

uint8_t tls_want(unsigned idx)
{
	struct tls_slot *t = tls_slot_get(idx);

	return t != NULL ? t->want : PORT_IN;
}

void tls_close(unsigned idx)
{
	struct tls_slot *t = tls_slot_get(idx);

	if (t == NULL || t->state == TLS_FREE)
		return;
	/* One try: an alert that does not fit the socket now is dropped. */
	if (t->state == TLS_OPEN && t->io == 0)
		(void)mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	t->state = TLS_FREE;
	t->sock = PORT_SOCK_NONE;
	tls_st.active--;
}

/* --- figures ---------------------------------------------------------------- */

void tls_get_budget(struct tls_budget *b)
{
	b->slot_bytes = sizeof(struct tls_slot);
	b->slots = CONFIG_TLS_SLOTS;
	b->shared_bytes = sizeof(tls) + sizeof(tls_st) + sizeof(tls_err) + sizeof(tls_clk);
	b->arena_bytes = sizeof(tls_arena);
	b->in_buf = MBEDTLS_SSL_IN_CONTENT_LEN;
	b->out_buf = MBEDTLS_SSL_OUT_CONTENT_LEN;
	b->conn_reserve = tls.reserve;
}

void tls_get_stats(struct tls_stats *s)
{
	size_t blocks;

	*s = tls_st;
	mbedtls_memory_buffer_alloc_cur_get(&s->arena_used, &blocks);
	mbedtls_memory_buffer_alloc_max_get(&s->arena_peak, &blocks);
}

#endif /* CONFIG_TLS */
