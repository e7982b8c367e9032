package plan

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/reproducer/builtin"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func (d *decoder) name(n *yaml.Node, what string, dst *string) {
	d.str(n, what, dst)
	if *dst != "" && !nameRE.MatchString(*dst) {
		d.fail(n, "use letters, digits and . _ + - only (no spaces or slashes)", "%s %q is not a usable name", what, *dst)
	}
}

// cellEntry is a cells: entry before expansion.
type cellEntry struct {
	node                         *yaml.Node
	kernels, repros, variants    []string
	kNode, rNode, vNode          *yaml.Node
	runs, maxRuns, priority      int
	untilCrash                   bool
	compareTo                    string
	cmpNode, runsNode, untilNode *yaml.Node
	budget                       time.Duration
	minEffect                    float64
}

func (d *decoder) plan(root *yaml.Node) *Plan {
	p := &Plan{Iterations: 1, Duration: DefaultDuration}
	var kernelsN, reprosN, variantsN, cellsN *yaml.Node
	ok := d.fields(root, "the plan", map[string]func(*yaml.Node){
		"name":        func(v *yaml.Node) { d.name(v, "name", &p.Name) },
		"duration":    func(v *yaml.Node) { d.duration(v, "duration", &p.Duration) },
		"iterations":  func(v *yaml.Node) { d.integer(v, "iterations", 1, 1_000_000, &p.Iterations) },
		"budget":      func(v *yaml.Node) { d.duration(v, "budget", &p.Budget) },
		"deadline":    func(v *yaml.Node) { d.deadline(v, &p.Deadline) },
		"kernels":     func(v *yaml.Node) { kernelsN = v },
		"reproducers": func(v *yaml.Node) { reprosN = v },
		"variants":    func(v *yaml.Node) { variantsN = v },
		"cells":       func(v *yaml.Node) { cellsN = v },
	})
	if !ok {
		return p
	}
	if p.Name == "" {
		d.fail(root, "add a line like: name: nightly (it names the campaign in the database)", "the plan has no name")
	}
	need := func(n *yaml.Node, key, fix string) bool {
		if n == nil {
			d.fail(root, fix, "the plan has no %s", key)
			return false
		}
		return true
	}
	if need(kernelsN, "kernels", "add a kernels: list with at least one - name: … path: … entry") {
		d.kernels(kernelsN, p)
	}
	if need(reprosN, "reproducers", "add a reproducers: list, e.g. - name: st builtin: selftest") {
		d.reproducers(reprosN, p)
	}
	if variantsN != nil {
		d.variants(variantsN, p)
	} else {
		p.Variants = []Variant{{Name: defaultVariantKey}}
	}
	if need(cellsN, "cells", "add a cells: list saying what to run, e.g. - runs: 10") {
		d.cells(cellsN, p)
	}
	return p
}

func (d *decoder) deadline(n *yaml.Node, dst *string) {
	d.str(n, "deadline", dst)
	if _, err := ParseDeadline(*dst, time.Now()); *dst != "" && err != nil {
		d.fail(n, "write a clock time like \"07:00\" (quoted) or an RFC 3339 time", "deadline %q: %v", *dst, err)
	}
}

