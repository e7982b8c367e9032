package progress

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

func TestLine(t *testing.T) {
	crash := &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "WARNING in foo", TimeToCrash: 41.73}}
	pass := &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 12.04}
	hang := &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Hang, Reason: "no heartbeat from the guest for 15s"}}
	multi := &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "go: x", TimeToCrash: 1,
		Iterations: []verdict.Iteration{{Verdict: verdict.Pass}, {Verdict: verdict.Crash}, {Verdict: verdict.Crash}}}}
	tests := []struct {
		n, total int
		id       int64
		variant  string
		r        *record.Run
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
	d.Finished(1, 0, 2, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 3})
	d.Finished(0, 0, 1, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "t", TimeToCrash: 2}})
	d.Close()
	want := "crashrig: run 1/2 (#2): pass (3.0s)\ncrashrig: run 2/2 (#1): crash after 2.0s: t\n"
	if b.String() != want {
		t.Errorf("output %q, want %q", b.String(), want)
	}
}

// TestTerminalShowsEveryRun drives the bars on a real pseudo-terminal, as a person
// sees them: after the last run, its line is printed and the bar reads 4/4.
func TestTerminalShowsEveryRun(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 100})
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	d := New(tty, true, 4, 2, nil)
	for i := 1; i <= 4; i++ {
		d.Started((i-1)%2, 0, int64(i))
		time.Sleep(50 * time.Millisecond)
		d.Finished((i-1)%2, 0, int64(i), &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 1})
	}
	d.Close()
	tty.Close()
	<-read
	out := screen.String()
	for _, want := range []string{"run 4/4 (#4): pass", "runs 4/4"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
}
