package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// sampleRun is a Go crash in the second of three iterations, as the runner returns it.
func sampleRun() *record.Run {
	title := "go: fatal error: concurrent map writes in main.w"
	r := &record.Run{
		ID: "20261125-140254-abcd", Start: time.Date(2026, 11, 25, 14, 2, 54, 0, time.UTC), Wall: 9.5,
		Accel: "tcg,thread=multi", AccelNote: "KVM unusable: fell back to TCG", Log: "/var/log/x.log", LogBytes: 4096,
		Reproducer: "go20427", ReproArgs: []string{"-goroutines", "64"}, Duration: 60, SMP: 2, Memory: 512,
		Kernel: kernel.Image{Path: "/boot/vmlinuz", SHA256: strings.Repeat("ab", 32), Release: "6.1.0",
			Label: "seed-probed", Description: "probed vDSO: -fstack-check on vclock_gettime.o"},
		QemuShell: "qemu-system-x86_64 -m 512", Text: "fatal error: concurrent map writes\n",
		Info: []record.InfoItem{{Key: "footprint", Value: "4192 bytes"}}, Secondary: []string{"WARNING in foo"},
	}
	r.Verdict, r.Kind, r.Title, r.Family = verdict.Crash, verdict.KindGo, title, "go-fatal"
	r.Reason = "go crash report on the console 0.90s after the reproducer started"
	r.TimeToCrash, r.HostTTC, r.BootGuest, r.BootHost = 0.9, 0.95, 1.6, 1.8
	r.Iterations = []verdict.Iteration{{Index: 0, Verdict: verdict.Pass, Ran: 3.25},
		{Index: 1, Verdict: verdict.Crash, Kind: "go", Title: title, Family: "go-fatal", TimeToCrash: 0.9, Ran: 0.9},
		{Index: 2, Verdict: verdict.Pass, Ran: 3}}
	return r
}

