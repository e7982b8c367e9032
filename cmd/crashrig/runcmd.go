package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/progress"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// runFlags are the flags of every command that boots guests.
type runFlags struct {
	opts       run.Options
	repro      string
	env        []string
	add        []string
	jsonOut    bool
	verbose    bool
	qemuArgs   []string
	runs, jobs int
	untilCrash bool
	budget     time.Duration
	db         string
	label      string
}

func (f *runFlags) register(c *cobra.Command) {
	f.registerOn(c.Flags(), true)
}

// registerOn adds the run flags to fl; compare registers its own -k.
func (f *runFlags) registerOn(fl *pflag.FlagSet, kernel bool) {
	o, def := &f.opts, run.Defaults()
	if kernel {
		fl.StringVarP(&o.Kernel, "kernel", "k", "", "kernel image (bzImage) to boot")
	}
	fl.StringVarP(&f.repro, "repro", "r", "go20427", "reproducer: a built-in name (crashrig reproducers), a static x86-64 program, a Go main package (directory or import path) or a shell script")
	fl.StringVar(&o.Image.Base, "base", image.BaseMinimal, "what else the image holds: minimal (nothing), busybox (Debian's busybox-static) or u-root (u-root's Go userland; needs Go)")
	fl.StringVar(&o.Image.Go, "go", "", "go command that builds a Go package reproducer and the u-root base (default go from PATH); with a built-in, that built-in runs as its own program built by this Go")
	fl.StringArrayVar(&f.add, "add", nil, "HOST:GUEST file or directory to copy into the image (repeatable)")
	fl.StringVar(&o.Image.InitScript, "init-script", "", "seed: /init is the seed story's init.sh (needs --base busybox); crashrig stops the reproducer at -d and counts that as a pass")
	fl.DurationVarP(&o.Duration, "duration", "d", 30*time.Second, "how long each reproducer run lasts (0: until it exits)")
	fl.IntVar(&o.Iterations, "iterations", def.Iterations, "reproducer runs per boot")
	fl.IntVar(&o.SMP, "smp", def.SMP, "vCPUs")
	fl.IntVarP(&o.Memory, "memory", "m", def.Memory, "guest memory in MiB")
	fl.StringVar(&o.Accel, "accel", def.Accel, "accelerator: auto (KVM if it really works here, else TCG), kvm or tcg")
	fl.StringVar(&o.TCGThread, "tcg-thread", def.TCGThread, "TCG threading: multi (vCPUs run at once) or single (hides races)")
	fl.StringVar(&o.Append, "append", "", "words added to the kernel command line")
	fl.StringVar(&o.Cmdline, "cmdline", "", "replace crashrig's default kernel command line ("+run.DefaultCmdline+")")
	fl.StringArrayVar(&f.qemuArgs, "qemu-arg", nil, "extra qemu argument (repeatable)")
	fl.StringVar(&o.QemuBinary, "qemu", "", "qemu binary (default qemu-system-x86_64 from PATH)")
	fl.StringVar(&o.BIOS, "bios", "", "firmware: a file, or \"default\" for qemu's own (default: qboot when installed, it boots faster)")
	fl.StringArrayVar(&f.env, "env", nil, "K=V for the reproducer's environment (repeatable), e.g. GOMAXPROCS=1")
	fl.DurationVar(&o.Grace, "grace", def.Grace, "after a crash line, wait this long at most for the rest of the report")
	fl.DurationVar(&o.HangTimeout, "hang-timeout", def.HangTimeout, "no heartbeat from the guest for this long is a hang")
	fl.DurationVar(&o.BootTimeout, "boot-timeout", def.BootTimeout, "the reproducer must start within this long")
	fl.StringVar(&o.LogDir, "log-dir", "", "where console logs go (default $XDG_STATE_HOME/crashrig/logs)")
	fl.BoolVar(&o.Snapshot, "snapshot", false, "boot once to the reproducer's start, save the VM state, and start every run from it (fresh entropy and clock each run; a failed restore boots)")
	fl.StringVar(&o.Initramfs, "initramfs", "", "boot this initramfs instead of building one (it must carry crashrig's /init)")
	fl.BoolVar(&o.NoPVPanic, "no-pvpanic", false, "leave out the pvpanic device and its QMP monitor (a panic is then seen on the console only)")
	fl.StringVar(&o.Modules, "modules", "", "the kernel package's lib/modules/RELEASE directory: /init loads its pvpanic modules (for kernels with CONFIG_PVPANIC_MMIO=m; see crashrig doctor)")
	fl.StringVar(&f.db, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	fl.StringVar(&f.label, "label", "", "a name for the kernel in reports")
	fl.BoolVar(&f.jsonOut, "json", false, "print the result as one JSON object")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also print the crash report and the qemu command line")
}

// checkRanges refuses numbers no run can use, before anything is built or booted.
func (f *runFlags) checkRanges() error {
	switch {
	case f.budget < 0:
		return usageErr("--budget %v: want 0 (no limit) or more", f.budget)
	case f.runs < 0:
		return usageErr("-n %d: want 0 (no limit, with --until-crash or --budget) or more", f.runs)
	}
	if err := f.opts.Check(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// options turns the flags and the words after -- into run options.
func (f *runFlags) options(args []string, stderr io.Writer) (run.Options, error) {
	f.opts.Env, f.opts.QemuArgs = f.env, f.qemuArgs
	if err := f.checkRanges(); err != nil {
		return f.opts, err
	}
	o := f.opts
	r, err := repro.Resolve(f.repro, args)
	if err != nil {
		return o, &exitError{code: exitUsage, err: err}
	}
	r = r.WithGo(o.Image.Go)
	o.Repro = r
	if o.Image.Add, err = image.ParseAdds(f.add); err != nil {
		return o, &exitError{code: exitUsage, err: err}
	}
	im := o.Image
	im.Repro = r
	if err := im.Validate(); err != nil {
		return o, &exitError{code: exitUsage, err: err}
	}
	if o.Image.InitScript == image.InitSeed && o.Iterations > 1 {
		return o, usageErr("--init-script seed runs the reproducer once per boot: drop --iterations")
	}
	o.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+format+"\n", a...) }
	return o, nil
}

func newRunCmd(argv []string, stdout, stderr io.Writer) *cobra.Command {
	f := &runFlags{}
	forBisect := false
	c := &cobra.Command{
		Use:   "run -k KERNEL [-r REPRO] [flags] [-- REPRO-ARGS...]",
		Short: "boot a kernel with a reproducer and report the verdict",
		Long: `Boot KERNEL under qemu with a minimal initramfs holding the reproducer, watch the
serial console and report the verdict: crash, pass, hang, boot-fail or infra-fail.

Exit status: 0 pass, 1 crash, 2 bad input or usage, 3 hang, 4 boot-fail,
5 infra-fail (a host-side failure; never blamed on the kernel), 130 interrupted.
With --bisect (for git bisect run): 0 good, 1 bad, 125 skip, 128 crashrig's own
error, 130 interrupted.`,
		Example: `  crashrig run -k /boot/vmlinuz-6.1.0-xx -r go20427 -d 60s
  crashrig run -k bzImage -r ./mybin --json -- -iterations 1000
  crashrig run -k bzImage -r clockstorm --env GOMAXPROCS=1 --smp 4`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if forBisect {
				return runForBisect(cmd, f, args, argv, stdout, stderr)
			}
			o, err := f.options(args, stderr)
			if err != nil {
				return err
			}
			return runCmd(cmd, o, f, argv, stdout, stderr)
		},
	}
	f.register(c)
	bisectFlagErrors(c, argv)
	fl := c.Flags()
	fl.IntVarP(&f.runs, "runs", "n", 1, "boots to run (with --until-crash or --budget: at most this many; 0 = no limit)")
	fl.IntVarP(&f.jobs, "jobs", "j", 1, "VMs at once")
	fl.BoolVar(&f.untilCrash, "until-crash", false, "stop at the first crash")
	fl.DurationVar(&f.budget, "budget", 0, "stop starting runs once this much VM-time is spent")
	fl.BoolVar(&forBisect, "bisect", false, "for git bisect run: up to -n runs, exit 0 good, 1 bad (crash or hang), 125 skip (missing kernel, boot-fail, infra-fail), 128 crashrig's own error")
	return c
}

