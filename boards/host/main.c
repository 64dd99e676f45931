/*
 * main.c - the host board: fcgate as a Linux process.
 *
 * Command line, name resolution (once, before the loop), privilege drop,
 * signals, and the loop itself. Everything protocol-related is the core's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgi.h"
#include "gw.h"
#include "gw_config.h"
#include "log.h"
#include "route.h"
#include "tls.h"

extern const struct route_table route_table_builtin;
#if CONFIG_TLS
extern const unsigned char tls_builtin_cert[], tls_builtin_key[];
extern const size_t tls_builtin_cert_len, tls_builtin_key_len;
#endif

#define CONF_LINES_MAX CONFIG_MAX_ROUTES * 4

static volatile sig_atomic_t stop_requested;
static struct route_table table;        /* the routes in use, resolved */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fcgate [options]\n"
		"  --listen ADDR:PORT   listen there (IPv4, [IPv6]; port 0 = any free port)\n"
		"                       default " CONFIG_LISTEN_ADDR ":%d\n"
		"  --conf 'LINE'        a route-file line (repeatable); any --conf replaces\n"
		"                       the compiled-in route file " CONFIG_ROUTE_FILE "\n"
		"  --check-config       print the resolved configuration and RAM budget, exit\n"
		"  --user NAME          drop privileges to NAME after binding\n"
		"  --tls-listen ADDR:PORT  also serve HTTPS there (TLS slots)\n"
		"  --cert FILE, --key FILE  PEM certificate chain and key for HTTPS\n"
		"                       (default: the pair compiled in)\n"
		"  --help, --version\n", CONFIG_LISTEN_PORT);
}

/* "1.2.3.4:80", "[::1]:80"; returns 0 or -1. */
static int parse_listen(const char *s, struct port_addr *a)
{
	char host[64];
	const char *colon;
	char *end;
	long port;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
		a->family = PORT_AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		a->family = PORT_AF_INET;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	a->port = (uint16_t)port;
	return inet_pton(a->family == PORT_AF_INET6 ? AF_INET6 : AF_INET, host, a->ip) == 1 ? 0 : -1;
}

