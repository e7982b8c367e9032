package console

import (
	"bytes"
	"testing"
)

// benchLog is an ordinary console log: every corpus log concatenated.
func benchLog(b *testing.B) []byte {
	var buf bytes.Buffer
	for _, c := range readCorpus(b) {
		buf.Write(c.log)
	}
	return buf.Bytes()
}

// BenchmarkParse measures whole-log throughput (MB/s) on ordinary logs.
func BenchmarkParse(b *testing.B) {
	log := benchLog(b)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(log)
	}
}

// BenchmarkStream measures throughput when the log arrives in 4 KiB
// chunks, as from a serial console pipe.
func BenchmarkStream(b *testing.B) {
	log := benchLog(b)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream()
		for p := log; len(p) > 0; {
			n := min(4096, len(p))
			s.Write(p[:n])
			p = p[n:]
			s.CrashSeen()
		}
		s.Close()
	}
}

// BenchmarkQuiet measures the common case: lots of boot and program
// output with no crash in it.
func BenchmarkQuiet(b *testing.B) {
	line := []byte("[   12.345678] virtio_net virtio0 eth0: renamed from tmp; link is up, 1000Mbps full duplex\n" +
		"hello from the reproducer: iteration 17 ok, 4096 bytes written in 12ms\n")
	log := bytes.Repeat(line, 20000)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(log)
	}
}
