/*
 * status.c - the status page: fcgate's counters as JSON, mounted by a
 * StatusPage line of the route file (guard it with require=).
 *
 * The body is written twice: once to count its bytes for Content-Length,
 * once for real, both straight into the slot's output buffer.
 */
#include <string.h>

#include "log.h"
#include "member.h"
#include "slot.h"

#if CONFIG_STATUS_PAGE

struct json {
	struct client *c;
	size_t len;             /* bytes the body takes */
	int dry;                /* count only */
	int err;
};

static void put(struct json *j, const char *s, size_t n)
{
	j->len += n;
	if (!j->dry && slot_out_put(j->c, s, n) < 0)
		j->err = 1;
}

static void put_str(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void put_num(struct json *j, const char *key, unsigned long long v)
{
	char tmp[48];
	put(j, tmp, log_format(tmp, sizeof(tmp), "\"%s\":%llu", key, v));
}

/* A JSON string of route-file text: only printable ASCII reaches it. */
static void put_text(struct json *j, const char *key, const char *s, size_t n)
{
	put_str(j, "\"");
	put_str(j, key);
	put_str(j, "\":\"");
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '"' || ch == '\\')
			put(j, "\\", 1);
		put(j, (ch >= ' ' && ch < 127) ? &ch : "?", 1);
	}
	put_str(j, "\"");
}

static void put_member(struct json *j, unsigned m)
{
	const struct route_member *rm = &gw_routes->members[m];
	const struct member_state *st = &gw_member_state[m];
	char where[64];
	size_t n;

	if (rm->unix_path.len > 0)
		n = log_format(where, sizeof(where), "unix:%.*s", (int)rm->unix_path.len,
			       route_cstr(gw_routes, rm->unix_path));
	else
		n = log_format(where, sizeof(where), "%.*s:%u", (int)rm->host.len,
			       route_cstr(gw_routes, rm->host), rm->addr.port);
	put_str(j, "{");
	put_text(j, "address", where, n);
	if (rm->balancer >= 0) {
		const struct route_balancer *b = &gw_routes->balancers[rm->balancer];
		put_str(j, ",");
		put_text(j, "balancer", route_cstr(gw_routes, b->name), b->name.len);
	}
	put_str(j, member_usable(gw_routes, m, gw_now) ? ",\"state\":\"ok\"," : ",\"state\":\"error\",");
	put_num(j, "busy", st->busy);
	put_str(j, ",");
	put_num(j, "connections", st->conns);
	put_str(j, ",");
	put_num(j, "max", member_max_conns(gw_routes, m, gw_now));
	put_str(j, ",");
	put_num(j, "learned_max", st->learned_max);
	put_str(j, ",");
	put_num(j, "requests", st->requests);
	put_str(j, ",");
	put_num(j, "failures", st->failures);
	put_str(j, ",");
	put_num(j, "reused", st->reused);
	put_str(j, ",");
	put_num(j, "opened", st->opened);
	put_str(j, "}");
}

static void put_body(struct json *j)
{
	struct gw_stats s;
	unsigned idle = 0;

	gw_get_stats(&s);
	for (unsigned i = 0; i < CONFIG_BACKEND_SLOTS; i++)
		idle += gw_backends[i].state == B_IDLE;
	put_str(j, "{");
	put_num(j, "uptime_s", s.uptime_ms / 1000u);
	put_str(j, ",\"clients\":{");
	put_num(j, "busy", s.clients_busy);
	put_str(j, ",");
	put_num(j, "free", GW_CLIENT_SLOTS - s.clients_busy);
	put_str(j, "},\"backends\":{");
	put_num(j, "busy", s.backends_busy - idle);
	put_str(j, ",");
	put_num(j, "idle", idle);
	put_str(j, ",");
	put_num(j, "free", CONFIG_BACKEND_SLOTS - s.backends_busy);
	put_str(j, "},");
	put_num(j, "requests", s.requests);
	put_str(j, ",");
	put_num(j, "errors", s.errors);
	put_str(j, ",");
	put_num(j, "bytes_in", s.bytes_in);
	put_str(j, ",");
	put_num(j, "bytes_out", s.bytes_out);
	put_str(j, ",\"members\":[");
	for (unsigned m = 0; m < gw_routes->member_count; m++) {
		if (m > 0)
			put_str(j, ",");
		put_member(j, m);
	}
	put_str(j, "]}\n");
}

void status_respond(struct client *c)
{
	struct json j = { c, 0, 1, 0 };
	int r;

	put_body(&j);                   /* dry run: the length */
	c->out_off = c->out_len = 0;
	c->no_body = c->req.method.len == 4 && memcmp(c->req.method.p, "HEAD", 4) == 0;
	r = request_write_head(c, 200, (struct http_slice){ NULL, 0 });
	r |= slot_out_str(c, "Content-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ");
	r |= slot_out_uint(c, j.len, 10);
	r |= slot_out_str(c, "\r\n");
	r |= request_end_head(c);
	request_body_starts(c);
	if (r == 0 && !c->no_body) {
		j.dry = 0;
		j.len = 0;
		put_body(&j);
		r = j.err ? -1 : 0;
	}
	if (r != 0) {
		c->out_off = c->out_len = 0;
		request_respond_error(c, 500, "status page larger than CLIENT_OUT_BUF");
		return;
	}
	request_send_local(c);
}

#endif
