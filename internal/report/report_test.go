package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var formats = []struct {
	ext    string
	render func(*Model, io.Writer) error
}{
	{"txt", (*Model).Text},
	{"md", (*Model).Markdown},
	{"json", (*Model).JSON},
	{"html", (*Model).HTML},
}

func TestGolden(t *testing.T) {
	models := []struct {
		name  string
		model *Model
	}{{"compare", compareModel()}, {"single", singleModel()}, {"empty", &Model{Generated: generated}}}
	for _, m := range models {
		for _, f := range formats {
			t.Run(m.name+"."+f.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := f.render(m.model, &buf); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", m.name+"."+f.ext+".golden")
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if diff := cmp.Diff(string(want), buf.String()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			})
		}
	}
}

// hostile has markup in every text a user or a console controls.
func hostile() *Model {
	m := compareModel()
	m.Title = `<img src="http://example.com/x.png"> report`
	m.Variants[0].Name = `<b onclick="x()">old</b>`
	m.Variants[0].Description = `<a href="https://example.com/">kernel</a>`
	m.Variants[0].Crashes[0].Title = `<script src="https://example.com/x.js"></script>`
	m.Variants[0].Crashes[0].Text = "panic: <script>alert(document.cookie)</script>\n<iframe src=\"http://evil\"></iframe>\r\n\x00\x1b[31mred"
	m.Warnings = append(m.Warnings, `<style>body{display:none}</style>`)
	m.Decision.Text = `<svg onload="alert(1)">`
	return m
}

func TestHTMLEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := hostile().HTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "<iframe", "<img", "<b onclick", `<a href="https`, "<svg onload", "<style>body"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q: console or user text was not escaped", bad)
		}
	}
	if strings.ContainsAny(page, "\x00\x1b\r") {
		t.Errorf("control characters from the console reach the page")
	}
	if !strings.Contains(page, "panic: &lt;script&gt;alert(document.cookie)&lt;/script&gt;") {
		t.Errorf("escaped console excerpt missing")
	}
	// Nothing is fetched: no src or href (or CSS url) leaves the page.
	ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|url\(|@import`)
	if loc := ext.FindStringIndex(page); loc != nil {
		t.Errorf("page references something external: %q", page[max(0, loc[0]-40):min(len(page), loc[1]+40)])
	}
	for _, s := range []string{"<svg", "<path"} {
		if !strings.Contains(page, s) {
			t.Errorf("no %s: the plots are missing", s)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := hostile().Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	// Outside code spans, every "<" must be escaped.
	code := regexp.MustCompile("`[^`]*`")
	raw := regexp.MustCompile(`(^|[^\\])<[a-zA-Z/]`)
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, "|") || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "**") {
			if raw.MatchString(code.ReplaceAllString(line, "")) {
				t.Errorf("raw HTML in %q", line)
			}
		}
	}
}

// TestWidth checks that no text line exceeds Width columns, even with long titles, names and
// descriptions and many variants.
func TestWidth(t *testing.T) {
	wide := compareModel()
	long := strings.Repeat("very_long_function_name_", 8)
	wide.Variants[0].Crashes[0].Title = "BUG: KASAN: slab-use-after-free in " + long
	wide.Variants[0].Summary.Titles[0].Title = wide.Variants[0].Crashes[0].Title
	wide.Variants[1].Description = strings.Repeat("a description that goes on ", 12)
	wide.Variants[2].Name = "a-variant-with-a-very-long-name-indeed"
	for _, n := range []string{"v4", "v5", "v6", "v7"} {
		v := wide.Variants[0]
		v.Name = n
		wide.Variants = append(wide.Variants, v)
	}
	wide.Decision.Text = strings.Repeat("decided ", 30)
	wide.Warnings = append(wide.Warnings, strings.Repeat("warning ", 40)+long)
	for name, m := range map[string]*Model{"compare": compareModel(), "single": singleModel(), "wide": wide, "realistic": realisticModel()} {
		var buf bytes.Buffer
		if err := m.Text(&buf); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if width(line) > Width {
				t.Errorf("%s: line %d has %d columns:\n%s", name, i+1, width(line), line)
			}
		}
	}
}

