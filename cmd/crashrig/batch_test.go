package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/crashrig/crashrig/internal/campaign"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/testkernel"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// crashrigBin builds crashrig once for the tests that run it as a separate
// process (to kill it with SIGKILL, or to run it from a shell script).
func crashrigBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crashrig-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "crashrig")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// quickPlan is a plan of fast, deterministic cells on the test kernel: a
// reproducer that passes and one that panics, each as soon as it starts,
// each run runs times. Nothing waits inside the guest, so a guest whose vCPU
// the host starves (TCG, several VMs on two shared cores) still ends each
// run the same way; the 3 s duration is only an upper bound.
func quickPlan(t *testing.T, dir string, runs int) string {
	t.Helper()
	kernel := testkernel.Path(t)
	p := filepath.Join(dir, "plan.yaml")
	plan := fmt.Sprintf(`name: quick
duration: 3s
kernels:
  - {name: k, path: %s}
reproducers:
  - {name: pass, builtin: selftest, args: [-mode, pass]}
  - {name: panic, builtin: selftest, args: [-mode, panic]}
variants:
  - {name: smp1, smp: 1, accel: tcg}
cells:
  - runs: %d
`, kernel, runs)
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// batchEnv runs crashrig with its state, cache and logs under dir.
func batchEnv(dir string) []string {
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	if c := os.Getenv("CRASHRIG_CACHE"); c == "" {
		if home, err := os.UserHomeDir(); err == nil {
			env = append(env, "CRASHRIG_CACHE="+home+"/.cache/crashrig")
		}
	}
	return env
}

// cellCounts reads, per stored variant (cell arm), the runs that count
// (done), their crashes, and the runs that were cut (interrupted).
//
// Crashes counts the reproducer's own crashes (Go panics). The guest kernel
// may also report a crash of its own when the host starves its vCPU — an RCU
// stall, a soft lockup under TCG on a shared two-core machine running
// several VMs — which crashrig rightly records; such reports depend on the
// host's load, not on the batch, so they are counted apart (HostReports)
// and only logged.
type cellCount struct{ Done, Crashes, Interrupted, Running, HostReports int }

func dbCounts(t *testing.T, path string) map[string]cellCount {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT variant, status, verdict, title FROM runs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]cellCount{}
	for rows.Next() {
		var v, status, verdict, title string
		if err := rows.Scan(&v, &status, &verdict, &title); err != nil {
			t.Fatal(err)
		}
		c := out[v]
		switch status {
		case "done":
			c.Done++
			switch {
			case verdict == "crash" && !strings.HasPrefix(title, "go: "):
				c.HostReports++
			case verdict == "crash":
				c.Crashes++
			}
		case "interrupted":
			c.Interrupted++
		default:
			c.Running++
		}
		out[v] = c
	}
	return out
}

// counted keeps what must not depend on interruptions or host load: the
// finished runs and the reproducer's crashes per cell. In the panicking cell
// a run whose kernel report came first still crashed, and counts.
func counted(t *testing.T, m map[string]cellCount) map[string]cellCount {
	out := map[string]cellCount{}
	for k, v := range m {
		if v.HostReports > 0 {
			t.Logf("cell %s: %d kernel reports from a starved guest (host load): not compared", k, v.HostReports)
		}
		c := cellCount{Done: v.Done, Crashes: v.Crashes}
		if strings.Contains(k, "panic") {
			c.Crashes += v.HostReports // the run crashed all the same
		}
		out[k] = c
	}
	return out
}

// runBatchProc runs crashrig and returns its stdout, and its stdout and
// stderr together when it fails.
func runBatchProc(t *testing.T, bin, dir string, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = batchEnv(dir), dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("crashrig %v: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	if code != 0 {
		return out.String() + errOut.String(), code
	}
	return out.String(), code
}

// TestBatchKillResume kills a real batch with SIGKILL at five random
// moments, resuming it each time, and checks that the finished batch counts
// exactly what an uninterrupted batch of the same plan counts: every cut
// run recorded as interrupted, none lost, none counted twice.
func TestBatchKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("boots real kernels")
	}
	bin := crashrigBin(t)
	dir := t.TempDir()
	// 16 runs: enough work that five kills, each a few seconds into an
	// attempt, land before the batch is done.
	plan := quickPlan(t, dir, 8)
	ref := filepath.Join(dir, "ref.db")
	t0 := time.Now()
	out, code := runBatchProc(t, bin, dir, 10*time.Minute, "batch", plan, "-j", "2", "--db", ref)
	if code != 0 {
		t.Fatalf("uninterrupted batch: exit %d\n%s", code, out)
	}
	refTime := time.Since(t0)
	want := counted(t, dbCounts(t, ref))
	t.Logf("uninterrupted batch: %v in %v", want, refTime.Round(time.Millisecond))

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill moments drawn with seed %d", seed)
	db := filepath.Join(dir, "killed.db")
	kills := 0
	for kills < 5 {
		cmd := exec.Command(bin, "batch", plan, "-j", "2", "--db", db, "--resume")
		cmd.Env, cmd.Dir = batchEnv(dir), dir
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Anywhere in an attempt's first seconds: preparing, booting, mid-run,
		// recording; each attempt gets some runs done, none gets far.
		at := 500*time.Millisecond + time.Duration(rng.Float64()*float64(min(refTime/4, 6*time.Second)))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("the batch ended (%v) before the kill at %v: make the plan longer\n%s", err, at, buf.String())
		case <-time.After(at):
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		kills++
		t.Logf("kill %d at %v: %v", kills, at.Round(time.Millisecond), dbCountsIfAny(t, db))
	}
	out, code = runBatchProc(t, bin, dir, 10*time.Minute, "batch", plan, "-j", "2", "--db", db, "--resume",
		"--junit", filepath.Join(dir, "junit.xml"))
	if code != 0 {
		t.Fatalf("final --resume: exit %d\n%s", code, out)
	}
	all := dbCounts(t, db)
	got := counted(t, all)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after %d kills and a resume: %v; an uninterrupted batch counts %v", kills, got, want)
	}
	interrupted := 0
	for _, c := range all {
		interrupted += c.Interrupted
		if c.Running != 0 {
			t.Errorf("runs left 'running': %v", all)
		}
	}
	t.Logf("final: %v (%d runs cut by the kills, recorded as interrupted)", all, interrupted)
	if interrupted == 0 {
		t.Log("no kill landed while a VM ran (possible, but rare)")
	}
	// The resumed batch is one session, complete, and says so.
	out, _ = runBatchProc(t, bin, dir, time.Minute, "sessions", "--db", db, "--json")
	var ss []report.SessionRow
	if err := json.Unmarshal([]byte(out), &ss); err != nil {
		t.Fatalf("sessions --json: %v\n%s", err, out)
	}
	if len(ss) != 1 || ss[0].Decision != campaign.StateComplete {
		t.Errorf("sessions after the resumes: %+v; want one complete batch session", ss)
	}
	checkJUnitFile(t, filepath.Join(dir, "junit.xml"), 2, 1)
}

