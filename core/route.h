/*
 * route.h - the route table: Apache mod_proxy directives, parsed once.
 *
 * The same parser runs in scripts/routegen at build time (which turns the
 * route file into a constant table, failing the build with file:line:
 * message) and in the host program for --conf lines. Every array is sized
 * by Kconfig; strings live in one pool and are referred to by offset, so
 * a table can be emitted as C initialisers.
 *
 * Directives:
 *   ProxyPass PREFIX fcgi://HOST[:PORT]/[PATH] [key=value ...]
 *   ProxyPass PREFIX balancer://NAME[/] [key=value ...]
 *   ProxyPass PREFIX !
 *   <Proxy balancer://NAME[/]> BalancerMember fcgi://... [key=value ...] </Proxy>
 *   BalancerMember balancer://NAME fcgi://HOST[:PORT]/ [key=value ...]
 *   ProxySet balancer://NAME key=value ...
 *   Redirect [STATUS] PREFIX [URL]
 *   ProxyPass PREFIX unix:/PATH|fcgi://localhost/[DOCROOT] [key=value ...]
 *   StatusPage PREFIX [require=CIDR,...]        (fcgate's own)
 *   Require ip CIDR [CIDR ...] | Require all granted | Require all denied
 *   LimitRequestBody BYTES
 *   Alias PREFIX rom:/[DIR/] [key=value ...]   (files of the ROM filesystem)
 *   Alias PREFIX /DIR/ [key=value ...]         (files of a real folder, DIR_ALIAS)
 *   DirectoryIndex FILE                        (default index.html)
 *   Header set NAME "VALUE"                    (every answer; in <Location>: under it)
 *   <Location PREFIX> Header set ... </Location>
 *   ErrorDocument STATUS /ROMPATH              (fcgate's own error answers)
 *   # comment
 *
 * Route keys beyond Apache's worker keys (fcgate's own, on ProxyPass and
 * StatusPage, Alias): require=CIDR[,CIDR...] (or "all" / "none"),
 * limitrequestbody=BYTES, and authorizer=fcgi://HOST:PORT/ (ask that app
 * first, FCGI_ROLE=AUTHORIZER).
 */
#ifndef FCGATE_ROUTE_H
#define FCGATE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "gw_config.h"
#include "port.h"

/* A string in the table's pool. */
struct route_str {
	uint16_t off;
	uint16_t len;
};

enum route_kind {
	ROUTE_PROXY = 1,        /* to one member: target = member index */
	ROUTE_BALANCER,         /* to a balancer: target = balancer index */
	ROUTE_EXCLUDE,          /* ProxyPass PREFIX ! */
	ROUTE_REDIRECT,         /* Redirect: status, url */
	ROUTE_STATUS,           /* StatusPage: fcgate's own JSON status */
	ROUTE_ROM,              /* Alias PREFIX rom:/DIR/: url = DIR/ inside the ROM fs */
	ROUTE_DIR,              /* Alias PREFIX /DIR/: url = the absolute folder (DIR_ALIAS) */
};

/* Tunables shared by ProxyPass (one member) and BalancerMember. */
struct route_params {
	uint32_t timeout_ms;            /* timeout=, 0: CONFIG_BACKEND_TIMEOUT */
	uint32_t connect_timeout_ms;    /* connectiontimeout=, 0: CONFIG_BACKEND_CONNECT_TIMEOUT */
	uint32_t retry_ms;              /* retry=; ProxyPass 0, member 60 s by default */
	uint32_t ttl_ms;                /* ttl=, idle pool lifetime; default 30 s */
	uint16_t max;                   /* max=, connections; 0: every backend slot */
	uint8_t lbfactor;               /* lbfactor= (1..100), default 1 */
	uint8_t flags;                  /* ROUTE_F_* */
};

#define ROUTE_F_NOREUSE  0x01u  /* disablereuse=on / enablereuse=off */
#define ROUTE_F_STANDBY  0x02u  /* status=+H (hot standby) */
#define ROUTE_F_DISABLED 0x04u  /* status=+D */

/* Longest unix: socket path: sockaddr_un's sun_path (108 on Linux) less its NUL. */
#define ROUTE_UNIX_PATH_MAX 107u

/* One FastCGI application endpoint. */
struct route_member {
	struct port_addr addr;          /* family 0 while host is unresolved */
	struct route_str unix_path;     /* unix:/path|fcgi://...: socket path, else empty */
	struct route_str host;          /* as written, for logs and resolving */
	struct route_str docroot;       /* path of the fcgi:// URL, "/" at least */
	struct route_params params;
	int16_t balancer;               /* index, or -1 for a lone ProxyPass backend */
};

enum route_lbmethod { ROUTE_LB_BYREQUESTS = 0, ROUTE_LB_BYBUSYNESS = 1 };

struct route_balancer {
	struct route_str name;          /* without "balancer://" and trailing '/' */
	uint8_t lbmethod;
	uint16_t first_member;          /* members of a balancer are contiguous */
	uint16_t member_count;
};

