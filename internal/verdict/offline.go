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
}

// trailerPrefix starts the trailer line; the console parser reads it as plain text.
const trailerPrefix = "[crashrig: end"

// Format returns the trailer line, newline included.
func (t Trailer) Format() string {
	stop := string(t.Stop)
	if stop == "" {
		stop = "none"
	}
	pv := ""
	if t.PVPanic {
		pv = " pvpanic=1"
	}
	return fmt.Sprintf("%s stop=%s stopped_at=%g hang_timeout=%g iterations=%d%s]\n", trailerPrefix, stop,
		t.StoppedAt, t.HangTimeout.Seconds(), t.Iterations, pv)
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
		}
	}
	return t, true
}

// FromLog decides a run from its stored console log alone, as crashrig parse does: the
// guest's markers, the crash reports and the trailer. It returns false for a log that
// has no crashrig markers (any other console log), which only the crash parser can read.
// Host arrival times are not in the log, so the host-clock cross-checks are zero.
func FromLog(log []byte) (Outcome, bool) {
	res := console.Parse(log)
	if len(res.Markers) == 0 {
		return Outcome{}, false
	}
	ev := Evidence{Console: res, Iterations: 1}
	for _, m := range res.Markers {
		ev.Markers = append(ev.Markers, Marker{Event: m})
	}
	t, ok := ParseTrailer(log)
	if ok {
		ev.Stop, ev.StoppedAt, ev.HangTimeout, ev.Iterations = t.Stop, t.StoppedAt, t.HangTimeout, t.Iterations
		ev.PVPanic = t.PVPanic
	}
	out := Decide(ev)
	if !ok && out.Family == "kernel-reboot" {
		// A log with no trailer (written by an older crashrig, or cut short) does not
		// say whether crashrig stopped the guest: do not guess a reboot.
		return Outcome{}, false
	}
	return out, true
}
