/*
 * tapif.c - an lwIP netif on a Linux TAP device (IFF_TAP | IFF_NO_PI).
 *
 * A read() of a TAP descriptor returns exactly one Ethernet frame (no
 * preamble, no FCS) and a write() sends one, so the driver is a copy in
 * each direction. Like the firmware's drivers it uses no heap: frames pass
 * through two static buffers, and received ones go into PBUF_POOL buffers,
 * so a full pool shows here the way it would on the board.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#include "tapif.h"

#if ETH_PAD_SIZE != 0
#error "tapif hands lwIP frames as they come: it expects ETH_PAD_SIZE 0"
#endif

#define TAPIF_MTU       1500
#define TAPIF_FRAME_MAX (TAPIF_MTU + SIZEOF_ETH_HDR)

/* Locally administered (bit 1 of the first byte), unicast. */
static const uint8_t tap_mac[ETH_HWADDR_LEN] = { 0x02, 0xfc, 0x9a, 0x00, 0x00, 0x01 };

static int tap_fd = -1;
static struct tapif_stats stats;
static uint8_t tx_frame[TAPIF_FRAME_MAX];
/* One byte more than a frame may have, so that an oversized one shows. */
static uint8_t rx_frame[TAPIF_FRAME_MAX + 1];

static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
	ssize_t n;

	(void)nif;
	if (p->tot_len > sizeof(tx_frame)) {
		stats.tx_errors++;
		return ERR_BUF;
	}
	pbuf_copy_partial(p, tx_frame, p->tot_len, 0);
	n = write(tap_fd, tx_frame, p->tot_len);
	if (n == (ssize_t)p->tot_len) {
		stats.tx_frames++;
		return ERR_OK;
	}
	/*
	 * A full queue is a frame lost on the wire: TCP sends it again. An
	 * error here would instead reach the port through tcp_output().
	 */
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
		stats.tx_dropped++;
		return ERR_OK;
	}
	stats.tx_errors++;
	return ERR_IF;
}

err_t tapif_init(struct netif *nif)
{
	const char *name = nif->state;
	struct ifreq ifr;
	int fd;

	if (name == NULL || strlen(name) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "tapif: bad interface name\n");
		return ERR_ARG;
	}
	/*
	 * TUNSETIFF would make a missing device on the spot, with no address
	 * on its other side: a typo would give a gateway nobody can reach.
	 */
	if (if_nametoindex(name) == 0) {
		fprintf(stderr, "tapif: no device %s here (scripts/netns.sh up makes one)\n", name);
		return ERR_IF;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tapif: /dev/net/tun: %s\n", strerror(errno));
		return ERR_IF;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapif: attach to %s: %s\n", name, strerror(errno));
		close(fd);
		return ERR_IF;
	}
	tap_fd = fd;

	nif->name[0] = 't';
	nif->name[1] = 'p';
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, tap_mac, ETH_HWADDR_LEN);
	nif->mtu = TAPIF_MTU;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_LINK_UP;
	nif->output = etharp_output;
	nif->linkoutput = tap_linkoutput;
	return ERR_OK;
}

/* One received frame into lwIP; it is dropped (and counted) on any trouble. */
static void tap_input(struct netif *nif, const uint8_t *frame, size_t len)
{
	struct pbuf *p;

	if (len < SIZEOF_ETH_HDR || len > TAPIF_FRAME_MAX) {
		stats.rx_errors++;
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (p == NULL) {
		stats.rx_nomem++;
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (nif->input(p, nif) != ERR_OK) {
		pbuf_free(p);
		stats.rx_errors++;
		return;
	}
	stats.rx_frames++;
}

void tapif_poll(struct netif *nif)
{
	ssize_t n;

	if (tap_fd < 0)
		return;
	/* Read until the device is empty, so that one pass takes a whole burst. */
	for (;;) {
		n = read(tap_fd, rx_frame, sizeof(rx_frame));
		if (n <= 0)
			break;
		tap_input(nif, rx_frame, (size_t)n);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		stats.rx_errors++;
}

int tapif_fd(void)
{
	return tap_fd;
}

void tapif_get_stats(struct tapif_stats *out)
{
	*out = stats;
}
