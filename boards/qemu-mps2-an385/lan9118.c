/*
 * lan9118.c - lwIP netif driver for the SMSC LAN9118 (32-bit bus, PIO).
 *
 * The chip keeps frames in FIFOs: RX frames queue in the RX data FIFO with
 * one RX status word each; TX frames are written as command words plus
 * data words into the TX data FIFO, and the chip queues one TX status word
 * per frame. Register and bit names follow the LAN9118 datasheet.
 *
 * The driver is polled: lan9118_poll() runs in the main loop and hands
 * whole frames to lwIP. The RX interrupt (status FIFO level) only ends a
 * WFI: its handler masks it and calls hw_wake(), touching nothing else,
 * because lwIP with NO_SYS=1 must never run inside an interrupt. The next
 * lan9118_poll() drains the FIFO and unmasks.
 *
 * What QEMU's model does not need and this driver does not do: PHY set-up
 * and link-state tracking over MII (the link is reported up), multicast
 * filters, TX/RX checksum offload (the LAN9118 has none).
 */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/etharp.h"

#include "hw.h"
#include "lan9118.h"

#define LAN9118_BASE    0x40200000u
#define REG(off)        (*(volatile uint32_t *)(LAN9118_BASE + (off)))

/* System control and status registers (byte offsets). */
#define RX_DATA_FIFO    REG(0x00)
#define TX_DATA_FIFO    REG(0x20)
#define RX_STATUS_FIFO  REG(0x40)
#define TX_STATUS_FIFO  REG(0x48)
#define ID_REV          REG(0x50)
#define IRQ_CFG         REG(0x54)
#define INT_STS         REG(0x58)
#define INT_EN          REG(0x5C)
#define BYTE_TEST       REG(0x64)
#define RX_CFG          REG(0x6C)
#define TX_CFG          REG(0x70)
#define HW_CFG          REG(0x74)
#define RX_FIFO_INF     REG(0x7C)
#define TX_FIFO_INF     REG(0x80)
#define PMT_CTRL        REG(0x84)
#define MAC_CSR_CMD     REG(0xA4)
#define MAC_CSR_DATA    REG(0xA8)

#define BYTE_TEST_VALUE 0x87654321u
#define ID_REV_CHIP(v)  ((v) >> 16)
#define CHIP_ID_9118    0x0118u

#define IRQ_CFG_TYPE    (1u << 0)       /* push-pull */
#define IRQ_CFG_POL     (1u << 4)       /* active high */
#define IRQ_CFG_EN      (1u << 8)
#define INT_RSFL        (1u << 3)       /* RX status FIFO above its level */
#define TX_CFG_TX_ON    (1u << 1)
#define HW_CFG_SRST     (1u << 0)
#define PMT_CTRL_READY  (1u << 0)
#define RX_FIFO_INF_STATUS(v)   (((v) >> 16) & 0xffu)   /* RX status words */
#define TX_FIFO_INF_STATUS(v)   (((v) >> 16) & 0xffu)   /* TX status words */
#define TX_FIFO_INF_FREE(v)     ((v) & 0xffffu)         /* TX data bytes free */

/* RX status word. */
#define RXS_ES          (1u << 15)      /* error summary */
#define RXS_LEN(v)      (((v) >> 16) & 0x3fffu) /* frame length incl. FCS */
/* TX status word. */
#define TXS_ES          (1u << 15)
/* TX command A / B. */
#define TXA_FIRST       (1u << 13)
#define TXA_LAST        (1u << 12)
#define TXA_OFFSET(n)   ((uint32_t)(n) << 16)   /* data start offset, bytes */
#define TXB_TAG(n)      ((uint32_t)(n) << 16)

/* MAC CSRs, reached through MAC_CSR_CMD / MAC_CSR_DATA. */
#define MAC_CSR_BUSY    (1u << 31)
#define MAC_CSR_READ    (1u << 30)
#define MAC_CR          1u
#define MAC_ADDRH       2u
#define MAC_ADDRL       3u
#define MAC_CR_RXEN     (1u << 2)
#define MAC_CR_TXEN     (1u << 3)
#define MAC_CR_FDPX     (1u << 20)

#define ETH_FCS_LEN     4u
#define RX_MIN_FRAME    (SIZEOF_ETH_HDR + ETH_FCS_LEN)
#define RX_MAX_FRAME    (1522u)         /* VLAN-tagged, with FCS */
#define TX_MAX_FRAME    (1514u)
#define TX_CMD_BYTES    8u              /* command A and B of one buffer */
#define SPIN_LIMIT      100000u         /* register polls before giving up */

