// Package kconfig reads and writes kernel .config files and applies part of the
// difference between two of them.
//
// A .config holds "CONFIG_NAME=value" lines and "# CONFIG_NAME is not set" lines; other
// comments and blank lines carry nothing. Values are kept as written (y, m, "string",
// 0x10, 64); an option that is not set has the value "n", and an option absent from a
// file counts as not set.
package kconfig

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// A Config is the options of one .config, in file order.
type Config struct {
	names  []string
	values map[string]string
}

// Get returns an option's value ("n" when absent).
func (c *Config) Get(name string) string {
	if v, ok := c.values[name]; ok {
		return v
	}
	return "n"
}

// Set sets an option, keeping its place or appending it.
func (c *Config) Set(name, value string) {
	if c.values == nil {
		c.values = map[string]string{}
	}
	if _, ok := c.values[name]; !ok {
		c.names = append(c.names, name)
	}
	c.values[name] = value
}

// Len returns the number of options in the file.
func (c *Config) Len() int { return len(c.names) }

// A SyntaxError is a line that is not a config line.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse reads a .config; name is used in errors.
func Parse(r io.Reader, name string) (*Config, error) {
	c := &Config{values: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if opt, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(opt, " is not set"); ok && validName(name) {
				c.Set(strings.TrimPrefix(name, "CONFIG_"), "n")
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validName(k) {
			return nil, &SyntaxError{name, n, fmt.Sprintf("want CONFIG_NAME=value, got %q", trim(line))}
		}
		if v == "" {
			return nil, &SyntaxError{name, n, fmt.Sprintf("%s has no value", k)}
		}
		c.Set(strings.TrimPrefix(k, "CONFIG_"), v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	if c.Len() == 0 {
		return nil, &SyntaxError{name, n, "no CONFIG_ option: not a kernel config"}
	}
	return c, nil
}

// ReadFile parses the .config at path.
func ReadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

func validName(s string) bool {
	name, ok := strings.CutPrefix(s, "CONFIG_")
	if !ok || name == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func trim(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// WriteTo writes the config as a .config.
func (c *Config) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, name := range c.names {
		if v := c.values[name]; v == "n" {
			fmt.Fprintf(&b, "# CONFIG_%s is not set\n", name)
		} else {
			fmt.Fprintf(&b, "CONFIG_%s=%s\n", name, v)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Diff returns the options whose values differ between a and b, sorted.
func Diff(a, b *Config) []string {
	var out []string
	for _, c := range []*Config{a, b} {
		for _, name := range c.names {
			if a.Get(name) != b.Get(name) && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Apply returns a copy of base with the options in set given their values in from.
func Apply(base, from *Config, set []string) *Config {
	c := &Config{names: slices.Clone(base.names), values: map[string]string{}}
	for k, v := range base.values {
		c.values[k] = v
	}
	for _, name := range set {
		c.Set(name, from.Get(name))
	}
	return c
}
