/*
 * slot.h - the fixed connection slots and what the core's modules share
 * about them. Client slots hold one HTTP connection each; backend slots
 * one FastCGI connection. Both arrays are static and sized by Kconfig.
 */
#ifndef FCGATE_SLOT_H
#define FCGATE_SLOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgi.h"
#include "fcgi.h"
#include "gw.h"
#include "gw_config.h"
#include "http.h"
#include "http_chunked.h"
#include "port.h"
#include "route.h"

/* SLOT_PAGE_ALIGN: a buffer that starts a page of its own (see Kconfig). */
#if CONFIG_SLOT_PAGE_ALIGN > 0
#define SLOT_PAGE_ALIGNED __attribute__((aligned(CONFIG_SLOT_PAGE_ALIGN)))
#else
#define SLOT_PAGE_ALIGNED
#endif

enum client_state {
	C_FREE = 0,
	C_HEAD,         /* reading a request head (or idle keep-alive) */
	C_SPOOL,        /* reading a chunked request body into in[] */
	C_WAIT,         /* head parsed, waiting for a free backend slot */
	C_PROXY,        /* request handed to a backend */
	C_RESPOND,      /* flushing a response fcgate made itself */
	C_LINGER,       /* write side shut; reading until the peer closes */
	C_TLS,          /* TLS slot: the handshake is in progress */
};

struct client {
	port_sock sock;
	uint8_t state;
	uint8_t tls;            /* a TLS slot: bytes go through tls.c */
	uint8_t keep_alive;     /* the connection survives this response */
	uint8_t head_sent;      /* response head is in out[]: no error page now */
	uint8_t chunked;        /* response body is chunk-framed */
	uint8_t no_body;        /* HEAD, 204, 304: body bytes are dropped */
	uint8_t close_after;    /* close once out[] is flushed */
	int16_t backend;        /* backend slot, or -1 */
	int16_t route;
	uint16_t member;        /* the backend chosen for this request */
	uint16_t attempts;      /* members tried for this request */
	uint8_t readable;       /* poll said readable and a read may give more */
	uint8_t sends;          /* 0, 1, or 2: more than one send, TCP_NODELAY set */
	uint32_t deadline;      /* port_now_ms() value; 0: none */
	uint32_t wait_since;    /* when the slot began to wait: for a head or a backend */
	uint32_t served;        /* requests answered on this connection */
	size_t scan;            /* http_parse_request() resume point */
	uint32_t in_len;        /* bytes in in[] */
	uint32_t head_len;      /* length of the parsed head, 0 while reading */
	uint32_t out_off, out_len;
	uint32_t head_at;       /* where the response head starts in out[] */
	int64_t body_left;      /* request body bytes not yet passed on */
	int64_t resp_left;      /* response body bytes the head announced; -1 none */
	uint32_t path_len;
	uint32_t script_len;
	uint32_t req_start;     /* port_now_ms() when the request head was complete */
	uint16_t status;        /* status of the answer, for the access log; 0: none yet */
	uint16_t app_status;    /* the app's status, 0 when the app did not answer */
	uint64_t resp_start;    /* bytes_out when the answer began */
	uint64_t bytes_in;      /* received from the client, this connection */
	uint64_t bytes_out;     /* sent to the client, this connection */
	struct port_addr peer, local;
#if CONFIG_CHUNKED_BODY_MAX > 0
	struct http_chunked dechunk;
	uint32_t spool_raw;     /* first raw (not yet de-chunked) byte in in[] */
	size_t spool_len;       /* de-chunked body bytes behind the head */
#endif
#if CONFIG_AUTHORIZER
	uint8_t auth;                   /* AUTH_*: where the request is with its authorizer */
	uint16_t auth_vars_len;
	uint8_t auth_vars[CONFIG_AUTH_VARS_MAX];  /* Variable-NAME pairs, FastCGI-encoded */
#endif
#if CONFIG_ROMFS
	const uint8_t *rom_body;        /* response body sent straight from flash */
	uint32_t rom_left;
#endif
#if CONFIG_DIR_ALIAS
	port_file file;                 /* Alias /DIR/: open while file_left > 0 */
	uint32_t file_left;             /* body bytes still to read into out[] */
	uint64_t file_off;              /* where the next read starts */
#endif
	struct http_request req;
	/* The fields, the first headers and a short path share the slot's first page. */
	struct http_header headers[CONFIG_HEADER_MAX_COUNT];
	char path[CONFIG_REQUEST_LINE_MAX];
	uint8_t in[CONFIG_CLIENT_IN_BUF] SLOT_PAGE_ALIGNED;
	uint8_t out[CONFIG_CLIENT_OUT_BUF] SLOT_PAGE_ALIGNED;
};

