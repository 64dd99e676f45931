/*
 * tapif.h - an lwIP netif on a Linux TAP device, so that port/lwip runs in
 * an ordinary process (under ASan, UBSan, gdb) instead of on a board.
 *
 * The device must exist (scripts/netns.sh creates one in a network
 * namespace); tapif_init() attaches to it by name. Frames move only when
 * the loop calls tapif_poll(): nothing here runs from a signal or a thread.
 */
#ifndef FCGATE_TAPIF_H
#define FCGATE_TAPIF_H

#include <stdint.h>

#include "lwip/err.h"

struct netif;

/*
 * netif init function for netif_add(): nif->state is the device name
 * (const char *, e.g. "fcg0"), a TAP device that must exist already.
 * Opens it non-blocking; ERR_ARG or ERR_IF on failure, the reason on stderr.
 */
err_t tapif_init(struct netif *nif);

/* Hand every frame waiting on the device to nif->input. */
void tapif_poll(struct netif *nif);

/* The device's file descriptor, to sleep on with poll(2); -1 before init. */
int tapif_fd(void);

struct tapif_stats {
	uint32_t rx_frames;     /* frames handed to lwIP */
	uint32_t rx_nomem;      /* frames dropped: no PBUF_POOL buffer free */
	uint32_t rx_errors;     /* read errors, oversized frames, input refused */
	uint32_t tx_frames;     /* frames written */
	uint32_t tx_dropped;    /* frames lost to a full device queue */
	uint32_t tx_errors;     /* other write errors, oversized chains */
};
void tapif_get_stats(struct tapif_stats *out);

#endif
