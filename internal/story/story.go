// Package story re-enacts crashrig's seed story end to end (crashrig story vdso): from a
// kernel tree to "arch/x86/entry/vdso/vclock_gettime.o, a 4 KiB stack probe, racing small
// stacks". It builds the clean and the probed kernel (through a build command, by default
// scripts/build-seed-kernels), shows the probe in the vDSO's disassembly, decides the
// comparisons that tell the story (the vDSO's stack footprint, a Go workload on the stock
// runtime and on one without the fix for Go issue 20427, the lost-update race with
// GOMAXPROCS 2 against 1), bisects the objects of the probed build, and writes one
// report (package report's Story) with every decision, plot and timing.
//
// Each stage's result is kept in the output directory (state.json, and the comparisons'
// sessions in the store), so a second invocation reuses what was decided and built.
package story

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
)

// The culprit the bisection must name.
const Culprit = "arch/x86/entry/vdso/vclock_gettime.o"

// Options configure a story.
type Options struct {
	Out      string   // report, plots and state.json
	BuildCmd []string // prints the clean and the probed kernel's paths, one per line, last
	// Reduced is the form CI runs: fewer fixed runs, candidates narrowed to the vDSO.
	Reduced bool
	Run     run.Options // shared run options (SMP, caches…): Kernel, Repro, Env, Duration are set per stage
	DB      *store.DB
	Jobs    int    // VMs at once
	Self    string // the crashrig binary (the compiler shim of the object bisection)
	// Workload is the built-in Go reproducer of the Go stages, Toolchain makes (or finds)
	// the Go toolchain without the fix and returns its go command.
	Workload  string
	StockGo   string // the host's go command
	Toolchain func(ctx context.Context) (string, error)
	Only      []string // candidates of the object bisection: path prefixes (nil: the whole tree)
	Logf      func(format string, a ...any)
}

// A Result is the story and whether every stage came out as the story predicts.
type Result struct {
	Story *report.Story
	OK    bool
}

// stageState is what a finished stage leaves for the next invocation.
type stageState struct {
	Outcome  string            `json:"outcome"`
	Expected bool              `json:"expected"`
	Wall     time.Duration     `json:"wall_ns"`
	VM       float64           `json:"vm_s"`
	Facts    []string          `json:"facts,omitempty"`
	Blocks   []report.Block    `json:"blocks,omitempty"`
	Session  int64             `json:"session,omitempty"` // the comparison's store session
	Values   map[string]string `json:"values,omitempty"`  // what later stages need (kernel paths…)
}

type state struct {
	Version int                    `json:"version"`
	Reduced bool                   `json:"reduced"`
	Stages  map[string]*stageState `json:"stages"`
}

const stateVersion = 1

// teller runs the stages of one story.
type teller struct {
	o     Options
	st    *state
	story *report.Story
}

// Run tells the story, reusing what an earlier invocation in o.Out decided.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	t := &teller{o: o, story: &report.Story{
		Title: "The seed story: a vDSO stack probe racing Go's small stacks", Generated: time.Now()}}
	if err := t.load(); err != nil {
		return nil, err
	}
	stages := []struct {
		name, title string
		do          func(context.Context) (*stageState, *report.Model, error)
	}{
		{"kernels", "1. The clean and the probed kernel", t.kernels},
		{"footprint", "2. The vDSO's stack footprint (vdsostack)", t.footprint},
		{"go-stock", "3a. A Go workload on the stock runtime", t.goStock},
		{"go-nofix", "3b. The same workload on a runtime without the fix", t.goNofix},
		{"gomaxprocs", "4. The clue: GOMAXPROCS=2 against GOMAXPROCS=1", t.gomaxprocs},
		{"bisect", "5. Which object? Bisecting the probe flags", t.bisect},
	}
	ok := true
	for _, s := range stages {
		prev, had := t.st.Stages[s.name]
		start := time.Now()
		ss, model, err := s.do(ctx)
		if err != nil {
			t.save()
			return nil, fmt.Errorf("stage %s: %w", s.name, err)
		}
		// A stage is reused when it returns what it kept, or replays the comparison it
		// decided before (its wall time is the first invocation's).
		reused := had && (prev == ss || (prev.Session != 0 && prev.Session == ss.Session && prev.Outcome == ss.Outcome))
		if reused {
			ss.Wall = prev.Wall
		} else {
			ss.Wall = time.Since(start)
		}
		t.st.Stages[s.name] = ss
		if err := t.save(); err != nil {
			return nil, err
		}
		t.logf("%s: %s (%s)", s.name, ss.Outcome, ss.Wall.Round(time.Second))
		ok = ok && ss.Expected
		t.story.Stages = append(t.story.Stages, report.StoryStage{Name: s.name, Title: s.title, Outcome: ss.Outcome,
			Expected: ss.Expected, Wall: ss.Wall, VM: ss.VM, Reused: reused, Facts: ss.Facts, Model: model, Blocks: ss.Blocks})
	}
	t.story.Summary = t.summary(ok)
	if err := t.write(); err != nil {
		return nil, err
	}
	return &Result{Story: t.story, OK: ok}, nil
}

