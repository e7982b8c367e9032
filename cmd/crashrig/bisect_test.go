package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/gitbisect"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// TestBisectKill9 kills crashrig bisect git with SIGKILL in the middle of a step, on real
// boots, and runs the same command again: it must resume from state.json with every run
// finished before the kill, and name the culprit (commit 6 of testdata/bisect-mkrepo.sh).
func TestBisectKill9(t *testing.T) {
	kernel := testkernel.Path(t)
	bin := buildCrashrig(t)
	dir := t.TempDir()
	if out, err := exec.Command("sh", "-c", "cd "+dir+" && sh "+absPath("testdata/bisect-mkrepo.sh")+" "+kernel).CombinedOutput(); err != nil {
		t.Fatalf("making the repository: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	args := []string{"bisect", "git", "--repo", filepath.Join(dir, "repo"), "--good", "main~8", "--bad", "main",
		"--build", "sh build.sh", "-k", "bzImage", "-r", "repro.sh", "--base", "busybox", "--smp", "1", "-m", "256",
		"-d", "3s", "--work", work}
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	first := exec.Command(bin, args...)
	first.Env = env
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the second step has some runs of its own.
	var before gitbisect.State
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("no second step with runs within 10 minutes")
		}
		time.Sleep(200 * time.Millisecond)
		b, err := os.ReadFile(filepath.Join(work, "state.json"))
		before = gitbisect.State{} // Unmarshal leaves fields the file omits as they were
		if err != nil || json.Unmarshal(b, &before) != nil {
			continue
		}
		if len(before.Steps) >= 1 && before.Pending != nil && len(before.Pending.Runs) >= 2 {
			break
		}
	}
	first.Process.Kill() // SIGKILL
	first.Wait()
	b, _ := os.ReadFile(filepath.Join(work, "state.json"))
	before = gitbisect.State{}
	json.Unmarshal(b, &before)
	pending := 0
	if before.Pending != nil {
		pending = len(before.Pending.Runs)
	}
	t.Logf("killed with %d steps decided, %d runs of step %d, %d good and %d bad reference runs", len(before.Steps),
		pending, len(before.Steps)+1, len(before.Refs.Good), len(before.Refs.Bad))

	second := exec.Command(bin, args...)
	second.Env = env
	var stdout, stderr strings.Builder
	second.Stdout, second.Stderr = &stdout, &stderr
	start := time.Now()
	err := second.Run()
	t.Logf("second run, %s:\n%s", time.Since(start).Round(time.Second), stdout.String())
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "resuming:") || !strings.Contains(stderr.String(), "runs from before the interruption count") {
		t.Errorf("second run did not resume the interrupted step:\n%s", stderr.String())
	}
	if !regexp.MustCompile(`first bad +[0-9a-f]+ change 6`).MatchString(stdout.String()) {
		t.Errorf("culprit not named:\n%s", stdout.String())
	}
	var after gitbisect.State
	b, _ = os.ReadFile(filepath.Join(work, "state.json"))
	json.Unmarshal(b, &after)
	if len(after.Refs.Good) < len(before.Refs.Good) || len(after.Refs.Bad) < len(before.Refs.Bad) ||
		len(after.Steps) <= len(before.Steps) || len(after.Steps[len(before.Steps)].Runs) < pending {
		t.Errorf("runs lost: before the kill %d good, %d bad, %d pending; after %d good, %d bad", len(before.Refs.Good),
			len(before.Refs.Bad), pending, len(after.Refs.Good), len(after.Refs.Bad))
	}
}