// ParseDeadline reads "HH:MM" (the next such time after now, local) or an
// RFC 3339 time.
func ParseDeadline(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("15:04", s, now.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("not HH:MM nor an RFC 3339 time")
	}
	d := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
	if !d.After(now) {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func (d *decoder) kernels(n *yaml.Node, p *Plan) {
	seen := map[string]bool{}
	add := func(node *yaml.Node, k Kernel) {
		if seen[k.Name] {
			d.fail(node, "give each kernel its own name", "kernel name %q is used twice", k.Name)
			return
		}
		seen[k.Name] = true
		p.Kernels = append(p.Kernels, k)
	}
	d.list(n, "kernels", func(i int, e *yaml.Node) {
		var k Kernel
		var path, glob string
		var pathN, globN *yaml.Node
		what := fmt.Sprintf("kernels[%d]", i)
		if !d.fields(e, what, map[string]func(*yaml.Node){
			"name":  func(v *yaml.Node) { d.name(v, what+" name", &k.Name) },
			"path":  func(v *yaml.Node) { pathN = v; d.str(v, what+" path", &path) },
			"glob":  func(v *yaml.Node) { globN = v; d.str(v, what+" glob", &glob) },
			"label": func(v *yaml.Node) { d.str(v, what+" label", &k.Label) },
		}) {
			return
		}
		switch {
		case path == "" && glob == "":
			d.fail(e, "add path: /boot/vmlinuz-… or glob: builds/*/bzImage", "%s has neither path nor glob", what)
		case path != "" && glob != "":
			d.fail(globN, "keep one: path for one image, glob for many", "%s has both path and glob", what)
		case path != "":
			if k.Name == "" {
				d.fail(e, "add name: (cells and reports use it)", "%s has no name", what)
				return
			}
			k.Path = d.path(path)
			if d.existing(pathN, "kernel", k.Path, false) {
				add(e, k)
			}
		default:
			d.glob(e, globN, what, glob, k, add)
		}
	})
	if len(p.Kernels) == 0 && len(d.problems) == 0 {
		d.fail(n, "add at least one kernel", "kernels is empty")
	}
}

// glob expands a kernels glob: each match is a kernel named after the
// directory that holds it (or the file, when matches share a directory),
// prefixed with the entry's name if it has one.
func (d *decoder) glob(e, globN *yaml.Node, what, pattern string, k Kernel, add func(*yaml.Node, Kernel)) {
	matches, err := filepath.Glob(d.path(pattern))
	if err != nil {
		d.fail(globN, "fix the pattern's brackets", "%s glob %q: %v", what, pattern, err)
		return
	}
	if len(matches) == 0 {
		d.fail(globN, "check the pattern (relative patterns start from the plan's directory)", "%s glob %q matches no file", what, pattern)
		return
	}
	dirs := map[string]bool{}
	for _, m := range matches {
		dirs[filepath.Dir(m)] = true
	}
	for _, m := range matches {
		name := filepath.Base(filepath.Dir(m))
		if len(dirs) < len(matches) {
			name = filepath.Base(m)
		}
		if k.Name != "" {
			name = k.Name + "-" + name
		}
		add(e, Kernel{Name: name, Path: m, Label: k.Label})
	}
}

func (d *decoder) reproducers(n *yaml.Node, p *Plan) {
	seen := map[string]bool{}
	d.list(n, "reproducers", func(i int, e *yaml.Node) {
		var r Reproducer
		what := fmt.Sprintf("reproducers[%d]", i)
		nodes := map[string]*yaml.Node{}
		set := func(key string, dst *string) func(*yaml.Node) {
			return func(v *yaml.Node) { nodes[key] = v; d.str(v, what+" "+key, dst) }
		}
		if !d.fields(e, what, map[string]func(*yaml.Node){
			"name":    func(v *yaml.Node) { d.name(v, what+" name", &r.Name) },
			"builtin": set("builtin", &r.Builtin),
			"binary":  set("binary", &r.Binary),
			"package": set("package", &r.Package),
			"go":      set("go", &r.Go),
			"script":  set("script", &r.Script),
			"base":    set("base", &r.Base),
			"args":    func(v *yaml.Node) { d.strings(v, what+" args", &r.Args) },
		}) {
			return
		}
		var kinds []string
		for _, k := range []string{"builtin", "binary", "package", "script"} {
			if nodes[k] != nil {
				kinds = append(kinds, k)
			}
		}
		switch {
		case len(kinds) == 0:
			d.fail(e, "add one of builtin: NAME, binary: PATH, package: DIR and script: PATH", "%s says nothing to run", what)
			return
		case len(kinds) > 1:
			d.fail(nodes[kinds[1]], "keep one", "%s has both %s and %s", what, kinds[0], kinds[1])
			return
		}
		if r.Name == "" {
			r.Name = r.Builtin
			if r.Name == "" {
				d.fail(e, "add name: (cells and reports use it)", "%s has no name", what)
				return
			}
		}
		if seen[r.Name] {
			d.fail(e, "give each reproducer its own name", "reproducer name %q is used twice", r.Name)
			return
		}
		seen[r.Name] = true
		if d.checkRepro(what, &r, nodes) {
			p.Reproducers = append(p.Reproducers, r)
		}
	})
}

func (d *decoder) checkRepro(what string, r *Reproducer, nodes map[string]*yaml.Node) bool {
	ok := true
	if b := nodes["base"]; b != nil && r.Base != image.BaseMinimal && r.Base != image.BaseBusybox && r.Base != image.BaseURoot {
		d.fail(b, "write minimal, busybox or u-root", "%s base %q is not an image base", what, r.Base)
		ok = false
	}
	switch {
	case r.Builtin != "":
		if _, found := builtin.Lookup(r.Builtin); !found {
			d.fail(nodes["builtin"], "crashrig reproducers lists the built-ins", "%s builtin %q does not exist", what, r.Builtin)
			ok = false
		}
	case r.Binary != "":
		r.Binary = d.path(r.Binary)
		if !d.existing(nodes["binary"], what+" binary", r.Binary, false) {
			return false
		}
		if err := repro.CheckStatic("reproducer", r.Binary); err != nil {
			d.fail(nodes["binary"], "build it statically (CGO_ENABLED=0, or -static), or use script: with a base", "%s: %v", what, strings.TrimPrefix(err.Error(), "bad input: "))
			ok = false
		}
	case r.Package != "":
		if strings.HasPrefix(r.Package, ".") || strings.HasPrefix(r.Package, "/") {
			r.Package = d.path(r.Package)
			ok = d.existing(nodes["package"], what+" package", r.Package, true) && ok
		}
	case r.Script != "":
		r.Script = d.path(r.Script)
		ok = d.existing(nodes["script"], what+" script", r.Script, false) && ok
		if ok && (r.Base == "" || r.Base == image.BaseMinimal) {
			d.fail(nodes["script"], "add base: busybox (or u-root): a script needs a shell", "%s is a script on the minimal base, which has no shell", what)
			ok = false
		}
	}
	if g := nodes["go"]; g != nil {
		if r.Package == "" {
			d.fail(g, "remove go:, or make the reproducer a package:", "%s go: builds only a package: reproducer", what)
			return false
		}
		r.Go = d.path(r.Go)
		ok = d.existing(g, what+" go toolchain", r.Go, false) && ok
	}
	return ok
}

func (d *decoder) variants(n *yaml.Node, p *Plan) {
	seen := map[string]bool{}
	d.list(n, "variants", func(i int, e *yaml.Node) {
		v := Variant{}
		what := fmt.Sprintf("variants[%d]", i)
		var envN, accelN *yaml.Node
		if !d.fields(e, what, map[string]func(*yaml.Node){
			"name":    func(x *yaml.Node) { d.name(x, what+" name", &v.Name) },
			"smp":     func(x *yaml.Node) { d.integer(x, what+" smp", 1, 288, &v.SMP) },
			"memory":  func(x *yaml.Node) { d.integer(x, what+" memory (MiB)", 64, 1<<20, &v.Memory) },
			"cmdline": func(x *yaml.Node) { d.str(x, what+" cmdline", &v.Cmdline) },
			"append":  func(x *yaml.Node) { d.str(x, what+" append", &v.Append) },
			"accel":   func(x *yaml.Node) { accelN = x; d.str(x, what+" accel", &v.Accel) },
			"env":     func(x *yaml.Node) { envN = x; d.strings(x, what+" env", &v.Env) },
		}) {
			return
		}
		if v.Name == "" {
			d.fail(e, "add name: (cells and reports use it)", "%s has no name", what)
			return
		}
		if seen[v.Name] {
			d.fail(e, "give each variant its own name", "variant name %q is used twice", v.Name)
			return
		}
		seen[v.Name] = true
		if accelN != nil && v.Accel != "auto" && v.Accel != "kvm" && v.Accel != "tcg" {
			d.fail(accelN, "write auto, kvm or tcg", "%s accel %q is not an accelerator", what, v.Accel)
		}
		for _, kv := range v.Env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				d.fail(envN, "write each entry as KEY=VALUE", "%s env %q has no KEY=", what, kv)
			}
		}
		p.Variants = append(p.Variants, v)
	})
}
