package vdsoneighbour

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		want config
		err  string // "" = no error
	}{
		{nil, config{crowd: 64, reach: 4096}, ""},
		{[]string{"-g", "16", "-pairs", "2", "-reach", "8192", "-gomaxprocs", "1", "-d", "10s"},
			config{crowd: 16, pairs: 2, reach: 8192, procs: 1, duration: 10 * time.Second}, ""},
		{[]string{"-g", "1"}, config{}, "-g 1"},
		{[]string{"-g", "8", "-pairs", "5"}, config{}, "-pairs 5: want 0 to 4"},
		{[]string{"-reach", "3000"}, config{}, "multiple of 2048"},
		{[]string{"-reach", "0"}, config{}, "-reach 0"},
		{[]string{"-gomaxprocs", "-1"}, config{}, "must not be negative"},
		{[]string{"-d", "-1s"}, config{}, "must not be negative"},
		{[]string{"extra"}, config{}, "unexpected arguments"},
		{[]string{"-nosuch"}, config{}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parse(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parse: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parse = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestPairs(t *testing.T) {
	const k = 2048
	tests := []struct {
		name  string
		tops  []uintptr
		reach uintptr
		n     int
		want  [][2]int
	}{
		{"two slots apart", []uintptr{10 * k, 9 * k, 8 * k}, 2 * k, 1, [][2]int{{0, 2}}},
		{"none", []uintptr{10 * k, 9 * k}, 2 * k, 1, nil},
		{"no goroutine twice", []uintptr{10 * k, 8 * k, 6 * k}, 2 * k, 2, [][2]int{{0, 1}}},
		{"highest first, up to n", []uintptr{4 * k, 6 * k, 8 * k, 10 * k, 12 * k, 14 * k}, 2 * k, 2, [][2]int{{5, 4}, {3, 2}}},
		{"interleaved", []uintptr{11 * k, 10 * k, 9 * k, 8 * k}, 2 * k, 2, [][2]int{{0, 2}, {1, 3}}},
		{"another reach", []uintptr{12 * k, 10 * k, 8 * k}, 4 * k, 1, [][2]int{{0, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pairs(tt.tops, tt.reach, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("pairs = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("pairs = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestStackTop(t *testing.T) {
	for _, tt := range []struct{ addr, want uintptr }{
		{0x1000, 0x1800}, {0x17ff, 0x1800}, {0x1800, 0x2000}, {0x1a3c, 0x2000},
	} {
		if got := stackTop(tt.addr); got != tt.want {
			t.Errorf("stackTop(%#x) = %#x, want %#x", tt.addr, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	var w [words]uint64
	fill(&w, 7)
	if i := check(&w, 7); i != -1 {
		t.Fatalf("check after fill = %d, want -1", i)
	}
	if i := check(&w, 8); i != 0 {
		t.Errorf("check of the next sweep = %d, want 0", i)
	}
	tests := []struct {
		name   string
		i      int
		value  uint64
		detail string
	}{
		{"lost update", 40, pattern(4, 40), "an update was lost (the value of 3 sweep(s) before)"},
		{"foreign value", 41, 0xdead, "overwritten with a value it never held"},
		{"another word's value", 42, pattern(7, 3), "overwritten"},
		{"from the future", 43, pattern(9, 43), "overwritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fill(&w, 7)
			w[tt.i] = tt.value
			if i := check(&w, 7); i != tt.i {
				t.Fatalf("check = %d, want %d", i, tt.i)
			}
			detail, msg := describe(448, w[tt.i], 7, tt.i)
			if !strings.Contains(detail, tt.detail) {
				t.Errorf("detail %q, want %q", detail, tt.detail)
			}
			// The crash title is made of the message: short and fixed but for numbers.
			if !strings.HasPrefix(msg, "stack value corrupted: word at depth 448 holds 0x") || len(msg) > 80 {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// TestRunNoProbe runs the program briefly on the test's host: pairs are
// found and nothing is corrupted (the host's vDSO has no deep probe, and
// the test's runtime calls it on the system stack).
func TestRunNoProbe(t *testing.T) {
	var failed []string
	testFail = func(detail, msg string) { failed = append(failed, detail) }
	defer func() { testFail = nil }()
	c, err := parse([]string{"-g", "32", "-d", "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	c.pairs = 1
	if code := run(c); code != 0 || len(failed) > 0 {
		t.Errorf("run = %d, corruption %q; want 0 and none", code, failed)
	}
}
