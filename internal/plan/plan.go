// Package plan reads a campaign plan: a YAML file naming kernels,
// reproducers and variants, and which combinations of them (cells) to run
// under which stop rule, within which budgets, by which deadline.
//
// What goes in: the file's bytes and its path (relative paths in the plan
// are relative to the file's directory). What comes out: a Plan with every
// cell expanded and checked, or an Error listing every problem found as
// file:line:column, what is wrong and how to fix it, before any VM starts.
// The plan's Hash and each cell's Hash let a resumed batch tell which cells
// changed. Out of scope: booting anything and keeping results (package
// campaign and crashrig batch do that).
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// A Plan is a checked, expanded plan file.
type Plan struct {
	File        string        // the path it was read from
	Name        string        // names the campaign in the database
	Duration    time.Duration // each reproducer run (0 = until it exits)
	Iterations  int           // reproducer runs per boot (≥ 1)
	Budget      time.Duration // VM-time for the whole batch (0 = no limit)
	Deadline    string        // "HH:MM" or an RFC 3339 time ("" = none)
	Kernels     []Kernel
	Reproducers []Reproducer
	Variants    []Variant
	Cells       []Cell // expanded, in plan order
}

// A Kernel is one kernel image.
type Kernel struct {
	Name  string // how cells and reports call it
	Path  string // absolute
	Label string // the user's words for it in reports ("" = Name)
}

// A Reproducer is what runs in the guest: exactly one of Builtin, Binary,
// Package or Script.
type Reproducer struct {
	Name    string
	Builtin string   // a built-in's name
	Binary  string   // absolute path of a static x86-64 program
	Package string   // a Go main package: absolute directory or import path
	Go      string   // the go command that builds Package ("" = go from PATH)
	Script  string   // absolute path of a shell script
	Base    string   // image base: minimal, busybox or u-root ("" = minimal; a script needs a shell)
	Args    []string // its arguments
}

// A Variant is a machine and environment setting.
type Variant struct {
	Name    string
	SMP     int      // vCPUs (0 = 2)
	Memory  int      // MiB (0 = 512)
	Cmdline string   // replaces the default kernel command line ("" = keep it)
	Append  string   // words added to the kernel command line
	Accel   string   // auto, kvm or tcg ("" = auto)
	Env     []string // K=V for the reproducer
}

// Stop rules.
const (
	RuleRuns       = "runs"        // a fixed number of runs
	RuleUntilCrash = "until-crash" // until the first crash, at most MaxRuns
	RuleCompare    = "compare-to"  // until the sequential test decides against the baseline
)

// A Cell is one kernel × reproducer × variant with its stop rule.
type Cell struct {
	ID         string // "kernel/reproducer/variant"
	Kernel     *Kernel
	Reproducer *Reproducer
	Variant    *Variant
	Rule       string        // RuleRuns, RuleUntilCrash or RuleCompare
	Runs       int           // RuleRuns: how many
	MaxRuns    int           // RuleUntilCrash, RuleCompare: at most this many (all arms together)
	Baseline   *Kernel       // RuleCompare: the kernel compared with (same reproducer and variant)
	MinEffect  float64       // RuleCompare: smallest hazard ratio worth finding (0 = 2)
	Budget     time.Duration // VM-time for this cell (0 = no limit)
	Priority   int           // higher runs first (default 0)
	Pos        Pos           // where the cell's entry is in the file
}

// Pos is a place in the plan file.
type Pos struct{ Line, Column int }

// Defaults of a plan.
const (
	DefaultDuration   = 30 * time.Second
	DefaultMaxRuns    = 100
	defaultVariantKey = "default"
)

// cellKey is what a cell's Hash covers: what decides whether its old runs
// still count. The stop rule, budget and priority are not in it: raising
// runs from 10 to 20 keeps the first 10.
type cellKey struct {
	Kernel     string   `json:"kernel"`
	Repro      string   `json:"repro"`
	Args       []string `json:"args"`
	Base       string   `json:"base"`
	Go         string   `json:"go"`
	SMP        int      `json:"smp"`
	Memory     int      `json:"memory"`
	Cmdline    string   `json:"cmdline"`
	Append     string   `json:"append"`
	Accel      string   `json:"accel"`
	Env        []string `json:"env"`
	Duration   float64  `json:"duration_s"`
	Iterations int      `json:"iterations"`
	Baseline   string   `json:"baseline,omitempty"`
}

