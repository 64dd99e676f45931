/*
 * hw.c - console UART, SysTick, WFI and semihosting for the AN385.
 *
 * The only interrupts are SysTick (here) and the LAN9118's line
 * (lan9118.c). Both handlers stay tiny and leave lwIP alone: with NO_SYS=1
 * lwIP has no locks, so it may only run in the main loop. The LAN9118
 * interrupt is a wake-up source and nothing more: its handler masks the
 * chip's interrupt and calls hw_wake(); the loop then polls the FIFOs. One
 * loop that polls after every wake needs no locking and cannot lose a
 * frame to a race with an interrupt handler.
 */
#include "hw.h"

#define REG(addr)       (*(volatile uint32_t *)(addr))

/* CMSDK APB UART0. */
#define UART0           0x40004000u
#define UART_DATA       REG(UART0 + 0x00)
#define UART_STATE      REG(UART0 + 0x04)
#define UART_CTRL       REG(UART0 + 0x08)
#define UART_BAUDDIV    REG(UART0 + 0x10)
#define UART_STATE_TXFULL  (1u << 0)
#define UART_STATE_RXFULL  (1u << 1)
#define UART_CTRL_TXEN     (1u << 0)
#define UART_CTRL_RXEN     (1u << 1)
#define UART_BAUD       115200u

/* SysTick and NVIC (ARMv7-M system control space). */
#define SYST_CSR        REG(0xE000E010u)
#define SYST_RVR        REG(0xE000E014u)
#define SYST_CVR        REG(0xE000E018u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CORECLK   (1u << 2)
#define NVIC_ISER(n)    REG(0xE000E100u + 4u * (n))
#define NVIC_ICPR(n)    REG(0xE000E280u + 4u * (n))

/* ARM semihosting. */
#define SEMI_SYS_EXIT_EXTENDED  0x20u
#define SEMI_APP_EXIT           0x20026u        /* ADP_Stopped_ApplicationExit */

static volatile uint32_t ms_ticks;
static volatile uint32_t wake_pending;

void SysTick_Handler(void);

void SysTick_Handler(void)
{
	ms_ticks++;
}

void uart_init(void)
{
	/* Without TXEN the TX-full flag never clears and uart_write() spins. */
	UART_BAUDDIV = HW_CORE_HZ / UART_BAUD;
	UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
}

void uart_write(const char *buf, size_t len)
{
	while (len--) {
		while (UART_STATE & UART_STATE_TXFULL)
			;
		UART_DATA = (uint8_t)*buf++;
	}
}

int uart_getc(void)
{
	if (!(UART_STATE & UART_STATE_RXFULL))
		return -1;
	return (int)(UART_DATA & 0xffu);
}

void hw_init(void)
{
	uart_init();
	SYST_RVR = HW_CORE_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_CORECLK | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint32_t hw_ms(void)
{
	return ms_ticks;
}

void hw_wake(void)
{
	wake_pending = 1;
}

/*
 * With PRIMASK set, an interrupt that becomes pending still ends the WFI;
 * its handler runs at "cpsie i". So checking wake_pending with interrupts
 * off closes the window between that check and the WFI.
 */
void hw_idle(void)
{
	__asm__ volatile("cpsid i" ::: "memory");
	if (!wake_pending)
		__asm__ volatile("dsb\n\twfi" ::: "memory");
	wake_pending = 0;
	__asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

void hw_irq_enable(unsigned irq)
{
	NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
	NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static void semihost(uint32_t op, void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void hw_exit(int code)
{
	uint32_t block[2] = { SEMI_APP_EXIT, (uint32_t)code };

	semihost(SEMI_SYS_EXIT_EXTENDED, block);
	for (;;)
		__asm__ volatile("wfi");
}
