/*
 * route_keys.h - the key=value arguments of the route directives: the
 * worker keys of ProxyPass and BalancerMember (mod_proxy's names, with
 * its defaults and ranges) and ProxySet's lbmethod. The route keys
 * (require=, limitrequestbody=) are route.c's and route_acl.c's.
 *
 * Part of the route parser: route.c splits a line into tokens and words
 * the messages; this says what each key means. Values are slices of the
 * line (pointer and length, no NUL).
 */
#ifndef FCGATE_ROUTE_KEYS_H
#define FCGATE_ROUTE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

/* The keys each directive accepts, as its "unknown key" message lists them. */
#define ROUTE_KEYS_WORKER "disablereuse, enablereuse, max, ttl, timeout, connectiontimeout, retry"
#define ROUTE_KEYS_MEMBER ROUTE_KEYS_WORKER ", lbfactor, status"
/* The route's own keys (fcgate's), on ProxyPass, StatusPage and Alias. */
#define ROUTE_KEYS_ROUTE "require, limitrequestbody, authorizer"

/* Apache's LimitRequestBody maximum (2 GiB - 1); 0 there means no limit. */
#define ROUTE_BODY_LIMIT_MAX 2147483647u

enum route_key_result {
	ROUTE_KEY_OK = 0,
	ROUTE_KEY_UNKNOWN = -1,         /* not a key of this directive */
	ROUTE_KEY_BAD_VALUE = -2,       /* a known key with a value out of range */
};

/* The defaults of a ProxyPass backend (member 0) or a BalancerMember (1). */
void route_params_defaults(struct route_params *pr, int member);

/*
 * Apply key=value to pr; keys match case-insensitively, the last of a
 * repeated key wins. Returns an enum route_key_result. On
 * ROUTE_KEY_BAD_VALUE, *name is the key's canonical name and *expect
 * what its value should be ("1..65535"), for the message.
 */
int route_param_set(struct route_params *pr, int member,
		    const char *key, size_t key_len, const char *val, size_t val_len,
		    const char **name, const char **expect);

/* ProxySet lbmethod=byrequests|bybusyness -> enum route_lbmethod; 0 or -1. */
int route_parse_lbmethod(const char *val, size_t len, uint8_t *method);

/* A decimal number min..max, digits only: no sign, no spaces, no unit. */
int route_parse_uint(const char *s, size_t len, uint32_t min, uint32_t max,
		     uint32_t *out);

#endif
