package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const greeting = `{"QMP": {"version": {"qemu": {"micro": 19, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u7"}, "capabilities": ["oob"]}}`

// fakeQEMU speaks QMP on one end of a pipe: it greets, then answers each
// command with handle's lines (a reply, events, ...) until the client
// closes. handle gets the command name and its id.
func fakeQEMU(t *testing.T, handle func(cmd, id string) []string) net.Conn {
	t.Helper()
	srv, cli := net.Pipe()
	go func() {
		defer srv.Close()
		srv.Write([]byte(greeting + "\r\n"))
		r := bufio.NewReader(srv)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var req struct {
				Execute string `json:"execute"`
				ID      string `json:"id"`
			}
			if err := json.Unmarshal(line, &req); err != nil {
				t.Errorf("fake qemu: bad request %q: %v", line, err)
				return
			}
			if req.Execute == "qmp_capabilities" {
				srv.Write([]byte(`{"return": {}, "id": "` + req.ID + `"}` + "\r\n"))
				continue
			}
			for _, l := range handle(req.Execute, req.ID) {
				if _, err := srv.Write([]byte(l + "\r\n")); err != nil {
					return
				}
			}
		}
	}()
	return cli
}

func newFake(t *testing.T, handle func(cmd, id string) []string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewClient(ctx, fakeQEMU(t, handle))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string // what the fake sends for the command; ID is replaced by its id
		want    Status
		wantErr string
	}{
		{"reply", []string{`{"return": {"status": "running", "singlestep": false, "running": true}, "id": "ID"}`},
			Status{Running: true, Status: "running"}, ""},
		{"events before the reply", []string{`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}`,
			`{"return": {"status": "paused", "running": false}, "id": "ID"}`}, Status{Status: "paused"}, ""},
		{"error", []string{`{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}, "id": "ID"}`},
			Status{}, "qmp: CommandNotFound: The command x has not been found"},
		{"not json is skipped", []string{`garbage`, `{"return": {"status": "running", "running": true}, "id": "ID"}`},
			Status{Running: true, Status: "running"}, ""},
		{"connection ends", nil, Status{}, "connection closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFake(t, func(cmd, id string) []string {
				var out []string
				for _, l := range tt.lines {
					out = append(out, strings.ReplaceAll(l, `"ID"`, `"`+id+`"`))
				}
				return out
			})
			if tt.lines == nil {
				// The connection ends while the command waits.
				go func() { time.Sleep(50 * time.Millisecond); c.conn.Close() }()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := c.Status(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Status = %+v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Status = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestErrorType(t *testing.T) {
	c := newFake(t, func(cmd, id string) []string {
		return []string{`{"error": {"class": "GenericError", "desc": "no"}, "id": "` + id + `"}`}
	})
	err := c.Cont(context.Background())
	var qe *Error
	if !errors.As(err, &qe) || qe.Class != "GenericError" || qe.Desc != "no" {
		t.Fatalf("Cont = %v, want *Error GenericError", err)
	}
}

// TestEventsDoNotBlockReplies: events nobody reads pile up in the queue
// while commands still get their replies; they then come out in order.
func TestEventsDoNotBlockReplies(t *testing.T) {
	c := newFake(t, func(cmd, id string) []string {
		var out []string
		for i := 0; i < 100; i++ {
			out = append(out, `{"event": "E`+id+`", "data": {"n": 1}, "timestamp": {"seconds": 1700000000, "microseconds": 5}}`)
		}
		return append(out, `{"return": {}, "id": "`+id+`"}`)
	})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := c.Stop(ctx); err != nil {
			t.Fatalf("Stop %d: %v", i, err)
		}
	}
	// Ids start at 2 (1 was qmp_capabilities).
	for id := 2; id <= 6; id++ {
		for i := 0; i < 100; i++ {
			ev := <-c.Events()
			if want := "E" + string(rune('0'+id)); ev.Name != want {
				t.Fatalf("event %d of command %d: %s, want %s", i, id, ev.Name, want)
			}
			if ev.Time.Unix() != 1700000000 || string(ev.Data) != `{"n": 1}` {
				t.Fatalf("event %+v", ev)
			}
		}
	}
}

func TestWaitEvent(t *testing.T) {
	c := newFake(t, func(cmd, id string) []string {
		return []string{`{"return": {}, "id": "` + id + `"}`,
			`{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}`,
			`{"event": "GUEST_PANICKED", "data": {"action": "run"}, "timestamp": {"seconds": 1, "microseconds": 0}}`}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := c.WaitEvent(ctx, EventGuestPanicked)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePanic(ev)
	if err != nil || p.Action != "run" {
		t.Fatalf("ParsePanic = %+v, %v", p, err)
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := c.WaitEvent(short, "NEVER"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitEvent(NEVER) = %v, want deadline exceeded", err)
	}
}

func TestNoGreeting(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := NewClient(ctx, cli); err == nil {
		t.Fatal("NewClient without a greeting succeeded")
	}
}

// TestListenerPrivate: the socket sits in a directory only its owner can
// enter, and Close removes both.
func TestListenerPrivate(t *testing.T) {
	parent := t.TempDir()
	l, err := Listen(parent)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(l.Path)
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory %s: %v %v, want mode 0700", dir, st.Mode().Perm(), err)
	}
	if st, err := os.Stat(l.Path); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s is not a socket: %v", l.Path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); err == nil {
		t.Fatal("Accept with nobody connecting succeeded")
	}
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after Close: %v", dir, err)
	}
}

// TestRealQEMU drives a real qemu (no guest: it is started paused) through
// both ways of connecting.
func TestRealQEMU(t *testing.T) {
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	base := []string{"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-S",
		"-machine", "q35", "-accel", "tcg", "-m", "128M", "-device", "pvpanic"}
	start := func(t *testing.T, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(append([]string{}, base...), args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if s := stderr.String(); s != "" {
				t.Logf("qemu stderr: %s", s)
			}
		})
		return cmd
	}
	check := func(t *testing.T, c *Client, cmd *exec.Cmd) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c.Greeting.Version.Qemu.Major < 6 {
			t.Errorf("greeting %+v", c.Greeting)
		}
		s, err := c.Status(ctx)
		if err != nil || s.Running || s.Status != "prelaunch" {
			t.Fatalf("Status = %+v, %v; want prelaunch", s, err)
		}
		if err := c.Cont(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitEvent(ctx, "RESUME"); err != nil {
			t.Fatal(err)
		}
		if s, err := c.Status(ctx); err != nil || !s.Running {
			t.Fatalf("after cont: %+v, %v", s, err)
		}
		var qe *Error
		if err := c.Execute(ctx, "no-such-command", nil, nil); !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
			t.Fatalf("unknown command: %v", err)
		}
		if err := c.Quit(ctx); err != nil && !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("qemu after quit: %v", err)
		}
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("connection still open after qemu quit")
		}
	}
	t.Run("listen", func(t *testing.T) {
		l, err := Listen(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		t0 := time.Now()
		cmd := start(t, l.Args()...)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := l.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Measured, not checked: how long after starting qemu the session is ready.
		t.Logf("qemu start to negotiated session: %v", time.Since(t0))
		defer c.Close()
		check(t, c, cmd)
	})
	t.Run("dial", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "q.sock")
		cmd := start(t, "-qmp", "unix:"+path+",server=on,wait=off")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := Dial(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(t, c, cmd)
	})
}
