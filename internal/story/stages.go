package story

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/compare"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
)

// A variant is one side of a stage's comparison.
type variant struct {
	name string
	opts run.Options
}

// comparison runs (or, for a stage decided before, replays) a comparison and returns its
// conclusion, its report model and the VM seconds its runs took.
func (t *teller) comparison(ctx context.Context, stage string, vs []variant, test sequential.Config) (*compare.Conclusion, *report.Model, float64, error) {
	var cv []compare.Variant
	for _, v := range vs {
		plan, err := run.Prepare(ctx, v.opts)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("variant %s: %w", v.name, err)
		}
		cv = append(cv, compare.Variant{Name: v.name, Plan: plan, Config: plan.Config(v.name, v.name)})
	}
	var sess int64
	if s, ok := t.done(stage); ok {
		sess = s.Session
	}
	out, err := compare.Run(ctx, compare.Options{Variants: cv, Test: test, Jobs: t.o.Jobs, DB: t.o.DB, Session: sess,
		Args: []string{"crashrig", "story", "vdso", "(stage " + stage + ")"}, Logf: t.o.Logf})
	if err != nil {
		return nil, nil, 0, err
	}
	if ctx.Err() != nil {
		return nil, nil, 0, ctx.Err()
	}
	conf := fmt.Sprintf("alpha %.3g, beta %.3g, min effect ×%g", test.Alpha, test.Beta, test.MinRatio)
	m, err := report.FromComparison(t.o.DB, out.Session, out.Decisions, conf, out.Resumed, out.Reused, time.Now())
	if err != nil {
		return nil, nil, 0, err
	}
	recs, err := t.o.DB.Runs(store.Query{SessionID: out.Session})
	if err != nil {
		return nil, nil, 0, err
	}
	vm := 0.0
	for _, r := range recs {
		vm += r.Wall
	}
	return out, m, vm, nil
}

// testConfig is the comparisons' test: crashrig's defaults.
func testConfig() sequential.Config {
	return sequential.Config{Alpha: sequential.DefaultAlpha, Beta: sequential.DefaultBeta, MinRatio: sequential.DefaultMinRatio,
		Method: sequential.LogRank, MaxRuns: 200}
}

func (t *teller) opts(kernel, builtin string, d time.Duration, args ...string) run.Options {
	o := t.o.Run
	o.Kernel, o.Duration = kernel, d
	o.Repro = repro.Program{Builtin: builtin, Args: args}
	return o
}

// counts says "c of n crashed" per variant.
func counts(d sequential.Decision) string {
	return fmt.Sprintf("%s crashed in %d of %d runs, %s in %d of %d", d.A, d.Crashes[0], d.Runs[0], d.B, d.Crashes[1], d.Runs[1])
}

// infoValues returns, per variant, the values of an info key the reproducer reported
// in the session's finished runs.
func (t *teller) infoValues(session int64, key string) (map[string][]string, error) {
	recs, err := t.o.DB.Runs(store.Query{SessionID: session, Status: "done"})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range recs {
		res, err := t.o.DB.Result(r.ID)
		if err != nil || res == nil {
			continue
		}
		for _, it := range res.Info {
			if it.Key == key {
				out[r.Config.Variant] = append(out[r.Config.Variant], it.Value)
			}
		}
	}
	return out, nil
}

