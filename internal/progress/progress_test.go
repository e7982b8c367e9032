package progress

import (
	"bytes"
	"testing"

	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/verdict"
)

func TestLine(t *testing.T) {
	crash := &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "WARNING in foo", TimeToCrash: 41.73}}
	pass := &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 12.04}
	hang := &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Hang, Reason: "no heartbeat from the guest for 15s"}}
	multi := &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "go: x", TimeToCrash: 1,
		Iterations: []verdict.Iteration{{Verdict: verdict.Pass}, {Verdict: verdict.Crash}, {Verdict: verdict.Crash}}}}
	tests := []struct {
		n, total int
		id       int64
		variant  string
		r        *run.Result
		want     string
	}{
		{7, 20, 31, "", crash, "run 7/20 (#31): crash after 41.7s: WARNING in foo"},
		{1, 0, 0, " [new]", pass, "run 1 [new]: pass (12.0s)"},
		{2, 2, 5, "", hang, "run 2/2 (#5): hang: no heartbeat from the guest for 15s"},
		{3, 0, 9, "", multi, "run 3 (#9): crash after 1.0s: go: x [3 iterations, 2 crashed]"},
	}
	for _, tt := range tests {
		if got := Line(tt.n, tt.total, tt.id, tt.variant, tt.r); got != tt.want {
			t.Errorf("Line = %q, want %q", got, tt.want)
		}
	}
}

// TestPlain: off a terminal, one line per finished run and nothing else.
func TestPlain(t *testing.T) {
	var b bytes.Buffer
	d := New(&b, false, 2, 2, nil)
	d.Started(0, 0, 1)
	d.Started(1, 0, 2)
	d.Finished(1, 0, 2, &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 3})
	d.Finished(0, 0, 1, &run.Result{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "t", TimeToCrash: 2}})
	d.Close()
	want := "crashrig: run 1/2 (#2): pass (3.0s)\ncrashrig: run 2/2 (#1): crash after 2.0s: t\n"
	if b.String() != want {
		t.Errorf("output %q, want %q", b.String(), want)
	}
}
