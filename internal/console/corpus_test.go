package console

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden .json files of testdata")

// A corpus file is header lines ("Key: value"), a blank line, then the raw
// console log, byte for byte. The Title header is the expected primary
// title ("none" for no crash); the golden .json beside the file pins the
// rest of the Result. See testdata/README.md.
type corpusFile struct {
	name   string
	header map[string]string
	log    []byte
}

func readCorpus(t testing.TB) []corpusFile {
	t.Helper()
	var files []corpusFile
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".txt") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		head, log, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line after the header", path)
		}
		h := map[string]string{}
		for _, l := range strings.Split(string(head), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				t.Fatalf("%s: header line %q is not Key: value", path, l)
			}
			k = strings.TrimSpace(k)
			if h[k] != "" {
				h[k] += "\n"
			}
			h[k] += strings.TrimSpace(v)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(path), "testdata/"), ".txt")
		files = append(files, corpusFile{name: name, header: h, log: log})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	return files
}

// golden is the part of a Result pinned by the .json files.
type golden struct {
	Crashed        bool           `json:"crashed"`
	Truncated      bool           `json:"truncated,omitempty"`
	CorruptMarkers int            `json:"corrupt_markers,omitempty"`
	Markers        []string       `json:"markers,omitempty"`
	Reports        []goldenReport `json:"reports,omitempty"`
}

type goldenReport struct {
	Kind            Kind     `json:"kind"`
	Family          string   `json:"family"`
	Title           string   `json:"title"`
	AltTitles       []string `json:"alt_titles,omitempty"`
	Corrupted       bool     `json:"corrupted,omitempty"`
	CorruptedReason string   `json:"corrupted_reason,omitempty"`
	Notes           []string `json:"notes,omitempty"`
	Start           int64    `json:"start"`
	End             int64    `json:"end"`
	KernelTime      *float64 `json:"kernel_time,omitempty"`
	TextLines       int      `json:"text_lines"`
	TextHead        []string `json:"text_head"`
}

func toGolden(r *Result) golden {
	g := golden{Crashed: r.Crashed, Truncated: r.Truncated, CorruptMarkers: r.CorruptMarkers}
	for _, m := range r.Markers {
		g.Markers = append(g.Markers, m.Name+"@"+itoa(m.Offset))
	}
	for _, rep := range r.Reports {
		lines := strings.Split(strings.TrimSuffix(rep.Text, "\n"), "\n")
		head := lines
		if len(head) > 4 {
			head = head[:4]
		}
		gr := goldenReport{Kind: rep.Kind, Family: rep.Family, Title: rep.Title, AltTitles: rep.AltTitles,
			Corrupted: rep.Corrupted, CorruptedReason: rep.CorruptedReason, Notes: rep.Notes,
			Start: rep.Start, End: rep.End, TextLines: len(lines), TextHead: head}
		if rep.HasKernelTime {
			kt := rep.KernelTime
			gr.KernelTime = &kt
		}
		g.Reports = append(g.Reports, gr)
	}
	return g
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestCorpus parses every log of testdata and compares the result with
// the expectation in its header and with its golden .json.
func TestCorpus(t *testing.T) {
	for _, f := range readCorpus(t) {
		t.Run(f.name, func(t *testing.T) {
			res := Parse(f.log)
			checkInvariants(t, f.log, res)
			want := f.header["Title"]
			if want == "" {
				t.Fatalf("header has no Title")
			}
			got := "none"
			if len(res.Reports) > 0 {
				got = res.Reports[0].Title
			}
			if got != want {
				t.Errorf("primary title\n got: %s\nwant: %s", got, want)
			}
			if fam := f.header["Family"]; fam != "" && len(res.Reports) > 0 && res.Reports[0].Family != fam {
				t.Errorf("family %q, want %q", res.Reports[0].Family, fam)
			}
			g := toGolden(res)
			path := filepath.Join("testdata", filepath.FromSlash(f.name)+".json")
			if *update {
				data, err := json.MarshalIndent(g, "", "\t")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no golden file (run go test -update): %v", err)
			}
			var wantG golden
			if err := json.Unmarshal(data, &wantG); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wantG, g); d != "" {
				t.Errorf("result differs from %s (-want +got):\n%s", path, d)
			}
			// Streaming in random chunks must give the same result.
			rnd := rand.New(rand.NewSource(int64(len(f.log))))
			for i := 0; i < 3; i++ {
				sres := streamChunks(f.log, rnd, 1+rnd.Intn(300))
				if d := cmp.Diff(res, sres); d != "" {
					t.Errorf("streamed result differs (-parse +stream):\n%s", d)
					break
				}
			}
		})
	}
}

// streamChunks feeds log to a Stream in random chunks of up to max bytes.
func streamChunks(log []byte, rnd *rand.Rand, max int) *Result {
	s := NewStream()
	for p := log; len(p) > 0; {
		n := 1 + rnd.Intn(max)
		if n > len(p) {
			n = len(p)
		}
		s.Write(p[:n])
		p = p[n:]
		s.CrashSeen()
		s.ReportComplete()
	}
	return s.Close()
}

// checkInvariants checks what must hold for any log.
func checkInvariants(t testing.TB, log []byte, res *Result) {
	t.Helper()
	if res.Crashed != (len(res.Reports) > 0) {
		t.Errorf("Crashed = %v with %d reports", res.Crashed, len(res.Reports))
	}
	prev := int64(-1)
	for i, r := range res.Reports {
		if r.Title == "" {
			t.Errorf("report %d has an empty title", i)
		}
		if len(r.Title) > maxTitleLen || strings.ContainsAny(r.Title, "\n\r\t") {
			t.Errorf("report %d: bad title %q", i, r.Title)
		}
		if r.Kind != KindKernel && r.Kind != KindGo {
			t.Errorf("report %d: kind %q", i, r.Kind)
		}
		if r.Start < 0 || r.Start >= r.End || r.End > int64(len(log)) {
			t.Errorf("report %d: offsets [%d, %d) outside the log of %d bytes", i, r.Start, r.End, len(log))
		}
		if r.Start < prev {
			t.Errorf("report %d starts at %d, before the previous one (%d)", i, r.Start, prev)
		}
		prev = r.Start
		if r.Text == "" {
			t.Errorf("report %d has no text", i)
		}
		if r.Corrupted != (r.CorruptedReason != "") {
			t.Errorf("report %d: Corrupted %v with reason %q", i, r.Corrupted, r.CorruptedReason)
		}
	}
	for i, m := range res.Markers {
		if m.Offset < 0 || m.Offset >= int64(len(log)) || (m.Offset > 0 && log[m.Offset-1] != '\n') {
			t.Errorf("marker %d: offset %d is not the start of a line", i, m.Offset)
		}
	}
}
