package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Width is the widest line Text writes, in columns.
const Width = 100

// noRuns stands for the tables when there is nothing to show.
const noRuns = "no runs to report"

// minFlex is the narrowest a flex column may become before a table turns into blocks.
const minFlex = 24

// textCrashRows is the most crashed runs Text lists.
const textCrashRows = 20

// Text writes the report as plain text tables that fit in Width columns. Footnote references
// are "[1]"; crash titles too long for the line are cut with "…" (Markdown, HTML and JSON keep
// them whole).
func (m *Model) Text(w io.Writer) error {
	v := m.build()
	b := bufio.NewWriter(w)
	for _, l := range wrap(v.Title, Width, "") {
		fmt.Fprintln(b, l)
	}
	if v.Description != "" {
		for _, l := range wrap(v.Description, Width, "") {
			fmt.Fprintln(b, l)
		}
	}
	fmt.Fprintln(b, v.Sub)
	if d := v.Decision; d != nil {
		fmt.Fprintln(b)
		for _, l := range wrap("decision: "+decisionLine(d), Width, "  ") {
			fmt.Fprintln(b, l)
		}
	}
	if m.Campaign != nil {
		m.Campaign.text(b, m.conf())
	}
	if len(v.Legend) > 0 {
		fmt.Fprintln(b)
		lt := table{Head: []string{"", ""}, Flex: 1, Wrap: true}
		for _, r := range v.Legend {
			lt.Rows = append(lt.Rows, []cell{{Text: r.Name}, {Text: r.Description}})
		}
		writeTextTable(b, lt, len(lt.Rows))
	}
	fmt.Fprintln(b)
	if len(m.Variants) == 0 {
		fmt.Fprintln(b, noRuns)
	} else {
		writeTextTable(b, v.Summary, len(v.Summary.Rows))
	}
	if len(v.Titles.Rows) > 0 {
		fmt.Fprintln(b, "\ncrash titles")
		writeTextTable(b, v.Titles, len(v.Titles.Rows))
	}
	if n := len(v.Crashes.Rows); n > 0 {
		head := "crashed runs (crashrig log RUN prints one's console)"
		if n > textCrashRows {
			head = fmt.Sprintf("crashed runs, first %d of %d (crashrig log RUN prints one's console)", textCrashRows, n)
		}
		fmt.Fprintln(b, "\n"+head)
		writeTextTable(b, v.Crashes, textCrashRows)
	}
	if len(v.Notes) > 0 {
		fmt.Fprintln(b, "\nnotes")
		for i, n := range v.Notes {
			ref := fmt.Sprintf("[%d] ", i+1)
			for j, l := range wrap(n, Width-len(ref), "") {
				if j == 0 {
					fmt.Fprintln(b, ref+l)
				} else {
					fmt.Fprintln(b, strings.Repeat(" ", len(ref))+l)
				}
			}
		}
	}
	return b.Flush()
}

func decisionLine(d *Decision) string {
	parts := []string{d.Text}
	for _, s := range []string{d.Confidence, d.RatioText} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// cellText is a cell as plain text, with its footnote references.
func cellText(c cell) string { return clean(c.Text) + noteRefs(c.Notes) }

// clean replaces control characters, which would break the layout, with spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func width(s string) int { return utf8.RuneCountInString(s) }

// writeTextTable writes at most maxRows rows of t, two spaces between columns. If it is too
// wide, the flex column gives way; if that is not enough, t.Alt is tried, and then each row
// becomes a block of "column: value" lines.
func writeTextTable(w io.Writer, t table, maxRows int) {
	rows := t.Rows[:min(maxRows, len(t.Rows))]
	if writeFitting(w, t, rows) {
		return
	}
	if t.Alt != nil && writeFitting(w, *t.Alt, t.Alt.Rows) {
		return
	}
	writeRecords(w, t, rows)
}

// writeFitting writes rows of t as a table if it fits in Width columns, and reports whether
// it did.
func writeFitting(w io.Writer, t table, rows [][]cell) bool {
	ncol := len(t.Head)
	ws := make([]int, ncol)
	hasHead := false
	for j, h := range t.Head {
		ws[j] = width(h)
		hasHead = hasHead || h != ""
	}
	for _, r := range rows {
		for j, c := range r {
			ws[j] = max(ws[j], width(cellText(c)))
		}
	}
	total := 2 * (ncol - 1)
	for _, x := range ws {
		total += x
	}
	if total > Width && t.Flex >= 0 && ws[t.Flex]-(total-Width) >= minFlex {
		ws[t.Flex] -= total - Width
		total = Width
	}
	if total > Width {
		return false
	}
	line := func(cells []string) {
		var sb strings.Builder
		for j, s := range cells {
			if j > 0 {
				sb.WriteString("  ")
			}
			pad := strings.Repeat(" ", max(0, ws[j]-width(s)))
			if j < len(t.Right) && t.Right[j] {
				sb.WriteString(pad + s)
			} else {
				sb.WriteString(s + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
	if hasHead {
		line(t.Head)
	}
	for _, r := range rows {
		cells := make([]string, ncol)
		var more []string
		for j, c := range r {
			cells[j] = cellText(c)
			if j != t.Flex || width(cells[j]) <= ws[j] {
				continue
			}
			if t.Wrap {
				ls := wrap(cells[j], ws[j], "")
				cells[j], more = ls[0], ls[1:]
			} else {
				refs := noteRefs(c.Notes)
				cells[j] = cut(clean(c.Text), ws[j]-width(refs)) + refs
			}
		}
		line(cells)
		for _, l := range more {
			blank := make([]string, ncol)
			blank[t.Flex] = l
			line(blank)
		}
	}
	return true
}

// writeRecords writes each row as its key cell followed by indented "column: value" lines.
func writeRecords(w io.Writer, t table, rows [][]cell) {
	for i, r := range rows {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, l := range wrap(cellText(r[t.Key]), Width, "  ") {
			fmt.Fprintln(w, l)
		}
		for j := range r {
			if j == t.Key || cellText(r[j]) == "" {
				continue
			}
			head := "  " + t.Head[j] + ": "
			for k, l := range wrap(cellText(r[j]), Width-width(head), "") {
				if k == 0 {
					fmt.Fprintln(w, head+l)
				} else {
					fmt.Fprintln(w, strings.Repeat(" ", width(head))+l)
				}
			}
		}
	}
}

// cut shortens s to n columns, ending it with "…".
func cut(s string, n int) string {
	switch {
	case width(s) <= n:
		return s
	case n < 1:
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}

// wrap breaks s into lines of at most n columns at spaces (cutting words longer than a line),
// the lines after the first starting with indent.
func wrap(s string, n int, indent string) []string {
	var lines []string
	cur := ""
	limit := func() int {
		if len(lines) == 0 {
			return n
		}
		return n - width(indent)
	}
	flush := func() { lines, cur = append(lines, cur), "" }
	for _, word := range strings.Fields(clean(s)) {
		if cur != "" && width(cur)+1+width(word) <= limit() {
			cur += " " + word
			continue
		}
		if cur != "" {
			flush()
		}
		for k := limit(); width(word) > k && k > 0; k = limit() {
			r := []rune(word)
			cur, word = string(r[:k]), string(r[k:])
			flush()
		}
		cur = word
	}
	if cur != "" || len(lines) == 0 {
		flush()
	}
	for i := 1; i < len(lines); i++ {
		lines[i] = indent + lines[i]
	}
	return lines
}
