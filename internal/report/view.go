package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

// The view is the report laid out once: its tables, cells and numbered footnotes. Text,
// Markdown and HTML render the same view, so they cannot disagree.

// A cell is one table entry with the footnotes that qualify it.
type cell struct {
	Text  string
	Notes []int // footnote numbers, 1-based
	Code  bool  // a crash title: code font where the format has one
}

// A table is a header and rows of cells.
type table struct {
	Head  []string // all "" for a key/value table
	Right []bool   // right-aligned columns (text)
	Flex  int      // the column that gives way when the text is too wide (-1: none)
	Wrap  bool     // the flex column wraps instead of being cut
	Key   int      // the column that heads a row when rows become blocks of lines
	Alt   *table   // another layout of the same cells, for text too wide for this one
	Rows  [][]cell
}

// A legendRow names a variant.
type legendRow struct{ Name, Description string }

// An excerptGroup is the console excerpts of one title in one variant.
type excerptGroup struct {
	Variant string // "" with a single variant
	Title   string
	Notes   []int
	Items   []Excerpt
	variant int // index in Model.Variants
}

type view struct {
	Title       string
	Sub         string // when, and at what confidence
	Description string // a single variant's description
	Decision    *Decision
	Legend      []legendRow // more than one variant
	Summary     table
	Titles      table
	Crashes     table
	Excerpts    []excerptGroup
	Notes       []string // footnote n is Notes[n-1]
	Runs        int      // observations over all variants: 0 leaves out tables and plots

	index map[string]int
}

// note returns the footnote number of a text, allocating it on first use.
func (v *view) note(text string) int {
	if n, ok := v.index[text]; ok {
		return n
	}
	v.Notes = append(v.Notes, text)
	v.index[text] = len(v.Notes)
	return len(v.Notes)
}

