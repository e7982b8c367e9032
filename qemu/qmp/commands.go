package qmp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// A Status is the reply of query-status.
type Status struct {
	Running bool   `json:"running"`
	Status  string `json:"status"` // "running", "paused", "inmigrate", "guest-panicked", "shutdown", …
}

// Status asks qemu for the VM's run state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.Execute(ctx, "query-status", nil, &s)
	return s, err
}

// Stop pauses the VM's vCPUs.
func (c *Client) Stop(ctx context.Context) error { return c.Execute(ctx, "stop", nil, nil) }

// Cont resumes the VM (also the step that starts a VM restored with
// -incoming once its state is in).
func (c *Client) Cont(ctx context.Context) error { return c.Execute(ctx, "cont", nil, nil) }

// Quit ends qemu. The connection closes as qemu exits.
func (c *Client) Quit(ctx context.Context) error { return c.Execute(ctx, "quit", nil, nil) }

// Migrate starts saving the VM's state to uri (e.g. "exec:cat > FILE");
// it returns at once: poll QueryMigrate until it completes.
func (c *Client) Migrate(ctx context.Context, uri string) error {
	return c.Execute(ctx, "migrate", map[string]string{"uri": uri}, nil)
}

// A MigrationInfo is the part of query-migrate's reply crashrig reads.
type MigrationInfo struct {
	Status    string `json:"status"`               // "active", "completed", "failed", …
	TotalTime int64  `json:"total-time,omitempty"` // milliseconds, once completed
	ErrorDesc string `json:"error-desc,omitempty"`
}

// QueryMigrate reports the state of the current or last migration.
func (c *Client) QueryMigrate(ctx context.Context) (MigrationInfo, error) {
	var m MigrationInfo
	err := c.Execute(ctx, "query-migrate", nil, &m)
	return m, err
}

// A Panic is the data of a GUEST_PANICKED event: what qemu did about it
// and, for guests that say, why the guest panicked.
type Panic struct {
	Action string          `json:"action"` // "pause", "poweroff", "run"
	Info   json.RawMessage `json:"info,omitempty"`
}

// EventGuestPanicked is the event qemu sends when a pvpanic device (or a
// Hyper-V or s390 crash notification) reports that the guest panicked.
const EventGuestPanicked = "GUEST_PANICKED"

// ParsePanic decodes a GUEST_PANICKED event's data.
func ParsePanic(ev Event) (Panic, error) {
	var p Panic
	if len(ev.Data) == 0 {
		return p, nil
	}
	err := json.Unmarshal(ev.Data, &p)
	return p, err
}

// A Listener is a unix socket that one qemu connects its monitor to.
// It lives in a private directory (mode 0700) of its own, which Close
// removes.
type Listener struct {
	Path string // the socket
	dir  string
	ln   *net.UnixListener
}

// Listen creates a private directory under parent ("" = the system's
// temporary directory) and listens on a socket in it.
func Listen(parent string) (*Listener, error) {
	dir, err := os.MkdirTemp(parent, "crashrig-qmp-") // mode 0700
	if err != nil {
		return nil, fmt.Errorf("qmp: %w", err)
	}
	path := filepath.Join(dir, "qmp.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("qmp: %w", err)
	}
	return &Listener{Path: path, dir: dir, ln: ln}, nil
}

// Args returns the qemu arguments that connect a QMP monitor to l.
func (l *Listener) Args() []string {
	return []string{"-chardev", "socket,id=qmp,path=" + l.Path, "-mon", "chardev=qmp,mode=control"}
}

// Accept waits for qemu to connect and negotiates the session; ctx
// bounds the wait and the handshake.
func (l *Listener) Accept(ctx context.Context) (*Client, error) {
	stop := context.AfterFunc(ctx, func() { l.ln.Close() })
	conn, err := l.ln.Accept()
	if !stop() {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("qmp: waiting for qemu to connect: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("qmp: waiting for qemu to connect: %w", err)
	}
	return NewClient(ctx, conn)
}

// Close stops listening and removes the socket and its directory. A
// Client already accepted stays connected.
func (l *Listener) Close() error {
	err := l.ln.Close()
	if rerr := os.RemoveAll(l.dir); err == nil {
		err = rerr
	}
	return err
}
