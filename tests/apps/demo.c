/*
 * fcgi-demo: the FastCGI app `make run` puts behind fcgate, the
 * integration tests' libfcgi peer, and the API of the demo router admin
 * UI (config/ui/). It is built on Debian's libfcgi (the FCGX API), so
 * that the gateway is also checked against the reference implementation
 * of the protocol rather than only against our own testapp.
 *
 *   fcgi-demo --listen 127.0.0.1:PORT [--password P] [--state FILE]
 *
 * --password is what /login accepts ("admin" by default). --state is the
 * file the settings are saved to (key=value lines, replaced atomically)
 * and read back from at start-up; without it they live in memory only.
 *
 * Responder paths, by PATH_INFO: "/" (or none) an HTML page about the
 * request with a form, "/form" the posted fields, "/env" every param as
 * text, "/echo" the request body. The admin UI's API, by PATH_INFO, or by
 * the last segment of SCRIPT_NAME when PATH_INFO is empty (so that both
 * `ProxyPass /api/ fcgi://...` and `ProxyPass /api/login fcgi://...`
 * reach the same endpoint):
 *   POST /login     form field password: 303 to / with a session cookie,
 *                   or 303 to /login/?failed=1
 *   POST /logout    ends the session, clears the cookie, 303 to /login/
 *   GET  /status    JSON: uptime, interfaces, counters, REMOTE_USER
 *   GET  /settings  JSON: hostname, lan_ip, dhcp_enabled, wifi_ssid
 *   POST /settings  application/x-www-form-urlencoded, any of those four
 *                   fields (dhcp_enabled: 1/0, true/false, on/off); a
 *                   field not sent keeps its value. 200 with the saved
 *                   settings, or 400 {"error":..., "fields":{name: why}}
 *   GET  /log       server-sent events: a made-up log line every 0.5 s
 *                   for 30 s, or until the client goes away
 * Anything else 404.
 *
 * With FCGI_ROLE=AUTHORIZER (FastCGI 1.0 section 6.3) it checks the sid
 * cookie instead: 200 with Variable-REMOTE_USER and Variable-SESSION_AGE
 * for a live session; otherwise 401 with a JSON body for REQUEST_URI
 * under /api/, else 302 to /login/.
 *
 * Several threads serve requests, so a log stream does not hold up the
 * rest of the UI; see worker() for how they share the listener.
 */
#include <fcgiapp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	DEMO_BACKLOG = 64,
	DEMO_COPY_CHUNK = 64 * 1024,
	DEMO_FORM_MAX = 1024 * 1024, /* a larger form body gets 413 */
	DEMO_API_BODY_MAX = 4096,    /* /login and /settings bodies */
	DEMO_WORKERS = 16,           /* threads, each serving one connection */
	DEMO_STREAMS_MAX = 4,        /* log streams at once: workers stay free */
	PORT_MAX = 65535,
};

/* --- sessions: a fixed table, each a random id and its times ----------- */
enum {
	SID_BYTES = 16,
	SID_HEX = 2 * SID_BYTES,
	SESSIONS_MAX = 16,        /* a new login replaces the least recent */
	SESSION_IDLE_MAX = 3600,  /* seconds unused before a session ends */
};

struct session {
	char sid[SID_HEX + 1];    /* "" when the entry is free */
	time_t created;           /* CLOCK_MONOTONIC seconds */
	time_t used;
};

/* --- settings: what the form edits and the state file keeps ------------ */
enum {
	HOSTNAME_MAX = 32,
	IPV4_TEXT_MAX = 15,
	SSID_MAX = 32,
	FIELDS = 4,
};

struct settings {
	char hostname[HOSTNAME_MAX + 1];
	char lan_ip[IPV4_TEXT_MAX + 1];
	int dhcp_enabled;
	char wifi_ssid[SSID_MAX + 1];
};

/* --- the log stream ----------------------------------------------------- */
enum {
	LOG_EVENTS = 60,          /* 30 s of events ... */
	LOG_PERIOD_MS = 500,      /* ... one every 0.5 s */
	LOG_RETRY_MS = 2000,      /* EventSource reconnects after the stream ends */
	LOG_LINE_MAX = 160,
};

