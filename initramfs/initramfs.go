// Package initramfs builds the archive a guest boots from: a newc cpio,
// gzip-compressed by default, holding the base layout (/dev/console and
// /dev/null with their real device numbers, /proc, /sys, /tmp, /bin), the
// guest /init and whatever a Spec adds.
//
// The same Spec always gives the same bytes: records carry no host
// timestamps, owners or inode numbers, and are written in path order.
// A Cache keeps built archives under the hash of their inputs, so a run
// that asks for an image it has built before pays only for the hash.
//
// Out of scope: deciding what goes into an image (the caller's Spec) and
// building the guest binary (package guestbin).
package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// A File is one entry an image adds to the base layout. Exactly one of Src,
// Data, Link or Dir says what it is.
type File struct {
	Path string      // absolute path in the guest, e.g. "/init"
	Src  string      // host file whose content to copy
	Data []byte      // literal content
	Link string      // symlink target
	Dir  bool        // a directory
	Mode os.FileMode // permission bits (0: 0755 for directories and Src files, 0644 for Data)
}

// A Spec describes one image.
type Spec struct {
	Files       []File
	Compression string // "gzip" (the default when empty) or "none"
}

// Compressions lists the codecs Write accepts.
var Compressions = []string{"gzip", "none"}

func (s Spec) compression() (string, error) {
	switch s.Compression {
	case "", "gzip":
		return "gzip", nil
	case "none":
		return "none", nil
	}
	return "", fmt.Errorf("unknown compression %q (have %s)", s.Compression, strings.Join(Compressions, ", "))
}

// base is the layout every image starts with.
func base() []cpio.Record {
	dirs := []struct {
		name string
		mode uint64
	}{{".", 0o755}, {"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"proc", 0o555},
		{"sys", 0o555}, {"tmp", 0o1777}, {"root", 0o700}}
	var recs []cpio.Record
	for _, d := range dirs {
		recs = append(recs, cpio.Directory(d.name, d.mode))
	}
	return append(recs,
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.CharDev("dev/null", 0o666, 1, 3),
		cpio.CharDev("dev/ttyS0", 0o660, 4, 64),
	)
}

// Write writes the archive for s to w.
func Write(w io.Writer, s Spec) error {
	codec, err := s.compression()
	if err != nil {
		return err
	}
	recs, err := s.records()
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	cw := cpio.Newc.Writer(&raw)
	for _, r := range base() {
		if err := cw.WriteRecord(r); err != nil {
			return err
		}
	}
	if err := cpio.WriteRecordsAndDirs(cw, recs); err != nil {
		return err
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return err
	}
	if codec == "none" {
		_, err = w.Write(raw.Bytes())
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

// records turns the Spec's files into reproducible cpio records in path
// order. Parents missing from the Spec are added by the writer.
func (s Spec) records() ([]cpio.Record, error) {
	files := append([]File(nil), s.Files...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var recs []cpio.Record
	seen := map[string]bool{}
	for _, r := range base() {
		seen[r.Name] = true
	}
	for _, f := range files {
		name, err := guestPath(f.Path)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("initramfs: %s is given twice or is part of the base layout", f.Path)
		}
		// Parents the Spec does not name get 0755, not the writer's 0777.
		var parents []cpio.Record
		for d := path.Dir(name); d != "." && !seen[d]; d = path.Dir(d) {
			parents = append([]cpio.Record{cpio.Directory(d, 0o755)}, parents...)
			seen[d] = true
		}
		recs = append(recs, parents...)
		seen[name] = true
		r, err := f.record(name)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	cpio.MakeAllReproducible(recs)
	return recs, nil
}

func guestPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("initramfs: guest path %q is not absolute", p)
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		return "", fmt.Errorf("initramfs: guest path %q names the root", p)
	}
	return name, nil
}

func (f File) record(name string) (cpio.Record, error) {
	perm := uint64(f.Mode.Perm())
	switch {
	case f.Link != "":
		return cpio.Symlink(name, f.Link), nil
	case f.Dir:
		if perm == 0 {
			perm = 0o755
		}
		return cpio.Directory(name, perm), nil
	case f.Src != "":
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return cpio.Record{}, fmt.Errorf("initramfs: %w", err)
		}
		if perm == 0 {
			perm = 0o755
		}
		return cpio.StaticRecord(data, cpio.Info{Name: name, Mode: cpio.S_IFREG | perm}), nil
	default:
		if perm == 0 {
			perm = 0o644
		}
		return cpio.StaticRecord(f.Data, cpio.Info{Name: name, Mode: cpio.S_IFREG | perm}), nil
	}
}
