package run

import (
	"strings"

	"github.com/crashrig/crashrig/internal/record"
)

// Config is the record of what a prepared run is: what makes its runs
// comparable with others, and the names the user gave (variant and kernel
// label; "" = the label the kernel's identity file gives).
func (p *Plan) Config(variant, kernelLabel string) record.Config {
	o := p.Opts
	if kernelLabel == "" && p.Kernel.Label != "" {
		// "seed-probed (probed vDSO)": the identity file's words.
		kernelLabel = p.Kernel.Label
		if what, _, ok := strings.Cut(p.Kernel.Description, ":"); ok {
			kernelLabel += " (" + what + ")"
		}
	}
	return record.Config{
		KernelSHA256: p.Kernel.SHA256, KernelPath: p.Kernel.Path, KernelVersion: p.Kernel.Version, KernelLabel: kernelLabel,
		Reproducer: o.Repro.Name(), ReproArgs: o.Repro.Args, ReproHash: p.ReproHash,
		SMP: o.SMP, Memory: o.Memory, Cmdline: p.Qemu.Append, Accel: o.Accel, QemuVersion: p.QemuVersion,
		Env: o.Env, Duration: o.Duration.Seconds(), Iterations: o.Iterations, Variant: variant,
	}
}
