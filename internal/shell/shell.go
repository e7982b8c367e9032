// Package shell runs a guest interactively, for crashrig shell: qemu's
// serial console sits on a pseudo-terminal (github.com/creack/pty) joined
// to the user's terminal, which is put in raw mode (golang.org/x/term) so
// that every key, Ctrl-C and Ctrl-Z included, goes to the guest.
//
// One key is kept back: the escape byte (Ctrl-], as in telnet) leaves the
// console and stops the VM. Whatever way the session ends — the escape
// key, the guest powering off, the context being cancelled — qemu's whole
// process group is killed and waited for before Run returns, and the
// terminal is restored.
//
// The window size of the user's terminal is given to the pseudo-terminal
// at the start and on every SIGWINCH. The guest's serial line has no way
// to learn about a change, so the caller passes the starting size to the
// guest itself (crashrig.tty=COLSxROWS); after a resize, `stty rows R
// cols C` (or busybox's `resize`) in the guest catches up.
package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/crashrig/crashrig/qemu"
)

// DefaultEscape is Ctrl-].
const DefaultEscape = 0x1d

// Options describe one session.
type Options struct {
	Argv    []string      // the qemu command line, its serial console on stdio
	In      *os.File      // the user's keys; put in raw mode while the guest runs when it is a terminal
	Out     io.Writer     // where the guest's console goes
	Escape  byte          // leaves the console (0 = DefaultEscape)
	Size    pty.Winsize   // console size when In is no terminal (zero = 80x24)
	Started func(pid int) // called with qemu's pid once it runs (nil = nothing)
	// Ready, when set, holds the user's input back until the console has shown it (or
	// ReadyWait has passed): bytes sent before the guest's shell reads its terminal are
	// lost, which piped input notices first.
	Ready     []byte
	ReadyWait time.Duration // 0 = 3 minutes
}

// An Exit says how a session ended.
type Exit struct {
	Left   bool   // the user pressed the escape key and crashrig stopped qemu
	Code   int    // qemu's exit status (-1 when killed)
	Stderr string // what qemu printed on stderr (capped)
}

// Run runs the session until the guest ends or the user leaves.
func Run(ctx context.Context, o Options) (Exit, error) {
	if len(o.Argv) == 0 {
		return Exit{}, errors.New("shell: no command")
	}
	if o.Escape == 0 {
		o.Escape = DefaultEscape
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		return Exit{}, fmt.Errorf("shell: opening a pseudo-terminal: %w", err)
	}
	defer ptmx.Close()
	// No output processing on qemu's side: the guest's "\r\n" must not
	// become "\r\r\n".
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		tty.Close()
		return Exit{}, fmt.Errorf("shell: %w", err)
	}
	o.resize(ptmx)
	path, err := exec.LookPath(o.Argv[0])
	if err != nil {
		tty.Close()
		return Exit{}, fmt.Errorf("shell: %w", err)
	}
	cmd := exec.Command(path, o.Argv[1:]...)
	cmd.Args[0] = o.Argv[0]
	stderr := &qemu.Capped{Max: qemu.StderrCap}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	tty.Close()
	if err != nil {
		return Exit{}, fmt.Errorf("shell: starting %s: %w", o.Argv[0], err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
		default:
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	defer func() { stop(); <-exited }()
	if o.Started != nil {
		o.Started(pid)
	}

	if o.In != nil && term.IsTerminal(int(o.In.Fd())) {
		if old, err := term.MakeRaw(int(o.In.Fd())); err == nil {
			defer term.Restore(int(o.In.Fd()), old)
		}
	}
	drained := make(chan struct{})
	ready := make(chan struct{})
	if o.Ready == nil {
		close(ready)
	}
	go func() { copyOut(o.Out, ptmx, o.Ready, ready); close(drained) }()
	leave := make(chan struct{})
	if o.In != nil {
		wait := o.ReadyWait
		if wait == 0 {
			wait = 3 * time.Minute
		}
		go func() {
			select {
			case <-ready:
			case <-time.After(wait):
			case <-exited:
			}
			copyIn(ptmx, o.In, o.Escape, leave)
		}()
		defer o.In.SetReadDeadline(time.Now()) // unblock copyIn where the file allows it
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	var ex Exit
	for done := false; !done; {
		select {
		case <-winch:
			o.resize(ptmx)
		case <-leave:
			ex.Left, done = true, true
		case <-ctx.Done():
			done = true
		case <-exited:
			done = true
		}
	}
	stop()
	<-exited
	// The console ends with EIO once qemu's side is closed; give the
	// last bytes a moment.
	select {
	case <-drained:
	case <-time.After(time.Second):
	}
	ex.Code, ex.Stderr = cmd.ProcessState.ExitCode(), stderr.String()
	return ex, nil
}

// resize gives the pseudo-terminal the size of the user's terminal.
func (o Options) resize(ptmx *os.File) {
	if o.In != nil && term.IsTerminal(int(o.In.Fd())) {
		if pty.InheritSize(o.In, ptmx) == nil {
			return
		}
	}
	sz := o.Size
	if sz.Rows == 0 || sz.Cols == 0 {
		sz = pty.Winsize{Rows: 24, Cols: 80}
	}
	pty.Setsize(ptmx, &sz)
}

// copyOut copies the console to w until it ends; Linux reports the end of
// a pseudo-terminal whose other side is closed as EIO.
//
// qemu turns output processing back on for its stdio terminal, which
// makes every "\r\n" of the guest "\r\r\n"; once qemu has written (so
// it is done setting up its terminal) the pseudo-terminal goes raw again.
//
// Once the output has shown want, it closes ready (want nil: ready is closed already).
func copyOut(w io.Writer, ptmx *os.File, want []byte, ready chan<- struct{}) {
	buf := make([]byte, 32<<10)
	var seen []byte // the end of the output so far, to find want across reads
	for first := true; ; first = false {
		n, err := ptmx.Read(buf)
		if first {
			term.MakeRaw(int(ptmx.Fd()))
		}
		if n > 0 {
			w.Write(buf[:n])
			if want != nil {
				seen = append(seen, buf[:n]...)
				if bytes.Contains(seen, want) {
					close(ready)
					want, seen = nil, nil
				} else if len(seen) > len(want) {
					seen = append(seen[:0], seen[len(seen)-len(want):]...)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// copyIn copies the user's keys to the console up to the escape byte,
// then closes leave. At the end of the input it stops copying and lets
// the guest run on.
func copyIn(ptmx *os.File, in io.Reader, escape byte, leave chan<- struct{}) {
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		if i := bytes.IndexByte(buf[:n], escape); i >= 0 {
			ptmx.Write(buf[:i])
			close(leave)
			return
		}
		if n > 0 {
			if _, err := ptmx.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
