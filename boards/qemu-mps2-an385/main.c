/*
 * main.c - the qemu-mps2-an385 board: fcgate as Cortex-M3 firmware.
 *
 * One loop, no RTOS: the gateway's gw_poll() waits in port_wait(), which
 * polls the LAN9118's FIFOs, runs lwIP's timers and sleeps in WFI until
 * the next interrupt (the 1 ms SysTick, or the LAN9118's RX line).
 *
 * The console (CMSDK UART0) carries the logs and takes one-letter
 * commands: 's' prints the counters, 'q' stops accepting, lets requests in
 * flight finish, prints the counters and leaves QEMU through semihosting
 * (exit code 0), which is how the tests shut the image down.
 */
#include <stdarg.h>
#include <string.h>

#include "lwip/netif.h"
#include "lwip/sys.h"

#include "addr.h"
#include "gw.h"
#include "gw_config.h"
#include "hw.h"
#include "lan9118.h"
#include "log.h"
#include "port.h"
#include "port_lwip.h"
#include "route.h"
#include "tls.h"

extern const struct route_table route_table_builtin;
#if CONFIG_TLS
extern const unsigned char tls_builtin_cert[], tls_builtin_key[];
extern const size_t tls_builtin_cert_len, tls_builtin_key_len;
#endif

static struct netif netif;
static volatile int stop_requested;

/* --- what port.h and lwIP ask of the board --------------------------------- */

uint32_t port_now_ms(void)
{
	return hw_ms();
}

uint32_t sys_now(void)
{
	return hw_ms();
}

int64_t port_wall_clock(void)
{
	return -1;      /* no RTC: responses carry no Date field */
}

void port_log_write(const char *line, size_t len)
{
	uart_write(line, len);
}

void board_halt(void)
{
	hw_exit(3);
}

/* --- the console ---------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	uart_write(line, n);
}

static void report(void)
{
	struct gw_stats g;
	struct port_lwip_stats p;
	struct lan9118_stats e;

	gw_get_stats(&g);
	port_lwip_get_stats(&p);
	lan9118_get_stats(&e);
	say("stats: requests %llu errors %llu bytes_in %llu bytes_out %llu uptime_ms %u\n",
	    (unsigned long long)g.requests, (unsigned long long)g.errors,
	    (unsigned long long)g.bytes_in, (unsigned long long)g.bytes_out,
	    (unsigned)g.uptime_ms);
	say("stats: accepted %u refused %u resets %u sockets_peak %u\n",
	    (unsigned)p.accepted, (unsigned)p.refused, (unsigned)p.resets,
	    (unsigned)p.sock_peak);
	say("stats: rx_frames %u tx_frames %u rx_drops %u tx_errors %u\n",
	    (unsigned)e.rx_frames, (unsigned)e.tx_frames, (unsigned)e.rx_drops,
	    (unsigned)e.tx_errors);
#if CONFIG_TLS
	{
		struct tls_stats t;

		tls_get_stats(&t);
		say("stats: tls full %u resumed %u failed %u refused %u arena_peak %u\n",
		    (unsigned)t.handshakes_full, (unsigned)t.handshakes_resumed,
		    (unsigned)t.handshake_failures, (unsigned)t.refused_nomem,
		    (unsigned)t.arena_peak);
	}
#endif
	say("stats: stack_peak %u of %u bytes\n",
	    (unsigned)board_stack_peak(), (unsigned)board_stack_size());
}

/* Read console commands; nonzero when the loop should look at stop_requested. */
static int console_poll(void)
{
	int ch;

	while ((ch = uart_getc()) >= 0) {
		if (ch == 's') {
			report();
		} else if (ch == 'q') {
			stop_requested = 1;
			return 1;
		}
	}
	return 0;
}

/* --- what port/lwip asks of the board --------------------------------------- */

void board_net_poll(void)
{
	lan9118_poll(&netif);
}

int board_net_idle(uint32_t max_ms)
{
	uint32_t start = hw_ms();

	while (hw_ms() - start < max_ms) {
		if (console_poll())
			return 1;
		if (lan9118_rx_pending())
			return 0;
		hw_idle();      /* WFI: the next tick or frame wakes us */
	}
	return 0;
}

static void print_budget(void)
{
	struct gw_budget b;

	gw_get_budget(&b);
	say("RAM: client slot %u x %u, backend slot %u x %u, gateway total %u bytes\n",
	    (unsigned)b.client_slot, (unsigned)CONFIG_CLIENT_SLOTS,
	    (unsigned)b.backend_slot, (unsigned)CONFIG_BACKEND_SLOTS, (unsigned)b.total);
}

#if CONFIG_TLS
/* HTTPS on TLS_PORT with the pair compiled in; plain HTTP goes on without it. */
static void start_tls(const struct port_addr *plain)
{
	struct port_addr a = *plain;
	struct tls_budget b;

	a.port = CONFIG_TLS_PORT;
	if (tls_init(tls_builtin_cert, tls_builtin_cert_len, tls_builtin_key,
		     tls_builtin_key_len) != 0) {
		say("TLS off: %s\n", tls_error_text());
		return;
	}
	if (gw_start_tls(&a) != 0) {
		say("TLS off: cannot listen on port %d\n", CONFIG_TLS_PORT);
		return;
	}
	tls_get_budget(&b);
	say("HTTPS on port %d: %u TLS slots, %u bytes static each, arena %u bytes\n",
	    CONFIG_TLS_PORT, b.slots, (unsigned)b.slot_bytes, (unsigned)b.arena_bytes);
}
#endif

int main(void)
{
	struct port_addr addr = { .family = PORT_AF_INET, .port = CONFIG_LISTEN_PORT };

	hw_init();
	say("fcgate %s on %s\n", GW_VERSION, CONFIG_BOARD);
	print_budget();
	if (port_lwip_start(&netif, lan9118_netif_init, NULL) != 0) {
		say("fatal: network interface did not start\n");
		hw_exit(2);
	}
	lan9118_irq_enable();
	if (addr_parse_ipv4(CONFIG_LISTEN_ADDR, strlen(CONFIG_LISTEN_ADDR), addr.ip) != 0) {
		say("fatal: LISTEN_ADDR %s is not an IPv4 address\n", CONFIG_LISTEN_ADDR);
		hw_exit(2);
	}
	if (gw_start(&route_table_builtin, &addr) != 0) {
		say("fatal: cannot listen on %s:%d\n", CONFIG_LISTEN_ADDR, CONFIG_LISTEN_PORT);
		hw_exit(2);
	}
#if CONFIG_TLS
	start_tls(&addr);
#endif
	say("listening on %s:%d as %s\n", CONFIG_LISTEN_ADDR, CONFIG_LISTEN_PORT,
	    CONFIG_NET_IPADDR);

	while (!stop_requested) {
		gw_poll(GW_POLL_MAX_MS);
		console_poll();
	}
	say("stopping\n");
	gw_drain(CONFIG_SHUTDOWN_GRACE * 1000u);
	report();
	hw_exit(0);
	return 0;
}
