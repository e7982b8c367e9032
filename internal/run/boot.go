package run

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crashrig/crashrig/internal/console"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
	"github.com/crashrig/crashrig/qemu"
	"github.com/crashrig/crashrig/qemu/qmp"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// LogCap bounds the console log kept per run; what comes after is counted
// but not stored, and the Result says so.
const LogCap = 64 << 20

// Run prepares and boots once.
func Run(ctx context.Context, o Options) (*record.Run, error) {
	p, err := Prepare(ctx, o)
	if err != nil {
		return nil, err
	}
	return p.Boot(ctx)
}

// NewID returns a run id: sortable by time, unique across hosts.
func NewID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// A Control lets another goroutine end a running boot early: once the
// reproducer has run for the given number of seconds, the VM is stopped
// and the run counts as a clean run of that length. It is how a
// sequential comparison stops a run whose outcome no longer matters.
type Control struct {
	stopAt atomic.Uint64 // math.Float64bits of seconds; 0 = run to the end
}

// StopAt asks the boot to end once the reproducer has run s seconds.
func (c *Control) StopAt(s float64) { c.stopAt.Store(math.Float64bits(s)) }

func (c *Control) at() float64 {
	if c == nil {
		return 0
	}
	return math.Float64frombits(c.stopAt.Load())
}

// Boot runs the guest once and decides the verdict.
func (p *Plan) Boot(ctx context.Context) (*record.Run, error) { return p.BootControlled(ctx, nil) }

// BootControlled is Boot with a Control (nil = none).
func (p *Plan) BootControlled(ctx context.Context, ctl *Control) (*record.Run, error) {
	o := p.Opts
	now := time.Now()
	res := &record.Run{ID: NewID(now), Start: now, Kernel: p.Kernel, Reproducer: o.Repro.Name(), ReproArgs: o.Repro.Args,
		Duration: o.Duration.Seconds(), SMP: o.SMP, Memory: o.Memory, Cmdline: p.Qemu.Append,
		Initramfs: p.Initramfs, InitramfsID: p.InitramfsID, QemuVersion: p.QemuVersion, AccelNote: p.AccelNote, Env: o.Env}
	res.Host, _ = os.Hostname()
	cfg := p.Qemu.Defaults()
	var mon *panicWatch
	if cfg.PVPanic {
		var err error
		if mon, err = listenPanic(); err != nil {
			return nil, err
		}
		defer mon.close()
		cfg.QMP = mon.ln.Path
	}
	res.Accel = cfg.Accel
	if cfg.Accel == "tcg" {
		res.Accel = "tcg,thread=" + cfg.TCGThread
	}
	if err := os.MkdirAll(o.LogDir, 0o700); err != nil { // console logs are private
		return nil, fmt.Errorf("log directory: %w", err)
	}
	res.Log = filepath.Join(o.LogDir, res.ID+".log")
	logf, err := os.OpenFile(res.Log, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console log: %w", err)
	}
	defer logf.Close()

	var m *qemu.Machine
	var qc *qmp.Client // the restore's monitor session, which pvpanic's watch takes over
	if p.snap != nil {
		var ln *qmp.Listener
		if mon != nil {
			ln = mon.ln
		} else {
			if ln, err = qmp.Listen(""); err != nil {
				return nil, err
			}
			defer ln.Close()
		}
		var why string
		if m, qc, res.Snapshot, why = p.snap.start(ctx, ln); m == nil {
			res.Snapshot = "booted: " + why
		} else if mon == nil {
			qc.Close()
			qc = nil
		}
	}
	if m == nil {
		if m, err = qemu.Start(context.WithoutCancel(ctx), cfg); err != nil {
			return nil, err
		}
	}
	res.QemuArgv = m.Argv
	res.QemuShell = qemu.ShellQuote(res.QemuArgv)
	w := &watch{plan: p, m: m, log: logf, stream: console.NewStream(), ctl: ctl, panics: mon.start(m, qc)}
	stop := w.loop(ctx)
	if stop != verdict.StopNone {
		m.Kill()
	}
	ex := m.Wait()
	if s := strings.TrimSpace(ex.Stderr); s != "" {
		// Keep qemu's own words with the console: the stored log is what a user reads.
		fmt.Fprintf(logf, "\n[crashrig: qemu's stderr]\n%s\n", s)
	}
	// Why crashrig ended the VM, so that the log alone gives the same verdict offline.
	panicked, panicAt := mon.result(w)
	tr := verdict.Trailer{Stop: stop, StoppedAt: ctl.at(), HangTimeout: o.HangTimeout, Iterations: o.Iterations,
		PVPanic: panicked, BootTimeout: o.BootTimeout}
	if stop == verdict.StopNone {
		tr.QemuCode, tr.QemuSignal = ex.Code, ex.Signal
	}
	io.WriteString(logf, "\n"+tr.Format())
	res.Timeline = w.times
	res.Timeline.QemuExited = ex.Wall.Seconds()
	res.Wall, res.QemuExit, res.QemuStderr = ex.Wall.Seconds(), ex.Code, ex.Stderr
	res.LogBytes, res.LogCapped = w.bytes, w.bytes > LogCap

	cres := w.stream.Close()
	ev := verdict.Evidence{
		Markers: w.markers, Console: cres, ReportHost: w.hostAt, CrashHost: w.times.CrashLine,
		QemuCode: ex.Code, QemuSignal: ex.Signal, QemuStderr: ex.Stderr, Stop: stop,
		HangTimeout: o.HangTimeout, BootTimeout: o.BootTimeout, OutputBytes: w.bytes,
		Iterations: o.Iterations, KVM: cfg.Accel == "kvm", KVMBroken: p.kvmBroken, StoppedAt: ctl.at(),
		PVPanic: panicked, PVPanicHost: panicAt,
	}
	if stop != verdict.StopNone {
		// Our own kill is not qemu failing.
		ev.QemuSignal, ev.QemuCode = "", 0
	}
	res.Outcome = verdict.Decide(ev)
	if r := res.Outcome.Report; r != nil {
		res.Text = r.Text
	}
	for _, r := range cres.Reports {
		if res.Outcome.Report == nil || r != res.Outcome.Report {
			res.Secondary = append(res.Secondary, r.Title)
		}
	}
	for _, mk := range w.markers {
		if mk.Name == marker.Info {
			for _, f := range mk.Fields {
				res.Info = append(res.Info, record.InfoItem{Key: f.Key, Value: f.Value})
			}
		}
	}
	return res, nil
}

