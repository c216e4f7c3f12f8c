/*
 * Reset vector, exception vectors and entry point of the LX106 (ESP8266) test rig under QEMU's
 * `sim` machine. picolibc's Xtensa crt0 sets no stack pointer and QEMU starts at the core's reset
 * vector (0x50000000, sysrom) whatever the ELF entry says, so both are done here; the rest of the
 * start-up is C (runtime.c: .bss, constructors, argv, main, exit).
 *
 * CALL0 ABI (the LX106 has no register windows): a0 return address, a1 stack pointer.
 */

/* PS after start-up: interrupts masked (INTLEVEL 15), EXCM clear so that an exception goes to the
 * user vector and is reported (runtime.c), user mode (UM). */
#define PS_INTLEVEL_ALL 0x0f
#define PS_UM 0x20

/* ---- Reset: sysrom 0x50000000, far from the code in the flash-mapped irom, so jump through a
 * literal (L32R reaches only backwards, hence the jump over it). */
	.section .reset_vector, "ax"
	.global	edgelstm_lx106_reset
	.align	4
edgelstm_lx106_reset:
	j	1f
	.align	4
2:	.word	_start
1:	l32r	a0, 2b
	jx	a0

/* ---- Exception vectors, at VECBASE (set by _start to the start of this section, in the
 * ESP8266's IRAM at 0x40100000 as on the chip). Offsets of the LX106 configuration: level-2/debug
 * 0x10, NMI 0x20, kernel 0x30, user 0x50, double 0x70. Every one reports the cause and exits: a
 * guest that faulted would otherwise spin until the run's timeout. */
	.section .vectors, "ax"
	.global	edgelstm_lx106_vectors
	.align	256
edgelstm_lx106_vectors:
	.org	0x10
	j	edgelstm_lx106_vector_fault
	.org	0x20
	j	edgelstm_lx106_vector_fault
	.org	0x30
	j	edgelstm_lx106_vector_fault
	.org	0x50
	j	edgelstm_lx106_vector_fault
	.org	0x70
	j	edgelstm_lx106_vector_fault
	.org	0x80
	.align	4
3:	.word	edgelstm_lx106_fault
4:	.word	__stack
edgelstm_lx106_vector_fault:
	/* The handler is C in irom, out of CALL0's reach from IRAM: call through a literal. It runs
	 * on the top of the stack (the program is over; a fault from a stack overflow leaves a1
	 * unusable), reads EXCCAUSE, EPC1 and EXCVADDR itself and never returns. */
	l32r	a1, 4b
	l32r	a0, 3b
	callx0	a0

/* ---- Entry: stack, PS, VECBASE, then C. */
	.section .text._start, "ax"
	.global	_start
	.type	_start, @function
	.literal_position
	.align	4
_start:
	movi	a1, __stack
	movi	a2, edgelstm_lx106_vectors
	wsr.vecbase	a2
	movi	a2, PS_UM | PS_INTLEVEL_ALL
	wsr.ps	a2
	rsync
	movi	a2, edgelstm_lx106_start
	callx0	a2		/* runtime.c; does not return */
	.size	_start, . - _start
