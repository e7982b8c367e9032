package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/campaign"
	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/progress"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/xdg"
)

type batchFlags struct {
	jobs              int
	deadline, shard   string
	tag, db           string
	resume, rerun     bool
	dryRun, jsonOut   bool
	logBudget, onDone string
	junit, html       string
	hangTimeout       time.Duration
	snapshot          bool
	bootTimeout       time.Duration
	logDir            string
}

func newBatchCmd(argv []string, stdout, stderr io.Writer) *cobra.Command {
	f := &batchFlags{}
	c := &cobra.Command{
		Use:   "batch PLAN.yaml [flags]",
		Short: "run a plan's cells overnight: resumable, under a deadline, sharded across machines",
		Long: `Run every cell of a plan file (docs/campaigns.md): each kernel × reproducer ×
variant it lists, under the cell's stop rule — runs: N, until-crash, or
compare-to: KERNEL (the sequential test of crashrig compare). One scheduler
keeps -j VMs busy and interleaves the cells, so a deadline leaves each with
comparable evidence. Every run is recorded as it starts and ends: after a
kill -9, a reboot or Ctrl-C, --resume continues the same batch (one cut by its deadline or budget too),
counting every finished run once and running again the ones that were cut. Cells a
previous batch of the same plan decided are skipped unless --rerun.

--shard i/N runs the i-th of N deterministic parts (cells and runs) into its
own database; crashrig merge joins them. The morning report is printed at the
end and is always available as crashrig report.

Exit status: 0 the batch ended (complete, or cut by its deadline or budget),
2 bad plan or usage, 5 infra-fail, 130 interrupted (--resume continues).`,
		Example: `  crashrig batch plan.yaml --dry-run
  crashrig batch plan.yaml -j 2 --deadline 07:00 --junit results.xml
  crashrig batch plan.yaml --resume
  crashrig batch plan.yaml --shard 3/16 --db shard-3.db --tag "$SLURM_ARRAY_JOB_ID"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBatch(cmd.Context(), f, args[0], argv, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.IntVarP(&f.jobs, "jobs", "j", 1, "VMs at once")
	fl.StringVar(&f.deadline, "deadline", "", `start no run that cannot end by then: "07:00" (next), an RFC 3339 time, or a duration from now ("8h"); overrides the plan's`)
	fl.StringVar(&f.shard, "shard", "", "run only shard i of N (i/N, from 0), e.g. $SLURM_ARRAY_TASK_ID/16")
	fl.StringVar(&f.tag, "tag", "", "names this batch among batches of the same plan (shards of one batch share it), e.g. $SLURM_ARRAY_JOB_ID")
	fl.StringVar(&f.db, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	fl.BoolVar(&f.resume, "resume", false, "continue the last batch of this plan where it stopped (or begin one if there is none)")
	fl.BoolVar(&f.rerun, "rerun", false, "start a new batch and run every cell, even ones an earlier batch decided")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the cells and the expected VM-time, and start nothing")
	fl.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fl.StringVar(&f.logBudget, "log-budget", "2G", "disk for the batch's console logs (e.g. 500M, 2G; 0 = each log up to the store's cap): crash logs are kept whole, passes trimmed to head and tail")
	fl.StringVar(&f.onDone, "on-done", "", "shell command to run at the end with the HTML report's path as $1 (and $CRASHRIG_REPORT)")
	fl.StringVar(&f.junit, "junit", "", "also write the report as JUnit XML to this file")
	fl.StringVar(&f.html, "html", "", "also write the HTML report to this file")
	fl.DurationVar(&f.hangTimeout, "hang-timeout", 15*time.Second, "no heartbeat from the guest for this long is a hang")
	fl.BoolVar(&f.snapshot, "snapshot", false, "start every cell's runs from a VM state saved once per configuration (both arms of a comparison alike)")
	fl.DurationVar(&f.bootTimeout, "boot-timeout", 60*time.Second, "the reproducer must start within this long")
	fl.StringVar(&f.logDir, "log-dir", "", "where console logs go (default $XDG_STATE_HOME/crashrig/logs)")
	return c
}

// checkFlags refuses unusable flags before the plan is read.
func (f *batchFlags) check() (plan.Shard, int64, error) {
	sh, err := plan.ParseShard(f.shard)
	if err != nil {
		return sh, 0, usageErr("%v", err)
	}
	budget, err := parseSize(f.logBudget)
	if err != nil {
		return sh, 0, usageErr("--log-budget %q: %v", f.logBudget, err)
	}
	switch {
	case f.jobs < 1:
		return sh, 0, usageErr("-j %d: want 1 or more VMs at once", f.jobs)
	case f.resume && f.rerun:
		return sh, 0, usageErr("--resume continues the last batch, --rerun starts a new one: give one of them")
	case f.hangTimeout <= 0 || f.bootTimeout <= 0:
		return sh, 0, usageErr("--hang-timeout and --boot-timeout want positive durations")
	}
	for _, o := range []struct{ flag, path string }{{"--junit", f.junit}, {"--html", f.html}} {
		if err := checkOutput(o.flag, o.path); err != nil {
			return sh, 0, err
		}
	}
	return sh, budget, nil
}

// parseSize reads 512K, 500M, 2G or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	t := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s, "B"), "i"))
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a size like 500M or 2G")
	}
	return int64(v * float64(mult)), nil
}

