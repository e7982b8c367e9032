package console

import "bytes"

// A view is one console line while it is being analysed. Its byte slices
// point into the stream's line buffer and are valid only during the call
// that receives the view; keep() copies what must survive.
type view struct {
	off, end int64  // the line's byte range in the log, end past its '\n'
	text     []byte // the line, '\r' and console prefixes removed
	ctx      []byte // caller id ("T123", "C1"); nil when absent
	ts       float64
	hasTS    bool
	kern     bool // carries a kernel console prefix (timestamp, caller id, level)
	marker   bool // carries marker.Prefix (well-formed or not)
}

// A line is a view kept for a report.
type line struct {
	off, end int64
	text     string
	ctx      string
	ts       float64
	hasTS    bool
	kern     bool
}

func (v *view) keep() line {
	return line{off: v.off, end: v.end, text: string(v.text), ctx: string(v.ctx),
		ts: v.ts, hasTS: v.hasTS, kern: v.kern}
}

// stripCR removes every '\r' from b in place: serial consoles end lines
// with "\r\n" (sometimes "\r\r\n") and a lone '\r' only moves the cursor.
func stripCR(b []byte) []byte {
	i := bytes.IndexByte(b, '\r')
	if i < 0 {
		return b
	}
	j := i
	for ; i < len(b); i++ {
		if b[i] != '\r' {
			b[j] = b[i]
			j++
		}
	}
	return b[:j]
}

// parsePrefix splits the console prefix off a line:
//
//	** 5 printk messages dropped ** <4>[   12.345678][  T123] text
//
// Every piece is optional. Logs saved from a system journal or a
// container runtime carry one more prefix in front, also removed:
//
//	May  1 10:00:00 host kernel: [   12.345678] text
//	2024-05-01T10:00:00.123456+00:00 host prog[77]: text
//	2024-05-01T10:00:00.123456789Z stderr F text
//	[Wed May  1 10:00:00 2024] text                     (dmesg -T)
func parsePrefix(v *view, b []byte) {
	if rest, kern, ok := logPrefix(b); ok {
		b, v.kern = rest, kern
	}
	const dropped = "** "
	if bytes.HasPrefix(b, []byte(dropped)) {
		if i := bytes.Index(b[3:], []byte(" printk messages dropped ** ")); i >= 0 && allDigits(b[3:3+i]) {
			b = b[3+i+len(" printk messages dropped ** "):]
		}
	}
	if n := logLevel(b); n > 0 {
		v.kern = true
		b = b[n:]
	}
	if ts, n := timestamp(b, false); n > 0 {
		v.ts, v.hasTS, v.kern = ts, true, true
		b = b[n:]
	}
	if id, n := callerID(b); n > 0 {
		v.ctx, v.kern = id, true
		b = b[n:]
	}
	if v.kern && len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	v.text = b
}

// logLevel returns the length of a leading "<N>" (N of 1-3 digits), or 0.
func logLevel(b []byte) int {
	if len(b) < 3 || b[0] != '<' {
		return 0
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		if b[i] == '>' {
			if i > 1 {
				return i + 1
			}
			return 0
		}
		if b[i] < '0' || b[i] > '9' {
			return 0
		}
	}
	return 0
}

// timestamp parses a leading "[ sec.usec]" stamp and returns the seconds
// and its length, or n == 0. strict demands the kernel's exact layout
// ("[%5lu.%06lu]"), used when looking for a stamp in the middle of a line.
func timestamp(b []byte, strict bool) (float64, int) {
	if len(b) < 4 || b[0] != '[' {
		return 0, 0
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	intStart := i
	var sec float64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		sec = sec*10 + float64(b[i]-'0')
		i++
	}
	if i == intStart || i >= len(b) || b[i] != '.' || (strict && i-1 < 5) {
		return 0, 0
	}
	i++
	fracStart := i
	frac, scale := 0.0, 1.0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-fracStart < 9 {
			frac = frac*10 + float64(b[i]-'0')
			scale *= 10
		}
		i++
	}
	if i == fracStart || i >= len(b) || b[i] != ']' || (strict && i-fracStart != 6) {
		return 0, 0
	}
	return sec + frac/scale, i + 1
}

// callerID parses a leading CONFIG_PRINTK_CALLER id, "[  T123]" or
// "[    C1]", optionally preceded by one space, and returns the id.
func callerID(b []byte) ([]byte, int) {
	i := 0
	if len(b) > 0 && b[0] == ' ' {
		i = 1
	}
	if len(b)-i < 4 || b[i] != '[' {
		return nil, 0
	}
	j := i + 1
	for j < len(b) && b[j] == ' ' {
		j++
	}
	if j >= len(b) || (b[j] != 'T' && b[j] != 'C') {
		return nil, 0
	}
	k := j + 1
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	if k == j+1 || k >= len(b) || b[k] != ']' {
		return nil, 0
	}
	return b[j:k], k + 1
}

