package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

func TestRoundTrip(t *testing.T) {
	db, _ := tempDB(t)
	s, err := db.BeginSession("run", "first try", []string{"crashrig", "run", "-n", "3"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	id, err := db.StartRun(s.ID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := db.Run(id); err != nil || rec.Status != "running" {
		t.Fatalf("Run(%d) after StartRun = %+v, %v; want status running", id, rec, err)
	}
	log := consoleLog(30<<10, 1)
	r := testResult(writeFile(t, filepath.Join(t.TempDir(), "run.log"), log), int64(len(log)))
	if err := db.FinishRun(id, r); err != nil {
		t.Fatal(err)
	}

	got, err := db.Result(id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	stored, err := db.Log(id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, log) {
		t.Errorf("Log returned %d bytes, want the %d bytes written", len(stored), len(log))
	}

	rec, err := db.Run(id)
	if err != nil {
		t.Fatal(err)
	}
	want := RunRecord{ID: id, SessionID: s.ID, ResultID: r.ID, Status: "done",
		Verdict: verdict.Crash, Kind: r.Kind, Title: r.Title, Family: r.Family, Reason: r.Reason,
		TimeToCrash: 0.9, Boot: 1.8, Wall: 9.5, Start: r.Start, Host: "testhost", Accel: "tcg,thread=multi",
		Config: cfg, ConfigHash: cfg.Hash(), Iterations: r.Iterations, LogBytes: int64(len(log))}
	if diff := cmp.Diff(want, *rec, cmpopts.IgnoreFields(RunRecord{}, "UID", "End")); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}
	if rec.End.Before(rec.Start) || len(rec.UID) != 32 {
		t.Errorf("End %v before Start %v, or UID %q not 32 hex digits", rec.End, rec.Start, rec.UID)
	}
}

func TestLogCap(t *testing.T) {
	const limit = 1 << 10
	lines := consoleLog(20<<10, 2)
	tests := []struct {
		name      string
		log       []byte
		runBytes  int64 // what the run counted (0 = the file's size)
		runCapped bool
		capped    bool
	}{
		{"empty", nil, 0, false, false},
		{"small", lines[:100], 0, false, false},
		{"exactly the cap", lines[:limit], 0, false, false},
		{"one byte over", lines[:limit+1], 0, false, true},
		{"twenty times over", lines, 0, false, true},
		{"no newlines", bytes.Repeat([]byte("x"), 5*limit), 0, false, true},
		{"capped by the run", lines[:100], 64 << 20, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := tempDB(t)
			db.LogCap = limit
			id, err := db.StartRun(0, testConfig())
			if err != nil {
				t.Fatal(err)
			}
			r := testResult(writeFile(t, filepath.Join(t.TempDir(), "log"), tt.log), tt.runBytes)
			r.LogCapped = tt.runCapped
			if err := db.FinishRun(id, r); err != nil {
				t.Fatal(err)
			}
			rec, err := db.Run(id)
			if err != nil {
				t.Fatal(err)
			}
			wantBytes := max(tt.runBytes, int64(len(tt.log)))
			if rec.LogBytes != wantBytes || rec.LogCapped != tt.capped {
				t.Errorf("LogBytes, LogCapped = %d, %v; want %d, %v", rec.LogBytes, rec.LogCapped, wantBytes, tt.capped)
			}
			got, err := db.Log(id)
			if err != nil {
				t.Fatal(err)
			}
			checkCapped(t, tt.log, got, limit)
			var kept, capBytes int64
			db.sql.QueryRow(`SELECT kept_bytes, cap_bytes FROM logs WHERE run_id = ?`, id).Scan(&kept, &capBytes)
			if kept > limit || capBytes != limit {
				t.Errorf("kept %d bytes with cap %d recorded; want at most %d and cap %d", kept, capBytes, limit, limit)
			}
		})
	}
}

// checkCapped checks that got is orig, or orig's head and tail around a
// notice, within limit bytes.
func checkCapped(t *testing.T, orig, got []byte, limit int) {
	t.Helper()
	if len(orig) <= limit {
		if !bytes.Equal(got, orig) {
			t.Errorf("log under the cap changed: %d bytes in, %d out", len(orig), len(got))
		}
		return
	}
	i := bytes.Index(got, []byte("[crashrig: "))
	j := i + bytes.IndexByte(got[i:], '\n') + 1
	if i < 0 || j <= i {
		t.Fatalf("capped log has no notice:\n%s", got)
	}
	head, tail := bytes.TrimSuffix(got[:i], []byte("\n")), got[j:]
	if !bytes.HasPrefix(orig, head) || !bytes.HasSuffix(orig, tail) || len(head) == 0 || len(tail) == 0 {
		t.Errorf("capped log is not the original's head (%d bytes) and tail (%d bytes)", len(head), len(tail))
	}
	if len(head)+len(tail) > limit || len(head)+len(tail) < limit-2*snap {
		t.Errorf("kept %d + %d bytes, want about %d", len(head), len(tail), limit)
	}
}

func TestMissingLog(t *testing.T) {
	db, _ := tempDB(t)
	id, _ := db.StartRun(0, testConfig())
	r := testResult(filepath.Join(t.TempDir(), "gone.log"), 1234)
	if err := db.FinishRun(id, r); err != nil {
		t.Fatalf("FinishRun with a missing log file: %v (want the run recorded anyway)", err)
	}
	if _, err := db.Log(id); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gone.log") {
		t.Errorf("Log = %v, want ErrNotFound naming the file", err)
	}
	if rec, _ := db.Run(id); rec.Status != "done" || rec.LogBytes != 1234 || len(rec.Iterations) != 3 {
		t.Errorf("run = %+v, want done with 3 iterations and LogBytes 1234", rec)
	}
}

func TestErrors(t *testing.T) {
	db, _ := tempDB(t)
	id, _ := db.StartRun(0, testConfig())
	log := writeFile(t, filepath.Join(t.TempDir(), "log"), []byte("boot\n"))
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"result of a running run", second(db.Result(id)), ErrNotFound},
		{"log of a running run", second(db.Log(id)), ErrNotFound},
		{"finish", db.FinishRun(id, testResult(log, 5)), nil},
		{"finish again", db.FinishRun(id, testResult(log, 5)), ErrFinished},
		{"finish unknown", db.FinishRun(9999, testResult(log, 5)), ErrNotFound},
		{"interrupt a done run", db.MarkInterrupted(id), nil},
		{"interrupt unknown", db.MarkInterrupted(9999), ErrNotFound},
		{"result unknown", second(db.Result(9999)), ErrNotFound},
		{"log unknown", second(db.Log(9999)), ErrNotFound},
		{"run unknown", second(db.Run(9999)), ErrNotFound},
		{"end unknown session", db.EndSession(9999), ErrNotFound},
		{"latest of no sessions", second(db.LatestSession("")), ErrNotFound},
	}
	for _, c := range checks {
		if c.want == nil && c.err != nil || c.want != nil && !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	var iters int
	db.sql.QueryRow(`SELECT count(*) FROM iterations WHERE run_id = ?`, id).Scan(&iters)
	if rec, _ := db.Run(id); rec.Status != "done" || iters != 3 {
		t.Errorf("after a second FinishRun and MarkInterrupted: status %s with %d iterations, want done with 3", rec.Status, iters)
	}
	if _, err := db.StartRun(9999, testConfig()); err == nil {
		t.Error("StartRun in an unknown session succeeded")
	}
}

