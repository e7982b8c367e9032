// Package qmp is a small client for the QEMU Machine Protocol: JSON
// commands and replies, and asynchronous events, over a unix socket.
//
// A Client comes either from Dial (qemu was started with
// `-qmp unix:PATH,server=on,wait=off` and listens) or from a Listener
// (crashrig listens first and qemu connects to it with
// `-chardev socket,id=ID,path=PATH -mon chardev=ID,mode=control`, which
// leaves no window in which qemu runs without its monitor connected; see
// Listener.Args). Either way the greeting is read and capabilities are
// negotiated before the Client is returned.
//
// Execute runs one command and decodes its "return" value; replies are
// matched to commands by id, so several goroutines may execute at once.
// Events are queued without bound and never block the replies: read them
// from Events, or wait for one with WaitEvent. The typed helpers (Status,
// Stop, Cont, Migrate, QueryMigrate, Quit) cover what crashrig uses: run
// state, pvpanic's GUEST_PANICKED event and saving or restoring a VM.
//
// Out of scope: starting qemu (package qemu) and the out-of-band
// execution and file-descriptor passing parts of the protocol.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// maxMessage caps one QMP message; qemu's replies crashrig asks for are
// far smaller (query-migrate is the largest, about 1 KiB).
const maxMessage = 16 << 20

// ErrClosed is returned by commands on a closed Client or after qemu
// closed the connection.
var ErrClosed = errors.New("qmp: connection closed")

// An Error is a command's error reply.
type Error struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *Error) Error() string { return "qmp: " + e.Class + ": " + e.Desc }

// An Event is an asynchronous message from qemu.
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data,omitempty"`
	// Time is qemu's timestamp of the event (host clock).
	Time time.Time `json:"-"`
}

// A Greeting is what qemu says on connection.
type Greeting struct {
	Version struct {
		Qemu struct {
			Major int `json:"major"`
			Minor int `json:"minor"`
			Micro int `json:"micro"`
		} `json:"qemu"`
		Package string `json:"package"`
	} `json:"version"`
	Capabilities []string `json:"capabilities"`
}

// A Client is a connected, negotiated QMP session.
type Client struct {
	Greeting Greeting

	conn   net.Conn
	wmu    sync.Mutex // serialises writes
	mu     sync.Mutex // guards the fields below
	nextID int
	wait   map[string]chan reply
	queue  []Event       // events not yet delivered to events
	wake   chan struct{} // a new event or the end
	err    error         // why the connection ended
	done   chan struct{} // closed when the connection ends
	events chan Event
}

type reply struct {
	Return json.RawMessage `json:"return"`
	Error  *Error          `json:"error"`
	ID     string          `json:"id"`
}

// message is any line qemu sends.
type message struct {
	QMP       *Greeting       `json:"QMP"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp *struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
	Return json.RawMessage `json:"return"`
	Error  *Error          `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// Dial connects to a qemu listening on a unix socket, retrying until the
// socket accepts or ctx ends (qemu creates it a few milliseconds after
// it starts).
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return NewClient(ctx, conn)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("qmp: connecting to %s: %w", path, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// NewClient takes over conn, reads qemu's greeting and negotiates
// capabilities; ctx bounds the handshake. On error conn is closed.
func NewClient(ctx context.Context, conn net.Conn) (*Client, error) {
	c := &Client{conn: conn, wait: map[string]chan reply{}, wake: make(chan struct{}, 1),
		done: make(chan struct{}), events: make(chan Event)}
	r := bufio.NewReaderSize(conn, 64<<10)
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	var m message
	err := readMessage(r, &m)
	stop()
	conn.SetReadDeadline(time.Time{})
	if err != nil || m.QMP == nil {
		conn.Close()
		if err == nil {
			err = fmt.Errorf("no greeting")
		}
		return nil, fmt.Errorf("qmp: reading greeting: %w", err)
	}
	c.Greeting = *m.QMP
	go c.read(r)
	go c.deliver()
	if err := c.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("qmp: negotiating capabilities: %w", err)
	}
	return c, nil
}

// readMessage reads one '\n'-terminated JSON message.
func readMessage(r *bufio.Reader, m *message) error {
	var line []byte
	for {
		part, isPrefix, err := r.ReadLine()
		if err != nil {
			return err
		}
		line = append(line, part...)
		if len(line) > maxMessage {
			return fmt.Errorf("message longer than %d bytes", maxMessage)
		}
		if !isPrefix {
			break
		}
	}
	*m = message{}
	return json.Unmarshal(line, m)
}

// read dispatches qemu's messages until the connection ends.
func (c *Client) read(r *bufio.Reader) {
	var err error
	for {
		var m message
		if err = readMessage(r, &m); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				continue // not JSON: skip the line
			}
			break
		}
		switch {
		case m.Event != "":
			ev := Event{Name: m.Event, Data: m.Data}
			if m.Timestamp != nil {
				ev.Time = time.Unix(m.Timestamp.Seconds, m.Timestamp.Microseconds*1000)
			}
			c.mu.Lock()
			c.queue = append(c.queue, ev)
			c.mu.Unlock()
			select {
			case c.wake <- struct{}{}:
			default:
			}
		case m.ID != nil:
			var id string
			json.Unmarshal(m.ID, &id)
			c.mu.Lock()
			ch := c.wait[id]
			delete(c.wait, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- reply{Return: m.Return, Error: m.Error, ID: id}
			}
		}
	}
	c.mu.Lock()
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = ErrClosed
	}
	c.err = err
	for id, ch := range c.wait {
		close(ch)
		delete(c.wait, id)
	}
	c.mu.Unlock()
	close(c.done)
}

