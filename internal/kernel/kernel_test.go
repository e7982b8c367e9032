package kernel

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/testkernel"
)

// fakeImage makes the smallest file with a valid setup header.
func fakeImage(t *testing.T, version string) string {
	b := make([]byte, 0x5000)
	binary.LittleEndian.PutUint16(b[0x1fe:], 0xaa55)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], 0x020f)
	binary.LittleEndian.PutUint16(b[0x20e:], 0x4400-0x200)
	copy(b[0x4400:], version+"\x00")
	p := filepath.Join(t.TempDir(), "bzImage")
	os.WriteFile(p, b, 0o644)
	return p
}

func TestInspect(t *testing.T) {
	img, err := Inspect(fakeImage(t, "6.1.99-test (me@host) #1 SMP"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Release != "6.1.99-test" || img.Protocol != "2.15" || len(img.SHA256) != 64 {
		t.Errorf("Inspect = %+v", img)
	}
	dir := t.TempDir()
	bad := map[string][]byte{
		"text":  []byte(strings.Repeat("hello world\n", 100)),
		"short": []byte("MZ"),
		"elf":   append([]byte("\x7fELF"), make([]byte, 0x300)...),
	}
	for name, b := range bad {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		if _, err := Inspect(p); !errors.Is(err, ErrNotBzImage) {
			t.Errorf("%s: err = %v, want ErrNotBzImage", name, err)
		}
	}
	if _, err := Inspect(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestRealKernel(t *testing.T) {
	img, err := Inspect(testkernel.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(img.Release, "6.") || !strings.Contains(img.Version, "#") {
		t.Errorf("version %q release %q", img.Version, img.Release)
	}
	cfg := FindConfig(img)
	if cfg == nil {
		t.Fatal("no config found beside the Debian kernel")
	}
	for _, f := range Verify(cfg) {
		if !f.OK && !f.Warn {
			t.Errorf("Debian's cloud kernel fails %s", f.Name())
		}
	}
}

func TestVerify(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader("CONFIG_SERIAL_8250_CONSOLE=y\n# CONFIG_FUTEX is not set\nCONFIG_RD_GZIP=m\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range Verify(cfg) {
		got[f.Options[0]] = f.OK
	}
	if !got["SERIAL_8250_CONSOLE"] || got["FUTEX"] || !got["RD_GZIP"] {
		t.Errorf("Verify = %v", got)
	}
	if _, err := ParseConfig(strings.NewReader("nothing"), "x"); err == nil {
		t.Error("ParseConfig of a non-config succeeded")
	}
}

func TestPVPanic(t *testing.T) {
	tests := []struct {
		config string
		ok     bool
		why    string
	}{
		{"CONFIG_PVPANIC=y\nCONFIG_PVPANIC_MMIO=y\n", true, "CONFIG_PVPANIC_MMIO=y"},
		{"CONFIG_PVPANIC=y\nCONFIG_PVPANIC_MMIO=m\nCONFIG_PVPANIC_PCI=m\n", false, "--modules DIR"},
		{"CONFIG_PVPANIC=y\nCONFIG_PVPANIC_PCI=y\n", false, "CONFIG_PVPANIC_MMIO is not set"},
		{"CONFIG_SMP=y\n", false, "CONFIG_PVPANIC is not set"},
	}
	for _, tt := range tests {
		cfg, err := ParseConfig(strings.NewReader(tt.config), "test")
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := PVPanic(cfg); ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("PVPanic(%q) = %v %q; want %v and %q", tt.config, ok, why, tt.ok, tt.why)
		}
	}
}
