package run

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// boot runs a built-in reproducer on the test kernel under TCG.
func boot(t *testing.T, o Options) *record.Run {
	t.Helper()
	o.Kernel = testkernel.Path(t)
	if o.Accel == "" {
		o.Accel = "tcg"
	}
	o.LogDir = t.TempDir()
	o.Logf = t.Logf
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%s: %s %q (%s) ttc %.3f boot %.2f wall %.2f log %s", t.Name(), res.Verdict, res.Title, res.Reason,
		res.TimeToCrash, res.BootHost, res.Wall, res.Log)
	checkOffline(t, res)
	return res
}

// checkOffline: the stored console log alone, decided offline as crashrig parse does
// (verdict.FromLog), gives the verdict, kind, title, family and signals the run gave
// live. Every real run of this package's tests goes through it: passes, crashes of
// every kind, hangs, boot failures and infra failures.
func checkOffline(t *testing.T, res *record.Run) {
	t.Helper()
	data, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	off, ok := verdict.FromLog(data)
	if !ok {
		t.Errorf("offline: %s is not recognised as crashrig's log (live: %s %q)", res.Log, res.Verdict, res.Title)
		return
	}
	got := fmt.Sprintf("%s %s %q %s %v", off.Verdict, off.Kind, off.Title, off.Family, off.Signals)
	want := fmt.Sprintf("%s %s %q %s %v", res.Verdict, res.Kind, res.Title, res.Family, res.Signals)
	if got != want {
		t.Errorf("offline %s (%s), live %s (%s)", got, off.Reason, want, res.Reason)
	}
}

func selftest(args ...string) repro.Program {
	return repro.Program{Builtin: "selftest", Args: args}
}

func TestBootPass(t *testing.T) {
	res := boot(t, Options{Repro: repro.Program{Builtin: "go20427"}, Duration: 3 * time.Second})
	if res.Verdict != verdict.Pass || res.Title != "" {
		t.Fatalf("verdict %s %q, want pass", res.Verdict, res.Title)
	}
	if res.BootHost <= 0 || res.BootGuest <= 0 || len(res.Iterations) != 1 || res.Iterations[0].Ran < 2.9 {
		t.Errorf("boot %.2f/%.2f, iterations %+v", res.BootHost, res.BootGuest, res.Iterations)
	}
	log, _ := os.ReadFile(res.Log)
	if !strings.Contains(string(log), "Starting a bunch of goroutines...") {
		t.Errorf("console log %s lacks the reproducer's output", res.Log)
	}
	// Console logs are private (crashrig creates their directory 0700 when it makes it).
	if st, err := os.Stat(res.Log); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v (%v), want 0600", res.Log, st.Mode().Perm(), err)
	}
	if res.Kernel.SHA256 == "" || res.Kernel.Release == "" || len(res.QemuArgv) == 0 || res.Accel != "tcg,thread=multi" {
		t.Errorf("record incomplete: %+v %v %s", res.Kernel, res.QemuArgv, res.Accel)
	}
}

func TestBootGoPanic(t *testing.T) {
	const delay = 2.0
	res := boot(t, Options{Repro: selftest("-mode", "panic", "-after", "2s"), Duration: 20 * time.Second})
	if res.Verdict != verdict.Crash || res.Kind != "go" || !strings.Contains(res.Title, "nil pointer dereference") {
		t.Fatalf("got %s %s %q, want a go crash about a nil pointer dereference", res.Verdict, res.Kind, res.Title)
	}
	if math.Abs(res.TimeToCrash-delay) > 0.5 {
		t.Errorf("time to crash %.3fs, want %.1f±0.5", res.TimeToCrash, delay)
	}
	if res.Wall > 15 {
		t.Errorf("wall %.1fs: the run waited instead of stopping at the crash", res.Wall)
	}
}

func TestBootSysrq(t *testing.T) {
	res := boot(t, Options{Repro: selftest("-mode", "sysrq", "-after", "1s"), Duration: 20 * time.Second})
	if res.Verdict != verdict.Crash || res.Kind != "kernel" || !strings.Contains(res.Title, "sysrq") {
		t.Fatalf("got %s %s %q, want a kernel crash about sysrq", res.Verdict, res.Kind, res.Title)
	}
	if math.Abs(res.TimeToCrash-1) > 0.5 {
		t.Errorf("time to crash %.3fs, want 1±0.5", res.TimeToCrash)
	}
}

func TestBootHang(t *testing.T) {
	start := time.Now()
	res := boot(t, Options{Repro: selftest("-mode", "fifo-hang", "-after", "1s"), Duration: 120 * time.Second,
		HangTimeout: 5 * time.Second})
	if res.Verdict != verdict.Hang {
		t.Fatalf("got %s %q (%s), want hang", res.Verdict, res.Title, res.Reason)
	}
	if el := time.Since(start); el > 40*time.Second {
		t.Errorf("hang took %v to decide; the duration was 120s and the hang timeout 5s", el)
	}
}

