package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

// Inline SVG plots for the HTML report: no script, no external reference, fixed fonts sizes
// so that they stay legible when scaled down.

// palette is the Okabe–Ito colour-blind-safe set, one colour per variant.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"}

func variantColor(i int) string { return palette[i%len(palette)] }

// A frame maps data to a plot area: x in [0, xmax] seconds, y in [0, ymax].
type frame struct {
	w, h, l, r, t, b float64
	xmax, ymax       float64
}

func (f frame) x(v float64) float64 { return f.l + v/f.xmax*(f.w-f.l-f.r) }
func (f frame) y(v float64) float64 { return f.h - f.b - v/f.ymax*(f.h-f.t-f.b) }

// timeSteps are the tick spacings a time axis may use, in seconds.
var timeSteps = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30,
	60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// niceStep returns the smallest step from steps that cuts [0, max] into at most n pieces
// (a power of ten beyond the list).
func niceStep(max float64, n int, steps []float64) float64 {
	for _, s := range steps {
		if max/s <= float64(n) {
			return s
		}
	}
	return math.Pow(10, math.Ceil(math.Log10(max/float64(n))))
}

// timeAxis returns the axis end and tick step for data up to xmax seconds.
func timeAxis(xmax float64) (end, step float64) {
	if !(xmax > 0) || math.IsInf(xmax, 0) {
		xmax = 1
	}
	step = niceStep(xmax, 8, timeSteps)
	return math.Ceil(xmax/step-1e-9) * step, step
}

// plotEnd is the longest time any variant's curve reaches.
func (m *Model) plotEnd() float64 {
	end := 0.0
	for _, x := range m.Variants {
		if p := x.Summary.Survival.Points; len(p) > 0 {
			end = math.Max(end, p[len(p)-1].Time)
		}
		end = math.Max(end, x.Summary.Limit)
	}
	return end
}

type svgBuf struct{ strings.Builder }

func (b *svgBuf) f(format string, a ...any) { fmt.Fprintf(&b.Builder, format, a...) }

// axes draws the frame, grid lines, ticks and labels.
func (b *svgBuf) axes(f frame, xstep, ystep float64, ylabel func(float64) string, xtitle, ytitle string) {
	b.f(`<g class="grid" stroke="#e3e3e3" stroke-width="1">`)
	for v := 0.0; v <= f.ymax+1e-9; v += ystep {
		b.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, f.l, f.y(v), f.w-f.r, f.y(v))
	}
	for v := 0.0; v <= f.xmax+1e-9; v += xstep {
		b.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, f.x(v), f.t, f.x(v), f.h-f.b)
	}
	b.f(`</g><g font-size="12" fill="#333">`)
	for v := 0.0; v <= f.ymax+1e-9; v += ystep {
		b.f(`<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, f.l-6, f.y(v), ylabel(v))
	}
	for v := 0.0; v <= f.xmax+1e-9; v += xstep {
		b.f(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, f.x(v), f.h-f.b+16, dur(v))
	}
	b.f(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (f.l+f.w-f.r)/2, f.h-6, html.EscapeString(xtitle))
	b.f(`<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (f.t+f.h-f.b)/2, html.EscapeString(ytitle))
	b.f(`</g><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`, f.l, f.t, f.w-f.l-f.r, f.h-f.t-f.b)
}

