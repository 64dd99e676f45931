/*
 * lan9118.h - lwIP netif driver for the SMSC LAN9118 of the AN385
 * (0x40200000, IRQ 13), polled from the main loop; its interrupt only
 * wakes the CPU from WFI.
 */
#ifndef FCGATE_BOARD_LAN9118_H
#define FCGATE_BOARD_LAN9118_H

#include <stdint.h>

#include "lwip/err.h"

struct netif;

/*
 * netif_add()'s init function: checks the chip, resets it, takes the MAC
 * address (or sets 52:54:00:12:34:56 if it has none), starts TX and RX.
 * The netif is named "en", MTU 1500, link up. ERR_IF if no LAN9118 answers.
 */
err_t lan9118_netif_init(struct netif *nif);

/*
 * Hand every frame waiting in the RX FIFO to nif->input. Frames with an
 * RX error, or that find no pbuf, are read out and dropped (and counted).
 * Call from the main loop only, never from an interrupt.
 */
void lan9118_poll(struct netif *nif);

/* Nonzero if a received frame waits in the RX FIFO. */
int lan9118_rx_pending(void);

/*
 * Let a received frame raise IRQ 13 so that WFI returns. The handler only
 * masks the chip's interrupt and calls hw_wake(); lan9118_poll() unmasks.
 */
void lan9118_irq_enable(void);

struct lan9118_stats {
	uint32_t rx_frames;     /* handed to lwIP */
	uint32_t tx_frames;     /* written to the TX FIFO */
	uint32_t rx_drops;      /* RX error, no pbuf, or lwIP refused it */
	uint32_t tx_errors;     /* no FIFO space in time, or TX status error */
};

void lan9118_get_stats(struct lan9118_stats *out);

#endif