func (v *view) notes(texts []string) []int {
	var ns []int
	for _, t := range texts {
		if n := v.note(t); !containsInt(ns, n) {
			ns = append(ns, n)
		}
	}
	return ns
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// build lays out m.
func (m *Model) build() *view {
	v := &view{Title: m.Title, Decision: m.Decision, index: map[string]int{}}
	if v.Title == "" {
		v.Title = "crashrig report"
	}
	v.Sub = "intervals at " + stats.Percent(m.conf())
	if !m.Generated.IsZero() {
		v.Sub = "generated " + m.Generated.UTC().Format("2006-01-02 15:04:05 UTC") + " · " + v.Sub
	}
	v.notes(m.Warnings)
	for _, x := range m.Variants {
		v.Runs += x.Summary.Runs
	}
	multi := len(m.Variants) > 1
	if multi {
		for i, x := range m.Variants {
			v.Legend = append(v.Legend, legendRow{variantName(x, i), x.Description})
		}
	} else if len(m.Variants) == 1 {
		x := m.Variants[0]
		v.Description = x.Description
		if x.Name != "" {
			v.Description = strings.TrimSuffix(x.Name+" · "+x.Description, " · ")
		}
	}
	v.Summary = m.summaryTable(v)
	if multi {
		alt := pivot(v.Summary)
		v.Summary.Alt = &alt
	} else if len(m.Variants) == 1 {
		v.Summary = transpose(v.Summary)
	}
	v.Titles = m.titleTable(v)
	v.Crashes, v.Excerpts = m.crashTable(v)
	return v
}

// pHeader names the p(crash) column: with the run limit when every variant has the same.
func (m *Model) pHeader() (string, bool) {
	var limit float64
	for i, x := range m.Variants {
		if i > 0 && x.Summary.Limit != limit {
			return "p(crash within T)", false
		}
		limit = x.Summary.Limit
	}
	if limit <= 0 {
		return "p(crash within T)", false
	}
	return "p(crash within " + dur(limit) + ")", true
}

// summaryTable has one row per variant.
func (m *Model) summaryTable(v *view) table {
	ph, common := m.pHeader()
	t := table{Head: []string{"variant", "runs", "crashes", ph, "MTTC", "VM-time"},
		Right: []bool{false, true, true, false, false, false}, Flex: -1}
	if len(m.Variants) > 1 {
		t.Head = append(t.Head, "rate vs "+variantName(m.Variants[0], 0))
		t.Right = append(t.Right, false)
	}
	for i, x := range m.Variants {
		s := x.Summary
		var pNotes, rateNotes []string
		for _, w := range s.Warnings {
			if strings.Contains(w, "limit") || strings.Contains(w, "p(crash") {
				pNotes = append(pNotes, w)
			} else {
				rateNotes = append(rateNotes, w)
			}
		}
		runs := cell{Text: strconv.Itoa(s.Runs), Notes: v.notes(runNotes(x))}
		crashes := cell{Text: strconv.Itoa(s.Crashes)}
		if x.Hangs > 0 {
			crashes.Notes = []int{v.note(hangNote)}
		}
		p := cell{Text: pctInterval(s.PCrash), Notes: v.notes(pNotes)}
		if s.Runs == 0 {
			p.Text = "-"
		} else if !common && s.Limit > 0 {
			p.Text += " in " + dur(s.Limit)
		}
		row := []cell{{Text: variantName(x, i)}, runs, crashes, p,
			{Text: mttc(s.Rate), Notes: v.notes(rateNotes)}, {Text: dur(s.Exposure)}}
		if len(m.Variants) > 1 {
			c := cell{}
			if vs := m.compare(i); vs != nil {
				c = cell{Text: ratioText(vs), Notes: v.notes(vs.Ratio.Warnings)}
			}
			row = append(row, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// pivot turns a table's rows into columns: one column per row, headed by its first cell, and
// one row per column after the first.
func pivot(t table) table {
	out := table{Head: []string{""}, Right: []bool{false}, Flex: -1}
	for _, r := range t.Rows {
		out.Head, out.Right = append(out.Head, r[0].Text), append(out.Right, false)
	}
	for j := 1; j < len(t.Head); j++ {
		row := []cell{{Text: t.Head[j]}}
		for _, r := range t.Rows {
			row = append(row, r[j])
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// transpose turns a one-row table into a key/value table.
func transpose(t table) table {
	out := pivot(t)
	out.Head, out.Flex, out.Wrap = []string{"", ""}, 1, true
	return out
}

// titleTable counts crashes per title: with one variant its p(crash) and median time, with
// several one column per variant.
func (m *Model) titleTable(v *view) table {
	totals := map[string]int{}
	for _, x := range m.Variants {
		for _, tc := range x.Summary.Titles {
			totals[tc.Title] += tc.Crashes
		}
	}
	titles := make([]string, 0, len(totals))
	for t := range totals {
		titles = append(titles, t)
	}
	sort.Slice(titles, func(i, j int) bool {
		if totals[titles[i]] != totals[titles[j]] {
			return totals[titles[i]] > totals[titles[j]]
		}
		return titles[i] < titles[j]
	})
	titleCell := func(title string) cell {
		c := cell{Text: title, Code: true}
		if title == "" {
			c = cell{Text: "(no title)"}
		}
		if strings.HasPrefix(title, HangPrefix) {
			c.Notes = []int{v.note(hangNote)}
		}
		return c
	}
	if len(m.Variants) == 1 {
		x := m.Variants[0]
		ph, _ := m.pHeader()
		t := table{Head: []string{"crashes", ph, "median time", "title"},
			Right: []bool{true, false, true, false}, Flex: 3, Wrap: true, Key: 3}
		for _, tc := range x.Summary.Titles {
			var times []float64
			for _, e := range x.Crashes {
				if e.Title == tc.Title {
					times = append(times, e.TimeToCrash)
				}
			}
			med := "-"
			if len(times) > 0 {
				med = dur(median(times))
			}
			t.Rows = append(t.Rows, []cell{{Text: strconv.Itoa(tc.Crashes)}, {Text: pctInterval(tc.P)},
				{Text: med}, titleCell(tc.Title)})
		}
		return t
	}
	t := table{Flex: len(m.Variants), Wrap: true, Key: len(m.Variants)}
	for i, x := range m.Variants {
		t.Head = append(t.Head, variantName(x, i))
		t.Right = append(t.Right, true)
	}
	t.Head, t.Right = append(t.Head, "title"), append(t.Right, false)
	for _, title := range titles {
		var row []cell
		for _, x := range m.Variants {
			n := 0
			for _, tc := range x.Summary.Titles {
				if tc.Title == title {
					n = tc.Crashes
				}
			}
			text := "0"
			if n > 0 {
				text = fmt.Sprintf("%d (%s%%)", n, pctNum(float64(n)/float64(x.Summary.Runs)))
			}
			row = append(row, cell{Text: text})
		}
		t.Rows = append(t.Rows, append(row, titleCell(title)))
	}
	return t
}

// crashTable lists the crashed runs, and groups their excerpts by variant and title.
func (m *Model) crashTable(v *view) (table, []excerptGroup) {
	multi := len(m.Variants) > 1
	t := table{Head: []string{"run", "time", "title"}, Right: []bool{true, true, false}, Flex: 2}
	if multi {
		t = table{Head: []string{"run", "variant", "time", "title"}, Right: []bool{true, false, true, false}, Flex: 3}
	}
	var groups []excerptGroup
	for i, x := range m.Variants {
		name := ""
		if multi {
			name = variantName(x, i)
		}
		at := map[string]int{}
		for _, e := range x.Crashes {
			row := []cell{{Text: strconv.FormatInt(e.RunID, 10)}, {Text: dur(e.TimeToCrash)}, {Text: e.Title, Code: true}}
			if multi {
				row = append(row[:1], append([]cell{{Text: name}}, row[1:]...)...)
			}
			t.Rows = append(t.Rows, row)
			g, ok := at[e.Title]
			if !ok {
				g = len(groups)
				at[e.Title] = g
				groups = append(groups, excerptGroup{Variant: name, Title: e.Title, variant: i})
				if strings.HasPrefix(e.Title, HangPrefix) {
					groups[g].Notes = []int{v.note(hangNote)}
				}
			}
			groups[g].Items = append(groups[g].Items, e)
		}
	}
	// Within a variant, the most frequent title first, as in the title table.
	sort.SliceStable(groups, func(i, j int) bool {
		gi, gj := groups[i], groups[j]
		if gi.variant != gj.variant {
			return gi.variant < gj.variant
		}
		return len(gi.Items) > len(gj.Items)
	})
	return t, groups
}

// noteRefs formats footnote references as "[1,2]".
func noteRefs(ns []int) string {
	if len(ns) == 0 {
		return ""
	}
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, ",") + "]"
}
