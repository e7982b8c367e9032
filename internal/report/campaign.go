package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

// A Campaign is what a batch of a plan adds to a report (crashrig batch):
// each cell's stop rule and state, its crash rate per boot, the titles not
// seen in the previous batch of the same plan, what changed since then,
// and one `crashrig log` line per crash. Its Variants are the cells' arms.
type Campaign struct {
	Plan      string         `json:"plan"`
	PlanHash  string         `json:"plan_hash"`
	Sessions  []int64        `json:"sessions"`         // the sessions (shards) it was built from
	State     string         `json:"state"`            // "complete", "cut by the deadline"…
	Cells     []CampaignCell `json:"cells"`            //
	Previous  int64          `json:"previous_session"` // the previous batch of the same plan (0 = none)
	Changes   []string       `json:"changes"`          // since the previous batch
	PlanDiff  []string       `json:"plan_changes"`     // how the plan changed while this batch ran
	Trimmed   string         `json:"logs_trimmed"`     // what the log budget dropped ("" = nothing)
	CrashRuns []CrashRun     `json:"crash_runs"`
}

// A CampaignCell is one cell of a batch.
type CampaignCell struct {
	ID        string         `json:"id"`
	Rule      string         `json:"rule"`
	State     string         `json:"state"`
	Runs      int            `json:"runs"`    // finished boots that count (pass, crash, hang, stopped)
	Crashes   int            `json:"crashes"` // boots that crashed or hung
	Other     int            `json:"other"`   // boot-fail, infra-fail: not the kernel's verdict
	PCrash    stats.Interval `json:"-"`       // crashes/runs with its Wilson interval
	NewTitles []string       `json:"new_titles"`
	Decision  string         `json:"decision,omitempty"`
	Failed    bool           `json:"failed"` // a crash, or a comparison that found the kernel worse
}

// A CrashRun points at one crashed run's log.
type CrashRun struct {
	RunID int64  `json:"run_id"`
	Cell  string `json:"cell"`
	Title string `json:"title"`
}

func (c *Campaign) cellTable(conf float64) table {
	t := table{Head: []string{"cell", "rule", "state", "runs", "crashed", "p(crash)/boot " + stats.Percent(conf)},
		Right: []bool{false, false, false, true, true, true}, Flex: 2, Wrap: true}
	for _, x := range c.Cells {
		p := "–"
		if x.Runs > 0 {
			p = fmt.Sprintf("%.2f [%.2f, %.2f]", x.PCrash.Estimate, x.PCrash.Lower, x.PCrash.Upper)
		}
		t.Rows = append(t.Rows, []cell{{Text: x.ID}, {Text: x.Rule}, {Text: x.State}, {Text: fmt.Sprint(x.Runs)},
			{Text: fmt.Sprint(x.Crashes)}, {Text: p}})
	}
	return t
}

// maxCrashLines is the most crashrig log lines a report lists (JSON has them all).
const maxCrashLines = 25

// sections are the campaign's parts in reading order, for every renderer.
type campaignSection struct {
	Title string
	Table *table
	Lines []string
}

func (c *Campaign) sections(conf float64) []campaignSection {
	ct := c.cellTable(conf)
	head := fmt.Sprintf("plan %s (%s), %s", c.Plan, c.PlanHash, c.State)
	if len(c.Sessions) > 1 {
		head += fmt.Sprintf(", %d shards: sessions %v", len(c.Sessions), c.Sessions)
	}
	out := []campaignSection{{Title: "Cells", Table: &ct, Lines: []string{head}}}
	var dec, titles []string
	for _, x := range c.Cells {
		if x.Decision != "" {
			dec = append(dec, x.ID+": "+x.Decision)
		}
		for _, t := range x.NewTitles {
			titles = append(titles, x.ID+": "+t)
		}
	}
	if len(dec) > 0 {
		out = append(out, campaignSection{Title: "Decisions", Lines: dec})
	}
	if len(titles) > 0 {
		what := "New crash titles"
		if c.Previous != 0 {
			what += fmt.Sprintf(" (not seen in session %d)", c.Previous)
		}
		out = append(out, campaignSection{Title: what, Lines: titles})
	}
	if c.Previous != 0 {
		ch := c.Changes
		if len(ch) == 0 {
			ch = []string{"no cell's crash count or titles changed"}
		}
		out = append(out, campaignSection{Title: fmt.Sprintf("Since the previous batch (session %d)", c.Previous), Lines: ch})
	}
	if len(c.PlanDiff) > 0 {
		out = append(out, campaignSection{Title: "Plan changes", Lines: c.PlanDiff})
	}
	if c.Trimmed != "" {
		out = append(out, campaignSection{Title: "Console logs", Lines: []string{c.Trimmed}})
	}
	if len(c.CrashRuns) > 0 {
		var l []string
		for i, r := range c.CrashRuns {
			if i == maxCrashLines {
				l = append(l, fmt.Sprintf("… and %d more: crashrig runs SESSION lists every run", len(c.CrashRuns)-i))
				break
			}
			l = append(l, fmt.Sprintf("crashrig log %d   # %s: %s", r.RunID, r.Cell, r.Title))
		}
		out = append(out, campaignSection{Title: "Crash logs", Lines: l})
	}
	return out
}

func (c *Campaign) text(b *bufio.Writer, conf float64) {
	for _, s := range c.sections(conf) {
		fmt.Fprintf(b, "\n%s\n", strings.ToLower(s.Title))
		for _, l := range s.Lines {
			for _, w := range wrap(l, Width-2, "    ") {
				fmt.Fprintln(b, "  "+w)
			}
		}
		if s.Table != nil {
			writeTextTable(b, *s.Table, len(s.Table.Rows))
		}
	}
}

func (c *Campaign) markdown(b *bufio.Writer, conf float64) {
	for _, s := range c.sections(conf) {
		fmt.Fprintf(b, "## %s\n\n", s.Title)
		for _, l := range s.Lines {
			if strings.HasPrefix(l, "crashrig log ") {
				fmt.Fprintf(b, "- `%s`\n", l)
			} else {
				fmt.Fprintf(b, "- %s\n", mdEscape(l))
			}
		}
		fmt.Fprintln(b)
		if s.Table != nil {
			writeMDTable(b, *s.Table, len(s.Table.Rows))
		}
	}
}

// MarshalJSON adds p_crash, the per-boot crash probability with its
// interval, to cells that have runs.
func (c CampaignCell) MarshalJSON() ([]byte, error) {
	type plain CampaignCell
	out := struct {
		plain
		PCrash *jsonInterval `json:"p_crash,omitempty"`
	}{plain: plain(c)}
	if c.Runs > 0 {
		iv := jInterval(c.PCrash)
		out.PCrash = &iv
	}
	return json.Marshal(out)
}
