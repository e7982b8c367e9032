package story

import (
	"strings"
	"testing"
)

// TestProbeListing finds the probing function in the probed seed vDSO's disassembly
// (testdata: objdump -d of the two seed kernels' vdso64.so.dbg) and shows the same
// function without the probe in the clean one.
func TestProbeListing(t *testing.T) {
	probed, clean, err := probeListing("testdata/probed.objdump", "testdata/clean.objdump")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"__cvdso_clock_gettime_data", "sub    $0x1000,%rsp", "orq    $0x0,(%rsp)", "<__vdso_clock_gettime>:"} {
		if !strings.Contains(probed.Caption+probed.Text, want) {
			t.Errorf("probed listing lacks %q:\n%s\n%s", want, probed.Caption, probed.Text)
		}
	}
	if strings.Contains(clean.Text, "orq") || !strings.Contains(clean.Text, "<__vdso_clock_gettime>:") {
		t.Errorf("clean listing:\n%s", clean.Text)
	}
	// The clean vDSO has no probing function at all: that is an error, said with the file.
	if _, _, err := probeListing("testdata/clean.objdump", "testdata/clean.objdump"); err == nil || !strings.Contains(err.Error(), "clean.objdump") {
		t.Errorf("clean as probed: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "(not reported)"},
		{[]string{"48", "48"}, "48"},
		{[]string{"4192", "4160", "4208"}, "4160–4208"},
	} {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
