package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/bench"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/xdg"
)

func newBenchCmd(stdout, stderr io.Writer) *cobra.Command {
	o := bench.Options{}
	var throughput, simulate, j2 int
	var snapshot bool
	var seedKernels string
	c := &cobra.Command{
		Use:   "bench -k KERNEL [-n PAIRS] [-d DURATION] [--smp N] | --throughput N | --compare-sim N | --snapshot [--j2-runs N] [--seed-kernels \"CLEAN PROBED\"]",
		Short: "measure crashrig against the seed story's raw qemu+busybox method, side by side",
		Long: `Boot the same kernel and reproducer (go20427 for DURATION) alternately with the seed
story's method (busybox init.sh printing "Starting test now..." / "Test exited with
status N after S seconds", the story's qemu flags under TCG) and with crashrig run,
and print medians: wall time per run and its ratio, the delay from the kernel
starting /init to the reproducer starting, and from a crash line to the verdict.

With --snapshot: triples of the seed method, a booted run and a run restored from
a saved VM state (crashrig run --snapshot), interleaved; then runs per hour with
-j 2 both ways, and with --seed-kernels the seed kernels' comparison (vdsostack
-d 10s -j 2) booted and restored, each timed to its decision.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case simulate < 0 || throughput < 0:
				return usageErr("--compare-sim and --throughput take a positive count (or 0 for the default benchmark)")
			case o.Runs < 1:
				return usageErr("-n %d: want 1 or more pairs", o.Runs)
			case o.Duration <= 0:
				return usageErr("-d %v: want a positive run length", o.Duration)
			case o.SMP < 1 || o.SMP > run.MaxSMP:
				return usageErr("--smp %d: want 1 to %d vCPUs", o.SMP, run.MaxSMP)
			}
			if simulate > 0 {
				tab, err := sequential.CompareDesigns(sequential.Config{}, simulate, 1)
				if err != nil {
					return &exitError{code: exitInfra, err: err}
				}
				fmt.Fprint(stdout, tab.String())
				return nil
			}
			if o.Kernel == "" {
				return usageErr("no kernel: give -k PATH")
			}
			o.CacheDir = xdg.CacheDir()
			o.LogDir = xdg.StateDir() + "/logs"
			o.Logf = func(f string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+f+"\n", a...) }
			if snapshot {
				var clean, probed string
				if f := strings.Fields(seedKernels); len(f) == 2 {
					clean, probed = f[0], f[1]
				} else if seedKernels != "" {
					return usageErr("--seed-kernels %q: want the two paths scripts/build-seed-kernels prints", seedKernels)
				}
				r, err := bench.MeasureSnapshot(cmd.Context(), o, j2, clean, probed)
				if err != nil {
					return prepareErr(err)
				}
				r.Write(stdout)
				return nil
			}
			if throughput > 0 {
				t, err := bench.MeasureThroughput(cmd.Context(), o, throughput)
				if err != nil {
					return prepareErr(err)
				}
				t.Write(stdout)
				return nil
			}
			rep, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return prepareErr(err)
			}
			rep.Write(stdout)
			return nil
		},
	}
	c.Flags().StringVarP(&o.Kernel, "kernel", "k", "", "kernel image")
	c.Flags().IntVarP(&o.Runs, "pairs", "n", 5, "pairs of runs")
	c.Flags().DurationVarP(&o.Duration, "duration", "d", 5*time.Second, "reproducer run length")
	c.Flags().IntVar(&o.SMP, "smp", run.Defaults().SMP, "vCPUs for both methods")
	c.Flags().IntVar(&throughput, "throughput", 0, "instead: measure runs per hour with -j 2 against the ideal, over N runs each way")
	c.Flags().IntVar(&simulate, "compare-sim", 0, "instead: simulate N comparisons per scenario and print VM-seconds to a decision against fixed designs (no VM needed)")
	c.Flags().BoolVar(&snapshot, "snapshot", false, "instead: measure runs restored from a saved VM state against booted runs and the seed method")
	c.Flags().IntVar(&j2, "j2-runs", 10, "with --snapshot: runs each way with -j 2 (0 = skip)")
	c.Flags().StringVar(&seedKernels, "seed-kernels", "", "with --snapshot: \"CLEAN PROBED\" kernels (scripts/build-seed-kernels) to time their comparison both ways")
	c.Flags().StringVar(&o.Busybox, "busybox", "/bin/busybox", "static busybox for the seed method's image")
	return c
}