// watch follows one boot's console.
type watch struct {
	plan      *Plan
	m         *qemu.Machine
	log       *os.File
	stream    *console.Stream
	ctl       *Control
	panics    <-chan time.Time // GUEST_PANICKED events (nil without pvpanic)
	panicAt   float64          // host seconds of the first one (0 = none)
	bytes     int64
	markers   []verdict.Marker
	chunks    []chunkTime // see noteChunk
	chunkStep float64
	times     record.Timeline

	started     bool      // a start marker arrived
	lastSign    time.Time // last marker of any kind
	iterStart   time.Time // host time of the current iteration's start
	exits       int
	crashUntil  time.Time // end of the grace after a crash line
	doneUntil   time.Time // the guest is done; wait this long for qemu to exit
	kvmSilentAt time.Time // forced KVM: give up on silence at this time
}

type chunkTime struct {
	off int64
	at  float64
}

// The serial console arrives in reads of a few bytes each under a flood, so the
// offset → arrival-time map is coalesced: a chunk that arrives within chunkStep of the
// last one kept adds nothing, and past maxChunks entries every other one is dropped and
// the step doubles. hostAt then answers to within the step (1 ms at first), and the map
// never holds more than maxChunks entries however long the run.
const (
	firstChunkStep = 0.001 // seconds
	maxChunks      = 1 << 15
)

// noteChunk records that the console bytes from c.off on arrived at c.at.
func (w *watch) noteChunk(c chunkTime) {
	if w.chunkStep == 0 {
		w.chunkStep = firstChunkStep
	}
	if n := len(w.chunks); n > 0 && c.at-w.chunks[n-1].at < w.chunkStep {
		return
	}
	if len(w.chunks) >= maxChunks {
		kept := w.chunks[:0]
		for i := 0; i < len(w.chunks); i += 2 {
			kept = append(kept, w.chunks[i])
		}
		w.chunks = kept
		w.chunkStep *= 2
	}
	w.chunks = append(w.chunks, c)
}

func (w *watch) since(t time.Time) float64 { return t.Sub(w.m.Started).Seconds() }

// hostAt maps a log offset to the host time its chunk arrived.
func (w *watch) hostAt(off int64) float64 {
	i := sort.Search(len(w.chunks), func(i int) bool { return w.chunks[i].off > off })
	if i == 0 {
		return 0
	}
	return w.chunks[i-1].at
}

// loop reads the console until qemu ends or the outcome is known, and says
// why it stopped.
func (w *watch) loop(ctx context.Context) verdict.Stop {
	o := w.plan.Opts
	w.lastSign = w.m.Started
	if w.plan.Qemu.Accel == "kvm" {
		w.kvmSilentAt = w.m.Started.Add(10 * time.Second)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		deadline, why := w.nextDeadline(o)
		if w.ctl != nil && time.Until(deadline) > 500*time.Millisecond {
			// A Control may ask for an earlier stop at any time.
			deadline, why = time.Now().Add(500*time.Millisecond), ""
		}
		if w.plan.Qemu.Accel == "kvm" && time.Until(deadline) > 500*time.Millisecond {
			// A KVM that fails under the guest prints its error and pauses qemu: with the
			// console silent, look at stderr twice a second rather than wait out the boot
			// timeout (below, when the timer fires).
			deadline, why = time.Now().Add(500*time.Millisecond), ""
		}
		timer.Reset(time.Until(deadline))
		select {
		case <-ctx.Done():
			w.times.Decided = w.since(time.Now())
			return verdict.StopInterrupted
		case at := <-w.panics:
			w.notePanic(at)
		case ch, ok := <-w.m.Console:
			if !ok {
				w.times.Decided = w.since(time.Now())
				return verdict.StopNone
			}
			if stop, done := w.consume(ch); done {
				w.times.Decided = w.since(time.Now()) // after the chunk was parsed
				return stop
			}
		case <-timer.C:
			if w.plan.Qemu.Accel == "kvm" && kvmStalled(w.m.StderrSoFar()) {
				w.times.Decided = w.since(time.Now())
				return verdict.StopHostFault
			}
			if why == "" {
				continue
			}
			if why == "kvm-silent" {
				w.plan.kvmBroken = w.probeKVM(ctx)
				if w.plan.kvmBroken == "" {
					w.kvmSilentAt = time.Time{}
					continue
				}
				why = verdict.StopBootTimeout
			}
			w.times.Decided = w.since(time.Now())
			return why
		}
	}
}

