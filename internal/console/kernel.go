package console

import (
	"bytes"
	"strings"
)

// Kernel report assembly: which lines start a report, which lines belong
// to an open one, and when it ends.

const (
	glueWindow    = 30   // lines within which an "Oops:"-like header continues a report
	panicWindow   = 20   // lines after a report's end within which a panic still belongs to it
	maxReportSpan = 5000 // log lines after which an open kernel report is closed
)

var (
	endTrace  = []byte("---[ end trace")
	endPanic  = []byte("---[ end Kernel panic")
	cutHere   = "------------[ cut here ]------------"
	nmiSend   = []byte("Sending NMI from CPU")
	nmiBT     = []byte("NMI backtrace for cpu")
	lockTaint = []byte("Disabling lock debugging due to kernel taint")
)

// maybeHeader is a cheap filter: a line without any of these bytes cannot
// hold a kernel header.
func maybeHeader(t []byte) bool {
	return bytes.IndexByte(t, ':') >= 0 || bytes.Contains(t, []byte("Oops")) || bytes.Contains(t, []byte("Kernel panic")) ||
		bytes.Contains(t, []byte("kernel BUG")) || bytes.Contains(t, []byte("Kernel BUG")) || bytes.Contains(t, []byte("LOCKUP"))
}

// matchKernel finds the kernel crash header in a line, if any: the rule,
// its first matching format and the header's position in the text.
func (a *analyzer) matchKernel(v *view) (*rule, *format, int) {
	t := v.text
	if len(t) < 4 || !maybeHeader(t) {
		return nil, nil, 0
	}
	for _, r := range rules {
		i := bytes.Index(t, []byte(r.header))
		if i < 0 {
			continue
		}
		s := string(t)
		if suppressed(r, s) {
			continue
		}
		for _, f := range r.formats {
			if !f.re.MatchString(s[i:]) {
				continue
			}
			if f.strict && !v.kern && !a.afterBanner(v) {
				break
			}
			return r, f, i
		}
	}
	return nil, nil, 0
}

