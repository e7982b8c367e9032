package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSnapshotReportWrite: the ratios the goals name, from hand-made figures.
func TestSnapshotReportWrite(t *testing.T) {
	r := &SnapshotReport{Opts: Options{Kernel: "k", Duration: time.Second, SMP: 2, Runs: 3}, Load: [2]string{"1 1 1", "2 2 2"},
		SeedWall:     Sample{Name: "seed method wall", Values: []float64{6, 5, 7}},
		BootWall:     Sample{Name: "booted run wall", Values: []float64{4, 5, 6}},
		SnapWall:     Sample{Name: "restored run wall", Values: []float64{1.5, 1.6, 1.4}},
		BootOverhead: Sample{Name: "booted run overhead", Values: []float64{4}},
		SnapOverhead: Sample{Name: "restored run overhead", Values: []float64{0.3, 0.5, 0.4}},
		J2Runs:       10, BootJ2Wall: 30, SnapJ2Wall: 10,
		CompareBoot: &CompareTiming{Wall: 40, Runs: 12, Decision: "x"}, CompareSnap: &CompareTiming{Wall: 20, Runs: 12, Decision: "x"},
		SeedKernelClean: "/s/clean/bzImage", SeedKernelPro: "/s/probed/bzImage"}
	var b bytes.Buffer
	r.Write(&b)
	for _, want := range []string{
		"0.83 × seed",                      // 5 / 6
		"0.25 × seed",                      // 1.5 / 6
		"0.400s",                           // overhead median
		"1200 runs/hour", "3600 runs/hour", // 10 × 3600 / 30 and / 10
		"83% of 2 × single", // 1200 / (7200 / 5)
		"75% of 2 × single", // 3600 / (7200 / 1.5)
		"3.00 × booted",     // 3600 / 1200
		"clean/bzImage vs probed/bzImage",
		"0.50 × booted", // 20 / 40
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
