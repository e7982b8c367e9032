package shell

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until it holds want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), want) {
			return
		}
	}
	t.Fatalf("no %q in the output:\n%s", want, out.String())
}

// TestSession drives a stand-in for qemu (a shell loop echoing lines)
// through the pseudo-terminal: keys reach it, its output comes back, the
// escape byte leaves and the process is gone afterwards.
func TestSession(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		keys     []string // typed one after another, each once the previous answer is seen
		answers  []string
		left     bool
		wantCode int
	}{
		{"escape leaves", `while read l; do echo "got:$l"; done`, []string{"hello\n", "x\x1dignored"}, []string{"got:hello", ""}, true, -1},
		{"guest ends", `read l; echo "bye:$l"; exit 3`, []string{"now\n"}, []string{"bye:now"}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			out := &syncBuffer{}
			pid := make(chan int, 1)
			done := make(chan Exit, 1)
			go func() {
				ex, err := Run(context.Background(), Options{Argv: []string{"sh", "-c", tt.script}, In: r, Out: out,
					Started: func(p int) { pid <- p }})
				if err != nil {
					t.Error(err)
				}
				done <- ex
			}()
			p := <-pid
			for i, k := range tt.keys {
				w.Write([]byte(k))
				if tt.answers[i] != "" {
					waitFor(t, out, tt.answers[i])
				}
			}
			var ex Exit
			select {
			case ex = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
			if ex.Left != tt.left || ex.Code != tt.wantCode {
				t.Errorf("exit %+v, want left %v code %d", ex, tt.left, tt.wantCode)
			}
			if err := syscall.Kill(p, 0); err != syscall.ESRCH {
				t.Errorf("process %d still there after Run (kill 0: %v)", p, err)
			}
			if strings.Contains(out.String(), "ignored") {
				t.Errorf("keys after the escape reached the guest: %q", out.String())
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pid := make(chan int, 1)
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	ex, err := Run(ctx, Options{Argv: []string{"sleep", "60"}, Out: &syncBuffer{}, Started: func(p int) { pid <- p }})
	if err != nil || ex.Left || ex.Code != -1 {
		t.Fatalf("Run = %+v, %v; want killed", ex, err)
	}
	if err := syscall.Kill(<-pid, 0); err != syscall.ESRCH {
		t.Errorf("sleep still there after cancel: %v", err)
	}
}
