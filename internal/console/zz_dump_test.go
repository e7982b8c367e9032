package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestZZDump(t *testing.T) {
	g := os.Getenv("CONSOLE_DUMP")
	if g == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(g)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.HasSuffix(f, ".txt") {
			if i := strings.Index(string(data), "\n\n"); i >= 0 {
				data = data[i+2:]
			}
		}
		res := Parse(data)
		fmt.Printf("== %s crashed=%v markers=%d corrupt=%d trunc=%v\n", filepath.Base(f), res.Crashed, len(res.Markers), res.CorruptMarkers, res.Truncated)
		for _, r := range res.Reports {
			fmt.Printf("   [%s/%s] %q corrupted=%q alts=%q notes=%q [%d,%d) lines=%d\n", r.Kind, r.Family, r.Title, r.CorruptedReason, r.AltTitles, r.Notes, r.Start, r.End, strings.Count(r.Text, "\n"))
			if os.Getenv("CONSOLE_TEXT") != "" {
				fmt.Print(r.Text)
			}
		}
	}
}