// gluedKernelLine finds a kernel line glued after other text, as when a
// program wrote part of a line and the kernel printed its own line after
// it: "partial[   12.345678] BUG: ...". It returns the offset of the
// stamp's '[' or -1.
func gluedKernelLine(b []byte) int {
	for i := 1; i+10 < len(b); {
		j := bytes.IndexByte(b[i:], '[')
		if j < 0 {
			return -1
		}
		i += j
		if _, n := timestamp(b[i:], true); n > 0 {
			return i
		}
		i++
	}
	return -1
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trimJunk drops leading bytes that cannot start a message: terminal escape
// sequences (SeaBIOS clears the screen before the kernel prints) and
// control characters.
func trimJunk(b []byte) []byte {
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == 0x1b:
			b = skipEscape(b)
		case c < ' ' && c != '\t':
			b = b[1:]
		default:
			return b
		}
	}
	return b
}

// skipEscape skips one escape sequence at the start of b (which starts
// with ESC): CSI sequences "ESC [ params final" and two-byte ones "ESC c".
func skipEscape(b []byte) []byte {
	if len(b) < 2 {
		return b[1:]
	}
	if b[1] != '[' {
		return b[2:]
	}
	for i := 2; i < len(b); i++ {
		if b[i] >= 0x40 && b[i] <= 0x7e {
			return b[i+1:]
		}
	}
	return b[len(b):]
}

// logPrefix removes a syslog, journal or container log prefix. kern says
// the line was logged by the kernel.
func logPrefix(b []byte) (rest []byte, kern, ok bool) {
	if len(b) < 16 {
		return b, false, false
	}
	switch c := b[0]; {
	case c >= 'A' && c <= 'Z':
		// "May  1 10:00:00 " (BSD syslog) then "host tag: ".
		if !isLower(b[1]) || !isLower(b[2]) || b[3] != ' ' {
			return b, false, false
		}
		i := 4
		for i < len(b) && b[i] == ' ' {
			i++
		}
		j := skipDigitsB(b, i)
		if j == i || j-i > 2 || j >= len(b) || b[j] != ' ' || !isClock(b[j+1:]) {
			return b, false, false
		}
		return afterHostTag(skipClock(b[j+1:]))
	case isDigit(c):
		// "2024-05-01T10:00:00[.frac][Z|+hh:mm] ".
		if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || !isClock(b[11:]) {
			return b, false, false
		}
		t := skipClock(b[11:])
		if len(t) > 0 && (t[0] == 'Z' || t[0] == '+' || t[0] == '-') {
			k := 1
			for k < len(t) && (isDigit(t[k]) || t[k] == ':') {
				k++
			}
			t = t[k:]
		}
		if len(t) == 0 || t[0] != ' ' {
			return b, false, false
		}
		t = t[1:]
		for _, s := range [][]byte{[]byte("stdout F "), []byte("stderr F "), []byte("stdout P "), []byte("stderr P ")} {
			if bytes.HasPrefix(t, s) {
				return t[len(s):], false, true
			}
		}
		// A host and tag follow only in journal exports; a container log
		// line goes on with the program's output ("fatal error: ..."
		// must not be taken for host "fatal" and tag "error").
		if r, kern, ok := afterHostTag(t); ok && (kern || bytes.HasSuffix(tagOf(t), []byte("]"))) {
			return r, kern, true
		}
		return t, false, true
	case c == '[':
		// dmesg -T: "[Wed May  1 10:00:00 2024] ".
		if len(b) > 26 && b[1] >= 'A' && b[1] <= 'Z' && isLower(b[2]) && isLower(b[3]) && b[4] == ' ' {
			if e := bytes.IndexByte(b[:32], ']'); e > 0 && e+1 < len(b) && b[e+1] == ' ' && bytes.IndexByte(b[5:e], ':') > 0 {
				return b[e+2:], true, true
			}
		}
	}
	return b, false, false
}

// afterHostTag removes "host tag[pid]: " from the start of b.
func afterHostTag(b []byte) ([]byte, bool, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 64 {
		return b, false, false
	}
	t := b[sp+1:]
	c := bytes.Index(t, []byte(": "))
	if c <= 0 || c > 64 || bytes.IndexByte(t[:c], ' ') >= 0 {
		if bytes.HasSuffix(t, []byte(":")) && len(t) <= 64 && bytes.IndexByte(t, ' ') < 0 {
			return t[len(t):], bytes.HasPrefix(t, []byte("kernel")), true
		}
		return b, false, false
	}
	tag := t[:c]
	return t[c+2:], bytes.Equal(tag, []byte("kernel")), true
}

// tagOf returns the tag of "host tag[pid]: ..." (or nil).
func tagOf(b []byte) []byte {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return nil
	}
	t := b[sp+1:]
	if c := bytes.IndexByte(t, ':'); c > 0 {
		return t[:c]
	}
	return nil
}

// isClock reports whether b starts with "HH:MM:SS".
func isClock(b []byte) bool {
	return len(b) >= 8 && isDigit(b[0]) && isDigit(b[1]) && b[2] == ':' && isDigit(b[3]) && isDigit(b[4]) &&
		b[5] == ':' && isDigit(b[6]) && isDigit(b[7])
}

// skipClock skips "HH:MM:SS[.frac]" and a following space.
func skipClock(b []byte) []byte {
	b = b[8:]
	if len(b) > 0 && (b[0] == '.' || b[0] == ',') {
		b = b[skipDigitsB(b, 1):]
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func skipDigitsB(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
