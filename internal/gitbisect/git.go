package gitbisect

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// git runs git in dir and returns its standard output, trimmed.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := gitOut(ctx, dir, args...)
	return strings.TrimSpace(out), err
}

func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// bisectMark tells git bisect what a commit is and returns what git said: the next
// commit is checked out, or the bisection ended.
func bisectMark(ctx context.Context, tree, word, commit string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", tree, "bisect", word, commit)
	out, err := cmd.CombinedOutput()
	s := string(out)
	// git exits non-zero when only skipped commits are left; that is an answer.
	if err != nil && !strings.Contains(s, "only 'skip'ped commits left") {
		return s, fmt.Errorf("git bisect %s %s: %v: %s", word, commit, err, strings.TrimSpace(s))
	}
	return s, nil
}

// An ending is what git bisect said when it stopped.
type ending struct {
	first string   // the first bad commit, when one
	could []string // the commits it could be, when only skipped ones are left
}

// parseEnding reads git bisect's output: "<sha> is the first bad commit", or "There are
// only 'skip'ped commits left to test. The first bad commit could be any of: <shas>".
// It returns nil while the bisection goes on.
func parseEnding(out string) *ending {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.HasSuffix(l, " is the first bad commit") && isSHA(f[0]) {
			return &ending{first: f[0]}
		}
		if strings.Contains(l, "could be any of:") {
			e := &ending{}
			for _, m := range lines[i+1:] {
				if f := strings.Fields(m); len(f) == 1 && isSHA(f[0]) {
					e.could = append(e.could, f[0])
				}
			}
			return e
		}
	}
	return nil
}

func isSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
