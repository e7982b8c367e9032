package report

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/pagecheck"
	"github.com/crashrig/crashrig/internal/stats"
)

var batchScreenshot = flag.String("batch-screenshot", "", "write the headless Chromium screenshot of the batch report to this file")

func chromium(t *testing.T) string {
	bin, err := pagecheck.Chromium()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("slow: starts a browser")
	}
	return bin
}

// probePage lays the page out in headless Chromium at a window width and
// returns what the probe measured; with shot set it also saves a screenshot.
func probePage(t *testing.T, bin string, m *Model, width int, shot string) pagecheck.Probe {
	t.Helper()
	var b strings.Builder
	if err := m.HTML(&b); err != nil {
		t.Fatal(err)
	}
	p, err := pagecheck.Check(context.Background(), bin, t.TempDir(), b.String(), width, shot)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// batchModel is the realistic report with a batch's campaign section.
func batchModel() *Model {
	m := realisticModel()
	m.Title = "crashrig batch nightly — session 12, 2026-12-07 01:00"
	c := &Campaign{Plan: "nightly", PlanHash: "4f1c2a9d0b7e6c55", Sessions: []int64{12, 13, 14, 15}, State: "cut by the deadline",
		Previous: 8, Changes: []string{"old: 31 of 40 runs crashed, was 0 of 40"},
		PlanDiff: []string{"cells with another stop rule, budget or priority (their runs still count): fixed"},
		Trimmed:  "312 of 340 console logs were trimmed to their head and tail by the log budget: 410 MiB of 3.2 GiB kept (crash logs are kept whole)"}
	for i, v := range m.Variants {
		s := v.Summary
		cc := CampaignCell{ID: v.Name, Rule: "runs 40", State: "done", Runs: s.Runs, Crashes: s.Crashes,
			PCrash: stats.Wilson(s.Crashes, s.Runs, 0.95), NewTitles: []string{}}
		if i == 0 {
			cc.NewTitles = []string{"general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] in __schedule"}
			cc.Decision = "old crashes more than fixed"
		}
		c.Cells = append(c.Cells, cc)
		for _, e := range v.Crashes {
			c.CrashRuns = append(c.CrashRuns, CrashRun{RunID: e.RunID, Cell: v.Name, Title: e.Title})
		}
	}
	m.Campaign = c
	return m
}

// TestHTMLLayoutInChromium lays out the comparison and batch reports in
// headless Chromium at a desktop and a narrow window and checks the page
// itself: every section is there, the plots are drawn, and nothing sticks
// out sideways.
func TestHTMLLayoutInChromium(t *testing.T) {
	bin := chromium(t)
	tests := []struct {
		name string
		m    *Model
		h2   []string
	}{
		{"compare", realisticModel(), []string{"Summary", "Crash titles", "Notes", "Console excerpts"}},
		{"batch", batchModel(), []string{"Cells", "Decisions", "New crash titles (not seen in session 8)", "Since the previous batch (session 8)", "Plan changes",
			"Console logs", "Crash logs", "Summary", "Crash titles", "Notes", "Console excerpts"}},
	}
	for _, tt := range tests {
		for _, width := range []int{1200, 800} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, width), func(t *testing.T) {
				shot := ""
				if tt.name == "batch" && width == 1200 && *batchScreenshot != "" {
					shot = *batchScreenshot
				}
				p := probePage(t, bin, tt.m, width, shot)
				t.Logf("%+v", p)
				for _, h := range tt.h2 {
					if !p.Has(h) {
						t.Errorf("section %q missing: the page has %q", h, p.H2)
					}
				}
				if p.SVGs < 2 || p.Drawn < 2 {
					t.Errorf("%d SVG plots, %d drawn: want the survival curve and the histogram", p.SVGs, p.Drawn)
				}
				if p.Overflows() {
					t.Errorf("horizontal overflow at %d px: page %d px wide in a %d px window; sticking out: %v",
						width, p.ScrollWidth, p.ClientWidth, p.Wide)
				}
			})
		}
	}
}
