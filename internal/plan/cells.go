package plan

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

func (d *decoder) cells(n *yaml.Node, p *Plan) {
	var entries []*cellEntry
	d.list(n, "cells", func(i int, e *yaml.Node) {
		c := &cellEntry{node: e, maxRuns: DefaultMaxRuns}
		what := fmt.Sprintf("cells[%d]", i)
		var maxN *yaml.Node
		if !d.fields(e, what, map[string]func(*yaml.Node){
			"kernels":     func(v *yaml.Node) { c.kNode = v; d.strings(v, what+" kernels", &c.kernels) },
			"reproducers": func(v *yaml.Node) { c.rNode = v; d.strings(v, what+" reproducers", &c.repros) },
			"variants":    func(v *yaml.Node) { c.vNode = v; d.strings(v, what+" variants", &c.variants) },
			"runs":        func(v *yaml.Node) { c.runsNode = v; d.integer(v, what+" runs", 1, 1_000_000, &c.runs) },
			"until-crash": func(v *yaml.Node) { c.untilNode = v; d.boolean(v, what+" until-crash", &c.untilCrash) },
			"compare-to":  func(v *yaml.Node) { c.cmpNode = v; d.str(v, what+" compare-to", &c.compareTo) },
			"max-runs":    func(v *yaml.Node) { maxN = v; d.integer(v, what+" max-runs", 1, 1_000_000, &c.maxRuns) },
			"min-effect":  func(v *yaml.Node) { d.ratio(v, what+" min-effect", &c.minEffect) },
			"budget":      func(v *yaml.Node) { d.duration(v, what+" budget", &c.budget) },
			"priority":    func(v *yaml.Node) { d.integer(v, what+" priority", -1000, 1000, &c.priority) },
		}) {
			return
		}
		rules := 0
		for _, r := range []*yaml.Node{c.runsNode, c.untilNode, c.cmpNode} {
			if r != nil {
				rules++
			}
		}
		switch {
		case rules == 0:
			d.fail(e, "add one of runs: N, until-crash: true and compare-to: KERNEL", "%s has no stop rule", what)
			return
		case rules > 1:
			d.fail(e, "keep one stop rule per cell; split it into two cells to run both", "%s has more than one stop rule (runs, until-crash, compare-to)", what)
			return
		case c.untilNode != nil && !c.untilCrash:
			d.fail(c.untilNode, "write until-crash: true, or give runs: N", "%s until-crash: false is no stop rule", what)
			return
		case maxN != nil && c.runsNode != nil:
			d.fail(maxN, "drop max-runs: runs: N is exact", "%s max-runs goes with until-crash or compare-to, not runs", what)
			return
		}
		entries = append(entries, c)
	})
	seen := map[string]Pos{}
	for _, c := range entries {
		d.expand(c, p, seen)
	}
	if len(p.Cells) == 0 && len(d.problems) == 0 {
		d.fail(n, "add at least one cell", "cells is empty")
	}
}

func (d *decoder) ratio(n *yaml.Node, what string, dst *float64) {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || !(v > 1) || v > 1e6 {
		d.fail(n, "write a ratio above 1, e.g. 2 for twice the crash rate", "%s %q is not a ratio above 1", what, n.Value)
		return
	}
	*dst = v
}

// pick resolves the names a cell lists against the plan's (none = all).
func pick[T any](d *decoder, n *yaml.Node, names []string, all []T, name func(*T) string, kind string) []*T {
	var out []*T
	if len(names) == 0 {
		for i := range all {
			out = append(out, &all[i])
		}
		return out
	}
	for _, want := range names {
		found := false
		for i := range all {
			if name(&all[i]) == want {
				out, found = append(out, &all[i]), true
			}
		}
		if !found {
			var known []string
			for i := range all {
				known = append(known, name(&all[i]))
			}
			d.fail(n, fmt.Sprintf("use one of %v", known), "no %s is named %q", kind, want)
		}
	}
	return out
}

func (d *decoder) expand(c *cellEntry, p *Plan, seen map[string]Pos) {
	ks := pick(d, c.kNode, c.kernels, p.Kernels, func(k *Kernel) string { return k.Name }, "kernel")
	rs := pick(d, c.rNode, c.repros, p.Reproducers, func(r *Reproducer) string { return r.Name }, "reproducer")
	vs := pick(d, c.vNode, c.variants, p.Variants, func(v *Variant) string { return v.Name }, "variant")
	var base *Kernel
	if c.cmpNode != nil {
		for i := range p.Kernels {
			if p.Kernels[i].Name == c.compareTo {
				base = &p.Kernels[i]
			}
		}
		if base == nil {
			var known []string
			for _, k := range p.Kernels {
				known = append(known, k.Name)
			}
			d.fail(c.cmpNode, fmt.Sprintf("name a kernel of the plan: %v", known), "compare-to %q is not a kernel of the plan", c.compareTo)
			return
		}
	}
	pos := Pos{c.node.Line, c.node.Column}
	for _, k := range ks {
		if base != nil && k == base {
			if len(c.kernels) > 0 {
				d.fail(c.kNode, "list only the kernels to compare with it", "the cell compares kernel %q with itself", k.Name)
			}
			continue // "all kernels against old" leaves old out
		}
		for _, r := range rs {
			for _, v := range vs {
				cell := Cell{ID: k.Name + "/" + r.Name, Kernel: k, Reproducer: r, Variant: v, Baseline: base,
					Runs: c.runs, MaxRuns: c.maxRuns, MinEffect: c.minEffect, Budget: c.budget, Priority: c.priority, Pos: pos}
				if v.Name != defaultVariantKey {
					cell.ID += "/" + v.Name
				}
				switch {
				case c.runsNode != nil:
					cell.Rule = RuleRuns
					cell.MaxRuns = 0
				case c.untilCrash:
					cell.Rule = RuleUntilCrash
				default:
					cell.Rule = RuleCompare
					cell.ID += "~" + base.Name
				}
				if at, dup := seen[cell.ID]; dup {
					d.fail(c.node, fmt.Sprintf("the cell at line %d already runs it: drop one, or narrow kernels/reproducers/variants", at.Line), "cell %s is listed twice", cell.ID)
					continue
				}
				seen[cell.ID] = pos
				p.Cells = append(p.Cells, cell)
			}
		}
	}
}
