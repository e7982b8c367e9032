// Package builtin lists the reproducers built into the guest binary. The
// host uses the list to validate -r and to print `crashrig reproducers`; the
// guest uses it to dispatch by program name. Standard library only.
package builtin

// An Info describes one built-in reproducer.
type Info struct {
	Name    string
	Summary string // one line
	// Standalone built-ins are not linked into the guest binary: they are always
	// built as a program of their own (by --go's toolchain, else the host's), which is
	// what they are for (vdsoneighbour needs a runtime the guest binary cannot have).
	Standalone bool
}

// List is every built-in reproducer, in the order users see them.
var List = []Info{
	{Name: "go20427", Summary: "the Go issue 20427/15658 sample: N goroutines (8) each looping exec.Command(\"true\") Start+Wait"},
	{Name: "clockstorm", Summary: "hundreds of goroutines in a tight time.Now() loop with allocation, so vDSO calls race the GC"},
	{Name: "vdsostack", Summary: "measures the vDSO's stack footprint on guarded stacks and counts updates lost to its stack probe"},
	{Name: "vdsoneighbour", Summary: "time.Now() on a 2 KiB stack 4 KiB above a neighbour that rewrites and checks its frame: panics when a vDSO stack probe loses its store (built as its own program; give --go $(crashrig gonofix) for a runtime without the Go 20427 fix)", Standalone: true},
	{Name: "selftest", Summary: "known outcomes for checking a setup: -mode pass|panic|sysrq|fifo-hang|exit|segv|sleep, -after, -p"},
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