func loadPlan(path string) (*plan.Plan, error) {
	p, err := plan.Load(path)
	var pe *plan.Error
	switch {
	case errors.As(err, &pe):
		return nil, usageErr("%v", err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, usageErr("%v", err)
	case err != nil:
		return nil, &exitError{code: exitInfra, err: err}
	}
	return p, nil
}

func batchDeadline(flag string, p *plan.Plan, now time.Time) (time.Time, error) {
	s := flag
	if s == "" {
		s = p.Deadline
	}
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	t, err := plan.ParseDeadline(s, now)
	if err != nil {
		return t, usageErr("--deadline %q: %v (e.g. 07:00, 8h or 2026-12-07T07:00:00+01:00)", s, err)
	}
	return t, nil
}

func runBatch(ctx context.Context, f *batchFlags, path string, argv []string, stdout, stderr io.Writer) error {
	sh, logBudget, err := f.check()
	if err != nil {
		return err
	}
	p, err := loadPlan(path)
	if err != nil {
		return err
	}
	deadline, err := batchDeadline(f.deadline, p, time.Now())
	if err != nil {
		return err
	}
	if f.dryRun {
		return printDryRun(stdout, p, sh, f.jobs, deadline)
	}
	base := run.Defaults()
	base.HangTimeout, base.BootTimeout, base.LogDir, base.Logf = f.hangTimeout, f.bootTimeout, f.logDir, logTo(stderr)
	base.Snapshot = f.snapshot
	cells, arms, err := campaign.Prepare(ctx, p, sh, base)
	if err != nil {
		return prepareErr(err)
	}
	db, err := store.Open(f.db)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	defer db.Close()
	b := &campaign.Batch{DB: db, Plan: p, Shard: sh, Tag: f.tag, Cells: cells, Arms: arms, Logf: logTo(stderr)}
	if err := b.Begin(argv, f.resume, f.rerun); errors.Is(err, campaign.ErrUnfinished) {
		return &exitError{code: exitUsage, err: err}
	} else if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if b.Session == 0 {
		return nil // nothing to resume: Begin said why
	}
	state, err := b.Run(ctx, campaign.RunOptions{Jobs: f.jobs, Deadline: deadline, LogBudget: logBudget,
		Progress: func(total int, names []string) batch.Progress {
			return progress.New(stderr, isTerminal(stderr), total, f.jobs, names)
		}})
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if err := b.Finish(state); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	return batchOutputs(b, f, state, stdout, stderr)
}

// printDryRun shows the cells this shard would run and the VM-time they need.
func printDryRun(w io.Writer, p *plan.Plan, sh plan.Shard, jobs int, deadline time.Time) error {
	fmt.Fprintf(w, "plan %s (%s), %d cells", p.Name, p.Hash(), len(p.Cells))
	if sh.Count > 1 {
		fmt.Fprintf(w, ", shard %s", sh)
	}
	fmt.Fprintf(w, "; one run ≈ %s of VM-time (%d × %s + boot ≈ %s)\n\n", p.RunLength(), p.Iterations, p.Duration, plan.BootEstimate)
	fmt.Fprintf(w, "%-40s %-34s %8s %6s %12s\n", "cell", "stop rule", "priority", "runs", "VM-time")
	var total time.Duration
	bounded := false
	for i := range p.Cells {
		c := &p.Cells[i]
		n := sh.Quota(c)
		if n == 0 {
			continue
		}
		runs := fmt.Sprint(n)
		if c.Rule != plan.RuleRuns {
			runs, bounded = "≤"+runs, true
		}
		t := time.Duration(n) * p.RunLength()
		if c.Budget > 0 && c.Budget < t {
			t = c.Budget
		}
		total += t
		fmt.Fprintf(w, "%-40s %-34s %8d %6s %12s\n", c.ID, c.RuleText(), c.Priority, runs, t.Round(time.Second))
	}
	if p.Budget > 0 && p.Budget < total {
		total = p.Budget
	}
	word := "expected"
	if bounded {
		word = "at most"
	}
	fmt.Fprintf(w, "\nVM-time %s %s: about %s of wall time at -j %d", word, total.Round(time.Second), (total / time.Duration(jobs)).Round(time.Second), jobs)
	if !deadline.IsZero() {
		fmt.Fprintf(w, "; deadline %s", deadline.Format("2006-01-02 15:04 MST"))
		if left := time.Until(deadline); left*time.Duration(jobs) < total {
			fmt.Fprintf(w, " (%s away: not every cell will finish; cells are interleaved so each gets its share)", left.Round(time.Minute))
		}
	}
	fmt.Fprintln(w)
	return nil
}

// batchOutputs prints the morning report, writes the JUnit and HTML files
// and runs the --on-done hook.
func batchOutputs(b *campaign.Batch, f *batchFlags, state string, stdout, stderr io.Writer) error {
	sess, err := b.DB.Session(b.Session)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	m, err := report.FromBatch(b.DB, sess)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if f.junit != "" {
		if err := atomicfile.Write(f.junit, 0o644, m.JUnit); err != nil {
			return &exitError{code: exitInfra, err: err}
		}
	}
	html := f.html
	if html == "" && f.onDone != "" {
		dir := filepath.Join(xdg.StateDir(), "reports")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &exitError{code: exitInfra, err: err}
		}
		html = filepath.Join(dir, fmt.Sprintf("batch-%d.html", b.Session))
	}
	if html != "" {
		if err := atomicfile.Write(html, 0o644, m.HTML); err != nil {
			return &exitError{code: exitInfra, err: err}
		}
	}
	render := m.Text
	if f.jsonOut {
		render = m.JSON
	}
	if err := render(stdout); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if f.onDone != "" {
		runHook(f.onDone, html, b, stderr)
	}
	switch state {
	case campaign.StateInterrupted:
		return &exitError{code: 130, err: fmt.Errorf("interrupted; crashrig batch %s --resume continues session %d", b.Plan.File, b.Session)}
	case campaign.StateHostFailed:
		return &exitError{code: exitInfra, err: fmt.Errorf("the host failed every boot; fix it and run crashrig batch %s --resume", b.Plan.File)}
	}
	logTo(stderr)("batch session %d: %s", b.Session, state)
	return nil
}

// runHook runs --on-done; its failure is reported, not the batch's.
func runHook(hook, report string, b *campaign.Batch, stderr io.Writer) {
	cmd := exec.Command("/bin/sh", "-c", hook, "crashrig-on-done", report)
	cmd.Env = append(os.Environ(), "CRASHRIG_REPORT="+report, fmt.Sprintf("CRASHRIG_SESSION=%d", b.Session), "CRASHRIG_DB="+b.DB.Path())
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		logTo(stderr)("--on-done %q: %v (the batch itself is recorded)", hook, err)
	}
}
