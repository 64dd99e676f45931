/*
 * mbedtls_config.h - fcgate's mbedTLS 2.28 configuration, for every board
 * (the host included), passed as -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'.
 *
 * What it builds: a TLS 1.2 server and nothing else. Key exchange is
 * ECDHE only (forward secrecy on every suite), signed with ECDSA, or with
 * RSA when CONFIG_TLS_RSA is set; record protection is AEAD only
 * (ChaCha20-Poly1305, AES-128-GCM, AES-256-GCM). No SSLv3, TLS 1.0/1.1,
 * CBC, RC4, 3DES, static RSA, PSK, DHE, client, DTLS, renegotiation, or
 * client certificates: what is not compiled in cannot be negotiated.
 *
 * Memory: every allocation comes from one static arena that core/tls.c
 * hands to MEMORY_BUFFER_ALLOC_C; the C library's calloc/free are never
 * referenced (PLATFORM_NO_STD_FUNCTIONS). Record buffers follow Kconfig:
 * the incoming one must stay 16 KiB for interoperability (a server cannot
 * make clients send smaller records), the outgoing one may shrink, but it
 * must hold the whole certificate chain (TLS does not fragment handshake
 * messages), which tls_init() checks.
 *
 * Time: MBEDTLS_HAVE_TIME with MBEDTLS_PLATFORM_TIME_ALT on every board.
 * tls_init() installs a clock built on port.h: the wall clock read once at
 * start (when the board has one; on the host that is time()) plus the
 * monotonic port_now_ms() since then, or a random base plus uptime when
 * the board has no RTC. Tickets only need elapsed seconds within one boot
 * (their keys are random per boot), a monotonic clock cannot be stepped
 * back or forth under them, and the random base keeps the ServerHello's
 * time field from telling the world the device's uptime.
 *
 * Entropy: MBEDTLS_ENTROPY_HARDWARE_ALT only; each board provides
 * mbedtls_hardware_poll() (getrandom() on the host, the TRNG on a real
 * chip, host entropy through semihosting on the QEMU test image).
 */
#ifndef FCGATE_MBEDTLS_CONFIG_H
#define FCGATE_MBEDTLS_CONFIG_H

#include "autoconf.h"

/* --- sizes from Kconfig ------------------------------------------------ */

#ifndef CONFIG_TLS_IN_BUF
#define CONFIG_TLS_IN_BUF 16384
#endif
#ifndef CONFIG_TLS_OUT_BUF
#define CONFIG_TLS_OUT_BUF 4096
#endif

#define MBEDTLS_SSL_MAX_CONTENT_LEN     16384
#define MBEDTLS_SSL_IN_CONTENT_LEN      CONFIG_TLS_IN_BUF
#define MBEDTLS_SSL_OUT_CONTENT_LEN     CONFIG_TLS_OUT_BUF

/* --- system support ------------------------------------------------------ */

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_TIME_ALT
/*
 * snprintf only serves X.509 "info" strings, which a server never prints:
 * an unset function pointer (writes nothing) keeps the C library's printf
 * family out of the firmware.
 */
#define MBEDTLS_PLATFORM_SNPRINTF_ALT
/*
 * The arena allocator calls exit() when it finds its own bookkeeping
 * corrupted. Nothing sane can follow: trap (a HardFault on Cortex-M, whose
 * handler dumps the registers; SIGILL on the host) instead of pulling in
 * the C library's exit().
 */
#define MBEDTLS_PLATFORM_EXIT_MACRO(status) ((void)(status), __builtin_trap())
/* MEMORY_DEBUG's messages go nowhere: only its counters are wanted. */
#define MBEDTLS_PLATFORM_FPRINTF_MACRO(...) ((void)0)

#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* Blocks aligned for 64-bit types and pointers on every target (default 4). */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE   8
/* Use and peak counters for tls_get_stats(); costs 24 bytes of RAM. */
#define MBEDTLS_MEMORY_DEBUG

#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_MAX_SOURCES     2
#define MBEDTLS_CTR_DRBG_C

/* --- TLS ----------------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
/*
 * Not compiled: MBEDTLS_SSL_RENEGOTIATION (a ClientHello after the
 * handshake is refused with a no_renegotiation alert), SERVER_NAME_INDICATION
 * and ALPN (one certificate, HTTP/1.1 only: a client that offers h2 falls
 * back), MAX_FRAGMENT_LENGTH, KEEP_PEER_CERTIFICATE (no client certs),
 * CONTEXT_SERIALIZATION, RECORD_CHECKING, FALLBACK_SCSV (one version only),
 * ENCRYPT_THEN_MAC (no CBC), the session cache (tickets instead).
 */

#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#if defined(CONFIG_TLS_RSA)
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#endif

/* Server preference order: ChaCha20 first, the fastest AEAD in software. */
#if defined(CONFIG_TLS_RSA)
#define MBEDTLS_SSL_CIPHERSUITES \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#else
#define MBEDTLS_SSL_CIPHERSUITES \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
#endif

/* --- symmetric crypto and hashes ---------------------------------------- */

#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES          /* tables in flash, not built in RAM */
#define MBEDTLS_AES_FEWER_TABLES        /* 2 KiB of tables instead of 8 KiB */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
/*
 * SHA-384 (in sha512.c) for the AES-256-GCM suites and, above all, to
 * parse certificates signed with ecdsa-with-SHA384: most public CAs' EC
 * intermediates sign that way, and a certificate whose signature algorithm
 * is unknown does not parse at all.
 */
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA512_SMALLER
/* Deterministic ECDSA (RFC 6979): a weak RNG cannot leak the key via k. */
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

/* --- public key ---------------------------------------------------------- */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED       /* X25519: browsers' first choice */
#define MBEDTLS_ECP_NIST_OPTIM                  /* fast P-256 reduction: much faster */
#define MBEDTLS_ECP_MAX_BITS            256
/*
 * A small window keeps the handshake's temporaries small (they come out
 * of the arena, one handshake's at a time). Measured on the host: window
 * 3 is 5-10 % faster than 2 for 32 more bytes at peak; 4 adds 1 KiB for
 * 3 % more. The fixed-point table for the base point would be built per
 * connection (each handshake loads its own group), so it stays off.
 */
#define MBEDTLS_ECP_WINDOW_SIZE         3
#define MBEDTLS_ECP_FIXED_POINT_OPTIM   0

#if defined(CONFIG_TLS_RSA)
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_MPI_MAX_SIZE            512     /* RSA up to 4096 bits */
#define MBEDTLS_MPI_WINDOW_SIZE         2
#else
#define MBEDTLS_MPI_MAX_SIZE            64
#define MBEDTLS_MPI_WINDOW_SIZE         1
#endif

#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* ECDSA signatures are DER */
#define MBEDTLS_OID_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

#include "mbedtls/check_config.h"

#endif
