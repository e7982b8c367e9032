package campaign

import (
	"context"
	"fmt"

	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
)

// NotThisShard is the Skip of a cell another shard runs.
const NotThisShard = "another shard's"

// Prepare builds the cells of a plan for one shard and prepares every arm's
// image and run plan, before any VM starts. base holds the run options the
// plan does not set (timeouts, log directory, Logf); the plan's cell sets
// the kernel, reproducer, variant and run length on top. An error in what
// the plan names wraps run.ErrInput and gives the plan line of its cell.
func Prepare(ctx context.Context, p *plan.Plan, sh plan.Shard, base run.Options) ([]*Cell, []Arm, error) {
	var cells []*Cell
	var arms []Arm
	prepared := map[string]*run.Plan{}
	addArm := func(ci int, name string, k *plan.Kernel, c *plan.Cell) error {
		o := Options(p, k, c, base)
		key := fmt.Sprintf("%s\x00%+v\x00%+v", k.Path, *c.Reproducer, *c.Variant)
		rp := prepared[key]
		if rp == nil {
			var err error
			if rp, err = run.Prepare(ctx, o); err != nil {
				return fmt.Errorf("%s:%d:%d: cell %s: %w", p.File, c.Pos.Line, c.Pos.Column, c.ID, err)
			}
			prepared[key] = rp
		}
		label := k.Label
		if label == "" {
			label = k.Name
		}
		arms = append(arms, Arm{Cell: ci, Name: name, Config: rp.Config(name, label), Booter: rp, RunLength: p.RunLength()})
		return nil
	}
	for i := range p.Cells {
		c := &p.Cells[i]
		cc := &Cell{Cell: c, Quota: sh.Quota(c)}
		if cc.Quota == 0 {
			cc.Skip = NotThisShard
			cells = append(cells, cc)
			continue
		}
		cc.Arms = append(cc.Arms, len(arms))
		if err := addArm(len(cells), c.ID, c.Kernel, c); err != nil {
			return nil, nil, err
		}
		if c.Rule == plan.RuleCompare {
			cc.Arms = append(cc.Arms, len(arms))
			if err := addArm(len(cells), c.ID+BaselineSuffix, c.Baseline, c); err != nil {
				return nil, nil, err
			}
		}
		cells = append(cells, cc)
	}
	return cells, arms, nil
}

// Options are the run options of one arm of a cell: base, with the kernel k
// and the cell's reproducer, variant and run length.
func Options(p *plan.Plan, k *plan.Kernel, c *plan.Cell, base run.Options) run.Options {
	r, v := c.Reproducer, c.Variant
	o := base
	o.Kernel, o.Duration, o.Iterations = k.Path, p.Duration, p.Iterations
	if v.SMP != 0 {
		o.SMP = v.SMP
	}
	if v.Memory != 0 {
		o.Memory = v.Memory
	}
	if v.Accel != "" {
		o.Accel = v.Accel
	}
	o.Append, o.Cmdline, o.Env = v.Append, v.Cmdline, v.Env
	o.Repro = repro.Program{Builtin: r.Builtin, Go: r.Package, Args: r.Args}
	switch {
	case r.Binary != "":
		o.Repro.Path = r.Binary
	case r.Script != "":
		o.Repro.Path, o.Repro.Script = r.Script, true
	}
	o.Image.Base, o.Image.Go = r.Base, r.Go
	o.Repro = o.Repro.WithGo(r.Go)
	return o
}
