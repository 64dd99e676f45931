/*
 * routegen - compile an Apache-style route file into a C route table.
 *
 *   routegen [--numeric-only] FILE > routes.c
 *
 * Parses FILE with core/route.c, the same parser the host program uses
 * for --conf lines, and writes `route_table_builtin` as designated
 * initialisers. On error it prints FILE:LINE: message and exits 1, which
 * fails the build. --numeric-only (firmware builds, which cannot resolve
 * names) rejects a backend given by a DNS name (a unix: socket is fine).
 */
#include <stdio.h>
#include <string.h>

#include "route.h"

#define ROUTEGEN_LINE_MAX 4096          /* bytes per line, without the newline */
#define ROUTEGEN_BYTES_PER_ROW 12       /* string pool bytes per output line */
#define ROUTEGEN_IPV4_LEN 4             /* an IPv4 address uses ip[0..3] */
#define ROUTEGEN_IPV6_LEN 16

static struct route_table table;        /* too big for some stacks */
static struct route_parser parser;

static int usage(void)
{
	fputs("usage: routegen [--numeric-only] FILE\n", stderr);
	return 1;
}

/*
 * Read one line without its newline into buf. Returns its length, -1 at
 * end of file, or -2 when it is longer than ROUTEGEN_LINE_MAX (the rest
 * of that line is skipped).
 */
static long read_line(FILE *f, char *buf)
{
	long n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n == ROUTEGEN_LINE_MAX) {
			while ((c = getc(f)) != EOF && c != '\n')
				;
			return -2;
		}
		buf[n++] = (char)c;
	}
	return (c == EOF && n == 0) ? -1 : n;
}

/* With every earlier line checked, an unresolved member is this line's. */
static const struct route_member *unresolved_member(const struct route_table *t)
{
	for (unsigned i = 0; i < t->member_count; i++)
		if (t->members[i].addr.family == 0 && t->members[i].unix_path.len == 0)
			return &t->members[i];
	return NULL;
}