/* Everything the threads share, under one lock. */
static struct {
	pthread_mutex_t lock;
	struct session sessions[SESSIONS_MAX];
	struct settings settings;
	int streams;
	const char *password;
	const char *state_path;   /* NULL: settings in memory only */
	time_t started;           /* CLOCK_MONOTONIC seconds */
} demo = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.settings = { "fcgate-router", "192.168.1.1", 1, "fcgate-demo" },
	.password = "admin",
};

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static const char *param_or(FCGX_Request *r, const char *name,
			    const char *dflt)
{
	const char *v = FCGX_GetParam(name, r->envp);
	return v ? v : dflt;
}

static int is_method(FCGX_Request *r, const char *m)
{
	return !strcmp(param_or(r, "REQUEST_METHOD", ""), m);
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

/* A JSON string, quotes included (RFC 8259 section 7). */
static void put_json_str(FCGX_Stream *out, const char *s)
{
	FCGX_PutChar('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			FCGX_PutChar('\\', out);
			FCGX_PutChar(c, out);
		} else if (c < 0x20) {
			FCGX_FPrintF(out, "\\u%04x", c);
		} else {
			FCGX_PutChar(c, out);
		}
	}
	FCGX_PutChar('"', out);
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

struct field {
	char *name, *val;
	size_t nlen, vlen;
};

/*
 * The next name=value pair of a form body at *p (up to end), decoded in
 * place; empty pairs are skipped. Returns 0 at the end of the body.
 */
static int form_next(char **p, char *end, struct field *f)
{
	while (*p && *p < end) {
		char *s = *p;
		char *amp = memchr(s, '&', (size_t)(end - s));
		size_t flen = amp ? (size_t)(amp - s) : (size_t)(end - s);
		*p = amp ? amp + 1 : NULL;
		if (!flen)
			continue;
		char *eq = memchr(s, '=', flen);
		f->name = s;
		f->nlen = url_decode(s, eq ? (size_t)(eq - s) : flen);
		f->val = eq ? eq + 1 : s + flen;
		f->vlen = url_decode(f->val, eq ? flen - (size_t)(eq - s) - 1 : 0);
		return 1;
	}
	return 0;
}

static int field_is(const struct field *f, const char *name)
{
	return f->nlen == strlen(name) && !memcmp(f->name, name, f->nlen);
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
	struct field f;
	for (char *p = body; form_next(&p, body + n, &f); fields++) {
		FCGX_PutS("<tr><th>", r->out);
		put_escaped(r->out, f.name, f.nlen);
		FCGX_PutS("</th><td>", r->out);
		put_escaped(r->out, f.val, f.vlen);
		FCGX_PutS("</td></tr>\n", r->out);
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
	char chunk[DEMO_COPY_CHUNK];   /* per thread: workers run at once */
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

/* === the admin UI's API ================================================ */

static void json_head(FCGX_Request *r, const char *status)
{
	FCGX_FPrintF(r->out, "Status: %s\r\n"
			     "Content-Type: application/json\r\n"
			     "Cache-Control: no-store\r\n\r\n", status);
}

static void json_error(FCGX_Request *r, const char *status, const char *msg)
{
	json_head(r, status);
	FCGX_PutS("{\"error\":", r->out);
	put_json_str(r->out, msg);
	FCGX_PutS("}\n", r->out);
}

static void method_not_allowed(FCGX_Request *r, const char *allow)
{
	FCGX_FPrintF(r->out, "Status: 405 Method Not Allowed\r\nAllow: %s\r\n"
			     "Content-Type: application/json\r\n\r\n"
			     "{\"error\":\"method not allowed\"}\n", allow);
}

/*
 * Reads a small form body into buf (NUL-terminated); returns its length,
 * or -1 after answering 413 or 415 itself.
 */
static long read_small_form(FCGX_Request *r, char *buf, size_t cap)
{
	const char *type = param_or(r, "CONTENT_TYPE", "");
	static const char form_type[] = "application/x-www-form-urlencoded";
	unsigned long long len = content_length(r);
	if (strncasecmp(type, form_type, sizeof form_type - 1) ||
	    (type[sizeof form_type - 1] && type[sizeof form_type - 1] != ';')) {
		copy_body(r, NULL);
		json_error(r, "415 Unsupported Media Type",
			   "expected application/x-www-form-urlencoded");
		return -1;
	}
	if (len >= cap) {
		copy_body(r, NULL);
		json_error(r, "413 Content Too Large", "form too large");
		return -1;
	}
	size_t n = read_body(r, buf, (size_t)len);
	buf[n] = '\0';
	return (long)n;
}

/* Compares without an early exit, so timing tells nothing of a prefix. */
static int same_secret(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned diff = alen != blen;
	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[blen ? i % blen : 0];
	return diff == 0;
}

/* --- sessions ----------------------------------------------------------- */

/* Caller holds the lock. NULL when sid is not a live session. */
static struct session *session_find(const char *sid, size_t len, time_t now)
{
	if (len != SID_HEX)
		return NULL;
	for (int i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &demo.sessions[i];
		if (!s->sid[0])
			continue;
		if (now - s->used > SESSION_IDLE_MAX) {
			s->sid[0] = '\0';
			continue;
		}
		if (same_secret(sid, len, s->sid))
			return s;
	}
	return NULL;
}

/* Caller holds the lock; 0, or -1 when the system has no randomness. */
static int session_new(char sid[SID_HEX + 1], time_t now)
{
	unsigned char raw[SID_BYTES];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	struct session *victim = &demo.sessions[0];
	for (int i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &demo.sessions[i];
		if (!s->sid[0]) {
			victim = s;
			break;
		}
		if (s->used < victim->used)
			victim = s;
	}
	for (int i = 0; i < SID_BYTES; i++)
		snprintf(victim->sid + 2 * i, 3, "%02x", raw[i]);
	victim->created = victim->used = now;
	memcpy(sid, victim->sid, sizeof victim->sid);
	return 0;
}

/*
 * Looks for a sid cookie in the Cookie header (several may be sent;
 * any live one counts). Returns the session's age in seconds, or -1.
 * With end set, the session ends too.
 */
static long session_check(FCGX_Request *r, int end)
{
	const char *c = param_or(r, "HTTP_COOKIE", "");
	long age = -1;
	time_t now = now_mono();
	pthread_mutex_lock(&demo.lock);
	while (*c && age < 0) {
		while (*c == ' ' || *c == ';')
			c++;
		size_t len = strcspn(c, ";");
		if (len > 4 && !strncmp(c, "sid=", 4)) {
			struct session *s = session_find(c + 4, len - 4, now);
			if (s) {
				age = (long)(now - s->created);
				s->used = now;
				if (end)
					s->sid[0] = '\0';
			}
		}
		c += len;
	}
	pthread_mutex_unlock(&demo.lock);
	return age;
}

/* FastCGI 1.0 section 6.3: a 200 lets the request through. */
static void authorize(FCGX_Request *r)
{
	long age = session_check(r, 0);
	if (age >= 0) {
		FCGX_FPrintF(r->out, "Status: 200 OK\r\n"
				     "Variable-REMOTE_USER: admin\r\n"
				     "Variable-SESSION_AGE: %ld\r\n\r\n", age);
		return;
	}
	/* An API call wants a status it can test, a page wants the login. */
	if (!strncmp(param_or(r, "REQUEST_URI", ""), "/api/", 5)) {
		FCGX_PutS("Status: 401 Unauthorized\r\n"
			  "WWW-Authenticate: Cookie realm=\"fcgate-demo\"\r\n"
			  "Content-Type: application/json\r\n"
			  "Cache-Control: no-store\r\n\r\n"
			  "{\"error\":\"not logged in\"}\n", r->out);
	} else {
		FCGX_PutS("Status: 302 Found\r\nLocation: /login/\r\n"
			  "Cache-Control: no-store\r\n\r\n", r->out);
	}
}

static void login(FCGX_Request *r)
{
	if (!is_method(r, "POST")) {
		method_not_allowed(r, "POST");
		return;
	}
	char body[DEMO_API_BODY_MAX];
	long n = read_small_form(r, body, sizeof body);
	if (n < 0)
		return;
	int ok = 0;
	struct field f;
	for (char *p = body; form_next(&p, body + n, &f);)
		if (field_is(&f, "password"))
			ok = same_secret(f.val, f.vlen, demo.password);
	char sid[SID_HEX + 1];
	if (ok) {
		pthread_mutex_lock(&demo.lock);
		int rc = session_new(sid, now_mono());
		pthread_mutex_unlock(&demo.lock);
		if (rc < 0) {
			json_error(r, "500 Internal Server Error", "no randomness");
			return;
		}
		FCGX_FPrintF(r->out, "Status: 303 See Other\r\n"
				     "Set-Cookie: sid=%s; Path=/; HttpOnly; SameSite=Strict\r\n"
				     "Location: /\r\nCache-Control: no-store\r\n\r\n", sid);
		return;
	}
	FCGX_PutS("Status: 303 See Other\r\nLocation: /login/?failed=1\r\n"
		  "Cache-Control: no-store\r\n\r\n", r->out);
}

static void logout(FCGX_Request *r)
{
	if (!is_method(r, "POST")) {
		method_not_allowed(r, "POST");
		return;
	}
	copy_body(r, NULL);
	session_check(r, 1);
	FCGX_PutS("Status: 303 See Other\r\n"
		  "Set-Cookie: sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n"
		  "Location: /login/\r\nCache-Control: no-store\r\n\r\n", r->out);
}

/* --- settings ----------------------------------------------------------- */

static int valid_hostname(const char *s, size_t n)
{
	if (n < 1 || n > HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* Four decimal numbers 0..255, no leading zeros, three dots. */
static int valid_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return 0;
		size_t start = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		size_t digits = i - start;
		if (!digits || v > 255 || (digits > 1 && s[start] == '0'))
			return 0;
	}
	return i == n;
}

static int valid_ssid(const char *s, size_t n)
{
	if (n < 1 || n > SSID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int parse_bool(const char *s, size_t n, int *out)
{
	static const char *const yes[] = { "1", "true", "on" };
	static const char *const no[] = { "0", "false", "off" };
	for (int i = 0; i < 3; i++) {
		if (n == strlen(yes[i]) && !memcmp(s, yes[i], n))
			return *out = 1, 1;
		if (n == strlen(no[i]) && !memcmp(s, no[i], n))
			return *out = 0, 1;
	}
	return 0;
}

static void set_text(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
}

enum field_result { FIELD_OK, FIELD_UNKNOWN, FIELD_BAD };

/*
 * Sets one field of st from text; on FIELD_BAD, *why says what a valid
 * value looks like. Shared by the form and the state file.
 */
static enum field_result settings_set(struct settings *st, const struct field *f,
				      const char **name, const char **why)
{
	if (field_is(f, "hostname")) {
		*name = "hostname";
		*why = "1 to 32 of a-z, 0-9 and -";
		if (!valid_hostname(f->val, f->vlen))
			return FIELD_BAD;
		set_text(st->hostname, f->val, f->vlen);
	} else if (field_is(f, "lan_ip")) {
		*name = "lan_ip";
		*why = "an IPv4 address such as 192.168.1.1";
		if (!valid_ipv4(f->val, f->vlen))
			return FIELD_BAD;
		set_text(st->lan_ip, f->val, f->vlen);
	} else if (field_is(f, "wifi_ssid")) {
		*name = "wifi_ssid";
		*why = "1 to 32 printable ASCII characters";
		if (!valid_ssid(f->val, f->vlen))
			return FIELD_BAD;
		set_text(st->wifi_ssid, f->val, f->vlen);
	} else if (field_is(f, "dhcp_enabled")) {
		*name = "dhcp_enabled";
		*why = "1 or 0";
		if (!parse_bool(f->val, f->vlen, &st->dhcp_enabled))
			return FIELD_BAD;
	} else {
		return FIELD_UNKNOWN;
	}
	return FIELD_OK;
}

/*
 * Reads the state file back; a missing file means the defaults, a bad
 * line is reported and skipped (the field keeps its default).
 */
static void settings_load(void)
{
	FILE *f = fopen(demo.state_path, "r");
	if (!f) {
		if (errno != ENOENT)
			fprintf(stderr, "demo: %s: %s\n", demo.state_path, strerror(errno));
		return;
	}
	char line[128];
	for (int no = 1; fgets(line, sizeof line, f); no++) {
		size_t n = strcspn(line, "\n");
		line[n] = '\0';
		char *eq = strchr(line, '=');
		if (!n || line[0] == '#')
			continue;
		const char *name = "", *why = "";
		struct field fl = { line, eq ? eq + 1 : line + n,
				    eq ? (size_t)(eq - line) : n,
				    eq ? n - (size_t)(eq - line) - 1 : 0 };
		if (settings_set(&demo.settings, &fl, &name, &why) != FIELD_OK)
			fprintf(stderr, "demo: %s:%d: ignored\n", demo.state_path, no);
	}
	fclose(f);
}

/*
 * Writes FILE.tmp, syncs it and renames it over FILE, so a crash leaves
 * either the old settings or the new ones, never half of each. Caller
 * holds the lock (one writer of FILE.tmp at a time). 0 or -1.
 */
static int settings_save(const struct settings *st)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", demo.state_path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "# fcgi-demo settings\nhostname=%s\nlan_ip=%s\n"
		   "dhcp_enabled=%d\nwifi_ssid=%s\n", st->hostname, st->lan_ip,
		st->dhcp_enabled, st->wifi_ssid);
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, demo.state_path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void put_settings(FCGX_Stream *out, const struct settings *st)
{
	FCGX_PutS("{\"hostname\":", out);
	put_json_str(out, st->hostname);
	FCGX_PutS(",\"lan_ip\":", out);
	put_json_str(out, st->lan_ip);
	FCGX_FPrintF(out, ",\"dhcp_enabled\":%s,\"wifi_ssid\":",
		     st->dhcp_enabled ? "true" : "false");
	put_json_str(out, st->wifi_ssid);
	FCGX_PutS("}", out);
}

static void settings_show(FCGX_Request *r)
{
	pthread_mutex_lock(&demo.lock);
	struct settings st = demo.settings;
	pthread_mutex_unlock(&demo.lock);
	json_head(r, "200 OK");
	put_settings(r->out, &st);
	FCGX_PutS("\n", r->out);
}

static void settings_post(FCGX_Request *r)
{
	char body[DEMO_API_BODY_MAX];
	long n = read_small_form(r, body, sizeof body);
	if (n < 0)
		return;
	struct { const char *name, *why; } bad[FIELDS];
	int nbad = 0;
	pthread_mutex_lock(&demo.lock);
	struct settings st = demo.settings;
	struct field f;
	for (char *p = body; form_next(&p, body + n, &f);) {
		const char *name = "", *why = "";
		if (settings_set(&st, &f, &name, &why) != FIELD_BAD)
			continue;   /* unknown fields (a button, say) are ignored */
		int seen = 0;
		for (int i = 0; i < nbad; i++)
			seen |= !strcmp(bad[i].name, name);
		if (!seen && nbad < FIELDS)
			bad[nbad].name = name, bad[nbad++].why = why;
	}
	int saved = nbad == 0 && (!demo.state_path || settings_save(&st) == 0);
	if (saved)
		demo.settings = st;
	pthread_mutex_unlock(&demo.lock);
	if (nbad) {
		json_head(r, "400 Bad Request");
		FCGX_PutS("{\"error\":\"invalid settings\",\"fields\":{", r->out);
		for (int i = 0; i < nbad; i++) {
			FCGX_PutS(i ? "," : "", r->out);
			put_json_str(r->out, bad[i].name);
			FCGX_PutChar(':', r->out);
			put_json_str(r->out, bad[i].why);
		}
		FCGX_PutS("}}\n", r->out);
	} else if (!saved) {
		fprintf(stderr, "demo: cannot save %s: %s\n", demo.state_path,
			strerror(errno));
		json_error(r, "500 Internal Server Error", "cannot save the settings");
	} else {
		json_head(r, "200 OK");
		put_settings(r->out, &st);
		FCGX_PutS("\n", r->out);
	}
}

static void settings(FCGX_Request *r)
{
	if (is_method(r, "GET") || is_method(r, "HEAD"))
		settings_show(r);
	else if (is_method(r, "POST"))
		settings_post(r);
	else
		method_not_allowed(r, "GET, HEAD, POST");
}

/* --- status: made-up interfaces whose counters grow with the uptime ---- */

struct iface {
	const char *name, *mac;
	unsigned rx_rate, tx_rate; /* bytes per second */
};

static const struct iface ifaces[] = {
	{ "wan", "02:00:5e:10:00:01", 182000, 24000 },
	{ "lan", "02:00:5e:10:00:02", 21000, 170000 },
	{ "wlan", "02:00:5e:10:00:03", 6500, 9800 },
};

static unsigned long long elapsed_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)(ts.tv_sec - demo.started) * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

static void put_iface(FCGX_Stream *out, const struct iface *i,
		      const struct settings *st, unsigned long long ms)
{
	/* The ~1 ms wobble keeps two readings in the same second apart. */
	unsigned long long rx = i->rx_rate * ms / 1000 + 1514 * (ms % 7);
	unsigned long long tx = i->tx_rate * ms / 1000 + 590 * (ms % 5);
	FCGX_PutS("{\"name\":", out);
	put_json_str(out, i->name);
	FCGX_PutS(",\"mac\":", out);
	put_json_str(out, i->mac);
	if (!strcmp(i->name, "wan"))
		FCGX_PutS(",\"ipv4\":\"198.51.100.23/24\"", out);
	else if (!strcmp(i->name, "lan")) {
		FCGX_PutS(",\"ipv4\":", out);
		put_json_str(out, st->lan_ip);
	} else {
		FCGX_PutS(",\"ssid\":", out);
		put_json_str(out, st->wifi_ssid);
	}
	FCGX_FPrintF(out, ",\"up\":true,\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
			  "\"rx_packets\":%llu,\"tx_packets\":%llu}",
		     rx, tx, rx / 900, tx / 700);
}

static void status(FCGX_Request *r)
{
	if (!is_method(r, "GET") && !is_method(r, "HEAD")) {
		method_not_allowed(r, "GET, HEAD");
		return;
	}
	pthread_mutex_lock(&demo.lock);
	struct settings st = demo.settings;
	int streams = demo.streams;
	pthread_mutex_unlock(&demo.lock);
	unsigned long long ms = elapsed_ms();
	const char *user = FCGX_GetParam("REMOTE_USER", r->envp);
	const char *age = FCGX_GetParam("SESSION_AGE", r->envp);
	json_head(r, "200 OK");
	FCGX_PutS("{\"hostname\":", r->out);
	put_json_str(r->out, st.hostname);
	FCGX_PutS(",\"user\":", r->out);
	if (user)
		put_json_str(r->out, user);
	else
		FCGX_PutS("null", r->out);
	FCGX_FPrintF(r->out, ",\"session_age\":%s,\"uptime\":%llu,"
			     "\"log_streams\":%d,\"interfaces\":[",
		     age && *age && strspn(age, "0123456789") == strlen(age) ? age : "null",
		     ms / 1000, streams);
	for (size_t i = 0; i < sizeof ifaces / sizeof *ifaces; i++) {
		FCGX_PutS(i ? "," : "", r->out);
		put_iface(r->out, &ifaces[i], &st, ms);
	}
	FCGX_PutS("]}\n", r->out);
}

/* --- the live log: server-sent events -------------------------------- */

static void log_line(char *buf, size_t cap, unsigned *seed, const char *ssid)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	unsigned a = (unsigned)rand_r(seed), b = (unsigned)rand_r(seed);
	int n = snprintf(buf, cap, "%s ", stamp);
	if (n < 0 || (size_t)n >= cap)
		return;
	buf += n, cap -= (size_t)n;
	switch (a % 6) {
	case 0:
		snprintf(buf, cap, "dnsmasq-dhcp: DHCPACK(lan) 192.168.1.%u "
			 "02:11:22:%02x:%02x:%02x", 100 + b % 100, b & 0xff,
			 (b >> 8) & 0xff, (b >> 16) & 0xff);
		break;
	case 1:
		snprintf(buf, cap, "hostapd: wlan: STA 02:33:44:%02x:%02x:%02x "
			 "associated with \"%s\"", b & 0xff, (b >> 8) & 0xff,
			 (b >> 16) & 0xff, ssid);
		break;
	case 2:
		snprintf(buf, cap, "firewall: dropped TCP 203.0.113.%u:%u -> wan:%u",
			 b % 254 + 1, 1024 + b % 60000, (b >> 3) % 2 ? 22 : 23);
		break;
	case 3:
		snprintf(buf, cap, "ntpd: clock adjusted by %+d ms", (int)(b % 41) - 20);
		break;
	case 4:
		snprintf(buf, cap, "kernel: wan: rx %u packets, tx %u packets in 5 s",
			 800 + b % 900, 200 + (b >> 10) % 400);
		break;
	default:
		snprintf(buf, cap, "dropbear: connection from 192.168.1.%u:%u closed",
			 100 + b % 100, 40000 + b % 20000);
		break;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Holds this worker for up to 30 s; a cap on the streams keeps workers
 * for the rest of the UI. A client that goes away makes fcgate close the
 * connection, and the next flush fails.
 */
static void log_stream(FCGX_Request *r)
{
	if (!is_method(r, "GET")) {
		method_not_allowed(r, "GET");
		return;
	}
	pthread_mutex_lock(&demo.lock);
	int ok = demo.streams < DEMO_STREAMS_MAX;
	demo.streams += ok;
	char ssid[SSID_MAX + 1];
	memcpy(ssid, demo.settings.wifi_ssid, sizeof ssid);
	pthread_mutex_unlock(&demo.lock);
	if (!ok) {
		json_error(r, "503 Service Unavailable", "too many log streams");
		return;
	}
	FCGX_FPrintF(r->out, "Content-Type: text/event-stream\r\n"
			     "Cache-Control: no-cache\r\n\r\n"
			     "retry: %d\n\n", LOG_RETRY_MS);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(size_t)r;
	for (int i = 0; i < LOG_EVENTS; i++) {
		char line[LOG_LINE_MAX];
		if (i)
			sleep_ms(LOG_PERIOD_MS);
		log_line(line, sizeof line, &seed, ssid);
		FCGX_FPrintF(r->out, "id: %d\ndata: %s\n\n", i, line);
		if (FCGX_FFlush(r->out) < 0 || FCGX_GetError(r->out))
			break;
	}
	pthread_mutex_lock(&demo.lock);
	demo.streams--;
	pthread_mutex_unlock(&demo.lock);
}

/* --- dispatch ----------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(FCGX_Request *r);
} api[] = {
	{ "/login", login },
	{ "/logout", logout },
	{ "/status", status },
	{ "/settings", settings },
	{ "/log", log_stream },
};

/*
 * The API endpoint's name: PATH_INFO under `ProxyPass /api/ ...`; when a
 * route names the endpoint itself (`ProxyPass /api/login ...`, so
 * SCRIPT_NAME=/api/login and PATH_INFO is empty) the last segment of
 * SCRIPT_NAME.
 */
static const char *api_name(FCGX_Request *r)
{
	const char *path = param_or(r, "PATH_INFO", "");
	if (*path && strcmp(path, "/"))
		return path;
	const char *slash = strrchr(param_or(r, "SCRIPT_NAME", ""), '/');
	return slash ? slash : path;
}

static void handle(FCGX_Request *r)
{
	if (!strcmp(param_or(r, "FCGI_ROLE", "RESPONDER"), "AUTHORIZER")) {
		authorize(r);
		return;
	}
	const char *name = api_name(r);
	for (size_t i = 0; i < sizeof api / sizeof *api; i++) {
		if (!strcmp(name, api[i].name)) {
			api[i].fn(r);
			return;
		}
	}
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

/*
 * Each worker accepts on the shared listener itself. libfcgi's threaded
 * example puts a mutex around FCGX_Accept_r, but FCGX_Accept_r also
 * waits there for the next request on a connection kept open
 * (FCGI_KEEP_CONN, which fcgate uses), so one idle pooled connection
 * would stall every other worker. Linux lets threads block in accept()
 * on one socket at once (each connection goes to one of them), and all
 * other request state lives in each worker's FCGX_Request.
 */
static void *worker(void *arg)
{
	FCGX_Request req;
	FCGX_InitRequest(&req, (int)(size_t)arg, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		handle(&req);
		FCGX_Finish_r(&req);
	}
	fprintf(stderr, "demo: accept failed: %s\n", strerror(errno));
	exit(1);
}

static int usage(void)
{
	fprintf(stderr, "usage: fcgi-demo --listen 127.0.0.1:PORT "
			"[--password P] [--state FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *listen_spec = NULL;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--listen"))
			listen_spec = argv[i + 1];
		else if (!strcmp(argv[i], "--password"))
			demo.password = argv[i + 1];
		else if (!strcmp(argv[i], "--state"))
			demo.state_path = argv[i + 1];
		else
			return usage();
	}
	if (!listen_spec)
		return usage();
	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error, not death */
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	demo.started = now_mono();
	if (demo.state_path)
		settings_load();
	if (FCGX_Init() != 0) {
		fprintf(stderr, "demo: FCGX_Init failed\n");
		return 1;
	}
	int fd = open_listener(listen_spec);
	if (fd < 0)
		return 1;
	for (int i = 1; i < DEMO_WORKERS; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, (void *)(size_t)fd) != 0) {
			fprintf(stderr, "demo: cannot start worker %d\n", i);
			return 1;
		}
	}
	worker((void *)(size_t)fd);
	return 0;
}
