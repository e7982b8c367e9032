package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o755)
		return p
	}
	elf := write("prog", "\x7fELF rest")
	plain := write("plain.sh", `echo "$#:$1:$2"`+"\n")
	shebang := write("shebang.sh", "#!/bin/sh\necho \"$#:$1:$2\"\n")
	other := write("other", "#!/usr/bin/env true\n")
	missing := write("missing", "#!/nonexistent/interp\necho \"$#:$1:$2\"\n")
	tests := []struct {
		run  string
		path string // the program started
		out  string // what running it prints ("" = not run)
	}{
		{"go20427", "/init", ""},
		{elf, elf, ""},
		{plain, "/bin/sh", "2:a:b c'd\n"},
		{shebang, "/bin/sh", "2:a:b c'd\n"},
		{other, other, ""},
		{missing, "/bin/sh", "2:a:b c'd\n"},
	}
	for _, tt := range tests {
		cmd := command(tt.run, []string{"a", "b c'd"})
		if cmd.Path != tt.path || cmd.Err != nil {
			t.Errorf("command(%s): path %s err %v, want %s", tt.run, cmd.Path, cmd.Err, tt.path)
			continue
		}
		if tt.out == "" {
			continue
		}
		out, err := cmd.Output()
		if err != nil || string(out) != tt.out {
			t.Errorf("command(%s) %q printed %q (%v), want %q", tt.run, cmd.Args, out, err, tt.out)
		}
	}
}

func TestTTYHelpers(t *testing.T) {
	for s, want := range map[string][3]int{"101x37": {101, 37, 1}, "1": {0, 0, 0}, "0x5": {0, 5, 0}, "ax3": {0, 3, 0}} {
		c, r, ok := parseSize(s)
		if ok != (want[2] == 1) || ok && (c != want[0] || r != want[1]) {
			t.Errorf("parseSize(%q) = %d, %d, %v", s, c, r, ok)
		}
	}
	got := reproLine(orders{Run: "/repro/x", Args: []string{"-n", "8", "a b", "it's"}})
	if want := `/repro/x -n 8 'a b' 'it'\''s'`; got != want {
		t.Errorf("reproLine = %s, want %s", got, want)
	}
	if got := reproLine(orders{Run: "selftest"}); !strings.HasPrefix(got, "/bin/selftest") {
		t.Errorf("reproLine(builtin) = %s", got)
	}
}

func TestWrapper(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	os.WriteFile(script, []byte(`echo "$#:$1:$2:$3"`+"\n"), 0o755)
	w := filepath.Join(dir, "repro")
	os.WriteFile(w, []byte(wrapper(orders{Run: script, Args: []string{"a", "b c"}})), 0o755)
	out, err := exec.Command(w, "extra").Output()
	if err != nil || string(out) != "3:a:b c:extra\n" {
		t.Errorf("wrapper for a script printed %q (%v)", out, err)
	}
	if got := wrapper(orders{Run: "selftest", Args: []string{"-mode", "pass"}}); got != "#!/bin/sh\nexec /bin/selftest -mode pass \"$@\"\n" {
		t.Errorf("wrapper for a built-in = %q", got)
	}
}
