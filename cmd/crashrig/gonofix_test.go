package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/gonofix"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/xdg"
)

// TestStandaloneBuiltinBoot boots the Debian test kernel (no vDSO stack
// probe) with vdsoneighbour built by a toolchain without the Go 20427 fix:
// the built-in runs as its own program from /repro, stops itself after 2 s
// and passes.
func TestStandaloneBuiltinBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("copies a toolchain and boots a kernel")
	}
	kernel := testkernel.Path(t)
	ctx := context.Background()
	// The copy is keyed by content: share it with the user's cache.
	patched, err := gonofix.Toolchain(ctx, "go", filepath.Join(xdg.CacheDir(), "go-nofix"))
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	var stdout, stderr bytes.Buffer
	code := crashrig(ctx, []string{"run", "-k", kernel, "-r", "vdsoneighbour", "--go", patched, "-d", "20s",
		"--accel", "tcg", "--json", "--db", filepath.Join(state, "db"), "--", "-d", "2s"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("crashrig run: status %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var res struct {
		Verdict string `json:"verdict"`
		Log     string `json:"log"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	log, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"repro=/repro/vdsoneighbour", "vdsoneighbour: 64 goroutines, GOMAXPROCS=2", "no stack value corrupted"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("console log %s lacks %q", res.Log, want)
		}
	}
	if res.Verdict != "pass" {
		t.Errorf("verdict %q, want pass", res.Verdict)
	}
}
