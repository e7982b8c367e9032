package kernel

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A Config is a kernel build configuration: option name (without CONFIG_)
// to value ("y", "m", a number or a quoted string). Options that are not
// set are absent.
type Config struct {
	Source  string // where it was read from
	Options map[string]string
}

// ParseConfig reads a .config-format file.
func ParseConfig(r io.Reader, source string) (*Config, error) {
	c := &Config{Source: source, Options: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "CONFIG_") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		c.Options[strings.TrimPrefix(k, "CONFIG_")] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(c.Options) == 0 {
		return nil, fmt.Errorf("%s: no CONFIG_ lines", source)
	}
	return c, nil
}

// Enabled reports whether the option is built in or a module.
func (c *Config) Enabled(opt string) bool {
	v := c.Options[opt]
	return v == "y" || v == "m"
}

// FindConfig looks for the configuration of the image: a config-<release>
// or .config beside it, the kernel tree's .config for arch/x86/boot/bzImage,
// /boot/config-<release>, then an IKCONFIG copy embedded in a
// gzip-compressed image. It returns nil when none is found.
func FindConfig(img Image) *Config {
	dir := filepath.Dir(img.Path)
	candidates := []string{
		filepath.Join(dir, "config-"+img.Release),
		filepath.Join(dir, ".config"),
		filepath.Join(dir, "config"),
		filepath.Join(dir, filepath.Base(img.Path)+".config"),
		filepath.Join(dir, "..", "..", "..", ".config"), // arch/x86/boot/bzImage
	}
	if img.Release != "" {
		candidates = append(candidates, "/boot/config-"+img.Release)
	}
	for _, p := range candidates {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		c, err := ParseConfig(f, p)
		f.Close()
		if err == nil {
			return c
		}
	}
	return embeddedConfig(img.Path)
}

// embeddedConfig finds IKCONFIG's gzip'd config between IKCFG_ST and
// IKCFG_ED inside a gzip-compressed kernel payload. Kernels compressed with
// other codecs are not searched.
func embeddedConfig(path string) *Config {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := bytes.Index(b, []byte{0x1f, 0x8b, 0x08})
	if i < 0 {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[i:]))
	if err != nil {
		return nil
	}
	zr.Multistream(false)
	vmlinux, err := io.ReadAll(io.LimitReader(zr, 256<<20))
	if err != nil && len(vmlinux) == 0 {
		return nil
	}
	st := bytes.Index(vmlinux, []byte("IKCFG_ST"))
	ed := bytes.Index(vmlinux, []byte("IKCFG_ED"))
	if st < 0 || ed < st {
		return nil
	}
	cz, err := gzip.NewReader(bytes.NewReader(vmlinux[st+8 : ed]))
	if err != nil {
		return nil
	}
	c, err := ParseConfig(cz, path+" (IKCONFIG)")
	if err != nil {
		return nil
	}
	return c
}
