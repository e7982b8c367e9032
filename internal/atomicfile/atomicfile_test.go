package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// leftovers lists the directory's entries other than want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range es {
		found := false
		for _, w := range want {
			found = found || e.Name() == w
		}
		if !found {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "report.html")
	if err := WriteBytes(p, 0o644, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("a failed write changed the file: %q", b)
	}
	if x := leftovers(t, dir, "report.html"); len(x) > 0 {
		t.Errorf("temporary files left: %v", x)
	}
	if err := Write(p, 0o600, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after Write: %q mode %v", b, st.Mode().Perm())
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "x"), 0o644, nil); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func TestProduce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "prog")
	err := Produce(p, 0o755, func(tmp string) error {
		os.WriteFile(tmp, []byte("partial"), 0o644)
		return errors.New("build failed")
	})
	if err == nil {
		t.Fatal("Produce ignored the producer's error")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s", p)
	}
	// Another program replaces the temporary file, as go build -o does.
	err = Produce(p, 0o755, func(tmp string) error {
		return exec.Command("sh", "-c", `rm -f "$1" && printf built > "$1"`, "sh", tmp).Run()
	})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "built" || st.Mode().Perm() != 0o755 {
		t.Errorf("after Produce: %q mode %v", b, st.Mode().Perm())
	}
	if x := leftovers(t, dir, "prog"); len(x) > 0 {
		t.Errorf("temporary files left: %v", x)
	}
}
