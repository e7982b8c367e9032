// Package pagecheck lays an HTML page out in headless Chromium and reports what a reader
// would see: its section headings, how many SVG plots are drawn, and whether anything
// sticks out sideways. Tests of crashrig's HTML reports use it, so that a page is checked
// as a person sees it and not only grepped.
package pagecheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// probeJS measures the laid-out page from inside the browser and leaves the figures in
// a <pre id="probe"> that --dump-dom prints.
const probeJS = `<script>
window.addEventListener('load', () => {
  const d = document.documentElement;
  const drawn = [...document.querySelectorAll('svg')].filter(s =>
    s.getBoundingClientRect().width > 100 && s.querySelectorAll('path, rect, polyline, line, circle').length > 3);
  const r = {
    h2: [...document.querySelectorAll('h2')].map(e => e.textContent.trim()),
    svgs: document.querySelectorAll('svg').length, drawn: drawn.length,
    scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
    wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 1
      && !e.closest('pre, .scroll')).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')).slice(0, 8),
  };
  const p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = JSON.stringify(r);
  document.body.appendChild(p);
});
</script>`

// A Probe is what the page looked like.
type Probe struct {
	H2          []string `json:"h2"`          // section headings, in order
	SVGs        int      `json:"svgs"`        // SVG elements
	Drawn       int      `json:"drawn"`       // SVGs over 100 px wide with more than three shapes
	ScrollWidth int      `json:"scrollWidth"` // the page's width
	ClientWidth int      `json:"clientWidth"` // the window's
	Wide        []string `json:"wide"`        // elements sticking out (outside pre and .scroll boxes)
}

// Overflows reports whether the page is wider than its window.
func (p Probe) Overflows() bool { return p.ScrollWidth > p.ClientWidth || len(p.Wide) > 0 }

// Has reports whether the page has a section headed h.
func (p Probe) Has(h string) bool {
	for _, x := range p.H2 {
		if x == h {
			return true
		}
	}
	return false
}

// ErrNoChromium is returned when no chromium binary is on PATH.
var ErrNoChromium = errors.New("chromium not installed (scripts/install-deps installs it)")

// Chromium returns the browser's path.
func Chromium() (string, error) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return "", ErrNoChromium
	}
	return bin, nil
}

// Check lays html out in a window width pixels wide (in a scratch directory dir) and
// returns the probe; with shot set it also saves a screenshot there.
func Check(ctx context.Context, bin, dir, html string, width int, shot string) (Probe, error) {
	page := filepath.Join(dir, "page.html")
	html = strings.Replace(html, "</body>", probeJS+"</body>", 1)
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		return Probe{}, err
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), fmt.Sprintf("--window-size=%d,1400", width),
		"--virtual-time-budget=3000"}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		return Probe{}, fmt.Errorf("chromium --dump-dom: %w", err)
	}
	m := regexp.MustCompile(`<pre id="probe">([^<]*)</pre>`).FindSubmatch(out)
	if m == nil {
		return Probe{}, fmt.Errorf("no probe in the dumped page (%d bytes)", len(out))
	}
	var p Probe
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(m[1]), "&quot;", `"`)), &p); err != nil {
		return Probe{}, fmt.Errorf("probe %s: %v", m[1], err)
	}
	if shot != "" {
		cmd := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "file://"+page)...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			return p, fmt.Errorf("screenshot: %v\n%s", err, b)
		}
	}
	return p, nil
}
