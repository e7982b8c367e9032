// Package run performs one run: it prepares the image for a reproducer,
// boots the kernel under qemu, watches the console live (markers, crash
// reports, heartbeats), stops the guest as soon as the outcome is known,
// and returns a record.Run with the verdict and everything needed to replay it.
//
// Crashes, hangs and boot failures are outcomes in the record; an error
// means crashrig could not do its job (bad input, missing qemu), and errors
// caused by the user's input wrap ErrInput.
package run

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/qemu"
)

// ErrInput marks errors in what the user gave.
var ErrInput = image.ErrInput

// Options describe one run.
type Options struct {
	Kernel      string        // path to a bzImage
	Repro       repro.Program // what to run in the guest
	Duration    time.Duration // each iteration's length (0 = until the reproducer exits)
	Iterations  int           // reproducer runs in this boot (0 = 1)
	SMP         int           // vCPUs (0 = qemu.DefaultSMP: races need two)
	Memory      int           // MiB (0 = qemu.DefaultMemory)
	Accel       string        // "auto", "kvm" or "tcg" ("" = auto)
	TCGThread   string        // "multi" or "single" ("" = multi)
	Append      string        // words added to the default kernel command line
	Cmdline     string        // replaces the default kernel command line when set
	QemuArgs    []string      // extra qemu arguments
	QemuBinary  string        // "" = qemu-system-x86_64
	BIOS        string        // firmware: "" = qboot when installed (faster), "default" = qemu's own, or a file
	Env         []string      // K=V for the reproducer
	Grace       time.Duration // wait for the rest of a crash report (0 = 3s)
	HangTimeout time.Duration // no heartbeat for this long is a hang (0 = 15s)
	BootTimeout time.Duration // the reproducer must start within this (0 = 60s)
	LogDir      string        // where console logs go ("" = StateDir/logs)
	CacheDir    string        // guest binaries, images, probes ("" = XDG cache)
	Initramfs   string        // a ready image to boot instead of building one
	NoPVPanic   bool          // leave out the pvpanic device and its QMP monitor
	Modules     string        // a kernel package's lib/modules/RELEASE: /init loads its pvpanic modules ("" = none)
	Image       image.Options // base, added files, init script (Guest and Repro are filled in by Prepare)
	Snapshot    bool          // start each run from a VM state saved once at the reproducer's start, not a boot
	Logf        func(format string, a ...any)
}

// Defaults returns what each zero field of Options means, for the fields that
// have a default: the one place run defaults are set (the CLI shows these as
// its flags' defaults). Duration has none: 0 means until the reproducer exits.
func Defaults() Options {
	return Options{
		Iterations:  1,
		SMP:         qemu.DefaultSMP,
		Memory:      qemu.DefaultMemory,
		Accel:       "auto",
		TCGThread:   "multi",
		Grace:       3 * time.Second,
		HangTimeout: 15 * time.Second,
		BootTimeout: 60 * time.Second,
	}
}

// Limits of the options: qemu's q35/pc machines take up to 288 vCPUs, and a guest
// kernel with crashrig's image needs some tens of MiB.
const (
	MaxSMP    = 288
	MinMemory = 64      // MiB
	MaxMemory = 1 << 20 // MiB
)

// Check refuses values no run can use, naming the flag that sets each, before
// anything is built or booted. It wants every field that has a default set
// (start from Defaults): a zero there is refused, as a user who typed it
// would expect.
func (o Options) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInput}, a...)...)
	}
	switch {
	case o.Duration < 0:
		return bad("-d %v: a run cannot last a negative time (0 runs until the reproducer exits)", o.Duration)
	case o.HangTimeout <= 0:
		return bad("--hang-timeout %v: want a positive duration, e.g. 15s", o.HangTimeout)
	case o.BootTimeout <= 0:
		return bad("--boot-timeout %v: want a positive duration, e.g. 60s", o.BootTimeout)
	case o.Grace < 0:
		return bad("--grace %v: want 0 or more", o.Grace)
	case o.SMP < 1 || o.SMP > MaxSMP:
		return bad("--smp %d: want 1 to %d vCPUs", o.SMP, MaxSMP)
	case o.Memory < MinMemory || o.Memory > MaxMemory:
		return bad("-m %d: want %d to %d MiB of guest memory", o.Memory, MinMemory, MaxMemory)
	case o.Iterations < 1:
		return bad("--iterations %d: want 1 or more reproducer runs per boot", o.Iterations)
	case slices.ContainsFunc(o.Env, func(e string) bool { return !strings.Contains(e, "=") }):
		i := slices.IndexFunc(o.Env, func(e string) bool { return !strings.Contains(e, "=") })
		return bad("--env %q: want KEY=VALUE", o.Env[i])
	case o.Accel != "auto" && o.Accel != "kvm" && o.Accel != "tcg":
		return bad("--accel %q: want auto, kvm or tcg", o.Accel)
	case o.TCGThread != "multi" && o.TCGThread != "single":
		return bad("--tcg-thread %q: want multi or single", o.TCGThread)
	}
	return nil
}

// IsInput reports whether err is the user's input's fault.
func IsInput(err error) bool { return errors.Is(err, ErrInput) }
