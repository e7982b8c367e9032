package kbuild

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunLogsAndFails(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	if err := Run(context.Background(), dir, []string{"sh", "-c", "echo $K; pwd"}, []string{"K=v"}, log); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if got := string(b); got != "v\n"+dir+"\n" {
		t.Errorf("log %q", got)
	}
	if err := Run(context.Background(), dir, []string{"sh", "-c", "exit 3"}, nil, log); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: %v", err)
	}
}

// TestRunCancelKillsGroup: a cancel must not wait for a grandchild that holds the log.
func TestRunCancelKillsGroup(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Run(ctx, dir, []string{"sh", "-c", "sleep 30 & sleep 30"}, nil, filepath.Join(dir, "log"))
	if err == nil || time.Since(start) > 4*time.Second {
		t.Errorf("cancelled build: %v after %s", err, time.Since(start))
	}
}

func TestCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(src, []byte("kernel"), 0o644)
	if err := Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "kernel" {
		t.Errorf("copy holds %q", b)
	}
	if err := Copy(filepath.Join(dir, "missing"), dst); err == nil {
		t.Error("copying a missing file: no error")
	}
}
