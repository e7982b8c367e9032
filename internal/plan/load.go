package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A Problem is one thing wrong with a plan file.
type Problem struct {
	Pos  Pos
	What string // what is wrong
	Fix  string // how to put it right
}

// An Error lists every problem found in a plan file, in file order.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s", e.File, p.Pos.Line, p.Pos.Column, p.What)
		if p.Fix != "" {
			b.WriteString("; " + p.Fix)
		}
	}
	return b.String()
}

// Load reads and checks the plan file at path.
func Load(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return Parse(path, b)
}

// Parse checks and expands a plan read from file.
func Parse(file string, data []byte) (*Plan, error) {
	d := &decoder{file: file, dir: filepath.Dir(file)}
	if abs, err := filepath.Abs(d.dir); err == nil {
		d.dir = abs
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: file, Problems: []Problem{syntaxProblem(err)}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: file, Problems: []Problem{{Pos{1, 1}, "the plan is empty", "start from examples/plan.yaml"}}}
	}
	p := d.plan(doc.Content[0])
	if len(d.problems) > 0 {
		sort.SliceStable(d.problems, func(i, j int) bool {
			a, b := d.problems[i].Pos, d.problems[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, &Error{File: file, Problems: d.problems}
	}
	p.File = file
	return p, nil
}

// syntaxProblem turns the YAML library's "yaml: line N: …" into a Problem.
func syntaxProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, strings.TrimSpace(tail)
			}
		}
	}
	return Problem{Pos{line, 1}, "not valid YAML: " + msg, "check the indentation and quoting on this line"}
}

type decoder struct {
	file, dir string
	problems  []Problem
}

func (d *decoder) fail(n *yaml.Node, fix, format string, a ...any) {
	d.problems = append(d.problems, Problem{Pos{n.Line, n.Column}, fmt.Sprintf(format, a...), fix})
}

// fields walks a mapping, calling set for each known key and reporting
// unknown ones with the known keys as the fix.
func (d *decoder) fields(n *yaml.Node, what string, known map[string]func(v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.fail(n, "write it as key: value lines", "%s is a %s, want a mapping", what, kindName(n))
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		set, ok := known[k.Value]
		if !ok {
			d.fail(k, "known keys: "+keyList(known)+suggest(k.Value, known), "%s: unknown key %q", what, k.Value)
			continue
		}
		set(v)
	}
	return true
}

func keyList(m map[string]func(*yaml.Node)) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// suggest names a known key that a misspelt one is close to.
func suggest(s string, m map[string]func(*yaml.Node)) string {
	best, bestD := "", 3
	for k := range m {
		if dd := editDistance(s, k); dd < bestD || dd == bestD && k < best {
			best, bestD = k, dd
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(b)]
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return fmt.Sprintf("scalar (%q)", n.Value)
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

func (d *decoder) str(n *yaml.Node, what string, dst *string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, "write a single value", "%s is a %s, want a string", what, kindName(n))
		return
	}
	*dst = n.Value
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int, dst *int) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.fail(n, fmt.Sprintf("write a whole number from %d to %d", lo, hi), "%s %q is not a whole number", what, n.Value)
		return
	}
	if v < lo || v > hi {
		d.fail(n, fmt.Sprintf("write a number from %d to %d", lo, hi), "%s %d is out of range", what, v)
		return
	}
	*dst = v
}

func (d *decoder) duration(n *yaml.Node, what string, dst *time.Duration) {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.fail(n, "write it like 30s, 2m or 1h30m", "%s %q is not a duration", what, n.Value)
		return
	}
	if v < 0 {
		d.fail(n, "write 0 for none, or a positive duration", "%s %v is negative", what, v)
		return
	}
	*dst = v
}

func (d *decoder) boolean(n *yaml.Node, what string, dst *bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		d.fail(n, "write true or false", "%s %q is not true or false", what, n.Value)
		return
	}
	*dst = v
}

func (d *decoder) strings(n *yaml.Node, what string, dst *[]string) {
	if n.Kind == yaml.ScalarNode {
		*dst = []string{n.Value}
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "write a list: [a, b]", "%s is a %s, want a list of strings", what, kindName(n))
		return
	}
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			d.fail(e, "write each entry as a plain string", "%s: an entry is a %s", what, kindName(e))
			continue
		}
		*dst = append(*dst, e.Value)
	}
}

// list walks a sequence of mappings.
func (d *decoder) list(n *yaml.Node, what string, each func(i int, e *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "write one \"- \" entry per item", "%s is a %s, want a list", what, kindName(n))
		return
	}
	for i, e := range n.Content {
		each(i, e)
	}
}

// path resolves a path relative to the plan's directory.
func (d *decoder) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return filepath.Join(d.dir, p)
}

func (d *decoder) existing(n *yaml.Node, what, p string, dir bool) bool {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.fail(n, "give an existing path (relative paths start from the plan's directory)", "%s %s does not exist", what, p)
		return false
	case err != nil:
		d.fail(n, "check the path's permissions", "%s %s: %v", what, p, errors.Unwrap(err))
		return false
	case st.IsDir() != dir && dir:
		d.fail(n, "give a directory", "%s %s is not a directory", what, p)
		return false
	case st.IsDir() != dir:
		d.fail(n, "give a file, not a directory", "%s %s is a directory", what, p)
		return false
	}
	return true
}