func second[T any](_ T, err error) error { return err }

func TestSessions(t *testing.T) {
	db, path := tempDB(t)
	a, _ := db.BeginSession("run", "a", []string{"crashrig", "run"})
	b, _ := db.BeginSession("compare", "b", nil)
	c, _ := db.BeginSession("run", "c", nil)
	if err := db.SetSessionMeta(b.ID, "decision", "B crashes more"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSessionMeta(b.ID, "odd \"key\".x", "1"); err != nil {
		t.Fatal(err)
	}
	if err := db.EndSession(a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.LatestSession("run"); got == nil || got.ID != c.ID {
		t.Errorf("LatestSession(run) = %+v, want session %d", got, c.ID)
	}
	got, err := db.LatestSession("compare")
	if err != nil {
		t.Fatal(err)
	}
	want := Session{ID: b.ID, UID: b.UID, Kind: "compare", Label: "b", Started: b.Started, Host: b.Host,
		Meta: map[string]string{"decision": "B crashes more", "odd \"key\".x": "1"}}
	if diff := cmp.Diff(want, *got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("LatestSession(compare) (-want +got):\n%s", diff)
	}
	ss, err := db.Sessions(2)
	if err != nil || len(ss) != 2 || ss[0].ID != c.ID || ss[1].ID != b.ID {
		t.Errorf("Sessions(2) = %+v, %v; want sessions %d, %d", ss, err, c.ID, b.ID)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	all, _ := db.Sessions(0)
	for _, s := range all {
		if s.Ended.IsZero() || s.Interrupted != (s.ID != a.ID) {
			t.Errorf("after Close, session %d: ended %v, interrupted %v; want ended, interrupted unless EndSession'd", s.ID, s.Ended, s.Interrupted)
		}
	}
	if all[len(all)-1].ID != a.ID || !slicesEqual(all[len(all)-1].Args, []string{"crashrig", "run"}) {
		t.Errorf("oldest session = %+v, want %d with its args", all[len(all)-1], a.ID)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestRunsQuery(t *testing.T) {
	db, _ := tempDB(t)
	log := writeFile(t, filepath.Join(t.TempDir(), "log"), []byte("boot\n"))
	s1, _ := db.BeginSession("compare", "", nil)
	s2, _ := db.BeginSession("run", "", nil)
	a, b := testConfig(), testConfig()
	b.KernelSHA256, b.Variant = strings.Repeat("99", 32), "B"
	var ids []int64
	for i, c := range []record.Config{a, b, a, b} {
		id, err := db.StartRun(s1.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if i < 3 {
			if err := db.FinishRun(id, testResult(log, 5)); err != nil {
				t.Fatal(err)
			}
		}
	}
	other, _ := db.StartRun(s2.ID, a)
	db.MarkInterrupted(other)
	tests := []struct {
		q    Query
		want []int64
	}{
		{Query{}, append(ids, other)},
		{Query{SessionID: s1.ID}, ids},
		{Query{SessionID: s1.ID, Variant: "B"}, []int64{ids[1], ids[3]}},
		{Query{ConfigHash: a.Hash()[:8]}, []int64{ids[0], ids[2], other}},
		{Query{ConfigHash: strings.ToUpper(b.Hash())}, []int64{ids[1], ids[3]}},
		{Query{KernelSHA256: b.KernelSHA256}, []int64{ids[1], ids[3]}},
		{Query{Status: "running"}, []int64{ids[3]}},
		{Query{Status: "interrupted"}, []int64{other}},
		{Query{Limit: 2}, []int64{ids[3], other}},
		{Query{ConfigHash: "zz"}, nil},
	}
	for _, tt := range tests {
		recs, err := db.Runs(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range recs {
			got = append(got, r.ID)
			if r.Status == "done" && len(r.Iterations) != 3 || r.Status != "done" && len(r.Iterations) != 0 {
				t.Errorf("run %d (%s) has %d iterations", r.ID, r.Status, len(r.Iterations))
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Runs(%+v) ids (-want +got):\n%s", tt.q, diff)
		}
	}
	recs, _ := db.Runs(Query{Status: "interrupted"})
	if len(recs) == 1 && (recs[0].Verdict != verdict.Interrupted || recs[0].Config.Variant != "A") {
		t.Errorf("interrupted run = %+v, want verdict interrupted, variant A", recs[0])
	}
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	if got, want := DefaultPath(), filepath.Join(dir, "crashrig", "crashrig.db"); got != want {
		t.Errorf("DefaultPath() = %s, want %s", got, want)
	}
	db, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(DefaultPath()); err != nil {
		t.Errorf("Open(\"\") did not create the default database: %v", err)
	}
	var mode string
	db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %s, want wal", mode)
	}
}

func TestOddPath(t *testing.T) {
	for _, name := range []string{"with space.db", "q?mark=1.db", "hash#frag.db", "pct%20.db", "colon:x.db"} {
		path := filepath.Join(t.TempDir(), name)
		db := openTest(t, path)
		if _, err := db.StartRun(0, testConfig()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Open(%q) wrote somewhere else: %v", path, err)
		}
	}
}

// TestPrivateFiles: the database and its directory are the user's alone (the XDG base
// directory spec asks 0700 of state directories).
func TestPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "crashrig")
	db, err := Open(filepath.Join(dir, "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "c.db"): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}
