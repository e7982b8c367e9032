package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/crashrig/crashrig/qemu"
	"github.com/crashrig/crashrig/qemu/qmp"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// Starting one run from a saved state (snapshot.go saves it): qemu with
// -incoming, resumed through QMP, the run's orders on the console.

// accept waits for qemu's monitor, giving up when qemu exits first.
func accept(ctx context.Context, ln *qmp.Listener, m *qemu.Machine) (*qmp.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	qc, err := ln.Accept(ctx)
	if err != nil {
		m.Kill()
		return nil, fmt.Errorf("%w; qemu said: %s", err, firstLine(m.Wait().Stderr))
	}
	return qc, nil
}

// waitMarker reads the console until the marker named name arrives, within
// timeout. Chunks read are appended to *kept when kept is not nil.
func waitMarker(ctx context.Context, m *qemu.Machine, name string, timeout time.Duration, kept *[]qemu.Chunk) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var line []byte
	var tail []byte
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("no %s marker within %v; the console ended with: %q", name, timeout, lastBytes(tail, 300))
		case ch, ok := <-m.Console:
			if !ok {
				ex := m.Wait()
				return fmt.Errorf("qemu ended (status %d) before the %s marker: %s; the console ended with: %q",
					ex.Code, name, firstLine(ex.Stderr), lastBytes(tail, 300))
			}
			if kept != nil {
				*kept = append(*kept, ch)
			}
			tail = lastBytes(append(tail, ch.Data...), 4096)
			for _, c := range ch.Data {
				if c != '\n' {
					if len(line) < 64<<10 {
						line = append(line, c)
					}
					continue
				}
				if ev, st := marker.Parse(line); st == marker.OK && ev.Name == name {
					return nil
				}
				line = line[:0]
			}
		}
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "nothing on stderr"
	}
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// restore starts a qemu from the saved state, its monitor connected to ln,
// resumes it and hands the guest its orders; it returns once the guest has
// acknowledged them (the resumed init marker), with the console replaying
// everything from qemu's start, and the monitor session, which stays open
// for the run (pvpanic's events come on it).
func (s *snapshotter) restore(ctx context.Context, info *stateInfo, ln *qmp.Listener) (*qemu.Machine, *qmp.Client, restoreTimes, error) {
	var rt restoreTimes
	m, qc, err := s.restoreTimed(ctx, info, ln, &rt)
	return m, qc, rt, err
}

// restoreTimes are the steps of a restore, in seconds since qemu started.
type restoreTimes struct {
	Loaded  float64 // the saved state is in (paused)
	Resumed float64 // the guest took its orders (its init marker arrived)
}

func (s *snapshotter) restoreTimed(ctx context.Context, info *stateInfo, ln *qmp.Listener, rt *restoreTimes) (*qemu.Machine, *qmp.Client, error) {
	// qemu reads the state from the very file that was checked: opened here,
	// compared with the checked one, and inherited as fd 3.
	f, err := os.Open(s.statePath())
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, nil, err
	}
	if id := (fileID{size: uint64(st.Size), ino: st.Ino, mtimeNanos: st.Mtim.Nano()}); id != info.verifiedID {
		return nil, nil, fmt.Errorf("saved state %s changed since it was checked", s.statePath())
	}
	cfg := s.cfg
	cfg.QMP = ln.Path
	cfg.Incoming = "fd:3"
	cfg.Files = []*os.File{f}
	m, err := qemu.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, nil, err
	}
	var qc *qmp.Client
	ok := false
	defer func() {
		if !ok {
			m.Kill()
			m.Wait()
			if qc != nil {
				qc.Close()
			}
		}
	}()
	if qc, err = accept(ctx, ln, m); err != nil {
		return nil, nil, err
	}
	if err := waitPaused(ctx, qc, m); err != nil {
		return nil, nil, err
	}
	rt.Loaded = time.Since(m.Started).Seconds()
	if err := qc.Cont(ctx); err != nil {
		return nil, nil, err
	}
	seed := make([]byte, marker.MinSeed)
	if _, err := randRead(seed); err != nil {
		return nil, nil, fmt.Errorf("entropy for the guest: %w", err)
	}
	line := marker.Resume{Orders: s.plan.Opts.orders(), Seed: seed, Now: time.Now()}.Line()
	if len(line) >= maxConsoleLine {
		return nil, nil, fmt.Errorf("the run's orders take %d bytes, a console line holds %d: shorten the arguments or --env", len(line), maxConsoleLine-1)
	}
	if _, err := io.WriteString(m.Input, line+"\n"); err != nil {
		return nil, nil, fmt.Errorf("sending the run's orders: %w", err)
	}
	var kept []qemu.Chunk
	if err := waitMarker(ctx, m, marker.Init, restoreTimeout, &kept); err != nil {
		return nil, nil, fmt.Errorf("the restored guest did not take its orders: %w", err)
	}
	rt.Resumed = time.Since(m.Started).Seconds()
	m.Console = replay(kept, m.Console)
	ok = true
	return m, qc, nil
}

// waitPaused polls until the incoming state is loaded.
func waitPaused(ctx context.Context, qc *qmp.Client, m *qemu.Machine) error {
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	for {
		st, err := qc.Status(ctx)
		if err != nil {
			m.Kill()
			return fmt.Errorf("loading the saved state: %w; qemu said: %s", err, firstLine(m.Wait().Stderr))
		}
		switch st.Status {
		case "paused", "postmigrate":
			return nil
		case "inmigrate", "prelaunch":
		default:
			return fmt.Errorf("loading the saved state: VM %s", st.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loading the saved state: still %s after %v", st.Status, restoreTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// replay is a console that yields kept, then the rest of src.
func replay(kept []qemu.Chunk, src <-chan qemu.Chunk) <-chan qemu.Chunk {
	out := make(chan qemu.Chunk, 256)
	go func() {
		defer close(out)
		for _, c := range kept {
			out <- c
		}
		for c := range src {
			out <- c
		}
	}()
	return out
}

// start starts one run's qemu from the saved state, its monitor connected to
// ln. It returns nil and the reason when the run must boot instead; a failed
// restore discards the state so that the next run saves a new one, and a
// second failure turns snapshots off for the plan.
func (s *snapshotter) start(ctx context.Context, ln *qmp.Listener) (*qemu.Machine, *qmp.Client, string, string) {
	info, err := s.state(ctx)
	if err != nil {
		why := "no saved state: " + err.Error()
		s.mu.Lock()
		if !s.offLogged {
			s.offLogged = true
			s.logf("snapshot: %s; runs boot instead", why)
		}
		s.mu.Unlock()
		return nil, nil, "", why
	}
	m, qc, rt, err := s.restore(ctx, info, ln)
	if err == nil {
		return m, qc, fmt.Sprintf("restored from saved state %s (%.1f MB, saved %s; the command reads it as fd 3: 3<%s): loaded %.2fs, guest resumed %.2fs after qemu started",
			info.Key[:12], float64(info.Size)/1e6, info.Saved.Format(time.RFC3339), s.statePath(), rt.Loaded, rt.Resumed), ""
	}
	why := "restore failed: " + err.Error()
	if ctx.Err() != nil {
		return nil, nil, "", why // interrupted: not the state's fault
	}
	s.logf("snapshot: %s; booting this run instead", why)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures++
	if s.ready == info {
		s.drop()
	}
	if s.failures >= 2 && s.off == "" {
		s.off = fmt.Sprintf("%d restores failed, the last: %v", s.failures, err)
	}
	return nil, nil, "", why
}
