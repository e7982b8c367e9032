// Package kernel reads what crashrig needs to know about a Linux kernel
// image before booting it: whether it is an x86 bzImage at all, its version
// string and hash, and its build configuration when one can be found (beside
// the image, in /boot, or embedded with IKCONFIG), checked against what a
// crashrig guest needs.
package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// An Image describes a kernel image file.
type Image struct {
	Path     string `json:"path"`
	SHA256   string `json:"sha256"`
	Version  string `json:"version"`  // the header's version string, e.g. "6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP ..."
	Release  string `json:"release"`  // its first word, e.g. "6.1.0-56-cloud-amd64"
	Protocol string `json:"protocol"` // boot protocol version, e.g. "2.15"
	Size     int64  `json:"size"`
	// Label and Description come from an identity file beside the image
	// (<image>.crashrig.json, written by scripts/build-seed-kernels), e.g.
	// "seed-probed" and "probed vDSO: vclock_gettime.o built with …".
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
}

// identity is the part of an identity file crashrig reads.
type identity struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	ImageSHA256 string `json:"image_sha256"`
}

// readIdentity fills Label and Description from the identity file when
// it describes this very image.
func (img *Image) readIdentity() {
	b, err := os.ReadFile(img.Path + ".crashrig.json")
	if err != nil {
		return
	}
	var id identity
	if json.Unmarshal(b, &id) != nil || (id.ImageSHA256 != "" && id.ImageSHA256 != img.SHA256) {
		return
	}
	img.Label, img.Description = id.Label, id.Description
}

// ErrNotBzImage is returned for files that are not x86 bzImages.
var ErrNotBzImage = errors.New("not an x86 bzImage")

// Inspect reads the setup header of the bzImage at path.
func Inspect(path string) (Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return Image{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Image{}, err
	}
	if st.IsDir() {
		return Image{}, fmt.Errorf("%s is a directory, not a kernel image", path)
	}
	hdr := make([]byte, 0x10000)
	n, _ := io.ReadFull(f, hdr)
	hdr = hdr[:n]
	img := Image{Path: path, Size: st.Size()}
	if err := img.parseHeader(hdr); err != nil {
		return img, fmt.Errorf("%s: %w", path, err)
	}
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return img, err
	}
	if _, err := io.Copy(h, f); err != nil {
		return img, fmt.Errorf("reading %s: %w", path, err)
	}
	img.SHA256 = hex.EncodeToString(h.Sum(nil))
	img.readIdentity()
	return img, nil
}

// parseHeader checks the boot sector and setup header (Documentation/
// arch/x86/boot.rst) and reads the version string.
func (img *Image) parseHeader(b []byte) error {
	if len(b) < 0x264 {
		return fmt.Errorf("%w: file too short (%d bytes)", ErrNotBzImage, len(b))
	}
	if binary.LittleEndian.Uint16(b[0x1fe:]) != 0xaa55 {
		if bytes.HasPrefix(b, []byte("\x7fELF")) {
			return fmt.Errorf("%w: this is an ELF file (a vmlinux?); boot arch/x86/boot/bzImage instead", ErrNotBzImage)
		}
		return fmt.Errorf("%w: no boot sector signature 0xAA55 at 0x1FE", ErrNotBzImage)
	}
	if string(b[0x202:0x206]) != "HdrS" {
		return fmt.Errorf("%w: no \"HdrS\" setup header magic at 0x202", ErrNotBzImage)
	}
	proto := binary.LittleEndian.Uint16(b[0x206:])
	img.Protocol = fmt.Sprintf("%d.%02d", proto>>8, proto&0xff)
	if proto < 0x0200 {
		return fmt.Errorf("%w: boot protocol %s is too old to load an initramfs", ErrNotBzImage, img.Protocol)
	}
	if off := int(binary.LittleEndian.Uint16(b[0x20e:])); off != 0 && 0x200+off < len(b) {
		v := b[0x200+off:]
		if i := bytes.IndexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		img.Version = string(v)
		img.Release = firstWord(img.Version)
	}
	return nil
}

func firstWord(s string) string {
	if i := bytes.IndexByte([]byte(s), ' '); i >= 0 {
		return s[:i]
	}
	return s
}
