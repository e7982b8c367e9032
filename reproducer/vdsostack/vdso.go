//go:build linux && amd64

package vdsostack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// atSysinfoEHDR is the auxiliary-vector key for the vDSO's ELF header.
const atSysinfoEHDR = 33

// A vdso is the kernel's vDSO as mapped into this process.
type vdso struct {
	base uintptr // address of its ELF header (AT_SYSINFO_EHDR)
	size int     // length of the [vdso] mapping in bytes
	syms map[string]uintptr
}

// findVDSO locates the vDSO through the auxiliary vector, copies its image
// out of /proc/self/mem and reads its dynamic symbols. Reading a copy keeps
// unsafe pointer arithmetic out of the package.
func findVDSO() (*vdso, error) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return nil, fmt.Errorf("reading auxiliary vector: %w (is /proc mounted?)", err)
	}
	base := auxvLookup(auxv, atSysinfoEHDR)
	if base == 0 {
		return nil, fmt.Errorf("no AT_SYSINFO_EHDR in the auxiliary vector: kernel maps no vDSO (booted with vdso=0?)")
	}
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, fmt.Errorf("reading memory map: %w", err)
	}
	defer maps.Close()
	size, err := mappingSize(maps, base)
	if err != nil {
		return nil, err
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil, fmt.Errorf("opening own memory: %w", err)
	}
	defer mem.Close()
	image := make([]byte, size)
	if _, err := mem.ReadAt(image, int64(base)); err != nil {
		return nil, fmt.Errorf("copying vDSO at %#x: %w", base, err)
	}
	syms, err := vdsoSymbols(image, base)
	if err != nil {
		return nil, err
	}
	return &vdso{base: base, size: size, syms: syms}, nil
}

// auxvLookup returns the value of key in a raw 64-bit auxiliary vector, or 0.
func auxvLookup(auxv []byte, key uint64) uintptr {
	for i := 0; i+16 <= len(auxv); i += 16 {
		k := binary.LittleEndian.Uint64(auxv[i:])
		if k == key {
			return uintptr(binary.LittleEndian.Uint64(auxv[i+8:]))
		}
		if k == 0 {
			break
		}
	}
	return 0
}

// mappingSize finds the mapping that starts at base in /proc/self/maps
// format and returns its length.
func mappingSize(maps io.Reader, base uintptr) (int, error) {
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		rng, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && uintptr(start) == base && end > start {
			return int(end - start), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading memory map: %w", err)
	}
	return 0, fmt.Errorf("no mapping starts at the vDSO address %#x", base)
}