// Hash identifies what a cell runs: the kernel's path, the reproducer,
// the variant, the run length and, for a comparison, the baseline. Runs
// recorded under another hash do not count for this cell.
func (p *Plan) CellHash(c *Cell) string {
	r, v := c.Reproducer, c.Variant
	k := cellKey{Kernel: c.Kernel.Path, Repro: r.Builtin + r.Binary + r.Package + r.Script, Args: r.Args, Base: r.Base, Go: r.Go,
		SMP: v.SMP, Memory: v.Memory, Cmdline: v.Cmdline, Append: v.Append, Accel: v.Accel, Env: v.Env,
		Duration: p.Duration.Seconds(), Iterations: p.Iterations}
	if c.Baseline != nil {
		k.Baseline = c.Baseline.Path
	}
	b, _ := json.Marshal(k)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// RuleText is a cell's stop rule in words ("runs 10", "until-crash ≤ 50",
// "compare-to old ≤ 200").
func (c *Cell) RuleText() string {
	switch c.Rule {
	case RuleRuns:
		return fmt.Sprintf("runs %d", c.Runs)
	case RuleUntilCrash:
		return fmt.Sprintf("until-crash, ≤ %d runs", c.MaxRuns)
	}
	return fmt.Sprintf("compare-to %s, ≤ %d runs", c.Baseline.Name, c.MaxRuns)
}

// Hash identifies the whole plan as it runs: every cell's hash, rule,
// budget and priority, and the plan's own settings. Formatting and
// comments do not change it.
func (p *Plan) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%v\x00%d\x00%v\x00", p.Name, p.Duration, p.Iterations, p.Budget)
	for i := range p.Cells {
		c := &p.Cells[i]
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\x00%d\x00%g\x00", c.ID, p.CellHash(c), c.RuleText(), c.Budget, c.Priority, c.MinEffect)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// CellHashes maps every cell's ID to its hash and rule, as stored with a
// batch so that the next run of a changed plan can say what changed.
func (p *Plan) CellHashes() map[string]string {
	m := map[string]string{}
	for i := range p.Cells {
		c := &p.Cells[i]
		m[c.ID] = p.CellHash(c) + " " + c.RuleText()
	}
	return m
}

// Change says how a plan differs from the one a batch was started with,
// given the stored CellHashes of the old one.
type Change struct {
	Added, Removed []string // cell IDs
	Changed        []string // same ID, other kernel/reproducer/variant: old runs no longer count
	RuleChanged    []string // same runs, another stop rule: old runs still count
	Kept           []string // unchanged
}

// Diff compares the plan with an earlier plan's CellHashes.
func (p *Plan) Diff(old map[string]string) Change {
	var ch Change
	now := p.CellHashes()
	for id, v := range now {
		o, ok := old[id]
		switch {
		case !ok:
			ch.Added = append(ch.Added, id)
		case o == v:
			ch.Kept = append(ch.Kept, id)
		case strings.Fields(o)[0] == strings.Fields(v)[0]:
			ch.RuleChanged = append(ch.RuleChanged, id)
		default:
			ch.Changed = append(ch.Changed, id)
		}
	}
	for id := range old {
		if _, ok := now[id]; !ok {
			ch.Removed = append(ch.Removed, id)
		}
	}
	for _, s := range [][]string{ch.Added, ch.Removed, ch.Changed, ch.RuleChanged, ch.Kept} {
		sort.Strings(s)
	}
	return ch
}

// Shard says which part of a plan one shard runs: of cell c's fixed runs,
// the run numbers j (0-based) with (offset(c)+j) mod N == i; a cell that
// stops on its own outcome (until-crash, compare-to) is run whole by the
// shard offset(c) mod N. The offset is a hash of the cell's ID, so the
// split depends only on the plan, and every run lands in exactly one shard.
type Shard struct {
	Index, Count int // 0 ≤ Index < Count; Count 0 or 1 = the whole plan
}

func (s Shard) whole() bool { return s.Count <= 1 }

// String is "i/N".
func (s Shard) String() string {
	if s.whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

func cellOffset(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() & 0x7fffffff)
}

// Quota is how many of the cell's runs this shard makes: for RuleRuns, its
// share of c.Runs; otherwise c.MaxRuns when the cell is this shard's, or 0.
func (s Shard) Quota(c *Cell) int {
	if s.whole() {
		if c.Rule == RuleRuns {
			return c.Runs
		}
		return c.MaxRuns
	}
	off := cellOffset(c.ID)
	if c.Rule != RuleRuns {
		if off%s.Count == s.Index {
			return c.MaxRuns
		}
		return 0
	}
	n := 0
	for j := 0; j < c.Runs; j++ {
		if (off+j)%s.Count == s.Index {
			n++
		}
	}
	return n
}

// ParseShard reads "i/N".
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if s == "" {
		return sh, nil
	}
	if n, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || n != 2 || fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return sh, fmt.Errorf("--shard %q: want i/N, e.g. 3/16", s)
	}
	if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
		return sh, fmt.Errorf("--shard %q: want 0 ≤ i < N (shards are numbered from 0, as Slurm array and Kubernetes indexes are)", s)
	}
	return sh, nil
}

// BootEstimate is the VM-time a boot takes besides the reproducer, for the
// dry run's estimate: a TCG boot of a distribution kernel.
const BootEstimate = 6 * time.Second

// RunLength is the expected VM-time of one run of the plan.
func (p *Plan) RunLength() time.Duration {
	d := p.Duration
	if d == 0 {
		d = DefaultDuration
	}
	return time.Duration(p.Iterations)*d + BootEstimate
}

// Notes says the change in sentences, one per kind of change.
func (ch Change) Notes() []string {
	var n []string
	add := func(what string, ids []string) {
		if len(ids) > 0 {
			n = append(n, what+": "+strings.Join(ids, ", "))
		}
	}
	add("new cells (run from scratch)", ch.Added)
	add("cells removed (their runs stay in the database, out of this batch's report)", ch.Removed)
	add("cells that now run another kernel, reproducer or variant (their earlier runs no longer count)", ch.Changed)
	add("cells with another stop rule, budget or priority (their runs still count)", ch.RuleChanged)
	if len(ch.Kept) > 0 {
		n = append(n, fmt.Sprintf("%d cells unchanged: their runs still count", len(ch.Kept)))
	}
	return n
}
