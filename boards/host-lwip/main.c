/*
 * main.c - the host-lwip board: fcgate on port/lwip in a Linux process,
 * with a TAP device (tapif.c) for its Ethernet, so that the firmware's
 * network path runs under ASan, UBSan and gdb.
 *
 * The kernel's sockets are not used: lwIP owns the address on its side of
 * the TAP (NET_IPADDR from Kconfig). Needs root for /dev/net/tun; see
 * scripts/netns.sh for a namespace with the device and the peer address.
 */
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/netif.h"
#include "lwip/sys.h"

#include "addr.h"
#include "gw.h"
#include "gw_config.h"
#include "log.h"
#include "port.h"
#include "port_lwip.h"
#include "route.h"
#include "tapif.h"

extern const struct route_table route_table_builtin;

static volatile sig_atomic_t stop_requested;
static int stop_reported;
static struct netif netif;
static const char *tap_name = "fcg0";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fcgate-lwip [options]\n"
		"  --tap NAME   the TAP device to use (default fcg0); lwIP takes\n"
		"               " CONFIG_NET_IPADDR " on it and serves " CONFIG_LISTEN_ADDR ":%d\n"
		"  --help, --version\n"
		"Root only. scripts/netns.sh up NAME makes a namespace with the device;\n"
		"run this with 'ip netns exec NAME'. Routes are compiled in from\n"
		CONFIG_ROUTE_FILE ".\n", CONFIG_LISTEN_PORT);
}

/* --- what port/lwip asks of a board ------------------------------------- */

void board_halt(void)
{
	abort();        /* a core dump, or gdb stops here */
}

void board_net_poll(void)
{
	tapif_poll(&netif);
}

/*
 * A stop signal is reported once: the loop then leaves gw_poll(), and the
 * waits of gw_drain() that follow sleep again. A signal that lands between
 * the check and poll(2) is seen when poll returns, at most max_ms late.
 */
int board_net_idle(uint32_t max_ms)
{
	struct pollfd pfd = { .fd = tapif_fd(), .events = POLLIN };

	if (stop_requested && !stop_reported) {
		stop_reported = 1;
		return 1;
	}
	poll(&pfd, 1, max_ms > INT_MAX ? -1 : (int)max_ms);
	if (stop_requested && !stop_reported) {
		stop_reported = 1;
		return 1;
	}
	return 0;
}

/* lwIP's clock (NO_SYS): port_now_ms(), from port/posix/clock_posix.c. */
u32_t sys_now(void)
{
	return port_now_ms();
}

/* --- the program ----------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* No SA_RESTART: the signal must cut poll(2) in board_net_idle() short. */
static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void report(void)
{
	struct gw_stats g;
	struct port_lwip_stats p;
	struct tapif_stats t;

	gw_get_stats(&g);
	port_lwip_get_stats(&p);
	tapif_get_stats(&t);
	fprintf(stderr, "fcgate-lwip: requests %" PRIu64 ", errors %" PRIu64 ", bytes in %" PRIu64
		", bytes out %" PRIu64 ", up %" PRIu32 " ms\n",
		g.requests, g.errors, g.bytes_in, g.bytes_out, g.uptime_ms);
	fprintf(stderr, "fcgate-lwip: lwIP connections accepted %" PRIu32 ", refused %" PRIu32
		", reset %" PRIu32 ", sockets at most %" PRIu32 "\n",
		p.accepted, p.refused, p.resets, p.sock_peak);
	fprintf(stderr, "fcgate-lwip: %s frames in %" PRIu32 " (dropped: no pbuf %" PRIu32
		", bad %" PRIu32 "), out %" PRIu32 " (dropped %" PRIu32 ", failed %" PRIu32 ")\n",
		tap_name, t.rx_frames, t.rx_nomem, t.rx_errors, t.tx_frames, t.tx_dropped, t.tx_errors);
}

int main(int argc, char **argv)
{
	struct port_addr addr;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("fcgate %s (lwIP over TAP)\n", GW_VERSION);
			return 0;
		} else if (strcmp(a, "--tap") == 0 && i + 1 < argc) {
			tap_name = argv[++i];
		} else {
			fprintf(stderr, "fcgate-lwip: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return 1;
		}
	}
	memset(&addr, 0, sizeof(addr));
	addr.family = PORT_AF_INET;
	addr.port = CONFIG_LISTEN_PORT;
	if (addr_parse_ipv4(CONFIG_LISTEN_ADDR, strlen(CONFIG_LISTEN_ADDR), addr.ip) != 0) {
		fprintf(stderr, "fcgate-lwip: LISTEN_ADDR '%s' is not an IPv4 address\n",
			CONFIG_LISTEN_ADDR);
		return 1;
	}
	install_signals();
	/* netif->state is the device name; tapif_init() only reads it. */
	if (port_lwip_start(&netif, tapif_init, (void *)tap_name) != 0) {
		fprintf(stderr, "fcgate-lwip: lwIP did not start on %s\n", tap_name);
		return 1;
	}
	r = gw_start(&route_table_builtin, &addr);
	if (r != 0) {
		fprintf(stderr, "fcgate-lwip: cannot listen on %s:%d (port result %d)\n",
			CONFIG_LISTEN_ADDR, CONFIG_LISTEN_PORT, r);
		return 1;
	}
	while (!stop_requested)
		gw_poll(GW_POLL_MAX_MS);
	gw_drain(CONFIG_SHUTDOWN_GRACE * 1000u);
	LOG_I("stopped");
	report();
	return 0;
}
