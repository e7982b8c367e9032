package image

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/crashrig/crashrig/initramfs"
)

// An Add copies a host file or directory tree into the image.
type Add struct {
	Host  string // host path
	Guest string // absolute path in the guest
}

// ParseAdds reads every --add value, in order.
func ParseAdds(list []string) ([]Add, error) {
	var adds []Add
	for _, s := range list {
		a, err := ParseAdd(s)
		if err != nil {
			return nil, err
		}
		adds = append(adds, a)
	}
	return adds, nil
}

// ParseAdd reads --add HOST:GUEST. Without ":GUEST" the file goes to /
// under its own name.
func ParseAdd(s string) (Add, error) {
	host, guest, ok := strings.Cut(s, ":")
	if !ok {
		guest = "/" + filepath.Base(host)
	}
	a := Add{Host: host, Guest: guest}
	if host == "" {
		return a, inputErr("--add %q: want HOST:GUEST, e.g. ./data:/data", s)
	}
	return a, a.check()
}

func (a Add) check() error {
	if !path.IsAbs(a.Guest) || path.Clean(a.Guest) == "/" {
		return inputErr("--add %s:%s: the guest path must be absolute and not /", a.Host, a.Guest)
	}
	if _, err := os.Lstat(a.Host); err != nil {
		return statErr("--add", a.Host, err)
	}
	return nil
}

// layoutDirs are the directories package initramfs puts in every image.
var layoutDirs = map[string]bool{"/bin": true, "/dev": true, "/etc": true, "/proc": true, "/sys": true, "/tmp": true, "/root": true}

// addFiles walks every Add into image files: directories, regular files
// (with their permission bits) and symlinks (their targets as they are).
// Owners and times are not kept: images are reproducible.
func addFiles(adds []Add) ([]initramfs.File, error) {
	var files []initramfs.File
	seen := map[string]string{}
	for _, a := range adds {
		root := path.Clean(a.Guest)
		err := filepath.WalkDir(a.Host, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return inputErr("--add %s: %v", a.Host, err)
			}
			rel, err := filepath.Rel(a.Host, p)
			if err != nil {
				return err
			}
			guest := path.Join(root, filepath.ToSlash(rel))
			if prev, dup := seen[guest]; dup {
				return inputErr("--add: %s comes from both %s and %s", guest, prev, p)
			}
			seen[guest] = p
			if d.IsDir() && layoutDirs[guest] {
				return nil // already in every image; its contents are added
			}
			f, err := addFile(p, guest, d)
			if err != nil {
				return err
			}
			files = append(files, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func addFile(p, guest string, d fs.DirEntry) (initramfs.File, error) {
	info, err := d.Info()
	if err != nil {
		return initramfs.File{}, inputErr("--add %s: %v", p, err)
	}
	switch {
	case d.IsDir():
		return initramfs.File{Path: guest, Dir: true, Mode: info.Mode().Perm()}, nil
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return initramfs.File{}, inputErr("--add %s: %v", p, err)
		}
		return initramfs.File{Path: guest, Link: target}, nil
	case info.Mode().IsRegular():
		return initramfs.File{Path: guest, Src: p, Mode: info.Mode().Perm()}, nil
	}
	return initramfs.File{}, inputErr("--add %s: %v is neither a file, a directory nor a symlink", p, info.Mode().Type())
}
