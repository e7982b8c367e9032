package initramfs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crashrig/crashrig/internal/atomicfile"
)

// layoutVersion changes whenever Write would give other bytes for the same
// Spec, so that cached images from older versions are not reused.
const layoutVersion = "crashrig-initramfs-1"

// Hash is the content hash of everything that determines the archive's
// bytes: file paths, kinds, modes and contents, and the codec.
func (s Spec) Hash() (string, error) {
	codec, err := s.compression()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", layoutVersion, codec)
	files := append([]File(nil), s.Files...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%o\x00%q\x00%t\x00", f.Path, f.Mode, f.Link, f.Dir)
		switch {
		case f.Src != "":
			fh, err := os.Open(f.Src)
			if err != nil {
				return "", fmt.Errorf("initramfs: %w", err)
			}
			_, err = io.Copy(h, fh)
			fh.Close()
			if err != nil {
				return "", fmt.Errorf("initramfs: reading %s: %w", f.Src, err)
			}
		default:
			h.Write(f.Data)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// A Cache keeps built images in a directory, named by their Spec's hash.
type Cache struct {
	Dir string
}

// Build returns the path of the image for s, building it only when the
// cache does not hold it yet. The file appears atomically: a reader never
// sees a half-written image.
func (c Cache) Build(s Spec) (path, hash string, err error) {
	hash, err = s.Hash()
	if err != nil {
		return "", "", err
	}
	ext := ".cpio.gz"
	if s.Compression == "none" {
		ext = ".cpio"
	}
	path = filepath.Join(c.Dir, hash[:32]+ext)
	if _, err := os.Stat(path); err == nil {
		return path, hash, nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", "", fmt.Errorf("initramfs cache: %w", err)
	}
	if err := WriteFile(path, s); err != nil {
		return "", "", err
	}
	os.Chmod(path, 0o600) // a cached image holds the user's reproducer: private
	return path, hash, nil
}

// WriteFile writes the image for s to path through a temporary file in the
// same directory, so that on any error nothing is left at path.
func WriteFile(path string, s Spec) error {
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return Write(w, s) })
	if err != nil && !strings.HasPrefix(err.Error(), "initramfs") {
		err = fmt.Errorf("initramfs: %w", err)
	}
	return err
}
