//go:build linux && amd64

package vdsostack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A footprint is the measured stack use of one function.
type footprint struct {
	fn string
	// bytes is the smallest height the call survives: how far below the
	// caller's stack pointer it reaches, return address included, rounded
	// up to 16. When the call faulted even at the search's maximum (over),
	// the maximum plus 16, a lower bound.
	bytes   int
	over    bool
	written int // bytes below the caller's stack pointer the call wrote
	probes  int // child processes run
	elapsed time.Duration
}

// A tryFunc calls one function at one height in a fresh process and reports
// whether it survived and how many bytes it wrote. An error means the probe
// could not be run at all (not that the call faulted).
type tryFunc func(height int) (ok bool, written int, err error)

// search binary-searches, in 16-byte steps, the smallest height in
// (0, max] that try survives. Height 0 always faults (the CALL pushes its
// return address below it), so it needs 1 + log2(max/16) probes.
func search(max int, try tryFunc) (footprint, error) {
	var fp footprint
	ok, w, err := try(max)
	fp.probes++
	if err != nil {
		return fp, err
	}
	if !ok {
		fp.over, fp.bytes = true, max+16 // a lower bound
		return fp, nil
	}
	lo, hi := 0, max // lo faults, hi survives
	fp.written = w
	for hi-lo > 16 {
		mid := (lo + (hi-lo)/2) &^ 15
		ok, w, err := try(mid)
		fp.probes++
		if err != nil {
			return fp, err
		}
		if ok {
			hi, fp.written = mid, w
		} else {
			lo = mid
		}
	}
	fp.bytes = hi
	return fp, nil
}

// probeTimeout bounds one child probe; under TCG on a busy host a static Go
// binary starts in well under a second.
const probeTimeout = 60 * time.Second

// childProbe returns a tryFunc that re-executes this binary as "vdsostack
// -probe-func fn -probe-height H" (handled by runChildProbe).
func childProbe(ctx context.Context, fn string, clock int) tryFunc {
	return func(height int) (bool, int, error) {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/proc/self/exe",
			"-probe-func", fn, "-probe-height", strconv.Itoa(height), "-clock", strconv.Itoa(clock))
		cmd.Args[0] = "vdsostack"
		cmd.WaitDelay = time.Second
		var out bytes.Buffer
		cmd.Stdin = bytes.NewReader(nil) // not /dev/null: a bare initramfs may lack it
		cmd.Stdout = &out
		cmd.Stderr = &out
		err := cmd.Run()
		if ctx.Err() != nil {
			return false, 0, fmt.Errorf("probing %s at height %d: timed out after %v", fn, height, probeTimeout)
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			line, _, _ := strings.Cut(out.String(), "\n")
			w, ok := strings.CutPrefix(line, "ok written=")
			n, perr := strconv.Atoi(w)
			if !ok || perr != nil {
				return false, 0, fmt.Errorf("probing %s at height %d: unexpected output %q", fn, height, out.String())
			}
			return true, n, nil
		case errors.As(err, &exit) && faulted(exit, out.String()):
			return false, 0, nil
		case errors.As(err, &exit):
			return false, 0, fmt.Errorf("probing %s at height %d: %v: %s", fn, height, err, strings.TrimSpace(out.String()))
		default:
			return false, 0, fmt.Errorf("probing %s at height %d: %w", fn, height, err)
		}
	}
}

// faulted tells a child killed by its call's fault from one that failed
// otherwise: the fault kills it with SIGSEGV (Go's handler re-raises a fault
// in code that is not Go's), or, should the runtime report it instead, it
// exits 2 with a signal line.
func faulted(exit *exec.ExitError, output string) bool {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal() == syscall.SIGSEGV || ws.Signal() == syscall.SIGBUS
	}
	return exit.ExitCode() == 2 && strings.Contains(output, "[signal SIG")
}

// runChildProbe is the child side: one call of fn at height, on a
// canary-filled stack. It prints "ok written=N" if the call returns; a
// fault kills the process. It returns an exit code.
func runChildProbe(w io.Writer, name string, height, clock int) int {
	fn, ok := lookupFunction(name)
	if !ok || height <= 0 || height%16 != 0 {
		fmt.Fprintf(w, "error: bad probe %s at height %d\n", name, height)
		return exitError
	}
	var v *vdso
	if name != simName {
		var err error
		if v, err = findVDSO(); err != nil {
			fmt.Fprintf(w, "error: %v\n", err)
			return exitError
		}
	}
	pc, err := v.address(fn)
	if err != nil {
		fmt.Fprintf(w, "error: %v\n", err)
		return exitError
	}
	st, err := newStack(height)
	if err != nil {
		fmt.Fprintf(w, "error: %v\n", err)
		return exitError
	}
	below := st.below(height)
	for i := range below {
		below[i] = canary
	}
	a0, a1 := fn.args(uintptr(clock), st.scratch)
	call(pc, st.sp(height), a0, a1)
	fmt.Fprintf(w, "ok written=%d\n", written(below))
	return 0
}

// measure searches the footprint of each function, one child per probe.
//
// With stop set, it stops after the first footprint stop accepts (the fail-fast check:
// one footprint over the headroom decides the run, the others need not be measured).
func measure(ctx context.Context, fns []function, max, clock int, stop func(footprint) bool) ([]footprint, error) {
	var fps []footprint
	for _, fn := range fns {
		start := time.Now()
		fp, err := search(max, childProbe(ctx, fn.name, clock))
		if err != nil {
			return fps, err
		}
		fp.fn = fn.name
		fp.elapsed = time.Since(start)
		fps = append(fps, fp)
		if stop != nil && stop(fp) {
			break
		}
	}
	return fps, nil
}