func TestRunViews(t *testing.T) {
	r := sampleRun()
	for _, tc := range []struct {
		name    string
		id      int64
		verbose bool
	}{{"run.txt.golden", 7, false}, {"run-verbose.txt.golden", 7, true}, {"run-unrecorded.txt.golden", 0, false}} {
		var buf bytes.Buffer
		RunText(&buf, tc.id, r, tc.verbose)
		checkGolden(t, tc.name, buf.String())
	}
	var buf bytes.Buffer
	if err := RunJSON(&buf, 7, r); err != nil {
		t.Fatal(err)
	}
	var back struct {
		RunID int64 `json:"run_id"`
		record.Run
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.RunID != 7 || back.Title != r.Title || back.Kernel.SHA256 != r.Kernel.SHA256 || len(back.Iterations) != 3 {
		t.Errorf("RunJSON does not round-trip: %+v", back)
	}
}

func TestParseLogViews(t *testing.T) {
	// A kernel oops, a Go crash, and a log with no crash whose line only looks
	// like a guest marker. (Verdicts from crashrig's own logs: package verdict.)
	lookalike := "[crashrig] init uptime=1.20\n"
	files := []struct {
		name string
		data string
	}{
		{"oops.log", "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008\n" +
			"[   12.345679] #PF: supervisor read access in kernel mode\n" +
			"[   12.345680] Oops: 0000 [#1] PREEMPT SMP NOPTI\n" +
			"[   12.345681] CPU: 1 PID: 77 Comm: repro Not tainted 6.1.0 #1\n" +
			"[   12.345682] RIP: 0010:foo_read+0x12/0x40\n" +
			"[   12.345683] Call Trace:\n" +
			"[   12.345684]  <TASK>\n" +
			"[   12.345685]  vfs_read+0xa0/0x2c0\n" +
			"[   12.345686]  ksys_read+0x5f/0xe0\n" +
			"[   12.345687]  </TASK>\n"},
		{"go.log", "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\n" +
			"main.pick(...)\n\t/src/main.go:12\nmain.main()\n\t/src/main.go:20 +0x1d\nexit status 2\n"},
		{"clean.log", "Linux version 6.1.0\n" + lookalike + "all good\n"},
	}
	var text, js strings.Builder
	for _, f := range files {
		rec := ParseLog(f.name, []byte(f.data), true)
		rec.Text(&text, false)
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		js.Write(b)
		js.WriteByte('\n')
	}
	checkGolden(t, "parse.txt.golden", text.String())
	checkGolden(t, "parse.json.golden", js.String())
}

// sessionDB records a comparison session of old (3 passes) and new (3 crashes).
func sessionDB(t *testing.T) (*store.DB, *store.Session) {
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := db.BeginSession("compare", "old vs new", []string{"compare"})
	if err != nil {
		t.Fatal(err)
	}
	base := record.Config{KernelSHA256: strings.Repeat("ab", 32), KernelLabel: "old", Reproducer: "vdsostack",
		SMP: 2, Memory: 512, Cmdline: "console=ttyS0", Accel: "tcg", Duration: 10, Iterations: 1}
	for i, v := range []string{"old", "new", "old", "new", "old", "new"} {
		c := base
		c.Variant, c.KernelLabel = v, v
		if v == "new" {
			c.KernelSHA256 = strings.Repeat("cd", 32)
		}
		id, err := db.StartRun(s.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		r := sampleRun()
		r.ID = r.ID + string(rune('a'+i))
		r.Iterations, r.Duration, r.Reproducer, r.ReproArgs = nil, 10, "vdsostack", nil
		r.Log = ""
		if v == "old" {
			r.Outcome = verdict.Outcome{Verdict: verdict.Pass, Reason: "ran its whole duration"}
			r.Iterations = []verdict.Iteration{{Verdict: verdict.Pass, Ran: 10}}
		} else {
			r.Iterations = []verdict.Iteration{{Verdict: verdict.Crash, Kind: "go", Title: r.Title, Family: r.Family,
				TimeToCrash: 0.5 + float64(i)/10, Ran: 0.5 + float64(i)/10}}
		}
		if err := db.FinishRun(id, r); err != nil {
			t.Fatal(err)
		}
	}
	db.SetSessionMeta(s.ID, "decided", "new crashes more than old")
	s, _ = db.Session(s.ID)
	return db, s
}

func TestFromSession(t *testing.T) {
	db, s := sessionDB(t)
	m, err := FromSession(db, s, generated)
	if err != nil {
		t.Fatal(err)
	}
	if m.Session != s.ID || len(m.Variants) != 2 || m.Decision == nil || m.Decision.Text != "new crashes more than old" {
		t.Fatalf("model: session %d, %d variants, decision %+v", m.Session, len(m.Variants), m.Decision)
	}
	m.Title = "session" // its start time is the clock's
	var buf bytes.Buffer
	if err := m.Text(&buf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "session.txt.golden", buf.String())
}

func TestFromComparison(t *testing.T) {
	db, s := sessionDB(t)
	d := sequential.Decision{A: "old", B: "new", Outcome: sequential.MoreB, Method: sequential.LogRank, MinRatio: 2,
		Runs: [2]int{3, 3}, Crashes: [2]int{0, 3}, Ratio: stats.Interval{Estimate: 0, Lower: 0, Upper: 0.2, Conf: 0.95}}
	m, err := FromComparison(db, s.ID, []sequential.Decision{d}, "alpha 0.05", 4, []int{2, 0}, generated)
	if err != nil {
		t.Fatal(err)
	}
	if m.Decision == nil || m.Decision.Text != "new crashes more than old" || m.Decision.Items[0].Outcome != "b-more" {
		t.Fatalf("decision %+v", m.Decision)
	}
	if m.Variants[0].Name != "old" || m.Variants[0].Reused != 2 || m.Variants[1].Reused != 0 {
		t.Errorf("reused runs: %s %d, %s %d; want old 2, new 0", m.Variants[0].Name, m.Variants[0].Reused,
			m.Variants[1].Name, m.Variants[1].Reused)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "continued: 4 runs") {
		t.Errorf("warnings %q, want the continued-runs note", m.Warnings)
	}
	und := d
	und.Outcome = sequential.Undecided
	m, _ = FromComparison(db, s.ID, []sequential.Decision{und}, "", 0, nil, generated)
	if b := m.Decision.Items[0].Budget; !strings.Contains(b, fmt.Sprintf("continues session %d", s.ID)) {
		t.Errorf("undecided budget note %q does not name the session to continue", b)
	}
}

// TestRunTextSnapshot: a restored run says where it started from instead of a
// boot time (its guest uptime is the saved boot's); a run that fell back says why.
func TestRunTextSnapshot(t *testing.T) {
	for _, tc := range []struct{ snapshot, want, not string }{
		{"restored from saved state abc (100 MB)", "start          1.50s to /init, restored from saved state abc", "guest uptime"},
		{"booted: restore failed: Not a migration stream", "snapshot       booted: restore failed", ""},
	} {
		r := sampleRun()
		r.BootHost, r.BootGuest, r.Snapshot = 1.5, 2.3, tc.snapshot
		var buf bytes.Buffer
		RunText(&buf, 0, r, false)
		if !strings.Contains(buf.String(), tc.want) || tc.not != "" && strings.Contains(buf.String(), tc.not) {
			t.Errorf("snapshot %q: want %q (and no %q) in\n%s", tc.snapshot, tc.want, tc.not, buf.String())
		}
	}
}

func TestListings(t *testing.T) {
	db, s := sessionDB(t)
	recs, err := db.Runs(store.Query{SessionID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	row := SessionRowOf(*s, recs)
	if row.Runs != 6 || row.Crashes != 3 || strings.Join(row.Variants, ",") != "old,new" || row.Decision == "" {
		t.Errorf("session row %+v", row)
	}
	runs := RunRows(recs)
	if len(runs) != 6 || runs[0].ID <= runs[5].ID || runs[0].Variant != "new" {
		t.Errorf("run rows not newest first: %+v", runs)
	}
	var buf bytes.Buffer
	RunsText(&buf, s, runs)
	if !strings.Contains(buf.String(), fmt.Sprintf("crashrig log %d)", runs[0].ID)) {
		t.Errorf("a crashed run's line does not say how to see its log:\n%s", buf.String())
	}
	buf.Reset()
	if err := ListJSON[SessionRow](&buf, nil); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("empty listing as JSON = %q, %v", buf.String(), err)
	}
}
