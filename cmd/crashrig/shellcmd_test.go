package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/crashrig/crashrig/internal/testkernel"
)

// lockedBuffer collects what the test terminal shows.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// qemuWith returns the pids of processes whose command line holds s.
func qemuWith(s string) []string {
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(s)) && bytes.Contains(b, []byte("qemu")) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// TestShell drives crashrig shell through a pseudo-terminal on the real
// test kernel: a command typed at the guest's shell runs (and sees the
// window size and the reproducer), Ctrl-] leaves, and qemu is gone.
func TestShell(t *testing.T) {
	kernel := testkernel.Path(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	// An unusual size, so that the guest's `stty size` proves it arrived
	// and the qemu process can be told from other tests' VMs.
	pty.Setsize(ptmx, &pty.Winsize{Rows: 37, Cols: 101})
	screen := &lockedBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	wait := func(want string, d time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(screen.String(), want) {
				return
			}
		}
		t.Fatalf("no %q on the screen after %v:\n%s", want, d, screen.String())
	}
	status := make(chan int, 1)
	go func() {
		status <- crashrig(context.Background(), []string{"shell", "-k", kernel, "--accel", "tcg", "-r", "selftest", "--", "-mode", "pass"},
			tty, tty, tty)
	}()
	wait("crashrig shell: `repro` runs the reproducer: /bin/selftest -mode pass", 3*time.Minute)
	wait("/ # ", 30*time.Second)
	if len(qemuWith("crashrig.tty=101x37")) != 1 {
		t.Errorf("no qemu with crashrig.tty=101x37 while the shell runs")
	}
	ptmx.Write([]byte("echo answer-$((6*7)); stty size; repro && echo repro-ok\r"))
	wait("answer-42", 30*time.Second)
	wait("37 101", 10*time.Second)
	wait("repro-ok", 30*time.Second)
	ptmx.Write([]byte{0x1d})
	select {
	case code := <-status:
		if code != 0 {
			t.Errorf("crashrig shell exited %d, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("crashrig shell did not return after Ctrl-]")
	}
	wait("left the guest", 5*time.Second)
	if pids := qemuWith("crashrig.tty=101x37"); len(pids) > 0 {
		t.Errorf("qemu still running after leaving: pids %v", pids)
	}
}

// TestShellPipedInput: commands piped into crashrig shell reach the guest's shell
// whole, the first bytes included, however early they were written.
func TestShellPipedInput(t *testing.T) {
	kernel := testkernel.Path(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("echo FIRST-LINE-$((40+2))\nexit\n")
	w.Close()
	defer r.Close()
	out := &lockedBuffer{}
	code := crashrig(context.Background(), []string{"shell", "-k", kernel, "--accel", "tcg", "-r", "selftest"}, r, out, out)
	if code != 0 {
		t.Errorf("crashrig shell exited %d, want 0", code)
	}
	if s := out.String(); !strings.Contains(s, "FIRST-LINE-42") || strings.Contains(s, "not found") {
		t.Errorf("piped command did not run whole:\n%s", s)
	}
}
