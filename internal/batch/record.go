package batch

import (
	"strings"

	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// ConfigOf is the store's view of a prepared run: what makes its runs
// comparable with others, and the names the user gave.
func ConfigOf(p *run.Plan, variant, kernelLabel string) store.Config {
	o := p.Opts
	if kernelLabel == "" && p.Kernel.Label != "" {
		// "seed-probed (probed vDSO)": the identity file's words.
		kernelLabel = p.Kernel.Label
		if what, _, ok := strings.Cut(p.Kernel.Description, ":"); ok {
			kernelLabel += " (" + what + ")"
		}
	}
	return store.Config{
		KernelSHA256: p.Kernel.SHA256, KernelPath: p.Kernel.Path, KernelVersion: p.Kernel.Version, KernelLabel: kernelLabel,
		Reproducer: o.Repro.Name(), ReproArgs: o.Repro.Args, ReproHash: p.ReproHash,
		SMP: o.SMP, Memory: o.Memory, Cmdline: p.Qemu.Append, Accel: o.Accel, QemuVersion: p.QemuVersion,
		Env: o.Env, Duration: o.Duration.Seconds(), Iterations: o.Iterations, Variant: variant,
	}
}

// StoreRecorder records a batch's runs in a results database, one Config
// per variant, under one session.
type StoreRecorder struct {
	DB      *store.DB
	Session int64
	Configs []store.Config
}

// Started implements Recorder.
func (r *StoreRecorder) Started(variant int) (int64, error) {
	return r.DB.StartRun(r.Session, r.Configs[variant])
}

// Finished implements Recorder: a run cut short is marked interrupted,
// never recorded as a result.
func (r *StoreRecorder) Finished(id int64, _ int, res *run.Result) error {
	if res.Verdict == verdict.Interrupted {
		return r.DB.MarkInterrupted(id)
	}
	return r.DB.FinishRun(id, res)
}
