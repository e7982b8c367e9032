package report

import (
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var screenshot = flag.String("screenshot", "", "write the headless Chromium screenshot of the realistic HTML report to this file")

// TestHTMLInChromium renders a realistic HTML report in headless Chromium (Debian package
// chromium) and checks the screenshot: the page has content and the plots' colours are on
// it. It skips when chromium is not installed. To refresh the screenshot in docs/:
//
//	go test ./internal/report -run Chromium -screenshot /tmp/report.png
func TestHTMLInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("slow: starts a browser")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := realisticModel().HTML(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+out, "--window-size=1200,1600",
		"file://"+page)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	img := decodePNG(t, out)
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1600 {
		t.Errorf("screenshot is %v, want 1200×1600", b.Size())
	}
	// The variants' colours fill the survival bands, curves and histogram bars: count pixels
	// close to each.
	for i, name := range []string{"old", "fixed"} {
		if n := countNear(img, palette[i]); n < 500 {
			t.Errorf("only %d pixels of %s's colour %s: are the plots drawn?", n, name, palette[i])
		}
	}
	if n := countDark(img); n < 5000 {
		t.Errorf("only %d dark pixels: is there any text?", n)
	}
	if *screenshot != "" {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func countNear(img image.Image, hex string) int {
	var want [3]int
	for i := range want {
		var v int
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + hexVal(c)
		}
		want[i] = v
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if abs(int(c.R)-want[0]) < 24 && abs(int(c.G)-want[1]) < 24 && abs(int(c.B)-want[2]) < 24 {
				n++
			}
		}
	}
	return n
}

func countDark(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			if c.Y < 96 {
				n++
			}
		}
	}
	return n
}

func hexVal(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