// vdsoSymbols returns the run-time address of every function the vDSO
// exports, by name, the way the Go runtime's own vDSO lookup computes it.
// It reads the ELF64 structures itself: debug/elf would make the guest
// binary (and every image) a tenth larger.
func vdsoSymbols(image []byte, base uintptr) (map[string]uintptr, error) {
	le := binary.LittleEndian
	if len(image) < 64 || string(image[:4]) != "\x7fELF" || image[4] != 2 || image[5] != 1 {
		return nil, fmt.Errorf("parsing vDSO image: not a little-endian ELF64 file")
	}
	field := func(off, size int) (uint64, error) {
		if off < 0 || off+size > len(image) {
			return 0, fmt.Errorf("parsing vDSO image: offset %#x out of range", off)
		}
		switch size {
		case 2:
			return uint64(le.Uint16(image[off:])), nil
		case 4:
			return uint64(le.Uint32(image[off:])), nil
		}
		return le.Uint64(image[off:]), nil
	}
	phoff, _ := field(0x20, 8)
	shoff, _ := field(0x28, 8)
	phentsize, _ := field(0x36, 2)
	phnum, _ := field(0x38, 2)
	shentsize, _ := field(0x3a, 2)
	shnum, _ := field(0x3c, 2)

	// The first PT_LOAD segment maps file offsets to addresses.
	var loadOff, loadVaddr uint64
	found := false
	for i := uint64(0); i < phnum && !found; i++ {
		ph := int(phoff + i*phentsize)
		typ, err := field(ph, 4)
		if err != nil {
			return nil, err
		}
		if typ == 1 { // PT_LOAD
			loadOff, _ = field(ph+8, 8)
			loadVaddr, _ = field(ph+16, 8)
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("vDSO image has no PT_LOAD segment")
	}
	offset := base + uintptr(loadOff) - uintptr(loadVaddr)

	// The dynamic symbol table (SHT_DYNSYM) and its string table.
	section := func(i uint64) (typ, off, size, link uint64, err error) {
		sh := int(shoff + i*shentsize)
		if typ, err = field(sh+4, 4); err != nil {
			return
		}
		off, _ = field(sh+0x18, 8)
		size, _ = field(sh+0x20, 8)
		link, _ = field(sh+0x28, 4)
		return
	}
	for i := uint64(0); i < shnum; i++ {
		typ, off, size, link, err := section(i)
		if err != nil {
			return nil, err
		}
		if typ != 11 { // SHT_DYNSYM
			continue
		}
		_, stroff, strsize, _, err := section(link)
		if err != nil {
			return nil, err
		}
		if off+size > uint64(len(image)) || stroff+strsize > uint64(len(image)) {
			return nil, fmt.Errorf("parsing vDSO image: symbol table out of range")
		}
		strs := image[stroff : stroff+strsize]
		syms := make(map[string]uintptr)
		for s := off; s+24 <= off+size; s += 24 {
			name := uint64(le.Uint32(image[s:]))
			info, shndx := image[s+4], le.Uint16(image[s+6:])
			value := le.Uint64(image[s+8:])
			if info&0xf != 2 || shndx == 0 || name >= uint64(len(strs)) { // STT_FUNC, defined
				continue
			}
			n := strs[name:]
			if j := bytes.IndexByte(n, 0); j >= 0 {
				n = n[:j]
			}
			syms[string(n)] = offset + uintptr(value)
		}
		return syms, nil
	}
	return nil, fmt.Errorf("reading vDSO symbols: no dynamic symbol table")
}

// A function is one vDSO entry point the reproducer knows how to call.
type function struct {
	name string // as in -funcs: "clock_gettime"
	sym  string // exported symbol: "__vdso_clock_gettime"
	// args returns the first two integer arguments given a clock id and a
	// scratch buffer of at least 16 bytes for results.
	args func(clock, scratch uintptr) (a0, a1 uintptr)
}

// functions lists what -funcs accepts. Every entry must only read its
// arguments and write the scratch buffer.
var functions = []function{
	{"clock_gettime", "__vdso_clock_gettime", func(c, s uintptr) (uintptr, uintptr) { return c, s }},
	{"gettimeofday", "__vdso_gettimeofday", func(c, s uintptr) (uintptr, uintptr) { return s, 0 }},
	{"time", "__vdso_time", func(c, s uintptr) (uintptr, uintptr) { return 0, 0 }},
	{"clock_getres", "__vdso_clock_getres", func(c, s uintptr) (uintptr, uintptr) { return c, s }},
	{"getcpu", "__vdso_getcpu", func(c, s uintptr) (uintptr, uintptr) { return s, s + 8 }},
}

// simName is the function -sim measures and races instead of the vDSO.
const simName = "sim"

var simFunction = function{simName, "", func(c, s uintptr) (uintptr, uintptr) { return 0, 0 }}

// lookupFunction returns the entry for a -funcs name.
func lookupFunction(name string) (function, bool) {
	if name == simName {
		return simFunction, true
	}
	for _, f := range functions {
		if f.name == name {
			return f, true
		}
	}
	return function{}, false
}

// address returns where fn's code is: in the vDSO, or the built-in probe.
func (v *vdso) address(fn function) (uintptr, error) {
	if fn.name == simName {
		return simProbeAddr(), nil
	}
	pc, ok := v.syms[fn.sym]
	if !ok {
		return 0, fmt.Errorf("vDSO exports no %s", fn.sym)
	}
	return pc, nil
}