// done returns a stage's kept result, if any.
func (t *teller) done(name string) (*stageState, bool) {
	s, ok := t.st.Stages[name]
	return s, ok
}

func (t *teller) value(stage, key string) string {
	if s, ok := t.st.Stages[stage]; ok {
		return s.Values[key]
	}
	return ""
}

func (t *teller) statePath() string { return filepath.Join(t.o.Out, "state.json") }

func (t *teller) load() error {
	t.st = &state{Version: stateVersion, Reduced: t.o.Reduced, Stages: map[string]*stageState{}}
	data, err := os.ReadFile(t.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%s: %v (delete it to start the story again)", t.statePath(), err)
	}
	if st.Version != stateVersion || st.Reduced != t.o.Reduced || st.Stages == nil {
		t.logf("%s is from another form of the story: starting again", t.statePath())
		return nil
	}
	t.st = &st
	return nil
}

func (t *teller) save() error {
	data, err := json.MarshalIndent(t.st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(t.statePath(), 0o644, append(data, '\n'))
}

// write puts the report in Out: story.html, story.md and the plots the Markdown shows.
func (t *teller) write() error {
	if err := atomicfile.Write(filepath.Join(t.o.Out, "story.html"), 0o644, t.story.HTML); err != nil {
		return err
	}
	for name, svg := range t.story.SVGs() {
		if err := atomicfile.WriteBytes(filepath.Join(t.o.Out, name), 0o644, []byte(svg)); err != nil {
			return err
		}
	}
	return atomicfile.Write(filepath.Join(t.o.Out, "story.md"), 0o644, t.story.Markdown)
}

func (t *teller) logf(format string, a ...any) {
	if t.o.Logf != nil {
		t.o.Logf(format, a...)
	}
}

// kernels runs the build command and reads what it left beside each image.
func (t *teller) kernels(ctx context.Context) (*stageState, *report.Model, error) {
	if s, ok := t.done("kernels"); ok && fileExists(s.Values["clean"]) && fileExists(s.Values["probed"]) {
		return s, nil, nil
	}
	if len(t.o.BuildCmd) == 0 {
		return nil, nil, errors.New("no build command for the kernels")
	}
	t.logf("building the kernels: %s", strings.Join(t.o.BuildCmd, " "))
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, t.o.BuildCmd[0], t.o.BuildCmd[1:]...)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", strings.Join(t.o.BuildCmd, " "), err)
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return nil, nil, fmt.Errorf("%s printed %d lines, want the clean and the probed kernel's paths", t.o.BuildCmd[0], len(lines))
	}
	clean, probed := lines[len(lines)-2], lines[len(lines)-1]
	ss := &stageState{Values: map[string]string{"clean": clean, "probed": probed}}
	ci, err := readIdentity(clean)
	if err != nil {
		return nil, nil, err
	}
	pi, err := readIdentity(probed)
	if err != nil {
		return nil, nil, err
	}
	ss.Values["flags"] = pi.VDSOFlags
	ss.Values["tree"] = filepath.Dir(filepath.Dir(probed))
	ss.Facts = append(ss.Facts,
		fmt.Sprintf("Linux %s, config %q, %s", pi.Release, pi.Config, pi.Compiler),
		fmt.Sprintf("clean: %s (%s)", ci.Description, clean),
		fmt.Sprintf("probed: %s (%s)", pi.Description, probed),
		fmt.Sprintf("the probe flags go on %s only: the story's kernel had them on every object (its distribution's compiler), "+
			"which the bisection stage re-creates over its candidates", Culprit))
	probe, cleanFn, err := probeListing(filepath.Join(filepath.Dir(probed), "vdso64.objdump"), filepath.Join(filepath.Dir(clean), "vdso64.objdump"))
	if err != nil {
		return nil, nil, err
	}
	ss.Blocks = append(ss.Blocks, probe, cleanFn)
	ss.Expected = pi.Probes > 0 && ci.Probes == 0
	ss.Outcome = fmt.Sprintf("probed vDSO: %d stack probes (orq $0x0,(%%rsp)) in %d functions, the deepest a page (sub $0x1000,%%rsp) below the stack pointer; clean vDSO: %d",
		pi.Probes, len(strings.Split(pi.Functions, ",")), ci.Probes)
	return ss, nil, nil
}