// deliver moves queued events to the events channel, in order, and
// closes it once the connection has ended and the queue is empty.
func (c *Client) deliver() {
	defer close(c.events)
	for {
		c.mu.Lock()
		var ev Event
		have := len(c.queue) > 0
		if have {
			ev = c.queue[0]
			c.queue = c.queue[1:]
		}
		c.mu.Unlock()
		if !have {
			select {
			case <-c.wake:
				continue
			case <-c.done:
				c.mu.Lock()
				empty := len(c.queue) == 0
				c.mu.Unlock()
				if empty {
					return
				}
				continue
			}
		}
		c.events <- ev
	}
}

// Events delivers qemu's events in order; it is closed after the
// connection ends and every event was delivered. Events wait in an
// unbounded queue until read; a Client whose events nobody reads keeps
// them all (qemu sends a handful per run).
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Execute runs cmd with args (nil for none) and decodes the reply's
// "return" value into ret (nil to ignore it). A command qemu rejects
// returns an *Error.
func (c *Client) Execute(ctx context.Context, cmd string, args, ret any) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	c.nextID++
	id := strconv.Itoa(c.nextID)
	ch := make(chan reply, 1)
	c.wait[id] = ch
	c.mu.Unlock()

	req := struct {
		Execute   string `json:"execute"`
		Arguments any    `json:"arguments,omitempty"`
		ID        string `json:"id"`
	}{cmd, args, id}
	b, err := json.Marshal(req)
	if err != nil {
		c.forget(id)
		return fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	c.wmu.Lock()
	_, err = c.conn.Write(append(b, '\n'))
	c.wmu.Unlock()
	if err != nil {
		c.forget(id)
		return fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	select {
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("qmp: %s: %w", cmd, ctx.Err())
	case rep, ok := <-ch:
		if !ok {
			return fmt.Errorf("qmp: %s: %w", cmd, ErrClosed)
		}
		if rep.Error != nil {
			return rep.Error
		}
		if ret != nil && len(rep.Return) > 0 {
			if err := json.Unmarshal(rep.Return, ret); err != nil {
				return fmt.Errorf("qmp: %s: decoding reply: %w", cmd, err)
			}
		}
		return nil
	}
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.wait, id)
	c.mu.Unlock()
}

// WaitEvent returns the next event named name, discarding the events
// before it; it fails when ctx ends or the connection ends first. It
// reads from Events, so it must not run beside another reader of Events.
func (c *Client) WaitEvent(ctx context.Context, name string) (Event, error) {
	for {
		select {
		case <-ctx.Done():
			return Event{}, fmt.Errorf("qmp: waiting for %s: %w", name, ctx.Err())
		case ev, ok := <-c.events:
			if !ok {
				return Event{}, fmt.Errorf("qmp: waiting for %s: %w", name, ErrClosed)
			}
			if ev.Name == name {
				return ev, nil
			}
		}
	}
}

// Close ends the session. It does not stop qemu (Quit does).
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}
