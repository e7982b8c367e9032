package marker

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"
)

func seedOf(b byte) []byte { return bytes.Repeat([]byte{b}, MinSeed) }

func TestResumeRoundTrip(t *testing.T) {
	now := time.Unix(1765050000, 123456789)
	tests := []Resume{
		{Orders: Orders{Run: "go20427", Duration: time.Second, Iterations: 1, Beat: time.Second}, Seed: seedOf(7), Now: now},
		{Orders: Orders{Run: "/repro/my prog", Args: []string{"-n", "64", "a b=c", "#%", ""}, Env: []string{"X=a b", "Y=ünï"},
			Duration: 1500 * time.Millisecond, Iterations: 3, Beat: 250 * time.Millisecond, Restart: true},
			Seed: append(seedOf(0xff), 1, 2, 3), Now: time.Unix(0, 1)},
	}
	for _, r := range tests {
		line := r.Line()
		if strings.ContainsAny(line, "\n\r") {
			t.Fatalf("line %q has a line break", line)
		}
		for _, echo := range []string{"", "\x1b[0mgarbage "} {
			got, err := ParseResume(echo + line + "\r\n")
			if err != nil {
				t.Fatalf("ParseResume(%q): %v", line, err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
			}
		}
	}
}

func TestParseResumeErrors(t *testing.T) {
	good := Resume{Orders: Orders{Run: "x", Iterations: 1, Beat: time.Second}, Seed: seedOf(1), Now: time.Unix(5, 0)}
	line := good.Line()
	body := checksummed
	for _, tc := range []struct{ line, want string }{
		{"hello", "no \"crashrig-resume\""},
		{strings.TrimSuffix(line, line[len(line)-9:]), "no checksum"},
		{strings.Replace(line, "run=x", "run=y", 1), "damaged"},
		{body("crashrig.run=x crashrig.seed=00 crashrig.now=1"), "seed of 1 bytes"},
		{body("crashrig.run=x crashrig.seed=" + strings.Repeat("ab", 32)), "no crashrig.now="},
		{body("crashrig.seed=" + strings.Repeat("ab", 32) + " crashrig.now=1 crashrig.wait=console"), "cannot wait again"},
		{body("crashrig.run=x crashrig.seed=zz crashrig.now=1"), "crashrig.seed=zz"},
		{body("crashrig.run=x crashrig.seed=" + strings.Repeat("ab", 32) + " crashrig.now=soon"), "crashrig.now=soon"},
		{body("crashrig.run=x crashrig.d=-1 crashrig.seed=" + strings.Repeat("ab", 32) + " crashrig.now=1"), "≥ 0"},
	} {
		_, err := ParseResume(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseResume(%q) = %v, want an error containing %q", tc.line, err, tc.want)
		}
	}
}

// checksummed makes a Resume line of any body, for tests of what the body may hold.
func checksummed(body string) string {
	return fmt.Sprintf("%s%s #%08x", ResumePrefix, body, crc32.ChecksumIEEE([]byte(body)))
}

func FuzzParseResume(f *testing.F) {
	f.Add(Resume{Orders: Orders{Run: "go20427", Iterations: 1, Beat: time.Second}, Seed: seedOf(3), Now: time.Unix(9, 9)}.Line())
	f.Add("crashrig-resume crashrig.run=x #00000000")
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseResume(line)
		if err != nil {
			return
		}
		// Whatever parses renders to a line that parses to the same thing.
		again, err := ParseResume(r.Line())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", r.Line(), err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("not stable:\n%+v\n%+v", r, again)
		}
	})
}
