package story

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/gonofix"
	"github.com/crashrig/crashrig/internal/pagecheck"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/xdg"
)

// TestRealStoryReduced tells the reduced story (what CI runs) with real kernel builds
// and boots: every stage must come out as the story predicts, with its own evidence
// (the probe in the disassembly, the footprints, the Go workload's crashes only on the
// runtime without the fix and only on the probed kernel, the race only with
// GOMAXPROCS=2, the culprit object). A second invocation must reuse every stage without
// booting, and the report must lay out in Chromium with every stage and its plots.
func TestRealStoryReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kernels and boots them for minutes; skipped with -short")
	}
	clean, _ := testkernel.Seed(t)
	// The story takes the tree's lock itself (testkernel.SeedTree would hold it).
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(clean)), "src", "Makefile")); err != nil {
		t.Skipf("no seed kernel tree (scripts/build-seed-kernels keeps it): %v", err)
	}
	tmp := t.TempDir()
	self := filepath.Join(tmp, "crashrig")
	if b, err := exec.Command("go", "build", "-o", self, "github.com/crashrig/crashrig/cmd/crashrig").CombinedOutput(); err != nil {
		t.Fatalf("building crashrig: %v\n%s", err, b)
	}
	script, err := filepath.Abs("../../scripts/build-seed-kernels")
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(tmp, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ro := run.Defaults()
	ro.LogDir = filepath.Join(tmp, "logs")
	o := Options{Out: filepath.Join(tmp, "story"), BuildCmd: []string{script}, Reduced: true, Run: ro, DB: db, Jobs: 2,
		Self: self, Workload: "vdsoneighbour", StockGo: "go", Only: []string{"arch/x86/entry/vdso/"}, Logf: t.Logf,
		Toolchain: func(ctx context.Context) (string, error) {
			return gonofix.Toolchain(ctx, "go", filepath.Join(xdg.CacheDir(), "go-nofix"))
		}}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]string{}
	for _, s := range res.Story.Stages {
		t.Logf("%s: %s (expected %v, %s, %.0f VM-s)", s.Name, s.Outcome, s.Expected, s.Wall, s.VM)
		for _, f := range s.Facts {
			t.Logf("    %s", f)
		}
		if !s.Expected {
			t.Errorf("stage %s: %s: not what the story predicts", s.Name, s.Outcome)
		}
		stages[s.Name] = s.Outcome + "\n" + strings.Join(s.Facts, "\n")
		for _, b := range s.Blocks {
			stages[s.Name] += "\n" + b.Text
		}
	}
	for stage, wants := range map[string][]string{
		"kernels":    {"sub    $0x1000,%rsp", "orq    $0x0,(%rsp)"},
		"footprint":  {"probed crashes more than clean", "clean: clock_gettime writes 48 bytes below", "probed: clock_gettime writes 4192 bytes below"},
		"go-stock":   {"no crash"},
		"go-nofix":   {"probed crashes more than clean", "stack value corrupted"},
		"gomaxprocs": {"gomaxprocs2 crashes more than gomaxprocs1", "gomaxprocs1: updates lost per run: 0"},
		"bisect":     {Culprit + ", confidence at least"},
	} {
		for _, w := range wants {
			if !strings.Contains(stages[stage], w) {
				t.Errorf("stage %s lacks %q:\n%s", stage, w, stages[stage])
			}
		}
	}
	// Again: every stage is reused, nothing boots.
	before, _ := db.Runs(store.Query{})
	again, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := db.Runs(store.Query{})
	if len(after) != len(before) {
		t.Errorf("the second invocation booted %d runs, want none", len(after)-len(before))
	}
	for _, s := range again.Story.Stages {
		if !s.Reused && s.Name != "kernels" {
			t.Errorf("stage %s was not reused", s.Name)
		}
	}
	for _, f := range []string{"story.html", "story.md", "state.json", "story-footprint-survival.svg", "story-go-nofix-survival.svg"} {
		if _, err := os.Stat(filepath.Join(o.Out, f)); err != nil {
			t.Errorf("report file: %v", err)
		}
	}
	checkStoryPage(t, filepath.Join(o.Out, "story.html"), res)
}

// checkStoryPage lays the report out in Chromium: a section per stage, a drawn survival
// plot per comparison, no horizontal overflow.
func checkStoryPage(t *testing.T, path string, res *Result) {
	bin, err := pagecheck.Chromium()
	if err != nil {
		t.Skip(err)
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1200, 800} {
		shot := ""
		if width == 1200 {
			shot = filepath.Join(filepath.Dir(path), "story.png")
		}
		p, err := pagecheck.Check(context.Background(), bin, t.TempDir(), string(html), width, shot)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Story.Stages {
			if !p.Has(s.Title) {
				t.Errorf("%d px: no section %q: %q", width, s.Title, p.H2)
			}
		}
		if p.Drawn < 4 {
			t.Errorf("%d px: %d SVGs drawn, want the survival plots of the four comparisons", width, p.Drawn)
		}
		if p.Overflows() {
			t.Errorf("%d px: horizontal overflow: %d in %d; %v", width, p.ScrollWidth, p.ClientWidth, p.Wide)
		}
		fmt.Fprintf(os.Stderr, "%d px: %+v\n", width, p)
	}
}

// TestMeasureFootprint boots each seed kernel once with vdsostack -mode measure: what the
// footprint stage does when the comparison stopped every run of a side before it printed
// its footprint.
func TestMeasureFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("boots kernels; skipped with -short")
	}
	clean, probed := testkernel.Seed(t)
	ro := run.Defaults()
	ro.LogDir = t.TempDir()
	tl := &teller{o: Options{Run: ro}}
	for kernel, want := range map[string]string{clean: "48", probed: "4192"} {
		vals, wall, err := tl.measureFootprint(context.Background(), kernel)
		if err != nil {
			t.Fatal(err)
		}
		if summarize(vals) != want || wall <= 0 {
			t.Errorf("%s: footprint %q (wall %.1fs), want %s", kernel, vals, wall, want)
		}
	}
}
