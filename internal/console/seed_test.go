package console

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// TestSeedLines checks that the seed init's plain-word lines stand for
// start and exit markers, and only in logs without crashrig's init.
func TestSeedLines(t *testing.T) {
	initM := marker.Format(marker.Init, "up", "1.5")
	tests := []struct {
		name string
		log  []string
		want []string // "name field=value ..." per marker
	}{
		{"seed pass", []string{"[    2.100000] Run /init as init process", "Starting test now...\r",
			"Starting a bunch of goroutines...", "Test exited with status 0 after 30 seconds\r"},
			[]string{"start it=0 init=seed", "exit it=0 how=exit status=0 el=30 init=seed"}},
		{"seed go crash", []string{"Starting test now...", "panic: boom", "", "goroutine 1 [running]:",
			"main.main()", "\t/src/main.go:3 +0x1d", "Test exited with status 2 after 1 seconds"},
			[]string{"start it=0 init=seed", "exit it=0 how=exit status=2 el=1 init=seed"}},
		{"near misses", []string{"Starting test now....", "echo Starting test now...", "Test exited with status x after 1 seconds",
			"Test exited with status 1 after 2 seconds!"}, nil},
		{"crashrig init present", []string{initM, "Starting test now...", "Test exited with status 0 after 3 seconds"},
			[]string{"init up=1.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse([]byte(strings.Join(tt.log, "\n") + "\n"))
			var got []string
			for _, m := range res.Markers {
				s := m.Name
				for _, f := range m.Fields {
					s += " " + f.Key + "=" + f.Value
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("markers (-want +got):\n%s", diff)
			}
		})
	}
	res := Parse([]byte("Starting test now...\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\nTest exited with status 2 after 1 seconds\n"))
	if len(res.Reports) != 1 || res.Reports[0].Kind != KindGo {
		t.Errorf("seed log with a Go panic: reports %+v, want one Go report", res.Reports)
	}
}
