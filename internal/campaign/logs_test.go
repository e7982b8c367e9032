package campaign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// TestLogRecorder: under a budget a pass's log is trimmed to its share, a
// crash's kept whole; without one both keep the store's default.
func TestLogRecorder(t *testing.T) {
	dir := t.TempDir()
	const size = 200 << 10
	log := filepath.Join(dir, "console.log")
	os.WriteFile(log, bytes.Repeat([]byte("[    0.000000] a console line of some length\n"), size/46), 0o644)
	db, err := store.Open(filepath.Join(dir, "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		budget   int64
		verdict  verdict.Verdict
		trimmed  bool
		maxBytes int
	}{
		{1 << 20, verdict.Pass, true, 64 << 10},     // 1 MiB / (2 × 8 runs) = 64 KiB
		{1 << 20, verdict.Crash, false, size},       // whole
		{1 << 20, verdict.BootFail, false, size},    // whole: a failure's evidence
		{0, verdict.Pass, false, size},              // no budget: the store's 4 MiB cap
		{1 << 10, verdict.Pass, true, 16<<10 + 200}, // never under 16 KiB
	}
	for _, tt := range tests {
		sess, _ := db.BeginSession("batch", "logs", nil)
		rec := &LogRecorder{Recorder: store.Recorder{DB: db, Session: sess.ID, Configs: []record.Config{{Reproducer: "x"}}}}
		rec.SetBudget(tt.budget, 8)
		id, err := rec.Started(0)
		if err != nil {
			t.Fatal(err)
		}
		res := &record.Run{Outcome: verdict.Outcome{Verdict: tt.verdict}, Log: log, LogBytes: size}
		if err := rec.Finished(id, 0, res); err != nil {
			t.Fatal(err)
		}
		b, err := db.Log(id)
		if err != nil {
			t.Fatal(err)
		}
		trimmed := bytes.Contains(b, []byte("dropped here"))
		if trimmed != tt.trimmed || len(b) > tt.maxBytes+200 {
			t.Errorf("budget %d, %s: %d bytes kept, trimmed %v; want at most %d, trimmed %v", tt.budget, tt.verdict, len(b), trimmed, tt.maxBytes, tt.trimmed)
		}
		if db.LogCap != 0 {
			t.Errorf("the store's cap was left at %d", db.LogCap)
		}
	}
}
