/*
 * hw.h - the qemu-mps2-an385 board's hardware layer: console UART,
 * millisecond tick, sleep, semihosting exit, stack measurement.
 *
 * Everything here is polled except two interrupts: SysTick (the clock) and
 * the LAN9118's line, which only wakes the CPU (see lan9118.c). lwIP is
 * never entered from an interrupt.
 */
#ifndef FCGATE_BOARD_HW_H
#define FCGATE_BOARD_HW_H

#include <stddef.h>
#include <stdint.h>

#define HW_CORE_HZ      25000000u       /* AN385 core clock */
#define HW_IRQ_LAN9118  13u             /* AN385 external interrupt number */

/* Console, SysTick; call first thing in main(). */
void hw_init(void);

/* CMSDK UART0, polled. Bytes go out as they are (no "\n" -> "\r\n"). */
void uart_init(void);
void uart_write(const char *buf, size_t len);
int uart_getc(void);    /* a received byte, or -1 if none waits */

/* Milliseconds since hw_init(); wraps after 49 days. */
uint32_t hw_ms(void);

/*
 * Sleep (WFI) until the next interrupt. Returns at once if hw_wake() was
 * called since the previous hw_idle(), so an interrupt that comes between
 * the caller's last look at the hardware and the WFI is not slept through.
 */
void hw_idle(void);

/* For interrupt handlers: make the next hw_idle() return at once. */
void hw_wake(void);

/* Enable an external interrupt line in the NVIC (pending state cleared). */
void hw_irq_enable(unsigned irq);

/*
 * Leave QEMU with this exit code (semihosting SYS_EXIT_EXTENDED; QEMU
 * must run with -semihosting). Without a debugger or -semihosting the
 * BKPT faults; either way this never returns.
 */
void hw_exit(int code) __attribute__((noreturn));

/* startup.c: bytes of the stack ever used (painted at reset), and its size. */
uint32_t board_stack_peak(void);
uint32_t board_stack_size(void);

#endif
