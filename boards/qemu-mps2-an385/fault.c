/*
 * fault.c - the fault dump: HardFault, MemManage, BusFault, UsageFault and
 * every unexpected exception (startup.c's Default_Handler jumps here).
 *
 * It prints the exception number (3 HardFault, 4 MemManage, 5 BusFault,
 * 6 UsageFault, 16 + n external interrupt n), the stacked registers and
 * the fault status registers on UART0, by polling (no printf: the C
 * library may be what broke), then leaves QEMU through semihosting with
 * exit code 128 + exception number, so a crashing test fails at once
 * instead of hanging until its timeout.
 */
#include <stdint.h>

#include "hw.h"

#define SCB_CFSR        (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR        (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR       (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR        (*(volatile uint32_t *)0xE000ED38u)

#define FAULT_EXIT_BASE 128

/* The words the core pushed on exception entry, lowest address first. */
enum { F_R0, F_R1, F_R2, F_R3, F_R12, F_LR, F_PC, F_XPSR, F_WORDS };

void fault_entry(void);
void HardFault_Handler(void) __attribute__((alias("fault_entry")));
void MemManage_Handler(void) __attribute__((alias("fault_entry")));
void BusFault_Handler(void) __attribute__((alias("fault_entry")));
void UsageFault_Handler(void) __attribute__((alias("fault_entry")));
static void fault_report(const uint32_t *frame, uint32_t exc_return)
	__attribute__((noreturn, used));

static void put(const char *s)
{
	const char *e = s;

	while (*e)
		e++;
	uart_write(s, (size_t)(e - s));
}

static void put_hex(const char *name, uint32_t v)
{
	char buf[9];
	int i;

	buf[0] = ' ';
	for (i = 0; i < 8; i++)
		buf[1 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xfu];
	put(name);
	uart_write(buf, sizeof(buf));
}

static void fault_report(const uint32_t *frame, uint32_t exc_return)
{
	static const char *const names[F_WORDS] = {
		" r0", " r1", " r2", " r3", "\n r12", " lr", " pc", " xpsr",
	};
	uint32_t ipsr;
	int i;

	__asm__ volatile("cpsid i\n\tmrs %0, ipsr" : "=r"(ipsr));
	ipsr &= 0x1ffu;
	uart_init();    /* the fault may come before hw_init() */
	put("\n*** FAULT");
	put_hex(": exception", ipsr);
	put_hex(" exc_return", exc_return);
	put("\n");
	for (i = 0; i < F_WORDS; i++)
		put_hex(names[i], frame[i]);
	put_hex("\n cfsr", SCB_CFSR);
	put_hex(" hfsr", SCB_HFSR);
	put_hex(" mmfar", SCB_MMFAR);
	put_hex(" bfar", SCB_BFAR);
	/* SP before the exception: xPSR bit 9 marks a padding word. */
	put_hex("\n sp", (uint32_t)(uintptr_t)(frame + F_WORDS +
						((frame[F_XPSR] >> 9) & 1u)));
	put("\n");
	hw_exit(FAULT_EXIT_BASE + (int)ipsr);
}

/*
 * Bit 2 of EXC_RETURN (in LR on entry) says which stack the core pushed
 * the frame on: 0 = MSP, 1 = PSP. Naked, so no prologue moves SP first.
 */
__attribute__((naked)) void fault_entry(void)
{
	__asm__ volatile(
		"tst lr, #4\n\t"
		"ite eq\n\t"
		"mrseq r0, msp\n\t"
		"mrsne r0, psp\n\t"
		"mov r1, lr\n\t"
		"b fault_report\n\t");
}