// legend lays out one swatch per variant, then a shaded swatch for band (if not "") and a
// tick for tick (if not ""), in rows above a plot w wide. It returns the markup and the height
// it takes.
func legend(w float64, names []string, band, tick string) (string, float64) {
	var b svgBuf
	x, y := 56.0, 6.0
	item := func(swatch func(x, y float64) string, label string) {
		wd := 18 + 7*float64(width(label)) + 16
		if x > 56 && x+wd > w {
			x, y = 56, y+18
		}
		b.f(`%s<text x="%.1f" y="%.1f">%s</text>`, swatch(x, y), x+18, y+9, html.EscapeString(label))
		x += wd
	}
	b.f(`<g font-size="12" fill="#333">`)
	for i, n := range names {
		c := variantColor(i)
		item(func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="14" height="10" fill="%s"/>`, x, y, c)
		}, n)
	}
	if band != "" {
		item(func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="14" height="10" fill="#888" fill-opacity="0.3"/>`, x, y)
		}, band)
	}
	if tick != "" {
		item(func(x, y float64) string {
			return fmt.Sprintf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="1.5"/>`, x+7, y-1, x+7, y+11)
		}, tick)
	}
	b.f(`</g>`)
	return b.String(), y + 22
}

// plotFrame is a frame w wide with room for a legend of height top above a 268-pixel plot area.
func plotFrame(w, l, top, xmax, ymax float64) frame {
	return frame{w: w, h: top + 268 + 44, l: l, r: 18, t: top, b: 44, xmax: xmax, ymax: ymax}
}

func (m *Model) plotNames() []string {
	var names []string
	for i, x := range m.Variants {
		if len(m.Variants) == 1 && x.Name == "" {
			names = append(names, "all runs")
		} else {
			names = append(names, variantName(x, i))
		}
	}
	return names
}

// survivalSVG draws the Kaplan–Meier curves of all variants with their pointwise
// interval bands and a tick at every time a run ended without a crash.
func (m *Model) survivalSVG() string {
	end, step := timeAxis(m.plotEnd())
	leg, top := legend(600, m.plotNames(), stats.Percent(m.conf())+" interval", "run ended without a crash")
	f := plotFrame(600, 56, top, end, 1)
	var b svgBuf
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" font-family="sans-serif">`,
		f.w, f.h, f.w, f.h)
	b.f(`<title>Kaplan–Meier survival: share of runs without a crash against time</title>`)
	b.axes(f, step, 0.25, func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
		"time since the reproducer started", "runs without a crash")
	b.WriteString(leg)
	// Bands first, so that no band hides another variant's curve.
	for i, x := range m.Variants {
		if pts := x.Summary.Survival.Points; len(pts) > 0 {
			b.f(`<path d="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`, bandPath(f, pts), variantColor(i))
		}
	}
	for i, x := range m.Variants {
		pts := x.Summary.Survival.Points
		if len(pts) == 0 {
			continue
		}
		c := variantColor(i)
		var line strings.Builder
		fmt.Fprintf(&line, "M%.1f,%.1f", f.x(0), f.y(1))
		for _, p := range pts {
			fmt.Fprintf(&line, "H%.1fV%.1f", f.x(p.Time), f.y(p.Survival))
		}
		b.f(`<path d="%s" fill="none" stroke="%s" stroke-width="2.2"/>`, line.String(), c)
		for _, p := range pts {
			if p.Censored > 0 {
				b.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`,
					f.x(p.Time), f.y(p.Survival)-5, f.x(p.Time), f.y(p.Survival)+5, c)
			}
		}
	}
	b.f(`</svg>`)
	return b.String()
}

// bandPath outlines a survival curve's interval band: each point's interval holds until the
// next point; before the first one it is [1, 1].
func bandPath(f frame, pts []stats.SurvivalPoint) string {
	var p strings.Builder
	fmt.Fprintf(&p, "M%.1f,%.1f", f.x(0), f.y(1))
	for _, pt := range pts {
		fmt.Fprintf(&p, "H%.1fV%.1f", f.x(pt.Time), f.y(pt.Upper))
	}
	fmt.Fprintf(&p, "V%.1f", f.y(pts[len(pts)-1].Lower))
	for k := len(pts) - 1; k >= 0; k-- {
		below := 1.0
		if k > 0 {
			below = pts[k-1].Lower
		}
		fmt.Fprintf(&p, "H%.1fV%.1f", f.x(pts[k].Time), f.y(below))
	}
	fmt.Fprintf(&p, "H%.1fZ", f.x(0))
	return p.String()
}

// histogramSVG draws how many crashes happened in each time bin, the variants' bars side by
// side, on the same time axis as the survival plot.
func (m *Model) histogramSVG() string {
	end, step := timeAxis(m.plotEnd())
	binw := niceStep(end, 15, timeSteps)
	nbins := int(math.Ceil(end/binw - 1e-9))
	counts := make([][]int, len(m.Variants))
	most := 0
	for i, x := range m.Variants {
		counts[i] = make([]int, nbins)
		for _, p := range x.Summary.Survival.Points {
			if p.Crashes == 0 {
				continue
			}
			k := min(nbins-1, int(p.Time/binw))
			counts[i][k] += p.Crashes
			most = max(most, counts[i][k])
		}
	}
	ystep := niceStep(math.Max(float64(most), 1), 5, []float64{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000})
	leg, top := legend(480, m.plotNames(), "", "")
	f := plotFrame(480, 48, top, end, math.Ceil(math.Max(float64(most), 1)/ystep)*ystep)
	var b svgBuf
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" font-family="sans-serif">`,
		f.w, f.h, f.w, f.h)
	b.f(`<title>Histogram of the time to crash</title>`)
	b.axes(f, step, ystep, func(v float64) string { return fmt.Sprintf("%.0f", v) }, "time to crash", "crashes")
	b.WriteString(leg)
	if most == 0 {
		b.f(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="14" fill="#666">no crash to plot</text>`,
			(f.l+f.w-f.r)/2, (f.t+f.h-f.b)/2)
	}
	n := float64(len(m.Variants))
	for i := range m.Variants {
		for k, c := range counts[i] {
			if c == 0 {
				continue
			}
			x0, x1 := f.x(float64(k)*binw), f.x(float64(k+1)*binw)
			bw := (x1 - x0 - 2) / n
			b.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%d</title></rect>`,
				x0+1+float64(i)*bw, f.y(float64(c)), bw, f.y(0)-f.y(float64(c)), variantColor(i), c)
		}
	}
	b.f(`</svg>`)
	return b.String()
}
