//go:build linux && amd64

package vdsostack

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Implemented in trampoline_amd64.s.
func call(fn, sp, a0, a1 uintptr) uintptr
func simProbe()
func simProbeAddr() uintptr

const (
	pageSize = 4096
	// guardBytes of PROT_NONE lie below every stack, so an access up to
	// guardBytes below the stack's lowest byte faults instead of landing in
	// a neighbouring mapping and making the search non-monotonic.
	guardBytes = 1 << 20
	// scratchBytes above the stack hold the called function's results.
	scratchBytes = pageSize
)

// A stack is a private mapping laid out as [guard | stack | scratch]. A
// call made at height H runs with its stack pointer H bytes above the
// guard, so it faults exactly when it touches more than H bytes below its
// caller's stack pointer (its own return address included).
type stack struct {
	mem     []byte  // the whole mapping
	lo      uintptr // lowest usable byte, the end of the guard
	size    int     // usable stack bytes; heights may go up to size
	scratch uintptr // results buffer, above the stack
}

// newStack maps a stack of at least size bytes (rounded up to pages).
func newStack(size int) (*stack, error) {
	size = (size + pageSize - 1) &^ (pageSize - 1)
	total := guardBytes + size + scratchBytes
	mem, err := syscall.Mmap(-1, 0, total, syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mapping a %d-byte stack: %w", total, err)
	}
	if err := syscall.Mprotect(mem[guardBytes:], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		syscall.Munmap(mem)
		return nil, fmt.Errorf("unprotecting stack: %w", err)
	}
	s := &stack{mem: mem, size: size}
	s.lo = uintptr(unsafe.Pointer(&mem[guardBytes]))
	s.scratch = s.lo + uintptr(size)
	return s, nil
}

func (s *stack) close() error { return syscall.Munmap(s.mem) }

// sp returns the stack pointer for a call at height bytes (a multiple of 16).
func (s *stack) sp(height int) uintptr { return s.lo + uintptr(height) }

// below returns the height bytes between the guard and the stack pointer.
func (s *stack) below(height int) []byte { return s.mem[guardBytes : guardBytes+height] }

// word returns the 8-byte word that starts depth bytes below the stack
// pointer of a call at height (depth a multiple of 8, at most height).
func (s *stack) word(height, depth int) *uint64 {
	return (*uint64)(unsafe.Pointer(&s.mem[guardBytes+height-depth]))
}

// canary fills the stack below a call's stack pointer.
const canary = 0xa5

// written returns how many bytes below the stack pointer the call changed:
// the distance to the lowest byte that lost the canary, 0 if none.
func written(below []byte) int {
	for i, b := range below {
		if b != canary {
			return len(below) - i
		}
	}
	return 0
}