func TestBootLongRunIsNotAHang(t *testing.T) {
	res := boot(t, Options{Repro: selftest("-mode", "sleep"), Duration: 8 * time.Second, HangTimeout: 4 * time.Second})
	if res.Verdict != verdict.Pass {
		t.Fatalf("got %s %q (%s), want pass", res.Verdict, res.Title, res.Reason)
	}
}

func TestBootExitAndSignal(t *testing.T) {
	res := boot(t, Options{Repro: selftest("-mode", "exit", "-code", "7"), Duration: 10 * time.Second, Iterations: 2})
	if res.Verdict != verdict.Crash || res.Kind != "exit" || res.Title != "exit status 7" || len(res.Iterations) != 2 {
		t.Fatalf("got %s %s %q %d iterations, want crash exit 'exit status 7' twice", res.Verdict, res.Kind, res.Title, len(res.Iterations))
	}
	res = boot(t, Options{Repro: selftest("-mode", "segv"), Duration: 10 * time.Second})
	if res.Verdict != verdict.Crash || res.Title == "" {
		t.Fatalf("got %s %q, want a crash", res.Verdict, res.Title)
	}
}

func TestBootNoSerialConsole(t *testing.T) {
	res := boot(t, Options{Repro: selftest(), Append: "console=tty0", Duration: 5 * time.Second, BootTimeout: 15 * time.Second})
	if res.Verdict != verdict.BootFail || !strings.Contains(res.Hint, "console=") {
		t.Fatalf("got %s %q hint %q, want boot-fail with a console hint", res.Verdict, res.Title, res.Hint)
	}
	if res.Verdict.ExitCode() != 4 {
		t.Errorf("exit code %d", res.Verdict.ExitCode())
	}
}

func TestBootStaticProgram(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte("package main\nimport (\"fmt\";\"os\")\nfunc main(){ fmt.Println(\"user program\", os.Args[1:]); var m map[string]int; m[\"x\"]++ }\n"), 0o644)
	bin := filepath.Join(dir, "userprog")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repro, err := repro.Resolve(bin, []string{"a", "b c"})
	if err != nil {
		t.Fatal(err)
	}
	res := boot(t, Options{Repro: repro, Duration: 10 * time.Second})
	if res.Verdict != verdict.Crash || res.Kind != "go" || !strings.Contains(res.Title, "assignment to entry in nil map") {
		t.Fatalf("got %s %s %q, want the program's Go panic", res.Verdict, res.Kind, res.Title)
	}
	log, _ := os.ReadFile(res.Log)
	if !strings.Contains(string(log), "user program [a b c]") {
		t.Errorf("arguments did not reach the program:\n%s", log)
	}
}

func TestAccel(t *testing.T) {
	res := boot(t, Options{Repro: selftest(), Accel: "auto", CacheDir: t.TempDir(), Duration: time.Second})
	if res.Verdict != verdict.Pass {
		t.Fatalf("auto: got %s (%s)", res.Verdict, res.Reason)
	}
	if _, err := os.Stat("/dev/kvm"); err != nil || res.Accel != "kvm" {
		if !strings.HasPrefix(res.Accel, "tcg") || !strings.Contains(res.AccelNote, "KVM unusable") {
			t.Errorf("auto without a usable KVM: accel %q note %q, want a TCG fallback that says why", res.Accel, res.AccelNote)
		}
		res = boot(t, Options{Repro: selftest(), Accel: "kvm", Duration: time.Second})
		if res.Verdict != verdict.InfraFail {
			t.Errorf("forced kvm here: got %s %q (%s), want infra-fail", res.Verdict, res.Title, res.Reason)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte(strings.Repeat("not a kernel\n", 400)), 0o644)
	logs := filepath.Join(dir, "logs")
	cases := map[string]Options{
		"garbage kernel": {Kernel: garbage, Repro: selftest()},
		"missing kernel": {Kernel: filepath.Join(dir, "nope"), Repro: selftest()},
		"no kernel":      {Repro: selftest()},
		"bad accel":      {Kernel: garbage, Repro: selftest(), Accel: "hvf"},
	}
	for name, o := range cases {
		o.LogDir = logs
		o.CacheDir = filepath.Join(dir, "cache")
		if _, err := Run(context.Background(), o); err == nil || !IsInput(err) {
			t.Errorf("%s: err = %v, want an input error", name, err)
		}
	}
	for _, arg := range []string{"/bin/ls", filepath.Join(dir, "missing"), "nosuchbuiltin", garbage} {
		if _, err := repro.Resolve(arg, nil); err == nil || !IsInput(err) {
			t.Errorf("-r %s: err = %v, want an input error", arg, err)
		}
	}
	if _, err := repro.Resolve("/bin/ls", nil); err == nil || !strings.Contains(err.Error(), "ld-linux") {
		t.Errorf("dynamic reproducer: %v, want the interpreter named", err)
	}
	if _, err := os.Stat(logs); err == nil {
		t.Errorf("bad input left %s behind", logs)
	}
}
