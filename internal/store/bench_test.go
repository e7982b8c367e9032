package store

import (
	"path/filepath"
	"testing"
)

// BenchmarkFinishRun is the store's cost per run: reading, compressing and
// inserting a typical 30 KiB console log with a three-iteration result, in
// one transaction (WAL, synchronous=NORMAL).
func BenchmarkFinishRun(b *testing.B) {
	db, _ := tempDB(b)
	log := consoleLog(30<<10, 7)
	r := testResult(writeFile(b, filepath.Join(b.TempDir(), "run.log"), log), 0)
	ids := make([]int64, b.N)
	for i := range ids {
		id, err := db.StartRun(0, testConfig())
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	b.SetBytes(int64(len(log)))
	b.ResetTimer()
	for _, id := range ids {
		if err := db.FinishRun(id, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/run")
}

// BenchmarkRun is StartRun and FinishRun together: all the store adds to
// one run.
func BenchmarkRun(b *testing.B) {
	db, _ := tempDB(b)
	log := consoleLog(30<<10, 7)
	r := testResult(writeFile(b, filepath.Join(b.TempDir(), "run.log"), log), 0)
	s, err := db.BeginSession("batch", "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id, err := db.StartRun(s.ID, testConfig())
		if err != nil {
			b.Fatal(err)
		}
		if err := db.FinishRun(id, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/run")
}
