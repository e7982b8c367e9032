package console

import (
	"bytes"
	"regexp"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// The seed story's init.sh (image.SeedInit) reports in plain words instead
// of markers. In a log without crashrig's own init marker its two lines
// stand for a start and an exit marker, so that the seed setup is judged
// like any other run. The events carry init=seed and no guest uptime: the
// script has none to give.
var (
	seedStart = []byte("Starting test now...")
	seedExit  = regexp.MustCompile(`^Test exited with status (\d+) after (\d+) seconds$`)
)

// seedEvent translates one line (without '\r') of the seed init.
func seedEvent(b []byte) (marker.Event, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != 'S' && b[0] != 'T' {
		return marker.Event{}, false // the common case, cheaply
	}
	if bytes.Equal(b, seedStart) {
		return marker.Event{Name: marker.Start, Fields: []marker.Field{{Key: "it", Value: "0"}, {Key: "init", Value: "seed"}}}, true
	}
	if m := seedExit.FindSubmatch(b); m != nil {
		return marker.Event{Name: marker.Exit, Fields: []marker.Field{{Key: "it", Value: "0"}, {Key: "how", Value: "exit"},
			{Key: "status", Value: string(m[1])}, {Key: "el", Value: string(m[2])}, {Key: "init", Value: "seed"}}}, true
	}
	return marker.Event{}, false
}
