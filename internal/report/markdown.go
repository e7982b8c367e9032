package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

const (
	mdCrashRows    = 50 // crashed runs listed
	mdExcerptLines = 60 // lines of each title's first excerpt
)

// Markdown writes the report as GitHub-flavoured Markdown: pipe tables, footnote references
// "[1]" and a numbered list of notes, and the first console excerpt of each crash title.
func (m *Model) Markdown(w io.Writer) error {
	v := m.build()
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# %s\n\n", mdEscape(v.Title))
	if v.Description != "" {
		fmt.Fprintf(b, "%s\n\n", mdEscape(v.Description))
	}
	fmt.Fprintf(b, "%s\n\n", v.Sub)
	if d := v.Decision; d != nil {
		fmt.Fprintf(b, "**Decision:** %s\n\n", mdEscape(decisionLine(d)))
	}
	if m.Campaign != nil {
		m.Campaign.markdown(b, m.conf())
	}
	if len(v.Legend) > 0 {
		lt := table{Head: []string{"variant", "description"}, Right: []bool{false, false}}
		for _, r := range v.Legend {
			lt.Rows = append(lt.Rows, []cell{{Text: r.Name}, {Text: r.Description}})
		}
		writeMDTable(b, lt, len(lt.Rows))
	}
	if len(m.Variants) == 0 {
		fmt.Fprintf(b, "%s\n\n", noRuns)
	} else {
		writeMDTable(b, v.Summary, len(v.Summary.Rows))
	}
	if len(v.Titles.Rows) > 0 {
		fmt.Fprintf(b, "### Crash titles\n\n")
		writeMDTable(b, v.Titles, len(v.Titles.Rows))
	}
	if len(v.Notes) > 0 {
		fmt.Fprintf(b, "### Notes\n\n")
		for i, n := range v.Notes {
			fmt.Fprintf(b, "%d. %s\n", i+1, mdEscape(n))
		}
	}
	if n := len(v.Crashes.Rows); n > 0 {
		fmt.Fprintf(b, "### Crashed runs\n\n")
		writeMDTable(b, v.Crashes, mdCrashRows)
		if n > mdCrashRows {
			fmt.Fprintf(b, "… and %d more.\n\n", n-mdCrashRows)
		}
		for _, g := range v.Excerpts {
			e := g.Items[0]
			who := ""
			if g.Variant != "" {
				who = "**" + mdEscape(g.Variant) + "** · "
			}
			fmt.Fprintf(b, "%s%s%s: %d crash(es); run %d after %s:\n\n", who, mdCode(g.Title), noteRefs(g.Notes),
				len(g.Items), e.RunID, dur(e.TimeToCrash))
			text, more := headLines(printable(e.Text), mdExcerptLines)
			if strings.TrimSpace(text) == "" {
				text = "(no console excerpt)"
			}
			fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
			fmt.Fprintf(b, "%s\n%s\n%s\n\n", fence, text, fence)
			if more > 0 {
				fmt.Fprintf(b, "… %d more line(s): `crashrig log %d`\n\n", more, e.RunID)
			}
		}
	}
	return b.Flush()
}

// writeMDTable writes at most maxRows rows of t as a pipe table.
func writeMDTable(w io.Writer, t table, maxRows int) {
	row := func(cells []string) { fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")) }
	head := make([]string, len(t.Head))
	rule := make([]string, len(t.Head))
	for j, h := range t.Head {
		head[j], rule[j] = mdEscape(h), "---"
		if j < len(t.Right) && t.Right[j] {
			rule[j] = "--:"
		}
	}
	row(head)
	row(rule)
	for i, r := range t.Rows {
		if i == maxRows {
			break
		}
		cells := make([]string, len(r))
		for j, c := range r {
			if c.Code {
				cells[j] = mdCode(c.Text)
			} else {
				cells[j] = mdEscape(c.Text)
			}
			cells[j] += noteRefs(c.Notes)
		}
		row(cells)
	}
	fmt.Fprintln(w)
}

// mdEscape escapes what Markdown would read as markup: emphasis, code, pipes, links and HTML
// tags.
func mdEscape(s string) string {
	var b strings.Builder
	rs := []rune(clean(s))
	for i, r := range rs {
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case strings.ContainsRune("\\`*_|", r),
			r == ']' && next == '(',
			r == '<' && (unicode.IsLetter(next) || strings.ContainsRune("/!?", next)):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode formats s as a code span that survives backticks and pipes inside it.
func mdCode(s string) string {
	s = strings.ReplaceAll(clean(s), "|", `\|`)
	if s == "" {
		return ""
	}
	tick := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return tick + s + tick
}

// longestRun is the longest run of c in s.
func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// headLines returns the first n lines of s, without a trailing newline, and how many it left out.
func headLines(s string, n int) (string, int) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n"), 0
	}
	return strings.Join(lines[:n], "\n"), len(lines) - n
}