/* An address block for Require ip / require=: family 0 matches nothing. */
struct route_cidr {
	uint8_t family;                 /* PORT_AF_INET or PORT_AF_INET6 */
	uint8_t bits;                   /* prefix length */
	uint8_t ip[16];
};

/* Who may use a route: the blocks acl[first .. first+count). */
struct route_acl {
	uint16_t first;
	uint16_t count;
	uint8_t mode;                   /* ROUTE_ACL_* */
};

enum route_acl_mode {
	ROUTE_ACL_NONE = 0,     /* no rule here: the global one applies (or all granted) */
	ROUTE_ACL_IP,           /* only clients inside one of the blocks */
	ROUTE_ACL_GRANTED,      /* Require all granted */
	ROUTE_ACL_DENIED,       /* Require all denied */
};

struct route {
	uint8_t kind;                   /* enum route_kind */
	uint16_t status;                /* ROUTE_REDIRECT: 301, 302, 303, 307, 308, 410 ... */
	uint16_t target;                /* member or balancer index */
	struct route_str prefix;
	struct route_str url;           /* ROUTE_REDIRECT target; empty for 410 */
	struct route_acl acl;           /* require=CIDR,...: replaces the global rule */
	uint32_t limit_body;            /* limitrequestbody=; 0: the global limit */
	int16_t authorizer;             /* authorizer=: member index; -1 none */
};

/* Header set NAME "VALUE": on every answer, or only under prefix (<Location>). */
struct route_header {
	struct route_str name;
	struct route_str value;
	struct route_str prefix;        /* empty: everywhere */
};

/* ErrorDocument STATUS /PATH: the body of fcgate's own STATUS answers. */
struct route_errdoc {
	uint16_t status;
	struct route_str path;          /* inside the ROM fs, without the leading '/' */
};

struct route_table {
	uint16_t route_count;
	uint16_t member_count;
	uint16_t balancer_count;
	uint16_t strings_len;
	struct route routes[CONFIG_MAX_ROUTES];
	struct route_member members[CONFIG_MAX_MEMBERS];
	struct route_balancer balancers[CONFIG_MAX_BALANCERS];
	struct route_cidr cidrs[CONFIG_MAX_CIDRS];
	uint16_t cidr_count;
	struct route_acl global_acl;    /* Require ip ... / Require all ... lines */
	uint32_t global_limit_body;     /* LimitRequestBody; 0: no limit */
	struct route_str dir_index;     /* DirectoryIndex; empty: index.html */
	uint16_t header_count;
	uint16_t errdoc_count;
	struct route_header headers[CONFIG_MAX_HEADERS + 1];   /* +1: never a zero-length array */
	struct route_errdoc errdocs[CONFIG_MAX_ERROR_DOCS + 1];
	char strings[CONFIG_ROUTE_STRINGS];
};

/* Where parsing failed: line number (1-based) and a message. */
struct route_error {
	unsigned line;
	char msg[160];                  /* room for "unknown key 'x' (BalancerMember accepts: ...)" */
};

/*
 * Parsing is incremental, one line at a time, because --conf lines come
 * one by one and the build tool reads a file. route_begin() clears the
 * table; route_parse_line() returns 0 or -1 with err filled; route_end()
 * checks what only the whole file can tell (a balancer used but never
 * defined or with no member, an unclosed <Proxy>) and returns 0 or -1.
 */
struct route_parser {
	struct route_table *t;
	unsigned line;
	int16_t open_balancer;          /* inside <Proxy balancer://...>, else -1 */
	unsigned open_line;             /* line of that <Proxy> or <Location>, for route_end() */
	uint8_t in_location;            /* inside <Location PREFIX> */
	struct route_str location;      /* that PREFIX */
	unsigned balancer_line[CONFIG_MAX_BALANCERS]; /* line that first named each */
};

void route_begin(struct route_parser *p, struct route_table *t);
int route_parse_line(struct route_parser *p, const char *line, size_t len,
		     struct route_error *err);
int route_end(struct route_parser *p, struct route_error *err);

/* The table scripts/routegen compiles from CONFIG_ROUTE_FILE. */
extern const struct route_table route_table_builtin;

/* Pointer to a pool string (not NUL-terminated). */
static inline const char *route_cstr(const struct route_table *t, struct route_str s)
{
	return t->strings + s.off;
}

/*
 * Find the route for a decoded, normalised path: the first route in file
 * order whose prefix matches at a segment boundary. Returns its index or
 * -1. *slash_redirect is set to 1 when the path equals a prefix that ends
 * in '/' minus that slash ("/app" for "/app/") and no earlier route
 * matched: the caller answers 301 to the slashed form.
 */
int route_match(const struct route_table *t, const char *path, size_t len,
		int *slash_redirect);

/*
 * May a client at peer use route r (NULL: no route matched)? r's own
 * rule (require=) if it has one, else the global Require lines, else
 * yes. An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is taken as IPv4.
 * Returns 1 or 0; in route_acl.c.
 */
int route_acl_allows(const struct route_table *t, const struct route *r,
		     const struct port_addr *peer);

/* Largest request body for r in bytes: its limitrequestbody=, else LimitRequestBody; 0: none. */
uint32_t route_body_limit(const struct route_table *t, const struct route *r);

#endif
