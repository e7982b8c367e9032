package main

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// TestKill9DuringRunLoop kills crashrig with SIGKILL while it runs a loop
// of real boots, then checks what the next command finds.
func TestKill9DuringRunLoop(t *testing.T) {
	kernel := testkernel.Path(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "crashrig")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "results.db")
	cmd := exec.Command(bin, "run", "-k", kernel, "-r", "selftest", "-d", "3s", "-n", "20", "-j", "2",
		"--accel", "tcg", "--db", db, "--log-dir", filepath.Join(dir, "logs"), "--", "-mode", "sleep")
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Let some runs finish and others be in flight, then kill.
	deadline := time.Now().Add(3 * time.Minute)
	for done := 0; done < 2; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no run finished in time")
		}
		time.Sleep(500 * time.Millisecond)
		done = countStatus(t, db, "done")
	}
	time.Sleep(1500 * time.Millisecond) // into the next runs
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	conn.Close()

	// The next command marks what the dead one left running.
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.Runs(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string]int{}
	ids := map[int64]bool{}
	for _, r := range recs {
		byStatus[r.Status]++
		if ids[r.ID] {
			t.Errorf("run %d listed twice", r.ID)
		}
		ids[r.ID] = true
		if r.Status == "done" {
			if log, err := s.Log(r.ID); err != nil || len(log) == 0 {
				t.Errorf("finished run %d has no log: %v", r.ID, err)
			}
		}
	}
	t.Logf("after kill -9: %v", byStatus)
	if byStatus["running"] != 0 || byStatus["interrupted"] == 0 || byStatus["done"] < 2 {
		t.Errorf("runs by status %v: want none running, the in-flight ones interrupted, the finished ones done", byStatus)
	}
	out, err := exec.Command(bin, "report", "--db", db).CombinedOutput()
	if err != nil {
		t.Errorf("crashrig report after the kill: %v\n%s", err, out)
	}
}

func countStatus(t *testing.T, db, status string) int {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		return 0
	}
	defer conn.Close()
	conn.Exec("PRAGMA busy_timeout = 2000")
	var n int
	if err := conn.QueryRow("SELECT count(*) FROM runs WHERE status = ?", status).Scan(&n); err != nil {
		return 0
	}
	return n
}
