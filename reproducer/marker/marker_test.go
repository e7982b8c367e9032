package marker

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
	}{
		{Init, []string{"up", "1.734211", "kernel", "6.1.0-56-cloud-amd64", "ncpu", "2"}},
		{Fail, []string{"title", "vdso: stack footprint 4160 bytes exceeds 104"}},
		{Info, []string{"odd key", "a=b#c%d\te\x01"}},
		{Off, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := Format(tt.name, tt.kv...)
			ev, st := Parse([]byte("\x1bc\x1b[2Jjunk before " + line + "\r"))
			if st != OK {
				t.Fatalf("Parse(%q) status %v, want OK", line, st)
			}
			var want []Field
			for i := 0; i < len(tt.kv); i += 2 {
				want = append(want, Field{tt.kv[i], tt.kv[i+1]})
			}
			if diff := cmp.Diff(Event{Name: tt.name, Fields: want}, ev); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	good := Format(Beat, "it", "0", "up", "3.100201", "el", "1.000123")
	tests := map[string]string{
		"interleaved printk": good[:20] + "[    3.1] random: crng init done" + good[20:],
		"truncated":          good[:len(good)-3],
		"no checksum":        Prefix + "hb it=0",
		"bad hex":            good[:len(good)-8] + "zzzzzzzz",
		"flipped byte":       good[:15] + "X" + good[16:],
	}
	for name, line := range tests {
		if _, st := Parse([]byte(line)); st != Corrupt {
			t.Errorf("%s: Parse(%q) = %v, want Corrupt", name, line, st)
		}
	}
	if _, st := Parse([]byte("[    1.0] Run /init as init process")); st != None {
		t.Errorf("plain kernel line: got %v, want None", st)
	}
}

func TestGetters(t *testing.T) {
	ev, _ := Parse([]byte(Format(Exit, "it", "2", "el", "4.5", "how", "signal", "sig", "SIGSEGV")))
	if v, ok := ev.Int("it"); !ok || v != 2 {
		t.Errorf("Int(it) = %v, %v", v, ok)
	}
	if v, ok := ev.Float("el"); !ok || v != 4.5 {
		t.Errorf("Float(el) = %v, %v", v, ok)
	}
	if _, ok := ev.Float("missing"); ok {
		t.Error("Float(missing) ok")
	}
	if ev.Get("sig") != "SIGSEGV" {
		t.Errorf("Get(sig) = %q", ev.Get("sig"))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Format(Start, "it", "0", "up", "1.5")))
	f.Add([]byte(Prefix + "x #00000000"))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, st := Parse(line)
		if st != OK {
			return
		}
		// A parsed marker must format back to a line that parses the same.
		var kv []string
		for _, fl := range ev.Fields {
			kv = append(kv, fl.Key, fl.Value)
		}
		again, st2 := Parse([]byte(Format(ev.Name, kv...)))
		if st2 != OK || !cmp.Equal(ev, again) {
			t.Fatalf("reformat of %q: %v %+v", line, st2, again)
		}
	})
}
