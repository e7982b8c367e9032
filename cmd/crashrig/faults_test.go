package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/testkernel"
)

// The fault-injection suite: crashrig and its qemu are hurt on purpose, on real boots,
// and each case checks the verdict or message it must give and that nothing finished is
// lost. docs/faults.md lists the cases and what each showed.

// buildCrashrig builds the real binary once per test.
func buildCrashrig(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashrig")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// qemuTagged returns the pids of qemu processes whose command line holds tag.
func qemuTagged(tag string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil || !bytes.Contains(b, []byte("qemu-system")) || !bytes.Contains(b, []byte(tag)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// checkDB opens a results database as the next command would and checks its
// integrity and that no run is counted twice; it returns the runs by status.
func checkDB(t *testing.T, db string) map[string]int {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var dup int
	conn.QueryRow("SELECT count(*) - count(DISTINCT id) FROM runs").Scan(&dup)
	if dup != 0 {
		t.Errorf("%d runs counted twice", dup)
	}
	rows, err := conn.Query("SELECT status, count(*) FROM runs GROUP BY status")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	by := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		rows.Scan(&s, &n)
		by[s] = n
	}
	return by
}

// TestFaultKill9Compare kills a -j 2 comparison with SIGKILL at random moments, three
// times; each time its VMs must be gone within 2 s and the database intact, and the
// next invocation continues the same session to a decision that counts no run twice.
func TestFaultKill9Compare(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	tag := fmt.Sprintf("crashrig.fault=%d", rand.Int63())
	args := []string{"compare", "--db", db, "-k", kernel, "--variant", "smp2=--smp 2", "--variant", "smp1=--smp 1",
		"-r", "selftest", "-d", "4s", "-j", "2", "--accel", "tcg", "--append", tag, "--json",
		"--", "-mode", "panic", "-when", "ncpu>=2", "-after", "1s"}
	env := append(os.Environ(), "XDG_STATE_HOME="+dir)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < 3; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		at := time.Duration(2000+rng.Intn(10000)) * time.Millisecond
		time.Sleep(at)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		time.Sleep(2 * time.Second)
		if pids := qemuTagged(tag); len(pids) > 0 {
			t.Errorf("kill %d after %v: qemu still running 2 s later: %v", i+1, at, pids)
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		t.Logf("kill %d after %v: runs %v", i+1, at, checkDB(t, db))
	}
	// A kill can land after a decision was recorded; then the next invocation
	// rightly begins a new session. Otherwise it must continue the open one.
	open := openSession(t, db)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	by := checkDB(t, db)
	t.Logf("final: exit %d, runs %v", code, by)
	if code != 10 {
		t.Fatalf("final compare exit %d, want 10 (the first variant crashes more)\n%s", code, errb.String())
	}
	if open > 0 && !strings.Contains(errb.String(), fmt.Sprintf("continuing comparison session %d,", open)) {
		t.Errorf("the final run did not continue the undecided session %d:\n%s", open, errb.String())
	}
	var rep struct {
		Session  int64 `json:"session"`
		Decision struct {
			Comparisons []struct {
				Runs [2]int `json:"runs"`
			} `json:"comparisons"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Decision.Comparisons) != 1 {
		t.Fatalf("decision JSON: %v\n%s", err, out.String())
	}
	if open > 0 && rep.Session != open {
		t.Errorf("decision is for session %d, want the continued session %d", rep.Session, open)
	}
	// Every finished run of the session counts once: the decision's runs are its done runs.
	conn, _ := sql.Open("sqlite", db)
	var done int
	conn.QueryRow("SELECT count(*) FROM runs WHERE status = 'done' AND session_id = ?", rep.Session).Scan(&done)
	if n := rep.Decision.Comparisons[0].Runs; n[0]+n[1] != done {
		t.Errorf("decision counts %v runs, session %d has %d done", n, rep.Session, done)
	}
	if by["running"] != 0 {
		t.Errorf("%d runs left running", by["running"])
	}
	// crashrig log names an interrupted run for what it is, not as missing.
	var id int64
	conn.QueryRow("SELECT id FROM runs WHERE status = 'interrupted' LIMIT 1").Scan(&id)
	conn.Close()
	if id > 0 {
		out, _ := exec.Command(bin, "log", "--db", db, strconv.FormatInt(id, 10)).CombinedOutput()
		if want := fmt.Sprintf("run %d is interrupted", id); !strings.Contains(string(out), want) {
			t.Errorf("crashrig log %d: %q, want %q", id, out, want)
		}
	}
}

// openSession returns the newest comparison session that has no decision, or 0.
func openSession(t *testing.T, db string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id sql.NullInt64
	err = conn.QueryRow(`SELECT max(id) FROM sessions WHERE kind = 'compare'
		AND coalesce(json_extract(meta, '$.decided'), '') = ''`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id.Int64
}

// TestFaultQemuKilled: qemu SIGKILLed from outside mid-run is infra-fail, never a crash
// of the kernel.
func TestFaultQemuKilled(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	dir := t.TempDir()
	tag := fmt.Sprintf("crashrig.fault=%d", rand.Int63())
	cmd := exec.Command(bin, "run", "--db", filepath.Join(dir, "r.db"), "-k", kernel, "-r", "selftest", "-d", "30s",
		"--accel", "tcg", "--append", tag, "--json", "--", "-mode", "sleep")
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for len(qemuTagged(tag)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // into the run
	for _, p := range qemuTagged(tag) {
		syscall.Kill(p, syscall.SIGKILL)
	}
	err := cmd.Wait()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 5 || !strings.Contains(out.String(), `"verdict": "infra-fail"`) ||
		!strings.Contains(out.String(), "qemu was killed from outside crashrig (signal: killed)") {
		t.Errorf("qemu killed mid-run: %v\n%s", err, out.String())
	}
}

// TestFaultStateFilesystem: the state directory on a full filesystem, and on a
// read-only one. crashrig must fail with the path and the reason (exit 5), never
// report a kernel verdict, and leave the database readable.
func TestFaultStateFilesystem(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	for _, tc := range []struct{ name, opts, want string }{
		{"full", "size=1m", "(no space left on device|disk is full)"},
		{"read-only", "ro,size=1m", "read-only file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			os.Mkdir(state, 0o700)
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", tc.opts, "tmpfs", state).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
			}
			defer exec.Command("umount", "-l", state).Run()
			if tc.name == "full" { // fill it to the last block
				exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(state, "filler"), "bs=4k").Run()
			}
			cmd := exec.Command(bin, "run", "-k", kernel, "-r", "selftest", "-d", "3s", "--accel", "tcg",
				"--", "-mode", "pass")
			cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state)
			out, err := cmd.CombinedOutput()
			ee, _ := err.(*exec.ExitError)
			t.Logf("%s", out)
			if ee == nil || ee.ExitCode() != 5 || !regexp.MustCompile(tc.want).Match(out) {
				t.Errorf("state on a %s filesystem: %v, want exit 5 saying %q", tc.name, err, tc.want)
			}
			if strings.Contains(string(out), "verdict") {
				t.Errorf("a host fault produced a verdict:\n%s", out)
			}
		})
	}
}

// TestFaultLockedDatabase: another process holds the database's write lock for a few
// seconds while a run finishes; crashrig waits for it and records the run, losing
// nothing.
func TestFaultLockedDatabase(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	run := func() (string, error) {
		cmd := exec.Command(bin, "run", "--db", db, "-k", kernel, "-r", "selftest", "-d", "2s", "--accel", "tcg",
			"--", "-mode", "pass")
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err != nil { // create the database
		t.Fatalf("first run: %v\n%s", err, out)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(6 * time.Second); conn.Exec("COMMIT") }()
	start := time.Now()
	out, err := run()
	t.Logf("run while the database was locked for 6 s: %v after %v", err, time.Since(start).Round(time.Second))
	if err != nil || !strings.Contains(out, "verdict        pass") {
		t.Fatalf("run with the database locked: %v\n%s", err, out)
	}
	if by := checkDB(t, db); by["done"] != 2 {
		t.Errorf("runs %v: want both recorded", by)
	}
}

// TestFaultMemoryLimit runs crashrig in a cgroup whose memory limit is too small for the
// guest: the kernel's OOM killer kills qemu, and the verdict must be infra-fail with a
// hint at the OOM killer, never a crash.
func TestFaultMemoryLimit(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	cg, procs := memoryCgroup(t, "48M")
	dir := t.TempDir()
	// The shell puts itself in the cgroup, then becomes crashrig; qemu inherits it.
	script := fmt.Sprintf("echo $$ > %s && exec %s run --db %s/r.db -k %s -r selftest -d 5s -m 512 --accel tcg --json -- -mode pass",
		procs, bin, dir, kernel)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir)
	out, err := cmd.Output()
	t.Logf("under a 48 MB limit: %v", err)
	var res struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
		Hint    string `json:"hint"`
	}
	json.Unmarshal(out, &res)
	switch res.Verdict {
	case "infra-fail":
		if !strings.Contains(res.Hint, "OOM") {
			t.Errorf("infra-fail without the OOM hint: %+v", res)
		}
	case "pass":
		t.Skipf("the guest fit in the limit here: %+v", res)
	default:
		t.Errorf("qemu out of memory gave %+v, want infra-fail\n%s", res, out)
	}
	// The cgroup must be empty before it can go.
	for i := 0; i < 50; i++ {
		if b, _ := os.ReadFile(procs); len(bytes.TrimSpace(b)) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.Remove(cg)
}

// memoryCgroup makes a cgroup with a memory limit (cgroup v2, or v1's memory
// controller) and returns its directory and the file that moves a process into it; it
// skips the test where neither can be had.
func memoryCgroup(t *testing.T, limit string) (dir, procs string) {
	t.Helper()
	name := fmt.Sprintf("crashrig-fault-%d", os.Getpid())
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil { // v2
		dir = "/sys/fs/cgroup/" + name
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cgroup v2: %v", err)
		}
		if err := os.WriteFile(dir+"/memory.max", []byte(limit), 0o644); err != nil {
			os.Remove(dir)
			t.Skipf("cgroup v2 without the memory controller: %v", err)
		}
		os.WriteFile(dir+"/memory.swap.max", []byte("0"), 0o644)
		return dir, dir + "/cgroup.procs"
	}
	dir = "/sys/fs/cgroup/memory/" + name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("no memory cgroup here: %v", err)
	}
	if err := os.WriteFile(dir+"/memory.limit_in_bytes", []byte(limit), 0o644); err != nil {
		os.Remove(dir)
		t.Skipf("cgroup v1 memory limit: %v", err)
	}
	return dir, dir + "/tasks"
}
