/*
 * fcgi-demo: the FastCGI app `make run` puts behind fcgate, and the
 * integration tests' libfcgi peer. It is built on Debian's libfcgi (the
 * FCGX API), so that the gateway is also checked against the reference
 * implementation of the protocol rather than only against our own testapp.
 * It grows, later, into the router admin-UI demo.
 *
 *   fcgi-demo --listen 127.0.0.1:PORT
 *
 * Paths, by PATH_INFO: "/" (or none) an HTML page about the request with
 * a form, "/form" the posted fields, "/env" every param as text, "/echo"
 * the request body; anything else 404.
 */
#include <fcgiapp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	DEMO_BACKLOG = 64,
	DEMO_COPY_CHUNK = 64 * 1024,
	DEMO_FORM_MAX = 1024 * 1024, /* a larger form body gets 413 */
	PORT_MAX = 65535,
};

static const char *param_or(FCGX_Request *r, const char *name,
			    const char *dflt)
{
	const char *v = FCGX_GetParam(name, r->envp);
	return v ? v : dflt;
}

/* CGI says the body is exactly CONTENT_LENGTH bytes; none without it. */
static unsigned long long content_length(FCGX_Request *r)
{
	const char *v = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	if (!v || !*v)
		return 0;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	return *end ? 0 : n;
}