/* The FastCGI authorizer of a route (authorizer=), asked before the route's handler. */
enum auth_phase {
	AUTH_NONE = 0,  /* no authorizer, or not asked yet */
	AUTH_ASKING,    /* the request (without body) is with the authorizer */
	AUTH_LETTING,   /* it answered 200: its variables are kept, the rest dropped */
	AUTH_PASSED,    /* it answered 200: the route's handler runs */
};

enum backend_state {
	B_FREE = 0,
	B_CONNECTING,   /* non-blocking connect in progress */
	B_ACTIVE,       /* serving a request */
	B_IDLE,         /* kept open for reuse, in the member's pool */
};

struct backend {
	port_sock sock;
	uint8_t state;
	uint8_t params_done;    /* every PARAMS record is in out[] */
	uint8_t stdin_done;     /* the empty STDIN record is in out[] */
	uint8_t headers_done;   /* the CGI header block has been turned into HTTP */
	uint8_t ended;          /* END_REQUEST seen */
	uint8_t readable;       /* poll said readable and a read may still give more */
	uint8_t reused;         /* taken from the pool for this request */
	uint8_t keep;           /* END_REQUEST came cleanly: the connection may be pooled */
	uint8_t probing;        /* GET_VALUES sent, answer awaited before the request */
	uint8_t proven;         /* an app worker has taken this connection */
	uint8_t begun;          /* BEGIN_REQUEST is written */
	uint8_t vars_done;      /* the authorizer's variables are in a PARAMS record */
	int16_t client;
	uint16_t member;
	uint32_t deadline;
	uint32_t timeout_ms;    /* progress timeout while active */
	unsigned cursor;        /* next meta-variable to write */
	struct fcgi_decoder dec;
	/*
	 * in[] holds de-framed STDOUT payload at [pay_off, pay_len) followed
	 * by raw record bytes not yet decoded at [raw_off, in_len).
	 */
	uint32_t pay_off, pay_len, raw_off, in_len;
	uint32_t out_off, out_len;
	uint64_t bytes_in;      /* received from the app */
	uint64_t bytes_out;     /* sent to the app */
	uint8_t in[CONFIG_BACKEND_IN_BUF];        /* starts on the fields' page */
	uint8_t out[CONFIG_BACKEND_OUT_BUF] SLOT_PAGE_ALIGNED;
};

extern struct client gw_clients[GW_CLIENT_SLOTS];
extern struct backend gw_backends[CONFIG_BACKEND_SLOTS];
extern const struct route_table *gw_routes;
extern struct gw_stats gw_counters;
/* Every client slot is busy and connections wait at the listener. */
extern int gw_slots_short;
/* A connect found no socket free: look at waiting clients again soon. */
extern int gw_retry_soon;
/*
 * port_now_ms() as read once per turn of the loop, after the wait: every
 * deadline and timestamp of that turn uses it, so a turn costs one clock
 * read, not one per request or event.
 */
extern uint32_t gw_now;
/* port_wall_clock(), read at most once per turn (for Date fields and logs). */
int64_t gw_wall_clock(void);

/* Bytes after the request head in in[]: body, then maybe the next request. */
static inline uint32_t slot_in_after_head(const struct client *c)
{
	return c->in_len - c->head_len;
}

/* Does the request still expect body bytes that are not in in[] yet? */
static inline int slot_wants_body(const struct client *c)
{
	return c->body_left > (int64_t)slot_in_after_head(c) && c->in_len < sizeof(c->in);
}

/* Close a client's socket, keep its byte counts, free the slot. */
void slot_client_close(struct client *c);

/* A client's bytes: through TLS on a TLS slot, else straight from the port. */
long slot_recv(struct client *c, void *buf, size_t len);
long slot_send(struct client *c, const void *buf, size_t len);
/*
 * Send out[]'s pending bytes, then the pieces tail[0..n) (at most
 * PORT_IOV_MAX - 1), in one write: a body that lives elsewhere (flash, a
 * backend's buffer) goes out behind its head without being copied into
 * out[]. Returns how many tail bytes went (0 when the socket is full or
 * took only part of out[]), or -1 when the connection failed.
 */
long slot_send_through(struct client *c, const struct port_iov *tail, unsigned n);

/* Is this one of the TLS slots (they follow the plain slots)? */
static inline int slot_is_tls_slot(const struct client *c)
{
	return (unsigned)(c - gw_clients) >= CONFIG_CLIENT_SLOTS;
}

