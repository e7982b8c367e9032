// Package doctor checks a host and a kernel before anyone trusts a verdict
// from them: that qemu is there, whether KVM really runs a guest (a probe
// boot, not just /dev/kvm), that a kernel is a bzImage, and — when its config
// can be found — that it has what a crashrig guest needs. Each finding comes
// with the fix. What goes in: the qemu binary and a kernel path; what comes
// out: report.Check lines, in order. Out of scope: printing them (package
// report) and deciding an exit status (the CLI).
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"

	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/qemu"
)

// Options say what to check.
type Options struct {
	Qemu      string // qemu binary ("" = qemu.DefaultBinary)
	Kernel    string // kernel image ("" = check no kernel, and probe no KVM)
	KVMMemory string // where the KVM probe's answer is remembered ("" = nowhere)
}

// Run performs the checks.
func Run(ctx context.Context, o Options) []report.Check {
	var d doctor
	if o.Qemu == "" {
		o.Qemu = qemu.DefaultBinary
	}
	d.qemu(o.Qemu)
	if o.Kernel == "" {
		d.say(report.Info, "kvm", "give -k to probe whether KVM really runs a guest")
		d.say(report.Info, "kernel", "no -k given: kernel not checked")
		return d.checks
	}
	if img, ok := d.kernel(o.Kernel); ok {
		d.kvm(ctx, o, img.Path)
		d.config(img)
	}
	return d.checks
}

type doctor struct{ checks []report.Check }

func (d *doctor) say(s report.Status, what, detail string) {
	d.checks = append(d.checks, report.Check{Status: s, What: what, Detail: detail})
}

func (d *doctor) qemu(bin string) {
	path, err := exec.LookPath(bin)
	if err != nil {
		d.say(report.Fail, "qemu", bin+" not found: apt-get install qemu-system-x86")
		return
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		d.say(report.Fail, "qemu", fmt.Sprintf("%s --version: %v", path, err))
		return
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	d.say(report.OK, "qemu", path+": "+v)
}

func (d *doctor) kvm(ctx context.Context, o Options, kernelPath string) {
	// A fresh probe (TTL 1 ns): doctor is where users go when the remembered
	// answer is in doubt.
	v := qemu.KVMProbe{Binary: o.Qemu, Kernel: kernelPath, CacheFile: o.KVMMemory, TTL: 1}.Run(ctx)
	if v.Usable {
		d.say(report.OK, "kvm", v.Why)
		return
	}
	d.say(report.Warn, "kvm", "unusable, runs fall back to TCG (slower, still multi-threaded): "+v.Why)
}

func (d *doctor) kernel(path string) (kernel.Image, bool) {
	img, err := kernel.Inspect(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.say(report.Fail, "kernel", path+": no such file")
		return img, false
	case err != nil:
		d.say(report.Fail, "kernel", err.Error())
		return img, false
	}
	d.say(report.OK, "kernel", fmt.Sprintf("bzImage, boot protocol %s, %s", img.Protocol, img.Version))
	return img, true
}

func (d *doctor) config(img kernel.Image) {
	cfg := kernel.FindConfig(img)
	if cfg == nil {
		d.say(report.Warn, "config", "no config found beside the image, in /boot or embedded (IKCONFIG); options not checked")
		return
	}
	d.say(report.OK, "config", cfg.Source)
	for _, f := range kernel.Verify(cfg) {
		switch {
		case f.OK:
			d.say(report.OK, f.Name(), "")
		case f.Warn:
			d.say(report.Warn, f.Name(), f.Why+"; set "+f.Fix)
		default:
			d.say(report.Fail, f.Name(), f.Why+"; set "+f.Fix)
		}
	}
	if ok, why := kernel.PVPanic(cfg); ok {
		d.say(report.OK, "pvpanic signal", why)
	} else {
		d.say(report.Warn, "pvpanic signal", "unavailable: "+why)
	}
}
