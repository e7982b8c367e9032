package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModules(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "kernel", "drivers", "misc", "pvpanic")
	os.MkdirAll(sub, 0o755)
	ko := func(name, vermagic string) {
		data := "\x7fELF junk\x00license=GPL\x00vermagic=" + vermagic + "\x00name=x\x00"
		if err := os.WriteFile(filepath.Join(sub, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ko("pvpanic.ko", "6.1.0-57-cloud-amd64 SMP mod_unload modversions ")
	ko("pvpanic-mmio.ko", "6.1.0-57-cloud-amd64 SMP mod_unload modversions ")
	adds, err := Modules(dir, "6.1.0-57-cloud-amd64", PVPanicModules)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ModuleDir + "/01-pvpanic.ko", ModuleDir + "/02-pvpanic-mmio.ko"}
	if len(adds) != 2 || adds[0].Guest != want[0] || adds[1].Guest != want[1] || !strings.HasSuffix(adds[1].Host, "pvpanic-mmio.ko") {
		t.Fatalf("Modules = %+v, want %v", adds, want)
	}
	if _, err := Modules(dir, "6.1.0-58-cloud-amd64", PVPanicModules); err == nil || !errors.Is(err, ErrInput) ||
		!strings.Contains(err.Error(), "built for kernel 6.1.0-57-cloud-amd64") {
		t.Errorf("wrong release: %v", err)
	}
	os.Remove(filepath.Join(sub, "pvpanic-mmio.ko"))
	if _, err := Modules(dir, "", PVPanicModules); err == nil || !strings.Contains(err.Error(), "no pvpanic-mmio.ko") {
		t.Errorf("missing module: %v", err)
	}
}