// footprint: vdsostack measures how far below its caller's stack pointer the vDSO
// writes, on both kernels.
func (t *teller) footprint(ctx context.Context) (*stageState, *report.Model, error) {
	clean, probed := t.value("kernels", "clean"), t.value("kernels", "probed")
	out, m, vm, err := t.comparison(ctx, "footprint", []variant{
		{"clean", t.opts(clean, "vdsostack", 20*time.Second)},
		{"probed", t.opts(probed, "vdsostack", 20*time.Second)},
	}, testConfig())
	if err != nil {
		return nil, nil, err
	}
	d := out.Decisions[0]
	ss := &stageState{Session: out.Session, VM: vm, Expected: d.Outcome == sequential.MoreB}
	fp, err := t.infoValues(out.Session, "vdso_footprint_clock_gettime")
	if err != nil {
		return nil, nil, err
	}
	ss.Outcome = fmt.Sprintf("%s: %s", d.Headline(), counts(d))
	for _, v := range []string{"clean", "probed"} {
		how := fmt.Sprintf("%d runs of the comparison measured it", len(fp[v]))
		if len(fp[v]) == 0 {
			// Every run of this side was stopped (its partner crashed first) before it
			// printed its footprint: measure it once, outside the comparison.
			vals, wall, err := t.measureFootprint(ctx, t.value("kernels", v))
			if err != nil {
				return nil, nil, err
			}
			fp[v], ss.VM, how = vals, ss.VM+wall, "measured by one run of vdsostack -mode measure, outside the comparison"
		}
		ss.Facts = append(ss.Facts, fmt.Sprintf("%s: clock_gettime writes %s bytes below its caller's stack pointer (%s)",
			v, summarize(fp[v]), how))
	}
	ss.Facts = append(ss.Facts, "Go 1.9 allowed the vDSO 104 bytes below a goroutine's stack pointer: a footprint beyond that "+
		"reaches into whatever lies below a small goroutine stack")
	return ss, m, nil
}

// measureFootprint boots kernel once with vdsostack -mode measure and returns the
// footprint of clock_gettime it reported, and the run's wall time.
func (t *teller) measureFootprint(ctx context.Context, kernel string) ([]string, float64, error) {
	plan, err := run.Prepare(ctx, t.opts(kernel, "vdsostack", 20*time.Second, "-mode", "measure"))
	if err != nil {
		return nil, 0, err
	}
	r, err := plan.Boot(ctx)
	if err != nil {
		return nil, 0, err
	}
	var vals []string
	for _, it := range r.Info {
		if it.Key == "vdso_footprint_clock_gettime" {
			vals = append(vals, it.Value)
		}
	}
	return vals, r.Wall, nil
}

