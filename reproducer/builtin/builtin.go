// Package builtin lists the reproducers built into the guest binary. The
// host uses the list to validate -r and to print `crashrig reproducers`; the
// guest uses it to dispatch by program name. Standard library only.
package builtin

// An Info describes one built-in reproducer.
type Info struct {
	Name    string
	Summary string // one line
}

// List is every built-in reproducer, in the order users see them.
var List = []Info{
	{"go20427", "the Go issue 20427/15658 sample: N goroutines (8) each looping exec.Command(\"true\") Start+Wait"},
	{"clockstorm", "hundreds of goroutines in a tight time.Now() loop with allocation, so vDSO calls race the GC"},
	{"vdsostack", "measures the vDSO's stack footprint on guarded stacks and counts updates lost to its stack probe"},
	{"vdsoneighbour", "time.Now() on a 2 KiB stack 4 KiB above a neighbour that rewrites and checks its frame: panics when a vDSO stack probe loses its store (needs --go from crashrig gonofix)"},
	{"selftest", "known outcomes for checking a setup: -mode pass|panic|sysrq|fifo-hang|exit|segv|sleep, -after, -p"},
}

// Lookup returns the built-in named name.
func Lookup(name string) (Info, bool) {
	for _, in := range List {
		if in.Name == name {
			return in, true
		}
	}
	return Info{}, false
}