func suppressed(r *rule, s string) bool {
	for _, re := range r.suppress {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// afterBanner reports whether the previous line was a "=====" or "-----"
// banner, as printed around KASAN, lockdep and UBSAN reports.
func (a *analyzer) afterBanner(v *view) bool {
	if a.ring.n == 0 {
		return false
	}
	i := (a.ring.n - 1) % ringSize
	return isBanner(a.ring.bufs[i])
}

func isBanner(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return false
	}
	c := b[0]
	if c != '=' && c != '-' {
		return false
	}
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// kernelLine handles a line that no Go report took.
func (a *analyzer) kernelLine(v *view) {
	if r, f, pos := a.matchKernel(v); r != nil {
		if a.glueHeader(v, r) {
			return
		}
		a.openKernel(v, r, f, pos)
		return
	}
	a.takeKernelLine(v)
}

// belongs reports whether a line is part of the open kernel report b.
func belongs(b *builder, v *view) bool {
	if v.marker {
		return false
	}
	if b.ctx != "" {
		if string(v.ctx) == b.ctx {
			return true
		}
		return b.nmi && len(v.ctx) > 0 && v.ctx[0] == 'C'
	}
	return v.kern || !b.kern
}

// takeKernelLine appends a line to the open kernel reports it belongs to
// and closes those it ends.
func (a *analyzer) takeKernelLine(v *view) {
	if len(a.kopen) == 0 {
		return
	}
	keep := a.kopen[:0]
	for _, b := range a.kopen {
		if a.n-b.startN > maxReportSpan {
			b.closed = true
			continue
		}
		if belongs(b, v) && !bytes.Contains(v.text, lockTaint) {
			a.add(b, v.keep())
			if bytes.Contains(v.text, nmiSend) || bytes.Contains(v.text, nmiBT) {
				b.nmi = true
			}
			if bytes.Contains(v.text, endTrace) || bytes.Contains(v.text, endPanic) ||
				b.banner && isBanner(v.text) && len(b.lines)-b.hdr > 3 {
				b.closed, b.complete = true, true
				continue
			}
		}
		keep = append(keep, b)
	}
	a.kopen = keep
}

// glueHeader adds a header line that belongs to a report already open
// (or just ended) to it, and reports whether it did.
func (a *analyzer) glueHeader(v *view, r *rule) bool {
	switch r.glue {
	case gOops:
		for _, b := range a.kopen {
			if belongs(b, v) && a.n-b.startN <= glueWindow {
				a.takeKernelLine(v)
				return true
			}
		}
	case gPanic:
		for _, b := range a.kopen {
			if belongs(b, v) {
				a.takeKernelLine(v)
				return true
			}
		}
		last := a.lastKernel
		if last != nil && len(a.builders) > 0 && a.builders[len(a.builders)-1] == last &&
			a.n-last.lastN <= panicWindow && (last.ctx == "" || last.ctx == string(v.ctx) || len(v.ctx) == 0) {
			last.closed, last.complete = false, false
			a.kopen = append(a.kopen, last)
			a.takeKernelLine(v)
			return true
		}
	}
	return false
}

// openKernel starts a kernel report at header line v.
func (a *analyzer) openKernel(v *view, r *rule, f *format, pos int) {
	b := &builder{kind: KindKernel, rule: r, ctx: string(v.ctx), kern: v.kern, hdrPos: pos}
	if !a.start(b) {
		return
	}
	// A new header ends the reports open in its context.
	keep := a.kopen[:0]
	for _, o := range a.kopen {
		if o.ctx == "" || o.ctx == b.ctx || b.ctx == "" {
			o.closed = true
			continue
		}
		keep = append(keep, o)
	}
	a.kopen = append(keep, b)
	a.lastKernel = b
	a.crashSeen = true

	// Context before the header: kept for the title; the lines from a
	// "cut here" marker on also start the report.
	for _, l := range a.ring.last(8) {
		if l.ctx == b.ctx && l.kern == b.kern {
			b.pre = append(b.pre, l)
		}
	}
	for i := len(b.pre) - 1; i >= 0 && i >= len(b.pre)-4; i-- {
		if strings.Contains(b.pre[i].text, cutHere) {
			for _, l := range b.pre[i:] {
				a.add(b, l)
			}
			break
		}
	}
	if n := len(b.pre); n > 0 && isBanner([]byte(b.pre[n-1].text)) {
		b.banner = true
	}
	b.hdr = len(b.lines)
	a.add(b, v.keep())
}

// noteBoot recognises the start of a boot after the kernel was already
// running: an unexpected reboot.
func (a *analyzer) noteBoot(v *view) {
	if v.hasTS && v.ts >= 1 {
		a.booted = true
	}
	if !a.booted || !isBootBanner(v) {
		return
	}
	a.booted = false
	b := &builder{kind: KindKernel, rule: rebootRule, ctx: string(v.ctx), kern: v.kern}
	if !a.start(b) {
		return
	}
	for _, o := range a.kopen {
		o.closed = true
	}
	a.kopen = a.kopen[:0]
	if a.goRep != nil {
		a.goRep.closed = true
		a.goRep = nil
	}
	a.add(b, v.keep())
	b.closed, b.complete = true, true
	a.lastKernel = b
	a.crashSeen = true
}

func isBootBanner(v *view) bool {
	t := trimJunk(v.text)
	return bytes.Contains(t, []byte("Booting the kernel")) || bytes.HasPrefix(t, []byte("SeaBIOS (version ")) ||
		bytes.HasPrefix(t, []byte("Decompressing Linux")) ||
		v.hasTS && v.ts == 0 && bytes.HasPrefix(t, []byte("Linux version "))
}

var rebootRule = &rule{
	header: "Booting the kernel",
	family: "kernel-reboot",
	formats: []*format{
		{re: re(``), title: "unexpected kernel reboot"},
	},
}
