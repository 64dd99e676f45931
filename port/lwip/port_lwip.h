/*
 * port_lwip.h - what a board on lwIP provides to port/lwip, and what
 * port/lwip gives back.
 *
 * port/lwip implements port.h's socket calls and port_wait() on lwIP's raw
 * TCP API with NO_SYS=1. Everything runs in one loop: port_wait() moves
 * received frames into lwIP (board_net_poll), runs lwIP's timers, and
 * sleeps in board_net_idle() when nothing is ready. lwIP is never entered
 * from an interrupt.
 *
 * A board also implements port_now_ms(), port_wall_clock() and
 * port_log_write() from port.h, and lwIP's sys_now() (NO_SYS needs it).
 */
#ifndef FCGATE_PORT_LWIP_H
#define FCGATE_PORT_LWIP_H

#include <stdint.h>

struct netif;

/* Move every frame the interface has received into lwIP (netif->input). */
void board_net_poll(void);

/*
 * Sleep until a frame may have arrived or max_ms pass, whichever is first
 * (a board may return early at any time). Nonzero means the board wants
 * the loop's attention (a stop request on its console, say): port_wait()
 * then returns 0 at once, as poll(2) does on a signal.
 */
int board_net_idle(uint32_t max_ms);

/* Stop for good after a fatal error (an lwIP assertion): the message is out. */
void board_halt(void) __attribute__((noreturn));

/*
 * Start lwIP and bring up nif with the address from Kconfig (NET_IPADDR,
 * NET_NETMASK, NET_GATEWAY, or DHCP when NET_DHCP is on): lwip_init(),
 * netif_add(nif, ..., init, netif_input), default, up. Returns 0 or -1.
 */
int port_lwip_start(struct netif *nif, int8_t (*init)(struct netif *nif), void *state);

/* Counters of the port, for a board's console report. */
struct port_lwip_stats {
	uint32_t accepted;      /* connections handed to the core */
	uint32_t refused;       /* connections dropped: no free socket */
	uint32_t resets;        /* connections lost to a reset or abort */
	uint32_t sock_peak;     /* most sockets in use at once */
};
void port_lwip_get_stats(struct port_lwip_stats *out);

#endif
