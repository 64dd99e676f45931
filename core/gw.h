/*
 * gw.h - the gateway as a board sees it: start, run the loop, stop.
 *
 *     gw_start(&routes, &addr);
 *     while (!stop_requested)
 *             gw_poll(GW_POLL_MAX_MS);
 *     gw_drain(grace_ms);
 */
#ifndef FCGATE_GW_H
#define FCGATE_GW_H

#include <stdint.h>

#include "port.h"
#include "route.h"

/* Longest single wait, so a board's stop flag is looked at this often. */
#define GW_POLL_MAX_MS 500

/* Listen on addr and serve the routes; returns 0 or a negative port result. */
int gw_start(const struct route_table *routes, const struct port_addr *addr);

/*
 * After gw_start() and tls_init(): also listen for HTTPS on addr, served
 * by the TLS slots. Returns 0 or a negative port result.
 */
int gw_start_tls(const struct port_addr *addr);

/* The addresses actually bound (the port chosen when 0 was asked). */
const struct port_addr *gw_listen_addr(void);
const struct port_addr *gw_tls_listen_addr(void);

/* Wait for readiness (at most max_wait_ms) and step every ready slot. */
void gw_poll(int max_wait_ms);

/*
 * Stop accepting, let requests in flight finish for up to grace_ms, then
 * close every connection.
 */
void gw_drain(uint32_t grace_ms);

/* Counters, for logs and tests. */
struct gw_stats {
	uint32_t clients_busy;
	uint32_t backends_busy;         /* connecting, active or idle in the pool */
	uint32_t uptime_ms;
	uint64_t requests;
	uint64_t errors;                /* 5xx answers */
	uint64_t bytes_in;              /* from clients */
	uint64_t bytes_out;             /* to clients */
};
void gw_get_stats(struct gw_stats *out);



/* The static RAM the gateway's slots and tables take, for --check-config and make size. */
struct gw_budget {
	size_t client_slot;     /* bytes per client slot */
	size_t backend_slot;    /* bytes per backend slot */
	size_t clients;         /* all client slots */
	size_t backends;        /* all backend slots */
	size_t route_table;     /* one route table */
	size_t poll_set;        /* the poll set and its list of entries to work out again */
	size_t total;
};
void gw_get_budget(struct gw_budget *out);

/*
 * A slot's poll interest may have changed outside its own events (a
 * backend lent, pooled or closed; a waiting client given a backend): its
 * poll entry is worked out again before the next wait.
 */
struct client;
struct backend;
void gw_touch_client(const struct client *c);
void gw_touch_backend(const struct backend *b);
#endif
