/*
 * startup.c - vector table and reset for the AN385 (Cortex-M3).
 *
 * Reset copies .data, zeroes .bss, paints the unused stack with a pattern
 * (board_stack_peak() later finds the lowest word ever written), turns on
 * the configurable fault handlers and calls main(). No C++ constructors,
 * no libc start-up: the image links with -nostartfiles.
 */
#include <stdint.h>

#include "hw.h"

#define NUM_IRQS        32      /* AN385 external interrupts */
#define STACK_PAINT     0xDEADBEEFu

#define SCB_CCR         (*(volatile uint32_t *)0xE000ED14u)
#define SCB_SHCSR       (*(volatile uint32_t *)0xE000ED24u)
#define CCR_DIV_0_TRP   (1u << 4)
#define SHCSR_MEMFAULTENA  (1u << 16)
#define SHCSR_BUSFAULTENA  (1u << 17)
#define SHCSR_USGFAULTENA  (1u << 18)

/* From link.ld. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void fault_entry(void);

/*
 * Every handler not defined elsewhere lands in fault.c's dump, which
 * names the exception number (IPSR) and leaves QEMU with an error code.
 * Default_Handler only jumps there: a branch keeps LR = EXC_RETURN.
 */
__attribute__((naked)) void Default_Handler(void)
{
	__asm__ volatile("b fault_entry");
}

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;
void ETHERNET_IRQHandler(void) WEAK_DEFAULT;

struct vector_table {
	uint32_t *initial_sp;
	void (*handler[15 + NUM_IRQS])(void);
};

#define IRQ_D Default_Handler

__attribute__((section(".vectors"), used))
static const struct vector_table vectors = {
	.initial_sp = __stack_top,
	.handler = {
		Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler,
		BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0,
		SVC_Handler, DebugMon_Handler, 0, PendSV_Handler, SysTick_Handler,
		/* External interrupts 0-31; 13 is the LAN9118. */
		IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D,
		IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, ETHERNET_IRQHandler, IRQ_D, IRQ_D,
		IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D,
		IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D, IRQ_D,
	},
};

/* Fill the stack below the caller's frame; everything above SP is in use. */
static void stack_paint(void)
{
	volatile uint32_t *p = __stack_bottom;
	uint32_t *sp;

	__asm__ volatile("mov %0, sp" : "=r"(sp));
	while (p < sp)
		*p++ = STACK_PAINT;
}

void Reset_Handler(void)
{
	uint32_t *src = __data_load;
	uint32_t *dst;

	for (dst = __data_start; dst < __data_end; )
		*dst++ = *src++;
	for (dst = __bss_start; dst < __bss_end; )
		*dst++ = 0;
	stack_paint();
	SCB_CCR |= CCR_DIV_0_TRP;
	SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
	hw_exit(main());
}

uint32_t board_stack_peak(void)
{
	const uint32_t *p = __stack_bottom;

	while (p < __stack_top && *p == STACK_PAINT)
		p++;
	return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t board_stack_size(void)
{
	return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
}

/*
 * newlib's __libc_init_array() calls _init(); with -nostartfiles no crti.o
 * defines it, so anything that pulls that in would not link without these.
 */
void _init(void);
void _fini(void);

void _init(void)
{
}

void _fini(void)
{
}
