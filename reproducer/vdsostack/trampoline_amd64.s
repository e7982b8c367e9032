//go:build linux

#include "textflag.h"

// func call(fn, sp, a0, a1 uintptr) uintptr
//
// call switches to the stack pointer sp (16-byte aligned), calls fn with the
// System V arguments a0, a1 and 0, switches back and returns fn's RAX. It
// uses no Go stack, so it stays on the foreign stack the whole time; R12 is
// callee-saved in the System V ABI, so fn preserves it for us.
TEXT ·call(SB), NOSPLIT|NOFRAME, $0-40
	MOVQ fn+0(FP), AX
	MOVQ sp+8(FP), CX
	MOVQ a0+16(FP), DI
	MOVQ a1+24(FP), SI
	XORL DX, DX
	MOVQ SP, R12
	MOVQ CX, SP
	CALL AX
	MOVQ R12, SP
	MOVQ AX, ret+32(FP)
	RET

// simProbe imitates the stack probe in the prologue of the seed's probed
// __vdso_clock_gettime (sub $0x1020,%rsp; orq $0x0,(%rsp); add $0x1020,%rsp):
// a non-atomic read-modify-write of the word 4136 bytes below the caller's
// stack pointer (8 for the return address, 0x1020 for the frame) and
// nothing else, so its footprint is 4144 and it writes only 8 bytes.
TEXT ·simProbe(SB), NOSPLIT|NOFRAME, $0-0
	SUBQ $0x1020, SP
	ORQ  $0, (SP)
	ADDQ $0x1020, SP
	RET

// func simProbeAddr() uintptr
TEXT ·simProbeAddr(SB), NOSPLIT, $0-8
	LEAQ ·simProbe(SB), AX
	MOVQ AX, ret+0(FP)
	RET
