// Command guest is crashrig's guest binary: the /init of every image and,
// by the name it is started under, each built-in reproducer and /bin/true.
//
// As /init it mounts /proc, /sys and /dev, reads its orders from crashrig.*
// words on the kernel command line, runs the reproducer as a child the
// number of times asked, prints a checksummed marker (package marker) for
// every event — init reached, reproducer start, a heartbeat each second,
// reproducer exit with its status or signal and elapsed time — and powers
// the machine off. It never returns: PID 1 exiting would panic the kernel.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/crashrig/crashrig/reproducer/clockstorm"
	"github.com/crashrig/crashrig/reproducer/go20427"
	"github.com/crashrig/crashrig/reproducer/selftest"
	"github.com/crashrig/crashrig/reproducer/vdsostack"
)

// builtins maps each program name to its entry point; builtin.List holds
// their descriptions (its Standalone built-ins are not here: they are built
// as programs of their own).
var builtins = map[string]func(args []string) int{
	"go20427":    go20427.Main,
	"clockstorm": clockstorm.Main,
	"selftest":   selftest.Main,
	"vdsostack":  vdsostack.Main,
	"true":       func([]string) int { return 0 },
}

func main() {
	name := filepath.Base(os.Args[0])
	if fn, ok := builtins[name]; ok {
		os.Exit(fn(os.Args[1:]))
	}
	if os.Getpid() == 1 || name == "init" {
		initMain()
	}
	// Started by another name, e.g. "crashrig-guest go20427 -n 4".
	if len(os.Args) > 1 {
		if fn, ok := builtins[os.Args[1]]; ok {
			os.Exit(fn(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "crashrig guest: unknown program %q\n", name)
	os.Exit(2)
}
