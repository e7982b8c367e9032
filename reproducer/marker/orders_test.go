package marker

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOrdersRoundTrip(t *testing.T) {
	tests := []Orders{
		{Run: "go20427", Duration: 30 * time.Second, Iterations: 1, Beat: time.Second},
		{Run: "/bin/my repro", Args: []string{"-n", "64", "a b=c", "#%", ""}, Env: []string{"GOMAXPROCS=2", "X=a b"},
			Duration: 1500 * time.Millisecond, Iterations: 3, Beat: 250 * time.Millisecond, Restart: true},
		{Run: "/bin/sh", Duration: 0, Iterations: 1, Beat: time.Second, TTY: "101x37"},
		{Run: "vdsostack", Args: []string{"ünïcode", "tab\there", "new\nline"}, Iterations: 1, Beat: time.Second},
		{Iterations: 1, Beat: time.Second, Wait: true}, // a saved state's boot: the run comes later, on the console
	}
	for _, o := range tests {
		words := o.Words()
		for _, w := range words {
			if strings.ContainsAny(w, " \t\n") || !strings.HasPrefix(w, OrderPrefix) {
				t.Errorf("word %q would not survive the kernel command line", w)
			}
		}
		line := "console=ttyS0 panic=-1 " + strings.Join(words, " ") + " quiet"
		got, err := ParseOrders(line)
		if err != nil {
			t.Fatalf("ParseOrders(%q): %v", line, err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Errorf("round trip:\n got %+v\nwant %+v\nline %s", got, o, line)
		}
	}
}

func TestParseOrdersErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"console=ttyS0", "no crashrig.run="},
		{"crashrig.run=x crashrig.d=soon", `"crashrig.d=soon"`},
		{"crashrig.run=x crashrig.d=-1", "≥ 0"},
		{"crashrig.run=x crashrig.it=0", "at least one"},
		{"crashrig.run=%zz", `"crashrig.run=%zz"`},
	} {
		_, err := ParseOrders(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseOrders(%q) = %v, want an error containing %q", tc.line, err, tc.want)
		}
	}
	// Unknown keys and the kernel's own words are ignored.
	o, err := ParseOrders("crashrig.run=x crashrig.future=1 crashrigx=2 init=/init")
	if err != nil || o.Run != "x" {
		t.Errorf("ParseOrders with unknown keys = %+v, %v", o, err)
	}
	if got := TTYWord(80, 24); got != "crashrig.tty=80x24" {
		t.Errorf("TTYWord = %q", got)
	}
}

func FuzzOrders(f *testing.F) {
	f.Add("/bin/x", "-a\x00b c", "K=V", 1.5, 2)
	f.Fuzz(func(t *testing.T, run, args, env string, d float64, it int) {
		if run == "" || d < 0 || d > 1e6 || d != d || it < 1 {
			return
		}
		o := Orders{Run: run, Duration: time.Duration(d * float64(time.Second)), Iterations: it, Beat: time.Second}
		if args != "" {
			o.Args = strings.Split(args, "\x00")
		}
		if env != "" {
			o.Env = strings.Split(env, "\x00")
		}
		got, err := ParseOrders(strings.Join(o.Words(), " "))
		if err != nil {
			t.Fatal(err)
		}
		if got.Run != o.Run || !reflect.DeepEqual(got.Args, o.Args) || !reflect.DeepEqual(got.Env, o.Env) || got.Iterations != o.Iterations {
			t.Fatalf("round trip: got %+v want %+v", got, o)
		}
		if diff := got.Duration - o.Duration; diff > time.Microsecond || diff < -time.Microsecond {
			t.Fatalf("duration %v, want %v", got.Duration, o.Duration)
		}
	})
}