/* Reads up to want bytes of the body; returns how many came. */
static size_t read_body(FCGX_Request *r, char *dst, size_t want)
{
	size_t got = 0;
	while (got < want) {
		size_t k = want - got < DEMO_COPY_CHUNK ? want - got
							: DEMO_COPY_CHUNK;
		int n = FCGX_GetStr(dst + got, (int)k, r->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void put_escaped(FCGX_Stream *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': FCGX_PutS("&amp;", out); break;
		case '<': FCGX_PutS("&lt;", out); break;
		case '>': FCGX_PutS("&gt;", out); break;
		case '"': FCGX_PutS("&quot;", out); break;
		case '\'': FCGX_PutS("&#39;", out); break;
		default: FCGX_PutChar(s[i], out); break;
		}
	}
}

static void put_escaped_str(FCGX_Stream *out, const char *s)
{
	put_escaped(out, s, strlen(s));
}

static void page_start(FCGX_Stream *out, const char *title)
{
	FCGX_PutS("Content-Type: text/html; charset=utf-8\r\n\r\n"
		  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width\">"
		  "<title>", out);
	put_escaped_str(out, title);
	FCGX_PutS("</title><style>"
		  "body{font-family:sans-serif;max-width:44em;margin:2em auto;"
		  "padding:0 1em;color:#222}"
		  "table{border-collapse:collapse;width:100%}"
		  "th,td{text-align:left;padding:.3em .6em;"
		  "border-bottom:1px solid #ddd;vertical-align:top}"
		  "th{width:12em;color:#555;font-weight:normal}"
		  "td{font-family:monospace;word-break:break-all}"
		  "form{margin-top:1.5em}label{display:block;margin:.5em 0}"
		  "input[type=text]{width:20em}"
		  "</style></head><body>\n<h1>", out);
	put_escaped_str(out, title);
	FCGX_PutS("</h1>\n", out);
}

static void page_end(FCGX_Stream *out)
{
	FCGX_PutS("<p><a href=\"./\">back to the start</a></p>\n"
		  "</body></html>\n", out);
}

static void row(FCGX_Stream *out, const char *name, const char *v, size_t n)
{
	FCGX_PutS("<tr><th>", out);
	put_escaped_str(out, name);
	FCGX_PutS("</th><td>", out);
	put_escaped(out, v, n);
	FCGX_PutS("</td></tr>\n", out);
}

/* The form posts to SCRIPT_NAME/form, i.e. /app/form under `make run`. */
static void show_index(FCGX_Request *r)
{
	static const char *const shown[] = {
		"REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO",
		"QUERY_STRING", "REMOTE_ADDR", "SERVER_SOFTWARE",
	};
	page_start(r->out, "fcgate demo");
	FCGX_PutS("<p>This page comes from a libfcgi application behind "
		  "fcgate.</p>\n<table>\n", r->out);
	for (size_t i = 0; i < sizeof shown / sizeof *shown; i++) {
		const char *v = param_or(r, shown[i], "");
		row(r->out, i == 0 ? "method" : shown[i], v, strlen(v));
	}
	const char *script = param_or(r, "SCRIPT_NAME", "");
	size_t sl = strlen(script);
	while (sl && script[sl - 1] == '/')
		sl--;
	FCGX_PutS("</table>\n<form method=\"post\" action=\"", r->out);
	if (sl)
		put_escaped(r->out, script, sl);
	else
		FCGX_PutS("/app", r->out);
	FCGX_PutS("/form\">\n"
		  "<label>Name <input type=\"text\" name=\"name\"></label>\n"
		  "<label>Message <input type=\"text\" name=\"message\"></label>\n"
		  "<button type=\"submit\">Send</button>\n</form>\n", r->out);
	page_end(r->out);
}

static int hex_val(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes application/x-www-form-urlencoded in place; returns the length. */
static size_t url_decode(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hex_val(s[i + 1]) >= 0 &&
			   hex_val(s[i + 2]) >= 0) {
			s[o++] = (char)(hex_val(s[i + 1]) << 4 | hex_val(s[i + 2]));
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}

static void send_status(FCGX_Request *r, const char *status, const char *msg)
{
	FCGX_FPrintF(r->out, "Status: %s\r\nContent-Type: text/plain\r\n\r\n"
			     "demo: %s\n", status, msg);
}

static void show_form(FCGX_Request *r)
{
	unsigned long long len = content_length(r);
	if (len > DEMO_FORM_MAX) {
		send_status(r, "413 Content Too Large", "form too large");
		return;
	}
	char *body = malloc(len + 1);
	if (!body) {
		send_status(r, "500 Internal Server Error", "out of memory");
		return;
	}
	size_t n = read_body(r, body, len);
	body[n] = '\0';
	page_start(r->out, "fcgate demo: form");
	FCGX_PutS("<table>\n", r->out);
	int fields = 0;
	for (char *p = body, *next; p && p < body + n; p = next) {
		char *amp = memchr(p, '&', (size_t)(body + n - p));
		size_t flen = amp ? (size_t)(amp - p) : (size_t)(body + n - p);
		next = amp ? amp + 1 : NULL;
		if (!flen)
			continue;
		char *eq = memchr(p, '=', flen);
		size_t nlen = eq ? (size_t)(eq - p) : flen;
		char *val = eq ? eq + 1 : p + flen;
		size_t vlen = eq ? flen - nlen - 1 : 0;
		nlen = url_decode(p, nlen);
		vlen = url_decode(val, vlen);
		FCGX_PutS("<tr><th>", r->out);
		put_escaped(r->out, p, nlen);
		FCGX_PutS("</th><td>", r->out);
		put_escaped(r->out, val, vlen);
		FCGX_PutS("</td></tr>\n", r->out);
		fields++;
	}
	if (!fields)
		FCGX_PutS("<tr><td>no fields were posted</td></tr>\n", r->out);
	FCGX_PutS("</table>\n", r->out);
	page_end(r->out);
	free(body);
}

/* Streams the body through, so any size passes in constant memory. */
static unsigned long long copy_body(FCGX_Request *r, FCGX_Stream *to)
{
	static char chunk[DEMO_COPY_CHUNK];
	unsigned long long left = content_length(r), total = 0;
	while (left) {
		size_t k = left < sizeof chunk ? (size_t)left : sizeof chunk;
		int n = FCGX_GetStr(chunk, (int)k, r->in);
		if (n <= 0)
			break;
		if (to)
			FCGX_PutStr(chunk, n, to);
		left -= (unsigned long long)n;
		total += (unsigned long long)n;
	}
	return total;
}

static void show_env(FCGX_Request *r)
{
	FCGX_PutS("Content-Type: text/plain\r\n\r\n", r->out);
	for (char **e = r->envp; e && *e; e++) {
		FCGX_PutS(*e, r->out);
		FCGX_PutChar('\n', r->out);
	}
	FCGX_FPrintF(r->out, "STDIN_LENGTH=%llu\n", copy_body(r, NULL));
}

static void echo(FCGX_Request *r)
{
	FCGX_PutS("Content-Type: application/octet-stream\r\n\r\n", r->out);
	copy_body(r, r->out);
}

static void handle(FCGX_Request *r)
{
	const char *path = param_or(r, "PATH_INFO", "");
	if (!strcmp(path, "") || !strcmp(path, "/"))
		show_index(r);
	else if (!strcmp(path, "/form"))
		show_form(r);
	else if (!strcmp(path, "/env"))
		show_env(r);
	else if (!strcmp(path, "/echo"))
		echo(r);
	else
		send_status(r, "404 Not Found", "no such page");
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/*
 * libfcgi takes "host:port", but reads a port of 0 (or any text it cannot
 * parse as a port) as the path of a Unix socket, so check it first.
 */
static int open_listener(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || port == 0 || port > PORT_MAX || *end) {
		fprintf(stderr, "demo: --listen wants HOST:PORT, got %s\n", spec);
		return -1;
	}
	int fd = FCGX_OpenSocket(spec, DEMO_BACKLOG);
	if (fd < 0) {
		fprintf(stderr, "demo: cannot listen on %s\n", spec);
		return -1;
	}
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	char ip[INET_ADDRSTRLEN] = "?";
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET)
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
	printf("demo listening on %s:%d\n", ip, ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--listen")) {
		fprintf(stderr, "usage: fcgi-demo --listen 127.0.0.1:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error, not death */
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "demo: FCGX_Init failed\n");
		return 1;
	}
	int fd = open_listener(argv[2]);
	if (fd < 0)
		return 1;
	FCGX_Request req;
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		handle(&req);
		FCGX_Finish_r(&req);
	}
	return 0;
}
