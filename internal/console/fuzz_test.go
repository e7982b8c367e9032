package console

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks the invariants that hold for any input: a crash has a
// title, offsets lie inside the log, and streaming the log in any chunks
// gives the same Result as parsing it whole.
func FuzzParse(f *testing.F) {
	for _, c := range readCorpus(f) {
		log := c.log
		// Seeds around the first report keep the fuzzer's inputs small.
		if res := Parse(log); len(res.Reports) > 0 {
			start := res.Reports[0].Start - 512
			if start < 0 {
				start = 0
			}
			end := res.Reports[0].End + 256
			if end > int64(len(log)) {
				end = int64(len(log))
			}
			log = log[start:end]
		} else if len(log) > 4096 {
			log = log[len(log)-4096:]
		}
		f.Add(log)
	}
	f.Add([]byte("panic: x\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n"))
	f.Add([]byte("[    1.000000][    T1] BUG: unable to handle page fault for address: 0\n[    1.000001][    T1] RIP: 0010:f+0x1/0x2\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		res := Parse(log)
		checkInvariants(t, log, res)
		rnd := rand.New(rand.NewSource(int64(len(log))))
		sres := streamChunks(log, rnd, 1+rnd.Intn(64))
		if d := cmp.Diff(res, sres); d != "" {
			t.Fatalf("streamed result differs (-parse +stream):\n%s", d)
		}
	})
}
