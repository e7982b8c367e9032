// Package image decides what goes into a guest image for a run: a base
// (nothing, busybox or u-root's Go userland), the guest binary as /init
// (and, under their names, /bin/true and the built-in reproducers), the
// user's reproducer, and files the user adds. It checks the inputs and
// hands package initramfs a Spec.
//
// The reproducer comes resolved from package repro; a Go package is built
// static for linux/amd64 by package gobuild and cached, and a script needs a
// base with a shell. Errors caused by what the user gave wrap ErrInput.
package image

import (
	"fmt"

	"github.com/crashrig/crashrig/internal/repro"
)

// ErrInput marks errors in what the user gave (a missing or unsuitable
// file), as opposed to crashrig failing. It is repro.ErrInput.
var ErrInput = repro.ErrInput

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, a...)...)
}
