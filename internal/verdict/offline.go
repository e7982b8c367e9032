package verdict

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/console"
)

// A Trailer is the last line crashrig writes to a run's console log: why it ended the
// VM and the settings the verdict depends on, so that the log alone gives the same
// verdict offline (FromLog) as the run gave live. A hang, for one, is crashrig stopping a
// guest whose heartbeats stopped; nothing in the guest's own output says so.
type Trailer struct {
	Stop        Stop
	StoppedAt   float64       // with StopEarly: reproducer seconds
	HangTimeout time.Duration // as configured
	Iterations  int           // iterations asked for
	PVPanic     bool          // qemu's pvpanic device reported a guest panic
	BootTimeout time.Duration // as configured
	QemuCode    int           // qemu's exit status when it ended by itself (-1: a signal)
	QemuSignal  string        // the signal that ended qemu, when it ended by itself
}

// trailerPrefix starts the trailer line; the console parser reads it as plain text.
const trailerPrefix = "[crashrig: end"

// Format returns the trailer line, newline included.
func (t Trailer) Format() string {
	stop := string(t.Stop)
	if stop == "" {
		stop = "none"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s stop=%s stopped_at=%g hang_timeout=%g iterations=%d", trailerPrefix, stop,
		t.StoppedAt, t.HangTimeout.Seconds(), t.Iterations)
	if t.PVPanic {
		b.WriteString(" pvpanic=1")
	}
	if t.BootTimeout > 0 {
		fmt.Fprintf(&b, " boot_timeout=%g", t.BootTimeout.Seconds())
	}
	if t.QemuCode != 0 {
		fmt.Fprintf(&b, " qemu_exit=%d", t.QemuCode)
	}
	if t.QemuSignal != "" {
		fmt.Fprintf(&b, " qemu_signal=%s", strings.ReplaceAll(t.QemuSignal, " ", "_"))
	}
	b.WriteString("]\n")
	return b.String()
}

// ParseTrailer finds the last trailer line in a console log.
func ParseTrailer(log []byte) (Trailer, bool) {
	i := bytes.LastIndex(log, []byte(trailerPrefix))
	if i < 0 {
		return Trailer{}, false
	}
	line := string(log[i+len(trailerPrefix):])
	line, _, _ = strings.Cut(line, "]")
	t := Trailer{Iterations: 1}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "stop":
			if v != "none" {
				t.Stop = Stop(v)
			}
		case "stopped_at":
			t.StoppedAt, _ = strconv.ParseFloat(v, 64)
		case "hang_timeout":
			s, _ := strconv.ParseFloat(v, 64)
			t.HangTimeout = time.Duration(s * float64(time.Second))
		case "iterations":
			t.Iterations, _ = strconv.Atoi(v)
		case "pvpanic":
			t.PVPanic = v == "1"
		case "boot_timeout":
			s, _ := strconv.ParseFloat(v, 64)
			t.BootTimeout = time.Duration(s * float64(time.Second))
		case "qemu_exit":
			t.QemuCode, _ = strconv.Atoi(v)
		case "qemu_signal":
			t.QemuSignal = strings.ReplaceAll(v, "_", " ")
		}
	}
	return t, true
}

// stderrPrefix starts the section where crashrig keeps qemu's own messages,
// after the console output and before the trailer.
const stderrPrefix = "\n[crashrig: qemu's stderr]\n"

// FromLog decides a run from its stored console log alone, as crashrig parse does: the
// guest's markers, the crash reports, qemu's messages and the trailer. It returns false
// for a log that is not crashrig's (no markers and no trailer), which only the crash
// parser can read. Host arrival times are not in the log, so the host-clock
// cross-checks are zero.
func FromLog(log []byte) (Outcome, bool) {
	t, hasTrailer := ParseTrailer(log)
	// What the guest printed: the log without what crashrig appended.
	out := log
	stderr := ""
	if i := bytes.LastIndex(log, []byte(trailerPrefix)); hasTrailer {
		out = log[:max(i-1, 0)] // the trailer follows a '\n' of its own
	}
	if i := bytes.LastIndex(out, []byte(stderrPrefix)); i >= 0 && hasTrailer {
		stderr = strings.TrimSpace(string(out[i+len(stderrPrefix):]))
		out = out[:i]
	}
	res := console.Parse(out)
	if len(res.Markers) == 0 && !hasTrailer {
		return Outcome{}, false
	}
	ev := Evidence{Console: res, Iterations: 1, OutputBytes: int64(len(out)), QemuStderr: stderr}
	for _, m := range res.Markers {
		ev.Markers = append(ev.Markers, Marker{Event: m})
	}
	if hasTrailer {
		ev.Stop, ev.StoppedAt, ev.HangTimeout, ev.Iterations = t.Stop, t.StoppedAt, t.HangTimeout, t.Iterations
		ev.PVPanic, ev.BootTimeout, ev.QemuCode, ev.QemuSignal = t.PVPanic, t.BootTimeout, t.QemuCode, t.QemuSignal
	}
	o := Decide(ev)
	if !hasTrailer && o.Family == "kernel-reboot" {
		// A log with no trailer (written by an older crashrig, or cut short) does not
		// say whether crashrig stopped the guest: do not guess a reboot.
		return Outcome{}, false
	}
	return o, true
}