/* Resolve members named by DNS name, once, before serving (not unix: ones). */
static int resolve_members(struct route_table *t)
{
	for (unsigned i = 0; i < t->member_count; i++) {
		struct route_member *m = &t->members[i];
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		char name[256];
		uint16_t port = m->addr.port;
		int r;

		if (m->addr.family != 0 || m->unix_path.len != 0)
			continue;       /* an address already, or a unix: socket */
		snprintf(name, sizeof(name), "%.*s", (int)m->host.len, route_cstr(t, m->host));
		r = getaddrinfo(name, NULL, &hints, &res);
		if (r != 0) {
			fprintf(stderr, "fcgate: cannot resolve '%s': %s\n", name, gai_strerror(r));
			return -1;
		}
		if (res->ai_family == AF_INET6) {
			m->addr.family = PORT_AF_INET6;
			memcpy(m->addr.ip, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
		} else {
			m->addr.family = PORT_AF_INET;
			memcpy(m->addr.ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
		}
		m->addr.port = port;
		freeaddrinfo(res);
	}
	return 0;
}

static int load_conf(const char **lines, unsigned n)
{
	struct route_parser p;
	struct route_error err;

	if (n == 0) {
		table = route_table_builtin;
		return 0;
	}
	route_begin(&p, &table);
	for (unsigned i = 0; i < n; i++) {
		if (route_parse_line(&p, lines[i], strlen(lines[i]), &err) < 0) {
			fprintf(stderr, "--conf:%u: %s\n", err.line ? err.line : i + 1, err.msg);
			return -1;
		}
	}
	if (route_end(&p, &err) < 0) {
		fprintf(stderr, "--conf:%u: %s\n", err.line, err.msg);
		return -1;
	}
	return 0;
}

static const char *kind_name(unsigned k)
{
	switch (k) {
	case ROUTE_PROXY: return "proxy";
	case ROUTE_BALANCER: return "balancer";
	case ROUTE_EXCLUDE: return "exclude";
	case ROUTE_REDIRECT: return "redirect";
	case ROUTE_STATUS: return "status";
	case ROUTE_ROM: return "rom";
	case ROUTE_DIR: return "dir";
	default: return "?";
	}
}

static void print_member(const struct route_table *t, const struct route_member *m)
{
	char ip[64];

	if (m->unix_path.len > 0) {
		printf("unix:%.*s|fcgi://localhost%.*s", (int)m->unix_path.len,
		       route_cstr(t, m->unix_path), (int)m->docroot.len, route_cstr(t, m->docroot));
	} else {
		cgi_format_ip(&m->addr, ip, sizeof(ip));
		printf("fcgi://%.*s:%u%.*s (%s)", (int)m->host.len, route_cstr(t, m->host),
		       m->addr.port, (int)m->docroot.len, route_cstr(t, m->docroot), ip);
	}
	printf(" reuse=%s max=%u ttl=%us retry=%us lbfactor=%u%s\n",
	       (m->params.flags & ROUTE_F_NOREUSE) ? "off" : "on", m->params.max,
	       m->params.ttl_ms / 1000, m->params.retry_ms / 1000, m->params.lbfactor,
	       (m->params.flags & ROUTE_F_STANDBY) ? " standby" : "");
}

/* DirectoryIndex, Header set and ErrorDocument lines. */
static void print_ui_lines(const struct route_table *t)
{
	if (t->dir_index.len)
		printf("directory index   %.*s\n", (int)t->dir_index.len, route_cstr(t, t->dir_index));
	for (unsigned i = 0; i < t->header_count; i++) {
		const struct route_header *h = &t->headers[i];
		printf("header            %.*s: %.*s", (int)h->name.len, route_cstr(t, h->name),
		       (int)h->value.len, route_cstr(t, h->value));
		if (h->prefix.len)
			printf(" (under %.*s)", (int)h->prefix.len, route_cstr(t, h->prefix));
		printf("\n");
	}
	for (unsigned i = 0; i < t->errdoc_count; i++)
		printf("error document    %u /%.*s\n", t->errdocs[i].status,
		       (int)t->errdocs[i].path.len, route_cstr(t, t->errdocs[i].path));
}

static void print_config(const struct port_addr *listen_addr)
{
	const struct route_table *t = &table;
	struct gw_budget b;
	char ip[64];

	cgi_format_ip(listen_addr, ip, sizeof(ip));
	printf("fcgate %s, board %s\n", GW_VERSION, CONFIG_BOARD);
	printf("listen            %s%s%s:%u (backlog %d)\n", listen_addr->family == PORT_AF_INET6 ? "[" : "",
	       ip, listen_addr->family == PORT_AF_INET6 ? "]" : "", listen_addr->port, CONFIG_LISTEN_BACKLOG);
	printf("client slots      %d (in %d, out %d, head max %d bytes / %d fields, line max %d)\n",
	       CONFIG_CLIENT_SLOTS, CONFIG_CLIENT_IN_BUF, CONFIG_CLIENT_OUT_BUF,
	       CONFIG_HEADER_MAX_BYTES, CONFIG_HEADER_MAX_COUNT, CONFIG_REQUEST_LINE_MAX);
	printf("backend slots     %d (in %d, out %d)\n", CONFIG_BACKEND_SLOTS,
	       CONFIG_BACKEND_IN_BUF, CONFIG_BACKEND_OUT_BUF);
	printf("timeouts          head %ds, keep-alive %ds, connect %ds, backend %ds\n",
	       CONFIG_HEADER_TIMEOUT, CONFIG_KEEPALIVE_TIMEOUT, CONFIG_BACKEND_CONNECT_TIMEOUT,
	       CONFIG_BACKEND_TIMEOUT);
	printf("routes            %u of %d, members %u of %d, balancers %u of %d, strings %u of %d bytes\n",
	       t->route_count, CONFIG_MAX_ROUTES, t->member_count, CONFIG_MAX_MEMBERS,
	       t->balancer_count, CONFIG_MAX_BALANCERS, t->strings_len, CONFIG_ROUTE_STRINGS);
	for (unsigned i = 0; i < t->route_count; i++) {
		const struct route *r = &t->routes[i];
		printf("  %-9s %.*s -> ", kind_name(r->kind), (int)r->prefix.len, route_cstr(t, r->prefix));
		if (r->kind == ROUTE_PROXY) {
			print_member(t, &t->members[r->target]);
		} else if (r->kind == ROUTE_BALANCER) {
			const struct route_balancer *bal = &t->balancers[r->target];
			printf("balancer://%.*s (%s)\n", (int)bal->name.len, route_cstr(t, bal->name),
			       bal->lbmethod == ROUTE_LB_BYBUSYNESS ? "bybusyness" : "byrequests");
			for (unsigned k = 0; k < bal->member_count; k++) {
				printf("              member ");
				print_member(t, &t->members[bal->first_member + k]);
			}
		} else if (r->kind == ROUTE_REDIRECT) {
			printf("%u %.*s\n", r->status, (int)r->url.len, route_cstr(t, r->url));
		} else if (r->kind == ROUTE_STATUS) {
			printf("status page (JSON)\n");
		} else if (r->kind == ROUTE_ROM) {
			printf("rom:/%.*s\n", (int)r->url.len, route_cstr(t, r->url));
		} else if (r->kind == ROUTE_DIR) {
			printf("folder %.*s\n", (int)r->url.len, route_cstr(t, r->url));
		} else {
			printf("404\n");
		}
		if (r->authorizer >= 0) {
			printf("              authorizer ");
			print_member(t, &t->members[r->authorizer]);
		}
	}
	print_ui_lines(t);
	gw_get_budget(&b);
	printf("RAM budget        client slot %zu bytes x %d (%d plain, %d TLS) = %zu\n", b.client_slot,
	       GW_CLIENT_SLOTS, CONFIG_CLIENT_SLOTS, GW_TLS_SLOTS, b.clients);
	printf("                  backend slot %zu bytes x %d = %zu\n", b.backend_slot,
	       CONFIG_BACKEND_SLOTS, b.backends);
	printf("                  route table %zu, poll set %zu\n", b.route_table, b.poll_set);
#if CONFIG_TLS
	{
		struct tls_budget tb;

		tls_get_budget(&tb);
		printf("                  TLS: %zu bytes x %u slots + %zu shared, arena %zu "
		       "(records in %zu, out %zu)\n", tb.slot_bytes, tb.slots, tb.shared_bytes,
		       tb.arena_bytes, tb.in_buf, tb.out_buf);
		b.total += tb.slot_bytes * tb.slots + tb.shared_bytes + tb.arena_bytes;
	}
#endif
	printf("                  total %zu bytes (%zu KiB)\n", b.total, (b.total + 1023) / 1024);
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		fprintf(stderr, "fcgate: no such user '%s'\n", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "fcgate: cannot become '%s': %s\n", user, strerror(errno));
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

#if CONFIG_TLS
/* A whole PEM file with a NUL after it, as mbedTLS wants; NULL on error. */
static unsigned char *read_pem(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fprintf(stderr, "fcgate: cannot read '%s': %s\n", path,
			errno ? strerror(errno) : "empty or too large");
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fcgate: cannot read '%s'\n", path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n + 1;
	return buf;
}

/* The certificate and key: --cert/--key files, else the pair compiled in. */
static int load_tls(const char *cert_path, const char *key_path)
{
	const unsigned char *cert = tls_builtin_cert, *key = tls_builtin_key;
	size_t cert_len = tls_builtin_cert_len, key_len = tls_builtin_key_len;
	unsigned char *c = NULL, *k = NULL;
	int r;

	if ((cert_path == NULL) != (key_path == NULL)) {
		fprintf(stderr, "fcgate: --cert and --key go together\n");
		return -1;
	}
	if (cert_path != NULL) {
		if ((c = read_pem(cert_path, &cert_len)) == NULL ||
		    (k = read_pem(key_path, &key_len)) == NULL) {
			free(c);
			return -1;
		}
		cert = c;
		key = k;
	}
	r = tls_init(cert, cert_len, key, key_len);
	free(c);
	free(k);
	if (r != 0) {
		fprintf(stderr, "fcgate: TLS: %s\n", tls_error_text());
		return -1;
	}
	return 0;
}
#endif

int main(int argc, char **argv)
{
	static const char *conf[CONF_LINES_MAX];
	unsigned nconf = 0;
	const char *user = NULL, *cert = NULL, *key = NULL;
	struct port_addr addr, tls_addr;
	int check = 0, tls = 0;

	if (parse_listen(CONFIG_LISTEN_ADDR ":0", &addr) < 0 &&
	    parse_listen("[" CONFIG_LISTEN_ADDR "]:0", &addr) < 0) {
		fprintf(stderr, "fcgate: bad CONFIG_LISTEN_ADDR '%s'\n", CONFIG_LISTEN_ADDR);
		return 1;
	}
	addr.port = CONFIG_LISTEN_PORT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("fcgate %s\n", GW_VERSION);
			return 0;
		} else if (strcmp(a, "--check-config") == 0) {
			check = 1;
		} else if (strcmp(a, "--listen") == 0 && i + 1 < argc) {
			if (parse_listen(argv[++i], &addr) < 0) {
				fprintf(stderr, "fcgate: bad --listen '%s' (want ADDR:PORT or [ADDR]:PORT)\n", argv[i]);
				return 1;
			}
		} else if (strcmp(a, "--conf") == 0 && i + 1 < argc) {
			if (nconf == CONF_LINES_MAX) {
				fprintf(stderr, "fcgate: too many --conf lines\n");
				return 1;
			}
			conf[nconf++] = argv[++i];
		} else if (strcmp(a, "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
		} else if (strcmp(a, "--tls-listen") == 0 && i + 1 < argc) {
			if (parse_listen(argv[++i], &tls_addr) < 0) {
				fprintf(stderr, "fcgate: bad --tls-listen '%s' (want ADDR:PORT or [ADDR]:PORT)\n", argv[i]);
				return 1;
			}
			tls = 1;
		} else if (strcmp(a, "--cert") == 0 && i + 1 < argc) {
			cert = argv[++i];
		} else if (strcmp(a, "--key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else {
			fprintf(stderr, "fcgate: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return 1;
		}
	}
	if (!CONFIG_TLS && (tls || cert != NULL || key != NULL)) {
		fprintf(stderr, "fcgate: --tls-listen, --cert and --key need TLS, which this build "
			"leaves out (TLS=n)\n");
		return 1;
	}
	if (!tls && (cert != NULL || key != NULL)) {
		fprintf(stderr, "fcgate: --cert and --key need --tls-listen ADDR:PORT\n");
		return 1;
	}
	if (load_conf(conf, nconf) < 0 || resolve_members(&table) < 0)
		return 1;
	if (check) {
		print_config(&addr);
		return 0;
	}
	install_signals();
#if CONFIG_TLS
	/* A bad certificate stops us before anything is announced. */
	if (tls && load_tls(cert, key) < 0)
		return 1;
#endif
	if (gw_start(&table, &addr) != 0) {
		fprintf(stderr, "fcgate: cannot listen: %s\n", strerror(errno));
		return 1;
	}
#if CONFIG_TLS
	if (tls && gw_start_tls(&tls_addr) != 0) {
		fprintf(stderr, "fcgate: cannot listen for HTTPS: %s\n", strerror(errno));
		return 1;
	}
#endif
	if (user != NULL && drop_privileges(user) < 0)
		return 1;
	while (!stop_requested)
		gw_poll(GW_POLL_MAX_MS);
	gw_drain(CONFIG_SHUTDOWN_GRACE * 1000u);
	LOG_I("stopped");
	return 0;
}