/* QEMU's default, for a chip without EEPROM: 52:54:00:12:34:56. */
#define DEFAULT_MAC_L   0x12005452u
#define DEFAULT_MAC_H   0x5634u

/* A FIFO word read from or written to a byte buffer. */
typedef uint32_t __attribute__((may_alias)) fifo_word;

static struct lan9118_stats stats;
static uint16_t tx_tag;
static uint8_t irq_on;

void ETHERNET_IRQHandler(void);

static int spin_until_clear(volatile uint32_t *reg, uint32_t mask)
{
	uint32_t i;

	for (i = 0; i < SPIN_LIMIT; i++)
		if (!(*reg & mask))
			return 0;
	return -1;
}

static uint32_t mac_read(uint32_t index)
{
	spin_until_clear(&MAC_CSR_CMD, MAC_CSR_BUSY);
	MAC_CSR_CMD = MAC_CSR_BUSY | MAC_CSR_READ | index;
	spin_until_clear(&MAC_CSR_CMD, MAC_CSR_BUSY);
	return MAC_CSR_DATA;
}

static void mac_write(uint32_t index, uint32_t val)
{
	spin_until_clear(&MAC_CSR_CMD, MAC_CSR_BUSY);
	MAC_CSR_DATA = val;
	MAC_CSR_CMD = MAC_CSR_BUSY | index;
	spin_until_clear(&MAC_CSR_CMD, MAC_CSR_BUSY);
}

static int chip_reset(void)
{
	uint32_t i;

	if (BYTE_TEST != BYTE_TEST_VALUE || ID_REV_CHIP(ID_REV) != CHIP_ID_9118)
		return -1;
	HW_CFG |= HW_CFG_SRST;
	if (spin_until_clear(&HW_CFG, HW_CFG_SRST) != 0)
		return -1;
	for (i = 0; i < SPIN_LIMIT && !(PMT_CTRL & PMT_CTRL_READY); i++)
		;
	if (!(PMT_CTRL & PMT_CTRL_READY))
		return -1;
	/*
	 * The line is active low and open drain after reset; QEMU's model
	 * holds it asserted unless it is push-pull active high. Quiet it
	 * before the NVIC ever listens.
	 */
	INT_EN = 0;
	INT_STS = 0xffffffffu;
	IRQ_CFG = IRQ_CFG_TYPE | IRQ_CFG_POL;
	return 0;
}

/* Keep the address the chip loaded (EEPROM, or QEMU's -nic mac=). */
static void mac_address(struct netif *nif)
{
	uint32_t lo = mac_read(MAC_ADDRL);
	uint32_t hi = mac_read(MAC_ADDRH) & 0xffffu;
	int i;

	if ((lo == 0 && hi == 0) || (lo == 0xffffffffu && hi == 0xffffu)) {
		lo = DEFAULT_MAC_L;
		hi = DEFAULT_MAC_H;
		mac_write(MAC_ADDRL, lo);
		mac_write(MAC_ADDRH, hi);
	}
	for (i = 0; i < 4; i++)
		nif->hwaddr[i] = (uint8_t)(lo >> (8 * i));
	nif->hwaddr[4] = (uint8_t)hi;
	nif->hwaddr[5] = (uint8_t)(hi >> 8);
	nif->hwaddr_len = ETH_HWADDR_LEN;
}

/* Pop TX status words so the status FIFO never fills and stalls TX. */
static void tx_status_drain(void)
{
	uint32_t n = TX_FIFO_INF_STATUS(TX_FIFO_INF);

	while (n--)
		if (TX_STATUS_FIFO & TXS_ES)
			stats.tx_errors++;
}

static int tx_wait_space(uint32_t bytes)
{
	uint32_t i;

	for (i = 0; i < SPIN_LIMIT; i++)
		if (TX_FIFO_INF_FREE(TX_FIFO_INF) >= bytes)
			return 0;
	return -1;
}

/*
 * One pbuf is one TX buffer. The chip takes the data from the aligned
 * word that holds its first byte and skips "offset" bytes, so payloads at
 * any address and of any length go out without copying. The word reads
 * around the payload stay inside words that hold payload bytes.
 */
static void tx_buffer(const void *data, uint32_t len, uint32_t cmd_a, uint32_t cmd_b)
{
	uint32_t off = (uintptr_t)data & 3u;
	const fifo_word *w = (const fifo_word *)((uintptr_t)data - off);
	uint32_t n = (off + len + 3u) / 4u;

	TX_DATA_FIFO = cmd_a | TXA_OFFSET(off) | len;
	TX_DATA_FIFO = cmd_b;
	while (n--)
		TX_DATA_FIFO = *w++;
}

