package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// find returns the check named what.
func find(cs []report.Check, what string) (report.Check, bool) {
	for _, c := range cs {
		if c.What == what {
			return c, true
		}
	}
	return report.Check{}, false
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a kernel"), 0o644)
	tests := []struct {
		name   string
		o      Options
		what   string
		status report.Status
		detail string
	}{
		{"no qemu", Options{Qemu: filepath.Join(dir, "no-qemu")}, "qemu", report.Fail, "apt-get install qemu-system-x86"},
		{"no kernel given", Options{}, "kernel", report.Info, "no -k given"},
		{"missing kernel", Options{Kernel: filepath.Join(dir, "vmlinuz")}, "kernel", report.Fail, "no such file"},
		{"not a bzImage", Options{Kernel: text}, "kernel", report.Fail, "notes.txt"},
	}
	for _, tt := range tests {
		cs := Run(context.Background(), tt.o)
		c, ok := find(cs, tt.what)
		if !ok || c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("%s: %s check = %+v (found %v), want %s with %q", tt.name, tt.what, c, ok, tt.status, tt.detail)
		}
		if _, probed := find(cs, "config"); probed {
			t.Errorf("%s: a kernel that was not read had its config checked", tt.name)
		}
	}
}

// TestRealKernel: on the test kernel every essential check passes, the KVM
// probe boots it for real, and the config beside it is read and verified.
func TestRealKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a kernel")
	}
	k := testkernel.Path(t)
	cs := Run(context.Background(), Options{Kernel: k})
	var buf strings.Builder
	if failed := report.Checks(&buf, cs); failed > 0 {
		t.Errorf("%d checks failed on the test kernel:\n%s", failed, buf.String())
	}
	for _, what := range []string{"qemu", "kvm", "kernel", "config"} {
		if _, ok := find(cs, what); !ok {
			t.Errorf("no %s check:\n%s", what, buf.String())
		}
	}
	if c, _ := find(cs, "config"); c.Status != report.OK || c.Detail == "" {
		t.Errorf("the config beside %s was not found: %+v", k, c)
	}
	if len(cs) < 8 {
		t.Errorf("only %d checks: the config's options were not verified\n%s", len(cs), buf.String())
	}
	t.Logf("\n%s", buf.String())
}
