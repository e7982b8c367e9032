package report

import (
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// TestRunTextSignals: a kernel crash says which signals saw it; other runs
// print no such line.
func TestRunTextSignals(t *testing.T) {
	for _, tt := range []struct {
		signals []string
		want    string
	}{
		{[]string{"console", "pvpanic"}, "seen by        console, pvpanic\n"},
		{[]string{"pvpanic"}, "seen by        pvpanic\n"},
		{nil, ""},
	} {
		r := &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash, Kind: verdict.KindKernel,
			Title: verdict.PVPanicTitle, Signals: tt.signals}}
		var b strings.Builder
		RunText(&b, 0, r, false)
		if got := b.String(); tt.want != "" && !strings.Contains(got, tt.want) || tt.want == "" && strings.Contains(got, "seen by") {
			t.Errorf("signals %v: RunText =\n%s\nwant a line %q", tt.signals, got, tt.want)
		}
	}
}
