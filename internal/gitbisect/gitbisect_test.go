package gitbisect

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// The test history: commit i (0..commits-1) writes repro.sh; from culprit on it crashes
// the kernel through sysrq after a short random delay, before it sleeps. Commit
// noBuild's build.sh fails. The build copies the test kernel to bzImage.
const (
	commits = 9
	culprit = 6
	noBuild = 4 // git's first pick between commits 0 and 8
)

// makeRepo builds the history and returns its directory and the commit ids.
func makeRepo(t *testing.T, kernel string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	gitT := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitT("init", "-q", "-b", "main")
	var ids []string
	for i := range commits {
		repro := fmt.Sprintf("#!/bin/sh\n# version %d\nsleep 30\n", i)
		if i >= culprit {
			repro = fmt.Sprintf("#!/bin/sh\n# version %d\nsleep 0.$((RANDOM %% 9 + 1))\necho c > /proc/sysrq-trigger\nsleep 30\n", i)
		}
		build := fmt.Sprintf("#!/bin/sh\ncp %s bzImage\n", kernel)
		if i == noBuild {
			build = "#!/bin/sh\necho 'error: this commit does not compile' >&2\nexit 1\n"
		}
		for name, body := range map[string]string{"repro.sh": repro, "build.sh": build, ".gitignore": "bzImage\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		gitT("add", "-A")
		gitT("commit", "-q", "-m", fmt.Sprintf("change %d", i))
		ids = append(ids, gitT("rev-parse", "HEAD"))
	}
	return dir, ids
}

// countingBooter counts boots and cancels the bisection after `after` of them.
type countingBooter struct {
	Booter
	n      *atomic.Int32
	after  int32
	cancel context.CancelFunc
}

func (b countingBooter) BootControlled(ctx context.Context, ctl *run.Control) (*record.Run, error) {
	if b.n.Add(1) == b.after && b.cancel != nil {
		b.cancel()
	}
	return b.Booter.BootControlled(ctx, ctl)
}

func options(repo, work, kernelPath string, boots *atomic.Int32, after int32, cancel context.CancelFunc) Options {
	return Options{
		Repo: repo, Good: "main~8", Bad: "main", Build: "sh build.sh", Kernel: "bzImage", Work: work,
		Key:    "repro.sh",
		Bisect: bisect.Config{Limit: 3},
		Prepare: func(ctx context.Context, tree, k string) (Booter, error) {
			repro, err := repro.Resolve(filepath.Join(tree, "repro.sh"), nil)
			if err != nil {
				return nil, err
			}
			o := run.Options{Kernel: k, Repro: repro, Duration: 3 * time.Second, SMP: 1, Memory: 256,
				LogDir: filepath.Join(work, "logs")}
			o.Image.Base = image.BaseBusybox
			p, err := run.Prepare(ctx, o)
			if err != nil {
				return nil, err
			}
			return countingBooter{Booter: p, n: boots, after: after, cancel: cancel}, nil
		},
	}
}

// TestBisectRealBoots bisects the test history with real boots of the test kernel: the
// first run is interrupted after 12 boots, the second resumes from the state file and
// must name the culprit, having skipped the commit that does not build.
func TestBisectRealBoots(t *testing.T) {
	kernel := testkernel.Path(t)
	repo, ids := makeRepo(t, kernel)
	before, _ := exec.Command("git", "-C", repo, "status", "--porcelain").Output()
	work := t.TempDir()
	var boots atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := Bisect(ctx, options(repo, work, kernel, &boots, 12, cancel))
	if err == nil || ctx.Err() == nil {
		t.Fatalf("interrupted bisection: err %v, want the cancellation", err)
	}
	st, err := loadState(filepath.Join(work, "state.json"))
	if err != nil || st == nil {
		t.Fatalf("no state after the interruption: %v", err)
	}
	kept := len(st.Refs.Good) + len(st.Refs.Bad) + len(st.Steps)
	res, err := Bisect(context.Background(), options(repo, work, kernel, &boots, 0, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d boots, %s; %d steps; confidence %.3f; resumed with %d runs and steps kept", boots.Load(),
		time.Since(start).Round(time.Second), len(res.Steps), res.Confidence, kept)
	for _, s := range res.Steps {
		t.Logf("  %.8s %s: %s (%d runs)", s.Commit, s.Verdict, s.Reason, len(s.Runs))
	}
	if !res.Resumed || kept == 0 {
		t.Errorf("resumed %v with %d runs and steps kept: want a resumption", res.Resumed, kept)
	}
	if res.First != ids[culprit] {
		t.Fatalf("first bad %q (could be %v, %s), want %s", res.First, res.Could, res.Reason, ids[culprit])
	}
	if res.Confidence < 0.95 {
		t.Errorf("confidence %.3f, want at least 0.95", res.Confidence)
	}
	log, _ := os.ReadFile(res.Log)
	for _, want := range []string{"step 1:", "first bad commit: " + ids[culprit], "bad run: crash",
		short(ids[noBuild]) + ": skip: build failed"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("bisect.log lacks %q", want)
		}
	}
	after, _ := exec.Command("git", "-C", repo, "status", "--porcelain").Output()
	if head, _ := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output(); strings.TrimSpace(string(head)) != ids[commits-1] ||
		string(before) != string(after) {
		t.Errorf("the user's checkout changed: HEAD %s, status %q → %q", head, before, after)
	}
}
