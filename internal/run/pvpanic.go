package run

import (
	"context"
	"sync"
	"time"

	"github.com/crashrig/crashrig/qemu"
	"github.com/crashrig/crashrig/qemu/qmp"
)

// A panicWatch listens on qemu's QMP monitor for GUEST_PANICKED, the event
// qemu's pvpanic device raises when the guest kernel panics: a second
// crash signal beside the console, which a panic under `quiet`, a muted
// or broken console or a flooded one cannot hide.
type panicWatch struct {
	ln   *qmp.Listener
	ch   chan time.Time // arrival of each GUEST_PANICKED
	done chan struct{}  // closed when the session has ended

	mu     sync.Mutex
	client *qmp.Client
	first  time.Time // arrival of the first GUEST_PANICKED
	err    error     // why no session was established
}

// listenPanic opens the monitor socket in a private directory.
func listenPanic() (*panicWatch, error) {
	ln, err := qmp.Listen("")
	if err != nil {
		return nil, err
	}
	return &panicWatch{ln: ln, ch: make(chan time.Time, 4), done: make(chan struct{})}, nil
}

// start accepts qemu's connection in the background, or takes over c when
// the session is open already (a restored run's), and reports each
// GUEST_PANICKED on the returned channel (nil for a nil watch).
func (p *panicWatch) start(m *qemu.Machine, c *qmp.Client) <-chan time.Time {
	if p == nil {
		return nil
	}
	go func() {
		defer close(p.done)
		var err error
		if c == nil {
			// qemu connects while it starts, before the guest runs; close
			// ends the wait early when qemu never does.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			c, err = p.ln.Accept(ctx)
			cancel()
		}
		p.mu.Lock()
		p.client, p.err = c, err
		p.mu.Unlock()
		if err != nil {
			return
		}
		for ev := range c.Events() {
			if ev.Name != qmp.EventGuestPanicked {
				continue
			}
			now := time.Now()
			p.mu.Lock()
			if p.first.IsZero() {
				p.first = now
			}
			p.mu.Unlock()
			select {
			case p.ch <- now:
			default:
			}
		}
	}()
	return p.ch
}

// result waits briefly for the session to end after qemu did (an event
// qemu sent just before exiting may still be in flight) and says whether
// the guest panicked and when, in host seconds since qemu started.
func (p *panicWatch) result(w *watch) (bool, float64) {
	if p == nil {
		return false, 0
	}
	p.mu.Lock()
	connected := p.client != nil
	p.mu.Unlock()
	if connected {
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first.IsZero() {
		return false, 0
	}
	return true, w.since(p.first)
}

// close ends the session and removes the socket and its directory.
func (p *panicWatch) close() {
	if p == nil {
		return
	}
	p.ln.Close() // also ends a pending Accept
	p.mu.Lock()
	c := p.client
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// notePanic takes a GUEST_PANICKED event during the run: a crash the
// console may never show, so the grace for the rest of the report starts
// now, as it does at a crash line.
func (w *watch) notePanic(at time.Time) {
	if w.panicAt == 0 {
		w.panicAt = w.since(at)
	}
	if w.crashUntil.IsZero() {
		w.crashUntil = at.Add(w.plan.Opts.Grace)
	}
}
