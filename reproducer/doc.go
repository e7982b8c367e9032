// Package reproducer carries the guest side of crashrig as source: the
// /init program (reproducer/guest) and the built-in reproducers, each a
// standard-library-only package so that the guest binary builds anywhere
// with any Go toolchain.
//
// The host does not link the guest code. It embeds the sources (Source)
// and builds the static guest binary with the host's Go toolchain on first
// use (see internal/guestbin), so crashrig stays one binary and the image
// stays small.
package reproducer

import "embed"

// Source holds the guest packages, laid out as they are in the module.
//
//go:embed guest marker builtin go20427 clockstorm selftest vdsostack vdsoneighbour
var Source embed.FS
