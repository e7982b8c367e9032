package main

import (
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"unsafe"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// moduleDir holds the kernel modules the host put in the image (crashrig
// run --modules); it matches package image's ModuleDir.
const moduleDir = "/lib/modules/crashrig"

// sysFinitModule is finit_module(2) on x86-64, the guest's only
// architecture; package syscall does not name it.
const sysFinitModule = 313

// loadModules loads every module in moduleDir, in name order, and says
// how each went in an info marker (module=NAME status=loaded|ERROR). A
// module whose dependency is not loaded yet is tried again after the
// others.
func loadModules() {
	ents, err := os.ReadDir(moduleDir)
	if err != nil {
		return
	}
	var pending []string
	for _, e := range ents {
		pending = append(pending, e.Name())
	}
	sort.Strings(pending)
	errs := map[string]error{}
	for len(pending) > 0 {
		var next []string
		for _, n := range pending {
			if err := finitModule(filepath.Join(moduleDir, n)); err != nil && err != syscall.EEXIST {
				errs[n] = err
				next = append(next, n)
				continue
			}
			say(marker.Info, "module", n, "status", "loaded")
		}
		if len(next) == len(pending) {
			for _, n := range next {
				say(marker.Info, "module", n, "status", errs[n].Error())
			}
			return
		}
		pending = next
	}
}

func finitModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	params := []byte{0}
	_, _, e := syscall.Syscall(sysFinitModule, f.Fd(), uintptr(unsafe.Pointer(&params[0])), 0)
	if e != 0 {
		return e
	}
	return nil
}