/* The TLS context of a TLS slot. */
static inline unsigned slot_tls_index(const struct client *c)
{
	return (unsigned)(c - gw_clients) - CONFIG_CLIENT_SLOTS;
}

/* A deadline ms from now (never 0, which means "none"). */
uint32_t slot_deadline(uint32_t ms);

/* Has a deadline passed? Inline: the timers ask it of every slot on every turn. */
static inline int slot_expired(uint32_t deadline, uint32_t now)
{
	return deadline != 0 && (int32_t)(now - deadline) >= 0;
}

/* Append to a client's output buffer; -1 when it does not fit (nothing written). */
int slot_out_put(struct client *c, const void *p, size_t n);
/* Inline: nearly always a literal, whose length is then known when compiled. */
static inline int slot_out_str(struct client *c, const char *s)
{
	return slot_out_put(c, s, strlen(s));
}
int slot_out_uint(struct client *c, unsigned long long v, unsigned base);
size_t slot_out_space(const struct client *c);

/* Send what is in out[]; 0 when all is sent or it would block, -1 on error. */
int slot_flush(struct client *c);

/* request.c: the HTTP side of a client slot. */
void request_read(struct client *c);
int request_write_head(struct client *c, unsigned status, struct http_slice reason);
void request_body_starts(struct client *c);  /* the head is complete in out[] */
void request_respond_error(struct client *c, unsigned status, const char *why);
void request_done(struct client *c);
void request_close(struct client *c);
void request_abandon(struct client *c);     /* close at once, no lingering */
void request_proceed(struct client *c);     /* the body is known: hand over */
void request_route(struct client *c);       /* run the route's handler (after the authorizer) */
int proxy_ask_authorizer(struct client *c); /* 0, or a status to answer */
void request_send_continue(struct client *c);
/* End the head in out[]: Header set lines replace fields of the same name, then CRLF. */
int request_end_head(struct client *c);
/* A file's representation fields (romfs.c's view of it); 405 and 416 get Content-Length: 0. */
struct romfs_file;
struct romfs_answer;
int request_file_fields(struct client *c, const struct romfs_file *f,
			const struct romfs_answer *a);

void request_send_local(struct client *c);
void request_redirect_slash(struct client *c);  /* 301 to the path with '/' added */  /* flush an answer made in out[] */

/* status.c: the status page. */
void status_respond(struct client *c);

/* rom.c: a ROM route's answer; an ErrorDocument body (1 sent, 0 none, -1 closed). */
void rom_respond(struct client *c, const struct route *r);
int rom_error_document(struct client *c, unsigned status);

/* Answer bytes not yet sent: in out[], or (ROM) in flash. */
static inline int slot_pending(const struct client *c)
{
#if CONFIG_ROMFS
	if (c->rom_left > 0)
		return 1;
#endif
#if CONFIG_DIR_ALIAS
	if (c->file_left > 0)
		return 1;
#endif
	return c->out_len > 0;
}

/* Close the file an answer is being read from, if any (every way an answer ends). */
static inline void slot_file_end(struct client *c)
{
#if CONFIG_DIR_ALIAS
	if (c->file_left > 0) {
		port_file_close(c->file);
		c->file_left = 0;
	}
#else
	(void)c;
#endif
}

/* dir.c: an Alias /DIR/ route's answer, from a file read through the port. */
void dir_respond(struct client *c, const struct route *r);

/* spool.c: chunked request bodies. */
void spool_start(struct client *c);
void spool_read(struct client *c);

/* backend.c: backend slots and the reuse pool. */
enum backend_take_result { BACKEND_GOT = 0, BACKEND_WAIT = 1, BACKEND_FAILED = -1 };
int backend_take(struct client *c);         /* a connection to c->member for c */
int backend_can_take(const struct client *c);
int backend_reuses(unsigned member);
void backend_release(struct backend *b, int reusable);
void backend_close(struct backend *b);
void backend_abort(struct backend *b);      /* ABORT_REQUEST, then close */
void backend_idle_event(struct backend *b);
void backend_proven(struct backend *b);

/* proxy.c: the FastCGI handler. */
int proxy_start(struct client *c);          /* 0, or an HTTP status to answer */
void proxy_client_event(struct client *c, uint8_t got);
void proxy_backend_event(struct backend *b, uint8_t got);
void proxy_backend_timeout(struct backend *b);
void proxy_release(struct client *c);       /* drop the backend of a client */
void proxy_serve_waiting(void);
void proxy_attach(struct client *c);

#endif