func dbCountsIfAny(t *testing.T, path string) any {
	if _, err := os.Stat(path); err != nil {
		return "no database yet"
	}
	return dbCounts(t, path)
}

// TestBatchDeadline: with a deadline a few runs away, the batch ends within
// one run's length of it, every cell got runs, and the batch says what cut it.
func TestBatchDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("boots real kernels")
	}
	bin := crashrigBin(t)
	dir := t.TempDir()
	plan := quickPlan(t, dir, 50)
	db := filepath.Join(dir, "d.db")
	const within = 25 * time.Second
	start := time.Now()
	deadline := start.Add(within)
	out, code := runBatchProc(t, bin, dir, 5*time.Minute, "batch", plan, "-j", "2", "--db", db,
		"--deadline", deadline.Format(time.RFC3339Nano), "--json")
	end := time.Now()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Campaign struct {
			State string
			Cells []struct {
				ID   string
				Runs int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	c := dbCounts(t, db)
	t.Logf("ended %v after the deadline; %v; %+v", end.Sub(deadline).Round(time.Millisecond), c, rep.Campaign)
	// One run is ~1.3 s of reproducer plus a few seconds of TCG boot; 10 s is generous.
	const runLength = 10 * time.Second
	if end.After(deadline.Add(runLength)) {
		t.Errorf("batch ended %v after its deadline; want within one run's length (%v)", end.Sub(deadline), runLength)
	}
	if rep.Campaign.State != campaign.StateDeadline {
		t.Errorf("state %q, want %q", rep.Campaign.State, campaign.StateDeadline)
	}
	n := -1
	for _, x := range rep.Campaign.Cells {
		if x.Runs == 0 {
			t.Errorf("cell %s got no run before the deadline: cells are not interleaved", x.ID)
		}
		if n >= 0 && (x.Runs-n > 2 || n-x.Runs > 2) {
			t.Errorf("cells got %d and %d runs: want them within a couple of runs of each other", n, x.Runs)
		}
		n = x.Runs
	}
}

// verdictList lists every run's variant, status, verdict, title and reason.
func verdictList(t *testing.T, path string) string {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, variant, status, verdict, title, reason FROM runs ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var v, st, vd, title, reason string
		rows.Scan(&id, &v, &st, &vd, &title, &reason)
		fmt.Fprintf(&b, "%d %s %s %s %q %q\n", id, v, st, vd, title, reason)
	}
	return b.String()
}

// TestBatchCtrlC: the first Ctrl-C stops the runs in flight, records them
// as interrupted (never passes), prints the report so far and exits 130;
// --resume then completes the batch with every cell's runs counted once.
func TestBatchCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("boots real kernels")
	}
	bin := crashrigBin(t)
	dir := t.TempDir()
	plan := quickPlan(t, dir, 3)
	db := filepath.Join(dir, "c.db")
	cmd := exec.Command(bin, "batch", plan, "-j", "2", "--db", db)
	cmd.Env, cmd.Dir = batchEnv(dir), dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once two VMs are running: after the first run started.
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stderr.String(), "run 1/") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "--resume continues session 1") {
		t.Fatalf("after Ctrl-C: %v; want exit 130 and how to resume\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "interrupted") {
		t.Errorf("the report printed at Ctrl-C does not say the batch was interrupted:\n%s", stdout.String())
	}
	mid := dbCounts(t, db)
	cut := 0
	for _, c := range mid {
		cut += c.Interrupted
		if c.Running > 0 {
			t.Errorf("runs left running after Ctrl-C: %v", mid)
		}
	}
	if cut == 0 {
		t.Errorf("no run recorded as interrupted: %v", mid)
	}
	// Without --resume, crashrig refuses to start over silently.
	out, code := runBatchProc(t, bin, dir, time.Minute, "batch", plan, "--db", db)
	if code != 2 || !strings.Contains(out, "--resume continues it") {
		t.Errorf("batch without --resume after an interrupted one: exit %d\n%s", code, out)
	}
	out, code = runBatchProc(t, bin, dir, 10*time.Minute, "batch", plan, "-j", "2", "--db", db, "--resume")
	if code != 0 {
		t.Fatalf("--resume: exit %d\n%s", code, out)
	}
	got := counted(t, dbCounts(t, db))
	want := map[string]cellCount{"k/pass/smp1": {Done: 3}, "k/panic/smp1": {Done: 3, Crashes: 3}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after Ctrl-C and --resume: %v, want %v", got, want)
	}
}
