/*
 * route_keys.c - what the key=value arguments of the route directives
 * mean (route_keys.h). Names, defaults and ranges follow mod_proxy's
 * ProxyPass worker parameters, so that Apache configurations carry over;
 * only the keys that matter to a FastCGI gateway are known.
 */
#include <string.h>

#include "route_keys.h"

/* Limits and defaults of the worker keys (mod_proxy's ProxyPass). */
#define ROUTE_SECONDS_MAX 86400u        /* ttl, timeout, retry: one day */
#define ROUTE_MS_PER_S 1000u
#define ROUTE_TTL_DEFAULT_S 30u
#define ROUTE_MEMBER_RETRY_S 60u        /* mod_proxy's retry for a worker */
#define ROUTE_CONN_MAX 65535u
#define ROUTE_LBFACTOR_MIN 1u
#define ROUTE_LBFACTOR_MAX 100u

/* ProxyPass takes the keys before P_WORKER_KEYS, BalancerMember them all. */
enum param_key {
	P_DISABLEREUSE, P_ENABLEREUSE, P_MAX, P_TTL, P_TIMEOUT, P_CONNTIMEOUT,
	P_RETRY, P_WORKER_KEYS = P_RETRY + 1, P_LBFACTOR = P_WORKER_KEYS, P_STATUS,
	P_MEMBER_KEYS
};

static const char *const param_names[P_MEMBER_KEYS] = {
	"disablereuse", "enablereuse", "max", "ttl", "timeout",
	"connectiontimeout", "retry", "lbfactor", "status",
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..len) equals the lower-case word, ignoring ASCII case. */
static int word_ieq(const char *s, size_t len, const char *word)
{
	if (len != strlen(word))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (lower(s[i]) != word[i])
			return 0;
	return 1;
}

int route_parse_uint(const char *s, size_t len, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10u + (uint32_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

void route_params_defaults(struct route_params *pr, int member)
{
	memset(pr, 0, sizeof *pr);
	pr->ttl_ms = ROUTE_TTL_DEFAULT_S * ROUTE_MS_PER_S;
	pr->retry_ms = member ? ROUTE_MEMBER_RETRY_S * ROUTE_MS_PER_S : 0;
	pr->lbfactor = ROUTE_LBFACTOR_MIN;
}

/* status=: a run of [+-]H / [+-]D; no sign means '+', as in Apache. */
static int parse_status(const char *v, size_t n, uint8_t *flags)
{
	uint8_t f = *flags;
	size_t i = 0;

	if (n == 0)
		return -1;
	while (i < n) {
		int set = 1;
		uint8_t bit;

		if (v[i] == '+' || v[i] == '-')
			set = v[i++] == '+';
		if (i == n)
			return -1;
		bit = lower(v[i]) == 'h' ? ROUTE_F_STANDBY :
		      lower(v[i]) == 'd' ? ROUTE_F_DISABLED : 0;
		if (!bit)
			return -1;
		f = set ? (uint8_t)(f | bit) : (uint8_t)(f & ~bit);
		i++;
	}
	*flags = f;
	return 0;
}

/* on/off, case-insensitive like Apache's flags; noreuse_when says which sets NOREUSE. */
static int set_reuse(struct route_params *pr, const char *v, size_t n, int noreuse_when_on)
{
	int on;

	if (word_ieq(v, n, "on"))
		on = 1;
	else if (word_ieq(v, n, "off"))
		on = 0;
	else
		return -1;
	if (on == noreuse_when_on)
		pr->flags |= ROUTE_F_NOREUSE;
	else
		pr->flags &= (uint8_t)~ROUTE_F_NOREUSE;
	return 0;
}

static int set_seconds(uint32_t *ms, const char *v, size_t n)
{
	uint32_t s;

	if (route_parse_uint(v, n, 0, ROUTE_SECONDS_MAX, &s))
		return -1;
	*ms = s * ROUTE_MS_PER_S;
	return 0;
}

static int apply_param(struct route_params *pr, enum param_key k, const char *v, size_t n)
{
	uint32_t u;

	switch (k) {
	case P_DISABLEREUSE: return set_reuse(pr, v, n, 1);
	case P_ENABLEREUSE:  return set_reuse(pr, v, n, 0);
	case P_TTL:          return set_seconds(&pr->ttl_ms, v, n);
	case P_TIMEOUT:      return set_seconds(&pr->timeout_ms, v, n);
	case P_CONNTIMEOUT:  return set_seconds(&pr->connect_timeout_ms, v, n);
	case P_RETRY:        return set_seconds(&pr->retry_ms, v, n);
	case P_STATUS:       return parse_status(v, n, &pr->flags);
	case P_MAX:
		if (route_parse_uint(v, n, 1, ROUTE_CONN_MAX, &u))
			return -1;
		pr->max = (uint16_t)u;
		return 0;
	case P_LBFACTOR:
		if (route_parse_uint(v, n, ROUTE_LBFACTOR_MIN, ROUTE_LBFACTOR_MAX, &u))
			return -1;
		pr->lbfactor = (uint8_t)u;
		return 0;
	default:
		return -1;
	}
}

static const char *param_expect(enum param_key k)
{
	switch (k) {
	case P_DISABLEREUSE:
	case P_ENABLEREUSE: return "on or off";
	case P_MAX:         return "1..65535";
	case P_LBFACTOR:    return "1..100";
	case P_STATUS:      return "+H, -H, +D or -D";
	default:            return "seconds, 0..86400";
	}
}

int route_param_set(struct route_params *pr, int member,
		    const char *key, size_t key_len, const char *val, size_t val_len,
		    const char **name, const char **expect)
{
	unsigned nkeys = member ? P_MEMBER_KEYS : P_WORKER_KEYS;
	unsigned k = 0;

	while (k < nkeys && !word_ieq(key, key_len, param_names[k]))
		k++;
	if (k == nkeys)
		return ROUTE_KEY_UNKNOWN;
	if (apply_param(pr, (enum param_key)k, val, val_len)) {
		*name = param_names[k];
		*expect = param_expect((enum param_key)k);
		return ROUTE_KEY_BAD_VALUE;
	}
	return ROUTE_KEY_OK;
}

int route_parse_lbmethod(const char *val, size_t len, uint8_t *method)
{
	if (word_ieq(val, len, "byrequests"))
		*method = ROUTE_LB_BYREQUESTS;
	else if (word_ieq(val, len, "bybusyness"))
		*method = ROUTE_LB_BYBUSYNESS;
	else
		return -1;
	return 0;
}