// runCmd prepares the run, records it in the results database and boots
// once or many times.
func runCmd(cmd *cobra.Command, o run.Options, f *runFlags, argv []string, stdout, stderr io.Writer) error {
	if o.Kernel == "" {
		return usageErr("no kernel: give -k PATH (scripts/fetch-test-kernel prints one)")
	}
	if f.jobs < 1 {
		return usageErr("-j %d: want 1 or more VMs at once", f.jobs)
	}
	ctx := cmd.Context()
	plan, err := run.Prepare(ctx, o)
	if err != nil {
		return prepareErr(err)
	}
	db, err := store.Open(f.db)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	defer db.Close()
	sess, err := db.BeginSession("run", f.label, argv)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	defer db.EndSession(sess.ID)
	rec := &store.Recorder{DB: db, Session: sess.ID, Configs: []record.Config{plan.Config("", f.label)}}
	single := f.runs == 1 && !f.untilCrash && f.budget == 0
	if single {
		return bootOnce(ctx, plan, rec, f, stdout)
	}
	total := f.runs
	if f.untilCrash || f.budget > 0 {
		total = 0
	}
	disp := progress.New(stderr, isTerminal(stderr), total, f.jobs, nil)
	sum, err := batch.Run(ctx, batch.Options{Jobs: f.jobs, Variants: []batch.Booter{plan}, Recorder: rec, Progress: disp,
		Policy: &batch.Repeat{Runs: f.runs, UntilCrash: f.untilCrash, Budget: f.budget, RunLength: o.Duration}})
	disp.Close()
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if err := printSummary(stdout, db, sess.ID, f.jsonOut); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if code := batchStatus(ctx.Err() != nil, sum); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func prepareErr(err error) error {
	if run.IsInput(err) {
		return &exitError{code: exitUsage, err: err}
	}
	return &exitError{code: exitInfra, err: err}
}

// bootOnce is crashrig run without -n: one boot, shown on one screen.
func bootOnce(ctx context.Context, plan *run.Plan, rec *store.Recorder, f *runFlags, stdout io.Writer) error {
	id, err := rec.Started(0)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	res, err := plan.Boot(ctx)
	if err != nil {
		rec.DB.MarkInterrupted(id)
		return &exitError{code: exitInfra, err: err}
	}
	if err := rec.Finished(id, 0, res); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if f.jsonOut {
		if err := report.RunJSON(stdout, id, res); err != nil {
			return err
		}
	} else {
		report.RunText(stdout, id, res, f.verbose)
	}
	if code := res.Verdict.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// batchStatus is the exit status of a batch: interrupted, else the
// gravest verdict seen (crash, then hang, boot-fail, infra-fail).
func batchStatus(interrupted bool, s *batch.Tally) int {
	if interrupted {
		return verdict.Interrupted.ExitCode()
	}
	seen := map[verdict.Verdict]bool{}
	for _, rs := range s.Results {
		for _, r := range rs {
			seen[r.Verdict] = true
		}
	}
	for _, v := range []verdict.Verdict{verdict.Crash, verdict.Hang, verdict.BootFail, verdict.InfraFail} {
		if seen[v] {
			return v.ExitCode()
		}
	}
	return 0
}