// kvmStalled reports whether qemu's stderr says KVM failed under the guest.
func kvmStalled(stderr string) bool {
	return strings.Contains(stderr, "KVM internal error") || strings.Contains(stderr, "emulation failure")
}

// nextDeadline is the earliest instant at which silence decides the run.
func (w *watch) nextDeadline(o Options) (time.Time, verdict.Stop) {
	type dl struct {
		t   time.Time
		why verdict.Stop
	}
	var c []dl
	if !w.crashUntil.IsZero() {
		c = append(c, dl{w.crashUntil, verdict.StopCrash})
	}
	if !w.doneUntil.IsZero() {
		c = append(c, dl{w.doneUntil, verdict.StopDone})
	}
	if !w.started {
		c = append(c, dl{w.m.Started.Add(o.BootTimeout), verdict.StopBootTimeout})
		if !w.kvmSilentAt.IsZero() && w.bytes == 0 {
			c = append(c, dl{w.kvmSilentAt, "kvm-silent"})
		}
	} else if w.doneUntil.IsZero() {
		c = append(c, dl{w.lastSign.Add(o.HangTimeout), verdict.StopHang})
		if o.Duration > 0 {
			c = append(c, dl{w.iterStart.Add(o.Duration + max(15*time.Second, o.Duration/5)), verdict.StopOverrun})
		}
		if at := w.ctl.at(); at > 0 && o.Iterations == 1 {
			c = append(c, dl{w.iterStart.Add(time.Duration(at * float64(time.Second))), verdict.StopEarly})
		}
	}
	best := dl{time.Now().Add(time.Hour), ""}
	for _, d := range c {
		if d.t.Before(best.t) {
			best = d
		}
	}
	return best.t, best.why
}

// consume takes one chunk of console output; done reports that the
// outcome is known and the guest can be stopped.
func (w *watch) consume(ch qemu.Chunk) (verdict.Stop, bool) {
	if room := LogCap - w.bytes; room > 0 {
		w.log.Write(ch.Data[:min(int64(len(ch.Data)), room)])
	}
	w.noteChunk(chunkTime{w.bytes, w.since(ch.At)})
	w.bytes += int64(len(ch.Data))
	w.stream.Write(ch.Data)
	lastExit := w.addMarkers(w.stream.TakeMarkers(), w.since(ch.At))
	o := w.plan.Opts
	if w.stream.CrashSeen() && w.times.CrashLine == 0 {
		w.times.CrashLine = w.since(ch.At)
		w.crashUntil = ch.At.Add(o.Grace)
	}
	if !w.crashUntil.IsZero() {
		switch {
		case lastExit && w.exits < o.Iterations:
			// The reproducer died and the guest goes on with the next
			// iteration: keep watching.
			w.crashUntil = time.Time{}
		case lastExit || w.stream.ReportComplete():
			return verdict.StopCrash, true
		}
	}
	if lastExit && w.exits >= o.Iterations {
		// Everything ran; the guest powers itself off.
		w.doneUntil = ch.At.Add(5 * time.Second)
	}
	return "", false
}

// addMarkers records new markers; it reports whether one was an exit.
func (w *watch) addMarkers(ms []marker.Event, at float64) (exit bool) {
	for _, mk := range ms {
		w.markers = append(w.markers, verdict.Marker{Event: mk, Host: at})
		t := w.m.Started.Add(time.Duration(at * float64(time.Second)))
		w.lastSign = t
		switch mk.Name {
		case marker.Init:
			w.times.Init = at
		case marker.Start:
			w.started = true
			w.iterStart = t
			if w.times.Start == 0 {
				w.times.Start = at
			}
		case marker.Exit:
			w.exits++
			exit = true
		case marker.Off:
			w.doneUntil = t.Add(3 * time.Second)
		}
	}
	return exit
}

// probeKVM explains a silent guest under forced KVM: "" when KVM works
// (so the silence is the kernel's), the evidence otherwise.
func (w *watch) probeKVM(ctx context.Context) string {
	o := w.plan.Opts
	v := qemu.KVMProbe{Binary: o.QemuBinary, Kernel: w.plan.Kernel.Path,
		CacheFile: filepath.Join(o.CacheDir, "kvm-probe.json")}.Run(ctx)
	if v.Usable {
		return ""
	}
	return v.Why
}