func TestJSONStable(t *testing.T) {
	var buf bytes.Buffer
	if err := compareModel().JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	v := got["variants"].([]any)[1].(map[string]any)
	// new: 0 crashes in 12 runs of 120 s: MTTC ≥ 1440/2.996 = 480.6 s, no upper end.
	mttc := v["mttc_s"].(map[string]any)
	if mttc["estimate"] != nil || mttc["upper"] != nil || mttc["lower"].(float64) < 480 || mttc["lower"].(float64) > 481 {
		t.Errorf("mttc_s = %v, want estimate and upper null, lower 480.6", mttc)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if !snake.MatchString(k) {
					t.Errorf("field %q is not snake_case", k)
				}
				if k != "excluded" { // keyed by verdict: "boot-fail"
					walk(y)
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(got)
}

func TestFromRecords(t *testing.T) {
	cfg := record.Config{Duration: 60}
	it := func(v verdict.Verdict, title string, ttc, ran float64) verdict.Iteration {
		return verdict.Iteration{Verdict: v, Title: title, TimeToCrash: ttc, Ran: ran}
	}
	recs := []store.RunRecord{
		{ID: 1, Status: "done", Verdict: verdict.Crash, Config: cfg, Iterations: []verdict.Iteration{it(verdict.Crash, "WARNING in foo", 12.5, 12.5)}},
		{ID: 2, Status: "done", Verdict: verdict.Pass, Config: cfg, Iterations: []verdict.Iteration{it(verdict.Pass, "", 0, 60)}},
		{ID: 3, Status: "done", Verdict: verdict.Hang, Config: cfg, Iterations: []verdict.Iteration{it(verdict.Hang, "no heartbeat", 0, 33)}},
		{ID: 4, Status: "done", Verdict: verdict.BootFail, Config: cfg},
		{ID: 5, Status: "done", Verdict: verdict.InfraFail, Config: cfg},
		{ID: 6, Status: "interrupted", Verdict: verdict.Interrupted, Config: cfg},
		{ID: 7, Status: "running", Config: cfg},
		// Two iterations in one boot: a Go crash, then a pass.
		{ID: 8, Status: "done", Verdict: verdict.Crash, Config: cfg, Iterations: []verdict.Iteration{
			it(verdict.Crash, "go: panic: boom in main.f", 4, 4), it(verdict.Pass, "", 0, 60)}},
		// An old record without iterations.
		{ID: 9, Status: "done", Verdict: verdict.Pass, Config: cfg},
	}
	v := FromRecords("A", "k", recs, func(id int64) string { return "text of run " + string(rune('0'+id)) }, 0.95)
	want := Variant{
		Name: "A", Description: "k", Runs: 9, Hangs: 1,
		Excluded: map[string]int{"boot-fail": 1, "infra-fail": 1, "interrupted": 1, "running": 1},
		Crashes: []Excerpt{
			{RunID: 1, Title: "WARNING in foo", TimeToCrash: 12.5, Text: "text of run 1"},
			{RunID: 3, Title: "hang: no heartbeat", TimeToCrash: 33, Text: "text of run 3"},
			{RunID: 8, Title: "go: panic: boom in main.f", TimeToCrash: 4, Text: "text of run 8"},
		},
	}
	if diff := cmp.Diff(want, v, cmpopts.IgnoreFields(Variant{}, "Summary")); diff != "" {
		t.Errorf("FromRecords (-want +got):\n%s", diff)
	}
	// 6 observations: crashes at 12.5, 33 (hang), 4; censored at 60, 60, 60.
	// Exposure 12.5 + 60 + 33 + 4 + 60 + 60 = 229.5.
	s := v.Summary
	if s.Runs != 6 || s.Crashes != 3 || s.Exposure != 229.5 || s.Limit != 60 {
		t.Errorf("summary: %d runs, %d crashes, %g s exposure, limit %g; want 6, 3, 229.5, 60", s.Runs, s.Crashes, s.Exposure, s.Limit)
	}
	var buf bytes.Buffer
	if err := (&Model{Variants: []Variant{v}}).Text(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"4 boot(s) left out", "6 runs (reproducer iterations) in 5 boots", "a hang (the guest stopped making progress"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestRatioText(t *testing.T) {
	sig := func(dA int, eA float64, dB int, eB float64) string {
		m := &Model{Variants: []Variant{
			{Name: "A", Summary: stats.Summary{Crashes: dB, Exposure: eB}},
			{Name: "B", Summary: stats.Summary{Crashes: dA, Exposure: eA}}}}
		return ratioText(m.compare(1))
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"nothing crashed", sig(0, 100, 0, 100), "~ (no crashes)"},
		{"not significant", sig(3, 100, 2, 100), "~ (p=1)"},
		{"significant", sig(20, 100, 2, 100), "×10 [2.4, 88]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
