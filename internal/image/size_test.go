package image

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/repro"
)

// TestMinimalImageBudget keeps the default image within its budget:
// at most 1 MiB gzip'd, so that it never dominates a boot.
func TestMinimalImageBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the guest binary")
	}
	guest, err := guestbin.Builder{CacheDir: t.TempDir()}.Path(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Spec(context.Background(), Options{Guest: guest, Repro: repro.Program{Builtin: "go20427"}})
	if err != nil {
		t.Fatal(err)
	}
	path, _, err := initramfs.Cache{Dir: t.TempDir()}.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("minimal image %s: %d bytes", filepath.Base(path), st.Size())
	if st.Size() > 1<<20 {
		t.Errorf("minimal image is %d bytes, over the 1 MiB budget", st.Size())
	}
}

// BenchmarkCachedImage is the cost of asking for an image that was built
// before: the guest binary and the archive both come from their caches.
func BenchmarkCachedImage(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	gb := guestbin.Builder{CacheDir: filepath.Join(dir, "guest")}
	cache := initramfs.Cache{Dir: filepath.Join(dir, "img")}
	build := func() {
		guest, err := gb.Path(ctx)
		if err != nil {
			b.Fatal(err)
		}
		spec, err := Spec(ctx, Options{Guest: guest, Repro: repro.Program{Builtin: "go20427"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := cache.Build(spec); err != nil {
			b.Fatal(err)
		}
	}
	build()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		build()
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/image")
}