static int parse_file(const char *name, FILE *f, int numeric_only)
{
	static char buf[ROUTEGEN_LINE_MAX];
	struct route_error err;
	const struct route_member *m;
	long n;

	route_begin(&parser, &table);
	while ((n = read_line(f, buf)) != -1) {
		if (n == -2) {
			fprintf(stderr, "%s:%u: line too long (more than %d bytes)\n",
				name, parser.line + 1, ROUTEGEN_LINE_MAX);
			return -1;
		}
		if (route_parse_line(&parser, buf, (size_t)n, &err)) {
			fprintf(stderr, "%s:%u: %s\n", name, err.line, err.msg);
			return -1;
		}
		m = numeric_only ? unresolved_member(&table) : NULL;
		if (m) {
			fprintf(stderr, "%s:%u: host '%.*s' is a name; this build needs an "
				"IP address or localhost (--numeric-only)\n", name, parser.line,
				(int)m->host.len, route_cstr(&table, m->host));
			return -1;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", name);
		return -1;
	}
	if (route_end(&parser, &err)) {
		fprintf(stderr, "%s:%u: %s\n", name, err.line, err.msg);
		return -1;
	}
	return 0;
}

static const char *kind_name(uint8_t kind)
{
	switch (kind) {
	case ROUTE_PROXY:    return "ROUTE_PROXY";
	case ROUTE_BALANCER: return "ROUTE_BALANCER";
	case ROUTE_EXCLUDE:  return "ROUTE_EXCLUDE";
	case ROUTE_STATUS:   return "ROUTE_STATUS";
	case ROUTE_ROM:      return "ROUTE_ROM";
	case ROUTE_DIR:      return "ROUTE_DIR";
	default:             return "ROUTE_REDIRECT";
	}
}

static const char *acl_mode_name(uint8_t mode)
{
	switch (mode) {
	case ROUTE_ACL_IP:      return "ROUTE_ACL_IP";
	case ROUTE_ACL_GRANTED: return "ROUTE_ACL_GRANTED";
	case ROUTE_ACL_DENIED:  return "ROUTE_ACL_DENIED";
	default:                return "ROUTE_ACL_NONE";
	}
}

static void print_acl(const struct route_acl *a)
{
	printf("{ .first = %u, .count = %u, .mode = %s }", a->first, a->count,
	       acl_mode_name(a->mode));
}

/* ip[] as a C list: 4 bytes for IPv4, all 16 for IPv6. */
static void print_ip(uint8_t family, const uint8_t *ip)
{
	unsigned len = family == PORT_AF_INET6 ? ROUTEGEN_IPV6_LEN : ROUTEGEN_IPV4_LEN;

	fputs("{", stdout);
	for (unsigned k = 0; k < len; k++)
		printf("%s%u", k ? ", " : " ", ip[k]);
	fputs(" }", stdout);
}

static void emit_routes(const struct route_table *t)
{
	puts("\t.routes = {");
	for (unsigned i = 0; i < t->route_count; i++) {
		const struct route *r = &t->routes[i];

		printf("\t\t[%u] = { .kind = %s, .status = %u, .target = %u,\n"
		       "\t\t\t.prefix = { %u, %u }, .url = { %u, %u },\n\t\t\t.acl = ",
		       i, kind_name(r->kind), r->status, r->target,
		       r->prefix.off, r->prefix.len, r->url.off, r->url.len);
		print_acl(&r->acl);
		printf(", .limit_body = %lu, .authorizer = %d },\n", (unsigned long)r->limit_body,
		       r->authorizer);
	}
	puts("\t},");
}

static void emit_member(unsigned i, const struct route_member *m)
{
	const struct route_params *p = &m->params;

	printf("\t\t[%u] = {\n\t\t\t.addr = { .family = %u, .port = %u, .ip = ",
	       i, m->addr.family, m->addr.port);
	print_ip(m->addr.family, m->addr.ip);
	printf(" },\n\t\t\t.unix_path = { %u, %u },\n", m->unix_path.off, m->unix_path.len);
	printf("\t\t\t.host = { %u, %u }, .docroot = { %u, %u },\n",
	       m->host.off, m->host.len, m->docroot.off, m->docroot.len);
	printf("\t\t\t.params = { .timeout_ms = %lu, .connect_timeout_ms = %lu,\n"
	       "\t\t\t\t.retry_ms = %lu, .ttl_ms = %lu, .max = %u,\n"
	       "\t\t\t\t.lbfactor = %u, .flags = 0x%02x },\n",
	       (unsigned long)p->timeout_ms, (unsigned long)p->connect_timeout_ms,
	       (unsigned long)p->retry_ms, (unsigned long)p->ttl_ms, p->max,
	       p->lbfactor, p->flags);
	printf("\t\t\t.balancer = %d },\n", m->balancer);
}

static void emit_balancers(const struct route_table *t)
{
	puts("\t.balancers = {");
	for (unsigned i = 0; i < t->balancer_count; i++) {
		const struct route_balancer *b = &t->balancers[i];

		printf("\t\t[%u] = { .name = { %u, %u }, .lbmethod = %s,\n"
		       "\t\t\t.first_member = %u, .member_count = %u },\n",
		       i, b->name.off, b->name.len,
		       b->lbmethod == ROUTE_LB_BYBUSYNESS ? "ROUTE_LB_BYBUSYNESS" :
		       "ROUTE_LB_BYREQUESTS", b->first_member, b->member_count);
	}
	puts("\t},");
}

/* Address blocks and the global Require rule and LimitRequestBody. */
static void emit_access(const struct route_table *t)
{
	if (t->cidr_count) {
		puts("\t.cidrs = {");
		for (unsigned i = 0; i < t->cidr_count; i++) {
			const struct route_cidr *c = &t->cidrs[i];

			printf("\t\t[%u] = { .family = %u, .bits = %u, .ip = ", i, c->family, c->bits);
			print_ip(c->family, c->ip);
			puts(" },");
		}
		puts("\t},");
	}
	printf("\t.cidr_count = %u,\n\t.global_acl = ", t->cidr_count);
	print_acl(&t->global_acl);
	printf(",\n\t.global_limit_body = %lu,\n", (unsigned long)t->global_limit_body);
}

/* DirectoryIndex, Header set and ErrorDocument lines. */
static void emit_ui(const struct route_table *t)
{
	printf("\t.dir_index = { %u, %u },\n", t->dir_index.off, t->dir_index.len);
	printf("\t.header_count = %u,\n\t.errdoc_count = %u,\n", t->header_count,
	       t->errdoc_count);
	if (t->header_count) {
		puts("\t.headers = {");
		for (unsigned i = 0; i < t->header_count; i++) {
			const struct route_header *h = &t->headers[i];

			printf("\t\t[%u] = { .name = { %u, %u }, .value = { %u, %u }, "
			       ".prefix = { %u, %u } },\n", i, h->name.off, h->name.len,
			       h->value.off, h->value.len, h->prefix.off, h->prefix.len);
		}
		puts("\t},");
	}
	if (t->errdoc_count) {
		puts("\t.errdocs = {");
		for (unsigned i = 0; i < t->errdoc_count; i++)
			printf("\t\t[%u] = { .status = %u, .path = { %u, %u } },\n", i,
			       t->errdocs[i].status, t->errdocs[i].path.off, t->errdocs[i].path.len);
		puts("\t},");
	}
}

/*
 * The pool as a list of characters, exactly strings_len of them: a
 * string literal would need room for its NUL when the pool is full.
 */
static void emit_strings(const struct route_table *t)
{
	puts("\t.strings = {");
	for (unsigned i = 0; i < t->strings_len; i++) {
		unsigned char c = (unsigned char)t->strings[i];

		if (i % ROUTEGEN_BYTES_PER_ROW == 0)
			fputs("\t\t", stdout);
		if (c == '\'' || c == '\\')
			printf("'\\%c',", c);
		else if (c >= ' ' && c < 0x7f)
			printf("'%c',", c);
		else
			printf("'\\x%02x',", c);
		fputs((i + 1) % ROUTEGEN_BYTES_PER_ROW == 0 || i + 1 == t->strings_len ?
		      "\n" : " ", stdout);
	}
	puts("\t},");
}

static void emit(const char *name, const struct route_table *t)
{
	printf("/* Generated by scripts/routegen from %s; do not edit. */\n", name);
	puts("#include \"route.h\"\n");
	puts("const struct route_table route_table_builtin = {");
	printf("\t.route_count = %u,\n\t.member_count = %u,\n"
	       "\t.balancer_count = %u,\n\t.strings_len = %u,\n",
	       t->route_count, t->member_count, t->balancer_count, t->strings_len);
	if (t->route_count)
		emit_routes(t);
	if (t->member_count) {
		puts("\t.members = {");
		for (unsigned i = 0; i < t->member_count; i++)
			emit_member(i, &t->members[i]);
		puts("\t},");
	}
	if (t->balancer_count)
		emit_balancers(t);
	emit_access(t);
	emit_ui(t);
	if (t->strings_len)
		emit_strings(t);
	puts("};");
}

int main(int argc, char **argv)
{
	int numeric_only = 0, rc;
	const char *name;
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "--numeric-only") == 0)
		numeric_only = 1;
	else if (argc != 2 || argv[1][0] == '-')
		return usage();
	name = argv[argc - 1];
	f = fopen(name, "r");
	if (!f) {
		perror(name);
		return 1;
	}
	rc = parse_file(name, f, numeric_only);
	fclose(f);
	if (rc)
		return 1;
	emit(name, &table);
	if (fflush(stdout) || ferror(stdout)) {
		perror("routegen: stdout");
		return 1;
	}
	return 0;
}
