package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/cfgbisect"
	"github.com/crashrig/crashrig/internal/kconfig"
)

type bisectCfgFlags struct {
	run   runFlags
	steps bisectFlags
	treeFlags
	good, bad string
}

func newBisectConfigCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &bisectCfgFlags{}
	c := &cobra.Command{
		Use:   "config --repo SRC --good GOOD.config --bad BAD.config -r REPRO [flags]",
		Short: "find the config options that turn a good kernel config into a bad one",
		Long: `Build the kernel in SRC (out of tree, in --out) from the good and the bad
config, check that the bad one crashes more, then halve the options that differ:
each round writes the good config with some options taken from the bad one, runs
make olddefconfig (which settles dependencies), builds and boots it against both
ends. A half is kept only when it crashes; options that crash only together are
found together. The report names the minimal set of options that turns good into
bad, with the confidence of the whole search, and every option olddefconfig did
not keep as asked (its dependencies were not met).

Exit status: 0 options named, 12 inconclusive, 2 bad input or usage, 5
infra-fail, 130 interrupted.`,
		Example: `  crashrig bisect config --repo ~/linux --good good.config --bad bad.config -r vdsostack -d 30s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisectConfig(cmd.Context(), f, args, stdout, stderr)
		},
	}
	f.run.registerOn(c.Flags(), false)
	f.steps.register(c)
	fl := c.Flags()
	f.treeFlags.register(fl)
	fl.StringVar(&f.good, "good", "", "the .config that does not crash")
	fl.StringVar(&f.bad, "bad", "", "the .config that crashes")
	return c
}

func runBisectConfig(ctx context.Context, f *bisectCfgFlags, args []string, stdout, stderr io.Writer) error {
	if err := f.treeFlags.check(); err != nil {
		return err
	}
	if f.good == "" || f.bad == "" {
		return usageErr("give both configs: --good FILE --bad FILE")
	}
	var good, bad *kconfig.Config
	for _, c := range []struct {
		flag, path string
		dst        **kconfig.Config
	}{{"--good", f.good, &good}, {"--bad", f.bad, &bad}} {
		cfg, err := kconfig.ReadFile(c.path)
		if err != nil {
			return usageErr("%s: %v", c.flag, err)
		}
		*c.dst = cfg
	}
	if len(kconfig.Diff(good, bad)) == 0 {
		return usageErr("--good %s and --bad %s set every option alike", f.good, f.bad)
	}
	if err := f.steps.check(); err != nil {
		return err
	}
	if err := f.run.checkRanges(); err != nil {
		return err
	}
	cfg := f.steps.cfg
	if cfg.Limit = f.run.opts.Duration.Seconds(); cfg.Limit == 0 {
		return usageErr("-d 0: a bisection needs runs of a fixed length, e.g. -d 30s")
	}
	if _, err := f.run.options(args, stderr); err != nil {
		return err
	}
	work, out := f.dirs("config", absPath(f.good), absPath(f.bad))
	o := cfgbisect.Options{
		Src: absPath(f.repo), Out: out, Good: f.good, Bad: f.bad, Make: strings.Fields(f.make), Kernel: f.image,
		Work: work, Bisect: cfg, Logf: stderrLogf(stderr), Prepare: setPrepare(&f.run, args, stderr),
	}
	b, diff, err := cfgbisect.NewBuilder(ctx, o)
	var bt func() time.Duration
	var dropped func(io.Writer)
	if b != nil {
		bt = func() time.Duration { return b.BuildTime }
		dropped = func(w io.Writer) { printDropped(w, b.Dropped) }
	}
	return runSet(ctx, cfg, b, diff, err, "options", bt, func(s string) string { return "CONFIG_" + s }, stdout, dropped,
		cfgbisect.ErrInput)
}

// printDropped names the options olddefconfig did not keep as asked.
func printDropped(w io.Writer, dropped map[string]string) {
	var lines []string
	for name, v := range dropped {
		lines = append(lines, fmt.Sprintf("CONFIG_%s (olddefconfig made it %s)", name, v))
	}
	slices.Sort(lines)
	for i, l := range lines {
		k := ""
		if i == 0 {
			k = "dropped"
		}
		fmt.Fprintf(w, "%-14s %s\n", k, l)
	}
}
