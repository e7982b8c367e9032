package report

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
)

// FromSession builds the model of one recorded session: its runs grouped by
// variant (or by configuration when the session has no variants), the decision
// it recorded, and a warning when it was interrupted. now is the time it is
// generated at.
func FromSession(db *store.DB, s *store.Session, now time.Time) (*Model, error) {
	recs, err := db.Runs(store.Query{SessionID: s.ID})
	if err != nil {
		return nil, err
	}
	type group struct {
		name string
		recs []store.RunRecord
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, r := range recs {
		k := r.Config.Variant
		if k == "" {
			k = r.ConfigHash
		}
		g := byKey[k]
		if g == nil {
			g = &group{name: r.Config.Variant}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.recs = append(g.recs, r)
	}
	m := &Model{Title: fmt.Sprintf("crashrig %s session %d — %s", s.Kind, s.ID, s.Started.Format("2006-01-02 15:04")),
		Session: s.ID, Generated: now, Conf: 0.95}
	text := func(id int64) string {
		r, err := db.Result(id)
		if err != nil {
			return ""
		}
		return r.Text
	}
	for _, g := range groups {
		m.Variants = append(m.Variants, FromRecords(g.name, Describe(g.recs[0].Config), g.recs, text, 0.95))
	}
	if d := s.Meta["decided"]; d != "" {
		m.Decision = &Decision{Text: d}
	}
	if s.Interrupted {
		m.Warnings = append(m.Warnings, "the session was interrupted before it finished")
	}
	return m, nil
}

// Describe is a configuration in one line: kernel · reproducer and its
// arguments · duration · vCPUs · environment · iterations per boot.
func Describe(c record.Config) string {
	parts := []string{kernelName(c)}
	parts = append(parts, strings.TrimSpace(c.Reproducer+" "+strings.Join(c.ReproArgs, " ")))
	if c.Duration > 0 {
		parts = append(parts, fmt.Sprintf("-d %gs", c.Duration))
	}
	parts = append(parts, fmt.Sprintf("smp %d", c.SMP))
	if len(c.Env) > 0 {
		parts = append(parts, strings.Join(c.Env, " "))
	}
	if c.Iterations > 1 {
		parts = append(parts, fmt.Sprintf("%d iterations/boot", c.Iterations))
	}
	return strings.Join(parts, " · ")
}

func kernelName(c record.Config) string {
	if c.KernelLabel != "" {
		return c.KernelLabel
	}
	if v, _, _ := strings.Cut(c.KernelVersion, " "); v != "" {
		return v
	}
	return filepath.Base(c.KernelPath)
}
