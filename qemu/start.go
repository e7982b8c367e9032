package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// A Chunk is console output as one read returned it, with its arrival
// time on the host.
type Chunk struct {
	Data []byte
	At   time.Time
}

// A Machine is a running qemu.
type Machine struct {
	Started time.Time
	Argv    []string
	// Console delivers the guest's serial output in order, without loss,
	// and is closed at end of output.
	Console <-chan Chunk
	// Input writes to the guest's serial console when Config.Input was
	// set (nil otherwise); what is written waits in the pipe until the
	// guest's UART takes it.
	Input io.WriteCloser

	cmd      *exec.Cmd
	stderr   *Capped
	waitOnce sync.Once
	exit     Exit
	killed   chan struct{}
	killOnce sync.Once
}

// An Exit says how qemu ended.
type Exit struct {
	Code     int    // exit status; -1 when killed by a signal
	Signal   string // the signal that ended it, if any
	KilledBy bool   // true when Kill ended it
	Stderr   string // what qemu printed on stderr (capped)
	Wall     time.Duration
}

// StderrCap bounds what is kept of qemu's own messages.
const StderrCap = 64 << 10

// pipeSize is asked of the kernel for the console pipe, so that a guest
// printing in bursts never waits on the host.
const pipeSize = 1 << 20

// Start starts the guest. The process runs in its own process group and
// dies with crashrig (Pdeathsig); cancelling ctx kills the group.
func Start(ctx context.Context, c Config) (*Machine, error) {
	argv := c.Argv()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w (Debian: apt-get install qemu-system-x86)", argv[0], err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(r)
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Args[0] = argv[0]
	m := &Machine{Argv: argv, cmd: cmd, stderr: &Capped{Max: StderrCap}, killed: make(chan struct{})}
	cmd.Stdin = nil // /dev/null: the batch console takes no input
	var in *os.File
	if c.Input {
		ir, iw, err := os.Pipe()
		if err != nil {
			r.Close()
			w.Close()
			return nil, err
		}
		cmd.Stdin, m.Input, in = ir, iw, ir
	}
	cmd.Stdout = w
	cmd.ExtraFiles = c.Files
	cmd.Stderr = m.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	m.Started = time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		if in != nil {
			in.Close()
			m.Input.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	w.Close()
	if in != nil {
		in.Close()
	}
	ch := make(chan Chunk, 256)
	m.Console = ch
	go readConsole(r, ch)
	return m, nil
}

// readConsole forwards every read to ch and closes it at EOF.
func readConsole(r *os.File, ch chan<- Chunk) {
	defer close(ch)
	defer r.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			ch <- Chunk{Data: bytes.Clone(buf[:n]), At: time.Now()}
		}
		if err != nil {
			return
		}
	}
}

// Kill stops the guest's whole process group at once. It is safe to call
// more than once and after qemu has exited.
func (m *Machine) Kill() {
	m.killOnce.Do(func() {
		close(m.killed)
		if m.cmd.Process != nil {
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
}

// Wait waits for qemu to end and says how. It may be called repeatedly.
func (m *Machine) Wait() Exit {
	m.waitOnce.Do(func() {
		err := m.cmd.Wait()
		if m.Input != nil {
			m.Input.Close()
		}
		m.exit = Exit{Code: m.cmd.ProcessState.ExitCode(), Wall: time.Since(m.Started), Stderr: m.stderr.String()}
		if ws, ok := m.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			m.exit.Signal = ws.Signal().String()
		}
		select {
		case <-m.killed:
			m.exit.KilledBy = true
		default:
		}
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
			m.exit.Stderr += "\n" + err.Error()
		}
	})
	return m.exit
}

// StderrSoFar returns what qemu has printed on stderr until now (capped), while it
// runs: a KVM that fails under the guest says so there and leaves qemu paused.
func (m *Machine) StderrSoFar() string { return m.stderr.String() }

// A Capped is an io.Writer that keeps the first Max bytes written to it
// and drops the rest, for what qemu prints on stderr. It is safe for
// concurrent use.
type Capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	Max int
}

func (c *Capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.Max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String returns what was kept.
func (c *Capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

var _ io.Writer = (*Capped)(nil)

func growPipe(f *os.File) {
	const fSetPipeSz = 1031
	syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSz, pipeSize)
}