static err_t lan9118_linkoutput(struct netif *nif, struct pbuf *p)
{
	const struct pbuf *q;
	uint32_t need = 0, done = 0, cmd_b, cmd_a;

	(void)nif;
	tx_status_drain();
	for (q = p; q != NULL; q = q->next)
		need += TX_CMD_BYTES + ((((uintptr_t)q->payload & 3u) + q->len + 3u) & ~3u);
	if (p->tot_len > TX_MAX_FRAME || tx_wait_space(need) != 0) {
		stats.tx_errors++;
		return ERR_IF;
	}
	cmd_b = TXB_TAG(++tx_tag) | p->tot_len;
	for (q = p; q != NULL; q = q->next) {
		if (q->len == 0)
			continue;       /* a buffer without data would stall the chip */
		cmd_a = done == 0 ? TXA_FIRST : 0;
		done += q->len;
		if (done == p->tot_len)
			cmd_a |= TXA_LAST;
		tx_buffer(q->payload, q->len, cmd_a, cmd_b);
	}
	stats.tx_frames++;
	return ERR_OK;
}

/*
 * Copy the frame from the RX data FIFO into the pbuf chain; returns the
 * number of FIFO words read. The chain's pieces may have any length: a
 * word that straddles two pieces is carried over.
 */
static uint32_t rx_copy(struct pbuf *p)
{
	uint32_t words = 0, carry = 0, have = 0;
	struct pbuf *q;

	for (q = p; q != NULL; q = q->next) {
		uint8_t *d = q->payload;
		uint32_t n = q->len;

		for (; n > 0 && have > 0; n--, have--, carry >>= 8)
			*d++ = (uint8_t)carry;
		for (; n >= 4; n -= 4, d += 4) {
			fifo_word w = RX_DATA_FIFO;

			memcpy(d, &w, 4);
			words++;
		}
		if (n > 0) {
			carry = RX_DATA_FIFO;
			words++;
			for (have = 4; n > 0; n--, have--, carry >>= 8)
				*d++ = (uint8_t)carry;
		}
	}
	return words;
}

static void rx_frame(struct netif *nif)
{
	uint32_t status = RX_STATUS_FIFO;
	uint32_t len = RXS_LEN(status);
	uint32_t words = (len + 3u) / 4u;
	struct pbuf *p = NULL;

	if (!(status & RXS_ES) && len >= RX_MIN_FRAME && len <= RX_MAX_FRAME)
		p = pbuf_alloc(PBUF_RAW, (u16_t)(len - ETH_FCS_LEN), PBUF_POOL);
	if (p != NULL)
		words -= rx_copy(p);
	else
		stats.rx_drops++;
	/* The FCS, or the whole frame when dropped. */
	while (words--)
		(void)RX_DATA_FIFO;
	if (p == NULL)
		return;
	if (nif->input(p, nif) != ERR_OK) {
		pbuf_free(p);
		stats.rx_drops++;
		return;
	}
	stats.rx_frames++;
}

void lan9118_poll(struct netif *nif)
{
	uint32_t n;

	/* Ack first: a frame that comes during the drain raises it again. */
	INT_STS = INT_RSFL;
	/* Only the frames there now, so the loop gets back to its timers. */
	n = RX_FIFO_INF_STATUS(RX_FIFO_INF);
	while (n--)
		rx_frame(nif);
	tx_status_drain();
	if (irq_on)
		INT_EN = INT_RSFL;
}

int lan9118_rx_pending(void)
{
	return RX_FIFO_INF_STATUS(RX_FIFO_INF) != 0;
}

/*
 * RSFL: more RX status words than FIFO_INT's level, which is 0 after
 * reset, so one frame is enough.
 */
void lan9118_irq_enable(void)
{
	irq_on = 1;
	INT_STS = INT_RSFL;
	INT_EN = INT_RSFL;
	IRQ_CFG = IRQ_CFG_TYPE | IRQ_CFG_POL | IRQ_CFG_EN;
	hw_irq_enable(HW_IRQ_LAN9118);
}

/* Wake-up only: mask until lan9118_poll() has drained the FIFO. */
void ETHERNET_IRQHandler(void)
{
	INT_EN = 0;
	hw_wake();
}

void lan9118_get_stats(struct lan9118_stats *out)
{
	*out = stats;
}

err_t lan9118_netif_init(struct netif *nif)
{
	if (chip_reset() != 0)
		return ERR_IF;
	mac_address(nif);
	mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);
	TX_CFG = TX_CFG_TX_ON;

	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->mtu = 1500;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_LINK_UP;
	nif->output = etharp_output;
	nif->linkoutput = lan9118_linkoutput;
	return ERR_OK;
}
