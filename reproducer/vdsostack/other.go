//go:build !(linux && amd64)

package vdsostack

import (
	"fmt"
	"os"
	"runtime"
)

// Main reports that the reproducer cannot run on this platform.
func Main(args []string) int {
	fmt.Fprintf(os.Stdout, "vdsostack: needs linux/amd64, not %s/%s\n", runtime.GOOS, runtime.GOARCH)
	return 2
}
