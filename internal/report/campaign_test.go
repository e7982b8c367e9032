package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCampaignGolden pins a batch's report in text, Markdown, JSON and
// JUnit XML.
func TestCampaignGolden(t *testing.T) {
	renders := []struct {
		ext    string
		render func(*Model, io.Writer) error
	}{{"txt", (*Model).Text}, {"md", (*Model).Markdown}, {"json", (*Model).JSON}, {"junit.xml", (*Model).JUnit}}
	for _, f := range renders {
		t.Run(f.ext, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.render(batchModel(), &buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "batch."+f.ext+".golden")
			if *update {
				os.WriteFile(path, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if d := cmp.Diff(string(want), buf.String()); d != "" {
				t.Errorf("%s (-want +got):\n%s", path, d)
			}
		})
	}
}

// TestJUnitCases: a crashed cell is a failure with its excerpt, a skipped or
// cut cell is skipped, a cell of host failures only is an error, and the
// counts on the suite agree.
func TestJUnitCases(t *testing.T) {
	m := batchModel()
	m.Campaign.Cells = append(m.Campaign.Cells,
		CampaignCell{ID: "other", Rule: "runs 4", State: "skipped: finished in batch session 3"},
		CampaignCell{ID: "broken", Rule: "runs 4", State: "done", Other: 4},
		CampaignCell{ID: "late", Rule: "runs 4", State: "cut short: 2 of 4 runs", Runs: 2})
	var buf bytes.Buffer
	if err := m.JUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var s junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range s.Suites[0].Cases {
		switch {
		case c.Skipped != nil:
			got[c.Name] = "skipped"
		case c.Error != nil:
			got[c.Name] = "error"
		case len(c.Failures) > 0:
			got[c.Name] = "failure"
			if !strings.Contains(c.Failures[0].Text, "crashrig log") || c.Failures[0].Message == "" {
				t.Errorf("%s: failure %+v lacks the title or the log line", c.Name, c.Failures[0])
			}
		default:
			got[c.Name] = "pass"
		}
	}
	want := map[string]string{"old": "failure", "fixed": "failure", "other": "skipped", "broken": "error", "late": "skipped"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("test cases (-want +got):\n%s", d)
	}
	if su := s.Suites[0]; su.Tests != 5 || su.Failures != 2 || su.Errors != 1 || su.Skipped != 2 || s.Tests != 5 {
		t.Errorf("counts: suites %+v suite tests=%d failures=%d errors=%d skipped=%d", s.Tests, su.Tests, su.Failures, su.Errors, su.Skipped)
	}
}
