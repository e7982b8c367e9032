package report

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/pagecheck"
)

// storyModel is a story of three stages: facts only, a comparison, and a block of text.
func storyModel() *Story {
	return &Story{Title: "The seed story", Generated: time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC),
		Summary: []string{"Every stage came out as the story predicts."},
		Stages: []StoryStage{
			{Name: "kernels", Title: "1. The kernels", Outcome: "probed vDSO: 6 stack probes", Expected: true, Wall: 95 * time.Second,
				Facts: []string{"Linux 6.1.192"}, Blocks: []Block{{Caption: "probed vDSO", Text: " a44:\tsub    $0x1000,%rsp\n a4b:\torq    $0x0,(%rsp)\n"}}},
			{Name: "footprint", Title: "2. The footprint", Outcome: "probed crashes more than clean", Expected: true, Wall: 17 * time.Second,
				VM: 61, Model: realisticModel()},
			{Name: "bisect", Title: "5. Which object?", Outcome: "inconclusive", Expected: false, Wall: 4 * time.Minute, VM: 164,
				Blocks: []Block{{Caption: "steps", Text: strings.Repeat("step with a long line of objects ", 12) + "\n"}}},
		}}
}

func TestStoryMarkdown(t *testing.T) {
	s := storyModel()
	var b strings.Builder
	if err := s.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"# The seed story", "## 2. The footprint", "(story-footprint-survival.svg)",
		"**inconclusive** (not what the story predicts)", "orq    $0x0,(%rsp)", "| total", "5m52s", "3m45s"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	svgs := s.SVGs()
	if len(svgs) != 1 || !strings.Contains(svgs["story-footprint-survival.svg"], "<svg") {
		t.Errorf("SVGs: %d files %v, want the footprint stage's survival plot", len(svgs), keys(svgs))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestStoryHTMLInChromium lays the story page out in headless Chromium: every stage is a
// section, the comparison's survival plot is drawn, nothing sticks out sideways.
func TestStoryHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	var b strings.Builder
	if err := storyModel().HTML(&b); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1200, 800} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			p, err := pagecheckStory(t, bin, b.String(), width)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Stages", "1. The kernels", "2. The footprint", "5. Which object?"} {
				if !p.Has(h) {
					t.Errorf("section %q missing: %q", h, p.H2)
				}
			}
			if p.Drawn < 1 {
				t.Errorf("%d SVGs, %d drawn: want the footprint's survival plot", p.SVGs, p.Drawn)
			}
			if p.Overflows() {
				t.Errorf("horizontal overflow at %d px: %d in %d; %v", width, p.ScrollWidth, p.ClientWidth, p.Wide)
			}
		})
	}
}

func pagecheckStory(t *testing.T, bin, html string, width int) (pagecheck.Probe, error) {
	return pagecheck.Check(context.Background(), bin, t.TempDir(), html, width, "")
}