// identity is what scripts/build-seed-kernels writes beside an image.
type identity struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Release     string `json:"kernel_release"`
	Config      string `json:"config"`
	VDSOFlags   string `json:"vdso_cflags"`
	Probes      int    `json:"vdso_probes"`
	Functions   string `json:"vdso_probed_functions"`
	Compiler    string `json:"compiler"`
}

func readIdentity(image string) (*identity, error) {
	p := image + ".crashrig.json"
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("the kernel's identity file: %w", err)
	}
	var id identity
	if err := json.Unmarshal(data, &id); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return &id, nil
}

// probeListing returns, from the probed vDSO's disassembly, the function that probes a
// page below the stack pointer (sub $0x1000,%rsp; orq $0x0,(%rsp)), and the same
// function in the clean vDSO.
func probeListing(probed, clean string) (report.Block, report.Block, error) {
	pf, err := readFunctions(probed)
	if err != nil {
		return report.Block{}, report.Block{}, err
	}
	cf, err := readFunctions(clean)
	if err != nil {
		return report.Block{}, report.Block{}, err
	}
	name := ""
	for _, f := range pf.order {
		body := pf.body[f]
		if i := strings.Index(body, "sub    $0x1000,%rsp"); i >= 0 && strings.Contains(body[i:], "orq    $0x0,(%rsp)") &&
			strings.Contains(f, "clock_gettime") {
			name = f
			break
		}
	}
	if name == "" {
		return report.Block{}, report.Block{}, fmt.Errorf("%s: no clock_gettime function probes a page below the stack pointer", probed)
	}
	// The entry point jumps or calls down to the probing function; show each hop's head.
	var text strings.Builder
	for _, f := range []string{"__vdso_clock_gettime", "__cvdso_clock_gettime"} {
		if body := pf.body[f]; body != "" && f != name {
			text.WriteString(headLines(body, 6))
		}
	}
	text.WriteString(headLines(pf.body[name], 14))
	pb := report.Block{Caption: fmt.Sprintf("probed vDSO: __vdso_clock_gettime down to %s, which probes a page below the stack pointer (objdump -d)", name),
		Text: text.String()}
	cb := report.Block{Caption: "clean vDSO: __vdso_clock_gettime, no probe", Text: headLines(cf.body["__vdso_clock_gettime"], 14)}
	if strings.Contains(cf.body["__vdso_clock_gettime"], "orq    $0x0,(%rsp)") {
		cb.Caption = "clean vDSO: __vdso_clock_gettime (it probes too)"
	}
	return pb, cb, nil
}

type functions struct {
	order []string
	body  map[string]string
}

// readFunctions splits objdump -d output into functions ("0000… <name>:" headers).
func readFunctions(path string) (*functions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs := &functions{body: map[string]string{}}
	var cur string
	var b strings.Builder
	flush := func() {
		if cur != "" {
			fs.body[cur] = b.String()
		}
		b.Reset()
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i, j := strings.Index(line, " <"), strings.LastIndex(line, ">:"); i > 0 && j > i && !strings.HasPrefix(line, " ") {
			flush()
			cur = line[i+2 : j]
			fs.order = append(fs.order, cur)
		}
		if cur != "" && strings.TrimSpace(line) != "" {
			b.WriteString(line + "\n")
		}
	}
	flush()
	return fs, sc.Err()
}

func headLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		return strings.Join(lines[:n], "") + "\t…\n"
	}
	return strings.Join(lines, "") + "\n"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return p != "" && err == nil && st.Mode().IsRegular()
}
