package image

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ModuleDir is where the image carries kernel modules; the guest's /init
// loads every *.ko in it, in name order, before the reproducer starts.
const ModuleDir = "/lib/modules/crashrig"

// PVPanicModules are the modules that drive qemu's isa pvpanic device, in
// load order (pvpanic-mmio needs pvpanic's symbols).
var PVPanicModules = []string{"pvpanic.ko", "pvpanic-mmio.ko"}

// Modules finds the named modules in dir (a kernel package's
// lib/modules/RELEASE tree, searched recursively) and returns the files
// to add to the image, numbered so that they load in the order given. A
// module built for another kernel release than release ("" = not
// checked) is refused: the kernel would refuse it at boot, silently.
func Modules(dir, release string, names []string) ([]Add, error) {
	found := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, n := range names {
			if !d.IsDir() && d.Name() == n && found[n] == "" {
				found[n] = path
			}
		}
		return nil
	})
	if err != nil {
		return nil, inputErr("--modules: %v", err)
	}
	var adds []Add
	for i, n := range names {
		p := found[n]
		if p == "" {
			return nil, inputErr("--modules %s: no %s in it (give the kernel package's lib/modules/RELEASE directory)", dir, n)
		}
		if release != "" {
			vm, err := vermagic(p)
			if err != nil {
				return nil, inputErr("--modules: %v", err)
			}
			if r, _, _ := strings.Cut(vm, " "); r != release {
				return nil, inputErr("--modules: %s was built for kernel %s, the kernel is %s", p, r, release)
			}
		}
		adds = append(adds, Add{Host: p, Guest: fmt.Sprintf("%s/%02d-%s", ModuleDir, i+1, n)})
	}
	return adds, nil
}

// vermagic reads a module's "vermagic=" string: the kernel release first.
func vermagic(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	i := bytes.Index(b, []byte("\x00vermagic="))
	if i < 0 {
		return "", fmt.Errorf("%s: no vermagic: not a kernel module", path)
	}
	s := b[i+len("\x00vermagic="):]
	if j := bytes.IndexByte(s, 0); j >= 0 {
		s = s[:j]
	}
	return string(s), nil
}
