// Package qemu runs one x86-64 guest under qemu-system-x86_64 and streams
// its serial console.
//
// Argv turns a Config into a command line without side effects, so that
// every run can store the exact argv and be replayed by hand. Start runs
// it in a process group of its own, streams the console through a large
// pipe without ever dropping bytes, and Kill stops the whole group for sure.
// ProbeKVM tells whether KVM can really run a guest here, since a /dev/kvm
// that exists is no proof (nested and paravirtual clouds).
//
// Out of scope: what the guest does and what its output means (packages
// reproducer and console).
package qemu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultBinary is the emulator Argv names when Config.Binary is empty.
const DefaultBinary = "qemu-system-x86_64"

// A Config describes one guest.
type Config struct {
	Binary    string // emulator ("" = DefaultBinary from PATH)
	Kernel    string // path to a bzImage
	Initrd    string // path to the initramfs ("" = none)
	Append    string // the whole kernel command line
	SMP       int    // vCPUs (0 = DefaultSMP)
	Memory    int    // guest RAM in MiB (0 = DefaultMemory)
	Accel     string // "kvm" or "tcg" ("" = "tcg")
	CPU       string // CPU model ("" = "host" under KVM, "max" under TCG)
	TCGThread string // "multi" or "single" ("" = "multi": vCPUs really run at once)
	BIOS      string // firmware image ("" = qemu's default)
	// PVPanic adds the isa pvpanic device (ACPI id QEMU0001, driven by the
	// guest's pvpanic-mmio driver): a guest panic becomes a QMP
	// GUEST_PANICKED event. qemu lets the guest go on after it
	// (-action panic=none), so the kernel still prints its panic and
	// reboots, which -no-reboot turns into qemu's exit, as without it.
	PVPanic bool
	// QMP is a unix socket qemu connects its QMP monitor to as a client,
	// retrying each second until it can ("" = no monitor); see package
	// qmp's Listener.
	QMP      string
	Extra    []string   // further arguments, appended verbatim
	Incoming string     // start from a saved state at this migration URI, paused ("" = boot)
	Input    bool       // connect the console's input to Machine.Input (false = no input)
	Files    []*os.File // open files qemu inherits as fd 3, 4, … (e.g. for -incoming fd:3); Start closes none
}

// The machine crashrig boots unless told otherwise: two vCPUs, because the races
// crashrig hunts need two CPUs running at once, and 512 MiB, which every
// built-in reproducer fits with room to spare.
const (
	DefaultSMP    = 2
	DefaultMemory = 512 // MiB
)

// Defaults fills in the zero fields with their documented defaults.
func (c Config) Defaults() Config {
	if c.Binary == "" {
		c.Binary = DefaultBinary
	}
	if c.SMP == 0 {
		c.SMP = DefaultSMP
	}
	if c.Memory == 0 {
		c.Memory = DefaultMemory
	}
	if c.Accel == "" {
		c.Accel = "tcg"
	}
	if c.CPU == "" {
		c.CPU = "max"
		if c.Accel == "kvm" {
			c.CPU = "host"
		}
	}
	if c.TCGThread == "" {
		c.TCGThread = "multi"
	}
	return c
}

// Argv returns the command line for c: the leanest device set that boots
// a kernel with a serial console (measured in docs/performance.md), the
// console on stdout, no reboot (a guest reset or panic ends qemu).
func (c Config) Argv() []string {
	c = c.Defaults()
	accel := "kvm"
	if c.Accel != "kvm" {
		accel = "tcg,thread=" + c.TCGThread
	}
	argv := []string{c.Binary,
		"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
		"-net", "none", "-no-reboot",
		"-accel", accel, "-cpu", c.CPU,
		"-smp", strconv.Itoa(c.SMP), "-m", strconv.Itoa(c.Memory) + "M",
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-kernel", c.Kernel,
	}
	if c.Initrd != "" {
		argv = append(argv, "-initrd", c.Initrd)
	}
	if c.BIOS != "" {
		argv = append(argv, "-bios", c.BIOS)
	}
	if c.PVPanic {
		argv = append(argv, "-device", "pvpanic", "-action", "panic=none")
	}
	if c.QMP != "" {
		// reconnect: a replay of the stored command line, long after the
		// socket is gone, still boots (qemu warns and retries each second).
		argv = append(argv, "-chardev", "socket,id=qmp,path="+c.QMP+",reconnect=1", "-mon", "chardev=qmp,mode=control")
	}
	argv = append(argv, "-append", c.Append)
	argv = append(argv, c.Extra...)
	if c.Incoming != "" {
		argv = append(argv, "-incoming", c.Incoming)
	}
	return argv
}

// ShellQuote renders argv as one line a POSIX shell runs as the same
// command.
func ShellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quote(a)
	}
	return strings.Join(q, " ")
}

func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+,./:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Validate reports configuration errors qemu would otherwise report less
// clearly.
func (c Config) Validate() error {
	c = c.Defaults()
	switch {
	case c.Kernel == "":
		return fmt.Errorf("no kernel image")
	case c.SMP < 1 || c.SMP > 255:
		return fmt.Errorf("vCPUs %d out of range 1..255", c.SMP)
	case c.Memory < 128:
		return fmt.Errorf("guest memory %d MiB is too small (a kernel needs about 128 MiB; below 70 it cannot boot)", c.Memory)
	case c.Accel != "kvm" && c.Accel != "tcg":
		return fmt.Errorf("accelerator %q: want kvm or tcg", c.Accel)
	case c.TCGThread != "multi" && c.TCGThread != "single":
		return fmt.Errorf("TCG threading %q: want multi or single", c.TCGThread)
	}
	return nil
}