// summarize says "48" when every value is the same, "4192–4208" otherwise.
func summarize(vals []string) string {
	if len(vals) == 0 {
		return "(not reported)"
	}
	lo, hi := vals[0], vals[0]
	ln, _ := strconv.Atoi(lo)
	hn := ln
	for _, v := range vals[1:] {
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		if n < ln {
			lo, ln = v, n
		}
		if n > hn {
			hi, hn = v, n
		}
	}
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// goRuns is the fixed number of runs per kernel of the stock-runtime stage.
func (t *teller) goRuns() int {
	if t.o.Reduced {
		return 4
	}
	return 8
}

const goRunTime = 10 * time.Second

// goStock runs the workload with the stock runtime on both kernels: it survives, since
// Go calls the vDSO on the system stack.
func (t *teller) goStock(ctx context.Context) (*stageState, *report.Model, error) {
	clean, probed := t.value("kernels", "clean"), t.value("kernels", "probed")
	test := testConfig()
	test.FixedRuns = t.goRuns()
	c, p := t.opts(clean, t.o.Workload, goRunTime), t.opts(probed, t.o.Workload, goRunTime)
	c.Image.Go, p.Image.Go = t.o.StockGo, t.o.StockGo
	c.Repro, p.Repro = c.Repro.WithGo(t.o.StockGo), p.Repro.WithGo(t.o.StockGo)
	out, m, vm, err := t.comparison(ctx, "go-stock", []variant{{"clean", c}, {"probed", p}}, test)
	if err != nil {
		return nil, nil, err
	}
	d := out.Decisions[0]
	ss := &stageState{Session: out.Session, VM: vm, Expected: d.Crashes[0] == 0 && d.Crashes[1] == 0}
	ss.Outcome = "no crash: " + counts(d)
	if !ss.Expected {
		ss.Outcome = "crashed: " + counts(d)
	}
	ss.Facts = append(ss.Facts,
		fmt.Sprintf("%s built as its own program by %s (the host's Go), %d fixed runs of %s per kernel", t.o.Workload, t.o.StockGo, test.FixedRuns, goRunTime),
		"why it survives: since the fix for Go issue 20427 (Go 1.9.x), the runtime switches to the thread's system stack "+
			"before it calls the vDSO (nanotime1, time·now), and that stack has room for a 4 KiB probe")
	return ss, m, nil
}

// goNofix runs the workload built with a toolchain without that fix.
func (t *teller) goNofix(ctx context.Context) (*stageState, *report.Model, error) {
	clean, probed := t.value("kernels", "clean"), t.value("kernels", "probed")
	goCmd, err := t.o.Toolchain(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("the toolchain without the fix: %w", err)
	}
	c, p := t.opts(clean, t.o.Workload, goRunTime), t.opts(probed, t.o.Workload, goRunTime)
	c.Image.Go, p.Image.Go = goCmd, goCmd
	c.Repro, p.Repro = c.Repro.WithGo(goCmd), p.Repro.WithGo(goCmd)
	test := testConfig()
	test.MaxRuns = 60 // in all: a workload that does not crash here ends undecided, not after hours
	out, m, vm, err := t.comparison(ctx, "go-nofix", []variant{{"clean", c}, {"probed", p}}, test)
	if err != nil {
		return nil, nil, err
	}
	d := out.Decisions[0]
	ss := &stageState{Session: out.Session, VM: vm, Expected: d.Outcome == sequential.MoreB}
	ss.Outcome = fmt.Sprintf("%s: %s", d.Headline(), counts(d))
	ss.Facts = append(ss.Facts,
		fmt.Sprintf("%s built with %s: a copy of the host's Go whose nanotime1 and time·now call the vDSO on the goroutine's "+
			"own stack (JNE noswitch → JMP noswitch), as Go 1.9 did", t.o.Workload, goCmd),
		fmt.Sprintf("runs of %s; the comparison stops as soon as its test decides", goRunTime))
	titles := titleCounts(m)
	if titles != "" {
		ss.Facts = append(ss.Facts, "crash titles: "+titles)
	}
	return ss, m, nil
}

// titleCounts lists the crash titles of a model's variants with their counts.
func titleCounts(m *report.Model) string {
	var parts []string
	for _, v := range m.Variants {
		n := map[string]int{}
		var order []string
		for _, e := range v.Crashes {
			if n[e.Title] == 0 {
				order = append(order, e.Title)
			}
			n[e.Title]++
		}
		for _, title := range order {
			parts = append(parts, fmt.Sprintf("%s: %q ×%d", v.Name, title, n[title]))
		}
	}
	return strings.Join(parts, "; ")
}

// gomaxprocs shows the clue of the story: with one thread running Go code nothing is
// lost; with two, the probe's read-modify-write undoes a neighbour's update.
func (t *teller) gomaxprocs(ctx context.Context) (*stageState, *report.Model, error) {
	probed := t.value("kernels", "probed")
	two := t.opts(probed, "vdsostack", 30*time.Second, "-mode", "race")
	one := two
	two.Env = append(append([]string(nil), two.Env...), "GOMAXPROCS=2")
	one.Env = append(append([]string(nil), one.Env...), "GOMAXPROCS=1")
	out, m, vm, err := t.comparison(ctx, "gomaxprocs", []variant{{"gomaxprocs2", two}, {"gomaxprocs1", one}}, testConfig())
	if err != nil {
		return nil, nil, err
	}
	d := out.Decisions[0]
	lost, err := t.infoValues(out.Session, "vdso_lost")
	if err != nil {
		return nil, nil, err
	}
	ss := &stageState{Session: out.Session, VM: vm, Expected: d.Outcome == sequential.MoreA}
	ss.Outcome = fmt.Sprintf("%s: %s", d.Headline(), counts(d))
	for _, v := range []string{"gomaxprocs2", "gomaxprocs1"} {
		ss.Facts = append(ss.Facts, fmt.Sprintf("%s: updates lost per run: %s", v, strings.Join(lost[v], ", ")))
	}
	ss.Facts = append(ss.Facts, "vdsostack -mode race on the probed kernel: goroutines increment words at the depths the probe "+
		"reaches while others call clock_gettime; the story's program never crashed with GOMAXPROCS=1")
	return ss, m, nil
}
