package plan

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestBadPlans loads every testdata/bad/*.yaml and checks the messages
// against testdata/bad.golden: each names file:line:column, the problem
// and its fix.
func TestBadPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 20 {
		t.Fatalf("%d bad plans, want at least 20", len(files))
	}
	abs, _ := filepath.Abs("testdata")
	var got strings.Builder
	for _, f := range files {
		_, err := Load(f)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: Load = %v, want a plan error", f, err)
			continue
		}
		for _, p := range pe.Problems {
			if p.Pos.Line < 1 || p.Pos.Column < 1 || p.Fix == "" {
				t.Errorf("%s: problem %+v lacks a position or a fix", f, p)
			}
		}
		fmt.Fprintf(&got, "== %s\n%s\n", filepath.Base(f), strings.ReplaceAll(err.Error(), abs, "$DIR"))
	}
	golden := "testdata/bad.golden"
	if *update {
		os.WriteFile(golden, []byte(got.String()), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("messages differ from %s (-want +got):\n%s", golden, d)
	}
}

const good = `name: nightly
duration: 2s
iterations: 2
deadline: "07:00"
kernels:
  - {name: old, path: k/a/bzImage, label: "6.1 stock"}
  - {glob: "k/*/bzImage", name: build}
reproducers:
  - {name: st, builtin: selftest, args: [-mode, pass]}
  - {name: sh, script: repro.sh, base: busybox}
variants:
  - {name: smp1, smp: 1}
  - {name: smp2, smp: 2, env: [GOMAXPROCS=2], accel: tcg}
cells:
  - {kernels: [old], reproducers: [st], runs: 4, priority: 2}
  - {kernels: [build-a, build-b], reproducers: [st], variants: [smp2], compare-to: old, max-runs: 40}
  - {kernels: [build-b], reproducers: [sh], until-crash: true, budget: 10m}
`

func TestGoodPlan(t *testing.T) {
	p, err := Parse("testdata/good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range p.Cells {
		ids = append(ids, c.ID+" "+c.RuleText())
	}
	want := []string{
		"old/st/smp1 runs 4", "old/st/smp2 runs 4",
		"build-a/st/smp2~old compare-to old, ≤ 40 runs", "build-b/st/smp2~old compare-to old, ≤ 40 runs",
		"build-b/sh/smp1 until-crash, ≤ 100 runs", "build-b/sh/smp2 until-crash, ≤ 100 runs",
	}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("cells (-want +got):\n%s", d)
	}
	if p.Duration != 2*time.Second || p.Iterations != 2 || p.Cells[0].Priority != 2 || p.Cells[4].Budget != 10*time.Minute {
		t.Errorf("settings lost: %+v %+v", p, p.Cells[0])
	}
	if !filepath.IsAbs(p.Kernels[0].Path) || p.Kernels[0].Label != "6.1 stock" {
		t.Errorf("kernel %+v: want an absolute path and the label", p.Kernels[0])
	}
	// Formatting does not change the hash; a rule change keeps runs, another kernel does not.
	p2, _ := Parse("testdata/good.yaml", []byte(strings.ReplaceAll(good, ", ", ",  ")+"# a comment\n"))
	if p.Hash() != p2.Hash() {
		t.Error("reformatting changed the plan's hash")
	}
	p3, _ := Parse("testdata/good.yaml", []byte(strings.Replace(strings.Replace(good, "runs: 4", "runs: 8", 1), "path: k/a/bzImage", "path: k/b/bzImage", 1)))
	ch := p3.Diff(p.CellHashes())
	if p3.Hash() == p.Hash() || len(ch.RuleChanged) != 0 || len(ch.Changed) != 4 || len(ch.Kept) != 2 {
		t.Errorf("changing old's path: %+v; want the four cells that run old or compare with it changed", ch)
	}
	p4, _ := Parse("testdata/good.yaml", []byte(strings.Replace(good, "runs: 4", "runs: 8", 1)))
	ch = p4.Diff(p.CellHashes())
	if d := cmp.Diff([]string{"old/st/smp1", "old/st/smp2"}, ch.RuleChanged); d != "" || len(ch.Kept) != 4 {
		t.Errorf("raising runs: %+v (-want +got rule changes):\n%s", ch, d)
	}
}

// TestShardQuotas: every run of every cell lands in exactly one shard.
func TestShardQuotas(t *testing.T) {
	p, err := Parse("testdata/good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 4, 16} {
		for i := range p.Cells {
			c := &p.Cells[i]
			sum, owners := 0, 0
			for s := 0; s < n; s++ {
				q := Shard{s, n}.Quota(c)
				sum += q
				if q > 0 {
					owners++
				}
			}
			want := c.Runs
			if c.Rule != RuleRuns {
				want = c.MaxRuns
				if owners != 1 {
					t.Errorf("%d shards: cell %s is run by %d shards, want 1", n, c.ID, owners)
				}
			}
			if sum != want {
				t.Errorf("%d shards: cell %s gets %d runs in all, want %d", n, c.ID, sum, want)
			}
		}
	}
	for _, bad := range []string{"3", "3/3", "-1/4", "a/b", "1/0", "01/4"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

func TestParseDeadline(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	tests := []struct{ in, want string }{
		{"07:00", "2026-12-07T07:00:00Z"},
		{"23:30", "2026-12-06T23:30:00Z"},
		{"2026-12-07T05:00:00Z", "2026-12-07T05:00:00Z"},
	}
	for _, tt := range tests {
		got, err := ParseDeadline(tt.in, now)
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("ParseDeadline(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
