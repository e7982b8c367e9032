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
	maxReportGap  = 5.0  // seconds of kernel time without a line of the report that close it
)

var (
	endTrace  = []byte("---[ end trace")
	endPanic  = []byte("---[ end Kernel panic")
	cutHere   = "------------[ cut here ]------------"
	nmiSend   = []byte("Sending NMI from CPU")
	nmiBT     = []byte("NMI backtrace for cpu")
	lockTaint = []byte("Disabling lock debugging due to kernel taint")
)

// headerIndex finds rule headers in a line in one pass: it maps the first
// two bytes of every header to the list of rules starting with them
// (headerLists[headerIndex[k]]; 0 means none).
var headerIndex, headerLists = func() (*[1 << 16]uint8, [][]int) {
	var idx [1 << 16]uint8
	lists := [][]int{nil}
	for i, r := range rules {
		k := uint16(r.header[0])<<8 | uint16(r.header[1])
		if idx[k] == 0 {
			idx[k] = uint8(len(lists))
			lists = append(lists, nil)
		}
		lists[idx[k]] = append(lists[idx[k]], i)
	}
	return &idx, lists
}()

// findHeaders returns, for each rule whose header occurs in t, the
// position of its first occurrence; pos must come filled with -1, which
// stays for absent headers. It returns false when no header occurs.
func findHeaders(t []byte, pos *[64]int) bool {
	found := false
	for i := 0; i+1 < len(t); i++ {
		l := headerIndex[uint16(t[i])<<8|uint16(t[i+1])]
		if l == 0 {
			continue
		}
		for _, ri := range headerLists[l] {
			if pos[ri] < 0 && bytes.HasPrefix(t[i:], rules[ri].headerBytes) {
				pos[ri] = i
				found = true
			}
		}
	}
	return found
}

// matchKernel finds the kernel crash header in a line, if any: the rule,
// its first matching format and the header's position in the text. On a
// line holding several headers the first rule in table order wins.
func (a *analyzer) matchKernel(v *view) (*rule, *format, int) {
	t := v.text
	if len(t) < 4 {
		return nil, nil, 0
	}
	var pos [64]int
	for i := range pos {
		pos[i] = -1
	}
	if !findHeaders(t, &pos) {
		return nil, nil, 0
	}
	s := string(t)
	for ri, r := range rules {
		i := pos[ri]
		if i < 0 || suppressed(r, s) {
			continue
		}
		for _, f := range r.formats {
			if !f.re.MatchString(s[i:]) {
				continue
			}
			// A log that has shown kernel prefixes prints kernel lines
			// with them: an unprefixed generic header is program output.
			if f.strict && (i > 0 || !v.kern && a.sawKern && !a.afterBanner(v)) {
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
		if slubTrack(v.text[pos:]) && a.continueOpen(v) {
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
		if belongs(b, v) && v.hasTS && b.lastTS > 0 && v.ts > b.lastTS+maxReportGap {
			// The kernel prints a report in one burst: a line this much
			// later is about something else.
			b.closed = true
			continue
		}
		if belongs(b, v) && !bytes.Contains(v.text, lockTaint) {
			a.add(b, v.keep())
			if v.hasTS {
				b.lastTS = v.ts
			}
			if bytes.Contains(v.text, nmiSend) || bytes.Contains(v.text, nmiBT) {
				b.nmi = true
			}
			if bytes.Contains(v.text, endTrace) || bytes.Contains(v.text, endPanic) ||
				b.banner != 0 && isBanner(v.text) && bytes.TrimSpace(v.text)[0] == b.banner && len(b.lines)-b.hdr > 3 {
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
				b.lastTS = 0 // a glued header is never "much later"
				a.takeKernelLine(v)
				return true
			}
		}
	case gPanic:
		if bytes.Contains(v.text, []byte("Attempted to kill init!")) && !signalExit(v.text) {
			// init exited by itself: whatever was printed before did
			// not kill it.
			return false
		}
		for _, b := range a.kopen {
			if belongs(b, v) {
				b.lastTS = 0
				a.takeKernelLine(v)
				return true
			}
		}
		last := a.lastKernel
		if last != nil && len(a.builders) > 0 && a.builders[len(a.builders)-1] == last &&
			a.n-last.lastN <= panicWindow && (last.ctx == "" || last.ctx == string(v.ctx) || len(v.ctx) == 0) {
			last.closed, last.complete, last.lastTS = false, false, 0
			a.kopen = append(a.kopen, last)
			a.takeKernelLine(v)
			return true
		}
	}
	return false
}

// slubTrack recognises SLUB's "INFO: Allocated in f+0x1/0x2 age=3 cpu=0
// pid=1" and "INFO: Freed in ..." lines (kernels before 5.x print the
// prefix): inside a SLUB report they are its body, not a new report.
func slubTrack(t []byte) bool {
	return bytes.HasPrefix(t, []byte("INFO: Allocated in ")) || bytes.HasPrefix(t, []byte("INFO: Freed in "))
}

// continueOpen adds a line to a kernel report open in its context and
// reports whether there was one.
func (a *analyzer) continueOpen(v *view) bool {
	for _, b := range a.kopen {
		late := v.hasTS && b.lastTS > 0 && v.ts > b.lastTS+maxReportGap
		if belongs(b, v) && !late && a.n-b.startN <= maxReportSpan {
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
		b.banner = strings.TrimSpace(b.pre[n-1].text)[0]
	}
	b.hdr = len(b.lines)
	a.add(b, v.keep())
	if v.hasTS {
		b.lastTS = v.ts
	}
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

// isBootBanner recognises the first lines of a boot: the kernel's banner
// at time 0, and the firmware's and decompressor's lines, which carry no
// kernel prefix.
func isBootBanner(v *view) bool {
	if v.kern {
		return v.hasTS && v.ts == 0 && bytes.HasPrefix(v.text, []byte("Linux version "))
	}
	t := trimJunk(v.text)
	return bytes.HasPrefix(t, []byte("SeaBIOS (version ")) || bytes.HasPrefix(t, []byte("Decompressing Linux")) ||
		bytes.Contains(t, []byte("Booting the kernel"))
}

var rebootRule = &rule{
	header: "Booting the kernel",
	family: "kernel-reboot",
	formats: []*format{
		{re: re(``), title: "unexpected kernel reboot"},
	},
}
